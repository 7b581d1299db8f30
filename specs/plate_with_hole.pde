# Steady heat conduction in a hexagonal plate with a circular cooling hole.
#   laplace(T) = 0 in the plate
#   T = 1 on the outer edge (hot), T = 0 on the rim of the hole (coolant)
# The plate is a polygon minus a disk (CSG), and the two boundary pieces
# are told apart with 'where' predicates on the coordinates.
problem plate_with_hole

domain Plate = polygon((1, 0), (0.5, 0.866), (-0.5, 0.866), (-1, 0), (-0.5, -0.866), (0.5, -0.866)) - disk(center: (0, 0), radius: 0.3)

region hole  = boundary(Plate) where x^2 + y^2 < 0.1      # rim of the hole (r = 0.3)
region outer = boundary(Plate) where x^2 + y^2 > 0.1      # the six outer edges

field T                           # temperature

equation in Plate:
    laplace(T) = 0
boundary hot on outer:
    T = 1
boundary coolant on hole:
    T = 0
