"""The derivative entry point against SymPy-differentiated closed forms."""

import sympy
import torch

from pdedsl.runtime import derivatives

X, Y, T = sympy.symbols("x y t", real=True)
CLOSED_FORMS = {
    "u": sympy.sin(2 * X) * sympy.exp(Y) + X**3 * Y**2 * T,
    "v": sympy.cos(X * Y) + sympy.tanh(T - X),
}
TORCH_FORMS = {
    "u": lambda c: torch.sin(2 * c["x"]) * torch.exp(c["y"]) + c["x"] ** 3 * c["y"] ** 2 * c["t"],
    "v": lambda c: torch.cos(c["x"] * c["y"]) + torch.tanh(c["t"] - c["x"]),
}
REQUESTS = [
    ("u", ()), ("u", (("x", 1),)), ("u", (("x", 2),)), ("u", (("x", 1), ("y", 1))), ("u", (("y", 1), ("x", 1))),
    ("u", (("x", 3),)), ("u", (("x", 2), ("y", 2))), ("u", (("t", 1),)), ("u", (("x", 1), ("t", 1))),
    ("v", (("x", 4),)), ("v", (("y", 2),)), ("v", (("x", 1), ("y", 1), ("t", 1))),
]


def test_every_request_matches_sympy():
    generator = torch.Generator().manual_seed(0)
    points = {axis: torch.rand(6, generator=generator, dtype=torch.float64, requires_grad=True) for axis in "xyt"}
    values = {name: form(points) for name, form in TORCH_FORMS.items()}
    computed = derivatives.compute(values, points, REQUESTS, axis_order="xyt")
    symbols = {"x": X, "y": Y, "t": T}
    for function, orders in REQUESTS:
        exact = CLOSED_FORMS[function]
        if orders:
            exact = sympy.diff(exact, *[(symbols[a], c) for a, c in orders])
        for i in range(6):
            at = {s: float(points[n][i].detach()) for n, s in symbols.items()}
            expected = float(exact.subs(at).evalf())
            assert abs(float(computed[(function, orders)][i].detach()) - expected) < 1e-9 * max(1.0, abs(expected)), (function, orders)


def test_shared_derivatives_are_computed_once():
    points = {"x": torch.rand(4, dtype=torch.float64, requires_grad=True)}
    calls = []
    original = derivatives._partials

    def counting(output, coordinates):
        calls.append(len(coordinates))
        return original(output, coordinates)

    derivatives._partials = counting
    try:
        derivatives.compute({"u": points["x"] ** 5}, points, [("u", (("x", 3),)), ("u", (("x", 1),)), ("u", (("x", 2),))])
    finally:
        derivatives._partials = original
    assert calls == [1, 1, 1]  # u_x, u_xx, u_xxx: each once, higher orders built on lower ones


def test_first_derivatives_share_one_reverse_pass():
    points = {a: torch.rand(4, dtype=torch.float64, requires_grad=True) for a in "xt"}
    calls = []
    original = derivatives._partials

    def counting(output, coordinates):
        calls.append(len(coordinates))
        return original(output, coordinates)

    derivatives._partials = counting
    try:
        u = points["x"] ** 3 * points["t"]
        out = derivatives.compute({"u": u}, points, [("u", (("x", 1),)), ("u", (("t", 1),)), ("u", (("x", 2),))],
                                  axis_order="xt", engine="autograd")
    finally:
        derivatives._partials = original
    assert sorted(calls) == [1, 2]  # (u_x, u_t) together, then u_xx
    assert torch.allclose(out[("u", (("x", 2),))], 6 * points["x"] * points["t"])
