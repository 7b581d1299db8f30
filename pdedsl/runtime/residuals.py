"""Evaluate a generated module's residuals on points, given how to compute each field and input.

This is the bridge between a generated module (which only does algebra on
named tensors) and whatever produces field values: a network, a closed-form
solution in a test, an interpolated data file. Every derivative goes through
:func:`pdedsl.runtime.derivatives.compute`.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch

from . import derivatives


def evaluate(
    module,
    entry: Mapping,
    coordinates: Mapping[str, torch.Tensor],
    functions: Callable[[Mapping[str, torch.Tensor]], Mapping[str, torch.Tensor]],
    normals: Mapping[str, torch.Tensor] | None = None,
    params: Mapping[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """One residual (an entry of ``module.RESIDUALS`` or ``module.EXACT``) at the given points.

    ``coordinates`` maps axis names to 1-D tensors; ``functions(coordinates)``
    returns the value tensors of the fields and inputs computed from them.
    """
    axes = list(module.AXES) + ([module.TIME] if module.TIME else [])
    coords = {a: t if t.requires_grad else t.detach().requires_grad_(True) for a, t in coordinates.items()}
    requests = requests_of([entry])
    computed = derivatives.compute(functions(coords) if requests else {}, coords, requests, axis_order=axes)
    return entry["function"](**bind_arguments(entry, computed, coords, normals, params))


def requests_of(entries) -> list[tuple]:
    """Every (function, orders) the entries need, each once, in a fixed order."""
    return sorted({(key[0], tuple(key[1])) for entry in entries for role, key in entry["arguments"].values()
                   if role == "derivative"})


def bind_arguments(entry: Mapping, computed: Mapping, coordinates: Mapping, normals=None, params=None) -> dict:
    """The keyword arguments of a generated function, from what each argument means."""
    kwargs = {}
    for identifier, (role, key) in entry["arguments"].items():
        if role == "derivative":
            kwargs[identifier] = computed[(key[0], tuple(key[1]))]
        elif role == "coordinate":
            kwargs[identifier] = coordinates[key]
        elif role == "normal":
            kwargs[identifier] = normals[key]
        else:
            kwargs[identifier] = params[key]
    return kwargs


def contraction_of(entries) -> tuple | None:
    """The weighted Laplacian every entry that reads pure second derivatives agrees to read them through.

    ``None`` unless all such entries carry the same ``contraction``: the
    derivatives are computed once for the whole group of entries.
    """
    found = None
    for entry in entries:
        reads = any(role == "derivative" and len(key[1]) == 1 and key[1][0][1] == 2
                    for role, key in entry["arguments"].values())
        if not reads:
            continue
        contraction = entry.get("contraction")
        if contraction is None or (found is not None and contraction != found):
            return None
        found = contraction
    return found
