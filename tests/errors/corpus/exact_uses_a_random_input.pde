# expect: 6:11: input 'a' is random, so an exact solution cannot use it: only a formula input (input a = ...) has a closed form
problem p
domain O = interval(x: [0, 1])
field u
input a ~ gaussian_field(length: 0.3)
exact u = x + a
