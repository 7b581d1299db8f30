"""The fno backend: shapes, interpolation between grid nodes, gradients, seeding, and a small fit."""

import numpy as np
import pytest
import torch

from pdedsl import api
from pdedsl.backends import create
from pdedsl.backends.base import BackendError
from pdedsl.backends.fno import FNO
from pdedsl.backends.operator import OperatorInputs, SensorLayout

ROD = """problem random_rod
domain O = interval(x: [0, 1])
field u
input a ~ exp(gaussian_field(length: 0.2, smoothness: 1.5))
equation in O:
    -d(u, x, 2) = a
boundary on boundary(O):
    u = 0
"""

PLATE = """problem random_plate
domain Omega = box(x: [0, 1], y: [0, 1])
field u
field v
input a ~ exp(gaussian_field(length: 0.2, smoothness: 1.5))
equation in Omega:
    -div(a * grad(u)) = 1
equation in Omega:
    -div(grad(v)) = u
boundary on boundary(Omega):
    u = 0
boundary on boundary(Omega):
    v = 0
"""

PARAMETRIC = """problem parametric
domain Omega = box(x: [0, 1], y: [0, 1], z: [0, 1])
field u
param k ~ uniform(0.5, 2.0)
param b ~ uniform(3, 6)
input g = 2.1 + sin(b*x)
equation in Omega:
    -div(g * grad(u)) + k*u = 1
boundary on boundary(Omega):
    u = 0
"""

HEAT = """problem random_heat
domain Rod = interval(x: [0, 1])
time t: [0, 1]
field u
input a ~ exp(gaussian_field(length: 0.2, smoothness: 1.5))
equation in Rod:
    dt(u) = d(u, x, 2)
boundary on boundary(Rod):
    u = 0
initial:
    u = a
"""


def load(tmp_path, text, name="spec.pde"):
    path = tmp_path / name
    path.write_text(text)
    return api.load(path)


def rod_layout(n=17):
    return SensorLayout.of({"x": np.linspace(0, 1, n)}, ["a"], [])


def plate_layout(n=17):
    return SensorLayout.of({"x": np.linspace(0, 1, n), "y": np.linspace(0, 1, n)}, ["a"], [])


def random_inputs(layout, batch=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    grid = torch.randn(batch, len(layout.channels), *layout.shape, generator=generator) if layout.channels else None
    scalars = torch.randn(batch, len(layout.scalars), generator=generator) if layout.scalars else None
    return OperatorInputs(grid, scalars)


def node_coordinates(layout):
    mesh = np.meshgrid(*layout.nodes().values(), indexing="ij")
    return {a: torch.tensor(m.ravel(), dtype=torch.float32) for a, m in zip(layout.axis_names, mesh)}


def test_output_shapes_1d_and_2d(tmp_path):
    rod = FNO(load(tmp_path, ROD, "rod.pde"), rod_layout(), width=8, depth=2, modes=4)
    assert rod.grid_forward(random_inputs(rod.layout)).shape == (3, 1, 17)
    out = rod({"x": torch.rand(5)}, random_inputs(rod.layout))
    assert set(out) == {"u"} and out["u"].shape == (3, 5)

    plate = FNO(load(tmp_path, PLATE, "plate.pde"), plate_layout(), width=8, depth=2, modes=4,
                auxiliary=("flux_x",))
    assert plate.output_names == ("u", "v", "flux_x")
    assert plate.grid_forward(random_inputs(plate.layout)).shape == (3, 3, 17, 17)
    points = {"x": torch.rand(3, 7), "y": torch.rand(3, 7)}  # different points per member
    out = plate(points, random_inputs(plate.layout))
    assert set(out) == {"u", "v", "flux_x"} and all(v.shape == (3, 7) for v in out.values())


def test_scalars_as_channels_on_a_3d_grid(tmp_path):
    layout = SensorLayout.of({a: np.linspace(0, 1, 9) for a in "xyz"}, ["g"], ["k", "b"])
    model = FNO(load(tmp_path, PARAMETRIC), layout, width=6, depth=1, modes=3)
    assert model.lift.in_features == 1 + 2 + 3
    inputs = random_inputs(layout, batch=2)
    assert model.grid_forward(inputs).shape == (2, 1, 9, 9, 9)
    assert model({a: torch.rand(1, 4) for a in "xyz"}, inputs)["u"].shape == (2, 4)
    changed = OperatorInputs(inputs.grid, inputs.scalars + 1)
    assert not torch.allclose(model.grid_forward(inputs), model.grid_forward(changed))


def test_forward_at_grid_nodes_equals_grid_values(tmp_path):
    model = FNO(load(tmp_path, PLATE), plate_layout(), width=8, depth=2, modes=4)
    inputs = random_inputs(model.layout)
    grid = model.grid_forward(inputs)
    out = model(node_coordinates(model.layout), inputs)
    for i, name in enumerate(model.output_names):
        torch.testing.assert_close(out[name], grid[:, i].reshape(3, -1), atol=1e-6, rtol=0)


def test_interpolation_is_multilinear_between_nodes(tmp_path):
    model = FNO(load(tmp_path, PLATE), plate_layout(), width=8, depth=2, modes=4)
    inputs = random_inputs(model.layout)
    grid = model.grid_forward(inputs)[:, 0].detach()
    h = 1 / 16
    i, j = 5, 11
    centre = model({"x": torch.tensor([(i + 0.5) * h]), "y": torch.tensor([(j + 0.5) * h])}, inputs)["u"][:, 0]
    corners = (grid[:, i, j] + grid[:, i + 1, j] + grid[:, i, j + 1] + grid[:, i + 1, j + 1]) / 4
    torch.testing.assert_close(centre.detach(), corners, atol=1e-6, rtol=0)
    # a quarter of the way along an edge, and clamped outside the box
    edge = model({"x": torch.tensor([(i + 0.25) * h]), "y": torch.tensor([j * h])}, inputs)["u"][:, 0]
    torch.testing.assert_close(edge.detach(), 0.75 * grid[:, i, j] + 0.25 * grid[:, i + 1, j], atol=1e-6, rtol=0)
    outside = model({"x": torch.tensor([-0.3, 1.4]), "y": torch.tensor([0.5, 2.0])}, inputs)["u"]
    torch.testing.assert_close(outside.detach(), torch.stack([grid[:, 0, 8], grid[:, 16, 16]], 1), atol=1e-6, rtol=0)


def test_gradients_reach_parameters_and_points(tmp_path):
    model = FNO(load(tmp_path, ROD), rod_layout(), width=8, depth=3, modes=4)
    inputs = random_inputs(model.layout)
    x = torch.tensor([0.1, 0.37, 0.9], requires_grad=True)
    u = model({"x": x}, inputs)["u"]
    u.square().sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    # the slope at a point is that of its cell
    grid = model.grid_forward(inputs)[:, 0].detach()
    point = torch.tensor([0.37], requires_grad=True)
    value = model({"x": point}, inputs)["u"]
    (slope,) = torch.autograd.grad(value[1].sum(), point)
    cell = int(0.37 * 16)
    torch.testing.assert_close(slope[0], (grid[1, cell + 1] - grid[1, cell]) * 16, atol=1e-4, rtol=1e-4)


def test_seed_decides_the_initial_weights(tmp_path):
    problem = load(tmp_path, PLATE)
    inputs = random_inputs(plate_layout())
    first = FNO(problem, plate_layout(), width=8, depth=2, modes=4, seed=3).grid_forward(inputs)
    again = FNO(problem, plate_layout(), width=8, depth=2, modes=4, seed=3).grid_forward(inputs)
    other = FNO(problem, plate_layout(), width=8, depth=2, modes=4, seed=4).grid_forward(inputs)
    torch.testing.assert_close(first, again, atol=0, rtol=0)
    assert not torch.allclose(first, other)


def test_registered_and_survives_float64(tmp_path):
    model = create("fno", load(tmp_path, ROD), layout=rod_layout(), width=8, depth=2, modes=4)
    assert isinstance(model, FNO)
    inputs = random_inputs(model.layout)
    single = model.grid_forward(inputs)
    double = model.to(torch.float64).grid_forward(inputs.to(dtype=torch.float64))
    assert double.dtype == torch.float64
    torch.testing.assert_close(double.float(), single, atol=1e-5, rtol=1e-4)  # spectral weights kept intact


def test_modes_are_clipped_to_the_grid(tmp_path):
    model = FNO(load(tmp_path, PLATE), SensorLayout.of({"x": np.linspace(0, 1, 5), "y": np.linspace(0, 1, 4)},
                                                       ["a"], []), width=4, depth=1, modes=12)
    assert model.padded == (8, 6)  # padded to fast FFT sizes at least 2 nodes longer
    assert model.spectral[0].kept == (8, 4)
    assert model.grid_forward(random_inputs(model.layout)).shape == (3, 2, 5, 4)


def test_fits_a_linear_operator(tmp_path):
    """Supervised on 16 smooth inputs a -> 2a; it also holds on 8 members it never saw."""
    torch.manual_seed(0)
    model = FNO(load(tmp_path, ROD), rod_layout(33), width=16, depth=2, modes=8, seed=1)
    x = torch.linspace(0, 1, 33)
    k = torch.arange(1, 4, dtype=torch.float32)
    coefficients = torch.randn(24, 3, generator=torch.Generator().manual_seed(2)) / k
    a = (coefficients[:, :, None] * torch.sin(np.pi * k[None, :, None] * x)).sum(1, keepdim=True)
    train, held_out = OperatorInputs(a[:16], None), OperatorInputs(a[16:], None)
    model.set_normalisation(train)
    optimiser = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(150):
        optimiser.zero_grad()
        loss = (model.grid_forward(train) - 2 * train.grid).square().mean()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        for inputs in (train, held_out):
            target = 2 * inputs.grid
            assert (model.grid_forward(inputs) - target).norm() / target.norm() < 0.1


def test_time_dependent_problems_are_refused(tmp_path):
    with pytest.raises(BackendError, match="time-dependent"):
        FNO(load(tmp_path, HEAT), rod_layout())


def test_bad_options_are_refused(tmp_path):
    problem = load(tmp_path, ROD)
    with pytest.raises(BackendError, match="fourier_features"):
        FNO(problem, rod_layout(), fourier_features=16)
    with pytest.raises(BackendError, match="activation"):
        FNO(problem, rod_layout(), activation="relu6")
    with pytest.raises(BackendError, match="modes"):
        FNO(problem, rod_layout(), modes=0)
    with pytest.raises(BackendError, match="axes"):
        FNO(problem, SensorLayout.of({"y": np.linspace(0, 1, 5)}, ["a"], []))
