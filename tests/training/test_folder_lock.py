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


def test_a_folder_that_cannot_hold_the_lock_is_a_clear_error(tmp_path, monkeypatch, capsys):
    """A read-only run folder (here: the lock file cannot be opened, as when it is) is refused with a message,
    never an internal error, and what the folder holds is left as it was."""
    from pdedsl.cli import main

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    spec = tmp_path / "rod.pde"
    spec.write_text(ROD)
    run = tmp_path / "run"
    assert main(["train", str(spec), "--steps", "2", "--lbfgs-steps", "0", "--out", str(run), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.name != ".lock"}
    capsys.readouterr()
    monkeypatch.setattr(folder_lock, "open", refused, raising=False)
    for argv in (["train", str(spec), "--steps", "2", "--lbfgs-steps", "0", "--out", str(run), "-q"],
                 ["train", "--resume", str(run), "-q"]):
        assert main(argv) == 1
        error = capsys.readouterr().err
        assert "pdedsl: error: cannot train in" in error and "Permission denied" in error, error
        assert {p.name: p.read_bytes() for p in run.iterdir() if p.name != ".lock"} == before


def test_a_lock_under_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(folder_lock.FolderNotWritable, match="cannot train in"):
        with training_lock(tmp_path / "file" / "run"):
            pass
