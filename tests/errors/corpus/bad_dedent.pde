# expect: 13:1: this line's indentation matches no enclosing block
problem heat
domain Omega = interval(x: [0, 1])
time t: [0, 1]
field u

equation in Omega:
    dt(u) = d(u, x, x)
boundary on boundary(Omega):
    u = 0
initial:
        u = sin(pi*x)
    dt(u) = 0
