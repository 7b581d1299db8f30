# Lid-driven cavity: steady Stokes flow in the unit square.
#   -mu laplace(u) + grad(p) = 0,  div(u) = 0   in (0,1)^2
#   u = (1, 0) on the lid (y = 1), u = 0 on the other walls.
# The unknowns are the two velocity components and the pressure.
problem lid_driven_cavity

domain Omega = box(x: [0, 1], y: [0, 1])
region lid   = boundary(Omega) where y == 1
region walls = boundary(Omega) where x == 0 or x == 1 or y == 0

field ux, uy, p               # a system: velocity (ux, uy) and pressure p
const mu = 1.0                # dynamic viscosity

equation momentum in Omega:   # several equations in one block
    -mu*laplace(ux) + d(p, x) = 0
    -mu*laplace(uy) + d(p, y) = 0

equation continuity in Omega:
    div((ux, uy)) = 0         # the velocity as a vector literal

boundary moving_lid on lid:
    ux = 1
    uy = 0

boundary no_slip on walls:
    ux = 0
    uy = 0

# Pin the pressure (it is fixed only up to a constant) at the bottom-left corner.
region corner = boundary(Omega) where x == 0 and y == 0
boundary on corner:
    p = 0
