"""The front end: .pde text -> parse tree (Lark) -> AST with source spans."""

from .parser import parse_spec

__all__ = ["parse_spec"]
