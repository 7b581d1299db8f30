"""The compiler driver: one line per stage.

    .pde text --parse--> AST --build--> Problem --lower--> LoweredProblem --generate--> Python source

    parse     pdedsl.frontend   Lark LALR parser + indentation post-lexer, tree -> AST with spans
    build     pdedsl.ir.build   names, axes, ranks, priors, data files -> immutable Problem (SymPy)
    lower     pdedsl.passes     operators expanded, one residual per relation, derivative placeholders
    generate  pdedsl.codegen    SymPy torch printer + Jinja2 template -> one standalone module

Every stage raises SpecError with located diagnostics on bad input.
"""

from __future__ import annotations

from .errors import Source
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
    """Stage 3: Problem -> residuals over placeholders."""
    return run_passes(problem)


def generate(lowered: LoweredProblem, spec_name: str | None = None) -> str:
    """Stage 4: residuals -> Python module source."""
    from .codegen import generate_module  # (here: SymPy's torch printer imports torch, which check needs not)

    return generate_module(lowered, spec_name)


def compile_source(source: Source) -> str:
    """Every stage: text -> generated module source."""
    problem = check(source)
    lowered = lower(problem)
    return generate(lowered, source.name)
