"""Problem-level sampling: domains, boundaries, regions (refined, point-like, empty), time, periodic pairs."""

import math
from pathlib import Path

import pytest
import torch

import pdedsl
from pdedsl.ir import TargetRef
from pdedsl.runtime import (Batch, SamplingError, sample_initial, sample_periodic_pairs, sample_space_time,
                            sample_target, target_sampler)

SPECS = Path(__file__).resolve().parents[2] / "specs"
N = 4000


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def spec(name: str):
    return pdedsl.load(SPECS / f"{name}.pde")


def region(problem, name, n=N, seed=0, **kw) -> Batch:
    return sample_target(problem, TargetRef("region", name), n, gen(seed), **kw)


def vec(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_box_edges_by_predicate():
    problem = spec("robin_cooling")
    left = region(problem, "left")
    assert left.points.shape == left.normals.shape == (N, 2) and left.axes == ("x", "y")
    assert bool((left.points[:, 0] == 0).all()) and bool((left.normals == vec(-1, 0)).all())
    assert 0.45 < float(left.points[:, 1].mean()) < 0.55
    right = region(problem, "right")
    assert bool((right.points[:, 0] == 1).all()) and bool((right.normals == vec(1, 0)).all())
    walls = region(problem, "walls")
    y = walls.points[:, 1]
    assert bool(((y == 0) | (y == 1)).all())
    assert torch.equal(walls.normals[:, 1], 2 * y - 1) and bool((walls.normals[:, 0] == 0).all())
    assert abs(float((y == 0).double().mean()) - 0.5) < 0.05


def test_interior_regions():
    problem = spec("interior_source")
    inside = region(problem, "inside")
    r2 = (inside.points**2).sum(dim=1)
    assert inside.normals is None and bool((r2 < 0.25).all())
    assert abs(float(r2.mean()) - 0.125) < 0.01                   # uniform in the disc: E[r^2] = R^2 / 2
    outside = region(problem, "outside").points
    assert bool(((outside**2).sum(dim=1) >= 0.25).all()) and bool((outside.abs() <= 1).all())


def test_annulus_rims():
    problem = spec("annulus")
    inner, outer = region(problem, "inner"), region(problem, "outer")
    assert torch.allclose(inner.points.norm(dim=1), torch.full((N,), 0.5, dtype=torch.float64), atol=1e-14)
    assert torch.allclose(inner.normals, -inner.points / 0.5, atol=1e-12)       # towards the centre
    assert torch.allclose(outer.points.norm(dim=1), torch.ones(N, dtype=torch.float64), atol=1e-14)
    assert torch.allclose(outer.normals, outer.points, atol=1e-12)


def test_plate_with_hole_pieces():
    problem = spec("plate_with_hole")
    hole, outer = region(problem, "hole"), region(problem, "outer")
    assert torch.allclose(hole.points.norm(dim=1), torch.full((N,), 0.3, dtype=torch.float64), atol=1e-14)
    assert torch.allclose(hole.normals, -hole.points / 0.3, atol=1e-12)
    assert bool((outer.points.norm(dim=1) > 0.8).all())
    assert bool(((outer.points * outer.normals).sum(dim=1) > 0).all())         # a convex hexagon: outward


def test_whole_domain_and_boundary_targets():
    problem = spec("lshape")
    interior = sample_target(problem, TargetRef("domain", "L"), N, gen(1))
    assert interior.normals is None
    assert not bool(((interior.points[:, 0] > 0) & (interior.points[:, 1] > 0)).any())
    boundary = sample_target(problem, TargetRef("boundary", "L"), N, gen(1))
    reentrant = (boundary.points[:, 0] == 0) & (boundary.points[:, 1] > 0)
    assert bool((boundary.normals[reentrant] == vec(1, 0)).all())
    ball = sample_target(spec("ball_poisson"), TargetRef("boundary", "B"), N, gen(1))
    assert ball.points.shape == (N, 3) and torch.allclose(ball.normals, ball.points, atol=1e-12)


def test_reproducible_and_dtype():
    problem = spec("robin_cooling")
    a, b = region(problem, "walls", seed=3), region(problem, "walls", seed=3)
    assert torch.equal(a.points, b.points) and torch.equal(a.normals, b.normals)
    assert not torch.equal(a.points, region(problem, "walls", seed=4).points)
    single = region(problem, "walls", seed=3, dtype=torch.float32)
    assert single.points.dtype == single.normals.dtype == torch.float32
    assert torch.equal(single.points, a.points.float())


REFINED = """problem refined
domain Omega = box(x: [0, 2], y: [0, 1])
const half = 0.5
region left = boundary(Omega) where x == 0
region low_left = left where y < half
region alias = low_left
region nowhere = Omega where x > 2
region seam = boundary(Omega) where x == 1
region centre = Omega where x == 1 and y == half
field u
equation in Omega:
    u = 0
"""


def test_refined_regions_apply_every_parent_predicate():
    problem = pdedsl.load(REFINED)
    for name in ("low_left", "alias"):
        batch = region(problem, name)
        assert bool((batch.points[:, 0] == 0).all()) and bool((batch.points[:, 1] < 0.5).all())
        assert bool((batch.normals == vec(-1, 0)).all())


def test_a_region_that_matches_no_point_fails_clearly():
    problem = pdedsl.load(REFINED)
    with pytest.raises(SamplingError, match=r"region 'nowhere' \(<spec>:\d+:1\)"):  # located in the spec
        region(problem, "nowhere", n=10)
    seam = region(problem, "seam", n=10).columns()  # two points of the boundary (an error before session 33)
    assert bool((seam["x"] == 1).all() and ((seam["y"] == 0) | (seam["y"] == 1)).all())


def test_an_empty_domain_fails_where_it_is_declared():
    problem = pdedsl.load("problem p\ndomain A = box(x: [0, 1], y: [0, 1]) & box(x: [2, 3], y: [0, 1])\nfield u\n"
                          "equation in A:\n    u = 1\n")
    with pytest.raises(SamplingError, match=r"domain 'A' \(<spec>:2:1\): could not sample"):
        sample_target(problem, TargetRef("domain", "A"), 10, gen(0))


def test_a_region_that_is_one_point():
    corner = region(spec("stokes"), "corner", n=5)
    assert torch.equal(corner.points, torch.zeros(5, 2, dtype=torch.float64))
    assert torch.allclose(corner.normals, vec(-1, -1).expand(5, 2) / math.sqrt(2))
    centre = region(pdedsl.load(REFINED), "centre", n=3)
    assert centre.normals is None and torch.equal(centre.points, vec(1, 0.5).expand(3, 2))


def test_space_time_and_initial_points():
    problem = spec("heat")
    ends = sample_space_time(problem, TargetRef("region", "ends"), N, gen(5))
    assert ends.coordinates.shape == (N, 2) and ends.time_axis == "t"
    assert bool(((ends.points[:, 0] == 0) | (ends.points[:, 0] == 1)).all())
    assert torch.equal(ends.normals[:, 0], 2 * ends.points[:, 0] - 1)
    assert bool(((ends.time >= 0) & (ends.time <= 1)).all()) and abs(float(ends.time.mean()) - 0.5) < 0.03
    initial = sample_initial(problem, None, N, gen(5))
    assert bool((initial.time == 0).all()) and torch.equal(initial.coordinates[:, 1], initial.time)
    assert bool(((initial.points > 0) & (initial.points < 1)).all())
    columns = initial.columns()
    assert set(columns) == {"x", "t"} and torch.equal(columns["x"], initial.points[:, 0])
    schrodinger = spec("schrodinger")
    t = sample_space_time(schrodinger, TargetRef("domain", "Omega"), N, gen(5)).time
    assert float(t.max()) <= math.pi / 2 and float(t.min()) >= 0
    with pytest.raises(SamplingError, match="no time axis"):
        sample_space_time(spec("poisson"), TargetRef("boundary", "Omega"), 3, gen(0))


def test_periodic_pairs_on_an_interval():
    problem = spec("allen_cahn")
    low, high = sample_periodic_pairs(problem, problem.periodic[0], 50, gen(6))
    assert bool((low.points == -1).all()) and bool((high.points == 1).all())
    assert bool((low.normals == -1).all()) and bool((high.normals == 1).all())
    assert torch.equal(low.time, high.time) and len(set(low.time.tolist())) == 50


def test_periodic_pairs_on_a_box():
    problem = pdedsl.load("""problem channel
domain Omega = box(x: [0, 2], y: [-1, 1])
field u
equation in Omega:
    u = 0
periodic u in y
""")
    low, high = sample_periodic_pairs(problem, problem.periodic[0], 200, gen(7))
    assert bool((low.points[:, 1] == -1).all()) and bool((high.points[:, 1] == 1).all())
    assert torch.equal(low.points[:, 0], high.points[:, 0]) and low.time is None
    assert bool((low.normals == vec(0, -1)).all()) and bool((high.normals == vec(0, 1)).all())


def test_points_follow_the_problem_axis_order():
    problem = pdedsl.load("""problem swapped
domain D = box(x: [0, 1], y: [0, 2]) - disk(center: (1, 0.5), radius: 0.25, axes: (y, x))
field u
equation in D:
    u = 0
""")
    batch = sample_target(problem, TargetRef("boundary", "D"), N, gen(8))
    assert batch.axes == problem.axes
    on_hole = ((batch.points - vec(0.5, 1)).norm(dim=1) - 0.25).abs() < 1e-12   # x = 0.5, y = 1
    expected = 0.5 * math.pi / (6 + 0.5 * math.pi)                               # by length
    assert abs(float(on_hole.double().mean()) - expected) < 5 * math.sqrt(expected * (1 - expected) / N)
    assert torch.allclose(batch.normals[on_hole], -(batch.points[on_hole] - vec(0.5, 1)) / 0.25, atol=1e-12)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.pde")), ids=lambda p: p.stem)
def test_every_target_of_every_spec_can_be_sampled(path):
    problem = pdedsl.load(path)
    targets = {c.target for c in problem.equations + problem.boundary_conditions if c.target is not None}
    targets |= {TargetRef("region", r.name) for r in problem.regions}
    for target in sorted(targets, key=str):
        batch = (sample_space_time if problem.time else sample_target)(problem, target, 64, gen(0))
        assert batch.points.shape == (64, len(problem.axes)) and batch.axes == problem.axes
        region = problem.region(target.name) if target.kind == "region" else None
        domain = region.domain if region else target.name
        assert bool(target_sampler(problem, domain).contains(batch.points).all())
        assert (batch.normals is not None) == (target.kind == "boundary" or bool(region and region.on_boundary))
        if problem.time:
            assert batch.coordinates.shape == (64, len(problem.axes) + 1)
            assert bool(((batch.time >= problem.time.start) & (batch.time <= problem.time.end)).all())
    if problem.time:
        assert bool((sample_initial(problem, None, 8, gen(0)).time == problem.time.start).all())
    for periodic in problem.periodic:
        low, high = sample_periodic_pairs(problem, periodic, 8, gen(0))
        assert torch.equal(low.time, high.time)


def test_a_region_pinned_on_one_axis_is_a_line_sampled_uniformly(tmp_path):
    spec = tmp_path / "line.pde"
    spec.write_text("domain Omega = disk(center: (0, 0), radius: 1)\nfield u\nregion mid = Omega where x == 0.5\n"
                    "equation in Omega:\n    -laplace(u) = 1\nequation in mid:\n    u = 0.1\n"
                    "boundary on boundary(Omega):\n    u = 0\n")
    problem = pdedsl.load(spec)
    batch = sample_target(problem, TargetRef("region", "mid"), 4000, torch.Generator().manual_seed(0))
    columns = batch.columns()
    assert torch.all(columns["x"] == 0.5)
    half = (1 - 0.5 ** 2) ** 0.5  # the chord at x = 0.5: |y| <= sqrt(3)/2, uniform along it
    assert float(columns["y"].abs().max()) <= half and float(columns["y"].abs().max()) > 0.99 * half
    assert abs(float(columns["y"].std()) - 2 * half / 12 ** 0.5) < 0.02


@pytest.mark.parametrize("predicate, residual", [
    ("x == y", lambda c: c["x"] - c["y"]),                                   # '==' between coordinates
    ("x^2 + y^2 == 0.25", lambda c: c["x"] ** 2 + c["y"] ** 2 - 0.25),       # a circle inside the square
    ("x + 2*y == 1 and x > 0", lambda c: c["x"] + 2 * c["y"] - 1),
])
def test_an_interior_region_on_a_curve_is_sampled_on_it(predicate, residual):
    """'==' on coordinates is 'within tolerance' on any curve, not only an axis pinned to a number: uniform
    points never land on one (training stopped: 'could not sample region ...')."""
    problem = pdedsl.load("domain Omega = box(x: [-1, 1], y: [-1, 1])\nfield u\nregion c = Omega where "
                          + predicate + "\nequation in Omega:\n    -laplace(u) = 1\nequation in c:\n    u = 0.1\n"
                          "boundary on boundary(Omega):\n    u = 0\n")
    with torch.no_grad():  # as where a run samples points to evaluate on
        batch = region(problem, "c", n=2000)
    columns = batch.columns()
    assert len(batch) == 2000 and torch.isfinite(batch.points).all()
    assert float(residual(columns).abs().max()) < 1e-6
    assert float(columns["x"].abs().max()) <= 1 and float(columns["y"].abs().max()) <= 1
    assert float(columns["x"].std()) > 0.2  # spread along the curve, not piled up at one point


def test_an_interior_region_of_several_lines_is_sampled_on_each():
    """'x == 0.25 or x == 0.75' inside a square: two lines, which one uniform draw never meets (training stopped)."""
    problem = pdedsl.load("domain Omega = box(x: [0, 1], y: [0, 1])\nfield u\n"
                          "region cuts = Omega where x == 0.25 or (x == 0.75 and y < 0.5)\n"
                          "equation in Omega:\n    -laplace(u) = 1\nequation in cuts:\n    u = 0.1\n"
                          "boundary on boundary(Omega):\n    u = 0\n")
    columns = region(problem, "cuts", n=3000).columns()
    first, second = columns["x"] == 0.25, columns["x"] == 0.75
    assert bool((first | second).all())
    assert 1200 < int(first.sum()) < 1800  # each piece gets its share
    assert float(columns["y"][second].max()) < 0.5 and float(columns["y"][first].max()) > 0.99
    again = region(problem, "cuts", n=3000).columns()
    assert torch.equal(columns["x"], again["x"])  # reproducible under a seed
    assert not bool(first[:1500].all())  # the pieces are mixed, not one after the other


def test_a_piece_of_a_region_outside_its_domain_leaves_the_others_all_the_points():
    problem = pdedsl.load("domain Omega = box(x: [0, 1], y: [0, 1])\nfield u\nregion cuts = Omega where x == 0.25 or x == 5\n"
                          "equation in Omega:\n    -laplace(u) = 1\nequation in cuts:\n    u = 0.1\n"
                          "boundary on boundary(Omega):\n    u = 0\n")
    assert bool((region(problem, "cuts", n=500).columns()["x"] == 0.25).all())
    nowhere = pdedsl.load("domain Omega = box(x: [0, 1], y: [0, 1])\nfield u\nregion cuts = Omega where x == 3 or x == 5\n"
                          "equation in Omega:\n    -laplace(u) = 1\nequation in cuts:\n    u = 0.1\n"
                          "boundary on boundary(Omega):\n    u = 0\n")
    with pytest.raises(SamplingError, match="region 'cuts'"):
        region(nowhere, "cuts", n=500)


def test_a_region_of_a_domain_whose_boundary_cannot_be_sampled_fails_where_the_domain_is_declared():
    """Was unlocated ('could not sample the boundary of (box(...) & box(...))'): the region's own draw met it."""
    problem = pdedsl.load("problem p\ndomain A = box(x: [0, 1], y: [0, 1]) & box(x: [2, 3], y: [0, 1])\n"
                          "region r = boundary(A) where x < 1\nfield u\nequation in A:\n    u = 1\n"
                          "boundary on r:\n    u = 0\n")
    with pytest.raises(SamplingError, match=r"domain 'A' \(<spec>:2:1\): could not sample the boundary"):
        sample_target(problem, TargetRef("region", "r"), 10, gen(0))


def test_a_domain_whose_sampler_cannot_be_built_fails_where_it_is_declared(monkeypatch):
    """A shape the checker passed but floating point then could not use (a polygon whose area float64 sums to 0,
    say) was reported as 'polygon(...) has no area', naming no line."""
    import pdedsl.runtime.sampling as sampling

    def refuse(shape, axes=None):
        raise SamplingError(f"{shape} has no area")

    problem = pdedsl.load("problem p\ndomain A = polygon((0, 0), (1, 0), (0, 1))\nfield u\nequation in A:\n"
                          "    u = 1\n")
    monkeypatch.setattr(sampling, "sampler", refuse)
    sampling._cached_sampler.cache_clear()
    try:
        with pytest.raises(SamplingError, match=r"domain 'A' \(<spec>:2:1\): polygon\(.*\) has no area"):
            sample_target(problem, TargetRef("domain", "A"), 10, gen(0))
    finally:
        sampling._cached_sampler.cache_clear()


def test_a_polygon_the_checker_passes_has_an_area_at_run_time_too():
    """A sliver vertex far out ((-1, -1e20)): the shoelace terms of size 1e20 cancel; the checker's Python sum
    kept a nonzero area and torch's sum, in another order, found 0 ('has no area'). Both sum exactly now."""
    from pdedsl.runtime.shapes import PolygonSampler

    vertices = [(1, 0), (0.5, 0.866), (-0.5, 0.866), (-1, -1e20), (-0.5, -0.866), (0.5, -0.866)]
    text = ", ".join(f"({x}, {y})" for x, y in vertices)
    pdedsl.load(f"problem p\ndomain A = polygon({text})\nfield u\nequation in A:\n    u = 1\n")  # passes the check
    assert PolygonSampler(("x", "y"), vertices).measure() == pytest.approx(1.732)


def _on_boundary(domain: str, predicate: str):
    return pdedsl.load(f"problem p\ndomain B = {domain}\nregion r = boundary(B) where {predicate}\nfield u\n"
                       "equation in B:\n    u = 1\nboundary on r:\n    u = 0\n")


def test_an_edge_of_a_box_is_sampled_along_it_with_the_bisector_for_normal():
    """'boundary(B) where y == 0 and z == 0' is a line on the boundary surface: points drawn on the faces never
    met it, and training stopped with 'could not sample region'."""
    problem = _on_boundary("box(x: [0, 1], y: [0, 1], z: [0, 2])", "z == 0 and y == 0")
    batch = region(problem, "r", n=2000)
    columns = batch.columns()
    assert bool((columns["y"] == 0).all() and (columns["z"] == 0).all())
    assert abs(float(columns["x"].mean()) - 0.5) < 0.03 and abs(float(columns["x"].std()) - 12 ** -0.5) < 0.02
    assert torch.allclose(batch.normals, vec(0, -(0.5 ** 0.5), -(0.5 ** 0.5)).expand(2000, 3))
    again = region(problem, "r", n=2000)
    assert torch.equal(batch.points, again.points)  # reproducible under a seed


@pytest.mark.parametrize("domain, predicate, check", [
    ("ball(center: (0, 0, 0), radius: 1)", "z == 0",                       # the equator
     lambda c: (c["z"] == 0) & ((c["x"] ** 2 + c["y"] ** 2).sqrt() - 1).abs().lt(1e-9)),
    ("disk(center: (0, 0), radius: 1)", "x == 0",                          # two points of the rim
     lambda c: (c["x"] == 0) & (c["y"].abs() - 1).abs().lt(1e-9)),
    ("box(x: [0, 1], y: [0, 1])", "x == 0.5",                              # two points of the square's rim
     lambda c: (c["x"] == 0.5) & ((c["y"] == 0) | (c["y"] == 1))),
    ("box(x: [0, 1], y: [0, 1], z: [0, 1])", "z == 1 and x^2 + y^2 == 0.25",  # a quarter circle on the top face
     lambda c: (c["z"] == 1) & (c["x"] ** 2 + c["y"] ** 2 - 0.25).abs().lt(1e-9)),
])
def test_a_curve_or_points_on_a_boundary_are_sampled_on_them(domain, predicate, check):
    batch = region(_on_boundary(domain, predicate), "r", n=1000)
    assert bool(check(batch.columns()).all())
    assert torch.allclose(batch.normals.norm(dim=1), torch.ones(1000, dtype=torch.float64))


def test_a_line_through_a_disk_meets_its_rim_nowhere_off_the_disk():
    """'boundary(D) where x == 0 and y == 0.5': the point is inside the disk, not on its rim: still an error."""
    with pytest.raises(SamplingError, match="region 'r'"):
        region(_on_boundary("disk(center: (0, 0), radius: 1)", "x == 0 and y == 0.5"), "r", n=10)


def test_a_ball_s_equator_is_sampled_on_it():
    """'boundary(B) where z == 0' on a ball is a circle on its sphere, which boundary points never land on
    (check passed it and training stopped: 'could not sample region')."""
    problem = pdedsl.load("domain B = ball(center: (0, 0, 0), radius: 1)\nfield u\n"
                          "region equator = boundary(B) where z == 0\nequation in B:\n    -laplace(u) = 1\n"
                          "boundary on boundary(B):\n    dn(u) = 0\nboundary on equator:\n    u = 0\n")
    batch = region(problem, "equator", n=2000)
    columns = batch.columns()
    assert len(batch) == 2000 and bool((columns["z"].abs() < 1e-6).all())
    radius = (columns["x"] ** 2 + columns["y"] ** 2).sqrt()
    assert float((radius - 1).abs().max()) < 1e-6
    angle = torch.atan2(columns["y"], columns["x"])  # uniform around the circle
    assert abs(float(angle.mean())) < 0.15 and abs(float(angle.std()) - math.pi / 3 ** 0.5) < 0.1
    assert float((batch.normals - batch.points).abs().max()) < 1e-4  # the sphere's outward normal


@pytest.mark.parametrize("predicate, expected", [
    ("x == 0 and y < 0", (0.0, -1.0)),                 # one point of the circle, the other excluded
    ("x + y == 0 and x > 0", (0.5 ** 0.5, -0.5 ** 0.5)),  # a curve crossing the circle
])
def test_a_curve_crossing_a_disk_s_rim_is_sampled_where_it_crosses(predicate, expected):
    problem = pdedsl.load("domain D = disk(center: (0, 0), radius: 1)\nfield u\nregion p = boundary(D) where "
                          + predicate + "\nequation in D:\n    -laplace(u) = 1\nboundary on boundary(D):\n    u = 0\n"
                          "boundary on p:\n    dn(u) = 0\n")
    batch = region(problem, "p", n=300)
    assert float((batch.points - vec(*expected)).abs().max()) < 1e-6
    assert float((batch.normals - vec(*expected)).abs().max()) < 1e-4


def test_a_box_face_picked_by_a_pin_stays_uniform_on_the_face():
    """The projection onto a thin set is for sets boundary points miss: a face stays sampled by rejection."""
    problem = pdedsl.load("domain O = box(x: [0, 1], y: [0, 1], z: [0, 1])\nfield u\n"
                          "region bottom = boundary(O) where z == 0\nequation in O:\n    -laplace(u) = 1\n"
                          "boundary on boundary(O):\n    u = 0\nboundary on bottom:\n    dn(u) = 0\n")
    columns = region(problem, "bottom", n=4000).columns()
    assert bool((columns["z"] == 0).all())
    assert abs(float(columns["x"].std()) - 1 / 12 ** 0.5) < 0.02 and float(columns["x"].min()) < 0.01
def test_a_union_of_crossings_of_a_sphere_is_sampled_on_each():
    """'boundary(B) where z == 0 or z == 0.5': two circles on the sphere, each with its share of the points."""
    problem = pdedsl.load("domain B = ball(center: (0, 0, 0), radius: 1)\nfield u\n"
                          "region rings = boundary(B) where z == 0 or z == 0.5\nequation in B:\n    -laplace(u) = 1\n"
                          "boundary on boundary(B):\n    dn(u) = 0\nboundary on rings:\n    u = 0\n")
    batch = region(problem, "rings", n=1000)
    z = batch.columns()["z"]
    first, second = z.abs() < 1e-6, (z - 0.5).abs() < 1e-6
    assert bool((first | second).all()) and 400 < int(first.sum()) < 600
    assert float((batch.points.norm(dim=1) - 1).abs().max()) < 1e-6
    assert float((batch.normals - batch.points).abs().max()) < 1e-4  # each point keeps its own normal
    box = pdedsl.load("domain O = box(x: [0, 3], y: [0, 1])\nfield u\nregion ends = boundary(O) where y == 0 or x == 0\n"
                      "equation in O:\n    -laplace(u) = 1\nboundary on boundary(O):\n    u = 0\n")
    columns = region(box, "ends", n=4000).columns()  # faces stay sampled whole: by their lengths, 3 to 1
    assert 2800 < int((columns["y"] == 0).sum()) < 3200
