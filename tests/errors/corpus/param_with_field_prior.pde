# expect: 5:11: param 'a' is a scalar, but its prior is a random field
problem darcy
domain Omega = box(x: [0, 1], y: [0, 1])
field u
param a ~ gaussian_field(length: 0.1)

equation in Omega:
    -div(a * grad(u)) = 1
boundary on boundary(Omega):
    u = 0
