"""The compiler driver: one line per stage.

    .pde text --parse--> AST --build--> Problem --lower--> LoweredProblem --generate--> Python source

    parse     pdedsl.frontend   Lark LALR parser + indentation post-lexer, tree -> AST with spans
    build     pdedsl.ir.build   names, axes, ranks, priors, data files -> immutable Problem (SymPy)
    lower     pdedsl.passes     operators expanded, one residual per relation, derivative placeholders
    generate  pdedsl.codegen    SymPy torch printer + Jinja2 template -> one standalone module

Every stage raises SpecError with located diagnostics on bad input.
"""

from __future__ import annotations

import math

import sympy

from .errors import Diagnostic, Source, SpecError
from .frontend import ast, parse_spec
from .frontend.parser import normalise
from .ir import Problem
from .ir.build import build_problem
from .ir.numeric import UNDEFINED, exactly_undefined
from .passes import LoweredProblem
from .passes import lower as run_passes
from .passes.expand import MAX_DERIVATIVE_SIZE, DerivativesTooLarge, DerivativeTooLarge


def read_source(text: str, name: str = "<spec>", path: str | None = None) -> Source:
    """The normalised source of a spec (line endings unified, final newline)."""
    return Source(normalise(text), name, path)


def parse(source: Source) -> ast.Spec:
    """Stage 1: text -> AST."""
    return parse_spec(source)


def check(source: Source, observations_read: bool = True) -> Problem:
    """Stages 1-2: text -> checked Problem IR (see ``build_problem`` for ``observations_read``)."""
    spec = parse(source)
    return build_problem(spec, source, observations_read)


def lower(problem: Problem) -> LoweredProblem:
    """Stage 3: Problem -> residuals over placeholders. A residual with no field left once its operators are
    written out (``d(u, x, y) = d(u, y, x)``, one component of ``(u, v) = (u, v)``) can be met by nothing:
    a located error, as check gives for relations whose fields cancel as written. So is a relation whose
    derivatives grow past ``MAX_DERIVATIVE_SIZE`` nodes (``d(exp(exp(exp(exp(u)))), x, 12)``), found in
    seconds where SymPy took minutes; every such relation is reported, exact solutions too."""
    try:
        lowered = run_passes(problem)
    except DerivativesTooLarge as error:
        errors = error.errors + _expanded_exacts(problem)[1]
        raise SpecError([_too_large(problem, e) for e in errors]) from None
    fields = {f.name for f in problem.fields}
    empty = [r for r in lowered.residuals if not any(q.function in fields for q in r.requests)]
    if empty:
        source = _source_of(problem)
        raise SpecError([Diagnostic(f"the fields cancel out of {r.kind} '{r.name}' once its operators are written "
                                    "out: what is left involves none, so no solution can meet or miss it",
                                    r.span, source) for r in empty])
    _refuse_overflows(problem, lowered)
    return lowered


def _too_large(problem: Problem, error: DerivativeTooLarge) -> Diagnostic:
    """The located error for a relation whose derivatives grow past what lowering takes: SymPy's n-th
    derivative of a nested function of a field grows by a factor with every order, and so do its time and
    the generated code; a field standing for the inner function keeps each derivative small."""
    kind, name, span = error.relation
    return Diagnostic(
        f"the derivatives in {kind} '{name}' grow too large to write out: at order {error.order} one has "
        f"{error.size} terms and operators (at most {MAX_DERIVATIVE_SIZE})", span, _source_of(problem),
        hint="lower the order, or give the inner function a field of its own: for d(exp(exp(u)), x, 10), a field w "
             "with the equation w = exp(u), and d(exp(w), x, 10)")


def _expanded_exacts(problem: Problem) -> tuple[list, list[DerivativeTooLarge]]:
    """``([(exact, its value with operators written out)], [DerivativeTooLarge for each exact solution whose
    derivatives grow too large])``."""
    from .passes.expand import OperatorExpander

    expander = OperatorExpander(problem) if problem.exact else None
    values, too_large = [], []
    for exact in problem.exact:
        try:
            values.append((exact, expander.scalar(exact.expr).doit()))
        except DerivativeTooLarge as error:
            error.relation = ("exact solution", exact.name, exact.span)
            too_large.append(error)
    return values, too_large


def _refuse_overflows(problem: Problem, lowered: LoweredProblem) -> None:
    """A number that only overflows float64 once derivatives are taken (``d(exp(1e200*u), x, 2)`` holds 1e400;
    check sees 1e200) is a located error: printed, it was ``inf``, a name the generated module lacks."""
    spans = {r.name: r for r in lowered.residuals}
    found = {}
    for r in lowered.residuals:
        if _overflow(r.expr) is not None:
            found.setdefault(r.name, (r.kind, r.span, _overflow(r.expr)))
    for w in lowered.weak:
        parts = [w.volume] + [value for _, value in w.flux + w.stiffness + w.hessian]
        value = next((v for v in map(_overflow, parts) if v is not None), None)
        if value is not None and w.name in spans:
            found.setdefault(w.name, (spans[w.name].kind, spans[w.name].span, value))
    exacts, too_large = _expanded_exacts(problem)
    if too_large:
        raise SpecError([_too_large(problem, error) for error in too_large])
    for exact, expanded in exacts:
        value = _overflow(expanded)
        if value is not None:
            found.setdefault(f"exact {exact.name}", ("exact solution", exact.span, value))
    if found:
        source = _source_of(problem)
        raise SpecError([Diagnostic(f"a number in {kind} '{name}' overflows a float64 once its derivatives are "
                                    f"taken (about {value})", span, source,
                                    hint="rescale the problem so that its coefficients stay well below 1e300")
                         for name, (kind, span, value) in found.items()])
    _refuse_undefined(problem, lowered, exacts)


def _refuse_undefined(problem: Problem, lowered: LoweredProblem, exacts: list) -> None:
    """A relation or exact solution that SymPy folds to an infinity, NaN or an imaginary number once written
    out (``1/(x - x)`` is ``zoo``, ``sqrt(x - x - 1)`` is ``I``) is a located error: check passed it, and
    training met it as NaN residuals, or a relative error of nan at the end."""
    found = {}
    for r in lowered.residuals:
        found.setdefault(r.name, (r.kind, r.span, _undefined(r.expr)))
    for exact, expanded in exacts:
        found.setdefault(f"exact {exact.name}", ("exact solution", exact.span, _undefined(expanded)))
    errors = [(kind, name.removeprefix("exact "), span, why) for name, (kind, span, why) in found.items() if why]
    if errors:
        source = _source_of(problem)
        raise SpecError([Diagnostic(f"{kind} '{name}' cannot be evaluated once its operators are written out: "
                                    f"{why}", span, source) for kind, name, span, why in errors])


def _undefined(expr) -> str | None:
    """Why ``expr`` has no finite real value (see :func:`_refuse_undefined`), or None when it may have one."""
    if exactly_undefined(expr):
        return UNDEFINED
    if isinstance(expr, sympy.Basic) and expr.has(sympy.I):
        return "its value is not real (a square root, log or fractional power of a negative number)"
    return None


def _overflow(expr) -> str | None:
    """The first number in ``expr`` past float64's range, as text (None if there is none)."""
    for number in expr.atoms(sympy.Number):
        try:
            if math.isfinite(float(number)):
                continue
        except OverflowError:
            pass
        return str(sympy.Float(number, 3))
    return None


def _source_of(problem: Problem) -> Source:
    """The spec's text, for carets under a lowering error (empty where the problem was built without it)."""
    return problem.source if problem.source is not None else Source("", problem.source_name)


def generate(lowered: LoweredProblem, spec_name: str | None = None) -> str:
    """Stage 4: residuals -> Python module source."""
    from .codegen import generate_module  # (here: SymPy's torch printer imports torch, which check needs not)

    return generate_module(lowered, spec_name)


def compile_source(source: Source) -> str:
    """Every stage: text -> generated module source."""
    problem = check(source)
    lowered = lower(problem)
    return generate(lowered, source.name)
