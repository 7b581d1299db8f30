# expect: 7:21: '2^2^2^2^2' is not a finite real number: the value overflows
problem tower
domain D = interval(x: [0, 1])
field u

equation in D:
    -d(u, x, 2) = 2^2^2^2^2^2
boundary on boundary(D):
    u = 0
