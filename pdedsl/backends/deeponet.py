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
from typing import Mapping, Optional

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


def _silu_sin(x: torch.Tensor) -> torch.Tensor:
    """silu(sin(pi (x + 1))) + x: the trunk activation of the DGNO authors' input decoders."""
    return torch.nn.functional.silu(torch.sin(math.pi * (x + 1))) + x


def _silu_id(x: torch.Tensor) -> torch.Tensor:
    """silu(x) + x: the branch activation of the DGNO authors' input decoders."""
    return torch.nn.functional.silu(x) + x


#: Activations on values, and the same functions on jets.
OPERATOR_ACTIVATIONS = {**ACTIVATIONS, "tanh_sin": _tanh_sin, "silu_sin": _silu_sin, "silu_id": _silu_id}
JET_ACTIVATIONS = {name: (lambda tower: (lambda jet: jet.map(tower)))(elementwise.TOWERS[name]) for name in ACTIVATIONS}
JET_ACTIVATIONS["tanh_sin"] = lambda jet: jet.affine(-1.0, math.pi).map(elementwise.sin).map(elementwise.tanh) + jet
JET_ACTIVATIONS["silu_sin"] = lambda jet: jet.affine(-1.0, math.pi).map(elementwise.sin).map(elementwise.silu) + jet
JET_ACTIVATIONS["silu_id"] = lambda jet: jet.map(elementwise.silu) + jet


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


class ProductNetworks:
    """Branch and trunk stacks and their weighted inner products: the arithmetic of MultiONet and DeepONet.

    Mixed into a ``torch.nn.Module``; the branch reads whatever vector the
    owner gives it (the standardised inputs here, DGNO's latent variables in
    ``dgno.py``); ``every_layer`` chooses which layers' products count.
    """

    every_layer = True

    def _build_products(self, coordinates: int, branch_inputs: int, outputs: int, width: int, depth: int,
                        activation: str, generator: torch.Generator, branch_activation: str | None = None) -> None:
        for name in (activation, branch_activation or activation):
            if name not in OPERATOR_ACTIVATIONS:
                raise BackendError(f"unknown activation '{name}' "
                                   f"(available: {', '.join(sorted(OPERATOR_ACTIVATIONS))})")
        if width < outputs:
            raise BackendError(f"width {width} is smaller than the {outputs} outputs it is split between")
        self.activation = OPERATOR_ACTIVATIONS[activation]
        self.branch_activation = OPERATOR_ACTIVATIONS[branch_activation or activation]
        self.jet_activation = JET_ACTIVATIONS[activation]
        self.groups = [slice(o * width // outputs, (o + 1) * width // outputs) for o in range(outputs)]
        self.trunk = _Stack(coordinates, width, depth, generator)
        self.branch = _Stack(branch_inputs, width, depth, generator)
        counted = depth + 1 if self.every_layer else 1
        start = 0.0 if self.every_layer else 1.0
        self.layer_weights = torch.nn.Parameter(torch.full((counted, outputs), start))
        self.output_bias = torch.nn.Parameter(torch.zeros(outputs))

    def _branch_of(self, vector: torch.Tensor) -> list[torch.Tensor]:
        features = self.branch.features(vector, self.branch_activation)
        return features if self.every_layer else features[-1:]

    def _combine(self, branch: list[torch.Tensor], trunk_parts: list, outputs: Optional[list] = None) -> list:
        """Per output, ``(1/l) sum_k w_k <b_k, t_k>`` for one part of the trunk features (``[..., n, w]``).

        Returns ``[..., B, n]`` per output (None where every trunk part is None, or where ``outputs``, a flag
        per output, leaves it out).
        """
        scale = 1.0 / len(branch)
        results = []
        for o, group in enumerate(self.groups):
            total = None
            if outputs is not None and not outputs[o]:
                results.append(None)
                continue
            for k, (b, t) in enumerate(zip(branch, trunk_parts)):
                if t is None:
                    continue
                weighted = b[:, group] * (self.layer_weights[k, o] * scale)
                term = (t[..., group] @ weighted.T).transpose(-1, -2)
                total = term if total is None else total + term
            results.append(total)
        return results

    def _trunk_features(self, x) -> list:
        """The trunk's features that count, for scaled points ``x`` (``[n, d]``) or a jet of them."""
        features = self.trunk.features(x, self.activation if torch.is_tensor(x) else self.jet_activation)
        return features if self.every_layer else features[-1:]

    def _values_from(self, trunk: list[torch.Tensor], branch: list[torch.Tensor]) -> list[torch.Tensor]:
        """``[B, n]`` per output from trunk and branch features."""
        return [value + self.output_bias[o] for o, value in enumerate(self._combine(branch, trunk))]

    def _jets_from(self, trunk: list[Jet], branch: list[torch.Tensor], derived: Optional[list] = None) -> list[Jet]:
        """A jet per output from the trunk's feature jets: every derivative part combines with the branch.

        ``derived`` (a flag per output) leaves the derivatives of the outputs it flags False out: their jets
        carry the value alone (what nothing reads costs nothing; the values are those computed otherwise).
        """
        table = trunk[0].table
        per_part = [self._combine(branch, [t.parts[m] for t in trunk], None if m == 0 else derived)
                    for m in range(table.order + 1)]
        out = []
        for o in range(len(self.groups)):
            parts = [per_part[m][o] for m in range(table.order + 1)]
            parts[0] = parts[0] + self.output_bias[o]
            out.append(Jet(table, parts))
        return out

    def _product_values(self, x: torch.Tensor, branch: list[torch.Tensor]) -> list[torch.Tensor]:
        """``[B, n]`` per output at scaled points ``x`` (``[n, d]``)."""
        return self._values_from(self._trunk_features(x), branch)

    def _product_jets(self, jet: Jet, branch: list[torch.Tensor]) -> list[Jet]:
        """As :meth:`_product_values` on a jet of the scaled points: one trunk pass, every derivative."""
        return self._jets_from(self._trunk_features(jet), branch)


class ScaledCoordinates:
    """Mixed into a backend: its coordinates stacked as ``[n, d]`` and mapped to [-1, 1] over the domain."""

    def _register_scaling(self, problem: Problem) -> None:
        low, high = coordinate_bounds(problem)
        self.register_buffer("center", torch.tensor([(a + b) / 2 for a, b in zip(low, high)]))
        self.register_buffer("half_width", torch.tensor([max((b - a) / 2, 1e-12) for a, b in zip(low, high)]))

    def _points(self, coordinates: Mapping[str, torch.Tensor], names: tuple | None = None) -> torch.Tensor:
        """``[n, d]`` coordinates (they come as ``[n]`` or ``[1, n]``: shared by all samples).

        ``names`` picks a subset of the problem's coordinates (default: all of
        them), e.g. the spatial axes an input field lives on in a time-dependent problem.
        """
        return torch.stack([coordinates[name].reshape(-1) for name in names or self.coordinate_names], dim=-1)

    def _affine_of(self, names: tuple | None, dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """Centre and half width of the coordinates ``names`` (default: all)."""
        if not names:
            return self.center.to(dtype), self.half_width.to(dtype)
        index = [self.coordinate_names.index(name) for name in names]
        return self.center[index].to(dtype), self.half_width[index].to(dtype)

    def _scaled(self, coordinates: Mapping[str, torch.Tensor], names: tuple | None = None) -> torch.Tensor:
        x = self._points(coordinates, names)
        center, half_width = self._affine_of(names, x.dtype)
        return (x - center) / half_width

    def _scaled_jet(self, coordinates: Mapping[str, torch.Tensor], table, axes, names: tuple | None = None) -> Jet:
        x = self._points(coordinates, names)
        jet = Jet.variables(table, x, [list(axes).index(name) for name in names or self.coordinate_names])
        center, half_width = self._affine_of(names, x.dtype)
        return jet.affine(center, 1 / half_width)


class _BranchTrunk(ProductNetworks, ScaledCoordinates, OperatorBackend):
    """Shared by DeepONet and MultiONet: the branch reads the standardised inputs."""

    supports_jets = True
    activations = tuple(OPERATOR_ACTIVATIONS)
    #: GELU for new runs (older run folders keep tanh): on smooth Darcy (README: Benchmarks) it cut DeepONet's
    #: held-out error fourfold supervised and threefold physics-informed, and MultiONet's by a quarter
    #: supervised, against tanh at the same budget.
    new_run_options = {"activation": "gelu"}

    def __init__(self, problem: Problem, layout: SensorLayout, width: int = 100, depth: int = 4,
                 activation: str = "tanh", seed: int = 0, auxiliary: tuple = (), **unknown):
        if unknown:
            raise BackendError(f"the {self.name} backend has no option(s) {', '.join(sorted(unknown))} "
                               "(it takes width, depth, activation, seed)")
        super().__init__(problem, layout, auxiliary=auxiliary, width=width, depth=depth, activation=activation,
                         seed=seed)
        with torch.device("cpu"):  # built on the CPU whatever the default device; training moves it
            generator = torch.Generator().manual_seed(seed)
            self._register_scaling(problem)
            self._build_products(len(self.coordinate_names), layout.sensor_count, len(self.output_names), width,
                                 depth, activation, generator)

    def _branch_features(self, inputs: OperatorInputs) -> list[torch.Tensor]:
        flat = self.standardise(inputs).flat()
        return self._branch_of(flat.to(self.center.dtype))

    def forward(self, coordinates: Mapping[str, torch.Tensor], inputs: OperatorInputs) -> dict[str, torch.Tensor]:
        values = self._product_values(self._scaled(coordinates), self._branch_features(inputs))
        return dict(zip(self.output_names, values))

    def jets(self, coordinates: Mapping[str, torch.Tensor], table, axes, inputs: OperatorInputs) -> dict[str, Jet]:
        """The fields with the derivatives in ``table``, each part ``[B, n]``: one trunk pass on jets."""
        jets = self._product_jets(self._scaled_jet(coordinates, table, axes), self._branch_features(inputs))
        return dict(zip(self.output_names, jets))


@register("multionet")
class MultiONet(_BranchTrunk):
    """Inner products of branch and trunk features at every layer, weighted and averaged."""

    every_layer = True


@register("deeponet")
class DeepONet(_BranchTrunk):
    """The inner product of the last layers' features only."""

    every_layer = False
