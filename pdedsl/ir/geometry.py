"""Geometry as data: primitive shapes and CSG combinations, all with named axes.

A box with one axis is an interval. Every shape knows its axes (in order), so
the IR can check that CSG operands and coordinates agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


def _number(value: float) -> str:
    return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))


def _point(values) -> str:
    return "(" + ", ".join(_number(v) for v in values) + ")"


@dataclass(frozen=True)
class Box:
    """An axis-aligned box (an interval in 1-D): ``low[i] <= axes[i] <= high[i]``."""

    axes: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    def __str__(self) -> str:
        ranges = ", ".join(f"{a}: [{_number(lo)}, {_number(hi)}]" for a, lo, hi in zip(self.axes, self.low, self.high))
        return f"{'interval' if len(self.axes) == 1 else 'box'}({ranges})"


@dataclass(frozen=True)
class Disk:
    axes: tuple[str, ...]
    center: tuple[float, ...]
    radius: float

    def __str__(self) -> str:
        return f"disk(center: {_point(self.center)}, radius: {_number(self.radius)}, axes: ({', '.join(self.axes)}))"


@dataclass(frozen=True)
class Ball:
    axes: tuple[str, ...]
    center: tuple[float, ...]
    radius: float

    def __str__(self) -> str:
        return f"ball(center: {_point(self.center)}, radius: {_number(self.radius)}, axes: ({', '.join(self.axes)}))"


@dataclass(frozen=True)
class Polygon:
    """A simple polygon given by its vertices in order (either orientation)."""

    axes: tuple[str, ...]
    vertices: tuple[tuple[float, float], ...]

    def __str__(self) -> str:
        return f"polygon({', '.join(_point(v) for v in self.vertices)}, axes: ({', '.join(self.axes)}))"


@dataclass(frozen=True)
class Csg:
    """``left op right`` with op 'union' (+), 'difference' (-) or 'intersection' (&)."""

    op: str
    left: "Shape"
    right: "Shape"

    @property
    def axes(self) -> tuple[str, ...]:
        return self.left.axes

    def __str__(self) -> str:
        symbol = {"union": "+", "difference": "-", "intersection": "&"}[self.op]
        return f"({self.left} {symbol} {self.right})"


Shape = Union[Box, Disk, Ball, Polygon, Csg]
