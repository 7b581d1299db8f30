"""Scattered input data in 2-D and 3-D are fitted once on a fine grid: values and slopes between the points."""

import numpy as np
import pytest
import torch

from pdedsl.layout import interpolation_of
from pdedsl.runtime.interpolation import GLOBAL_FIT_POINTS, interpolant


def _evaluate(path, axes, points):
    """Values and gradient of the input in ``path`` at ``points`` ``[M, d]`` (float64, through autograd)."""
    coords = {a: torch.tensor(points[:, i], dtype=torch.float64, requires_grad=True) for i, a in enumerate(axes)}
    value = interpolant(str(path), "k", axes)(coords)
    slopes = torch.autograd.grad(value.sum(), [coords[a] for a in axes])
    return value.detach().numpy(), np.stack([s.numpy() for s in slopes], axis=-1)


@pytest.mark.parametrize("count", [600, GLOBAL_FIT_POINTS + 500])  # one global fit; a triangulation
def test_a_smooth_field_from_scattered_points_keeps_its_values_and_slopes(tmp_path, count):
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.uniform(0, 1, (count, 2)), [[0, 0], [0, 1], [1, 0], [1, 1]]])
    np.savez(tmp_path / "k.npz", x=points[:, 0], y=points[:, 1], k=1 + points[:, 0] ** 2 + np.sin(2 * points[:, 1]))
    inside = rng.uniform(0.1, 0.9, (500, 2))
    value, slope = _evaluate(tmp_path / "k.npz", ("x", "y"), inside)
    assert np.abs(value - (1 + inside[:, 0] ** 2 + np.sin(2 * inside[:, 1]))).max() < 2e-3
    exact = np.stack([2 * inside[:, 0], 2 * np.cos(2 * inside[:, 1])], axis=-1)
    assert np.abs(slope - exact).max() < 0.1  # (the nearest point's value, before, had slope 0)


def test_a_jump_in_scattered_data_stays_within_its_values_and_repeated_points_are_averaged(tmp_path):
    """Two materials (1 and 10): the fit may not ring below 1 (a conductivity must stay positive)."""
    rng = np.random.default_rng(1)
    points = rng.uniform(-1, 1, (800, 2))
    values = np.where(points[:, 0] < 0.1, 1.0, 10.0)
    points, values = np.concatenate([points, points[:5]]), np.concatenate([values, values[:5]])
    np.savez(tmp_path / "k.npz", x=points[:, 0], y=points[:, 1], k=values)
    value, _ = _evaluate(tmp_path / "k.npz", ("x", "y"), rng.uniform(-1, 1, (4000, 2)))
    assert value.min() >= 1.0 - 1e-12 and value.max() <= 10.0 + 1e-12
    far, _ = _evaluate(tmp_path / "k.npz", ("x", "y"), np.array([[-0.8, 0.0], [0.8, 0.3]]))
    assert far == pytest.approx([1.0, 10.0], abs=1e-4)


def test_scattered_points_in_3d_are_fitted_too(tmp_path):
    rng = np.random.default_rng(2)
    points = rng.uniform(0, 1, (1500, 3))
    np.savez(tmp_path / "k.npz", x=points[:, 0], y=points[:, 1], z=points[:, 2], k=points @ [1.0, 2.0, 3.0])
    value, slope = _evaluate(tmp_path / "k.npz", ("x", "y", "z"), rng.uniform(0.2, 0.8, (300, 3)))
    assert np.abs(slope - [1.0, 2.0, 3.0]).max() < 1e-6  # a linear field is fitted exactly


def test_scattered_points_on_one_line_take_the_nearest_value():
    x = np.linspace(0, 1, 9)
    assert interpolation_of(x ** 2, [x, 2 * x]) == "nearest"
    assert interpolation_of(x ** 2, [x, x ** 2]) == "linear"  # (a curve spans the plane)


def test_a_grid_with_axes_of_different_lengths_is_still_read_as_a_grid(tmp_path):
    x, y = np.linspace(0, 1, 11), np.linspace(0, 2, 21)
    np.savez(tmp_path / "k.npz", x=x, y=y, k=np.add.outer(3 * x, y))
    value, slope = _evaluate(tmp_path / "k.npz", ("x", "y"), np.array([[0.35, 1.3], [0.8, 0.1]]))
    assert value == pytest.approx([2.35, 2.5]) and np.allclose(slope, [3.0, 1.0])
