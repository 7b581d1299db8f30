# expect: 7:30: unexpected '='; expected ')' or ','
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -div((1 + x^2) * grad(u) = 1
boundary on boundary(Omega):
    u = 0
