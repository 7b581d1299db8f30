"""Reference solutions of time-dependent specs on boxes in 1-3 D, by the method of lines.

A spec fits when its one equation, on one box, has the weak form

    flux_k = A_k d(u, x_k)   (one A_k per axis, free of u and t),
    volume = c dt(u) + v . grad(u) + C u + G   (c a number or of random params; v, C free of u and t;
                                                 G any of x, t, inputs),

that is ``c u_t - div(A grad u) + v . grad(u) + C u + G = 0`` (heat in 2-D
and 3-D, with sources, absorption, a conductivity that varies in space, and
transport by a velocity of coordinates and params; a volume term nonlinear in
u, Allen-Cahn's or Fisher's, enters the right-hand side and its slope the
Jacobian), every side of
the box carries one condition ``u = g``, ``dn(u) = h`` or ``dn(u) + b u = h``
(``g``, ``h`` may vary with t; ``b`` may not), and the initial condition is
``u = u0(x)`` on the whole box (a wave equation, with ``c2 d(u, t, 2)``, also
needs ``dt(u) = v0(x)`` and is integrated as the system ``u_t = w`` by Radau,
which is stable on the imaginary axis where BDF is not). Space is discretised by the steady solver's
finite volumes (``elliptic.Discretisation``, second order, on the output
grid's nodes), and the stiff linear system ``c du/dt = f(t) - M u`` is
integrated by ``solve_ivp``'s BDF method with its constant sparse Jacobian.
1-D specs the nonlinear method-of-lines solver (``time_spec.py``) refuses for
their Neumann or Robin ends come here too. Anything else is refused with the
reason; no user text is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np
import scipy.sparse as sp
import sympy
import torch
from scipy.integrate import solve_ivp
from sympy.core.function import AppliedUndef

from ..ir.geometry import Box
from ..ir.problem import Problem
from ..runtime.predicates import evaluate
from .elliptic import Discretisation, Side, side_slice
from .from_spec import (FIELD_VALUE, ReferenceError, condition_holding_on, diffusion_coefficients, evaluated_diffusion,
                        extra_statement, holds, refined_onto, refinement_factor, sides_of, transport_of)
from .time_spec import _initial, _member_value, _per_member, initial_pair


#: The most a time-dependent problem with transport is refined in space (per axis): on 29 x 29 nodes with eps 0.01
#: the data grid erred by 2.8% against an 8x finer solve, 2x finer by 0.8% at 3x the cost (4x: 0.17%, 40x).
TIME_REFINEMENT = 2


@dataclass(frozen=True)
class TimeBoxSpec:
    """``c u_t - div(A grad u) + C u + G = 0`` on ``box`` over ``[start, end]`` with one condition per side."""

    field: str
    box: Box
    time: str
    start: float
    end: float
    A: tuple  # one coefficient per axis
    C: sympy.Expr
    G: sympy.Expr
    c: float | sympy.Expr
    sides: Mapping
    initial: sympy.Expr
    velocity: tuple = ()  # v of a transport term v . grad(u), one per axis (zeros: none)
    reaction: Optional[sympy.Expr] = None  # C u + G written out, of FIELD_VALUE (and x, t), where nonlinear in u
    c2: float | sympy.Expr = 0.0  # the coefficient of d(u, t, 2) (a wave equation; then dt(u) = start_rate too)
    start_rate: Optional[sympy.Expr] = None


def time_box_spec(problem: Problem) -> TimeBoxSpec:
    """Recognise a linear time-dependent ``problem`` on a box, or raise ReferenceError saying why not."""
    from ..passes.weak import derive_weak_forms

    if problem.time is None:
        raise ReferenceError("the time-dependent box solver needs a problem with time")
    if len(problem.fields) != 1 or len(problem.equations) != 1:
        raise ReferenceError("the reference solver handles one field with one equation", extra_statement(problem))
    if problem.periodic:
        raise ReferenceError("the time-dependent box solver handles Dirichlet, Neumann and Robin sides, not "
                             "periodic conditions", problem.periodic[0].span)
    equation = problem.equations[0]
    target = equation.target
    domain = problem.domain(target.name) if target is not None and target.kind == "domain" else None
    if domain is None or not isinstance(domain.shape, Box):
        raise ReferenceError("the reference solver needs the equation on a whole box or interval domain",
                             equation.span)
    (form,) = derive_weak_forms(problem)
    if form.hessian:
        raise ReferenceError("the equation has derivatives the reference solver does not take (of third order or "
                             "higher, or mixed in space and time)", equation.span)
    field, time = problem.fields[0].name, problem.time.symbol
    u = sympy.Function(field)(*problem.space_symbols, time)
    A = diffusion_coefficients(form, u, problem.space_symbols, field, equation.span)
    if any(a.has(time) for a in A):
        raise ReferenceError("the time-dependent box solver takes a diffusion coefficient constant in time",
                             equation.span)
    rate, acceleration = sympy.Derivative(u, time), sympy.Derivative(u, (time, 2))
    c2 = (_per_member(problem, sympy.diff(form.volume, acceleration), "the coefficient of d(u, t, 2)",
                       equation.span)
          if form.volume.has(acceleration) else 0.0)
    volume = form.volume.xreplace({acceleration: sympy.Integer(0)})
    c = _per_member(problem, sympy.diff(volume, rate), "the coefficient of dt(u)", equation.span)
    if c == 0 and c2 == 0:
        raise ReferenceError("the time-dependent box solver needs an equation first or second order in time "
                             "(dt(u) or d(u, t, 2))", equation.span)
    velocity, rest = transport_of(problem, volume.xreplace({rate: sympy.Integer(0)}), u,
                                  problem.space_symbols, equation.span)
    if any(v.has(time) for v in velocity):
        raise ReferenceError("the time-dependent box solver takes a transport velocity constant in time",
                             equation.span)
    volume = rest.xreplace({u: FIELD_VALUE})
    C, G = sympy.diff(volume, FIELD_VALUE), volume.subs(FIELD_VALUE, 0)
    if holds(C, u) or holds(G, u):
        raise ReferenceError("the equation reads the field in a way the reference solver does not take",
                             equation.span)
    reaction = None
    if C.has(FIELD_VALUE):  # a nonlinear reaction (Allen-Cahn, Fisher-KPP): in the right-hand side and Jacobian
        reaction, C, G = volume, sympy.Integer(0), sympy.Integer(0)
    if C.has(time):
        raise ReferenceError("the time-dependent box solver takes a coefficient of u constant in time", equation.span)
    sides = sides_of(problem, domain, field, u)
    for key, (kind, value) in sides.items():
        if kind == "robin" and value[1].has(time):
            raise ReferenceError("the time-dependent box solver takes a Robin coefficient constant in time",
                                 condition_holding_on(problem, domain, *key).span)
    constants = {s.symbol: s.value for s in problem.constants}
    constants.update({p.symbol: p.value for p in problem.params if p.value is not None})
    if c2 == 0:
        start, start_rate = _initial(problem, domain, u, constants), None
    else:
        start, start_rate = initial_pair(problem, domain, u, constants)
    return TimeBoxSpec(field, domain.shape, problem.time.name, float(problem.time.start), float(problem.time.end),
                       A, sympy.simplify(C), G, c, sides, start, velocity, reaction, c2, start_rate)


def solve_time_box(problem: Problem, spec: TimeBoxSpec, axes: Mapping[str, np.ndarray], t_out: np.ndarray,
                   inputs: Mapping[str, np.ndarray], params: Mapping[str, float]) -> np.ndarray:
    """``u[len(x), (len(y), ...), len(t_out)]`` on the node grid ``axes`` (the box's, ends included) at the
    times ``t_out`` (the first is the start); random inputs given on that grid, random params by value."""
    grids = [np.asarray(axes[a], dtype=np.float64) for a in spec.box.axes]
    mesh = dict(zip(spec.box.axes, np.meshgrid(*grids, indexing="ij")))
    known = {c.name: c.value for c in problem.constants}
    known.update({p.name: p.value for p in problem.params if p.value is not None})
    known.update(params)
    data = {i.name: i for i in problem.inputs if i.kind == "data" and i.name not in inputs}

    def at(expr, where: Mapping[str, np.ndarray], t: float, index=...) -> np.ndarray:
        """``expr`` at the nodes ``where`` (the grid's, or a side's) at time ``t``."""
        plain = expr.xreplace({f: sympy.Symbol(f.func.__name__) for f in expr.atoms(AppliedUndef)})
        values = {name: torch.as_tensor(np.asarray(v, dtype=np.float64)) for name, v in where.items()}
        values[spec.time] = torch.full(np.shape(next(iter(where.values()))), float(t), dtype=torch.float64)
        for name in {s.name for s in plain.free_symbols}:
            if name in inputs:
                values[name] = torch.as_tensor(np.asarray(inputs[name], dtype=np.float64)[index])
            elif name in data:
                from ..runtime.interpolation import input_interpolant

                columns = {a: v.reshape(-1) for a, v in values.items() if a in (*spec.box.axes, spec.time)}
                values[name] = input_interpolant(problem, data[name])(columns).double().reshape(values[spec.time].shape)
        missing = {s.name for s in plain.free_symbols} - set(values) - set(known)
        if missing:
            raise ReferenceError(f"no value for {', '.join(sorted(missing))} (a random input or param needs an "
                                 "instance)")
        return np.broadcast_to(evaluate(plain, values, known).double().numpy(), np.shape(values[spec.time]))

    members = {sympy.Symbol(k, real=True): float(v) for k, v in params.items()}
    c = _member_value(spec.c, members, "the coefficient of dt(u)")
    A, sign = evaluated_diffusion(spec.A, lambda a: at(a, mesh, spec.start))  # (-1: written dt(u) = laplace(u))
    C = sign * at(spec.C, mesh, spec.start)
    velocity = [sign * at(v, mesh, spec.start) for v in spec.velocity] if any(v != 0 for v in spec.velocity) else None
    factor = min(TIME_REFINEMENT, refinement_factor(grids, A, velocity))
    if factor > 1:  # a flow the grid does not resolve: a finer grid in space, inputs read linearly in between
        fine = {a: np.linspace(g[0], g[-1], (len(g) - 1) * factor + 1) for a, g in zip(spec.box.axes, grids)}
        finer = {name: refined_onto(grids, np.asarray(values, dtype=np.float64), fine.values())
                 for name, values in inputs.items()}
        solution = solve_time_box(problem, spec, fine, t_out, finer, params)
        return solution[tuple(slice(None, None, factor) for _ in grids)]
    c2 = _member_value(spec.c2, members, "the coefficient of d(u, t, 2)")
    if c2 * sign < 0 or (c2 == 0 and c * sign <= 0):
        which, value = ("dt(u)", spec.c) if c2 == 0 else ("d(u, t, 2)", spec.c2)
        raise ReferenceError(f"the coefficient {value} of {which} is {c if c2 == 0 else c2:g} against a diffusion "
                             "of the other sign: an ill-posed (backward) problem with no solution to march to")

    kinds, side_at = {}, {}
    for key, (kind, value) in spec.sides.items():
        index = side_slice(len(grids), *key)
        where = {a: m[index] for a, m in mesh.items()}
        value, coefficient = value if kind == "robin" else (value, sympy.Integer(0))
        side_at[key] = lambda t, v=value, w=where, i=index: at(v, w, t, i)
        kinds[key] = Side(kind, 0.0, at(coefficient, where, spec.start, index) if kind == "robin" else 0.0)
    try:
        grid = Discretisation(grids, A, C, kinds, steady=False, velocity=velocity)
    except ValueError as error:
        raise ReferenceError(f"the finite-volume set-up failed: {error}") from None
    free = ~grid.fixed
    M_ff, M_fd = grid.matrix[free][:, free].tocsc(), grid.matrix[free][:, ~free]
    steady_source = not spec.G.has(sympy.Symbol(spec.time, real=True)) and not _reads_time(spec.G, data, problem)
    source_cache = {}

    def boundary(t: float):
        return grid.boundary_terms({key: value(t) for key, value in side_at.items()})

    def source(t: float) -> np.ndarray:
        if steady_source and "f" in source_cache:
            return source_cache["f"]
        f = -sign * at(spec.G, mesh, t).ravel()
        source_cache["f"] = f
        return f

    def reaction(t: float, v: np.ndarray, expr) -> np.ndarray:
        """``sign * expr`` (the reaction or its slope) at the free nodes, the field ``v`` there."""
        whole = boundary(t)[1]
        whole[free] = v
        where = {**mesh, FIELD_VALUE.name: whole.reshape(grid.shape)}
        return sign * np.broadcast_to(at(expr, where, t), grid.shape).ravel()[free]

    def pull(t: float, v: np.ndarray) -> np.ndarray:
        """``f - M u - R(u)`` at the free nodes (times ``sign``): what drives the field at time ``t``."""
        forcing, fixed_values = boundary(t)
        change = (source(t) + forcing)[free] - M_fd @ fixed_values[grid.fixed] - M_ff @ v
        if spec.reaction is not None:
            change -= reaction(t, v, spec.reaction)
        return change

    def stiffness(t: float, v: np.ndarray):
        """The derivative of ``M u + R(u)`` at ``v``."""
        if spec.reaction is None:
            return M_ff
        return M_ff + sp.diags(reaction(t, v, sympy.diff(spec.reaction, FIELD_VALUE)))

    u0 = at(spec.initial, mesh, spec.start).ravel()
    t_out = np.asarray(t_out, dtype=np.float64)
    n = int(free.sum())
    if c2 == 0:  # c u_t = f - M u - R(u): stiff, BDF with the exact Jacobian
        state0, method = u0[free], "BDF"

        def rhs(t, v):
            return pull(t, v) / (c * sign)

        def jacobian(t, v):
            return -stiffness(t, v) / (c * sign)
    else:  # c2 w_t + c w = f - M u - R(u), u_t = w: waves, by Radau (A-stable on the imaginary axis; BDF is not)
        state0, method = np.concatenate([u0[free], at(spec.start_rate, mesh, spec.start).ravel()[free]]), "Radau"

        def rhs(t, y):
            return np.concatenate([y[n:], (pull(t, y[:n]) - c * sign * y[n:]) / (c2 * sign)])

        def jacobian(t, y):
            return sp.bmat([[None, sp.identity(n)],
                            [-stiffness(t, y[:n]) / (c2 * sign), -(c / c2) * sp.identity(n)]], format="csc")
    if t_out[-1] > t_out[0]:
        result = solve_ivp(rhs, (t_out[0], t_out[-1]), state0, method=method, t_eval=t_out,
                           jac=jacobian, rtol=1e-7, atol=1e-10)
        if not result.success:
            raise ReferenceError(f"the method-of-lines solve failed: {result.message}")
        interior = result.y[:n]
    else:
        interior = np.tile(u0[free][:, None], (1, len(t_out)))
    u = np.empty((u0.size, len(t_out)))
    u[free] = interior
    for j, t in enumerate(t_out):
        u[grid.fixed, j] = boundary(float(t))[1][grid.fixed]
    return u.reshape(*grid.shape, len(t_out))


def _reads_time(expr, data: Mapping, problem: Problem) -> bool:
    """Whether ``expr`` reads an input given as data over time."""
    names = {f.func.__name__ for f in expr.atoms(AppliedUndef)} | {s.name for s in expr.free_symbols}
    return any(name in data and problem.time is not None and problem.time.name in getattr(data[name], "axes", ())
               for name in names)
