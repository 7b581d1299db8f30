# Inverse heat problem: estimate an unknown diffusivity from temperature data.
#   u_t = D u_xx on x in [0, 1], t in [0, 1],  u = 0 at both ends,  u(x, 0) = sin(pi x)
# D starts from the guess 1.0 and is inferred from heat_obs.npz, a 21 x 11
# grid of noisy temperatures (grid layout: x, t, u with u.shape == (21, 11)).
# The data were made with D = 0.25 (see make_data.py).
problem heat_diffusivity

domain Rod = interval(x: [0, 1])
time t: [0, 1]
field u
param D = 1.0                  # initial guess; 'infer D' makes it unknown

equation in Rod:
    dt(u) = D * d(u, x, x)
boundary on boundary(Rod):
    u = 0
initial:
    u = sin(pi*x)

observe u from "heat_obs.npz" noise 0.01
infer D
