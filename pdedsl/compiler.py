"""The compiler driver: one line per stage.

    .pde text --parse--> AST --build--> Problem IR (checked SymPy)

    parse   pdedsl.frontend   Lark LALR parser + indentation post-lexer, tree -> AST with spans
    build   pdedsl.ir.build   names, axes, ranks, priors, data files -> immutable Problem

Later stages (lowering passes, code generation, backends) consume the Problem.
Every stage raises SpecError with located diagnostics on bad input.
"""

from __future__ import annotations

from .errors import Source
from .frontend import ast, parse_spec
from .frontend.parser import normalise
from .ir import Problem
from .ir.build import build_problem


def read_source(text: str, name: str = "<spec>", path: str | None = None) -> Source:
    """The normalised source of a spec (line endings unified, final newline)."""
    return Source(normalise(text), name, path)


def parse(source: Source) -> ast.Spec:
    """Stage 1: text -> AST."""
    return parse_spec(source)


def check(source: Source) -> Problem:
    """Stages 1-2: text -> checked Problem IR."""
    spec = parse(source)
    return build_problem(spec, source)
