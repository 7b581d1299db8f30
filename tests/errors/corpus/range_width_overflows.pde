# expect: 3:28: the range of axis 'x' [-1e+308, 1e+308] cannot be sampled: its width overflows float64 (beyond 1.8e+308)
problem rod
domain Omega = interval(x: [-1e308, 1e308])
field u

equation in Omega:
    -d(u, x, 2) = 1
boundary on boundary(Omega):
    u = 0
