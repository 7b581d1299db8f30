# Allen-Cahn equation with periodic boundary conditions (Raissi et al. 2019).
#   u_t = eps u_xx + 5 u - 5 u^3 on x in [-1, 1], t in [0, 1]
#   u(x, 0) = x^2 cos(pi x),  u periodic in x
# Phase separation: u settles into the stable states -1 and +1.
problem allen_cahn

domain Omega = interval(x: [-1, 1])
time t: [0, 1]
field u
const eps = 0.0001            # interface width squared

equation in Omega:
    dt(u) - eps*d(u, x, x) + 5*u^3 - 5*u = 0
initial:
    u = x^2 * cos(pi*x)

periodic u in x               # u and its derivatives match at x = -1 and x = 1
