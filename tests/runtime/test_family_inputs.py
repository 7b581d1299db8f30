"""Formula inputs of a family: which are sensor channels, their values per member, and training with them."""

import json
import re

import numpy as np
import pytest

from pdedsl import api
from pdedsl.reference.dataset import generate
from pdedsl.runtime.family import draw_pool, pool_from_arrays, varying_inputs
from pdedsl.training import TrainConfig, train

# a source that reads a random param and time: no sensor channel (the sensor grid has space axes only)
FORCED_HEAT = """problem forced_heat
domain Omega = interval(x: [0, 1])
time t: [0, 1]
field u
param w ~ uniform(1, 3)
input f = sin(w*pi*x)*exp(-t)
equation in Omega:
    dt(u) - d(u, x, 2) = f
boundary on boundary(Omega):
    u = 0
initial:
    u = 0
"""

# formulas of a random input and a random param, one through the other
RANDOM_REACTION = """problem random_reaction
domain Omega = box(x: [0, 1], y: [0, 1])
field u
param k ~ normal(1, 0.1)
param s ~ uniform(-1, 1)
input f ~ gaussian_field(length: 0.3, variance: 1)
input f2 = f + s
input f3 = 2*f2 + x
equation in Omega:
    -laplace(u) + k^2*u = f3
boundary on boundary(Omega):
    u = 0
"""

# a two-phase coefficient thresholded from a random input declared on its own (one draw of g serves both)
THRESHOLDED = """problem thresholded
domain Omega = box(x: [0, 1], y: [0, 1])
field u
input g ~ gaussian_field(length: 0.3)
input a ~ threshold(g, below: 5, above: 10)
equation in Omega:
    -div(a*grad(u)) = 1 + g^2
boundary on boundary(Omega):
    u = 0
"""


def load(tmp_path, text):
    path = tmp_path / "spec.pde"
    path.write_text(text)
    return path, api.load(path)


def test_a_formula_input_that_reads_time_is_no_sensor_channel(tmp_path):
    _, problem = load(tmp_path, FORCED_HEAT)
    assert varying_inputs(problem) == ()
    pool = draw_pool(problem, 3, 9, seed=1)
    assert pool.layout.channels == () and pool.layout.scalars == ("w",) and pool.params["w"].shape == (3,)


def test_formula_inputs_read_each_members_random_inputs(tmp_path):
    """The channel of ``f2 = f + s`` is the member's own f plus its own s; ``f3`` reads f2 in turn."""
    _, problem = load(tmp_path, RANDOM_REACTION)
    assert varying_inputs(problem) == ("f", "f2", "f3")
    x = np.linspace(0, 1, 9)[:, None]
    drawn = draw_pool(problem, 3, 9, seed=2)
    labelled = pool_from_arrays(problem, generate(problem, 3, 9, seed=2), "generated")
    for pool in (drawn, labelled):
        f, f2, f3 = (pool.grid_inputs[name] for name in ("f", "f2", "f3"))
        assert f.shape == f2.shape == f3.shape == (3, 9, 9) and np.ptp(f[0]) > 0
        for member, s in enumerate(pool.params["s"]):
            np.testing.assert_allclose(f2[member], f[member] + s, atol=1e-12)
            np.testing.assert_allclose(f3[member], 2 * (f[member] + s) + x, atol=1e-12)
    np.testing.assert_allclose(drawn.grid_inputs["f2"], labelled.grid_inputs["f2"])


def test_a_formula_input_reads_a_data_input_at_the_sensor_nodes(tmp_path):
    nodes = np.linspace(0, 1, 11)
    np.savez(tmp_path / "k.npz", x=nodes, y=nodes, k0=np.add.outer(nodes, 2 * nodes))
    spec = RANDOM_REACTION.replace("input f2 = f + s", 'input k0 from "k.npz"\ninput f2 = k0*s + f')
    _, problem = load(tmp_path, spec)
    pool = draw_pool(problem, 2, 5, seed=3)
    x, y = np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 5), indexing="ij")
    for member, s in enumerate(pool.params["s"]):
        np.testing.assert_allclose(pool.grid_inputs["f2"][member], (x + 2 * y) * s + pool.grid_inputs["f"][member],
                                   atol=1e-12)


def test_a_prior_over_another_random_input_is_a_function_of_the_same_draw(tmp_path):
    """'input a ~ threshold(g, below: 5, above: 10)' after 'input g ~ gaussian_field(...)': the language's
    priors are expressions over random fields, and g is one; a is 5 where the member's own g is negative and
    10 elsewhere (it was refused: 'input g cannot be used in a prior')."""
    _, problem = load(tmp_path, THRESHOLDED)
    assert varying_inputs(problem) == ("g", "a")
    drawn = draw_pool(problem, 3, 9, seed=2)
    labelled = pool_from_arrays(problem, generate(problem, 3, 9, seed=2), "generated")
    for pool in (drawn, labelled):
        g, a = pool.grid_inputs["g"], pool.grid_inputs["a"]
        assert a.shape == g.shape == (3, 9, 9) and (g < 0).any() and (g > 0).any()
        np.testing.assert_array_equal(a, np.where(g < 0, 5.0, 10.0))
    np.testing.assert_allclose(drawn.grid_inputs["a"], labelled.grid_inputs["a"])


@pytest.mark.parametrize("backend", ["deeponet", "dgno"])
@pytest.mark.parametrize("spec", [FORCED_HEAT, RANDOM_REACTION, THRESHOLDED],
                         ids=["reads_time", "reads_random_input", "thresholds_a_random_input"])
def test_families_with_such_formula_inputs_train(tmp_path, backend, spec):
    path, _ = load(tmp_path, spec)
    options = {"width": 8, "depth": 1} | ({"latent": 4, "encoder_width": 8} if backend == "dgno" else {})
    config = TrainConfig(backend=backend, steps=3, samples=4, batch_size=2, grid=9, interior_points=32,
                         boundary_points=8, test_samples=0, backend_options=options)
    result = train(path, config, tmp_path / "run", progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert result["steps"] == 3 and np.isfinite(records[-1]["loss"])


@pytest.mark.parametrize("axis, shift, message", [
    ("t", 1.0, "its 't' runs over [1, 2], past the problem's time interval [0, 1]"),
    ("x", -0.5, "its 'x' runs over [-0.5, 0.5], past the problem's domain [0, 1]")])
def test_members_on_another_problems_grid_are_refused(tmp_path, axis, shift, message):
    """Data made for t in [1, 2] given to a spec of [0, 1] used to be learned at the wrong times, silently."""
    from pdedsl.runtime.family import FamilyError

    _, problem = load(tmp_path, FORCED_HEAT)
    arrays = generate(problem, 2, 9, seed=0)
    arrays[axis] = arrays[axis] + shift
    with pytest.raises(FamilyError, match=re.escape(message)):
        pool_from_arrays(problem, arrays, "moved.npz")


def test_members_to_predict_for_past_the_time_interval_are_warned_about(tmp_path, capsys):
    _, problem = load(tmp_path, FORCED_HEAT)
    arrays = generate(problem, 2, 9, seed=0)
    del arrays["u"]
    arrays["t"] = np.linspace(0, 5, 7)
    pool = pool_from_arrays(problem, arrays, "later.npz", labelled=False)
    assert len(pool) == 2
    assert "later.npz: its 't' runs over [0, 5], past the problem's time interval [0, 1]: the model extrapolates" \
        in capsys.readouterr().err


@pytest.mark.parametrize("change, message", [
    (lambda x: x[::-1], "its 'x' is not strictly increasing"),
    (lambda x: np.concatenate([x[:3], x[2:3], x[4:]]), "its 'x' is not strictly increasing"),
    (lambda x: 0.5 * x, "its 'x' runs over [0, 0.5], which does not span the problem's domain [0, 1]")])
def test_members_on_a_grid_that_is_no_grid_of_the_domain_are_refused(tmp_path, change, message):
    """A reversed or repeated axis was an internal error; half the domain was blamed on the run's own test set."""
    from pdedsl.runtime.family import FamilyError

    _, problem = load(tmp_path, FORCED_HEAT)
    arrays = generate(problem, 2, 9, seed=0)
    arrays["x"] = change(arrays["x"])
    with pytest.raises(FamilyError, match=re.escape(message)):
        pool_from_arrays(problem, arrays, "odd.npz")


def test_one_members_input_without_its_member_axis_is_explained(tmp_path):
    from pdedsl.runtime.family import FamilyError

    _, problem = load(tmp_path, RANDOM_REACTION)
    arrays = generate(problem, 2, 9, seed=0)
    one = {"x": arrays["x"], "y": arrays["y"], "f": arrays["f"][0], "k": arrays["k"][:1], "s": arrays["s"][:1]}
    with pytest.raises(FamilyError, match=re.escape("one member's values: members come first, ('n', 9, 9)")):
        pool_from_arrays(problem, one, "members", labelled=False)
