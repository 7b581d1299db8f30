"""A training process killed with SIGKILL resumes from its last checkpoint to the same final numbers."""

import json
import os
import signal
import subprocess
import sys
import time

import torch
from rod_spec import ROD

SPEC = ROD

TRAIN = [sys.executable, "-m", "pdedsl", "train", "--steps", "1000", "--lbfgs-steps", "40", "--points", "64",
         "--width", "16", "--depth", "2", "--precision", "float64", "--json", "-q"]


def checkpoint_step(folder) -> int:
    try:
        return int(torch.load(folder / "checkpoint.pt", weights_only=True)["step"])
    except Exception:  # noqa: BLE001 - not written yet, or being replaced
        return -1


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    spec = tmp_path / "rod.pde"
    spec.write_text(SPEC)
    whole = subprocess.run(TRAIN + [str(spec), "--out", str(tmp_path / "whole")], capture_output=True, text=True,
                           timeout=300, check=True)
    expected = json.loads(whole.stdout.strip().splitlines()[-1])

    killed = tmp_path / "killed"
    process = subprocess.Popen(TRAIN + [str(spec), "--out", str(killed)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while checkpoint_step(killed) < 250 and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < checkpoint_step(killed) < 1040, "the run should have been killed part-way"

    resumed = subprocess.run([sys.executable, "-m", "pdedsl", "train", "--resume", str(killed), "--json", "-q"],
                             capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert result["steps"] == expected["steps"]
    assert abs(result["rel_l2"]["u"] - expected["rel_l2"]["u"]) <= 1e-9 * expected["rel_l2"]["u"]
