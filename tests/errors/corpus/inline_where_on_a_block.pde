# expect: 7:25: a block holds on a domain or a named region, not on a 'where' of its own: declare the region ('region r = boundary(D) where ...', or 'D where ...' inside) and name it ('on r:', 'in r:') (found 'where')
problem inline_where
domain I = interval(x: [0, 1])
field u
equation in I:
    -d(u, x, 2) = 1
boundary on boundary(I) where x == 1:
    u = 0
