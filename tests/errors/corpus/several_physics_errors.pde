# expect: 11:5: dt() needs a time axis, but the problem has none
# expect: 11:17: div() takes a vector, but this is a scalar
# expect: 12:19: dn() cannot be used in an equation
# expect: 12:27: sin() takes 1 argument, got 2
# expect: 14:9: uniform() cannot be used in a boundary condition
problem heat
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    dt(u) - div(u) = 1
    -laplace(u) + dn(u) = sin(x, y)
boundary on boundary(Omega):
    u = uniform(0, 1)
