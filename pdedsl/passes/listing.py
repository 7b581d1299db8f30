"""``pdedsl emit --stage lowered``: each residual as mathematics in spec syntax, and what it needs."""

from __future__ import annotations

import sympy

from ..ir.printing import spec_text
from .lowered import LoweredProblem


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
