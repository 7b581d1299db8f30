# expect: 5:11: the prior takes sqrt of a Gaussian field, which is undefined where it is negative: with mean 0 and standard deviation 1, nearly every draw is negative somewhere, and such draws are refused
problem darcy
domain Omega = box(x: [0, 1], y: [0, 1])
field u
input a ~ sqrt(gaussian_field(length: 0.2))

equation in Omega:
    -div(a*grad(u)) = 1
boundary on boundary(Omega):
    u = 0
