"""The Python surface with odd arguments: what load takes, and predict's coordinates."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import pdedsl
from pdedsl.backends import BackendError

PLATE = """problem plate
domain O = box(x: [0, 1], y: [0, 1])
field u
equation in O:
    -laplace(u) = 1
boundary on boundary(O):
    u = 0
"""


def test_fit_refuses_operator_settings_for_a_pinn(tmp_path):
    solver = pdedsl.load(PLATE).solver(width=8, depth=2)
    with pytest.raises(ValueError, match="samples, mode set how operator backends learn a family of problems; "
                                         "the pinn backend solves one problem"):
        solver.fit(tmp_path / "run", samples=10, mode="supervised")
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_fit_without_out_trains_into_a_temporary_folder_even_for_a_long_name():
    solver = pdedsl.load(PLATE.replace("problem plate", "problem " + "p" * 300)).solver(width=4, depth=1)
    solver.fit(steps=1, lbfgs_steps=0, interior_points=8, boundary_points=4)  # was OSError: file name too long
    assert solver.run.folder.name.startswith("pdedsl-" + "p" * 40 + "-")


@pytest.mark.parametrize("options, error, message", [
    ({"width": "20"}, TypeError, "the backend option width takes a whole number, not '20'"),
    ({"width": 2.5}, TypeError, "the backend option width takes a whole number, not 2.5"),
    ({"depth": True}, TypeError, "the backend option depth takes a whole number, not True"),
    ({"seed": None}, TypeError, "the backend option seed takes a whole number, not None"),
    ({"activation": 3}, TypeError, "the backend option activation takes a word, not 3"),
    ({"fourier_scale": "a"}, TypeError, "the backend option fourier_scale takes a number, not 'a'"),
    ({"fourier_features": -1}, ValueError, "the backend's fourier_features must be at least 0"),
    ({"width": 10 ** 23}, ValueError, "the backend's width must be at most 9223372036854775807 (got 10"),
    ({"depth": 10 ** 23}, ValueError, "the backend's depth must be at most 9223372036854775807"),
])
def test_a_backend_option_of_the_wrong_kind_is_named_before_anything_is_built(tmp_path, options, error, message):
    solver = pdedsl.load(PLATE).solver(**options)
    with pytest.raises(error, match=re.escape(message)):  # was torch's message from inside nn.Linear, or none
        solver.fit(tmp_path / "run", steps=1, lbfgs_steps=0)
    assert not (tmp_path / "run").exists()


def test_a_failed_fit_leaves_no_empty_folder_and_refuses_a_negative_instance(tmp_path):
    with pytest.raises(BackendError, match="widht"):
        pdedsl.load(PLATE).solver(widht=8).fit(tmp_path / "run", steps=1, lbfgs_steps=0)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match=r"instance must be at least 0 \(got -1\)"):  # as --instance -1 is
        pdedsl.load(PLATE).solver().fit(tmp_path / "run", instance=-1)


@pytest.mark.parametrize("setting", ["steps", "interior_points", "threads", "instance"])
def test_a_count_beyond_64_bits_is_refused_by_name(tmp_path, setting):
    """As on the command line: torch cannot hold it (was its 'Overflow when unpacking long long')."""
    with pytest.raises(ValueError, match=re.escape(f"{setting} must be at most 9223372036854775807 (got 10")):
        pdedsl.load(PLATE).solver(width=4, depth=1).fit(tmp_path / "run", **{setting: 10 ** 23})
    assert not (tmp_path / "run").exists()


def test_fit_of_a_spec_given_as_text_finds_data_whose_path_has_a_backslash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = Path(__file__).parents[1] / "specs"
    (tmp_path / "heat\\obs.npz").write_bytes((root / "heat_obs.npz").read_bytes())
    text = (root / "heat_inverse.pde").read_text().replace('"heat_obs.npz"', '"heat\\obs.npz"')
    solver = pdedsl.load(text).solver(width=4, depth=1)  # its listing names the file by its absolute path
    solver.fit(tmp_path / "run", steps=1, lbfgs_steps=0, interior_points=8, boundary_points=4)
    assert (tmp_path / "run" / "result.json").exists()


def test_load_takes_paths_text_and_bytes_and_names_anything_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    for folder in ("specs", "specs/"):  # an existing folder named by a string is a folder, not spec text
        with pytest.raises(pdedsl.SpecError, match="is a directory"):
            pdedsl.load(folder)
    assert pdedsl.load(PLATE.encode()) == pdedsl.load(PLATE) == pdedsl.load(bytearray(PLATE.encode()))
    with pytest.raises(pdedsl.SpecError, match="not UTF-8"):
        pdedsl.load(b"problem p\xff\n")
    for encoding in ("utf-16", "utf-16-le", "utf-32"):
        with pytest.raises(pdedsl.SpecError, match=f"the file is {encoding[:6].upper()} text, not UTF-8"):
            pdedsl.load(PLATE.encode(encoding))
    for wrong in (None, ["problem p"], 3):
        with pytest.raises(TypeError, match="a spec is a path or its text"):
            pdedsl.load(wrong)
    with pytest.raises(KeyError, match="no 'v' here; the names are: u"):
        pdedsl.load(PLATE).field("v")


@pytest.fixture(scope="module")
def solver(tmp_path_factory):
    solver = pdedsl.load(PLATE).solver(width=8, depth=2)
    solver.fit(steps=2, lbfgs_steps=0, interior_points=16, boundary_points=4,
               out=tmp_path_factory.mktemp("plate") / "run")
    return solver


def test_predict_takes_arrays_scalars_and_tensors(solver):
    xs = np.linspace(0, 1, 5)
    each = solver.predict({"x": xs, "y": np.full(5, 0.5)})["u"]
    assert solver.predict({"x": xs, "y": 0.5})["u"] == pytest.approx(each)  # a scalar stands for every point
    tensor = torch.tensor(xs, requires_grad=True)
    assert solver.predict({"x": tensor, "y": [0.5] * 5})["u"] == pytest.approx(each)


@pytest.mark.parametrize("method", ["predict", "predict_members"])
def test_points_that_are_no_mapping_are_a_type_error(solver, method):
    with pytest.raises(TypeError, match=f"{method} takes a mapping of .* not list"):  # was AttributeError: items
        getattr(solver, method)([0.5, 0.5])


@pytest.mark.parametrize("points, message", [
    ({"x": np.zeros(3), "y": np.zeros(5)}, "one length, or be scalars: x has 3, y has 5"),
    ({"x": np.zeros(3)}, "missing: y"),
    ({"x": np.zeros(3), "y": np.zeros(3), "t": 0.0}, "takes the coordinates x, y; not t"),
    ({"x": np.zeros(3) + 1j, "y": np.zeros(3)}, "x must hold real numbers"),
])
def test_predict_names_what_is_wrong_with_its_points(solver, points, message):
    with pytest.raises(ValueError, match=message):
        solver.predict(points)


@pytest.mark.parametrize("settings, error, message", [
    ({"bogus": 3}, TypeError, "unknown inference setting(s) bogus without a model (a PINN fit); known: steps, "
                              "lbfgs_steps, seed, instance, threads"),
    ({"steps": "3"}, TypeError, "the setting steps takes a whole number, not '3'"),
    ({"seed": None}, TypeError, "the setting seed takes a whole number, not None"),
    ({"lbfgs_steps": -1}, ValueError, "lbfgs_steps must be at least 0 (got -1)"),
    ({"model": "m", "steps": 3}, TypeError, "unknown inference setting(s) steps with a dgno model; known: restarts"),
    ({"model": "m", "samples": "3"}, TypeError, "the setting samples takes a whole number, not '3'"),
])
def test_infer_names_a_setting_it_cannot_take(tmp_path, settings, error, message):
    spec = Path(__file__).parents[1] / "specs" / "heat_inverse.pde"
    with pytest.raises(error, match=re.escape(message)):  # were raw TypeErrors from inside (or none: a run)
        pdedsl.infer(spec, out=tmp_path / "out", **settings)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_spec_text_is_a_spec_with_nothing_in_it_not_the_working_folder(text):
    """pdedsl.load("") took the empty string for a path, Path("") for the working folder, and said
    '.: is a directory, not a spec file'; an empty file is checked as a spec (it declares no field)."""
    problem = pdedsl.load(text)
    assert problem.fields == () or list(problem.fields) == []
    assert any("declares no field" in w.message for w in problem.warnings)
