# expect: 7:5: this boundary involves no field, so no solution can meet or miss it
domain I = interval(x: [0, 1])
field u
equation in I:
    -d(u, x, 2) = 1
boundary on boundary(I):
    x = 1
