# expect: 7:21: unexpected character '$'
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) = 1 $ x
boundary on boundary(Omega):
    u = 0
