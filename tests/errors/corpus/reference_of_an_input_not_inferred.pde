# expect: 14:11: 'reference a': an input's reference is the truth of an inferred input, and 'a' is not inferred
# expect: 15:11: 'reference' needs a field or an input, but 'kappa' is a param
problem darcy_reference
domain Omega = box(x: [0, 1], y: [0, 1])
field u
param kappa = 1
input a ~ exp(gaussian_field(length: 0.2))

equation in Omega:
    -kappa*div(a*grad(u)) = 1
boundary on boundary(Omega):
    u = 0

reference a from "u_obs.npz"
reference kappa from "u_obs.npz"
