"""What a run folder protects: --init weights until the first checkpoint, other problems' runs and posteriors,
steps already taken; and what it refuses to read: checkpoints that are not this run's."""

import json
import subprocess
import sys

import numpy
import pytest
import torch
from rod_spec import ROD

from pdedsl.cli import main
from pdedsl.training import TrainConfig, resume, train
from pdedsl.training.distributed import Context
from pdedsl.training.run import Run, RunError, Trainer

OTHER = ROD.replace("problem rod", "problem other_rod")


def tiny(**changes) -> TrainConfig:
    settings = dict(steps=60, lbfgs_steps=0, interior_points=32, boundary_points=8, precision="float64",
                    backend_options={"width": 8, "depth": 2}, checkpoint_every=1000, log_every=10, eval_every=0)
    return TrainConfig(**{**settings, **changes})


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "rod.pde"
    path.write_text(ROD)
    return path


def pdedsl(*args):
    return subprocess.run([sys.executable, "-m", "pdedsl", *args], capture_output=True, text=True, timeout=300)


def test_a_fine_tune_killed_before_its_first_checkpoint_resumes_from_the_init_weights(spec, tmp_path, monkeypatch):
    train(spec, tiny(), tmp_path / "base", progress=False)
    whole = train(spec, tiny(init=str(tmp_path / "base"), learning_rate=1e-4), tmp_path / "whole", progress=False)

    def killed(self, adam, step):
        raise KeyboardInterrupt
    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "_adam_phase", killed)
        with pytest.raises(KeyboardInterrupt):
            train(spec, tiny(init=str(tmp_path / "base"), learning_rate=1e-4), tmp_path / "killed", progress=False)
    saved = torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)
    base = torch.load(tmp_path / "base" / "checkpoint.pt", weights_only=True)
    assert saved["step"] == 0
    assert all(torch.equal(saved["model"][key], base["model"][key]) for key in base["model"])
    assert resume(tmp_path / "killed", progress=False)["rel_l2"] == whole["rel_l2"]
    (tmp_path / "killed" / "checkpoint.pt").unlink()  # killed before even that checkpoint: --init again
    (tmp_path / "killed" / "result.json").unlink()
    assert resume(tmp_path / "killed", progress=False)["rel_l2"] == whole["rel_l2"]
    with pytest.raises(RunError, match="is the run folder itself"):
        train(spec, tiny(init=str(tmp_path / "base")), tmp_path / "base", progress=False)


def test_a_run_resumed_without_a_checkpoint_logs_each_step_once(spec, tmp_path):
    """Killed before its first checkpoint, a run starts over on resume: its old records go too."""
    train(spec, tiny(), tmp_path / "run", progress=False)
    folder = tmp_path / "run"
    (folder / "checkpoint.pt").unlink()
    (folder / "result.json").unlink()
    resume(folder, progress=False)
    steps = [json.loads(line)["step"] for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 60


def test_init_from_another_problems_run_is_warned_about(spec, tmp_path, capsys):
    other = tmp_path / "other.pde"
    other.write_text(OTHER)
    train(spec, tiny(steps=5), tmp_path / "base", progress=False)
    capsys.readouterr()
    train(other, tiny(steps=5, init=str(tmp_path / "base")), tmp_path / "tuned", progress=False)
    assert "was trained on problem 'rod', not 'other_rod'" in capsys.readouterr().err


def test_init_from_another_problems_run_of_another_size_is_only_refused(spec, tmp_path, capsys):
    """The warning said "its weights fit this network's shapes, so they are used" just before the error that they
    do not: one message, the error."""
    other = tmp_path / "other.pde"
    other.write_text(OTHER)
    train(spec, tiny(steps=5), tmp_path / "base", progress=False)
    capsys.readouterr()
    with pytest.raises(RunError, match="does not fit this run's"):
        train(other, tiny(steps=5, init=str(tmp_path / "base"), backend_options={"width": 4, "depth": 2}),
              tmp_path / "tuned", progress=False)
    assert "weights fit" not in capsys.readouterr().err


def test_init_from_a_damaged_checkpoint_names_the_option_and_leaves_it(spec, tmp_path):
    """--init naming a run whose checkpoint is cut short is an error about --init; the advice to delete that
    checkpoint (which is for resuming its own run) is not given, and nothing there is touched."""
    train(spec, tiny(steps=5), tmp_path / "base", progress=False)
    damaged = (tmp_path / "base" / "checkpoint.pt").read_bytes()[:500]
    (tmp_path / "base" / "checkpoint.pt").write_bytes(damaged)
    with pytest.raises(RunError, match=r"--init .*base: cannot read .*truncated") as refused:
        train(spec, tiny(steps=5, init=str(tmp_path / "base")), tmp_path / "tuned", progress=False)
    assert "delete" not in str(refused.value)
    assert (tmp_path / "base" / "checkpoint.pt").read_bytes() == damaged


def test_a_folder_of_another_problem_or_a_posterior_is_not_overwritten(spec, tmp_path):
    other = tmp_path / "other.pde"
    other.write_text(OTHER)
    train(spec, tiny(), tmp_path / "run", progress=False)
    (tmp_path / "run" / "result.json").unlink()  # killed part way: a checkpoint and no result
    with pytest.raises(RunError, match="killed part way .* of problem 'rod'"):
        train(other, tiny(), tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
    train(spec, tiny(), tmp_path / "run", progress=False)  # the same problem is retrained
    (tmp_path / "posterior").mkdir()
    (tmp_path / "posterior" / "posterior.npz").write_bytes(b"")
    with pytest.raises(RunError, match="holds a posterior"):
        train(spec, tiny(), tmp_path / "posterior", progress=False)


def test_resume_extends_steps_and_never_cuts_them(spec, tmp_path):
    train(spec, tiny(), tmp_path / "run", progress=False)
    with pytest.raises(RunError, match="already taken 60 Adam steps"):
        resume(tmp_path / "run", progress=False, steps=40)
    done = pdedsl("train", "--resume", str(tmp_path / "run"), "--steps", "-5")
    assert done.returncode == 2 and "--steps must be at least 0" in done.stderr and "internal" not in done.stderr
    with open(tmp_path / "run" / "metrics.jsonl", "a") as log:  # what a kill after the checkpoint leaves
        log.write(json.dumps({"step": 70, "phase": "adam", "loss": 1.0}) + "\n" + '{"step": 8')
    assert resume(tmp_path / "run", progress=False, steps=80)["steps"] == 80
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 80  # the dead records gone, none logged twice


def test_a_checkpoint_that_is_not_this_runs_is_an_error_not_a_crash(spec, tmp_path):
    train(spec, tiny(), tmp_path / "run", progress=False)
    path = tmp_path / "run" / "checkpoint.pt"
    torch.save({"a": 1}, path)
    with pytest.raises(RunError, match="not a pdedsl checkpoint"):
        Run.open(tmp_path / "run")
    train(spec, tiny(backend_options={"width": 4, "depth": 2}), tmp_path / "narrow", progress=False)
    (tmp_path / "narrow" / "checkpoint.pt").replace(path)  # another network's weights
    with pytest.raises(RunError, match="does not hold this run's network"):
        Run.open(tmp_path / "run")
    path.write_bytes(b"")
    with pytest.raises(RunError, match="an empty file"):
        Run.open(tmp_path / "run")
    numpy.savez(tmp_path / "points.npz", x=numpy.array([0.5]))
    done = pdedsl("predict", str(tmp_path / "run"), "--points", str(tmp_path / "points.npz"), "-o",
                  str(tmp_path / "out.npz"))
    assert done.returncode == 1 and "an empty file" in done.stderr and "internal error" not in done.stderr


@pytest.mark.parametrize("count, world", [(10, 3), (2, 3), (9, 3), (7, 2)])
def test_processes_take_equal_shares(count, world, monkeypatch):
    shares = []
    for rank in range(world):
        monkeypatch.setenv("WORLD_SIZE", str(world))
        monkeypatch.setenv("RANK", str(rank))
        part = Context().slice_of(count)
        shares.append(list(range(count))[part])
    sizes = {len(share) for share in shares}
    assert len(sizes) == 1  # every rank's mean weighs the same
    if count >= world:
        held = [item for share in shares for item in share]
        assert len(held) == len(set(held)) == count - count % world
    else:
        assert shares == [list(range(count))] * world


DATA_ROD = ROD.replace("field u\n", 'field u\ninput k from "data/k.npz"\n').replace("-d(u, x, 2)", "-d(k*d(u, x), x)")


def test_a_resume_warns_when_the_folders_spec_was_edited(tmp_path, capsys):
    """The run's spec.pde edited between the kill and the resume: the weights would go on training on other
    physics, which is said. An untouched spec (data files in a subfolder too) resumes without a word."""
    (tmp_path / "data").mkdir()
    numpy.savez(tmp_path / "data" / "k.npz", x=numpy.linspace(0, 1, 5), k=numpy.ones(5))
    spec = tmp_path / "rod.pde"
    spec.write_text(DATA_ROD)
    train(spec, tiny(steps=10), tmp_path / "run", progress=False)
    capsys.readouterr()
    resume(tmp_path / "run", progress=False, steps=12)
    assert "warning" not in capsys.readouterr().err
    kept = tmp_path / "run" / "spec.pde"
    kept.write_text(kept.read_text().replace("pi^2 * sin", "2 * pi^2 * sin"))
    resume(tmp_path / "run", progress=False, steps=14)
    error = capsys.readouterr().err
    assert "spec.pde no longer gives the residuals this run was trained with" in error and "--init" in error
    resume(tmp_path / "run", progress=False, steps=16)  # (said once: the run goes on from the spec as it is now)
    assert "warning" not in capsys.readouterr().err


def test_a_write_a_kill_cut_short_is_cleared_when_the_run_goes_on(spec, tmp_path):
    """A SIGKILL inside files.replacing leaves '.checkpoint.pt.PID.tmp'; the next process holding the folder's
    lock removes it (nothing else can be writing there)."""
    train(spec, tiny(steps=10), tmp_path / "run", progress=False)
    partial = tmp_path / "run" / ".checkpoint.pt.99999.tmp"
    partial.write_bytes(b"cut short")
    resume(tmp_path / "run", progress=False, steps=12)
    assert not partial.exists() and (tmp_path / "run" / "checkpoint.pt").is_file()


def test_a_run_retrained_in_place_keeps_its_predecessor_in_previous(spec, tmp_path, capsys):
    first = train(spec, tiny(steps=20), tmp_path / "run", progress=False)
    old_weights = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    train(spec, tiny(steps=30, seed=1), tmp_path / "run", progress=False)
    assert "is kept in" in capsys.readouterr().err
    kept = tmp_path / "run" / "previous"
    assert json.loads((kept / "result.json").read_text())["steps"] == first["steps"] == 20
    assert json.loads((tmp_path / "run" / "result.json").read_text())["steps"] == 30
    weights = torch.load(kept / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(weights[k], old_weights[k]) for k in weights)
    assert Run.open(kept).config.steps == 20  # a run folder of its own: plot and predict read it
    train(spec, tiny(steps=25), tmp_path / "run", progress=False)  # one generation deep
    assert json.loads((kept / "result.json").read_text())["steps"] == 30
    assert not (kept / "previous").exists()


@pytest.mark.parametrize("damage", ["a tensor", "step is text", "step is negative", "no optimizer", "no phase",
                                    "wall is text", "no torch_rng"])
def test_a_checkpoint_with_damaged_entries_is_named_by_resume_predict_and_plot(spec, tmp_path, capsys, damage):
    """A checkpoint that loads but whose entries are not a run's ('step' as text, no optimiser state, a bare
    tensor) was an internal error in 'train --resume' (and, for the step, in predict and plot too)."""
    train(spec, tiny(steps=3), tmp_path / "run", progress=False)
    path = tmp_path / "run" / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    changes = {"step is text": ("step", "x"), "step is negative": ("step", -5), "wall is text": ("wall", "x")}
    if damage == "a tensor":
        state = torch.zeros(3)
    elif damage in changes:
        state[changes[damage][0]] = changes[damage][1]
    else:
        del state[damage.split()[1]]
    torch.save(state, path)
    kept = path.read_bytes()
    numpy.savez(tmp_path / "points.npz", x=numpy.array([0.5]))
    for command in (["train", "--resume", str(tmp_path / "run"), "--steps", "5"],
                    ["predict", str(tmp_path / "run"), "--points", str(tmp_path / "points.npz"), "-o",
                     str(tmp_path / "out.npz")],
                    ["plot", str(tmp_path / "run"), "-o", str(tmp_path / "plot.png")]):
        code, err = main([*command, "-q"] if command[0] == "train" else command), capsys.readouterr().err
        if code == 0:  # predict and plot need only the weights
            assert command[0] != "train" and damage not in ("a tensor", "step is text", "step is negative")
            continue
        assert code == 1 and "internal error" not in err and "Traceback" not in err
        assert f"{path} is not a pdedsl checkpoint" in err, err
        assert path.read_bytes() == kept  # (left for the user to look at or delete)
