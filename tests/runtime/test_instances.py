"""One seeded draw of a spec's random inputs and params (runtime/instances.py)."""

from pathlib import Path

import numpy as np
import pytest
import torch

import pdedsl
from pdedsl.runtime.instances import InstanceError, draw_instance

SPECS = Path(__file__).resolve().parents[2] / "specs"


def test_a_two_phase_input_is_drawn_reproducibly_with_two_values():
    problem = pdedsl.load(SPECS / "darcy_two_phase.pde")
    first, again, other = (draw_instance(problem, seed, points=65) for seed in (0, 0, 1))
    a = first.inputs["a"]
    assert a.shape == (65, 65) and set(np.unique(a)) == {5.0, 10.0}
    assert np.array_equal(a, again.inputs["a"]) and not np.array_equal(a, other.inputs["a"])
    assert 0.2 < (a == 10).mean() < 0.8  # threshold at the field's mean: both phases present
    field = first.interpolant("a")
    x, y = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64), torch.tensor([0.0, 0.25, 1.0], dtype=torch.float64)
    assert set(field({"x": x, "y": y}).tolist()) <= {5.0, 10.0}  # nearest node: no mixed values in between


def test_a_log_normal_input_is_positive_and_interpolated_linearly():
    instance = draw_instance(pdedsl.load(SPECS / "darcy_lognormal.pde"), 3, points=33)
    a = instance.inputs["a"]
    assert (a > 0).all() and not instance.piecewise["a"]
    field = instance.interpolant("a")
    mid = torch.tensor([0.5 / 32], dtype=torch.float64)
    value = field({"x": mid, "y": torch.zeros(1, dtype=torch.float64)})
    assert float(value) == pytest.approx((a[0, 0] + a[1, 0]) / 2)


def test_random_params_are_drawn_from_their_priors():
    problem = pdedsl.load(SPECS / "parametric_diffusion.pde")
    drawn = [draw_instance(problem, seed).params for seed in range(40)]
    priors = {p.name: [float(v) for v in p.prior.args] for p in problem.params if p.is_random}
    for name, (low, high) in priors.items():  # all uniform in this spec
        values = [d[name] for d in drawn]
        assert all(low <= v <= high for v in values) and len(set(values)) == 40


PRIOR_EXPRESSIONS = """problem prior_expressions
domain Omega = box(x: [0, 1], y: [0, 1])
field u
param k ~ exp(normal(0, 0.5))
param c ~ 1 + uniform(0, 1)^2
input a ~ threshold(gaussian_field(length: 0.2) + 4*x - 2, below: 1, above: 2)
equation in Omega:
    -div(a * grad(u)) + k*c*u = 1
boundary on boundary(Omega):
    u = 0
"""


def test_priors_are_expressions_of_primitives_for_params_and_thresholds(tmp_path):
    spec = tmp_path / "expressions.pde"
    spec.write_text(PRIOR_EXPRESSIONS)
    problem = pdedsl.load(spec)
    drawn = [draw_instance(problem, seed, points=17) for seed in range(200)]
    k = np.array([d.params["k"] for d in drawn])
    c = np.array([d.params["c"] for d in drawn])
    assert np.all(k > 0) and abs(np.median(np.log(k))) < 0.1 and 0.4 < np.std(np.log(k)) < 0.6  # log-normal
    assert np.all((1 <= c) & (c <= 2)) and abs(np.mean(c) - 4 / 3) < 0.05  # E[1 + U^2] = 4/3
    a = np.stack([d.inputs["a"] for d in drawn])
    assert set(np.unique(a)) == {1.0, 2.0}
    # the level rises with x: mostly 1 on the left edge, mostly 2 on the right
    assert np.mean(a[:, 0, :] == 1) > 0.9 and np.mean(a[:, -1, :] == 2) > 0.9


def test_the_instance_is_saved_in_the_input_file_layout(tmp_path):
    instance = draw_instance(pdedsl.load(SPECS / "advection_diffusion.pde"), 0, points=17)
    path = instance.save(tmp_path / "instance.npz")
    with np.load(path) as data:
        assert data["s"].shape == (17, 17) and data["x"].shape == (17,)
        assert float(data["theta"]) == instance.params["theta"]


def test_a_prior_that_is_not_a_field_is_refused(tmp_path):
    spec = tmp_path / "bad.pde"
    spec.write_text("problem bad\ndomain O = interval(x: [0, 1])\nfield u\ninput a ~ uniform(1, 2)\n"
                    "equation in O:\n    -d(a*d(u, x), x) = 1\nboundary on boundary(O):\n    u = 0\n")
    try:
        problem = pdedsl.load(spec)
    except pdedsl.PdeError:
        return  # the front end already refuses it: fine
    with pytest.raises(InstanceError, match="not a random field"):
        draw_instance(problem, 0)


def test_draws_share_one_sampler_per_prior_and_keep_their_streams():
    from pdedsl.runtime import priors
    from pdedsl.runtime.instances import _matern_field

    problem = pdedsl.load(SPECS / "darcy_two_phase_paper.pde")  # long correlation: the costly dense sampler
    first = draw_instance(problem, 7, points=29)
    assert _matern_field(0.471, 1.0) is _matern_field(0.471, 1.0)  # its set-up is paid once per family
    # the field comes from the first child of SeedSequence(seed), as when every draw spawned 1024 of them
    child = np.random.SeedSequence(7).spawn(1024)[0]
    x = np.linspace(0.0, 1.0, 29)
    expected = np.where(priors.MaternField(0.471, 1.0).sample([x, x], 1, child)[0] > 0, 10.0, 5.0)
    assert np.array_equal(first.inputs["a"], expected)


def test_a_draw_that_is_not_finite_is_refused_at_the_input(tmp_path):
    spec = tmp_path / "sqrt.pde"  # negative at 6.7% of the points: check warns, the draw is refused
    spec.write_text("problem p\ndomain O = interval(x: [0, 1])\nfield u\n"
                    "input a ~ sqrt(3 + 2*gaussian_field(length: 0.2))\n"
                    "equation in O:\n    -d(a*d(u, x), x) = 1\nboundary on boundary(O):\n    u = 0\n")
    with pytest.raises(InstanceError) as raised:
        draw_instance(pdedsl.load(spec), 0, points=257)
    message = str(raised.value)
    assert message.startswith(f"{spec}:4:1: input a: a draw of its prior is not finite everywhere")
    assert "a Gaussian field takes negative values" in message


def test_a_param_draw_that_is_not_finite_is_refused_at_the_param(tmp_path):
    spec = tmp_path / "log.pde"  # the log of a normal number is undefined for half the draws
    spec.write_text("problem p\ndomain O = interval(x: [0, 1])\nfield u\nparam k ~ log(normal(0, 1))\n"
                    "equation in O:\n    -k*d(u, x, 2) = 1\nboundary on boundary(O):\n    u = 0\n")
    problem = pdedsl.load(spec)
    with pytest.raises(InstanceError) as raised:
        for seed in range(20):
            draw_instance(problem, seed, points=9)
    assert str(raised.value).startswith(f"{spec}:4:1: param k: a draw of its prior log(normal(mean: 0.0, std: 1.0)) is "
                                        "not finite")
