# expect: 5:16: a periodic statement takes one axis: write one statement per axis (periodic u in x, then periodic u in y) (found ',')
problem p
domain O = box(x: [0, 1], y: [0, 1])
field u
periodic u in x, y
equation in O:
    -laplace(u) = 1
