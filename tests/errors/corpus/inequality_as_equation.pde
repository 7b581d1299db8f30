# expect: 9:7: an equation or condition is an equality ('='), not '>='
problem interior
domain I = interval(x: [-1, 1])
region mid = I where -0.5 < x < 0.5
field u
equation in I:
    -d(u, x, 2) = 1
equation in mid:
    u >= 0
boundary on boundary(I):
    u = 0
