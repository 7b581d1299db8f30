"""The forward (jet) derivative engine against nested reverse-mode autograd.

For every spec, every derivative its residuals need is computed both ways on
a random network (with the hard-Dirichlet wrapper where the spec allows it),
in float64, and must agree to rounding. Further tests cover each activation
up to fourth order, mixed partials, Fourier features, products of jets and
the choice of engine.
"""

from pathlib import Path

import pytest
import torch

from pdedsl import api
from pdedsl.backends import create
from pdedsl.backends.hard import HardDirichlet
from pdedsl.backends.pinn import ACTIVATIONS
from pdedsl.codegen.loader import load_module
from pdedsl.runtime import derivatives, elementwise
from pdedsl.runtime.jets import Jet, JetTable, cat, from_autograd
from pdedsl.runtime.residuals import bind_arguments, contraction_of, requests_of
from pdedsl.training.objective import FieldSource

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.pde"))


def _points(model, count: int, seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    low, half = model.center - model.half_width, 2 * model.half_width
    return {name: (low[i] + half[i] * torch.rand(count, generator=generator, dtype=torch.float64))
            for i, name in enumerate(model.coordinate_names)}


def _both_ways(model, coords, requests, axes):
    forward = derivatives.compute(model, coords, requests, axes, engine="forward")
    grad_coords = {a: t.detach().requires_grad_(True) for a, t in coords.items()}
    backward = derivatives.compute(model, grad_coords, requests, axes, engine="autograd")
    return forward, backward


def _assert_close(forward, backward):
    for request, value in backward.items():
        scale = 1 + value.detach().abs().max().item()
        error = (forward[request] - value).abs().max().item()
        assert error <= 1e-9 * scale, f"{request}: forward and autograd differ by {error:.3g} (scale {scale:.3g})"


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_every_needed_derivative_matches_autograd(spec):
    problem = api.load(spec)
    module = load_module(api.compile(spec))
    network = create("pinn", problem, width=12, depth=3, activation="tanh", seed=3).double()
    model = HardDirichlet(network, problem).double()
    fields = set(network.field_names)
    requests = [r for r in module.DERIVATIVES if r[0] in fields]
    assert requests
    axes = [c.name for c in problem.coordinates]
    forward, backward = _both_ways(model, _points(network, 33, seed=len(spec.stem)), requests, axes)
    _assert_close(forward, backward)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_fourth_order_mixed_partials_for_every_activation(activation):
    problem = api.load(SPECS[0].parent / "plate_bending.pde")
    model = create("pinn", problem, width=8, depth=2, activation=activation, seed=1).double()
    requests = [("u", orders) for orders in ((("x", 4),), (("x", 2), ("y", 2)), (("x", 1), ("y", 3)),
                                             (("y", 1),), (("x", 3),), ())]
    _assert_close(*_both_ways(model, _points(model, 17, seed=2), requests, ["x", "y"]))


def test_fourier_features_and_axis_order_independence():
    problem = api.load(SPECS[0].parent / "heat.pde")
    model = create("pinn", problem, width=8, depth=2, fourier_features=4, seed=5).double()
    requests = [("u", (("t", 1),)), ("u", (("x", 2),)), ("u", (("x", 1), ("t", 1)))]
    coords = _points(model, 21, seed=4)
    _assert_close(*_both_ways(model, coords, requests, ["x", "t"]))
    _assert_close(*_both_ways(model, coords, requests, ["t", "x"]))


def test_jet_algebra_matches_closed_forms():
    table = JetTable([(0, 0, 1), (1, 1, 1)], 2)
    x = torch.linspace(0.1, 0.9, 5, dtype=torch.float64)
    y = torch.linspace(-0.3, 0.7, 5, dtype=torch.float64)
    jx, jy = Jet.coordinate(table, x, 0), Jet.coordinate(table, y, 1)
    f = (jx * jx * jy).map(elementwise.exp) - jy * 3.0 + 1.0  # exp(x^2 y) - 3 y + 1
    e = torch.exp(x * x * y)
    assert torch.allclose(f.value, e - 3 * y + 1)
    assert torch.allclose(f.derivative((0,)), 2 * x * y * e)
    assert torch.allclose(f.derivative((1,)), x * x * e - 3)
    assert torch.allclose(f.derivative((1, 1, 1)), x ** 6 * e)
    # d^2/dx^2 d/dy of exp(x^2 y), differentiated by hand
    expected = e * (2 + 10 * x * x * y + 4 * x ** 4 * y * y)
    assert torch.allclose(f.derivative((0, 0, 1)), expected)
    column = Jet(table, [None if p is None else p.unsqueeze(-1) for p in f.parts])
    both = cat([column, Jet.constant(table, torch.ones(5, 1, dtype=torch.float64))])
    assert torch.equal(both.select(1).derivative((0,)), torch.zeros(5, dtype=torch.float64))
    assert torch.allclose(both.select(0).derivative((0, 0, 1)), expected)


def test_from_autograd_is_the_fallback_for_plain_functions():
    table = JetTable([(0, 1)], 2)
    x = torch.rand(6, dtype=torch.float64, requires_grad=True)
    y = torch.rand(6, dtype=torch.float64, requires_grad=True)
    jet = from_autograd(torch.sin(x) * y ** 2, [x, y], table)
    assert torch.allclose(jet.derivative((0, 1)), 2 * y * torch.cos(x))
    assert torch.equal(jet.derivative(()), torch.sin(x) * y ** 2)


def test_engine_choice():
    problem = api.load(SPECS[0].parent / "poisson.pde")
    model = create("pinn", problem, width=8, depth=2)
    assert derivatives.chosen_engine(model) == "forward"
    assert derivatives.chosen_engine(model, "autograd") == "autograd"
    assert derivatives.chosen_engine({"u": torch.zeros(3)}) == "autograd"
    with pytest.raises(derivatives.EngineError, match="forward derivative engine"):
        derivatives.chosen_engine({"u": torch.zeros(3)}, "forward")
    with pytest.raises(derivatives.EngineError, match="unknown derivative engine"):
        derivatives.chosen_engine(model, "symbolic")


def test_forward_engine_computes_each_layer_once():
    """One pass through the network for all requests, however many derivatives they ask for."""
    problem = api.load(SPECS[0].parent / "plate_bending.pde")
    model = create("pinn", problem, width=8, depth=3).double()
    calls = []
    original = Jet.linear

    def counting(self, weight, bias=None):
        calls.append(weight.shape)
        return original(self, weight, bias)

    Jet.linear = counting
    try:
        derivatives.compute(model, _points(model, 9, 0), [("u", (("x", 4),)), ("u", (("x", 2), ("y", 2))),
                                                        ("u", (("y", 1),))], ["x", "y"])
    finally:
        Jet.linear = original
    assert len(calls) == len(model.layers)


CONTRACTED = [s for s in SPECS if any(e["contraction"] for e in load_module(api.compile(s)).RESIDUALS)]


@pytest.mark.parametrize("spec", CONTRACTED, ids=[s.stem for s in CONTRACTED])
def test_contracted_laplacians_give_the_same_residuals(spec):
    """Carrying u_xx + u_yy as one component changes no residual value."""
    problem = api.load(spec)
    module = load_module(api.compile(spec))
    network = create("pinn", problem, width=10, depth=2, activation="gelu", seed=7).double()
    model = HardDirichlet(network, problem).double()
    axes = [c.name for c in problem.coordinates]
    coords = _points(network, 25, seed=11)
    generator = torch.Generator().manual_seed(0)
    normals = {a: torch.randn(25, generator=generator, dtype=torch.float64) for a in axes}
    params = {name: torch.tensor(0.7 if value is None else value, dtype=torch.float64)
              for name, value in module.PARAMS.items()}
    inputs = {name: (lambda c, k=k: 1.5 + torch.sin(sum((k + 1) * t for t in c.values())))
              for k, name in enumerate(module.INPUTS)}  # smooth stand-ins for data and random inputs
    source = FieldSource(model, inputs)
    first = next(e for e in module.RESIDUALS if e["contraction"])
    entries = [e for e in module.RESIDUALS if (e["kind"], e["target"]) == (first["kind"], first["target"])]
    contraction = contraction_of(entries)
    assert contraction == first["contraction"]
    requests = requests_of(entries)
    grad_coords = {a: t.detach().requires_grad_(True) for a, t in coords.items()}
    fast = derivatives.compute(source, grad_coords, requests, axes, "forward", contraction)
    slow = derivatives.compute(source, grad_coords, requests, axes, "autograd")
    for entry in entries:
        a = entry["function"](**bind_arguments(entry, fast, grad_coords, normals, params))
        b = entry["function"](**bind_arguments(entry, slow, grad_coords, normals, params))
        assert torch.allclose(torch.as_tensor(a).detach(), torch.as_tensor(b).detach(), rtol=1e-9, atol=1e-9), \
            entry["name"]


def test_contraction_needs_every_reader_to_agree():
    agree = {"arguments": {"a": ("derivative", ("u", (("x", 2),)))}, "contraction": (("x", 1.0), ("y", 1.0))}
    alone = {"arguments": {"a": ("derivative", ("u", (("x", 2),)))}, "contraction": None}
    unrelated = {"arguments": {"a": ("derivative", ("u", (("x", 1),)))}, "contraction": None}
    assert contraction_of([agree, unrelated]) == (("x", 1.0), ("y", 1.0))
    assert contraction_of([agree, alone]) is None
    assert contraction_of([unrelated]) is None


@pytest.mark.parametrize("activation", sorted(elementwise.TOWERS))
def test_hand_written_backward_passes_gradcheck(activation):
    """The elementwise jet node's backward, against finite differences, with full and broadcast parts."""
    from pdedsl.runtime.jet_map import _node_type

    generator = torch.Generator().manual_seed(0)
    table = JetTable([(0, 0, 1), (1, 1), (0, 1, 1, 1)], 2, [((0, 1.0), (1, 2.5))])

    def random(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_(True)

    z = random(2, 2)
    parts = [random(len(table.by_order[m]), 2, 2) for m in range(1, 5)]
    broadcast_first = random(len(table.by_order[1]), 1, 2)
    tower = elementwise.TOWERS[activation]
    every = (True,) * 5

    def full(*tensors):
        return _node_type(table, tower, every).apply(*tensors)

    def first_layer(z, first):
        return _node_type(table, tower, (True, True, False, False, False)).apply(z, first)

    produced = full(z, *parts)[:5]  # every output part carries a gradient (gradcheck skips those that do not)
    assert all(part.requires_grad for part in produced), [part.requires_grad for part in produced]
    assert torch.autograd.gradcheck(full, (z, *parts))
    assert torch.autograd.gradcheck(full, (z, broadcast_first, *parts[1:]))
    assert torch.autograd.gradcheck(first_layer, (z, broadcast_first))


def test_auto_engine_follows_the_cost_model():
    """Laplacians go forward (a contracted component against several reverse passes); Burgers' u_t, u_x,
    u_xx cost about the same either way and stay on autograd; explicit choices are obeyed."""
    def engine(spec, choice="auto"):
        problem = api.load(SPECS[0].parent / spec)
        module = load_module(api.compile(SPECS[0].parent / spec))
        entries = [e for e in module.RESIDUALS if e["kind"] == "equation"]
        model = create("pinn", problem, width=8, depth=2)
        axes = [c.name for c in problem.coordinates]
        return derivatives.engine_for(model, requests_of(entries), axes, contraction_of(entries), choice)

    assert engine("poisson.pde") == "forward"
    assert engine("ball_poisson.pde") == "forward"
    assert engine("burgers.pde") == "autograd"
    assert engine("burgers.pde", "forward") == "forward"
    assert engine("poisson.pde", "autograd") == "autograd"
