# expect: 7:27: cannot multiply two vectors with '*'
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) + grad(u) * grad(u) = 1
boundary on boundary(Omega):
    u = 0
