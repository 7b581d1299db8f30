"""Semantic analysis: AST -> checked Problem IR."""

from .builder import build_problem

__all__ = ["build_problem"]
