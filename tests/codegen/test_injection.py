"""Names and strings from a spec cannot collide with or inject into generated code."""

import torch

import pdedsl
from pdedsl.codegen import load_module
from pdedsl.runtime import residuals

HOSTILE = """problem torch
domain os = box(self: [0, 1], lambda_: [0, 1])
field torch_, __import__, math, RESIDUALS
const self_ = 2
param import_ = 3
equation __init__ in os:
    -laplace(torch_) + __import__ + math + RESIDUALS = self_ * import_ * sin(self)
boundary exec on boundary(os):
    torch_ = 0
    __import__ = 0
    math = 0
    RESIDUALS = 0
"""

KEYWORDS = """problem p
domain O = interval(x: [0, 1])
field lambda, def, class, None, True, print, exec, f_u, coord_x
equation in O:
    lambda + def + class + None + True + print + exec + f_u + coord_x = x
"""


def test_python_names_in_a_spec_are_mangled():
    source = pdedsl.compile(HOSTILE)
    module = load_module(source)
    assert module.FIELDS == ("torch_", "__import__", "math", "RESIDUALS")
    assert isinstance(module.RESIDUALS, tuple) and len(module.RESIDUALS) == 5
    assert module.torch is torch  # the module's own torch is untouched
    assert "def residual___init__(" in source
    entry = module.RESIDUALS[0]
    n = 7
    points = {"self": torch.rand(n, dtype=torch.float64), "lambda_": torch.rand(n, dtype=torch.float64)}

    def functions(c):
        zero = 0 * c["self"]
        return {"torch_": zero + 1, "__import__": zero + 2, "math": zero + 3, "RESIDUALS": zero + 4}

    value = residuals.evaluate(module, entry, points, functions, params={"import_": torch.tensor(3.0)})
    expected = 2 + 3 + 4 - 2 * 3 * torch.sin(points["self"])
    assert torch.allclose(value, expected)


def test_python_keywords_as_field_names():
    module = load_module(pdedsl.compile(KEYWORDS))
    entry = module.RESIDUALS[0]
    names = ["lambda", "def", "class", "None", "True", "print", "exec", "f_u", "coord_x"]
    x = torch.linspace(0, 1, 5, dtype=torch.float64)
    value = residuals.evaluate(module, entry, {"x": x},
                               lambda c: {name: c["x"] * (i + 1) for i, name in enumerate(names)})
    assert torch.allclose(value, x * sum(range(1, 10)) - x)
    assert len(set(entry["arguments"])) == 10


def test_spec_file_name_cannot_break_the_docstring(tmp_path):
    path = tmp_path / 'evil""" + __import__("os").system("echo pwned") + """.pde'
    path.write_text(KEYWORDS, encoding="utf-8")
    source = pdedsl.compile(path)
    module = load_module(source)  # would raise SyntaxError (or worse) if the name escaped
    assert module.SPEC == str(path)
    assert '"""' not in module.__doc__ and "evil" in module.__doc__


def test_greek_and_accented_names_read_as_themselves_and_stay_distinct():
    source = pdedsl.compile("problem p\ndomain Ω = interval(x: [0, 1])\nfield nu, ν, é\nconst ϑ = 2\n"
                            "equation in Ω:\n    ν = nu + 2*é + ϑ*x\n    nu = 1\n    é = x\n")
    assert "c_theta = 2.0" in source
    module = load_module(source)
    entry = module.RESIDUALS[0]
    assert entry["arguments"] == {"coord_x": ("coordinate", "x"), "f_nu": ("derivative", ("nu", ())),
                                  "f_nu_2": ("derivative", ("ν", ())), "f_e": ("derivative", ("é", ()))}
    x = torch.linspace(0, 1, 5, dtype=torch.float64)
    values = {"nu": 1 + 0 * x, "ν": 10 + 0 * x, "é": x}
    value = residuals.evaluate(module, entry, {"x": x}, lambda c: values)
    assert torch.allclose(value, 10 - 1 - 2 * x - 2 * x)


def test_shared_sub_expressions_are_tmp_not_t_which_reads_as_a_time():
    source = pdedsl.compile("problem p\ndomain D = interval(x: [0, 1])\ntime t: [0, 1]\nfield u\n"
                            "equation in D:\n    dt(u) = sin(x*t)*d(u, x, 2) + sin(x*t)^2*u\n")
    assert "    tmp0 = torch.sin(coord_t*coord_x)\n" in source and "    t0 =" not in source
    entry = load_module(source).RESIDUALS[0]
    x, t = torch.rand(5, dtype=torch.float64), torch.rand(5, dtype=torch.float64)
    u, uxx, ut = torch.rand(3, 5, dtype=torch.float64)
    value = entry["function"](coord_x=x, coord_t=t, f_u=u, f_u__x2=uxx, f_u__t1=ut)
    assert torch.allclose(value, ut - torch.sin(x * t) * uxx - torch.sin(x * t) ** 2 * u)


def test_vector_components_get_readable_names_that_never_collide():
    """A vector relation's components (flux[0], flux[1]) are flux_0 and flux_1 (were flux_1x5b0x5d), and an
    equation the user named flux_0 keeps a name of its own."""
    text = ("problem v\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u, qx, qy\nequation flux in O:\n"
            "    (qx, qy) = -grad(u)\nequation flux_0 in O:\n    div((qx, qy)) = 1\n")
    source = pdedsl.compile(text)
    module = load_module(source)
    names = [entry["function"].__name__ for entry in module.RESIDUALS]
    assert names[:2] == ["residual_flux_0", "residual_flux_1"] and len(set(names)) == len(names)
    assert "x5b" not in source


def test_a_greek_name_and_its_spelt_out_twin_stay_two_fields_through_training(tmp_path):
    """'field α, alpha': both reduce to 'alpha', and the namer's suffix keeps them apart in the generated code
    (f_alpha, f_alpha_2); a run of a few steps solves for two fields, each fitted to its own equation."""
    text = ("problem twins\ndomain O = interval(x: [0, 1])\nfield α, alpha\nequation in O:\n    α = 1\n"
            "    alpha = -1\n")
    source = pdedsl.compile(text)
    entries = load_module(source).RESIDUALS
    assert [e["arguments"] for e in entries] == [{"f_alpha_2": ("derivative", ("α", ()))},
                                                 {"f_alpha": ("derivative", ("alpha", ()))}]
    solver = pdedsl.load(text).solver(backend="pinn", width=8, depth=1)
    solver.fit(steps=3, lbfgs_steps=20, optimizer="lbfgs", interior_points=32, out=str(tmp_path / "run"),
               progress=False)
    values = solver.predict({"x": torch.linspace(0, 1, 5).numpy()})
    assert set(values) >= {"α", "alpha"}
    assert (values["α"] > 0.5).all() and (values["alpha"] < -0.5).all()
