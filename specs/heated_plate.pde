# Laplace's equation on a square plate heated along its top edge.
#   laplace(u) = 0 in (0,1)^2,  u = sin(pi x) on y = 1,  u = 0 on the other edges
# Separation of variables gives u = sin(pi x) sinh(pi y) / sinh(pi).
problem heated_plate

domain Plate = box(x: [0, 1], y: [0, 1])
region top   = boundary(Plate) where y == 1
region other = boundary(Plate) where y != 1             # the three cool edges

field u

equation in Plate:
    d(u, x, x) + d(u, y, y) = 0
boundary heater on top:
    u = sin(pi*x)
boundary on other:
    u = 0

exact u = sin(pi*x) * sinh(pi*y) / sinh(pi)
