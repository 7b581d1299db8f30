# A simply supported Euler-Bernoulli beam under a sinusoidal load (fourth order).
#   u'''' = pi^4 sin(pi x) on (0, 1),  u = u'' = 0 at both ends
# Exact deflection u = sin(pi x).
problem beam

domain Beam = interval(x: [0, 1])
field u

equation in Beam:
    d(u, x, 4) = pi^4*sin(pi*x)
boundary on boundary(Beam):
    u = 0
    d(u, x, 2) = 0

exact u = sin(pi*x)
