"""Samplers for CSG shapes (union, difference, intersection) and for reordered axes.

Membership composes signed distances: union ``min(a, b)``, intersection
``max(a, b)``, difference ``max(a, -b)``.

Boundary sampling draws candidates from the boundaries of the primitive
leaves, each leaf in proportion to its (exact) boundary measure, and keeps a
candidate ``p`` with leaf normal ``n`` when it separates the result ``R``:

* ``p - h n`` inside ``R`` and ``p + h n`` outside: on the boundary, normal ``n``;
* ``p + h n`` inside and ``p - h n`` outside: on the boundary, normal ``-n``
  (the hole of a difference: ``B``'s boundary inside ``A``, normal negated);
* otherwise (both inside or both outside) it is not on the boundary of ``R``.

For the plain cases this is the textbook rule (union: outside the other
operand; difference: ``A``'s boundary outside ``B``, ``B``'s inside ``A``;
intersection: inside the other), and it stays right where operand boundaries
coincide (``[-1,1]^2 - [0,1]^2`` shares two edges with its hole, two touching
boxes share a face that is no boundary at all). A point on the boundaries of
several leaves is kept only from the first of them, so a shared face is not
counted twice. Accepted candidates are uniform on the boundary of ``R``.

``measure`` (quasi-Monte Carlo: scrambled Sobol points in the bounding box)
and ``boundary_measure`` (Monte Carlo: the fraction of leaf-boundary
candidates kept) of a CSG shape are estimates with a fixed seed: deterministic,
relative error about 0.1 %, computed once per sampler.
"""

from __future__ import annotations

import torch

from .base import F64, SamplingError, ShapeSampler, Tensor, choose, device_of, rejection

#: Points used by the (quasi-)Monte Carlo measures, and their fixed seed.
INTERIOR_SAMPLES = 1 << 16
BOUNDARY_SAMPLES = 1 << 18
MEASURE_SEED = 20240611


class ReorderedSampler(ShapeSampler):
    """A sampler seen with its axes in another order (``box(y: .., x: ..)`` inside an (x, y) problem)."""

    def __init__(self, inner: ShapeSampler, axes):
        if sorted(axes) != sorted(inner.axes):
            raise SamplingError(f"cannot view a shape with axes {inner.axes} in axes {tuple(axes)}")
        self.inner = inner
        self._perm = [inner.axes.index(a) for a in axes]       # new column j = inner column perm[j]
        self._inverse = [self._perm.index(i) for i in range(len(axes))]
        super().__init__(axes, [inner._low[i] for i in self._perm], [inner._high[i] for i in self._perm],
                         inner.label)

    def measure(self) -> float:
        return self.inner.measure()

    def boundary_measure(self) -> float:
        return self.inner.boundary_measure()

    def _signed_distance(self, points):
        return self.inner._signed_distance(points[:, self._inverse])

    def _interior(self, n, generator):
        return self.inner._interior(n, generator)[:, self._perm]

    def _boundary(self, n, generator):
        points, normals = self.inner._boundary(n, generator)
        return points[:, self._perm], normals[:, self._perm]

    def leaves(self) -> list[ShapeSampler]:
        return [leaf if leaf.axes == self.axes else ReorderedSampler(leaf, self.axes) for leaf in self.inner.leaves()]


class CsgSampler(ShapeSampler):
    """``left op right`` with op 'union', 'difference' or 'intersection'; operands in this sampler's axes."""

    def __init__(self, op: str, left: ShapeSampler, right: ShapeSampler, label: str = ""):
        if op not in ("union", "difference", "intersection"):
            raise SamplingError(f"unknown CSG operation '{op}'")
        self.op, self.left = op, left
        self.right = right if right.axes == left.axes else ReorderedSampler(right, left.axes)
        (l_lo, l_hi), (r_lo, r_hi) = (left._low, left._high), (self.right._low, self.right._high)
        if op == "union":
            low, high = map(min, l_lo, r_lo), map(max, l_hi, r_hi)
        elif op == "intersection":
            low = list(map(max, l_lo, r_lo))
            high = [max(h, lo) for h, lo in zip(map(min, l_hi, r_hi), low)]  # an empty overlap stays flat
        else:
            low, high = l_lo, l_hi
        super().__init__(left.axes, list(low), list(high), label or f"({left} {op} {right})")
        self._leaves = self.leaves()
        self._measures: dict[str, float] = {}

    def leaves(self) -> list[ShapeSampler]:
        """The primitive operands, left to right, in this sampler's axes."""
        return self.left.leaves() + self.right.leaves()

    # ---- membership ----
    def _signed_distance(self, points):
        a, b = self.left._signed_distance(points), self.right._signed_distance(points)
        if self.op == "union":
            return torch.minimum(a, b)
        if self.op == "intersection":
            return torch.maximum(a, b)
        return torch.maximum(a, -b)

    # ---- sampling ----
    def _candidates(self, m: int, generator) -> tuple[Tensor, Tensor, Tensor]:
        """``m`` leaf-boundary candidates ``(points, normals, keep)``, each classified as described above."""
        leaf_index = choose([leaf.boundary_measure() for leaf in self._leaves], m, generator)
        points = torch.empty((m, self.dimension), dtype=F64, device=device_of(generator))
        normals = torch.empty_like(points)
        for k, leaf in enumerate(self._leaves):
            rows = leaf_index == k
            points[rows], normals[rows] = leaf._boundary(int(rows.sum()), generator)
        h = 1e-7 * self.scale
        inner = self._signed_distance(points - h * normals) < 0
        outer = self._signed_distance(points + h * normals) < 0
        keep = inner != outer
        on_earlier = torch.zeros_like(keep)
        tol = 1e-9 * self.scale
        for k, leaf in enumerate(self._leaves[:-1]):
            later = leaf_index > k
            on_earlier |= later & (leaf._signed_distance(points).abs() <= tol)
        normals = torch.where(outer[:, None] & ~inner[:, None], -normals, normals)
        return points, normals, keep & ~on_earlier

    def _boundary(self, n, generator):
        def draw(m):
            points, normals, keep = self._candidates(m, generator)
            return (points, normals), keep

        return rejection(draw, n, f"the boundary of {self}")

    def measure(self) -> float:
        """Quasi-Monte Carlo: bounding-box volume times the fraction of scrambled Sobol points inside."""
        if "interior" not in self._measures:
            sobol = torch.quasirandom.SobolEngine(self.dimension, scramble=True, seed=MEASURE_SEED)
            low, high = self.bounding_box()
            points = low + (high - low) * sobol.draw(INTERIOR_SAMPLES, dtype=F64)
            fraction = float((self._signed_distance(points) < 0).to(F64).mean())
            self._measures["interior"] = float((high - low).prod()) * fraction
        return self._measures["interior"]

    def boundary_measure(self) -> float:
        """Monte Carlo: the leaves' total boundary measure times the fraction of candidates kept (fixed seed)."""
        if "boundary" not in self._measures:
            generator = torch.Generator().manual_seed(MEASURE_SEED)
            keep = self._candidates(BOUNDARY_SAMPLES, generator)[2]
            total = sum(leaf.boundary_measure() for leaf in self._leaves)
            self._measures["boundary"] = total * float(keep.to(F64).mean())
        return self._measures["boundary"]

