# Poisson equation on the unit cube with a manufactured solution (the 3-D companion of poisson.pde).
#   -laplace(u) = 3 pi^2 sin(pi x) sin(pi y) sin(pi z)  in (0,1)^3,   u = 0 on the boundary.
problem poisson3d

domain Cube = box(x: [0, 1], y: [0, 1], z: [0, 1])
field u

equation in Cube:
    -laplace(u) = 3 * pi^2 * sin(pi*x) * sin(pi*y) * sin(pi*z)

boundary on boundary(Cube):
    u = 0

exact u = sin(pi*x) * sin(pi*y) * sin(pi*z)
