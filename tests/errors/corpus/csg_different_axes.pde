# expect: 3:44: cannot combine shapes with different axes (x, y) and (x, z)
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1]) - box(x: [0, 0.5], z: [0, 0.5])
field u

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
