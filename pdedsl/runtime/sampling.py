"""Points for a problem's targets: domains, boundaries, regions, space-time, initial time, periodic pairs.

A :class:`Batch` holds the points (columns in ``problem.axes`` order), the
outward unit normals where the target is a boundary, and optionally a time
column. Regions are sampled by rejection: candidates come from the region's
base (a domain's interior or boundary), and a candidate is kept when it
satisfies the region's predicate and those of every region it refines.
``==`` in a predicate holds within ``1e-6`` of the domain's largest
bounding-box side, so ``boundary(Omega) where x == 0`` picks out the left edge.

A region whose predicates pin every axis (``x == 0 and y == 0``, the corner of
a cavity) is a single point: no random point can hit it, so it is returned
directly (repeated ``n`` times, with the normal estimated from the signed
distance: the bisector at a corner). Other regions of zero measure are put on
their equations: inside a domain (``x == 0.5``, ``x^2 + y^2 == 0.25``) by
pinning axes and Newton steps; on a boundary, when points drawn on the boundary
never meet the predicate (an edge of a box, ``boundary(B) where y == 0 and z ==
0``; the equator of a ball), by Newton steps onto both the equations and the
shape's surface (its signed distance); a union of such pieces (``z == 0 or z ==
0.5`` on a ball) piece by piece, each with its share (a union of faces is
drawn whole, by their sizes). A region that still yields no point raises
:class:`SamplingError`.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Callable, Optional, Union

import sympy
from sympy.core.function import AppliedUndef
import torch

from ..ir.geometry import Box
from ..ir.problem import RELATIVE_EQUALITY_TOLERANCE, Periodic, Problem, TargetRef
from .base import EMPTY_AFTER, F64, SamplingError, device_of, rejection, uniform
from .geometry import ShapeSampler, sampler
from .predicates import evaluate

Tensor = torch.Tensor

@dataclass(frozen=True, eq=False)
class Batch:
    """Sampled points: ``points[n, d]`` in ``axes`` order, ``normals[n, d]`` on boundaries, ``time[n]`` if any."""

    points: Tensor
    normals: Optional[Tensor] = None
    time: Optional[Tensor] = None
    axes: tuple[str, ...] = ()
    time_axis: Optional[str] = None

    def __len__(self) -> int:
        return self.points.shape[0]

    def with_time(self, time: Union[Tensor, float], name: str = "t") -> "Batch":
        """The same points at times ``time`` (a number, or a ``Tensor[n]``)."""
        t = torch.as_tensor(time, dtype=self.points.dtype, device=self.points.device)
        return dataclasses.replace(self, time=t.expand(len(self)).clone(), time_axis=name)

    def subset(self, index: Tensor) -> "Batch":
        """The points at ``index`` (with their normals and times)."""
        return dataclasses.replace(self, points=self.points[index],
                                   normals=None if self.normals is None else self.normals[index],
                                   time=None if self.time is None else self.time[index])

    def to_state(self) -> dict:
        """Plain tensors and strings (for checkpoints that load with ``weights_only=True``)."""
        return {"points": self.points, "normals": self.normals, "time": self.time,
                "axes": list(self.axes), "time_axis": self.time_axis}

    @classmethod
    def from_state(cls, state: dict) -> "Batch":
        return cls(points=state["points"], normals=state["normals"], time=state["time"],
                   axes=tuple(state["axes"]), time_axis=state["time_axis"])

    @property
    def coordinates(self) -> Tensor:
        """``Tensor[n, d]``, or ``[n, d + 1]`` with time as the last column (``problem.coordinates`` order)."""
        return self.points if self.time is None else torch.cat([self.points, self.time[:, None]], dim=1)

    def columns(self) -> dict[str, Tensor]:
        """Each coordinate by name (the form :func:`pdedsl.runtime.predicates.evaluate` takes)."""
        named = {a: self.points[:, i] for i, a in enumerate(self.axes)}
        if self.time is not None:
            named[self.time_axis or "t"] = self.time
        return named


# ---- look-ups ----
def _space_axes(problem: Problem, shape) -> tuple[str, ...]:
    """``problem.axes`` when the shape uses those axes (in any order), else the shape's own."""
    return tuple(problem.axes) if sorted(problem.axes) == sorted(shape.axes) else tuple(shape.axes)


def target_sampler(problem: Problem, domain_name: str) -> ShapeSampler:
    """The sampler of a domain, with columns in the problem's axis order (cached: samplers are immutable); a
    shape that cannot be sampled is reported at the domain's declaration."""
    shape = problem.domain(domain_name).shape
    try:
        return _cached_sampler(shape, _space_axes(problem, shape))
    except SamplingError as error:
        raise _at_domain(problem, domain_name, error) from None


@functools.lru_cache(maxsize=64)
def _cached_sampler(shape, axes: tuple[str, ...]) -> ShapeSampler:
    return sampler(shape, axes)


def resolve_target(problem: Problem, target: TargetRef) -> tuple[str, bool, list[sympy.Basic]]:
    """``(domain, on boundary?, predicates)`` of a target (:meth:`Problem.resolve`), as a SamplingError."""
    try:
        return problem.resolve(target)
    except ValueError as error:
        raise SamplingError(str(error)) from None


def _default_domain(problem: Problem) -> str:
    """The domain the equations are posed on (the first equation's), else the first domain."""
    for equation in problem.equations:
        if equation.target is not None:
            return resolve_target(problem, equation.target)[0]
    if not problem.domains:
        raise SamplingError(f"problem '{problem.name}' has no domain")
    return problem.domains[0].name


def field_targets(problem: Problem, field: str) -> list[TargetRef]:
    """Where ``field`` lives: the targets of the equations that involve it (those of every equation where none
    does), a region left out where its whole domain is among them; else the first domain."""
    involving, every = [], []
    for equation in problem.equations:
        if equation.target is None:
            continue
        every.append(equation.target)
        if field in {f.func.__name__ for f in equation.residual.atoms(AppliedUndef)}:
            involving.append(equation.target)
    targets = list(dict.fromkeys(involving or every))
    whole = {t.name for t in targets if t.kind == "domain"}
    targets = [t for t in targets if t.kind == "domain" or resolve_target(problem, t)[0] not in whole]
    return targets or [TargetRef("domain", _default_domain(problem))]


def field_domains(problem: Problem, field: str) -> list[str]:
    """The domains of :func:`field_targets` (a region's is the domain it lies in)."""
    return list(dict.fromkeys(resolve_target(problem, t)[0] for t in field_targets(problem, field)))


# ---- regions ----
def _pinned_point(predicates, axes, constants) -> Optional[list[float]]:
    """The point if the conjunction of ``predicates`` contains ``axis == number`` for every axis, else None."""
    pinned = _pins(predicates, axes, constants)
    return [pinned[a] for a in axes] if len(pinned) == len(axes) else None


def _conjuncts(predicates) -> list:
    """The parts of the conjunction of ``predicates`` (``a and b`` gives a and b)."""
    return [c for p in predicates for c in (p.args if isinstance(p, sympy.And) else (p,))]


def _pin(equation, axes, known) -> tuple[sympy.Symbol, sympy.Basic] | None:
    """``(axis, value)`` if ``equation`` is ``axis == value`` with a value of numbers and constants, else None."""
    for side, other in ((equation.lhs, equation.rhs), (equation.rhs, equation.lhs)):
        if isinstance(side, sympy.Symbol) and side.name in axes and {s.name for s in other.free_symbols} <= known:
            return side, other
    return None


def _pins(predicates, axes, constants) -> dict[str, float]:
    """``{axis: number}`` for every conjunct ``axis == number`` of ``predicates`` (a line or plane in the domain)."""
    pinned: dict[str, float] = {}
    for c in _conjuncts(predicates):
        pin = _pin(c, axes, set(constants)) if isinstance(c, sympy.Eq) else None
        if pin is not None:
            pinned.setdefault(pin[0].name, float(evaluate(pin[1], {}, constants)))
    return pinned


def _curves(predicates, axes, constants) -> list[sympy.Basic]:
    """``lhs - rhs`` of every conjunct ``lhs == rhs`` on the coordinates that is no pin (``x == y``,
    ``x^2 + y^2 == 0.25``): a curve or surface inside the domain, which uniform points never land on."""
    return [c.lhs - c.rhs for c in _conjuncts(predicates)
            if isinstance(c, sympy.Eq) and _pin(c, axes, set(constants)) is None
            and {s.name for s in c.free_symbols} & set(axes)]


#: Newton steps that take a point onto the curves of an interior region (quadratic convergence: a handful
#: reach float64 rounding from anywhere the curve is smooth; points that do not converge are rejected).
PROJECTION_STEPS = 12


def _project(points: Tensor, curves, axes, free: Tensor, constants, surface: Optional[ShapeSampler] = None) -> Tensor:
    """``points`` moved onto the level sets ``g = 0`` of ``curves`` (each in turn, repeatedly) by Newton steps
    ``p - g(p) grad g / |grad g|^2`` along the ``free`` axes (a pinned axis keeps its value), and with
    ``surface`` onto that shape's boundary too (its signed distance is one more ``g``). Gradients are on
    even where the caller turned them off (sampling for an evaluation under ``torch.no_grad``)."""
    levels = [lambda p, curve=curve: evaluate(curve, {a: p[:, i] for i, a in enumerate(axes)}, constants)
              for curve in curves]
    if surface is not None:
        levels.append(surface.signed_distance)
    with torch.enable_grad():
        for _ in range(PROJECTION_STEPS):
            for level in levels:
                moving = points.detach().requires_grad_(True)
                value = level(moving)
                (gradient,) = torch.autograd.grad(value.sum(), moving)
                gradient = torch.nan_to_num(gradient * free, nan=0.0, posinf=0.0, neginf=0.0)
                norm = (gradient * gradient).sum(dim=1)
                step = torch.where(norm > 0, value.detach() / torch.where(norm > 0, norm, 1.0), 0.0)
                points = (points - step[:, None] * gradient).detach()
    return points


#: Points drawn on a boundary to decide whether a boundary region is thin (no draw meets its predicate).
THIN_PROBE = 4096


@functools.lru_cache(maxsize=64)
def _thin_on_boundary(base: ShapeSampler, predicates: tuple, constants: tuple, tolerance: float) -> bool:
    """Whether a boundary region with an equation on the coordinates is thinner than the boundary: an edge of
    a box (``y == 0 and z == 0``), the equator of a ball (``z == 0``), two points of a disk's rim (``x ==
    0``). Points drawn on the boundary (a fixed seed, so the same answer every time) meet none of it, where
    they meet a face (``x == 0`` on a box) often."""
    values = dict(constants)
    if not (_pins(predicates, base.axes, values) or _curves(predicates, base.axes, values)):
        return False
    points, _ = base._boundary(THIN_PROBE, torch.Generator().manual_seed(0))
    columns = {a: points[:, i] for i, a in enumerate(base.axes)}
    keep = torch.ones(len(points), dtype=torch.bool)
    for predicate in predicates:
        keep &= evaluate(predicate, columns, values, tolerance)
    return not bool(keep.any())


def pinned_target(problem: Problem, target: Optional[TargetRef]) -> bool:
    """Whether ``target`` is a region pinned inside its domain (``O where x == 0.5``: a line, a plane or a
    point; or a curve, ``O where x == y``), which has no volume: no ball of the weak form fits in it, so its
    equations stay strong there."""
    if target is None or target.kind != "region":
        return False
    _, on_boundary, predicates = resolve_target(problem, target)
    constants = {c.name: c.value for c in problem.constants}
    return not on_boundary and bool(_pins(predicates, problem.axes, constants)
                                    or _curves(predicates, problem.axes, constants))


def _point_region(base: ShapeSampler, on_boundary, point, predicates, constants, tolerance, n, what):
    p = torch.tensor([point], dtype=F64)
    inside = base.on_boundary(p, tolerance) if on_boundary else base.contains(p, tolerance)
    columns = {a: p[:, i] for i, a in enumerate(base.axes)}
    if not bool(inside) or not all(bool(evaluate(q, columns, constants, tolerance)) for q in predicates):
        raise SamplingError(f"{what} is the single point {tuple(point)}, which is not in its base")
    normals = base.estimate_normals(p).repeat(n, 1) if on_boundary else None
    return p.repeat(n, 1), normals


def interior_of(problem: Problem, target: Optional[TargetRef]) -> tuple[ShapeSampler, Optional[Callable]]:
    """The domain sampler under an equation's target and, for a region, its membership test.

    ``target`` None means the problem's default domain. The test maps points
    ``[N, d]`` (columns in the sampler's axis order) to booleans ``[N]``; it is
    None when the target is a whole domain.
    """
    if target is None:
        domain, on_boundary, predicates = _default_domain(problem), False, []
    else:
        domain, on_boundary, predicates = resolve_target(problem, target)
    if on_boundary:
        raise SamplingError(f"'{target.name}' lies on a boundary; an equation needs an interior target")
    base = target_sampler(problem, domain)
    if not predicates:
        return base, None
    constants = {c.name: c.value for c in problem.constants}
    low, high = base.bounding_box()
    tolerance = RELATIVE_EQUALITY_TOLERANCE * float((high - low).max())

    def inside(points: Tensor) -> Tensor:
        columns = {a: points[:, i] for i, a in enumerate(base.axes)}
        keep = base.contains(points)
        for predicate in predicates:
            keep = keep & evaluate(predicate, columns, constants, tolerance)
        return keep

    return base, inside


def _at_domain(problem: Problem, domain: str, error: SamplingError) -> SamplingError:
    """``error`` located at the declaration of ``domain``, as the domain is the user's to fix."""
    span = problem.domain(domain).span
    where = f" ({problem.source_name}:{span.line}:{span.column})" if span is not None else ""
    return SamplingError(f"domain '{domain}'{where}: {error}")


def sample_target(problem: Problem, target: TargetRef, n: int, generator: Optional[torch.Generator] = None,
                  *, dtype: torch.dtype = F64, candidates: int = EMPTY_AFTER) -> Batch:
    """``n`` points uniform on a target: a domain's interior, a domain's boundary, or a region (given up as
    empty after ``candidates`` draws that all missed it: ``check`` asks with few)."""
    domain, on_boundary, predicates = resolve_target(problem, target)
    base = target_sampler(problem, domain)
    if not predicates:
        try:
            if on_boundary:
                points, normals = base.sample_boundary(n, generator, dtype=dtype)
                return Batch(points, normals, axes=base.axes)
            return Batch(base.sample_interior(n, generator, dtype=dtype), axes=base.axes)
        except SamplingError as error:
            raise _at_domain(problem, domain, error) from None

    constants = {c.name: c.value for c in problem.constants}
    what = f"region '{target.name}'"
    span = problem.region(target.name).span if target.kind == "region" else None
    if span is not None:  # located, as the region is the user's to fix
        what = f"region '{target.name}' ({problem.source_name}:{span.line}:{span.column})"
    pieces = _pieces(predicates, base.axes)
    if pieces is not None and on_boundary and not _thin_union(problem, domain, base, pieces, constants):
        pieces = None  # a union of faces ('y == 0 or x == 0' on a box): drawn on the boundary whole, by their sizes
    if pieces is None:
        return _sample_region(problem, domain, base, on_boundary, predicates, constants, n, generator, dtype, what,
                              candidates)
    # 'x == 0.25 or x == 0.75' inside, 'z == 0 or z == 0.5' on a ball's sphere: lines (curves, points) that no one
    # draw meets together; each gets its share, and a piece with no point in the domain ('or x == 5' on the unit
    # square) leaves its share to the others
    parts, failures, left = [], [], n
    for tries in (pieces, None):
        viable = tries if tries is not None else [piece for piece, _ in parts]
        if not viable or not left:
            break
        shares = [left // len(viable) + (i < left % len(viable)) for i in range(len(viable))]
        for piece, count in zip(viable, shares):
            try:
                parts.append((piece, _sample_region(problem, domain, base, on_boundary, piece, constants, count,
                                                    generator, dtype, what, candidates)))
                left -= count
            except SamplingError as error:
                failures.append(error)
    if not parts:
        raise failures[0]
    points = torch.cat([part.points for _, part in parts])
    order = torch.randperm(n, generator=generator, device=device_of(generator)).to(points.device)
    normals = torch.cat([part.normals for _, part in parts])[order] if on_boundary else None
    return Batch(points[order], normals, axes=base.axes)


def _thin_union(problem, domain, base, pieces, constants) -> bool:
    """Whether a union on a boundary is of pieces all thinner than it (circles cut from a sphere), which are
    sampled piece by piece, rather than of faces, which boundary draws meet (see :func:`_thin_on_boundary`)."""
    low, high = base.bounding_box()
    tolerance = RELATIVE_EQUALITY_TOLERANCE * float((high - low).max())
    values = tuple(sorted(constants.items()))
    try:
        return all(_thin_on_boundary(base, tuple(piece), values, tolerance) for piece in pieces)
    except SamplingError as error:  # the region's domain itself cannot be sampled
        raise _at_domain(problem, domain, error) from None


def _pieces(predicates, axes) -> Optional[list[list[sympy.Basic]]]:
    """The disjuncts of a region's predicate, each a list of conjuncts, when one of them is an equality
    on the coordinates under an 'or' (a union of lines or curves: sampled piece by piece); None otherwise."""
    def on_coordinates(equation) -> bool:
        return isinstance(equation, sympy.Eq) and bool({s.name for s in equation.free_symbols} & set(axes))

    whole = sympy.And(*predicates)
    if not any(any(on_coordinates(a) for a in either.atoms(sympy.Eq)) for either in whole.atoms(sympy.Or)):
        return None
    normal = sympy.to_dnf(whole)
    disjuncts = normal.args if isinstance(normal, sympy.Or) else (normal,)
    if len(disjuncts) < 2:
        return None
    return [list(d.args) if isinstance(d, sympy.And) else [d] for d in disjuncts]


def _sample_region(problem, domain, base, on_boundary, predicates, constants, n, generator, dtype, what,
                   candidates=EMPTY_AFTER) -> Batch:
    """``n`` points uniform on the part of ``base`` (its interior, or its boundary) where ``predicates`` hold:
    drawn on the base and kept where they hold, or for a region of lower dimension (a line, a curve, an edge)
    put on its equations (see the module)."""
    low, high = base.bounding_box()
    tolerance = RELATIVE_EQUALITY_TOLERANCE * float((high - low).max())
    point = _pinned_point(predicates, base.axes, constants)
    if point is not None:
        points, normals = _point_region(base, on_boundary, point, predicates, constants, tolerance, n, what)
        device = device_of(generator)
        return Batch(points.to(device, dtype), None if normals is None else normals.to(device, dtype), axes=base.axes)

    try:
        thin = on_boundary and _thin_on_boundary(base, tuple(predicates), tuple(sorted(constants.items())), tolerance)
    except SamplingError as error:  # the region's domain itself cannot be sampled
        raise _at_domain(problem, domain, error) from None
    pins = _pins(predicates, base.axes, constants) if thin or not on_boundary else {}
    curves = _curves(predicates, base.axes, constants) if thin or not on_boundary else []
    onto = pins or curves  # put on its equations, not drawn on its base

    def draw(m):
        try:
            if on_boundary and not thin:
                points, normals = base._boundary(m, generator)
            elif onto:  # a line, plane or curve inside the domain (x == 0.5, x == y), an edge of a box: never hit
                points = low + (high - low) * uniform((m, len(base.axes)), generator).to(low)
                for axis, value in pins.items():  # uniform on a pinned line or plane
                    points[:, base.axes.index(axis)] = value
                if curves or thin:  # uniform points in the box, each taken to the nearby point of the curve
                    free = torch.tensor([a not in pins for a in base.axes], dtype=points.dtype, device=points.device)
                    points = _project(points, curves, base.axes, free, constants, surface=base if thin else None)
                normals = base.estimate_normals(points) if thin else None  # (an edge: the bisector of its faces)
            else:
                points, normals = base._interior(m, generator), None
        except SamplingError as error:  # the region's domain itself cannot be sampled
            raise _at_domain(problem, domain, error) from None
        columns = {a: points[:, i] for i, a in enumerate(base.axes)}
        finite = torch.isfinite(points).all(dim=1)
        keep = (base.on_boundary(points, tolerance) & finite if thin
                else base.contains(points, tolerance) & finite if onto
                else torch.ones(m, dtype=torch.bool, device=points.device))
        for predicate in predicates:
            keep &= evaluate(predicate, columns, constants, tolerance)
        return ((points,) if normals is None else (points, normals)), keep

    found = rejection(draw, n, what, candidates)
    normals = found[1].to(dtype) if on_boundary else None
    return Batch(found[0].to(dtype), normals, axes=base.axes)


# ---- time ----
def _time_axis(problem: Problem):
    if problem.time is None:
        raise SamplingError(f"problem '{problem.name}' has no time axis")
    return problem.time


def sample_space_time(problem: Problem, target: TargetRef, n: int, generator: Optional[torch.Generator] = None,
                      *, dtype: torch.dtype = F64) -> Batch:
    """Points of ``target`` (as :func:`sample_target`) at times uniform in ``[time.start, time.end]``."""
    time = _time_axis(problem)
    batch = sample_target(problem, target, n, generator, dtype=dtype)
    t = time.start + (time.end - time.start) * uniform((n,), generator)
    return batch.with_time(t.to(dtype), time.name)


def sample_initial(problem: Problem, target: Optional[TargetRef], n: int,
                   generator: Optional[torch.Generator] = None, *, dtype: torch.dtype = F64) -> Batch:
    """Points of ``target`` (None: the interior of the equations' domain) at ``t = time.start``."""
    time = _time_axis(problem)
    target = target or TargetRef("domain", _default_domain(problem))
    return sample_target(problem, target, n, generator, dtype=dtype).with_time(time.start, time.name)


# ---- periodicity ----
def sample_periodic_pairs(problem: Problem, periodic: Periodic, n: int, generator: Optional[torch.Generator] = None,
                          *, dtype: torch.dtype = F64) -> tuple[Batch, Batch]:
    """Matched points ``(low, high)`` on the two faces of the box across ``periodic.axis``.

    Row ``i`` of both batches has the same other coordinates (and the same
    time, uniform in the time interval, for a time-dependent problem); the
    normals are the faces' outward normals (``-e`` and ``+e``).
    """
    domain = problem.domain(field_domains(problem, periodic.fields[0])[0])
    if not isinstance(domain.shape, Box) or periodic.axis not in domain.shape.axes:
        raise SamplingError(f"periodic in '{periodic.axis}' needs a box or interval with that axis; "
                            f"domain '{domain.name}' is {domain.shape}")
    base = target_sampler(problem, domain.name)
    axis = base.axes.index(periodic.axis)
    low_face = base._interior(n, generator)
    low, high = base.bounding_box(device=low_face.device)
    low_face[:, axis] = low[axis]
    high_face = low_face.clone()
    high_face[:, axis] = high[axis]
    normal = torch.zeros_like(low_face)
    normal[:, axis] = 1.0
    pairs = (Batch(low_face.to(dtype), -normal.to(dtype), axes=base.axes),
             Batch(high_face.to(dtype), normal.to(dtype), axes=base.axes))
    if problem.time is None:
        return pairs
    t = problem.time.start + (problem.time.end - problem.time.start) * uniform((n,), generator)
    return tuple(b.with_time(t.to(dtype), problem.time.name) for b in pairs)
