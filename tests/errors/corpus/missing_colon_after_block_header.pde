# expect: 6:18: a block header ends with ':'
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
