# Poisson equation in the unit ball (3-D).
#   -laplace(u) = 1 in the ball,  u = 0 on the sphere
# Exact solution u = (1 - x^2 - y^2 - z^2) / 6.
problem poisson_ball

domain B = ball(center: (0, 0, 0), radius: 1)   # axes default to x, y, z
field u

equation in B:
    -laplace(u) = 1
boundary on boundary(B):
    u = 0

exact u = (1 - x^2 - y^2 - z^2) / 6
