"""The names the language defines: functions, operators, priors, shapes, constants, keywords."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..frontend.parser import STATEMENT_KEYWORDS
from . import nodes

#: Elementary functions of one scalar argument.
FUNCTIONS = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "tanh": sympy.tanh,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "arctan": sympy.atan,
}

#: Differential and vector operators (their rules live in ir/build/calls.py).
OPERATORS = ("d", "dt", "grad", "div", "laplace", "dn", "dot")

#: Built-in constants.
CONSTANTS = {"pi": sympy.pi, "e": sympy.E}

#: Geometry constructors, allowed only in 'domain' statements.
SHAPES = ("interval", "box", "disk", "ball", "polygon")

REQUIRED = object()


@dataclass(frozen=True)
class Signature:
    """Parameter names in order and their defaults (REQUIRED if none).

    ``aliases`` maps other accepted keyword spellings to a parameter's name
    (the language floor writes ``uniform(lo, hi)``, the reference ``low``, ``high``).
    """

    names: tuple[str, ...]
    defaults: tuple[object, ...]
    aliases: dict[str, str] = field(default_factory=dict)

    def parameter(self, keyword: str) -> str | None:
        """The parameter a keyword argument names (through an alias), or None if none."""
        name = self.aliases.get(keyword, keyword)
        return name if name in self.names else None

    def describe(self) -> str:
        parts = [n if d is REQUIRED else f"{n}: {d}" for n, d in zip(self.names, self.defaults)]
        return ", ".join(parts)


#: Random primitives of priors: node class and signature.
PRIORS = {
    "gaussian_field": (nodes.GaussianField, Signature(("length", "smoothness", "variance", "mean"), (REQUIRED, 1.5, 1.0, 0.0))),
    "threshold": (nodes.Threshold, Signature(("field", "below", "above", "at"), (REQUIRED, REQUIRED, REQUIRED, 0.0))),
    "uniform": (nodes.UniformPrior, Signature(("low", "high"), (REQUIRED, REQUIRED), {"lo": "low", "hi": "high"})),
    "normal": (nodes.NormalPrior, Signature(("mean", "std"), (REQUIRED, REQUIRED))),
}

#: Words of the grammar.
KEYWORDS = tuple(STATEMENT_KEYWORDS) + ("where", "in", "on", "from", "noise", "and", "or", "not")

#: Every name a user may not define.
RESERVED = frozenset(KEYWORDS) | FUNCTIONS.keys() | set(OPERATORS) | CONSTANTS.keys() | set(SHAPES) | PRIORS.keys()

#: Everything that can be called, for did-you-mean hints.
CALLABLES = tuple(FUNCTIONS) + OPERATORS + tuple(PRIORS) + SHAPES


def reserved_kind(name: str) -> str | None:
    """What a reserved name is, for messages ('a keyword', 'a built-in function', ...)."""
    if name in KEYWORDS:
        return "a keyword"
    if name in FUNCTIONS:
        return "a built-in function"
    if name in OPERATORS:
        return "a built-in operator"
    if name in CONSTANTS:
        return "a built-in constant"
    if name in SHAPES:
        return "a geometry shape"
    if name in PRIORS:
        return "a prior family"
    return None
