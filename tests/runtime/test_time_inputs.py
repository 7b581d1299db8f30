"""Inputs given as data over time (``input s from "s.npz"`` whose file holds ``t``): time is one more axis of
the interpolant, on a grid (space before time) or among scattered points."""

import numpy as np
import pytest
import torch

import pdedsl
from pdedsl.cli import main
from pdedsl.runtime.interpolation import interpolant

HEAT = ('domain I = interval(x: [0, 1])\ntime t: [0, 1]\nfield u\ninput s from "s.npz"\nequation in I:\n'
        "    dt(u) = d(u, x, 2) + s\nboundary on boundary(I):\n    u = 0\ninitial:\n    u = sin(pi*x)\n")


def _evaluate(path, axes, points, name="s"):
    """Values and gradient of the input ``name`` in ``path`` at ``points`` ``[M, d]`` (through autograd)."""
    coords = {a: torch.tensor(points[:, i], dtype=torch.float64, requires_grad=True) for i, a in enumerate(axes)}
    value = interpolant(str(path), name, axes)(coords)
    slopes = torch.autograd.grad(value.sum(), [coords[a] for a in axes])
    return value.detach().numpy(), np.stack([s.numpy() for s in slopes], axis=-1)


def test_a_grid_over_space_and_time_is_multilinear_in_both(tmp_path):
    x, t = np.linspace(0, 1, 11), np.linspace(0, 2, 7)  # (axes of different lengths)
    np.savez(tmp_path / "s.npz", x=x, t=t, s=1 + x[:, None] + 2 * t[None, :] + x[:, None] * t[None, :])
    points = np.random.default_rng(0).uniform([0, 0], [1, 2], (50, 2))
    value, slope = _evaluate(tmp_path / "s.npz", ("x", "t"), points)
    px, pt = points.T
    np.testing.assert_allclose(value, 1 + px + 2 * pt + px * pt, atol=1e-12)
    np.testing.assert_allclose(slope[:, 1], 2 + px, atol=1e-12)  # d(s, t)


def test_a_grid_over_two_space_axes_and_time(tmp_path):
    x, y, t = np.linspace(0, 1, 5), np.linspace(-1, 1, 6), np.linspace(0, 1, 4)
    X, Y, T = np.meshgrid(x, y, t, indexing="ij")
    np.savez(tmp_path / "s.npz", x=x, y=y, t=t, s=X + 3 * Y - 2 * T + X * T)
    points = np.random.default_rng(1).uniform([0, -1, 0], [1, 1, 1], (40, 3))
    value, slope = _evaluate(tmp_path / "s.npz", ("x", "y", "t"), points)
    np.testing.assert_allclose(value, points[:, 0] + 3 * points[:, 1] - 2 * points[:, 2] + points[:, 0] * points[:, 2],
                               atol=1e-12)
    np.testing.assert_allclose(slope[:, 2], -2 + points[:, 0], atol=1e-12)


def test_scattered_points_over_space_and_time_are_fitted(tmp_path):
    rng = np.random.default_rng(2)
    points = np.concatenate([rng.uniform(0, 1, (600, 2)), [[0, 0], [0, 1], [1, 0], [1, 1]]])
    field = lambda p: np.exp(-p[:, 1]) * np.sin(np.pi * p[:, 0])  # noqa: E731
    np.savez(tmp_path / "s.npz", x=points[:, 0], t=points[:, 1], s=field(points))
    inside = rng.uniform(0.1, 0.9, (300, 2))
    value, slope = _evaluate(tmp_path / "s.npz", ("x", "t"), inside)
    assert np.abs(value - field(inside)).max() < 5e-3
    assert np.abs(slope[:, 1] + field(inside)).max() < 0.1  # d(s, t) = -s


def test_scattered_points_over_two_space_axes_and_time_are_fitted(tmp_path):
    """Four-axis fits (three space axes and time) use the same code; two and time keep the test fast."""
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 1, (400, 3))
    np.savez(tmp_path / "s.npz", x=points[:, 0], y=points[:, 1], t=points[:, 2], s=points @ [1.0, -1.0, 2.0])
    value, slope = _evaluate(tmp_path / "s.npz", ("x", "y", "t"), rng.uniform(0.2, 0.8, (100, 3)))
    assert np.abs(slope - [1.0, -1.0, 2.0]).max() < 1e-6


def test_scattered_points_over_three_space_axes_and_time_are_fitted(tmp_path):
    rng = np.random.default_rng(4)
    points = rng.uniform(0, 1, (200, 4))
    np.savez(tmp_path / "s.npz", x=points[:, 0], y=points[:, 1], z=points[:, 2], t=points[:, 3],
             s=points @ [1.0, 2.0, 3.0, 4.0])
    value, slope = _evaluate(tmp_path / "s.npz", ("x", "y", "z", "t"), rng.uniform(0.3, 0.7, (50, 4)))
    assert np.abs(slope - [1.0, 2.0, 3.0, 4.0]).max() < 1e-6


def test_an_input_over_time_is_a_function_of_space_and_time_in_the_ir(tmp_path, capsys):
    x, t = np.linspace(0, 1, 9), np.linspace(0, 1, 5)
    np.savez(tmp_path / "s.npz", x=x, t=t, s=np.outer(x, t))
    (tmp_path / "spec.pde").write_text(HEAT.replace('input s from "s.npz"',
                                                    'input s from "s.npz"\ninput g = 2*s\ninput h = 3*x'))
    problem = pdedsl.load(tmp_path / "spec.pde")
    assert {i.name: i.axes for i in problem.inputs} == {"s": ("x", "t"), "g": ("x", "t"), "h": ("x",)}
    assert main(["show", str(tmp_path / "spec.pde")]) == 0
    assert '  input s from "s.npz" (over x, t)\n' in capsys.readouterr().out
    np.savez(tmp_path / "s.npz", x=x, s=x ** 2)  # a file over space alone: constant in time, as before
    assert pdedsl.load(tmp_path / "spec.pde").inputs[0].axes == ("x",)


def test_a_time_array_is_refused_in_a_problem_without_time(tmp_path):
    x, t = np.linspace(0, 1, 9), np.linspace(0, 1, 5)
    np.savez(tmp_path / "s.npz", x=x, t=t, s=np.outer(x, t))
    (tmp_path / "spec.pde").write_text('domain I = interval(x: [0, 1])\nfield u\ninput s from "s.npz"\n'
                                       "equation in I:\n    -d(u, x, 2) = s\nboundary on boundary(I):\n    u = 0\n")
    with pytest.raises(pdedsl.SpecError, match=r"spec.pde:3:14: .*has an array 't', but the problem has no time"):
        pdedsl.load(tmp_path / "spec.pde")
    assert main(["check", str(tmp_path / "spec.pde")]) == 1


def test_the_zero_derivative_warning_knows_the_time_axis(tmp_path):
    """A grid over (x, t) is linear in t between nodes: d(s, t, 2) is zero, d(s, t) is not."""
    from pdedsl.passes.data_derivatives import zero_data_derivatives
    from pdedsl.passes import lower

    x, t = np.linspace(0, 1, 9), np.linspace(0, 1, 5)
    np.savez(tmp_path / "s.npz", x=x, t=t, s=np.outer(x, t))
    for extra, warned in (("d(s, t)", []), ("d(s, t, 2)", ["d(s, t, 2)"])):
        (tmp_path / "spec.pde").write_text(HEAT.replace("+ s\n", f"+ s + {extra}\n"))
        problem = pdedsl.load(tmp_path / "spec.pde")
        messages = [w.message for w in zero_data_derivatives(problem, lower(problem))]
        assert [m.split(" of ")[0] for m in messages] == warned


def test_the_time_reference_solver_reads_a_source_over_time(tmp_path):
    """u = exp(-t) sin(pi x) solves dt(u) = d(u, x, 2) + (pi^2 - 1) exp(-t) sin(pi x)."""
    from pdedsl.reference.time_spec import solve_time_spec, time_spec

    x, t = np.linspace(0, 1, 41), np.linspace(0, 1, 21)
    X, T = np.meshgrid(x, t, indexing="ij")
    np.savez(tmp_path / "s.npz", x=x, t=t, s=(np.pi ** 2 - 1) * np.exp(-T) * np.sin(np.pi * X))
    (tmp_path / "spec.pde").write_text(HEAT)
    xo, to = np.linspace(0, 1, 21), np.linspace(0, 1, 11)
    u = solve_time_spec(time_spec(pdedsl.load(tmp_path / "spec.pde")), xo, to)
    exact = np.exp(-to)[None, :] * np.sin(np.pi * xo)[:, None]
    assert np.linalg.norm(u - exact) / np.linalg.norm(exact) < 1e-2


def test_a_formula_over_data_over_time_is_not_an_operator_channel(tmp_path):
    """``input g = k*s`` with random k and s over (x, t): g varies in time, so it is not sampled on the family's
    space grid (the operator backends read it in the residuals, as a formula that reads t)."""
    from pdedsl.runtime.family import varying_inputs

    x, t = np.linspace(0, 1, 9), np.linspace(0, 1, 5)
    np.savez(tmp_path / "s.npz", x=x, t=t, s=np.outer(x, t))
    text = HEAT.replace('input s from "s.npz"', 'param k ~ uniform(1, 2)\ninput s from "s.npz"\ninput g = k*s')
    (tmp_path / "spec.pde").write_text(text.replace("+ s\n", "+ g\n"))
    assert varying_inputs(pdedsl.load(tmp_path / "spec.pde")) == ()
    np.savez(tmp_path / "s.npz", x=x, s=x ** 2)  # over space alone: a channel, as before
    assert varying_inputs(pdedsl.load(tmp_path / "spec.pde")) == ("g",)


def test_a_formula_reaching_data_over_time_or_time_through_a_let_varies_in_time(tmp_path):
    x, t = np.linspace(0, 1, 9), np.linspace(0, 1, 5)
    np.savez(tmp_path / "s.npz", x=x, t=t, s=np.outer(x, t))
    (tmp_path / "spec.pde").write_text(HEAT.replace(
        'input s from "s.npz"', 'input s from "s.npz"\nlet L = s\nlet T = exp(-t)\nlet X = x\n'
        'input g = 2*L\ninput w = T*x\ninput h = 3*X'))
    axes = {i.name: i.axes for i in pdedsl.load(tmp_path / "spec.pde").inputs}
    assert axes == {"s": ("x", "t"), "g": ("x", "t"), "w": ("x", "t"), "h": ("x",)}
