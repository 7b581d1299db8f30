"""Weak and mixed forms in training: regions, the mixed form's flux outputs, radius schedules, top-k, options."""

import json
import math
from pathlib import Path

import pytest
import torch

import pdedsl
from pdedsl.cli import main
from pdedsl.training import TrainConfig, train
from pdedsl.training.run import Run
from pdedsl.training.weak import mixed_outputs
from rod_spec import ROD

SPECS = Path(__file__).resolve().parents[2] / "specs"


TINY = dict(steps=40, lbfgs_steps=0, optimizer="lbfgs", interior_points=64, boundary_points=8, resample_every=10,
            checkpoint_every=1000, log_every=5, precision="float64", backend_options={"width": 16, "depth": 2},
            weak_particles=40)


def write(tmp_path, text=ROD, name="rod.pde"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_particles_of_an_equation_on_a_region_stay_inside_it(tmp_path):
    spec = write(tmp_path, ROD.replace("equation in O:", "region L = O where x < 0.5\nequation in L:"))
    run = Run(spec, TrainConfig(**TINY, form="weak"), tmp_path / "run")
    batches = run.objective.sample(0)["weak"]
    (batch,) = batches.values()
    assert (batch.centres[:, 0] - batch.radii >= 0).all() and (batch.centres[:, 0] + batch.radii <= 0.5).all()
    assert float(batch.radii.max()) <= 0.05 + 1e-12  # a tenth of the region's width, not the domain's


def test_weak_form_trains_on_interior_regions(tmp_path):
    result = train(SPECS / "interior_source.pde", TrainConfig(**{**TINY, "steps": 3}, form="weak"), tmp_path / "run",
                   progress=False)
    assert result["steps"] == 3
    terms = (tmp_path / "run" / "metrics.jsonl").read_text()
    assert '"heated"' in terms and '"passive"' in terms


def test_mixed_form_adds_flux_outputs_and_learns_the_rod(tmp_path):
    spec = write(tmp_path)
    run = Run(spec, TrainConfig(**TINY, form="mixed"), tmp_path / "probe")
    assert mixed_outputs(run.module) == ("s[equation_1].x",)
    assert run.model.model.output_names == ("u", "s[equation_1].x")
    terms = run.objective.losses(run.objective.sample(0))
    assert set(terms) == {"equation_1", "equation_1_flux"}  # the balance and the flux mismatch
    result = train(spec, TrainConfig(**{**TINY, "steps": 300, "lbfgs_steps": 200}, form="mixed"), tmp_path / "run",
                   progress=False)
    assert result["rel_l2"]["u"] < 0.05


def test_the_mixed_forms_flux_outputs_stay_out_of_predictions(tmp_path):
    solver = pdedsl.load(write(tmp_path)).solver(width=8, depth=1)
    solver.fit(steps=2, lbfgs_steps=0, form="mixed(particles: 8)", out=tmp_path / "run")
    assert set(solver.predict({"x": [0.25, 0.5]})) == {"u"}
    with pytest.raises(ValueError, match="missing: x"):
        solver.predict({"y": [0.5]})


def test_mixed_flux_mismatch_vanishes_for_the_exact_flux():
    """With s = u' exactly, the pointwise mismatch is zero and the balance is the weak residual of u."""
    spec = SPECS / "poisson.pde"
    run = Run(spec, TrainConfig(**TINY, form="mixed", hard_dirichlet=False), Path("unused"))
    weak = run.objective.weak

    class Exact(torch.nn.Module):
        supports_jets = False

        def forward(self, c):
            x, y = c["x"], c["y"]
            u = torch.sin(math.pi * x) * torch.sin(math.pi * y)
            return {"u": u, "s[equation_1].x": math.pi * torch.cos(math.pi * x) * torch.sin(math.pi * y),
                    "s[equation_1].y": math.pi * torch.sin(math.pi * x) * torch.cos(math.pi * y)}

    weak.fields.model = Exact()
    terms = weak.losses(weak.sample(torch.Generator().manual_seed(1)))
    names = [n for n in terms if n.endswith("_flux")]
    assert names and all(float(terms[n].detach()) < 1e-20 for n in names)
    assert all(float(v.detach()) < 1e-6 for n, v in terms.items() if n not in names)


def test_the_plate_moved_twice_keeps_its_exact_solution_at_rounding_level_in_float32_and_float64():
    """laplace(u) * laplace(phi): the exact deflection's weak loss on the fine ball rule is at the float64
    rounding level, and in float32 stays small because each ball's mean of laplace(u) is taken out before the
    products (their integral against laplace(phi) is zero); without that the float32 loss was 6e-6."""
    from benchmark_script import load

    floor = load("weak_floor").floor
    spec = Path(__file__).resolve().parents[2] / "specs" / "plate_bending.pde"
    assert floor(spec, 8, "float64", 2) < 1e-18
    assert floor(spec, 8, "float32", 2) < 3e-7


def test_linear_radius_schedule_grows_the_largest_radius(tmp_path):
    spec = write(tmp_path)
    config = TrainConfig(**TINY, form="weak(radius: 0.1, radius_min: 0.02, schedule: linear)")
    weak = Run(spec, config, tmp_path / "run").objective.weak
    (target,) = weak.groups
    assert weak.radius_bounds(target, 0) == (0.02, 0.02)
    assert weak.radius_bounds(target, 20) == pytest.approx((0.02, 0.06))
    assert weak.radius_bounds(target, 10_000) == pytest.approx((0.02, 0.1))
    radii = weak.sample(torch.Generator().manual_seed(0), step=0)[target].radii
    assert torch.allclose(radii, torch.full_like(radii, 0.02))


def test_mixed_form_notes_equations_without_a_flux(tmp_path, capsys):
    Run(write(tmp_path), TrainConfig(**TINY, form="mixed"), tmp_path / "fluxed")
    assert "note" not in capsys.readouterr().err
    flat = ROD.replace("-d(u, x, 2) = pi^2 * sin(pi*x)", "abs(d(u, x)) = pi*abs(cos(pi*x))")
    Run(write(tmp_path, flat, "flat.pde"), TrainConfig(**TINY, form="mixed"), tmp_path / "flat")
    assert "equation equation_1 has no term in divergence form" in capsys.readouterr().err


def test_compile_on_says_the_weak_losses_run_eagerly(tmp_path, capsys):
    train(write(tmp_path), TrainConfig(**{**TINY, "steps": 1}, form="weak", compile="on"), tmp_path / "run",
          progress=False)
    assert "the weak form's particle losses run eagerly" in capsys.readouterr().err


def test_particles_too_small_to_resolve_get_a_warning(tmp_path, capsys):
    Run(write(tmp_path), TrainConfig(**TINY, form="weak(radius: 0.01)"), tmp_path / "fine")
    assert "warning" not in capsys.readouterr().err
    Run(write(tmp_path), TrainConfig(**TINY, form="weak(radius: 1e-9)"), tmp_path / "tiny")
    assert "particles of radius 1e-10 in domain 'O' (narrowest side 1)" in capsys.readouterr().err


def test_top_k_adds_the_largest_squared_residuals(tmp_path):
    weak = Run(write(tmp_path), TrainConfig(**TINY, form="weak(top_k: 2)"), tmp_path / "run").objective.weak
    squares = torch.tensor([1.0, 4.0, 9.0, 0.0])
    assert float(weak._reduce(squares)) == pytest.approx(3.5 + 6.5)


def test_form_options_are_read_without_evaluation_and_errors_are_clear(tmp_path, capsys):
    config = TrainConfig(form="weak(particles: 300, radius: 0.05, schedule: linear, top_k: 20, quadrature: 10)")
    assert (config.form, config.weak_particles, config.weak_radius, config.weak_schedule, config.weak_top_k,
            config.weak_quadrature) == ("weak", 300, 0.05, "linear", 20, 10)
    for bad, message in (("weak(particles: lots)", "needs a whole number"), ("weak(__import__: 1)", "unknown form option"),
                         ("strang", "unknown form 'strang'"), ("weak(schedule: fast)", "unknown radius schedule")):
        assert main(["train", str(write(tmp_path)), "--form", bad, "-q", "--out", str(tmp_path / "r")]) == 2
        assert message in capsys.readouterr().err


def _second_order_specs():
    """Every bundled spec whose equations hold a second (or higher) space derivative."""
    from pdedsl import compiler

    names = []
    for path in sorted(SPECS.glob("*.pde")):
        problem = pdedsl.load(path)
        space = set(problem.axes)
        orders = [sum(count for axis, count in request.orders if axis in space)
                  for e in compiler.lower(problem).residuals if e.kind == "equation" for request in e.requests]
        if max(orders, default=0) >= 2:
            names.append(path.name)
    return names


def _random(problem) -> bool:
    return any(i.kind == "prior" for i in problem.inputs) or any(
        p.is_random and p.name not in problem.inferred for p in problem.params)


@pytest.mark.parametrize("name", _second_order_specs())
def test_every_second_order_spec_trains_in_weak_form(name, tmp_path):
    """Each spec's derived weak form compiles into a loss that trains (two steps, finite losses);
    a spec with random inputs trains on one draw of them (--instance)."""
    instance = 0 if _random(pdedsl.load(SPECS / name)) else None
    config = TrainConfig(**{**TINY, "steps": 2, "interior_points": 32, "boundary_points": 16, "weak_particles": 8,
                            "instance_grid": 33}, form="weak", instance=instance)
    result = train(SPECS / name, config, tmp_path / "run", progress=False)
    assert result["steps"] == 2 and result["skipped_steps"] == 0
    assert (tmp_path / "run" / "instance.npz").is_file() == (instance is not None)


def test_random_inputs_need_an_instance_and_the_message_says_so(tmp_path, capsys):
    spec = str(SPECS / "darcy_two_phase.pde")
    assert main(["train", spec, "--steps", "1", "--lbfgs-steps", "0", "-q", "--out", str(tmp_path / "a")]) == 1
    assert "--instance SEED" in capsys.readouterr().err
    assert main(["train", spec, "--instance", "4", "--steps", "1", "--lbfgs-steps", "0", "-q",
                 "--out", str(tmp_path / "b")]) == 0
    assert json.loads((tmp_path / "b" / "config.json").read_text())["instance"] == 4


def test_the_plain_weak_form_on_a_jumping_coefficient_points_to_the_mixed_form(tmp_path, capsys):
    spec = str(SPECS / "darcy_two_phase.pde")
    common = ["--instance", "0", "--steps", "1", "--lbfgs-steps", "0", "--particles", "8", "-q"]
    assert main(["train", spec, "--form", "weak", *common, "--out", str(tmp_path / "weak")]) == 0
    assert "a jumps across interfaces" in capsys.readouterr().err
    assert main(["train", spec, "--form", "mixed", *common, "--out", str(tmp_path / "mixed")]) == 0
    assert "jumps" not in capsys.readouterr().err


def test_weak_particles_are_redrawn_during_lbfgs_and_a_killed_run_resumes_to_the_same_numbers(
        tmp_path, monkeypatch, train_killed_at):
    from pdedsl.training import resume
    from pdedsl.training import run as run_module

    monkeypatch.setattr(run_module, "LBFGS_REDRAW", 10)
    spec = write(tmp_path)
    settings = {**TINY, "steps": 20, "lbfgs_steps": 40, "checkpoint_every": 15, "form": "weak"}
    drawn = []
    sample = run_module.Trainer._lbfgs_sample
    monkeypatch.setattr(run_module.Trainer, "_lbfgs_sample", lambda self, at: (drawn.append(at), sample(self, at))[1])
    whole = train(spec, TrainConfig(**settings), tmp_path / "whole", progress=False)
    # a fresh set of balls at least every 10 L-BFGS iterations (sooner when L-BFGS stalls on one)
    assert drawn[0] == 20 and len(drawn) >= 4 and all(0 < b - a <= 10 + 9 for a, b in zip(drawn, drawn[1:]))

    train_killed_at(spec, TrainConfig(**settings), tmp_path / "killed", 55)
    assert 40 < torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)["step"] < 55  # after 2 redraws
    resumed = resume(tmp_path / "killed", progress=False)
    assert resumed["steps"] == whole["steps"]
    assert resumed["rel_l2"]["u"] == pytest.approx(whole["rel_l2"]["u"], rel=1e-9, abs=1e-12)


def test_the_quadrature_option_sets_the_ball_rule(tmp_path):
    poisson = SPECS / "poisson.pde"
    default = Run(poisson, TrainConfig(**TINY, form="weak"), tmp_path / "a").objective.weak
    finer = Run(poisson, TrainConfig(**TINY, form="weak(quadrature: 10)"), tmp_path / "b").objective.weak
    assert (len(default.weights), len(finer.weights)) == (40, 160)
    assert float(finer.weights.sum()) == pytest.approx(1.0)
    cube = Run(SPECS / "poisson3d.pde", TrainConfig(**TINY, form="weak"), tmp_path / "c").objective.weak
    assert len(cube.weights) == 6 * 5 * 10  # radial x polar x azimuthal: 5 radial points left a 6e-6 floor


def test_mixed_mismatch_weight_is_the_inverse_stiffness_scaled_to_mean_one():
    from pdedsl.training.weak import mismatch_weight

    two_phase = torch.tensor([[5.0, 10.0, 10.0, 5.0]])
    assert torch.allclose(mismatch_weight(two_phase, 1.0), torch.tensor([[1.5, 0.75, 0.75, 1.5]]))
    assert torch.allclose(mismatch_weight(torch.full((3, 2), 0.01), 2.0), torch.ones(3, 2))  # constant: unweighted
    assert torch.equal(mismatch_weight(torch.zeros(4), 2.0), torch.ones(4))  # no stiffness: unweighted
    assert float(mismatch_weight(torch.tensor([1.0, 0.0]), 1.0).max()) <= 1000.0  # floored, never infinite
    stiffness = torch.tensor([2.0, -4.0], requires_grad=True)
    assert not mismatch_weight(stiffness, 2.0).requires_grad


def test_the_mismatch_power_raises_the_inverse_stiffness_weight_to_it(tmp_path, capsys):
    from pdedsl.training.weak import mismatch_weight

    two_phase = torch.tensor([[5.0, 10.0, 10.0, 5.0]])
    assert torch.allclose(mismatch_weight(two_phase, 2.0), torch.tensor([[2.25, 0.5625, 0.5625, 2.25]]))
    assert torch.equal(mismatch_weight(two_phase, 0.0), torch.ones(1, 4))  # the plain square
    assert float(mismatch_weight(torch.tensor([1.0, 0.0]), 2.0).max()) == pytest.approx(1000.0)  # capped
    assert TrainConfig(form="mixed(mismatch_power: 1.5)").weak_mismatch_power == 1.5
    assert TrainConfig(form="mixed").weak_mismatch_power == 2.0  # the default since session 24
    older = json.loads(TrainConfig(form="mixed").to_json())
    del older["weak_mismatch_power"]  # a run folder written before the option: trained with the energy norm
    assert TrainConfig.from_dict(older).weak_mismatch_power == 1.0
    assert main(["train", str(write(tmp_path)), "--form", "mixed(mismatch_power: -1)", "-q",
                 "--out", str(tmp_path / "r")]) == 2
    assert "mismatch_power" in capsys.readouterr().err
    # the option reaches the loss where the stiffness varies (1 + x here), and only there
    graded = write(tmp_path, ROD.replace("-d(u, x, 2)", "-d((1 + x)*d(u, x), x)").replace("exact u = sin(pi*x)\n", ""),
                   "graded.pde")
    for spec, differs in ((graded, True), (write(tmp_path), False)):
        flux = []
        for power in (1, 2):
            weak = Run(spec, TrainConfig(**TINY, form=f"mixed(mismatch_power: {power})"), tmp_path / "p").objective.weak
            batch = weak.sample(torch.Generator().manual_seed(3))
            flux.append(float(weak.losses(batch)["equation_1_flux"].detach()))
        assert (flux[0] != pytest.approx(flux[1], rel=1e-6)) == differs


def test_particles_that_do_not_fit_a_region_are_said_to_at_its_equation(tmp_path, capsys):
    from pdedsl.cli import main

    spec = tmp_path / "strip.pde"
    spec.write_text("problem strip\ndomain O = box(x: [0, 1], y: [0, 1])\nregion strip = O where 0.45 < x < 0.55\n"
                    "field u\nequation in strip:\n    -laplace(u) = 2\nequation in O:\n    u - x*(1-x) = 0\n"
                    "boundary on boundary(O):\n    u = x*(1-x)\n")
    assert main(["train", str(spec), "--form", "weak(radius: 0.2)", "--steps", "2", "--lbfgs-steps", "0",
                 "--particles", "20", "-q", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:6:5: the weak form's particles do not fit in region 'strip'" in err
    assert 'give them a smaller radius: --form "weak(radius: R)" with R below 0.2' in err


def test_an_equation_on_a_point_or_line_stays_strong_in_the_weak_form(tmp_path):
    """A pure Neumann problem pinned at a point (and along a line) trained in strong form, but --form weak
    refused the whole spec ('too small to place weak-form particles in'): no ball fits in a point. Such
    equations keep their strong residuals, at points on the point or line; the others go weak."""
    spec = write(tmp_path, "problem pinned\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u\n"
                 "region pin = O where x == 0.5 and y == 0.5\nregion line = O where y == 0.25\n"
                 "equation in O:\n    -laplace(u) = 2*pi^2*cos(pi*x)*cos(pi*y)\n"
                 "boundary on boundary(O):\n    dn(u) = 0\nequation anchor in pin:\n    u = 0\n"
                 "equation cut in line:\n    u = cos(pi*x)*cos(pi*0.25)\n"
                 "region diagonal = O where x == y\nequation slant in diagonal:\n    u = cos(pi*x)^2\n", "pinned.pde")
    for form in ("weak", "mixed"):
        run = Run(spec, TrainConfig(**{**TINY, "steps": 2}, form=form), tmp_path / form)
        assert [t.name for t in run.objective.weak.groups] == ["O"]  # the equation on O alone is weak
        strong = {entry["name"] for entries in run.objective.groups.values() for entry in entries}
        assert {"anchor", "cut", "slant"} <= strong and "equation_1" not in strong  # (a curve has no volume)
    result = train(spec, TrainConfig(**{**TINY, "steps": 2}, form="weak"), tmp_path / "trained", progress=False)
    assert result["steps"] == 2
