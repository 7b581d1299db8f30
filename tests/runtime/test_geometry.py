"""Shape samplers against exact answers: measures, boundary measures, normals, membership, uniformity."""

import math
from pathlib import Path

import pytest
import torch

import pdedsl
from pdedsl.ir.geometry import Ball, Box, Csg, Disk, Polygon
from pdedsl.runtime.geometry import SamplingError, sampler

SPECS = Path(__file__).resolve().parents[2] / "specs"
N = 10_000
XY = ("x", "y")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def spec_shape(name: str):
    return pdedsl.load(SPECS / f"{name}.pde").domains[0].shape


def assert_fraction(fraction: float, expected: float, n: int = N) -> None:
    """A sampled fraction within 5 standard deviations of its expected value."""
    assert abs(fraction - expected) <= 5 * math.sqrt(expected * (1 - expected) / n) + 1e-12


# ---- exact answers ----
SQUARE = Box(XY, (-1.0, -1.0), (1.0, 1.0))
LSHAPE = Csg("difference", SQUARE, Box(XY, (0.0, 0.0), (1.0, 1.0)))
ANNULUS = Csg("difference", Disk(XY, (0.0, 0.0), 1.0), Disk(XY, (0.0, 0.0), 0.5))
L_VERTICES = ((0.0, 0.0), (1.0, 0.0), (1.0, -1.0), (-1.0, -1.0), (-1.0, 1.0), (0.0, 1.0))


def _hexagon():
    v = [(1, 0), (0.5, 0.866), (-0.5, 0.866), (-1, 0), (-0.5, -0.866), (0.5, -0.866)]
    area = 0.5 * abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(v, v[1:] + v[:1])))
    return area, sum(math.dist(a, b) for a, b in zip(v, v[1:] + v[:1]))


def _lens():
    """Two unit disks 1 apart, minus a slot: a disk of radius 0.1 at (0, 0.3) and the box [-0.03, 0.03] x [0, 0.3]."""
    lens_area, lens_perimeter = 2 * math.pi / 3 - math.sqrt(3) / 2, 4 * math.pi / 3
    overlap = 2 * (0.015 * math.sqrt(0.0091) + 0.005 * math.asin(0.3))   # box part inside the small disk
    slot_area = 0.01 * math.pi + 0.06 * 0.3 - overlap
    slot_perimeter = 0.2 * math.pi - 0.2 * math.asin(0.3) + 0.06 + 2 * (0.3 - math.sqrt(0.0091))
    return lens_area - slot_area, lens_perimeter + slot_perimeter


HEX_AREA, HEX_PERIMETER = _hexagon()
LENS_AREA, LENS_PERIMETER = _lens()

# (id, shape, measure, boundary measure, exact measures?)
CASES = [
    ("interval", Box(("x",), (0.0,), (2.0,)), 2.0, 2.0, True),
    ("square", SQUARE, 4.0, 8.0, True),
    ("box3d", Box(("x", "y", "z"), (0.0, 0.0, 0.0), (1.0, 2.0, 3.0)), 6.0, 22.0, True),
    ("disk", Disk(XY, (1.0, -1.0), 2.0), 4 * math.pi, 4 * math.pi, True),
    ("ball", Ball(("x", "y", "z"), (0.0, 0.0, 0.0), 1.0), 4 * math.pi / 3, 4 * math.pi, True),
    ("polygon_cw", Polygon(XY, L_VERTICES), 3.0, 8.0, True),
    ("polygon_ccw", Polygon(XY, L_VERTICES[::-1]), 3.0, 8.0, True),
    ("lshape", LSHAPE, 3.0, 8.0, False),
    ("annulus", ANNULUS, 0.75 * math.pi, 3 * math.pi, False),
    ("plate_with_hole", spec_shape("plate_with_hole"), HEX_AREA - 0.09 * math.pi, HEX_PERIMETER + 0.6 * math.pi, False),
    ("lens", spec_shape("lens"), LENS_AREA, LENS_PERIMETER, False),
    ("ball_spec", spec_shape("ball_poisson"), 4 * math.pi / 3, 4 * math.pi, True),
    ("cube_minus_ball", Csg("difference", Box(("x", "y", "z"), (-1.0,) * 3, (1.0,) * 3),
                            Ball(("x", "y", "z"), (0.0,) * 3, 0.5)), 8 - math.pi / 6, 24 + math.pi, False),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, shape, area, perimeter, exact", CASES, ids=IDS)
def test_measures(name, shape, area, perimeter, exact):
    s = sampler(shape)
    rel = 1e-12 if exact else 1e-2
    assert s.measure() == pytest.approx(area, rel=rel)
    assert s.boundary_measure() == pytest.approx(perimeter, rel=rel)


@pytest.mark.parametrize("name, shape, area, perimeter, exact", CASES, ids=IDS)
def test_monte_carlo_area_from_contains(name, shape, area, perimeter, exact):
    """Independent of measure(): the fraction of uniform bounding-box points inside."""
    s = sampler(shape)
    low, high = s.bounding_box()
    points = low + (high - low) * torch.rand((N, s.dimension), generator=gen(1), dtype=torch.float64)
    box_volume = float((high - low).prod())
    assert_fraction(float(s.contains(points).double().mean()), area / box_volume)


@pytest.mark.parametrize("name, shape, area, perimeter, exact", CASES, ids=IDS)
def test_interior_points_are_inside(name, shape, area, perimeter, exact):
    s = sampler(shape)
    points = s.sample_interior(N, gen(2))
    assert points.shape == (N, s.dimension) and points.dtype == torch.float64
    assert bool(s.contains(points).all())
    assert bool((s.signed_distance(points) <= 0).all())


@pytest.mark.parametrize("name, shape, area, perimeter, exact", CASES, ids=IDS)
def test_boundary_points_lie_on_the_boundary_with_outward_unit_normals(name, shape, area, perimeter, exact):
    s = sampler(shape)
    points, normals = s.sample_boundary(N, gen(3))
    assert points.shape == normals.shape == (N, s.dimension)
    assert bool(s.contains(points).all()) and bool(s.on_boundary(points).all())
    assert torch.allclose(normals.norm(dim=1), torch.ones(N, dtype=torch.float64), atol=1e-12)
    # Outward: a small step along the normal leaves the shape, a step against it enters.
    h = 1e-6
    assert bool((s.signed_distance(points + h * normals) > 0).all())
    assert bool((s.signed_distance(points - h * normals) < 0).all())


@pytest.mark.parametrize("name, shape, area, perimeter, exact", CASES, ids=IDS)
def test_reproducible_under_a_seed(name, shape, area, perimeter, exact):
    s = sampler(shape)
    assert torch.equal(s.sample_interior(100, gen(7)), s.sample_interior(100, gen(7)))
    (p1, n1), (p2, n2) = s.sample_boundary(100, gen(7)), s.sample_boundary(100, gen(7))
    assert torch.equal(p1, p2) and torch.equal(n1, n2)
    if s.dimension > 1:
        assert not torch.equal(s.sample_interior(100, gen(7)), s.sample_interior(100, gen(8)))


def test_float32_is_the_float64_sample_rounded():
    s = sampler(ANNULUS)
    p64, n64 = s.sample_boundary(500, gen(4))
    p32, n32 = s.sample_boundary(500, gen(4), dtype=torch.float32)
    assert p32.dtype == n32.dtype == torch.float32
    assert torch.equal(p32, p64.float()) and torch.equal(n32, n64.float())
    assert bool(s.contains(p32).all()) and bool(s.on_boundary(p32).all())
    assert s.sample_interior(10, gen(4), dtype=torch.float32).dtype == torch.float32


def test_interval_boundary_is_its_two_end_points_each_half_the_time():
    s = sampler(Box(("x",), (-1.0,), (3.0,)))
    points, normals = s.sample_boundary(N, gen(5))
    low = points[:, 0] == -1.0
    assert bool((low | (points[:, 0] == 3.0)).all())
    assert bool((normals[low, 0] == -1).all()) and bool((normals[~low, 0] == 1).all())
    assert_fraction(float(low.double().mean()), 0.5)
    assert s.dimension == 1 and s.axes == ("x",)
    low_box, high_box = s.bounding_box()
    assert low_box.tolist() == [-1.0] and high_box.tolist() == [3.0]


def test_intervals_combine_in_one_dimension():
    s = sampler(Csg("difference", Box(("x",), (0.0,), (2.0,)), Box(("x",), (0.5,), (1.0,))))
    assert s.measure() == pytest.approx(1.5, rel=1e-2) and s.boundary_measure() == pytest.approx(4, rel=1e-2)
    points, normals = s.sample_boundary(N, gen(5))
    for end, normal in ((0.0, -1.0), (0.5, 1.0), (1.0, -1.0), (2.0, 1.0)):
        at = points[:, 0] == end
        assert_fraction(float(at.double().mean()), 0.25)
        assert bool((normals[at, 0] == normal).all())
    inside = s.sample_interior(N, gen(5))
    assert not bool(((inside > 0.5) & (inside < 1.0)).any())


def test_zero_points():
    for shape in (SQUARE, LSHAPE, Polygon(XY, L_VERTICES)):
        s = sampler(shape)
        assert s.sample_interior(0, gen(0)).shape == (0, 2)
        points, normals = s.sample_boundary(0, gen(0))
        assert points.shape == normals.shape == (0, 2)


def test_disk_normals_are_radial_and_points_uniform():
    s = sampler(Disk(XY, (1.0, -1.0), 2.0))
    points, normals = s.sample_boundary(N, gen(6))
    center = torch.tensor([1.0, -1.0], dtype=torch.float64)
    assert torch.allclose(normals, (points - center) / 2.0, atol=1e-14)
    inside = s.sample_interior(N, gen(6))
    assert_fraction(float(((inside - center).norm(dim=1) < 1.0).double().mean()), 0.25)


def test_ball_interior_is_uniform_in_volume():
    inside = sampler(Ball(("x", "y", "z"), (0.0, 0.0, 0.0), 1.0)).sample_interior(N, gen(6))
    assert_fraction(float((inside.norm(dim=1) < 0.5).double().mean()), 0.125)


def test_annulus_inner_circle_normals_point_to_the_centre():
    s = sampler(ANNULUS)
    points, normals = s.sample_boundary(N, gen(8))
    r = points.norm(dim=1)
    inner = r < 0.75
    assert torch.allclose(r[inner], torch.full_like(r[inner], 0.5), atol=1e-14)
    assert torch.allclose(r[~inner], torch.ones_like(r[~inner]), atol=1e-14)
    assert torch.allclose(normals[inner], -points[inner] / 0.5, atol=1e-12)
    assert torch.allclose(normals[~inner], points[~inner], atol=1e-12)
    assert_fraction(float(inner.double().mean()), 1 / 3)     # by length: 0.5 / (0.5 + 1)
    interior_r = s.sample_interior(N, gen(8)).norm(dim=1)
    assert_fraction(float((interior_r < 0.75).double().mean()), (0.75**2 - 0.25) / 0.75)


@pytest.mark.parametrize("shape", [LSHAPE, Polygon(XY, L_VERTICES), Polygon(XY, L_VERTICES[::-1])],
                         ids=["csg", "polygon_cw", "polygon_ccw"])
def test_l_shape_edges_and_normals(shape):
    """The same L-shape three ways: [-1,1]^2 minus [0,1]^2, and as a polygon in both orientations."""
    points, normals = sampler(shape).sample_boundary(N, gen(9))
    x, y = points.unbind(1)
    expected = torch.zeros_like(points)
    expected[x == -1] = torch.tensor([-1.0, 0.0], dtype=torch.float64)
    expected[y == -1] = torch.tensor([0.0, -1.0], dtype=torch.float64)
    expected[(x == 1) & (y <= 0)] = torch.tensor([1.0, 0.0], dtype=torch.float64)
    expected[(y == 1) & (x <= 0)] = torch.tensor([0.0, 1.0], dtype=torch.float64)
    reentrant_x = (x == 0) & (y >= 0)        # edge x = 0, 0 <= y <= 1: normal +x
    reentrant_y = (y == 0) & (x >= 0)        # edge y = 0, 0 <= x <= 1: normal +y
    expected[reentrant_x] = torch.tensor([1.0, 0.0], dtype=torch.float64)
    expected[reentrant_y] = torch.tensor([0.0, 1.0], dtype=torch.float64)
    assert torch.equal(normals, expected)       # every point is on exactly one edge
    assert_fraction(float((reentrant_x | reentrant_y).double().mean()), 2 / 8)
    quadrants = sampler(shape).sample_interior(N, gen(9))
    assert_fraction(float(((quadrants[:, 0] < 0) & (quadrants[:, 1] > 0)).double().mean()), 1 / 3)


def test_polygon_orientation_does_not_change_the_normals():
    triangle = ((0.0, 0.0), (2.0, 0.0), (0.0, 1.0))
    for vertices in (triangle, triangle[::-1], triangle + triangle[:1]):   # last: first vertex repeated
        s = sampler(Polygon(XY, vertices))
        assert s.measure() == pytest.approx(1.0) and s.boundary_measure() == pytest.approx(3 + math.sqrt(5))
        points, normals = s.sample_boundary(2000, gen(10))
        hyp = (points[:, 0] > 0) & (points[:, 1] > 0)
        assert torch.allclose(normals[hyp], torch.tensor([1.0, 2.0], dtype=torch.float64) / math.sqrt(5))
        centroid = s.sample_interior(N, gen(10)).mean(dim=0)
        assert torch.allclose(centroid, torch.tensor([2 / 3, 1 / 3], dtype=torch.float64), atol=0.02)


def test_union_counts_a_shared_edge_once_and_drops_an_internal_face():
    touching = Csg("union", Box(XY, (0.0, 0.0), (1.0, 1.0)), Box(XY, (1.0, 0.0), (2.0, 1.0)))
    s = sampler(touching)
    assert s.boundary_measure() == pytest.approx(6.0, rel=1e-2)        # x = 1 is inside the union
    points, _ = s.sample_boundary(N, gen(11))
    assert not bool(((points[:, 0] == 1) & (points[:, 1] > 0) & (points[:, 1] < 1)).any())
    nested = Csg("union", Box(XY, (0.0, 0.0), (2.0, 1.0)), Box(XY, (0.0, 0.0), (1.0, 1.0)))
    s = sampler(nested)
    points, _ = s.sample_boundary(N, gen(11))
    assert_fraction(float((points[:, 1] == 0).double().mean()), 2 / 6)  # the bottom edge, counted once


def test_intersection_keeps_the_parts_inside_the_other():
    s = sampler(Csg("intersection", SQUARE, Disk(XY, (1.0, 1.0), 1.0)))      # a quarter disk
    assert s.measure() == pytest.approx(math.pi / 4, rel=1e-2)
    assert s.boundary_measure() == pytest.approx(2 + math.pi / 2, rel=1e-2)


def test_operands_with_axes_in_another_order():
    hole = Box(("y", "x"), (0.0, 0.0), (1.0, 1.0))
    s = sampler(Csg("difference", SQUARE, hole))
    assert s.axes == XY and s.measure() == pytest.approx(3.0, rel=1e-2)
    swapped = sampler(Box(XY, (0.0, 10.0), (1.0, 12.0)), axes=("y", "x"))
    low, high = swapped.bounding_box()
    assert swapped.axes == ("y", "x") and low.tolist() == [10.0, 0.0] and high.tolist() == [12.0, 1.0]
    assert bool((swapped.sample_interior(100, gen(0))[:, 0] >= 10).all())
    assert swapped.contains(torch.tensor([[11.0, 0.5], [0.5, 11.0]], dtype=torch.float64)).tolist() == [True, False]


def test_contains_is_closed_with_a_small_tolerance():
    s = sampler(Box(XY, (0.0, 0.0), (1.0, 1.0)))
    points = torch.tensor([[1.0, 0.5], [1.0 + 1e-13, 0.5], [1.0 + 1e-6, 0.5], [0.5, 0.5]], dtype=torch.float64)
    assert s.contains(points).tolist() == [True, True, False, True]
    assert s.on_boundary(points).tolist() == [True, True, False, False]


def test_estimated_normal_at_a_corner_is_the_bisector():
    s = sampler(Box(XY, (0.0, 0.0), (1.0, 1.0)))
    normal = s.estimate_normals(torch.tensor([[0.0, 0.0], [1.0, 0.5]], dtype=torch.float64))
    assert torch.allclose(normal, torch.tensor([[-1.0, -1.0], [math.sqrt(2), 0.0]], dtype=torch.float64) / math.sqrt(2))


def test_empty_shapes_fail_clearly():
    apart = sampler(Csg("intersection", Disk(XY, (0.0, 0.0), 1.0), Disk(XY, (5.0, 0.0), 1.0)))
    with pytest.raises(SamplingError, match="interior"):
        apart.sample_interior(10, gen(0))
    with pytest.raises(SamplingError, match="boundary"):
        apart.sample_boundary(10, gen(0))
    with pytest.raises(SamplingError):
        sampler(Disk(XY, (0.0, 0.0), 0.0))
