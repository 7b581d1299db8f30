"""Boundaries left without a condition: a warning at ``check`` and ``train``, before any training.

A field that its equations differentiate twice or more along an axis (a
Laplacian, a diffusion term) needs a condition wherever that axis leaves its
domain: a part of the boundary with none leaves the solution undetermined (the
network fits anything there, and a posterior of unknowns gets directions the
data alone fix). The check puts points on the boundary of the field's domain
(a grid on each face of a box or interval, predicates evaluated in SymPy, so
that ``check`` still needs no torch; points drawn by the runtime's samplers on
other shapes) and tests each against the targets of the boundary conditions
that involve the field, and against its ``periodic`` axes. Fields solved on several domains
(interfaces) or on interior regions are left alone, and so are first-order
fields (an advection needs a condition only where the flow enters).
"""

from __future__ import annotations

import itertools
import math

import sympy
from sympy.core.function import AppliedUndef

from ..errors import Diagnostic
from ..ir.geometry import Box
from ..ir.problem import RELATIVE_EQUALITY_TOLERANCE

POINTS = 4000  # boundary points drawn on a shape other than a box (a fixed seed: the same warning every time)
FACE_NODES = 9  # points along each side of a box's face
#: Where in its cell each face node sits (the golden section): off every simple fraction of a side, so that a
#: face split at its midpoint, a third or a sixth by strict inequalities (x < 0.5, x > 0.5) is not taken to
#: leave the split's line bare, as nodes at the cells' centres (one of them the midpoint) did.
NODE_OFFSET = (3 - math.sqrt(5)) / 2
UNCOVERED = 0.01  # share of the points needing a condition above which the rest is said to have none
NORMAL_PART = 0.1  # a point needs a condition when its normal's part along a twice-differentiated axis exceeds this


def uncovered_boundaries(problem, lowered) -> list[Diagnostic]:
    """A warning per field whose domain's boundary is partly without a condition on it (see the module)."""
    orders = _space_orders(problem, lowered)
    warnings = []
    for field in problem.fields:
        axes = sorted(a for a, order in orders.get(field.name, {}).items() if order >= 2)
        if not axes:
            continue
        targets = {e.target for e in problem.equations if field.name in _fields_of(e)}
        if len(targets) != 1 or None in targets or _enough_for_an_ode(problem, field.name, orders):
            continue
        (target,) = targets
        if target.kind != "domain" or _whole_boundary_given(problem, field.name, target.name):
            continue
        warning = _uncovered(problem, field.name, target.name, axes, _twice_in(problem, lowered, field.name))
        if warning is not None:
            warnings.append(warning)
    return warnings


def _twice_in(problem, lowered, field: str):
    """The span of the first equation that differentiates ``field`` twice along a space axis (in a system the
    first one naming it may use only its value, as ``v`` in ``dt(u) = laplace(u) + v``)."""
    time = problem.time.name if problem.time is not None else None
    for residual in lowered.residuals:
        if residual.kind == "equation" and residual.span is not None and any(
                request.function == field and not request.of_input and any(
                    axis != time and count >= 2 for axis, count in request.orders)
                for request in residual.requests):
            return residual.span
    equation = next((e for e in problem.equations if field in _fields_of(e)), None)
    return equation.span if equation is not None else None


def _whole_boundary_given(problem, field: str, domain: str) -> bool:
    """A condition on ``boundary(domain)`` itself covers it all (decided without drawing points or torch)."""
    return any(c.target is not None and c.target.kind == "boundary" and c.target.name == domain
               and field in _fields_of(c) for c in problem.boundary_conditions)


def _enough_for_an_ode(problem, field: str, orders) -> bool:
    """A steady problem on an interval is an ODE: its conditions may all sit at one end (``u = 0`` and
    ``d(u, x) = 1`` at x = 0), so as many conditions as its order are enough."""
    if problem.time is not None or len(problem.axes) != 1:
        return False
    given = sum(1 for c in problem.boundary_conditions if field in _fields_of(c))
    return given >= max(orders[field].values())


def _fields_of(condition) -> set[str]:
    return {f.func.__name__ for f in (condition.lhs - condition.rhs).atoms(AppliedUndef)}


def _space_orders(problem, lowered) -> dict[str, dict[str, int]]:
    """``{field: {space axis: highest order}}`` over the equations' residuals."""
    time = problem.time.name if problem.time is not None else None
    fields = {f.name for f in problem.fields}
    orders: dict[str, dict[str, int]] = {}
    for residual in lowered.residuals:
        if residual.kind != "equation":
            continue
        for request in residual.requests:
            if request.function not in fields or request.of_input:
                continue
            known = orders.setdefault(request.function, {})
            for axis, count in request.orders:
                if axis != time:
                    known[axis] = max(known.get(axis, 0), count)
    return orders


def _uncovered(problem, field: str, domain: str, axes: list[str], span):
    """The warning for ``field`` (at ``span``) if its conditions leave part of ``boundary(domain)`` bare."""
    shape = problem.domain(domain).shape
    found = _box_share(problem, field, domain, shape, axes) if isinstance(shape, Box) else None
    if found is None:
        found = _sampled_share(problem, field, domain, axes)
    share, example, names = found
    if share <= UNCOVERED:
        return None
    where = ", ".join(f"{v:.3g}" for v in example)
    where = f"({where})" if len(example) > 1 else where
    part = (f"the boundary of '{domain}' has no condition on '{field}'" if share > 1 - UNCOVERED else
            f"about {100 * share:.0f}% of the boundary of '{domain}' has no condition on '{field}' (at "
            f"{', '.join(names)} = {where}, for one)")
    return Diagnostic(
        f"{part}, and the equations differentiate '{field}' twice along {_listed(axes)}: the solution is "
        "not determined there",
        span, problem.source,
        hint=f"add a condition on '{field}' for the rest of boundary({domain}) (dn({field}) = 0 where no flux "
             "crosses it), or widen a region's predicate to cover it",
        severity="warning")


def _listed(names: list[str]) -> str:
    """``x``, ``x and y``, ``x, y and z``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _conditions_on(problem, field: str) -> list[tuple[str, list]]:
    """``(home domain, predicates)`` of every boundary condition on ``field``."""
    found = []
    for condition in problem.boundary_conditions:
        if field in _fields_of(condition) and condition.target is not None:
            home, on_boundary, predicates = problem.resolve(condition.target)
            if on_boundary:
                found.append((home, predicates))
    return found


# ---- a box: points on its faces, predicates evaluated exactly in SymPy (no torch) ----
def _box_share(problem, field: str, domain: str, box: Box, axes: list[str]):
    """``(share bare, a bare point, axis names)`` from a grid of points on each face a twice-differentiated
    axis leaves through (weighed by the face's measure); None where a condition lies on another domain's
    boundary or a predicate is not a plain number comparison (then points are drawn)."""
    conditions = _conditions_on(problem, field)
    if any(home != domain for home, _ in conditions):
        return None
    periodic = {p.axis for p in problem.periodic if field in p.fields}
    constants = {c.name: c.value for c in problem.constants}
    tolerance = RELATIVE_EQUALITY_TOLERANCE * max(hi - lo for lo, hi in zip(box.low, box.high))
    needing = bare = 0.0
    example = None
    for index, axis in enumerate(box.axes):
        if axis not in axes or axis in periodic:
            continue
        for point, weight in _face_points(box, index):
            needing += weight
            try:
                covered = any(all(_holds(p, point, constants, tolerance) for p in predicates)
                              for _, predicates in conditions)
            except _NotPlain:
                return None
            if not covered:
                bare += weight
                example = example or tuple(point.values())
    return (bare / needing if needing else 0.0), example, box.axes


def _face_points(box: Box, index: int):
    """Points on the two faces across axis ``index`` (a grid inside each, edges and simple fractions of the
    sides left out: NODE_OFFSET) with weights."""
    others = [i for i in range(len(box.axes)) if i != index]
    nodes = [[lo + (hi - lo) * (k + NODE_OFFSET) / FACE_NODES for k in range(FACE_NODES)]
             for lo, hi in ((box.low[i], box.high[i]) for i in others)]
    grid = list(itertools.product(*nodes))
    weight = math.prod(box.high[i] - box.low[i] for i in others) / len(grid)
    for end in (box.low[index], box.high[index]):
        for values in grid:
            point = dict(zip((box.axes[i] for i in others), values))
            point[box.axes[index]] = end
            yield {a: point[a] for a in box.axes}, weight


class _NotPlain(Exception):
    """A predicate this exact evaluation does not take (the drawn points decide instead)."""


_ORDERS = {"<": lambda d: d < 0, "<=": lambda d: d <= 0, ">": lambda d: d > 0, ">=": lambda d: d >= 0}


def _holds(predicate, point: dict, constants: dict, tolerance: float) -> bool:
    """Whether ``predicate`` holds at ``point``, ``==`` within ``tolerance`` as in the runtime's evaluation."""
    if predicate is sympy.true or predicate is sympy.false:
        return bool(predicate)
    if isinstance(predicate, sympy.And):
        return all(_holds(p, point, constants, tolerance) for p in predicate.args)
    if isinstance(predicate, sympy.Or):
        return any(_holds(p, point, constants, tolerance) for p in predicate.args)
    if isinstance(predicate, sympy.Not):
        return not _holds(predicate.args[0], point, constants, tolerance)
    if isinstance(predicate, sympy.core.relational.Relational):
        difference = _number(predicate.lhs - predicate.rhs, point, constants)
        if predicate.rel_op == "==":
            return abs(difference) <= tolerance
        if predicate.rel_op == "!=":
            return abs(difference) > tolerance
        return _ORDERS[predicate.rel_op](difference)
    raise _NotPlain(type(predicate).__name__)


def _number(expr, point: dict, constants: dict) -> float:
    values = {}
    for symbol in expr.free_symbols:
        value = point.get(symbol.name, constants.get(symbol.name))
        if value is None:
            raise _NotPlain(symbol.name)
        values[symbol] = sympy.Float(value)
    number = complex(expr.xreplace(values).evalf())
    if number.imag != 0 or not math.isfinite(number.real):
        raise _NotPlain(str(expr))
    return number.real


# ---- any other shape: points drawn on its boundary (imports torch) ----
def _sampled_share(problem, field: str, domain: str, axes: list[str]):
    """``(share bare, a bare point, axis names)`` from points drawn uniformly on the boundary, each needing a
    condition where its outward normal has a part along a twice-differentiated axis."""
    import torch

    from ..runtime.base import F64
    from ..runtime.predicates import evaluate
    from ..runtime.sampling import target_sampler

    base = target_sampler(problem, domain)
    points, normals = base.sample_boundary(POINTS, torch.Generator().manual_seed(0), dtype=F64)
    low, high = base.bounding_box()
    tolerance = RELATIVE_EQUALITY_TOLERANCE * float((high - low).max())
    along = [base.axes.index(a) for a in axes if a in base.axes]
    needs = normals[:, along].abs().max(dim=1).values > NORMAL_PART
    covered = torch.zeros(len(points), dtype=torch.bool)
    constants = {c.name: c.value for c in problem.constants}
    columns = {a: points[:, i] for i, a in enumerate(base.axes)}
    for home, predicates in _conditions_on(problem, field):
        inside = target_sampler(problem, home).on_boundary(points, tolerance)
        for predicate in predicates:
            inside = inside & evaluate(predicate, columns, constants, tolerance)
        covered |= inside
    for periodic in problem.periodic:
        if field in periodic.fields and periodic.axis in base.axes:
            index = base.axes.index(periodic.axis)
            column = points[:, index]
            covered |= (column - low[index]).abs().le(tolerance) | (column - high[index]).abs().le(tolerance)
    missing = needs & ~covered
    share = float(missing.sum()) / max(int(needs.sum()), 1)
    example = tuple(float(v) for v in points[missing][0]) if bool(missing.any()) else ()
    return share, example, base.axes
