"""Regions that sampling finds empty: a warning at ``check`` and ``train``, at the region's declaration.

The builder's bounding-box test (:mod:`pdedsl.ir.build.extent`) settles a region
made of bounds and pins on a box (``x == 5`` on the unit square). It cannot
settle an equation on a curve (``(x - 3)^2 + y^2 == 0.25``, a circle that
misses the square) or a pin on a curved shape (``boundary(D) where x == 0 and
y == 0.5``, inside a disk but off its rim): those passed ``check`` and failed
once training sampled them. Here the runtime's own sampler is asked for one
point of each such region, with a small budget of candidates and a fixed seed;
finding none is a warning (from sampling: a curve that meets its domain only in
a tiny part may be missed, hence not an error). Only such regions are tried, so
that checking a plain spec still needs no torch.
"""

from __future__ import annotations

import sympy

from ..errors import Diagnostic
from ..ir.build.extent import conflicting_bounds, extent, unmet_bound
from ..ir.geometry import Box
from ..ir.problem import TargetRef

#: Candidate points tried per region before it is said to hold none (training tries 131072).
CANDIDATES = 4096


def empty_regions(problem, lowered=None) -> list[Diagnostic]:
    """A warning per region that the bounding boxes could not judge and that sampling finds empty."""
    warnings = []
    for region in problem.regions:
        if _needs_sampling(problem, region) and not _holds_a_point(problem, region):
            where = " (on its boundary)" if region.on_boundary else ""
            warnings.append(Diagnostic(
                f"region '{region.name}' holds no point: none of {CANDIDATES} points put on its equations lies in "
                f"domain '{region.domain}' where its predicate holds{where}",
                region.span, problem.source,
                hint="check the predicate's numbers against the domain: training cannot sample this region (a "
                     "curve that meets the domain in a tiny part only is missed here, and rarely hit there)",
                severity="warning"))
    return warnings


def _needs_sampling(problem, region) -> bool:
    """Whether ``region`` has an equation on the coordinates that bounding boxes cannot judge: one that pins no
    axis to a number (a curve), one under 'or' or 'not', or any on a shape other than a box. Regions that the
    builder already warned about (a bound outside the box, bounds that exclude each other) are left alone."""
    try:
        _, _, predicates = problem.resolve(TargetRef("region", region.name))
    except ValueError:
        return False
    axes = set(problem.domain(region.domain).shape.axes)
    shape = problem.domain(region.domain).shape
    box = extent(shape)
    equations = [q for p in predicates for q in p.atoms(sympy.Eq) if {s.name for s in q.free_symbols} & axes]
    if not equations or box is None:
        return False
    if any(unmet_bound(p, box) is not None or conflicting_bounds(p) is not None for p in predicates):
        return False
    pins_only = all(_is_pin(q, axes) for q in equations)
    plain = not any(p.atoms(sympy.Or, sympy.Not) for p in predicates)
    return not (isinstance(shape, Box) and pins_only and plain)


def _is_pin(equation, axes) -> bool:
    """``axis == constant expression``: a line or plane parallel to the axes."""
    return any(isinstance(side, sympy.Symbol) and side.name in axes and not ({s.name for s in other.free_symbols}
                                                                              & axes)
               for side, other in ((equation.lhs, equation.rhs), (equation.rhs, equation.lhs)))


def _holds_a_point(problem, region) -> bool:
    """Whether the runtime's sampler finds a point of ``region`` within :data:`CANDIDATES` draws (imports
    torch). A domain that cannot be sampled is not the region's fault: it counts as holding one."""
    import torch

    from ..runtime.base import SamplingError
    from ..runtime.sampling import sample_target

    try:
        sample_target(problem, TargetRef("boundary" if region.on_boundary else "domain", region.domain), 1,
                      torch.Generator().manual_seed(0))
    except SamplingError:
        return True
    try:
        sample_target(problem, TargetRef("region", region.name), 1, torch.Generator().manual_seed(0),
                      candidates=CANDIDATES)
    except SamplingError:
        return False
    return True
