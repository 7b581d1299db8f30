"""Reference quadrature rules on the unit ball, and their images on particles.

A rule is ``(points [K, d], weights [K])`` with weights summing to 1, so
``sum_k weights[k] * g(points[k])`` approximates the *mean* of ``g`` over the
reference region; weak residuals are means over each particle's ball, so the
ball's volume never enters. ``to_particles`` maps the reference points
``xi_k`` onto particle ``j`` as ``x_jk = c_j + R_j xi_k``.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np
import torch

Tensor = torch.Tensor
F64 = torch.float64


class QuadratureRule(NamedTuple):
    """Reference points ``[K, d]`` and weights ``[K]`` that sum to 1."""

    points: Tensor
    weights: Tensor


def grid_ball(dimension: int, n: int, *, include_boundary: bool = False,
              dtype: torch.dtype = F64, device: Optional[torch.device] = None) -> QuadratureRule:
    """Equal weights on the points of a uniform ``n``-per-axis grid on ``[-1, 1]^d`` that lie in the unit ball.

    By default the rule keeps the points strictly inside (``|xi| < 1``): a
    compactly supported test function is zero on the sphere, so points there
    add nothing but weight. This gives 25 points in 2-D for ``n = 7`` and 45
    for ``n = 9`` (``n - 2`` in 1-D, so ``n = 12`` gives 10). With
    ``include_boundary`` the closed ball is used (29 and 49 points in 2-D).
    Membership is decided on the integer lattice, so it is exact.
    """
    if dimension < 1 or n < 2:
        raise ValueError(f"need dimension >= 1 and n >= 2 points per axis, got dimension={dimension}, n={n}")
    steps = 2 * torch.arange(n, device=device) - (n - 1)       # grid coordinates times (n - 1)
    lattice = torch.stack(torch.meshgrid(*[steps] * dimension, indexing="ij"), dim=-1).reshape(-1, dimension)
    squared, limit = lattice.square().sum(dim=1), (n - 1) ** 2
    inside = squared <= limit if include_boundary else squared < limit
    points = lattice[inside].to(dtype) / (n - 1)
    if points.shape[0] == 0:
        raise ValueError(f"a grid of {n} points per axis has no point inside the unit ball; use n >= 3")
    return QuadratureRule(points, torch.full((points.shape[0],), 1.0 / points.shape[0], dtype=dtype, device=device))


def gauss_legendre_1d(n: int, *, dtype: torch.dtype = F64, device: Optional[torch.device] = None) -> QuadratureRule:
    """The ``n``-point Gauss-Legendre rule on ``[-1, 1]`` as points ``[n, 1]``, weights halved to sum to 1.

    It averages polynomials of degree up to ``2n - 1`` exactly.
    """
    if n < 1:
        raise ValueError(f"need at least one Gauss-Legendre point, got n={n}")
    nodes, weights = np.polynomial.legendre.leggauss(n)
    return QuadratureRule(torch.tensor(nodes, dtype=dtype, device=device)[:, None],
                          torch.tensor(weights / 2, dtype=dtype, device=device))


def polar_ball(dimension: int, radial: int, angular: int, *, dtype: torch.dtype = F64,
               device: Optional[torch.device] = None) -> QuadratureRule:
    """A product rule in polar (2-D) or spherical (3-D) coordinates; in 1-D, Gauss on each half of the ball.

    Radii are Gauss-Legendre nodes on ``[0, 1]`` weighted by the Jacobian
    ``r^(d-1)``; angles are equally spaced (the trapezoidal rule, spectrally
    accurate for periodic integrands), and in 3-D the polar angle uses
    Gauss-Legendre nodes in ``cos(theta)``. Test functions vanish to high
    order at the sphere, so the integrands are smooth and such a rule
    converges far faster than an equal-weight grid (in 1-D, Gauss across the
    centre, where ``|x|`` has a kink, left a 1% error in the residual of an
    exact solution with 8 points; 4 per half are exact for these
    polynomials): with the grid, the
    quadrature's bias limits the accuracy a weak-form solution can reach
    (measured on 2-D Poisson: 1.3e-2 with 25 grid points per ball, 1.2e-4 with
    109; see the README).
    """
    if dimension == 1:  # radial test functions are polynomials of |x| on each side, not across the centre
        nodes, weights = np.polynomial.legendre.leggauss(radial)
        r = (nodes + 1) / 2
        points = np.concatenate([-r[::-1], r])[:, None]
        weights = np.concatenate([weights[::-1], weights]) / (2 * weights.sum())
        return QuadratureRule(torch.tensor(points, dtype=dtype, device=device),
                              torch.tensor(weights, dtype=dtype, device=device))
    if dimension not in (2, 3) or radial < 1 or angular < 1:
        raise ValueError(f"need dimension 1, 2 or 3 and positive counts, got {dimension}, {radial}, {angular}")
    nodes, weights = np.polynomial.legendre.leggauss(radial)
    r, w_r = (nodes + 1) / 2, weights / 2 * ((nodes + 1) / 2) ** (dimension - 1)
    phi = 2 * np.pi * (np.arange(angular) + 0.5) / angular
    if dimension == 2:
        rr, pp = np.meshgrid(r, phi, indexing="ij")
        points = np.stack([rr * np.cos(pp), rr * np.sin(pp)], axis=-1).reshape(-1, 2)
        weights = np.repeat(w_r, angular)
    else:
        cos_t, w_t = np.polynomial.legendre.leggauss(max(angular // 2, 1))
        sin_t = np.sqrt(1 - cos_t ** 2)
        rr, cc, pp = np.meshgrid(r, np.arange(len(cos_t)), phi, indexing="ij")
        points = np.stack([rr * sin_t[cc] * np.cos(pp), rr * sin_t[cc] * np.sin(pp), rr * cos_t[cc]],
                          axis=-1).reshape(-1, 3)
        weights = (w_r[:, None, None] * w_t[None, :, None] * np.ones(angular)[None, None, :]).reshape(-1)
    weights = weights / weights.sum()
    return QuadratureRule(torch.tensor(points, dtype=dtype, device=device),
                          torch.tensor(weights, dtype=dtype, device=device))


def to_particles(reference_points: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
    """``[P, K, d]``: the reference points ``[K, d]`` scaled by ``radii [P]`` and moved to ``centres [P, d]``."""
    if reference_points.dim() != 2 or centres.dim() != 2 or reference_points.shape[1] != centres.shape[1]:
        raise ValueError(f"need reference points [K, d] and centres [P, d] of the same d, got "
                         f"{tuple(reference_points.shape)} and {tuple(centres.shape)}")
    if tuple(radii.shape) != (centres.shape[0],):
        raise ValueError(f"radii must be [{centres.shape[0]}] to match the centres, got {tuple(radii.shape)}")
    xi = reference_points.to(centres)
    return centres[:, None, :] + radii.to(centres)[:, None, None] * xi[None, :, :]
