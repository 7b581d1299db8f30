"""An indented, stable text form of the AST (``pdedsl emit --stage ast``)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

from ..errors import Span
from . import ast


def format_ast(spec: ast.Spec) -> str:
    lines: list[str] = ["Spec"]
    for statement in spec.statements:
        _node(statement, 1, "", lines)
    return "\n".join(lines) + "\n"


def _node(node, depth: int, label: str, lines: list[str]) -> None:
    indent = "  " * depth
    prefix = f"{label}: " if label else ""
    if isinstance(node, ast.Ident):
        lines.append(f"{indent}{prefix}{node.text!r} @{node.span}")
        return
    if isinstance(node, ast.StringLit):
        lines.append(f"{indent}{prefix}\"{node.value}\" @{node.span}")
        return
    if isinstance(node, ast.Number):
        lines.append(f"{indent}{prefix}Number {node.text} @{node.span}")
        return
    if isinstance(node, ast.Name):
        lines.append(f"{indent}{prefix}Name {node.id} @{node.span}")
        return
    simple, children = [], []
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Span) or f.name in ("ops_spans",):
            continue
        if is_dataclass(value) or (isinstance(value, tuple) and value and is_dataclass(value[0])):
            children.append((f.name, value))
        elif value is None or value == ():
            continue
        else:
            simple.append(f"{f.name}={value!r}" if not isinstance(value, tuple) else f"{f.name}={' '.join(value)}")
    span = getattr(node, "span", None)
    head = " ".join([type(node).__name__] + simple)
    lines.append(f"{indent}{prefix}{head}" + (f" @{span}" if span else ""))
    for name, value in children:
        if isinstance(value, tuple):
            for item in value:
                _node(item, depth + 1, name, lines)
        else:
            _node(value, depth + 1, name, lines)
