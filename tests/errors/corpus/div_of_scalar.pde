# expect: 7:10: div() takes a vector, but this is a scalar
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -div(u) = 1
boundary on boundary(Omega):
    u = 0
