# expect: 5:11: unexpected accent '\u0301' on its own
problem p
domain O = interval(x: [0, 1])
field u
const café = 1
