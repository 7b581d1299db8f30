# expect: 4:9: time interval of 't' [0, 1e-320] cannot be sampled: its width 1e-320 is below float64's smallest normal number 2.23e-308, where it keeps only a few digits
problem heat
domain Omega = interval(x: [0, 1])
time t: [0, 1e-320]
field u

equation in Omega:
    dt(u) = d(u, x, 2)
boundary on boundary(Omega):
    u = 0
initial:
    u = sin(pi*x)
