"""Two trainers never share a run folder: the second waits briefly, then stops with a clear error."""

import subprocess
import sys
import time

import pytest
from rod_spec import ROD

from pdedsl.training import folder_lock
from pdedsl.training.folder_lock import FolderBusy, training_lock


def test_a_second_holder_is_refused_and_told_who_holds_it(tmp_path, monkeypatch):
    monkeypatch.setattr(folder_lock, "PATIENCE", 0.2)
    with training_lock(tmp_path):
        with pytest.raises(FolderBusy, match=r"being trained by another process \(pid \d+\).*--resume"):
            with training_lock(tmp_path):
                pass
    with training_lock(tmp_path):  # released on leaving the block
        pass


def test_the_lock_comes_free_when_its_holder_is_killed(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "from pdedsl.training.folder_lock import training_lock\n"
                               f"with training_lock({str(tmp_path)!r}):\n"
                               "    print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    began = time.monotonic()
    with training_lock(tmp_path):
        pass
    assert time.monotonic() - began < 1.0


def test_train_refuses_a_folder_in_use(tmp_path, monkeypatch, capsys):
    from pdedsl.cli import main

    monkeypatch.setattr(folder_lock, "PATIENCE", 0.2)
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD)
    with training_lock(tmp_path / "run"):
        code = main(["train", str(spec), "--steps", "2", "--lbfgs-steps", "0", "--out", str(tmp_path / "run"), "-q"])
    assert code != 0
    error = capsys.readouterr().err
    assert "pdedsl: error:" in error and "being trained by another process" in error, error
    assert main(["train", str(spec), "--steps", "2", "--lbfgs-steps", "0", "--out", str(tmp_path / "run"), "-q"]) == 0
