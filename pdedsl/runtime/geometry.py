"""Geometry runtime: one sampler per shape of the IR (:mod:`pdedsl.ir.geometry`).

``sampler(shape)`` is the entry point. Every sampler has the same surface::

    s = sampler(Disk(("x", "y"), (0, 0), 1))
    s.dimension, s.axes                      # 2, ('x', 'y')
    low, high = s.bounding_box()             # Tensor[d] each
    s.contains(points)                       # BoolTensor[n]: closed set, small tolerance
    s.sample_interior(n, generator)          # Tensor[n, d], uniform inside
    s.sample_boundary(n, generator)          # (points, outward unit normals), uniform on the boundary
    s.measure(), s.boundary_measure()        # area, perimeter (exact; Monte Carlo for CSG)

The interface is in :mod:`.base`, primitives (box/interval, disk, ball,
polygon) in :mod:`.shapes`, CSG and axis reordering in :mod:`.csg`; this
module only maps IR shapes onto them, so one place knows which sampler
serves which shape.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..ir import geometry as geo
from .base import SamplingError, ShapeSampler
from .csg import CsgSampler, ReorderedSampler
from .shapes import BallSampler, BoxSampler, PolygonSampler

__all__ = ["sampler", "ShapeSampler", "SamplingError", "BoxSampler", "BallSampler", "PolygonSampler",
           "CsgSampler", "ReorderedSampler"]


def _box(shape: geo.Box) -> ShapeSampler:
    if any(hi <= lo for lo, hi in zip(shape.low, shape.high)):
        raise SamplingError(f"{shape} has an empty side")
    return BoxSampler(shape.axes, shape.low, shape.high, label=str(shape))


def _round(shape) -> ShapeSampler:
    if shape.radius <= 0:
        raise SamplingError(f"{shape} has no positive radius")
    return BallSampler(shape.axes, shape.center, shape.radius, label=str(shape))


def _polygon(shape: geo.Polygon) -> ShapeSampler:
    built = PolygonSampler(shape.axes, shape.vertices, label=str(shape))
    if built.measure() == 0:
        raise SamplingError(f"{shape} has no area")
    return built


def _csg(shape: geo.Csg) -> ShapeSampler:
    return CsgSampler(shape.op, sampler(shape.left), sampler(shape.right), label=str(shape))


#: Which sampler builds which IR shape.
_BUILDERS = {geo.Box: _box, geo.Disk: _round, geo.Ball: _round, geo.Polygon: _polygon, geo.Csg: _csg}


def sampler(shape: geo.Shape, axes: Optional[Sequence[str]] = None) -> ShapeSampler:
    """The sampler of an IR shape; with ``axes``, its columns are in that order (same axis names)."""
    build = _BUILDERS.get(type(shape))
    if build is None:
        raise TypeError(f"no sampler for shape type {type(shape).__name__}; known: "
                        + ", ".join(t.__name__ for t in _BUILDERS))
    built = build(shape)
    if axes is not None and tuple(axes) != built.axes:
        built = ReorderedSampler(built, tuple(axes))
    return built
