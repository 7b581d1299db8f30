"""Boundaries left without a condition on a twice-differentiated field (passes/coverage.py)."""

from __future__ import annotations

import pytest

import pdedsl
from pdedsl import compiler
from pdedsl.cli import main
from pdedsl.passes.coverage import uncovered_boundaries

SQUARE = """problem p
domain Omega = box(x: [0, 1], y: [0, 1])
field u
region left = boundary(Omega) where x == 0
region right = boundary(Omega) where x == 1
region walls = boundary(Omega) where y == 0 or y == 1
"""


def _warnings(text: str) -> list[str]:
    problem = pdedsl.load(text)
    return [w.message for w in uncovered_boundaries(problem, compiler.lower(problem))]


def test_walls_without_a_condition_are_named():
    (message,) = _warnings(SQUARE + "equation in Omega:\n    -laplace(u) = 1\nboundary on left:\n    u = 0\n"
                                    "boundary on right:\n    dn(u) = 1\n")
    assert message.startswith("about 50% of the boundary of 'Omega' has no condition on 'u' (at x, y = (")
    assert "twice along x and y: the solution is not determined there" in message
    (message,) = _warnings(SQUARE + "equation in Omega:\n    -laplace(u) = 1\n")  # nothing at all
    assert message.startswith("the boundary of 'Omega' has no condition on 'u', and")


@pytest.mark.parametrize("conditions", [
    "boundary on left:\n    u = 0\nboundary on right:\n    dn(u) = 1\nboundary on walls:\n    dn(u) = 0\n",
    "boundary on boundary(Omega):\n    u = 0\n",
    "boundary on left:\n    u = 0\nboundary on right:\n    u = 1\nperiodic u in y\n",
    "region rest = boundary(Omega) where not (x == 0)\nboundary on left:\n    u = 0\nboundary on rest:\n"
    "    dn(u) + u = 0\n",
    # split at the faces' midpoints by strict inequalities: only the points x = 0.5, y = 0.5 are left out
    "region hot = boundary(Omega) where x < 0.5 and y < 0.5\nregion cold = boundary(Omega) where x > 0.5 or "
    "y > 0.5\nboundary on hot:\n    u = 1\nboundary on cold:\n    u = 0\n",
    "region hot = boundary(Omega) where x < 1/6\nregion cold = boundary(Omega) where x > 1/6\n"
    "boundary on hot:\n    u = 1\nboundary on cold:\n    u = 0\n",
])
def test_a_boundary_covered_by_regions_or_periodic_axes_is_silent(conditions):
    assert _warnings(SQUARE + "equation in Omega:\n    -laplace(u) = 1\n" + conditions) == []


def test_only_the_faces_an_axis_of_second_order_leaves_need_a_condition():
    """d(u, x, 2) alone: the faces y = 0, 1 (normal along y) need nothing; first order (advection) neither."""
    assert _warnings(SQUARE + "equation in Omega:\n    d(u, x, 2) + d(u, y) = 1\nboundary on left:\n    u = 0\n"
                              "boundary on right:\n    u = 0\n") == []
    assert _warnings(SQUARE + "equation in Omega:\n    d(u, x) + d(u, y) = 1\nboundary on left:\n    u = 0\n") == []


def test_an_ode_may_take_all_its_conditions_at_one_end():
    ode = ("problem ode\ndomain L = interval(x: [0, 1])\nfield u\nregion start = boundary(L) where x == 0\n"
           "equation in L:\n    d(u, x, 2) + u = 0\nboundary on start:\n    u = 0\n")
    (message,) = _warnings(ode)  # one condition for a second-order equation
    assert "about 50% of the boundary of 'L' has no condition on 'u' (at x = 1, for one)" in message
    assert _warnings(ode + "boundary on start:\n    d(u, x) = 1\n") == []
    heat = ("problem heat\ndomain L = interval(x: [0, 1])\ntime t: [0, 1]\nfield u\n"
            "region start = boundary(L) where x == 0\nequation in L:\n    dt(u) = d(u, x, 2)\n"
            "boundary on start:\n    u = 0\nboundary on start:\n    d(u, x) = 0\ninitial:\n    u = sin(pi*x)\n")
    assert len(_warnings(heat)) == 1  # in time, both ends need one


def test_a_hole_s_own_boundary_covers_the_rim():
    plate = ("problem plate\ndomain Box = box(x: [-1, 1], y: [-1, 1])\ndomain Hole = disk(center: (0, 0), radius: 0.3)\n"
             "domain Plate = Box - Hole\nfield u\nequation in Plate:\n    -laplace(u) = 1\n"
             "boundary on boundary(Hole):\n    u = 0\n")
    (message,) = _warnings(plate)  # the outer edges: nothing
    assert "boundary of 'Plate' has no condition on 'u'" in message
    assert _warnings(plate + "boundary on boundary(Box):\n    dn(u) = 0\n") == []


def test_check_prints_the_warning_and_counts_it(tmp_path, capsys):
    path = tmp_path / "bare.pde"
    path.write_text(SQUARE + "equation in Omega:\n    -laplace(u) = 1\nboundary on left:\n    u = 0\n")
    assert main(["check", str(path)]) == 0
    captured = capsys.readouterr()
    assert f"{path}:8:5: warning: about 75% of the boundary of 'Omega'" in captured.err
    assert "hint: add a condition on 'u' for the rest of boundary(Omega)" in captured.err
    assert "conditions, 1 warning)" in captured.out or "condition, 1 warning)" in captured.out


def test_the_warning_points_at_the_equation_that_differentiates_the_field_twice():
    """In a system, the first equation naming the field may only use its value (``dt(u) = laplace(u) + v``):
    the warning about v points at the one that differentiates it (it pointed at u's)."""
    problem = pdedsl.load(SQUARE + "field v\nequation in Omega:\n    -laplace(u) + v = 0\n    -laplace(v) = 1\n"
                                   "boundary on boundary(Omega):\n    u = 0\nboundary on left:\n    v = 0\n")
    (warning,) = uncovered_boundaries(problem, compiler.lower(problem))
    assert "no condition on 'v'" in warning.message and warning.span.line == 10
