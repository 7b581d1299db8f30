# expect: 8:1: unexpected name 'feild'; expected a statement (problem, domain, field, equation, boundary, ...) or end of line
# expect: 9:1: unexpected name 'equaton'; expected a statement (problem, domain, field, equation, boundary, ...) or end of line
# expect: 11:1: unexpected name 'boundry'; expected a statement (problem, domain, field, equation, boundary, ...) or end of line
# Three keywords misspelt: each starts a statement of its own, so each is reported.
problem typos
domain Omega = box(x: [0, 1],
y: [0, 1])
feild u
equaton e in Omega:
    -laplace(u) = 1
boundry on boundary(Omega):
    u = 0
