# Viscous Burgers' equation in 1-D: the first complete example of the
# language reference (shared/design/language.md), written exactly as there.
#   u_t + u u_x = (0.01/pi) u_xx on x in [-1, 1], t in [0, 1]
#   u(-1, t) = u(1, t) = 0,  u(x, 0) = -sin(pi x)
# See specs/burgers.pde for the variant with reference data.
problem burgers
domain Omega = interval(x: [-1, 1])
time t: [0, 1]
field u
const nu = 0.01 / pi

equation in Omega:
    dt(u) + u*d(u, x) = nu*d(u, x, x)
boundary on boundary(Omega):
    u = 0
initial:
    u = -sin(pi*x)
