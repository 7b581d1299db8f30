# expect: 7:21: '(1 + 1/10^12)^(10^12)' is too large to compute exactly (about 1.2e+13 digits)
problem exact
domain D = interval(x: [0, 1])
field u

equation in D:
    -d(u, x, 2) = u*(1 + 1/10^12)^(10^12)
boundary on boundary(D):
    u = 0
