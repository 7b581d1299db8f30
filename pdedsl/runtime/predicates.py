"""Evaluate a SymPy expression (arithmetic or boolean) elementwise on torch tensors.

Region predicates (``x^2 + y^2 < 0.25``, ``x == 0 or y == 1``) and other
closed-form expressions arrive as SymPy trees from the IR. They are evaluated
by walking the tree node by node: each SymPy class has one small handler in
:data:`HANDLERS`, found through the class's MRO (so ``Integer`` serves
``One`` and ``Zero``, ``NumberSymbol`` serves ``pi`` and ``E``). A node with
no handler raises :class:`UnsupportedExpressionError` naming it. Nothing is
ever turned into source text and run: no ``eval``, ``sympify`` or ``lambdify``.

``Eq(a, b)`` holds where ``|a - b| <= tolerance`` (coordinates are real
numbers, so ``x == 0`` on a sampled boundary means "within tolerance");
``Ne`` is its negation; the order relations are exact.
"""

from __future__ import annotations

import functools
import operator
from typing import Callable, Mapping

import sympy
import torch

from ..errors import PdeError

Tensor = torch.Tensor


class EvaluationError(PdeError):
    """An expression that cannot be evaluated with the values given (e.g. an unknown name)."""


class UnsupportedExpressionError(EvaluationError, TypeError):
    """A SymPy node type with no handler in :data:`HANDLERS`."""


class _Env:
    """What handlers need: variable and constant values, the ``==`` tolerance, dtype and device."""

    def __init__(self, values, constants, tolerance, dtype, device):
        self.values, self.constants, self.tolerance = values, constants, tolerance
        self.dtype, self.device = dtype, device

    def number(self, value) -> Tensor:
        return torch.tensor(float(value), dtype=self.dtype, device=self.device)

    def symbol(self, name: str) -> Tensor:
        if name in self.values:
            return self.values[name]
        if name in self.constants:
            return self.number(self.constants[name])
        known = ", ".join(sorted(set(self.values) | set(self.constants))) or "none"
        raise EvaluationError(f"no value for '{name}' (known names: {known})")


def _walk(expr: sympy.Basic, env: _Env) -> Tensor:
    for cls in type(expr).__mro__:
        handler = HANDLERS.get(cls)
        if handler is not None:
            return handler(expr, env)
    raise UnsupportedExpressionError(
        f"cannot evaluate a SymPy {type(expr).__name__} node ({expr}) on tensors; "
        f"supported: {', '.join(sorted(c.__name__ for c in HANDLERS))}")


def _args(expr, env) -> list[Tensor]:
    return [_walk(a, env) for a in expr.args]


def _unary(function: Callable[[Tensor], Tensor]):
    return lambda expr, env: function(_walk(expr.args[0], env))


def _fold(combine: Callable[[Tensor, Tensor], Tensor]):
    return lambda expr, env: functools.reduce(combine, _args(expr, env))


def _compare(relation: Callable[[Tensor, Tensor], Tensor]):
    return lambda expr, env: relation(_walk(expr.lhs, env), _walk(expr.rhs, env))


def _equal(expr, env) -> Tensor:
    return (_walk(expr.lhs, env) - _walk(expr.rhs, env)).abs() <= env.tolerance


def _pow(expr, env) -> Tensor:
    base, exponent = expr.args
    if base is sympy.E:
        return torch.exp(_walk(exponent, env))
    return torch.pow(_walk(base, env), _walk(exponent, env))


#: One handler per SymPy node type: ``handler(expr, env) -> Tensor``.
HANDLERS: dict[type, Callable[[sympy.Basic, _Env], Tensor]] = {
    # leaves
    sympy.Symbol: lambda expr, env: env.symbol(expr.name),
    sympy.Integer: lambda expr, env: env.number(int(expr)),
    sympy.Rational: lambda expr, env: env.number(float(expr)),
    sympy.Float: lambda expr, env: env.number(float(expr)),
    sympy.NumberSymbol: lambda expr, env: env.number(float(expr)),  # pi, E
    # arithmetic
    sympy.Add: _fold(operator.add),
    sympy.Mul: _fold(operator.mul),
    sympy.Pow: _pow,
    # elementary functions of the language
    sympy.sin: _unary(torch.sin),
    sympy.cos: _unary(torch.cos),
    sympy.tan: _unary(torch.tan),
    sympy.exp: _unary(torch.exp),
    sympy.log: _unary(torch.log),
    sympy.Abs: _unary(torch.abs),
    sympy.tanh: _unary(torch.tanh),
    sympy.sinh: _unary(torch.sinh),
    sympy.cosh: _unary(torch.cosh),
    sympy.atan: _unary(torch.atan),
    # relations
    sympy.Eq: _equal,
    sympy.Ne: lambda expr, env: ~_equal(expr, env),
    sympy.Lt: _compare(torch.lt),
    sympy.Le: _compare(torch.le),
    sympy.Gt: _compare(torch.gt),
    sympy.Ge: _compare(torch.ge),
    # logic
    sympy.And: _fold(torch.logical_and),
    sympy.Or: _fold(torch.logical_or),
    sympy.Not: _unary(torch.logical_not),
    sympy.logic.boolalg.BooleanTrue: lambda expr, env: torch.tensor(True, device=env.device),
    sympy.logic.boolalg.BooleanFalse: lambda expr, env: torch.tensor(False, device=env.device),
}


def evaluate(expr: sympy.Basic, values: Mapping[str, Tensor], constants: Mapping[str, float] | None = None,
             tolerance: float = 0.0) -> Tensor:
    """``expr`` evaluated elementwise: a float tensor for arithmetic, a bool tensor for a predicate.

    ``values`` maps axis names (or other variables) to tensors of one common
    (broadcastable) shape; ``constants`` maps names to numbers (SymPy symbols
    as keys work too, as in ``problem.constant_values``). The result has the
    broadcast shape of ``values`` even where ``expr`` is constant.
    """
    values = {str(k): v for k, v in values.items()}
    constants = {str(k): float(v) for k, v in (constants or {}).items()}
    tensors = list(values.values())
    floating = [v for v in tensors if v.is_floating_point()]
    dtype = floating[0].dtype if floating else torch.float64
    device = tensors[0].device if tensors else None
    result = _walk(expr, _Env(values, constants, float(tolerance), dtype, device))
    shape = torch.broadcast_shapes(*(v.shape for v in tensors)) if tensors else result.shape
    return result if result.shape == shape else result.expand(shape).clone()
