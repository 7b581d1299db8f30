"""Tests for pdedsl.reference.elliptic: second-order convergence against
manufactured solutions (1-D, 2-D, 3-D, Dirichlet values, Neumann sides), the
two-phase coefficient with harmonic face averages, and input validation."""

import numpy as np
import pytest

from pdedsl.reference import Side, solve_elliptic

pi = np.pi


def observed_order(hs, errors):
    hs, errors = np.asarray(hs), np.asarray(errors)
    return np.log(errors[:-1] / errors[1:]) / np.log(hs[:-1] / hs[1:])


def max_error(axes, u, exact):
    coords = np.meshgrid(*axes, indexing="ij")
    return np.max(np.abs(u - exact(*coords)))


# 1-D: u = sin(2x) + x, a = 1 + x^2, c = 1 on [-1, 2] (non-unit box).
def u1(x):
    return np.sin(2 * x) + x


def du1(x):
    return 2 * np.cos(2 * x) + 1


def a1(x):
    return 1 + x**2


def f1(x):
    # -(a u')' + u = -(a' u' + a u'') + u
    return -(2 * x * du1(x) + a1(x) * (-4 * np.sin(2 * x))) + u1(x)


@pytest.mark.parametrize("high", ["dirichlet", "neumann"])
def test_1d_order_two_with_dirichlet_values_and_neumann(high):
    hs, errors = [], []
    for n in (21, 41, 81):
        x = np.linspace(-1.0, 2.0, n)
        sides = {
            (0, "low"): Side("dirichlet", u1),
            # at x = 2 the outward normal is +x, so du/dn = u'(2)
            (0, "high"): Side("dirichlet", u1) if high == "dirichlet" else Side("neumann", du1),
        }
        u = solve_elliptic([x], a1, f1, c=1.0, sides=sides)
        assert u.shape == (n,)
        hs.append(x[1] - x[0])
        errors.append(max_error([x], u, u1))
    orders = observed_order(hs, errors)
    assert np.all((orders > 1.8) & (orders < 2.3)), (errors, orders)


def test_1d_all_neumann_with_reaction_term():
    # u = cos(pi x) + 1 has du/dn = 0 at both ends of [0, 1]; a = 1 + x, c = 1.
    def exact(x):
        return np.cos(pi * x) + 1

    def f(x):
        return pi * np.sin(pi * x) + (1 + x) * pi**2 * np.cos(pi * x) + exact(x)

    sides = {(0, "low"): Side("neumann", 0.0), (0, "high"): Side("neumann", 0.0)}
    hs, errors = [], []
    for n in (21, 41, 81):
        x = np.linspace(0.0, 1.0, n)
        u = solve_elliptic([x], lambda x: 1 + x, f, c=1.0, sides=sides)
        hs.append(x[1] - x[0])
        errors.append(max_error([x], u, exact))
    orders = observed_order(hs, errors)
    assert np.all((orders > 1.8) & (orders < 2.3)), (errors, orders)


def test_2d_order_two_variable_coefficient():
    # u = sin(pi x) sin(pi y), a = 1 + x + y^2 on the unit square, u = 0 on the boundary.
    def exact(x, y):
        return np.sin(pi * x) * np.sin(pi * y)

    def a(x, y):
        return 1 + x + y**2

    def f(x, y):
        ux = pi * np.cos(pi * x) * np.sin(pi * y)
        uy = pi * np.sin(pi * x) * np.cos(pi * y)
        return -(1.0 * ux + 2 * y * uy) + 2 * pi**2 * a(x, y) * exact(x, y)

    hs, errors = [], []
    for n in (17, 33, 65):
        x = y = np.linspace(0.0, 1.0, n)
        u = solve_elliptic([x, y], a, f)
        assert u.shape == (n, n)
        hs.append(x[1] - x[0])
        errors.append(max_error([x, y], u, exact))
    orders = observed_order(hs, errors)
    assert np.all((orders > 1.8) & (orders < 2.3)), (errors, orders)


def test_2d_mixed_sides_on_a_general_box():
    # u = exp(x/2) cos(y) on [0, 1] x [-1, 2], a = 2 + y sin(x), c = 1 + x^2;
    # Dirichlet (callable values) on x = 0 and y = 2, Neumann on x = 1 and y = -1,
    # and a rectangular grid with different node counts per axis.
    def exact(x, y):
        return np.exp(x / 2) * np.cos(y)

    def a(x, y):
        return 2 + y * np.sin(x)

    def c(x, y):
        return 1 + x**2

    def f(x, y):
        u = exact(x, y)
        ux, uy = 0.5 * u, -np.exp(x / 2) * np.sin(y)
        ax, ay = y * np.cos(x), np.sin(x)
        return -(ax * ux + ay * uy + a(x, y) * (-0.75 * u)) + c(x, y) * u

    sides = {
        (0, "low"): Side("dirichlet", exact),
        (1, "high"): Side("dirichlet", exact),
        (0, "high"): Side("neumann", lambda x, y: 0.5 * exact(x, y)),  # +u_x
        (1, "low"): Side("neumann", lambda x, y: np.exp(x / 2) * np.sin(y)),  # -u_y
    }
    hs, errors = [], []
    for n in (11, 21, 41):
        x = np.linspace(0.0, 1.0, n)
        y = np.linspace(-1.0, 2.0, 3 * (n - 1) + 1)
        u = solve_elliptic([x, y], a, f, c=c, sides=sides)
        assert u.shape == (x.size, y.size)
        hs.append(x[1] - x[0])
        errors.append(max_error([x, y], u, exact))
    orders = observed_order(hs, errors)
    assert np.all((orders > 1.8) & (orders < 2.3)), (errors, orders)


def test_3d_order_two_with_node_value_coefficient():
    # u = sin(pi x) sin(pi y) sin(pi z), a = 1 + x y + z^2 given as node values.
    def exact(x, y, z):
        return np.sin(pi * x) * np.sin(pi * y) * np.sin(pi * z)

    def f(x, y, z):
        a = 1 + x * y + z**2
        ux = pi * np.cos(pi * x) * np.sin(pi * y) * np.sin(pi * z)
        uy = pi * np.sin(pi * x) * np.cos(pi * y) * np.sin(pi * z)
        uz = pi * np.sin(pi * x) * np.sin(pi * y) * np.cos(pi * z)
        return -(y * ux + x * uy + 2 * z * uz) + 3 * pi**2 * a * exact(x, y, z)

    hs, errors = [], []
    for n in (9, 13, 17):  # 33^3 nodes would already take seconds (direct solver fill-in)
        axis = np.linspace(0.0, 1.0, n)
        x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")
        u = solve_elliptic([axis] * 3, 1 + x * y + z**2, f(x, y, z))
        assert u.shape == (n, n, n)
        hs.append(axis[1] - axis[0])
        errors.append(max_error([axis] * 3, u, exact))
    orders = observed_order(hs, errors)
    assert np.all((orders > 1.8) & (orders < 2.3)), (errors, orders)


# Two-phase rod: -(a u')' = f on [0, 1], a = 5 left of xi = 0.45, 10 right of it.
# xi = 0.45 lies midway between nodes for 11, 31 and 91 nodes.
A_LEFT, A_RIGHT, XI = 5.0, 10.0, 0.45


def two_phase_a(x):
    return np.where(x < XI, A_LEFT, A_RIGHT)


def test_two_phase_flux_continuity_is_exact_without_source():
    # f = 0, u(0) = 1, u(1) = 0: the flux q = -a u' is constant, u piecewise linear.
    q = 1.0 / (XI / A_LEFT + (1 - XI) / A_RIGHT)

    def exact(x):
        return np.where(x < XI, 1 - q * x / A_LEFT, 1 - q * XI / A_LEFT - q * (x - XI) / A_RIGHT)

    sides = {(0, "low"): Side("dirichlet", 1.0), (0, "high"): Side("dirichlet", 0.0)}
    for n in (11, 31):
        x = np.linspace(0.0, 1.0, n)
        u = solve_elliptic([x], two_phase_a, 0.0, sides=sides)
        assert np.max(np.abs(u - exact(x))) < 1e-12


def test_two_phase_with_source_converges_at_order_two():
    # f = 1, u(0) = u(1) = 0: a u' = C - x with C fixed by u(1) = 0.
    C = (XI**2 / (2 * A_LEFT) + (1 - XI**2) / (2 * A_RIGHT)) / (XI / A_LEFT + (1 - XI) / A_RIGHT)

    def exact(x):
        left = (C * x - x**2 / 2) / A_LEFT
        at_xi = (C * XI - XI**2 / 2) / A_LEFT
        right = at_xi + (C * (x - XI) - (x**2 - XI**2) / 2) / A_RIGHT
        return np.where(x < XI, left, right)

    hs, errors = [], []
    for n in (11, 31, 91):
        x = np.linspace(0.0, 1.0, n)
        u = solve_elliptic([x], two_phase_a, 1.0)
        hs.append(x[1] - x[0])
        errors.append(max_error([x], u, exact))
    orders = observed_order(hs, errors)
    assert errors[-1] < 1e-5
    assert np.all((orders > 1.8) & (orders < 2.3)), (errors, orders)


@pytest.mark.parametrize(
    "axes, a, f, c, sides, message",
    [
        ([np.array([0.0, 0.1, 0.3, 1.0])], 1.0, 1.0, 0.0, None, "uniformly"),
        ([np.linspace(0, 1, 2)], 1.0, 1.0, 0.0, None, "at least 3"),
        ([np.linspace(0, 1, 5)] * 4, 1.0, 1.0, 0.0, None, "1, 2 or 3"),
        ([np.linspace(0, 1, 5)] * 2, np.ones((5, 4)), 1.0, 0.0, None, "shape"),
        ([np.linspace(0, 1, 5)], lambda x: x - 0.5, 1.0, 0.0, None, "positive"),
        ([np.linspace(0, 1, 5)], 1.0, 1.0, 0.0, {(1, "low"): Side("neumann", 0.0)}, "unknown side"),
        (
            [np.linspace(0, 1, 5)],
            1.0,
            1.0,
            0.0,
            {(0, "low"): Side("neumann", 0.0), (0, "high"): Side("neumann", 0.0)},
            "singular",
        ),
    ],
)
def test_bad_inputs_raise_value_error(axes, a, f, c, sides, message):
    with pytest.raises(ValueError, match=message):
        solve_elliptic(axes, a, f, c=c, sides=sides)


def test_bad_side_kind_raises_value_error():
    with pytest.raises(ValueError, match="kind"):
        Side("cauchy", 1.0)


def test_a_robin_side_matches_the_exact_solution_of_a_manufactured_problem():
    """-u'' = 0 with u(0) = 2 and u'(1) + 4 u(1) = 1: u = 2 + s x with s + 4 (2 + s) = 1, s = -7/5 (linear,
    so exact on any grid); in 2-D with the same data along x and a zero-flux y, the same profile."""
    x = np.linspace(0, 1, 11)
    sides = {(0, "low"): Side("dirichlet", 2.0), (0, "high"): Side("robin", 1.0, 4.0)}
    assert np.abs(solve_elliptic([x], 1.0, 0.0, sides=sides) - (2 - 1.4 * x)).max() < 1e-12
    y = np.linspace(0, 1, 5)
    sides.update({(1, "low"): Side("neumann", 0.0), (1, "high"): Side("neumann", 0.0)})
    u = solve_elliptic([x, y], 3.0, 0.0, sides=sides)
    assert np.abs(u - (2 - 1.4 * x)[:, None]).max() < 1e-12


def test_transport_by_exponential_fitting_is_exact_in_one_dimension_and_monotone_in_a_layer():
    """-eps u'' + b u' = 0, u(0) = 0, u(1) = 1: u = (exp(b x / eps) - 1) / (exp(b / eps) - 1). The
    Scharfetter-Gummel face flux is exact at the nodes for constant coefficients, whatever the cell Peclet
    number (here up to 50: central differences oscillate there), so the layer is neither smeared nor wiggly."""
    for eps, nodes in ((0.1, 11), (0.01, 21), (0.002, 11)):
        x = np.linspace(0, 1, nodes)
        sides = {(0, "low"): Side("dirichlet", 0.0), (0, "high"): Side("dirichlet", 1.0)}
        u = solve_elliptic([x], eps, 0.0, sides=sides, velocity=[1.0])
        exact = np.expm1(x / eps) / np.expm1(1 / eps)
        assert np.abs(u - exact).max() < 1e-9 and np.all(np.diff(u) >= 0)


def test_transport_with_an_outflow_neumann_side_converges_in_two_dimensions():
    """-laplace(u) + (1 + y) d(u, x) + x d(u, y) = f for u = sin(x) cos(y) on [0, 1]^2: Dirichlet at x = 0 and
    y = 0, Neumann (outward derivative) at x = 1 and y = 1, where the flow leaves; the velocity's divergence is
    0. Second order while the cells resolve the flow."""
    def error(nodes):
        x = np.linspace(0, 1, nodes)
        X, Y = np.meshgrid(x, x, indexing="ij")
        exact = np.sin(X) * np.cos(Y)
        f = 2 * exact + (1 + Y) * np.cos(X) * np.cos(Y) - X * np.sin(X) * np.sin(Y)
        sides = {(0, "low"): Side("dirichlet", lambda x, y: np.sin(x) * np.cos(y)),
                 (1, "low"): Side("dirichlet", lambda x, y: np.sin(x) * np.cos(y)),
                 (0, "high"): Side("neumann", lambda x, y: np.cos(x) * np.cos(y)),
                 (1, "high"): Side("neumann", lambda x, y: -np.sin(x) * np.sin(y))}
        u = solve_elliptic([x, x], 1.0, f, sides=sides, velocity=[1 + Y, X])
        return np.abs(u - exact).max()

    coarse, fine = error(9), error(17)
    assert fine < 2e-3 and coarse / fine > 3.0


@pytest.mark.parametrize("velocity", [
    lambda x, y: (x ** 2, 0 * y),  # div v = 2x: the -(div v) u of the conservation form is not a c
    lambda x, y: (np.sin(np.pi * y), 0 * x),  # div v = 0 up to rounding (1e-17), which passed for a c
])
def test_all_neumann_sides_with_transport_and_no_c_are_singular_too(velocity):
    """-laplace(u) + v . grad(u) = f with dn(u) = 0 all round holds for u + 1 as well as u: it returned values
    near 1e14 (or growing like 1/h^2) instead of saying so."""
    x = np.linspace(0, 1, 17)
    X, Y = np.meshgrid(x, x, indexing="ij")
    sides = {(k, e): Side("neumann", 0.0) for k in range(2) for e in ("low", "high")}
    with pytest.raises(ValueError, match="singular"):
        solve_elliptic([x, x], 1.0, np.cos(np.pi * X), 0.0, sides, velocity=list(velocity(X, Y)))
