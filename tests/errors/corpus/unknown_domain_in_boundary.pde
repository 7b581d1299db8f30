# expect: 8:22: unknown domain 'Omgea'
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omgea):
    u = 0
