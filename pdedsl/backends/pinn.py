"""The PINN backend: a fully connected network from coordinates to every field.

Coordinates are first mapped to [-1, 1] with the bounding box of the physics
domains (and the time interval), which matters a great deal for training; an
optional random Fourier feature layer helps multi-scale solutions.
"""

from __future__ import annotations

import math
from typing import Mapping

import torch

from ..ir.problem import Problem
from ..runtime import elementwise
from ..runtime.jets import Jet, cat
from .base import Backend, BackendError, glorot_uniform, register

ACTIVATIONS = {
    "tanh": torch.tanh,
    "sin": torch.sin,
    "gelu": torch.nn.functional.gelu,
    "silu": torch.nn.functional.silu,
    "softplus": torch.nn.functional.softplus,
}


def coordinate_bounds(problem: Problem) -> tuple[list[float], list[float]]:
    """Low and high ends of each coordinate over the physics domains (and the time interval)."""
    from ..runtime.sampling import target_sampler

    lows, highs = [], []
    domains = {c.target.name for c in problem.equations if c.target is not None and c.target.kind == "domain"}
    domains |= {problem.region(c.target.name).domain for c in problem.equations
                if c.target is not None and c.target.kind == "region"}
    domains = sorted(domains) or [d.name for d in problem.domains][:1]
    boxes = [target_sampler(problem, name).bounding_box() for name in domains]
    for index, _axis in enumerate(problem.axes):
        lows.append(min(float(b[0][index]) for b in boxes))
        highs.append(max(float(b[1][index]) for b in boxes))
    if problem.time is not None:
        lows.append(problem.time.start)
        highs.append(problem.time.end)
    return lows, highs


@register("pinn")
class PINN(Backend):
    """An MLP; it also propagates derivative jets, so the forward derivative engine serves it."""

    supports_jets = True
    activations = tuple(ACTIVATIONS)  # what its activation option takes (checked with the other settings)

    def __init__(self, problem: Problem, width: int = 64, depth: int = 4, activation: str = "tanh",
                 fourier_features: int = 0, fourier_scale: float = 1.0, seed: int = 0, auxiliary: tuple = ()):
        super().__init__(problem, auxiliary=auxiliary, width=width, depth=depth, activation=activation,
                         fourier_features=fourier_features, fourier_scale=fourier_scale, seed=seed)
        if activation not in ACTIVATIONS:
            raise BackendError(f"unknown activation '{activation}' (available: {', '.join(sorted(ACTIVATIONS))})")
        if not self.field_names:
            raise BackendError("the problem has no fields to learn")
        self.activation = ACTIVATIONS[activation]
        with torch.device("cpu"):  # built on the CPU whatever the default device; training moves it
            self._build(problem, width, depth, fourier_features, fourier_scale, seed)

    def _build(self, problem, width, depth, fourier_features, fourier_scale, seed) -> None:
        low, high = coordinate_bounds(problem)
        self.register_buffer("center", torch.tensor([(a + b) / 2 for a, b in zip(low, high)]))
        self.register_buffer("half_width", torch.tensor([max((b - a) / 2, 1e-12) for a, b in zip(low, high)]))
        generator = torch.Generator().manual_seed(seed)
        inputs = len(self.coordinate_names)
        if fourier_features:
            frequencies = torch.randn(inputs, fourier_features, generator=generator) * fourier_scale
            self.register_buffer("frequencies", frequencies)
            inputs = 2 * fourier_features
        else:
            self.frequencies = None
        sizes = [inputs] + [width] * depth + [len(self.output_names)]
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        for layer in self.layers:
            glorot_uniform(layer, generator)

    def forward(self, coordinates: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = torch.stack([coordinates[name] for name in self.coordinate_names], dim=-1)
        x = (x - self.center.to(x.dtype)) / self.half_width.to(x.dtype)
        if self.frequencies is not None:
            projected = 2 * math.pi * x @ self.frequencies.to(x.dtype)
            x = torch.cat([torch.sin(projected), torch.cos(projected)], dim=-1)
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        out = self.layers[-1](x)
        return {name: out[..., i] for i, name in enumerate(self.output_names)}

    def jets(self, coordinates: Mapping[str, torch.Tensor], table, axes) -> dict[str, Jet]:
        """The same network as :meth:`forward`, pushed through on a jet: fields with their derivatives."""
        x = torch.stack([coordinates[name] for name in self.coordinate_names], dim=-1)
        jet = Jet.variables(table, x, [list(axes).index(name) for name in self.coordinate_names])
        jet = jet.affine(self.center.to(x.dtype), 1 / self.half_width.to(x.dtype))
        if self.frequencies is not None:
            projected = jet.linear(2 * math.pi * self.frequencies.to(x.dtype).T)
            jet = cat([projected.map(elementwise.sin), projected.map(elementwise.cos)])
        tower = elementwise.TOWERS[self.options["activation"]]
        for layer in self.layers[:-1]:
            jet = jet.linear(layer.weight, layer.bias).map(tower)
        out = jet.linear(self.layers[-1].weight, self.layers[-1].bias)
        return {name: out.select(i) for i, name in enumerate(self.output_names)}
