# expect: 5:14: a domain is defined with '=': domain NAME = box(...) (found name 'box')
# expect: 7:13: use '^' for powers, not '**'
# expect: 10:19: use '=' in equations and conditions
problem poisson
domain Omega box(x: [0, 1], y: [0, 1])
field u
const k = 2 **  3

equation in Omega:
    -k*laplace(u) == 1
boundary on boundary(Omega):
    u = 0
