# expect: 9:13: a boundary condition needs a boundary, but region 'core' lies in the interior of a domain
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
region core = Omega where x^2 + y^2 < 0.25
field u

equation in Omega:
    -laplace(u) = 1
boundary on core:
    u = 0
