# Poisson equation with a heat source confined to a central disc.
#   -laplace(u) = 10 where x^2 + y^2 < 0.25,  -laplace(u) = 0 elsewhere
#   u = 0 on the boundary of the square [-1, 1]^2
# The two parts of the square are interior regions defined with 'where'.
problem localized_source

domain Omega = box(x: [-1, 1], y: [-1, 1])
region inside  = Omega where x^2 + y^2 < 0.25     # the heated disc (radius 0.5)
region outside = Omega where x^2 + y^2 >= 0.25    # the rest of the square

field u
const q = 10                    # source strength

equation heated in inside:
    -laplace(u) = q
equation passive in outside:
    -laplace(u) = 0

boundary on boundary(Omega):
    u = 0
