"""What opening a run checks of its checkpoint against the run: finite weights, and the folder's spec copy."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from rod_spec import ROD

from pdedsl.cli import main
from pdedsl.training import TrainConfig, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run of a few steps (its accuracy does not matter here)."""
    folder = tmp_path_factory.mktemp("runs")
    spec = folder / "rod.pde"
    spec.write_text(ROD)
    config = TrainConfig(steps=3, lbfgs_steps=0, interior_points=16, boundary_points=4, precision="float64",
                         backend_options={"width": 4, "depth": 1}, log_every=1, eval_every=0)
    train(spec, config, folder / "run", progress=False)
    np.savez(folder / "points.npz", x=np.linspace(0.0, 1.0, 5))
    return folder


def _copy(trained, tmp_path):
    shutil.copytree(trained / "run", tmp_path / "run")
    return tmp_path / "run"


def test_a_checkpoint_with_nan_weights_is_named_damaged(trained, tmp_path, capsys):
    """predict wrote NaN values and exited 0; --resume reported '2 steps skipped' and exited 0."""
    run = _copy(trained, tmp_path)
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    name = next(iter(state["model"]))
    state["model"][name] = torch.full_like(state["model"][name], float("nan"))
    torch.save(state, run / "checkpoint.pt")
    for argv in (["predict", str(run), "--points", str(trained / "points.npz"), "-o", str(tmp_path / "out.npz")],
                 ["plot", str(run), "-o", str(tmp_path / "out.png")],
                 ["train", "--resume", str(run), "--threads", "1", "-q"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert f"{run / 'checkpoint.pt'} is damaged: its weights hold NaN or infinite values ('{name}')" in err
    assert not (tmp_path / "out.npz").exists() and not (tmp_path / "out.png").exists()


def test_a_spec_copy_edited_to_add_a_field_is_blamed_not_the_checkpoint(trained, tmp_path, capsys):
    run = _copy(trained, tmp_path)
    spec = run / "spec.pde"
    spec.write_text(spec.read_text().replace("field u", "field u\nfield w").replace(
        "exact u", "equation in O:\n    w = 1\nexact u"))
    out = tmp_path / "out.npz"
    assert main(["predict", str(run), "--points", str(trained / "points.npz"), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{spec} no longer matches the checkpoint (edited since the run?)" in err
    assert "belongs to another run" not in err
