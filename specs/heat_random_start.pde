# Inverse heat conduction: recover a rod's initial temperature profile from 40 noisy
# readings taken later, with a posterior that says how much of it the data fix.
#   u_t = kappa u_xx on (0, 1) x (0, 0.5],  u = 0 at both ends,  u(x, 0) = s(x) sin(pi x)
# s is a Matern Gaussian field; diffusion erases its fine detail, so the posterior's
# spread grows with the frequency. The readings (noise std 0.01) and the truth (s and
# u on a 33 x 33 grid of x and t) are made by make_data.py. Train a generative model
# of the family, then infer (the truth of s, from 'reference s', scores the posterior):
#   pdedsl train specs/heat_random_start.pde --backend dgno --grid 33 --steps 3000 --batch 25 --lr 2e-3 \
#       --decay 0.01 --weight initial_1=10 --weight kl=0.1 --out runs/rod_dgno
#   pdedsl infer specs/heat_random_start.pde --model runs/rod_dgno --out runs/rod_post
problem heat_random_start

domain Rod = interval(x: [0, 1])
time t: [0, 0.5]
field u
const kappa = 0.1
input s ~ gaussian_field(length: 0.2, smoothness: 2.5, variance: 1)

equation heat in Rod:
    dt(u) = kappa*d(u, x, x)
boundary on boundary(Rod):
    u = 0
initial:
    u = s*sin(pi*x)

observe u from "heat_start_obs.npz" noise 0.01
infer s
reference s from "heat_start_truth.npz"     # the truth of the inferred start
