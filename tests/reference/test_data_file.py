"""``pdedsl data`` keeps the samples it solved when it is stopped, and continues from them."""

import os
import signal

import numpy as np
import pytest

import pdedsl
from pdedsl.reference import data_file
from pdedsl.reference.dataset import generate

ROD = """problem loaded_rod
domain Rod = interval(x: [0, 1])
field u
param k ~ uniform(1, 2)
equation in Rod:
    -k*d(u, x, 2) = 1
boundary on boundary(Rod):
    u = 0
"""


class InterruptAt:
    """A progress bar that sends this process SIGINT when ``count`` samples are done."""

    def __init__(self, count):
        self.count = count

    def update(self, done, *_):
        if done == self.count:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def rod(tmp_path):
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD)
    return spec, pdedsl.load(spec)


def test_a_stopped_run_keeps_its_samples_and_the_next_one_continues_to_the_same_file(tmp_path, rod):
    spec, problem = rod
    output = tmp_path / "out" / "pairs.npz"
    with pytest.raises(data_file.DataStopped) as stop:
        data_file.generate_into(problem, ROD, 5, 9, 3, output, progress=InterruptAt(2))
    assert (stop.value.step, stop.value.total) == (2, 5)
    partial = data_file.partial_path(output)
    assert partial.is_file() and not output.exists()
    said = []
    arrays, resumed = data_file.generate_into(problem, ROD, 5, 9, 3, output, say=said.append)
    assert resumed == 2 and "2 of 5 samples were solved before" in said[0]
    assert not partial.exists()
    whole = generate(problem, 5, 9, 3)
    with np.load(output) as written:
        assert sorted(written.files) == sorted(whole)
        for name, values in whole.items():
            np.testing.assert_array_equal(written[name], values)  # pieces equal one go, bit for bit


def test_a_partial_file_of_another_seed_or_spec_is_set_aside_not_mixed_in(tmp_path, rod):
    spec, problem = rod
    output = tmp_path / "pairs.npz"
    with pytest.raises(data_file.DataStopped):
        data_file.generate_into(problem, ROD, 4, 9, 3, output, progress=InterruptAt(1))
    said = []
    arrays, resumed = data_file.generate_into(problem, ROD, 4, 9, 4, output, say=said.append)
    assert resumed == 0 and "made by another spec, data, grid or seed" in said[0]
    assert data_file.partial_path(output).with_name("pairs.npz.partial.npz.old").is_file()
    np.testing.assert_array_equal(arrays["k"], generate(problem, 4, 9, 4)["k"])
    data_file.partial_path(output).write_bytes(b"not a zip")  # a damaged one likewise
    said.clear()
    data_file.generate_into(problem, ROD, 2, 9, 4, output, say=said.append)
    assert said and "solving every sample anew" in said[0]


def test_fewer_samples_than_the_partial_file_holds_take_its_first(tmp_path, rod):
    spec, problem = rod
    output = tmp_path / "pairs.npz"
    with pytest.raises(data_file.DataStopped):
        data_file.generate_into(problem, ROD, 6, 9, 0, output, progress=InterruptAt(3))
    arrays, resumed = data_file.generate_into(problem, ROD, 2, 9, 0, output)
    assert resumed == 2 and arrays["u"].shape[0] == 2
    np.testing.assert_array_equal(arrays["u"], generate(problem, 2, 9, 0)["u"])


def test_the_command_says_where_the_samples_are_and_how_to_continue(tmp_path, rod, capsys, monkeypatch):
    from pdedsl.cli import main

    spec, _ = rod
    output = tmp_path / "pairs.npz"
    solve = data_file.solved_members

    def interrupted_after_two(*args):
        for index, member in enumerate(solve(*args)):
            if index == 2:
                os.kill(os.getpid(), signal.SIGINT)
            yield member

    monkeypatch.setattr(data_file, "solved_members", interrupted_after_two)
    assert main(["data", str(spec), "--n", "5", "--grid", "9", "-q", "-o", str(output)]) == 130
    err = capsys.readouterr().err
    assert "stopped after 3 of 5 samples, kept in" in err and "pairs.npz.partial.npz" in err
    assert "run the same 'pdedsl data' command again to continue" in err and "Traceback" not in err
    monkeypatch.setattr(data_file, "solved_members", solve)
    assert main(["data", str(spec), "--n", "5", "--grid", "9", "-q", "-o", str(output)]) == 0
    assert "continuing from" in capsys.readouterr().err
    with np.load(output) as written:
        assert written["u"].shape == (5, 9)


def test_samples_are_saved_as_they_come_so_a_hard_kill_loses_only_the_last_seconds(tmp_path, rod, monkeypatch):
    """A SIGKILL cannot be caught: what the periodic saves wrote is what survives (here every sample is saved,
    and the run dies in the third)."""
    spec, problem = rod
    output = tmp_path / "pairs.npz"
    solve = data_file.solved_members

    def dies_in_the_third(*args):
        for index, member in enumerate(solve(*args)):
            if index == 2:
                raise SystemExit("killed")
            yield member

    monkeypatch.setattr(data_file, "SAVE_EVERY_S", 0.0)
    monkeypatch.setattr(data_file, "solved_members", dies_in_the_third)
    with pytest.raises(SystemExit):
        data_file.generate_into(problem, ROD, 5, 9, 1, output)
    with np.load(data_file.partial_path(output)) as partial:
        assert partial["u"].shape == (2, 9)
    monkeypatch.setattr(data_file, "solved_members", solve)
    arrays, resumed = data_file.generate_into(problem, ROD, 5, 9, 1, output)
    assert resumed == 2
    np.testing.assert_array_equal(arrays["u"], generate(problem, 5, 9, 1)["u"])


def test_a_partial_file_set_aside_twice_keeps_both(tmp_path, rod):
    """A second partial file made otherwise was renamed onto the first one's '.old', losing its samples (hours
    of solves, perhaps): each now gets a name of its own."""
    spec, problem = rod
    output = tmp_path / "pairs.npz"
    for seed in (3, 4):
        with pytest.raises(data_file.DataStopped):
            data_file.generate_into(problem, ROD, 4, 9, seed, output, progress=InterruptAt(seed - 1))
    data_file.generate_into(problem, ROD, 4, 9, 5, output, say=lambda line: None)
    kept = sorted(tmp_path.glob("pairs.npz.partial.npz.old*"))
    assert len(kept) == 2, kept
    assert sorted(len(np.load(path)["k"]) for path in kept) == [2, 3]


def test_a_periodic_save_that_fails_is_said_once_and_the_run_goes_on(tmp_path, rod, monkeypatch):
    """A full disk or a folder gone read-only while solving: the periodic save raised and ended the whole run as
    'cannot write', losing every sample still in memory; now it says so once and carries on to the final write."""
    spec, problem = rod
    output = tmp_path / "pairs.npz"
    monkeypatch.setattr(data_file, "SAVE_EVERY_S", 0.0)
    failures = []

    def full_disk(*args):
        failures.append(args)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data_file, "_save", full_disk)
    said = []
    arrays, _ = data_file.generate_into(problem, ROD, 4, 9, 0, output, say=said.append)
    assert output.is_file() and arrays["u"].shape == (4, 9)
    assert len(failures) == 1 and len(said) == 1 and "No space left on device" in said[0]
