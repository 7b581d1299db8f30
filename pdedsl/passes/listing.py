"""``pdedsl emit --stage lowered``: each residual (or weak form) in spec syntax, and what it needs."""

from __future__ import annotations

import sympy

from ..ir.printing import latex_name, latex_text, math_text, spec_text
from .lowered import LoweredProblem
from .weak import WeakForm, spec_names, test_function, test_function_letter


def format_lowered(lowered: LoweredProblem) -> str:
    problem = lowered.problem
    lines = [f"# residuals of problem {problem.name}: each expression must vanish where stated"]
    for residual in lowered.residuals:
        where = {"equation": "in", "boundary": "on", "initial": "at the initial time in"}[residual.kind]
        target = str(residual.target) if residual.target is not None else "the whole domain"
        lines.append(f"{residual.kind} {residual.name} {where} {target}:")
        lines.append(f"    source:   {residual.source}")
        lines.append(f"    residual: {spec_text(_readable(residual.expr, residual.requests))}")
        needs = [r.display for r in residual.requests] + (["outward normal"] if residual.needs_normal else [])
        lines.append(f"    needs:    {', '.join(needs) or 'nothing'}")
    lines.append("derivatives (each computed once per set of points): "
                 + ", ".join(r.display for r in lowered.requests))
    return "\n".join(lines) + "\n"


def _readable(expr: sympy.Expr, requests) -> sympy.Expr:
    """Value placeholders shown as the bare field name."""
    return expr.xreplace({r.symbol: sympy.Symbol(r.function) for r in requests if not r.orders})


def format_weak(problem, forms: tuple[WeakForm, ...]) -> str:
    """``emit --stage lowered --form weak``: each equation's weak form in spec syntax."""
    phi, space = test_function(problem), {s.name: s for s in problem.space_symbols}
    lines = [f"# weak forms of problem {problem.name}: for every test function {phi.func.__name__} that vanishes "
             "outside a small ball inside the target, the integrand's mean over the ball is zero"]
    for form in forms:
        target = str(form.target) if form.target is not None else "the whole domain"
        lines.append(f"equation {form.name} in {target}:")
        lines += _trained_strong(problem, form)
        lines.append(f"    source:      {form.source}")
        lines.append(f"    integrand:   {spec_text(form.integrand(phi, space))}")
        lines.append(f"    by parts:    {', '.join(form.integrated) or 'nothing (no divergence-form term)'}")
        if form.kept_strong:
            lines.append(f"    kept strong: {', '.join(form.kept_strong)} (not in divergence form: second "
                         "derivatives of the network remain)")
    return "\n".join(lines) + "\n"


def _trained_strong(problem, form: WeakForm) -> list[str]:
    """A line saying that training keeps this equation strong, where its region has no volume (``O where
    x == 0.5``: no test ball fits; see ``sampling.pinned_target``), else nothing."""
    from ..runtime.sampling import pinned_target

    if not pinned_target(problem, form.target):
        return []
    return [f"    trained strong: region {form.target.name} has no volume (a line, a point or a curve), so no test "
            "ball fits in it; training keeps the residual as written there"]


def show_weak(problem, forms: tuple[WeakForm, ...], latex: bool = False) -> str:
    """``show --form weak``: each weak form as mathematics, the integral over a test ball B_j."""
    phi, space = test_function(problem), {s.name: s for s in problem.space_symbols}
    out = [f"problem {problem.name}: weak forms, for every test function {phi.func.__name__} supported in a "
           "ball B_j inside the target (mean over B_j of each integrand = 0)"]
    for form in forms:
        target = str(form.target) if form.target is not None else "the whole domain"
        out += ["", f"equation {form.name} in {target}:"] + _trained_strong(problem, form)
        integrand = form.integrand(phi, space)
        if latex:
            text = latex_text(integrand).replace(latex_name(phi.func.__name__), test_function_letter(problem)[1] + "_j")
            out.append("    \\int_{B_j} \\left(" + text + "\\right) dx = 0")
        else:
            out.extend("    " + line for line in math_text(integrand, sympy.Integer(0)).split("\n"))
        if form.integrated:
            out.append("    integrated by parts: " + ", ".join(form.integrated))
        if form.kept_strong:
            out.append("    kept strong (not in divergence form): " + ", ".join(form.kept_strong))
    return "\n".join(out) + "\n"


MIXED_HEADER = ("the network has an output s[a] for each flux component a; the balance's mean over every test ball "
                "B_j vanishes, with s in place of the flux, and s[a] = flux_a at the balls' quadrature points "
                "(the mismatch weighted by the flux's stiffness k_a as (mean(k_a) / k_a)^p)")


def flux_letter(problem) -> str:
    """``s``, or where the spec has a name ``s`` (an input, say) ``σ``, then ``ς``: the flux output's letter,
    which must not read as one of the spec's names (``s[x] = d(u, x)*a*s``)."""
    names = spec_names(problem)
    return next(letter for letter in ("s", "σ", "ς", "flux") if letter not in names)


def mixed_header(letter: str) -> str:
    return MIXED_HEADER.replace("s[a]", f"{letter}[a]").replace("with s in", f"with {letter} in")


def flux_symbol(axis: str, letter: str = "s") -> sympy.Symbol:
    """``s[axis]``: the mixed form's flux output as shown; brackets keep it apart from every spec name."""
    return sympy.Symbol(f"{letter}[{axis}]")


def mixed_balance(form: WeakForm, phi: sympy.Expr, space: dict[str, sympy.Symbol], letter: str = "s") -> sympy.Expr:
    """The mixed form's balance: the weak integrand with each nonzero flux component replaced by ``s[a]``."""
    return form.integrand(phi, space, {a: flux_symbol(a, letter) for a, f in form.flux if f != 0})


def _no_flux(form: WeakForm) -> str:
    why = "its divergence-form terms move twice onto the test function, leaving no first-order flux" if form.hessian \
        else "nothing in divergence form"
    return f"    no flux: {why}, so the mixed form is the weak form"


def format_mixed(problem, forms: tuple[WeakForm, ...]) -> str:
    """``emit --stage lowered --form mixed``: each equation's balance and flux relations in spec syntax."""
    phi, space = test_function(problem), {s.name: s for s in problem.space_symbols}
    letter = flux_letter(problem)
    lines = [f"# mixed forms of problem {problem.name}: {mixed_header(letter)}"]
    for form in forms:
        target = str(form.target) if form.target is not None else "the whole domain"
        lines.append(f"equation {form.name} in {target}:")
        lines += _trained_strong(problem, form)
        lines.append(f"    source:      {form.source}")
        lines.append(f"    balance:     {spec_text(mixed_balance(form, phi, space, letter))}")
        stiffness = dict(form.stiffness)
        for axis, flux in form.flux:
            if flux != 0:
                lines.append(f"    {letter}[{axis}] = {spec_text(flux)}    (stiffness {spec_text(stiffness[axis])})")
        if not any(f != 0 for _, f in form.flux):
            lines.append(_no_flux(form))
    return "\n".join(lines) + "\n"


def show_mixed(problem, forms: tuple[WeakForm, ...], latex: bool = False) -> str:
    """``show --form mixed``: each balance as mathematics, then the relations that tie s to the fields."""
    phi, space = test_function(problem), {s.name: s for s in problem.space_symbols}
    letter = flux_letter(problem)
    out = [f"problem {problem.name}: mixed forms: {mixed_header(letter)}"]
    for form in forms:
        target = str(form.target) if form.target is not None else "the whole domain"
        out += ["", f"equation {form.name} in {target}:"] + _trained_strong(problem, form)
        balance = mixed_balance(form, phi, space, letter)
        relations = [(flux_symbol(a, letter), f) for a, f in form.flux if f != 0]
        if latex:
            text = latex_text(balance).replace(latex_name(phi.func.__name__), test_function_letter(problem)[1] + "_j")
            out.append("    \\int_{B_j} \\left(" + text + "\\right) dx = 0")
            out += ["    " + latex_text(lhs, rhs) for lhs, rhs in relations]
        else:
            out.extend("    " + line for line in math_text(balance, sympy.Integer(0)).split("\n"))
            if relations:
                out.append("    where")
            for lhs, rhs in relations:
                out.extend("    " + line for line in math_text(lhs, rhs).split("\n"))
        if not relations:
            out.append(_no_flux(form))
    return "\n".join(out) + "\n"
