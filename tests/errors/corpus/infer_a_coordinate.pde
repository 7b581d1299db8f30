# expect: 8:7: 'infer' needs a param or an input, but 'x' is a coordinate
problem p
domain O = interval(x: [0, 1])
field u
equation in O:
    -d(u, x, 2) = 1
boundary on boundary(O): u = 0
infer x
