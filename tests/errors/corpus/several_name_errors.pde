# expect: 7:10: 'u' is already defined as a field on line 7
# expect: 8:7: 'pi' is a built-in constant and cannot be used as a name
# expect: 9:30: gaussian_field() has no parameter 'lenght'
# expect: 12:25: unknown name 'forcing'
problem darcy
domain Omega = box(x: [0, 1], y: [0, 1])
field u, u
const pi = 3
input a ~ exp(gaussian_field(lenght: 0.1))

equation in Omega:
    -div(a * grad(u)) = forcing
boundary on boundary(Omega):
    u = 0
