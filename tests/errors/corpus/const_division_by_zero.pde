# expect: 5:11: const 'k' is not a finite real number: division by zero
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
const k = 1/0

equation in Omega:
    -k*laplace(u) = 1
boundary on boundary(Omega):
    u = 0
