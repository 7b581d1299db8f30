"""Data that lie off the problem: said once, before training, at the statement that names the file.

Readings (``observe``) or reference values outside the domain or the time
interval are compared with what the network extrapolates there; an input
given on a grid that covers only part of the domain is held at its edge
values beyond it. Neither is an error (the user may mean it), but neither
should pass unsaid.
"""

from __future__ import annotations

import numpy as np

from ..errors import PdeError, where
from ..npz import NpzError, read_arrays
from ..runtime import sampling
from .data import load_statement
from .predict import outside_count

#: An input's data may stop short of the domain's edge by this fraction of its extent (or one grid spacing).
COVERAGE_SLACK = 0.02


def data_warnings(problem) -> list[str]:
    """One located warning per observe or reference file with points off the problem, and per input whose
    data do not reach the domain's edges. Files that do not fit raise DataError (located)."""
    messages = []
    extent = "domain or time interval" if problem.time is not None else "domain"
    for verb, statements in (("observe", problem.observations), ("reference", problem.references)):
        for statement in statements:
            points, values = load_statement(problem, statement, verb, finite=verb == "observe")
            outside = outside_count(problem, points)
            if outside:
                messages.append(f"{where(problem.source_name, statement.span)}: warning: '{verb} "
                                f"{statement.name}': {outside} of its {len(values)} points lie outside the "
                                f"{extent}; there the network's extrapolation is compared with them")
    for item in problem.inputs:
        if item.data is not None:
            gap = _uncovered(problem, item)
            if gap:
                messages.append(f"{where(problem.source_name, item.data.span)}: warning: input '{item.name}': "
                                f"its data cover {gap}; beyond them it takes the value of the nearest data")
    return messages


def _uncovered(problem, item) -> str | None:
    """``"x in [a, b] of [lo, hi], ..."`` for the axes on which the input's data stop short of the domain."""
    try:
        box = sampling.target_sampler(problem, sampling._default_domain(problem))
        arrays = read_arrays(item.data.path, set(box.axes))
    except (PdeError, NpzError):
        return None  # no domain to compare with, or a file the interpolant reports on its own
    low, high = (b.tolist() for b in box.bounding_box())
    short = []
    for axis, lo, hi in zip(box.axes, low, high):
        nodes = np.unique(np.asarray(arrays.get(axis, []), dtype=np.float64))
        nodes = nodes[np.isfinite(nodes)]
        if len(nodes) == 0:
            return None
        spacing = (nodes[-1] - nodes[0]) / (len(nodes) - 1) if len(nodes) > 1 else 0.0
        slack = max(COVERAGE_SLACK * (hi - lo), spacing)
        if nodes[0] > lo + slack or nodes[-1] < hi - slack:
            short.append(f"{axis} in [{nodes[0]:g}, {nodes[-1]:g}] of [{lo:g}, {hi:g}]")
    return ", ".join(short) or None
