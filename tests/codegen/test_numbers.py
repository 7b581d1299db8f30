"""Numbers in a spec reach the generated code as literals that combine with tensors."""

import math

import pytest
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


def test_operators_of_closed_forms_in_an_exact_solution_are_worked_out():
    """laplace, d, div, grad and dot of expressions of the coordinates: nothing at run time takes them, so
    the generated exact function holds their values (it used to be an internal error at compile)."""
    source = pdedsl.compile("problem p\ndomain D = box(x: [0, 1], y: [0, 1])\nfield u\nequation in D:\n"
                            "    -laplace(u) = 1\nboundary on boundary(D): u = 0\n"
                            "exact u = laplace(x^2*y) + d(x^3, x) + div((x*y, y^2)) + dot(grad(x*y), (1, 2))\n")
    module = load_module(source)
    x = torch.linspace(0, 1, 5, dtype=torch.float64)
    y = torch.linspace(1, 2, 5, dtype=torch.float64)
    assert torch.allclose(module.exact_u(coord_x=x, coord_y=y), 3 * x**2 + 2 * x + 6 * y, rtol=1e-12)


def test_several_consts_in_a_product_are_multiplied_first():
    """x*zbig*zsmall in float32: left to right, x*1e39 overflows to inf before the 1e-39 comes in."""
    source = pdedsl.compile("problem p\ndomain O = interval(x: [0, 1])\nfield u\nconst zbig = 1e39\n"
                            "const zsmall = 1e-39\nequation in O:\n    u = x*zbig*zsmall\n")
    module = load_module(source)
    x = torch.linspace(0, 1, 5, dtype=torch.float32)
    value = residuals.evaluate(module, module.RESIDUALS[0], {"x": x}, lambda c: {"u": 0 * c["x"]})
    assert torch.isfinite(value).all() and torch.allclose(value, -x)


def test_a_constant_part_shared_by_several_terms_is_still_folded():
    """sympy.cse pulled exp(-1) (used twice) into a temporary, and the printer, which folds only what it can
    see is constant, then wrote torch.sin(tmp0 + 1) and torch.pow(tmp0 + 2, 2) of Python floats: a TypeError
    when the residual ran (an internal error at the first training step)."""
    source = pdedsl.compile("problem p\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u\nequation in O:\n"
                            "    u = x*sin(1 + exp(-1)) + y*(2 + exp(-1))^2 + exp(-1)/(x + 1)\n"
                            "boundary on boundary(O): u = 0\n")
    module = load_module(source)
    x = torch.linspace(0, 1, 5, dtype=torch.float64)
    y = torch.linspace(1, 2, 5, dtype=torch.float64)
    (equation,) = [entry for entry in module.RESIDUALS if entry["kind"] == "equation"]
    value = residuals.evaluate(module, equation, {"x": x, "y": y}, lambda c: {"u": 0 * c["x"]})
    c = math.exp(-1)
    assert torch.allclose(value, -(x * math.sin(1 + c) + y * (2 + c) ** 2 + c / (x + 1)), rtol=1e-12, atol=0)
    for entry in module.WEAK:  # the weak form shares the printer and the temporaries
        given = {"coord_x": x, "coord_y": y}
        volume, _, _ = entry["function"](**{name: given.get(name, 0 * x) for name in entry["arguments"]})
        assert torch.allclose(volume, value, rtol=1e-12, atol=0)


def test_a_derivative_left_after_lowering_is_an_internal_error_not_broken_code():
    import sympy

    from pdedsl.codegen.printer import ResidualPrinter
    from pdedsl.errors import InternalError

    x, u = sympy.Symbol("x"), sympy.Function("u")(sympy.Symbol("x"))
    printer = ResidualPrinter({x: "coord_x"}, {})
    with pytest.raises(InternalError, match="left in a residual after lowering"):
        printer.doprint(sympy.Derivative(u, x))
    with pytest.raises(InternalError, match="Dirac delta"):
        printer.doprint(sympy.DiracDelta(x))
