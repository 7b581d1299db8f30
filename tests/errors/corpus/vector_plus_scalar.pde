# expect: 7:18: cannot add a vector of length 2 and a scalar
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -div(grad(u) + 1) = 1
boundary on boundary(Omega):
    u = 0
