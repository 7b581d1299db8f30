"""Training: a short run learns, a killed run resumes to the same numbers, bad losses never reach the model."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import pdedsl
from pdedsl.cli import main
from pdedsl.training import RunError, TrainConfig, resume, train
from pdedsl.training import run as run_module
from rod_spec import ROD

POISSON_1D = ROD

TINY = dict(steps=40, lbfgs_steps=20, optimizer="lbfgs", interior_points=64, boundary_points=8, resample_every=10,
            checkpoint_every=10, log_every=5, precision="float64", backend_options={"width": 16, "depth": 2},
            hard_dirichlet=False)


def write(tmp_path, text=POISSON_1D):
    path = tmp_path / "rod.pde"
    path.write_text(text)
    return path


def test_training_reduces_the_error_and_writes_the_run_folder(tmp_path):
    spec = write(tmp_path)
    short = train(spec, TrainConfig(**{**TINY, "steps": 1, "lbfgs_steps": 0}), tmp_path / "short", progress=False)
    longer = train(spec, TrainConfig(**{**TINY, "steps": 300, "lbfgs_steps": 100}), tmp_path / "run", progress=False)
    assert longer["rel_l2"]["u"] < 0.1 * short["rel_l2"]["u"]
    for name in ("solver.py", "spec.pde", "config.json", "checkpoint.pt", "metrics.jsonl", "result.json"):
        assert (tmp_path / "run" / name).is_file(), name
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 400 and {"equation_1", "boundary_1"} <= set(records[-1]["terms"])
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 400


@pytest.mark.parametrize("sampling, form", [("uniform", "strong"), ("rad", "strong"), ("rad", "weak")])
def test_a_killed_run_resumes_to_the_same_numbers(tmp_path, monkeypatch, sampling, form,
                                                  train_killed_at):
    """Checkpoints every 15 steps, points redrawn every 10: the resumed run starts mid-draw, so with
    adaptive sampling (points chosen by the model of step 10) the checkpoint must carry the points
    (and the weak form's particles)."""
    spec = write(tmp_path)
    settings = {**TINY, "checkpoint_every": 15, "sampling": sampling, "form": form, "weak_particles": 20}
    whole = train(spec, TrainConfig(**settings), tmp_path / "whole", progress=False)

    train_killed_at(spec, TrainConfig(**settings), tmp_path / "killed", 27)  # the last checkpoint is step 15
    assert torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)["step"] == 15
    from pdedsl.training.objective import Objective

    draws, sample = [], Objective.sample
    monkeypatch.setattr(Objective, "sample", lambda self, draw, adaptive=False, step=0: (
        draws.append(draw), sample(self, draw, adaptive, step))[1])
    resumed = resume(tmp_path / "killed", progress=False)
    # uniform points are redrawn from (seed, draw 1); adaptive ones come back from the checkpoint
    assert draws[0] == (1 if sampling == "uniform" else 2)
    assert resumed["steps"] == whole["steps"]
    assert resumed["rel_l2"]["u"] == pytest.approx(whole["rel_l2"]["u"], rel=1e-9, abs=1e-12)
    a = torch.load(tmp_path / "whole" / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.allclose(a[k], b[k], rtol=1e-9, atol=1e-12) for k in a)


def _undefined_start_allowed(monkeypatch):
    """Let a run start on residuals that are NaN from the first step (refused otherwise, see below), to test
    how steps with a non-finite loss are skipped."""
    from pdedsl.training.objective import Objective

    monkeypatch.setattr(Objective, "undefined_terms", lambda self, batches: [])


def test_a_residual_undefined_from_the_start_is_refused_at_its_statement(tmp_path, capsys):
    spec = write(tmp_path, POISSON_1D.replace("pi^2 * sin(pi*x)", "log(x - 2)"))
    with pytest.raises(RunError, match=r"equation 'equation_1' is NaN or infinite at 16 of its 16 points before "
                                       r"any training \(the first at x = "):
        train(spec, TrainConfig(**{**TINY, "interior_points": 16}), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
    assert main(["train", str(spec), "--steps", "5", "--points", "16", "-q", "--out", str(tmp_path / "cli")]) == 1
    err = capsys.readouterr().err
    assert "-d(u, x, 2) = log(x - 2)\n        ^^^^" in err and "Traceback" not in err
    assert not (tmp_path / "cli").exists()  # it made the folder, and nothing was trained into it


def test_non_finite_loss_never_reaches_the_model(tmp_path, monkeypatch):
    _undefined_start_allowed(monkeypatch)
    spec = write(tmp_path, POISSON_1D.replace("-d(u, x, 2) = pi^2 * sin(pi*x)", "sqrt(-1 - u^2) = 0"))
    result = train(spec, TrainConfig(**{**TINY, "steps": 5, "lbfgs_steps": 0}), tmp_path / "nan", progress=False)
    assert result["skipped_steps"] == 5
    state = torch.load(tmp_path / "nan" / "checkpoint.pt", weights_only=True)
    assert all(torch.isfinite(t).all() for t in state["model"].values())
    assert state["learning_rate"] == pytest.approx(TINY.get("learning_rate", 1e-3) / 2 ** 5)
    # a resumed run keeps the lowered learning rate and lowers it further from there
    resume(tmp_path / "nan", progress=False, steps=7)
    state = torch.load(tmp_path / "nan" / "checkpoint.pt", weights_only=True)
    assert state["learning_rate"] == pytest.approx(1e-3 / 2 ** 7)


def test_inferred_param_is_trained_and_reported(tmp_path):
    x = np.linspace(0, 1, 41)
    np.savez(tmp_path / "obs.npz", x=x, u=np.sin(np.pi * x))
    spec = write(tmp_path, POISSON_1D.replace("pi^2 * sin", "k * sin") + 'param k = 1\nobserve u from "obs.npz" noise 0.01\ninfer k\n')
    result = train(spec, TrainConfig(**{**TINY, "steps": 400, "lbfgs_steps": 100}), tmp_path / "inv", progress=False)
    assert result["params"]["k"] == pytest.approx(np.pi**2, rel=0.05)


def test_python_api_and_cli(tmp_path, capsys):
    solver = pdedsl.load(POISSON_1D).solver(width=16, depth=2)
    result = solver.fit(out=tmp_path / "api", steps=200, lbfgs_steps=50, interior_points=64, boundary_points=8,
                        precision="float64")
    values = solver.predict({"x": np.array([0.25, 0.5])})["u"]
    assert values.shape == (2,) and result["rel_l2"]["u"] < 0.05
    spec = write(tmp_path)
    assert main(["train", str(spec), "--steps", "20", "--lbfgs-steps", "0", "--points", "32", "--width", "8",
                 "--out", str(tmp_path / "cli"), "--json", "-q"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert set(json.loads(last)) >= {"rel_l2", "steps", "wall_s", "params"}
    assert main(["train", "--resume", str(tmp_path / "nowhere")]) == 2
    # a resumed run keeps its settings: options given with --resume (other than --steps) are named as ignored
    assert main(["train", "--resume", str(tmp_path / "cli"), "--steps", "22", "--lr", "0.5", "--width", "8",
                 "-q"]) == 0
    err = capsys.readouterr().err
    assert "warning: --resume continues" in err and "ignoring --width, --lr" in err
    assert main(["train", "--resume", str(tmp_path / "cli"), "--steps", "24", "-q"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "cli"), "--steps", "24", "--form=strong", "-q"]) == 0
    assert "ignoring --form" in capsys.readouterr().err  # given at its default value, still ignored: said so
    # threads are the machine's, not the run's: honoured on resume, silently, and kept for the resumes after it
    import torch

    assert main(["train", "--resume", str(tmp_path / "cli"), "--steps", "26", "--threads", "3", "-q"]) == 0
    assert "warning" not in capsys.readouterr().err and torch.get_num_threads() == 3
    assert main(["train", "--resume", str(tmp_path / "cli"), "--steps", "28", "-q"]) == 0
    assert torch.get_num_threads() == 3 and json.loads((tmp_path / "cli" / "config.json").read_text())["threads"] == 3


def test_backend_refuses_random_inputs_with_a_clear_error(tmp_path, capsys):
    spec = tmp_path / "d.pde"
    spec.write_text("domain O = interval(x: [0, 1])\nfield u\ninput a ~ gaussian_field(length: 0.2)\n"
                    "equation in O:\n    -d(a*d(u, x), x) = 1\nboundary on boundary(O):\n    u = 0\n")
    assert main(["train", str(spec), "--out", str(tmp_path / "r"), "-q"]) == 1
    assert f"{spec}:3:1: the pinn backend needs every input known, but input 'a' is random" in capsys.readouterr().err


def test_training_an_inverse_spec_for_a_field_points_to_the_generative_model(tmp_path, capsys):
    """'infer a' for a random input field: a draw (--instance) would throw the unknown away; the way is a DGNO
    model of the family, then 'pdedsl infer SPEC --model RUN', as infer itself says. Located at 'infer a'."""
    spec = tmp_path / "d.pde"
    spec.write_text("domain O = interval(x: [0, 1])\nfield u\ninput a ~ gaussian_field(length: 0.2)\n"
                    "equation in O:\n    -d(a*d(u, x), x) = 1\nboundary on boundary(O):\n    u = 0\ninfer a\n")
    assert main(["train", str(spec), "--out", str(tmp_path / "r"), "-q"]) == 1
    err = capsys.readouterr().err
    assert (f"{spec}:8:7: 'infer a' asks for the posterior of a field, which needs a generative model of the "
            f"family: train one (pdedsl train {spec} --backend dgno --out RUN), then pdedsl infer {spec} --model RUN"
            in err), err
    assert "--instance" not in err


def test_cli_predict_and_plot_on_a_run(tmp_path, capsys):
    spec = write(tmp_path)
    run = tmp_path / "run"
    assert main(["train", str(spec), "--steps", "20", "--lbfgs-steps", "0", "--points", "32", "--width", "8",
                 "--out", str(run), "-q"]) == 0
    x = np.linspace(0, 1, 9)
    np.savez(tmp_path / "pts.npz", x=x)
    assert main(["predict", str(run), "--points", str(tmp_path / "pts.npz"), "-o", str(tmp_path / "out.npz")]) == 0
    with np.load(tmp_path / "out.npz") as out:
        assert out["u"].shape == (9,) and np.allclose(out["x"], x)
    assert main(["plot", str(run), "-o", str(tmp_path / "fig.png")]) == 0
    assert (tmp_path / "fig.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", str(tmp_path / "not-a-run")]) == 2  # a folder that is not there: a usage error
    (tmp_path / "not-a-run").mkdir()
    assert main(["plot", str(tmp_path / "not-a-run")]) == 1  # a folder that holds no run


def test_data_inputs_are_interpolated_with_slopes(tmp_path):
    from pdedsl.runtime.interpolation import interpolant

    x, y = np.linspace(0, 1, 11), np.linspace(0, 2, 21)
    np.savez(tmp_path / "k.npz", x=x, y=y, k=1 + x[:, None] + 3 * y[None, :])
    k = interpolant(str(tmp_path / "k.npz"), "k", ("x", "y"))
    px = torch.tensor([0.33, 0.5, 1.0], dtype=torch.float64, requires_grad=True)
    py = torch.tensor([0.25, 1.9, 0.0], dtype=torch.float64, requires_grad=True)
    value = k({"x": px, "y": py})
    assert torch.allclose(value, 1 + px + 3 * py)  # exact for a multilinear field
    (slope,) = torch.autograd.grad(value.sum(), py)
    assert torch.allclose(slope, torch.full_like(slope, 3.0))


def test_spec_with_a_data_input_trains(tmp_path):
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "specs" / "robin_cooling.pde"
    result = train(spec, TrainConfig(**{**TINY, "steps": 30, "lbfgs_steps": 0}), tmp_path / "r", progress=False)
    assert result["steps"] == 30 and result["skipped_steps"] == 0


def test_adaptive_sampling_gathers_points_where_the_residual_is_large(tmp_path, monkeypatch):
    from pdedsl.training.objective import Objective
    from pdedsl.training.run import Run

    run = Run(write(tmp_path), TrainConfig(**{**TINY, "interior_points": 400}), tmp_path / "run")
    # a stand-in residual that grows along x: RAD keeps points with probability ~ 2x + 1
    monkeypatch.setattr(Objective, "_group_residuals",
                        lambda self, entries, batch: {"r": batch.columns()["x"].to(torch.float64)})
    uniform = run.objective.sample(3)["groups"]
    adaptive = run.objective.sample(3, adaptive=True)["groups"]
    key = next(k for k in uniform if k[0] == "equation")
    assert len(adaptive[key]) == len(uniform[key]) == 400
    assert abs(float(uniform[key].points.mean()) - 0.5) < 0.05
    assert abs(float(adaptive[key].points.mean()) - 7 / 12) < 0.04  # the mean of x under density (2x+1)/2


def test_compile_policy():
    from pdedsl.training.compiling import worth_compiling

    assert not worth_compiling(TrainConfig())  # the defaults: 3000 steps x 1000 points
    assert worth_compiling(TrainConfig(steps=1000, lbfgs_steps=4000, interior_points=4000))
    assert worth_compiling(TrainConfig(compile="on", steps=1))
    assert not worth_compiling(TrainConfig(compile="off", steps=10**6))
    assert TrainConfig.from_dict({"compile": True}).compile == "on"  # config.json from before "auto"


def test_compiled_training_matches_eager_training(tmp_path):
    """torch.compile fuses the residuals without changing what is learned (float64, tiny network)."""
    from pdedsl.training.run import Run, Trainer

    spec = write(tmp_path)
    results = {}
    for mode in ("off", "on"):
        run = Run(spec, TrainConfig(**{**TINY, "steps": 30, "lbfgs_steps": 0, "compile": mode}), tmp_path / mode)
        run.prepare_folder(resume=False)
        results[mode] = Trainer(run, progress=False).fit(resume=False)
        if mode == "on":
            assert run.objective._residuals_of.failed is False, "torch.compile fell back to eager"
    assert results["on"]["rel_l2"]["u"] == pytest.approx(results["off"]["rel_l2"]["u"], rel=1e-6)


def test_levenberg_marquardt_under_compile_builds_its_jacobian_eagerly(tmp_path):
    """The compiled residuals serve the losses; the Levenberg-Marquardt rows, differentiated under vmap, are
    computed eagerly (through the compiled function they recompiled per size and then failed)."""
    from pdedsl.training.run import Run, Trainer

    spec = write(tmp_path)
    results = {}
    for mode in ("off", "on"):
        config = TrainConfig(**{**TINY, "optimizer": "lm", "steps": 3, "lbfgs_steps": 3, "compile": mode})
        run = Run(spec, config, tmp_path / mode)
        run.prepare_folder(resume=False)
        results[mode] = Trainer(run, progress=False).fit(resume=False)
        if mode == "on":
            assert run.objective._residuals_of.failed is False, "torch.compile fell back to eager"
    assert results["on"]["rel_l2"]["u"] == pytest.approx(results["off"]["rel_l2"]["u"], rel=1e-6)


def test_hard_conditions_in_time_compile_cleanly(tmp_path):
    """A hard boundary value g(x, t) and a hard initial value compile without graph-break warnings (their
    known part is staged once into tensor code; SymPy no longer runs inside the step) and learn as eagerly."""
    import warnings

    from pdedsl.training.run import Run, Trainer

    spec = write(tmp_path, "problem warm\ndomain O = interval(x: [0, 1])\ntime t: [0, 1]\nfield u\n"
                 "equation in O:\n    dt(u) = d(u, x, 2)\nboundary on boundary(O):\n    u = x*t\n"
                 "initial:\n    u = sin(pi*x)\nexact u = x*t + exp(-pi^2*t)*sin(pi*x)\n")
    results = {}
    for mode in ("off", "on"):
        config = TrainConfig(**{**TINY, "steps": 5, "lbfgs_steps": 0, "compile": mode, "hard_dirichlet": True})
        run = Run(spec, config, tmp_path / mode)
        assert run.model.enforced == {"boundary_1", "initial_1"}
        run.prepare_folder(resume=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[mode] = Trainer(run, progress=False).fit(resume=False)
        assert not [w for w in caught if "dynamo" in str(w.filename).lower()], [str(w.message) for w in caught]
        if mode == "on":
            assert run.objective._residuals_of.failed is False, "torch.compile fell back to eager"
    assert results["on"]["rel_l2"]["u"] == pytest.approx(results["off"]["rel_l2"]["u"], rel=1e-6)


def test_weak_form_training_learns_the_rod(tmp_path):
    """--form weak: the equation is tested on particles (first derivatives only) and the error falls."""
    spec = write(tmp_path)
    settings = {**TINY, "form": "weak", "weak_particles": 40, "hard_dirichlet": True}
    short = train(spec, TrainConfig(**{**settings, "steps": 1, "lbfgs_steps": 0}), tmp_path / "short", progress=False)
    longer = train(spec, TrainConfig(**{**settings, "steps": 200, "lbfgs_steps": 100}), tmp_path / "weak",
                   progress=False)
    assert longer["rel_l2"]["u"] < 0.05 < 0.5 < short["rel_l2"]["u"]
    metrics = (tmp_path / "weak" / "metrics.jsonl").read_text().splitlines()
    assert "equation_1" in json.loads(metrics[-1])["terms"]  # the weak residual of the equation is the loss term


def test_solver_fit_trains_the_problem_it_was_given(tmp_path, monkeypatch):
    """fit trains the Problem object: a spec given as text keeps its relative data paths (taken from the working
    folder), a file edited after loading is not re-read, and a Problem changed in Python is what is trained."""
    import dataclasses

    monkeypatch.chdir(tmp_path)
    x = np.linspace(0, 1, 11)
    np.savez(tmp_path / "k.npz", x=x, k=1 + x)
    text = ('problem p\ndomain O = interval(x: [0, 1])\nfield u\ninput k from "k.npz"\nequation in O:\n'
            "    -d(k*d(u, x), x) = 1\nboundary on boundary(O):\n    u = 0\n")
    tiny = dict(steps=2, lbfgs_steps=0, interior_points=16, boundary_points=4)
    assert pdedsl.load(text).solver(width=8, depth=2).fit(out=tmp_path / "text", **tiny)["steps"] == 2
    assert f'input k from "{tmp_path / "k.npz"}"' in (tmp_path / "text" / "spec.pde").read_text()

    spec = write(tmp_path)
    problem = pdedsl.load(spec)
    spec.write_text(spec.read_text().replace("problem rod", "problem edited"))
    assert problem.solver(width=8, depth=2).fit(out=tmp_path / "edited", **tiny)["problem"] == "rod"
    variant = dataclasses.replace(problem, name="variant", exact=())
    result = variant.solver(width=8, depth=2).fit(out=tmp_path / "variant", **tiny)
    assert result["problem"] == "variant" and result["rel_l2"] == {}


def test_solver_fit_names_unknown_settings(tmp_path):
    solver = pdedsl.load(write(tmp_path)).solver()
    with pytest.raises(TypeError, match="unknown training setting.*stepz.*known: .*steps"):
        solver.fit(stepz=3)


@pytest.mark.parametrize("setting, error, message", [
    ({"steps": "10"}, TypeError, "the setting steps takes a whole number, not '10'"),
    ({"steps": 2.5}, TypeError, "the setting steps takes a whole number, not 2.5"),
    ({"steps": True}, TypeError, "the setting steps takes a whole number, not True"),
    ({"learning_rate": "0.1"}, TypeError, "the setting learning_rate takes a number, not '0.1'"),
    ({"seed": None}, TypeError, "the setting seed takes a whole number, not None"),
    ({"weights": [1, 2]}, TypeError, "the setting weights takes a dict"),
    ({"sampling": "bogus"}, ValueError, "unknown sampling 'bogus'"),
    ({"compile": "maybe"}, ValueError, "unknown compile 'maybe'"),
    ({"resample_every": 0}, ValueError, "resample_every must be at least 1"),
    ({"threads": -1}, ValueError, "threads must be at least 0"),
    ({"device": "gpu"}, ValueError, "unknown device 'gpu'"),
    ({"init": "missing_run"}, run_module.RunError, "init missing_run: no such run folder"),
    ({"data": "missing.npz"}, ValueError, "data sets how operator backends learn a family of problems")])
def test_solver_fit_names_a_setting_of_the_wrong_kind(tmp_path, setting, error, message):
    solver = pdedsl.load(write(tmp_path)).solver()
    with pytest.raises(error, match=re.escape(message)):
        solver.fit(out=tmp_path / "run", **setting)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_compiled_runs_take_the_forward_engine(tmp_path):
    from pdedsl.training.run import Run

    burgers = Path(__file__).resolve().parents[2] / "specs" / "burgers.pde"
    eager = Run(burgers, TrainConfig(compile="off", optimizer="lbfgs"), tmp_path / "eager")
    compiled = Run(burgers, TrainConfig(compile="on", optimizer="lbfgs"), tmp_path / "compiled")
    assert "autograd" in eager.objective.engines.values()  # auto: Burgers' equation costs the same either way
    assert set(compiled.objective.engines.values()) == {"forward"}


@pytest.mark.parametrize("form", ["strong", "weak"])
def test_adam_steps_never_read_a_tensor_on_the_host(tmp_path, monkeypatch, form):
    """No .item(), float(), bool() or .tolist() of a tensor inside an Adam step: on a GPU each would wait
    for the device. (Logs and checkpoints read the loss every log_every steps; that is outside the step.)"""
    import pdedsl.training.run as run_module

    inside = {"now": False, "reads": []}

    def guarded(name):
        original = getattr(torch.Tensor, name)

        def read(self, *args, **kwargs):
            if inside["now"]:
                inside["reads"].append(name)
            return original(self, *args, **kwargs)
        return read

    for name in ("item", "__float__", "__bool__", "__int__", "tolist"):
        monkeypatch.setattr(torch.Tensor, name, guarded(name))
    step = run_module.Trainer._adam_step

    def watched(self, *args):
        inside["now"] = True
        try:
            return step(self, *args)
        finally:
            inside["now"] = False

    monkeypatch.setattr(run_module.Trainer, "_adam_step", watched)
    _undefined_start_allowed(monkeypatch)
    spec = write(tmp_path, POISSON_1D.replace("-d(u, x, 2) = pi^2 * sin(pi*x)", "sqrt(-1 - u^2) = 0"))
    result = train(spec, TrainConfig(**{**TINY, "steps": 12, "lbfgs_steps": 0, "form": form}), tmp_path / "run",
                   progress=False)
    assert inside["reads"] == []
    assert result["skipped_steps"] == 12  # sqrt of a negative number: every step skipped, decided on the device


def _weights(folder):
    return torch.load(Path(folder) / "checkpoint.pt", weights_only=True)["model"]


def test_averaging_ends_adam_on_the_moving_average_of_its_iterates(tmp_path, monkeypatch):
    """--average leaves Adam's path alone and replaces the last iterate by the moving average of all of them."""
    spec = write(tmp_path)
    settings = {**TINY, "steps": 30, "lbfgs_steps": 0}
    plain = train(spec, TrainConfig(**settings), tmp_path / "plain", progress=False)
    iterates, original = [], run_module.Trainer._after_step

    def record(self, step, *args, **kwargs):
        iterates.append({k: v.detach().clone() for k, v in self.run.model.state_dict().items()})
        original(self, step, *args, **kwargs)

    monkeypatch.setattr(run_module.Trainer, "_after_step", record)
    averaged = train(spec, TrainConfig(**settings, average=0.9), tmp_path / "averaged", progress=False)
    last, final = iterates[-1], _weights(tmp_path / "averaged")
    assert all(torch.equal(last[k], v) for k, v in _weights(tmp_path / "plain").items())  # the same path
    expected = {k: v.clone() for k, v in iterates[0].items()}  # (the random start's weight falls like step^-9)
    for step, iterate in enumerate(iterates[1:], start=2):
        decay = min(0.9, (1 + step) / (10 + step))
        expected = {k: decay * expected[k] + (1 - decay) * iterate[k] for k in expected}
    assert TrainConfig(**settings).average == 0.0  # off by default
    for key in final:
        assert torch.allclose(final[key], expected[key], rtol=1e-6, atol=1e-9), key
    assert any(not torch.allclose(final[k], last[k]) for k in final)
    assert averaged["rel_l2"]["u"] != plain["rel_l2"]["u"]
    assert averaged["rel_l2_last_iterate"]["u"] == pytest.approx(plain["rel_l2"]["u"], rel=1e-12)
    assert "rel_l2_last_iterate" not in plain


@pytest.mark.parametrize("killed_at", [27, 40])
def test_an_averaged_run_killed_in_or_at_the_end_of_adam_resumes_to_the_same_numbers(tmp_path, killed_at,
                                                                                     train_killed_at):
    """The checkpoint carries the average while Adam runs; killed just after Adam's last step (checkpoint 40,
    average not yet applied) the resumed run applies it before L-BFGS, once."""
    spec = write(tmp_path)
    settings = {**TINY, "average": 0.95}
    whole = train(spec, TrainConfig(**settings), tmp_path / "whole", progress=False)
    train_killed_at(spec, TrainConfig(**settings), tmp_path / "killed", killed_at)
    saved = torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)
    assert saved["averaged"] is not None
    resumed = resume(tmp_path / "killed", progress=False)
    assert resumed["rel_l2"]["u"] == pytest.approx(whole["rel_l2"]["u"], rel=1e-9, abs=1e-12)
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "killed")
    assert all(torch.allclose(a[k], b[k], rtol=1e-9, atol=1e-12) for k in a)
    assert torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)["averaged"] is None


def test_a_moving_average_needs_a_decay_below_one(tmp_path, capsys):
    with pytest.raises(ValueError, match="average"):
        TrainConfig(average=1.0)
    assert main(["train", str(write(tmp_path)), "--average", "1.5", "--out", str(tmp_path / "run")]) == 2
    assert "average" in capsys.readouterr().err


def test_a_data_input_that_does_not_fit_the_problem_is_refused_where_it_is_named(tmp_path):
    """check only warns (the file may change); training refuses it, located at the from clause, instead of
    reading the flat array as scattered points (wrong values) or indexing past its end."""
    x = np.linspace(0, 1, 11)
    np.savez(tmp_path / "k_xt.npz", x=x, t=np.linspace(0, 1, 6), k=np.ones((11, 6)))  # over x and t
    np.savez(tmp_path / "k_short.npz", x=x, k=np.ones(7))  # 7 values for 11 nodes
    expected = {"k_xt": r"rod.pde:4:14: error: data file 'k_xt.npz' has an array 't', but the problem has no time",
                "k_short": r"rod.pde:\d+:\d+: input 'k' from 'k_short.npz': 'k' has shape \(7,\), which fits neither"}
    for name, message in expected.items():  # (a time array in a problem without time: an error of the spec itself)
        spec = write(tmp_path, POISSON_1D.replace("field u", f'field u\ninput k from "{name}.npz"')
                     .replace("-d(u, x, 2) =", "-d(k*d(u, x), x) ="))
        with pytest.raises(pdedsl.errors.PdeError, match=message):
            train(spec, TrainConfig(**{**TINY, "steps": 2, "lbfgs_steps": 0}), tmp_path / name, progress=False)


def test_a_spec_without_physics_or_data_is_refused_before_training(tmp_path):
    spec = tmp_path / "idle.pde"
    spec.write_text("domain D = interval(x: [0, 1])\nfield u\nexact u = x\n")
    problem = pdedsl.load(spec)
    assert any("nothing to train" in w.message for w in problem.warnings)
    with pytest.raises(run_module.RunError, match="idle.pde:2:7: the problem has no equation, condition or "
                                                  "observation: there is nothing to train"):  # where check warns
        train(spec, TrainConfig(**{**TINY, "steps": 2}), tmp_path / "run", progress=False)


def test_a_weight_for_no_loss_term_is_warned_about(tmp_path, capsys):
    spec = write(tmp_path)
    train(spec, TrainConfig(**{**TINY, "steps": 2, "lbfgs_steps": 0, "weights": {"equation_1": 2.0, "equaton_1": 3.0}}),
          tmp_path / "run", progress=False)
    err = capsys.readouterr().err
    assert "--weight equaton_1: no loss term of that name" in err and "equation_1," not in err.split("terms are")[0]


def test_a_weight_for_a_built_in_condition_says_it_is_built_in(tmp_path, capsys):
    """--weight boundary_1=10 on a hard Dirichlet condition matched no term, and the warning did not say why."""
    spec = write(tmp_path)
    train(spec, TrainConfig(**{**TINY, "steps": 2, "lbfgs_steps": 0, "hard_dirichlet": True,
                               "weights": {"boundary_1": 10.0}}), tmp_path / "run", progress=False)
    err = capsys.readouterr().err
    assert "--weight boundary_1: no loss term of that name (the terms are equation_1); boundary_1 is built into " \
           "the model exactly" in err and "--soft-dirichlet" in err


def test_a_folder_of_the_users_own_files_is_not_overwritten(tmp_path):
    """--out naming a folder with the user's own spec.pde and solver.py overwrote both without a word; a folder
    that pdedsl wrote (a run killed before its first checkpoint) is still retrained."""
    spec = write(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "spec.pde").write_text("problem my_own\n")
    (mine / "solver.py").write_text("# my own solver\n")
    with pytest.raises(run_module.RunError, match="holds spec.pde, solver.py, not written by pdedsl"):
        train(spec, TrainConfig(**{**TINY, "steps": 2, "lbfgs_steps": 0}), mine, progress=False)
    assert (mine / "spec.pde").read_text() == "problem my_own\n" and (mine / "solver.py").read_text() == "# my own solver\n"
    early = tmp_path / "early"
    train(spec, TrainConfig(**{**TINY, "steps": 2, "lbfgs_steps": 0}), early, progress=False)
    for name in ("checkpoint.pt", "result.json", "metrics.jsonl"):  # as a kill before the first checkpoint leaves it
        (early / name).unlink()
    train(spec, TrainConfig(**{**TINY, "steps": 2, "lbfgs_steps": 0}), early, progress=False)
    assert (early / "result.json").is_file()


def test_a_finished_run_of_another_problem_is_not_overwritten(tmp_path):
    first = write(tmp_path)
    train(first, TrainConfig(**{**TINY, "steps": 2, "lbfgs_steps": 0}), tmp_path / "run", progress=False)
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    other = tmp_path / "other.pde"
    other.write_text(POISSON_1D.replace("problem ", "problem other_", 1) if "problem " in POISSON_1D
                     else "problem other\n" + POISSON_1D)
    with pytest.raises(run_module.RunError, match="holds a finished run of problem"):
        train(other, TrainConfig(**{**TINY, "steps": 2, "lbfgs_steps": 0}), tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before
    train(first, TrainConfig(**{**TINY, "steps": 3, "lbfgs_steps": 0}), tmp_path / "run", progress=False)  # retrain


def test_init_starts_from_another_runs_weights_with_a_fresh_schedule(tmp_path, capsys):
    spec = write(tmp_path)
    trained = train(spec, TrainConfig(**{**TINY, "steps": 100, "lbfgs_steps": 100}), tmp_path / "a", progress=False)
    cold = train(spec, TrainConfig(**{**TINY, "steps": 0, "lbfgs_steps": 0}), tmp_path / "cold", progress=False)
    warm = train(spec, TrainConfig(**{**TINY, "steps": 0, "lbfgs_steps": 0}, init=str(tmp_path / "a")),
                 tmp_path / "warm", progress=False)
    assert warm["rel_l2"]["u"] == pytest.approx(trained["rel_l2"]["u"], rel=1e-12)
    assert cold["rel_l2"]["u"] > 10 * trained["rel_l2"]["u"]
    tuned = train(spec, TrainConfig(**{**TINY, "steps": 20, "lbfgs_steps": 0, "learning_rate": 1e-4},
                                    init=str(tmp_path / "a")), tmp_path / "tuned", progress=False)
    assert tuned["steps"] == 20 and tuned["rel_l2"]["u"] < 0.01 * cold["rel_l2"]["u"]  # it went on from there
    # a network of another size, or a folder without a checkpoint, is refused with the reason
    with pytest.raises(run_module.RunError, match="does not fit this run's"):
        train(spec, TrainConfig(**{**TINY, "steps": 1, "backend_options": {"width": 8, "depth": 2}},
                                init=str(tmp_path / "a")), tmp_path / "other", progress=False)
    (tmp_path / "empty").mkdir()
    assert main(["train", str(spec), "--init", str(tmp_path / "empty"), "-q", "--out", str(tmp_path / "e")]) == 1
    assert "no checkpoint there" in capsys.readouterr().err
    assert main(["train", str(spec), "--init", str(tmp_path / "nowhere"), "-q", "--out", str(tmp_path / "e")]) == 2
    assert "no such run folder" in capsys.readouterr().err


def test_a_vector_relations_weight_applies_to_its_components(tmp_path):
    from pdedsl.training.config import TermWeights
    from pdedsl.training.run import Run

    weights = TermWeights({"momentum": 3.0, "momentum[1]": 5.0})
    assert weights.get("momentum[0]", 1.0) == 3.0 and weights.get("momentum[1]", 1.0) == 5.0
    assert weights.get("other[0]", 1.0) == 1.0
    assert weights.names_matched(["momentum[0]", "boundary_1"]) == {"momentum"}
    spec = tmp_path / "vector.pde"
    spec.write_text("domain Omega = box(x: [0, 1], y: [0, 1])\nfield ux, uy\nequation momentum in Omega:\n"
                    "    -laplace((ux, uy)) = (1, 2)\nboundary on boundary(Omega):\n    (ux, uy) = (0, 0)\n")
    plain, weighted = (Run(spec, TrainConfig(weights=w, backend_options={"width": 8, "depth": 2},
                                             hard_dirichlet=False), tmp_path / "r")  # (the boundary stays a term)
                       for w in ({}, {"momentum": 3.0}))
    weighted.model.load_state_dict(plain.model.state_dict())
    batch = plain.objective.sample(0)
    before, after = ({k: v.detach() for k, v in run.objective.losses(batch).items()} for run in (plain, weighted))
    for name in ("momentum[0]", "momentum[1]"):
        assert float(after[name]) == pytest.approx(3 * float(before[name]))
    assert float(after["boundary_1[0]"]) == pytest.approx(float(before["boundary_1[0]"]))


def test_a_short_run_logs_enough_points_for_a_loss_curve(tmp_path):
    """Logged every 50 steps, a 30-step run left one record, and plot's loss panel a single point: by default
    a run logs at least 20 records (every step under 40 steps), and 50 steps apart from 1000 steps on."""
    assert [TrainConfig(steps=n, lbfgs_steps=0).log_interval for n in (1, 30, 39, 100, 999, 1000, 5000)] == \
        [1, 1, 1, 5, 49, 50, 50]
    assert TrainConfig(steps=30, lbfgs_steps=0, log_every=7).log_interval == 7  # as given
    settings = {k: v for k, v in TINY.items() if k != "log_every"}
    train(write(tmp_path), TrainConfig(**{**settings, "steps": 25, "lbfgs_steps": 5}), tmp_path / "run",
          progress=False)
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 31))
