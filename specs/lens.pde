# Torsion of a prismatic bar with a lens-shaped cross-section (Prandtl stress function).
#   -laplace(phi) = 2 G theta in the section,  phi = 0 on its boundary
# The lens is the intersection of two disks; a round keyhole-shaped slot is
# cut from it with a union of a disk and a box (CSG: &, +, - and parentheses).
problem torsion_lens

domain Section = disk(center: (-0.5, 0), radius: 1) & disk(center: (0.5, 0), radius: 1) - (disk(center: (0, 0.3), radius: 0.1) + box(x: [-0.03, 0.03], y: [0, 0.3]))

field phi                  # Prandtl stress function
const G = 1.0              # shear modulus
const theta = 0.01         # twist per unit length

equation in Section:
    -laplace(phi) = 2*G*theta
boundary on boundary(Section):
    phi = 0                # traction-free surface
