# expect: 2:1: unexpected indentation: only the lines of an equation, boundary or initial block are indented
  problem p
domain O = interval(x: [0, 1])
field u
