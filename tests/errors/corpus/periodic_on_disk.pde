# expect: 8:15: periodic in 'x' needs a box or interval domain, but 'D' is a disk
problem poisson_disk
domain D = disk(center: (0, 0), radius: 1)
field u

equation in D:
    -laplace(u) = 1
periodic u in x
