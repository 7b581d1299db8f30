# Inverse two-phase Darcy flow: recover the permeability map from 100 noisy pressure readings.
#   -div(a grad u) = 10 in (0,1)^2,  u = 0 on the boundary,  a in {5, 10}
# The prior is the two-phase family of darcy_two_phase.pde; the readings (25 dB SNR,
# noise std 0.00365) and the truth are made by make_data.py. Train a generative model
# of the family first, then infer:
#   pdedsl train specs/darcy_two_phase_inverse.pde --backend dgno --form mixed --out runs/two_phase_dgno
#   pdedsl infer specs/darcy_two_phase_inverse.pde --model runs/two_phase_dgno
problem darcy_two_phase_inverse

domain Omega = box(x: [0, 1], y: [0, 1])
field u

input a ~ threshold(gaussian_field(length: 0.1, smoothness: 2.5), below: 5, above: 10)

equation darcy in Omega:
    -div(a * grad(u)) = 10

boundary on boundary(Omega):
    u = 0

observe u from "darcy_two_phase_obs.npz" noise 0.00365
infer a
reference u from "darcy_two_phase_truth.npz"
reference a from "darcy_two_phase_truth.npz"   # the truth of the inferred permeability
