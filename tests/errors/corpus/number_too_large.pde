# expect: 5:11: number 1e999 is too large to represent
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
const k = 1e999

equation in Omega:
    -k*laplace(u) = 1
boundary on boundary(Omega):
    u = 0
