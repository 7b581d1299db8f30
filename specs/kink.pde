# A steady phase-field interface (the Allen-Cahn kink), a singularly perturbed BVP.
#   eps^2 u'' + u - u^3 = 0 on (-1, 1),  u(+-1) = the exact solution there
# Exact solution u = tanh(x / (sqrt(2) eps)): a transition layer of width ~ eps.
problem allen_cahn_kink

domain Omega = interval(x: [-1, 1])
field u
const eps = 0.05

equation in Omega:
    eps^2*d(u, x, x) + u - u^3 = 0
boundary on boundary(Omega):
    u = tanh(x / (sqrt(2)*eps))

exact u = tanh(x / (sqrt(2)*eps))
