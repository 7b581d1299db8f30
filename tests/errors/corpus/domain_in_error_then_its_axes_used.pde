# expect: 3:19: the range of axis 'x' [1, 0] is empty: its start must be below its end
problem p
domain D = box(x: [1, 0], y: [0, 1])
field u
equation in D:
    -laplace(u) = 1
boundary on boundary(D):
    u = x
exact u = x*y
