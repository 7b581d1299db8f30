# expect: 7:19: '10^400' is not a finite real number: the value overflows
problem overflow
domain D = interval(x: [0, 1])
field u

equation in D:
    -d(u, x, 2) = 10^400
boundary on boundary(D):
    u = 0
