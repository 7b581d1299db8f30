# expect: 7:21: missing operator between two operands (write 2*x for a product) (found name 'x')
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) = 2 x
boundary on boundary(Omega):
    u = 0
