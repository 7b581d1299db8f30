# A heat rod whose start u0(x) is random: a time-dependent family for the operator backends.
problem rod
domain R = interval(x: [0, 1])
time t: [0, 0.5]
field u
input u0 ~ gaussian_field(length: 0.2, smoothness: 1.5, variance: 0.25)
equation in R:
    dt(u) = 0.1*d(u, x, x)
boundary on boundary(R):
    u = 0
initial:
    u = u0
