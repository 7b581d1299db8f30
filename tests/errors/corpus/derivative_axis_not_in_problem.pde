# expect: 7:24: unknown axis 'z' (the axes are: x, y)
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -d(u, x, x) - d(u, z, z) = 1
boundary on boundary(Omega):
    u = 0
