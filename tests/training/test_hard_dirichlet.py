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
