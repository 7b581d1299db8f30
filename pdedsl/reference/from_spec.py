"""Reference solutions straight from a spec: steady scalar problems in divergence form on boxes.

The weak-form pass already writes each equation as ``flux . grad(phi) +
volume * phi``. A spec fits the finite-difference solver when its one
equation, on one box, has

    flux_a = A * d(u, a)  for every axis (one A, free of u),
    volume = v . grad(u) + C * u + G  (v, C, G free of u),

that is ``-div(A grad u) + v . grad(u) + C u = -G`` (v of coordinates,
constants and params), and every side of the box carries one boundary
condition ``u = g`` (Dirichlet), ``k * dn(u) = h`` (Neumann) or
``k * dn(u) + b * u = h`` (Robin).
``A``, ``C``, ``G`` and ``g``, ``h`` may hold coordinates, constants, params
and inputs (given by formula, data file or a drawn instance): they are
evaluated on the grid without evaluating any user text (the predicate
evaluator walks the SymPy tree). Anything else is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np
import sympy
import torch
from sympy.core.function import AppliedUndef

from ..errors import PdeError
from ..ir import nodes
from ..ir.geometry import Box
from ..ir.problem import Problem
from ..runtime.predicates import evaluate
from .elliptic import Side, side_slice, solve_elliptic, solve_nonlinear


class ReferenceError(PdeError):
    """The spec is outside what the reference solver handles (the message says what); ``span`` is the statement
    it cannot take, where there is one, so that ``pdedsl data`` points at it (:meth:`located`)."""

    def __init__(self, message: str, span=None):
        super().__init__(message)
        self.span = span

    def located(self, problem: Problem) -> str:
        """The message at ``file:line:col`` of its statement, with the line, or after the file's name."""
        return problem.locate(self.span, str(self))


@dataclass(frozen=True)
class EllipticSpec:
    """``-div(A grad u) + v . grad(u) + C u = -G`` on ``box`` (``A`` one coefficient per axis) with one condition
    per side."""

    field: str
    box: Box
    A: tuple[sympy.Expr, ...]
    C: sympy.Expr
    G: sympy.Expr
    # (axis, "low"/"high") -> ("dirichlet"/"neumann", value) or ("robin", (value, coefficient))
    sides: Mapping[tuple[int, str], tuple[str, sympy.Expr | tuple[sympy.Expr, sympy.Expr]]]
    velocity: tuple[sympy.Expr, ...] = ()  # v of a transport term v . grad(u), one per axis (zeros: none)
    reaction: Optional[sympy.Expr] = None  # C u + G written out, of FIELD_VALUE, where it is nonlinear in u
    pieces: tuple = (sympy.true,)  # where each equation holds (A, v, C, G are Piecewise over them when several)


#: The field's value in a nonlinear reaction term (a name no spec symbol can take: it has a dot).
FIELD_VALUE = sympy.Symbol("u.value", real=True)


def elliptic_spec(problem: Problem) -> EllipticSpec:
    """Recognise ``problem`` as a steady divergence-form problem, or raise ReferenceError saying why not.

    Several equations of the one field on interior regions of one box (a source on a disc, another material
    in a strip) are one problem: at each node the first equation whose region holds it."""
    from ..passes.weak import derive_weak_forms

    if problem.time is not None:
        raise ReferenceError("the reference solver for specs handles steady problems only (this one has time)",
                             problem.time.span)
    if len(problem.fields) != 1 or not problem.equations:
        raise ReferenceError("the reference solver handles one field with one equation", extra_statement(problem))
    if problem.periodic:
        raise ReferenceError("the steady reference solver handles Dirichlet, Neumann and Robin sides, not periodic "
                             "conditions", problem.periodic[0].span)
    domain, predicates = equation_pieces(problem)
    forms = derive_weak_forms(problem)
    if len(forms) != len(problem.equations):
        raise ReferenceError("the reference solver handles one field with one equation", extra_statement(problem))
    field = problem.fields[0].name
    space = list(problem.space_symbols)
    u = sympy.Function(field)(*space)
    parts = [_equation_parts(problem, form, equation, u, space) for form, equation in zip(forms, problem.equations)]
    if predicates == [sympy.true]:  # one equation on the whole box
        A, velocity, volume = parts[0]
    else:
        def piecewise(values):
            return sympy.Piecewise(*zip(values, predicates))
        A = tuple(piecewise([p[0][k] for p in parts]) for k in range(len(space)))
        velocity = tuple(piecewise([p[1][k] for p in parts]) for k in range(len(space)))
        volume = piecewise([p[2] for p in parts])
    C = sympy.diff(volume, FIELD_VALUE)
    G = volume.subs(FIELD_VALUE, 0)
    reaction = None
    if C.has(FIELD_VALUE):  # a nonlinear reaction (Bratu's exp(u), Allen-Cahn's u - u^3): Newton's method
        reaction, C = volume, C.subs(FIELD_VALUE, 0)
    return EllipticSpec(field, domain.shape, A, sympy.simplify(C), G, sides_of(problem, domain, field, u), velocity,
                        reaction, tuple(predicates))


def equation_pieces(problem: Problem):
    """``(domain, predicates)``: the one box the equations are posed on, and where each equation holds on it
    (``true`` for the whole box, a region's conditions for an interior region), or why not."""
    from ..runtime.sampling import SamplingError, resolve_target

    domain, predicates = None, []
    for equation in problem.equations:
        if equation.target is None:
            raise ReferenceError("the reference solver needs the equation on a whole box or interval domain",
                                 equation.span)
        try:
            name, on_boundary, conditions = resolve_target(problem, equation.target)
        except SamplingError as error:
            raise ReferenceError(str(error), equation.span) from None
        if on_boundary:
            raise ReferenceError("the reference solver takes equations on a box and its interior regions, not on "
                                 "its boundary", equation.span)
        if domain is not None and name != domain.name:
            raise ReferenceError(f"the reference solver takes equations on one box; this one is on '{name}', the "
                                 f"first on '{domain.name}'", equation.span)
        domain = problem.domain(name)
        if not isinstance(domain.shape, Box):
            raise ReferenceError("the reference solver needs the equation on a whole box or interval domain",
                                 equation.span)
        predicates.append(sympy.And(*conditions) if conditions else sympy.true)
    return domain, predicates


def _equation_parts(problem: Problem, form, equation, u, space):
    """``(A, v, volume)`` of one equation's weak form: the diffusion per axis, the transport velocity, and the
    rest of the volume term with the field's value as :data:`FIELD_VALUE`; or why the solver cannot take it."""
    if form.hessian:
        raise ReferenceError("the reference solver takes second-order equations, not terms of third order or "
                             "higher (" + ", ".join(t.removesuffix(" (twice)") for t in form.integrated
                                                    if t.endswith(" (twice)")) + ")", equation.span)
    field = u.func.__name__
    A = diffusion_coefficients(form, u, space, field, equation.span)
    velocity, rest = transport_of(problem, form.volume, u, space, equation.span)
    volume = rest.xreplace({u: FIELD_VALUE})
    if holds(volume, u):
        raise ReferenceError("the equation reads the field in a way the reference solver does not take",
                             equation.span)
    return A, velocity, volume


def transport_of(problem: Problem, volume, u, space, span) -> tuple[tuple[sympy.Expr, ...], sympy.Expr]:
    """``(v, rest)`` with ``volume = v . grad(u) + rest``: the transport velocity (zeros without transport) and
    what is left, which must hold no derivative of ``u``. A velocity that reads ``u`` (Burgers) or an input
    (whose derivatives the solver would need for ``div v``) is refused at ``span`` with the reason."""
    slopes = [sympy.Derivative(u, x) for x in space]
    markers = [sympy.Dummy(f"slope_{x}") for x in space]
    replaced = volume.xreplace(dict(zip(slopes, markers)))
    velocity = tuple(sympy.diff(replaced, m) for m in markers)
    rest = replaced.subs({m: 0 for m in markers})
    if any(d.has(u) for d in rest.atoms(sympy.Derivative)):
        raise ReferenceError("the equation has derivative terms outside divergence form (other than a "
                             "transport term v . grad(u))", span)
    inputs = {i.name for i in problem.inputs}
    for v in velocity:
        if v.has(*markers) or holds(v, u):
            raise ReferenceError("the transport term must be linear in the field (a velocity free of it, not "
                                 "Burgers' u d(u, x))", span)
        read = sorted({f.func.__name__ for f in v.atoms(AppliedUndef)} & inputs)
        if read:
            raise ReferenceError(f"the reference solver takes a transport velocity of coordinates, constants and "
                                 f"params, not one that reads input '{read[0]}'", span)
    return velocity, rest


def diffusion_coefficients(form, u, space, field: str, span) -> tuple[sympy.Expr, ...]:
    """The coefficients ``A_k`` of a weak form whose flux along every axis is ``A_k * d(u, axis_k)`` (one per
    axis: a diagonal, possibly anisotropic, diffusion), or a ReferenceError at ``span`` saying which axis breaks
    that (a cross term such as ``d(u, x, y)``, a coefficient that reads the field)."""
    coefficients = []
    for (axis, flux), x in zip(form.flux, space):
        ratio = sympy.simplify(flux / sympy.Derivative(u, x)) if flux != 0 else sympy.Integer(0)
        if holds(ratio, u):
            raise ReferenceError(f"the flux along {axis} is not a coefficient times d({field}, {axis}): {flux}", span)
        coefficients.append(ratio)
    return tuple(coefficients)


def evaluated_diffusion(coefficients, evaluate_one, pieces=None) -> tuple[list[np.ndarray], np.ndarray | float]:
    """``(A, sign)``: each axis's coefficient on the grid, times ``sign``: -1 on the nodes of an equation whose
    coefficients are all negative on all of them (written as ``laplace(u) + ... = 0``: the same equation times
    -1), else 1. ``pieces`` are the node masks of the equations (first match), one equation without them; a
    node no equation holds at is a ReferenceError."""
    values = [np.asarray(evaluate_one(a), dtype=np.float64) for a in coefficients]
    shape = np.broadcast_shapes(*(v.shape for v in values))
    values = [np.broadcast_to(v, shape) for v in values]
    if any(np.isnan(v).any() for v in values):
        missing = int(np.isnan(values[0]).sum()) if np.isnan(values[0]).any() else "some"
        raise ReferenceError(f"no equation holds at {missing} of the grid's nodes: the regions of the equations "
                             "must cover the box")
    masks = [np.broadcast_to(np.asarray(m, dtype=bool), shape) for m in (pieces or [np.ones(shape, dtype=bool)])]
    sign, taken = np.ones(shape), np.zeros(shape, dtype=bool)
    for mask in masks:
        nodes = mask & ~taken
        if nodes.any() and all(np.all(v[nodes] < 0) for v in values):
            sign[nodes] = -1.0
        taken |= mask
    if np.all(sign == sign.flat[0]):
        sign = float(sign.flat[0])
    return [sign * v for v in values], sign


def extra_statement(problem: Problem):
    """Where a problem with more than one field or equation first has one too many (None with none at all)."""
    extra = problem.equations[1:2] or problem.fields[1:2] or problem.equations[:1]
    return extra[0].span if extra else None


def holds(expr, u) -> bool:
    """Whether ``expr`` depends on the field ``u`` (its value or any derivative)."""
    return expr.has(u) or any(isinstance(f, AppliedUndef) and f.func == u.func for f in expr.atoms(AppliedUndef))


def sides_of(problem: Problem, domain, field: str, u) -> dict:
    """The condition on each side of the box."""
    return {(index, end): condition_on(problem, domain, index, end, field, u)
            for index in range(len(domain.shape.axes)) for end in ("low", "high")}


def condition_on(problem: Problem, domain, index: int, end: str, field: str, u) -> tuple[str, sympy.Expr]:
    """``(kind, value)`` of the one boundary condition holding on a side, found by testing the side's centre."""
    return _condition(condition_holding_on(problem, domain, index, end), u, field, problem)


def condition_holding_on(problem: Problem, domain, index: int, end: str):
    """The one boundary condition holding on a side of the box, found by testing the side's centre."""
    from ..runtime.sampling import resolve_target

    box: Box = domain.shape
    axis = box.axes[index]
    constants = {c.name: c.value for c in problem.constants}
    centre = {a: torch.tensor([(lo + hi) / 2], dtype=torch.float64) for a, lo, hi in zip(box.axes, box.low, box.high)}
    centre[axis] = torch.tensor([float(box.low[index] if end == "low" else box.high[index])], dtype=torch.float64)
    tolerance = 1e-9 * max(hi - lo for lo, hi in zip(box.low, box.high))
    found = []
    for condition in problem.boundary_conditions:
        name, on_boundary, predicates = resolve_target(problem, condition.target)
        if name == domain.name and on_boundary and all(
                bool(evaluate(p, centre, constants, tolerance)) for p in predicates):
            found.append(condition)
    if len(found) != 1:
        raise ReferenceError(f"the {end} side of {axis} needs exactly one boundary condition, found {len(found)}",
                             found[1].span if found else domain.span)
    return found[0]


def written_out(problem: Problem, expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every formula input replaced by its formula, through formulas of formulas: the solvers are
    given coordinates, params and drawn or data inputs, and a formula input (``input g = b*x``) is none of them."""
    formulas = {i.function: i.formula for i in problem.inputs if i.kind == "formula" and i.formula is not None}
    for _ in range(len(formulas) + 1):  # (the checker refuses formulas that reach themselves)
        replaced = expr.xreplace(formulas)
        if replaced == expr:
            break
        expr = replaced
    return expr


def _condition(condition, u, field: str, problem: Problem) -> tuple[str, sympy.Expr]:
    """``(kind, value)`` of a boundary condition ``u = g`` or ``k*dn(u) = h``, formula inputs written out in it."""
    residual = written_out(problem, condition.lhs - condition.rhs)
    normal = [n for n in sympy.preorder_traversal(residual) if isinstance(n, nodes.NormalDerivative)]
    if normal:
        marker = sympy.Dummy("dn")
        replaced = residual.xreplace({normal[0]: marker})
        k = sympy.diff(replaced, marker)
        rest = replaced.subs(marker, 0)
        value = sympy.Dummy("u")
        rest = rest.xreplace({u: value})
        b, g = sympy.diff(rest, value), rest.subs(value, 0)
        if (normal[0].args[0] != u or k == 0 or k.has(marker) or holds(k, u) or b.has(value) or holds(b, u)
                or holds(g, u) or k.has(value)):
            raise ReferenceError(f"boundary condition '{condition.name}' is not dn({field}) = g or "
                                 f"dn({field}) + b*{field} = g (the reference solver takes those and {field} = g)",
                                 condition.span)
        if b == 0:
            return "neumann", sympy.simplify(-g / k)
        return "robin", (sympy.simplify(-g / k), sympy.simplify(b / k))
    marker = sympy.Dummy("u")
    replaced = residual.xreplace({u: marker})
    k = sympy.diff(replaced, marker)
    rest = replaced.subs(marker, 0)
    if k == 0 or k.has(marker) or holds(rest, u) or holds(k, u) or replaced.atoms(sympy.Derivative):
        raise ReferenceError(f"boundary condition '{condition.name}' is not {field} = g", condition.span)
    return "dirichlet", sympy.simplify(-rest / k)


def solve_spec(problem: Problem, spec: EllipticSpec, axes: Mapping[str, np.ndarray],
               inputs: Mapping[str, np.ndarray], params: Mapping[str, float]) -> np.ndarray:
    """The finite-difference solution on the node grid ``axes`` (the box's), inputs given on that grid."""
    grids = [np.asarray(axes[a], dtype=np.float64) for a in spec.box.axes]
    mesh = dict(zip(spec.box.axes, np.meshgrid(*grids, indexing="ij")))
    known = {c.name: c.value for c in problem.constants}
    known.update({p.name: p.value for p in problem.params if p.value is not None})
    known.update(params)
    arrays = {**mesh, **inputs}
    for item in problem.inputs:
        if item.kind == "data" and item.name not in arrays:
            from ..runtime.interpolation import input_interpolant

            module = input_interpolant(problem, item)
            arrays[item.name] = module({a: torch.as_tensor(m.ravel()) for a, m in mesh.items()}) \
                .detach().numpy().reshape(mesh[spec.box.axes[0]].shape)

    def on_grid(expr, extra=None) -> np.ndarray:
        plain = expr.xreplace({f: sympy.Symbol(f.func.__name__) for f in expr.atoms(AppliedUndef)})
        values = {name: torch.as_tensor(a) for name, a in {**arrays, **(extra or {})}.items()}
        missing = {s.name for s in plain.free_symbols} - set(values) - set(known)
        if missing:
            raise ReferenceError(f"no value for {', '.join(sorted(missing))} (a random input or param needs an "
                                 "instance)")
        return evaluate(plain, values, known).double().numpy()

    def side_value(expr, key):
        """The condition's value on the side's nodes: coordinates and inputs (a random boundary value, say) are
        the grid's arrays restricted to the side."""
        index = side_slice(len(grids), *key)
        plain = expr.xreplace({f: sympy.Symbol(f.func.__name__) for f in expr.atoms(AppliedUndef)})
        values = {name: torch.as_tensor(np.asarray(a, dtype=np.float64)[index]) for name, a in arrays.items()}
        return lambda *coordinates: evaluate(plain, values, known).double().numpy()

    sides = {}
    for key, (kind, value) in spec.sides.items():
        value, coefficient = value if kind == "robin" else (value, sympy.Integer(0))
        sides[key] = Side(kind, side_value(value, key), side_value(coefficient, key))
    A, sign = evaluated_diffusion(spec.A, on_grid, [on_grid(p) for p in spec.pieces])
    C, f = sign * on_grid(spec.C), -sign * on_grid(spec.G)
    velocity = [sign * on_grid(v) for v in spec.velocity] if any(v != 0 for v in spec.velocity) else None
    if spec.reaction is not None:
        return _solve_nonlinear(spec, grids, A, sign, velocity, sides, on_grid)
    factor = refinement_factor(grids, A, velocity)
    if factor > 1:  # a flow the grid does not resolve: solve on a finer one, inputs read linearly in between
        fine = {a: np.linspace(g[0], g[-1], (len(g) - 1) * factor + 1) for a, g in zip(spec.box.axes, grids)}
        finer = {name: refined_onto(grids, np.asarray(values, dtype=np.float64), fine.values())
                 for name, values in inputs.items()}
        solution = solve_spec(problem, spec, fine, finer, params)
        return solution[tuple(slice(None, None, factor) for _ in grids)]
    try:
        return solve_elliptic(grids, A, f, C, sides, velocity=velocity)
    except ValueError as error:
        raise ReferenceError(f"the finite-difference solve failed: {error}") from None


#: The most a transport-dominated problem's grid is refined by (per axis), and the cell Peclet number aimed at.
MAX_REFINEMENT, CELL_PECLET = 8, 2.0
#: The most nodes a refined grid may have, by dimension: the sparse LU's fill grows fast in 3-D (one solve on
#: 41^3 nodes took 10 s, on 49^3 42 s, on 61^3 6 minutes and 3.4 GB), slowly in 2-D (225^2: 0.24 s).
MAX_REFINED_NODES = {1: 10 ** 7, 2: 10 ** 6, 3: 70_000}


def refinement_factor(grids, A, velocity) -> int:
    """How many times finer than ``grids`` a problem with transport is solved: until the cell Peclet number
    ``|v| h / A`` is about :data:`CELL_PECLET` (at most :data:`MAX_REFINEMENT`, and no more than keeps the
    refined grid within :data:`MAX_REFINED_NODES`: a 3-D grid is then solved less finely than its flow asks,
    rather than for minutes a sample); 1 without transport. On the 29-node grid of the advection-diffusion
    family (eps 0.01) the data grid alone erred by 6% against an 8x finer solve, 4x finer (what this picks) by
    0.4%."""
    if velocity is None:
        return 1
    spacing = [(g[-1] - g[0]) / (len(g) - 1) for g in grids]
    diffusion = min(float(np.min(np.abs(a))) for a in A)
    peclet = max(float(np.max(np.abs(v))) * h for v, h in zip(velocity, spacing)) / max(diffusion, 1e-300)
    factor = int(min(MAX_REFINEMENT, max(1, np.ceil(peclet / CELL_PECLET))))
    while factor > 1 and np.prod([(len(g) - 1) * factor + 1 for g in grids]) > MAX_REFINED_NODES[len(grids)]:
        factor -= 1
    return factor


def refined_onto(grids, values: np.ndarray, fine) -> np.ndarray:
    """``values`` on the node grid ``grids`` read multilinearly on the finer grid ``fine``."""
    from scipy.interpolate import RegularGridInterpolator

    if values.shape != tuple(len(g) for g in grids):
        return values
    mesh = np.meshgrid(*fine, indexing="ij")
    return RegularGridInterpolator(tuple(grids), values)(np.stack(mesh, axis=-1))


def _solve_nonlinear(spec: EllipticSpec, grids, A, sign: float, velocity, sides, on_grid) -> np.ndarray:
    """A steady problem with a nonlinear reaction, by Newton's method (``elliptic.solve_nonlinear``); ``A`` and
    ``velocity`` already times ``sign``."""
    slope = sympy.diff(spec.reaction, FIELD_VALUE)

    def reaction(u):
        return sign * on_grid(spec.reaction, {FIELD_VALUE.name: u})

    def derivative(u):
        return sign * np.broadcast_to(on_grid(slope, {FIELD_VALUE.name: u}), u.shape)

    try:
        return solve_nonlinear(grids, A, reaction, derivative, sides, velocity=velocity)
    except ValueError as error:
        raise ReferenceError(f"the finite-difference solve failed: {error}") from None
