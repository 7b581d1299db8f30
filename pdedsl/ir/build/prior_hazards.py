"""Priors whose draws are undefined or unbounded: ``sqrt``, ``log``, ``1/`` or ``tan`` of a Gaussian field.

A Gaussian field takes negative values (with its default mean 0, at half the
points), so ``sqrt(gaussian_field(...))``, ``log(...)`` or ``(...)^0.5`` of it is
undefined there and every draw is refused (by ``data`` and ``train
--instance``); ``1/gaussian_field(...)`` is unbounded near the field's zeros, and
``tan`` of it where it crosses an odd multiple of pi/2.
The checker finds these symbolically: such an operation applied to an affine
function ``c0 + c1*G1 + c2*G2 + ...`` of Gaussian fields with numbers for coefficients (no
positive transform such as ``exp`` between them), whose values are then normal
with a known mean ``m`` and standard deviation ``s``. Anything else (``exp`` of
the field, ``abs``, a threshold, coordinates, a random param) is left alone:
the rule never flags a prior that is fine.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import sympy

from .. import nodes

#: A point of the affine field is negative with probability >= 16% when m <= s: nearly every draw fails.
FAILS = 1.0
#: Below 5 standard deviations (a point negative with probability 2.9e-7, on grids of 66,000 points) some draws fail.
RISKY = 5.0


class Hazard(NamedTuple):
    error: bool
    message: str
    hint: str


def prior_hazards(prior: sympy.Expr, constant: Callable[[str], float | None]) -> list[Hazard]:
    """What is undefined or unbounded in ``prior`` (``constant(name)`` gives a const's value, or None)."""
    hazards = []
    for node in sympy.preorder_traversal(prior):
        hazard = _hazard(node, constant)
        if hazard is not None and hazard not in hazards:
            hazards.append(hazard)
    return hazards


def _hazard(node, constant) -> Hazard | None:
    if isinstance(node, sympy.tan):
        return _tangent_hazard(node.args[0], constant)
    if isinstance(node, sympy.log):
        base, what = node.args[0], "log of"
    elif isinstance(node, sympy.Pow) and node.exp.is_number and not node.exp.is_integer:
        base, what = node.base, "sqrt of" if node.exp == sympy.Rational(1, 2) else f"the power {float(node.exp):g} of"
    elif isinstance(node, sympy.Pow) and node.exp.is_number and node.exp.is_negative:
        base, what = node.base, None
    else:
        return None
    normal = _normal(base, constant)
    if normal is None:
        return None
    mean, std, field = normal
    ratio = mean / std
    spread = f"with mean {mean:g} and standard deviation {std:g}"
    if what is None:
        if abs(ratio) >= RISKY:
            return None
        return Hazard(False, f"the prior divides by {field}, which is unbounded near its zeros: {spread}, "
                      "its draws have huge spikes", "divide by a positive field instead, such as exp(gaussian_field(...))")
    if ratio >= RISKY:
        return None
    if ratio <= FAILS:
        consequence = "nearly every draw is negative somewhere, and such draws are refused"
    else:
        consequence = f"a point is negative with probability {_below(ratio):.2g}, and a draw with one is refused"
    return Hazard(ratio <= FAILS, f"the prior takes {what} {field}, which is undefined where it is negative: "
                  f"{spread}, {consequence}",
                  "make the field positive first, such as exp(gaussian_field(...)), or raise its mean")


def _tangent_hazard(base, constant) -> Hazard | None:
    """``tan`` of a normal field is unbounded where the field crosses an odd multiple of pi/2."""
    normal = _normal(base, constant)
    if normal is None:
        return None
    mean, std, field = normal
    above = math.pi / 2 + math.ceil((mean - math.pi / 2) / math.pi) * math.pi  # the nearest pole at or above it
    poles = (above - math.pi, above)
    if all(abs(pole - mean) >= RISKY * std for pole in poles):
        return None
    return Hazard(False, f"the prior takes tan of {field}, which is unbounded where it crosses an odd multiple of "
                  f"pi/2: with mean {mean:g} and standard deviation {std:g}, its draws have huge spikes",
                  "keep its argument within (-pi/2, pi/2), such as tan(1.5*tanh(gaussian_field(...)))")


def _normal(base, constant) -> tuple[float, float, str] | None:
    """(mean, standard deviation, its spelling) of ``base`` when it is ``c0 + c1*G1 + c2*G2 + ...`` for
    Gaussian fields ``Gi`` (independent draws) with numbers for the ``ci`` and the fields' parameters, else
    None."""
    primitives = base.atoms(nodes.RandomPrimitive)
    fields = [p for p in primitives if isinstance(p, nodes.GaussianField)]
    if not fields or len(primitives) != len(fields):
        return None
    dummies = [sympy.Dummy(f"g{index}") for index in range(len(fields))]
    affine = base.xreplace(dict(zip(fields, dummies)))
    slopes = [affine.diff(g) for g in dummies]
    if any(slope.diff(g) != 0 for slope in slopes for g in dummies):
        return None
    coefficients = _numbers([affine.subs({g: 0 for g in dummies}), *slopes], constant)
    moments = [_numbers(field.args, constant) for field in fields]
    if coefficients is None or any(m is None or m[2] <= 0 for m in moments):
        return None
    c0, slopes = coefficients[0], coefficients[1:]
    mean = c0 + sum(c * m[3] for c, m in zip(slopes, moments))
    std = sum(c * c * m[2] for c, m in zip(slopes, moments)) ** 0.5
    if std == 0:
        return None
    plain = len(fields) == 1 and slopes[0] == 1 and c0 == 0
    return mean, std, "a Gaussian field" if plain else f"{base}"


def _numbers(exprs, constant) -> list[float] | None:
    """``exprs`` as floats, consts substituted; None if one depends on anything else or is not finite."""
    result = []
    for expr in exprs:
        values = {}
        for symbol in expr.free_symbols:
            value = constant(symbol.name) if isinstance(symbol, sympy.Symbol) else None
            if value is None:
                return None
            values[symbol] = value
        try:
            number = complex(sympy.sympify(expr).xreplace(values).evalf())
        except (TypeError, ValueError):
            return None
        if number.imag != 0 or not abs(number.real) < float("inf"):
            return None
        result.append(number.real)
    return result


def _below(ratio: float) -> float:
    """P(Z < -ratio) for a standard normal Z."""
    return 0.5 * math.erfc(ratio / 2 ** 0.5)
