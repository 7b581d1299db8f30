# 1-D heat equation in a rod with fixed end temperatures.
#   u_t = kappa u_xx  on x in [0, 1], t in [0, 1]
#   u(0, t) = u(1, t) = 0,  u(x, 0) = sin(pi x) + 0.5 sin(3 pi x)
# Each Fourier mode decays like exp(-kappa (n pi)^2 t): the exact solution is known.
problem heat_rod

domain Rod = interval(x: [0, 1])     # a 1-D interval
time t: [0, 1]                       # time-dependent problem

region ends = boundary(Rod) where x == 0 or x == 1   # both ends of the rod

field u                              # temperature
const kappa = 0.1                    # thermal diffusivity

equation conduction in Rod:          # a named equation block
    dt(u) = kappa * d(u, x, 2)       # d(u, x, 2): second derivative in x

boundary cold_ends on ends:
    u = 0

initial start:                       # a named initial condition
    u = sin(pi*x) + 0.5*sin(3*pi*x)

# e is built in, like pi: e^(...) and exp(...) are the same function
exact u = e^(-kappa*pi^2*t)*sin(pi*x) + 0.5*exp(-9*kappa*pi^2*t)*sin(3*pi*x)
