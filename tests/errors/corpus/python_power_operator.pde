# expect: 7:21: use '^' for powers, not '**'
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) + u ** 3 = 1
boundary on boundary(Omega):
    u = 0
