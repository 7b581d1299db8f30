"""Lowering tables: a relation and the residual it lowers to (in spec syntax)."""

import time

import pytest
import sympy
import torch

import pdedsl
from pdedsl import compiler
from pdedsl.codegen import load_module
from pdedsl.passes.listing import _readable
from pdedsl.passes.weak import derive_weak_forms
from pdedsl.runtime import residuals
from pdedsl.ir.printing import spec_text

BASE = """problem p
domain O = box(x: [0, 1], y: [0, 1])
field u, v
input a ~ exp(gaussian_field(length: 0.2))
const nu = 0.5
"""


def lowered(block: str, extra: str = ""):
    problem = pdedsl.load(BASE + extra + block)
    return [(r.name, spec_text(_readable(r.expr, r.requests))) for r in compiler.lower(problem).residuals]


TABLE = [
    ("equation in O:\n    -laplace(u) = 1", [("equation_1", "-1 - d(u, x, 2) - d(u, y, 2)")]),
    ("equation in O:\n    -div(a*grad(u)) = 0",
     [("equation_1", "-a*d(u, x, 2) - a*d(u, y, 2) - d(a, x)*d(u, x) - d(a, y)*d(u, y)")]),
    ("equation in O:\n    dot(grad(u), (1, 2)) = v", [("equation_1", "d(u, x) - v + 2*d(u, y)")]),
    ("equation in O:\n    d(u*v, x) = 0", [("equation_1", "u*d(v, x) + v*d(u, x)")]),
    ("equation in O:\n    d(u, x, y) = d(u, y, x) + v", [("equation_1", "-v")]),
    ("equation in O:\n    grad(u) = (v, 2*v)", [("equation_1[0]", "d(u, x) - v"), ("equation_1[1]", "d(u, y) - 2*v")]),
    ("equation in O:\n    laplace((u, v)) = (0, 1)",
     [("equation_1[0]", "d(u, x, 2) + d(u, y, 2)"), ("equation_1[1]", "-1 + d(v, x, 2) + d(v, y, 2)")]),
    ("boundary on boundary(O):\n    dn(u) + 2*u = 0", [("boundary_1", "2*u + d(u, x)*n[x] + d(u, y)*n[y]")]),
    ("equation in O:\n    nu*u = g", [("equation_1", "-sin(b*x) + u*nu")]),
]


@pytest.mark.parametrize("block, expected", TABLE, ids=[t[0].split("\n")[1].strip() for t in TABLE])
def test_lowering(block, expected):
    extra = "input g = sin(b*x)\nparam b = 2\n" if "= g" in block else ""
    assert lowered(block, extra) == expected


def test_each_derivative_requested_once_across_residuals():
    problem = pdedsl.load("problem p\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n"
                          "    d(u, x, 2) + d(u, x) = 0\nboundary on boundary(O):\n    d(u, x) + u = 0")
    requests = compiler.lower(problem).requests
    assert [r.display for r in requests] == ["u", "d(u, x)", "d(u, x, 2)"]


def _at_point(residual, u, x, point):
    """The lowered residual with every placeholder replaced by the value of ``u`` (a formula in ``x``) at ``point``."""
    values = {r.symbol: sympy.diff(u, x, r.order).subs(x, point) for r in residual.requests}
    return float(residual.expr.xreplace(values))


@pytest.mark.parametrize("operand, order, one_call", [("sin(exp(u^2))", 4, True), ("exp(exp(u))", 5, False)])
def test_nested_derivatives_lower_to_the_chain_rule(operand, order, one_call, monkeypatch):
    """High orders of a nested function of a field are differentiated order by order (with a size check), then
    again in one call if small, else kept as they are (forced here with ONE_CALL_SIZE 0): either way the residual
    must be the derivative, checked against SymPy's derivative of a known u at two points."""
    from pdedsl.passes import expand

    if not one_call:
        monkeypatch.setattr(expand, "ONE_CALL_SIZE", 0)
    problem = pdedsl.load(f"problem p\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n"
                          f"    d({operand}, x, {order}) = 1\n")
    (residual,) = compiler.lower(problem).residuals
    x = sympy.Symbol("x")
    u = sympy.sin(x) / 2 + x**2 / 5
    exact = sympy.diff(sympy.sympify(operand.replace("^", "**"), locals={"u": u}), x, order) - 1
    for point in (0.3, 0.8):
        expected = float(exact.subs(x, point))
        assert _at_point(residual, u, x, point) == pytest.approx(expected, rel=1e-9)


def test_derivatives_too_large_to_write_out_fail_fast_and_located(tmp_path, capsys):
    """d(exp(exp(exp(exp(u)))), x, 12) ran for minutes in SymPy (and check lowers every spec): each order is
    now size-checked, so it is a located error within seconds, with the way out."""
    from pdedsl.cli import main
    from pdedsl.passes.expand import MAX_DERIVATIVE_SIZE

    path = tmp_path / "big.pde"
    path.write_text("problem big\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n"
                    "    d(exp(exp(exp(exp(u)))), x, 12) = 1\n")
    start = time.perf_counter()
    assert main(["check", str(path)]) == 1
    assert time.perf_counter() - start < 30  # about 3 s on a busy 2-core machine; minutes before
    err = capsys.readouterr().err
    assert "big.pde:5:5: error: the derivatives in equation 'equation_1' grow too large to write out" in err
    assert f"(at most {MAX_DERIVATIVE_SIZE})" in err and "w = exp(u)" in err and "Traceback" not in err


def test_derivatives_too_large_in_an_exact_solution_are_located(tmp_path, capsys):
    from pdedsl.cli import main

    path = tmp_path / "ex.pde"
    path.write_text("problem ex\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n    d(u, x, 2) = 1\n"
                    "exact u = d(exp(exp(exp(exp(exp(x))))), x, 12)\n")
    assert main(["check", str(path)]) == 1
    assert "ex.pde:6:1: error: the derivatives in exact solution 'u' grow too large" in capsys.readouterr().err



def lowered_spec(spec: str):
    return [(r.name, spec_text(_readable(r.expr, r.requests))) for r in compiler.lower(pdedsl.load(spec)).residuals]


def test_derivatives_of_abs_leave_no_derivative_the_generated_code_cannot_take():
    """d(abs(u), x) is sign(u)*d(u, x); SymPy left the next derivative, d(sign(u), x), unevaluated (and
    d(abs(x - c), x, 2) as DiracDelta(x - c)), and the weak form's stiffness as the derivative of re(d(u, x))
    with respect to d(u, x): each reached the generated code as a torch.autograd.grad call (on a coord_x the
    function was not given: a NameError at the first step, an internal error). Away from the zeros of the
    argument of sign, where every sampled point lies, its derivative is 0 (torch's autograd gives sign the
    same zero gradient); the weak form integrates such a term by parts and never needs it. SymPy also took the
    field as complex: re(d(u, x)) and im(u) showed in the weak form, and the second derivative came as
    ((d(u, x)^2 + u*d(u, x, 2))*sign(u) - d(u, x)^2*sign(u))/u, 0/0 where u = 0: now sign(u)*d(u, x, 2)."""
    spec = ("problem p\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n"
            "    -d(abs(u), x, 2) + d(abs(x - 0.5), x, 2)*u = 1\nboundary on boundary(O): u = 1\n"
            "exact u = d(abs(x - 0.5), x, 3) + x\n")
    (_, text), _ = lowered_spec(spec)
    assert text == "-1 - d(u, x, 2)*sign(u)"
    (form,) = derive_weak_forms(pdedsl.load(spec))
    assert [spec_text(value) for _, value in form.flux] == ["d(u, x)*sign(u)"]
    source = pdedsl.compile(spec)
    assert "autograd" not in source
    module = load_module(source)
    x = torch.linspace(0.05, 0.95, 7, dtype=torch.float64)  # (0.5 among them, where u = 0)
    (equation,) = [e for e in module.RESIDUALS if e["kind"] == "equation"]
    value = residuals.evaluate(module, equation, {"x": x}, lambda c: {"u": c["x"] ** 2 - 0.25})
    assert torch.allclose(value, -torch.sign(x**2 - 0.25) * 2 - 1, rtol=1e-12, atol=0)
    (weak,) = module.WEAK
    given = {"f_u": x**2 - 0.25, "f_u__x1": 2 * x, "coord_x": x}
    _, (flux,), (stiffness,) = weak["function"](**{k: given[k] for k in weak["arguments"]})
    assert torch.allclose(flux, torch.sign(x**2 - 0.25) * 2 * x, rtol=1e-12, atol=0)
    assert torch.allclose(stiffness, torch.sign(x**2 - 0.25), rtol=1e-12, atol=0)
    assert torch.allclose(module.exact_u(coord_x=x), x)


def test_every_relation_whose_derivatives_grow_too_large_is_reported(tmp_path, capsys):
    """Only the first was: a compiler reports every error it finds (exact solutions with the relations)."""
    from pdedsl.cli import main

    path = tmp_path / "big.pde"
    path.write_text("problem big\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n"
                    "    d(exp(exp(exp(exp(u)))), x, 12) = 1\nboundary on boundary(O):\n"
                    "    d(exp(exp(exp(exp(u)))), x, 12) = 0\nexact u = d(exp(exp(exp(exp(exp(x))))), x, 12)\n")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "big.pde:5:5: error: the derivatives in equation 'equation_1' grow too large" in err
    assert "big.pde:7:5: error: the derivatives in boundary 'boundary_1' grow too large" in err
    assert "big.pde:8:1: error: the derivatives in exact solution 'u' grow too large" in err
    assert "3 errors" in err
