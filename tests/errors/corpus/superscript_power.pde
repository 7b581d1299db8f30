# expect: 7:26: use '^' for powers, not a superscript ('²')
problem poisson
domain Omega = box(x: [0, 1], y: [0, 1])
field u

equation in Omega:
    -laplace(u) = (x + 1)² - 1
boundary on boundary(Omega):
    u = 0
