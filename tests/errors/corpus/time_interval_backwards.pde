# expect: 3:9: time interval of 't' [1, 0] is empty: its start must be below its end
domain I = interval(x: [0, 1])
time t: [1, 0]
field u
equation in I:
    dt(u) = d(u, x, 2)
boundary on boundary(I):
    u = 0
initial:
    u = 0
