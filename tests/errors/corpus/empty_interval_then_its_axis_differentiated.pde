# expect: 3:28: the range of axis 'x' [1, 0] is empty: its start must be below its end
problem rod
domain Omega = interval(x: [1, 0])
field u

equation in Omega:
    -d(u, x, 2) = 1
boundary on boundary(Omega):
    u = 0
