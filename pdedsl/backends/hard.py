"""Hard Dirichlet constraints: ``u = g`` on the whole boundary of a box or interval, built into the model.

For such a condition the model's field becomes ``g(x) + phi(x) * net(x)``
with ``phi = prod_i (x_i - low_i)(high_i - x_i) / ((high_i - low_i) / 2)^2``,
which vanishes on every face, so the condition holds exactly and its residual
leaves the loss. ``g`` is the condition's right-hand side, an expression in
the coordinates (and consts and fixed params), evaluated node by node on
tensors; it extends itself into the interior. Conditions that involve
derivatives, normals, other fields or inferred params stay soft.
"""

from __future__ import annotations

from typing import Mapping

import sympy
import torch
from sympy.core.function import AppliedUndef

from ..ir import nodes
from ..ir.geometry import Box
from ..ir.problem import Problem
from ..runtime.jets import Jet, from_autograd
from ..runtime.predicates import evaluate


def hard_dirichlet_conditions(problem: Problem) -> dict[str, tuple[str, sympy.Expr]]:
    """``{field: (condition name, g)}`` for every boundary condition that can be enforced exactly."""
    fields = {f.name for f in problem.fields}
    physics = {c.target.name for c in problem.equations if c.target is not None and c.target.kind == "domain"}
    found: dict[str, tuple[str, sympy.Expr]] = {}
    for condition in problem.boundary_conditions:
        target = condition.target
        if target.kind != "boundary" or physics != {target.name}:
            continue
        if not isinstance(problem.domain(target.name).shape, Box) or condition.rank:
            continue
        lhs, rhs = condition.lhs, condition.rhs
        if not (isinstance(lhs, AppliedUndef) and lhs.func.__name__ in fields) or lhs.func.__name__ in found:
            continue
        if rhs.atoms(AppliedUndef, sympy.Derivative) or any(isinstance(a, nodes.IRNode) for a in sympy.preorder_traversal(rhs)):
            continue
        if {s.name for s in rhs.free_symbols} & set(problem.inferred):
            continue
        found[lhs.func.__name__] = (condition.name, rhs)
    return found


class HardDirichlet(torch.nn.Module):
    """Wraps a backend so that the given Dirichlet conditions hold exactly."""

    def __init__(self, model: torch.nn.Module, problem: Problem):
        super().__init__()
        self.model = model
        self.conditions = hard_dirichlet_conditions(problem)
        self.field_names = getattr(model, "field_names", ())
        self.space_axes = tuple(problem.axes)
        domain = problem.domain(problem.equations[0].target.name) if self.conditions else None
        self.box = domain.shape if domain is not None else None
        self.constants = {c.name: c.value for c in problem.constants}
        self.constants.update({p.name: p.value for p in problem.params if p.value is not None})

    @property
    def supports_jets(self) -> bool:
        return bool(getattr(self.model, "supports_jets", False))

    @property
    def enforced(self) -> set[str]:
        """Names of the conditions that no longer need a loss term."""
        return {name for name, _ in self.conditions.values()}

    def parameter_count(self) -> int:
        return self.model.parameter_count()

    def forward(self, coordinates: Mapping[str, torch.Tensor], *conditions) -> dict[str, torch.Tensor]:
        """The wrapped model's fields with the conditions built in (``conditions``: an operator's inputs)."""
        values = dict(self.model(coordinates, *conditions))
        if not self.conditions:
            return values
        reference = coordinates[self.space_axes[0]]
        phi = torch.ones_like(reference)
        for axis, low, high in zip(self.box.axes, self.box.low, self.box.high):
            x = coordinates[axis]
            phi = phi * (x - low) * (high - x) / ((high - low) / 2) ** 2
        for field, (_, g) in self.conditions.items():
            boundary_value = evaluate(g, coordinates, self.constants) + torch.zeros_like(reference)
            values[field] = boundary_value.to(reference.dtype) + phi * values[field]
        return values

    def jets(self, coordinates: Mapping[str, torch.Tensor], table, axes, *conditions) -> dict[str, Jet]:
        """As :meth:`forward`, on jets: ``g`` by autograd (it holds no parameters), ``phi`` in closed form."""
        jets = dict(self.model.jets(coordinates, table, axes, *conditions))
        if not self.conditions:
            return jets
        axes = list(axes)
        reference = coordinates[self.space_axes[0]]
        phi = None
        for axis, low, high in zip(self.box.axes, self.box.low, self.box.high):
            x = Jet.coordinate(table, coordinates[axis], axes.index(axis))
            factor = (x - low) * (-x + high) * (1 / ((high - low) / 2) ** 2)
            phi = factor if phi is None else phi * factor
        for field, (_, g) in self.conditions.items():
            jets[field] = self._boundary_jet(g, coordinates, table, axes, reference) + phi * jets[field]
        return jets

    def _boundary_jet(self, g, coordinates, table, axes, reference) -> Jet:
        with torch.enable_grad():
            points = {a: t.detach().requires_grad_(True) for a, t in coordinates.items()}
            value = evaluate(g, points, self.constants) + torch.zeros_like(reference)
            jet = from_autograd(value.to(reference.dtype), [points[a] for a in axes], table)
        return Jet(table, [None if p is None else p.detach() for p in jet.parts])
