# expect: 3:12: a polygon needs at least 3 vertices, got 2
problem poisson
domain P = polygon((0, 0), (1, 0))
field u

equation in P:
    -laplace(u) = 1
boundary on boundary(P):
    u = 0
