# expect: 4:8: a time axis is declared as: time t: [t0, t1] (found '=')
problem heat
domain Omega = interval(x: [0, 1])
time t = [0, 1]
field u

equation in Omega:
    dt(u) = d(u, x, x)
boundary on boundary(Omega):
    u = 0
initial:
    u = sin(pi*x)
