"""Numbers in a spec reach the generated code as literals that combine with tensors."""

import torch

import pdedsl
from pdedsl.codegen import load_module
from pdedsl.runtime import residuals

LARGE = """problem large
domain O = interval(x: [0, 1])
field u
equation in O:
    u = 10^300*x + 2^-2000 + (2/3)^600
"""


def test_large_and_tiny_exact_numbers_print_as_floats():
    source = pdedsl.compile(LARGE)
    assert "1e+300" in source and "000000000000000000000" not in source
    module = load_module(source)
    x = torch.linspace(0, 1, 5, dtype=torch.float64)
    value = residuals.evaluate(module, module.RESIDUALS[0], {"x": x}, lambda c: {"u": 0 * c["x"]})
    assert torch.allclose(value, -(1e300 * x + (2 / 3) ** 600), rtol=1e-12, atol=0)
