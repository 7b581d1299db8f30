"""Boundaries left without a condition: a warning at ``check`` and ``train``, before any training.

A field that its equations differentiate twice or more along an axis (a
Laplacian, a diffusion term) needs a condition wherever that axis leaves its
domain: a part of the boundary with none leaves the solution undetermined (the
network fits anything there, and a posterior of unknowns gets directions the
data alone fix). The check draws points on the boundary of the field's domain
and tests each against the targets of the boundary conditions that involve the
field, and against its ``periodic`` axes. Fields solved on several domains
(interfaces) or on interior regions are left alone, and so are first-order
fields (an advection needs a condition only where the flow enters).
"""

from __future__ import annotations

from sympy.core.function import AppliedUndef

from ..errors import Diagnostic

POINTS = 4000  # boundary points drawn (a fixed seed: the same warning every time)
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
        warning = _uncovered(problem, field.name, target.name, axes)
        if warning is not None:
            warnings.append(warning)
    return warnings


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


def _uncovered(problem, field: str, domain: str, axes: list[str]):
    """The warning for ``field`` if its conditions leave part of ``boundary(domain)`` bare, found on drawn points
    (torch is imported here only: most specs are decided without it)."""
    import torch

    from ..runtime.base import F64
    from ..runtime.predicates import evaluate
    from ..runtime.sampling import RELATIVE_EQUALITY_TOLERANCE, resolve_target, target_sampler

    base = target_sampler(problem, domain)
    generator = torch.Generator().manual_seed(0)
    points, normals = base.sample_boundary(POINTS, generator, dtype=F64)
    low, high = base.bounding_box()
    tolerance = RELATIVE_EQUALITY_TOLERANCE * float((high - low).max())
    along = [base.axes.index(a) for a in axes if a in base.axes]
    needs = normals[:, along].abs().max(dim=1).values > NORMAL_PART
    covered = torch.zeros(len(points), dtype=torch.bool)
    constants = {c.name: c.value for c in problem.constants}
    columns = {a: points[:, i] for i, a in enumerate(base.axes)}
    for condition in problem.boundary_conditions:
        if field not in _fields_of(condition) or condition.target is None:
            continue
        home, on_boundary, predicates = resolve_target(problem, condition.target)
        if not on_boundary:
            continue
        inside = target_sampler(problem, home).on_boundary(points, tolerance)
        for predicate in predicates:
            inside = inside & evaluate(predicate, columns, constants, tolerance)
        covered |= inside
    for periodic in problem.periodic:
        if field in periodic.fields and periodic.axis in base.axes:
            index = base.axes.index(periodic.axis)
            ends = (points[:, index] - low[index]).abs().le(tolerance) | (points[:, index] - high[index]).abs().le(
                tolerance)
            covered |= ends
    missing = needs & ~covered
    share = float(missing.sum()) / max(int(needs.sum()), 1)
    if share <= UNCOVERED:
        return None
    example = ", ".join(f"{float(v):.3g}" for v in points[missing][0])
    where = f"({example})" if len(base.axes) > 1 else example
    part = (f"the boundary of '{domain}' has no condition on '{field}'" if share > 1 - UNCOVERED else
            f"about {100 * share:.0f}% of the boundary of '{domain}' has no condition on '{field}' (at "
            f"{', '.join(base.axes)} = {where}, for one)")
    equation = next((e for e in problem.equations if field in _fields_of(e)), None)
    return Diagnostic(
        f"{part}, and the equations differentiate '{field}' twice along {' and '.join(axes)}: the solution is "
        "not determined there",
        equation.span if equation is not None else None, problem.source,
        hint=f"add a condition on '{field}' for the rest of boundary({domain}) (dn({field}) = 0 where no flux "
             "crosses it), or widen a region's predicate to cover it",
        severity="warning")
