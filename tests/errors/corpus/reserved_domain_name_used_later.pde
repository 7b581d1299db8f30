# expect: 3:8: 'div' is a built-in operator and cannot be used as a name
problem p
domain div = box(x: [0, 1], y: [0, 1])
domain Hole = disk(center: (0.5, 0.5), radius: 0.2)
domain Plate = div - Hole
field u
equation in div:
    -laplace(u) = 1
boundary on boundary(div):
    u = 0
