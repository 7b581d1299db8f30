# Helmholtz equation on a square (DeepXDE's "Helmholtz, Dirichlet" benchmark).
#   laplace(u) + k0^2 u = f  in (0,1)^2,  u = 0 on the boundary
# with wavenumber k0 = 2 pi n, n = 2, and a source chosen so that
# u = sin(k0 x) sin(k0 y) solves it.
problem helmholtz_square

domain Omega = box(x: [0, 1], y: [0, 1])
field u

const n = 2                    # number of wavelengths across the square
const k0 = 2 * pi * n          # wavenumber

let source = k0^2 * sin(k0*x) * sin(k0*y)

equation helmholtz in Omega:
    -laplace(u) - k0^2*u = source

boundary on boundary(Omega):
    u = 0

exact u = sin(k0*x) * sin(k0*y)
