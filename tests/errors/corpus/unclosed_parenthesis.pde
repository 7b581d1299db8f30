# expect: 7:22: '(' was never closed
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) = sin(pi*x
boundary on boundary(Omega):
    u = 0
