# The Korteweg-de Vries equation (third order in space): a single soliton.
#   u_t + 6 u u_x + u_xxx = 0 on x in [-8, 8], t in [0, 1]
# Exact solution u = (c/2) sech^2(sqrt(c)/2 (x - c t)) with speed c = 2.
problem kdv

domain Line = interval(x: [-8, 8])
time t: [0, 1]
field u
const c = 2

equation in Line:
    dt(u) + 6*u*d(u, x) + d(u, x, 3) = 0
boundary on boundary(Line):
    u = c/2/cosh(sqrt(c)/2*(x - c*t))^2
initial:
    u = c/2/cosh(sqrt(c)/2*x)^2

exact u = c/2/cosh(sqrt(c)/2*(x - c*t))^2
