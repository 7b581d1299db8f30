"""The abstract syntax tree: frozen dataclasses, each with the span of its source text.

The AST says what was written, nothing more: names are not yet resolved and
operators are ordinary calls. The IR builder (pdedsl.ir.build) gives it
meaning. Sums, products, comparisons and boolean chains are flat (an operand
list and an operator list) so that very long expressions do not make deep trees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from ..errors import Span


@dataclass(frozen=True)
class Ident:
    text: str
    span: Span


@dataclass(frozen=True)
class StringLit:
    value: str
    span: Span


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    text: str
    span: Span


@dataclass(frozen=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True)
class Keyword:
    name: Ident
    value: "Expr"
    span: Span


@dataclass(frozen=True)
class Call:
    """``func(arg, ..., name: value, ...)``; ``args`` keeps positionals and keywords in written order."""

    func: Ident
    args: tuple[Union["Expr", Keyword], ...]
    span: Span

    @property
    def positional(self) -> tuple["Expr", ...]:
        return tuple(a for a in self.args if not isinstance(a, Keyword))

    @property
    def keywords(self) -> tuple[Keyword, ...]:
        return tuple(a for a in self.args if isinstance(a, Keyword))


@dataclass(frozen=True)
class Unary:
    op: str  # '+' or '-'
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Power:
    base: "Expr"
    exponent: "Expr"
    span: Span


@dataclass(frozen=True)
class Chain:
    """``operands[0] ops[0] operands[1] ops[1] ...`` for one precedence level.

    ``kind`` is 'sum' (+ -), 'product' (* /), 'compare' (== != < <= > >=),
    'and', 'or', or 'csg' (+ - & on geometry).
    """

    kind: str
    operands: tuple["Expr", ...]
    ops: tuple[str, ...]
    ops_spans: tuple[Span, ...]
    span: Span


@dataclass(frozen=True)
class Not:
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Vector:
    items: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class Range:
    low: "Expr"
    high: "Expr"
    span: Span


Expr = Union[Number, Name, Call, Unary, Power, Chain, Not, Vector, Range]


# ---- statements --------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a block or region applies: a named domain/region, or ``boundary(D)``."""

    name: Ident
    boundary: bool
    span: Span


@dataclass(frozen=True)
class Relation:
    lhs: Expr
    rhs: Expr
    span: Span


@dataclass(frozen=True)
class ProblemDecl:
    name: Ident
    span: Span


@dataclass(frozen=True)
class DomainDecl:
    name: Ident
    shape: Expr  # Call / Name / Chain(kind='csg')
    span: Span


@dataclass(frozen=True)
class TimeDecl:
    name: Ident
    interval: Range
    span: Span


@dataclass(frozen=True)
class RegionDecl:
    name: Ident
    base: Target
    predicate: Expr | None
    span: Span


@dataclass(frozen=True)
class FieldDecl:
    names: tuple[Ident, ...]
    span: Span


@dataclass(frozen=True)
class ConstDecl:
    name: Ident
    value: Expr
    span: Span


@dataclass(frozen=True)
class ParamDecl:
    """``param k = value`` (kind 'value') or ``param k ~ prior`` (kind 'prior')."""

    name: Ident
    kind: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class InputDecl:
    """``input a ~ prior`` ('prior'), ``input g = formula`` ('formula'), ``input k from "f.npz"`` ('data')."""

    name: Ident
    kind: str
    value: Expr | StringLit
    span: Span


@dataclass(frozen=True)
class LetDecl:
    name: Ident
    value: Expr
    span: Span


@dataclass(frozen=True)
class Block:
    """An ``equation``, ``boundary`` or ``initial`` block (``kind``) of relations."""

    kind: str
    name: Ident | None
    target: Target | None
    relations: tuple[Relation, ...]
    span: Span


@dataclass(frozen=True)
class PeriodicDecl:
    fields: tuple[Ident, ...]
    axis: Ident
    span: Span


@dataclass(frozen=True)
class ObserveDecl:
    name: Ident
    path: StringLit
    noise: Expr | None
    span: Span


@dataclass(frozen=True)
class InferDecl:
    names: tuple[Ident, ...]
    span: Span


@dataclass(frozen=True)
class ExactDecl:
    name: Ident
    value: Expr
    span: Span


@dataclass(frozen=True)
class ReferenceDecl:
    name: Ident
    path: StringLit
    span: Span


Statement = Union[
    ProblemDecl, DomainDecl, TimeDecl, RegionDecl, FieldDecl, ConstDecl, ParamDecl,
    InputDecl, LetDecl, Block, PeriodicDecl, ObserveDecl, InferDecl, ExactDecl, ReferenceDecl,
]


@dataclass(frozen=True)
class Spec:
    """A whole spec: its statements in source order."""

    statements: tuple[Statement, ...]


def walk(node):
    """Every AST node under ``node`` (itself included), without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for value in vars(current).values():
            if isinstance(value, tuple):
                stack.extend(v for v in value if hasattr(v, "__dataclass_fields__"))
            elif hasattr(value, "__dataclass_fields__") and not isinstance(value, Span):
                stack.append(value)
