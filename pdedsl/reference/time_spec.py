"""Reference solutions of 1-D time-dependent specs by the method of lines (``time1d.solve_time_1d``).

A spec fits when its one equation, on an interval, has the weak form

    flux = D * d(u, x),   volume = c * dt(u) + P(u) * d(u, x) + Q(u, x, t)   (D, c numbers, or of random params),

that is ``u_t = (D u_xx - F(u)_x - Q) / c`` with ``F' = P``: heat
(``P = Q = 0``), Burgers (``P = u``), reaction-diffusion (``Q(u)``). The ends
are periodic (``periodic u in x``) or carry Dirichlet conditions ``u = g(t)``;
the initial condition is ``u = g(x)``. Every coefficient is evaluated by
walking the SymPy tree (no user text is evaluated). Others are refused with
the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np
import sympy
import torch
from sympy.core.function import AppliedUndef

from ..ir.geometry import Box
from ..ir.problem import Problem
from ..passes.expand import OperatorExpander
from ..runtime.interpolation import input_interpolant
from ..runtime.predicates import evaluate
from .from_spec import ReferenceError, extra_statement, condition_holding_on, condition_on, holds
from .time1d import solve_time_1d

#: Fewest space nodes the method of lines uses (Burgers' front needs about 500 at nu = 0.01/pi).
MIN_NODES = 513

U, UX = sympy.Symbol("u_value"), sympy.Symbol("u_slope")


@dataclass(frozen=True)
class TimeSpec:
    """``c u_t + P(u) u_x + Q(u, x, t) = D u_xx`` on ``box`` over ``[start, end]``."""

    field: str
    box: Box
    time: str  # the time coordinate's name
    start: float
    end: float
    D: float | sympy.Expr  # an expression of random params for a family (a number per member)
    c: float | sympy.Expr  # the same
    P: sympy.Expr  # of U
    Q: sympy.Expr  # of U, x, t
    ends: Optional[tuple[sympy.Expr, sympy.Expr]]  # Dirichlet values at the low and high end; None: periodic
    initial: sympy.Expr
    data_inputs: tuple = ()  # (name, interpolant) of each input given as data: read where the solver needs it


def time_spec(problem: Problem) -> TimeSpec:
    """Recognise a 1-D time-dependent ``problem`` the method-of-lines solver can take, or say why not."""
    from ..passes.weak import derive_weak_forms

    if problem.time is None or len(problem.axes) != 1:
        raise ReferenceError("the time-dependent reference solver handles one space axis with time",
                             problem.domains[0].span if problem.time is not None and problem.domains else None)
    if len(problem.fields) != 1 or len(problem.equations) != 1:
        raise ReferenceError("the reference solver handles one field with one equation", extra_statement(problem))
    equation = problem.equations[0]
    target = equation.target
    domain = problem.domain(target.name) if target is not None and target.kind == "domain" else None
    if domain is None or not isinstance(domain.shape, Box):
        raise ReferenceError("the reference solver needs the equation on a whole interval", equation.span)
    (form,) = derive_weak_forms(problem)
    if form.hessian:  # (moved twice onto the test function: a term of third order or higher)
        raise ReferenceError("the equation has derivatives the method-of-lines solver does not take (of third "
                             "order or higher, or mixed in space and time)", equation.span)
    field = problem.fields[0].name
    x, t = problem.space_symbols[0], problem.time.symbol
    u = sympy.Function(field)(x, t)
    constants = {c.symbol: c.value for c in problem.constants}
    constants.update({p.symbol: p.value for p in problem.params if p.value is not None})
    D = _diffusion(problem, sympy.expand(form.flux[0][1] / sympy.Derivative(u, x)), u, constants,  # sums cancel
                   equation.span)
    volume = form.volume.subs(constants)
    c = _per_member(problem, sympy.diff(volume, sympy.Derivative(u, t)), "the coefficient of dt(u)", equation.span)
    if c == 0:
        raise ReferenceError("the method-of-lines solver needs an equation first order in time (dt(u))",
                             equation.span)
    rest = volume.xreplace({sympy.Derivative(u, t): sympy.Integer(0), sympy.Derivative(u, x): UX}).xreplace({u: U})
    if rest.atoms(sympy.Derivative) or holds(rest, u):
        raise ReferenceError("the equation has terms the method-of-lines solver does not take "
                             "(higher derivatives outside divergence form)", equation.span)
    P, Q = sympy.expand(sympy.diff(rest, UX)), sympy.expand(rest.subs(UX, 0))
    if P.has(UX) or P.has(x) or P.has(t):
        raise ReferenceError("the transport term must be a function of the field times d(u, x)", equation.span)
    data_inputs = tuple((i.name, input_interpolant(problem, i)) for i in problem.inputs if i.kind == "data")
    return TimeSpec(field, domain.shape, problem.time.name, problem.time.start, problem.time.end, D, c, P, Q,
                    _ends(problem, domain, field, u, constants), _initial(problem, domain, u, constants),
                    data_inputs)


def _diffusion(problem, ratio, u, constants, span=None) -> float | sympy.Expr:
    """The number D of the flux ``D * d(u, x)`` (an expression of random params, ``k`` or ``0.1 + k``, for a
    family: each member's number), or why the flux is not of that form (at ``span``, the equation)."""
    ratio = sympy.sympify(ratio).subs(constants)
    if ratio.atoms(sympy.Derivative):
        raise ReferenceError("the equation has derivatives the method-of-lines solver does not take (of third "
                             "order or higher, or mixed in space and time)", span)
    varying = {f for f in ratio.atoms(AppliedUndef) if f != u}
    if varying:
        names = ", ".join(sorted(v.func.__name__ for v in varying))
        raise ReferenceError(f"the method-of-lines solver takes a diffusion coefficient constant in space, not "
                             f"one that varies with {names}", span)
    return _per_member(problem, ratio, "the diffusion coefficient", span)


def _per_member(problem, expr, what: str, span=None) -> float | sympy.Expr:
    """``expr`` as a number, or as an expression of random params whose number each member's draw gives
    (``k``, ``0.1 + k``); anything else it depends on is refused, naming ``what``, at ``span`` (its statement)."""
    expr = sympy.sympify(expr)
    random = {p.symbol for p in problem.params if p.is_random} & expr.free_symbols
    if random:  # a number for each member (its drawn params), found when it is solved
        if expr.free_symbols - random:
            _number(expr, {}, what, span)  # (says what else it depends on)
        return sympy.simplify(expr)
    return _number(expr, {}, what, span)


def _number(expr, constants, what: str, span=None) -> float:
    """``expr`` with ``constants`` as a float, or a ReferenceError at ``span`` naming ``what`` it should be."""
    value = sympy.simplify(sympy.sympify(expr).subs(constants))
    if not value.is_number:
        raise ReferenceError(f"{what} must be a number, got {value}", span)
    return float(value)


def _ends(problem, domain, field, u, constants):
    if any(field in p.fields for p in problem.periodic):
        return None
    values = []
    for end in ("low", "high"):
        kind, value = condition_on(problem, domain, 0, end, field, u)
        if kind != "dirichlet":
            at = domain.shape.low[0] if end == "low" else domain.shape.high[0]
            condition = condition_holding_on(problem, domain, 0, end)
            raise ReferenceError(f"the method-of-lines solver takes Dirichlet or periodic ends only, and the end "
                                 f"{domain.shape.axes[0]} = {at:g} has a {kind} condition ('{condition.name}')",
                                 condition.span)
        values.append(value.subs(constants))
    return tuple(values)


def _initial(problem, domain, u, constants) -> sympy.Expr:
    """``g(x)`` of the initial condition ``u = g``: formula inputs written out, ``t`` at the start."""
    if len(problem.initial_conditions) != 1:
        raise ReferenceError("the reference solver needs one initial condition",
                             problem.initial_conditions[1].span if problem.initial_conditions else problem.time.span)
    return _initial_value(problem, domain, u, constants, problem.initial_conditions[0], u)


def initial_pair(problem, domain, u, constants) -> tuple[sympy.Expr, sympy.Expr]:
    """``(g, h)`` of the two initial conditions ``u = g`` and ``dt(u) = h`` a problem second order in time
    needs (one each, in either order)."""
    rate = sympy.Derivative(u, problem.time.symbol)
    on_rate = [c for c in problem.initial_conditions if (c.lhs - c.rhs).has(rate)]
    on_value = [c for c in problem.initial_conditions if c not in on_rate]
    if len(on_value) != 1 or len(on_rate) != 1:
        extra = (on_value[1:] or on_rate[1:] or [None])[0]
        raise ReferenceError(f"an equation second order in time needs two initial conditions, "
                             f"{problem.fields[0].name} = g and dt({problem.fields[0].name}) = h",
                             extra.span if extra is not None else problem.time.span)
    return (_initial_value(problem, domain, u, constants, on_value[0], u),
            _initial_value(problem, domain, u, constants, on_rate[0], rate))


def _initial_value(problem, domain, u, constants, condition, of) -> sympy.Expr:
    """``g(x)`` of the initial condition ``of = g`` (``of`` the field, or its time derivative): formula inputs
    written out, ``t`` at the start."""
    if condition.target is not None and condition.target.name != domain.name:
        whole = "interval" if len(problem.axes) == 1 else "domain"
        raise ReferenceError(f"the reference solver needs the initial value on the whole {whole} '{domain.name}', "
                             f"not on {condition.target.kind} '{condition.target.name}'", condition.span)
    expander = OperatorExpander(problem)
    residual = (expander.scalar(condition.lhs) - expander.scalar(condition.rhs)).subs(constants)
    marker = sympy.Dummy("u")
    residual = residual.xreplace({of: marker}).subs(problem.time.symbol, problem.time.start)
    replaced = residual.xreplace({u.func(*problem.space_symbols, problem.time.start): marker} if of == u else {})
    k = sympy.diff(replaced, marker)
    rest = replaced.subs(marker, 0)
    if k == 0 or k.has(marker) or holds(rest, u) or rest.atoms(sympy.Derivative):
        space = ", ".join(problem.axes)
        what = problem.fields[0].name if of == u else f"dt({problem.fields[0].name})"
        raise ReferenceError(f"the initial condition must be {what} = g({space})", condition.span)
    return sympy.simplify(-rest / k)


def solve_time_spec(spec: TimeSpec, x_out: np.ndarray, t_out: np.ndarray,
                    inputs: Optional[Mapping[str, tuple[np.ndarray, np.ndarray]]] = None,
                    params: Optional[Mapping[str, float]] = None) -> np.ndarray:
    """``u[len(x_out), len(t_out)]`` on the output grid (``x_out`` uniform over the interval, ends included).

    ``inputs`` gives each input the expressions read as ``(nodes, values)`` on
    the space axis (a drawn instance), interpolated linearly in between;
    ``params`` the values of random params.
    """
    axis = spec.box.axes[0]
    x_out = np.asarray(x_out, dtype=np.float64)
    if len(x_out) < 2 or not np.allclose(x_out, np.linspace(spec.box.low[0], spec.box.high[0], len(x_out))):
        raise ReferenceError(f"the output grid must be uniform over [{spec.box.low[0]:g}, {spec.box.high[0]:g}] "
                             "with both ends")
    factor = max(1, int(np.ceil((MIN_NODES - 1) / (len(x_out) - 1))))
    x = np.linspace(spec.box.low[0], spec.box.high[0], (len(x_out) - 1) * factor + 1)

    known = {sympy.Symbol(k, real=True): float(v) for k, v in (params or {}).items()}
    data_inputs = dict(spec.data_inputs)

    prepared: dict = {}  # each expression's member values substituted once (the solver calls it per step)

    def prepare(expr):
        if expr not in prepared:
            plain = expr.subs(known) if known else expr
            applied = plain.atoms(AppliedUndef)
            prepared[expr] = (plain.xreplace({a: sympy.Symbol(a.func.__name__) for a in applied}),
                              sorted({a.func.__name__ for a in applied}))
        return prepared[expr]

    def numeric(expr, **values):
        expr, names = prepare(expr)
        for name in names:  # an input: its drawn values at the points, or its data's
            where = np.broadcast_to(values[axis], np.shape(values[axis]))
            if name in (inputs or {}):
                nodes, samples = inputs[name]
                values[name] = np.interp(where, nodes, samples)
            elif name in data_inputs:  # (data over time read at the points' times; the start's where none)
                at = np.broadcast_arrays(where, values.get(spec.time, spec.start))
                flat = {a: torch.as_tensor(np.array(v, dtype=np.float64)).reshape(-1) for a, v in zip((axis, spec.time), at)}
                values[name] = data_inputs[name](flat).double().numpy().reshape(np.shape(at[0]))
            else:
                raise ReferenceError(f"input '{name}' has no values to solve with")
        tensors = {k: torch.as_tensor(np.array(v, dtype=np.float64)) for k, v in values.items()}
        shape = np.broadcast_shapes(*(np.shape(v) for v in values.values()))
        return np.broadcast_to(evaluate(expr, tensors).double().numpy(), shape)

    time = spec.time
    flux = sympy.integrate(spec.P, U)
    if flux.has(sympy.Integral):
        raise ReferenceError(f"cannot integrate the transport speed {spec.P} to a flux")
    c, rate = _member_rates(spec, known)
    kwargs = dict(initial=lambda xs: numeric(spec.initial, **{axis: xs}), diffusion=rate,
                  flux=None if spec.P == 0 else (lambda v: numeric(flux, **{U.name: v}) / c),
                  flux_derivative=None if spec.P == 0 else (lambda v: numeric(spec.P, **{U.name: v}) / c),
                  reaction=None if spec.Q == 0 else (
                      lambda v, xs, ts: -numeric(spec.Q, **{U.name: v, axis: xs, time: ts}) / c))
    if spec.ends is None:
        kwargs["boundary"] = "periodic"
    else:
        kwargs.update(boundary="dirichlet",
                      left=_end_value(spec.ends[0], axis, spec.box.low[0], time, numeric, set(known)),
                      right=_end_value(spec.ends[1], axis, spec.box.high[0], time, numeric, set(known)))
    try:
        u = solve_time_1d(x, np.asarray(t_out, dtype=np.float64), **kwargs)
    except (ValueError, RuntimeError) as error:
        raise ReferenceError(f"the method-of-lines solve failed: {error}") from None
    return u[:, ::factor].T


def _member_value(expr: float | sympy.Expr, known: Mapping[sympy.Symbol, float], what: str) -> float:
    """``expr`` (a number, or an expression of random params) for one member: its drawn params substituted."""
    if isinstance(expr, float):
        return expr
    value = expr.subs(known)
    if not value.is_number:
        missing = ", ".join(sorted(s.name for s in value.free_symbols))
        raise ReferenceError(f"{what} {expr} needs the values of {missing}")
    return float(value)


def _member_rates(spec: TimeSpec, known: Mapping[sympy.Symbol, float]) -> tuple[float, float]:
    """``(c, D / c)`` of one member: the coefficient of dt(u) it divides by and its diffusion rate; a zero ``c``
    or a negative rate (backward diffusion: no solution to march to, a prior reaching below 0) is named with the
    member's drawn params."""
    c = _member_value(spec.c, known, "the coefficient of dt(u)")
    D = _member_value(spec.D, known, "the diffusion coefficient")

    def drawn(*exprs):
        used = set().union(*(sympy.sympify(e).free_symbols for e in exprs))
        return ", ".join(f"{s.name} = {v:g}" for s, v in known.items() if s in used)

    if c == 0:
        raise ReferenceError(f"the coefficient {spec.c} of dt(u) is 0 for a member drawn with {drawn(spec.c)}: "
                             "the equation then holds no time derivative; give the params a prior that keeps it "
                             "away from 0")
    if D / c < 0:
        written = str(spec.D) if spec.c == 1 else f"({spec.D})/({spec.c})"
        raise ReferenceError(f"the diffusion coefficient {written} is {D / c:g} for a member drawn with "
                             f"{drawn(spec.D, spec.c)}: backward diffusion has no solution; give the params "
                             "a prior that keeps it positive (uniform(lo, hi) with lo > 0)")
    return c, D / c


def _end_value(expr, axis: str, position: float, time: str, numeric, known=frozenset()):
    if not expr.free_symbols - {sympy.Symbol(axis, real=True), sympy.Symbol(time, real=True)} - known:
        return lambda ts: float(numeric(expr, **{axis: position, time: ts}))
    raise ReferenceError(f"the boundary value {expr} depends on something other than {axis} and {time}")
