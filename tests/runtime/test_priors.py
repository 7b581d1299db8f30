"""Runtime prior samplers: Matern fields (circulant and dense), threshold/exp maps, scalars, GridField."""

import math
import warnings

import numpy as np
import pytest
import torch

from pdedsl.runtime.priors import (Exp, GridField, MaternField, Normal, Pointwise, Threshold, Uniform,
                                   matern_covariance)

N = 4000  # samples for the statistical checks
TOL = 0.08  # allowed covariance error, relative to the variance (about 3.5 standard errors at N)


def line(n=21, low=0.0, high=1.0):
    return [np.linspace(low, high, n)]


def box(nx=15, ny=12):
    return [np.linspace(0.0, 1.0, nx), np.linspace(-0.5, 0.3, ny)]  # unequal spacings, shifted box


def empirical_covariance(samples: np.ndarray, a: tuple, b: tuple) -> float:
    x, y = samples[(slice(None),) + a], samples[(slice(None),) + b]
    return float(np.mean((x - x.mean()) * (y - y.mean())))


def node_distance(axes, a: tuple, b: tuple) -> float:
    return math.sqrt(sum((axis[i] - axis[j]) ** 2 for axis, i, j in zip(axes, a, b)))


def assert_matern_statistics(field: MaternField, axes, pairs):
    samples = field.sample(axes, N, seed=7)
    assert samples.shape == (N,) + tuple(len(a) for a in axes)
    assert abs(samples.mean() - field.mean) < TOL * math.sqrt(field.variance)
    for a, b in pairs:
        expected = float(field.covariance(node_distance(axes, a, b)))
        got = empirical_covariance(samples, a, b)
        assert abs(got - expected) < TOL * field.variance, (field, a, b, got, expected)


# --- the Matern kernel -------------------------------------------------------------------------------


def test_matern_closed_forms_and_value_at_zero():
    r = np.linspace(0, 3, 31)
    assert np.allclose(matern_covariance(r, 0.7, 0.5, 2.0), 2.0 * np.exp(-r / 0.7))
    x = math.sqrt(3) * r / 0.7
    assert np.allclose(matern_covariance(r, 0.7, 1.5, 2.0), 2.0 * (1 + x) * np.exp(-x))
    x = math.sqrt(5) * r / 0.7
    assert np.allclose(matern_covariance(r, 0.7, 2.5, 2.0), 2.0 * (1 + x + x ** 2 / 3) * np.exp(-x))
    for nu in (0.3, 1.0, 2.2, 4.0):
        assert matern_covariance(0.0, 0.5, nu, 1.7) == pytest.approx(1.7)


def test_matern_quadrature_matches_scipy_bessel():
    special = pytest.importorskip("scipy.special")
    r = np.concatenate([np.logspace(-6, 0.5, 60), [5.0, 20.0]])
    for nu in (0.3, 1.0, 2.2, 3.7):
        x = math.sqrt(2 * nu) * r / 0.4
        reference = 2 ** (1 - nu) / math.gamma(nu) * x ** nu * special.kv(nu, x)
        assert np.allclose(matern_covariance(r, 0.4, nu, 1.0), reference, rtol=1e-10, atol=1e-14)


def test_matern_interpolates_between_half_integer_smoothness():
    r = np.linspace(0.01, 1, 20)
    below, near, above = (matern_covariance(r, 0.3, nu, 1.0) for nu in (1.5, 1.5 + 1e-7, 2.5))
    assert np.allclose(below, near, atol=1e-6) and not np.allclose(below, above, atol=1e-3)


# --- sampling Matern fields ----------------------------------------------------------------------------


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
def test_matern_1d_covariance(nu):
    axes = line()
    field = MaternField(0.3, nu, variance=2.0, mean=0.5)
    assert field.sampler(axes).method == "circulant embedding"
    assert field.sampler(axes).covariance_error <= 1e-6 * field.variance
    assert_matern_statistics(field, axes, [((10,), (10,)), ((0,), (0,)), ((10,), (12,)),
                                           ((5,), (10,)), ((3,), (15,)), ((0,), (20,))])


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
def test_matern_2d_covariance(nu):
    axes = box()
    field = MaternField(0.3, nu)
    assert field.sampler(axes).method == "circulant embedding"
    assert_matern_statistics(field, axes, [((7, 6), (7, 6)), ((0, 11), (0, 11)), ((7, 6), (9, 6)),
                                           ((7, 6), (7, 9)), ((7, 6), (10, 9)), ((2, 1), (12, 10))])


@pytest.mark.parametrize("nu", [0.5, 2.5])
def test_long_correlation_on_small_grid_uses_exact_dense_sampler(nu):
    axes = [np.linspace(0, 1, 9), np.linspace(0, 1, 9)]
    field = MaternField(1.0, nu, variance=0.5)
    sampler = field.sampler(axes)
    assert sampler.method == "dense eigendecomposition" and sampler.covariance_error < 1e-10
    assert_matern_statistics(field, axes, [((4, 4), (4, 4)), ((0, 0), (8, 8)), ((4, 4), (6, 5))])


def test_dense_sample_does_not_depend_on_how_many_were_drawn_with_it():
    field = MaternField(1.0, 1.0)
    one, many = field.sample(box(), 1, seed=3), field.sample(box(), 70, seed=3)
    assert field.sampler(box()).method == "dense eigendecomposition"
    assert np.array_equal(one[0], many[0])  # to the last bit, so a pool's member i is the same drawn alone
    assert not np.array_equal(many[0], many[1])


def test_circulant_padding_grows_for_long_correlation():
    axes = line(29)
    short, long = MaternField(0.05, 2.5).sampler(axes), MaternField(0.5, 2.5, dense_limit=0).sampler(axes)
    assert short.padded_shape == (60,)  # the minimal embedding, FFT-friendly length >= 2 (n - 1)
    assert long.padded_shape[0] > 60 and long.covariance_error <= 1e-6


def test_clipping_warns_when_padding_budget_is_exhausted():
    field = MaternField(2.0, 2.5, dense_limit=0, max_padded_size=64)
    with pytest.warns(RuntimeWarning, match="negative eigenvalues"):
        samples = field.sample(line(20), 3, seed=0)
    assert samples.shape == (3, 20) and np.all(np.isfinite(samples))


def test_3d_grid_and_zero_variance():
    axes = [np.linspace(0, 1, 6), np.linspace(0, 2, 5), np.linspace(-1, 0, 4)]
    samples = MaternField(0.5, 1.5, variance=3.0).sample(axes, 2000, seed=1)
    assert samples.shape == (2000, 6, 5, 4)
    assert abs(samples[:, 2, 2, 1].var() - 3.0) < TOL * 3.0
    assert np.all(MaternField(0.5, variance=0.0, mean=1.25).sample(axes, 3, seed=1) == 1.25)


def test_reproducible_under_a_seed_and_independent_of_batch_size():
    for field, axes in ((MaternField(0.2, 1.5), box()), (MaternField(1.0, 2.5), box(8, 7))):
        first = field.sample(axes, 50, seed=123)
        assert np.array_equal(first, field.sample(axes, 50, seed=123))
        assert np.array_equal(first[:17], field.sample(axes, 17, seed=123))
        assert not np.allclose(first, field.sample(axes, 50, seed=124))
        rng = np.random.default_rng(5)
        assert not np.allclose(field.sample(axes, 4, rng), field.sample(axes, 4, rng))  # a Generator advances
    assert field.sample(axes, 0, seed=1).shape == (0, 8, 7)


def test_sampling_is_fast_on_moderate_grids():
    import time
    axes = [np.linspace(0, 1, 29)] * 2
    field = MaternField(0.1, 2.5)
    start = time.perf_counter()
    assert field.sample(axes, 1000, seed=0).shape == (1000, 29, 29)
    assert time.perf_counter() - start < 3.0  # ~0.2 s on an idle core; generous for busy machines


# --- maps of fields: threshold, exp, pointwise ---------------------------------------------------------


def test_threshold_two_values_half_each():
    axes = box()
    prior = Threshold(MaternField(0.2, 2.5), below=5, above=10)
    samples = prior.sample(axes, 500, seed=3)
    assert prior.piecewise_constant and set(np.unique(samples)) == {5.0, 10.0}
    assert abs(np.mean(samples == 5.0) - 0.5) < 0.03
    latent = MaternField(0.2, 2.5).sample(axes, 500, seed=3)
    assert np.array_equal(samples, np.where(latent < 0, 5.0, 10.0))  # the same seed, the same latent field


def test_threshold_level_sets_the_proportion():
    samples = Threshold(MaternField(0.2, 1.5, mean=0.0), below=-1, above=1, at=1.0).sample(line(41), N, seed=4)
    phi = 0.5 * (1 + math.erf(1 / math.sqrt(2)))  # P(field < 1) for a standard normal marginal
    assert abs(np.mean(samples == -1.0) - phi) < 0.02


def test_exp_is_lognormal_with_log_mean():
    axes = box()
    prior = Exp(MaternField(0.25, 2.5, variance=0.5, mean=0.7))
    samples = prior.sample(axes, 1000, seed=9)
    assert not prior.piecewise_constant and np.all(samples > 0)
    assert abs(np.log(samples).mean() - 0.7) < 0.05
    assert np.allclose(np.log(samples), prior.field.sample(axes, 1000, seed=9))


def test_pointwise_maps_and_coordinates():
    axes = box(5, 4)
    base = MaternField(0.3)
    square = Pointwise(base, np.square, name="square")
    assert np.allclose(square.sample(axes, 3, 2), base.sample(axes, 3, 2) ** 2)
    shifted = Pointwise(base, lambda v, x, y: v + 10 * x - y, coordinates=True)
    x, y = np.meshgrid(*axes, indexing="ij")
    assert np.allclose(shifted.sample(axes, 3, 2), base.sample(axes, 3, 2) + 10 * x - y)
    two_phase = Threshold(base, 1, 2)
    assert Pointwise(two_phase, np.log).piecewise_constant
    assert not Pointwise(two_phase, lambda v, x, y: v * x, coordinates=True).piecewise_constant


# --- scalar priors -----------------------------------------------------------------------------------


def test_uniform_and_normal_moments_and_reproducibility():
    u = Uniform(-1.0, 3.0).sample(20000, seed=0)
    assert u.shape == (20000,) and u.min() >= -1 and u.max() < 3
    assert abs(u.mean() - 1.0) < 0.05 and abs(u.var() - 16 / 12) < 0.05
    z = Normal(2.0, 0.5).sample(20000, seed=0)
    assert abs(z.mean() - 2.0) < 0.02 and abs(z.std() - 0.5) < 0.02
    for prior in (Uniform(0, 1), Normal(0, 1)):
        many = prior.sample(100, seed=11)
        assert np.array_equal(many, prior.sample(100, seed=11)) and np.array_equal(many[:7], prior.sample(7, seed=11))
    assert np.all(Normal(1.5, 0).sample(4, seed=0) == 1.5)


# --- bad parameters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("make, message", [
    (lambda: MaternField(0.0), "length must be > 0"),
    (lambda: MaternField(-1.0), "length must be > 0"),
    (lambda: MaternField(0.1, smoothness=0), "smoothness must be > 0"),
    (lambda: MaternField(0.1, variance=-1), "variance must be >= 0"),
    (lambda: MaternField(float("nan")), "length must be finite"),
    (lambda: MaternField("long"), "length must be a number"),
    (lambda: Uniform(1, 1), "low must be < high"),
    (lambda: Uniform(2, 1), "low must be < high"),
    (lambda: Normal(0, -1), "std must be >= 0"),
    (lambda: Threshold(MaternField(0.1), below="a", above=1), "below must be a number"),
    (lambda: Threshold(np.zeros(3), below=0, above=1), "expected a field prior"),
])
def test_bad_parameters_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_grids_and_counts_raise_value_error():
    field = MaternField(0.1)
    with pytest.raises(ValueError, match="uniform, increasing"):
        field.sample([np.array([0.0, 0.1, 0.3])], 2, seed=0)
    with pytest.raises(ValueError, match="uniform, increasing"):
        field.sample([np.linspace(1, 0, 5)], 2, seed=0)
    with pytest.raises(ValueError, match="at least one axis"):
        field.sample([], 2, seed=0)
    with pytest.raises(ValueError, match="nonnegative int"):
        field.sample(line(), -1, seed=0)
    with pytest.raises(ValueError, match="nonnegative int"):
        Uniform(0, 1).sample(2.5, seed=0)


# --- GridField: off-grid evaluation ---------------------------------------------------------------


def bilinear(x, y):
    return 1 + 2 * x - 3 * y + 0.5 * x * y  # reproduced exactly by multilinear interpolation


def test_grid_field_exact_at_nodes_and_linear_between():
    axes = box(6, 4)
    x, y = np.meshgrid(*axes, indexing="ij")
    values = np.sin(3 * x) * np.cos(2 * y)
    field = GridField(axes, values, names=("x", "y"))
    nodes = torch.tensor(np.stack([x.ravel(), y.ravel()], -1))
    assert torch.allclose(field(nodes), torch.tensor(values.ravel()), atol=1e-14)
    exact = GridField(axes, bilinear(x, y))
    points = torch.rand(200, 2, dtype=torch.float64) * torch.tensor([1.0, 0.8]) + torch.tensor([0.0, -0.5])
    assert torch.allclose(exact(points), bilinear(points[:, 0], points[:, 1]), atol=1e-12)
    midpoint = field(torch.tensor([[0.5 * (axes[0][1] + axes[0][2]), axes[1][1]]]))
    assert float(midpoint) == pytest.approx(0.5 * (values[1, 1] + values[2, 1]))


def test_grid_field_gradient_is_the_interpolant_slope():
    axes = box(6, 4)
    field = GridField(axes, bilinear(*np.meshgrid(*axes, indexing="ij")), names=("x", "y"))
    x = torch.rand(50, dtype=torch.float64, requires_grad=True)
    y = (torch.rand(50, dtype=torch.float64) * 0.8 - 0.5).requires_grad_(True)
    dx, dy = torch.autograd.grad(field({"x": x, "y": y}).sum(), (x, y))
    assert torch.allclose(dx, 2 + 0.5 * y) and torch.allclose(dy, -3 + 0.5 * x)


def test_grid_field_batches_dtypes_and_clamping():
    axes = box(6, 4)
    base = bilinear(*np.meshgrid(*axes, indexing="ij"))
    batch = GridField(axes, np.stack([base, 2 * base, 3 * base]))
    shared = torch.rand(30, 2, dtype=torch.float64) * torch.tensor([1.0, 0.8]) + torch.tensor([0.0, -0.5])
    expected = bilinear(shared[:, 0], shared[:, 1])
    out = batch(shared)
    assert out.shape == (3, 30) and torch.allclose(out, torch.stack([expected, 2 * expected, 3 * expected]))
    per_sample = torch.stack([shared, shared.flip(0), shared])
    out = batch(per_sample)
    assert out.shape == (3, 30) and torch.allclose(out[1], 2 * expected.flip(0))
    single = GridField(axes, base)
    assert single(shared.float()).dtype == torch.float32 and single(per_sample).shape == (3, 30)
    outside = torch.tensor([[-5.0, -5.0], [5.0, 5.0]], dtype=torch.float64)
    assert torch.allclose(single(outside), torch.tensor([base[0, 0], base[-1, -1]]))  # clamped onto the box


def test_grid_field_nearest_for_thresholded_fields():
    axes = box(6, 4)
    prior = Threshold(MaternField(0.2), below=5, above=10)
    values = prior.sample(axes, 2, seed=0)
    field = prior.grid_field(axes, values, names=("x", "y"))
    assert field.piecewise_constant
    h = (axes[0][1] - axes[0][0], axes[1][1] - axes[1][0])
    near = torch.tensor([[axes[0][2] + 0.4 * h[0], axes[1][1] - 0.4 * h[1]]], dtype=torch.float64, requires_grad=True)
    out = field(near)
    assert torch.equal(out[:, 0].detach(), torch.tensor(values[:, 2, 1]))
    (slope,) = torch.autograd.grad(out.sum(), near)
    assert torch.all(slope == 0)  # piecewise constant: zero slope, and autograd works
    points = torch.rand(1000, 2, dtype=torch.float64) * torch.tensor([1.0, 0.8]) + torch.tensor([0.0, -0.5])
    assert set(torch.unique(field(points)).tolist()) <= {5.0, 10.0}
    assert not MaternField(0.2).grid_field(axes, values).piecewise_constant


def test_grid_field_1d_and_3d():
    x = np.linspace(-1, 1, 21)
    line_field = GridField([x], x ** 2, names=("x",))
    t = torch.tensor([-1.0, -0.9, -0.85, 1.0], dtype=torch.float64)
    expected = torch.tensor([1.0, 0.81, 0.5 * (0.81 + 0.64), 1.0], dtype=torch.float64)
    assert torch.allclose(line_field({"x": t}), expected)
    axes = [np.linspace(0, 1, 4), np.linspace(0, 2, 3), np.linspace(-1, 1, 5)]
    X, Y, Z = np.meshgrid(*axes, indexing="ij")
    cube = GridField(axes, 1 + X - 2 * Y + 3 * Z + X * Y * Z)
    p = torch.rand(40, 3, dtype=torch.float64) * torch.tensor([1.0, 2.0, 2.0]) + torch.tensor([0.0, 0.0, -1.0])
    expected = 1 + p[:, 0] - 2 * p[:, 1] + 3 * p[:, 2] + p[:, 0] * p[:, 1] * p[:, 2]
    assert torch.allclose(cube(p), expected)


def test_grid_field_rejects_mismatched_input():
    axes = box(6, 4)
    with pytest.raises(ValueError, match="do not fit"):
        GridField(axes, np.zeros((4, 6)))
    field = GridField(axes, np.zeros((6, 4)))
    with pytest.raises(ValueError, match="without axis names"):
        field({"x": torch.zeros(3), "y": torch.zeros(3)})
    with pytest.raises(ValueError, match=r"\[N, 2\]"):
        field(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="lack the axes"):
        GridField(axes, np.zeros((6, 4)), names=("x", "y"))({"x": torch.zeros(3)})


def test_no_warnings_in_ordinary_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MaternField(0.3, 2.5).sample(box(), 5, seed=0)
        MaternField(1.0, 1.5).sample(box(9, 9), 5, seed=0)
