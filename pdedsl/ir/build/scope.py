"""The table of user-declared names: one namespace, order-independent, no duplicates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import DiagnosticSink, Span
from ...frontend import ast
from ..builtins import RESERVED, reserved_kind
from .context import KIND_NOUN


@dataclass(frozen=True)
class Declaration:
    kind: str
    name: str
    span: Span  # of the name where it is declared
    node: Any  # the declaring AST statement


class Scope:
    """Declared names. Declarations may come in any order: a spec is read whole."""

    def __init__(self, sink: DiagnosticSink):
        self.sink = sink
        self.declarations: dict[str, Declaration] = {}
        self.refused: dict[str, str] = {}  # name -> kind, for declarations reported and refused

    def declare(self, kind: str, ident: ast.Ident, node: Any) -> bool:
        """Add a name; report (and refuse) reserved words and duplicates."""
        name = ident.text
        what = reserved_kind(name)
        if name in RESERVED:
            self.sink.error(f"'{name}' is {what} and cannot be used as a name", ident.span,
                            hint=f"choose another name for this {KIND_NOUN[kind].split()[-1]}")
            self.refused.setdefault(name, kind)
            return False
        previous = self.declarations.get(name)
        if previous is not None:
            self.sink.error(
                f"'{name}' is already defined as {KIND_NOUN[previous.kind]} on line {previous.span.line}",
                ident.span,
            )
            self.refused.setdefault(name, kind)
            return False
        self.declarations[name] = Declaration(kind, name, ident.span, node)
        return True

    def get(self, name: str) -> Declaration | None:
        return self.declarations.get(name)

    def kind_of(self, name: str) -> str | None:
        declaration = self.declarations.get(name)
        return declaration.kind if declaration else None

    def names(self, *kinds: str) -> list[str]:
        return [d.name for d in self.declarations.values() if not kinds or d.kind in kinds]

    def of_kind(self, kind: str) -> list[Declaration]:
        return [d for d in self.declarations.values() if d.kind == kind]
