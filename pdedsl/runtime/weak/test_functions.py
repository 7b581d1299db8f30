"""Compactly supported radial test functions for weak residuals, with analytic gradients.

A test function of particle ``j`` is ``phi_j(x) = profile(|x - c_j| / R_j)``
with a profile that is 1 at ``r = 0`` and vanishes for ``r >= 1``, so
``phi_j`` lives on the ball of centre ``c_j`` and radius ``R_j``. Its gradient is

    grad phi_j(x) = profile'(r) / r * (x - c_j) / R_j**2,

and each profile supplies ``profile'(r) / r`` in a form that stays finite at
the centre (where the gradient is zero), so nothing divides by ``r``. With
``S(r) = profile'(r) / r`` the second derivatives (for terms integrated by
parts twice) are

    d2 phi_j / dx_a dx_b = S(r) delta_ab / R_j**2 + S'(r) / r * o_a o_b / R_j**4,    o = x - c_j,

and each profile supplies ``S'(r) / r``, again finite at the centre.

Every function takes ``points`` ``[P, K, d]`` (particles x quadrature points x
dimension), ``centres`` ``[P, d]`` and ``radii`` ``[P]``, and returns values
``[P, K]`` and gradients ``[P, K, d]`` in the dtype and on the device of ``points``.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def _offsets(points: Tensor, centres: Tensor, radii: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(x - c [P, K, d], r = |x - c| / R [P, K], R [P, 1, 1])`` after checking the shapes agree."""
    if points.dim() != 3:
        raise ValueError(f"points must be [particles, quadrature points, dimension], got shape {tuple(points.shape)}")
    count, _, dimension = points.shape
    if tuple(centres.shape) != (count, dimension):
        raise ValueError(f"centres must be [{count}, {dimension}] to match points {tuple(points.shape)}, "
                         f"got {tuple(centres.shape)}")
    if tuple(radii.shape) != (count,):
        raise ValueError(f"radii must be [{count}] to match points {tuple(points.shape)}, got {tuple(radii.shape)}")
    radius = radii.to(points)[:, None, None]
    offset = points - centres.to(points)[:, None, :]
    return offset, torch.linalg.vector_norm(offset, dim=-1) / radius[..., 0], radius


class RadialTestFunction:
    """``phi(x) = profile(|x - c| / R)``; subclasses give ``profile`` and ``slope_over_r`` on ``r >= 0``."""

    def profile(self, r: Tensor) -> Tensor:
        """The radial profile: 1 at 0, 0 for ``r >= 1``."""
        raise NotImplementedError

    def slope_over_r(self, r: Tensor) -> Tensor:
        """``profile'(r) / r``, finite at ``r = 0`` and 0 for ``r >= 1``."""
        raise NotImplementedError

    def bend_over_r(self, r: Tensor) -> Tensor:
        """``S'(r) / r`` with ``S = profile'(r) / r``: finite at ``r = 0``, 0 for ``r >= 1``."""
        raise NotImplementedError

    def second_derivatives(self, points: Tensor, centres: Tensor, radii: Tensor, pairs) -> list[Tensor]:
        """``[P, K]`` per ``(a, b)`` in ``pairs`` (axis positions): ``d2 phi_j / dx_a dx_b`` at each point."""
        offset, r, radius = _offsets(points, centres, radii)
        radius = radius[..., 0]
        diagonal, bend = self.slope_over_r(r) / radius.square(), self.bend_over_r(r) / radius ** 4
        return [bend * offset[..., a] * offset[..., b] + (diagonal if a == b else 0) for a, b in pairs]

    def slope(self, r: Tensor) -> Tensor:
        """``profile'(r)``."""
        return r * self.slope_over_r(r)

    def values(self, points: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
        """``[P, K]``: ``phi_j`` at each particle's points."""
        return self.profile(_offsets(points, centres, radii)[1])

    def gradients(self, points: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
        """``[P, K, d]``: ``grad phi_j`` (with respect to ``x``) at each particle's points."""
        offset, r, radius = _offsets(points, centres, radii)
        return self.slope_over_r(r)[..., None] * offset / radius.square()

    def __call__(self, points: Tensor, centres: Tensor, radii: Tensor) -> tuple[Tensor, Tensor]:
        """``(values [P, K], gradients [P, K, d])``, sharing the distance computation."""
        offset, r, radius = _offsets(points, centres, radii)
        return self.profile(r), self.slope_over_r(r)[..., None] * offset / radius.square()


class Wendland(RadialTestFunction):
    """The Wendland C^4 function of smoothness parameter ``l = floor(d / 2) + 3``:

        W(r) = (1 - r)^(l+2) ((l+1)(l+3) r^2 + 3(l+2) r + 3) / 3,      0 <= r <= 1,

    with ``W(0) = 1``. Differentiating and collecting terms (the constant term
    of the bracket cancels) gives

        W'(r) = -(l+3)(l+4)/3 * r (1 + (l+1) r) (1 - r)^(l+1),

    so ``W'(r) / r`` is a polynomial, and ``W`` and ``W'`` both vanish at ``r = 1``.
    Once more: ``(W'(r) / r)' / r = (l+1)(l+2)(l+3)(l+4)/3 * (1 - r)^l``.
    In 2-D (``l = 4``): ``W = (1 - r)^6 (35 r^2 + 18 r + 3) / 3``.
    """

    def __init__(self, dimension: int):
        if dimension < 1:
            raise ValueError(f"dimension must be at least 1, got {dimension}")
        self.dimension = dimension
        self.smoothness = dimension // 2 + 3  # the l of the formulas

    def profile(self, r: Tensor) -> Tensor:
        k, t = self.smoothness, r.clamp(0, 1)
        return (1 - t) ** (k + 2) * ((k + 1) * (k + 3) * t.square() + 3 * (k + 2) * t + 3) / 3

    def slope_over_r(self, r: Tensor) -> Tensor:
        k, t = self.smoothness, r.clamp(0, 1)
        return -(k + 3) * (k + 4) / 3 * (1 + (k + 1) * t) * (1 - t) ** (k + 1)

    def bend_over_r(self, r: Tensor) -> Tensor:
        k, t = self.smoothness, r.clamp(0, 1)
        return (k + 1) * (k + 2) * (k + 3) * (k + 4) / 3 * (1 - t) ** k

    def __repr__(self) -> str:
        return f"Wendland(dimension={self.dimension})"


class Bump(RadialTestFunction):
    """The smooth bump ``exp(1 - 1 / (1 - r^2))`` for ``r < 1``, else 0 (C-infinity, 1 at the centre).

    ``profile'(r) / r = -2 exp(1 - 1/s) / s^2`` with ``s = 1 - r^2``; it is
    evaluated as one exponential, ``exp(1 - 1/s - 2 log s)``, so it tends to 0
    near the rim instead of forming 0 / 0; likewise
    ``S'(r) / r = 4 (1 - 2 s) exp(1 - 1/s - 4 log s)``.
    """

    @staticmethod
    def _inside(r: Tensor) -> tuple[Tensor, Tensor]:
        """``(r < 1, s)`` with ``s = 1 - r^2`` inside and a harmless 1 outside (no inf or nan in either branch)."""
        inside = r < 1
        return inside, torch.where(inside, 1 - r.square(), torch.ones_like(r))

    def profile(self, r: Tensor) -> Tensor:
        inside, s = self._inside(r)
        return torch.where(inside, torch.exp(1 - 1 / s), torch.zeros_like(r))

    def slope_over_r(self, r: Tensor) -> Tensor:
        inside, s = self._inside(r)
        return torch.where(inside, -2 * torch.exp(1 - 1 / s - 2 * torch.log(s)), torch.zeros_like(r))

    def bend_over_r(self, r: Tensor) -> Tensor:
        inside, s = self._inside(r)
        return torch.where(inside, 4 * (1 - 2 * s) * torch.exp(1 - 1 / s - 4 * torch.log(s)), torch.zeros_like(r))

    def __repr__(self) -> str:
        return "Bump()"
