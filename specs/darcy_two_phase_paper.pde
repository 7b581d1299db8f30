# Two-phase Darcy flow with the smoother prior of the DGNO paper's data.
#   -div(a grad u) = 10 in (0,1)^2,  u = 0 on the boundary,  a in {5, 10}
# The DGNO authors' two-phase permeabilities follow the FNO Darcy convention:
# a thresholded Gaussian field with covariance (-Laplacian + 9 I)^(-2). In two
# dimensions that is a Matern field of smoothness 1 and length sqrt(2)/3 =
# 0.471 (kappa = sqrt(2 nu) / length = 3), so a member has a few large
# patches, where darcy_two_phase.pde (length 0.1, smoothness 2.5) has dozens.
problem darcy_two_phase_paper

domain Omega = box(x: [0, 1], y: [0, 1])
field u

input a ~ threshold(gaussian_field(length: 0.471, smoothness: 1), below: 5, above: 10)

equation darcy in Omega:
    -div(a * grad(u)) = 10

boundary on boundary(Omega):
    u = 0
