# expect: 7:13: an equation holds inside a domain, but 'left' is on a boundary
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
region left = boundary(Omega) where x == 0
field u

equation in left:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
