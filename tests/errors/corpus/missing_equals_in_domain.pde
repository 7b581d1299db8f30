# expect: 3:14: a domain is defined with '=': domain NAME = box(...) (found name 'box')
problem poisson
domain Omega box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
