# expect: 7:8: 'd' is a built-in operator and cannot be used as a name
# expect: 8:8: 'e' is a built-in constant and cannot be used as a name
problem p
domain O = box(x: [0, 1], y: [0, 1])
field u
region left = boundary(O) where x == 0
region d = left where y < 0.5
region e = boundary(O) where y == 0
region low = e where x < 0.5
equation in O:
    -laplace(u) = 1
boundary on d:
    u = 0
boundary on boundary(O):
    dn(u) = 0
