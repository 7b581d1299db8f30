"""Derivatives of data inputs that their interpolation makes zero: a warning at ``check`` and ``train``.

An input given as data (``input k from "k.npz"``) is evaluated between its
points by the interpolation its layout implies (``layout.interpolation_of``):
multilinear on a grid (through distinct 1-D points; scattered 2-D and 3-D
points on the fine grid they are fitted on), so every second derivative along
one axis (``d(k, x, 2)``, and so ``laplace(k)``) is zero; or, for scattered
points that do not span the space (all on one line in 2-D), the nearest
point's value, so every derivative is zero. A residual
that needs such a derivative trains against a zero in its place, silently;
this pass says so at the equation that asks for it. A random input without a
``threshold`` is drawn on a grid and interpolated multilinearly too (one
instance, or an operator's members), so the same holds for its second
derivatives. Under the weak or mixed
form an equation reads what its weak form reads (``-div(k*grad(u))`` then
needs ``k`` alone, ``laplace(k)`` on the right only ``d(k, x)``; an equation on a region
without volume, ``O where x == 0.5``, stays strong there).
"""

from __future__ import annotations

import sympy

from ..errors import Diagnostic
from ..layout import interpolation_of
from ..npz import NpzError, read_field


def zero_data_derivatives(problem, lowered, form: str | None = None) -> list[Diagnostic]:
    """A warning per data input and relation needing a derivative of it that its interpolation makes zero,
    for training in ``form`` ('strong', 'weak' or 'mixed'; None, as for ``check``: read strong). A two-phase
    (``threshold``) input is judged only for a run known to be strong: its derivatives are zero by design, and
    the weak and mixed forms need none of them."""
    warnings = []
    readers = _readers(problem, lowered, form or "strong")
    for item in problem.inputs:
        if not (item.kind == "data" and item.data is not None or _smooth_prior(item)
                or form == "strong" and _two_phase(item)):
            continue
        kind = _interpolation(item, item.axes) if any(
            r.function == item.name and r.orders for _, requests in readers for r in requests) else None
        if kind is None:
            continue
        seen = set()
        for span, requests in readers:
            zero = sorted({r.display for r in requests
                           if r.function == item.name and r.orders and _vanishes(kind, r.orders)})
            if not zero or span in seen:
                continue
            seen.add(span)
            if _two_phase(item):
                why = "it is constant on each phase (a draw's value at the nearest grid node), so its derivatives are"
                hint = (f"the strong form loses the flux across the phases' interface: train --form mixed, which "
                        f"reads '{item.name}' alone")
            elif item.kind == "prior":
                why = ("each draw of it is taken on a grid and interpolated linearly between the nodes, so its second "
                       "derivatives along an axis are")
                hint = ("write the equation so that it needs first derivatives of it at most, or train --form weak "
                        "where that moves them onto the test function")
            elif kind == "linear":
                why = ("it is interpolated linearly between grid nodes (its own, or those of the fine grid its scattered "
                       "points are fitted on), so its second derivatives along an axis are")
                hint = f"give '{item.name}' by a formula (input {item.name} = ...) where its second derivatives matter"
            else:
                why = ("its scattered points lie on one line or plane, so it takes the nearest one's value, and its "
                       "derivatives are")
                hint = (f"give '{item.name}' on points that span the domain, on a grid (1-D axis arrays and values of "
                        f"shape (len(x), len(y), ...)), or by a formula (input {item.name} = ...)")
            listed = zero[0] if len(zero) == 1 else f"{', '.join(zero[:-1])} and {zero[-1]}"
            what = "two-phase input" if _two_phase(item) else "random input" if item.kind == "prior" else "data input"
            warnings.append(Diagnostic(
                f"{listed} of {what} '{item.name}' {'is' if len(zero) == 1 else 'are'} zero everywhere: "
                f"{why} zero", span, problem.source, hint=hint, severity="warning"))
    if form == "strong":
        warnings += _derived_two_phase(problem)
    return warnings


def _derived_two_phase(problem) -> list[Diagnostic]:
    """The two-phase warning for ``input a ~ threshold(g, ...)`` over another input ``g``: a formula input, so
    the residuals hold a step of ``g`` in its place, whose derivatives vanish there without a request of
    ``a`` to show it. Each relation is written out once more with ``a`` kept whole, to see what it asks of it."""
    from ..ir import nodes
    from .expand import OperatorExpander

    warnings = []
    for item in problem.inputs:
        if not (item.kind == "formula" and item.prior is not None and item.prior.atoms(nodes.Threshold)):
            continue
        expander = OperatorExpander(problem)
        expander.formulas.pop(item.name)
        for relation in problem.equations + problem.boundary_conditions + problem.initial_conditions:
            sides = [expander.expand(relation.lhs), expander.expand(relation.rhs)]
            parts = [c for side in sides for c in (side if isinstance(side, tuple) else (side,))]
            asked = {d for part in parts for d in part.atoms(sympy.Derivative) if d.expr == item.function}
            if not asked:
                continue
            shown = sorted(_display(item.name, d) for d in asked)
            listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
            warnings.append(Diagnostic(
                f"{listed} of two-phase input '{item.name}' {'is' if len(shown) == 1 else 'are'} zero everywhere: "
                f"it is a step of {_reads(item)} (constant on each phase), so its derivatives are zero",
                relation.span, problem.source,
                hint=f"the strong form loses the flux across the phases' interface: train --form mixed, which "
                     f"reads '{item.name}' alone", severity="warning"))
    return list({(w.span, w.message): w for w in warnings}.values())  # (a vector relation's rows: one warning)


def _display(name: str, derivative) -> str:
    """``d(a, x)``, ``d(a, x, 2)``, ``d(a, x, y)`` as the language writes them."""
    parts = [f"{v}" if c == 1 else f"{v}, {c}" for v, c in derivative.variable_count]
    return f"d({name}, {', '.join(parts)})"


def _reads(item) -> str:
    """The inputs a derived input is a function of, quoted: ``'g'``."""
    from sympy.core.function import AppliedUndef

    return " and ".join(sorted(f"'{f.func.__name__}'" for f in item.formula.atoms(AppliedUndef)))


def _readers(problem, lowered, form: str) -> list:
    """``(span, requests)`` per relation as the run reads it: equations by their weak forms unless strong, or
    unless on a region with no volume (``O where x == 0.5``), where training keeps them strong (no ball fits)."""
    if form == "strong":
        return [(r.span, r.requests) for r in lowered.residuals]
    from ..runtime.sampling import pinned_target
    from .weak import apply_weak_lowering

    readers = [(r.span, r.requests) for r in lowered.residuals
               if r.kind != "equation" or pinned_target(problem, r.target)]
    spans = {e.name: e.span for e in problem.equations}
    weak = lowered.weak or apply_weak_lowering(lowered).weak
    readers += [(spans.get(w.name.split("[")[0]), w.requests) for w in weak
                if not pinned_target(problem, w.target)]
    return readers


def _smooth_prior(item) -> bool:
    """A random input evaluated multilinearly between its grid nodes (a ``threshold`` one is piecewise constant,
    by design: two phases stay two phases)."""
    from ..ir import nodes

    return item.kind == "prior" and item.prior is not None and not item.prior.atoms(nodes.Threshold)


def _two_phase(item) -> bool:
    """A random input holding a ``threshold``: evaluated by nearest grid node, constant on each phase."""
    from ..ir import nodes

    return item.kind == "prior" and item.prior is not None and bool(item.prior.atoms(nodes.Threshold))


def _interpolation(item, axes) -> str | None:
    if item.kind == "prior":
        return "nearest" if _two_phase(item) else "linear"
    try:
        values, coordinates = read_field(item.data.path, item.name, tuple(axes))
    except (NpzError, OSError, ValueError):  # a file that does not read is reported elsewhere
        return None
    return interpolation_of(values, coordinates)


def _vanishes(kind: str, orders) -> bool:
    return kind == "nearest" or any(count >= 2 for _, count in orders)
