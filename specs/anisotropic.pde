# Anisotropic diffusion with a rotated conductivity tensor (mixed derivatives).
#   -(u_xx + 2 c u_xy + u_yy) = f in (0,1)^2,  u = 0 on the boundary
# The operator is elliptic for |c| < 1; here c = 0.5 (principal axes at 45 degrees).
# Manufactured solution u = sin(pi x) sin(pi y).
problem anisotropic_diffusion

domain Omega = box(x: [0, 1], y: [0, 1])
field u
const c = 0.5                   # coupling of the two directions

let f = pi^2 * (2*sin(pi*x)*sin(pi*y) - 2*c*cos(pi*x)*cos(pi*y))

equation in Omega:
    -(d(u, x, x) + 2*c*d(u, x, y) + d(u, y, 2)) = f

boundary on boundary(Omega):
    u = 0

exact u = sin(pi*x) * sin(pi*y)
