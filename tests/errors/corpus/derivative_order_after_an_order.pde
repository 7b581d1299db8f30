# expect: 6:16: a derivative order must follow an axis, as in d(u, x, 2)
problem p
domain O = interval(x: [0, 1])
field u
equation in O:
    d(u, x, 2, 3) = 1
