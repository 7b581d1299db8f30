# Heat diffusion from a hot spot in an insulated cube (3-D box + time).
#   u_t = alpha laplace(u) in [-1, 1]^3,  du/dn = 0 on the faces (insulated)
#   u(x, y, z, 0) = a Gaussian hot spot at the centre
# The total heat is conserved; u tends to the spot's mean value.
problem insulated_cube

domain Cube = box(x: [-1, 1], y: [-1, 1], z: [-1, 1])   # three named axes
time t: [0, 1]
field u
const alpha = 0.1           # thermal diffusivity
const w = 0.1               # width^2 of the initial spot

equation in Cube:
    dt(u) = alpha * laplace(u)

boundary insulated on boundary(Cube):
    dn(u) = 0

initial:
    # note: -x^2 is -(x^2), since ^ binds tighter than unary minus
    u = exp(-x^2/w) * exp(-y^2/w) * exp(-z^2/w)
