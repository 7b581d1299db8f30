# expect: 6:16: data file 'missing_observations.npz' not found
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

observe u from "missing_observations.npz" noise 0.01

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
