"""Where a shape can lie: axis-aligned bounding boxes, to catch empty domains and regions when checking.

A domain such as ``box(x: [0, 1]) & box(x: [2, 3])`` or a region such as
``boundary(Omega) where x == 5`` on the unit square holds no point. Training
would find out only when it fails to sample there; the checker can say so at
the statement, from bounding boxes alone (so it misses some empty sets, but
never calls a non-empty one empty).
"""

from __future__ import annotations

import math

import sympy

from .. import geometry as geo

Extent = dict  # {axis: (low, high)}; None for a shape known to be empty


def extent(shape) -> Extent | None:
    """A box that contains ``shape``, or None when the shape is surely empty."""
    if isinstance(shape, geo.Box):
        return dict(zip(shape.axes, zip(shape.low, shape.high)))
    if isinstance(shape, (geo.Disk, geo.Ball)):
        return {a: (c - shape.radius, c + shape.radius) for a, c in zip(shape.axes, shape.center)}
    if isinstance(shape, geo.Polygon):
        columns = list(zip(*shape.vertices))
        return {a: (min(v), max(v)) for a, v in zip(shape.axes, columns)}
    if isinstance(shape, geo.Csg):
        left, right = extent(shape.left), extent(shape.right)
        if shape.op == "union":
            if left is None or right is None:
                return left or right
            return {a: (min(left[a][0], right[a][0]), max(left[a][1], right[a][1])) for a in left}
        if shape.op == "intersection":
            if left is None or right is None:
                return None
            both = {a: (max(left[a][0], right[a][0]), min(left[a][1], right[a][1])) for a in left}
            return None if any(lo > hi for lo, hi in both.values()) else both
        if left is not None and isinstance(shape.right, geo.Box) and all(  # a difference that removes it all
                right[a][0] <= left[a][0] and left[a][1] <= right[a][1] for a in left):
            return None
        return left
    return None


def unmet_bound(predicate, box: Extent) -> str | None:
    """A conjunct of ``predicate`` (``x == 5``, ``y < -1``) that no point of ``box`` meets, as text; else None."""
    conjuncts = predicate.args if isinstance(predicate, sympy.And) else (predicate,)
    for conjunct in conjuncts:
        if not isinstance(conjunct, (sympy.Eq, sympy.Lt, sympy.Le, sympy.Gt, sympy.Ge)):
            continue
        lhs, rhs = conjunct.lhs, conjunct.rhs
        if isinstance(rhs, sympy.Symbol) and lhs.is_Number:
            lhs, rhs, conjunct = rhs, lhs, conjunct.reversed
        if not (isinstance(lhs, sympy.Symbol) and lhs.name in box and rhs.is_Number):
            continue
        low, high = box[lhs.name]
        value = float(rhs)
        slack = 1e-9 * max(abs(low), abs(high), high - low, 1.0)
        met = {sympy.Eq: low - slack <= value <= high + slack, sympy.Lt: low < value + slack,
               sympy.Le: low <= value + slack, sympy.Gt: high > value - slack, sympy.Ge: high >= value - slack}
        if not met[type(conjunct)]:
            return f"{lhs.name} {conjunct.rel_op} {rhs}"
    return None


def conflicting_bounds(predicate) -> str | None:
    """Two conjuncts of ``predicate`` on one axis that no value meets together (``x == 0 and x == 1``,
    ``x < 0.2 and x > 0.8``), as text; else None. Each alone may hold somewhere in the domain."""
    if not isinstance(predicate, sympy.And):
        return None
    seen: dict[str, list] = {}  # axis -> [(low, high, text)] of its conjuncts so far
    for conjunct in predicate.args:
        if not isinstance(conjunct, (sympy.Eq, sympy.Lt, sympy.Le, sympy.Gt, sympy.Ge)):
            continue
        lhs, rhs = conjunct.lhs, conjunct.rhs
        if isinstance(rhs, sympy.Symbol) and lhs.is_Number:
            lhs, rhs, conjunct = rhs, lhs, conjunct.reversed
        if not (isinstance(lhs, sympy.Symbol) and rhs.is_Number):
            continue
        value = float(rhs)
        low, high = {sympy.Eq: (value, value), sympy.Lt: (-math.inf, value), sympy.Le: (-math.inf, value),
                     sympy.Gt: (value, math.inf), sympy.Ge: (value, math.inf)}[type(conjunct)]
        text = f"{lhs.name} {conjunct.rel_op} {value:g}"
        for other_low, other_high, other in seen.get(lhs.name, []):
            slack = 1e-9 * max(abs(v) for v in (low, high, other_low, other_high, 1.0) if math.isfinite(v))
            if max(low, other_low) > min(high, other_high) + slack:
                return f"{other} and {text}"
        seen.setdefault(lhs.name, []).append((low, high, text))
    return None
