# expect: 19:11: let 'a13' is too large written out: its lets substituted, it has more than 20000 terms and operators
# Each let doubles the one before: 24 lines whose last let has 2^24 terms written out.
# It is refused at once, where it passes the limit, rather than checked for minutes.
problem doubling
domain Omega = box(x: [0, 1], y: [0, 1])
field u
let a1 = u + x
let a2 = a1 + a1
let a3 = a2 + a2
let a4 = a3 + a3
let a5 = a4 + a4
let a6 = a5 + a5
let a7 = a6 + a6
let a8 = a7 + a7
let a9 = a8 + a8
let a10 = a9 + a9
let a11 = a10 + a10
let a12 = a11 + a11
let a13 = a12 + a12
let a14 = a13 + a13
let a15 = a14 + a14
let a16 = a15 + a15
let a17 = a16 + a16
let a18 = a17 + a17
let a19 = a18 + a18
let a20 = a19 + a19
let a21 = a20 + a20
let a22 = a21 + a21
let a23 = a22 + a22
let a24 = a23 + a23
equation in Omega:
    laplace(a24) = 1
boundary on boundary(Omega):
    u = 0
