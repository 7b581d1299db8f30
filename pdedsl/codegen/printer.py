"""The SymPy -> PyTorch expression printer for generated residuals.

It extends SymPy's TorchPrinter with three things: symbols print as the
identifiers the :class:`Namer` gave them (never their SymPy names), any
sub-expression built only from numbers and consts is folded to one float
literal, because ``torch.sin`` and friends accept tensors, not Python numbers,
and integers or fractions too large for float64's exact range print as floats.
"""

from __future__ import annotations

import math

import sympy
from sympy.printing.pytorch import TorchPrinter

from ..errors import InternalError
from ..ir.numeric import NotFinite, evaluate

#: Integers up to this size are exact in float64 and print as themselves.
_EXACT = 2**53


class ResidualPrinter(TorchPrinter):
    def __init__(self, identifiers: dict, constants: dict):
        super().__init__({"fully_qualified_modules": True})
        self.identifiers = identifiers  # SymPy symbol -> Python identifier
        self.constants = constants  # const symbol -> value

    def _print(self, expr, **kwargs):
        if isinstance(expr, sympy.Expr) and not expr.is_Atom and expr.free_symbols <= set(self.constants):
            try:
                return repr(evaluate(expr, self.constants))
            except NotFinite as why:
                raise InternalError(f"constant sub-expression {expr} is not finite: {why}") from None
        return super()._print(expr, **kwargs)

    def _print_Mul(self, expr) -> str:
        """A product of several consts and other factors has its consts folded first: Python multiplies left to
        right, so ``x*c_big*c_small`` would overflow float32 tensors on ``x*c_big`` (1e39 * 1e-39 is 1)."""
        constant = [a for a in expr.args if not a.is_Number and a.free_symbols and a.free_symbols <= set(self.constants)]
        if len(constant) >= 2 and len(constant) < len(expr.args):
            try:
                value = evaluate(sympy.Mul(*constant), self.constants)
            except NotFinite as why:
                raise InternalError(f"constant factor of {expr} is not finite: {why}") from None
            others = [a for a in expr.args if not any(a is c for c in constant)]
            return super()._print_Mul(sympy.Mul(sympy.Float(value), *others))
        return super()._print_Mul(expr)

    def _print_Symbol(self, expr) -> str:
        try:
            return self.identifiers[expr]
        except KeyError:
            raise InternalError(f"no identifier for symbol {expr!r} in generated code") from None

    def _print_Float(self, expr) -> str:
        return self._float(expr)  # (SymPy's floats do not overflow: 1e200*1e200 is theirs, 'inf' no name here)

    # A Python int past 2^53 is not exact as a float anyway, and past about 1e19
    # it no longer combines with a tensor (``x - 10**300`` fails): print floats.
    def _print_Integer(self, expr) -> str:
        return super()._print_Integer(expr) if abs(expr.p) <= _EXACT else self._float(expr)

    def _print_Rational(self, expr) -> str:
        return super()._print_Rational(expr) if max(abs(expr.p), expr.q) <= _EXACT else self._float(expr)

    def _float(self, number) -> str:
        value = float(number)
        if not math.isfinite(value):
            raise InternalError(f"the number {sympy.Float(number, 3)} overflows a float64")
        return repr(value)

    # Lowering replaces every derivative by a symbol of the derivative engine's results; one left over would
    # print as torch.autograd.grad on names the function is not given (broken code at the first training step).
    def _print_Derivative(self, expr) -> str:
        raise InternalError(f"the derivative {expr} was left in a residual after lowering")

    def _print_DiracDelta(self, expr) -> str:
        raise InternalError(f"a Dirac delta {expr} reached a residual (a derivative of a step or sign)")

    def _print_Exp1(self, expr) -> str:
        return repr(float(sympy.E))

    def _print_Pi(self, expr) -> str:
        return repr(float(sympy.pi))
