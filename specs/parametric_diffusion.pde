# A parametric family of reaction-diffusion problems (operator learning).
#   -div(g grad u) + k u = 1 in (0,1)^2,  u = 0 on the boundary
# The diffusivity g = 2.1 + sin(b1 x) + cos(b2 y) is always positive (> 0.1);
# its frequencies b1, b2 and the reaction rate k are drawn at random.
problem parametric_diffusion

domain Omega = box(x: [0, 1], y: [0, 1])
field u

param k ~ uniform(0.5, 2.0)           # reaction rate
param b1 ~ uniform(3, 6)              # frequencies of the diffusivity
param b2 ~ uniform(3, 6)
input g = 2.1 + sin(b1*x) + cos(b2*y) # deterministic given the params

equation in Omega:
    -div(g * grad(u)) + k*u = 1
boundary on boundary(Omega):
    u = 0
