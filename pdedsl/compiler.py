"""The compiler driver: one line per stage.

    .pde text --parse--> AST --build--> Problem --lower--> LoweredProblem --generate--> Python source

    parse     pdedsl.frontend   Lark LALR parser + indentation post-lexer, tree -> AST with spans
    build     pdedsl.ir.build   names, axes, ranks, priors, data files -> immutable Problem (SymPy)
    lower     pdedsl.passes     operators expanded, one residual per relation, derivative placeholders
    generate  pdedsl.codegen    SymPy torch printer + Jinja2 template -> one standalone module

Every stage raises SpecError with located diagnostics on bad input.
"""

from __future__ import annotations

from .errors import Diagnostic, Source, SpecError
from .frontend import ast, parse_spec
from .frontend.parser import normalise
from .ir import Problem
from .ir.build import build_problem
from .passes import LoweredProblem
from .passes import lower as run_passes


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
    a located error, as check gives for relations whose fields cancel as written."""
    lowered = run_passes(problem)
    fields = {f.name for f in problem.fields}
    empty = [r for r in lowered.residuals if not any(q.function in fields for q in r.requests)]
    if empty:
        source = _source_of(problem)
        raise SpecError([Diagnostic(f"the fields cancel out of {r.kind} '{r.name}' once its operators are written "
                                    "out: what is left involves none, so no solution can meet or miss it",
                                    r.span, source) for r in empty])
    return lowered


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
