# expect: 3:45: the disk spans [-1e-320, 1e-320] along axis 'x', which cannot be sampled: its width 2e-320 is below float64's smallest normal number 2.23e-308, where it keeps only a few digits
problem poisson
domain Omega = disk(center: (0, 0), radius: 1e-320)
field u

equation in Omega:
    -laplace(u) = 1
boundary on boundary(Omega):
    u = 0
