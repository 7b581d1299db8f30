# Darcy flow with a smooth log-normal permeability.
#   -div(a grad u) = f  in (0,1)^2,  u = 0 on the boundary
# a = exp(g) with g a Matern Gaussian random field: positive and smooth.
# Darcy velocity q = -a grad u is named with 'let'.
problem darcy_lognormal

domain Omega = box(x: [0, 1], y: [0, 1])
field u

# log-normal permeability: exp of a zero-mean Gaussian field (variance 0.5)
input a ~ exp(gaussian_field(length: 0.2, smoothness: 1.5, variance: 0.5, mean: 0))

const f = 1                       # uniform source
let q = -a * grad(u)              # Darcy velocity (a vector)

equation in Omega:
    div(q) = f                    # mass conservation

boundary on boundary(Omega):
    u = 0
