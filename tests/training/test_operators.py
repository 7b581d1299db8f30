"""Operator learning: DeepONet/MultiONet networks, member batches through the residuals, pools, training modes."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from rod_spec import LOADED_ROD

from pdedsl import api, compiler
from pdedsl.backends import BackendError, create
from pdedsl.backends.deeponet import JET_ACTIVATIONS, OPERATOR_ACTIVATIONS
from pdedsl.backends.hard import HardDirichlet
from pdedsl.backends.operator import OperatorBackend, OperatorInputs, SensorLayout
from pdedsl.codegen import load_module
from pdedsl.reference.dataset import generate
from pdedsl.runtime import derivatives
from pdedsl.runtime.family import FamilyError, draw_pool, pool_from_arrays, varying_inputs
from pdedsl.runtime.jets import JetTable
from pdedsl.training import TrainConfig, resume, train
from pdedsl.training.operators import OperatorFields, OperatorObjective

FAMILY = LOADED_ROD  # u = k x (1 - x) / 2 for every member

# a varying coefficient on a grid and a random param, in 2-D
DARCY = """problem small_darcy
domain D = box(x: [0, 1], y: [0, 1])
field u
param c ~ uniform(1, 2)
input a = 2 + sin(c*x) * y
equation in D:
    -div(a * grad(u)) = c
boundary on boundary(D):
    u = 0
"""


def load(tmp_path, text, name="spec.pde"):
    path = tmp_path / name
    path.write_text(text)
    return path, api.load(path)


class ExactRod(OperatorBackend):
    """An 'operator' that returns the family's exact solution k x (1 - x) / 2, read from the scalars."""

    name = "exact_rod"

    def __init__(self, problem, layout, **options):
        super().__init__(problem, layout)
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, coordinates, inputs):
        x = coordinates["x"]  # [n], [1, n] (shared points) or [B, n] (per-member copies for autograd)
        x = x[None] if x.dim() == 1 else x
        k = inputs.scalars[:, :1]
        return {"u": k * x * (1 - x) / 2 + 0 * self.dummy}


@pytest.mark.parametrize("form", ["strong", "weak"])
def test_member_batches_reach_the_residuals_with_their_own_params(tmp_path, form):
    """The exact solution of each member has zero residual; the wrong member's solution does not."""
    path, problem = load(tmp_path, FAMILY)
    module = load_module(compiler.generate(compiler.lower(problem), path.name), "family_test")
    pool = draw_pool(problem, 8, 33, seed=3)
    config = TrainConfig(backend="multionet", form=form, interior_points=64, weak_particles=16, batch_size=8,
                         precision="float64")
    model = ExactRod(problem, pool.layout).double()
    objective = OperatorObjective(problem, module, model, config, torch.float64, torch.device("cpu"), pool)
    batches = objective.sample(0)
    exact = {k: float(v.detach()) for k, v in objective.losses(batches).items()}
    assert exact["boundary_1"] < 1e-28
    model.forward = lambda coordinates, inputs: ExactRod.forward(model, coordinates, inputs.select(
        torch.arange(len(inputs)).roll(1)))  # every member gets its neighbour's solution
    wrong = float(objective.losses(batches)["equation_1"].detach())
    assert wrong > 1e-3
    # the strong residual vanishes exactly; the weak one up to the ball quadrature's error
    assert exact["equation_1"] < (1e-20 if form == "strong" else 1e-3 * wrong)


@pytest.mark.parametrize("backend", ["deeponet", "multionet"])
@pytest.mark.parametrize("activation", ["tanh", "tanh_sin"])
def test_operator_jets_match_per_member_autograd(tmp_path, backend, activation):
    """Forward jets through the trunk (hard Dirichlet included) equal autograd on each member separately."""
    path, problem = load(tmp_path, DARCY)
    pool = draw_pool(problem, 3, 9, seed=0)
    model = HardDirichlet(create(backend, problem, layout=pool.layout, width=12, depth=2,
                                 activation=activation).double(), problem)
    with torch.no_grad():  # MultiONet starts with w = 0; make every layer count
        model.model.layer_weights.uniform_(0.5, 1.5)
    inputs = pool.operator_inputs()
    fields = OperatorFields(model, inputs, {}, set())
    fields.use(torch.arange(3))
    generator = torch.Generator().manual_seed(1)
    points = {a: torch.rand(20, generator=generator, dtype=torch.float64) for a in ("x", "y")}
    requests = [("u", ()), ("u", (("x", 1),)), ("u", (("x", 2),)), ("u", (("x", 1), ("y", 1))), ("u", (("y", 2),))]
    forward = derivatives.compute(fields, points, requests, ["x", "y"], "forward")
    for member in range(3):
        leaves = {a: t.clone().requires_grad_(True) for a, t in points.items()}
        values = {"u": model(leaves, inputs.select(slice(member, member + 1)))["u"][0]}
        expected = derivatives.compute(values, leaves, requests, ["x", "y"], "autograd")
        for request in requests:
            assert torch.allclose(forward[request][member], expected[request], rtol=1e-9, atol=1e-10), request


@pytest.mark.parametrize("activation", ["tanh_sin", "silu_sin", "silu_id"])
def test_residual_style_activations_on_jets_match_their_values(activation):
    table = JetTable([(0, 0, 0)], 1)
    x = torch.linspace(-2, 2, 11, dtype=torch.float64).requires_grad_(True)
    from pdedsl.runtime.jets import Jet, from_autograd

    jet = JET_ACTIVATIONS[activation](Jet.variables(table, x[:, None]))
    expected = from_autograd(OPERATOR_ACTIVATIONS[activation](x), [x], table)
    for index in table.indices:
        assert torch.allclose(jet.derivative(index)[:, 0], expected.derivative(index), atol=1e-10)


def test_multionet_starts_from_its_bias_and_deeponet_uses_the_last_layer(tmp_path):
    _, problem = load(tmp_path, DARCY)
    pool = draw_pool(problem, 4, 9, seed=0)
    multi = create("multionet", problem, layout=pool.layout, width=8, depth=3)
    deep = create("deeponet", problem, layout=pool.layout, width=8, depth=3)
    assert tuple(multi.layer_weights.shape) == (4, 1) and tuple(deep.layer_weights.shape) == (1, 1)
    points = {"x": torch.rand(5), "y": torch.rand(5)}
    out = multi(points, pool.operator_inputs(torch.float32))["u"]
    assert out.shape == (4, 5) and torch.all(out == 0)
    assert deep(points, pool.operator_inputs(torch.float32))["u"].abs().max() > 0


def test_pools_match_reference_data_member_by_member(tmp_path):
    """Member i of a pool drawn with seed S is sample i of 'pdedsl data --seed S'."""
    _, problem = load(tmp_path, DARCY)
    assert varying_inputs(problem) == ("a",)
    drawn = draw_pool(problem, 3, 9, seed=5)
    labelled = pool_from_arrays(problem, generate(problem, 3, 9, seed=5), "generated")
    np.testing.assert_allclose(drawn.params["c"], labelled.params["c"])
    np.testing.assert_allclose(drawn.grid_inputs["a"], labelled.grid_inputs["a"])
    assert labelled.labelled and labelled.fields["u"].shape == (3, 9, 9)
    again = draw_pool(problem, 3, 9, seed=5)
    np.testing.assert_array_equal(again.grid_inputs["a"], drawn.grid_inputs["a"])


def test_physics_informed_operator_learns_the_family_without_labels(tmp_path):
    path, _ = load(tmp_path, FAMILY)
    config = TrainConfig(backend="multionet", steps=300, samples=64, batch_size=16, interior_points=64,
                         boundary_points=8, learning_rate=3e-3, test_samples=8, grid=17,
                         backend_options={"width": 24, "depth": 2})
    result = train(path, config, tmp_path / "run", progress=False)
    assert result["mode"] == "physics" and result["test_samples"] == 8
    assert result["rel_l2"]["u"] < 0.05, result


def test_supervised_training_from_a_data_file_on_the_command_line(tmp_path):
    path, _ = load(tmp_path, DARCY)
    data = tmp_path / "train.npz"
    common = {"capture_output": True, "text": True, "timeout": 300}
    made = subprocess.run([sys.executable, "-m", "pdedsl", "data", str(path), "--n", "40", "--grid", "9", "--seed", "1",
                           "-o", str(data), "-q"], **common)
    assert made.returncode == 0, made.stderr
    done = subprocess.run([sys.executable, "-m", "pdedsl", "train", str(path), "--backend", "deeponet", "--data",
                           str(data), "--steps", "400", "--batch", "20", "--width", "32", "--depth", "2", "--lr",
                           "3e-3", "--test", "10", "--json", "-q", "--out", str(tmp_path / "run")], **common)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["mode"] == "supervised" and result["samples"] == 40
    assert result["rel_l2"]["u"] < 0.1, result
    assert (tmp_path / "run" / "test.npz").is_file()
    # predict answers for members (the training file, labels ignored); plot shows held-out members
    predicted = subprocess.run([sys.executable, "-m", "pdedsl", "predict", str(tmp_path / "run"), "--points", str(data),
                                "-o", str(tmp_path / "pred.npz")], **common)
    assert predicted.returncode == 0, predicted.stderr
    with np.load(tmp_path / "pred.npz") as out, np.load(data) as labels:
        assert out["u"].shape == labels["u"].shape == (40, 9, 9)
        errors = np.linalg.norm((out["u"] - labels["u"]).reshape(40, -1), axis=1) / np.linalg.norm(
            labels["u"].reshape(40, -1), axis=1)
        assert errors.mean() < 0.1
    drawn = subprocess.run([sys.executable, "-m", "pdedsl", "plot", str(tmp_path / "run")], **common)
    assert drawn.returncode == 0, drawn.stderr
    assert (tmp_path / "run" / "plot.png").stat().st_size > 10_000


@pytest.mark.parametrize("resample_every", [None, 3])
def test_an_interrupted_operator_run_resumes_to_the_same_parameters(tmp_path, resample_every):
    """With members redrawn every 3 steps the run resumes mid-draw: the checkpoint carries the batch."""
    path, _ = load(tmp_path, FAMILY)
    options = dict(backend="deeponet", samples=16, batch_size=4, interior_points=16, boundary_points=4,
                   test_samples=0, grid=9, precision="float64", checkpoint_every=5, decay=1.0,
                   backend_options={"width": 8, "depth": 2}, resample_every=resample_every)
    whole = train(path, TrainConfig(steps=20, **options), tmp_path / "whole", progress=False)
    train(path, TrainConfig(steps=10, **options), tmp_path / "split", progress=False)
    split = resume(tmp_path / "split", progress=False, steps=20)
    assert whole["steps"] == split["steps"] == 20
    one = torch.load(tmp_path / "whole" / "checkpoint.pt", weights_only=True)["model"]
    two = torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(one[k], two[k]) for k in one)
    assert "no held-out test set" in whole["note"]


def test_adaptive_sampling_is_refused_for_operators():
    """--sampling rad was silently ignored by the operator backends (their points serve a mini-batch of members)."""
    with pytest.raises(ValueError, match="--sampling rad.* is for the PINN backend"):
        TrainConfig(backend="dgno", sampling="rad")
    assert TrainConfig(backend="multionet").sampling == "uniform"


def test_operator_errors_say_what_to_do(tmp_path):
    path, problem = load(tmp_path, FAMILY)
    with pytest.raises(BackendError, match="operator backend"):
        train(path, TrainConfig(steps=1), tmp_path / "pinn", progress=False)
    with pytest.raises(FamilyError, match="whole family"):
        train(path, TrainConfig(backend="deeponet", instance=0, steps=1, samples=4, test_samples=0),
              tmp_path / "i", progress=False)
    with pytest.raises(FamilyError, match="--data"):
        train(path, TrainConfig(backend="multionet", mode="supervised", steps=1), tmp_path / "s", progress=False)
    fixed, _ = load(tmp_path, FAMILY.replace("param k ~ uniform(1, 2)", "param k = 1"), "fixed.pde")
    with pytest.raises(FamilyError, match="pinn backend"):
        train(fixed, TrainConfig(backend="deeponet", steps=1), tmp_path / "f", progress=False)
    with pytest.raises(BackendError, match="no option"):
        create("multionet", problem, layout=SensorLayout.of({"x": np.linspace(0, 1, 5)}, [], ["k"]), modes=3)
    inputs = OperatorInputs(None, torch.ones(2, 1))
    assert len(inputs) == 2 and inputs.flat().shape == (2, 1)


def test_fno_refuses_a_weak_form_that_keeps_second_derivatives_strong(tmp_path):
    """--form weak was the way out of the FNO's vanishing second derivatives, but a term not in divergence form
    stays strong there: a*laplace(u) then trained as 0, silently."""
    path, _ = load(tmp_path, DARCY.replace("-div(a * grad(u)) = c", "-a * laplace(u) = c"))
    with pytest.raises(BackendError, match=r"second derivatives vanish.*still reads second derivatives \(d\(u, x, 2\)"):
        train(path, TrainConfig(backend="fno", form="weak", steps=1, samples=4, test_samples=0),
              tmp_path / "weak", progress=False)
    path, _ = load(tmp_path, DARCY, "divergence.pde")  # all in divergence form: trains
    train(path, TrainConfig(backend="fno", form="weak", steps=1, samples=4, test_samples=0, weak_particles=4,
                            backend_options={"width": 4, "depth": 1, "modes": 2}), tmp_path / "ok", progress=False)


def test_fno_refusing_a_fourth_order_weak_form_names_the_terms_moved_twice(tmp_path):
    """laplace(laplace(u)) is in divergence form and moves twice, but its factor laplace(u) is a second derivative:
    the refusal must not send the reader looking for terms outside divergence form."""
    path, _ = load(tmp_path, DARCY.replace("-div(a * grad(u)) = c", "laplace(laplace(u)) - div(a * grad(u)) = c"))
    with pytest.raises(BackendError, match="second derivatives vanish") as error:
        train(path, TrainConfig(backend="fno", form="weak", steps=1, samples=4, test_samples=0),
              tmp_path / "weak", progress=False)
    assert "still reads second derivatives (d(u, x, 2) in equation_1; d(u, y, 2) in equation_1;" in str(error.value)


def test_fno_refuses_a_weak_form_whose_equation_on_a_line_stays_strong(tmp_path):
    """No ball fits on 'D where x == 0.5', so --form weak trains that equation strong: laplace(u) there
    vanished between the FNO's grid nodes, silently."""
    path, _ = load(tmp_path, DARCY.replace("boundary on", "region C = D where x == 0.5\nequation in C:\n"
                                                          "    laplace(u) = -1\nboundary on"))
    with pytest.raises(BackendError, match=r"still reads second derivatives \(d\(u, x, 2\) in equation_2"):
        train(path, TrainConfig(backend="fno", form="weak", steps=1, samples=4, test_samples=0),
              tmp_path / "weak", progress=False)


@pytest.mark.parametrize("backend", ["multionet", "fno"])
def test_bf16_label_terms_train_with_float32_parameters(tmp_path, backend):
    path, problem = load(tmp_path, DARCY)
    data = tmp_path / "train.npz"
    from pdedsl.reference.dataset import write

    write(data, generate(problem, 12, 9, seed=2))
    config = TrainConfig(backend=backend, data=str(data), test_data=str(data), precision="bf16", steps=60,
                         batch_size=6, learning_rate=3e-3, backend_options={"width": 16, "depth": 2},
                         log_every=10)
    result = train(path, config, tmp_path / "run", progress=False)
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    assert all(v.dtype in (torch.float32, torch.int64) for v in state.values())
    losses = [json.loads(line)["loss"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert np.isfinite(losses).all() and losses[-1] < 0.5 * losses[0]
    assert result["rel_l2"]["u"] < 1.0


HEAT_FAMILY = """problem heat_family
domain O = interval(x: [0, 1])
time t: [0, 0.5]
field u
param k ~ uniform(0.5, 1.5)
input u0 ~ gaussian_field(length: 0.3, smoothness: 2.5, variance: 0.1)
equation in O:
    dt(u) = 0.05 * d(u, x, 2) - k * u
boundary on boundary(O):
    u = 0
initial:
    u = sin(pi*x) + u0 * x * (1 - x)
"""


def test_time_dependent_families_have_reference_data_and_train_as_operators(tmp_path):
    """Random initial states and params: labelled data starts from each member's own state, and a
    hybrid MultiONet run is measured on the space-time grid."""
    path, problem = load(tmp_path, HEAT_FAMILY)
    arrays = generate(problem, 4, 17, seed=3)
    assert arrays["u"].shape == (4, 17, 17) and arrays["u0"].shape == (4, 17) and arrays["k"].shape == (4,)
    x = arrays["x"]
    for member in range(4):
        start = np.sin(np.pi * x) + arrays["u0"][member] * x * (1 - x)
        np.testing.assert_allclose(arrays["u"][member, :, 0], start, atol=1e-6)
    # the decay rate k of each member shows in its solution: larger k, smaller u at the end
    ends = [np.abs(arrays["u"][m, :, -1]).max() for m in range(4)]
    order = np.argsort(arrays["k"])
    assert ends[order[0]] > ends[order[-1]]
    from pdedsl.reference.dataset import write

    write(tmp_path / "data.npz", arrays)
    config = TrainConfig(backend="multionet", data=str(tmp_path / "data.npz"), test_data=str(tmp_path / "data.npz"),
                         mode="hybrid", steps=30, batch_size=2, interior_points=64, boundary_points=16,
                         backend_options={"width": 16, "depth": 2})
    result = train(path, config, tmp_path / "run", progress=False)
    assert result["test_samples"] == 4 and 0 < result["rel_l2"]["u"] < 2


HEAT_COEFFICIENT = """problem heat_coefficient
domain Rod = interval(x: [-1, 1])
time t: [0, 1]
field u
input a ~ exp(gaussian_field(length: 0.3, smoothness: 2.5, variance: 0.3))
equation heat in Rod:
    dt(u) = 0.1*d(a*d(u, x), x)
boundary on boundary(Rod):
    u = 0
initial:
    u = cos(pi*x/2)
"""


def test_a_time_dependent_family_without_reference_solutions_plots_over_space_and_time(tmp_path):
    """No held-out members (no reference solver for a varying coefficient in time): the plot shows training
    members, whose pool has no time nodes; the prediction spans the time interval all the same."""
    from pdedsl.training.plot import plot

    path, _ = load(tmp_path, HEAT_COEFFICIENT)
    config = TrainConfig(backend="multionet", steps=2, samples=4, batch_size=2, interior_points=32, grid=9,
                         backend_options={"width": 8, "depth": 2})
    train(path, config, tmp_path / "run", progress=False)
    assert plot(tmp_path / "run").stat().st_size > 10_000


def test_python_api_trains_an_operator_and_answers_for_members(tmp_path):
    import pdedsl

    path, problem = load(tmp_path, FAMILY)
    solver = pdedsl.load(path).solver(backend="deeponet", width=16, depth=2)
    result = solver.fit(steps=150, samples=32, batch_size=8, grid=9, interior_points=32, boundary_points=8,
                        learning_rate=3e-3, test_samples=6)
    assert result["test_samples"] == 6
    members = generate(problem, 5, 9, seed=11)
    out = solver.predict_members({k: v for k, v in members.items() if k != "u"})
    assert out["u"].shape == (5, 9) and np.allclose(out["k"], members["k"])
    errors = np.linalg.norm(out["u"] - members["u"], axis=1) / np.linalg.norm(members["u"], axis=1)
    assert errors.mean() < 0.3
    with pytest.raises(TypeError, match="predict_members"):
        solver.predict({"x": np.linspace(0, 1, 5)})
    given = {k: v for k, v in members.items() if k != "u"}
    with pytest.raises(pdedsl.errors.PdeError, match="no members"):
        solver.predict_members({k: (v[:0] if k in ("k",) or v.ndim > 1 else v) for k, v in given.items()})
    with pytest.raises(pdedsl.errors.PdeError, match="0-d array"):
        solver.predict_members({**given, "k": np.float64(1.0)})
    with pytest.raises(pdedsl.errors.PdeError, match="'k' holds <U3 values; real numbers are needed"):
        solver.predict_members({**given, "k": "abc"})
    with pytest.raises(pdedsl.errors.PdeError, match="'x' holds complex128 values"):
        solver.predict_members({**given, "x": given["x"] + 0j})
    with pytest.raises(pdedsl.errors.PdeError, match="param 'k' has 1 non-finite values"):
        solver.predict_members({**given, "k": np.where(np.arange(5) == 2, np.nan, given["k"])})
    unknown = solver.predict_members({**members, "u": np.full_like(members["u"], np.nan)})  # labels are ignored
    assert np.array_equal(unknown["u"], out["u"])


FAMILIES = ["examples/darcy_two_phase.pde", "specs/advection_diffusion.pde", "specs/darcy_inverse.pde",
            "specs/darcy_lognormal.pde", "specs/darcy_smooth.pde", "specs/parametric_diffusion.pde"]
COMBINATIONS = [("deeponet", "strong"), ("multionet", "weak"), ("fno", "weak"), ("multionet", "mixed")]


@pytest.mark.parametrize("index, spec", list(enumerate(FAMILIES)))
def test_every_family_in_the_repository_trains_as_an_operator(tmp_path, index, spec):
    """Each spec with random inputs or params, with one backend and form each (all of them covered)."""
    from pathlib import Path

    backend, form = COMBINATIONS[index % len(COMBINATIONS)]
    root = Path(__file__).resolve().parents[2]
    config = TrainConfig(backend=backend, form=form, steps=3, samples=6, batch_size=3, grid=9,
                         interior_points=32, boundary_points=8, weak_particles=8, test_samples=2,
                         backend_options={"width": 8, "depth": 1})
    result = train(root / spec, config, tmp_path / "run", progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert result["steps"] == 3 and np.isfinite(records[-1]["loss"])
    assert set(result["rel_l2"]) == {"u"} or set(result["rel_l2"]) == {"c"} or "note" in result


@pytest.mark.parametrize("index, spec", list(enumerate(FAMILIES)))
def test_every_family_in_the_repository_trains_with_dgno(tmp_path, index, spec):
    """The generative backend on each family, cycling through the forms."""
    from pathlib import Path

    form = ["weak", "strong", "mixed"][index % 3]
    root = Path(__file__).resolve().parents[2]
    config = TrainConfig(backend="dgno", form=form, steps=3, samples=6, batch_size=3, grid=9,
                         interior_points=32, boundary_points=8, weak_particles=8, test_samples=2,
                         backend_options={"width": 8, "depth": 1, "latent": 4, "encoder_width": 8})
    result = train(root / spec, config, tmp_path / "run", progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert result["steps"] == 3 and np.isfinite(records[-1]["loss"])
    assert "kl" in records[-1]["terms"] and any(k.startswith("reconstruct_") for k in records[-1]["terms"])


def test_new_branch_trunk_runs_default_to_gelu_and_older_folders_keep_tanh(tmp_path):
    from pdedsl.training.run import Run

    path, _ = load(tmp_path, FAMILY)
    options = dict(samples=8, batch_size=4, interior_points=8, boundary_points=4, test_samples=0, grid=9,
                   lbfgs_steps=0)
    train(path, TrainConfig(steps=1, backend="multionet", backend_options={"width": 8, "depth": 2}, **options),
          tmp_path / "new", progress=False)
    saved = json.loads((tmp_path / "new" / "config.json").read_text())
    assert saved["backend_options"]["activation"] == "gelu"
    assert Run.open(tmp_path / "new").model.model.activation is OPERATOR_ACTIVATIONS["gelu"]
    del saved["backend_options"]["activation"]  # a folder written before the default changed
    (tmp_path / "new" / "config.json").write_text(json.dumps(saved))
    assert Run.open(tmp_path / "new").model.model.activation is OPERATOR_ACTIVATIONS["tanh"]
    given = dict(backend_options={"width": 8, "depth": 2, "activation": "sin"}, **options)
    train(path, TrainConfig(steps=1, backend="deeponet", **given), tmp_path / "given", progress=False)
    assert json.loads((tmp_path / "given" / "config.json").read_text())["backend_options"]["activation"] == "sin"


def test_a_grid_the_data_file_does_not_have_is_warned_about(tmp_path, capsys):
    from pdedsl.training.operators import training_pool

    path, problem = load(tmp_path, FAMILY)
    from pdedsl.reference.dataset import write

    write(tmp_path / "data.npz", generate(problem, 4, 9, seed=2))
    pool = training_pool(problem, TrainConfig(backend="deeponet", data=str(tmp_path / "data.npz"), grid=17))
    assert pool.layout.shape == (9,)
    assert "--grid 17 is ignored" in capsys.readouterr().err
    training_pool(problem, TrainConfig(backend="deeponet", data=str(tmp_path / "data.npz"), grid=9))
    assert "ignored" not in capsys.readouterr().err
    pool = training_pool(problem, TrainConfig(backend="deeponet", data=str(tmp_path / "data.npz"), samples=10))
    assert len(pool) == 4 and "--samples 10: " in capsys.readouterr().err  # more asked for than the file holds
    assert len(training_pool(problem, TrainConfig(backend="deeponet", data=str(tmp_path / "data.npz"),
                                                  samples=3))) == 3
    assert "--samples" not in capsys.readouterr().err


def test_a_data_file_with_arrays_the_spec_does_not_name_is_warned_about(tmp_path, capsys):
    """Another problem's members (a param 'rate' this spec lacks) trained silently on labels of other equations."""
    import numpy as np

    from pdedsl.reference.dataset import write
    from pdedsl.training.operators import training_pool

    path, problem = load(tmp_path, FAMILY)
    arrays = generate(problem, 3, 9, seed=2)
    write(tmp_path / "own.npz", arrays)
    training_pool(problem, TrainConfig(backend="deeponet", data=str(tmp_path / "own.npz")))
    assert "warning" not in capsys.readouterr().err
    np.savez(tmp_path / "other.npz", **arrays, rate=np.ones(3))
    training_pool(problem, TrainConfig(backend="deeponet", data=str(tmp_path / "other.npz")))
    assert "--data " + str(tmp_path / "other.npz") + ": an array 'rate' names nothing in problem" \
           in capsys.readouterr().err


def test_a_run_keeps_its_data_files_and_outlives_the_originals(tmp_path):
    from pdedsl.reference.dataset import write
    from pdedsl.training.run import Run

    path, problem = load(tmp_path, FAMILY)
    train_file, test_file = tmp_path / "members.npz", tmp_path / "held_out.npz"
    write(train_file, generate(problem, 8, 9, seed=2))
    write(test_file, generate(problem, 3, 9, seed=5))
    config = TrainConfig(backend="deeponet", data=str(train_file), test_data=str(test_file), steps=4, batch_size=4,
                         backend_options={"width": 8, "depth": 2})
    first = train(path, config, tmp_path / "run", progress=False)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (saved["data"], saved["test_data"]) == ("members.train.npz", "members.test.npz")
    train_file.unlink()
    test_file.unlink()
    run = Run.open(tmp_path / "run")  # the pool and the test set come from the folder's own copies
    assert len(run.pool) == 8 and run.config.data == str(tmp_path / "run" / "members.train.npz")
    again = resume(tmp_path / "run", progress=False, steps=6)
    assert again["test_samples"] == first["test_samples"] == 3


def test_a_test_data_file_that_does_not_fit_leaves_the_earlier_run_as_it_was(tmp_path):
    """Retraining a folder with a --test-data file that cannot be used fails before the earlier run's checkpoint,
    metrics and results are cleared (they used to be deleted first)."""
    from pdedsl.reference.dataset import write

    path, problem = load(tmp_path, DARCY)  # (its input a is read on the grid, so the grid must match)
    options = dict(backend="deeponet", samples=8, batch_size=4, test_samples=2, grid=9, steps=4,
                   backend_options={"width": 8, "depth": 2})
    train(path, TrainConfig(**options), tmp_path / "run", progress=False)
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file() and p.name != ".lock"}
    np.savez(tmp_path / "wrong.npz", x=np.zeros(3), y=np.zeros(3))
    write(tmp_path / "coarse.npz", generate(problem, 2, 5, seed=5))
    (tmp_path / "text.npz").write_text("not an archive")
    for name, message in (("wrong.npz", "no array named"),
                          ("coarse.npz", r"grid differs .* on 9 x 9 nodes \(its own grid is 5 x 5: pass --grid 5"),
                          ("text.npz", "not a readable .npz")):
        with pytest.raises(FamilyError, match=message):
            train(path, TrainConfig(**options, test_data=str(tmp_path / name)), tmp_path / "run", progress=False)
        assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()
                if p.is_file() and p.name != ".lock"} == before


def test_members_to_predict_for_that_lack_an_array_are_told_the_layout(tmp_path):
    """'write it with pdedsl data' alone is a dead end where the reference solver refuses the spec (a disk, a
    Robin condition, a system): the message spells out the arrays a members file holds."""
    problem = api.load("problem p\ndomain D = disk(center: (0, 0), radius: 1)\nfield u\n"
                          "input f ~ gaussian_field(length: 0.3)\nparam k ~ uniform(1, 2)\n"
                          "equation in D:\n    -laplace(u) + k*u = f\nboundary on boundary(D):\n    u = 0\n")
    with pytest.raises(FamilyError, match=r"no array named 'k', 'f'.*x, y as 1-D arrays.*\('f'\) as \(members, "
                                          r"len\(x\), len\(y\)\).*\('k'\) as \(members,\)"):
        pool_from_arrays(problem, {"x": np.linspace(-1, 1, 5), "y": np.linspace(-1, 1, 5)}, "m.npz",
                         labelled=False)


def test_operator_panels_leave_out_the_sensor_nodes_outside_a_disk():
    """A disk's sensor grid fills its bounding box; the plot drew the prediction in the corners too, as if
    the problem held there (the PINN plot leaves them blank). A trailing time axis is masked alike."""
    from pdedsl.training.operator_views import _blank_outside

    problem = api.load("problem p\ndomain D = disk(center: (0, 0), radius: 1)\ntime t: [0, 1]\nfield u\n"
                       "input f ~ gaussian_field(length: 0.3)\nequation in D:\n    dt(u) = laplace(u) + f\n"
                       "boundary on boundary(D):\n    u = 0\ninitial:\n    u = 0\n")
    nodes = np.linspace(-1, 1, 5)
    space = _blank_outside(problem, {"x": nodes, "y": nodes}, np.ones((5, 5)))
    assert np.isnan(space[0, 0]) and np.isnan(space[4, 4]) and space[2, 2] == 1 and space[0, 2] == 1
    in_time = _blank_outside(problem, {"x": nodes, "y": nodes, "t": np.linspace(0, 1, 3)}, np.ones((5, 5, 3)))
    assert np.isnan(in_time[0, 0]).all() and (in_time[2, 2] == 1).all()


def test_a_fourth_order_family_trains_in_weak_form_with_its_terms_moved_twice(tmp_path):
    """Member batches carry a leading axis through the terms against the test function's second derivatives."""
    spec = tmp_path / "plates.pde"
    spec.write_text("problem plates\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u\n"
                    "input a ~ exp(gaussian_field(length: 0.3))\nequation in O:\n"
                    "    laplace(laplace(u)) - div(a*grad(u)) = 1\n"
                    "boundary on boundary(O):\n    u = 0\n    laplace(u) = 0\n")
    config = TrainConfig(backend="multionet", form="weak", steps=2, lbfgs_steps=0, samples=8, batch_size=4,
                         test_samples=0, weak_particles=8, interior_points=32, boundary_points=16,
                         backend_options={"width": 8, "depth": 2})
    result = train(spec, config, tmp_path / "run", progress=False)
    assert result["steps"] == 2 and result["skipped_steps"] == 0  # (a non-finite loss would skip its step)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records and all(np.isfinite(r["loss"]) for r in records if "loss" in r)


def test_operator_panels_take_their_colour_limits_from_the_visible_nodes():
    """The limits were taken before the corners outside a disk were blanked: an input large there (a field
    drawn over the whole bounding box) squeezed the visible disk into a sliver of the colour scale."""
    from pdedsl.training.operator_views import visible_panels

    problem = api.load("problem p\ndomain D = disk(center: (0, 0), radius: 1)\nfield u\n"
                       "input f ~ gaussian_field(length: 0.3)\nequation in D:\n    -laplace(u) = f\n"
                       "boundary on boundary(D):\n    u = 0\n")
    nodes = np.linspace(-1, 1, 5)
    axes = {"x": nodes, "y": nodes}
    inside = np.hypot(*np.meshgrid(nodes, nodes, indexing="ij")) <= 1
    raw = {"input": (np.where(inside, 0.5, 100.0), "f"), "generated": (np.where(inside, 0.25, -100.0), "f (gen.)"),
           "truth": (np.where(inside, 1.0, 50.0), "u"), "prediction": (np.where(inside, 2.0, -50.0), "u (pred.)"),
           "error": (np.where(inside, 1.0, 9.0), "error")}
    panels, limits = visible_panels(problem, raw, axes, axes)
    assert limits[("input", "generated")] == (0.25, 0.5) and limits[("truth", "prediction")] == (1.0, 2.0)
    assert np.isnan(panels["error"][0][0, 0]) and panels["error"][0][2, 2] == 1.0 and panels["input"][1] == "f"


def test_an_operator_of_random_params_alone_answers_on_any_grid(tmp_path):
    """A family whose members differ only in scalars reads nothing on its sensor grid, yet predict refused a
    members file made on another grid ('its grid or inputs differ from the run's sensor layout')."""
    import pdedsl
    from pdedsl.training.predict import PredictError

    path, problem = load(tmp_path, FAMILY)
    solver = pdedsl.load(path).solver(backend="deeponet", width=16, depth=2)
    solver.fit(steps=150, samples=32, batch_size=8, grid=9, interior_points=32, boundary_points=8,
               learning_rate=3e-3, test_samples=0)
    members = generate(problem, 5, 17, seed=11)
    out = solver.predict_members({k: v for k, v in members.items() if k != "u"})
    assert out["u"].shape == (5, 17)
    errors = np.linalg.norm(out["u"] - members["u"], axis=1) / np.linalg.norm(members["u"], axis=1)
    assert errors.mean() < 0.3
    from pdedsl.reference.dataset import write

    write(tmp_path / "test17.npz", members)  # held-out members on another grid, too
    result = train(path, TrainConfig(backend="deeponet", steps=2, samples=8, batch_size=4, grid=9,
                                     test_data=str(tmp_path / "test17.npz")), tmp_path / "run17", progress=False)
    assert result["test_samples"] == 5 and result["rel_l2"]["u"] is not None
    path, problem = load(tmp_path, DARCY, "darcy.pde")  # an input on the grid: its grid must match
    solver = pdedsl.load(path).solver(backend="deeponet", width=8, depth=1)
    solver.fit(steps=1, samples=4, batch_size=4, grid=9, test_samples=0)
    with pytest.raises(PredictError, match="sensor layout"):
        solver.predict_members({k: v for k, v in generate(problem, 2, 5, seed=1).items() if k != "u"})


@pytest.mark.parametrize("option", ["--data", "--test-data"])
def test_members_beyond_the_range_of_the_training_precision_are_refused_naming_the_file(tmp_path, capsys, option):
    """1e300 is finite, so the finiteness check let it through, and float32 holds it as inf: every loss was
    non-finite. Refused as observations are (layout.beyond_range), naming the file and --precision float64."""
    from pdedsl.cli import main

    path, problem = load(tmp_path, FAMILY)
    members = generate(problem, 4, 9, seed=3)
    members["u"][1, 4] = 1e300
    np.savez(tmp_path / "big.npz", **members)
    np.savez(tmp_path / "fine.npz", **generate(problem, 4, 9, seed=4))
    data = {"--data": ["--data", str(tmp_path / "big.npz")],
            "--test-data": ["--data", str(tmp_path / "fine.npz"), "--test-data", str(tmp_path / "big.npz")]}[option]
    argv = ["train", str(path), "--backend", "deeponet", "--mode", "supervised", *data, "--steps", "2", "--threads", "1",
            "-q", "--width", "8"]
    assert main([*argv, "--precision", "float32", "--out", str(tmp_path / "r32")]) == 1
    err = capsys.readouterr().err
    assert (f"{tmp_path / 'big.npz'}: 'u' has 1 value(s) beyond the range of float32 (+-3.4e+38; the first at index "
            "(1, 4)): train with --precision float64, or rescale the data") in err, err
    assert main([*argv, "--precision", "float64", "--out", str(tmp_path / "r64")]) == 0, capsys.readouterr().err
