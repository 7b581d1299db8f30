"""Standard deviations of scalar unknowns fitted with a PINN (training/scalar_posterior.py)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from pdedsl import api
from pdedsl.training.scalar_posterior import _covariance, _truncated

# u = k sin(pi x) solves it, so the readings are linear in k: the exact posterior of k given readings y_i of u at
# x_i with noise s is Gaussian with std s / sqrt(sum sin(pi x_i)^2) (flat prior).
LINEAR = """problem linear_toy
domain L = interval(x: [0, 1])
field u
param k {declared}
equation in L:
    -d(u, x, x) = k*pi^2*sin(pi*x)
boundary on boundary(L):
    u = 0
observe u from "readings.npz"{noise}
infer k
"""
POINTS = np.linspace(0.05, 0.95, 19)


def pdedsl(*args):
    return subprocess.run([sys.executable, "-m", "pdedsl", *args], capture_output=True, text=True)


def _infer(tmp_path, declared="= 1.0", noise=" noise 0.05", stated=0.05, k=2.0, seed=0):
    readings = k * np.sin(np.pi * POINTS) + stated * np.random.default_rng(seed).standard_normal(POINTS.size)
    np.savez(tmp_path / "readings.npz", x=POINTS, u=readings)
    (tmp_path / "toy.pde").write_text(LINEAR.format(declared=declared, noise=noise))
    done = pdedsl("infer", str(tmp_path / "toy.pde"), "--out", str(tmp_path / "run"), "--steps", "100",
                  "--lbfgs-steps", "20", "--threads", "1", "--json", "-q")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout, readings


def _exact(readings, stated):
    """The flat-prior posterior of k: least squares of the readings on sin(pi x)."""
    basis = np.sin(np.pi * POINTS)
    return float(basis @ readings / (basis @ basis)), stated / math.sqrt(float(basis @ basis))


def test_the_standard_deviation_of_a_linear_unknown_is_the_exact_one(tmp_path):
    report, printed, readings = _infer(tmp_path)
    mean, std = _exact(readings, 0.05)
    assert report["params"]["k"] == pytest.approx(mean, abs=0.05 * std)
    assert report["params_std"]["k"] == pytest.approx(std, rel=0.03)
    low, high = report["params_interval_95"]["k"]
    assert low == pytest.approx(mean - 1.96 * std, abs=0.1 * std) and high == pytest.approx(mean + 1.96 * std,
                                                                                             abs=0.1 * std)
    assert report["noise"]["data_u"]["from"] == "spec" and "Laplace" in report["uncertainty"]
    assert f"k = {report['params']['k']:.6g} +- " in printed and "95%: [" in printed
    from pdedsl.training.plot import _rows, _view
    from pdedsl.training.run import Run

    run = Run.open(tmp_path / "run")
    row = _rows(run, _view(run.problem))[0]  # a curve: drawn with its 95% band
    assert row.shown == "posterior mean" and row.spread.max() == pytest.approx(report["params_std"]["k"], rel=0.03)
    done = pdedsl("plot", str(tmp_path / "run"))
    assert done.returncode == 0 and (tmp_path / "run" / "plot.png").is_file(), done.stderr


def test_without_a_stated_noise_the_fits_misfit_stands_in_for_it(tmp_path):
    report, printed, readings = _infer(tmp_path, noise="")
    mean, _ = _exact(readings, 0.05)
    misfit = math.sqrt(np.mean((readings - mean * np.sin(np.pi * POINTS)) ** 2))
    assert report["noise"]["data_u"]["std"] == pytest.approx(misfit, rel=0.02)
    assert report["params_std"]["k"] == pytest.approx(_exact(readings, misfit)[1], rel=0.03)
    assert any("states no noise" in note for note in report["uncertainty_notes"]) and "note: data_u" in printed


def test_an_understated_noise_is_said_to_make_the_spread_too_small(tmp_path):
    report, _, _ = _infer(tmp_path, noise=" noise 0.005")  # the readings carry 0.05
    assert any("10." in note or "9." in note or "times their stated noise" in note
               for note in report["uncertainty_notes"])
    assert "too small" in " ".join(report["uncertainty_notes"])


def test_a_normal_prior_on_the_unknown_is_combined_with_the_data(tmp_path):
    report, printed, readings = _infer(tmp_path, declared="~ normal(1.95, 0.02)")
    mean, std = _exact(readings, 0.05)
    precision = 1 / std ** 2 + 1 / 0.02 ** 2
    expected = (mean / std ** 2 + 1.95 / 0.02 ** 2) / precision
    assert report["params"]["k"] == pytest.approx(expected, abs=0.1 / math.sqrt(precision))
    assert report["params_std"]["k"] == pytest.approx(precision ** -0.5, rel=0.03)
    assert report["params_fit"]["k"] == pytest.approx(mean, abs=0.05 * std)  # the fit itself ignores the prior
    assert "the fit itself" in printed
    predicted = _predicted(tmp_path)  # the field follows the unknown's posterior: u = k sin(pi x)
    shape = np.sin(np.pi * predicted["x"])
    assert predicted["u"] == pytest.approx(report["params"]["k"] * shape, abs=2e-3)
    assert predicted["u_std"] == pytest.approx(report["params_std"]["k"] * shape, abs=1e-4)


def _predicted(tmp_path):
    np.savez(tmp_path / "points.npz", x=np.linspace(0, 1, 9))
    done = pdedsl("predict", str(tmp_path / "run"), "--points", str(tmp_path / "points.npz"), "-o",
                  str(tmp_path / "predicted.npz"))
    assert done.returncode == 0, done.stderr
    return dict(np.load(tmp_path / "predicted.npz"))


def test_predict_gives_the_fields_spread_until_the_run_changes(tmp_path):
    report, _, _ = _infer(tmp_path)
    predicted = _predicted(tmp_path)
    shape = np.sin(np.pi * predicted["x"])  # u = k sin(pi x): its spread is k's, scaled
    assert predicted["u_std"] == pytest.approx(report["params_std"]["k"] * shape, rel=0.03, abs=1e-6)
    assert predicted["u_std"][[0, -1]] == pytest.approx([0, 0], abs=1e-7)  # held by the boundary condition
    done = pdedsl("train", "--resume", str(tmp_path / "run"), "--steps", "130", "-q")  # the model moves on...
    assert done.returncode == 0, done.stderr
    resumed = json.loads((tmp_path / "run" / "inference.json").read_text())  # ...and its posterior with it
    assert resumed["params_std"]["k"] == pytest.approx(report["params_std"]["k"], rel=0.03)
    np.savez(tmp_path / "points.npz", x=np.linspace(0, 1, 9))
    predict = ["predict", str(tmp_path / "run"), "--points", str(tmp_path / "points.npz"), "-o",
               str(tmp_path / "again.npz")]
    done = pdedsl(*predict)
    assert done.returncode == 0 and "has changed since" not in done.stderr, done.stderr
    assert set(np.load(tmp_path / "again.npz").files) == {"x", "u", "u_std"}
    kept = torch.load(tmp_path / "run" / "laplace.pt", weights_only=True)  # one of another model (killed while
    kept["point"] = kept["point"] + 1e-3  # training on, say) no longer describes the folder's
    torch.save(kept, tmp_path / "run" / "laplace.pt")
    done = pdedsl(*predict)
    assert done.returncode == 0 and "has changed since" in done.stderr
    assert set(np.load(tmp_path / "again.npz").files) == {"x", "u"}


def test_train_gives_a_fit_of_unknowns_the_same_posterior_as_infer(tmp_path):
    report, _, readings = _infer(tmp_path)
    done = pdedsl("train", str(tmp_path / "toy.pde"), "--out", str(tmp_path / "trained"), "--steps", "100",
                  "--lbfgs-steps", "20", "--threads", "1", "--json", "-q")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    posterior = result["posterior"]
    assert posterior["params_std"]["k"] == pytest.approx(report["params_std"]["k"], rel=1e-3)
    assert posterior["params"]["k"] == pytest.approx(_exact(readings, 0.05)[0], abs=0.05 * report["params_std"]["k"])
    assert f"inferred k = {posterior['params']['k']:.6g} +- " in done.stdout
    assert json.loads((tmp_path / "trained" / "result.json").read_text())["posterior"] == posterior
    assert json.loads((tmp_path / "trained" / "inference.json").read_text())["params_std"] == posterior["params_std"]
    fitted = api.load(tmp_path / "toy.pde").solver().fit(out=tmp_path / "fitted", steps=40, lbfgs_steps=10,
                                                          threads=1)
    assert fitted["posterior"]["params_std"]["k"] == pytest.approx(report["params_std"]["k"], rel=0.03)


def test_a_uniform_prior_truncates_the_gaussian():
    mean, std, (low, high) = _truncated(0.9, 0.2, 0.0, 1.0)
    grid = np.linspace(0.0, 1.0, 200_001)
    density = np.exp(-0.5 * ((grid - 0.9) / 0.2) ** 2)
    density /= np.trapezoid(density, grid)
    expected = np.trapezoid(grid * density, grid)
    assert mean == pytest.approx(expected, abs=1e-6)
    assert std == pytest.approx(math.sqrt(np.trapezoid((grid - expected) ** 2 * density, grid)), abs=1e-6)
    cumulative = np.concatenate([[0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    assert low == pytest.approx(np.interp(0.025, cumulative, grid), abs=1e-5)
    assert high == pytest.approx(np.interp(0.975, cumulative, grid), abs=1e-5) and high <= 1.0
    assert _truncated(5.0, 0.01, 0.0, 1.0) == (1.0, 0.0, (1.0, 1.0))  # all the mass beyond the range


def test_the_covariance_is_the_inverse_even_badly_scaled():
    generator = torch.Generator().manual_seed(0)
    factor = torch.randn(6, 6, generator=generator, dtype=torch.float64)
    scales = torch.tensor([1e6, 1e5, 1.0, 1e-2, 1e3, 1e-3], dtype=torch.float64)
    precision = (factor @ factor.T + 6 * torch.eye(6, dtype=torch.float64)) * scales[:, None] * scales[None, :]
    assert torch.allclose(_covariance(precision), torch.linalg.inv(precision), rtol=1e-8)
    singular = torch.zeros(3, 3, dtype=torch.float64)
    assert torch.isinf(_covariance(singular)).all()


def test_the_python_api_returns_the_spread_too(tmp_path):
    readings = 2.0 * np.sin(np.pi * POINTS)
    np.savez(tmp_path / "readings.npz", x=POINTS, u=readings)
    (tmp_path / "toy.pde").write_text(LINEAR.format(declared="= 1.0", noise=" noise 0.05"))
    report = api.infer(tmp_path / "toy.pde", out=tmp_path / "run", steps=40, lbfgs_steps=10, threads=1)
    assert set(report["params_std"]) == {"k"} and report["params_std"]["k"] > 0
    assert json.loads((tmp_path / "run" / "inference.json").read_text())["params_std"] == report["params_std"]


def test_the_plot_headline_shows_the_spread(tmp_path):
    from pdedsl.training.plot import _headline, _inferred_spread

    (tmp_path / "toy.pde").write_text(LINEAR.format(declared="= 1.0", noise=" noise 0.05"))
    np.savez(tmp_path / "readings.npz", x=POINTS, u=np.sin(np.pi * POINTS))
    problem = api.load(tmp_path / "toy.pde")
    (tmp_path / "inference.json").write_text(json.dumps({"params": {"k": 2.0}, "params_std": {"k": 0.0158}}))
    headline = _headline(problem, {"steps": 10, "params": {"k": 1.9}, **_inferred_spread(tmp_path)})
    assert "k = 2 +- 0.016" in headline
    (tmp_path / "inference.json").write_text('{"params": {"k": "two"}, "params_std": [1]}')  # damaged: left out
    assert "k = 1.9 |" in _headline(problem, {"steps": 10, "params": {"k": 1.9}, **_inferred_spread(tmp_path)}) + " |"


TWO_UNKNOWNS = """problem two_unknowns
domain L = interval(x: [0, 1])
field u
param k = 1.0
param c = 0.0
equation in L:
    -d(u, x, x) = k*pi^2*sin(pi*x) + 2*c
boundary on boundary(L):
    u = 0
observe u from "readings.npz" noise 0.05
infer k
infer c
"""


def test_two_unknowns_get_the_exact_covariance_and_correlation(tmp_path):
    """u = k sin(pi x) + c x (1 - x): linear in (k, c), whose exact posterior is least squares on two bases."""
    basis = np.stack([np.sin(np.pi * POINTS), POINTS * (1 - POINTS)], axis=1)
    readings = basis @ [2.0, 1.0] + 0.05 * np.random.default_rng(1).standard_normal(POINTS.size)
    np.savez(tmp_path / "readings.npz", x=POINTS, u=readings)
    (tmp_path / "two.pde").write_text(TWO_UNKNOWNS)
    done = pdedsl("infer", str(tmp_path / "two.pde"), "--out", str(tmp_path / "run"), "--steps", "100",
                  "--lbfgs-steps", "20", "--threads", "1", "--json", "-q")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    covariance = 0.05 ** 2 * np.linalg.inv(basis.T @ basis)
    mean = np.linalg.solve(basis.T @ basis, basis.T @ readings)
    std = np.sqrt(np.diag(covariance))
    assert report["params"]["k"] == pytest.approx(mean[0], abs=0.05 * std[0])
    assert report["params"]["c"] == pytest.approx(mean[1], abs=0.05 * std[1])
    assert [report["params_std"]["k"], report["params_std"]["c"]] == pytest.approx(std, rel=0.03)
    correlation = report["params_correlation"]
    assert correlation["names"] == ["k", "c"]
    assert correlation["matrix"][0][1] == pytest.approx(covariance[0, 1] / std[0] / std[1], abs=1e-3)


def test_a_uniform_prior_on_the_unknown_truncates_its_posterior(tmp_path):
    report, _, readings = _infer(tmp_path, declared="~ uniform(1.5, 1.98)")
    mean, std = _exact(readings, 0.05)  # about 1.98 +- 0.016: the range cuts the Gaussian near its middle
    expected_mean, expected_std, (low, high) = _truncated(mean, std, 1.5, 1.98)
    assert report["params"]["k"] == pytest.approx(expected_mean, abs=0.1 * std)
    assert report["params_std"]["k"] == pytest.approx(expected_std, rel=0.05)
    assert report["params_interval_95"]["k"][1] <= 1.98 and report["params_interval_95"]["k"][1] == pytest.approx(
        high, abs=0.1 * std)


def test_a_fit_the_readings_still_pull_is_said_not_to_have_converged():
    from pdedsl.training.scalar_posterior import _unconverged_notes

    covariance = torch.diag(torch.tensor([0.04, 1.0], dtype=torch.float64))  # stds 0.2 and 1
    step = torch.tensor([0.3, 0.3], dtype=torch.float64)
    notes = _unconverged_notes(["k", "c"], step, covariance, torch.zeros(2, dtype=torch.float64))
    assert len(notes) == 1 and notes[0].startswith("k: the fit had not converged") and "1.5 standard" in notes[0]
    assert not _unconverged_notes(["k", "c"], step, covariance, torch.tensor([1.0, 0.0], dtype=torch.float64))


NEUMANN = """problem neumann_toy
domain L = interval(x: [0, 1])
field u
param k = 1.0
equation in L:
    -d(u, x, x) = k*pi^2*cos(pi*x)
boundary on boundary(L):
    dn(u) = 0
observe u from "readings.npz" noise 0.05
infer k
"""


def test_what_the_conditions_leave_free_is_left_to_the_data(tmp_path):
    """Neumann conditions alone fix u = k cos(pi x) + c only up to the constant c, which the readings fix: the
    exact posterior of k is then its marginal over c (least squares on cos(pi x) and 1), wider than the one
    with c known, and u's spread holds c's."""
    points = np.linspace(0.05, 0.6, 19)  # one-sided, so that k and c are correlated
    basis = np.stack([np.cos(np.pi * points), np.ones_like(points)], axis=1)
    readings = basis @ [2.0, 0.3] + 0.05 * np.random.default_rng(0).standard_normal(points.size)
    np.savez(tmp_path / "readings.npz", x=points, u=readings)
    (tmp_path / "neumann.pde").write_text(NEUMANN)
    done = pdedsl("infer", str(tmp_path / "neumann.pde"), "--out", str(tmp_path / "run"), "--steps", "200",
                  "--lbfgs-steps", "30", "--threads", "1", "--json", "-q")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    covariance = 0.05 ** 2 * np.linalg.inv(basis.T @ basis)
    mean = np.linalg.solve(basis.T @ basis, basis.T @ readings)
    assert report["params_std"]["k"] == pytest.approx(math.sqrt(covariance[0, 0]), rel=0.03)
    assert report["params"]["k"] == pytest.approx(mean[0], abs=0.05 * math.sqrt(covariance[0, 0]))
    assert any("leave 1 change of u free that the readings see" in note for note in report["uncertainty_notes"])
    x = np.linspace(0, 1, 5)
    np.savez(tmp_path / "points.npz", x=x)
    done = pdedsl("predict", str(tmp_path / "run"), "--points", str(tmp_path / "points.npz"), "-o",
                  str(tmp_path / "out.npz"))
    assert done.returncode == 0, done.stderr
    at = np.stack([np.cos(np.pi * x), np.ones_like(x)], axis=1)
    exact = np.sqrt(np.einsum("ij,jk,ik->i", at, covariance, at))
    assert np.load(tmp_path / "out.npz")["u_std"] == pytest.approx(exact, rel=0.03)


AMPLITUDE = """problem amplitude
domain L = interval(x: [0, 1])
time t: [0, 0.5]
field u
param A = 1.0
equation in L:
    dt(u) = 0.1*d(u, x, x)
boundary on boundary(L):
    u = 0
initial:
    u = A*sin(pi*x)
observe u from "obs.npz" noise 0.02
infer A
exact u = 1.5*sin(pi*x)*exp(-0.1*pi^2*t)
"""


def test_train_plots_a_fields_spread_in_space_and_time_as_a_row_of_its_own(tmp_path, monkeypatch):
    from pdedsl.training import plot as plotting

    rng = np.random.default_rng(1)
    x, t = rng.random(40), 0.2 + 0.3 * rng.random(40)
    shape = np.sin(np.pi * x) * np.exp(-0.1 * np.pi ** 2 * t)
    np.savez(tmp_path / "obs.npz", x=x, t=t, u=1.5 * shape + 0.02 * rng.standard_normal(40))
    (tmp_path / "amp.pde").write_text(AMPLITUDE)
    done = pdedsl("train", str(tmp_path / "amp.pde"), "--out", str(tmp_path / "run"), "--steps", "150",
                  "--lbfgs-steps", "30", "--threads", "1", "--json", "-q")
    assert done.returncode == 0, done.stderr
    posterior = json.loads(done.stdout.strip().splitlines()[-1])["posterior"]
    assert posterior["params_std"]["A"] == pytest.approx(0.02 / math.sqrt(shape @ shape), rel=0.05)
    drawn = []
    monkeypatch.setattr(plotting, "_save", lambda figure, output: drawn.append(figure) or output)
    plotting.plot(tmp_path / "run")
    titles = [axes.get_title() for axes in drawn[0].axes]
    assert "u: posterior mean" in titles and "u: posterior std" in titles  # its own title: no error beside it
    assert any(title.startswith("u: error (posterior mean - exact)\nrel. L2") for title in titles)  # signed
    assert " +- " in drawn[0].get_suptitle()


def test_a_failure_forming_the_posterior_keeps_the_trained_run(tmp_path, monkeypatch):
    from pdedsl.training import inference

    def broken(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(inference, "posterior_of_fit", broken)
    np.savez(tmp_path / "readings.npz", x=POINTS, u=2.0 * np.sin(np.pi * POINTS))
    (tmp_path / "toy.pde").write_text(LINEAR.format(declared="= 1.0", noise=" noise 0.05"))
    result = api.load(tmp_path / "toy.pde").solver().fit(out=tmp_path / "run", steps=20, lbfgs_steps=0, threads=1)
    assert "forming them failed (TypeError: a bug); the fit is kept" in result["posterior"]["uncertainty_notes"][0]
    kept = json.loads((tmp_path / "run" / "result.json").read_text())
    assert kept["params"] == result["params"] and (tmp_path / "run" / "checkpoint.pt").is_file()
