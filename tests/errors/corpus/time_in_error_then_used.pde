# expect: 4:9: time interval of 't' [1, 0] is empty: its start must be below its end
problem heat
domain I = interval(x: [0, 1])
time t: [1, 0]
field u
equation in I:
    dt(u) = d(u, x, 2) + t*d(u, t)
exact u = t*x
