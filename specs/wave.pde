# 1-D wave equation: a plucked string released from rest.
#   u_tt = c^2 u_xx  on x in [0, 1], t in [0, 2]
#   u(0, t) = u(1, t) = 0,  u(x, 0) = sin(pi x),  u_t(x, 0) = 0
# Standing wave; exact solution u = sin(pi x) cos(c pi t).
problem string_wave

domain String = interval(x: [0, 1])
time t: [0, 2]
field u                       # transverse displacement
const c = 1.0                 # wave speed

equation in String:
    d(u, t, 2) = c^2 * d(u, x, x)

boundary clamped on boundary(String):
    u = 0

initial:                      # a second-order-in-time problem needs two conditions
    u = sin(pi*x)             # initial shape
    dt(u) = 0                 # released from rest

exact u = sin(pi*x) * cos(c*pi*t)
