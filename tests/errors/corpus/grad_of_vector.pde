# expect: 7:15: grad() takes a scalar, but this is a vector of length 2
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -div(grad(grad(u))) = 1
boundary on boundary(Omega):
    u = 0
