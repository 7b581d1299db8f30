"""What an expression may contain where it is written, and what building it yields."""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy

# Kinds of user-declared names.
AXIS, TIME, CONST, PARAM, INPUT, FIELD, LET, DOMAIN, REGION = (
    "axis", "time", "const", "param", "input", "field", "let", "domain", "region",
)

#: Article + noun for messages ("a field", "an input").
KIND_NOUN = {
    AXIS: "an axis", TIME: "the time axis", CONST: "a const", PARAM: "a param", INPUT: "an input",
    FIELD: "a field", LET: "a let", DOMAIN: "a domain", REGION: "a region",
}


@dataclass(frozen=True)
class Context:
    """The rules for one place expressions are written (a const value, an equation, ...).

    ``purpose`` completes "cannot appear in ..."; ``names`` are the kinds of
    declared names allowed; ``axes`` the space axes in scope.
    """

    purpose: str
    names: frozenset
    axes: tuple[str, ...] = ()
    differential: bool = False  # d, dt, grad, div, laplace
    normal: bool = False  # dn (only on a boundary)
    random: bool = False  # random primitives (only in priors)
    predicate: bool = False  # the result is a boolean condition
    evaluated: bool = False  # the whole value becomes a float at once (and is checked then)


@dataclass(frozen=True)
class Typed:
    """A built expression with what the checks need to know about it.

    ``expr`` is None when building failed (an error was already reported):
    parents then fail silently, so one mistake gives one message.
    """

    expr: sympy.Basic | None
    shape: tuple[int, ...] = ()  # () scalar, (n,) vector
    boolean: bool = False
    random: frozenset = frozenset()  # {'field', 'scalar'}: random primitives inside
    fields: frozenset = frozenset()  # names of the fields it involves

    @property
    def bad(self) -> bool:
        return self.expr is None

    @property
    def is_vector(self) -> bool:
        return bool(self.shape)


BAD = Typed(None)


def merged(parts, expr, shape=(), boolean=False, random=frozenset()) -> Typed:
    """A Typed whose random/field facts are the union of ``parts``'."""
    rnd = frozenset(random).union(*(p.random for p in parts))
    flds = frozenset().union(*(p.fields for p in parts))
    return Typed(expr, shape, boolean, rnd, flds)


def describe_shape(typed: Typed) -> str:
    if typed.boolean:
        return "a condition"
    if typed.shape:
        return f"a vector of length {typed.shape[0]}"
    return "a scalar"


def shortened(text: str) -> str:
    """``text`` cut to its first 20 characters when longer than 24: a numeral or an excerpt in a message
    (a number of thousands of digits would otherwise fill the terminal)."""
    return text if len(text) <= 24 else text[:20] + "..."


def ctx_with(ctx: Context, **changes) -> Context:
    return replace(ctx, **changes)
