# expect: 4:1: unexpected name 'feild'; expected a statement (problem, domain, field, equation, boundary, ...) or end of line
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
feild u

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
