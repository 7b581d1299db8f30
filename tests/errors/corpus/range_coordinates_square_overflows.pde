# expect: 7:28: the range of axis 'x' [-1e+308, 1] cannot be sampled: its coordinates reach 1e+308, whose squares overflow float64 (beyond 1.34e+154), as the distances and volumes of its points do
# The width fits in float64, but training squares coordinates (distances to the boundary, areas, a prior's
# covariance), which overflow: the run stopped with an internal error (OverflowError, an invalid multinomial
# distribution) instead.
problem allen_cahn_kink

domain Omega = interval(x: [-1e308, 1])
field u
const eps = 0.1

equation in Omega:
    eps^2*d(u, x, x) + u - u^3 = 0
boundary on boundary(Omega):
    u = x
