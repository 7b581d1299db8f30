# Poisson equation on the unit square with a manufactured solution.
#   -laplace(u) = 2 pi^2 sin(pi x) sin(pi y)  in (0,1)^2,   u = 0 on the boundary.
# The closed-form solution u = sin(pi x) sin(pi y) is given for validation.
problem poisson2d

domain Omega = box(x: [0, 1], y: [0, 1])   # 2-D box, named axes x and y
field u                                     # the unknown potential

const amplitude = 2 * pi^2                  # pi is built in

equation in Omega:                          # unnamed equation block
    -laplace(u) = amplitude * sin(pi*x) * sin(pi*y)

boundary on boundary(Omega):                # homogeneous Dirichlet on the whole boundary
    u = 0

exact u = sin(pi*x) * sin(pi*y)             # for validation
