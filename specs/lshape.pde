# Poisson equation on an L-shaped domain (a re-entrant corner at the origin).
#   -laplace(u) = 1 in L,  u = 0 on the boundary
# L is the square [-1,1]^2 with its upper-right quarter removed (CSG difference).
# The solution has a corner singularity ~ r^(2/3) at (0, 0).
problem poisson_lshape

domain L = box(x: [-1, 1], y: [-1, 1]) - box(x: [0, 1], y: [0, 1])
field u

equation in L:
    -laplace(u) = 1
boundary on boundary(L):
    u = 0
