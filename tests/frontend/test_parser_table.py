"""Parser tables: a snippet of every construct and the AST it must produce."""

import pytest

import pdedsl
from pdedsl.frontend.ast_printer import format_ast

TABLE = [
    # expressions: precedence, associativity, unary minus below ^
    ("const c = -x^2 + a*b/c - d^-2^3",
     "ConstDecl name=c value=((-(x ^ 2)) + (a * b / c) - (d ^ (-(2 ^ 3)))) @1:1"),
    ("const c = 1 - 2 + 3 * 4 / 5", "ConstDecl name=c value=(1 - 2 + (3 * 4 / 5)) @1:1"),
    ("const c = 2^3^2", "ConstDecl name=c value=(2 ^ (3 ^ 2)) @1:1"),
    ("const c = - - +1", "ConstDecl name=c value=(-(-(+1))) @1:1"),
    ("const c = (1 + 2) * 3", "ConstDecl name=c value=((1 + 2) * 3) @1:1"),
    ("region r = O where 0 < x <= 1 and not y == 2 or x != 3",
     "RegionDecl name=r base=O predicate=(((0 < x <= 1) and (not (y == 2))) or (x != 3)) @1:1"),
    ("region left = boundary(Omega) where x == 0",
     "RegionDecl name=left base=boundary(Omega) predicate=(x == 0) @1:1"),
    ("let v = (1, 2.5e-3, .5)", "LetDecl name=v value=<1, 2.5e-3, .5> @1:1"),
    ("let flux = a * grad(u)", "LetDecl name=flux value=(a * grad(u)) @1:1"),
    # geometry
    ("domain Omega = box(x: [0, 1], y: [0, 1])", "DomainDecl name=Omega shape=box(x: [0, 1], y: [0, 1]) @1:1"),
    ("domain I = interval(x: [a, b])", "DomainDecl name=I shape=interval(x: [a, b]) @1:1"),
    ("domain L = box(x: [-1, 1], y: [-1, 1]) - box(x: [0, 1], y: [0, 1]) + A & (B - C)",
     "DomainDecl name=L shape=(box(x: [(-1), 1], y: [(-1), 1]) - box(x: [0, 1], y: [0, 1]) + (A & (B - C))) @1:1"),
    ("domain D = disk(center: (0, 0), radius: 1)", "DomainDecl name=D shape=disk(center: <0, 0>, radius: 1) @1:1"),
    ("domain B = ball(center: (0, 0, 0), radius: 1)", "DomainDecl name=B shape=ball(center: <0, 0, 0>, radius: 1) @1:1"),
    ("domain P = polygon((0, 0), (1, 0), (1, -1))",
     "DomainDecl name=P shape=polygon(<0, 0>, <1, 0>, <1, (-1)>) @1:1"),
    ("time t: [0, 1]", "TimeDecl name=t interval=[0, 1] @1:1"),
    ("problem poisson2d", "ProblemDecl name=poisson2d @1:1"),
    # unknowns, knowns, priors
    ("field u", "FieldDecl names=u @1:1"),
    ("field ux, uy, p", "FieldDecl names=ux,uy,p @1:1"),
    ("const nu = 0.01 / pi", "ConstDecl name=nu value=(0.01 / pi) @1:1"),
    ("param D = 1.0", "ParamDecl name=D kind=value value=1.0 @1:1"),
    ("param k ~ uniform(0.5, 2.0)", "ParamDecl name=k kind=prior value=uniform(0.5, 2.0) @1:1"),
    ("input a ~ threshold(gaussian_field(length: 0.1, smoothness: 2.5), below: 5, above: 10)",
     "InputDecl name=a kind=prior value=threshold(gaussian_field(length: 0.1, smoothness: 2.5), below: 5, above: 10) @1:1"),
    ("input g = 2.1 + sin(b1*x) + cos(b2*y)",
     "InputDecl name=g kind=formula value=(2.1 + sin((b1 * x)) + cos((b2 * y))) @1:1"),
    ('input k0 from "coefficient.npz"', 'InputDecl name=k0 kind=data value="coefficient.npz" @1:1'),
    ("input f ~ exp(gaussian_field(length: 0.2))", "InputDecl name=f kind=prior value=exp(gaussian_field(length: 0.2)) @1:1"),
    # physics blocks
    ("equation darcy in Omega:\n    -div(a * grad(u)) = 10\n    d(u, x, 2) = dt(u)",
     "Block kind=equation name=darcy target=Omega @1:1\n"
     "    (-div((a * grad(u)))) = 10 @2:5\n"
     "    d(u, x, 2) = dt(u) @3:5"),
    ("equation in Omega:\n    dt(u) + u*d(u, x) = nu*d(u, x, x)",
     "Block kind=equation target=Omega @1:1\n    (dt(u) + (u * d(u, x))) = (nu * d(u, x, x)) @2:5"),
    ("boundary on boundary(Omega): u = 0", "Block kind=boundary target=boundary(Omega) @1:1\n    u = 0 @1:30"),
    ("boundary inflow on left:\n    dn(u) = 1",
     "Block kind=boundary name=inflow target=left @1:1\n    dn(u) = 1 @2:5"),
    ("boundary on walls:\n    dn(u) + 2*u = 0",
     "Block kind=boundary target=walls @1:1\n    (dn(u) + (2 * u)) = 0 @2:5"),
    ("initial:\n    u = -sin(pi*x)\n    dt(u) = 0",
     "Block kind=initial @1:1\n    u = (-sin((pi * x))) @2:5\n    dt(u) = 0 @3:5"),
    ("equation in O:\n    dot(grad(u), (1, 2)) = 0", "Block kind=equation target=O @1:1\n    dot(grad(u), <1, 2>) = 0 @2:5"),
    ("periodic u in x", "PeriodicDecl fields=u axis=x @1:1"),
    ("periodic u, v in x", "PeriodicDecl fields=u,v axis=x @1:1"),
    # data, targets, validation
    ('observe u from "u_obs.npz" noise 0.01', 'ObserveDecl name=u path="u_obs.npz" noise=0.01 @1:1'),
    ('observe u from "u_obs.npz"', 'ObserveDecl name=u path="u_obs.npz" @1:1'),
    ("infer a", "InferDecl names=a @1:1"),
    ("infer a, D", "InferDecl names=a,D @1:1"),
    ("exact u = sin(pi*x) * sin(pi*y)", "ExactDecl name=u value=(sin((pi * x)) * sin((pi * y))) @1:1"),
    ('reference u from "burgers.npz"', 'ReferenceDecl name=u path="burgers.npz" @1:1'),
    # layout: comments, statements running over lines inside brackets
    ("# a comment\nfield u  # another\n\n   \n# last", "FieldDecl names=u @2:1"),
    ("input a ~ threshold(\n    gaussian_field(length: 0.1),\n    below: 5, above: 10)",
     "InputDecl name=a kind=prior value=threshold(gaussian_field(length: 0.1), below: 5, above: 10) @1:1"),
    ("field νu_2, θ", "FieldDecl names=νu_2,θ @1:1"),
]


@pytest.mark.parametrize("snippet, expected", TABLE, ids=[t[0].split("\n")[0][:40] for t in TABLE])
def test_snippet_parses_to_expected_ast(snippet, expected):
    printed = format_ast(pdedsl.parse(snippet + "\n"))
    assert printed == "Spec\n  " + expected + "\n"


LAYOUT = (
    "problem p\n"
    "domain O = box(x: [0, 1], y: [0, 1])\n"
    "field u\n"
    "equation in O:\n"
    "    -laplace(u) = 1\n"
    "    d(u, x) = y\n"
    "boundary on boundary(O):\n"
    "    u = 0\n"
)


@pytest.mark.parametrize("variant", [
    LAYOUT.replace("\n", "\r\n"),
    LAYOUT.replace("    ", "\t"),
    LAYOUT.replace("\n", "   # note\n"),
    LAYOUT.replace("    ", "        "),
    LAYOUT + "\n\n   \n",
    LAYOUT.rstrip("\n"),
])
def test_layout_variants_give_the_same_problem(variant):
    from pdedsl.ir.listing import format_problem

    assert format_problem(pdedsl.load(variant)) == format_problem(pdedsl.load(LAYOUT))
