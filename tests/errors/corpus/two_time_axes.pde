# expect: 5:1: a problem has one time axis, and 't' is it (line 4)
problem two_clocks
domain Rod = interval(x: [0, 1])
time t: [0, 1]
time s: [0, 2]
field u
equation in Rod:
    dt(u) = d(u, x, 2) + s
initial:
    u = 0
