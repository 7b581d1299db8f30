# Darcy flow with a smooth parametric permeability (an operator-learning benchmark).
#   -div(a grad u) = 10 in (0,1)^2,  u = 0 on the boundary
# a = 2.1 + sin(b1 x) + cos(b2 y) stays between 0.1 and 4.1; its frequencies
# are drawn at random, so the spec describes a family of problems and an
# operator backend learns the map a -> u over it.
problem darcy_smooth

domain Omega = box(x: [0, 1], y: [0, 1])
field u                                  # pressure head

param b1 ~ uniform(0, 2*pi)              # frequencies of the permeability
param b2 ~ uniform(0, 2*pi)
input a = 2.1 + sin(b1*x) + cos(b2*y)

equation darcy in Omega:
    -div(a * grad(u)) = 10

boundary on boundary(Omega):
    u = 0
