# expect: 4:22: a region's predicate compares with '==' ('where x == 0'); '=' makes equations (found '=')
problem p
domain O = box(x: [0, 1], y: [0, 1])
region r = O where x = 0
field u
equation in O:
    -laplace(u) = 1
boundary on r:
    u = 0
