"""Classical finite-difference / finite-volume reference solvers (NumPy + SciPy).

These give independent answers to check the neural solvers against:

* :func:`solve_elliptic` -- steady -div(a grad u) + c u = f on a box in 1-3 D,
  Dirichlet / Neumann sides, harmonic face averages of ``a``.
* :func:`solve_time_1d` -- u_t = D u_xx - F(u)_x + R(u, x, t) in 1-D by the
  method of lines with a stiff integrator (heat, Burgers, reaction-diffusion).
"""

from .elliptic import Side, solve_elliptic
from .time1d import solve_time_1d

__all__ = ["Side", "solve_elliptic", "solve_time_1d"]
