# expect: 3:23: the range of axis 'x' [1, 0] is empty: its start must be below its end
problem poisson
domain Omega = box(x: [1, 0], y: [0, 1])
field u

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
