"""Data-parallel training under torchrun (gloo, 2 CPU processes): same steps as one process, resumable."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from rod_spec import LOADED_ROD, ROD

SPEC = ROD

COMMON = ["--points", "64", "--precision", "float64", "--width", "16", "--depth", "2", "--soft-dirichlet", "-q"]


def _interruptible() -> None:
    """In the child: SIGINT back to its default, so that Python installs its handler (a test suite started in
    the background of a non-interactive shell inherits SIGINT ignored, and Python keeps ignoring it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pdedsl(*args, background=False, errors=None):
    """``pdedsl train ARGS``; in the background, its stderr goes to the file ``errors`` if given."""
    command = [sys.executable, "-m", "pdedsl", "train", *args]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    if background:
        return subprocess.Popen(command, env=environment, start_new_session=True, preexec_fn=_interruptible,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL if errors is None else open(errors, "w"))
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def parameters(folder: Path) -> dict:
    return torch.load(folder / "checkpoint.pt", weights_only=True)["model"]


@pytest.mark.parametrize("optimizer", ["lbfgs", "lm"])
def test_two_processes_take_the_same_steps_as_one(tmp_path, optimizer):
    """Batch B on one process and B/2 on each of two: identical parameters after Adam and L-BFGS (or
    Levenberg-Marquardt) steps (Dirichlet as a loss term, so boundary points are sharded too); every rank
    ends with one model."""
    spec = tmp_path / "rod.pde"
    spec.write_text(SPEC)
    steps = ["--steps", "30", "--lbfgs-steps", "20", "--optimizer", optimizer]
    pdedsl(str(spec), *steps, *COMMON, "--out", str(tmp_path / "one"))
    pdedsl(str(spec), *steps, *COMMON, "--nproc", "2", "--out", str(tmp_path / "two"))
    one, two = parameters(tmp_path / "one"), parameters(tmp_path / "two")
    # Levenberg-Marquardt's solve (rows x rows on one process, parameters x parameters summed over ranks)
    # amplifies rounding differences: agreement to about 1e-8 rather than 1e-12
    rtol, atol = (1e-9, 1e-11) if optimizer == "lbfgs" else (1e-6, 1e-7)
    assert all(torch.allclose(one[k], two[k], rtol=rtol, atol=atol) for k in one)
    result = json.loads((tmp_path / "two" / "result.json").read_text())
    assert result["processes"] == 2 and result["rank_difference"] == 0.0
    assert not any(torch.equal(one[k], torch.zeros_like(one[k])) for k in one if k.endswith("weight"))


def workers_gone(folder: Path, patience: float = 10.0) -> bool:
    """Whether the training lock of ``folder`` comes free within ``patience`` seconds."""
    deadline = time.time() + patience
    with open(folder / ".lock", "a+") as handle:
        while time.time() < deadline:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                time.sleep(0.1)
    return False


def test_a_killed_distributed_run_resumes_to_the_same_numbers(tmp_path):
    spec = tmp_path / "rod.pde"
    spec.write_text(SPEC)
    steps = ["--steps", "600", "--lbfgs-steps", "0"]
    pdedsl(str(spec), *steps, *COMMON, "--out", str(tmp_path / "whole"))
    killed = tmp_path / "killed"
    job = pdedsl(str(spec), *steps, *COMMON, "--nproc", "2", "--out", str(killed), background=True)
    deadline = time.time() + 120
    while not (killed / "checkpoint.pt").exists() and time.time() < deadline and job.poll() is None:
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)  # the launcher and torchrun; the workers live in sessions of their own
    job.wait()
    assert workers_gone(killed), "the workers outlived their launcher and still hold the run folder"
    step = torch.load(killed / "checkpoint.pt", weights_only=True)["step"]
    if step >= 600:
        pytest.fail("the run finished before it could be killed; raise --steps")
    pdedsl("--resume", str(killed), "--nproc", "2", "-q")
    whole, resumed = parameters(tmp_path / "whole"), parameters(killed)
    assert torch.load(killed / "checkpoint.pt", weights_only=True)["step"] == 600
    assert all(torch.allclose(whole[k], resumed[k], rtol=1e-9, atol=1e-11) for k in whole)


def test_killing_the_launcher_alone_stops_the_workers(tmp_path):
    """SIGKILL to the ``pdedsl train --nproc 2`` process only: torchrun and both workers follow it."""
    spec = tmp_path / "rod.pde"
    spec.write_text(SPEC)
    killed = tmp_path / "killed"
    job = pdedsl(str(spec), "--steps", "100000", "--lbfgs-steps", "0", *COMMON, "--nproc", "2", "--out", str(killed),
                 background=True)
    try:
        deadline = time.time() + 120
        while not (killed / "checkpoint.pt").exists() and time.time() < deadline and job.poll() is None:
            time.sleep(0.05)
        assert (killed / "checkpoint.pt").exists()
        os.kill(job.pid, signal.SIGKILL)
        job.wait()
        assert workers_gone(killed, patience=30), "torchrun or its workers outlived the launcher"
    finally:
        os.killpg(job.pid, signal.SIGKILL) if job.poll() is None else None
        try:  # workers that outlived the launcher (the failure this test looks for) must not outlive the test
            subprocess.run(["pkill", "-KILL", "-f", str(killed)], check=False)
        except FileNotFoundError:
            pass


FAMILY = LOADED_ROD


def test_an_operator_backend_takes_the_same_steps_on_two_processes(tmp_path):
    """MultiONet, physics-informed: each rank takes half of every mini-batch of members (all points)."""
    spec = tmp_path / "family.pde"
    spec.write_text(FAMILY)
    options = ["--backend", "multionet", "--steps", "15", "--samples", "16", "--batch", "6", "--grid", "9",
               "--test", "0", "--points", "32", "--precision", "float64", "--width", "8", "--depth", "2", "-q"]
    pdedsl(str(spec), *options, "--out", str(tmp_path / "one"))
    pdedsl(str(spec), *options, "--nproc", "2", "--out", str(tmp_path / "two"))
    one, two = parameters(tmp_path / "one"), parameters(tmp_path / "two")
    assert all(torch.allclose(one[k], two[k], rtol=1e-9, atol=1e-11) for k in one)
    assert not torch.equal(one["model.layer_weights"], torch.zeros_like(one["model.layer_weights"]))
    result = json.loads((tmp_path / "two" / "result.json").read_text())
    assert result["processes"] == 2 and result["rank_difference"] == 0.0


def survivors(folder: Path, patience: float) -> list[str]:
    """The processes still naming ``folder`` on their command line after up to ``patience`` seconds."""
    deadline = time.time() + patience
    while True:
        found = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True).stdout.split()
        if not found or time.time() > deadline:
            return found
        time.sleep(0.2)


@pytest.mark.parametrize("moment, stop", [("start-up", signal.SIGINT), ("training", signal.SIGINT),
                                          ("training", signal.SIGTERM)])
def test_interrupting_the_launcher_alone_leaves_no_workers(tmp_path, moment, stop):
    """SIGINT to the launcher's pid only (a kill -INT, an IDE's stop button), as soon as torchrun has started
    its workers (still importing) or once they train: torchrun is asked to stop them, and a worker whose launcher is gone
    ends itself."""
    spec = tmp_path / "rod.pde"
    spec.write_text(SPEC)
    folder = tmp_path / "interrupted"
    errors = tmp_path / "stderr.txt"
    job = pdedsl(str(spec), "--steps", "100000", "--lbfgs-steps", "0", *COMMON, "--nproc", "2", "--out",
                 str(folder), background=True, errors=errors)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and job.poll() is None:
            if moment == "training" and (folder / "checkpoint.pt").exists():
                break
            if moment == "start-up" and subprocess.run(["pgrep", "-f", "--", f"-u -m pdedsl train.*{folder}"],
                                                       capture_output=True).returncode == 0:  # workers importing
                break
            time.sleep(0.05)
        os.kill(job.pid, stop)
        assert job.wait(timeout=120) == 128 + stop
        assert survivors(folder, patience=30) == [], "workers outlived an interrupted launcher"
        said = errors.read_text()
        assert "pdedsl: interrupted" in said and "Traceback" not in said, said
        if moment == "training":
            assert "continues with 'pdedsl train --resume' from its last checkpoint" in said
    finally:
        subprocess.run(["pkill", "-KILL", "-f", str(folder)], check=False)


def test_errors_are_found_before_the_processes_start(tmp_path):
    spec = tmp_path / "rod.pde"
    spec.write_text(SPEC)
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    for args, message in ((["--resume", str(tmp_path / "nothere")], "no such run folder"),
                          ([str(spec), "--steps", "-5"], "steps must be at least 0")):
        done = subprocess.run([sys.executable, "-m", "pdedsl", "train", *args, "--nproc", "2"], env=environment,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and message in done.stderr
        assert "Traceback" not in done.stderr and done.stderr.count("pdedsl: error") == 1
    other = tmp_path / "other"  # refused by the launcher, once, not by each process after torchrun started them
    other.mkdir()
    (other / "result.json").write_text('{"problem": "another"}')
    cuda = [] if torch.cuda.is_available() else [(["--device", "cuda"], "sees no CUDA device")]
    for args, message in [(["--out", str(other)], "holds a finished run of problem 'another'")] + cuda:
        done = subprocess.run([sys.executable, "-m", "pdedsl", "train", str(spec), *args, "--nproc", "2"],
                              env=environment, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and message in done.stderr
        assert "Traceback" not in done.stderr and done.stderr.count("pdedsl: error") == 1
