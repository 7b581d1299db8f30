# expect: 5:7: 'pi' is a built-in constant and cannot be used as a name
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
const pi = 3.14159

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
