# expect: 6:7: 'k' is already defined as a const on line 5
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
const k = 2
param k = 3

equation in Omega:
    -k*laplace(u) = 1
boundary on boundary(Omega):
    u = 0
