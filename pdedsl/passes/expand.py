"""apply_operator_expansion: grad, div, laplace, dn, dot and d() -> partial derivatives.

Vectors are Python tuples while lowering. One handler per node type; a node
type without a handler is a bug and fails loudly. Formula inputs are
substituted (so their derivatives are exact); fields and the other inputs stay
applied functions, differentiated by SymPy's chain and product rules.
"""

from __future__ import annotations

from typing import Union

import sympy

from ..errors import InternalError
from ..ir import nodes
from ..ir.problem import Problem
from .lowered import normal_symbol

Lowered = Union[sympy.Expr, tuple]


class OperatorExpander:
    def __init__(self, problem: Problem):
        self.problem = problem
        self.space = problem.space_symbols
        self.formulas = {i.name: i for i in problem.inputs if i.kind == "formula"}
        self._expanding: set[str] = set()

    def expand(self, expr) -> Lowered:
        for cls in type(expr).__mro__:
            handler = getattr(self, f"_expand_{cls.__name__}", None)
            if handler is not None:
                return handler(expr)
        raise InternalError(f"no lowering rule for {type(expr).__name__}: {expr}")

    def scalar(self, expr) -> sympy.Expr:
        value = self.expand(expr)
        if isinstance(value, tuple):
            raise InternalError(f"expected a scalar, got a vector: {expr}")
        return value

    # ---- leaves ----
    def _expand_Atom(self, expr):
        return expr

    def _expand_AppliedUndef(self, expr):
        name = expr.func.__name__
        formula = self.formulas.get(name)
        if formula is None:
            return expr
        if name in self._expanding:
            raise InternalError(f"input formula cycle through {name}")
        self._expanding.add(name)
        try:
            return self.scalar(formula.formula)
        finally:
            self._expanding.discard(name)

    # ---- algebra ----
    def _expand_Add(self, expr):
        parts = [self.expand(a) for a in expr.args]
        if any(isinstance(p, tuple) for p in parts):
            return tuple(sympy.Add(*components) for components in zip(*parts))
        return sympy.Add(*parts)

    def _expand_Mul(self, expr):
        parts = [self.expand(a) for a in expr.args]
        vectors = [p for p in parts if isinstance(p, tuple)]
        scale = sympy.Mul(*[p for p in parts if not isinstance(p, tuple)])
        if not vectors:
            return scale
        (vector,) = vectors
        return tuple(scale * component for component in vector)

    def _expand_Pow(self, expr):
        return sympy.Pow(self.scalar(expr.base), self.scalar(expr.exp))

    def _expand_Function(self, expr):
        return expr.func(*(self.scalar(a) for a in expr.args))

    # ---- calculus ----
    def _expand_Derivative(self, expr):
        inner = self.expand(expr.expr)
        variables = [(v, c) for v, c in expr.variable_count]
        if isinstance(inner, tuple):
            return tuple(sympy.diff(component, *variables) for component in inner)
        return sympy.diff(inner, *variables)

    def _expand_VectorLiteral(self, expr):
        return tuple(self.scalar(a) for a in expr.args)

    def _expand_Grad(self, expr):
        value = self.scalar(expr.args[0])
        return tuple(sympy.diff(value, x) for x in self.space)

    def _expand_Div(self, expr):
        vector = self.expand(expr.args[0])
        return sympy.Add(*(sympy.diff(component, x) for component, x in zip(vector, self.space)))

    def _expand_Laplace(self, expr):
        value = self.expand(expr.args[0])
        if isinstance(value, tuple):
            return tuple(sympy.Add(*(sympy.diff(v, x, 2) for x in self.space)) for v in value)
        return sympy.Add(*(sympy.diff(value, x, 2) for x in self.space))

    def _expand_NormalDerivative(self, expr):
        value = self.scalar(expr.args[0])
        return sympy.Add(*(normal_symbol(x.name) * sympy.diff(value, x) for x in self.space))

    def _expand_Inner(self, expr):
        left, right = (self.expand(a) for a in expr.args)
        return sympy.Add(*(a * b for a, b in zip(left, right)))


def apply_operator_expansion(problem: Problem, expr) -> Lowered:
    """``expr`` with every differential operator expanded (a tuple for a vector)."""
    return OperatorExpander(problem).expand(expr)
