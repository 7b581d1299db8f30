"""predict and plot on tiny trained runs: values match the model, bad points files fail clearly, PNGs are drawn."""

import json
import os
import re

import numpy as np
import pytest
import torch

from pdedsl.errors import PdeError
from pdedsl.training import Run, RunError, TrainConfig, train
from pdedsl.training.predict import PredictError, predict
from pdedsl.training.plot import PlotError, plot

TINY = dict(steps=20, lbfgs_steps=0, interior_points=64, boundary_points=16, log_every=5)

HEAT = """problem rod_heat
domain Rod = interval(x: [0, 1])
time t: [0, 0.5]
field u
const kappa = 0.1
equation in Rod:
    dt(u) = kappa * d(u, x, 2)
boundary on boundary(Rod):
    u = 0
initial:
    u = sin(pi*x)
exact u = exp(-kappa*pi^2*t) * sin(pi*x)
"""

# a disk with a square hole: 2-D, masked outside, exact solution
PLATE = """problem holed_plate
domain D = disk(center: (0, 0), radius: 1) - box(x: [-0.3, 0.3], y: [-0.3, 0.3])
field u
equation in D:
    -laplace(u) = 4
boundary on boundary(D):
    u = 1 - x^2 - y^2
exact u = 1 - x^2 - y^2
"""

# 1-D steady system: exact for v only (mixed truth), u has none
PAIR = """problem pair
domain O = interval(x: [0, 1])
field u, v
equation in O:
    -d(v, x, 2) = 1
    -d(u, x, 2) = v
boundary on boundary(O):
    u = 0
    v = 0
exact v = x*(1 - x)/2
"""

# 1-D + time with reference data on a grid instead of an exact solution
HEAT_REFERENCE = HEAT.replace("exact u = exp(-kappa*pi^2*t) * sin(pi*x)", 'reference u from "heat_ref.npz"')

# 2-D with scattered reference data
PLATE_REFERENCE = PLATE.replace("exact u = 1 - x^2 - y^2", 'reference u from "plate_ref.npz"')


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_torch():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only wait on each other
    yield
    torch.set_num_threads(previous)


def _train(root, name, text, files=None):
    spec_folder = root / f"{name}_spec"
    spec_folder.mkdir()
    for file_name, arrays in (files or {}).items():
        np.savez(spec_folder / file_name, **arrays)
    spec = spec_folder / f"{name}.pde"
    spec.write_text(text)
    folder = root / name
    train(spec, TrainConfig(**TINY), folder, progress=False)
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    x, t = np.linspace(0, 1, 33), np.linspace(0, 0.5, 17)
    heat_grid = np.exp(-0.1 * np.pi**2 * t)[None, :] * np.sin(np.pi * x)[:, None]
    rng = np.random.default_rng(0)
    r, angle = np.sqrt(rng.uniform(0.2, 1, 600)), rng.uniform(0, 2 * np.pi, 600)
    px, py = r * np.cos(angle), r * np.sin(angle)
    keep = (np.abs(px) > 0.3) | (np.abs(py) > 0.3)
    px, py = px[keep], py[keep]
    return {
        "heat": _train(root, "heat", HEAT),
        "plate": _train(root, "plate", PLATE),
        "pair": _train(root, "pair", PAIR),
        "heat_reference": _train(root, "heat_reference", HEAT_REFERENCE,
                                 {"heat_ref.npz": {"x": x, "t": t, "u": heat_grid}}),
        "plate_reference": _train(root, "plate_reference", PLATE_REFERENCE,
                                  {"plate_ref.npz": {"x": px, "y": py, "u": 1 - px**2 - py**2}}),
    }


def _direct(folder, columns):
    run = Run.open(folder)
    with torch.no_grad():
        out = run.model({a: torch.as_tensor(c, dtype=run.dtype) for a, c in columns.items()})
    return {k: v.double().numpy() for k, v in out.items()}


# ---- predict ----
def test_predict_on_scattered_points_matches_the_model(runs, tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, 50), rng.uniform(-1, 1, 50)
    np.savez(tmp_path / "points.npz", x=x, y=y)
    summary = predict(runs["plate"], tmp_path / "points.npz", tmp_path / "out.npz")
    assert summary["layout"] == "scattered" and summary["shape"] == [50] and summary["fields"] == ["u"]
    assert summary["outside_domain"] == int(np.sum((x**2 + y**2 > 1) | ((abs(x) < 0.3) & (abs(y) < 0.3))))
    with np.load(tmp_path / "out.npz") as out:
        assert sorted(out.files) == ["u", "x", "y"]
        np.testing.assert_array_equal(out["x"], x)
        np.testing.assert_array_equal(out["y"], y)
        np.testing.assert_allclose(out["u"], _direct(runs["plate"], {"x": x, "y": y})["u"], rtol=1e-5, atol=1e-6)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_predict_on_a_grid_returns_arrays_shaped_like_the_grid(runs, tmp_path):
    x, t = np.linspace(0, 1, 7), np.linspace(0, 0.5, 4)
    np.savez(tmp_path / "grid.npz", t=t, x=x)  # order in the file does not matter
    summary = predict(runs["heat"], tmp_path / "grid.npz", tmp_path / "out.npz")
    assert summary["layout"] == "grid" and summary["shape"] == [7, 4] and summary["outside_domain"] == 0
    X, T = np.meshgrid(x, t, indexing="ij")
    expected = _direct(runs["heat"], {"x": X.ravel(), "t": T.ravel()})["u"].reshape(7, 4)
    with np.load(tmp_path / "out.npz") as out:
        assert out["u"].shape == (7, 4)
        np.testing.assert_allclose(out["u"], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(out["x"], x)


def test_equal_lengths_are_scattered_unless_a_field_array_or_the_layout_says_grid(runs, tmp_path):
    x, t = np.linspace(0, 1, 5), np.linspace(0, 0.5, 5)
    np.savez(tmp_path / "points.npz", x=x, t=t)
    assert predict(runs["heat"], tmp_path / "points.npz", tmp_path / "a.npz")["shape"] == [5]
    assert predict(runs["heat"], tmp_path / "points.npz", tmp_path / "b.npz", layout="grid")["shape"] == [5, 5]
    np.savez(tmp_path / "with_field.npz", x=x, t=t, u=np.zeros((5, 5)))  # a reference file reused as points
    summary = predict(runs["heat"], tmp_path / "with_field.npz", tmp_path / "c.npz")
    assert summary["layout"] == "grid" and summary["shape"] == [5, 5]
    with np.load(tmp_path / "b.npz") as b, np.load(tmp_path / "c.npz") as c:
        np.testing.assert_array_equal(b["u"], c["u"])
    from pdedsl.cli import main

    assert main(["predict", str(runs["heat"]), "--points", str(tmp_path / "points.npz"), "-o",
                 str(tmp_path / "d.npz"), "--layout", "grid"]) == 0
    with np.load(tmp_path / "b.npz") as b, np.load(tmp_path / "d.npz") as d:
        assert d["u"].shape == (5, 5)
        np.testing.assert_array_equal(b["u"], d["u"])


def test_scattered_points_keep_their_shape(runs, tmp_path):
    X, T = np.meshgrid(np.linspace(0, 1, 6), np.linspace(0, 0.5, 3), indexing="ij")
    np.savez(tmp_path / "mesh.npz", x=X, t=T)
    predict(runs["heat"], tmp_path / "mesh.npz", tmp_path / "out.npz")
    with np.load(tmp_path / "out.npz") as out:
        assert out["u"].shape == (6, 3)
        np.testing.assert_allclose(out["u"].ravel(), _direct(runs["heat"], {"x": X.ravel(), "t": T.ravel()})["u"],
                                   rtol=1e-5, atol=1e-6)


def test_predict_replaces_an_existing_output(runs, tmp_path):
    np.savez(tmp_path / "points.npz", x=np.array([0.5]), t=np.array([0.1]))
    (tmp_path / "out.npz").write_bytes(b"old")
    predict(runs["heat"], tmp_path / "points.npz", tmp_path / "out.npz")
    with np.load(tmp_path / "out.npz") as out:
        assert out["u"].shape == (1,)


@pytest.mark.parametrize("name", ["checkpoint.pt", "config.json", "result.json", "spec.pde", "data/x.npz"])
def test_predict_never_overwrites_a_file_of_its_run(runs, tmp_path, name):
    """-o naming the run's checkpoint (or another file it needs) would lose the run: refused, the file kept."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(runs["heat"], folder)
    np.savez(tmp_path / "points.npz", x=np.array([0.5]), t=np.array([0.1]))
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    with pytest.raises(PredictError, match="a file of the folder"):
        predict(folder, tmp_path / "points.npz", folder / name)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    predict(folder, tmp_path / "points.npz", folder / "predicted.npz")  # a file of its own there is fine


def test_an_output_under_a_file_is_refused_with_a_message(runs, tmp_path):
    """-o naming a path through a file (the folder cannot be made) is a PredictError, not an internal error."""
    np.savez(tmp_path / "points.npz", x=np.array([0.5]), t=np.array([0.1]))
    before = (tmp_path / "points.npz").read_bytes()
    blocked = f"cannot write {tmp_path / 'points.npz' / 'out.npz'}: {tmp_path / 'points.npz'} is a file, not a folder"
    with pytest.raises(PredictError, match=re.escape(blocked)):  # was mkdir's bare 'File exists'
        predict(runs["heat"], tmp_path / "points.npz", tmp_path / "points.npz" / "out.npz")
    with pytest.raises(PlotError, match=re.escape(blocked.replace("out.npz", "deeper/plot.png"))):
        plot(runs["heat"], tmp_path / "points.npz" / "deeper" / "plot.png")
    assert (tmp_path / "points.npz").read_bytes() == before


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.zeros(3)}, "no coordinate array named 't'"),
    ({"y": np.zeros(3)}, "no coordinate array named 'x', 't'"),
    ({"x": np.zeros((2, 3)), "t": np.zeros(3)}, "same shape"),
    ({"x": np.float64(0.5), "t": np.zeros(3)}, "single number"),
    ({"x": np.zeros(0), "t": np.zeros(0)}, "empty"),
    ({"x": np.array(["a", "b"]), "t": np.zeros(2)}, "numbers are needed"),
    ({"x": np.array([0.0, np.nan]), "t": np.zeros(2)}, "non-finite"),
    ({"x": np.array([None, 1.0], dtype=object), "t": np.zeros(2)}, "a pickle"),
])
def test_predict_reports_points_that_do_not_fit(runs, tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(PredictError, match=message) as caught:
        predict(runs["heat"], tmp_path / "bad.npz", tmp_path / "out.npz")
    assert isinstance(caught.value, PdeError)
    assert "bad.npz" in str(caught.value)
    assert not (tmp_path / "out.npz").exists()


def test_predict_never_overwrites_its_points_file(runs, tmp_path):
    np.savez(tmp_path / "pts.npz", x=np.array([0.5]), t=np.array([0.1]))
    before = (tmp_path / "pts.npz").read_bytes()
    with pytest.raises(PredictError, match="overwrite the points file"):
        predict(runs["heat"], tmp_path / "pts.npz", tmp_path / "pts.npz")
    assert (tmp_path / "pts.npz").read_bytes() == before


def test_predict_never_overwrites_a_spec(runs, tmp_path):
    """-o spec.pde (a slip for -o out.npz) wrote the predictions over the spec; compile and data refused it."""
    np.savez(tmp_path / "pts.npz", x=np.array([0.5]), t=np.array([0.1]))
    for name in ("heat.pde", "HEAT.PDE"):
        (tmp_path / name).write_text("problem heat\n")
        with pytest.raises(PredictError, match="would overwrite a spec with predictions"):
            predict(runs["heat"], tmp_path / "pts.npz", tmp_path / name)
        assert (tmp_path / name).read_text() == "problem heat\n"


def test_predict_reports_files_and_options_that_do_not_fit(runs, tmp_path):
    with pytest.raises(PredictError, match="no such points file"):
        predict(runs["heat"], tmp_path / "missing.npz", tmp_path / "out.npz")
    (tmp_path / "junk.npz").write_bytes(b"not an archive")
    with pytest.raises(PredictError, match="not a readable .npz"):
        predict(runs["heat"], tmp_path / "junk.npz", tmp_path / "out.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(PredictError, match="single array"):
        predict(runs["heat"], tmp_path / "single.npy", tmp_path / "out.npz")
    np.savez(tmp_path / "uneven.npz", x=np.zeros(3), t=np.zeros(4))
    with pytest.raises(PredictError, match="same length"):
        predict(runs["heat"], tmp_path / "uneven.npz", tmp_path / "out.npz", layout="scattered")
    with pytest.raises(PredictError, match="unknown layout"):
        predict(runs["heat"], tmp_path / "uneven.npz", tmp_path / "out.npz", layout="mesh")
    with pytest.raises(RunError, match="not a pdedsl run folder"):
        predict(tmp_path, tmp_path / "uneven.npz", tmp_path / "out.npz")


# ---- plot ----
def _assert_png(path, min_width=600):
    import matplotlib.image

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    image = matplotlib.image.imread(path)
    assert image.shape[1] >= min_width and image.shape[0] >= 300
    assert image[..., :3].std() > 0.05  # not a blank canvas
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("name", ["heat", "plate", "pair", "heat_reference", "plate_reference"])
def test_plot_draws_a_png(runs, tmp_path, name):
    output = plot(runs[name], tmp_path / f"{name}.png")
    assert output == tmp_path / f"{name}.png"
    _assert_png(output)


def test_plot_defaults_to_the_run_folder(runs):
    output = plot(runs["heat"])
    assert output == runs["heat"] / "plot.png" and output.stat().st_size > 0
    os.remove(output)


def test_plot_writes_the_format_its_extension_names_and_into_a_folder(runs, tmp_path):
    from pdedsl.training.plot import PlotError

    assert plot(runs["heat"], tmp_path / "heat.pdf").read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in plot(runs["heat"], tmp_path / "heat.svg").read_bytes()[:2000]
    (tmp_path / "pictures").mkdir()
    assert plot(runs["heat"], tmp_path / "pictures") == tmp_path / "pictures" / "plot.png"
    assert plot(runs["heat"], f"{tmp_path}/new/") == tmp_path / "new" / "plot.png"
    for name in ("heat.jpeg", "heat"):
        with pytest.raises(PlotError, match="a plot is written as .png, .pdf, .svg"):
            plot(runs["heat"], tmp_path / name)
    assert not (tmp_path / "heat").exists()
    with pytest.raises(PlotError, match="cannot write .*: File name too long"):  # was an internal error (OSError)
        plot(runs["heat"], tmp_path / ("q" * 300 + ".png"))


def test_the_error_curve_ends_with_the_final_errors(tmp_path):
    """--eval-every logs errors during training, not at its last step: the curve ends with result.json's."""
    from matplotlib.figure import Figure

    from pdedsl.training.plot import _draw_losses

    records = [{"step": s, "loss": 1.0 / s, "terms": {"equation_1": 1.0 / s}, "rel_l2": {"u": 0.1 / s}}
               for s in (10, 20)]
    ax = Figure().add_subplot()
    _draw_losses(ax, records, {"steps": 30, "rel_l2": {"u": 1e-4}})
    right = ax.figure.axes[1]
    (line,) = right.get_lines()
    assert list(line.get_xdata()) == [10, 20, 30] and line.get_ydata()[-1] == pytest.approx(1e-4)


def test_plot_without_metrics_still_draws(runs, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(runs["plate"], folder)
    (folder / "metrics.jsonl").unlink()
    (folder / "result.json").unlink()
    _assert_png(plot(folder, tmp_path / "plate.png"))


@pytest.mark.parametrize("result", [
    '{"problem": "rod_heat", "steps": 20, "rel_l2": {"u": null}, "params": {"k": null}}',  # not finite: null
    '[1, 2]', '{"steps": "many", "rel_l2": [0.1], "params": {"k": "big"}, "wall_s": {}}', '{broken'])
def test_plot_draws_past_damaged_or_edited_records(runs, tmp_path, result):
    """A diverged run's result.json (null errors and params), one edited by hand or cut short, and metrics lines
    that are not training's records are drawn around, never an internal error."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(runs["heat"], folder)
    (folder / "result.json").write_text(result)
    with open(folder / "metrics.jsonl", "a") as handle:
        handle.write('[1]\n"text"\n{"step": "a"}\n{"step": 30, "terms": [1]}\n{"step": 31, "rel_l2": 0.5}\n{"step": 3')
    _assert_png(plot(folder, tmp_path / "heat.png"))


def test_read_result_keeps_what_plots_can_use(tmp_path):
    from pdedsl.training.plot import formatted, read_result

    (tmp_path / "result.json").write_text('{"steps": 5, "rel_l2": {"u": null}, "params": "x", "mode": 3}')
    assert read_result(tmp_path) == {"steps": 5, "rel_l2": {"u": None}}
    (tmp_path / "result.json").write_text('"text"')
    assert read_result(tmp_path) == {}
    assert formatted(None, ".2e") == "nan" and formatted(0.5, ".2e") == "5.00e-01"


# ---- the accuracy benchmark ----
def _benchmark():
    from benchmark_script import load

    return load("accuracy")


def test_accuracy_benchmark_picks_a_validatable_neumann_robin_spec():
    benchmark = _benchmark()
    name, _ = benchmark.neumann_robin_spec()
    path = benchmark.ROOT / "specs" / f"{name}.pde"
    assert benchmark.validatable(path) and "dn(" in path.read_text()
    assert not benchmark.validatable(benchmark.ROOT / "specs" / "robin_cooling.pde")  # its conductivity is data


def test_accuracy_benchmark_smoke_run(tmp_path, capsys):
    import json

    benchmark = _benchmark()
    status = benchmark.main(["--quick", "--only", "poisson", "--steps", "5", "--lbfgs-steps", "0",
                             "--runs", str(tmp_path), "--threads", "1"])
    out = capsys.readouterr().out
    assert status == 0 and "poisson.pde" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["benchmark"] == "accuracy" and summary["config"]["steps"] == 5
    assert summary["config"]["threads"] == 1  # shared machines: --threads as in pdedsl train
    assert set(summary["results"][0]["rel_l2"]) == {"u"}


def test_a_posterior_plot_blanks_the_grid_nodes_outside_the_domain(tmp_path):
    """A disk's sensor grid covers its bounding box; the corners are not part of the problem."""
    from pdedsl.training.posterior_views import _blank, _outside_mask, _spec_problem

    (tmp_path / "spec.pde").write_text("problem d\ndomain D = disk(center: (0, 0), radius: 1)\nfield u\n"
                                       "equation in D:\n    -laplace(u) = 1\nboundary on boundary(D):\n    u = 0\n")
    nodes = [np.linspace(-1, 1, 5)] * 2
    outside = _outside_mask(_spec_problem(tmp_path), ["x", "y"], nodes)
    assert outside[0, 0] and outside[4, 4] and not outside[2, 2] and not outside[2, 4]  # (1, 0) is on the rim
    blanked = _blank(np.ones((5, 5)), outside)
    assert np.isnan(blanked[0, 0]) and blanked[2, 2] == 1
    (tmp_path / "spec.pde").write_text("problem r\ndomain R = interval(x: [0, 1])\ntime t: [0, 1]\nfield u\n"
                                       "equation in R:\n    dt(u) = d(u, x, x)\n")
    assert _outside_mask(_spec_problem(tmp_path), ["x", "t"], [np.linspace(0, 1, 3), np.linspace(0, 1, 4)]) is None
    assert _spec_problem(tmp_path / "nowhere") is None


ZERO_TRUTH = """problem zero_truth
domain O = interval(x: [0, 1])
field u, v
equation in O:
    -d(u, x, 2) = pi^2 * sin(pi*x)
    -d(v, x, 2) = 0
boundary on boundary(O):
    u = 0
    v = 0
exact u = sin(pi*x)
exact v = 0
"""


def test_a_zero_truth_gets_an_rms_error_instead_of_an_infinite_relative_one(tmp_path, capsys):
    from pdedsl.cli import _print_result
    from pdedsl.training.plot import _error_labels, _rows, _view

    folder = _train(tmp_path, "zero", ZERO_TRUTH)
    result = json.loads((folder / "result.json").read_text())
    assert result["rel_l2"]["v"] is None and 0 < result["rel_l2"]["u"] < float("inf")
    assert 0 < result["rms_error"]["v"] < 1 and 0 < result["rms_error"]["u"] < 1
    _print_result(result, folder)
    printed = capsys.readouterr().out
    assert "v: RMS error" in printed and "exact solution is zero" in printed and "inf" not in printed
    run = Run.open(folder)
    labels = _error_labels(run, _rows(run, _view(run.problem)))
    assert labels["u"].startswith("rel. L2 ") and labels["v"].startswith("RMS error ")
    assert plot(folder, tmp_path / "zero.png").is_file()


PLATE_IN_TIME = """problem plate_in_time
domain P = box(x: [0, 1], y: [0, 1])
time t: [0, 1]
field u
equation in P:
    dt(u) = 0.1 * laplace(u)
boundary on boundary(P):
    u = 0
initial:
    u = sin(pi*x) * sin(pi*y)
exact u = exp(-0.2*pi^2*t) * sin(pi*x) * sin(pi*y)
"""


def test_plot_holds_time_where_at_says(tmp_path, capsys):
    from pdedsl.cli import main
    from pdedsl.training.plot import PlotError, _held_at, _view

    folder = _train(tmp_path, "plate_t", PLATE_IN_TIME)
    run = Run.open(folder)
    view = _view(run.problem)
    assert view.fixed == {"t": 1.0}  # the final time by default
    assert _held_at(view, {"t": 0.25}).fixed == {"t": 0.25}
    for at, message in (({"x": 0.5}, "x is shown along a panel's axis; the panels show x, y and hold t"),
                        ({"s": 0.5}, "s is no coordinate"), ({"t": 2.0}, r"outside t's range \[0, 1\]")):
        with pytest.raises(PlotError, match=message):
            _held_at(view, at)
    assert main(["plot", str(folder), "--at", "t=0.25", "-o", str(tmp_path / "early.png")]) == 0
    assert (tmp_path / "early.png").is_file()
    assert main(["plot", str(folder), "--at", "t=soon"]) == 2
    assert main(["plot", str(folder), "--at", "t=3"]) == 2  # an option that does not fit the run: usage (exit 2)
    assert "outside t's range" in capsys.readouterr().err
    for value in ("nan", "inf", "-Infinity"):
        assert main(["plot", str(folder), "--at", f"t={value}"]) == 2
        assert f"--at t={value}: the value must be a finite number" in capsys.readouterr().err
    assert main(["plot", str(folder), "-o", str(tmp_path / "picture.jpg")]) == 2
    assert "a plot is written as .png, .pdf, .svg" in capsys.readouterr().err


def test_the_headline_names_the_params_an_instance_drew(tmp_path):
    from rod_spec import LOADED_ROD

    from pdedsl.training.plot import _headline

    spec = tmp_path / "loaded.pde"
    spec.write_text(LOADED_ROD)
    train(spec, TrainConfig(**{**TINY, "instance": 3}), tmp_path / "run", progress=False)
    run = Run.open(tmp_path / "run")
    drawn = run.objective.instance.params["k"]
    assert 1 <= drawn <= 2
    assert _headline(run.problem, {}, run.objective.instance).endswith(f"k = {drawn:.4g} (drawn, --instance 3)")
    assert plot(tmp_path / "run").is_file()


def test_predict_warns_about_a_coordinate_the_problem_lacks(runs, tmp_path, capsys):
    """Points at (x, y, t) for a steady 2-D run are answered at (x, y): the ignored t is said."""
    np.savez(tmp_path / "xyt.npz", x=np.zeros(3), y=np.zeros(3) + 0.5, t=np.ones(3))
    predict(runs["plate"], tmp_path / "xyt.npz", tmp_path / "out.npz")
    assert "'t' named like a coordinate, but problem 'holed_plate' has coordinates 'x', 'y'" in capsys.readouterr().err
    np.savez(tmp_path / "xy.npz", x=np.zeros(3), y=np.zeros(3) + 0.5)
    predict(runs["plate"], tmp_path / "xy.npz", tmp_path / "out.npz")
    assert "named like a coordinate" not in capsys.readouterr().err
