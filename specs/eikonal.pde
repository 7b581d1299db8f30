# 1-D eikonal equation: the distance to the ends of a segment.
#   |u'(x)| = 1 on (-1, 1),  u(-1) = u(1) = 0
# The viscosity solution is the distance function u = 1 - |x|.
problem eikonal_1d

domain Segment = interval(x: [-1, 1])
field u

equation in Segment:
    abs(d(u, x)) = 1
boundary on boundary(Segment):
    u = 0

exact u = 1 - abs(x)
