# expect: 8:6: unknown name 'kapa'
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
const kappa = 2

equation in Omega:
    -kapa*laplace(u) = 1
boundary on boundary(Omega):
    u = 0
