# expect: 6:34: the noise level must not be negative, got -0.01
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

observe u from "u_obs.npz" noise -0.01

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
