# expect: 8:1: this line's tabs and spaces differ from the indentation of the lines above it
# The first line of the block is indented by a tab, the second by eight spaces.
problem mixed
domain O = box(x: [0, 1], y: [0, 1])
field u, v
equation in O:
	-laplace(u) = 1
        -laplace(v) = u
