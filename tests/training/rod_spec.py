"""Specs the training tests share.

ROD: -u'' = pi^2 sin(pi x) on [0, 1], u = 0 at both ends.
LOADED_ROD: the family -u'' = k on [0, 1], u = 0 at both ends, k ~ uniform(1, 2); u = k x (1 - x) / 2.
"""

ROD = """problem rod
domain O = interval(x: [0, 1])
field u
equation in O:
    -d(u, x, 2) = pi^2 * sin(pi*x)
boundary on boundary(O):
    u = 0
exact u = sin(pi*x)
"""

LOADED_ROD = """problem loaded_rod
domain O = interval(x: [0, 1])
field u
param k ~ uniform(1, 2)
equation in O:
    -d(u, x, 2) = k
boundary on boundary(O):
    u = 0
"""
