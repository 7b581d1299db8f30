"""DeepONet and MultiONet: a branch network reads the sampled inputs, a trunk network the coordinates.

Both networks have ``depth`` hidden layers of one width (activation after
each) and a final linear layer, so each yields ``l = depth + 1`` feature
vectors ``b_k`` (of the inputs) and ``t_k`` (of the point). The operator is

    G(inputs)(x) = (1/l) sum_k w_k <b_k, t_k> + b_0

with learnable scalars ``w_k``. MultiONet (Zang and Koutsourelakis) sums
over every layer, with ``w_k`` starting at 0; DeepONet (Lu et al.) is the
case of the last layer only (its ``w`` starts at 1). With several outputs
(systems, or the mixed form's fluxes) the width is split into one group of
features per output, each with its own ``w_k`` and ``b_0``.

The trunk is an MLP of the coordinates, so it propagates derivative jets
(``runtime/jets.py``): a field's derivatives at ``n`` points cost one trunk
pass on those ``n`` points, however many input samples the batch holds; the
branch features then combine with every derivative of the trunk's features.
"""

from __future__ import annotations

import math
from typing import Mapping

import torch

from ..ir.problem import Problem
from ..runtime import elementwise
from ..runtime.jets import Jet
from .base import BackendError, glorot_uniform, register
from .operator import OperatorBackend, OperatorInputs, SensorLayout
from .pinn import ACTIVATIONS, coordinate_bounds


def _tanh_sin(x: torch.Tensor) -> torch.Tensor:
    """tanh(sin(pi (x + 1))) + x: the residual-style activation of the MultiONet authors."""
    return torch.tanh(torch.sin(math.pi * (x + 1))) + x


#: Activations on values, and the same functions on jets.
OPERATOR_ACTIVATIONS = {**ACTIVATIONS, "tanh_sin": _tanh_sin}
JET_ACTIVATIONS = {name: (lambda tower: (lambda jet: jet.map(tower)))(elementwise.TOWERS[name]) for name in ACTIVATIONS}
JET_ACTIVATIONS["tanh_sin"] = lambda jet: jet.affine(-1.0, math.pi).map(elementwise.sin).map(elementwise.tanh) + jet


class _Stack(torch.nn.Module):
    """``depth`` activated layers and one linear layer of one width; returns every layer's output."""

    def __init__(self, inputs: int, width: int, depth: int, generator: torch.Generator):
        super().__init__()
        sizes = [inputs] + [width] * (depth + 1)
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        for layer in self.layers:
            glorot_uniform(layer, generator)

    def features(self, x, activation) -> list:
        """Every layer's output for a tensor, or for a jet (``activation`` acts on whichever is given)."""
        out = []
        for index, layer in enumerate(self.layers):
            x = layer(x) if torch.is_tensor(x) else x.linear(layer.weight, layer.bias)
            if index < len(self.layers) - 1:
                x = activation(x)
            out.append(x)
        return out


class _BranchTrunk(OperatorBackend):
    """Shared by DeepONet and MultiONet; ``every_layer`` chooses which layers' products count."""

    supports_jets = True
    every_layer = True

    def __init__(self, problem: Problem, layout: SensorLayout, width: int = 100, depth: int = 4,
                 activation: str = "tanh", seed: int = 0, auxiliary: tuple = (), **unknown):
        if unknown:
            raise BackendError(f"the {self.name} backend has no option(s) {', '.join(sorted(unknown))} "
                               "(it takes width, depth, activation, seed)")
        super().__init__(problem, layout, auxiliary=auxiliary, width=width, depth=depth, activation=activation,
                         seed=seed)
        if activation not in OPERATOR_ACTIVATIONS:
            raise BackendError(f"unknown activation '{activation}' "
                               f"(available: {', '.join(sorted(OPERATOR_ACTIVATIONS))})")
        outputs = len(self.output_names)
        if width < outputs:
            raise BackendError(f"width {width} is smaller than the {outputs} outputs it is split between")
        self.activation = OPERATOR_ACTIVATIONS[activation]
        self.jet_activation = JET_ACTIVATIONS[activation]
        self.groups = [slice(o * width // outputs, (o + 1) * width // outputs) for o in range(outputs)]
        with torch.device("cpu"):  # built on the CPU whatever the default device; training moves it
            generator = torch.Generator().manual_seed(seed)
            low, high = coordinate_bounds(problem)
            self.register_buffer("center", torch.tensor([(a + b) / 2 for a, b in zip(low, high)]))
            self.register_buffer("half_width", torch.tensor([max((b - a) / 2, 1e-12) for a, b in zip(low, high)]))
            self.trunk = _Stack(len(self.coordinate_names), width, depth, generator)
            self.branch = _Stack(layout.sensor_count, width, depth, generator)
            counted = depth + 1 if self.every_layer else 1
            start = 0.0 if self.every_layer else 1.0
            self.layer_weights = torch.nn.Parameter(torch.full((counted, outputs), start))
            self.output_bias = torch.nn.Parameter(torch.zeros(outputs))

    def _points(self, coordinates: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``[n, d]`` coordinates in [-1, 1] (coordinates come as ``[n]`` or ``[1, n]``: shared by all samples)."""
        x = torch.stack([coordinates[name].reshape(-1) for name in self.coordinate_names], dim=-1)
        return x

    def _branch_features(self, inputs: OperatorInputs) -> list[torch.Tensor]:
        flat = self.standardise(inputs).flat()
        features = self.branch.features(flat.to(self.center.dtype), self.activation)
        return features if self.every_layer else features[-1:]

    def _combine(self, branch: list[torch.Tensor], trunk_parts: list) -> list:
        """Per output, ``(1/l) sum_k w_k <b_k, t_k>`` for one part of the trunk features (``[..., n, w]``).

        Returns ``[..., B, n]`` per output (None where every trunk part is None).
        """
        scale = 1.0 / len(branch)
        results = []
        for o, group in enumerate(self.groups):
            total = None
            for k, (b, t) in enumerate(zip(branch, trunk_parts)):
                if t is None:
                    continue
                weighted = b[:, group] * (self.layer_weights[k, o] * scale)
                term = (t[..., group] @ weighted.T).transpose(-1, -2)
                total = term if total is None else total + term
            results.append(total)
        return results

    def forward(self, coordinates: Mapping[str, torch.Tensor], inputs: OperatorInputs) -> dict[str, torch.Tensor]:
        x = self._points(coordinates)
        x = (x - self.center.to(x.dtype)) / self.half_width.to(x.dtype)
        trunk = self.trunk.features(x, self.activation)
        trunk = trunk if self.every_layer else trunk[-1:]
        values = self._combine(self._branch_features(inputs), trunk)
        return {name: values[o] + self.output_bias[o] for o, name in enumerate(self.output_names)}

    def jets(self, coordinates: Mapping[str, torch.Tensor], table, axes, inputs: OperatorInputs) -> dict[str, Jet]:
        """The fields with the derivatives in ``table``, each part ``[B, n]``: one trunk pass on jets."""
        x = self._points(coordinates)
        jet = Jet.variables(table, x, [list(axes).index(name) for name in self.coordinate_names])
        jet = jet.affine(self.center.to(x.dtype), 1 / self.half_width.to(x.dtype))
        trunk = self.trunk.features(jet, self.jet_activation)
        trunk = trunk if self.every_layer else trunk[-1:]
        branch = self._branch_features(inputs)
        per_part = [self._combine(branch, [t.parts[m] for t in trunk]) for m in range(table.order + 1)]
        out = {}
        for o, name in enumerate(self.output_names):
            parts = [per_part[m][o] for m in range(table.order + 1)]
            parts[0] = parts[0] + self.output_bias[o]
            out[name] = Jet(table, parts)
        return out


@register("multionet")
class MultiONet(_BranchTrunk):
    """Inner products of branch and trunk features at every layer, weighted and averaged."""

    every_layer = True


@register("deeponet")
class DeepONet(_BranchTrunk):
    """The inner product of the last layers' features only."""

    every_layer = False
