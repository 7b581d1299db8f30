"""Lowering tables: a relation and the residual it lowers to (in spec syntax)."""

import pytest

import pdedsl
from pdedsl import compiler
from pdedsl.passes.listing import _readable
from pdedsl.ir.printing import spec_text

BASE = """problem p
domain O = box(x: [0, 1], y: [0, 1])
field u, v
input a ~ exp(gaussian_field(length: 0.2))
const nu = 0.5
"""


def lowered(block: str, extra: str = ""):
    problem = pdedsl.load(BASE + extra + block)
    return [(r.name, spec_text(_readable(r.expr, r.requests))) for r in compiler.lower(problem).residuals]


TABLE = [
    ("equation in O:\n    -laplace(u) = 1", [("equation_1", "-1 - d(u, x, 2) - d(u, y, 2)")]),
    ("equation in O:\n    -div(a*grad(u)) = 0",
     [("equation_1", "-a*d(u, x, 2) - a*d(u, y, 2) - d(a, x)*d(u, x) - d(a, y)*d(u, y)")]),
    ("equation in O:\n    dot(grad(u), (1, 2)) = v", [("equation_1", "d(u, x) - v + 2*d(u, y)")]),
    ("equation in O:\n    d(u*v, x) = 0", [("equation_1", "u*d(v, x) + v*d(u, x)")]),
    ("equation in O:\n    d(u, x, y) = d(u, y, x) + v", [("equation_1", "-v")]),
    ("equation in O:\n    grad(u) = (v, 2*v)", [("equation_1[0]", "d(u, x) - v"), ("equation_1[1]", "d(u, y) - 2*v")]),
    ("equation in O:\n    laplace((u, v)) = (0, 1)",
     [("equation_1[0]", "d(u, x, 2) + d(u, y, 2)"), ("equation_1[1]", "-1 + d(v, x, 2) + d(v, y, 2)")]),
    ("boundary on boundary(O):\n    dn(u) + 2*u = 0", [("boundary_1", "2*u + d(u, x)*n[x] + d(u, y)*n[y]")]),
    ("equation in O:\n    nu*u = g", [("equation_1", "-sin(b*x) + u*nu")]),
]


@pytest.mark.parametrize("block, expected", TABLE, ids=[t[0].split("\n")[1].strip() for t in TABLE])
def test_lowering(block, expected):
    extra = "input g = sin(b*x)\nparam b = 2\n" if "= g" in block else ""
    assert lowered(block, extra) == expected


def test_each_derivative_requested_once_across_residuals():
    problem = pdedsl.load("problem p\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n"
                          "    d(u, x, 2) + d(u, x) = 0\nboundary on boundary(O):\n    d(u, x) + u = 0")
    requests = compiler.lower(problem).requests
    assert [r.display for r in requests] == ["u", "d(u, x)", "d(u, x, 2)"]
