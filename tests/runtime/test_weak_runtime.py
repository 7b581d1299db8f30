"""Weak-form runtime: radial test functions, ball quadrature, particles, and a weak residual of a known solution."""

import math

import numpy as np
import pytest
import sympy as sp
import torch

from pdedsl.ir.geometry import Box, Csg, Disk, Polygon
from pdedsl.runtime.geometry import SamplingError, sampler
from pdedsl.runtime.weak import (Bump, Wendland, fixed, gauss_legendre_1d, grid_ball, linear, radius_at,
                                 sample_particles, to_particles)

F64 = torch.float64
XY = ("x", "y")
L_VERTICES = ((0.0, 0.0), (1.0, 0.0), (1.0, -1.0), (-1.0, -1.0), (-1.0, 1.0), (0.0, 1.0))
HOLED_SQUARE = Csg("difference", Box(XY, (-1.0, -1.0), (1.0, 1.0)), Disk(XY, (0.0, 0.0), 0.5))
TEST_FUNCTIONS = [Wendland(1), Wendland(2), Wendland(3), Bump()]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def wendland_formula(dimension: int):
    """The Wendland profile as a SymPy expression in ``r``, written out from its definition."""
    r, k = sp.symbols("r"), dimension // 2 + 3
    return r, (1 - r) ** (k + 2) * ((k ** 2 + 4 * k + 3) * r ** 2 + (3 * k + 6) * r + 3) / 3


def random_particles(dimension: int, count: int = 5, per_particle: int = 40, seed: int = 0):
    """Centres, radii and points ``[P, K, d]`` spread to about twice each radius (inside and outside the support)."""
    g = gen(seed)
    centres = torch.randn(count, dimension, generator=g, dtype=F64)
    radii = 0.2 + torch.rand(count, generator=g, dtype=F64)
    points = centres[:, None] + 1.2 * radii[:, None, None] * torch.randn(count, per_particle, dimension,
                                                                         generator=g, dtype=F64)
    return points, centres, radii


# ---- test functions ----
@pytest.mark.parametrize("dimension", [1, 2, 3])
def test_wendland_is_one_at_the_centre_and_c1_zero_at_the_rim(dimension):
    fn = Wendland(dimension)
    r, formula = wendland_formula(dimension)
    assert float(formula.subs(r, 0)) == 1.0
    assert float(fn.profile(torch.zeros(1, dtype=F64))) == 1.0
    outside = torch.tensor([1.0, 1.2, 5.0], dtype=F64)
    assert torch.equal(fn.profile(outside), torch.zeros(3, dtype=F64))
    assert torch.equal(fn.slope(outside), torch.zeros(3, dtype=F64))
    gap = torch.tensor([1e-2, 1e-3], dtype=F64)
    assert (fn.profile(1 - gap) / gap).abs().max() < 1e-4      # value vanishes faster than the gap
    assert (fn.slope(1 - gap) / gap).abs().max() < 1e-2        # and so does the derivative
    inside = torch.linspace(0, 1, 11, dtype=F64)
    expected = torch.tensor([float(formula.subs(r, float(t))) for t in inside], dtype=F64)
    torch.testing.assert_close(fn.profile(inside), expected, rtol=1e-12, atol=1e-14)


def test_wendland_in_2d_is_the_classic_c4_function():
    r = torch.linspace(0, 1, 21, dtype=F64)
    torch.testing.assert_close(Wendland(2).profile(r), (1 - r) ** 6 * (35 * r ** 2 + 18 * r + 3) / 3)


@pytest.mark.parametrize("fn", TEST_FUNCTIONS, ids=repr)
def test_analytic_slope_matches_autograd_of_the_profile(fn):
    r = torch.linspace(0.01, 0.99, 50, dtype=F64, requires_grad=True)
    (slope,) = torch.autograd.grad(fn.profile(r).sum(), r)
    torch.testing.assert_close(fn.slope(r.detach()), slope, rtol=1e-10, atol=1e-12)


def cartesian_gauss_rule(dimension: int, panels: int = 8, per_panel: int = 8):
    """A composite Gauss-Legendre product rule on ``[-1, 1]^d``: points ``[1, K, d]`` and weights ``[K]``."""
    nodes, weights = np.polynomial.legendre.leggauss(per_panel)
    edges = np.linspace(-1, 1, panels + 1)
    half = (edges[1:] - edges[:-1])[:, None] / 2
    axis = torch.tensor(((edges[:-1, None] + edges[1:, None]) / 2 + half * nodes).ravel(), dtype=F64)
    axis_weights = torch.tensor((half * weights).ravel(), dtype=F64)
    points = torch.stack(torch.meshgrid(*[axis] * dimension, indexing="ij"), dim=-1).reshape(1, -1, dimension)
    product = torch.stack(torch.meshgrid(*[axis_weights] * dimension, indexing="ij"), dim=-1).prod(dim=-1)
    return points, product.reshape(-1)


@pytest.mark.parametrize("dimension", [1, 2, 3])
def test_wendland_integral_over_the_ball_matches_the_radial_closed_form(dimension):
    r, formula = wendland_formula(dimension)
    half = sp.Rational(dimension, 2)
    surface_area = 2 * sp.pi ** half / sp.gamma(half)
    exact = float(surface_area * sp.integrate(formula * r ** (dimension - 1), (r, 0, 1)))
    points, weights = cartesian_gauss_rule(dimension)
    values = Wendland(dimension).values(points, torch.zeros(1, dimension, dtype=F64), torch.ones(1, dtype=F64))
    assert float(values[0] @ weights) == pytest.approx(exact, rel=1e-4)


@pytest.mark.parametrize("fn", TEST_FUNCTIONS, ids=repr)
def test_gradients_match_autograd(fn):
    dimension = getattr(fn, "dimension", 2)
    points, centres, radii = random_particles(dimension)
    points.requires_grad_(True)
    values = fn.values(points, centres, radii)
    (expected,) = torch.autograd.grad(values.sum(), points)
    assert 0 < int((values > 0).sum()) < values.numel()         # both inside and outside the supports
    gradients = fn.gradients(points.detach(), centres, radii)
    torch.testing.assert_close(gradients, expected, rtol=1e-10, atol=1e-12)
    both = fn(points.detach(), centres, radii)
    torch.testing.assert_close(both[0], values.detach(), rtol=0, atol=0)
    torch.testing.assert_close(both[1], gradients, rtol=0, atol=0)


@pytest.mark.parametrize("fn", TEST_FUNCTIONS, ids=repr)
def test_second_derivatives_match_autograd_and_stay_finite_at_the_centre(fn):
    """For terms integrated by parts twice: every (a, b) entry of phi's Hessian, inside, outside and at the centre."""
    dimension = getattr(fn, "dimension", 2)
    points, centres, radii = random_particles(dimension)
    points = torch.cat([points, centres[:, None, :]], dim=1)  # the centres themselves, where r = 0
    pairs = [(a, b) for a in range(dimension) for b in range(a, dimension)]
    seconds = fn.second_derivatives(points, centres, radii, pairs)
    assert len(seconds) == len(pairs)
    moving = points.clone().requires_grad_(True)
    (gradients,) = torch.autograd.grad(fn.values(moving, centres, radii).sum(), moving, create_graph=True)
    for (a, b), second in zip(pairs, seconds):
        (expected,) = torch.autograd.grad(gradients[..., a].sum(), moving, retain_graph=True)
        assert torch.isfinite(second).all()
        torch.testing.assert_close(second[:, :-1], expected[:, :-1, b], rtol=1e-9, atol=1e-9)
    # at the centre: d2 phi / dx_a dx_b = profile''(0) / R^2 on the diagonal, 0 off it
    radius = radii[:, None]
    curvature = fn.slope_over_r(torch.zeros(1, dtype=F64))
    for (a, b), second in zip(pairs, seconds):
        centre = second[:, -1:]
        torch.testing.assert_close(centre, (curvature / radius.square()) if a == b else torch.zeros_like(centre))


@pytest.mark.parametrize("fn", TEST_FUNCTIONS, ids=repr)
def test_centre_has_zero_gradient_and_outside_is_zero(fn):
    dimension = getattr(fn, "dimension", 2)
    centres = torch.tensor([[0.3] * dimension, [-1.0] * dimension], dtype=F64)
    radii = torch.tensor([0.5, 2.0], dtype=F64)
    direction = torch.ones(dimension, dtype=F64) / math.sqrt(dimension)
    distances = torch.tensor([0.0, 1.0, 1.5, 1 - 1e-13], dtype=F64)     # in radii: centre, rim, outside, near rim
    points = centres[:, None] + radii[:, None, None] * distances[None, :, None] * direction
    values, gradients = fn(points, centres, radii)
    assert torch.isfinite(values).all() and torch.isfinite(gradients).all()
    torch.testing.assert_close(values[:, 0], torch.ones(2, dtype=F64))
    assert torch.equal(gradients[:, 0], torch.zeros(2, dimension, dtype=F64))
    assert values[:, 1].abs().max() < 1e-30 and gradients[:, 1].abs().max() < 1e-25   # zero up to rounding of r
    assert torch.equal(values[:, 2], torch.zeros(2, dtype=F64))
    assert torch.equal(gradients[:, 2], torch.zeros(2, dimension, dtype=F64))
    assert gradients[:, 3].abs().max() < 1e-6


def test_test_functions_keep_the_dtype_and_check_shapes():
    points, centres, radii = random_particles(2)
    values, gradients = Wendland(2)(points.float(), centres.float(), radii.float())
    assert values.dtype == gradients.dtype == torch.float32
    assert values.shape == points.shape[:2] and gradients.shape == points.shape
    with pytest.raises(ValueError, match="centres"):
        Bump().values(points, centres[:, :1], radii)
    with pytest.raises(ValueError, match="radii"):
        Bump().values(points, centres, radii[:2])


# ---- quadrature ----
@pytest.mark.parametrize("dimension, n, count, closed_count", [(2, 7, 25, 29), (2, 9, 45, 49), (1, 12, 10, 12),
                                                                (3, 5, 27, 33)])
def test_grid_ball_counts_weights_and_points(dimension, n, count, closed_count):
    for include_boundary, expected in ((False, count), (True, closed_count)):
        points, weights = grid_ball(dimension, n, include_boundary=include_boundary)
        assert points.shape == (expected, dimension) and weights.shape == (expected,)
        assert float(weights.sum()) == pytest.approx(1.0, abs=1e-14)
        assert torch.all(weights == weights[0])
        assert float(points.norm(dim=1).max()) <= 1 + 1e-15


@pytest.mark.parametrize("dimension", [1, 2, 3])
def test_grid_ball_mean_of_x_squared_converges(dimension):
    errors = []
    for n in (5, 9, 17, 33):
        points, weights = grid_ball(dimension, n)
        errors.append(abs(float(points[:, 0].square() @ weights) - 1 / (dimension + 2)))
    assert all(later < earlier for earlier, later in zip(errors, errors[1:])), errors
    assert errors[-1] < errors[0] / 5


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_gauss_legendre_averages_degree_2n_minus_1_exactly(n):
    points, weights = gauss_legendre_1d(n)
    assert points.shape == (n, 1) and float(weights.sum()) == pytest.approx(1.0, abs=1e-14)
    x = points[:, 0]
    for degree in range(2 * n + 1):
        exact = 0.0 if degree % 2 else 1 / (degree + 1)              # mean of x^degree over [-1, 1]
        error = abs(float(x ** degree @ weights) - exact)
        assert error < 1e-14 if degree < 2 * n else error > 1e-6    # exact up to 2n - 1, not beyond


def test_to_particles_scales_and_moves_the_reference_points():
    reference, _ = grid_ball(2, 7)
    centres = torch.tensor([[0.0, 0.0], [1.0, -2.0]], dtype=F64)
    radii = torch.tensor([1.0, 0.25], dtype=F64)
    points = to_particles(reference, centres, radii)
    assert points.shape == (2, reference.shape[0], 2)
    torch.testing.assert_close(points[0], reference)
    torch.testing.assert_close(points[1], torch.tensor([1.0, -2.0], dtype=F64) + 0.25 * reference)


# ---- particles ----
DOMAINS = {
    "box": (Box(XY, (0.0, 0.0), (2.0, 1.0)), 0.05, 0.3),
    "disk": (Disk(XY, (0.5, 0.0), 1.0), 0.1, 0.4),
    "l-shape": (Polygon(XY, L_VERTICES), 0.05, 0.3),
    "square-minus-disk": (HOLED_SQUARE, 0.05, 0.2),
}


@pytest.mark.parametrize("name", list(DOMAINS))
def test_particles_lie_inside_the_domain(name):
    shape, r_min, r_max = DOMAINS[name]
    domain = sampler(shape)
    centres, radii = sample_particles(domain, 300, gen(1), r_min=r_min, r_max=r_max)
    assert centres.shape == (300, 2) and radii.shape == (300,)
    assert float(radii.min()) >= r_min and float(radii.max()) <= r_max
    assert float(radii.max() - radii.min()) > 0.5 * (r_max - r_min)         # the range is used, not one value
    assert torch.all(domain.signed_distance(centres) <= -radii + 1e-12)
    angles = torch.linspace(0, 2 * math.pi, 65, dtype=F64)[:-1]
    circle = torch.stack([angles.cos(), angles.sin()], dim=1)
    rims = (centres[:, None] + radii[:, None, None] * circle).reshape(-1, 2)
    assert torch.all(domain.contains(rims))


def test_particles_are_reproducible_under_a_seed():
    domain = sampler(HOLED_SQUARE)
    first = sample_particles(domain, 50, gen(7), r_min=0.05, r_max=0.2)
    second = sample_particles(domain, 50, gen(7), r_min=0.05, r_max=0.2)
    other = sample_particles(domain, 50, gen(8), r_min=0.05, r_max=0.2)
    assert torch.equal(first.centres, second.centres) and torch.equal(first.radii, second.radii)
    assert not torch.equal(first.centres, other.centres)


def test_particles_with_one_radius_and_another_dtype():
    centres, radii = sample_particles(sampler(Disk(XY, (0.0, 0.0), 1.0)), 20, gen(), r_min=0.3, dtype=torch.float32)
    assert centres.dtype == radii.dtype == torch.float32
    assert torch.all(radii == 0.3)
    assert torch.all(centres.double().norm(dim=1) <= 0.7 + 1e-6)


def test_a_radius_wider_than_the_bounding_box_raises_at_once():
    with pytest.raises(SamplingError, match=r"radius up to 0\.6 do not fit .*only 1 wide.*above 0\.5 fits"):
        sample_particles(sampler(Box(XY, (0.0, 0.0), (2.0, 1.0))), 10, gen(), r_min=0.1, r_max=0.6)


def test_a_domain_too_thin_for_the_radius_raises():
    # The ring between the hole (radius 0.5) and the square (half-width 1) holds no ball of radius 0.45.
    with pytest.raises(SamplingError, match=r"could not place 10 of 10 particles .*0\.45.*too thin"):
        sample_particles(sampler(HOLED_SQUARE), 10, gen(), r_min=0.45)


def test_radius_schedules():
    assert radius_at(0, 100, 0.1, 0.5) == pytest.approx(0.1)
    assert radius_at(25, 100, 0.1, 0.5) == pytest.approx(0.2)
    assert radius_at(100, 100, 0.1, 0.5) == radius_at(500, 100, 0.1, 0.5) == pytest.approx(0.5)
    assert radius_at(-3, 100, 0.1, 0.5) == pytest.approx(0.1)
    assert radius_at(50, 100, 0.4, 0.2) == pytest.approx(0.3)
    assert [fixed(0.2)(step) for step in (0, 10, 10**6)] == [0.2, 0.2, 0.2]
    assert linear(0.1, 0.5, 100)(75) == pytest.approx(0.4)


# ---- a weak residual of a known solution ----
@pytest.mark.parametrize("fn, n, tolerance", [(Wendland(2), 9, 1e-2), (Bump(), 15, 3e-2)], ids=["wendland", "bump"])
def test_weak_residual_of_poisson_vanishes_only_for_the_solution(fn, n, tolerance):
    """``-laplace(u) = f`` on the unit square with ``u = sin(pi x) sin(pi y)``, ``f = 2 pi^2 u``."""
    centres, radii = sample_particles(sampler(Box(XY, (0.0, 0.0), (1.0, 1.0))), 100, gen(3), r_min=0.02, r_max=0.2)
    reference, weights = grid_ball(2, n)
    points = to_particles(reference, centres, radii)
    phi, grad_phi = fn(points, centres, radii)
    x, y = points[..., 0], points[..., 1]
    pi = math.pi
    f = 2 * pi ** 2 * torch.sin(pi * x) * torch.sin(pi * y)
    grad_u = pi * torch.stack([torch.cos(pi * x) * torch.sin(pi * y), torch.sin(pi * x) * torch.cos(pi * y)], dim=-1)
    size = (f * phi).abs() @ weights

    def relative_residual(scale: float) -> torch.Tensor:
        return (((scale * grad_u * grad_phi).sum(dim=-1) - f * phi) @ weights).abs() / size

    assert float(relative_residual(1.0).max()) < tolerance
    assert float(relative_residual(2.0).min()) > 0.5


@pytest.mark.parametrize("dimension", [1, 2, 3])
def test_polar_rule_averages_polynomials_exactly(dimension):
    from pdedsl.runtime.weak import polar_ball

    rule = polar_ball(dimension, 5, 8)
    assert torch.isclose(rule.weights.sum(), torch.tensor(1.0, dtype=torch.float64))
    assert (rule.points.norm(dim=1) < 1).all()
    # the mean of x_0^2 over the unit ball is 1 / (d + 2); of x_0^4 it is 3 / ((d + 2)(d + 4))
    x0 = rule.points[:, 0]
    assert float(x0.square() @ rule.weights) == pytest.approx(1 / (dimension + 2), rel=1e-12)
    assert float(x0.pow(4) @ rule.weights) == pytest.approx(3 / ((dimension + 2) * (dimension + 4)), rel=1e-12)
