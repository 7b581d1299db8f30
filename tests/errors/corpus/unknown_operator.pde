# expect: 7:6: unknown operator 'lapalce'
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -lapalce(u) = 1
boundary on boundary(Omega):
    u = 0
