"""Data that lie off the problem: said once, before training, at the statement that names the file.

Readings (``observe``) or reference values outside the domain or the time
interval are compared with what the network extrapolates there; an input
given on a grid that covers only part of the domain is held at its edge
values beyond it. Neither is an error (the user may mean it), but neither
should pass unsaid. Readings that all lie outside observe nothing of the
problem: that is an error.
"""

from __future__ import annotations

import numpy as np

from ..errors import PdeError
from ..layout import layout_of
from ..npz import NpzError, read_arrays
from ..runtime import sampling
from .data import DataError, load_statement
from .predict import equation_domains, outside_count

#: Points this far off an edge (relative to the shape's scale) count as on it: files often hold float32.
DATA_SLACK = 1e-6

#: An input's data may stop short of the domain's edge by this fraction of its extent (or one grid spacing).
COVERAGE_SLACK = 0.02


def data_warnings(problem) -> list[str]:
    """One located warning per observe or reference file with points off the problem, per observed input (a
    single-problem run does not fit it), and per input whose data do not reach the domain's edges. Files that do
    not fit, and observe files whose points all lie off the problem, raise DataError (located)."""
    messages = []
    extent = "domain or time interval" if problem.time is not None else "domain"
    for verb, statements in (("observe", problem.observations), ("reference", problem.references)):
        for statement in statements:
            points, values = load_statement(problem, statement, verb, finite=verb == "observe")
            outside = outside_count(problem, points, slack=DATA_SLACK)
            if verb == "observe" and outside and outside == len(values):
                raise DataError(problem.locate(statement.span, f"'observe {statement.name}': all {outside} of its "
                                               f"points lie outside the {extent}, so none observes the problem (a "
                                               "file of another problem, or coordinates in other units?)"))
            if outside:
                messages.append(problem.locate(statement.span, f"warning: '{verb} {statement.name}': {outside} "
                                               f"of its {len(values)} points lie outside the {extent}; there the "
                                               "network's extrapolation is compared with them"))
    fields = {f.name for f in problem.fields}
    for statement in problem.observations:
        if statement.name not in fields:  # (it raised a KeyError at the first step)
            messages.append(problem.locate(statement.span, f"warning: 'observe {statement.name}': '{statement.name}' "
                                           "is an input, which this run holds known (drawn, given or a formula): "
                                           "its readings are not fitted; they inform 'pdedsl infer --model' with a "
                                           "dgno model"))
    for item in problem.inputs:
        if item.data is not None:
            gap = _uncovered(problem, item)
            if gap:
                messages.append(problem.locate(item.data.span, f"warning: input '{item.name}': its data cover "
                                               f"{gap}; beyond them it takes the value of the nearest data"))
    return messages


def _uncovered(problem, item) -> str | None:
    """``"x in [a, b] of [lo, hi], ..."`` for the axes on which the input's data stop short of the domains the
    equations are posed on, by more than COVERAGE_SLACK of their extent or the data's spacing."""
    try:
        shapes = [sampling.target_sampler(problem, d) for d in equation_domains(problem)]
        space = shapes[0].axes
        axes = space + tuple(a for a in item.axes if a not in space)  # (and time, for data over time)
        arrays = read_arrays(item.data.path, set(axes) | {item.name})
    except (PdeError, NpzError):
        return None  # no domain to compare with, or a file the interpolant reports on its own
    if any(a not in arrays for a in (*axes, item.name)):
        return None
    scattered = layout_of(arrays[item.name], [arrays[a] for a in axes]) == "scattered"
    boxes = [[b.tolist() for b in shape.bounding_box()] for shape in shapes]
    short = []
    for index, axis in enumerate(axes):
        if index < len(space):
            lo, hi = min(b[0][index] for b in boxes), max(b[1][index] for b in boxes)
        else:
            lo, hi = problem.time.start, problem.time.end
        nodes = np.unique(np.asarray(arrays[axis], dtype=np.float64))
        nodes = nodes[np.isfinite(nodes)]
        if len(nodes) == 0:
            return None
        if scattered:  # points spread over d axes: about n^(1/d) of them across each
            spacing = (nodes[-1] - nodes[0]) / max(arrays[axis].size ** (1 / len(axes)) - 1, 1)
        else:
            spacing = (nodes[-1] - nodes[0]) / max(len(nodes) - 1, 1)
        slack = max(COVERAGE_SLACK * (hi - lo), spacing)
        if nodes[0] > lo + slack or nodes[-1] < hi - slack:
            short.append(f"{axis} in [{nodes[0]:g}, {nodes[-1]:g}] of [{lo:g}, {hi:g}]")
    return ", ".join(short) or None
