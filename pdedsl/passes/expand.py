"""apply_operator_expansion: grad, div, laplace, dn, dot and d() -> partial derivatives.

Vectors are Python tuples while lowering. One handler per node type; a node
type without a handler is a bug and fails loudly. Formula inputs are
substituted (so their derivatives are exact); fields and the other inputs stay
applied functions, differentiated by SymPy's chain and product rules.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Union

import sympy
from sympy.core.function import AppliedUndef

from ..errors import InternalError
from ..ir.numeric import MAX_WRITTEN_SIZE, written_size
from ..ir.problem import Problem
from .lowered import normal_symbol

Lowered = Union[sympy.Expr, tuple]

#: How many nodes (``written_size``) one derivative may have after any order. SymPy's time per order grows
#: with the size, so a spec past it fails in seconds (half of ``MAX_WRITTEN_SIZE``: at the full size
#: ``check`` took 7.6 s to refuse ``d(exp(exp(exp(exp(u)))), x, 12)``, at half 3.5 s, on a busy 2-core
#: machine; before the check, minutes). The bundled specs' largest derivative has 18 nodes.
MAX_DERIVATIVE_SIZE = MAX_WRITTEN_SIZE // 2

#: Up to this many nodes, a derivative of order 2 or more is taken again in one call to SymPy (its form is a
#: little smaller, and is the form every generated module had before derivatives were taken order by order);
#: past it, the order-by-order result is kept, as taking it again costs as much once more.
ONE_CALL_SIZE = 2_000


class DerivativeTooLarge(Exception):
    """A derivative grew past ``MAX_DERIVATIVE_SIZE`` nodes (``d(exp(exp(exp(exp(u)))), x, 12)``): SymPy would take
    minutes on it and the generated code would be as large. Lowering reports it against the relation."""

    def __init__(self, order: int, size: int):
        super().__init__(f"derivative of order {order} has {size} nodes")
        self.order, self.size = order, size
        self.relation = None  # (kind, name, span), set by the pass that knows which relation it lowered


class DerivativesTooLarge(Exception):
    """Every relation whose derivatives grew too large (each a DerivativeTooLarge with its relation): lowering
    reports them all, as check reports every error it finds."""

    def __init__(self, errors: list[DerivativeTooLarge]):
        super().__init__(f"{len(errors)} relation(s) with derivatives too large")
        self.errors = errors


@lru_cache(maxsize=512)
def _diff_once(expr: sympy.Expr, variable: sympy.Symbol) -> sympy.Expr:
    """One first derivative, remembered: the strong and weak passes differentiate the same terms, and an
    order-n derivative passes through every lower order."""
    return sympy.diff(expr, variable)


@lru_cache(maxsize=512)
def _diff_at_once(expr: sympy.Expr, variables: tuple) -> sympy.Expr:
    """SymPy's derivative in one call (its general Leibniz rule for products), remembered likewise."""
    return sympy.diff(expr, *variables)


def _is_field_value(expr) -> bool:
    """A value or partial derivative of a field or input: real, though SymPy's undefined functions are not."""
    return isinstance(expr, AppliedUndef) or (isinstance(expr, sympy.Derivative) and isinstance(expr.expr, AppliedUndef))


def pointwise(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` as a pointwise value of real fields.

    SymPy takes undefined functions as complex, so ``abs(u)`` differentiates to ``(re(u)*re(d(u, x)) +
    im(u)*im(d(u, x)))/abs(u)``: here ``re`` of a field's value or derivative is itself and ``im`` is 0 (the
    derivative becomes ``sign(u)*d(u, x)``, and the next one no ``1/u`` that is 0/0 where u = 0). The
    derivatives of ``sign`` are dropped too: SymPy leaves ``d(sign(u), x)`` unevaluated for a field (it reached
    the generated code as an autograd call on a coordinate the function was not given) and writes
    ``DiracDelta(x - c)`` for an expression of the coordinates (which no printer knows). Both vanish away from
    the zeros of their argument, where every sampled point lies (torch gives ``sign`` the same zero
    gradient); the weak form, the one place a delta would count, integrates such a term by parts first.
    """
    if not expr.has(sympy.re, sympy.im, sympy.sign, sympy.DiracDelta):
        return expr
    gone = {}
    for part in expr.atoms(sympy.re, sympy.im):
        if _is_field_value(part.args[0]):
            gone[part] = part.args[0] if isinstance(part, sympy.re) else sympy.Integer(0)
    gone.update({d: sympy.Integer(0) for d in expr.atoms(sympy.Derivative) if d.expr.has(sympy.sign)})
    gone.update({d: sympy.Integer(0) for d in expr.atoms(sympy.DiracDelta)})
    return expr.xreplace(gone) if gone else expr


def differentiate(expr: sympy.Expr, *variables) -> sympy.Expr:
    """``sympy.diff(expr, *variables)`` (each a symbol or a ``(symbol, count)`` pair), refusing with
    ``DerivativeTooLarge`` as soon as one order's result has more than ``MAX_DERIVATIVE_SIZE`` nodes.

    SymPy's n-th derivative of a nested function of a field (``exp(exp(u))``) grows by a factor at every
    order, and so does its time: checked order by order, such a spec fails in seconds instead of running
    for minutes. A result that stays small is taken again in one call, for the form it always had.
    """
    steps = [(v, 1) if isinstance(v, sympy.Symbol) else (v[0], int(v[1])) for v in variables]
    value, order, size = expr, 0, 0
    for variable, count in steps:
        for _ in range(count):
            value = pointwise(_diff_once(value, variable))
            order += 1
            size = written_size(value)
            if size > MAX_DERIVATIVE_SIZE:
                raise DerivativeTooLarge(order, size)
    if order == 0:
        return sympy.diff(expr, *variables)
    if order == 1 or size > ONE_CALL_SIZE or value.has(sympy.sign):
        return value  # (of abs: SymPy's one call divides by the field, 0/0 where it vanishes)
    return pointwise(_diff_at_once(expr, tuple(steps)))


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
            return tuple(differentiate(component, *variables) for component in inner)
        return differentiate(inner, *variables)

    def _expand_VectorLiteral(self, expr):
        return tuple(self.scalar(a) for a in expr.args)

    def _expand_Grad(self, expr):
        value = self.scalar(expr.args[0])
        return tuple(differentiate(value, x) for x in self.space)

    def _expand_Div(self, expr):
        vector = self.expand(expr.args[0])
        return sympy.Add(*(differentiate(component, x) for component, x in zip(vector, self.space)))

    def _expand_Laplace(self, expr):
        value = self.expand(expr.args[0])
        if isinstance(value, tuple):
            return tuple(sympy.Add(*(differentiate(v, (x, 2)) for x in self.space)) for v in value)
        return sympy.Add(*(differentiate(value, (x, 2)) for x in self.space))

    def _expand_NormalDerivative(self, expr):
        value = self.scalar(expr.args[0])
        return sympy.Add(*(normal_symbol(x.name) * differentiate(value, x) for x in self.space))

    def _expand_Inner(self, expr):
        left, right = (self.expand(a) for a in expr.args)
        return sympy.Add(*(a * b for a, b in zip(left, right)))


def apply_operator_expansion(problem: Problem, expr) -> Lowered:
    """``expr`` with every differential operator expanded (a tuple for a vector)."""
    return OperatorExpander(problem).expand(expr)
