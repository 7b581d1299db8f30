# Inverse Darcy problem: recover the permeability from noisy pressure readings.
#   -div(a grad u) = 1 in (0,1)^2,  u = 0 on the boundary
# The prior on a is log-normal; 120 scattered pressure readings with Gaussian
# noise (std 0.01) are in darcy_obs.npz (scattered layout: x, y, u).
# The posterior over a given the readings is wanted.
problem darcy_inverse

domain Omega = box(x: [0, 1], y: [0, 1])
field u
input a ~ exp(gaussian_field(length: 0.25, smoothness: 2.5, variance: 0.5))

equation in Omega:
    -div(a * grad(u)) = 1
boundary on boundary(Omega):
    u = 0

observe u from "darcy_obs.npz" noise 0.01   # sparse, noisy data
infer a                                     # posterior over the permeability field
