"""``pdedsl data``: labelled pairs (random inputs -> solution) from a spec, by the reference solver.

Sample ``i`` draws every random input and param of the spec with its own
seed (child ``i`` of ``SeedSequence(seed)``, so sample ``i`` does not depend
on ``n``) on a node grid of ``grid`` points per axis that includes the
boundary, and solves the problem there by finite differences
(``from_spec.py``; 1-D time-dependent specs by the method of lines on the
same number of nodes in time, ``time_spec.py``, random inputs such as a random
initial state drawn on the space nodes). The file holds the axis arrays, one ``(n, len(x), ...)``
array per random input and per field, and one ``(n,)`` array per random param.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from ..ir.problem import Problem
from ..runtime.instances import draw_instance
from .from_spec import ReferenceError, elliptic_spec, solve_spec
from .time_box import solve_time_box, time_box_spec
from .time_spec import solve_time_spec, time_spec


def sample_seed(seed: int, index: int) -> int:
    """The seed of sample ``index``: independent of how many samples are drawn."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def generate(problem: Problem, n: int, grid: int, seed: int = 0, progress=None) -> dict[str, np.ndarray]:
    """``n`` labelled samples of ``problem`` on a grid of ``grid`` nodes per axis."""
    check_request(problem, n, grid)
    axes, arrays = None, {}
    for index, (axes, values) in enumerate(solved_members(problem, grid, seed, range(n))):
        for name, value in values.items():
            arrays.setdefault(name, []).append(value)
        if progress is not None:
            progress.update(index + 1, "data", {})
    return {**axes, **{name: np.asarray(values) for name, values in arrays.items()}}


def check_request(problem: Problem, n: int, grid: int) -> None:
    """ReferenceError unless ``n`` samples on ``grid`` nodes per axis make sense for ``problem``."""
    if n < 1 or grid < 3:
        raise ReferenceError(f"need at least one sample and 3 grid points per axis, got n={n}, grid={grid}")
    random = [i.name for i in problem.inputs if i.kind == "prior"] + [p.name for p in problem.params
                                                                      if p.is_random]
    if not random and n != 1:
        raise ReferenceError(f"problem '{problem.name}' has no random inputs or params, so it has one solution: "
                             "use --n 1")


def solved_members(problem: Problem, grid: int, seed: int, indices) -> Iterator[tuple[dict, dict]]:
    """``(axes, values)`` of each sample in ``indices``: the axis arrays, and the sample's random inputs and
    params with the field's solution. The spec is recognised (or refused) before the first sample is drawn."""
    if problem.time is not None:
        yield from _time_dependent(problem, grid, seed, indices)
        return
    spec = elliptic_spec(problem)
    for index in indices:
        instance = draw_instance(problem, sample_seed(seed, index), points=grid)
        solution = solve_spec(problem, spec, instance.axes, instance.inputs, instance.params)
        yield instance.axes, {**instance.inputs, **instance.params, spec.field: solution}


def _time_dependent(problem: Problem, grid: int, seed: int, indices) -> Iterator[tuple[dict, dict]]:
    """Solutions of a time-dependent spec on ``grid`` nodes in space and in time: 1-D specs by the nonlinear
    method of lines (``time_spec.py``), linear ones on boxes in 1-3 D by finite volumes in space
    (``time_box.py``; 1-D specs the first refuses, for Neumann or Robin ends, say, go there too).

    Random inputs (a random initial state, say) are drawn on the same space nodes.
    """
    try:
        spec = time_spec(problem)
    except ReferenceError as refusal:
        yield from _time_box(problem, grid, seed, indices, refusal if len(problem.axes) == 1 else None)
        return
    axis = spec.box.axes[0]
    x = np.linspace(spec.box.low[0], spec.box.high[0], grid)
    t = np.linspace(spec.start, spec.end, grid)
    for index in indices:
        instance = draw_instance(problem, sample_seed(seed, index), points=grid)
        inputs = {name: (instance.axes[axis], values) for name, values in instance.inputs.items()}
        solution = solve_time_spec(spec, x, t, inputs, instance.params)
        yield {axis: x, spec.time: t}, {**instance.inputs, **instance.params, spec.field: solution}


def _time_box(problem: Problem, grid: int, seed: int, indices, refusal) -> Iterator[tuple[dict, dict]]:
    """Solutions of a linear time-dependent spec on a box; ``refusal`` (the 1-D solver's reason, if it had one)
    is what a spec this solver refuses too is told, being the likelier fix."""
    try:
        spec = time_box_spec(problem)
    except ReferenceError as error:
        raise (refusal or error) from None
    t = np.linspace(spec.start, spec.end, grid)
    for index in indices:
        instance = draw_instance(problem, sample_seed(seed, index), points=grid)
        solution = solve_time_box(problem, spec, instance.axes, t, instance.inputs, instance.params)
        yield {**instance.axes, spec.time: t}, {**instance.inputs, **instance.params, spec.field: solution}


def write(path, arrays: dict[str, np.ndarray]) -> Path:
    """Write the arrays to ``path`` (an .npz), atomically."""
    from ..files import make_folder_of, replacing

    path = Path(path)
    make_folder_of(path)
    with replacing(path) as handle:
        np.savez(handle, **arrays)
    return path
