# expect: 5:15: unknown function 'gaussian_feild'
problem darcy
domain Omega = box(x: [0, 1], y: [0, 1])
field u
input a ~ exp(gaussian_feild(length: 0.1, smoothness: 2.5))

equation in Omega:
    -div(a * grad(u)) = 1
boundary on boundary(Omega):
    u = 0
