# Darcy flow through a random two-phase porous medium (the FNO Darcy benchmark).
#   -div(a grad u) = 10 in (0,1)^2,  u = 0 on the boundary
# The permeability a takes the value 5 or 10: it is a thresholded Gaussian
# random field (Matern covariance, correlation length 0.1, smoothness 2.5).
# The task is to learn the map a -> u over this family of media.
problem darcy_two_phase

domain Omega = box(x: [0, 1], y: [0, 1])
field u                                  # pressure head

# two-phase permeability: 5 where the latent field is below 0, 10 above
input a ~ threshold(gaussian_field(length: 0.1, smoothness: 2.5), below: 5, above: 10)

equation darcy in Omega:
    -div(a * grad(u)) = 10

boundary on boundary(Omega):
    u = 0
