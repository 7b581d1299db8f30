# Kirchhoff plate bending: the biharmonic equation on the unit square with
# simply supported (Navier) edges. The expansion of laplace(laplace(u))
# needs the mixed fourth derivative u_xxyy.
#   laplace(laplace(u)) = 4 pi^4 sin(pi x) sin(pi y),  u = laplace(u) = 0 on the edges
# Exact deflection u = sin(pi x) sin(pi y).
problem plate_bending

domain Plate = box(x: [0, 1], y: [0, 1])
field u

equation in Plate:
    laplace(laplace(u)) = 4*pi^4*sin(pi*x)*sin(pi*y)
boundary on boundary(Plate):
    u = 0
    laplace(u) = 0

exact u = sin(pi*x)*sin(pi*y)
