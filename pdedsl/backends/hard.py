"""Hard Dirichlet constraints: ``u = g`` on the whole boundary of a box or interval, built into the model.

For such a condition the model's field becomes ``g(x) + phi(x) * net(x)``
with ``phi = prod_i (x_i - low_i)(high_i - x_i) / ((high_i - low_i) / 2)^2``,
which vanishes on every face, so the condition holds exactly and its residual
leaves the loss. ``g`` is the condition's right-hand side, an expression in
the coordinates (and consts and fixed params), evaluated node by node on
tensors; it extends itself into the interior. Conditions that involve
derivatives, normals, other fields or inferred params stay soft.

Initial values ``u = h(x)`` at ``t = t0`` (Dirichlet data in time) are built in
the same way: the field becomes ``G + tau(t) * phi(x) * net`` with
``tau = (t - t0) / (t1 - t0)`` and ``G = g(x, t) + h(x) - g(x, t0)`` (``g = 0``,
``phi = 1`` without a hard boundary condition), which equals ``h`` at ``t0``
and, where ``h`` and ``g`` agree on the boundary at ``t0``, still ``g`` on the
boundary. Where they disagree (a hot rod with cold ends, say) the initial
condition stays soft. A condition on ``dt(u)`` (the wave equation's second
one) stays soft too. On Burgers this took the default run from 0.18 to 0.068.
"""

from __future__ import annotations

from typing import Mapping, Optional

import sympy
import torch
from sympy.core.function import AppliedUndef

from ..ir import nodes
from ..ir.geometry import Box
from ..ir.problem import Problem
from ..runtime.jets import Jet, from_autograd
from ..runtime.predicates import evaluate, staged


def _physics_domains(problem: Problem) -> set[str]:
    """The domains (not regions inside them) that equations are posed on."""
    return {c.target.name for c in problem.equations if c.target is not None and c.target.kind == "domain"}


def _physics_box(problem: Problem) -> Box:
    """The one box that hard conditions are built on (they are built only where the physics has one domain)."""
    (name,) = _physics_domains(problem)
    return problem.domain(name).shape


def _constants(problem: Problem) -> dict:
    """The values of the consts and fixed params, which hard values may use."""
    constants = {c.name: c.value for c in problem.constants}
    constants.update({p.name: p.value for p in problem.params if p.value is not None})
    return constants


def _box_grid(problem: Problem, faces: bool) -> dict[str, torch.Tensor]:
    """A 17-node grid over the physics box (only its nodes on the faces with ``faces``), in float64."""
    box = _physics_box(problem)
    ticks = torch.linspace(0, 1, 17, dtype=torch.float64)
    grids = torch.meshgrid(*[low + (high - low) * ticks for low, high in zip(box.low, box.high)], indexing="ij")
    points = {axis: grid.reshape(-1) for axis, grid in zip(box.axes, grids)}
    if not faces:
        return points
    on_face = torch.zeros_like(points[box.axes[0]], dtype=torch.bool)
    for axis, low, high in zip(box.axes, box.low, box.high):
        on_face |= (points[axis] == low) | (points[axis] == high)
    return {axis: values[on_face] for axis, values in points.items()}


def _domain_grid(problem: Problem) -> dict[str, torch.Tensor]:
    """The nodes of a 17-node grid over the bounding box of the (single) physics domain that lie in it, faces
    included, in float64."""
    from ..runtime.geometry import sampler

    (name,) = _physics_domains(problem)
    shape = sampler(problem.domain(name).shape)
    low, high = shape.bounding_box()
    ticks = torch.linspace(0, 1, 17, dtype=torch.float64)
    grids = torch.meshgrid(*[lo + (hi - lo) * ticks for lo, hi in zip(low, high)], indexing="ij")
    points = torch.stack([grid.reshape(-1) for grid in grids], dim=1)
    points = points[shape.contains(points)]
    return {axis: points[:, index] for index, axis in enumerate(shape.axes)}


def _defined_in_box(problem: Problem, value: sympy.Expr, times: tuple[float, ...]) -> bool:
    """Whether ``value`` is finite on a grid of the physics domain, boundary and interior, at each of ``times``.

    A built-in value holds on the boundary and extends itself into the interior (the field is
    ``g + phi * net``), so it must be defined on both. One undefined on a face (``u = 1/x`` on a face through
    ``x = 0``, an initial ``sqrt(x - 0.5)``) stays a loss term, and training refuses it at the statement's line
    before its first step; one defined on the faces alone (``u = 1/(x - 0.5)``) stays a loss term, which reads
    it on the faces only. Built in, either made the field infinite or NaN, silently."""
    constants = _constants(problem)
    grid = _domain_grid(problem)
    if not len(next(iter(grid.values()))):
        return True
    for time in times or (None,):
        points = dict(grid)
        if time is not None:
            points[problem.time.name] = torch.full_like(next(iter(grid.values())), time)
        try:
            values = evaluate(value, points, constants) + 0 * next(iter(grid.values()))
        except (ArithmeticError, ValueError):
            return False
        if not bool(torch.isfinite(values).all()):
            return False
    return True


def _times(problem: Problem) -> tuple[float, ...]:
    """A few times across the interval (none for a steady problem)."""
    if problem.time is None:
        return ()
    start, end = problem.time.start, problem.time.end
    return tuple(start + (end - start) * k / 8 for k in range(9))


def hard_dirichlet_conditions(problem: Problem, vectors: bool = True) -> dict[str, tuple[str, sympy.Expr]]:
    """``{field: (residual name, g)}`` for every boundary condition that can be enforced exactly (with
    ``vectors``, components of vector relations too): a closed-form value, finite over the box."""
    fields = {f.name for f in problem.fields}
    physics = _physics_domains(problem)
    found: dict[str, tuple[str, sympy.Expr]] = {}
    for condition in problem.boundary_conditions:
        target = condition.target
        if target.kind != "boundary" or physics != {target.name}:
            continue
        if not isinstance(problem.domain(target.name).shape, Box):
            continue
        for name, lhs, rhs in _components(condition, vectors):
            if not (isinstance(lhs, AppliedUndef) and lhs.func.__name__ in fields) or lhs.func.__name__ in found:
                continue
            if _closed_form(problem, rhs) and _defined_in_box(problem, rhs, _times(problem)):
                found[lhs.func.__name__] = (name, rhs)
    return found


def _components(condition, vectors: bool = True):
    """``(residual name, lhs, rhs)`` per scalar relation: a vector relation of two literals, ``(ux, uy) = (0, x)``,
    gives one per component, named as its residuals are (``boundary_1[0]``, ...)."""
    if not condition.rank:
        return [(condition.name, condition.lhs, condition.rhs)]
    if not vectors or not all(isinstance(side, nodes.VectorLiteral) for side in (condition.lhs, condition.rhs)):
        return []
    return [(f"{condition.name}[{index}]", lhs, rhs)
            for index, (lhs, rhs) in enumerate(zip(condition.lhs.args, condition.rhs.args))]


def _closed_form(problem: Problem, rhs: sympy.Expr) -> bool:
    """Whether ``rhs`` is an expression of coordinates, consts and fixed params alone (not of inferred or
    random params, which change during training or from member to member)."""
    if rhs.atoms(AppliedUndef, sympy.Derivative) or any(isinstance(a, nodes.IRNode)
                                                         for a in sympy.preorder_traversal(rhs)):
        return False
    unfixed = set(problem.inferred) | {p.name for p in problem.params if p.value is None}
    return not ({s.name for s in rhs.free_symbols} & unfixed)


def hard_initial_conditions(problem: Problem, boundary: dict, constants: dict,
                            vectors: bool = True) -> dict[str, tuple[str, sympy.Expr]]:
    """``{field: (condition name, h)}`` for every initial value ``u = h(x)`` that can be enforced exactly:
    a closed-form value over the whole (single) physics domain, compatible with a hard boundary value."""
    if problem.time is None:
        return {}
    fields = {f.name for f in problem.fields}
    physics = _physics_domains(problem)
    found: dict[str, tuple[str, sympy.Expr]] = {}
    for condition in problem.initial_conditions:
        if condition.target is not None and (condition.target.kind != "domain" or physics != {condition.target.name}):
            continue
        for name, lhs, rhs in _components(condition, vectors):
            if not (isinstance(lhs, AppliedUndef) and lhs.func.__name__ in fields):
                continue
            field = lhs.func.__name__
            if field in found or not _closed_form(problem, rhs):
                continue
            if not _defined_in_box(problem, rhs, (problem.time.start,)):
                continue
            if field in boundary and not _agree_on_boundary(problem, rhs, boundary[field][1], constants):
                continue
            found[field] = (name, rhs)
    return found


def _agree_on_boundary(problem: Problem, h: sympy.Expr, g: sympy.Expr, constants: dict) -> bool:
    """Whether ``h(x) == g(x, t0)`` on the faces of the box (checked at a grid of points on every face)."""
    points = _box_grid(problem, faces=True)
    box = _physics_box(problem)
    points[problem.time.name] = torch.full_like(points[box.axes[0]], problem.time.start)
    reference = points[box.axes[0]]
    difference = (evaluate(h, points, constants) + 0 * reference) - (evaluate(g, points, constants) + 0 * reference)
    scale = 1.0 + float(evaluate(h, points, constants).abs().max())
    return bool(difference.abs().max() <= 1e-9 * scale)


class HardDirichlet(torch.nn.Module):
    """Wraps a backend so that the given Dirichlet conditions (and initial values) hold exactly."""

    def __init__(self, model: torch.nn.Module, problem: Problem, initial: bool = True, vectors: bool = True):
        super().__init__()
        self.model = model
        self.conditions = hard_dirichlet_conditions(problem, vectors)
        self.field_names = getattr(model, "field_names", ())
        self.space_axes = tuple(problem.axes)
        self.box = _physics_box(problem) if self.conditions else None
        self.constants = _constants(problem)
        self.initial = hard_initial_conditions(problem, self.conditions, self.constants, vectors) if initial else {}
        self.time = problem.time
        # built once: SymPy's substitution on every forward pass cost about as much as the network itself
        self.known = {field: self._known(field) for field in sorted(set(self.conditions) | set(self.initial))}
        self.known_values = {field: staged(g, self.constants) for field, g in self.known.items()}

    @property
    def supports_jets(self) -> bool:
        return bool(getattr(self.model, "supports_jets", False))

    @property
    def skips_derivatives(self) -> bool:
        """Whether :meth:`jets` takes ``differentiated`` (when the wrapped model does)."""
        return bool(getattr(self.model, "skips_derivatives", False))

    @property
    def enforced(self) -> set[str]:
        """Names of the conditions that no longer need a loss term."""
        return {name for name, _ in self.conditions.values()} | {name for name, _ in self.initial.values()}

    def _known(self, field: str) -> sympy.Expr:
        """``G``, the part of the field its hard conditions fix: ``g``, plus ``h - g(x, t0)`` with an initial value."""
        known = self.conditions[field][1] if field in self.conditions else sympy.Integer(0)
        if field in self.initial:  # (an initial value that mentions t is its value at t0)
            at_start = {self.time.symbol: self.time.start}
            known = known + self.initial[field][1].subs(at_start) - known.subs(at_start)
        return known

    def parameter_count(self) -> int:
        return self.model.parameter_count()

    def forward(self, coordinates: Mapping[str, torch.Tensor], *conditions) -> dict[str, torch.Tensor]:
        """The wrapped model's fields with the conditions built in (``conditions``: an operator's inputs)."""
        values = dict(self.model(coordinates, *conditions))
        if not self.conditions and not self.initial:
            return values
        reference = coordinates[self.space_axes[0]]
        phi = torch.ones_like(reference)
        for axis, low, high in zip(self.box.axes, self.box.low, self.box.high) if self.box is not None else ():
            x = coordinates[axis]
            phi = phi * (x - low) * (high - x) / ((high - low) / 2) ** 2
        for field, known_value in self.known_values.items():
            known = known_value(coordinates) + torch.zeros_like(reference)
            factor = phi if field in self.conditions else torch.ones_like(reference)
            if field in self.initial:
                start, end = self.time.start, self.time.end
                factor = factor * (coordinates[self.time.name] - start) / (end - start)
            values[field] = known.to(reference.dtype) + factor * values[field]
        return values

    def jets(self, coordinates: Mapping[str, torch.Tensor], table, axes, *conditions,
             differentiated: Optional[frozenset] = None) -> dict[str, Jet]:
        """As :meth:`forward`, on jets: ``G`` by autograd (it holds no parameters), ``phi`` and ``tau`` in closed form.
        ``differentiated`` goes to the wrapped model (:attr:`skips_derivatives`)."""
        skip = {} if differentiated is None else {"differentiated": differentiated}
        jets = dict(self.model.jets(coordinates, table, axes, *conditions, **skip))
        if not self.conditions and not self.initial:
            return jets
        axes = list(axes)
        reference = coordinates[self.space_axes[0]]
        phi = None
        for axis, low, high in zip(self.box.axes, self.box.low, self.box.high) if self.box is not None else ():
            x = Jet.coordinate(table, coordinates[axis], axes.index(axis))
            factor = (x - low) * (-x + high) * (1 / ((high - low) / 2) ** 2)
            phi = factor if phi is None else phi * factor
        for field, known_value in self.known_values.items():
            factor = phi if field in self.conditions else None
            if field in self.initial:
                start, end = self.time.start, self.time.end
                tau = Jet.coordinate(table, coordinates[self.time.name], axes.index(self.time.name))
                tau = (tau - start) * (1 / (end - start))
                factor = tau if factor is None else factor * tau
            known = self._known_jet(known_value, coordinates, table, axes, reference)
            jets[field] = known + factor * jets[field]
        return jets

    @torch.compiler.disable  # autograd inside a compiled graph needs double backward, which it lacks
    def _known_jet(self, known_value, coordinates, table, axes, reference) -> Jet:
        """The jet of a closed-form expression (no parameters: by autograd, detached)."""
        with torch.enable_grad():
            points = {a: t.detach().requires_grad_(True) for a, t in coordinates.items()}
            value = known_value(points) + torch.zeros_like(reference)
            jet = from_autograd(value.to(reference.dtype), [points[a] for a in axes], table)
        return Jet(table, [None if p is None else p.detach() for p in jet.parts])
