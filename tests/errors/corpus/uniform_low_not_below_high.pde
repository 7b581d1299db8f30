# expect: 5:22: uniform(low, high) needs low < high, got [2, 0.5]
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
param k ~ uniform(2, 0.5)

equation in Omega:
    -k*laplace(u) = 1
boundary on boundary(Omega):
    u = 0
