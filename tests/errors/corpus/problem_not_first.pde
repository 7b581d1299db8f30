# expect: 3:1: 'problem' must be the first statement
domain Omega = box(x: [0, 1], y: [0, 1])
problem poisson
field u

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
