"""Inverse problems: the Laplace posterior (exact on a linear-Gaussian toy), calibration, pdedsl infer end to end."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from pdedsl.training.inverse import InferError, LatentPosterior, LatentPrior, Settings, aggregate_prior, calibration


class LinearGaussian(LatentPosterior):
    """y = A z + noise, z ~ N(0, I): the posterior is N(S A^T y / s^2, S) with S = (A^T A / s^2 + I)^-1."""

    def __init__(self, matrix, data, noise, settings):
        self.matrix, self.data, self.noise = matrix, data, noise
        self.settings, self.latent_size = settings, matrix.shape[1]
        self.run = SimpleNamespace(device=torch.device("cpu"), dtype=torch.float64)

    def residuals(self, z):
        return torch.cat([((z @ self.matrix.T) - self.data) / self.noise, z], dim=1)


def test_laplace_is_exact_on_a_linear_gaussian_toy():
    generator = torch.Generator().manual_seed(3)
    matrix = torch.randn(12, 4, generator=generator, dtype=torch.float64)
    data = torch.randn(12, generator=generator, dtype=torch.float64)
    noise = 0.3
    toy = LinearGaussian(matrix, data, noise, Settings(restarts=3, adam_steps=300, lbfgs_steps=50))
    covariance = torch.linalg.inv(matrix.T @ matrix / noise ** 2 + torch.eye(4, dtype=torch.float64))
    mean = covariance @ matrix.T @ data / noise ** 2
    z_map = toy.find_map()
    assert torch.allclose(z_map, mean, atol=1e-6)
    laplace = toy.laplace(z_map)
    assert torch.allclose(laplace, covariance, rtol=1e-8, atol=1e-12)
    draws = toy.draw(z_map, laplace, 20000, seed=1)
    assert torch.allclose(draws.mean(0), mean, atol=0.02)
    assert torch.allclose(torch.cov(draws.T), covariance, atol=0.01)


def test_the_jacobian_is_the_same_whatever_the_rows_per_backward_pass(monkeypatch):
    import pdedsl.training.inverse as inverse

    generator = torch.Generator().manual_seed(4)
    matrix = torch.randn(11, 3, generator=generator, dtype=torch.float64)
    toy = LinearGaussian(matrix, torch.zeros(11, dtype=torch.float64), 0.5, Settings())
    z = torch.randn(3, generator=generator, dtype=torch.float64)
    expected = torch.cat([matrix / 0.5, torch.eye(3, dtype=torch.float64)])
    for rows in (1, 4, 256):  # one row, chunks with a ragged end, everything at once
        monkeypatch.setattr(inverse, "JACOBIAN_ROWS", rows)
        assert torch.allclose(toy.jacobian_by_rows(z), expected)
    for columns in (1, 2, 128):  # the same by columns (forward-mode, through two reverse passes)
        monkeypatch.setattr(inverse, "JACOBIAN_COLUMNS", columns)
        assert torch.allclose(toy.jacobian_by_columns(z), expected)


class Curved(LinearGaussian):
    """Many residual rows, few latents, nonlinear: the shape of a DGNO posterior's residual vector."""

    def residuals(self, z):
        return torch.cat([torch.tanh(z @ self.matrix.T) * torch.exp(0.3 * z[:, :1]) / self.noise, z], dim=1)


def test_the_jacobian_goes_by_columns_when_rows_far_outnumber_latents(monkeypatch):
    """A mixed-form posterior has tens of thousands of rows for 128 latents: m column passes, not K row
    passes (the row version is what it must equal)."""
    generator = torch.Generator().manual_seed(5)
    toy = Curved(torch.randn(3000, 4, generator=generator, dtype=torch.float64), None, 0.5, Settings())
    z = torch.randn(4, generator=generator, dtype=torch.float64)
    expected = toy.jacobian_by_rows(z)
    monkeypatch.setattr(LatentPosterior, "jacobian_by_rows", lambda self, z: pytest.fail("went by rows"))
    assert torch.allclose(toy.jacobian(z), expected, rtol=1e-12, atol=1e-14)


class _NotTwiceDifferentiable(torch.autograd.Function):
    """y = 2 x whose backward is not itself differentiable: its gradient is cut from the graph."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return (2 * grad).detach()


def test_a_jacobian_that_cannot_go_by_columns_goes_by_rows():
    """An operation whose backward is not differentiable would give columns of zeros without a word: the
    columns are checked against a plain reverse pass, and the rows are formed instead."""
    generator = torch.Generator().manual_seed(6)

    class Cut(Curved):  # (the prior rows stay differentiable, so only the check can tell)
        def residuals(self, z):
            return torch.cat([_NotTwiceDifferentiable.apply(super().residuals(z)[:, :40]), z], dim=1)

    toy = Cut(torch.randn(40, 3, generator=generator, dtype=torch.float64), None, 0.5, Settings())
    z = torch.randn(3, generator=generator, dtype=torch.float64)
    expected = toy.jacobian_by_rows(z)
    assert expected.abs().max() > 0.1
    assert toy.jacobian_by_columns(z) is None
    assert torch.allclose(toy.jacobian(z), expected, rtol=1e-12, atol=1e-14)


@pytest.fixture(scope="module")
def two_phase(tmp_path_factory):
    """A tiny DGNO run on the two-phase family in the mixed form (a Bernoulli input, flux outputs)."""
    from pdedsl.training import TrainConfig, train

    folder = tmp_path_factory.mktemp("two_phase") / "run"
    config = TrainConfig(backend="dgno", form="mixed", steps=2, samples=4, batch_size=2, grid=29, test_samples=0,
                         weak_particles=8, backend_options={"latent": 5, "width": 8, "depth": 1, "encoder_width": 8})
    train("specs/darcy_two_phase.pde", config, folder, progress=False)
    return folder


def _two_phase_posterior(folder):
    from pdedsl import api
    from pdedsl.training.inverse import observations_of
    from pdedsl.training.run import Run

    run = Run.open(folder)
    return LatentPosterior(run, observations_of(api.load("specs/darcy_two_phase_inverse.pde"), run),
                           Settings(particles=10))


def test_a_dgno_posteriors_jacobian_by_columns_equals_it_by_rows(two_phase):
    """On a tiny two-phase mixed-form model (its jet maps, flux decoders and model error): the same matrix."""
    posterior = _two_phase_posterior(two_phase)
    run = posterior.run
    z = 0.5 * torch.randn(5, generator=torch.Generator().manual_seed(7), dtype=torch.float64).to(run.dtype)
    rows = posterior.jacobian_by_rows(z)
    assert rows.shape[0] > 500 and rows.abs().max() > 0
    assert torch.allclose(posterior.jacobian_by_columns(z), rows, rtol=1e-5, atol=1e-6 * rows.abs().max())


def test_derivatives_nothing_reads_are_not_computed_and_change_nothing(two_phase, monkeypatch):
    """The mixed form reads a and the fluxes without their slopes: their jets come as values alone, and the
    posterior's residuals and gradient are the same to the last bit as with every derivative computed."""
    from pdedsl.backends.dgno import DGNO

    posterior = _two_phase_posterior(two_phase)
    w = 0.5 * torch.randn(3, 5, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    w = w.to(posterior.run.dtype)
    seen = {}
    jets = DGNO.jets

    def spy(self, *args, **kwargs):
        out = jets(self, *args, **kwargs)
        seen.update({name: all(p is None for p in jet.parts[1:]) for name, jet in out.items()})
        return out

    def value_and_gradient():
        point = w.clone().requires_grad_(True)
        value = posterior.residuals(point)
        (gradient,) = torch.autograd.grad(value.square().sum(), point)
        return value.detach(), gradient

    monkeypatch.setattr(DGNO, "jets", spy)
    skipped = value_and_gradient()
    assert seen["a"] and not seen["u"]  # a's slope is not read; u's is
    assert any(seen[name] for name in seen if name not in ("a", "u"))  # nor the fluxes' slopes
    monkeypatch.setattr(DGNO, "skips_derivatives", False)
    seen.clear()
    every = value_and_gradient()
    assert not seen["a"]
    assert torch.equal(skipped[0], every[0]) and torch.equal(skipped[1], every[1])


def test_mala_samples_the_exact_posterior_of_a_nonlinear_toy():
    """Where Laplace is wrong (a curved model), the preconditioned Langevin chains still find the posterior."""
    toy = LinearGaussian(torch.eye(2, dtype=torch.float64), torch.tensor([1.0, -0.5], dtype=torch.float64), 0.5,
                         Settings(restarts=2, adam_steps=300, lbfgs_steps=50, chains=16, mala_steps=3000,
                                  samples=3000))
    # linear first: the chains' moments match the exact Gaussian posterior
    covariance = torch.linalg.inv(torch.eye(2, dtype=torch.float64) / 0.25 + torch.eye(2, dtype=torch.float64))
    mean = covariance @ toy.data / 0.25
    z_map = toy.find_map()
    samples, acceptance = toy.mala(z_map, toy.laplace(z_map))
    assert 0.3 < acceptance < 0.9
    assert torch.allclose(samples.mean(0), mean, atol=0.05)
    assert torch.allclose(torch.cov(samples.T), covariance, atol=0.03)

    class Skewed(LinearGaussian):  # y = exp(z0) observed loosely: a skewed posterior, its mean off the MAP
        def residuals(self, z):
            return torch.cat([(torch.exp(z[:, :1]) - 2.0) / 0.5, (z[:, 1:] - 0.5) / 0.5, z], dim=1)

    # (a banana-shaped posterior, y = z0^2 + z1, mixed too slowly to test against: 64 chains x 20000 steps
    # still left a seed-dependent Monte Carlo error of 0.02-0.09 in the mean of z1; here 16 x 3000 err by 0.013
    # at most over seeds 0-4)
    skewed = Skewed(torch.eye(2, dtype=torch.float64), None, None, toy.settings)
    z_map = skewed.find_map()
    laplace = skewed.laplace(z_map)
    samples, _ = skewed.mala(z_map, laplace)
    grid = torch.linspace(-6, 6, 4001, dtype=torch.float64)  # the exact posterior of z0 by quadrature
    density = torch.exp(-0.5 * ((torch.exp(grid) - 2.0) / 0.5) ** 2 - 0.5 * grid ** 2)
    exact_mean = (grid * density).sum() / density.sum()
    exact_variance = ((grid - exact_mean) ** 2 * density).sum() / density.sum()
    assert abs(z_map[0] - exact_mean) > 0.1 and laplace[0, 0] < 0.7 * exact_variance  # Laplace is wrong here
    assert abs(samples[:, 0].mean() - exact_mean) < 0.04
    assert abs(samples[:, 0].var() / exact_variance - 1) < 0.15
    assert abs(samples[:, 1].mean() - 0.4) < 0.04  # z1 is linear-Gaussian: precision 1 + 4, mean 4 * 0.5 / 5


class LinearGaussianUnderAPrior(LinearGaussian):
    """The same model with z ~ N(m, C): the posterior machinery runs in whitened w, z = m + L w."""

    def __init__(self, matrix, data, noise, settings, prior):
        super().__init__(matrix, data, noise, settings)
        self.prior = prior

    def residuals(self, w):
        return torch.cat([((self.prior.latent(w) @ self.matrix.T) - self.data) / self.noise, w], dim=1)


def _spd(size, generator):
    root = torch.randn(size, size, generator=generator, dtype=torch.float64)
    return root @ root.T + 0.5 * torch.eye(size, dtype=torch.float64)


def test_a_latent_prior_whitens_and_maps_back():
    generator = torch.Generator().manual_seed(5)
    covariance = _spd(4, generator)
    prior = LatentPrior(torch.randn(4, generator=generator, dtype=torch.float64), torch.linalg.cholesky(covariance))
    z = torch.randn(7, 4, generator=generator, dtype=torch.float64)
    assert torch.allclose(prior.latent(prior.whiten(z)), z)
    assert torch.allclose(prior.covariance(torch.eye(4, dtype=torch.float64)), covariance)
    standard = LatentPrior.standard(4)
    assert torch.equal(standard.latent(z), z) and torch.equal(standard.whiten(z), z)


def test_the_posterior_under_a_non_standard_prior_is_exact_on_a_linear_gaussian_toy():
    """y = A z + noise with z ~ N(m, C): the posterior is N(S (A^T y / s^2 + C^-1 m), S), S = (A^T A / s^2 + C^-1)^-1;
    MAP and Laplace found in whitened coordinates and mapped back must be it."""
    generator = torch.Generator().manual_seed(6)
    matrix = torch.randn(9, 4, generator=generator, dtype=torch.float64)
    data = torch.randn(9, generator=generator, dtype=torch.float64)
    mean = torch.randn(4, generator=generator, dtype=torch.float64)
    prior_covariance = _spd(4, generator)
    prior = LatentPrior(mean, torch.linalg.cholesky(prior_covariance))
    toy = LinearGaussianUnderAPrior(matrix, data, 0.4, Settings(restarts=3, adam_steps=400, lbfgs_steps=50), prior)
    inverse_prior = torch.linalg.inv(prior_covariance)
    exact = torch.linalg.inv(matrix.T @ matrix / 0.16 + inverse_prior)
    exact_mean = exact @ (matrix.T @ data / 0.16 + inverse_prior @ mean)
    w_map = toy.find_map()
    assert torch.allclose(prior.latent(w_map), exact_mean, atol=1e-6)
    assert torch.allclose(prior.covariance(toy.laplace(w_map)), exact, rtol=1e-7, atol=1e-10)


def test_the_aggregate_prior_is_the_pooled_moments_of_the_encoder():
    """m = mean of the encoder's means; C = their covariance + the mean of its variances."""
    generator = torch.Generator().manual_seed(7)
    means = torch.randn(50, 3, generator=generator, dtype=torch.float64) @ torch.tensor(
        [[1.0, 0.5, 0.0], [0.0, 2.0, 0.3], [0.0, 0.0, 0.2]], dtype=torch.float64) + 1.5
    log_std = torch.linspace(-1.0, 0.0, 150, dtype=torch.float64).reshape(50, 3)

    class Inputs:
        def __init__(self, rows):
            self.rows = rows

        def select(self, index):
            return Inputs(self.rows[index])

        def to(self, device):
            return self

    class Encoder:
        center = torch.zeros(1)

        def encode(self, inputs):
            return means[inputs.rows], log_std[inputs.rows]

    class Pool:
        def __len__(self):
            return 50

        def operator_inputs(self, dtype):
            return Inputs(torch.arange(50))

    prior = aggregate_prior(Encoder(), Pool(), torch.float64, chunk=16)  # chunks with a ragged end
    assert torch.allclose(prior.mean, means.mean(0))
    expected = torch.cov(means.T) + torch.diag((2 * log_std).exp().mean(0))
    assert torch.allclose(prior.covariance(torch.eye(3, dtype=torch.float64)), expected)


def test_an_unknown_prior_is_refused():
    with pytest.raises(InferError, match="unknown prior 'flat'.*aggregate, standard"):
        Settings(prior="flat")


def test_too_few_posterior_draws_are_refused_before_any_work():
    """One draw has no standard deviation (every _std was NaN); chains too short for the draws asked for
    quietly returned fewer."""
    with pytest.raises(InferError, match="--draws 1: a standard deviation needs at least 2"):
        Settings(samples=1)
    with pytest.raises(InferError, match="--chains 3 keep 9 draws .* fewer than --draws 100"):
        Settings(chains=3, mala_steps=5, samples=100)
    assert Settings(chains=3, mala_steps=5, samples=100, sampler="laplace").samples == 100  # no chains to run
    assert Settings(chains=2, mala_steps=16, samples=16).samples == 16


@pytest.mark.parametrize("options", [["--draws", "1"], ["--draws", "0"], ["--chains", "2", "--mala-steps", "4"],
                                     ["--particles", "0"], ["--particles", "-5"]])
def test_posterior_options_that_do_not_fit_are_usage_errors(tmp_path, capsys, options):
    from pdedsl.cli import main

    spec = Path(__file__).resolve().parents[2] / "specs" / "darcy_two_phase_inverse.pde"
    out = tmp_path / "inferred"
    assert main(["infer", str(spec), "--model", str(tmp_path), "--out", str(out), *options]) == 2
    assert "pdedsl: error: --" in capsys.readouterr().err and not out.exists()


def test_a_negative_particle_count_is_refused():
    with pytest.raises(InferError, match="--particles -1: .*at least 1"):
        Settings(particles=-1)


def test_the_posteriors_particles_default_to_the_training_count_or_400_and_can_be_set_either_way(two_phase):
    """Session 33: at least max(training count, 400) whatever was asked, so an inverse step could not be made
    cheaper; now a count given is the count used (fewer: faster, a rougher physics), the default unchanged."""
    from pdedsl import api
    from pdedsl.training.inverse import observations_of
    from pdedsl.training.run import Run

    run = Run.open(two_phase)  # trained with 8 particles
    observations = observations_of(api.load("specs/darcy_two_phase_inverse.pde"), run)
    counts = {}
    for asked in (0, 5, 12, 500):
        posterior = LatentPosterior(run, observations, Settings(particles=asked))
        (batch,) = posterior.batches["weak"].values()
        counts[asked] = (len(batch.centres), posterior.particles)
        assert run.objective.weak.particles == 8  # (the run's own objective is left as it was)
    assert counts == {0: (400, 400), 5: (5, 5), 12: (12, 12), 500: (500, 500)}


def test_calibration_counts_the_truth_inside_the_band():
    summary = {"a": np.array([1.0, 2.0, 3.0, 4.0]), "a_low": np.array([0.5, 1.5, 2.9, 4.5]),
               "a_high": np.array([1.5, 2.5, 3.1, 5.0]), "a_map": np.array([1.0, 2.0, 3.0, 4.0]),
               "a_std": np.ones(4)}
    report = calibration(summary, {"a": np.array([1.0, 2.2, 3.5, 4.6]), "unknown": np.zeros(4)})
    assert set(report) == {"a"}
    assert report["a"]["coverage_95"] == 0.75  # 3.5 lies above its band [2.9, 3.1]; the others inside
    truth = np.array([1.0, 2.2, 3.5, 4.6])
    assert report["a"]["rel_l2"] == pytest.approx(np.linalg.norm(summary["a"] - truth) / np.linalg.norm(truth))


def test_a_two_valued_truth_gets_the_reliability_of_its_phase_probabilities():
    from pdedsl.training.inverse import phase_reliability

    generator = np.random.default_rng(0)
    probability = generator.uniform(0, 1, 200_000)
    calibrated = np.where(generator.uniform(0, 1, probability.size) < probability, 10.0, 5.0)
    mean, low, high = 5 + 5 * probability, np.full(probability.size, 5.0), np.full(probability.size, 10.0)
    good = phase_reliability(mean, low, high, calibrated)
    assert good["phase_error"] < 0.01 and good["two_valued_band"] == 1.0
    assert good["brier"] == pytest.approx(1 / 6, abs=0.01)  # E[p (1 - p)] for p ~ U(0, 1)
    overconfident = phase_reliability(5 + 5 * (probability > 0.5), low, high, calibrated)
    assert overconfident["phase_error"] == pytest.approx(0.25, abs=0.01)  # |1 - 3/4| in every node
    assert phase_reliability(mean, low, high, np.linspace(1, 2, probability.size)) == {}  # not two-valued
    summary = {"a": mean, "a_low": low, "a_high": high, "a_map": mean, "a_std": np.ones(probability.size)}
    assert calibration(summary, {"a": calibrated})["a"]["phase_error"] == good["phase_error"]


def pdedsl(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pdedsl", *args], capture_output=True, text=True, cwd=cwd)


SMALL = ["--latent", "6", "--width", "16", "--depth", "2"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny DGNO run on the log-normal Darcy family of specs/darcy_inverse.pde."""
    folder = tmp_path_factory.mktemp("dgno") / "run"
    done = pdedsl("train", "specs/darcy_inverse.pde", "--backend", "dgno", "--form", "weak(particles: 20)",
                  "--steps", "20", "--samples", "20", "--batch", "5", "--grid", "9", "--test", "3", *SMALL,
                  "--out", str(folder), "-q")
    assert done.returncode == 0, done.stderr
    return folder


def test_infer_writes_a_posterior_that_predict_and_plot_read(trained, tmp_path):
    out = tmp_path / "posterior"
    done = pdedsl("infer", "specs/darcy_inverse.pde", "--model", str(trained), "--out", str(out), "--map-steps",
                  "20", "--draws", "16", "--restarts", "2", "--chains", "2", "--mala-steps", "16", "--particles", "30",
                  "--json", "-q")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["inferred"] == ["a"] and report["observations"]["u"]["points"] == 120
    assert report["particles"] == 30  # (trained with 20: fewer than the default 400, as asked)
    assert "Laplace" in report["method"] and "Langevin" in report["method"]
    assert "aggregate posterior" in report["prior"]
    assert 0.0 <= report["acceptance"] <= 1.0
    with np.load(out / "posterior.npz") as archive:
        assert archive["samples"].shape == (16, 6) and archive["covariance"].shape == (6, 6)
        assert np.all(np.linalg.eigvalsh(archive["covariance"]) > 0)
    with np.load(out / "fields.npz") as archive:
        assert archive["a"].shape == (9, 9) and np.all(archive["a_std"] > 0)
        assert np.all(archive["a_low"] <= archive["a_high"]) and np.all(archive["a"] > 0)  # log-normal stays positive
        assert len(archive["obs_u"]) == 120
    np.savez(tmp_path / "points.npz", x=np.array([0.2, 0.5, 0.7]), y=np.array([0.1, 0.5, 0.9]))
    done = pdedsl("predict", str(out), "--points", str(tmp_path / "points.npz"), "-o", str(tmp_path / "p.npz"))
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "p.npz") as archive:
        assert {"u", "u_std", "a", "a_std"} <= set(archive.files)
        assert archive["u"].shape == (3,) and np.all(archive["u_std"] > 0)
    assert "warning" not in done.stderr
    # the answer at a point depends on the point alone (input noise was drawn per query row)
    np.savez(tmp_path / "same.npz", x=np.array([0.2, 0.6, 0.2, 0.2]), y=np.array([0.1, 0.4, 0.1, 0.1]))
    done = pdedsl("predict", str(out), "--points", str(tmp_path / "same.npz"), "-o", str(tmp_path / "same_p.npz"))
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "same_p.npz") as archive, np.load(tmp_path / "p.npz") as first:
        for key in ("u", "u_std", "a", "a_std"):
            assert archive[key][0] == archive[key][2] == archive[key][3]
            assert archive[key][0] == pytest.approx(first[key][0], rel=1e-5)  # another file: roundoff only
    np.savez(tmp_path / "far.npz", x=np.array([0.2, 3.0]), y=np.array([0.1, 0.5]))
    done = pdedsl("predict", str(out), "--points", str(tmp_path / "far.npz"), "-o", str(tmp_path / "f.npz"))
    assert done.returncode == 0 and "warning: 1 of the 2 points lie outside the domain" in done.stderr
    done = pdedsl("plot", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "plot.png").stat().st_size > 10_000


def test_posterior_predict_in_passes_matches_one_pass(trained, tmp_path, monkeypatch):
    """Large point files are decoded a pass at a time (memory grows with draws x points); the passes change
    nothing, nor does counting the points outside the domain a pass at a time."""
    from pdedsl.training import posterior_views, predict
    from pdedsl.training.inference import infer

    infer("specs/darcy_inverse.pde", trained, tmp_path / "post",
          Settings(restarts=1, adam_steps=5, lbfgs_steps=5, samples=8, sampler="laplace"), progress=False)
    x = np.linspace(-0.5, 1.0, 7)
    np.savez(tmp_path / "pts.npz", x=x, y=x[::-1])
    whole = posterior_views.predict_posterior(tmp_path / "post", tmp_path / "pts.npz", tmp_path / "one.npz")
    monkeypatch.setattr(posterior_views, "_points_per_pass", lambda draws: 2)
    monkeypatch.setattr(predict, "CHUNK", 3)
    parts = posterior_views.predict_posterior(tmp_path / "post", tmp_path / "pts.npz", tmp_path / "parts.npz")
    assert whole["outside_domain"] == parts["outside_domain"] == 4
    with np.load(tmp_path / "one.npz") as one, np.load(tmp_path / "parts.npz") as passes:
        assert set(one.files) == set(passes.files)
        for key in one.files:
            assert np.allclose(one[key], passes[key], rtol=1e-5, atol=1e-7), key


def test_inference_with_a_known_truth_reports_error_and_coverage(trained, tmp_path):
    from pdedsl.training.inference import infer

    truth = np.full((9, 9), 1.0)
    report = infer("specs/darcy_inverse.pde", trained, tmp_path / "post",
                   Settings(restarts=1, adam_steps=5, lbfgs_steps=5, samples=8, sampler="laplace", prior="standard"),
                   truth={"a": truth}, progress=False)
    assert "N(0, I)" in report["prior"]
    scores = report["truth"]["a"]
    assert 0.0 <= scores["coverage_95"] <= 1.0 and scores["rel_l2"] > 0
    with np.load(tmp_path / "post" / "fields.npz") as archive:
        assert np.array_equal(archive["true_a"], truth)


def test_a_reference_on_a_finer_grid_is_interpolated_onto_the_sensor_grid(trained, tmp_path, capsys):
    from pdedsl.training.inference import infer

    fine = np.linspace(0, 1, 17)  # every node of the 9 x 9 sensor grid is one of its nodes
    X, Y = np.meshgrid(fine, fine, indexing="ij")
    np.savez(tmp_path / "fine.npz", x=fine, y=fine, a=1 + X + 2 * Y)  # linear: exact between the nodes too
    (tmp_path / "darcy_obs.npz").write_bytes(open("specs/darcy_obs.npz", "rb").read())
    spec = tmp_path / "fine.pde"
    spec.write_text(open("specs/darcy_inverse.pde").read() + 'reference a from "fine.npz"\n')
    settings = Settings(restarts=1, adam_steps=2, lbfgs_steps=2, samples=8, sampler="laplace", prior="standard")
    report = infer(spec, trained, tmp_path / "post", settings, progress=False)
    assert "a grid of 17 x 17 nodes; it is interpolated linearly" in capsys.readouterr().err
    coarse = np.linspace(0, 1, 9)
    with np.load(tmp_path / "post" / "fields.npz") as archive:
        assert np.allclose(archive["true_a"], 1 + coarse[:, None] + 2 * coarse[None, :])
    assert "a" in report["truth"]
    rng = np.random.default_rng(0)  # scattered points cannot be interpolated from: refused at the statement
    np.savez(tmp_path / "fine.npz", x=rng.random(50), y=rng.random(50), a=rng.random(50))
    with pytest.raises(InferError, match=r"fine.pde:19:1: 'reference a' .* or on a grid that covers it"):
        infer(spec, trained, tmp_path / "post2", settings, progress=False)


def test_infer_errors_are_explained(trained, tmp_path):
    done = pdedsl("infer", "specs/darcy_inverse.pde", "--out", str(tmp_path / "x"))
    assert done.returncode == 1 and "--backend dgno" in done.stderr and "Traceback" not in done.stderr
    assert "specs/darcy_inverse.pde:18:7: 'infer a' asks for the posterior of a field" in done.stderr
    both = tmp_path / "both.pde"  # a fixed param beside the field: the model generates no such unknown
    both.write_text(open("specs/darcy_inverse.pde").read().replace("infer a ", "param q = 1\ninfer a, q ")
                    .replace("grad(u)) = 1", "grad(u)) = q"))
    (tmp_path / "darcy_obs.npz").write_bytes(open("specs/darcy_obs.npz", "rb").read())
    done = pdedsl("infer", str(both), "--model", str(trained), "--out", str(tmp_path / "w"))
    assert done.returncode == 1 and f"{both}:19:10: 'infer q': the model generates the inputs a" in done.stderr
    done = pdedsl("infer", "specs/darcy_inverse.pde", "--model", str(tmp_path / "missing"))
    assert done.returncode == 2 and "no such run folder" in done.stderr
    spec = tmp_path / "quiet.pde"
    spec.write_text(open("specs/darcy_inverse.pde").read().replace(" noise 0.01", ""))
    (tmp_path / "darcy_obs.npz").write_bytes(open("specs/darcy_obs.npz", "rb").read())
    done = pdedsl("infer", str(spec), "--model", str(trained), "--out", str(tmp_path / "y"))
    assert done.returncode == 1 and "noise" in done.stderr and "Traceback" not in done.stderr
    assert "differs from the one" not in done.stderr
    spec.write_text(spec.read_text().replace("length: 0.25", "length: 0.1"))  # another prior for a
    done = pdedsl("infer", str(spec), "--model", str(trained), "--out", str(tmp_path / "y"))
    assert "warning: the prior of 'a' differs from the one the model" in done.stderr
    other = tmp_path / "other.pde"
    other.write_text(open("specs/darcy_inverse.pde").read().replace("field u", "field p").replace("u =", "p =")
                     .replace("grad(u)", "grad(p)").replace("observe u", "observe p"))
    done = pdedsl("infer", str(other), "--model", str(trained), "--out", str(tmp_path / "z"))
    assert done.returncode == 1 and "learned u" in done.stderr
    rod = tmp_path / "rod.pde"  # the same names on other coordinates: readings at (x, y) are not u(x)
    np.savez(tmp_path / "rod_obs.npz", x=np.linspace(0.1, 0.9, 5), u=np.zeros(5))
    rod.write_text("problem rod\ndomain Omega = interval(x: [0, 1])\nfield u\n"
                   "input a ~ exp(gaussian_field(length: 0.25, smoothness: 2.5, variance: 0.5))\n"
                   "equation in Omega:\n    -d(a*d(u, x), x) = 1\nboundary on boundary(Omega):\n    u = 0\n"
                   "observe u from \"rod_obs.npz\" noise 0.01\ninfer a\n")
    done = pdedsl("infer", str(rod), "--model", str(trained), "--out", str(tmp_path / "r"))
    assert done.returncode == 1 and "the spec's coordinates (x) differ from those of the model" in done.stderr
    before = sorted(p.name for p in trained.iterdir())
    done = pdedsl("infer", "specs/heat_inverse.pde", "--out", str(trained))  # --model forgotten
    assert done.returncode == 1 and f"{trained} holds a trained dgno model" in done.stderr
    done = pdedsl("infer", "specs/heat_inverse.pde", "--out", str(tmp_path / "never"), "--steps", "-5")
    assert done.returncode == 2 and "--steps must be at least 0" in done.stderr and not (tmp_path / "never").exists()
    done = pdedsl("infer", "specs/darcy_inverse.pde", "--model", str(trained), "--out", str(trained))
    assert done.returncode == 1 and "the model's own run folder" in done.stderr
    assert sorted(p.name for p in trained.iterdir()) == before  # nothing of the model overwritten
    another_run = tmp_path / "another_run"  # any training run is refused as --out, not only the model's own
    another_run.mkdir()
    (another_run / "config.json").write_text("{}")
    done = pdedsl("infer", "specs/darcy_inverse.pde", "--model", str(trained), "--out", str(another_run))
    assert done.returncode == 1 and "holds a training run" in done.stderr
    assert sorted(p.name for p in another_run.iterdir()) == ["config.json"]
    mine = tmp_path / "mine"  # a folder of the user's own files: its spec.pde was overwritten by the posterior's
    mine.mkdir()
    (mine / "spec.pde").write_text("problem my_own\n")
    done = pdedsl("infer", "specs/darcy_inverse.pde", "--model", str(trained), "--out", str(mine))
    assert done.returncode == 1 and "holds spec.pde, not a posterior of pdedsl's" in done.stderr
    assert (mine / "spec.pde").read_text() == "problem my_own\n"


def test_a_posterior_moved_with_its_model_still_finds_it(trained, tmp_path):
    both = tmp_path / "both"
    shutil.copytree(trained, both / "model")
    done = pdedsl("infer", "specs/darcy_inverse.pde", "--model", str(both / "model"), "--out", str(both / "post"),
                  "--map-steps", "5", "--draws", "4", "--restarts", "1", "--sampler", "laplace", "-q")
    assert done.returncode == 0, done.stderr
    moved = tmp_path / "moved"
    shutil.move(both, moved)
    np.savez(tmp_path / "points.npz", x=np.array([0.2, 0.5]), y=np.array([0.1, 0.5]))
    done = pdedsl("predict", str(moved / "post"), "--points", str(tmp_path / "points.npz"), "-o",
                  str(tmp_path / "p.npz"))
    assert done.returncode == 0, done.stderr
    done = pdedsl("train", "specs/darcy_inverse.pde", "--out", str(moved / "post"), "--steps", "1")
    assert done.returncode == 1 and "holds a posterior of 'pdedsl infer'" in done.stderr


@pytest.mark.parametrize("key, bad, message", [
    ("u", np.nan, "'u' has 1 value(s) that are NaN or infinite (the first at index 3)"),
    ("x", np.inf, "'x' has 1 value(s) that are NaN or infinite (the first at index 3)"),
    ("u", None, "'u' is empty"),
])
def test_observations_that_are_not_numbers_are_refused_at_their_statement(trained, tmp_path, key, bad, message):
    """NaN, inf or no points in an observation file: a located error (the 'observe' line), no traceback."""
    with np.load("specs/darcy_obs.npz") as archive:
        arrays = {k: archive[k].astype(float) for k in archive.files}
    if bad is None:
        arrays = {k: v[:0] for k, v in arrays.items()}
    else:
        arrays[key].reshape(-1)[3] = bad
    np.savez(tmp_path / "darcy_obs.npz", **arrays)
    spec = tmp_path / "bad.pde"
    text = open("specs/darcy_inverse.pde").read()
    spec.write_text(text)
    line = text[:text.index("observe u")].count("\n") + 1
    done = pdedsl("infer", str(spec), "--model", str(trained), "--out", str(tmp_path / "post"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"bad.pde:{line}:1: 'observe u'" in done.stderr and message in done.stderr


def test_a_pinn_observation_file_with_nan_is_refused_at_its_statement(tmp_path):
    heat = tmp_path / "heat.pde"
    heat_text = open("specs/heat_inverse.pde").read()
    heat.write_text(heat_text)
    with np.load("specs/heat_obs.npz") as archive:
        arrays = {k: archive[k].astype(float) for k in archive.files}
    arrays["u"].reshape(-1)[0] = np.nan
    np.savez(tmp_path / "heat_obs.npz", **arrays)
    done = pdedsl("infer", str(heat), "--out", str(tmp_path / "heat_run"), "--steps", "2")
    line = heat_text[:heat_text.index("observe u")].count("\n") + 1
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"heat.pde:{line}:1: 'observe u'" in done.stderr and "NaN or infinite" in done.stderr


def test_a_spec_posed_elsewhere_than_the_model_is_warned_about(trained, tmp_path):
    """Another domain, other equations, readings outside the domain: the posterior is the model family's, and
    the user is told (it ran silently); the same spec under new names gets no warning."""
    quick = ["--map-steps", "5", "--restarts", "1", "--draws", "8", "--sampler", "laplace", "--no-model-error"]
    text = open("specs/darcy_inverse.pde").read()
    with np.load("specs/darcy_obs.npz") as archive:
        arrays = {k: archive[k].astype(float) for k in archive.files}
    np.savez(tmp_path / "darcy_obs.npz", **arrays)
    variants = {"box": text.replace("box(x: [0, 1], y: [0, 1])", "box(x: [0, 2], y: [0, 1])"),
                "source": text.replace("-div(a * grad(u)) = 1", "-div(a * grad(u)) = 2"),
                "renamed": text.replace("equation in Omega", "equation darcy in Omega")}
    said = {}
    for name, variant in variants.items():
        (tmp_path / f"{name}.pde").write_text(variant)
        done = pdedsl("infer", str(tmp_path / f"{name}.pde"), "--model", str(trained), "--out",
                      str(tmp_path / f"post_{name}"), *quick)
        assert done.returncode == 0, done.stderr
        said[name] = done.stderr
    assert "the spec's domain (x in [0, 2], y in [0, 1]) differs" in said["box"]
    assert "the spec's equations differ" in said["source"] and "domain" not in said["source"]
    assert "warning" not in said["renamed"]
    arrays["x"][:7] += 1.0
    np.savez(tmp_path / "darcy_obs.npz", **arrays)
    done = pdedsl("infer", str(tmp_path / "renamed.pde"), "--model", str(trained), "--out", str(tmp_path / "far"),
                  *quick)
    assert done.returncode == 0 and "7 of the 120 readings of 'u' lie outside the model's domain" in done.stderr
    arrays["x"] += 5.0  # all of them: an error at the statement, as training gives
    np.savez(tmp_path / "darcy_obs.npz", **arrays)
    done = pdedsl("infer", str(tmp_path / "renamed.pde"), "--model", str(trained), "--out", str(tmp_path / "none"),
                  *quick)
    assert done.returncode == 1, done.stderr
    assert "renamed.pde:17:1: 'observe u': all 120 of its readings lie outside the model's domain" in done.stderr


TWO_FILES = """problem p1
domain L = interval(x: [0, 1])
field u
param D = 1.0
equation in L:
    -D*d(u, x, x) = 0.5*pi^2*sin(pi*x)
boundary on boundary(L):
    u = 0
observe u from "full.npz" noise {full}
observe u from "half.npz" noise {half}
infer D
"""


@pytest.mark.parametrize("full, half, expected", [(0.001, 1, 0.5), (1, 0.001, 1.0)])
def test_two_files_of_one_field_both_count_weighed_by_their_noise(tmp_path, full, half, expected):
    """u = sin(pi x) needs D = 0.5, u = sin(pi x)/2 needs D = 1: the precise file wins (the second file used
    to replace the first, and noise was not read on this path)."""
    x = np.linspace(0.05, 0.95, 20)
    np.savez(tmp_path / "full.npz", x=x, u=np.sin(np.pi * x))
    np.savez(tmp_path / "half.npz", x=x, u=0.5 * np.sin(np.pi * x))
    (tmp_path / "two.pde").write_text(TWO_FILES.format(full=full, half=half))
    done = pdedsl("infer", str(tmp_path / "two.pde"), "--out", str(tmp_path / "run"), "--steps", "300",
                  "--lbfgs-steps", "30", "--json", "-q")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["observations"] == {"u": {"noise": full}, "u_2": {"noise": half}}
    assert report["params"]["D"] == pytest.approx(expected, rel=0.02)
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert {"data_u", "data_u_2"} <= set(last["terms"])


def test_scalar_unknowns_are_fitted_the_pinn_way(tmp_path):
    done = pdedsl("infer", "specs/heat_inverse.pde", "--out", str(tmp_path / "heat"), "--steps", "30",
                  "--lbfgs-steps", "10", "--particles", "50", "--json", "-q")
    assert done.returncode == 0, done.stderr
    assert "--particles sets the posterior of a dgno model (--model); without one they do nothing" in done.stderr
    refused = pdedsl("infer", "specs/darcy_inverse.pde", "--model", str(tmp_path / "heat"), "--out",
                     str(tmp_path / "posterior"))  # a PINN run is no generative model
    assert refused.returncode == 1 and "needs a dgno run" in refused.stderr and "Traceback" not in refused.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["kind"] == "pinn" and set(report["params"]) == {"D"}
    assert (tmp_path / "heat" / "checkpoint.pt").is_file()  # an ordinary run folder: predict and plot work on it
    done = pdedsl("plot", str(tmp_path / "heat"))
    assert done.returncode == 0, done.stderr


def test_a_family_spec_infers_its_unknowns_on_one_draw_of_the_rest(tmp_path):
    spec = tmp_path / "heat_family.pde"
    spec.write_text(open("specs/heat_inverse.pde").read()
                    .replace("param D = 1.0", "param D = 1.0\nparam s ~ uniform(0.9, 1.1)")
                    .replace("u = sin(pi*x)", "u = s*sin(pi*x)"))
    shutil.copy("specs/heat_obs.npz", tmp_path / "heat_obs.npz")
    done = pdedsl("infer", str(spec), "--out", str(tmp_path / "a"), "--steps", "20", "--lbfgs-steps", "0", "-q")
    assert done.returncode == 1 and "--instance SEED" in done.stderr  # the option the message names exists:
    assert f"{spec}:12:1: param 's' is random" in done.stderr and "--backend dgno" in done.stderr
    assert not (tmp_path / "a").exists()  # refused before any folder is made
    done = pdedsl("infer", str(spec), "--out", str(tmp_path / "a"), "--steps", "20", "--lbfgs-steps", "0",
                  "--instance", "3", "--json", "-q")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(report["params"]) == {"D"} and report["instance"] == 3
    assert (tmp_path / "a" / "instance.npz").is_file()


def test_a_killed_pinn_inference_is_continued_by_the_same_command(tmp_path):
    from pdedsl import api
    from pdedsl.training.config import TrainConfig
    from pdedsl.training.inference import _killed_alike

    command = ["infer", "specs/heat_inverse.pde", "--out", str(tmp_path / "heat"), "--steps", "300",
               "--lbfgs-steps", "0", "--json", "-q"]
    done = pdedsl(*command)
    assert done.returncode == 0, done.stderr
    whole = json.loads(done.stdout.strip().splitlines()[-1])
    problem = api.load("specs/heat_inverse.pde")
    same = TrainConfig(steps=300, lbfgs_steps=0)
    assert not _killed_alike("specs/heat_inverse.pde", problem, same, tmp_path / "heat")  # it finished
    (tmp_path / "heat" / "result.json").unlink()  # as a kill after the step-250 checkpoint leaves it
    (tmp_path / "heat" / "inference.json").unlink()
    assert _killed_alike("specs/heat_inverse.pde", problem, same, tmp_path / "heat")
    assert not _killed_alike("specs/heat_inverse.pde", problem, TrainConfig(steps=400, lbfgs_steps=0),
                             tmp_path / "heat")
    done = pdedsl("train", "--resume", str(tmp_path / "heat"), "--steps", "250", "-q")
    assert done.returncode == 2 and "can only extend the run" in done.stderr  # 300 taken already
    done = pdedsl(*command)
    assert done.returncode == 0, done.stderr
    assert "continuing it from its last checkpoint" in done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["params"] == whole["params"]
    (tmp_path / "heat" / "result.json").unlink()  # killed again, then asked with other settings: said so
    done = pdedsl(*command[:4], "--steps", "2", "--lbfgs-steps", "0", "-q")
    assert done.returncode == 0 and "killed part way with other equations or settings" in done.stderr


def test_a_pinn_inference_takes_threads_as_train_does(tmp_path):
    """On a machine whose cores were busy with other work, the Levenberg-Marquardt phase's default of every core
    ran 3.5-5.7 times slower than one thread; train had --threads for that, infer had none."""
    command = ["infer", "specs/heat_inverse.pde", "--out", str(tmp_path / "heat"), "--steps", "10",
               "--lbfgs-steps", "2", "-q"]
    done = pdedsl(*command, "--threads", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "heat" / "config.json").read_text())["threads"] == 1
    done = pdedsl(*command, "--threads", "-1")
    assert done.returncode == 2 and "--threads must be at least 0 (got -1)" in done.stderr
    done = pdedsl("infer", "specs/heat_inverse.pde", "--model", str(tmp_path / "heat"), "--out",
                  str(tmp_path / "post"), "--threads", "1", "--steps", "3", "-q")  # (not a dgno run: refused)
    assert "--steps sets the PINN fit without --model; with a dgno model they do nothing" in done.stderr
    assert "--threads" not in done.stderr  # it limits the MAP search and the chains with a model too


def test_threads_limit_an_inference_with_a_model(trained, monkeypatch, tmp_path):
    """--threads said it did nothing with a model, and the MAP search and chains took every core."""
    import torch

    from pdedsl import cli

    seen = []
    monkeypatch.setattr(torch, "set_num_threads", seen.append)
    monkeypatch.setattr("pdedsl.training.inference.infer", lambda *a, **k: (_ for _ in ()).throw(SystemExit(7)))
    with pytest.raises(SystemExit):
        cli.main(["infer", "specs/darcy_inverse.pde", "--model", str(trained), "--out", str(tmp_path / "post"),
                  "--threads", "3", "-q"])
    assert seen == [3]


def test_a_random_param_can_be_inferred_with_its_spread(tmp_path):
    """'infer k' for 'param k ~ uniform(...)': the model generates k too, and the posterior reports k +- std."""
    from pdedsl import api
    from pdedsl.reference.dataset import generate
    from pdedsl.training import TrainConfig, train
    from pdedsl.training.inference import infer

    text = open("specs/parametric_diffusion.pde").read() + '\nobserve u from "obs.npz" noise 0.001\ninfer k\n'
    truth = generate(api.load("specs/parametric_diffusion.pde"), 1, 9, seed=5)
    np.savez(tmp_path / "obs.npz", x=truth["x"], y=truth["y"], u=truth["u"][0])
    spec = tmp_path / "spec.pde"
    spec.write_text(text)
    assert "k" in api.load(spec).inferred
    config = TrainConfig(backend="dgno", steps=10, samples=10, batch_size=5, grid=9, test_samples=0,
                         interior_points=40, boundary_points=8,
                         backend_options={"latent": 4, "width": 8, "depth": 1, "encoder_width": 8})
    train(spec, config, tmp_path / "run", progress=False)
    report = infer(spec, tmp_path / "run", tmp_path / "post",
                   Settings(restarts=2, adam_steps=10, lbfgs_steps=5, samples=16, chains=2, mala_steps=16),
                   progress=False)
    assert report["inferred"] == ["k"]
    assert np.isfinite(report["params"]["k"]) and report["params_std"]["k"] > 0
    from pdedsl.training.posterior_views import predict_posterior

    np.savez(tmp_path / "pts.npz", x=np.array([0.3, 0.6]), y=np.array([0.5, 0.5]))
    predict_posterior(tmp_path / "post", tmp_path / "pts.npz", tmp_path / "p.npz")
    with np.load(tmp_path / "p.npz") as archive:  # a scalar unknown: mean, std and the MAP, as fields have
        assert {"k", "k_std", "k_map"} <= set(archive.files) and np.isfinite(archive["k_map"])
        # the mixture over the draws of k's clipped likelihood, computed not drawn: infer's own numbers
        assert float(archive["k"]) == pytest.approx(report["params"]["k"], rel=1e-9)
        assert float(archive["k_std"]) == pytest.approx(report["params_std"]["k"], rel=1e-9)
    with pytest.raises(InferError, match="truth=.*'kk'.*the model has no 'kk'"):  # a misspelt name was ignored
        infer(spec, tmp_path / "run", tmp_path / "post2", Settings(restarts=1, adam_steps=2, samples=4,
                                                                   sampler="laplace"), truth={"kk": 1.0})
    (tmp_path / "none.pde").write_text(text.replace("infer k", ""))
    with pytest.raises(InferError, match=r"none.pde:\d+:1: the spec infers nothing.*one of .*k"):
        infer(tmp_path / "none.pde", tmp_path / "run", tmp_path / "post3", Settings(restarts=1, adam_steps=2),
              progress=False)


def test_the_bundled_two_phase_inverse_spec_reports_against_its_reference(tmp_path):
    """specs/darcy_two_phase_inverse.pde: a model of darcy_two_phase.pde serves it; 'reference u' and
    'reference a' (the inferred input's truth) are scored."""
    from pdedsl.training import TrainConfig, train
    from pdedsl.training.inference import infer

    config = TrainConfig(backend="dgno", form="mixed", steps=2, samples=4, batch_size=2, grid=29, test_samples=0,
                         weak_particles=8, backend_options={"latent": 4, "width": 8, "depth": 1, "encoder_width": 8})
    train("specs/darcy_two_phase.pde", config, tmp_path / "run", progress=False)
    report = infer("specs/darcy_two_phase_inverse.pde", tmp_path / "run", tmp_path / "post",
                   Settings(restarts=1, adam_steps=3, lbfgs_steps=2, samples=8, particles=20, sampler="laplace"),
                   progress=False)
    assert report["observations"]["u"] == {"points": 100, "noise": 0.00365}
    assert set(report["truth"]) == {"u", "a"} and 0 <= report["truth"]["u"]["coverage_95"] <= 1
    assert "phase_error" in report["truth"]["a"]  # a two-valued truth: its phases are scored too
    assert (tmp_path / "post" / "data" / "darcy_two_phase_obs.npz").is_file()  # the data travel with the spec copy


def test_model_error_is_measured_once_and_widens_the_bands(trained, tmp_path):
    """infer measures reference - model on fresh members, keeps it in the run folder, and folds it in."""
    from pdedsl.training.inference import infer
    from pdedsl.training.model_error import FILE_NAME, ModelError

    settings = dict(restarts=1, adam_steps=5, lbfgs_steps=5, samples=32, sampler="laplace")
    plain = infer("specs/darcy_inverse.pde", trained, tmp_path / "plain", Settings(**settings, model_error=False),
                  progress=False)
    assert plain["model_error"] == {"used": False, "why": "turned off"}
    widened = infer("specs/darcy_inverse.pde", trained, tmp_path / "widened", Settings(**settings), progress=False)
    assert widened["model_error"]["used"] and widened["model_error"]["members"] == 100
    error = ModelError.load(trained / FILE_NAME, ["u"])
    assert error.std["u"].shape == (9, 9) and np.all(error.std["u"][1:-1, 1:-1] > 0)
    with np.load(tmp_path / "plain" / "fields.npz") as a, np.load(tmp_path / "widened" / "fields.npz") as b:
        assert b["u_std"].mean() > a["u_std"].mean()
    # at the grid's nodes the error is its saved arrays; between them, interpolated
    nodes = {a: torch.as_tensor(v, dtype=torch.float64) for a, v in
             zip("xy", np.meshgrid(error.axes["x"], error.axes["y"], indexing="ij"))}
    mean, std = error.at("u", nodes)
    assert np.allclose(mean.numpy(), error.mean["u"]) and np.allclose(std.numpy(), error.std["u"])


def test_infer_summarises_the_model_error_without_drawing_it_as_predict_does(trained, tmp_path):
    """With the model's error folded in, each draw of z gives u ~ N(decoded u + error mean, sigma_e^2) at a node:
    the grid's mean, std and band are that mixture's (no draw of the error, whose noise made the mean grainy),
    so predict at the grid's nodes gives the same numbers (inputs too: their likelihoods are summarised alike)."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    from pdedsl.training.inference import infer, open_posterior
    from pdedsl.training.inverse import decode_latent
    from pdedsl.training.model_error import model_error
    from pdedsl.training.posterior_views import predict_posterior

    out = tmp_path / "post"
    report = infer("specs/darcy_inverse.pde", trained, out,
                   Settings(restarts=1, adam_steps=5, lbfgs_steps=5, samples=37, sampler="laplace"), progress=False)
    assert report["model_error"]["used"]
    with np.load(out / "fields.npz") as archive:
        fields = {key: archive[key] for key in archive.files}
    x, y = np.meshgrid(fields["x"], fields["y"], indexing="ij")
    np.savez(tmp_path / "nodes.npz", x=x.reshape(-1), y=y.reshape(-1))
    predict_posterior(out, tmp_path / "nodes.npz", tmp_path / "p.npz")
    with np.load(tmp_path / "p.npz") as predicted:
        for key in ("u", "u_std", "a", "a_std", "u_map", "a_map"):
            assert np.allclose(predicted[key].reshape(9, 9), fields[key], rtol=1e-6, atol=1e-9), key
    _, _, run, samples, _ = open_posterior(out)
    error = model_error(run)[0]
    coords = {a: torch.as_tensor(v.reshape(-1), dtype=run.dtype) for a, v in (("x", x), ("y", y))}
    decoded = decode_latent(run, samples, coords, model_error=error)["u"].double().numpy()  # + the error's mean
    sigma = error.at("u", coords)[1].double().numpy()  # its saved std at the nodes, in the model's dtype
    assert np.allclose(sigma, error.std["u"].reshape(-1), rtol=1e-6)
    assert np.allclose(fields["u"].reshape(-1), decoded.mean(0), rtol=1e-9, atol=1e-12)
    assert np.allclose(fields["u_std"].reshape(-1) ** 2, decoded.var(0, ddof=1) + sigma ** 2, rtol=1e-9, atol=1e-15)
    for node in (10, 40, 60):  # inside, where sigma_e > 0: the band is the root of the mixture's CDF
        assert sigma[node] > 0
        for key, level in (("u_low", 0.025), ("u_high", 0.975)):
            cdf = lambda v: norm.cdf((v - decoded[:, node]) / sigma[node]).mean() - level  # noqa: E731
            exact = brentq(cdf, decoded[:, node].min() - 10 * sigma[node], decoded[:, node].max() + 10 * sigma[node],
                           xtol=1e-15)
            assert fields[key].reshape(-1)[node] == pytest.approx(exact, abs=1e-9), (key, node)
    assert np.all(fields["u_low"] <= fields["u"]) and np.all(fields["u"] <= fields["u_high"])


def test_observations_fold_the_model_error_into_their_noise():
    from pdedsl.training.inverse import Observed
    from pdedsl.training.model_error import ModelError

    axes = {"x": np.array([0.0, 1.0])}
    error = ModelError(axes, {"u": np.array([0.0, 2.0])}, {"u": np.array([3.0, 0.0])}, members=10)
    observed = Observed("u", {"x": torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)},
                        torch.zeros(3, dtype=torch.float64), noise=4.0).with_model_error(error)
    assert torch.allclose(observed.offset, torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64))
    assert torch.allclose(observed.scale, torch.tensor([5.0, (16 + 2.25) ** 0.5, 4.0], dtype=torch.float64))
    other = Observed("a", {"x": torch.zeros(1)}, torch.zeros(1), noise=1.0)
    assert other.with_model_error(error) is other  # no error known for 'a'


def test_an_initial_condition_is_inferred_as_a_function_of_space(tmp_path):
    """A time-dependent family: infer the random start u0(x) from readings of u(x, t)."""
    from pdedsl.training import TrainConfig, train
    from pdedsl.training.inference import infer
    from pdedsl.training.model_error import FILE_NAME, model_error
    from pdedsl.training.run import Run

    rod = Path(__file__).parent.parent / "data" / "rod_random_start.pde"
    text = rod.read_text() + 'observe u from "obs.npz" noise 0.01\ninfer u0\n'
    spec = tmp_path / "rod.pde"
    spec.write_text(text)
    rng = np.random.default_rng(0)
    x, t = rng.uniform(0, 1, 12), rng.uniform(0, 0.5, 12)
    np.savez(tmp_path / "obs.npz", x=x, t=t, u=0.2 * np.sin(np.pi * x) * np.exp(-t))
    config = TrainConfig(backend="dgno", steps=4, samples=6, batch_size=3, grid=9, test_samples=0,
                         interior_points=30, boundary_points=8,
                         backend_options={"latent": 4, "width": 8, "depth": 1, "encoder_width": 8})
    train(spec, config, tmp_path / "run", progress=False)
    found, _ = model_error(Run.open(tmp_path / "run"), members=4)  # saved on the (x, t) grid; infer reads it
    assert found.mean["u"].shape == (9, len(found.axes["t"])) and (tmp_path / "run" / FILE_NAME).is_file()
    settings = Settings(restarts=1, adam_steps=3, lbfgs_steps=2, samples=8, particles=20, sampler="laplace")
    with pytest.raises(InferError, match="truth of 'u0' has 7 values"):  # refused before the long work
        infer(spec, tmp_path / "run", tmp_path / "post", settings, truth={"u0": np.ones(7)}, progress=False)
    truth = {"u0": 0.2 * np.sin(np.pi * np.linspace(0, 1, 9))}  # on the space grid: u0 does not vary in t
    report = infer(spec, tmp_path / "run", tmp_path / "post", settings, truth=truth, progress=False)
    assert report["model_error"]["used"] and report["model_error"]["members"] == 4 and report["axes"] == ["x", "t"]
    assert 0 <= report["truth"]["u0"]["coverage_95"] <= 1 and report["truth"]["u0"]["rel_l2"] > 0
    with np.load(tmp_path / "post" / "fields.npz") as fields:
        assert fields["u"].shape == fields["u0"].shape == (9, len(fields["t"]))
        for key in ("u0", "u0_std", "u0_low", "u0_high", "true_u0"):  # an input does not vary along t
            assert np.all(fields[key] == fields[key][:, :1]), key
        assert not np.all(fields["u_std"] == fields["u_std"][:, :1])


def test_the_bundled_heat_start_spec_infers_its_start_against_the_truth(tmp_path):
    """specs/heat_random_start.pde: readings of u(x, t > 0), the start s(x) inferred, scored against its truth."""
    from pdedsl.training import TrainConfig, train
    from pdedsl.training.inference import infer

    config = TrainConfig(backend="dgno", steps=3, samples=6, batch_size=3, grid=33, test_samples=0,
                         interior_points=30, boundary_points=8,
                         backend_options={"latent": 4, "width": 8, "depth": 1, "encoder_width": 8})
    train("specs/heat_random_start.pde", config, tmp_path / "run", progress=False)
    with np.load("specs/heat_start_truth.npz") as truth:
        start = truth["s"]
        assert truth["u"].shape == (33, 33) and np.allclose(truth["u"][:, 0], start * np.sin(np.pi * truth["x"]))
    report = infer("specs/heat_random_start.pde", tmp_path / "run", tmp_path / "post",
                   Settings(restarts=1, adam_steps=3, lbfgs_steps=2, samples=8, sampler="laplace", model_error=False),
                   progress=False)  # the truth of s comes from the spec's 'reference s' (space alone)
    assert report["observations"]["u"] == {"points": 40, "noise": 0.01} and report["inferred"] == ["s"]
    assert set(report["truth"]) == {"s"} and 0 <= report["truth"]["s"]["coverage_95"] <= 1
    with np.load(tmp_path / "post" / "fields.npz") as archive:  # repeated at every time node, as truth= does
        assert archive["true_s"].shape[0] == 33 and np.array_equal(archive["true_s"][:, -1], start)


def test_a_model_error_file_keeps_its_grid_and_older_files_still_read(tmp_path):
    from pdedsl.training.model_error import ModelError

    axes = {"x": np.linspace(0, 1, 3), "t": np.linspace(0, 0.5, 4)}
    error = ModelError(axes, {"u": np.ones((3, 4))}, {"u": np.full((3, 4), 0.5)}, members=7)
    error.save(tmp_path / "e.npz")
    with np.load(tmp_path / "e.npz") as data:  # the same arrays as a file written before the axes' names were
        np.savez(tmp_path / "old.npz", **{k: data[k] for k in data.files if k != "axes"})
    for name in ("e.npz", "old.npz"):
        back = ModelError.load(tmp_path / name, ["u"])
        assert list(back.axes) == ["x", "t"] and back.members == 7 and back.std["u"].shape == (3, 4)


def test_an_inference_reuses_its_models_caches_until_the_model_changes(tmp_path, monkeypatch):
    """The aggregate prior and the model error are kept in the model's folder for its checkpoint: a second
    infer draws no training pool and gives the same posterior; training on makes both again, and the old
    posterior folder is refused (its latent draws mean nothing to the new decoders)."""
    from pdedsl.training import TrainConfig, resume, train
    from pdedsl.training.inference import infer, open_posterior
    from pdedsl.training.inverse import PRIOR_FILE
    from pdedsl.training.model_error import FILE_NAME
    from pdedsl.training.run import Run

    model = tmp_path / "run"
    train("specs/darcy_inverse.pde", TrainConfig(backend="dgno", steps=6, samples=12, batch_size=4, grid=9,
                                                 test_samples=0, form="weak", weak_particles=10,
                                                 backend_options=dict(latent=6, width=12, depth=2)),
          model, progress=False)
    settings = Settings(restarts=1, adam_steps=5, lbfgs_steps=5, samples=32, sampler="laplace")
    first = infer("specs/darcy_inverse.pde", model, tmp_path / "one", settings, progress=False)
    made = {name: (model / name).stat().st_mtime_ns for name in (FILE_NAME, PRIOR_FILE)}
    with monkeypatch.context() as patch:
        patch.setattr(Run, "_training_pool", lambda self: pytest.fail("the training pool was drawn again"))
        again = infer("specs/darcy_inverse.pde", model, tmp_path / "two", settings, progress=False)
    assert again["negative_log_posterior_map"] == first["negative_log_posterior_map"]
    with np.load(tmp_path / "one" / "fields.npz") as a, np.load(tmp_path / "two" / "fields.npz") as b:
        assert np.array_equal(a["u"], b["u"]) and np.array_equal(a["a_std"], b["a_std"])
    assert {name: (model / name).stat().st_mtime_ns for name in made} == made
    resume(model, progress=False, steps=8)
    with pytest.raises(InferError, match="has changed since this posterior was inferred"):
        open_posterior(tmp_path / "one")
    third = infer("specs/darcy_inverse.pde", model, tmp_path / "three", settings, progress=False)
    assert third["model_checkpoint"][0] == 8
    assert all((model / name).stat().st_mtime_ns != made[name] for name in made)  # made again for step 8


def test_a_failed_infer_leaves_no_empty_out_folder(tmp_path, monkeypatch, capsys):
    """The folder a failing fit created (holding only its lock) goes; one the user made stays."""
    from pdedsl.cli import main
    from pdedsl.errors import PdeError
    from pdedsl.training import inference

    def failing(spec, folder, **_):
        folder.mkdir(parents=True)
        (folder / ".lock").write_text("1")
        raise PdeError("the fit failed")

    monkeypatch.setattr(inference, "infer_scalars", failing)
    spec = str(Path(__file__).resolve().parents[2] / "specs" / "heat_inverse.pde")
    assert main(["infer", spec, "--out", str(tmp_path / "new"), "-q"]) == 1
    assert "the fit failed" in capsys.readouterr().err and not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()
    monkeypatch.setattr(inference, "infer_scalars", lambda spec, folder, **_: failing(spec, folder / "x"))
    assert main(["infer", spec, "--out", str(tmp_path / "mine"), "-q"]) == 1
    assert (tmp_path / "mine").is_dir()


def test_lbfgs_steps_with_a_model_set_the_map_searchs_lbfgs(tmp_path, monkeypatch, capsys):
    from pdedsl.cli import main
    from pdedsl.training import inference

    seen = {}

    def capture(spec, model, out, settings, progress):
        seen["settings"] = settings
        raise InferError("stop here")

    monkeypatch.setattr(inference, "infer", capture)
    spec = str(Path(__file__).resolve().parents[2] / "specs" / "darcy_inverse.pde")
    assert main(["infer", spec, "--model", str(tmp_path), "--out", str(tmp_path / "o"), "--lbfgs-steps", "7"]) == 1
    assert seen["settings"].lbfgs_steps == 7 and "do nothing" not in capsys.readouterr().err
    assert main(["infer", spec, "--model", str(tmp_path), "--out", str(tmp_path / "o"), "--lbfgs-steps", "-1"]) == 2


def test_a_damaged_inference_json_is_named_not_a_crash(trained, tmp_path, capsys):
    from pdedsl.cli import main
    from pdedsl.training.inference import infer

    infer("specs/darcy_inverse.pde", trained, tmp_path / "post",
          Settings(restarts=1, adam_steps=3, lbfgs_steps=2, samples=4, sampler="laplace"), progress=False)
    report = json.loads((tmp_path / "post" / "inference.json").read_text())
    del report["model"]
    (tmp_path / "post" / "inference.json").write_text(json.dumps(report))
    assert main(["plot", str(tmp_path / "post")]) == 1
    assert "inference.json is damaged or not pdedsl's (no usable 'model')" in capsys.readouterr().err
    np.savez(tmp_path / "pts.npz", x=np.array([0.5]), y=np.array([0.5]))
    assert main(["predict", str(tmp_path / "post"), "--points", str(tmp_path / "pts.npz"), "-o",
                 str(tmp_path / "out.npz")]) == 1
