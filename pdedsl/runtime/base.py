"""The sampler interface every shape implements, and the random-number helpers they share.

Conventions, shared by every sampler (primitives in :mod:`.shapes`, CSG in :mod:`.csg`):

* Points are ``Tensor[n, d]`` with columns in ``sampler.axes`` order.
* All random numbers come from the caller's ``torch.Generator`` (on its
  device), so one seed gives identical tensors. Samples are drawn in float64
  and cast to ``dtype`` at the end: a float32 run sees the same points, rounded.
* ``signed_distance`` is negative inside and positive outside; membership is
  ``signed_distance <= tolerance``, a closed set up to a small tolerance that
  scales with the shape's size and the dtype's precision.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch

from ..errors import PdeError

Tensor = torch.Tensor
F64 = torch.float64


#: Rejection sampling gives up when this many candidates were all rejected.
EMPTY_AFTER = 1 << 17
#: ... or when the acceptance rate seen would need more candidates than this.
MAX_CANDIDATES = 10**8


class SamplingError(PdeError):
    """A shape or region that cannot be sampled (empty, or too small to hit by chance)."""


def device_of(generator: Optional[torch.Generator]) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def uniform(shape: Sequence[int], generator: Optional[torch.Generator]) -> Tensor:
    """Float64 uniform numbers in [0, 1) on the generator's device."""
    return torch.rand(tuple(shape), generator=generator, dtype=F64, device=device_of(generator))


def choose(weights: Sequence[float], n: int, generator: Optional[torch.Generator]) -> Tensor:
    """``n`` indices drawn with probability proportional to ``weights`` (a LongTensor)."""
    device = device_of(generator)
    if n == 0 or len(weights) == 1:
        return torch.zeros(n, dtype=torch.long, device=device)
    w = torch.tensor(list(weights), dtype=F64, device=device)
    return torch.multinomial(w, n, replacement=True, generator=generator)


def rejection(draw: Callable[[int], tuple[tuple[Tensor, ...], Tensor]], n: int, what: str,
              empty_after: int = EMPTY_AFTER) -> tuple[Tensor, ...]:
    """Call ``draw(m) -> (tensors, keep mask)`` until ``n`` rows are kept; return the first ``n``.

    Batches grow with the observed acceptance rate. It raises
    :class:`SamplingError` naming ``what`` when no candidate at all was kept
    after ``empty_after`` (:data:`EMPTY_AFTER`) draws (an empty set, or a curve or point that
    random points never hit), or when the acceptance rate seen so far would
    need more than :data:`MAX_CANDIDATES` draws in all.
    """
    if n == 0:
        return tuple(t[:0] for t in draw(1)[0])
    kept: list[tuple[Tensor, ...]] = []
    count, drawn = 0, 0
    while count < n:
        if (count == 0 and drawn >= empty_after) or (count and n * drawn / count > MAX_CANDIDATES):
            raise SamplingError(
                f"could not sample {what}: {count} of {drawn} candidate points fell in it ({n} wanted); "
                "it is empty, or too thin (a curve or a point) or too small to hit by chance")
        rate = max(count / drawn, 1e-3) if drawn else 0.5
        m = min(max(int(1.25 * (n - count) / rate) + 16, 256), 1 << 18)
        tensors, mask = draw(m)
        kept.append(tuple(t[mask] for t in tensors))
        count += int(mask.sum())
        drawn += m
    return tuple(torch.cat(parts)[:n] for parts in zip(*kept))


class ShapeSampler:
    """Base class: the public API; subclasses supply float64 ``_interior``, ``_boundary``, ``_signed_distance``."""

    def __init__(self, axes: Sequence[str], low: Sequence[float], high: Sequence[float], label: str = ""):
        self.axes = tuple(axes)
        self._low = tuple(float(v) for v in low)
        self._high = tuple(float(v) for v in high)
        self.label = label or type(self).__name__  # how messages name the shape (its spec spelling)

    # ---- facts ----
    @property
    def dimension(self) -> int:
        return len(self.axes)

    def bounding_box(self, *, dtype: torch.dtype = F64, device=None) -> tuple[Tensor, Tensor]:
        """``(low, high)``, each ``Tensor[d]``: a box that contains the shape."""
        return (torch.tensor(self._low, dtype=dtype, device=device),
                torch.tensor(self._high, dtype=dtype, device=device))

    @property
    def scale(self) -> float:
        """The size of the numbers involved: the largest side or coordinate of the bounding box."""
        return max(max(abs(v) for v in self._low + self._high),
                   max(h - lo for lo, h in zip(self._low, self._high)), 1e-300)

    def default_tolerance(self, dtype: torch.dtype = F64) -> float:
        """Slack of membership tests: ``1e-10`` of the scale in float64, more for coarser dtypes."""
        return self.scale * max(1e-10, 64 * torch.finfo(dtype).eps)

    def leaves(self) -> list["ShapeSampler"]:
        """The primitive shapes this one is built from (itself for a primitive)."""
        return [self]

    def measure(self) -> float:
        """Length, area or volume."""
        raise NotImplementedError

    def boundary_measure(self) -> float:
        """Boundary length (2-D) or area (3-D); the number of end points (2) for an interval."""
        raise NotImplementedError

    # ---- membership ----
    def signed_distance(self, points: Tensor) -> Tensor:
        """``Tensor[n]``: negative inside, zero on the boundary, positive outside (in ``points``' dtype)."""
        return self._signed_distance(points)

    def contains(self, points: Tensor, tolerance: Optional[float] = None) -> Tensor:
        """``BoolTensor[n]``: the point is in the closed shape, up to ``tolerance``."""
        tol = self.default_tolerance(points.dtype) if tolerance is None else tolerance
        return self.signed_distance(points) <= tol

    def on_boundary(self, points: Tensor, tolerance: Optional[float] = None) -> Tensor:
        """``BoolTensor[n]``: the point lies on the boundary, up to ``tolerance``."""
        tol = self.default_tolerance(points.dtype) if tolerance is None else tolerance
        return self.signed_distance(points).abs() <= tol

    def estimate_normals(self, points: Tensor) -> Tensor:
        """Outward unit normals from central differences of the signed distance.

        Used where no exact normal exists (a corner gets the bisector of its faces).
        """
        h = 1e-6 * self.scale
        columns = []
        for i in range(self.dimension):
            step = torch.zeros_like(points)
            step[:, i] = h
            columns.append(self.signed_distance(points + step) - self.signed_distance(points - step))
        grad = torch.stack(columns, dim=1)
        return grad / grad.norm(dim=1, keepdim=True).clamp_min(torch.finfo(grad.dtype).tiny)

    # ---- sampling ----
    def sample_interior(self, n: int, generator: Optional[torch.Generator] = None, *,
                        dtype: torch.dtype = F64) -> Tensor:
        """``Tensor[n, d]`` uniform in the interior."""
        return self._interior(int(n), generator).to(dtype)

    def sample_boundary(self, n: int, generator: Optional[torch.Generator] = None, *,
                        dtype: torch.dtype = F64) -> tuple[Tensor, Tensor]:
        """``(points, normals)``, each ``Tensor[n, d]``: uniform on the boundary, outward unit normals."""
        points, normals = self._boundary(int(n), generator)
        return points.to(dtype), normals.to(dtype)

    def _interior(self, n: int, generator) -> Tensor:
        """Default: rejection from the bounding box (shapes without a direct formula)."""
        low, high = self.bounding_box(device=device_of(generator))

        def draw(m):
            p = low + (high - low) * uniform((m, self.dimension), generator)
            return (p,), self._signed_distance(p) < 0

        return rejection(draw, n, f"the interior of {self}")[0]

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label})"


