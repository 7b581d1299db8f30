# expect: 7:10: div() needs a vector of length 1 (one per axis: x), but this has length 2
problem rod
domain Omega = interval(x: [0, 1])
field u

equation in Omega:
    -div((d(u, x), 0)) = 1
boundary on boundary(Omega):
    u = 0
