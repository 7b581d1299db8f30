# expect: 4:12: the polygon's edges cross: the edge from vertex 1 and the edge from vertex 3
# A bow tie: the vertices go across the square instead of around it.
problem bow_tie
domain P = polygon((0, 0), (1, 1), (1, 0), (0, 1))
field u
equation in P:
    -laplace(u) = 1
boundary on boundary(P):
    u = 0
