# expect: 5:7: 'u' is already defined as a const on line 4
problem p
domain O = interval(x: [0, 1])
const u = 1
field u
equation in O:
    -d(u, x, x) = 1
boundary on boundary(O):
    u = 0
