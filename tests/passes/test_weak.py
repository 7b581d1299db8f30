"""The weak-form pass: integration by parts checked symbolically, and what it moves or keeps."""

from pathlib import Path

import pytest
import sympy

from pdedsl import api
from pdedsl.cli import main
from pdedsl.ir.printing import spec_text
from pdedsl.passes.expand import OperatorExpander
from pdedsl.passes.listing import format_mixed, format_weak, show_weak
from pdedsl.passes.weak import TEST_FUNCTION_NAME, derive_weak_forms, strong_residual

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.pde"))


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_integrating_back_by_parts_gives_the_strong_residual(spec):
    """volume - div(flux) must equal lhs - rhs after operator expansion, for every equation of every spec."""
    problem = api.load(spec)
    expander = OperatorExpander(problem)
    space = {s.name: s for s in problem.space_symbols}
    strong = []
    for equation in problem.equations:
        lhs, rhs = expander.expand(equation.lhs), expander.expand(equation.rhs)
        strong += list(zip(lhs, rhs)) if isinstance(lhs, tuple) else [(lhs, rhs)]
    forms = derive_weak_forms(problem)
    assert len(forms) == len(strong)
    for form, (lhs, rhs) in zip(forms, strong):
        assert sympy.simplify(sympy.expand(strong_residual(form, space) - (lhs - rhs))) == 0, form.name


def _load(text: str):
    return api.load(text)


SQUARE = """problem p
domain O = box(x: [0, 1], y: [0, 1])
field u
input k = 1 + x^2
"""


def _flux_text(form):
    return {axis: spec_text(value) for axis, value in form.flux if value != 0}


def test_divergence_form_moves_one_derivative_onto_the_test_function():
    (form,) = derive_weak_forms(_load(SQUARE + "equation in O:\n    -div(k*grad(u)) = 1\n"))
    assert _flux_text(form) == {"x": "x^2*d(u, x) + d(u, x)", "y": "x^2*d(u, y) + d(u, y)"}
    assert form.volume == -1
    assert form.integrated == ("-div(k*grad(u))",) and form.kept_strong == ()


def _hessian_text(form):
    return {pair: spec_text(value) for pair, value in form.hessian}


def test_fourth_order_terms_move_two_derivatives_onto_the_test_function():
    """laplace(laplace(u)) becomes laplace(u) * laplace(phi): the network is differentiated twice, not three times."""
    (form,) = derive_weak_forms(_load(SQUARE + "equation in O:\n    laplace(laplace(u)) + u = 1\n"))
    assert _flux_text(form) == {}
    assert _hessian_text(form) == {("x", "x"): "d(u, x, 2) + d(u, y, 2)", ("y", "y"): "d(u, x, 2) + d(u, y, 2)"}
    assert form.integrated == ("laplace(laplace(u)) (twice)",)
    problem = _load(SQUARE + "equation in O:\n    laplace(laplace(u)) + u = 1\n")
    for text in (format_weak(problem, (form,)), format_mixed(problem, (form,))):
        assert "(d(u, x, 2) + d(u, y, 2))*laplace(φ[j])" in text  # the mixed balance keeps the term too
    assert "move twice onto the test function" in format_mixed(problem, (form,))
    (form,) = derive_weak_forms(_load(SQUARE + "const D = 2\nequation in O:\n    D*d(u, x, x, y, y) - d(u, x, 3) = 1\n"))
    assert _hessian_text(form) == {("y", "y"): "D*d(u, x, 2)", ("x", "x"): "-d(u, x)"}
    assert _flux_text(form) == {}
    (form,) = derive_weak_forms(_load(SQUARE + "const D = 2\nequation in O:\n    div(D*grad(laplace(u))) = 1\n"))
    assert _hessian_text(form) == {("x", "x"): "D*d(u, x, 2) + D*d(u, y, 2)", ("y", "y"): "D*d(u, x, 2) + D*d(u, y, 2)"}


def test_terms_that_one_move_leaves_first_order_move_once():
    (form,) = derive_weak_forms(_load(SQUARE + "equation in O:\n    -laplace(u) + 3*d(u, x, 2) = 1\n"))
    assert form.hessian == ()
    assert set(_flux_text(form)) == {"x", "y"}
    # a varying coefficient in front keeps a fourth-order term strong, as it keeps a second-order one
    (form,) = derive_weak_forms(_load(SQUARE + "equation in O:\n    k*laplace(laplace(u)) = 1\n"))
    assert form.hessian == () and form.kept_strong


def test_a_varying_coefficient_outside_the_divergence_stays_strong_and_is_reported():
    (form,) = derive_weak_forms(_load(SQUARE + "equation in O:\n    -k*laplace(u) + u = 1\n"))
    assert _flux_text(form) == {}
    (kept,) = form.kept_strong
    assert "laplace(u)" in kept and "k" in kept


def test_constant_multiples_of_sums_are_distributed_and_time_stays_strong():
    spec = """problem q
domain O = interval(x: [0, 1])
time t: [0, 1]
field u
const nu = 0.1
equation in O:
    dt(u) - nu*(d(u, x, 2) + 3*d(u, x)) = 0
"""
    (form,) = derive_weak_forms(_load(spec))
    assert _flux_text(form) == {"x": "nu*d(u, x)"}
    assert "d(u, t)" in spec_text(form.volume) and "d(u, x, 2)" not in spec_text(form.volume)


def test_the_test_function_cannot_collide_with_a_spec_name():
    problem = api.load(SPECS[0].parent / "lens.pde")  # its field is called phi
    (form,) = derive_weak_forms(problem)
    phi = sympy.Function(TEST_FUNCTION_NAME)(*problem.space_symbols)
    text = spec_text(form.integrand(phi, {s.name: s for s in problem.space_symbols}))
    assert "d(phi, x)" in text and f"d({TEST_FUNCTION_NAME}, x)" in text


def test_beside_a_field_named_phi_the_test_function_is_shown_as_psi(tmp_path):
    """'φ⋅φ[j]' read as one name twice: the shown letter is the first no spec name takes."""
    problem = _load("problem p\ndomain O = interval(x: [0, 1])\nfield φ\nequation in O:\n    -d(φ, x, 2) = 1\n")
    forms = derive_weak_forms(problem)
    assert "d(φ, x)*d(ψ[j], x)" in format_weak(problem, forms) and "φ[j]" not in format_weak(problem, forms)
    assert "\\psi_j" in show_weak(problem, forms, latex=True)
    plain = _load(SQUARE + "equation in O:\n    -laplace(u) = 1\n")
    assert "d(u, x)*d(φ[j], x)" in format_weak(plain, derive_weak_forms(plain))


def test_cli_prints_weak_forms(capsys):
    spec = str(SPECS[0].parent / "burgers.pde")
    assert main(["emit", "--stage", "lowered", "--form", "weak", spec]) == 0
    out = capsys.readouterr().out
    assert "integrand:   (d(u, x)*u + d(u, t))*φ[j] + nu*d(u, x)*d(φ[j], x)" in out
    assert "by parts:    -nu*d(u, x, 2)" in out
    assert main(["show", "--form", "weak", spec]) == 0
    assert "integrated by parts: -nu*d(u, x, 2)" in capsys.readouterr().out
    assert main(["show", "--form", "weak", "--latex", spec]) == 0
    assert "\\varphi_j" in capsys.readouterr().out


def test_cli_prints_mixed_forms(capsys):
    """The balance with s[a] in place of the flux, and what ties each s[a] to the fields."""
    spec = str(SPECS[0].parent / "darcy_smooth.pde")
    assert main(["emit", "--stage", "lowered", "--form", "mixed", spec]) == 0
    out = capsys.readouterr().out
    assert "balance:     -10*φ[j] + s[x]*d(φ[j], x) + s[y]*d(φ[j], y)" in out
    assert "s[y] = 2.1*d(u, y) + d(u, y)*cos(b2*y) + d(u, y)*sin(b1*x)    (stiffness 2.1 + cos(b2*y) + " \
           "sin(b1*x))" in out
    assert main(["show", "--form", "mixed", spec]) == 0
    out = capsys.readouterr().out
    assert "-10⋅φ[j] + s[x]⋅──(φ[j]) + s[y]⋅──(φ[j]) = 0" in out and "    where" in out
    assert main(["show", "--form", "mixed", str(SPECS[0].parent / "eikonal.pde")]) == 0
    assert "no flux: nothing in divergence form, so the mixed form is the weak form" in capsys.readouterr().out


def test_the_mixed_forms_flux_takes_a_letter_no_spec_name_has(tmp_path, capsys):
    """With an input named s, 's[x] = d(u, x)*a*s' read as if the flux were defined by itself."""
    spec = tmp_path / "s.pde"
    spec.write_text("problem p\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u\n"
                    "input s ~ exp(gaussian_field(length: 0.3))\n"
                    "equation in O:\n    -div(s*grad(u)) = 1\nboundary on boundary(O):\n    u = 0\n")
    assert main(["emit", "--stage", "lowered", "--form", "mixed", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "σ[x] = d(u, x)*s    (stiffness s)" in out and "an output σ[a] for each flux" in out
    assert "s[x]" not in out
    assert main(["show", "--form", "mixed", str(spec)]) == 0
    assert "σ[x]" in capsys.readouterr().out


def test_emit_refuses_a_form_for_stages_without_one(capsys):
    assert main(["emit", "--stage", "ir", "--form", "weak", str(SPECS[0].parent / "poisson.pde")]) == 2
    assert "stage 'ir' has no form" in capsys.readouterr().err


def test_flux_stiffness_is_the_derivative_of_each_flux_by_its_own_gradient():
    """The mixed form weighs its flux mismatch by 1 / stiffness: a for div(a grad u), 1 + u^2 when nonlinear."""
    (form,) = derive_weak_forms(_load(SQUARE + "equation in O:\n    -div(k*grad(u)) = 1\n"))
    assert {a: spec_text(k) for a, k in form.stiffness} == {"x": "1 + x^2", "y": "1 + x^2"}
    (form,) = derive_weak_forms(_load(SQUARE + "equation in O:\n    -div((1 + u^2)*grad(u)) + d(u, x) = 1\n"))
    assert {a: spec_text(k) for a, k in form.stiffness} == {"x": "1 + u^2", "y": "1 + u^2"}
    stokes = {f.name: dict(f.stiffness) for f in derive_weak_forms(api.load(SPECS[0].parent / "stokes.pde"))}
    assert stokes["continuity"] == {"x": 0, "y": 0}  # no flux at all
    assert all(spec_text(k) == "mu" for k in stokes["momentum_1"].values())


def test_a_derivative_of_a_const_in_a_coefficient_is_written_out():
    """d(k, x) of a const is 0 even where it multiplies a term that is integrated by parts (it reached the
    generated module unexpanded, an internal error)."""
    spec = """problem q
domain O = interval(x: [0, 1])
time t: [0, 1]
field u
const k = 0.1
equation in O:
    dt(u) = d(d(k, x), x)*d(u, x, 2) + k*d(u, x, 2) + d(k, t)*d(u, x, 2)
"""
    (form,) = derive_weak_forms(_load(spec))
    assert _flux_text(form) == {"x": "k*d(u, x)"}
    assert "def weak_equation_1" in api.compile(spec)


def test_listings_say_an_equation_on_a_line_is_trained_strong():
    """No ball fits in 'O where x == 0.5': training keeps that equation's strong residual, and the listings say so."""
    from pdedsl.passes.listing import show_mixed, show_weak

    problem = _load(SQUARE + "region C = O where x == 0.5\nequation in O:\n    -laplace(u) = 1\n"
                    "equation in C:\n    u = laplace(k)\nboundary on boundary(O):\n    u = 0\n")
    forms = derive_weak_forms(problem)
    for listing in (format_weak, format_mixed, show_weak, show_mixed):
        text = listing(problem, forms)
        assert text.count("trained strong") == 1, (listing, text)
        assert text.index("trained strong") > text.index("equation equation_2 in C"), (listing, text)
