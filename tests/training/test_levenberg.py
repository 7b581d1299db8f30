"""Levenberg-Marquardt: exact residual Jacobians through the jets, steps that lower the loss, resume, errors."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pdedsl.cli import main
from pdedsl.training import TrainConfig, resume, train
from pdedsl.training.jacobian import OutputCapture
from pdedsl.training.levenberg import LevenbergMarquardt
from pdedsl.training.run import Run, Trainer
from rod_spec import ROD

SPECS = Path(__file__).resolve().parents[2] / "specs"
SMALL = dict(steps=0, lbfgs_steps=0, interior_points=24, boundary_points=12, weak_particles=8,
             precision="float64", backend_options={"width": 6, "depth": 2})


def runs(spec, tmp_path, **settings):
    """The same untrained model twice: residuals by the forward (jet) engine and by autograd."""
    made = []
    for engine, optimizer in (("forward", "lm"), ("autograd", "lbfgs")):  # (lm refuses autograd derivatives)
        config = TrainConfig(**{**SMALL, **settings, "derivatives": engine, "optimizer": optimizer,
                                "sampling": "rad"})  # (one sampling rule for both)
        made.append(Run(spec, config, tmp_path / engine))
    return made


@pytest.mark.parametrize("spec, settings", [
    ("burgers", {}),                        # 1-D + time, boundary and initial values built in
    ("robin_cooling", {}),                  # interpolated data input, Neumann and Robin rows with normals
    ("allen_cahn", {}),                     # periodic pairs
    ("heat_inverse", {}),                   # observation rows
    ("poisson", {"form": "weak"}),          # test balls: many quadrature points per row
    ("poisson", {"form": "mixed"}),         # flux outputs and mismatch rows
    ("plate_bending", {"form": "weak"}),    # terms against the test function's second derivatives
    ("kdv", {"form": "weak"}),              # the same with time, a third-order term moved twice
    ("poisson", {"hard_dirichlet": False}),  # boundary rows
])
def test_jacobian_rows_match_autograd_row_by_row(tmp_path, spec, settings):
    forward, reference = runs(SPECS / f"{spec}.pde", tmp_path, **settings)
    batches = forward.objective.sample(0)
    network = forward.model.model if hasattr(forward.model, "model") else forward.model
    capture = OutputCapture(network)
    with capture.active():
        rows = forward.objective.residual_rows(batches)
        jacobians = {name: capture.jacobian(values) for name, values in rows.items()}
    other = reference.objective.residual_rows(batches)  # the same points, derivatives by autograd
    parameters = list(reference.model.parameters())
    losses = reference.objective.losses(batches)
    assert float(sum(v.detach().square().sum() for v in other.values())) == pytest.approx(float(sum(v.detach() for v in losses.values())),
                                                                                  rel=1e-10)
    assert len(rows) >= 1 and set(rows) == set(other)
    for name, values in other.items():
        assert rows[name].detach().numpy() == pytest.approx(values.detach().numpy(), rel=1e-8, abs=1e-10)
        for row in sorted({0, values.numel() // 2, values.numel() - 1}):
            grads = torch.autograd.grad(values[row], parameters, retain_graph=True, allow_unused=True)
            expected = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                                  for g, p in zip(grads, parameters)])
            assert jacobians[name][row].numpy() == pytest.approx(expected.numpy(), rel=1e-7, abs=1e-9), (name, row)


@pytest.mark.parametrize("spec, settings", [("burgers", {}), ("robin_cooling", {}), ("poisson", {"form": "weak"}),
                                            ("poisson", {"form": "mixed"}), ("allen_cahn", {}),  # periodic pairs
                                            ("plate_bending", {"form": "weak"}), ("kdv", {"form": "weak"})])
def test_work_in_blocks_of_points_gives_the_same_rows_jacobian_and_loss(tmp_path, spec, settings, monkeypatch):
    """Large draws are evaluated in blocks (no gradient tracking) and their row gradients taken in blocks of
    rows; blocks that split neither the points nor the rows evenly must change nothing."""
    import pdedsl.training.jacobian as jacobian_module
    forward, _ = runs(SPECS / f"{spec}.pde", tmp_path, **settings)
    lm = LevenbergMarquardt(forward.model.model if hasattr(forward.model, "model") else forward.model,
                            forward.objective)
    batches = forward.objective.sample(0)
    whole_rows, whole = lm._linearise(batches)
    whole_loss = float(lm._loss(batches).detach())
    monkeypatch.setattr(jacobian_module, "CHUNK_POINTS", 7)
    rows, blocked = lm._linearise(batches)
    assert set(rows) == set(whole_rows)
    for name in rows:
        assert rows[name].numpy() == pytest.approx(whole_rows[name].numpy(), rel=1e-12, abs=1e-14)
    assert blocked.numpy() == pytest.approx(whole.numpy(), rel=1e-10, abs=1e-12)
    assert float(lm._loss(batches).detach()) == pytest.approx(whole_loss, rel=1e-12)
    assert whole_loss == pytest.approx(float(sum(v.square().sum() for v in whole_rows.values())), rel=1e-12)


def test_a_step_lowers_the_loss_and_fresh_points_keep_it_honest(tmp_path):
    path = tmp_path / "rod.pde"
    path.write_text(ROD)
    run = Run(path, TrainConfig(**{**SMALL, "optimizer": "lm", "interior_points": 64}), tmp_path / "run")
    lm = Trainer(run, progress=False)._levenberg_marquardt()
    batches = run.objective.sample(0)
    before = float(sum(v.detach() for v in run.objective.losses(batches).values()))
    terms, moved = lm.step(batches)
    after = float(sum(v.detach() for v in run.objective.losses(batches).values()))
    assert moved and after < before
    assert sum(terms.values()) == pytest.approx(before, rel=1e-9)  # the terms reported are those before the step


def test_levenberg_marquardt_trains_the_rod_to_high_accuracy(tmp_path):
    path = tmp_path / "rod.pde"
    path.write_text(ROD)
    settings = dict(steps=100, interior_points=64, boundary_points=8, precision="float64", log_every=5,
                    backend_options={"width": 16, "depth": 2})
    lm = train(path, TrainConfig(**settings, optimizer="lm", lbfgs_steps=30), tmp_path / "lm", progress=False)
    lbfgs = train(path, TrainConfig(**settings, optimizer="lbfgs", lbfgs_steps=30), tmp_path / "lbfgs",
                  progress=False)
    assert lm["steps"] == 130 and lm["rel_l2"]["u"] < 1e-4
    assert lm["rel_l2"]["u"] < lbfgs["rel_l2"]["u"]  # thirty steps each
    records = [json.loads(line) for line in (tmp_path / "lm" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["phase"] == "lm" and records[-1]["loss"] < 1e-3 * records[0]["loss"]


def test_inferred_params_get_their_columns_too(tmp_path):
    x = np.linspace(0, 1, 41)
    np.savez(tmp_path / "obs.npz", x=x, u=np.sin(np.pi * x))
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD.replace("pi^2 * sin", "k * sin") + 'param k = 1\nobserve u from "obs.npz" noise 0.01\ninfer k\n')
    settings = dict(steps=200, lbfgs_steps=30, optimizer="lm", interior_points=64, boundary_points=8,
                    precision="float64", backend_options={"width": 16, "depth": 2})
    result = train(spec, TrainConfig(**settings), tmp_path / "inv", progress=False)
    assert result["params"]["k"] == pytest.approx(np.pi**2, rel=1e-3)


def test_the_columns_of_inferred_params_are_evaluated_in_blocks_too(tmp_path, monkeypatch):
    """Their central differences evaluate the whole draw twice per param: in blocks without gradient tracking,
    like a trial step's loss (whole-draw graphs were what the blocks of points were for)."""
    import pdedsl.training.jacobian as jacobian_module
    forward, _ = runs(SPECS / "heat_inverse.pde", tmp_path)
    network = forward.model.model if hasattr(forward.model, "model") else forward.model
    lm = LevenbergMarquardt(network, forward.objective, forward.objective.trainable_params())
    assert len(lm.extra) == 1
    batches = forward.objective.sample(0)
    whole = lm._extra_columns(batches)
    monkeypatch.setattr(jacobian_module, "CHUNK_POINTS", 5)
    seen = []
    jets = type(network).jets

    def spy(self, coordinates, *rest):
        seen.append((next(iter(coordinates.values())).shape[0], torch.is_grad_enabled()))
        return jets(self, coordinates, *rest)
    monkeypatch.setattr(type(network), "jets", spy)
    assert lm._extra_columns(batches).numpy() == pytest.approx(whole.numpy(), rel=1e-9, abs=1e-12)
    assert seen and all(count <= 5 and not tracked for count, tracked in seen), seen


def test_a_run_killed_in_the_levenberg_marquardt_phase_resumes_to_the_same_numbers(tmp_path, train_killed_at):
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD)
    settings = dict(steps=20, lbfgs_steps=20, optimizer="lm", interior_points=48, boundary_points=8,
                    checkpoint_every=15, precision="float64", backend_options={"width": 8, "depth": 2})
    whole = train(spec, TrainConfig(**settings), tmp_path / "whole", progress=False)
    # killed after step 37: the last checkpoint is step 30, in the Levenberg-Marquardt phase
    train_killed_at(spec, TrainConfig(**settings), tmp_path / "killed", 37)
    state = torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 30 and state["phase"] == "lm" and state["optimizer"]["mu"] > 0
    resumed = resume(tmp_path / "killed", progress=False)
    assert resumed["steps"] == whole["steps"] == 40
    assert resumed["rel_l2"]["u"] == pytest.approx(whole["rel_l2"]["u"], rel=1e-9, abs=1e-14)


def test_the_default_optimiser_follows_backend_engine_and_form():
    """lm for the PINN in strong and weak form; lbfgs where an lm step would be slow or impossible."""
    assert TrainConfig().optimizer == "lm" and TrainConfig(form="weak(particles: 300)").optimizer == "lm"
    assert TrainConfig(form="mixed").optimizer == "lbfgs"
    assert TrainConfig(form="mixed(particles: 300)").optimizer == "lbfgs"
    assert TrainConfig(derivatives="autograd").optimizer == "lbfgs"
    assert TrainConfig(backend="multionet").optimizer == "lbfgs"
    assert TrainConfig(form="mixed", optimizer="lm").optimizer == "lm"  # asked for: still served
    steps = {form: TrainConfig(form=form).lbfgs_steps for form in ("strong", "weak", "mixed")}
    assert steps == {"strong": 200, "weak": 500, "mixed": 2000}  # (weak: more, cheaper steps; mixed: L-BFGS)


def test_settings_the_method_cannot_serve_are_refused_clearly(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown optimizer 'newton'"):
        TrainConfig(optimizer="newton")
    with pytest.raises(ValueError, match="for the PINN backend"):
        TrainConfig(backend="multionet", optimizer="lm")
    assert TrainConfig(optimizer="lm").lbfgs_steps == 200
    spec = tmp_path / "rod.pde"
    spec.write_text(ROD)
    code = main(["train", str(spec), "--optimizer", "lm", "--width", "200", "--steps", "1", "--out",
                 str(tmp_path / "big"), "-q"])
    err = capsys.readouterr().err
    assert code != 0 and "at most 20000 parameters" in err and "Traceback" not in err
    code = main(["train", str(spec), "--optimizer", "lm", "--derivatives", "autograd", "--steps", "1", "--out",
                 str(tmp_path / "ag"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "forward derivative engine" in err and "Traceback" not in err  # refused before training
    assert not (tmp_path / "ag").exists()


def test_the_network_inside_hard_constraints_is_the_one_optimised(tmp_path):
    run = Run(SPECS / "burgers.pde", TrainConfig(**{**SMALL, "optimizer": "lm"}), tmp_path / "b")
    lm = Trainer(run, progress=False)._levenberg_marquardt()
    assert {id(p) for p in lm.parameters} == {id(p) for p in run.model.parameters()}


def test_the_weak_rule_is_finer_in_the_levenberg_marquardt_phase_in_two_dimensions(tmp_path):
    """It fits the discrete weak form so closely that the default rule's error would be the floor; Adam keeps
    the cheaper default rule, and so does the mixed form (a row per quadrature point is costly enough)."""
    sizes = {}
    for form, optimizer in (("weak", "lm"), ("weak", "lbfgs"), ("mixed", "lm")):
        config = TrainConfig(**{**SMALL, "form": form, "optimizer": optimizer, "steps": 1, "lbfgs_steps": 1})
        run = Run(SPECS / "poisson.pde", config, tmp_path / f"{form}_{optimizer}")
        before = run.objective.weak.weights.numel()
        run.prepare_folder(resume=False)
        Trainer(run, progress=False).fit(resume=False)
        sizes[form, optimizer] = (before, run.objective.weak.weights.numel())
    assert sizes == {("weak", "lbfgs"): (40, 40), ("weak", "lm"): (40, 8 * 13), ("mixed", "lm"): (40, 40)}
    given = TrainConfig(**{**SMALL, "form": "weak(quadrature: 5)", "optimizer": "lm"})
    run = Run(SPECS / "poisson.pde", given, tmp_path / "given")
    run.objective.weak.refine()
    assert run.objective.weak.weights.numel() == 40


def test_the_last_weak_steps_draw_at_least_as_many_balls_as_the_network_has_parameters(tmp_path):
    """Before the polish steps each step draws the configured balls; in them, rows >= unknowns (weak.py);
    the mixed form (rows per quadrature point) keeps its count."""
    drawn = {}
    for form in ("weak", "mixed"):
        config = TrainConfig(**{**SMALL, "form": f"{form}(polish: 1)", "optimizer": "lm", "steps": 0,
                                "lbfgs_steps": 3})
        run = Run(SPECS / "poisson.pde", config, tmp_path / form)
        counts = []
        original = run.objective.sample

        def sample(*args, _original=original, _counts=counts, **kwargs):
            batches = _original(*args, **kwargs)
            _counts.append(len(next(iter(batches["weak"].values())).radii))
            return batches
        run.objective.sample = sample
        run.prepare_folder(resume=False)
        Trainer(run, progress=False).fit(resume=False)
        drawn[form] = counts
    unknowns = (2 * 6 + 6) + (6 * 6 + 6) + (6 + 1)  # width 6, depth 2, inputs x and y, one output u
    assert drawn == {"weak": [8, 8, unknowns], "mixed": [8, 8, 8]}


def test_polish_steps_by_dimension_and_option_and_for_older_run_folders(tmp_path):
    steps = {}
    for spec, form in (("poisson", "weak"), ("poisson3d", "weak"), ("poisson3d", "weak(polish: 7)"),
                       ("poisson", "mixed"), ("poisson", "weak(polish: 0)")):
        run = Run(SPECS / f"{spec}.pde", TrainConfig(**{**SMALL, "form": form}), tmp_path / f"{spec}{len(steps)}")
        steps[spec, form] = run.objective.weak.polish_steps
    assert list(steps.values()) == [50, 50, 7, 0, 0]
    older = {k: v for k, v in json.loads(TrainConfig(form="weak").to_json()).items() if k != "weak_polish"}
    assert TrainConfig.from_dict(older).weak_polish == 0
    assert TrainConfig.from_dict(json.loads(TrainConfig(form="weak").to_json())).weak_polish is None


def test_the_weak_form_under_levenberg_marquardt_works_in_float64_with_smaller_balls_in_1d_and_2d(tmp_path):
    """No --precision: float64 for weak + lm in 1-D and 2-D (saved resolved), float32 elsewhere; the smallest
    ball radius is a tenth of the largest in float64 (a half in float32, and for the mixed form)."""
    chosen = {}
    for spec, form, optimizer, precision in (
            ("poisson", "weak", "lm", None), ("graded_rod", "weak", "lm", None), ("poisson3d", "weak", "lm", None),
            ("poisson", "strong", "lm", None), ("poisson", "weak", "lbfgs", None), ("poisson", "mixed", "lbfgs", None),
            ("poisson", "weak", "lm", "float32"), ("poisson", "mixed", "lbfgs", "float64")):
        config = TrainConfig(**{**SMALL, "form": form, "optimizer": optimizer, "precision": precision})
        folder = tmp_path / f"run{len(chosen)}"
        run = Run(SPECS / f"{spec}.pde", config, folder)
        run.prepare_folder(resume=False)
        saved = json.loads((folder / "config.json").read_text())["precision"]
        weak = run.objective.weak
        radii = None if weak is None else next(iter(weak.radii.values()))
        chosen[spec, form, optimizer, precision] = (saved, run.dtype, radii and round(radii[0] / radii[1], 6))
    assert list(chosen.values()) == [
        ("float64", torch.float64, 0.1), ("float64", torch.float64, 0.1), ("float32", torch.float32, 0.5),
        ("float32", torch.float32, None), ("float32", torch.float32, 0.5), ("float32", torch.float32, 0.5),
        ("float32", torch.float32, 0.5), ("float64", torch.float64, 0.5)]


def test_an_empty_set_of_points_evaluates_to_empty_outputs_as_the_network_does(tmp_path):
    """The blocks of points must not turn an empty call (no blocks) into an internal error."""
    forward, _ = runs(SPECS / "poisson.pde", tmp_path)
    network = forward.model.model if hasattr(forward.model, "model") else forward.model
    empty = {axis: torch.zeros(0, dtype=torch.float64) for axis in ("x", "y")}
    outputs = OutputCapture(network)._evaluate(empty, None, ())
    assert set(outputs) == {"u"} and outputs["u"].shape == (0,)
