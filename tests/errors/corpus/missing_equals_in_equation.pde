# expect: 7:16: an equation or condition needs '=' between its two sides
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u)
boundary on boundary(Omega):
    u = 0
