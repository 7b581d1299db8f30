"""Tests for pdedsl.reference.time1d: second-order spatial convergence on
heat, reaction-diffusion and periodic advection-diffusion problems with exact
solutions, time-dependent Dirichlet data, viscous Burgers against the
published reference solution in specs/burgers.npz, and input validation."""

from pathlib import Path

import numpy as np
import pytest

from pdedsl.reference import solve_time_1d

pi = np.pi
BURGERS = Path(__file__).resolve().parents[2] / "specs" / "burgers.npz"
TIGHT = dict(rtol=1e-10, atol=1e-12)  # time error far below the spatial error


def observed_order(hs, errors):
    hs, errors = np.asarray(hs), np.asarray(errors)
    return np.log(errors[:-1] / errors[1:]) / np.log(hs[:-1] / hs[1:])


def spatial_order(solve, exact, nodes, a=0.0, b=1.0):
    """Max error over all output times for each grid, and the observed orders."""
    hs, errors = [], []
    for n in nodes:
        x = np.linspace(a, b, n)
        t, u = solve(x)
        hs.append(x[1] - x[0])
        errors.append(np.max(np.abs(u - exact(x[None, :], t[:, None]))))
    return errors, observed_order(hs, errors)


def test_heat_order_two():
    k = 0.5
    t = np.array([0.0, 0.05, 0.1, 0.2])

    def solve(x):
        return t, solve_time_1d(x, t, lambda x: np.sin(pi * x), k, **TIGHT)

    errors, orders = spatial_order(solve, lambda x, t: np.exp(-k * pi**2 * t) * np.sin(pi * x), (11, 21, 41))
    assert np.all((orders > 1.8) & (orders < 2.3)), (errors, orders)


def test_heat_with_source_and_time_dependent_dirichlet_is_exact_for_linear_solution():
    # u = x + t solves u_t = k u_xx + 1 with u(0, t) = t, u(1, t) = 1 + t.
    x = np.linspace(0.0, 1.0, 21)
    t = np.linspace(0.0, 1.0, 5)
    u = solve_time_1d(
        x, t, lambda x: x, 0.3, reaction=lambda u, x, t: np.ones_like(u),
        left=lambda t: t, right=lambda t: 1.0 + t, **TIGHT,
    )
    assert u.shape == (5, 21)
    assert np.max(np.abs(u - (x[None, :] + t[:, None]))) < 1e-8


def test_linear_reaction_diffusion_order_two():
    # u_t = D u_xx - u: u = exp(-(D pi^2 + 1) t) sin(pi x).
    D = 0.2
    t = np.array([0.0, 0.1, 0.5])

    def solve(x):
        return t, solve_time_1d(x, t, lambda x: np.sin(pi * x), D, reaction=lambda u, x, t: -u, method="Radau", **TIGHT)

    errors, orders = spatial_order(solve, lambda x, t: np.exp(-(D * pi**2 + 1) * t) * np.sin(pi * x), (11, 21, 41))
    assert np.all((orders > 1.8) & (orders < 2.3)), (errors, orders)


def test_periodic_advection_diffusion_order_two():
    # u_t + c u_x = D u_xx on a period [0, 1]: u = exp(-4 pi^2 D t) sin(2 pi (x - c t)).
    c, D = 1.0, 0.05
    t = np.array([0.0, 0.25, 0.5])

    def solve(x):
        u = solve_time_1d(x, t, lambda x: np.sin(2 * pi * x), D, flux=lambda u: c * u, boundary="periodic", **TIGHT)
        assert np.array_equal(u[:, -1], u[:, 0])
        return t, u

    def exact(x, t):
        return np.exp(-4 * pi**2 * D * t) * np.sin(2 * pi * (x - c * t))

    errors, orders = spatial_order(solve, exact, (21, 41, 81))
    assert np.all((orders > 1.8) & (orders < 2.3)), (errors, orders)


def burgers(n, scheme):
    data = np.load(BURGERS)
    x_ref, t_ref, u_ref = data["x"], data["t"], data["u"]  # u_ref[i, j] = u(x_i, t_j)
    x = np.linspace(-1.0, 1.0, n)
    u = solve_time_1d(
        x, t_ref, lambda x: -np.sin(pi * x), 0.01 / pi,
        flux=lambda u: 0.5 * u * u, flux_derivative=lambda u: u, scheme=scheme, rtol=1e-6, atol=1e-8,
    )
    u_on_ref = np.stack([np.interp(x_ref, x, row) for row in u], axis=1)
    final = np.linalg.norm(u_on_ref[:, -1] - u_ref[:, -1]) / np.linalg.norm(u_ref[:, -1])
    whole = np.linalg.norm(u_on_ref - u_ref) / np.linalg.norm(u_ref)
    return final, whole


def test_burgers_matches_reference_central():
    # 511 nodes: the 256 reference points (x = linspace(-1, 1, 256)) are nodes,
    # and the cell Peclet number h / (2 nu) ~ 0.6 keeps central fluxes clean.
    final, whole = burgers(511, "central")
    assert final < 1e-2 and whole < 1e-2, (final, whole)


def test_burgers_rusanov_is_stable_but_first_order():
    final, whole = burgers(1021, "rusanov")
    assert final < 2e-2 and whole < 2e-2, (final, whole)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x=np.array([0.0, 0.1, 0.3, 0.6, 1.0])), "uniformly"),
        (dict(x=np.linspace(0, 1, 3)), "at least 4"),
        (dict(t_out=np.array([0.0, 0.2, 0.1])), "nondecreasing"),
        (dict(diffusion=-1.0), "diffusion"),
        (dict(boundary="neumann"), "boundary"),
        (dict(scheme="upwind"), "scheme"),
        (dict(flux=lambda u: u, scheme="rusanov"), "flux_derivative"),
        (dict(method="RK45"), "method"),
    ],
)
def test_bad_inputs_raise_value_error(kwargs, message):
    args = dict(x=np.linspace(0, 1, 11), t_out=np.array([0.0, 0.1]), initial=np.sin, diffusion=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        solve_time_1d(**args)
