# expect: 5:30: gaussian_field() has no parameter 'lenght'
problem darcy
domain Omega = box(x: [0, 1], y: [0, 1])
field u
input a ~ exp(gaussian_field(lenght: 0.1, smoothness: 2.5))

equation in Omega:
    -div(a * grad(u)) = 1
boundary on boundary(Omega):
    u = 0
