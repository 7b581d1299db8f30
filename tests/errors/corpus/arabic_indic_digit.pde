# expect: 5:11: unexpected character '٣'
problem p
domain O = interval(x: [0, 1])
field u
const c = ٣
