"""Whether floating point can tell the points of a coordinate range apart.

A range such as ``[-1e308, 1e308]`` has a width that overflows float64, and
one reaching beyond 1.3e154 coordinates whose squares do;
``[0, 1e-320]`` is subnormal (float64 keeps a few digits of it, and one over
its width is infinite); ``[1e6, 1e6 + 1e-9]`` is a few float64 steps wide and
not one float32 step. Training samples points in float64 and casts them to the
run's precision (float32 by default), so such a range trains on a handful of
distinct coordinates, or on one, or on infinities.

:func:`judge_range` says which: an error for what float64 itself cannot do
(no run can work), a warning for what float32 cannot (a float64 run can).
"""

from __future__ import annotations

import math
import sys
from typing import NamedTuple

#: Fewer distinct coordinates than this across a range cannot train a network sensibly.
MIN_STEPS = 1024
_F64_TINY = sys.float_info.min  # the smallest normal float64
#: Coordinates beyond this have squares past float64's largest number: training squares them (distances to the
#: boundary, areas and volumes, a prior's covariance), so no run can compute with them.
_F64_SQUARE_MAX = math.sqrt(sys.float_info.max)
_F32_TINY = 2.0 ** -126  # the smallest normal float32
_F32_MAX = (2.0 - 2.0 ** -23) * 2.0 ** 127
_F32_MANTISSA = 24  # bits, the implicit one included
_F32_HINT = "train with --precision float64, or shift and scale the coordinates (e.g. to [0, 1])"


class Verdict(NamedTuple):
    """What is wrong with a range: ``error`` (else a warning), the reason, and a hint (or None)."""

    error: bool
    reason: str
    hint: str | None


def judge_range(low: float, high: float) -> Verdict | None:
    """What float64 or float32 cannot do with the finite range ``low < high``, else None."""
    width = high - low
    scale = max(abs(low), abs(high))
    if not math.isfinite(width):
        return Verdict(True, f"its width overflows float64 (beyond {sys.float_info.max:.3g})",
                       "shift and scale the coordinates (e.g. to [0, 1])")
    if scale > _F64_SQUARE_MAX:
        return Verdict(True, f"its coordinates reach {scale:.3g}, whose squares overflow float64 (beyond "
                       f"{_F64_SQUARE_MAX:.3g}), as the distances and volumes of its points do",
                       "shift and scale the coordinates (e.g. to [0, 1])")
    if width < _F64_TINY:
        return Verdict(True, f"its width {width:.3g} is below float64's smallest normal number "
                       f"{_F64_TINY:.3g}, where it keeps only a few digits",
                       "scale the coordinates (e.g. to [0, 1])")
    steps = width / math.ulp(scale)
    if steps < MIN_STEPS:
        return Verdict(True, f"{_relative(width, scale)}: float64 tells apart only {_coordinates(steps)} in it",
                       "shift the coordinates so that the range starts near 0 (e.g. [0, 1])")
    if scale > _F32_MAX:
        return Verdict(False, f"its coordinates reach {scale:.3g}, beyond float32's largest number "
                       f"{_F32_MAX:.3g}: a float32 run sees infinities", _F32_HINT)
    if width < _F32_TINY:
        return Verdict(False, f"its width {width:.3g} is below float32's smallest normal number {_F32_TINY:.3g}: "
                       "a float32 run cannot resolve it", _F32_HINT)
    steps32 = width / _f32_ulp(scale)
    if steps32 < MIN_STEPS:
        return Verdict(False, f"{_relative(width, scale)}: float32 tells apart only {_coordinates(steps32)} in it",
                       _F32_HINT)
    return None


def shortest(value: float) -> str:
    """``value`` as ``:g`` writes it, or as ``repr`` does where that is shorter or ``:g`` rounds it (1e6 + 1e-9
    is not 1e+06; the subnormal 1e-320 is not 9.99989e-321)."""
    text = f"{value:g}"
    return text if float(text) == value and len(text) <= len(repr(value)) else repr(value)


def _relative(width: float, scale: float) -> str:
    return f"its width {width:.3g} is {width / scale:.2g} of its coordinates' size {scale:.3g}"


def _coordinates(steps: float) -> str:
    count = max(1, int(steps))
    return f"about {count} coordinate{'' if count == 1 else 's'}"


def _f32_ulp(value: float) -> float:
    """The gap between float32 numbers near ``value`` (a normal float32 magnitude)."""
    _, exponent = math.frexp(value)  # value = m * 2**exponent, 0.5 <= m < 1
    return 2.0 ** (exponent - _F32_MANTISSA)
