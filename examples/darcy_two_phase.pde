# Darcy flow in a random two-phase medium: the second complete example of the
# language reference (shared/design/language.md), written exactly as there.
#   -div(a grad u) = 10 in (0,1)^2,  u = 0 on the boundary,
#   a = 5 or 10: a thresholded Matern Gaussian random field.
problem darcy_two_phase
domain Omega = box(x: [0, 1], y: [0, 1])
field u
input a ~ threshold(gaussian_field(length: 0.1, smoothness: 2.5), below: 5, above: 10)

equation in Omega:
    -div(a * grad(u)) = 10
boundary on boundary(Omega):
    u = 0
