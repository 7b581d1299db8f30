# expect: 7:19: uniform() cannot be used in an equation
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) = uniform(0, 1)
boundary on boundary(Omega):
    u = 0
