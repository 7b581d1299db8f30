"""Ctrl-C or kill (SIGINT/SIGTERM) during training: the step finishes, a checkpoint is saved, the run stops,
and a resume reaches the numbers of a run never stopped. A second signal interrupts at once."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from pdedsl.training import TrainConfig, resume, train
from pdedsl.training import run as run_module
from pdedsl.training.stopping import Stopped
from rod_spec import ROD

# checkpoints every 1000 steps: a stop mid-run is saved by the stop alone
SETTINGS = dict(steps=40, lbfgs_steps=20, optimizer="lbfgs", interior_points=64, boundary_points=8,
                resample_every=10, checkpoint_every=1000, log_every=5, precision="float64",
                backend_options={"width": 16, "depth": 2}, hard_dirichlet=False)


def _signal_after(monkeypatch, step: int, signals=(signal.SIGINT,)):
    """Send ``signals`` to this process right after training step ``step`` (as Ctrl-C would)."""
    after_step = run_module.Trainer._after_step

    def signalled(self, at, *args, **kwargs):
        if at == step:
            for number in signals:
                os.kill(os.getpid(), number)
        after_step(self, at, *args, **kwargs)

    monkeypatch.setattr(run_module.Trainer, "_after_step", signalled)
    return lambda: monkeypatch.setattr(run_module.Trainer, "_after_step", after_step)


def _weights(folder):
    return torch.load(folder / "checkpoint.pt", weights_only=True)["model"]


@pytest.fixture(autouse=True)
def _signals_as_in_a_terminal():
    """SIGINT and SIGTERM as an interactive shell leaves them (a background job starts with SIGINT ignored, and
    a run leaves an ignored signal ignored), put back afterwards."""
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for number, handler in before.items():
        signal.signal(number, handler)


def test_an_ignored_signal_stays_ignored_during_and_after_a_run(tmp_path):
    from pdedsl.training.stopping import stop_requests

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job
    with stop_requests():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # (asks for a stop)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "rod.pde"
    path.write_text(ROD)
    return path


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("at", [17, 47])  # in Adam; in L-BFGS (stops at the end of its chunk)
def test_a_stopped_run_saves_where_it_stopped_and_resumes_to_the_same_numbers(tmp_path, spec, monkeypatch, at,
                                                                               number):
    whole = train(spec, TrainConfig(**SETTINGS), tmp_path / "whole", progress=False)
    restore = _signal_after(monkeypatch, at, (number,))
    with pytest.raises(Stopped) as stopped:
        train(spec, TrainConfig(**SETTINGS), tmp_path / "stopped", progress=False)
    restore()
    saved = torch.load(tmp_path / "stopped" / "checkpoint.pt", weights_only=True)["step"]
    assert stopped.value.step == saved
    assert stopped.value.exit_code == 128 + number
    if at < SETTINGS["steps"]:
        assert saved == at  # Adam stops after the very step
    else:
        assert at <= saved < SETTINGS["steps"] + SETTINGS["lbfgs_steps"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are put back
    result = resume(tmp_path / "stopped", progress=False)
    assert result["steps"] == whole["steps"]
    assert result["rel_l2"]["u"] == pytest.approx(whole["rel_l2"]["u"], rel=1e-9, abs=1e-12)
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "stopped")
    assert all(torch.allclose(a[k], b[k], rtol=1e-9, atol=1e-12) for k in a)


def test_a_resumed_run_stopped_part_way_drops_the_result_of_the_model_it_replaced(tmp_path, spec, monkeypatch):
    """A finished run extended with --resume --steps and stopped part way: its result.json described the model the
    new checkpoint has replaced, so it goes (plot then says the run is unfinished); the finished run writes it."""
    train(spec, TrainConfig(**SETTINGS), tmp_path / "run", progress=False)
    assert json.loads((tmp_path / "run" / "result.json").read_text())["steps"] == 60
    restore = _signal_after(monkeypatch, 70)  # (the 20 Adam steps added follow the 60 taken)
    with pytest.raises(Stopped):
        resume(tmp_path / "run", progress=False, steps=80)
    restore()
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == 70
    assert not (tmp_path / "run" / "result.json").exists()
    assert resume(tmp_path / "run", progress=False)["steps"] == 100
    assert json.loads((tmp_path / "run" / "result.json").read_text())["steps"] == 100


def test_a_second_signal_interrupts_at_once(tmp_path, spec, monkeypatch):
    _signal_after(monkeypatch, 17, (signal.SIGINT, signal.SIGINT))
    with pytest.raises(KeyboardInterrupt) as interrupted:
        train(spec, TrainConfig(**SETTINGS), tmp_path / "run", progress=False)
    assert not isinstance(interrupted.value, Stopped)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()  # no checkpoint was due yet, none was saved


def test_kill_from_the_shell_stops_the_cli_with_a_checkpoint(tmp_path, spec):
    """SIGTERM to a real `pdedsl train`: exit 143, the message names the step and the resume command."""
    folder = tmp_path / "run"
    command = [sys.executable, "-m", "pdedsl", "train", str(spec), "--steps", "100000", "--points", "64",
               "--width", "16", "--depth", "2", "--out", str(folder), "-q"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (folder / "metrics.jsonl").is_file() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    step = torch.load(folder / "checkpoint.pt", weights_only=True)["step"]
    assert 0 < step < 100000
    assert f"stopped at step {step} of" in err and f"pdedsl train --resume {folder}" in err
    assert json.loads((folder / "config.json").read_text())  # the folder is a resumable run
