"""Domain statements -> geometry data (boxes, disks, balls, polygons and their CSG)."""

from __future__ import annotations

import math
import sys

from ...errors import did_you_mean
from ...frontend import ast
from .. import geometry as geo
from ..builtins import RESERVED, SHAPES, REQUIRED, Signature, reserved_kind
from .context import DOMAIN, KIND_NOUN
from .resolution import judge_range, shortest

_CSG_OPS = {"+": "union", "-": "difference", "&": "intersection"}
_MAX_CSG_OPERANDS = 64
_MAX_SHAPES = 1024  # in one domain, its named parts written out: every point test visits each


_MAX_CROSSING_CHECK = 400  # vertices: the check compares every pair of edges


def _crossing_edges(vertices) -> tuple[int, int] | None:
    """The first pair of non-adjacent edges that cross or touch, by the (0-based) indices of their first
    vertices as written, else None. A vertex repeated at once (a zero-length edge, or the first vertex
    written again at the end, as some formats close a ring) is no edge."""
    kept = [i for i in range(len(vertices)) if vertices[i] != vertices[(i + 1) % len(vertices)]]
    count = len(kept)
    if count < 4 or count > _MAX_CROSSING_CHECK:
        return None
    edges = [(vertices[kept[i]], vertices[kept[(i + 1) % count]]) for i in range(count)]
    for i in range(count):
        for j in range(i + 2, count):
            if i == 0 and j == count - 1:
                continue  # they share a vertex
            if _segments_meet(*edges[i], *edges[j]):
                return kept[i], kept[j]
    return None


def _segments_meet(a, b, c, d) -> bool:
    def side(p, q, r) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    def within(p, q, r) -> bool:  # r on the segment pq, given the three are on one line
        return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(p[1], q[1])

    d1, d2, d3, d4 = side(c, d, a), side(c, d, b), side(a, b, c), side(a, b, d)
    if ((d1 > 0) != (d2 > 0)) and d1 != 0 and d2 != 0 and ((d3 > 0) != (d4 > 0)) and d3 != 0 and d4 != 0:
        return True
    return ((d1 == 0 and within(c, d, a)) or (d2 == 0 and within(c, d, b)) or (d3 == 0 and within(a, b, c))
            or (d4 == 0 and within(a, b, d)))


def _shape_count(shape) -> int:
    """How many primitive shapes ``shape`` holds written out (a part used twice counts twice); each distinct
    part is counted once, by identity (hashing a deep Csg would itself walk the whole tree)."""
    counts: dict[int, int] = {}
    stack = [(shape, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in counts:
            continue
        if not isinstance(node, geo.Csg):
            counts[id(node)] = 1
        elif ready:
            counts[id(node)] = counts[id(node.left)] + counts[id(node.right)]
        else:
            stack.extend([(node, True), (node.left, False), (node.right, False)])
    return counts[id(shape)]

_DISK = Signature(("center", "radius", "axes"), (REQUIRED, REQUIRED, None))
_POLYGON_USAGE = "polygon((0, 0), (1, 0), (0, 1))"


class GeometryBuilder:
    """Builds the shape of each domain on demand (domains may name each other, in any order)."""

    def __init__(self, owner):
        self.owner = owner
        self.sink = owner.sink
        self.shapes: dict[str, geo.Shape | None] = {}
        self._building: list[str] = []

    def domain_shape(self, name: str) -> geo.Shape | None:
        if name in self.shapes:
            return self.shapes[name]
        declaration = self.owner.scope.get(name)
        if name in self._building:
            cycle = " -> ".join(self._building[self._building.index(name):] + [name])
            self.sink.error(f"domain '{name}' is defined in terms of itself ({cycle})", declaration.node.shape.span)
            return None
        self._building.append(name)
        try:
            shape = self.shape(declaration.node.shape)
        finally:
            self._building.pop()
        if shape is not None and _shape_count(shape) > _MAX_SHAPES:
            self.sink.error(f"domain '{name}' combines more than {_MAX_SHAPES} shapes written out (its domains "
                            "substituted)", declaration.node.shape.span,
                            hint="a domain that uses another domain several times doubles it each time")
            shape = None
        self.shapes[name] = shape
        return shape

    def operand_domains(self) -> set[str]:
        """The names of the domains that another domain is built from (``Sq`` and ``Hole`` in ``Plate = Sq - Hole``)."""
        named: set[str] = set()

        def walk(node) -> None:
            if isinstance(node, ast.Name):
                named.add(node.id)
            elif isinstance(node, ast.Chain) and node.kind == "csg":
                for operand in node.operands:
                    walk(operand)

        for declaration in self.owner.scope.of_kind(DOMAIN):
            walk(declaration.node.shape)
        return named

    def shape(self, node: ast.Expr) -> geo.Shape | None:
        if isinstance(node, ast.Call):
            return self._primitive(node)
        if isinstance(node, ast.Name):
            return self._reference(node)
        if isinstance(node, ast.Chain) and node.kind == "csg":
            return self._csg(node)
        self.sink.error("a domain is a shape such as box(...), disk(...) or polygon(...), or a combination of "
                        "domains with + (union), - (difference) and & (intersection)", node.span)
        return None

    def _reference(self, node: ast.Name) -> geo.Shape | None:
        kind = self.owner.scope.kind_of(node.id)
        if kind == DOMAIN:
            return self.domain_shape(node.id)
        if kind is not None:
            self.sink.error(f"'{node.id}' is {KIND_NOUN[kind]}, not a domain", node.span)
        elif node.id not in self.owner.scope.refused:  # (a refused declaration was reported there, once)
            self.sink.error(f"unknown domain '{node.id}'", node.span,
                            hint=did_you_mean(node.id, self.owner.scope.names(DOMAIN)))
        return None

    def _csg(self, node: ast.Chain) -> geo.Shape | None:
        if len(node.operands) > _MAX_CSG_OPERANDS:
            self.sink.error(f"a domain combines at most {_MAX_CSG_OPERANDS} shapes at one level", node.span,
                            hint="name parts of it as separate domains")
            return None
        shapes = [self.shape(operand) for operand in node.operands]
        if any(s is None for s in shapes):
            return None
        result = shapes[0]
        for shape, op, op_span, operand in zip(shapes[1:], node.ops, node.ops_spans, node.operands[1:]):
            if set(shape.axes) != set(result.axes) or len(shape.axes) != len(result.axes):
                self.sink.error(
                    f"cannot combine shapes with different axes ({', '.join(result.axes)}) and ({', '.join(shape.axes)})",
                    operand.span,
                )
                return None
            result = geo.Csg(_CSG_OPS[op], result, shape)
        return result

    # ---- primitives ----
    def _primitive(self, node: ast.Call) -> geo.Shape | None:
        name = node.func.text
        if name not in SHAPES:
            hint = did_you_mean(name, SHAPES) or f"the shapes are: {', '.join(SHAPES)}"
            self.sink.error(f"unknown shape '{name}'", node.func.span, hint=hint)
            return None
        return getattr(self, f"_shape_{name}")(node)

    def _shape_interval(self, node: ast.Call) -> geo.Shape | None:
        return self._box(node, 1, 1, "interval(x: [0, 1])")

    def _shape_box(self, node: ast.Call) -> geo.Shape | None:
        return self._box(node, 1, 3, "box(x: [0, 1], y: [0, 1])")

    def _box(self, node: ast.Call, least: int, most: int, usage: str) -> geo.Shape | None:
        name = node.func.text
        for arg in node.args:
            if not isinstance(arg, ast.Keyword) or not isinstance(arg.value, ast.Range):
                self.sink.error(f"{name}() takes one range per axis, named by the axis", arg.span, hint=f"write {usage}")
                return None
        count = len(node.args)
        if not least <= count <= most:
            expected = "one axis" if most == 1 else f"{least} to {most} axes"
            self.sink.error(f"{name}() takes {expected}, got {count}", node.span, hint=f"write {usage}")
            return None
        axes, low, high = [], [], []
        for arg in node.args:
            axis = self._axis_name(arg.name, axes)
            bounds = self.owner.range_numbers(arg.value, f"the range of axis '{arg.name.text}'")
            if axis is None or bounds is None:
                return None
            axes.append(axis)
            low.append(bounds[0])
            high.append(bounds[1])
        return geo.Box(tuple(axes), tuple(low), tuple(high))

    def _shape_disk(self, node: ast.Call) -> geo.Shape | None:
        return self._round(node, geo.Disk, 2, "disk(center: (0, 0), radius: 1)")

    def _shape_ball(self, node: ast.Call) -> geo.Shape | None:
        return self._round(node, geo.Ball, 3, "ball(center: (0, 0, 0), radius: 1)")

    def _round(self, node: ast.Call, cls, dimension: int, usage: str):
        bound = self.owner.expressions.bind_arguments(node, _DISK)
        if bound is None:
            return None
        center = self._point(bound["center"], dimension, f"the center of {node.func.text}()")
        radius = self.owner.constant_number(bound["radius"], f"the radius of {node.func.text}()")
        axes = self._axes(bound["axes"], dimension, node)
        if center is None or radius is None or axes is None:
            return None
        if radius <= 0:
            self.sink.error(f"the radius must be positive, not {radius:g}", bound["radius"].span)
            return None
        spans = {a: (c - radius, c + radius) for a, c in zip(axes, center)}
        if not all(math.isfinite(end) for pair in spans.values() for end in pair):
            self.sink.error(f"the {node.func.text} reaches beyond float64's largest number "
                            f"({sys.float_info.max:.3g}): its center plus or minus its radius overflows",
                            bound["radius"].span, hint="shift and scale the coordinates (e.g. to [0, 1])")
            return None
        if not self._resolvable(spans, f"the {node.func.text}", bound["radius"].span):
            return None
        return cls(axes, center, radius)

    def _resolvable(self, spans: dict, what: str, span) -> bool:
        """Report the first axis along which ``what`` spans a range float64 cannot sample (an error: False) or
        float32 cannot resolve (a warning); see resolution.py."""
        for axis, (low, high) in spans.items():
            verdict = judge_range(low, high)
            if verdict is None:
                continue
            written = f"{what} spans [{shortest(low)}, {shortest(high)}] along axis '{axis}'"
            if verdict.error:
                self.sink.error(f"{written}, which cannot be sampled: {verdict.reason}", span, hint=verdict.hint)
                return False
            self.sink.warning(f"{written}: {verdict.reason}", span, hint=verdict.hint)
            return True
        return True

    def _shape_polygon(self, node: ast.Call) -> geo.Shape | None:
        vertices, axes_node = [], None
        for arg in node.args:
            if isinstance(arg, ast.Keyword):
                if arg.name.text != "axes":
                    self.sink.error(f"polygon() has no parameter '{arg.name.text}'", arg.name.span,
                                    hint=f"list the vertices: {_POLYGON_USAGE}")
                    return None
                axes_node = arg.value
                continue
            point = self._point(arg, 2, "a polygon vertex")
            if point is None:
                return None
            vertices.append(point)
        if len(vertices) < 3:
            self.sink.error(f"a polygon needs at least 3 vertices, got {len(vertices)}", node.span,
                            hint=f"write {_POLYGON_USAGE}")
            return None
        crossing = _crossing_edges(vertices)
        if crossing is not None:
            first, second = crossing
            self.sink.error(f"the polygon's edges cross: the edge from vertex {first + 1} and the edge from vertex "
                            f"{second + 1}", node.span,
                            hint="list the vertices in order around the boundary (a polygon may not cross itself)")
            return None
        area2 = math.fsum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(vertices, vertices[1:] + vertices[:1]))
        if abs(area2) < 1e-300:
            self.sink.error("the polygon has zero area (its vertices are on one line)", node.span)
            return None
        axes = self._axes(axes_node, 2, node)
        if axes is None:
            return None
        spans = {a: (min(column), max(column)) for a, column in zip(axes, zip(*vertices))}
        if not self._resolvable(spans, "the polygon", node.span):
            return None
        return geo.Polygon(axes, tuple(vertices))

    # ---- pieces ----
    def _point(self, node, dimension: int, what: str) -> tuple[float, ...] | None:
        if not isinstance(node, ast.Vector) or len(node.items) != dimension:
            example = "(" + ", ".join(["0"] * dimension) + ")"
            self.sink.error(f"{what} must be a point with {dimension} coordinates, such as {example}", node.span)
            return None
        values = [self.owner.constant_number(item, what) for item in node.items]
        return None if any(v is None for v in values) else tuple(values)

    def _axes(self, node, dimension: int, call: ast.Call) -> tuple[str, ...] | None:
        if node is None:
            return ("x", "y", "z")[:dimension]
        if not isinstance(node, ast.Vector) or len(node.items) != dimension or not all(
            isinstance(i, ast.Name) for i in node.items
        ):
            names = ", ".join(("x", "y", "z")[:dimension])
            self.sink.error(f"axes of {call.func.text}() must be {dimension} names, such as ({names})", node.span)
            return None
        axes: list[str] = []
        for item in node.items:
            axis = self._axis_name(ast.Ident(item.id, item.span), axes)
            if axis is None:
                return None
            axes.append(axis)
        return tuple(axes)

    def _axis_name(self, ident: ast.Ident, taken: list[str]) -> str | None:
        """Check a new axis name: not reserved, not a declared name, not the time axis, not repeated."""
        name = ident.text
        owner = self.owner
        if name in RESERVED:
            self.sink.error(f"'{name}' is {reserved_kind(name)} and cannot name an axis", ident.span)
            return None
        kind = owner.scope.kind_of(name)
        if kind is not None:
            self.sink.error(f"axis '{name}' has the name of {KIND_NOUN[kind]}", ident.span, hint="rename one of them")
            return None
        if owner.time is not None and name == owner.time.name:
            self.sink.error(f"'{name}' is the time axis and cannot also be a space axis", ident.span)
            return None
        if name in taken:
            self.sink.error(f"axis '{name}' appears twice", ident.span)
            return None
        return name
