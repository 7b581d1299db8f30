# Viscous Burgers' equation (Raissi et al. 2019; DeepXDE's Burgers example).
#   u_t + u u_x = (0.01/pi) u_xx  on x in [-1, 1], t in [0, 0.99]
#   u(-1, t) = u(1, t) = 0,  u(x, 0) = -sin(pi x)
# A shock forms at x = 0; burgers.npz holds the published high-accuracy solution
# on a 256 x 100 grid (a copy of shared/data/burgers.npz), used as the reference.
problem burgers
domain Omega = interval(x: [-1, 1])
time t: [0, 0.99]                 # the reference data end at t = 0.99
field u
const nu = 0.01 / pi              # viscosity

equation in Omega:
    dt(u) + u*d(u, x) = nu*d(u, x, x)
boundary on boundary(Omega):
    u = 0
initial:
    u = -sin(pi*x)

reference u from "burgers.npz"    # grid layout: x (256,), t (100,), u (256, 100)
