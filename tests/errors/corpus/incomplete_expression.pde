# expect: 5:14: the expression is incomplete
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
const k = 2 *

equation in Omega:
    -k*laplace(u) = 1
boundary on boundary(Omega):
    u = 0
