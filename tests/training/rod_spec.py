"""The 1-D Poisson rod that training tests share: -u'' = pi^2 sin(pi x) on [0, 1], u = 0 at both ends."""

ROD = """problem rod
domain O = interval(x: [0, 1])
field u
equation in O:
    -d(u, x, 2) = pi^2 * sin(pi*x)
boundary on boundary(O):
    u = 0
exact u = sin(pi*x)
"""
