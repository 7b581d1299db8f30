# expect: 13:7: unknown name 'kapa' in 'infer'
problem darcy_inverse
domain Omega = box(x: [0, 1], y: [0, 1])
field u
param kappa ~ uniform(0.5, 2)

equation in Omega:
    -kappa*laplace(u) = 1
boundary on boundary(Omega):
    u = 0

observe u from "u_obs.npz" noise 0.01
infer kapa
