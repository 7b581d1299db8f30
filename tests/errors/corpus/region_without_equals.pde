# expect: 3:10: unexpected name 'O'; expected '=' or end of line
problem p
region r O where x < 0
