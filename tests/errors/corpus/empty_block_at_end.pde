# expect: 7:19: a block needs at least one equation or condition, on indented lines below its header
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
boundary on boundary(Omega):
    u = 0
equation in Omega:
