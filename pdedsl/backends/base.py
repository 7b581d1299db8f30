"""The backend interface every solver model shares, and the registry of backends by name.

A backend is a ``torch.nn.Module`` that maps named coordinate tensors (each
of shape ``[n]``) to named field tensors (each ``[n]``), plus any auxiliary
outputs the training form asks for (``--form mixed`` adds flux outputs). Training, checkpoints,
``predict`` and ``plot`` only use this interface, so a DeepONet, FNO or DGNO
backend plugs in by registering itself.
"""

from __future__ import annotations

import inspect
import typing
from typing import Callable, Mapping

import torch

from ..errors import PdeError
from ..ir.problem import Problem

_REGISTRY: dict[str, Callable] = {}


class BackendError(PdeError):
    """A backend cannot be built for this problem (the message says why and what to do)."""


class Backend(torch.nn.Module):
    """Maps coordinates to fields. Subclasses set ``name`` and implement ``forward``."""

    name = ""

    def __init__(self, problem: Problem, auxiliary: tuple = (), **options):
        super().__init__()
        self.field_names = tuple(f.name for f in problem.fields)
        # extra outputs the training form asks for (the mixed form's fluxes); named so no spec name collides
        self.auxiliary_names = tuple(auxiliary)
        self.output_names = self.field_names + self.auxiliary_names
        self.coordinate_names = tuple(c.name for c in problem.coordinates)
        self.options = dict(options)

    supports_jets = False  # True when jets() propagates derivatives forward (runtime/derivatives.py)

    def forward(self, coordinates: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def jets(self, coordinates: Mapping[str, torch.Tensor], table, axes) -> dict:
        """``{field: Jet}``: each field with the derivatives in ``table`` (axis k of the table is ``axes[k]``)."""
        raise NotImplementedError(f"the {self.name} backend does not propagate derivative jets")

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def glorot_uniform(layer: torch.nn.Linear, generator: torch.Generator) -> torch.nn.Linear:
    """Glorot-uniform weights and zero biases, drawn from ``generator`` (the same seed, the same network)."""
    bound = (6.0 / (layer.in_features + layer.out_features)) ** 0.5
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.zero_()
    return layer


class BackendOptionError(BackendError, ValueError):
    """A backend option no run can use (a name the backend lacks, an activation it lacks), found with the
    other settings: a BackendError as the backend's own refusals are, and a ValueError as other bad settings
    are (the command line's usage errors)."""


def register(name: str):
    """Class decorator: make a backend available as ``name`` (``--backend name``)."""

    def decorate(cls):
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def available() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def is_operator(name: str) -> bool:
    """Whether backend ``name`` learns a family of problems (it reads sampled inputs besides coordinates)."""
    return bool(getattr(_REGISTRY.get(name), "is_operator", False))


def new_run_options(name: str) -> dict:
    """Options a new run of backend ``name`` records in its config unless the user gave them.

    Defaults that changed after run folders were written live here, not in the constructors: a new run
    writes them into ``config.json``, and an older folder, which lacks them, rebuilds with the
    constructor's original defaults, so its checkpoint still fits.
    """
    return dict(getattr(_REGISTRY.get(name), "new_run_options", {}))


def activations(name: str) -> tuple[str, ...]:
    """The activations backend ``name`` takes (its ``activation`` options), sorted; none for an unknown name."""
    return tuple(sorted(getattr(_REGISTRY.get(name), "activations", ())))


def option_kinds(name: str) -> dict[str, tuple]:
    """Each option backend ``name``'s constructor takes, with the kinds its annotation allows (``(int,)``,
    ``(str, NoneType)``); none for a name no backend has (``create`` reports that)."""
    backend = _REGISTRY.get(name)
    if backend is None:
        return {}
    hints = typing.get_type_hints(backend.__init__)
    return {option: typing.get_args(hint) or (hint,) for option, hint in hints.items()
            if option not in ("problem", "layout", "auxiliary", "return")}


def create(name: str, problem: Problem, **options) -> Backend:
    if name not in _REGISTRY:
        raise BackendError(f"unknown backend '{name}' (available: {', '.join(available())})")
    backend = _REGISTRY[name]
    parameters = inspect.signature(backend).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        unknown = sorted(set(options) - set(parameters))  # backends without **unknown get the same message here
        if unknown:
            offered = [p for p in parameters if p not in ("problem", "auxiliary")]
            raise BackendError(f"the {name} backend has no option(s) {', '.join(unknown)} "
                               f"(its options: {', '.join(offered)})")
    return backend(problem, **options)
