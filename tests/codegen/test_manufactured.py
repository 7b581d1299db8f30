"""Manufactured solutions: the generated residuals vanish at a closed-form solution.

Each case is a spec whose source terms SymPy derives here from a chosen exact solution, so that the
solution satisfies every relation. Every value and derivative a generated function asks for is computed
by SymPy too (not by pdedsl's derivative engines), on points pdedsl's samplers draw for the function's
target (with their outward normals). The strong residuals must vanish to rounding, and each weak form
integrated back by parts (volume - div(flux), the divergence by the chain rule through the generated
function) must equal the strong residual, zero here. A generator of such specs
found the constant-folding bug of ``test_numbers.py``; these cases keep the constructs it exercised.
"""

import numpy as np
import pytest
import sympy
import torch

import pdedsl
from pdedsl.codegen import load_module
from pdedsl.ir.problem import TargetRef
from pdedsl.runtime import sampling

x, y, z, t = (sympy.Symbol(name, real=True) for name in "xyzt")


def text(expr) -> str:
    """A SymPy expression in the language's syntax."""
    return sympy.sstr(expr, order="none").replace("**", "^").replace("atan(", "arctan(")


def grad(u, axes):
    return [sympy.diff(u, a) for a in axes]


def div(vector, axes):
    return sum(sympy.diff(c, a) for c, a in zip(vector, axes))


def lap(u, axes):
    return sum(sympy.diff(u, a, 2) for a in axes)


def nonlinear_diffusion():
    u = sympy.sin(x + 1) * sympy.cosh(y / 2) + x * y / 3
    g = 2 + sympy.sin(x) + y**2 / 4
    source = -div([(1 + u**2) * c for c in grad(u, (x, y))], (x, y)) + 1.5 * div([g * c for c in grad(u, (x, y))],
                                                                                 (x, y)) + u**3
    spec = f"""problem nonlinear
domain O = box(x: [0, 1], y: [-1, 1])
field u
param k = 1.5
input g = 2 + sin(x) + y^2/4
region right = boundary(O) where x == 1
region rest = boundary(O) where x != 1
equation in O:
    -div((1 + u^2)*grad(u)) + k*div(g*grad(u)) + u^3 = {text(source)}
boundary on right:
    dn(u) + 2*u = {text(sympy.diff(u, x) + 2 * u)}
boundary on rest: u = {text(u)}
"""
    return spec, {"u": u}


def wave_with_time_input():
    u = sympy.sin(2 * x) * sympy.cos(t) + x**4 / 24 + t * x
    source = sympy.diff(u, t, 2) - sympy.diff((2 + t * x) * sympy.diff(u, x), x) + sympy.diff(u, x, 4) / 10
    spec = f"""problem wave
domain O = interval(x: [-1, 1])
time t: [0, 1]
field u
input c = 2 + t*x
equation in O:
    d(u, t, 2) - d(c*d(u, x), x) + d(u, x, 4)/10 = {text(source)}
boundary on boundary(O):
    u = {text(u)}
    d(u, x, 2) = {text(sympy.diff(u, x, 2))}
initial:
    u = {text(u.subs(t, 0))}
    dt(u) = {text(sympy.diff(u, t).subs(t, 0))}
"""
    return spec, {"u": u}


def stokes_on_a_polygon():
    psi = sympy.sin(x) * sympy.sin(y)
    ux, uy, p = sympy.diff(psi, y), -sympy.diff(psi, x), x * y + sympy.cos(x)
    momentum = [-lap(a, (x, y)) / 10 + ux * sympy.diff(a, x) + uy * sympy.diff(a, y) + sympy.diff(p, b)
                for a, b in ((ux, x), (uy, y))]
    spec = f"""problem stokes
domain O = polygon((0, 0), (2, 0), (2, 1), (1, 2), (0, 1))
field ux, uy, p
const nu = 0.1
let U = (ux, uy)
equation momentum in O:
    -nu*laplace(U) + (dot(U, grad(ux)), dot(U, grad(uy))) + grad(p) = ({text(momentum[0])}, {text(momentum[1])})
equation mass in O:
    div(U) = 0
boundary on boundary(O):
    U = ({text(ux)}, {text(uy)})
"""
    return spec, {"ux": ux, "uy": uy, "p": p}


def disk_with_a_normal_derivative_of_an_expression():
    u = sympy.exp(x / 2) * sympy.cos(y) + 2
    dn_u2 = (x * sympy.diff(u**2, x) + y * sympy.diff(u**2, y)) / 2  # radius 2, centre 0: n = (x, y)/2
    spec = f"""problem disk
domain D = disk(center: (0, 0), radius: 2)
field u
equation in D:
    -laplace(u) + dot((x, -y), grad(u)) = {text(-lap(u, (x, y)) + x * sympy.diff(u, x) - y * sympy.diff(u, y))}
boundary on boundary(D):
    dn(u^2) - u = {text(dn_u2 - u)}
"""
    return spec, {"u": u}


def csg_in_3d_with_constant_parts():
    u = sympy.sin(x) * sympy.cos(y / 2) * (1 + z**2)
    c = 1 + sympy.exp(-1) / 2
    source = -div([c * a for a in grad(u, (x, y, z))], (x, y, z)) + sympy.diff(u, x, y, z) + u / (4 * c)
    spec = f"""problem csg
domain O = box(x: [-1, 1], y: [-1, 1], z: [-1, 1]) - ball(center: (0, 0, 0), radius: 0.5)
field u
equation in O:
    -div((1 + exp(-1)/2)*grad(u)) + d(u, x, y, z) + u/(4*(1 + exp(-1)/2)) = {text(source)}
boundary on boundary(O):
    u = {text(u)}
"""
    return spec, {"u": u}


def biharmonic_with_a_random_coefficient():
    u = sympy.sin(x) * sympy.exp(y / 3)
    a = 3 + sympy.cos(x + y)  # the value fed for the random input
    source = lap(lap(u, (x, y)), (x, y)) - sympy.diff(a * sympy.diff(u, x), x) - 2 * (lap(u, (x, y)) - u)
    spec = f"""problem plate
domain O = box(x: [0, 1], y: [0, 1])
field u
input a ~ exp(gaussian_field(length: 0.3))
equation in O:
    laplace(laplace(u)) - d(a*d(u, x), x) - 2*(laplace(u) - u) = {text(source)}
boundary on boundary(O):
    u = {text(u)}
    d(u, x, 2) + d(u, y, 2) = {text(lap(u, (x, y)))}
"""
    return spec, {"u": u, "a": a}


CASES = [nonlinear_diffusion, wave_with_time_input, stokes_on_a_polygon,
         disk_with_a_normal_derivative_of_an_expression, csg_in_3d_with_constant_parts,
         biharmonic_with_a_random_coefficient]


class Exact:
    """Values and derivatives of the closed forms, by SymPy, as float64 tensors."""

    def __init__(self, functions, axes):
        self.functions, self.symbols = functions, [sympy.Symbol(a, real=True) for a in axes]
        self.axes = list(axes)

    def __call__(self, name, orders, columns):
        spec = [sympy.Symbol(a, real=True) for a, count in orders for _ in range(count)]
        expr = sympy.diff(self.functions[name], *spec) if spec else self.functions[name]
        value = sympy.lambdify(self.symbols, expr, "numpy")(*[columns[a].numpy() for a in self.axes])
        return torch.as_tensor(np.broadcast_to(np.asarray(value, dtype=np.float64), columns[self.axes[0]].shape).copy())


def _points(problem, kind, target, generator):
    target = TargetRef(*target) if target is not None else None
    if kind == "initial":
        return sampling.sample_initial(problem, target, 40, generator)
    if problem.time is not None:
        return sampling.sample_space_time(problem, target, 40, generator)
    return sampling.sample_target(problem, target, 40, generator)


def _arguments(entry, module, exact, columns, normals):
    out = {}
    for identifier, (role, key) in entry["arguments"].items():
        if role == "derivative":
            out[identifier] = exact(key[0], key[1], columns)
        elif role == "coordinate":
            out[identifier] = columns[key].clone()
        elif role == "normal":
            out[identifier] = normals[key]
        else:
            out[identifier] = torch.tensor(float(module.PARAMS[key]), dtype=torch.float64)
    return out


def _scale(arguments) -> float:
    return 1.0 + max(float(v.detach().abs().max()) for v in arguments.values() if v.dim())


@pytest.fixture(params=CASES, ids=[case.__name__ for case in CASES])
def case(request):
    spec, functions = request.param()
    problem = pdedsl.load(spec)
    module = load_module(pdedsl.compile(spec))
    return problem, module, Exact(functions, [c.name for c in problem.coordinates])


def test_every_strong_residual_vanishes_at_the_exact_solution(case):
    problem, module, exact = case
    generator = torch.Generator().manual_seed(0)
    for entry in module.RESIDUALS:
        batch = _points(problem, entry["kind"], entry["target"], generator)
        normals = None if batch.normals is None else {a: batch.normals[:, i] for i, a in enumerate(batch.axes)}
        arguments = _arguments(entry, module, exact, batch.columns(), normals)
        residual = entry["function"](**arguments)
        assert float(torch.as_tensor(residual).abs().max()) < 1e-9 * _scale(arguments), entry["name"]


def _moved(role, key, axes, exact, columns):
    """d/d(axes) of one argument: the derivative ``len(axes)`` orders up, by SymPy; of a coordinate, 1 along its
    own axis once and 0 after."""
    if role == "coordinate":
        return float(len(axes) == 1 and axes[0] == key)
    counts = dict(key[1])
    for axis in axes:
        counts[axis] = counts.get(axis, 0) + 1
    return exact(key[0], tuple(counts.items()), columns)


def _second_total_derivative(value, varying, entry, exact, columns, a, b):
    """d2(value)/da db for a value of the arguments, by the chain rule: first partials (autograd) against the
    arguments' second derivatives, plus second partials against their first derivatives."""
    names = list(varying)
    firsts = torch.autograd.grad(value.sum(), list(varying.values()), create_graph=True, allow_unused=True)
    total = torch.zeros_like(value)
    for name, first in zip(names, firsts):
        if first is None:
            continue
        total = total + first * _moved(*entry["arguments"][name], (a, b), exact, columns)
        along_a = _moved(*entry["arguments"][name], (a,), exact, columns)
        if not first.requires_grad:
            continue
        seconds = torch.autograd.grad((first * along_a).sum(), list(varying.values()), retain_graph=True,
                                      allow_unused=True)
        for other, second in zip(names, seconds):
            if second is not None:
                total = total + second * _moved(*entry["arguments"][other], (b,), exact, columns)
    return total.detach()


def test_every_weak_form_integrates_back_to_the_strong_residual(case):
    """volume - sum_a d(flux_a)/da + sum_(a,b) d2(hessian_ab)/da db vanishes: d/da of each argument (a derivative
    of a field or input) is the next derivative, by SymPy; of a coordinate argument, 1 along its own axis."""
    problem, module, exact = case
    assert len(module.WEAK) == sum(1 for e in module.RESIDUALS if e["kind"] == "equation")
    generator = torch.Generator().manual_seed(1)
    for entry in module.WEAK:
        columns = _points(problem, "equation", entry["target"], generator).columns()
        arguments = _arguments(entry, module, exact, columns, None)
        varying = {k: v.requires_grad_(True) for k, v in arguments.items() if entry["arguments"][k][0] != "param"}
        volume, flux, _, *twice = entry["function"](**arguments)
        strong = torch.as_tensor(volume).detach().clone()
        for (a, b), value in zip(entry.get("hessian", ()), twice[0] if twice else ()):
            if torch.is_tensor(value) and value.requires_grad:
                strong = strong + _second_total_derivative(value, varying, entry, exact, columns, a, b)
        for axis, component in zip(entry["axes"], flux):
            if not torch.is_tensor(component) or not component.requires_grad:
                continue  # a flux free of the arguments has no divergence
            partials = torch.autograd.grad(component.sum(), list(varying.values()), allow_unused=True,
                                           retain_graph=True)
            for identifier, partial in zip(varying, partials):
                role, key = entry["arguments"][identifier]
                if partial is None:
                    continue
                if role == "coordinate":
                    strong = strong - (partial if key == axis else 0)
                    continue
                counts = dict(key[1])
                counts[axis] = counts.get(axis, 0) + 1
                strong = strong - partial * exact(key[0], tuple(counts.items()), columns)
        assert float(strong.abs().max()) < 1e-9 * _scale(arguments), entry["name"]
