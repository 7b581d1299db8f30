"""Passes over the IR, kept as data: each has a name, says what it accepts, and applies.

    Problem --apply_residual_assembly--> LoweredProblem
             (operator expansion, residuals, derivative placeholders)
            --apply_weak_lowering--> LoweredProblem with the equations' weak forms
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .lowered import DerivativeRequest, LoweredProblem, Residual, normal_symbol
from .residuals import apply_residual_assembly
from .weak import apply_weak_lowering


@dataclass(frozen=True)
class Pass:
    name: str
    accepts: type
    apply: Callable[[Any], Any]


PASSES = (
    Pass("residual_assembly", object, apply_residual_assembly),
    Pass("weak_forms", LoweredProblem, apply_weak_lowering),
)


def lower(problem) -> LoweredProblem:
    """Run every pass in order."""
    result = problem
    for step in PASSES:
        result = step.apply(result)
    return result


__all__ = ["PASSES", "Pass", "lower", "LoweredProblem", "Residual", "DerivativeRequest", "normal_symbol"]
