"""IR tables: a snippet inside a small problem, and the canonical IR it must produce."""

import math

import pytest
import sympy

import pdedsl
from pdedsl.ir import nodes
from pdedsl.ir.geometry import Box, Csg, Disk
from pdedsl.ir.listing import format_problem

BASE = """problem p
domain Omega = box(x: [0, 1], y: [0, 1])
time t: [0, 2]
field u, v
const nu = 0.01 / pi
input a ~ exp(gaussian_field(length: 0.2))
"""


def physics(snippet: str) -> str:
    """The canonical lines after the base problem's declarations."""
    listing = format_problem(pdedsl.load(BASE + snippet))
    return listing.split("mean: 0.0))\n", 1)[1]


TABLE = [
    ("equation in Omega:\n    dt(u) - nu*laplace(u) = 0",
     "equation equation_1 in Omega:\n    d(u, t) - nu*laplace(u) = 0\n"),
    # lets are inlined where they are used
    ("let flux = a * grad(u)\nequation in Omega:\n    -div(flux) = 1",
     "let flux = a*grad(u)\nequation equation_1 in Omega:\n    -div(a*grad(u)) = 1\n"),
    # derivative spellings normalise
    ("equation in Omega:\n    d(u, x, x) + d(u, x, 2) + d(u, x, y) + d(u, x, 2, y) = d(u, t)",
     "equation equation_1 in Omega:\n    d(u, x, 2) + d(u, x, 2) + d(u, x, y) + d(u, x, 2, y) = d(u, t)\n"),
    # an order written as a whole number with a point or an exponent is that number
    ("equation in Omega:\n    d(u, x, 2.0) + d(u, y, 2.) + d(u, x, 1e0, y, 2e0) = d(u, t, 1.0)",
     "equation equation_1 in Omega:\n    d(u, x, 2) + d(u, y, 2) + d(u, x, y, 2) = d(u, t)\n"),
    # vector relations
    ("equation in Omega:\n    (dt(u), dt(v)) = (d(v, x), -d(u, x))",
     "equation equation_1 in Omega:\n    (d(u, t), d(v, t)) = (d(v, x), -d(u, x))\n"),
    ("equation in Omega:\n    u^2/3 - sqrt(abs(v)) + arctan(x) + e^x = tanh(sinh(cosh(log(1 + y))))",
     "equation equation_1 in Omega:\n    u^2/3 - sqrt(abs(v)) + arctan(x) + e^x = tanh(sinh(cosh(log(1 + y))))\n"),
    ("input g = 2.1 + sin(b1*x) + cos(b2*y)\nparam b1 ~ uniform(3, 6)\nparam b2 ~ uniform(3, 6)\n"
     "equation in Omega:\n    u*g = v",
     "input g = 2.1 + sin(b1*x) + cos(b2*y)\nequation equation_1 in Omega:\n    u*g = v\n"),
    ("input h ~ threshold(gaussian_field(length: 0.1, smoothness: 2.5), below: 5, above: 10)\n"
     "equation in Omega:\n    h*u = v",
     "input h ~ threshold(gaussian_field(length: 0.1, smoothness: 2.5, variance: 1.0, mean: 0.0), "
     "below: 5.0, above: 10.0, at: 0.0)\nequation equation_1 in Omega:\n    h*u = v\n"),
    # named blocks with several relations, unnamed blocks numbered by kind
    ("equation heat in Omega:\n    dt(u) = laplace(u)\n    dt(v) = laplace(v)\nboundary on boundary(Omega):\n    u = 0\n"
     "    v = 0\ninitial:\n    u = 1\n    v = 0",
     "equation heat_1 in Omega:\n    d(u, t) = laplace(u)\nequation heat_2 in Omega:\n    d(v, t) = laplace(v)\n"
     "boundary boundary_1 on boundary(Omega):\n    u = 0\nboundary boundary_2 on boundary(Omega):\n    v = 0\n"
     "initial initial_1:\n    u = 1\ninitial initial_2:\n    v = 0\n"),
    ("exact u = sin(pi*x) * exp(-t)", "exact u = sin(pi*x)*exp(-t)\n"),
    # a formula input (here one built on another) is a closed form: exact writes it out
    ("input g = x + y\ninput h = g^2\nexact u = h - 1", "input g = x + y\ninput h = g^2\nexact u = -1 + (x + y)^2\n"),
]


@pytest.mark.parametrize("snippet, expected", TABLE, ids=[t[0].split("\n")[-1].strip()[:40] for t in TABLE])
def test_snippet_builds_expected_ir(snippet, expected):
    assert physics(snippet) == expected


def load(snippet: str):
    return pdedsl.load("problem p\ndomain Omega = box(x: [0, 1], y: [0, 1])\nfield u, v\n" + snippet)


def test_regions_and_refinements():
    problem = load("region left = boundary(Omega) where x == 0\nregion lb = left where y < 0.5\n"
                   "region r = Omega where x^2 + y^2 < 0.25\n"
                   "boundary on lb:\n    dn(u) + 2*u = 0\nequation in r:\n    u = v")
    left, lb, r = problem.regions
    x, y = sympy.symbols("x y", real=True)
    assert (left.on_boundary, left.domain, left.predicate) == (True, "Omega", sympy.Eq(x, 0))
    assert (lb.base.kind, lb.base.name, lb.on_boundary) == ("region", "left", True)
    assert (r.on_boundary, r.base.kind) == (False, "domain")
    assert r.predicate.subs({x: 0.1, y: 0.1}) == sympy.true and r.predicate.subs({x: 0.5, y: 0.5}) == sympy.false
    assert problem.boundary_conditions[0].target.name == "lb"
    assert isinstance(problem.boundary_conditions[0].lhs.args[0], nodes.NormalDerivative)


def test_constants_are_symbolic_in_equations_and_numeric_in_the_table():
    problem = load("const nu = 0.01 / pi\nconst two_nu = 2 * nu\nequation in Omega:\n    u = two_nu * v")
    assert problem.constant("nu").value == pytest.approx(0.01 / math.pi)
    assert problem.constant("two_nu").value == pytest.approx(0.02 / math.pi)
    assert sympy.Symbol("two_nu", real=True) in problem.equations[0].rhs.free_symbols


def test_geometry_is_data():
    problem = load("domain L = box(x: [-1, 1], y: [-1, 1]) - box(x: [0, 1], y: [0, 1]) & disk(center: (0, 0), radius: 0.5)")
    shape = problem.domain("L").shape
    assert isinstance(shape, Csg) and shape.op == "difference"
    assert shape.left == Box(("x", "y"), (-1.0, -1.0), (1.0, 1.0))
    assert shape.right == Csg("intersection", Box(("x", "y"), (0.0, 0.0), (1.0, 1.0)), Disk(("x", "y"), (0.0, 0.0), 0.5))


def test_priors_are_data():
    problem = load("param k ~ uniform(0.5, 2.0)\ninput a ~ threshold(gaussian_field(length: 0.1, smoothness: 2.5), "
                   "below: 5, above: 10)\nequation in Omega:\n    k*a*u = v")
    prior = problem.param("k").prior
    assert isinstance(prior, nodes.UniformPrior) and float(prior.parameter("high")) == 2.0
    field = problem.input("a").prior
    assert isinstance(field, nodes.Threshold) and float(field.parameter("below")) == 5.0
    assert float(field.parameter("field").parameter("smoothness")) == 2.5
    assert float(field.parameter("field").parameter("variance")) == 1.0  # default


def test_uniform_takes_the_language_floors_lo_and_hi_by_name():
    """The floor writes ``uniform(lo, hi)``: a spec may name them so, as the README's ``low``, ``high``."""
    spellings = ["uniform(0.5, 2.0)", "uniform(lo: 0.5, hi: 2.0)", "uniform(low: 0.5, high: 2.0)", "uniform(hi: 2.0, lo: 0.5)"]
    priors = [load(f"param k ~ {s}\nequation in Omega:\n    k*u = v").param("k").prior for s in spellings]
    assert all(prior == priors[0] for prior in priors)
    assert (float(priors[0].parameter("low")), float(priors[0].parameter("high"))) == (0.5, 2.0)
    with pytest.raises(pdedsl.SpecError, match="'low' is given twice"):
        load("param k ~ uniform(low: 0.5, lo: 1)\nequation in Omega:\n    k*u = v")


def test_a_block_without_a_target_holds_in_the_one_domain_the_others_build():
    """'equation:' beside helper domains (Sq, Hole) that only make up the one domain (Plate) holds in Plate."""
    problem = pdedsl.load("domain Plate = Sq - Hole\ndomain Sq = box(x: [0, 1], y: [0, 1])\n"
                          "domain Hole = disk(center: (0.5, 0.5), radius: 0.2)\nfield u\nequation:\n    -laplace(u) = 1\n"
                          "boundary on boundary(Plate):\n    u = 0\n")
    assert problem.equations[0].target.name == "Plate"
    with pytest.raises(pdedsl.SpecError, match="there are several domains") as raised:
        pdedsl.load("domain A = box(x: [0, 1])\ndomain B = box(x: [2, 3])\ndomain C = A + B\ndomain D = box(x: [5, 6])\n"
                    "field u\nequation:\n    u = 1\n")
    assert "one of: A, B, C, D" in raised.value.diagnostics[0].hint


def test_an_exact_solution_beside_reference_data_is_warned_about(tmp_path):
    """Training measures a field against its exact solution, not its reference: said at check."""
    import numpy as np

    grid = np.linspace(0, 1, 3)
    np.savez(tmp_path / "u.npz", x=grid, y=grid, u=np.zeros((3, 3)))
    spec = tmp_path / "both.pde"
    spec.write_text("domain Omega = box(x: [0, 1], y: [0, 1])\nfield u\nequation in Omega:\n    -laplace(u) = 1\n"
                    "boundary on boundary(Omega):\n    u = 0\nexact u = x*y\nreference u from \"u.npz\"\n")
    warning, = pdedsl.load(spec).warnings
    assert (warning.span.line, warning.span.column) == (8, 1)
    assert warning.message == ("'u' has an exact solution (line 7) and reference data: training measures its "
                               "error against the exact solution")


def test_fields_depend_on_space_and_time_inputs_on_space():
    problem = pdedsl.load("domain O = interval(x: [0, 1])\ntime s: [0, 1]\nfield u\ninput a ~ gaussian_field(length: 1)\n"
                          "equation in O:\n    dt(u) = a*d(u, x, 2)\ninitial:\n    u = 0")
    x, s = sympy.symbols("x s", real=True)
    assert problem.field("u").function.args == (x, s)
    assert problem.input("a").function.args == (x,)
    assert problem.coordinates == (x, s)
    assert problem.equations[0].lhs == sympy.Derivative(problem.field("u").function, s)


def test_problem_is_immutable_and_hashable():
    problem = load("equation in Omega:\n    u = v")
    assert hash(problem) == hash(load("equation in Omega:\n    u = v"))
    with pytest.raises(Exception):
        problem.name = "other"


def test_declarations_may_come_in_any_order():
    problem = pdedsl.load("problem p\ninput g = sin(b*x)\nequation in O:\n    u = g\nparam b ~ uniform(3, 6)\n"
                          "field u\ndomain O = interval(x: [0, 1])")
    assert problem.input("g").kind == "formula"


def test_generated_names_never_collide_with_user_names():
    problem = pdedsl.load("problem a\ndomain R = box(x: [0, 1], y: [0, 1])\nfield u, v\n"
                          "equation m in R:\n    laplace(u) = 0\n    laplace(v) = 0\n"
                          "equation m_1 in R:\n    laplace(u+v) = 0\n"
                          "equation in R:\n    u = v\nequation equation_1 in R:\n    v = u\n")
    names = [e.name for e in problem.equations]
    assert len(set(names)) == len(names) == 5
    assert names == ["m_2", "m_3", "m_1", "equation_2", "equation_1"]
    assert pdedsl.load(format_problem(problem)) == problem


def test_lets_may_be_used_wherever_their_body_may():
    problem = load("let r2 = x^2 + y^2\nregion inside = Omega where r2 < 0.25\nequation in inside:\n    u = r2")
    x, y = sympy.symbols("x y", real=True)
    assert problem.region("inside").predicate.lhs == x**2 + y**2


def test_infer_without_observe_warns_at_the_infer():
    problem = load("param D = 1\nequation in Omega:\n    D*u = v\ninfer D")
    (warning,) = problem.warnings
    assert warning.message == "'infer' without 'observe': there is no data to infer from"
    assert (warning.span.line, warning.span.column) == (7, 1)


def test_an_exact_solution_using_an_inferred_param_is_warned_about(tmp_path):
    """Training evaluates such a closed form at the estimate, so its error cannot reveal a wrong estimate (an
    inverse heat run whose D ended at 0.14 against the data's 0.25 reported 1.7e-6); a random param is each
    member's own value, and a fixed one that is not inferred is exact as written."""
    import numpy as np

    np.savez(tmp_path / "obs.npz", x=np.array([0.5]), t=np.array([0.5]), u=np.array([0.3]))
    text = ("problem p\ndomain Rod = interval(x: [0, 1])\ntime t: [0, 1]\nfield u\nparam D = 1.0\n"
            "param k ~ uniform(1, 2)\nequation in Rod:\n    dt(u) = D*k*d(u, x, 2)\ninitial:\n    u = sin(pi*x)\n"
            'observe u from "obs.npz" noise 0.01\n{infer}\nexact u = exp(-{which}*pi^2*t)*sin(pi*x)\n')
    spec = tmp_path / "p.pde"
    spec.write_text(text.format(infer="infer D", which="D"))
    (warning,) = pdedsl.load(spec).warnings
    assert (warning.span.line, warning.span.column) == (13, 1)
    assert warning.message == ("exact u uses 'D', which is inferred: the error is measured against it at the "
                               "estimate of D, so a wrong estimate goes unnoticed")
    assert warning.hint == "write the true value of D in the exact solution"
    for infer, which in [("infer D", "0.25"), ("infer k", "k"), ("infer k", "D")]:
        spec.write_text(text.format(infer=infer, which=which))
        assert pdedsl.load(spec).warnings == (), (infer, which)


def test_initial_values_given_twice_where_both_hold_are_warned_about():
    problem = load("time t: [0, 1]\nregion left = Omega where x < 0.5\nregion low = Omega where y < 0.5\n"
                   "equation in Omega:\n    d(u, t, 2) = laplace(u) + v\nequation in Omega:\n    v = 0\n"
                   "initial:\n    u = x\n    dt(u) = 0\n"
                   "initial on left:\n    u = 0\n    v = 1\n"
                   "initial on low:\n    u = 2\n"
                   "initial on Omega:\n    dt(u) = 1\n")
    found = [(w.span.line, w.message) for w in problem.warnings if "already given" in w.message]
    assert found == [
        (15, "the initial value of 'u' is already given on line 12, where this one holds too; where the two differ, "
             "neither is met"),
        (18, "the initial value of 'u' is already given on line 12, where this one holds too; where the two differ, "
             "neither is met"),
        (20, "the initial value of the time derivative of 'u' is already given on line 13, where this one holds "
             "too; where the two differ, neither is met")]


def test_a_boundary_value_given_twice_on_one_target_is_warned_about():
    problem = load("equation in Omega:\n    -laplace(u) = v\n    v = 0\n"
                   "boundary on boundary(Omega):\n    u = 0\nboundary on boundary(Omega):\n    u = 1\n    v = 1\n"
                   "region rim = boundary(Omega) where x == 0\nboundary on rim:\n    u = 2\n    dn(u) = 0\n")
    found = [(w.span.line, w.message) for w in problem.warnings if "already given" in w.message]
    # (a region of the boundary is another target: its value wins there as written)
    assert found == [(10, "the value of 'u' on boundary(Omega) is already given on line 8; where the two differ, "
                          "neither is met")]


def test_dn_on_the_rim_of_a_cut_out_domain_is_warned_about():
    """boundary(Hole)'s normals point into Plate = Sq - Hole; boundary(Sq)'s and Plate's own are fine."""
    text = ("problem p\ndomain Sq = box(x: [-1, 1], y: [-1, 1])\ndomain Hole = disk(center: (0, 0), radius: 0.3)\n"
            "domain Plate = Sq - Hole\nfield u\nequation in Plate:\n    -laplace(u) = 1\n"
            "boundary on boundary(Sq):\n    dn(u) = 0\nboundary on boundary(Hole):\n    {}\n")
    (warning,) = pdedsl.load(text.format("dn(u) + u = 1")).warnings
    assert (warning.span.line, warning.span.column) == (11, 5)
    assert warning.message.startswith("dn here is along the outward normal of 'Hole', which is cut out of 'Plate'")
    assert pdedsl.load(text.format("u = 1")).warnings == ()  # no normal involved


def test_a_condition_on_a_domain_apart_from_its_fields_equations_is_warned_about():
    """u is solved in A; a condition on a region of C, which A does not touch, constrained the network outside
    its domain and nothing else, silently. Touching domains (an interface) and holes are not warned about."""
    text = ("problem p\ndomain A = box(x: [0, 1], y: [0, 1])\ndomain C = box(x: [{}, 3], y: [0, 1])\n"
            "region r = boundary(C) where x < 2.5\nfield u, v\nequation in A:\n    -laplace(u) = 1\n"
            "equation in C:\n    -laplace(v) = 1\nboundary on boundary(A):\n    u = 0\nboundary on r:\n"
            "    v = 0\n    u = 1\n")
    (warning,) = pdedsl.load(text.format(2)).warnings
    assert (warning.span.line, warning.span.column) == (14, 5)
    assert warning.message.startswith("this condition on 'r' (a part of 'C') constrains 'u', whose equations "
                                      "hold in 'A', which 'C' does not touch")
    assert pdedsl.load(text.format(1)).warnings == ()  # C shares the face x = 1 with A: an interface
    hole = ("problem p\ndomain Sq = box(x: [-1, 1], y: [-1, 1])\ndomain Hole = disk(center: (0, 0), radius: 0.3)\n"
            "domain Plate = Sq - Hole\nfield u\nequation in Plate:\n    -laplace(u) = 1\n"
            "boundary on boundary(Hole):\n    u = 0\n")
    assert pdedsl.load(hole).warnings == ()


def test_one_file_observed_twice_for_a_name_is_warned_about(tmp_path):
    import numpy as np

    for name in ("a.npz", "b.npz"):
        np.savez(tmp_path / name, x=np.array([0.5]), y=np.array([0.5]), u=np.array([1.0]))
    spec = tmp_path / "p.pde"
    spec.write_text("problem p\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u\nequation in O:\n    -laplace(u) = 1\n"
                    'observe u from "a.npz" noise 0.1\nobserve u from "b.npz" noise 0.1\n'
                    'observe u from "./a.npz" noise 0.2\n')
    (warning,) = pdedsl.load(spec).warnings
    assert warning.span.line == 8
    assert warning.message == "'u' is already observed from this file on line 6: each reading would count twice"
    spec.write_text(spec.read_text().replace('"b.npz"', f'"../{tmp_path.name}/a.npz"'))  # one file, spelt two ways
    assert [w.span.line for w in pdedsl.load(spec).warnings] == [7, 8]


@pytest.mark.parametrize("equations, initial, expected", [
    ("d(u, t, 2) = laplace(u)", "u = x",
     [(3, "'u' is of order 2 in time, but no initial condition gives dt(u): the solution is not determined")]),
    ("dt(u) = laplace(u)", "u = x\n    dt(u) = 0",
     [(9, "this initial condition gives dt(u), but 'u' is of order 1 in time, so its equations decide dt(u) at the "
          "start: the two may disagree")]),
    ("dt(u) = v\n    dt(v) = laplace(u)", "u = x",
     [(3, "'v' is of order 1 in time, but no initial condition gives 'v': the solution is not determined")]),
    ("d(u, t, 2) = laplace(u)", "dt(u) = 0",  # only the slope of a wave
     [(3, "'u' is of order 2 in time, but no initial condition gives 'u': the solution is not determined")]),
    ("dt(u) = laplace(u)", "dt(u) = 0",  # only a slope, no value, for the heat equation: both said
     [(3, "'u' is of order 1 in time, but no initial condition gives 'u': the solution is not determined"),
      (8, "this initial condition gives dt(u), but 'u' is of order 1 in time, so its equations decide dt(u) at the "
          "start: the two may disagree")]),
    ("d(u, t, 2) = laplace(u)", "u = x\n    dt(u) = 0", []),  # a wave with both: quiet
    ("d(u, t, 2) = laplace(u) + v\n    v = u", "u = x\n    dt(u) = 0", []),
    ("dt(u) = v\n    dt(v) = laplace(u)", "u + v = x", []),  # not of the form u = ...: not judged
])
def test_initial_conditions_are_counted_against_each_fields_order_in_time(equations, initial, expected):
    problem = load(f"time t: [0, 1]\nequation in Omega:\n    {equations}\ninitial:\n    {initial}\n")
    found = [(w.span.line, w.message) for w in problem.warnings if "no equation or condition" not in w.message]
    assert found == expected


def _let_chain(links: int, link: str, use: str = "a{n}") -> str:
    lines = ["problem p", "domain Omega = box(x: [0, 1], y: [0, 1])", "field u", "let a0 = x"]
    lines += [f"let a{i + 1} = " + link.format(i=i) for i in range(links)]
    lines += ["equation in Omega:", "    -laplace(u) = " + use.format(n=links), "boundary on boundary(Omega):",
              "    u = 0"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("link", ["sin(a{i})", "a{i} + 1"])
def test_long_chains_of_lets_compile_or_are_refused_where_they_get_too_deep(link):
    """Lets nest as deeply as their chain: within the limit the generated module is valid Python (it used to
    exceed Python's 200 nested parentheses), past it the let that crosses it is the error, at once (a chain
    of 1500 used to exhaust the recursion limit, and a chain of sums took minutes)."""
    compile(pdedsl.compile(_let_chain(140, link)), "<generated>", "exec")
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(_let_chain(1500, link))
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert error.message.startswith("let 'a150' nests too deeply written out")
    with pytest.raises(pdedsl.SpecError, match="this equation nests too deeply written out"):
        pdedsl.load(_let_chain(145, link, use="cos(" * 20 + "a{n}" + ")" * 20))


def test_one_element_vectors_list_with_a_trailing_comma_and_load_back():
    problem = pdedsl.load("problem p\ndomain D = interval(x: [0, 1])\nfield u\nequation e in D:\n    -div((d(u, x),)) = 1\n")
    listing = format_problem(problem)
    assert "\n    -div((d(u, x),)) = 1\n" in listing
    assert pdedsl.load(listing) == problem


@pytest.mark.parametrize("snippet, where, message", [
    ("equation in Omega:\n    u = v + 10^400", "5:13", "'10^400' is not a finite real number: the value overflows"),
    ("const big = 1e200\nequation in Omega:\n    u = big*v*big", "6:9", "'big*v*big' is not a finite real number: the value overflows"),
    ("let k = exp(1000)\nequation in Omega:\n    u = k*v", "4:9", "'exp(1000)' is not a finite real number: exp overflows"),
    ("region r = Omega where x < log(-2)\nequation in r:\n    u = v", "4:28",
     "'log(-2)' is not a finite real number: log is not defined at -2"),
    ("input g = x + 1/0\nequation in Omega:\n    u = g*v", "4:15", "'1/0' is not a finite real number: division by zero"),
    ("exact u = x*sqrt(-1)\nequation in Omega:\n    u = v", "4:13",
     "'sqrt(-1)' is not a finite real number: a negative number to a fractional power is not real"),
    ("equation in Omega:\n    u = 10^-(10^9)*v", "5:9", "'10^-(10^9)' is too large to compute exactly (about 1e+09 digits)"),
    ("equation in Omega:\n    u = (v*10^200)^2", "5:9", "'(v*10^200)^2' is not a finite real number: the value overflows"),
    ("equation in Omega:\n    u = v + (2.5*x)^(10^9)", "5:13",
     "'(2.5*x)^(10^9)' is not a finite real number: the value overflows"),
    # the scale of a vector too (it reached the generated module as a division by 0.0)
    ("const k = 2\nequation in Omega:\n    (u, v) = grad(u)/(k - 2)", "6:14",
     "'grad(u)/(k - 2)' is not a finite real number: division by zero"),
    ("const k = 2\nequation in Omega:\n    -div(1/(k - 2)*grad(u)) = v", "6:10",
     "'1/(k - 2)*grad(u)' is not a finite real number: division by zero"),
    # and of a prior (every draw was infinite: check passed, data and train refused it unlocated)
    ("const k = 2\ninput h ~ exp(gaussian_field(length: 0.1)/(k - 2))\nequation in Omega:\n    u = h*v", "5:15",
     "'gaussian_field(lengt...' is not a finite real number: division by zero"),
    ("const k = 2\nparam q ~ uniform(1, 2)/(k - 2)\nequation in Omega:\n    u = q*v", "5:11",
     "'uniform(1, 2)/(k - 2)' is not a finite real number: division by zero"),
], ids=["power", "consts", "let", "predicate", "input", "exact", "exact digits", "folded power", "folded float power",
        "vector scale", "flux scale", "field prior", "scalar prior"])
def test_numbers_in_expressions_must_be_finite_float64(snippet, where, message):
    with pytest.raises(pdedsl.SpecError) as raised:
        load(snippet)
    (error,) = raised.value.errors
    assert (f"{error.span.line}:{error.span.column}", error.message) == (where, message)


def test_large_finite_numbers_are_accepted():
    problem = load("const big = 1e200\nequation in Omega:\n    u = 10^300*v + big*x + 2^2^2^2*y + (2/3)^600")
    assert "\n    u = 10^300*v + big*x + 2^2^2^2*y + (2/3)^600\n" in format_problem(problem)


@pytest.mark.parametrize("text", ["", "# a comment\n", "problem p\n"], ids=["empty", "comment", "name only"])
def test_a_spec_without_fields_is_warned_about_at_its_start(tmp_path, text):
    (tmp_path / "blank.pde").write_text(text)
    problem = pdedsl.load(tmp_path / "blank.pde")
    (warning,) = problem.warnings
    assert warning.message == "the spec declares no field: there is nothing to solve for"
    assert (warning.span.line, warning.span.column) == (1, 1)


def _spec(domain: str = "box(x: [0, 1], y: [0, 1])", time: str = "[0, 1]", prior: str = "exp(gaussian_field("
          "length: 0.2))") -> str:
    return (f"problem p\ndomain D = {domain}\ntime t: {time}\nfield u\ninput a ~ {prior}\n"
            "equation in D:\n    dt(u) = laplace(u) + a\nboundary on boundary(D):\n    u = 0\ninitial:\n    u = 0\n")


@pytest.mark.parametrize("domain, time, column, message", [
    ("interval(x: [-1e308, 1e308])", "[0, 1]", 24,
     "the range of axis 'x' [-1e+308, 1e+308] cannot be sampled: its width overflows float64 (beyond 1.8e+308)"),
    ("interval(x: [0, 5e-324])", "[0, 1]", 24,
     "the range of axis 'x' [0, 5e-324] cannot be sampled: its width 4.94e-324 is below float64's smallest normal "
     "number 2.23e-308, where it keeps only a few digits"),
    ("interval(x: [1e6, 1e6 + 1e-9])", "[0, 1]", 24,
     "the range of axis 'x' [1e+06, 1000000.000000001] cannot be sampled: its width 1.05e-09 is "
     "1e-15 of its coordinates' size 1e+06: float64 tells apart only about 9 coordinates in it"),
    ("disk(center: (0, 0), radius: 1e-320)", "[0, 1]", 41,
     "the disk spans [-1e-320, 1e-320] along axis 'x', which cannot be sampled: its width 2e-320 is below "
     "float64's smallest normal number 2.23e-308, where it keeps only a few digits"),
    ("disk(center: (1e308, 0), radius: 1e308)", "[0, 1]", 45,
     "the disk reaches beyond float64's largest number (1.8e+308): its center plus or minus its radius overflows"),
    ("interval(x: [-1e160, 1])", "[0, 1]", 24,  # was an internal error in training (OverflowError)
     "the range of axis 'x' [-1e+160, 1] cannot be sampled: its coordinates reach 1e+160, whose squares overflow "
     "float64 (beyond 1.34e+154), as the distances and volumes of its points do"),
    ("box(x: [0, 1], y: [0, 1e308])", "[0, 1]", 30,
     "the range of axis 'y' [0, 1e+308] cannot be sampled: its coordinates reach 1e+308, whose squares overflow "
     "float64 (beyond 1.34e+154), as the distances and volumes of its points do"),
])
def test_ranges_float64_cannot_sample_are_errors_at_the_range(domain, time, column, message):
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(_spec(domain, time))
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.span.line, error.span.column, error.message) == (2, column, message)


def test_a_time_interval_float64_cannot_sample_is_an_error():
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(_spec(time="[0, 1e-320]"))
    (error,) = raised.value.diagnostics
    assert (error.span.line, error.span.column) == (3, 9)
    assert error.message.startswith("time interval of 't' [0, 1e-320] cannot be sampled: its width 1e-320 is below")


@pytest.mark.parametrize("domain, message", [
    ("interval(x: [1e6, 1e6 + 1e-6])", "the range of axis 'x' [1e+06, 1000000.000001]: its width "
     "1e-06 is 1e-12 of its coordinates' size 1e+06: float32 tells apart only about 1 "
     "coordinate in it"),
    ("interval(x: [0, 1e-40])", "the range of axis 'x' [0, 1e-40]: its width 1e-40 is below float32's smallest "
     "normal number 1.18e-38: a float32 run cannot resolve it"),
    ("interval(x: [0, 1e39])", "the range of axis 'x' [0, 1e+39]: its coordinates reach 1e+39, beyond float32's "
     "largest number 3.4e+38: a float32 run sees infinities"),
    ("polygon((1e9, 0), (1e9 + 1, 0), (1e9, 1))", "the polygon spans [1e+09, 1000000001.0] along axis 'x': its "
     "width 1 is 1e-09 of its coordinates' size 1e+09: float32 tells apart only about 1 coordinate in it"),
])
def test_ranges_float32_cannot_resolve_are_warnings(domain, message):
    (warning,) = pdedsl.load(_spec(domain)).warnings
    assert warning.message == message and warning.span.line == 2
    assert warning.hint.startswith("train with --precision float64")


@pytest.mark.parametrize("domain", ["interval(x: [1000, 1001])", "interval(x: [-1e30, 1e30])", "interval(x: [0, 1e-30])",
                                    "disk(center: (0, 0), radius: 1e-9)", "ball(center: (5, 5, 5), radius: 0.01)"])
def test_ranges_float32_resolves_are_silent(domain):
    assert pdedsl.load(_spec(domain)).warnings == ()


@pytest.mark.parametrize("prior, error, start", [
    ("sqrt(gaussian_field(length: 0.2))", True, "the prior takes sqrt of a Gaussian field, which is undefined where "
     "it is negative: with mean 0 and standard deviation 1, nearly every draw is negative somewhere"),
    ("log(gaussian_field(length: 0.2))", True, "the prior takes log of a Gaussian field"),
    ("gaussian_field(length: 0.2)^0.5", True, "the prior takes the power 0.5 of a Gaussian field"),
    ("log(gaussian_field(length: 0.2, mean: 2, variance: 0.25))", False, "the prior takes log of a Gaussian field, "
     "which is undefined where it is negative: with mean 2 and standard deviation 0.5, a point is negative with "
     "probability 3.2e-05, and a draw with one is refused"),
    ("1/gaussian_field(length: 0.2)", False, "the prior divides by a Gaussian field, which is unbounded near its "
     "zeros: with mean 0 and standard deviation 1, its draws have huge spikes"),
    ("sqrt(gaussian_field(length: 0.2, mean: 1) + 2*gaussian_field(length: 0.5, mean: 1))", False,  # N(3, 5)
     "the prior takes sqrt of gaussian_field("),
    ("sqrt(gaussian_field(length: 0.2) - gaussian_field(length: 0.5, mean: -1))", True, "the prior takes sqrt of "),
    ("tan(gaussian_field(length: 0.2, variance: 0.25))", False, "the prior takes tan of a Gaussian field, which is "
     "unbounded where it crosses an odd multiple of pi/2: with mean 0 and standard deviation 0.5"),
    ("tan(gaussian_field(length: 0.2, mean: 4.5, variance: 0.04))", False, "the prior takes tan of a Gaussian field, "
     "which is unbounded where it crosses an odd multiple of pi/2: with mean 4.5"),  # 3 pi / 2 a std away
])
def test_priors_undefined_on_a_gaussian_field_are_reported_at_the_prior(prior, error, start):
    if error:
        with pytest.raises(pdedsl.SpecError) as raised:
            pdedsl.load(_spec(prior=prior))
        (found,) = raised.value.diagnostics
    else:
        (found,) = pdedsl.load(_spec(prior=prior)).warnings
    assert found.severity == ("error" if error else "warning")
    assert (found.span.line, found.span.column) == (5, 11) and found.message.startswith(start)


@pytest.mark.parametrize("prior", ["sqrt(exp(gaussian_field(length: 0.2)))", "log(1 + exp(gaussian_field(length: 0.2)))",
                                   "sqrt(gaussian_field(length: 0.2, mean: 10))", "1/gaussian_field(length: 0.2, mean: -6)",
                                   "sqrt(abs(gaussian_field(length: 0.2)))", "gaussian_field(length: 0.2)^2",
                                   "log(threshold(gaussian_field(length: 0.2), below: 1, above: 2))",
                                   "tan(gaussian_field(length: 0.2, variance: 0.01))",
                                   "tan(gaussian_field(length: 0.2, mean: 3.14, variance: 0.01))",
                                   "sqrt(gaussian_field(length: 0.2, mean: 10) + gaussian_field(length: 0.3, mean: 10))"])
def test_priors_positive_or_bounded_are_silent(prior):
    assert pdedsl.load(_spec(prior=prior)).warnings == ()


@pytest.mark.parametrize("declared, later, how", [
    ("field u, U", "field 'U'", "differ only in case"),
    ("field u, u1, ul", "field 'ul'", "differ only in look-alike characters (1, l, I; 0, O)"),
    ("field u\nconst wO = 1\nconst w0 = 2", "const 'w0'", "differ only in look-alike characters"),
    ("field u, v\ntime T: [0, 1]\nconst t = 1", "const 't'", "differ only in case")])
def test_declared_names_that_look_alike_are_warned_about(declared, later, how):
    """Two names one misreads for the other: a use of one meant for the other passes every check."""
    spec = ("problem p\ndomain O = interval(x: [0, 1])\n" + declared + "\nequation in O:\n    -d(u, x, 2) = 1\n")
    problem = pdedsl.load(spec)
    (warning,) = [w for w in problem.warnings if "look" in w.message]
    assert warning.message.startswith(f"{later} looks like ") and how in warning.message
    assert warning.hint == "rename one of them: a use of one where the other was meant would pass unnoticed"


@pytest.mark.parametrize("declared", ["field u\nconst I = 1\nconst L = 2", "field u\nconst aL = 1\nconst a1 = 2",
                                      "field u\nconst kL = 1\nconst kI = 2"])
def test_a_capital_l_is_not_taken_for_capital_i_or_one(declared):
    """'l' looks like 'I' and '1', but its capital does not: the README's own domains I and L were warned about,
    the check having folded case (L to l) before comparing glyphs."""
    spec = ("problem p\ndomain O = interval(x: [0, 1])\n" + declared + "\nequation in O:\n    -d(u, x, 2) = 1\n")
    assert [w.message for w in pdedsl.load(spec).warnings if "look" in w.message] == []


def test_names_that_differ_visibly_are_not_warned_about():
    problem = pdedsl.load("problem p\ndomain O = interval(x: [0, 1])\nfield u, v, u2, ux\nconst c1 = 1\nconst c2 = 2\n"
                          "equation in O:\n    -d(u, x, 2) = 1\n")
    assert not [w for w in problem.warnings if "look" in w.message]


def test_names_that_would_clash_with_a_posteriors_output_arrays_are_refused_where_something_is_inferred():
    """infer's outputs name each field's spread u_std (and a_map, a_low, a_high, true_a for inputs): a field
    'u_std' beside 'u' made 'pdedsl predict' of the posterior fail with an internal error (a reshape)."""
    text = ("problem p\ndomain I = interval(x: [0, 1])\nfield u, u_std\nparam k = 1.0\nequation in I:\n"
            "    -d(u, x, 2) = 1\n    u_std = k*u\nboundary on boundary(I):\n    u = 0\n{infer}")
    assert pdedsl.load(text.format(infer="")).warnings == ()  # nothing inferred: no posterior arrays
    with pytest.raises(pdedsl.SpecError) as caught:
        pdedsl.load(text.format(infer="infer k\n"))
    (error,) = caught.value.errors
    assert (error.span.line, error.span.column) == (3, 10)
    assert error.message.startswith("'u_std' would share its name with the posterior spread of 'u' (u_std)")


@pytest.mark.parametrize("block, extra, term", [
    ("equation data_u in I:", 'observe u from "u.npz" noise 0.1\n', "the loss term of the readings of 'u'"),
    ("equation data_u in I:", "", "the data term of 'u' (its readings, or an operator's labels)"),
    ("equation data_u_2 in I:", 'observe u from "u.npz" noise 0.1\nobserve u from "./u.npz" noise 0.2\n',
     "the loss term of the readings of 'u'"),
    ("equation kl in I:", "input a ~ gaussian_field(length: 0.3)\n", "the KL term of the dgno backend"),
    ("equation reconstruct_a in I:", "input a ~ gaussian_field(length: 0.3)\n", "the dgno backend's reconstruction"),
    ("boundary rim_flux on boundary(I):", "", "the mixed form's flux term of equation 'rim'"),
    ("boundary periodic_1 on boundary(I):", "periodic u in x\n", "the periodic statement number 1"),
])
def test_a_block_named_like_a_training_term_is_refused(tmp_path, block, extra, term):
    """An equation named data_u beside 'observe u' shared the data term's name: training logged one term for
    both (metrics held data_u alone), the physics was lost, and infer found 'D = 1 +- inf'."""
    import numpy as np

    np.savez(tmp_path / "u.npz", x=np.array([0.5]), u=np.array([0.1]))
    spec = tmp_path / "p.pde"
    spec.write_text("problem p\ndomain I = interval(x: [0, 1])\nfield u\nequation rim in I:\n    -d(u, x, 2) = 1\n"
                    f"{block}\n    u = 0\n" + extra)
    with pytest.raises(pdedsl.SpecError) as caught:
        pdedsl.load(spec)
    (error,) = caught.value.errors
    assert error.span.line == 6 and term in error.message, error.message


def _overdetermined(problem) -> list:
    return [(w.span.line, w.message) for w in problem.warnings if "both hold in" in w.message]


def test_an_equation_on_a_region_beside_the_whole_domain_equations_for_its_fields_is_warned_about():
    """``-laplace(u) = 1`` in Omega and ``-laplace(u) = 2`` in a disc inside it: two equations for one field
    in the disc, which no u meets; the warning sits at the later of the two."""
    core = "region core = Omega where x^2 + y^2 < 0.25\n"
    found = _overdetermined(load(core + "equation in Omega:\n    -laplace(u) = 1\n    v = 0\n"
                                        "equation in core:\n    -laplace(u) = 2\n"))
    assert found == [(9, "'u' already has an equation on line 6 (in 'Omega'); both hold in 'core': 3 "
                         "equations for 2 fields (u, v) there; where they differ, none is met")]
    found = _overdetermined(load(core + "equation in core:\n    -laplace(u) = 2\n"
                                        "equation in Omega:\n    -laplace(u) = 1\n    v = 0\n"))
    assert found == [(8, "'u' already has an equation on line 6 (in 'core'); both hold in 'core': 3 "
                         "equations for 2 fields (u, v) there; where they differ, none is met")]
    # a region of a region is inside its parent
    found = _overdetermined(load(core + "region inner = core where x > 0\nequation in core:\n    -laplace(u) = 2\n"
                                        "    v = 0\nequation in inner:\n    v = 1\n"))
    assert found == [(10, "'v' already has an equation on line 8 (in 'core'); both hold in 'inner': 3 "
                          "equations for 2 fields (u, v) there; where they differ, none is met")]


def test_systems_pinned_regions_and_inverse_problems_are_not_said_to_be_overdetermined():
    core = "region core = Omega where x^2 + y^2 < 0.25\n"
    for snippet in [
            # a system: two equations for two fields, the second on a region only (v is left free elsewhere)
            core + "equation in Omega:\n    -laplace(u) = v\nequation in core:\n    v = 1\n",
            # the region's equation names a field the domain's equations do not solve
            core + "equation in Omega:\n    -laplace(u) = 1\nequation in core:\n    v = u\n",
            # two regions that split the domain: each holds one equation
            core + "region rest = Omega where x^2 + y^2 >= 0.25\nequation in core:\n    -laplace(u) = 1\n"
                   "    v = 0\nequation in rest:\n    -laplace(u) = 0\n    v = 0\n",
            # a region without volume (a line) is an interior condition, not a second equation in an area
            "region mid = Omega where x == 0.5\nequation in Omega:\n    -laplace(u) = 1\n    v = 0\n"
            "equation in mid:\n    u = 0\n",
            # an inferred input is one more unknown: the region's equation may be what decides it
            "input a ~ gaussian_field(length: 0.2)\ninfer a\n" + core
            + "equation in Omega:\n    -div(a*grad(u)) = 1\n    v = 0\nequation in core:\n    u = a\n"]:
        assert _overdetermined(load(snippet)) == [], snippet
    # a Stokes-like system: three equations, one a vector relation, for three fields
    stokes = pdedsl.load("problem p\ndomain Omega = box(x: [0, 1], y: [0, 1])\nfield ux, uy, p\n"
                         "equation in Omega:\n    -laplace((ux, uy)) + grad(p) = (0, 0)\n    div((ux, uy)) = 0\n")
    assert _overdetermined(stokes) == []


def test_the_look_alike_check_compares_each_name_once_not_every_pair(monkeypatch):
    """A spec declaring thousands of names (a generated one) took minutes to check: every name was compared
    with every earlier one (5000 fields: 12.5 million comparisons). Each name's keys are taken once now."""
    import pdedsl.errors as errors

    calls = []
    real = errors._glyph_key
    monkeypatch.setattr(errors, "_glyph_key", lambda name: calls.append(name) or real(name))
    names = [f"u{i}" for i in range(300)] + ["U7", "ul2"]  # the last two look like u7 and u12
    spec = ("domain O = interval(x: [0, 1])\nfield " + ", ".join(names) + "\nequation in O:\n"
            + "".join(f"    {n} = x\n" for n in names))
    warnings = [w.message for w in pdedsl.load(spec).warnings if "look" in w.message]
    assert warnings == ["field 'U7' looks like field 'u7' on line 2: the names differ only in case",
                        "field 'ul2' looks like field 'u12' on line 2: the names differ only in look-alike "
                        "characters (1, l, I; 0, O)"]
    assert len(calls) <= 2 * len(names)


def test_thousands_of_errors_are_collected_in_time_linear_in_their_number(monkeypatch):
    """A generated spec with 3000 unknown names took 50 s to check: each error searched every declared name
    for a did-you-mean hint, and was compared with every error before it (to report a repeat once). Past
    the first MAX_HINTED errors unknown names get no hint, and repeats are found by a set."""
    import pdedsl.ir.build.expressions as expressions
    from pdedsl.errors import Diagnostic

    searches, comparisons = [], []
    real = expressions.did_you_mean
    monkeypatch.setattr(expressions, "did_you_mean", lambda *a: searches.append(a) or real(*a))
    monkeypatch.setattr(Diagnostic, "__eq__", lambda self, other: comparisons.append(1) or self is other)
    spec = ("domain O = interval(x: [0, 1])\nfield u\nequation in O:\n    -d(u, x, 2) = 1\n"
            + "".join(f"const c{i} = nosuch{i}\n" for i in range(300)) + "const k = c1 + 1\nconst k2 = nosuch0\n")
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(spec)
    errors = raised.value.errors
    assert len(errors) == 301 and errors[0].message == "unknown name 'nosuch0'"
    assert errors[0].hint is None or "did you mean" in errors[0].hint
    assert len(searches) <= expressions.MAX_HINTED
    assert len(comparisons) < 300
