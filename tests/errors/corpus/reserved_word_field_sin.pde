# expect: 4:10: 'sin' is a built-in function and cannot be used as a name
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u, sin

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
