# Steady viscous Burgers' equation with a smooth exact solution.
#   u u' = nu u'' on (-1, 1),  u(+-1) = +-tan(1/2)
# Integrating once gives nu u' = (u^2 + A^2)/2, solved by u = A tan(A x / (2 nu));
# with nu = 1, A = 1 the exact solution is u = tan(x / 2).
problem steady_burgers

domain Omega = interval(x: [-1, 1])
field u
const nu = 1

equation in Omega:
    u*d(u, x) - nu*d(u, x, x) = 0
boundary on boundary(Omega):
    u = tan(x/2)

exact u = tan(x/2)
