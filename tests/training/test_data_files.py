"""Data files in training: run folders stand alone, and unusable data is refused before training, located."""

import json
import shutil

import numpy as np
import pytest

import pdedsl
from pdedsl.cli import main
from pdedsl.training import TrainConfig, train
from rod_spec import ROD

QUICK = dict(steps=4, lbfgs_steps=0, interior_points=16, boundary_points=4, checkpoint_every=2, log_every=2,
             precision="float64", backend_options={"width": 4, "depth": 1}, hard_dirichlet=False)


def _rod_data(path, k_values=None):
    x = np.linspace(0, 1, 11)
    np.savez(path, x=x, u=np.sin(np.pi * x), k=np.ones(11) if k_values is None else k_values)


def test_a_run_folder_keeps_its_data_and_outlives_the_originals(tmp_path, capsys):
    """Data named by a sub-folder, by an absolute path and by the same file name in two folders: the run folder
    copies each under its own name and its spec.pde names the copies, so predict, plot and resume work after
    the originals are gone."""
    spec_dir, elsewhere = tmp_path / "spec", tmp_path / "elsewhere"
    for folder in (spec_dir / "obs", spec_dir / "ref", elsewhere):
        folder.mkdir(parents=True)
    _rod_data(spec_dir / "obs" / "rod.npz")
    _rod_data(spec_dir / "ref" / "rod.npz")
    _rod_data(elsewhere / "k.npz")
    spec = spec_dir / "rod.pde"
    spec.write_text(ROD.replace("field u", f'field u\ninput k from "{elsewhere / "k.npz"}"')
                    .replace("-d(u, x, 2) =", "-d(k*d(u, x), x) =")
                    + 'observe u from "obs/rod.npz" noise 0.01\nreference u from "ref/rod.npz"\n')
    run = tmp_path / "run"
    train(spec, TrainConfig(**QUICK), run, progress=False)
    copied = (run / "spec.pde").read_text()
    assert '"data/rod.npz"' in copied and '"data/rod_2.npz"' in copied and '"data/k.npz"' in copied
    assert sorted(p.name for p in (run / "data").iterdir()) == ["k.npz", "rod.npz", "rod_2.npz"]
    shutil.rmtree(spec_dir)
    shutil.rmtree(elsewhere)
    np.savez(tmp_path / "pts.npz", x=np.linspace(0, 1, 5))
    assert main(["predict", str(run), "--points", str(tmp_path / "pts.npz"), "-o", str(tmp_path / "out.npz")]) == 0
    assert main(["plot", str(run), "-o", str(tmp_path / "run.png")]) == 0
    assert main(["train", "--resume", str(run), "--steps", "6", "-q"]) == 0
    assert json.loads((run / "result.json").read_text())["steps"] == 6
    capsys.readouterr()


def test_a_copied_data_name_is_a_valid_string_literal(tmp_path):
    from pdedsl.training.spec_copy import _free_name

    assert _free_name("a.npz", set()) == "a.npz"
    assert _free_name("A.npz", {"a.npz", "a_2.npz"}) == "A_3.npz"
    assert _free_name('we"ird\n.npz', set()) == "we_ird_.npz"
    assert _free_name("noext", {"noext"}) == "noext_2"


def test_a_file_already_in_the_folders_data_is_kept_not_overwritten(tmp_path):
    """Training a spec into its own folder: a file it names in data/ keeps its name and its contents; another
    file of that name gets a free one."""
    from pdedsl.training.spec_copy import copy_spec

    (tmp_path / "data").mkdir()
    (tmp_path / "other").mkdir()
    _rod_data(tmp_path / "data" / "u.npz")
    x = np.linspace(0, 1, 11)
    np.savez(tmp_path / "other" / "u.npz", x=x, u=np.zeros(11))
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD + 'observe u from "other/u.npz" noise 0.01\nreference u from "data/u.npz"\n')
    copy_spec(spec, pdedsl.load(spec), tmp_path)
    copied = (tmp_path / "spec.pde").read_text()
    assert 'observe u from "data/u_2.npz"' in copied and 'reference u from "data/u.npz"' in copied
    with np.load(tmp_path / "data" / "u.npz") as kept, np.load(tmp_path / "data" / "u_2.npz") as moved:
        assert np.allclose(kept["u"], np.sin(np.pi * x)) and np.allclose(moved["u"], 0)


ROD_WITH = ROD + "{statement}\n"


def _spec(tmp_path, statement):
    path = tmp_path / "rod.pde"
    path.write_text(ROD_WITH.format(statement=statement))
    return path


def test_a_reference_that_does_not_fit_is_refused_before_training_at_its_line(tmp_path):
    x = np.linspace(0, 1, 11)
    np.savez(tmp_path / "ref.npz", x=x, u=np.zeros((11, 2)))
    spec = _spec(tmp_path, 'reference u from "ref.npz"')
    with pytest.raises(pdedsl.errors.PdeError, match=r"rod.pde:9:1: 'reference u': .*fits neither") as caught:
        train(spec, TrainConfig(**QUICK), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()  # refused before the first step
    # the spec's line and carets under the statement, as the front end's errors show them
    assert str(caught.value).splitlines()[1:] == ['    reference u from "ref.npz"', "    " + "^" * 26]


def test_reference_points_without_a_value_are_left_out_of_the_error(tmp_path):
    x = np.linspace(0, 1, 11)
    u = np.sin(np.pi * x)
    u[3] = np.nan
    np.savez(tmp_path / "ref.npz", x=x, u=u)
    result = train(_spec(tmp_path, 'reference u from "ref.npz"'), TrainConfig(**QUICK), tmp_path / "run",
                   progress=False)
    assert np.isfinite(result["rel_l2"]["u"])
    np.savez(tmp_path / "ref.npz", x=x, u=np.full(11, np.nan))
    with pytest.raises(pdedsl.errors.PdeError, match="every value of 'u' is NaN"):
        train(_spec(tmp_path, 'reference u from "ref.npz"'), TrainConfig(**QUICK), tmp_path / "run2",
              progress=False)


@pytest.mark.parametrize("values, holds", [
    (np.full(11, "a"), "holds text"),
    (np.ones(11) + 1j, "holds complex numbers"),
    (np.zeros(11, dtype="datetime64[s]"), "holds dates"),
    (np.zeros(11, dtype=[("a", "f8"), ("b", "f8")]), "holds records"),
])
def test_arrays_that_are_not_real_numbers_are_refused_by_check(tmp_path, values, holds):
    np.savez(tmp_path / "obs.npz", x=np.linspace(0, 1, 11), u=values)
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(_spec(tmp_path, 'observe u from "obs.npz" noise 0.1'))
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.span.line, error.span.column) == (9, 16) and "cannot be used" in error.message
    assert holds in error.hint and "real numbers are needed" in error.hint


def test_a_zip_of_other_files_and_a_folder_are_refused_by_check(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "plain.npz", "w") as archive:
        for key in ("x", "u"):
            archive.writestr(key, "1 2 3")
    (tmp_path / "folder.npz").mkdir()
    for name, hint in (("plain.npz", "is not a numpy array"), ("folder.npz", "")):
        with pytest.raises(pdedsl.SpecError) as raised:
            pdedsl.load(_spec(tmp_path, f'observe u from "{name}" noise 0.1'))
        (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
        assert hint in (error.hint or "")
    assert "is a folder" in error.message


def test_a_folder_named_as_data_file_gets_a_hint_that_names_a_file_in_it(tmp_path):
    (tmp_path / "runs").mkdir()
    for name in ("b.npz", "a.npz", "notes.txt"):
        (tmp_path / "runs" / name).write_text("")
    (tmp_path / "empty").mkdir()
    hints = {}
    for folder in ("runs/", "empty", "/"):
        with pytest.raises(pdedsl.SpecError) as raised:
            pdedsl.load(_spec(tmp_path, f'observe u from "{folder}" noise 0.1'))
        (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
        assert error.message == f"data file '{folder}' is a folder, not an .npz file"
        hints[folder] = error.hint
    assert hints["runs/"] == f"name the .npz file itself, such as 'runs/a.npz' (the folder {tmp_path / 'runs'} holds a.npz, b.npz)"
    assert hints["empty"] == (f"name the .npz file itself, such as 'empty/data.npz' (the folder {tmp_path / 'empty'} "
                              "holds no .npz file)")
    assert hints["/"].startswith("name the .npz file itself, such as '/")


def _rod_with_input(tmp_path, **arrays):
    np.savez(tmp_path / "k.npz", **arrays)
    path = tmp_path / "rod.pde"
    path.write_text(ROD.replace("field u", 'field u\ninput k from "k.npz"').replace("-d(u, x, 2) =", "-d(k*d(u, x), x) ="))
    return path


@pytest.mark.parametrize("arrays, message", [
    (dict(x=np.linspace(0, 1, 5), k=np.array([1, 1, np.nan, 1, 1.0])), "'k' has 1 value.s. that are NaN or infinite"),
    (dict(x=np.zeros(0), k=np.zeros(0)), "'k' is empty"),
])
def test_input_data_without_a_value_everywhere_is_refused_at_its_line(tmp_path, arrays, message):
    with pytest.raises(pdedsl.errors.PdeError, match=rf"rod.pde:4:14: input 'k' from 'k.npz': {message}"):
        train(_rod_with_input(tmp_path, **arrays), TrainConfig(**QUICK), tmp_path / "run", progress=False)


def test_input_data_beyond_the_training_precision_is_refused_at_its_line(tmp_path):
    """Values past float32's range became infinite in training, and the error blamed the equation ('NaN or
    infinite at 16 of its 16 points: a log or square root of a negative number?'); readings of an observe
    statement were refused at their line already (session 33)."""
    spec = _rod_with_input(tmp_path, x=np.linspace(0, 1, 5), k=np.array([1, 1, 1e300, 1, 1.0]))
    with pytest.raises(pdedsl.errors.PdeError, match=r"rod.pde:4:14: input 'k' from 'k.npz': 'k' has 1 value.s. "
                       r"beyond the range of float32 .* train with --precision float64, or rescale the data"):
        train(spec, TrainConfig(**{**QUICK, "precision": "float32"}), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
    train(spec, TrainConfig(**QUICK), tmp_path / "run64", progress=False)  # float64 holds them


@pytest.mark.parametrize("precision, span", [("float32", "1e-300"), ("float64", "1e-309")])
def test_input_data_spanning_too_little_to_interpolate_is_refused_at_its_line(tmp_path, precision, span):
    """Data over x in [0, 1e-300] had nodes that float32 rounds together (and gaps whose inverse overflows in
    float64): every interpolated value was NaN, and the error blamed the equation ('NaN or infinite')."""
    spec = _rod_with_input(tmp_path, x=np.linspace(0, float(span), 5), k=np.ones(5))
    with pytest.raises(pdedsl.errors.PdeError, match=rf"rod.pde:4:14: input 'k' from 'k.npz': the x nodes .from 0 "
                       rf"to {span}. are too close together to interpolate between in {precision}"):
        train(spec, TrainConfig(**{**QUICK, "precision": precision}), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_a_grid_input_needs_two_distinct_nodes_per_axis(tmp_path):
    from pdedsl.runtime.interpolation import DataInputError, interpolant

    y = np.linspace(0, 1, 4)
    np.savez(tmp_path / "k.npz", x=np.array([0.5]), y=y, k=np.ones((1, 4)))
    with pytest.raises(DataInputError, match="at least 2 nodes on each axis, all distinct .distinct nodes x: 1 of 1"):
        interpolant(str(tmp_path / "k.npz"), "k", ("x", "y"))
    np.savez(tmp_path / "one.npz", x=np.array([0.5]), k=np.array([2.0]))  # one point of 1-D data: a constant
    value = interpolant(str(tmp_path / "one.npz"), "k", ("x",))({"x": __import__("torch").tensor([0.0, 1.0])})
    assert value.tolist() == [2.0, 2.0]


def test_1d_input_data_with_a_repeated_point_is_interpolated_linearly_with_the_repeats_averaged(tmp_path, capsys):
    """Two segments of data that share an end point (x = 0.5 twice, as joined files have it) switched the whole
    input to the nearest point's value: d(k, x) was zero everywhere, and check blamed points 'on one line'.
    Repeated points are averaged, as the fit of scattered points in 2-D and 3-D averages them."""
    import torch

    from pdedsl.runtime.interpolation import interpolant

    x = np.concatenate([np.linspace(0, 0.5, 6), np.linspace(0.5, 1, 6)])
    k = 1 + x ** 2
    k[6] += 0.1  # the second segment's first reading differs: the two at x = 0.5 are averaged
    np.savez(tmp_path / "k.npz", x=x, k=k)
    value = interpolant(str(tmp_path / "k.npz"), "k", ("x",))({"x": torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)})
    assert value.tolist() == pytest.approx([1 + 0.5 * (0.2 ** 2 + 0.3 ** 2), 1.25 + 0.05, 1 + 0.5 * (0.7 ** 2 + 0.8 ** 2)])
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD.replace("field u", 'field u\ninput k from "k.npz"').replace("-d(u, x, 2) =", "-d(k*d(u, x), x) ="))
    assert main(["check", str(spec)]) == 0
    assert "zero everywhere" not in capsys.readouterr().err


def test_an_operator_members_file_is_read_for_the_names_the_problem_uses(tmp_path):
    from pdedsl.runtime.family import FamilyError, member_arrays

    problem = pdedsl.load("problem p\ndomain O = interval(x: [0, 1])\nfield u\nparam k ~ uniform(1, 2)\n"
                          "equation in O:\n    -d(u, x, 2) = k\nboundary on boundary(O):\n    u = 0\n")
    np.savez(tmp_path / "m.npz", x=np.linspace(0, 1, 5), k=np.ones(3), junk=np.array([None], dtype=object))
    assert sorted(member_arrays(problem, tmp_path / "m.npz")) == ["k", "x"]
    np.savez(tmp_path / "m.npz", x=np.linspace(0, 1, 5), k=np.array(["a"]))
    with pytest.raises(FamilyError, match="'k' holds text"):
        member_arrays(problem, tmp_path / "m.npz")


def test_results_are_strict_json():
    from pdedsl.files import json_text

    assert json.loads(json_text({"rel_l2": {"u": float("nan")}, "v": [float("inf"), 1.5]})) == \
        {"rel_l2": {"u": None}, "v": [None, 1.5]}


def test_data_off_the_problem_is_named_before_training(tmp_path, capsys):
    """Readings outside the domain and an input grid covering part of it are warned about, at their lines."""
    x = np.linspace(0, 2, 11)  # half of them beyond x = 1
    np.savez(tmp_path / "obs.npz", x=x, u=np.zeros(11))
    np.savez(tmp_path / "k.npz", x=np.linspace(0, 0.5, 6), k=np.ones(6))
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD.replace("field u", 'field u\ninput k from "k.npz"').replace("-d(u, x, 2) =", "-d(k*d(u, x), x) =")
                    + 'observe u from "obs.npz" noise 0.1\n')
    assert main(["train", str(spec), "--steps", "2", "--lbfgs-steps", "0", "--points", "8", "--width", "4",
                 "--out", str(tmp_path / "run"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "rod.pde:10:1: warning: 'observe u': 5 of its 11 points lie outside the domain" in err
    assert '\n    observe u from "obs.npz" noise 0.1\n    ^^^^' in err
    assert "rod.pde:4:14: warning: input 'k': its data cover x in [0, 0.5] of [0, 1]" in err
    np.savez(tmp_path / "obs.npz", x=np.linspace(0, 1, 11), u=np.zeros(11))
    np.savez(tmp_path / "k.npz", x=np.linspace(0.01, 0.99, 50), k=np.ones(50))  # short of the edges by < 2%
    assert main(["train", str(spec), "--steps", "2", "--lbfgs-steps", "0", "--points", "8", "--width", "4",
                 "--out", str(tmp_path / "run2"), "-q"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_column_coordinates_beside_flat_values_are_scattered_points(tmp_path):
    from pdedsl.training.data import load_points

    x = np.linspace(0, 1, 11)
    np.savez(tmp_path / "d.npz", x=x[:, None], u=np.sin(np.pi * x))
    points, values = load_points(str(tmp_path / "d.npz"), "u", ("x",))
    assert points["x"].shape == values.shape == (11,) and np.allclose(points["x"], x)


def test_float32_data_on_the_edges_and_data_on_a_second_domain_are_not_outside(tmp_path):
    """Data stored in float32 sit ~1e-8 off the edges they lie on; equations on two domains: either holds."""
    from pdedsl.training.data_checks import data_warnings

    x, y = np.linspace(0, 1, 11, dtype=np.float32), np.linspace(0, 0.3, 7, dtype=np.float32)
    np.savez(tmp_path / "ref.npz", x=x, y=y, u=np.zeros((11, 7), dtype=np.float32))
    spec = tmp_path / "plate.pde"
    spec.write_text("problem p\ndomain O = box(x: [0, 1], y: [0, 0.3])\nfield u\nequation in O:\n    -laplace(u) = 1\n"
                    'reference u from "ref.npz"\n')
    assert data_warnings(pdedsl.load(spec)) == []
    np.savez(tmp_path / "obs.npz", x=np.linspace(1.2, 1.8, 5), u=np.zeros(5))
    spec.write_text("problem p\ndomain A = interval(x: [0, 1])\ndomain B = interval(x: [1, 2])\nfield u\n"
                    "equation in A:\n    -d(u, x, 2) = 1\nequation in B:\n    -d(u, x, 2) = 2\n"
                    'observe u from "obs.npz" noise 0.1\n')
    assert data_warnings(pdedsl.load(spec)) == []


def test_an_input_file_with_a_time_array_is_a_source_over_time(tmp_path):
    """u = exp(-t) sin(pi x) with the source (pi^2 - 1) exp(-t) sin(pi x) given on a 41 x 21 grid over (x, t):
    training reads the source at each point's time (before session 33 such a file was refused), and lands far
    closer to u than the solution without the source, exp(-pi^2 t) sin(pi x), is."""
    from pdedsl.training.predict import predict

    x, t = np.linspace(0, 1, 41), np.linspace(0, 1, 21)
    X, T = np.meshgrid(x, t, indexing="ij")
    np.savez(tmp_path / "f_xt.npz", x=x, t=t, f=(np.pi ** 2 - 1) * np.exp(-T) * np.sin(np.pi * X))
    spec = tmp_path / "spec.pde"
    spec.write_text('domain I = interval(x: [0, 1])\ntime t: [0, 1]\nfield u\ninput f from "f_xt.npz"\n'
                    "equation in I:\n    dt(u) = d(u, x, 2) + f\nboundary on boundary(I):\n    u = 0\n"
                    "initial:\n    u = sin(pi*x)\n")
    train(spec, TrainConfig(steps=100, lbfgs_steps=10, interior_points=200, boundary_points=100, seed=0,
                            threads=1),
          tmp_path / "run", progress=False)
    xo, to = np.linspace(0, 1, 21), np.linspace(0, 1, 11)
    np.savez(tmp_path / "grid.npz", x=xo, t=to)
    predict(tmp_path / "run", tmp_path / "grid.npz", tmp_path / "out.npz")
    exact = np.sin(np.pi * xo)[:, None] * np.exp(-to)[None, :]
    unforced = np.sin(np.pi * xo)[:, None] * np.exp(-np.pi ** 2 * to)[None, :]
    with np.load(tmp_path / "out.npz") as out:
        error = np.linalg.norm(out["u"] - exact) / np.linalg.norm(exact)
    assert error < 0.02 * np.linalg.norm(unforced - exact) / np.linalg.norm(exact)  # (that one is about 0.7)


def test_the_copy_of_a_spec_without_a_problem_line_keeps_its_files_name(tmp_path):
    """Reopened from the folder's spec.pde, a spec named by its file would otherwise become problem 'spec'."""
    from pdedsl.training.spec_copy import copy_spec

    spec = tmp_path / "cooling_rod.pde"
    spec.write_text("# a rod\n" + ROD.replace("problem rod\n", ""))
    assert "problem" not in spec.read_text()
    (tmp_path / "run").mkdir()
    (tmp_path / "run2").mkdir()
    copy_spec(spec, pdedsl.load(spec), tmp_path / "run")
    copy = tmp_path / "run" / "spec.pde"
    assert copy.read_text().startswith("problem cooling_rod\n# a rod\n")
    assert pdedsl.load(copy).name == "cooling_rod"
    named = tmp_path / "named.pde"
    named.write_text(ROD)
    copy_spec(named, pdedsl.load(named), tmp_path / "run2")
    assert (tmp_path / "run2" / "spec.pde").read_text() == ROD


def test_readings_of_an_input_are_warned_about_and_left_out_of_a_pinn_run(tmp_path, capsys):
    """'observe a' of an input: the PINN holds a known and does not output it, and the first step failed with
    an internal KeyError; now its readings are left out with a warning at the statement, and u's are fitted."""
    x = np.linspace(0.1, 0.9, 5)
    np.savez(tmp_path / "g.npz", x=x, g=x)
    np.savez(tmp_path / "u.npz", x=x, u=0 * x)
    spec = tmp_path / "observed_input.pde"
    spec.write_text("domain I = interval(x: [0, 1])\nfield u\ninput g = x\nparam c = 1\nequation in I:\n"
                    "    -d(u, x, 2) = c*g\nboundary on boundary(I):\n    u = 0\n"
                    'observe g from "g.npz" noise 0.1\nobserve u from "u.npz" noise 0.01\ninfer c\n')
    assert main(["train", str(spec), "--steps", "3", "--lbfgs-steps", "0", "--points", "20", "-q",
                 "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "observed_input.pde:9:1: warning: 'observe g': 'g' is an input" in err
    terms = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])["terms"]
    assert "data_u" in terms and not any(name.startswith("data_g") for name in terms)


def test_the_relative_error_against_values_near_the_largest_float_is_finite_and_silent():
    """A reference of values near 1e308 (finite, so accepted) made the error's norms overflow: numpy's
    'RuntimeWarning: invalid value encountered in scalar divide' was printed under the run's output."""
    import warnings

    from pdedsl.training.metrics import relative_error

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert relative_error(np.zeros(4), np.full(4, 1e308)) == pytest.approx(1.0)
        assert relative_error(np.full(4, 0.5e308), np.full(4, 1e308)) == pytest.approx(0.5)
        assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
        assert relative_error(np.ones(3), np.zeros(3)) is None
        assert np.isnan(relative_error(np.zeros(2), np.array([np.inf, 1.0])))  # 1e308 read by a float32 run


def test_readings_all_outside_the_domain_are_an_error_at_the_observe_statement(tmp_path, capsys):
    """Some readings outside: a warning (above); all of them: nothing of the problem is observed (a file of
    another problem, or coordinates in other units), an error located at the statement, before training."""
    np.savez(tmp_path / "obs.npz", x=np.linspace(2, 3, 11), u=np.zeros(11))
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD + 'observe u from "obs.npz" noise 0.1\n')
    assert main(["train", str(spec), "--steps", "2", "--lbfgs-steps", "0", "--points", "8", "--width", "4",
                 "--out", str(tmp_path / "run"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "rod.pde:9:1: 'observe u': all 11 of its points lie outside the domain" in err and "pdedsl: error: " in err
    assert "observe u from" in err and "warning: 'observe u'" not in err
    assert not (tmp_path / "run").exists()


def test_readings_beyond_the_range_of_the_training_precision_are_refused_at_their_line(tmp_path):
    """1e100 is a finite float64 but inf in float32: every step's loss was non-finite and skipped, and the run
    ended 'trained' without naming the file or the precision."""
    x = np.linspace(0, 1, 5)
    np.savez(tmp_path / "obs.npz", x=x, u=np.array([0, -1e100, 0, 1e100, 0.0]))
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD + 'observe u from "obs.npz" noise 0.1\n')
    with pytest.raises(pdedsl.errors.PdeError, match=r"rod.pde:9:1: 'observe u': .*obs.npz: 'u' has 2 value.s. "
                       r"beyond the range of float32 \(\+-3.4e\+38; the first at index 1\): train with --precision "
                       r"float64, or rescale"):
        train(spec, TrainConfig(**{**QUICK, "precision": "float32"}), tmp_path / "run", progress=False)
    train(spec, TrainConfig(**QUICK), tmp_path / "run64", progress=False)  # float64 holds them


def test_readings_whose_squares_overflow_the_precision_are_an_error_at_the_observe_statement(tmp_path, capsys):
    """Readings of 2^62 are finite in float32, but their mean square is not: every step's loss was infinite and
    skipped, and the run still ended 'trained'. Said at the statement; float64 holds them."""
    x = np.linspace(0, 1, 101)
    np.savez(tmp_path / "obs.npz", x=x, u=np.full(101, 2.0 ** 62))
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD + 'observe u from "obs.npz" noise 0.1\n')
    small = ["--steps", "2", "--lbfgs-steps", "0", "--points", "8", "--width", "4", "-q"]
    assert main(["train", str(spec), *small, "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "rod.pde:9:1: the readings of 'u' reach 4.61e+18: the sum of their squares is beyond float32" in err
    assert "--precision float64" in err
    assert main(["train", str(spec), *small, "--precision", "float64", "--out", str(tmp_path / "run64")]) == 0
    np.savez(tmp_path / "obs.npz", x=x, u=np.full(101, 1e300))  # beyond float64's squares too: rescale, no more
    assert main(["train", str(spec), *small, "--precision", "float64", "--out", str(tmp_path / "run300")]) == 1
    err = capsys.readouterr().err
    assert "is beyond float64" in err and "rescale the data" in err and "--precision float64" not in err
