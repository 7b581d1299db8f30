"""Particles for weak residuals: balls ``(centre, radius)`` that lie inside a domain, and radius schedules.

Radii are uniform in ``[r_min, r_max]``. Each particle's centre is then
drawn uniformly from the points of the domain at least its radius away from
the boundary, by rejection: candidates come from the domain's
``sample_interior`` and are kept when ``signed_distance(c) <= -R``. The signed
distance is exact for boxes, balls and polygons and conservative for CSG (it
may underestimate the distance to the boundary), so a kept ball always lies
inside; for CSG a few centres whose ball would fit are refused, so centres
are uniform over a slightly smaller set.
Rejection runs in rounds over all still-unplaced particles at once, each
round giving every one of them more candidates, so there is no loop over particles.

A sub-region cut out of a domain by a predicate (``region inside = Omega where
x^2 + y^2 < 0.25``) has no signed distance; ``inside`` then tests membership,
and a ball is kept when its centre and :func:`probe_directions` points on its
sphere all lie in the region (exact for convex regions up to the probe spacing).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Optional

import torch

from ..base import F64, SamplingError, ShapeSampler, Tensor, device_of, uniform

#: A particle whose candidate centres all fail this many times makes sampling give up.
TRIES_PER_PARTICLE = 1 << 14
#: Candidate centres drawn in one round, at most (all unplaced particles together).
ROUND_SIZE = 1 << 18
#: Candidates per unplaced particle in the first round; it doubles every round.
FIRST_TRIES = 8

#: ``r_max`` as a function of the training step.
RadiusSchedule = Callable[[int], float]


class Particles(NamedTuple):
    """Ball centres ``[P, d]`` and radii ``[P]``."""

    centres: Tensor
    radii: Tensor


def probe_directions(dimension: int) -> Tensor:
    """Unit vectors that probe a ball's sphere: 2 in 1-D, 16 in 2-D, 26 in 3-D."""
    if dimension == 1:
        return torch.tensor([[-1.0], [1.0]], dtype=F64)
    if dimension == 2:
        angles = torch.arange(16, dtype=F64) * (2 * math.pi / 16)
        return torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1)
    steps = torch.tensor([-1.0, 0.0, 1.0], dtype=F64)
    grid = torch.cartesian_prod(*([steps] * dimension))
    grid = grid[grid.abs().sum(dim=1) > 0]
    return grid / torch.linalg.vector_norm(grid, dim=1, keepdim=True)


def sample_particles(domain: ShapeSampler, n: int, generator: Optional[torch.Generator] = None, *,
                     r_min: float, r_max: Optional[float] = None, dtype: torch.dtype = F64,
                     inside: Optional[Callable[[Tensor], Tensor]] = None) -> Particles:
    """``n`` balls inside ``domain``: radii uniform in ``[r_min, r_max]`` (``r_max`` defaults to ``r_min``).

    All random numbers come from ``generator``, so a seed gives identical
    particles. Raises :class:`SamplingError` when a radius cannot fit: at
    once if it exceeds half the narrowest side of the bounding box, otherwise
    after :data:`TRIES_PER_PARTICLE` failed candidate centres for some particle.
    ``inside`` (points ``[N, d]`` to booleans ``[N]``) narrows the domain to a
    sub-region, checked on the centre and probe points of each candidate ball.
    """
    r_max = r_min if r_max is None else r_max
    if not 0 < r_min <= r_max:
        raise ValueError(f"need 0 < r_min <= r_max, got r_min={r_min}, r_max={r_max}")
    low, high = domain.bounding_box()
    narrowest = float((high - low).min())
    if 2 * r_max > narrowest:
        raise SamplingError(
            f"particles of radius up to {r_max:g} do not fit in {domain}: its bounding box is only "
            f"{narrowest:g} wide, so no ball of radius above {narrowest / 2:g} fits")
    n = int(n)
    radii = r_min + (r_max - r_min) * uniform((n,), generator)
    centres = torch.zeros((n, domain.dimension), dtype=F64, device=device_of(generator))
    unplaced = torch.arange(n, device=centres.device)
    tries, per_round = 0, FIRST_TRIES
    while unplaced.numel():
        if tries >= TRIES_PER_PARTICLE:
            raise SamplingError(
                f"could not place {unplaced.numel()} of {n} particles of radius in [{r_min:g}, {r_max:g}] "
                f"inside {domain}: for each, none of {tries} candidate centres was at least its radius "
                f"(up to {float(radii[unplaced].max()):g}) from the boundary and inside the region, if any: "
                "the place is too thin for this radius")
        per_particle = max(1, min(per_round, TRIES_PER_PARTICLE - tries, ROUND_SIZE // unplaced.numel()))
        candidates = domain.sample_interior(unplaced.numel() * per_particle, generator, dtype=F64)
        fits = domain.signed_distance(candidates).view(-1, per_particle) <= -radii[unplaced, None]
        if inside is not None:
            fits &= _ball_inside(inside, candidates, radii[unplaced].repeat_interleave(per_particle)) \
                .view(-1, per_particle)
        placed = fits.any(dim=1)
        first_fit = fits.to(torch.int8).argmax(dim=1)
        chosen = candidates.view(-1, per_particle, domain.dimension)[placed, first_fit[placed]]
        centres[unplaced[placed]] = chosen
        unplaced = unplaced[~placed]
        tries += per_particle
        per_round *= 2
    return Particles(centres.to(dtype), radii.to(dtype))


def _ball_inside(inside: Callable[[Tensor], Tensor], centres: Tensor, radii: Tensor) -> Tensor:
    """``[N]``: whether each ball's centre and its probe points on the sphere satisfy ``inside``."""
    directions = probe_directions(centres.shape[1]).to(centres)
    probes = torch.cat([centres[:, None, :], centres[:, None, :] + radii[:, None, None] * directions[None]], dim=1)
    return inside(probes.reshape(-1, centres.shape[1])).view(centres.shape[0], -1).all(dim=1)


def radius_at(step: int, total: int, start: float, end: float) -> float:
    """The radius at ``step`` of ``total``, moving linearly from ``start`` (step 0) to ``end`` (step ``total`` on).

    ParticleWNN changes ``r_max`` this way during training; ``start > end``
    shrinks it, ``start < end`` grows it. Steps outside ``[0, total]`` are clamped.
    """
    if total <= 0:
        return float(end)
    fraction = min(max(step / total, 0.0), 1.0)
    return float(start + (end - start) * fraction)


def fixed(radius: float) -> RadiusSchedule:
    """A schedule that keeps ``radius`` at every step."""
    return lambda step: float(radius)


def linear(start: float, end: float, total: int) -> RadiusSchedule:
    """A schedule going linearly from ``start`` to ``end`` over ``total`` steps (see :func:`radius_at`)."""
    return lambda step: radius_at(step, total, start, end)
