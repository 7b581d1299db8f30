# expect: 3:28: the range of axis 'x' [1e+06, 1000000.000000001] cannot be sampled: its width 1.05e-09 is 1e-15 of its coordinates' size 1e+06: float64 tells apart only about 9 coordinates in it
problem rod
domain Omega = interval(x: [1e6, 1e6 + 1e-9])
field u

equation in Omega:
    -d(u, x, 2) = 1
boundary on boundary(Omega):
    u = 0
