# Steady advection-diffusion of a pollutant in a channel, with an uncertain wind.
#   dot(b, grad(c)) - eps laplace(c) = s   in [0, 2] x [0, 1]
#   c = 0 at the inlet (x = 0), no diffusive flux elsewhere
# The wind b = speed (cos(theta), sin(theta)) has a normally distributed angle
# and speed; s is a random (Matern Gaussian) field of sources.
problem advection_diffusion

domain Channel = box(x: [0, 2], y: [0, 1])
region inlet  = boundary(Channel) where x == 0
region others = boundary(Channel) where x == 2 or y == 0 or y == 1

field c                                     # concentration
const eps = 0.01                            # diffusivity
param theta ~ normal(0.1, 0.05)             # wind angle (radians)
param speed ~ normal(1.0, 0.1)              # wind speed
input s ~ gaussian_field(length: 0.2, smoothness: 1.5, variance: 1, mean: 0)

let b = speed * (cos(theta), sin(theta))    # wind velocity, a vector literal

equation transport in Channel:
    dot(b, grad(c)) - eps*laplace(c) = s

boundary on inlet:
    c = 0
boundary outflow on others:
    dn(c) = 0
