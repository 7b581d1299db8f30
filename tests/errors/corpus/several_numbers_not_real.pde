# expect: 12:19: '1/0' is not a finite real number: division by zero
# expect: 13:19: 'log(-1)' is not a finite real number: log is not defined at -1
# expect: 13:29: 'exp(1000)' is not a finite real number: exp overflows
# expect: 14:19: 'sqrt(-1)' is not a finite real number: a negative number to a fractional power is not real
# expect: 15:5: '0^-1' is not a finite real number: division by zero
# expect: 15:14: 'x*big*big' is not a finite real number: the value overflows
problem numbers
domain D = interval(x: [0, 1])
field u
const big = 1e200
equation in D:
    -d(u, x, 2) = 1/0 + x
    -d(u, x, 2) = log(-1) + exp(1000)
    -d(u, x, 2) = sqrt(-1)*u
    0^-1*u = x*big*big
boundary on boundary(D):
    u = 0
