# expect: 5:8: a param has a value (param k = 1) or a prior (param k ~ uniform(0, 1))
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
param k

equation in Omega:
    -k*laplace(u) = 1
boundary on boundary(Omega):
    u = 0
