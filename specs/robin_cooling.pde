# Steady heat conduction in a plate with a measured conductivity map.
#   -div(kappa grad u) = 0 in (0,1)^2
#   kappa du/dn = 1      on the left edge  (a prescribed heat flux flows in)
#   u = 0                on the right edge (held at the reference temperature)
#   du/dn + 2 u = 0      on the top and bottom edges (convective cooling, Robin)
# kappa is data on a 41 x 41 grid (conductivity.npz, grid layout x, y, kappa).
problem plate_cooling

domain Omega = box(x: [0, 1], y: [0, 1])
region left  = boundary(Omega) where x == 0
region right = boundary(Omega) where x == 1
region walls = boundary(Omega) where y == 0 or y == 1

field u                                  # temperature above ambient
input kappa from "conductivity.npz"      # a known field given as data

equation in Omega:
    -div(kappa * grad(u)) = 0

boundary inflow on left:
    kappa * dn(u) = 1                    # outward normal derivative (Neumann)
boundary on right:
    u = 0
boundary on walls:
    dn(u) + 2*u = 0                      # Robin: heat transfer coefficient 2
