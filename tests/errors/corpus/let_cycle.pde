# expect: 5:12: let 'flux' is defined in terms of itself (flux -> correction -> flux)
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u
let flux = grad(u) + 0.1*correction
let correction = flux

equation in Omega:
    -div(flux) = 1
boundary on boundary(Omega):
    u = 0
