"""Hard Dirichlet constraints hold exactly on the boundary and remove their residual from the loss."""

import torch

import pdedsl
from pdedsl.backends import create
from pdedsl.backends.hard import HardDirichlet, hard_dirichlet_conditions
from pdedsl.training import TrainConfig, train

SPEC = """problem p
domain O = box(x: [0, 2], y: [-1, 1])
field u, v
param c = 3
equation in O:
    -laplace(u) = 1
    -laplace(v) = u
boundary on boundary(O):
    u = c + x*y
    dn(v) = 0
"""


def test_only_plain_dirichlet_conditions_are_enforced():
    conditions = hard_dirichlet_conditions(pdedsl.load(SPEC))
    assert set(conditions) == {"u"} and conditions["u"][0] == "boundary_1"


VECTOR = """problem stokes_like
domain O = box(x: [0, 1], y: [0, 1])
time t: [0, 1]
field ux, uy, p
equation in O:
    (dt(ux), dt(uy)) = (laplace(ux) - d(p, x), laplace(uy) - d(p, y))
    div((ux, uy)) = 0
boundary on boundary(O):
    (ux, uy) = (0, x*(1 - x)*t)
    (dn(p),) = (0,)
initial:
    (ux, uy) = (0, 0)
"""


def test_vector_dirichlet_conditions_are_enforced_componentwise(tmp_path):
    """(ux, uy) = (0, g) is two Dirichlet conditions, built in like the two scalar lines would be; run
    folders from before keep them soft."""
    import json

    from pdedsl.training.run import Run

    problem = pdedsl.load(VECTOR)
    model = HardDirichlet(create("pinn", problem, width=8, depth=2).double(), problem)
    assert model.enforced == {"boundary_1[0]", "boundary_1[1]", "initial_1[0]", "initial_1[1]"}
    s = torch.linspace(0, 1, 5, dtype=torch.float64)
    t = 0.5 + 0 * s
    out = model({"x": s, "y": 0 * s, "t": t})
    assert torch.allclose(out["ux"], 0 * s, atol=1e-12) and torch.allclose(out["uy"], s * (1 - s) * t, atol=1e-12)
    start = model({"x": s, "y": 0.3 + 0 * s, "t": 0 * s})
    assert torch.allclose(start["uy"], 0 * s, atol=1e-12)

    path = tmp_path / "v.pde"
    path.write_text(VECTOR)
    config = TrainConfig(steps=2, lbfgs_steps=0, interior_points=16, boundary_points=4,
                         backend_options={"width": 8, "depth": 2})
    train(path, config, tmp_path / "run", progress=False)
    assert Run.open(tmp_path / "run").model.enforced == model.enforced
    settings = json.loads((tmp_path / "run" / "config.json").read_text())
    del settings["hard_vectors"]  # as written by earlier versions
    (tmp_path / "run" / "config.json").write_text(json.dumps(settings))
    assert Run.open(tmp_path / "run").model.enforced == set()


def test_an_initial_value_that_mentions_t_is_its_value_at_the_start():
    """u = sin(pi x) + t at t0 = 1 is sin(pi x) + 1: built in as such, the boundary value 1 still holds."""
    problem = pdedsl.load("problem p\ndomain R = interval(x: [0, 1])\ntime t: [1, 2]\nfield u\n"
                          "equation in R:\n    dt(u) = d(u, x, 2)\nboundary on boundary(R):\n    u = 1\n"
                          "initial:\n    u = sin(pi*x) + t\n")
    model = HardDirichlet(create("pinn", problem, width=8, depth=2).double(), problem)
    assert model.enforced == {"boundary_1", "initial_1"}
    x = torch.tensor([0.0, 1.0, 0.0, 0.5, 0.25], dtype=torch.float64)
    t = torch.tensor([2.0, 1.5, 1.0, 1.0, 1.0], dtype=torch.float64)
    u = model({"x": x, "t": t})["u"]
    assert torch.allclose(u, torch.sin(torch.pi * x) * (t == 1) + 1, atol=1e-12)


def test_boundary_values_hold_exactly():
    problem = pdedsl.load(SPEC)
    model = HardDirichlet(create("pinn", problem, width=8, depth=2).double(), problem)
    s = torch.linspace(-1, 1, 7, dtype=torch.float64)
    faces = [(torch.zeros_like(s), s), (2 + 0 * s, s), (1 + s, -1 + 0 * s), (1 + s, 1 + 0 * s)]
    for x, y in faces:
        u = model({"x": x, "y": y})["u"]
        assert torch.allclose(u, 3 + x * y, atol=1e-12)
    inside = model({"x": torch.tensor([1.0], dtype=torch.float64), "y": torch.tensor([0.0], dtype=torch.float64)})
    assert inside["u"].shape == (1,)


def test_training_with_hard_constraints(tmp_path):
    path = tmp_path / "p.pde"
    path.write_text(SPEC)
    config = TrainConfig(steps=20, lbfgs_steps=5, interior_points=64, boundary_points=16, hard_dirichlet=True,
                         backend_options={"width": 8, "depth": 2}, precision="float64")
    result = train(path, config, tmp_path / "run", progress=False)
    import json

    terms = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])["terms"]
    assert "boundary_1" not in terms and "boundary_2" in terms
    assert result["steps"] == 25


TRAVELLING = """problem wave
domain O = interval(x: [-1, 2])
time t: [0.5, 1.5]
field u
equation in O:
    dt(u) + d(u, x) = 0
boundary on boundary(O):
    u = sin(x - t)
initial:
    u = sin(x - 0.5)
"""


def _grid(problem, n=9):
    x = torch.linspace(-1, 2, n, dtype=torch.float64)
    t = torch.linspace(0.5, 1.5, n, dtype=torch.float64)
    return torch.meshgrid(x, t, indexing="ij")


def test_initial_values_and_a_time_dependent_boundary_hold_together():
    problem = pdedsl.load(TRAVELLING)
    model = HardDirichlet(create("pinn", problem, width=8, depth=2, seed=4).double(), problem)
    assert model.enforced == {"boundary_1", "initial_1"}
    x, t = _grid(problem)
    u = model({"x": x.reshape(-1), "t": t.reshape(-1)})["u"].reshape(x.shape)
    assert torch.allclose(u[:, 0], torch.sin(x[:, 0] - 0.5), atol=1e-12)  # t = t0
    assert torch.allclose(u[0], torch.sin(-1 - t[0]), atol=1e-12) and torch.allclose(u[-1], torch.sin(2 - t[-1]),
                                                                                     atol=1e-12)
    assert (u[1:-1, 1:] - torch.sin(x[1:-1, 1:] - t[1:-1, 1:])).abs().max() > 1e-3  # the network still acts inside


def test_initial_values_that_contradict_the_boundary_stay_soft():
    problem = pdedsl.load(TRAVELLING.replace("u = sin(x - 0.5)", "u = 1"))
    model = HardDirichlet(create("pinn", problem, width=8, depth=2).double(), problem)
    assert model.enforced == {"boundary_1"}


def test_initial_values_without_a_hard_boundary_and_rates_stay_as_they_should():
    spec = TRAVELLING.replace("u = sin(x - t)", "dn(u) = 0").replace("dt(u) + d(u, x) = 0", "d(u, t, 2) = d(u, x, 2)")
    spec = spec.replace("    u = sin(x - 0.5)\n", "    u = sin(x - 0.5)\n    dt(u) = 0\n")
    problem = pdedsl.load(spec)
    model = HardDirichlet(create("pinn", problem, width=8, depth=2).double(), problem)
    assert model.enforced == {"initial_1"}  # the rate and the Neumann condition stay loss terms
    x, t = _grid(problem)
    u = model({"x": x[:, 0], "t": t[:, 0]})["u"]
    assert torch.allclose(u, torch.sin(x[:, 0] - 0.5), atol=1e-12)


def test_values_with_random_params_stay_soft_and_operators_train(tmp_path):
    """A value that changes from member to member (a random param) cannot be built into one model."""
    spec = TRAVELLING.replace("field u\n", "field u\nparam k ~ uniform(1, 2)\n")
    spec = spec.replace("u = sin(x - t)", "u = k * sin(x - t)").replace("u = sin(x - 0.5)", "u = k * sin(x - 0.5)")
    problem = pdedsl.load(spec)
    assert HardDirichlet(create("pinn", problem, width=8, depth=2).double(), problem).enforced == set()
    path = tmp_path / "family.pde"
    path.write_text(spec)
    config = TrainConfig(backend="deeponet", samples=8, batch_size=4, steps=3, test_samples=0, grid=9,
                         interior_points=16, boundary_points=4, backend_options={"width": 8, "depth": 2})
    assert train(path, config, tmp_path / "run", progress=False)["steps"] == 3


def test_run_folders_from_before_hard_initial_values_keep_them_soft(tmp_path):
    import json

    from pdedsl.training.run import Run

    path = tmp_path / "wave.pde"
    path.write_text(TRAVELLING)
    config = TrainConfig(steps=2, lbfgs_steps=0, interior_points=16, boundary_points=4,
                         backend_options={"width": 8, "depth": 2})
    train(path, config, tmp_path / "run", progress=False)
    assert Run.open(tmp_path / "run").model.enforced == {"boundary_1", "initial_1"}
    settings = json.loads((tmp_path / "run" / "config.json").read_text())
    del settings["hard_initial"]  # as written by earlier versions
    (tmp_path / "run" / "config.json").write_text(json.dumps(settings))
    assert Run.open(tmp_path / "run").model.enforced == {"boundary_1"}


UNDEFINED = """problem undefined_value
domain O = box(x: [0, 1], y: [0, 1])
field u
equation in O:
    -laplace(u) = 1
boundary on boundary(O):
    u = {value}
"""


def test_a_value_undefined_on_a_face_stays_a_loss_term_and_is_refused_at_its_line(tmp_path, capsys):
    """Built in, u = 1/x made the field infinite on the face x = 0 and huge next to it (a loss of 1e18, exit 0);
    as a loss term it is refused before the first step, at its line."""
    from pdedsl.cli import main

    assert hard_dirichlet_conditions(pdedsl.load(UNDEFINED.format(value="1/x"))) == {}
    spec = tmp_path / "undefined.pde"
    spec.write_text(UNDEFINED.format(value="1/x"))
    assert main(["train", str(spec), "--steps", "2", "--lbfgs-steps", "0", "--points", "50", "-q",
                 "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "undefined.pde:7:5: boundary 'boundary_1' is NaN or infinite" in err
    assert not (tmp_path / "run").exists()


def test_a_value_singular_inside_the_box_stays_a_loss_term(tmp_path):
    """u = 1/(x - 0.5) is defined on every face, but built in it extends into the interior, where it is
    infinite: as a loss term it is read on the faces alone, and training is finite."""
    assert hard_dirichlet_conditions(pdedsl.load(UNDEFINED.format(value="1/(x - 0.5)"))) == {}
    assert set(hard_dirichlet_conditions(pdedsl.load(UNDEFINED.format(value="1/(x + 0.5)")))) == {"u"}
    spec = tmp_path / "singular.pde"
    spec.write_text(UNDEFINED.format(value="1/(x - 0.5)"))
    result = train(str(spec), TrainConfig(steps=3, lbfgs_steps=0, interior_points=50, optimizer="lbfgs"),
                   tmp_path / "run", progress=False)
    assert result["steps"] == 3 and result["skipped_steps"] == 0


def test_an_initial_value_undefined_somewhere_stays_a_loss_term():
    """A periodic rod whose start is sqrt(x - 0.5) (NaN on half of it) was built into the model silently."""
    from pdedsl.backends.hard import hard_initial_conditions

    rod = ("domain I = interval(x: [0, 1])\ntime t: [0, 1]\nfield u\nequation in I:\n    dt(u) = d(u, x, 2)\n"
           "periodic u in x\ninitial:\n    u = {}\n")
    assert hard_initial_conditions(pdedsl.load(rod.format("sqrt(x - 0.5)")), {}, {}) == {}
    assert set(hard_initial_conditions(pdedsl.load(rod.format("sqrt(x + 0.5)")), {}, {})) == {"u"}


def test_an_initial_value_on_a_ball_is_checked_inside_the_ball_alone():
    """The check of a built-in value reads the physics domain's own points (on a ball, not the corners of its
    bounding box, where sqrt(1 - r^2) is undefined); a first version read a box and failed on a ball."""
    from pdedsl.backends.hard import hard_initial_conditions

    ball = ("domain B = ball(center: (0, 0, 0), radius: 1)\ntime t: [0, 1]\nfield u\nequation in B:\n"
            "    dt(u) = laplace(u)\nboundary on boundary(B):\n    dn(u) = 0\ninitial:\n    u = {}\n")
    assert set(hard_initial_conditions(pdedsl.load(ball.format("sqrt(1.01 - x^2 - y^2 - z^2)")), {}, {})) == {"u"}
    assert hard_initial_conditions(pdedsl.load(ball.format("sqrt(0.5 - x^2 - y^2 - z^2)")), {}, {}) == {}
