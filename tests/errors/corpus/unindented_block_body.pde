# expect: 7:1: the equations of a block go on indented lines below its header (found '-')
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
-laplace(u) = 1
boundary on boundary(Omega):
    u = 0
