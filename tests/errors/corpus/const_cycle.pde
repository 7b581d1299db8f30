# expect: 5:11: const 'a' is defined in terms of itself (a -> b -> a)
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
const a = 2*b
const b = a + 1

equation in Omega:
    -a*laplace(u) = b
boundary on boundary(Omega):
    u = 0
