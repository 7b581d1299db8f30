"""The lowered problem: one scalar residual per equation, condition and component.

After lowering, expressions are ordinary SymPy over *placeholders*: one
symbol per value or partial derivative of a field or input that some residual
needs (``d(u, x, 2)``), one per outward-normal component (``n[x]``), plus
coordinates, consts and params. Placeholder names contain characters no user
name can (brackets, spaces), so they never collide with the spec's names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import sympy

from ..errors import Span
from ..ir.problem import Problem, TargetRef


@dataclass(frozen=True, order=True)
class DerivativeRequest:
    """A value (``orders == ()``) or partial derivative of one field or input.

    ``orders`` pairs axis names with counts in the problem's coordinate order,
    so each mixed partial has one spelling.
    """

    function: str
    orders: tuple[tuple[str, int], ...] = ()
    of_input: bool = False

    @property
    def order(self) -> int:
        return sum(count for _, count in self.orders)

    @property
    def display(self) -> str:
        if not self.orders:
            return self.function
        parts = [axis if count == 1 else f"{axis}, {count}" for axis, count in self.orders]
        return f"d({self.function}, {', '.join(parts)})"

    @property
    def symbol(self) -> sympy.Symbol:
        """The placeholder for this value in lowered expressions."""
        return sympy.Symbol(self.display if self.orders else f"{self.function}[value]", real=True)


def normal_symbol(axis: str) -> sympy.Symbol:
    """The placeholder for the outward normal's component along ``axis``."""
    return sympy.Symbol(f"n[{axis}]", real=True)


@dataclass(frozen=True)
class Residual:
    """``expr`` should vanish on ``target``; ``name`` is the condition's name (with ``[i]`` for components)."""

    name: str
    kind: str  # 'equation', 'boundary' or 'initial'
    target: Optional[TargetRef]
    expr: sympy.Expr
    source: str  # the relation in spec syntax, for comments and listings
    requests: tuple[DerivativeRequest, ...]  # the values and derivatives it uses
    needs_normal: bool = False
    span: Optional[Span] = field(default=None, compare=False)


@dataclass(frozen=True)
class WeakResidual:
    """An equation's weak form over placeholders: the mean over each test ball of
    ``volume * phi + sum_a flux[a] * d(phi, a) + sum_(a,b) hessian[(a, b)] * d(phi, a, b)`` vanishes
    (see :mod:`pdedsl.passes.weak`)."""

    name: str
    target: Optional[TargetRef]
    source: str
    flux: tuple[tuple[str, sympy.Expr], ...]  # (space axis, expression), every space axis in order
    volume: sympy.Expr
    requests: tuple[DerivativeRequest, ...]
    integrated: tuple[str, ...] = ()
    kept_strong: tuple[str, ...] = ()
    stiffness: tuple[tuple[str, sympy.Expr], ...] = ()  # per axis: d(flux)/d(gradient), for the mixed form
    hessian: tuple[tuple[tuple[str, str], sympy.Expr], ...] = ()  # ((a, b), G): terms moved twice, a <= b


@dataclass(frozen=True)
class LoweredProblem:
    problem: Problem
    residuals: tuple[Residual, ...]
    weak: tuple[WeakResidual, ...] = ()

    @property
    def requests(self) -> tuple[DerivativeRequest, ...]:
        """Every value and derivative any residual (strong or weak) needs, each once."""
        return tuple(sorted({r for residual in self.residuals + self.weak for r in residual.requests}))

    def residual(self, name: str) -> Residual:
        for residual in self.residuals:
            if residual.name == name:
                return residual
        raise KeyError(name)
