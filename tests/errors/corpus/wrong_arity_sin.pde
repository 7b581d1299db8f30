# expect: 7:19: sin() takes 1 argument, got 2
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) = sin(x, y)
boundary on boundary(Omega):
    u = 0
