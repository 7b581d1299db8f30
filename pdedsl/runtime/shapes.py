"""Samplers for the primitive shapes: boxes (and intervals), disks and balls, polygons.

Boxes, disks and balls sample their interior and boundary with exact
formulas; a polygon samples its interior by rejection from its bounding box
and its boundary edge by edge, in proportion to length. Each also gives its
exact measure and boundary measure and a signed distance for membership tests.
"""

from __future__ import annotations

import math

import torch

from .base import F64, ShapeSampler, Tensor, choose, device_of, uniform


class BoxSampler(ShapeSampler):
    """An axis-aligned box; in 1-D an interval whose boundary is its two end points."""

    def __init__(self, axes, low, high, label: str = ""):
        super().__init__(axes, low, high, label or f"box{tuple(zip(low, high))}")
        self._sides = [h - lo for lo, h in zip(self._low, self._high)]

    def measure(self) -> float:
        return math.prod(self._sides)

    def _face_areas(self) -> list[float]:
        """Measure of faces (axis 0 low, axis 0 high, axis 1 low, ...); 1 per end point in 1-D."""
        return [math.prod(s for j, s in enumerate(self._sides) if j != i)
                for i in range(self.dimension) for _ in (0, 1)]

    def boundary_measure(self) -> float:
        return sum(self._face_areas())

    def _signed_distance(self, points: Tensor) -> Tensor:
        low, high = self.bounding_box(dtype=points.dtype, device=points.device)
        q = torch.maximum(low - points, points - high)
        outside = q.clamp_min(0).norm(dim=1)
        inside = q.amax(dim=1).clamp_max(0)
        return outside + inside

    def _interior(self, n, generator):
        low, high = self.bounding_box(device=device_of(generator))
        return low + (high - low) * uniform((n, self.dimension), generator)

    def _boundary(self, n, generator):
        face = choose(self._face_areas(), n, generator)
        points = self._interior(n, generator)
        low, high = self.bounding_box(device=points.device)
        on_axis = torch.nn.functional.one_hot(face // 2, self.dimension).bool()
        side = (face % 2).to(F64)[:, None]                       # 0: low face, 1: high face
        points = torch.where(on_axis, low + side * (high - low), points)
        normals = torch.where(on_axis, 2 * side - 1, 0.0)
        return points, normals


class BallSampler(ShapeSampler):
    """A disk (2-D) or ball (3-D); exact formulas in any dimension."""

    def __init__(self, axes, center, radius: float, label: str = ""):
        self.center, self.radius = tuple(float(c) for c in center), float(radius)
        super().__init__(axes, [c - self.radius for c in self.center], [c + self.radius for c in self.center],
                         label or f"ball(center={self.center}, radius={self.radius})")

    def measure(self) -> float:
        d = self.dimension
        return math.pi ** (d / 2) / math.gamma(d / 2 + 1) * self.radius ** d

    def boundary_measure(self) -> float:
        return self.dimension * self.measure() / self.radius

    def _signed_distance(self, points):
        center = torch.tensor(self.center, dtype=points.dtype, device=points.device)
        return (points - center).norm(dim=1) - self.radius

    def _directions(self, n, generator) -> Tensor:
        """Uniform unit vectors: normalised Gaussians are isotropic in any dimension."""
        g = torch.randn((n, self.dimension), generator=generator, dtype=F64, device=device_of(generator))
        return g / g.norm(dim=1, keepdim=True).clamp_min(1e-300)

    def _interior(self, n, generator):
        u = self._directions(n, generator)
        r = self.radius * uniform((n, 1), generator) ** (1.0 / self.dimension)
        return torch.tensor(self.center, dtype=F64, device=u.device) + r * u

    def _boundary(self, n, generator):
        u = self._directions(n, generator)
        return torch.tensor(self.center, dtype=F64, device=u.device) + self.radius * u, u


class PolygonSampler(ShapeSampler):
    """A simple polygon; either vertex order. Interior by rejection, edges chosen by length."""

    def __init__(self, axes, vertices, label: str = ""):
        v = torch.tensor([[float(a), float(b)] for a, b in vertices], dtype=F64)
        super().__init__(axes, v.min(dim=0).values.tolist(), v.max(dim=0).values.tolist(),
                         label or f"polygon({len(vertices)} vertices)")
        edges = v.roll(-1, dims=0) - v
        keep = edges.norm(dim=1) > 0  # a repeated vertex gives an empty edge
        self._start, self._edge = v[keep], edges[keep]
        self._length = self._edge.norm(dim=1)
        x, y = v[:, 0], v[:, 1]
        # (math.fsum, exact: the checker sums the same terms so, and a far vertex's terms cancel in a plain sum)
        self._signed_area = 0.5 * math.fsum((x * y.roll(-1) - x.roll(-1) * y).tolist())
        # (dy, -dx) points right of the edge: outward for a counter-clockwise polygon.
        sign = 1.0 if self._signed_area > 0 else -1.0
        self._normal = sign * torch.stack([self._edge[:, 1], -self._edge[:, 0]], dim=1) / self._length[:, None]

    def measure(self) -> float:
        return abs(self._signed_area)

    def boundary_measure(self) -> float:
        return float(self._length.sum())

    def _signed_distance(self, points):
        # Component-wise on [n, k] tensors (points x edges): faster than [n, k, 2] norms.
        ax, ay = (c.to(points) for c in self._start.T)
        ex, ey = (c.to(points) for c in self._edge.T)
        px, py = points[:, 0:1], points[:, 1:2]
        dx, dy = px - ax, py - ay
        t = ((dx * ex + dy * ey) / (ex * ex + ey * ey)).clamp(0, 1)
        distance = ((dx - t * ex).square() + (dy - t * ey).square()).amin(dim=1).sqrt()
        # Even-odd rule: count the edges crossed by the ray from the point towards +x.
        straddles = (ay > py) != (ay + ey > py)
        x_cross = ax + ex * dy / torch.where(ey == 0, torch.ones_like(ey), ey)
        inside = (straddles & (px < x_cross)).sum(dim=1) % 2 == 1
        return torch.where(inside, -distance, distance)

    def _boundary(self, n, generator):
        edge = choose(self._length.tolist(), n, generator)
        t = uniform((n, 1), generator)
        device = t.device
        points = self._start.to(device)[edge] + t * self._edge.to(device)[edge]
        return points, self._normal.to(device)[edge]
