"""``--eval-every``: the held-out error of the current iterate, logged during training without changing it."""

import json

import numpy as np
import pytest
import torch

from pdedsl.cli import main
from pdedsl.training import TrainConfig, train
from pdedsl.training.plot import plot
from pdedsl.training.run import Run
from rod_spec import ROD

ROD_TINY = dict(steps=30, lbfgs_steps=0, optimizer="lbfgs", interior_points=64, boundary_points=8,
                checkpoint_every=10, log_every=4, precision="float64", backend_options={"width": 16, "depth": 2})
DGNO_TINY = dict(backend="dgno", steps=9, samples=12, batch_size=3, grid=9, test_samples=3, form="weak",
                 weak_particles=6, precision="float64", log_every=3, checkpoint_every=3,
                 backend_options=dict(latent=6, width=12, depth=2, encoder_width=16, encoder_depth=1))


def _records(folder):
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def test_the_held_out_error_is_logged_every_n_steps_and_drawn(tmp_path):
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD)
    result = train(spec, TrainConfig(**ROD_TINY, eval_every=10), tmp_path / "run", progress=False)
    measured = {r["step"]: r["rel_l2"]["u"] for r in _records(tmp_path / "run") if "rel_l2" in r}
    assert sorted(measured) == [10, 20]  # step 30 is the end: result.json holds that one
    assert all(np.isfinite(v) and v > 0 for v in measured.values())
    assert measured[20] != measured[10] != result["rel_l2"]["u"]  # the iterate of its step, not the end's
    steps = [r["step"] for r in _records(tmp_path / "run")]
    assert 10 in steps and 20 in steps and steps == sorted(steps)  # logged even off the log_every grid (4)
    assert plot(tmp_path / "run").stat().st_size > 10_000


def test_no_evaluation_when_told_zero(tmp_path):
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD)
    train(spec, TrainConfig(**ROD_TINY, eval_every=0), tmp_path / "run", progress=False)
    assert not any("rel_l2" in r for r in _records(tmp_path / "run"))
    with pytest.raises(ValueError, match="eval_every must be at least 0"):
        TrainConfig(eval_every=-1)


def test_evaluating_a_dgno_run_changes_nothing_it_trains(tmp_path):
    """DGNO draws its latents in training: the evaluation (in eval mode) must neither use up random numbers
    nor leave the model in eval mode, so the parameters come out bit for bit as without it."""
    spec = "specs/darcy_two_phase.pde"
    quiet = train(spec, TrainConfig(**DGNO_TINY, eval_every=0), tmp_path / "quiet", progress=False)
    watched = train(spec, TrainConfig(**DGNO_TINY, eval_every=3), tmp_path / "watched", progress=False)
    assert [r["step"] for r in _records(tmp_path / "watched") if "rel_l2" in r] == [3, 6]
    one = torch.load(tmp_path / "quiet" / "checkpoint.pt", weights_only=True)["model"]
    two = torch.load(tmp_path / "watched" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(one[k], two[k]) for k in one)
    assert watched["rel_l2"] == quiet["rel_l2"]
    run = Run.open(tmp_path / "watched")
    assert not run.model.training  # an opened run answers in eval mode: q(z | a)'s mean, no draws


def test_the_cli_takes_eval_every_and_refuses_a_negative_one(tmp_path, capsys):
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD)
    assert main(["train", str(spec), "--steps", "12", "--lbfgs-steps", "0", "--points", "32", "--eval-every",
                 "6", "--width", "8", "--depth", "1", "--out", str(tmp_path / "run")]) == 0
    assert [r["step"] for r in _records(tmp_path / "run") if "rel_l2" in r] == [6]
    assert "step 6: relative L2 error u " in capsys.readouterr().err  # a line of its own in the progress
    assert main(["train", str(spec), "--eval-every", "-1", "--out", str(tmp_path / "bad")]) == 2
    assert "eval_every must be at least 0" in capsys.readouterr().err


@pytest.mark.parametrize("backend, options", [
    ("dgno", dict(backend_options=dict(DGNO_TINY["backend_options"], encoder="pca"))),
    ("deeponet", dict(backend_options={"width": 12, "depth": 2}, form="strong", interior_points=32)),
])
def test_an_opened_run_draws_its_training_pool_only_when_asked(tmp_path, backend, options):
    """Opening a trained run must not redraw its members (a minute for 5 x 10^4): the checkpoint holds the
    input statistics and any PCA basis, so it answers exactly as a run rebuilt with the whole pool does."""
    from pdedsl.training.run import _read_config

    settings = {**DGNO_TINY, "backend": backend, **options}
    result = train("specs/darcy_two_phase.pde", TrainConfig(**settings), tmp_path / "run", progress=False)
    opened = Run.open(tmp_path / "run")
    assert opened._pool is None and opened.layout is not None
    assert opened.evaluate()["u"] == result["rel_l2"]["u"]
    rebuilt = Run(tmp_path / "run" / "spec.pde", _read_config(tmp_path / "run"), tmp_path / "run")
    rebuilt.load_checkpoint()
    rebuilt.model.eval()
    assert rebuilt._pool is not None
    assert rebuilt.layout == opened.layout
    members = rebuilt.pool.head(4)
    one, two = opened.objective.predict_pool(members), rebuilt.objective.predict_pool(members)
    assert all(torch.equal(one[name], two[name]) for name in one)
    assert len(opened.pool) == settings["samples"] and opened._pool is not None  # drawn on first use
    assert np.array_equal(opened.pool.grid_inputs["a"], rebuilt.pool.grid_inputs["a"])


def test_the_loss_panel_draws_negative_terms_on_a_signed_axis():
    """A Gaussian log-likelihood term (DGNO on a continuous input) goes below zero, and the total with it: a log
    axis would drop those points, so the panel switches to a symmetric log axis and keeps every curve."""
    from matplotlib.figure import Figure

    from pdedsl.training.plot import _draw_losses

    records = [{"step": s, "loss": 2.0 - s, "terms": {"darcy": 1.0 / s, "reconstruct_a": 1.0 - s}} for s in (1, 2, 3)]
    records[-1]["rel_l2"] = {"u": 0.1}
    ax = Figure().add_subplot()
    _draw_losses(ax, records)
    assert ax.get_yscale() == "symlog"
    total = next(line for line in ax.get_lines() if line.get_label() == "total")
    assert np.all(np.isfinite(total.get_ydata())) and min(total.get_ydata()) < 0
    positive = Figure().add_subplot()
    _draw_losses(positive, [{"step": s, "loss": 1.0 / s, "terms": {"darcy": 1.0 / s}} for s in (1, 2)])
    assert positive.get_yscale() == "log"


@pytest.mark.parametrize("backend", ["dgno", "pinn"])
def test_the_plot_of_an_unfinished_run_says_so(tmp_path, train_killed_at, backend):
    from matplotlib import figure as figure_module

    if backend == "pinn":
        spec = tmp_path / "rod.pde"
        spec.write_text(ROD)
        train_killed_at(spec, TrainConfig(**{**ROD_TINY, "steps": 9, "checkpoint_every": 3}), tmp_path / "run", 7)
    else:
        train_killed_at("specs/darcy_two_phase.pde", TrainConfig(**DGNO_TINY), tmp_path / "run", 7)
    titles = []
    original = figure_module.Figure.suptitle
    try:
        figure_module.Figure.suptitle = lambda self, text, **kw: (titles.append(text), original(self, text, **kw))[1]
        plot(tmp_path / "run")
    finally:
        figure_module.Figure.suptitle = original
    assert "unfinished: checkpoint of step 6 of 9" in titles[-1]
