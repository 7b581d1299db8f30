# Steady heat conduction in an annulus (a pipe wall), solved against its exact solution.
#   laplace(u) = 0 for 0.5 < r < 1,  u = 0 on the inner rim, u = 1 on the outer rim
# Exact solution u = log(r / 0.5) / log(2), r = sqrt(x^2 + y^2).
problem annulus_conduction

domain Ring = disk(center: (0, 0), radius: 1) - disk(center: (0, 0), radius: 0.5)
region inner = boundary(Ring) where x^2 + y^2 < 0.5625     # r < 0.75: the inner rim
region outer = boundary(Ring) where not x^2 + y^2 < 0.5625 # the outer rim

field u
let r = sqrt(x^2 + y^2)               # distance from the centre

equation in Ring:
    laplace(u) = 0
boundary on inner:
    u = 0
boundary on outer:
    u = 1

exact u = log(r / 0.5) / log(2)
