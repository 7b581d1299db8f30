"""The one runtime entry point for derivatives: every value and partial derivative a residual needs.

Generated modules list what they need (``DERIVATIVES``); :func:`compute`
returns each of them, computing each once and building higher orders from
lower ones (``d(u, x, 2)`` from ``d(u, x)``, shared with ``d(u, x, y)``).
This implementation uses reverse-mode autograd; a faster engine replaces
this function without touching the templates.

Assumption: each point's values depend only on that point's coordinates (as
for a PINN), so the gradient of the sum over points is the pointwise derivative.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import torch

Request = tuple  # (function name, ((axis, count), ...))


def compute(
    values: Mapping[str, torch.Tensor],
    coordinates: Mapping[str, torch.Tensor],
    requests: Iterable[Request],
    axis_order: Iterable[str] | None = None,
) -> dict[Request, torch.Tensor]:
    """``{request: tensor}`` for every request, e.g. ``("u", (("x", 2),))`` for d(u, x, 2).

    ``values`` maps function names to tensors computed from the ``coordinates``
    tensors (which must require grad when derivatives are requested).
    """
    order = list(axis_order) if axis_order is not None else list(coordinates)
    cache: dict[Request, torch.Tensor] = {}

    def get(function: str, orders: tuple) -> torch.Tensor:
        key = (function, orders)
        if key in cache:
            return cache[key]
        if not orders:
            result = values[function]
        else:
            axis = orders[-1][0]
            outer = get(function, _decrement(orders))
            result = _partial(outer, coordinates[axis])
        cache[key] = result
        return result

    out = {}
    for function, orders in requests:
        out[(function, tuple(orders))] = get(function, _normalise(orders, order))
    return out


def _normalise(orders, axis_order) -> tuple:
    counts: dict[str, int] = {}
    for axis, count in orders:
        counts[axis] = counts.get(axis, 0) + count
    return tuple((axis, counts[axis]) for axis in axis_order if counts.get(axis))


def _decrement(orders: tuple) -> tuple:
    *rest, (axis, count) = orders
    return tuple(rest) + (((axis, count - 1),) if count > 1 else ())


def _partial(output: torch.Tensor, coordinate: torch.Tensor) -> torch.Tensor:
    if not output.requires_grad:  # a value that does not depend on the coordinates
        return torch.zeros_like(output)
    (gradient,) = torch.autograd.grad(
        output, coordinate, grad_outputs=torch.ones_like(output), create_graph=True, allow_unused=True
    )
    return gradient if gradient is not None else torch.zeros_like(output)
