# Nonlinear Schrodinger equation (Raissi et al. 2019), split into real and imaginary parts.
#   i h_t + 0.5 h_xx + |h|^2 h = 0,  h = u + i v,  x in [-5, 5], t in [0, pi/2]
#   h(x, 0) = 2 sech(x),  h periodic in x
problem schrodinger

domain Omega = interval(x: [-5, 5])
time t: [0, pi/2]
field u, v                    # real and imaginary parts of h

let intensity = u^2 + v^2     # |h|^2

equation in Omega:            # two coupled equations in one block
    dt(u) + 0.5*d(v, x, 2) + intensity*v = 0
    dt(v) - 0.5*d(u, x, 2) - intensity*u = 0

initial:
    u = 2 / cosh(x)           # 2 sech(x)
    v = 0

periodic u, v in x
