# expect: 15:14: domain 'D12' combines more than 1024 shapes written out (its domains substituted)
# Each domain doubles the one before: D20 would hold 2^19 boxes, and every point test visits each.
problem doubled_domains
domain D1 = box(x: [0, 1], y: [0, 1])
domain D2 = D1 + D1
domain D3 = D2 + D2
domain D4 = D3 + D3
domain D5 = D4 + D4
domain D6 = D5 + D5
domain D7 = D6 + D6
domain D8 = D7 + D7
domain D9 = D8 + D8
domain D10 = D9 + D9
domain D11 = D10 + D10
domain D12 = D11 + D11
domain D13 = D12 + D12
domain D14 = D13 + D13
domain D15 = D14 + D14
domain D16 = D15 + D15
domain D17 = D16 + D16
domain D18 = D17 + D17
domain D19 = D18 + D18
domain D20 = D19 + D19
field u
equation in D20:
    -laplace(u) = 1
boundary on boundary(D20):
    u = 0
