# expect: 3:25: axis 'x' has the name of the time axis
problem heat
domain Omega = interval(x: [0, 1])
time x: [0, 1]
field u

equation in Omega:
    dt(u) = d(u, x, x)
boundary on boundary(Omega):
    u = 0
initial:
    u = sin(pi*x)
