"""A stable text form of the AST (``pdedsl emit --stage ast``).

Statements print as an indented tree with their positions; expressions print
on one line with every grouping explicit, so precedence can be read off:
``-x^2`` is ``(-(x ^ 2))``, ``a - b*c`` is ``(a - (b * c))``, a vector
literal is ``<a, b>`` and a range ``[a, b]``.
"""

from __future__ import annotations

from dataclasses import fields

from ..errors import Span
from . import ast

_EXPRESSIONS = (ast.Number, ast.Name, ast.Call, ast.Unary, ast.Power, ast.Chain, ast.Not, ast.Vector, ast.Range)


def format_expr(node) -> str:
    """One line, fully parenthesised."""
    if isinstance(node, ast.Number):
        return node.text
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Keyword):
        return f"{node.name.text}: {format_expr(node.value)}"
    if isinstance(node, ast.Call):
        return f"{node.func.text}({', '.join(format_expr(a) for a in node.args)})"
    if isinstance(node, ast.Unary):
        return f"({node.op}{format_expr(node.operand)})"
    if isinstance(node, ast.Power):
        return f"({format_expr(node.base)} ^ {format_expr(node.exponent)})"
    if isinstance(node, ast.Chain):
        parts = [format_expr(node.operands[0])]
        for op, operand in zip(node.ops, node.operands[1:]):
            parts += [op, format_expr(operand)]
        return "(" + " ".join(parts) + ")"
    if isinstance(node, ast.Not):
        return f"(not {format_expr(node.operand)})"
    if isinstance(node, ast.Vector):
        return "<" + ", ".join(format_expr(i) for i in node.items) + ">"
    if isinstance(node, ast.Range):
        return f"[{format_expr(node.low)}, {format_expr(node.high)}]"
    raise TypeError(f"not an expression: {type(node).__name__}")


def format_ast(spec: ast.Spec) -> str:
    lines = ["Spec"]
    for statement in spec.statements:
        _statement(statement, 1, lines)
    return "\n".join(lines) + "\n"


def _statement(node, depth: int, lines: list[str]) -> None:
    indent = "  " * depth
    parts, children = [type(node).__name__], []
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Span) or value is None or value == ():
            continue
        if isinstance(value, _EXPRESSIONS):
            parts.append(f"{f.name}={format_expr(value)}")
        elif isinstance(value, ast.Ident):
            parts.append(f"{f.name}={value.text}")
        elif isinstance(value, ast.StringLit):
            parts.append(f'{f.name}="{value.value}"')
        elif isinstance(value, ast.Target):
            parts.append(f"{f.name}=" + (f"boundary({value.name.text})" if value.boundary else value.name.text))
        elif isinstance(value, tuple) and isinstance(value[0], ast.Ident):
            parts.append(f"{f.name}=" + ",".join(i.text for i in value))
        elif isinstance(value, tuple):
            children.extend(value)
        else:
            parts.append(f"{f.name}={value}")
    lines.append(f"{indent}{' '.join(parts)} @{node.span}")
    for child in children:
        if isinstance(child, ast.Relation):
            lines.append(f"{indent}  {format_expr(child.lhs)} = {format_expr(child.rhs)} @{child.span}")
        else:
            _statement(child, depth + 1, lines)
