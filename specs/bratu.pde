# The 1-D Bratu (Gelfand) problem of thermal explosion / solid-fuel ignition.
#   u'' + lambda exp(u) = 0 on (0, 1),  u(0) = u(1) = 0
# Exact (lower-branch) solution u = -2 log(cosh((x - 1/2) theta/2) / cosh(theta/4)),
# where theta solves theta = sqrt(2 lambda) cosh(theta/4); lambda is defined from
# theta below so that the two agree exactly (lambda ~ 1).
problem bratu

domain Slab = interval(x: [0, 1])
field u

const theta = 1.5171645990507543
const lambda = theta^2 / (2 * cosh(theta/4)^2)

equation in Slab:
    d(u, x, 2) + lambda*exp(u) = 0
boundary on boundary(Slab):
    u = 0

exact u = -2*log(cosh((x - 0.5)*theta/2) / cosh(theta/4))
