# expect: 5:11: a number's exponent needs digits
problem p
domain O = interval(x: [0, 1])
field u
const c = 1e-
