"""Evaluate constant SymPy expressions to Python floats, safely.

SymPy's own ``evalf`` works in arbitrary precision, so ``10^10^10^10`` would
try to build an astronomically large number. Here every step is an IEEE
double: overflow, division by zero and domain errors become a
:class:`NotFinite` with a reason, which the IR builder reports at the span of
the expression.

SymPy's exact arithmetic is the other danger: lowering folds ``10^-(10^9)``
or ``(1 + 1/10^12)^(10^12)`` into an exact rational with billions of digits
although their floats are harmless. :func:`exact_digits` estimates that size
from the expression alone, so the builder can refuse it first.
"""

from __future__ import annotations

import functools
import math
from typing import Mapping

import sympy
from sympy.core.function import AppliedUndef


class NotFinite(ValueError):
    """The value is not a finite real number (the message says why)."""


_UNARY = {
    sympy.sin: math.sin,
    sympy.cos: math.cos,
    sympy.tan: math.tan,
    sympy.exp: math.exp,
    sympy.log: math.log,
    sympy.tanh: math.tanh,
    sympy.sinh: math.sinh,
    sympy.cosh: math.cosh,
    sympy.atan: math.atan,
    sympy.Abs: abs,
}


#: Exact numbers SymPy may build while lowering, in decimal digits (a float64 needs at most 17 of them).
MAX_EXACT_DIGITS = 10_000


def is_constant(expr: sympy.Basic, symbols) -> bool:
    """Can :func:`evaluate` compute ``expr``: numbers, pi, e and ``symbols`` joined by arithmetic and functions?"""
    return _is_constant(expr, frozenset(symbols))


@functools.lru_cache(maxsize=1 << 16)  # the builder asks about each growing link of a chain of lets again
def _is_constant(expr: sympy.Basic, symbols: frozenset) -> bool:
    if isinstance(expr, sympy.Symbol):
        return expr in symbols
    if isinstance(expr, sympy.Number) or expr is sympy.pi or expr is sympy.E:
        return True
    known = isinstance(expr, (sympy.Add, sympy.Mul, sympy.Pow)) or (
        isinstance(expr, sympy.Function) and expr.func in _UNARY)
    return known and all(_is_constant(a, symbols) for a in expr.args)


def exact_digits(expr: sympy.Basic) -> float:
    """About how many digits SymPy's exact folding of constant ``expr`` writes (0 for parts it keeps symbolic).

    Only rationals are folded exactly: ``p/q`` takes the digits of ``p`` and
    ``q``; a power of a rational to a rational ``n`` the digits of its base
    ``|n|`` times; anything else (a sum, a product, a float, a function) at
    most the digits of its parts.
    """
    if isinstance(expr, sympy.Rational):
        return _log10(expr.p) + _log10(expr.q)
    if isinstance(expr, sympy.Pow) and _is_rational(expr.base) and _is_rational(expr.exp):
        return exact_digits(expr.base) * abs(evaluate(expr.exp))
    return sum(exact_digits(a) for a in expr.args)


def _is_rational(expr: sympy.Basic) -> bool:
    """Is ``expr`` made of rational numbers and arithmetic only (what SymPy folds exactly)?"""
    if isinstance(expr, sympy.Rational):
        return True
    return isinstance(expr, (sympy.Add, sympy.Mul, sympy.Pow)) and all(_is_rational(a) for a in expr.args)


def _log10(n: int) -> float:
    return math.log10(abs(n)) if abs(n) > 1 else 0.0


#: Why an expression whose exact value SymPy found infinite or undefined is refused.
UNDEFINED = ("its exact value is infinite or undefined (a division by an exact zero such as sin(pi), or a function "
             "at a pole: tan(pi/2), log(0))")


def exactly_undefined(expr: sympy.Basic) -> bool:
    """Whether SymPy's exact arithmetic has folded part of ``expr`` to an infinity or NaN (``1/sin(pi)`` is
    ``zoo``, ``arctan(tan(pi/2))`` an AccumBounds), where float arithmetic would give a huge finite number."""
    if not isinstance(expr, sympy.Basic):
        return False
    return bool(expr.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan) or expr.atoms(sympy.AccumBounds))


def folded(expr: sympy.Basic) -> sympy.Basic:
    """``expr`` rebuilt bottom-up with SymPy's automatic evaluation on, as lowering and code generation will
    fold it (the IR keeps sums, products and functions unevaluated, as written). Call it on expressions whose
    exact size :func:`exact_digits` has bounded."""
    if not expr.args or isinstance(expr, AppliedUndef):
        return expr
    return expr.func(*[folded(argument) for argument in expr.args])


def folds_to_undefined(expr: sympy.Basic) -> bool:
    """Whether SymPy's exact folding of ``expr`` gives an infinity or NaN somewhere (``1/sin(pi)``,
    ``tan(pi/2)``), where float arithmetic gives a huge finite number."""
    try:
        return exactly_undefined(folded(expr))
    except (TypeError, ValueError, AttributeError, RecursionError):  # (what SymPy cannot rebuild is left alone)
        return False


def evaluate(expr: sympy.Basic, values: Mapping[sympy.Symbol, float] | None = None) -> float:
    """The float value of ``expr`` given values for its symbols; raises NotFinite or KeyError."""
    value = _eval(expr, values or {})
    if not math.isfinite(value):
        raise NotFinite("the value is not finite")
    return value


def _eval(expr, values) -> float:
    if isinstance(expr, (sympy.Integer, sympy.Float, sympy.Rational)):
        try:
            return _finite(float(int(expr)) if isinstance(expr, sympy.Integer) else float(expr))
        except OverflowError:
            raise NotFinite("the value overflows") from None
    if expr is sympy.pi:
        return math.pi
    if expr is sympy.E:
        return math.e
    if isinstance(expr, sympy.Symbol):
        return values[expr]
    if isinstance(expr, sympy.Add):
        try:
            return _finite(math.fsum(_eval(a, values) for a in expr.args))
        except OverflowError:
            raise NotFinite("the value overflows") from None
    if isinstance(expr, sympy.Mul):
        result = 1.0
        for factor in expr.args:
            result = _finite(result * _eval(factor, values))
        return result
    if isinstance(expr, sympy.Pow):
        return _power(_eval(expr.base, values), _eval(expr.exp, values))
    if isinstance(expr, sympy.Function) and expr.func in _UNARY:
        return _apply(_UNARY[expr.func], _eval(expr.args[0], values), expr.func.__name__)
    raise NotFinite(f"'{expr}' is not a constant")


def _power(base: float, exponent: float) -> float:
    if base == 0 and exponent < 0:
        raise NotFinite("division by zero")
    if base < 0 and not float(exponent).is_integer():
        raise NotFinite("a negative number to a fractional power is not real")
    try:
        return _finite(math.pow(base, exponent))
    except OverflowError:
        raise NotFinite("the value overflows") from None


def _apply(function, argument: float, name: str) -> float:
    try:
        return _finite(function(argument))
    except OverflowError:
        raise NotFinite(f"{name} overflows") from None
    except ValueError:
        raise NotFinite(f"{name} is not defined at {argument:g}") from None


def _finite(value: float) -> float:
    if math.isnan(value):
        raise NotFinite("the value is not a number")
    if math.isinf(value):
        raise NotFinite("the value overflows")
    return value


#: Nodes a let may have written out (its lets substituted): as many as a spec may have tokens.
MAX_WRITTEN_SIZE = 20_000


#: How deep a let or relation may nest with its lets substituted: generated code nests as deeply, and
#: Python's parser refuses more than 200 nested parentheses.
MAX_WRITTEN_DEPTH = 150


def written_depth(expr: sympy.Basic) -> int:
    """How many levels deep ``expr`` nests (an atom is 1); iterative, each distinct subexpression once."""
    return _bottom_up(expr, lambda below: 1 + max(below, default=0))


def written_size(expr: sympy.Basic) -> int:
    """How many nodes ``expr`` has written out as a tree: shared subexpressions count once per use.

    A chain of lets that each use the one before twice (``let a2 = a1 + a1``) is a small graph whose tree
    doubles with every let; the passes walk the tree, so the builder bounds this size. Linear in the
    graph (each distinct subexpression is sized once), and iterative (chains nest deeply).
    """
    return _bottom_up(expr, lambda below: 1 + sum(below))


def _bottom_up(expr: sympy.Basic, combine) -> int:
    """``combine`` of the arguments' results, from the leaves up, without recursion; each distinct
    subexpression is visited once."""
    results: dict = {}
    stack = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in results:
            continue
        if ready:
            results[node] = combine([results[a] for a in node.args])
        else:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in results)
    return results[expr]
