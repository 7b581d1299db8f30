"""The checked problem: immutable, hashable data with SymPy for the mathematics.

A :class:`Problem` is only ever built by ``pdedsl.ir.build`` from a valid AST,
so every name in it resolves and every expression is well-ranked. Spans are
kept (out of equality) so later stages can still point at the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import sympy

from ..errors import Diagnostic, Source, Span, located
from .geometry import Shape


def _span() -> Optional[Span]:
    return field(default=None, compare=False, repr=False)


#: ``==`` in region predicates holds within this fraction of the largest bounding-box side (the language's
#: "within tolerance" for coordinates).
RELATIVE_EQUALITY_TOLERANCE = 1e-6

@dataclass(frozen=True)
class TimeAxis:
    name: str
    start: float
    end: float
    span: Optional[Span] = _span()

    @property
    def symbol(self) -> sympy.Symbol:
        return sympy.Symbol(self.name, real=True)


@dataclass(frozen=True)
class Domain:
    name: str
    shape: Shape
    span: Optional[Span] = _span()

    @property
    def axes(self) -> tuple[str, ...]:
        return self.shape.axes


@dataclass(frozen=True)
class TargetRef:
    """Where something applies: kind 'domain' (interior), 'boundary' (of a domain) or 'region'."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"boundary({self.name})" if self.kind == "boundary" else self.name


@dataclass(frozen=True)
class Region:
    """``base where predicate``: part of a domain's interior or boundary."""

    name: str
    base: TargetRef
    domain: str  # the domain it lies in
    on_boundary: bool
    predicate: Optional[sympy.Basic]  # a SymPy boolean over the domain's axes, or None
    span: Optional[Span] = _span()


@dataclass(frozen=True)
class Field:
    """An unknown scalar function of space (and time)."""

    name: str
    function: sympy.Expr  # the applied function, e.g. u(x, y, t)
    span: Optional[Span] = _span()


@dataclass(frozen=True)
class Constant:
    name: str
    expr: sympy.Expr
    value: float
    span: Optional[Span] = _span()

    @property
    def symbol(self) -> sympy.Symbol:
        return sympy.Symbol(self.name, real=True)


@dataclass(frozen=True)
class Param:
    """A scalar: fixed (``value``) or random (``prior``); ``infer`` may make it unknown."""

    name: str
    value: Optional[float]
    prior: Optional[sympy.Expr]
    span: Optional[Span] = _span()

    @property
    def symbol(self) -> sympy.Symbol:
        return sympy.Symbol(self.name, real=True)

    @property
    def is_random(self) -> bool:
        return self.prior is not None


@dataclass(frozen=True)
class DataFile:
    """A .npz file named in the spec: as written, and resolved against the spec's folder."""

    written: str
    path: str
    span: Optional[Span] = _span()


@dataclass(frozen=True)
class Input:
    """A known or random coefficient field: kind 'prior', 'formula' or 'data'."""

    name: str
    function: sympy.Expr  # the applied function, e.g. a(x, y)
    kind: str
    prior: Optional[sympy.Expr] = None
    formula: Optional[sympy.Expr] = None
    data: Optional[DataFile] = None
    span: Optional[Span] = _span()

    @property
    def axes(self) -> tuple[str, ...]:
        """The coordinates it is a function of: space, and time for a formula reading time or data over time."""
        return tuple(str(a) for a in self.function.args)


@dataclass(frozen=True)
class Let:
    name: str
    expr: sympy.Expr
    span: Optional[Span] = _span()


@dataclass(frozen=True)
class Condition:
    """One relation ``lhs = rhs``: an equation, boundary condition or initial condition.

    ``kind`` is 'equation', 'boundary' or 'initial'; ``target`` is where it
    holds (None for an initial condition over the whole domain); ``rank`` is
    0 for a scalar relation, 1 for a vector relation (one per component).
    """

    kind: str
    name: str
    target: Optional[TargetRef]
    lhs: sympy.Expr
    rhs: sympy.Expr
    rank: int = 0
    span: Optional[Span] = _span()

    @property
    def residual(self) -> sympy.Expr:
        """``lhs - rhs``, unevaluated."""
        return sympy.Add(self.lhs, sympy.Mul(-1, self.rhs, evaluate=False), evaluate=False)


@dataclass(frozen=True)
class Periodic:
    fields: tuple[str, ...]
    axis: str
    span: Optional[Span] = _span()


@dataclass(frozen=True)
class Observation:
    name: str
    data: DataFile
    noise: Optional[float]
    span: Optional[Span] = _span()


@dataclass(frozen=True)
class Exact:
    name: str
    expr: sympy.Expr
    span: Optional[Span] = _span()


@dataclass(frozen=True)
class Reference:
    name: str
    data: DataFile
    span: Optional[Span] = _span()


@dataclass(frozen=True)
class Problem:
    """A checked PDE problem. Collections keep source order; look-ups are by name."""

    name: str
    axes: tuple[str, ...]  # space axes of the domains the physics is posed on
    time: Optional[TimeAxis]
    domains: tuple[Domain, ...]
    regions: tuple[Region, ...]
    fields: tuple[Field, ...]
    constants: tuple[Constant, ...]
    params: tuple[Param, ...]
    inputs: tuple[Input, ...]
    lets: tuple[Let, ...]
    equations: tuple[Condition, ...]
    boundary_conditions: tuple[Condition, ...]
    initial_conditions: tuple[Condition, ...]
    periodic: tuple[Periodic, ...]
    observations: tuple[Observation, ...]
    inferred: tuple[str, ...]
    exact: tuple[Exact, ...]
    references: tuple[Reference, ...]
    source_name: str = field(default="<spec>", compare=False)
    source: Optional[Source] = field(default=None, compare=False, repr=False)  # its text, for located messages
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False, repr=False)
    infer_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)  # where each of ``inferred`` is named

    # ---- look-ups ----
    def domain(self, name: str) -> Domain:
        return _by_name(self.domains, name)

    def region(self, name: str) -> Region:
        return _by_name(self.regions, name)

    def resolve(self, target: TargetRef) -> tuple[str, bool, list[sympy.Basic]]:
        """``(domain, on its boundary?, predicates)`` of a target; a refined region collects every parent's
        predicate. A ValueError for a region that refines itself or a target of another kind."""
        predicates: list[sympy.Basic] = []
        seen = set()
        while target.kind == "region":
            if target.name in seen:
                raise ValueError(f"region '{target.name}' refines itself")
            seen.add(target.name)
            region = self.region(target.name)
            if region.predicate is not None:
                predicates.append(region.predicate)
            target = region.base
        if target.kind not in ("domain", "boundary"):
            raise ValueError(f"unknown target kind '{target.kind}' (expected 'domain', 'boundary' or 'region')")
        return target.name, target.kind == "boundary", predicates

    def field(self, name: str) -> Field:
        return _by_name(self.fields, name)

    def constant(self, name: str) -> Constant:
        return _by_name(self.constants, name)

    def param(self, name: str) -> Param:
        return _by_name(self.params, name)

    def input(self, name: str) -> Input:
        return _by_name(self.inputs, name)

    def infer_span(self, name: str) -> Optional[Span]:
        """Where ``infer`` names ``name`` (None for a problem built without sources)."""
        spans = dict(zip(self.inferred, self.infer_spans))
        return spans.get(name)

    def locate(self, span: Optional[Span], message: str) -> str:
        """``message`` placed at ``span`` of the spec (``file:line:col``, the line and carets): for errors that
        only running the problem finds."""
        return located(self.source_name, span, message, self.source)

    # ---- derived facts ----
    @property
    def space_symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(sympy.Symbol(a, real=True) for a in self.axes)

    @property
    def coordinates(self) -> tuple[sympy.Symbol, ...]:
        """Space symbols, then time if the problem is time-dependent."""
        return self.space_symbols + ((self.time.symbol,) if self.time else ())

    @property
    def is_time_dependent(self) -> bool:
        return self.time is not None

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """Boundary then initial conditions."""
        return self.boundary_conditions + self.initial_conditions

    @property
    def constant_values(self) -> dict[sympy.Symbol, float]:
        return {c.symbol: c.value for c in self.constants}

    def solver(self, backend: str = "pinn", **backend_options):
        """A :class:`pdedsl.solver.Solver` for this problem: ``.fit(...)`` then ``.predict(points)``."""
        from ..solver import Solver

        return Solver(self, backend, **backend_options)


def _by_name(items, name: str):
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {name!r} here; the names are: {', '.join(item.name for item in items) or 'none'}")
