# expect: 7:5: dt() needs a time axis, but the problem has none
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    dt(u) - laplace(u) = 1
boundary on boundary(Omega):
    u = 0
