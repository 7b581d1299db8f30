# Steady diffusion on the unit square with Neumann, Robin and Dirichlet edges
# and a closed-form solution (a manufactured one: u = exp(-x) cos(pi y)).
#   -laplace(u) = (pi^2 - 1) exp(-x) cos(pi y)   in (0,1)^2
#   dn(u) = cos(pi y)     on the left edge   (a prescribed inflow flux, Neumann)
#   dn(u) + u = 0         on the right edge  (convective cooling, Robin)
#   dn(u) = 0             on the top edge    (insulated, Neumann)
#   u = exp(-x)           on the bottom edge (Dirichlet)
# dn is the derivative along the outward normal: -d/dx on the left edge.
problem robin_exact

domain Omega = box(x: [0, 1], y: [0, 1])
region left   = boundary(Omega) where x == 0
region right  = boundary(Omega) where x == 1
region top    = boundary(Omega) where y == 1
region bottom = boundary(Omega) where y == 0

field u

equation diffusion in Omega:
    -laplace(u) = (pi^2 - 1) * exp(-x) * cos(pi*y)

boundary inflow on left:
    dn(u) = cos(pi*y)
boundary cooling on right:
    dn(u) + u = 0
boundary insulated on top:
    dn(u) = 0
boundary fixed on bottom:
    u = exp(-x)

exact u = exp(-x) * cos(pi*y)
