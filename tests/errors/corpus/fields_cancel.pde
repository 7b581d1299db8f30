# expect: 6:5: the fields cancel out of this equation: what is left involves none, so no solution can meet or miss it
domain I = interval(x: [0, 1])
field u
equation in I:
    -d(u, x, 2) = 1
    u - u = 0
boundary on boundary(I):
    u = 0
