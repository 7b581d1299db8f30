"""Run-time pieces of weak-form residuals: test functions, ball quadrature, particles.

A weak residual tests the PDE against compactly supported functions
``phi_j`` centred at particles ``c_j`` with radii ``R_j``. After integrating
by parts (``phi_j`` vanishes on the sphere, so no boundary term remains) it is
the mean over the ball ``B(c_j, R_j)``

    r_j = mean_k [ F(x_jk) . grad phi_j(x_jk) + g(x_jk) phi_j(x_jk) ],
    x_jk = c_j + R_j xi_k,

for fixed reference points ``xi_k`` in the unit ball. For ``-laplace(u) = f``:
``F = grad u``, ``g = -f``. The formulation follows DGNO (Zang and
Koutsourelakis, "DGNO: a physics-aware neural operator for forward and
inverse PDE problems based on deep generative probabilistic modeling",
J. Comput. Phys. 2025), which tests against compactly supported radial
functions, and ParticleWNN (Zang et al., 2023), which introduced test
functions on small balls around particles and a radius that changes during
training.

* :mod:`.test_functions`: ``Wendland(d)`` (C^4, radial, with the analytic
  gradient) and ``Bump()`` (C-infinity), evaluated on ``points [P, K, d]``.
* :mod:`.quadrature`: reference rules ``(points [K, d], weights [K])`` with
  weights summing to 1 (``grid_ball``, ``gauss_legendre_1d``) and
  ``to_particles`` giving ``x_jk`` as ``[P, K, d]``.
* :mod:`.particles`: ``sample_particles`` puts balls inside any shape sampler
  by vectorised rejection on the signed distance; ``fixed``, ``linear`` and
  ``radius_at`` schedule ``r_max`` over training.

Everything is vectorised over particles and quadrature points.
"""

from .particles import Particles, RadiusSchedule, fixed, linear, radius_at, sample_particles
from .quadrature import QuadratureRule, gauss_legendre_1d, grid_ball, polar_ball, to_particles
from .test_functions import Bump, RadialTestFunction, Wendland

__all__ = [
    "Bump", "Particles", "QuadratureRule", "RadialTestFunction", "RadiusSchedule", "Wendland", "fixed",
    "gauss_legendre_1d", "grid_ball", "linear", "polar_ball", "radius_at", "sample_particles", "to_particles",
]
