"""``pdedsl plot FILE.npz --spec SPEC``: a look at labelled samples (what ``pdedsl data`` writes) before training.

The spec says which arrays are its axes, random inputs, random params and
fields; each of the first :data:`SHOWN` samples gets a row: its inputs over
their nodes, then its fields (a time-dependent field at its last time, as
curves against time in 1-D), the drawn params in the row's first title. The
panels are the operator plot's (``operator_views._panel``), so a sample
looks here as it will beside a trained model's prediction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..npz import READ_ERRORS, read_array
from .operator_views import _blank_outside, _panel
from .plot import PlotError, _save

#: Samples drawn (one row each).
SHOWN = 3


def plot_data(problem, path, output) -> Path:
    """Draw the first samples of the data file ``path`` of ``problem``'s family into ``output``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    arrays = _read(path)
    space = list(problem.axes)
    time = problem.time.name if problem.time is not None else None
    axes = {a: _axis(arrays, a, path) for a in space + ([time] if time else [])}
    inputs = [i.name for i in problem.inputs if i.kind == "prior" and i.name in arrays]
    fields = [f.name for f in problem.fields if f.name in arrays]
    params = [p.name for p in problem.params if p.is_random and p.name in arrays]
    shown = inputs + fields
    if not shown:
        raise PlotError(f"{path}: no array of a random input or field of problem '{problem.name}' "
                        f"(the file has {', '.join(sorted(arrays)) or 'nothing'}); is it another problem's data?")
    space_nodes = {a: axes[a] for a in space}
    count = min(SHOWN, *(len(arrays[name]) for name in shown))
    figure = Figure(figsize=(3.4 * len(shown) + 0.4, 2.9 * count + 0.5), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(count, len(shown))
    for member in range(count):
        drawn = ", ".join(f"{p} = {float(arrays[p][member]):.3g}" for p in params)
        for column, name in enumerate(shown):
            nodes = space_nodes if name in inputs else _field_nodes(axes, space, time)
            values = _member(arrays, name, member, nodes, path)
            if name in fields and time is not None and len(space) > 1:  # an image at the last time
                values, nodes = values[..., -1], space_nodes
                title = f"{name} at {time} = {axes[time][-1]:.3g}"
            else:
                title = name
            if member == 0 or column == 0:
                title = f"sample {member}: {title}" if column == 0 else title
            if column == 0 and drawn:
                title += f"\n{drawn}"
            values = _blank_outside(problem, nodes, values) if len(nodes) > 1 else values
            _panel(figure, figure.add_subplot(grid[member, column]), nodes, values, title, None, diverging=False,
                   time=time if time in nodes else None)
    figure.suptitle(f"{problem.name}  |  {Path(path).name}: {len(arrays[shown[0]])} samples, the first "
                    f"{count} shown", fontsize=11)
    return _save(figure, Path(output))


def _read(path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: read_array(archive, key) for key in archive.files}
    except READ_ERRORS as error:
        raise PlotError(f"{path}: not a readable .npz file ({error})") from None


def _axis(arrays, name: str, path) -> np.ndarray:
    values = arrays.get(name)
    if values is None or values.ndim != 1 or len(values) < 2:
        raise PlotError(f"{path}: the axis array '{name}' is missing or not 1-D with 2 nodes or more "
                        "(a 'pdedsl data' file holds one per axis)")
    return np.asarray(values, dtype=np.float64)


def _field_nodes(axes: dict, space: list, time) -> dict:
    return {a: axes[a] for a in space + ([time] if time else [])}


def _member(arrays, name: str, member: int, nodes: dict, path) -> np.ndarray:
    values = np.asarray(arrays[name], dtype=np.float64)
    shape = tuple(len(n) for n in nodes.values())
    if values.shape[1:] != shape:
        raise PlotError(f"{path}: '{name}' has shape {values.shape}, not (samples, "
                        f"{', '.join(f'len({a})' for a in nodes)}) = (samples, {', '.join(map(str, shape))})")
    return values[member]
