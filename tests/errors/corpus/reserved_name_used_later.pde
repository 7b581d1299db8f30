# expect: 5:7: 'd' is a built-in operator and cannot be used as a name
problem p
domain O = interval(x: [0, 1])
field u
const d = 1
equation in O:
    -d(u, x, 2) = d
boundary on boundary(O):
    u = 0
