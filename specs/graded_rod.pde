# Steady conduction in a rod whose conductivity grows along it.
#   -(k(x) u')' = 0 on (0, 1),  k(x) = 1 + x^2,  u(0) = 0,  u(1) = 1
# Then k u' is constant, so u = arctan(x) / arctan(1) = 4 arctan(x) / pi.
problem graded_rod

domain Rod = interval(x: [0, 1])
region cold = boundary(Rod) where x == 0
region hot  = boundary(Rod) where x == 1

field u
input k = 1 + x^2                 # conductivity, a known function of x

equation in Rod:
    -d(k*d(u, x), x) = 0          # divergence form in 1-D
boundary on cold:
    u = 0
boundary on hot:
    u = 1

exact u = 4*arctan(x) / pi
