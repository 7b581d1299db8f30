"""Evaluate a SymPy expression (arithmetic or boolean) elementwise on torch tensors.

Region predicates (``x^2 + y^2 < 0.25``, ``x == 0 or y == 1``) and other
closed-form expressions arrive as SymPy trees from the IR. The tree is walked
once into nested closures of tensor operations (:func:`staged`): each SymPy
class has one small builder in :data:`BUILDERS`, found through the class's MRO
(so ``Integer`` serves ``One`` and ``Zero``, ``NumberSymbol`` serves ``pi`` and
``E``). A node with no builder raises :class:`UnsupportedExpressionError`
naming it. Nothing is
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
    """A SymPy node type with no builder in :data:`BUILDERS`."""


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


Stage = Callable[[_Env], Tensor]


def _stage(expr: sympy.Basic) -> Stage:
    """``expr`` as a function of an :class:`_Env`, built once: the tree is walked here, not at every call."""
    for cls in type(expr).__mro__:
        builder = BUILDERS.get(cls)
        if builder is not None:
            return builder(expr)
    raise UnsupportedExpressionError(
        f"cannot evaluate a SymPy {type(expr).__name__} node ({expr}) on tensors; "
        f"supported: {', '.join(sorted(c.__name__ for c in BUILDERS))}")


def _number(expr) -> Stage:
    value = float(expr)  # (SymPy's numbers are converted here, once)
    return lambda env: env.number(value)


def _symbol(expr) -> Stage:
    name = expr.name
    return lambda env: env.symbol(name)


def _unary(function: Callable[[Tensor], Tensor]):
    def build(expr) -> Stage:
        argument = _stage(expr.args[0])
        return lambda env: function(argument(env))
    return build


def _fold(combine: Callable[[Tensor, Tensor], Tensor]):
    def build(expr) -> Stage:
        parts = [_stage(a) for a in expr.args]
        return lambda env: functools.reduce(combine, [part(env) for part in parts])
    return build


def _compare(relation: Callable[[Tensor, Tensor], Tensor]):
    def build(expr) -> Stage:
        lhs, rhs = _stage(expr.lhs), _stage(expr.rhs)
        return lambda env: relation(lhs(env), rhs(env))
    return build


def _equal(expr) -> Stage:
    lhs, rhs = _stage(expr.lhs), _stage(expr.rhs)
    return lambda env: (lhs(env) - rhs(env)).abs() <= env.tolerance


def _not_equal(expr) -> Stage:
    equal = _equal(expr)
    return lambda env: ~equal(env)


def _pow(expr) -> Stage:
    base, exponent = expr.args
    power = _stage(exponent)
    if base is sympy.E:
        return lambda env: torch.exp(power(env))
    root = _stage(base)
    return lambda env: torch.pow(root(env), power(env))


def _piecewise(expr) -> Stage:
    """``Piecewise((v1, c1), (v2, c2), ...)``: the first value whose condition holds (NaN where none does), as
    SymPy writes ``sign`` once it simplifies (a threshold of a drawn input)."""
    pieces = [(_stage(value), _stage(condition)) for value, condition in expr.args]

    def run(env) -> Tensor:
        result = torch.tensor(float("nan"), dtype=env.dtype, device=env.device)
        for value, condition in reversed(pieces):
            result = torch.where(condition(env), value(env), result)
        return result
    return run


def _truth(value: bool):
    return lambda expr: (lambda env: torch.tensor(value, device=env.device))


#: One builder per SymPy node type: ``builder(expr) -> stage``, ``stage(env) -> Tensor``.
BUILDERS: dict[type, Callable[[sympy.Basic], Stage]] = {
    # leaves
    sympy.Symbol: _symbol,
    sympy.Integer: _number,
    sympy.Rational: _number,
    sympy.Float: _number,
    sympy.NumberSymbol: _number,  # pi, E
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
    sympy.sign: _unary(torch.sign),  # (a threshold of a drawn input)
    sympy.tanh: _unary(torch.tanh),
    sympy.sinh: _unary(torch.sinh),
    sympy.cosh: _unary(torch.cosh),
    sympy.atan: _unary(torch.atan),
    # relations
    sympy.Eq: _equal,
    sympy.Ne: _not_equal,
    sympy.Lt: _compare(torch.lt),
    sympy.Le: _compare(torch.le),
    sympy.Gt: _compare(torch.gt),
    sympy.Ge: _compare(torch.ge),
    # logic
    sympy.And: _fold(torch.logical_and),
    sympy.Or: _fold(torch.logical_or),
    sympy.Not: _unary(torch.logical_not),
    sympy.Piecewise: _piecewise,
    sympy.logic.boolalg.BooleanTrue: _truth(True),
    sympy.logic.boolalg.BooleanFalse: _truth(False),
}


def staged(expr: sympy.Basic, constants: Mapping[str, float] | None = None,
           tolerance: float = 0.0) -> Callable[[Mapping[str, Tensor]], Tensor]:
    """``expr`` turned once into a function of tensors, ``values -> evaluate(expr, values, ...)``.

    For expressions evaluated at every training step (hard constraints): no SymPy runs in the call, so it
    costs only its tensor operations and ``torch.compile`` traces it like any other code.
    """
    stage = _stage(expr)
    constants = {str(k): float(v) for k, v in (constants or {}).items()}

    def evaluated(values: Mapping[str, Tensor]) -> Tensor:
        values = {str(k): v for k, v in values.items()}
        tensors = list(values.values())
        floating = [v for v in tensors if v.is_floating_point()]
        dtype = floating[0].dtype if floating else torch.float64
        device = tensors[0].device if tensors else None
        result = stage(_Env(values, constants, float(tolerance), dtype, device))
        shape = torch.broadcast_shapes(*(v.shape for v in tensors)) if tensors else result.shape
        return result if result.shape == shape else result.expand(shape).clone()

    return evaluated


def evaluate(expr: sympy.Basic, values: Mapping[str, Tensor], constants: Mapping[str, float] | None = None,
             tolerance: float = 0.0) -> Tensor:
    """``expr`` evaluated elementwise: a float tensor for arithmetic, a bool tensor for a predicate.

    ``values`` maps axis names (or other variables) to tensors of one common
    (broadcastable) shape; ``constants`` maps names to numbers (SymPy symbols
    as keys work too, as in ``problem.constant_values``). The result has the
    broadcast shape of ``values`` even where ``expr`` is constant.
    """
    return staged(expr, constants, tolerance)(values)
