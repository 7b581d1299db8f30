"""Regenerate the small .npz data files that the specs in this folder read.

Run from anywhere:  python specs/make_data.py
Every file is deterministic (fixed seeds, float64) and well under 50 KB.
burgers.npz is not made here: it is a copy of shared/data/burgers.npz
(the published high-accuracy solution, in the grid layout).

Layouts (as the language reference describes them):
  scattered points: one 1-D array per axis and one per field, all the same length
  grid:             1-D axis arrays and a field array of shape (len(x), len(y))
                    or (len(x), len(t)), space axes before time
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def save(name: str, **arrays: np.ndarray) -> None:
    path = HERE / name
    np.savez_compressed(path, **{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})
    print(f"{name}: {path.stat().st_size} bytes, " + ", ".join(f"{k}{np.shape(v)}" for k, v in arrays.items()))


def solve_darcy(a: np.ndarray, f: float, h: float) -> np.ndarray:
    """-div(a grad u) = f on the unit square, u = 0 on the boundary.

    ``a`` is given at the n x n nodes (boundary included); a 5-point finite-volume
    scheme with arithmetic face averages; returns u at all nodes.
    """
    n = a.shape[0]
    m = n - 2
    index = -np.ones((n, n), dtype=int)
    index[1:-1, 1:-1] = np.arange(m * m).reshape(m, m)
    matrix = np.zeros((m * m, m * m))
    rhs = np.full(m * m, f * h * h)
    for i in range(1, n - 1):
        for j in range(1, n - 1):
            row = index[i, j]
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                face = 0.5 * (a[i, j] + a[i + di, j + dj])
                matrix[row, row] += face
                col = index[i + di, j + dj]
                if col >= 0:  # boundary neighbours hold u = 0
                    matrix[row, col] -= face
    u = np.zeros((n, n))
    u[1:-1, 1:-1] = np.linalg.solve(matrix, rhs).reshape(m, m)
    return u


def darcy_observations() -> None:
    """darcy_obs.npz: scattered, noisy pressure readings for darcy_inverse.pde.

    The true log-permeability is a smooth sum of a few modes; the pressure solves
    -div(exp(log_a) grad u) = 1 with u = 0 on the boundary. 120 readings at random
    interior nodes, Gaussian noise of std 0.01 (the value the spec declares).
    """
    n = 33
    grid = np.linspace(0.0, 1.0, n)
    x, y = np.meshgrid(grid, grid, indexing="ij")
    log_a = 0.6 * np.sin(2 * np.pi * x) * np.cos(np.pi * y) + 0.4 * np.cos(3 * np.pi * x * y)
    u = solve_darcy(np.exp(log_a), f=1.0, h=grid[1] - grid[0])
    rng = np.random.default_rng(20240501)
    interior = np.argwhere((x > 0) & (x < 1) & (y > 0) & (y < 1))
    picks = interior[rng.choice(len(interior), size=120, replace=False)]
    i, j = picks[:, 0], picks[:, 1]
    noisy = u[i, j] + 0.01 * rng.standard_normal(len(i))
    save("darcy_obs.npz", x=grid[i], y=grid[j], u=noisy)


def heat_observations() -> None:
    """heat_obs.npz: a grid of noisy temperatures for heat_inverse.pde.

    u_t = D u_xx on [0, 1], u(0, t) = u(1, t) = 0, u(x, 0) = sin(pi x), whose
    solution is exp(-D pi^2 t) sin(pi x); the true diffusivity is D = 0.25.
    Grid layout: x (21,), t (11,), u (21, 11) with u[i, j] = u(x[i], t[j]).
    """
    d_true = 0.25
    x = np.linspace(0.0, 1.0, 21)
    t = np.linspace(0.0, 1.0, 11)
    u = np.exp(-d_true * np.pi**2 * t)[None, :] * np.sin(np.pi * x)[:, None]
    rng = np.random.default_rng(7)
    save("heat_obs.npz", x=x, t=t, u=u + 0.01 * rng.standard_normal(u.shape))


def conductivity() -> None:
    """conductivity.npz: a measured thermal conductivity map for robin_cooling.pde.

    Grid layout on [0, 1] x [0, 1]: x (41,), y (41,), kappa (41, 41), a smooth,
    strictly positive field (between about 0.5 and 1.5).
    """
    x = np.linspace(0.0, 1.0, 41)
    y = np.linspace(0.0, 1.0, 41)
    gx, gy = np.meshgrid(x, y, indexing="ij")
    kappa = 1.0 + 0.4 * np.sin(2 * np.pi * gx) * np.sin(np.pi * gy) + 0.1 * np.cos(4 * np.pi * gy)
    save("conductivity.npz", x=x, y=y, kappa=kappa)


def two_phase_observations() -> None:
    """darcy_two_phase_obs.npz and darcy_two_phase_truth.npz for darcy_two_phase_inverse.pde.

    One draw of the two-phase permeability (sample 0 of ``pdedsl data --seed 2026``), solved by pdedsl's
    reference solver on the 29 x 29 grid; 100 readings of u at random nodes with Gaussian noise at 25 dB SNR
    (std = rms(u) / 10^(25/20) = 0.00365, the value the spec declares); the truth (a and u on the grid).
    """
    import sys

    sys.path.insert(0, str(HERE.parent))
    from pdedsl import api
    from pdedsl.reference.dataset import generate

    arrays = generate(api.load(HERE / "darcy_two_phase.pde"), 1, 29, 2026)
    x, y, u, a = arrays["x"], arrays["y"], arrays["u"][0], arrays["a"][0]
    noise = np.sqrt(np.mean(u ** 2)) / 10 ** (25 / 20)
    rng = np.random.default_rng(2026)
    nodes = rng.choice(u.size, 100, replace=False)
    i, j = np.unravel_index(nodes, u.shape)
    print(f"two-phase noise std {noise:.5f}")
    save("darcy_two_phase_obs.npz", x=x[i], y=y[j], u=u[i, j] + noise * rng.standard_normal(100))
    save("darcy_two_phase_truth.npz", x=x, y=y, u=u, a=a)


def heat_start_observations() -> None:
    """heat_start_obs.npz and heat_start_truth.npz for heat_random_start.pde.

    One draw of the random start s (sample 0 of seed 2027), solved by pdedsl's reference solver on a
    33 x 33 grid of x and t; 40 readings of u at random nodes with t > 0, Gaussian noise of std 0.01 (the
    value the spec declares); the truth: s on the x nodes, u on the grid.
    """
    import sys

    sys.path.insert(0, str(HERE.parent))
    from pdedsl import api
    from pdedsl.reference.dataset import generate

    text = (HERE / "heat_random_start.pde").read_text().split("observe")[0]  # the family, without its data
    arrays = generate(api.load(text), 1, 33, 2027)
    x, t, u, start = arrays["x"], arrays["t"], arrays["u"][0], arrays["s"][0]
    rng = np.random.default_rng(2027)
    nodes = rng.choice(np.arange(u.size).reshape(u.shape)[:, 1:].reshape(-1), 40, replace=False)
    i, j = np.unravel_index(nodes, u.shape)
    save("heat_start_obs.npz", x=x[i], t=t[j], u=u[i, j] + 0.01 * rng.standard_normal(40))
    save("heat_start_truth.npz", x=x, t=t, u=u, s=start)


if __name__ == "__main__":
    heat_start_observations()
    two_phase_observations()
    darcy_observations()
    heat_observations()
    conductivity()
