"""derive_weak_forms: each equation tested against a compactly supported function and integrated by parts.

For an equation with residual ``R`` (``lhs - rhs``) and a test function
``phi`` that vanishes on the boundary of a small ball inside the domain,

    integral over the ball of R * phi = 0

and every divergence-form term of ``R`` moves its outer derivative onto
``phi`` (the boundary term vanishes with ``phi``):

* ``c * div(F)``          ->  ``-c * F . grad(phi)``
* ``c * laplace(v)``      ->  ``-c * grad(v) . grad(phi)``
* ``c * d(G, x)``         ->  ``-c * G * d(phi, x)``  (``d(u, x, 2)`` is ``d(d(u, x), x)``)

where ``c`` does not depend on the space coordinates, and only for terms
holding second or higher space derivatives: moving the derivative of a
first-order term (advection, ``grad(p)``) would gain nothing. A term that
would still hold second derivatives after one move (a fourth- or
third-order term) moves two derivatives onto ``phi``, whose second
derivatives are known in closed form (the sign flips twice):

* ``c * laplace(H)``      ->  ``c * H * laplace(phi)``  when ``H`` holds derivatives (``laplace(laplace(u))``)
* ``c * d(G, x, y)``      ->  ``c * G * d(phi, x, y)``  when ``G`` still holds one (``d(u, x, 4)``)

so the network is differentiated twice, not three times: for the biharmonic
plate, order-2 jets instead of order-3 ones, about a quarter of the work. Every other term stays
a volume term ``term * phi``; one that still holds second derivatives in
space (``a(x) * laplace(u)`` with a varying ``a``, not written as
``div(a * grad(u))``) is kept strong and listed, so the reader knows why the
network is differentiated twice there. Time derivatives stay strong (weak in
space, strong in time). The pass works on the IR before operator
expansion, because only there is ``div(...)`` still visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sympy
from sympy.core.function import AppliedUndef

from ..ir import nodes
from ..ir.printing import spec_text
from ..ir.problem import Problem, TargetRef
from .expand import OperatorExpander, pointwise
from .lowered import LoweredProblem, WeakResidual

#: The test function: its name holds brackets, which no spec name can, so it never collides.
TEST_FUNCTION_NAME = "φ[j]"
#: Its letters as shown (and in LaTeX), the first one no spec name takes: beside a field φ it is ψ[j], as
#: 'φ⋅φ[j]' would read as one name twice.
TEST_FUNCTION_LETTERS = (("φ", "\\varphi"), ("ψ", "\\psi"), ("ϑ", "\\vartheta"))


@dataclass(frozen=True)
class WeakForm:
    """``mean over each test ball of [sum_a flux[a] * d(phi, a) + volume * phi] = 0``.

    ``flux`` pairs each space axis with its expanded expression (fields and
    inputs as applied functions, as after operator expansion).
    """

    name: str
    target: Optional[TargetRef]
    source: str
    flux: tuple[tuple[str, sympy.Expr], ...]
    volume: sympy.Expr
    integrated: tuple[str, ...]  # the terms moved onto the test function, in spec syntax
    kept_strong: tuple[str, ...]  # volume terms still holding second derivatives in space
    stiffness: tuple[tuple[str, sympy.Expr], ...] = ()  # per axis: see flux_stiffness
    hessian: tuple[tuple[tuple[str, str], sympy.Expr], ...] = ()  # ((a, b), G): G * d(phi, a, b), a <= b

    def integrand(self, phi: sympy.Expr, space: dict[str, sympy.Symbol], fluxes: Optional[dict] = None) -> sympy.Expr:
        """The expression whose mean over every test ball vanishes, with ``phi`` the test function
        (``G * laplace(phi)`` where the same ``G`` multiplies every pure second derivative, as for a plate);
        ``fluxes`` replaces the nonzero flux components (the mixed form's ``s[a]``)."""
        flux = self.flux if fluxes is None else tuple((a, fluxes.get(a, 0)) for a, _ in self.flux)
        second = sympy.Add(*(g * sympy.Derivative(phi, space[a], space[b]) for (a, b), g in self.hessian))
        values = {g for _, g in self.hessian}
        if len(space) > 1 and len(values) == 1 and {pair for pair, _ in self.hessian} == {(a, a) for a in space}:
            second = values.pop() * nodes.Laplace(phi)
        return (second + sympy.Add(*(f * sympy.Derivative(phi, space[a]) for a, f in flux if f != 0))
                + self.volume * phi)


def spec_names(problem: Problem) -> set[str]:
    """The names a spec declares that an expression may hold (fields, inputs, params, consts, lets)."""
    return {item.name for group in (problem.fields, problem.inputs, problem.params, problem.constants,
                                    problem.lets) for item in group}


def test_function_letter(problem: Problem) -> tuple[str, str]:
    """``(letter, LaTeX macro)`` of the test function as shown for ``problem`` (see TEST_FUNCTION_LETTERS)."""
    names = spec_names(problem)
    return next((pair for pair in TEST_FUNCTION_LETTERS if pair[0] not in names), TEST_FUNCTION_LETTERS[-1])


def test_function(problem: Problem) -> sympy.Expr:
    return sympy.Function(f"{test_function_letter(problem)[0]}[j]")(*problem.space_symbols)


def derive_weak_forms(problem: Problem, skip_failures: bool = False) -> tuple[WeakForm, ...]:
    """One weak form per equation (and per component of a vector equation).

    With ``skip_failures`` an equation whose weak form cannot be derived (a
    construct this pass does not know) is left out instead of failing, so
    that compiling the strong form never depends on it; training with
    ``--form weak`` then reports the missing equation.
    """
    expander = OperatorExpander(problem)
    forms = []
    for equation in problem.equations:
        if skip_failures:
            try:
                forms.extend(derive_weak_forms_of(problem, expander, equation))
            except Exception:  # noqa: BLE001 - see the docstring: the strong form must not depend on this
                continue
        else:
            forms.extend(derive_weak_forms_of(problem, expander, equation))
    return tuple(forms)


def derive_weak_forms_of(problem: Problem, expander, equation) -> list[WeakForm]:
    """The weak form(s) of one equation: one, or one per component of a vector equation."""
    source = f"{spec_text(equation.lhs)} = {spec_text(equation.rhs)}"
    lhs, rhs = expander.expand(equation.lhs), expander.expand(equation.rhs)
    if isinstance(lhs, tuple):  # a vector equation: componentwise, on the expanded residual
        return [_weak_form(problem, expander, f"{equation.name}[{index}]", equation.target, source, left - right)
                for index, (left, right) in enumerate(zip(lhs, rhs))]
    return [_weak_form(problem, expander, equation.name, equation.target, source, equation.lhs - equation.rhs)]


def _weak_form(problem, expander, name, target, source, residual) -> WeakForm:
    space = list(problem.space_symbols)
    axes = [s.name for s in space]
    flux = {a: sympy.Integer(0) for a in axes}
    hessian: dict[tuple[str, str], sympy.Expr] = {}
    volume, integrated, kept = [], [], []
    for coefficient, core in _terms(residual, space):
        # a coefficient free of the coordinates may still hold operators (d(k, x) of a const is 0): written out
        coefficient = expander.scalar(coefficient)
        if coefficient == 0:
            continue
        term = coefficient * core
        # only terms with second (or higher) space derivatives gain from moving one onto phi
        order = _space_order(expander.scalar(core), space)
        twice = _integrate_twice(expander, core, space) if order >= 3 and not _has_functions(coefficient) else None
        if twice is not None:
            for pair, value in twice.items():
                hessian[pair] = hessian.get(pair, sympy.Integer(0)) + coefficient * value
            integrated.append(f"{spec_text(term)} (twice)")
            continue
        moved = _integrate_by_parts(expander, core, space) if order >= 2 else None
        if moved is None or _has_functions(coefficient):
            expanded = expander.scalar(term)
            volume.append(expanded)
            if _space_order(expanded, space) >= 2:
                kept.append(spec_text(term))
            continue
        for axis, value in moved.items():
            flux[axis] = flux[axis] - coefficient * value
        integrated.append(spec_text(term))
    flux = {a: sympy.expand(pointwise(flux[a])) for a in axes}  # (laplace's flux is SymPy's diff: re/im of abs)
    hessian = {pair: sympy.expand(pointwise(value)) for pair, value in sorted(hessian.items())}
    fields = {f.name for f in problem.fields}
    return WeakForm(name=name, target=target, source=source,
                    flux=tuple((a, flux[a]) for a in axes),
                    hessian=tuple((pair, value) for pair, value in hessian.items() if value != 0),
                    volume=pointwise(sympy.Add(*volume)), integrated=tuple(integrated), kept_strong=tuple(kept),
                    stiffness=tuple((x.name, flux_stiffness(flux[x.name], x, fields)) for x in space))


def flux_stiffness(flux: sympy.Expr, axis: sympy.Symbol, fields: set[str]) -> sympy.Expr:
    """``sum over fields v of d(flux) / d(d(v, axis))``: how strongly a flux component answers its own gradient.

    For ``div(a * grad(u))`` it is ``a``, for ``laplace(u)`` 1, for ``div((1 + u^2) * grad(u))``
    ``1 + u^2``, and 0 for a flux that holds no first derivative along ``axis``. The mixed
    form weighs its flux mismatch by the inverse of this (the energy norm of the
    constitutive relation; see :mod:`pdedsl.training.weak`).
    """
    total = sympy.Integer(0)
    for derivative in flux.atoms(sympy.Derivative):
        if (isinstance(derivative.expr, AppliedUndef) and derivative.expr.func.__name__ in fields
                and tuple(derivative.variable_count) == ((axis, 1),)):
            # by a real stand-in: the flux of abs(u) holds re(d(u, x)), and SymPy's derivative of that with
            # respect to d(u, x) itself stayed unevaluated (an autograd call in the generated code)
            slope = sympy.Dummy("slope", real=True)
            total += sympy.diff(flux.xreplace({derivative: slope}), slope).xreplace({slope: derivative})
    return sympy.expand(total)


def _terms(expr, space, coefficient=sympy.Integer(1)):
    """``(c, core)`` pairs with ``expr = sum c * core`` and each ``c`` free of the space coordinates;
    constant multiples of sums are distributed (``-(a + b)`` gives ``-a`` and ``-b``)."""
    for term in sympy.Add.make_args(expr):
        constant, core = term.as_independent(*space, as_Add=False)
        if isinstance(core, sympy.Add) and not _has_functions(constant):
            yield from _terms(core, space, coefficient * constant)
        else:
            yield coefficient * constant, core


def _integrate_by_parts(expander, core, space) -> Optional[dict[str, sympy.Expr]]:
    """``{axis: G_a}`` with ``core = sum_a d(G_a, axis)``, or None when ``core`` is not in divergence form."""
    if isinstance(core, nodes.Div):
        vector = expander.expand(core.args[0])
        return {x.name: component for x, component in zip(space, vector)}
    if isinstance(core, nodes.Laplace):
        value = expander.expand(core.args[0])
        if isinstance(value, tuple):
            return None
        return {x.name: sympy.diff(value, x) for x in space}
    if isinstance(core, sympy.Derivative):
        counts = list(core.variable_count)
        for index, (variable, count) in enumerate(counts):
            if variable in space:
                rest = counts[:index] + ([(variable, count - 1)] if count > 1 else []) + counts[index + 1:]
                inner = sympy.Derivative(core.expr, *rest) if rest else core.expr
                value = expander.expand(inner)
                return None if isinstance(value, tuple) else {variable.name: value}
    return None


def _integrate_twice(expander, core, space) -> Optional[dict[tuple[str, str], sympy.Expr]]:
    """``{(a, b): G_ab}`` with ``core = sum d(G_ab, a, b)`` and each ``G_ab`` still holding a space derivative
    (so that one move alone would leave second derivatives), or None. Pairs are sorted by axis order."""
    order = {x: i for i, x in enumerate(space)}
    if isinstance(core, nodes.Div):  # div(c * grad(H)) with c free of the coordinates is c * laplace(H)
        factor, inner = core.args[0].as_independent(*space, as_Add=False)
        if not isinstance(inner, nodes.Grad) or _has_functions(factor):
            return None
        twice = _integrate_twice(expander, nodes.Laplace(inner.args[0]), space)
        return None if twice is None else {pair: factor * value for pair, value in twice.items()}
    if isinstance(core, nodes.Laplace):
        value = expander.expand(core.args[0])
        if isinstance(value, tuple) or _space_order(value, space) < 1:
            return None
        return {(x.name, x.name): value for x in space}
    if isinstance(core, sympy.Derivative):
        variables = [v for v, count in core.variable_count for _ in range(count)]
        moved = [v for v in variables if v in space][-2:]
        if len(moved) < 2:
            return None
        rest = list(variables)
        for v in moved:
            rest.remove(v)
        inner = sympy.Derivative(core.expr, *rest) if rest else core.expr
        value = expander.expand(inner)
        if isinstance(value, tuple) or _space_order(value, space) < 1:
            return None
        a, b = sorted(moved, key=order.__getitem__)
        return {(a.name, b.name): value}
    return None


def _has_functions(expr) -> bool:
    return bool(expr.atoms(AppliedUndef)) or any(isinstance(a, nodes.IRNode) for a in sympy.preorder_traversal(expr))


def _space_order(expr: sympy.Expr, space) -> int:
    """The highest total order of space derivatives of any field or input in ``expr``."""
    orders = [sum(c for v, c in d.variable_count if v in space) for d in expr.atoms(sympy.Derivative)]
    return max(orders, default=0)


def strong_residual(form: WeakForm, space: dict[str, sympy.Symbol]) -> sympy.Expr:
    """``volume - div(flux) + sum d(G_ab, a, b)``: what integrating the weak form back by parts gives (for checking)."""
    return (form.volume - sympy.Add(*(sympy.diff(f, space[a]) for a, f in form.flux))
            + sympy.Add(*(sympy.diff(g, space[a], space[b]) for (a, b), g in form.hessian)))


def apply_weak_lowering(lowered: LoweredProblem) -> LoweredProblem:
    """``lowered`` with the weak form of every equation, its values and derivatives as placeholders."""
    from .residuals import placeholders

    problem = lowered.problem
    coordinates = [c.name for c in problem.coordinates]
    inputs = {i.name for i in problem.inputs}
    weak = []
    for form in derive_weak_forms(problem, skip_failures=True):
        parts, requests = [], set()
        axes = [axis for axis, _ in form.flux]
        stiffness = dict(form.stiffness)
        for expr in ([form.volume] + [value for _, value in form.flux] + [stiffness.get(a, 0) for a in axes]
                     + [value for _, value in form.hessian]):
            replaced, used = placeholders(sympy.sympify(expr), coordinates, inputs)
            parts.append(replaced)
            requests |= used
        weak.append(WeakResidual(
            name=form.name, target=form.target, source=form.source,
            flux=tuple(zip(axes, parts[1:1 + len(axes)])),
            stiffness=tuple(zip(axes, parts[1 + len(axes):1 + 2 * len(axes)])),
            hessian=tuple(zip((pair for pair, _ in form.hessian), parts[1 + 2 * len(axes):])),
            volume=parts[0], requests=tuple(sorted(requests)),
            integrated=form.integrated, kept_strong=form.kept_strong))
    return LoweredProblem(problem, lowered.residuals, tuple(weak))
