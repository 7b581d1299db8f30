"""Find residuals that read pure second derivatives only through one weighted sum (a Laplacian).

``-laplace(u) = f`` lowers to ``-(u_xx + u_yy) - f``: the residual needs the
sum, never ``u_xx`` or ``u_yy`` alone. A forward derivative engine can then
carry one component ``u_xx + u_yy`` through the network instead of two (the
"forward Laplacian"), which in 3-D saves two of seven components.

The test is exact: a residual R depends on the pure second derivatives
``s_a`` only through ``sum_a w_a s_a`` exactly when its gradient with respect
to the ``s_a`` is everywhere parallel to the constant vector ``w``, that is
when every ratio ``(dR/ds_a) / (dR/ds_first)`` is a number.
"""

from __future__ import annotations

from typing import Optional

import sympy

from .lowered import Residual

Contraction = tuple  # ((axis, weight), ...), the first weight 1


def laplacian_contraction(residual: Residual) -> Optional[Contraction]:
    """The weights of the one sum through which ``residual`` reads pure second derivatives, if any.

    Applies to every function of the residual at once (the forward engine
    carries all fields together); ``None`` when there is nothing to gain
    (fewer than two such derivatives of a function) or the test fails.
    """
    by_function: dict[str, dict[str, sympy.Symbol]] = {}
    for request in residual.requests:
        if len(request.orders) == 1 and request.orders[0][1] == 2:
            by_function.setdefault(request.function, {})[request.orders[0][0]] = request.symbol
    if not by_function or any(len(axes) < 2 for axes in by_function.values()):
        return None
    found = None
    for axes in by_function.values():
        weights = _weights(residual.expr, axes)
        if weights is None or (found is not None and weights != found):
            return None
        found = weights
    return found


def _weights(expr: sympy.Expr, axes: dict[str, sympy.Symbol]) -> Optional[Contraction]:
    names = list(axes)
    reference = sympy.diff(expr, axes[names[0]])
    if reference == 0:
        return None
    weights = [(names[0], 1.0)]
    for name in names[1:]:
        ratio = sympy.simplify(sympy.diff(expr, axes[name]) / reference)
        if not ratio.is_number or not ratio.is_real or ratio == 0:
            return None
        weights.append((name, float(ratio)))
    return tuple(weights)
