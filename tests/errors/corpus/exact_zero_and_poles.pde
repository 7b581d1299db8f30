# expect: 6:11: const 'c' is not a finite real number: its exact value is infinite or undefined (a division by an exact zero such as sin(pi), or a function at a pole: tan(pi/2), log(0))
# expect: 9:18: 'u/sin(pi)' is not a finite real number: its exact value is infinite or undefined (a division by an exact zero such as sin(pi), or a function at a pole: tan(pi/2), log(0))
# expect: 10:27: 'tan(pi/2)' is not a finite real number: its exact value is infinite or undefined (a division by an exact zero such as sin(pi), or a function at a pole: tan(pi/2), log(0))
problem poles
domain O = interval(x: [0, 1])
const c = 1/tan(pi)
field u, v
equation:
    d(u, x, 2) = u/sin(pi) + 1
    d(v, x, 2) = v*arctan(tan(pi/2)) + log(cos(pi/3))
boundary on boundary(O):
    u = 0
    v = 0
