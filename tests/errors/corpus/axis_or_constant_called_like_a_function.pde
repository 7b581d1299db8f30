# expect: 7:5: 'x' is an axis, not a function
# expect: 7:12: 'pi' is a built-in constant, not a function
problem p
domain O = interval(x: [0, 1])
field u
equation in O:
    x(u) + pi(2) = 1
boundary on boundary(O):
    u = 0
