# expect: 7:19: dn() cannot be used in an equation
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) + dn(u) = 1
boundary on boundary(Omega):
    u = 0
