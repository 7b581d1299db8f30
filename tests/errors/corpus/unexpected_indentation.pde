# expect: 4:1: unexpected indentation: only the lines of an equation, boundary or initial block are indented
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
    field u

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
