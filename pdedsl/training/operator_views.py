"""``predict`` and ``plot`` for operator runs: answers for given members of the family, and pictures of them.

An operator run answers for any member of its family, so ``predict`` reads
members rather than points: an ``.npz`` in ``pdedsl data``'s layout (the
sensor grid's axis arrays, ``(n, ...)`` inputs, ``(n,)`` params; fields
optional) and writes the same arrays plus every predicted field
``(n, len(x), ...)``. ``plot`` shows a few held-out members side by side:
their input, the reference solution, the prediction and the error, with
the loss curves.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..runtime.family import FamilyError, member_arrays, pool_from_arrays
from .plot import _draw_losses, _inside, _read_metrics, _save, formatted, read_result
from .predict import PredictError, write_npz

#: Members a plot shows.
SHOWN = 3


def predict_members(run, members_path, output_path) -> dict:
    """Every field of ``run``'s operator for the members in ``members_path``; written to ``output_path``."""
    try:
        arrays = member_arrays(run.problem, members_path)
    except FamilyError as error:
        raise PredictError(str(error)) from None
    output = predict_arrays(run, arrays, str(members_path))
    written = write_npz(output_path, output)
    fields = [f.name for f in run.problem.fields]
    return {"output": str(written), "members": len(output[fields[0]]), "grid": list(output[fields[0]].shape[1:]),
            "fields": fields}


def predict_arrays(run, arrays: dict, origin: str = "members") -> dict[str, np.ndarray]:
    """Members in ``pdedsl data``'s layout in; the same arrays plus every predicted field ``(n, ...)`` out."""
    labels = {f.name for f in run.problem.fields}  # (ignored: a label with NaN in it is no obstacle)
    try:
        pool = pool_from_arrays(run.problem, {k: v for k, v in arrays.items() if k not in labels}, origin,
                                labelled=False)
    except FamilyError as error:
        raise PredictError(str(error)) from None
    if pool.layout != run.layout and not _scalars_alike(pool.layout, run.layout):
        raise PredictError(f"{origin}: its grid or inputs differ from the run's sensor layout "
                           f"({' x '.join(str(n) for n in run.layout.shape)} nodes, inputs "
                           f"{', '.join(run.layout.channels + run.layout.scalars)})")
    run.model.eval()
    predicted = run.objective.predict_pool(pool)
    shape = (len(pool),) + tuple(len(n) for n in pool.label_axes().values())
    output = dict(pool.label_axes())
    output.update(pool.grid_inputs)
    output.update(pool.params)
    output.update({name: values.double().cpu().numpy().reshape(shape) for name, values in predicted.items()
                   if name in {f.name for f in run.problem.fields}})
    return output


def _scalars_alike(layout, other) -> bool:
    """Whether two sensor layouts read the same random params and no input on a grid: the operator then
    answers on any grid of the domain (its grid mattered to no input)."""
    return not layout.channels and not other.channels and layout.scalars == other.scalars


def plot_members(run, folder: Path, output: Path) -> Path:
    """Input, truth, prediction and error for the first held-out members, and the loss curves."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    run.prepare_test()
    pool = run.test if run.test is not None else run.pool
    count = min(SHOWN, len(pool))
    shown = _with_times(run.problem, pool.head(count))
    predicted = {k: v.double().cpu().numpy() for k, v in run.objective.predict_pool(shown).items()}
    field = run.problem.fields[0].name
    truth = shown.fields.get(field)
    axes = shown.label_axes()  # fields: space (and time); inputs: space
    nodes = list(axes.values())
    input_axes = shown.layout.nodes()
    columns = ["input", "truth", "prediction", "error"] if truth is not None else ["input", "prediction"]
    generated = _generated_inputs(run, shown)  # a generative model's own version of each member's input
    if generated is not None:
        columns.insert(1, "generated")
    figure = Figure(figsize=(3.2 * len(columns) + 4.2, 2.9 * count + 0.4), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(count, len(columns) + 1, width_ratios=[1] * len(columns) + [1.3])
    for member in range(count):
        prediction = predicted[field][member].reshape(tuple(len(n) for n in nodes))
        panels = {"input": _input_of(shown, member), "prediction": (prediction, f"{field} (predicted)")}
        if generated is not None:
            panels["generated"] = (generated[member], f"{shown.layout.channels[0]} (generated, mean)")
        if truth is not None:
            error = np.linalg.norm(prediction - truth[member]) / max(np.linalg.norm(truth[member]), 1e-300)
            panels["truth"] = (truth[member], f"{field} (reference)")
            panels["error"] = (prediction - truth[member], f"{field}: error, rel. L2 {error:.2e}")
        panels, limits = visible_panels(run.problem, panels, input_axes, axes)
        time = run.problem.time.name if run.problem.time is not None else None
        for index, column in enumerate(columns):
            ax = figure.add_subplot(grid[member, index])
            values, title = panels[column]
            shared = next((v for group, v in limits.items() if column in group), None)
            panel_axes = input_axes if column in INPUT_PANELS else axes
            _panel(figure, ax, panel_axes, values, title, shared, diverging=column == "error", time=time)
    result = read_result(folder)
    _draw_losses(figure.add_subplot(grid[:, len(columns)]), _read_metrics(folder), result)
    form = getattr(run.config, "form", "strong")
    headline = f"{run.problem.name}  |  {run.config.backend}, {result.get('mode', run.objective.mode)}" + \
        (f", {form} form" if form != "strong" else "")
    if result.get("rel_l2"):
        headline += f"  |  mean rel. L2 over {result.get('test_samples')} held-out members: " + \
            ", ".join(f"{k} {formatted(v, '.2e')}" for k, v in result["rel_l2"].items())
    elif not result and run.checkpoint_mark is not None:  # a run still training (or killed)
        headline += f"  |  unfinished: checkpoint of step {run.checkpoint_mark[0]:.0f} of {run.config.total_steps}"
    figure.suptitle(headline, fontsize=11)
    return _save(figure, output)


#: The panels drawn over the sensor grid (the others: over the fields' nodes).
INPUT_PANELS = ("input", "generated")


def visible_panels(problem, panels: dict, input_axes: dict, axes: dict) -> tuple[dict, dict]:
    """``panels`` (column -> (values, title)) with the nodes outside the domain blanked, and the colour limits
    shared by the reference and the prediction, and by the input and its generated version, taken from the
    nodes left visible (from all of them, an input large in the corners of a disk's grid squeezed the disk
    into a sliver of the scale)."""
    visible = {column: (_blank_outside(problem, input_axes if column in INPUT_PANELS else axes, values), title)
               for column, (values, title) in panels.items()}
    limits = {group: _common_limits([visible[c][0] for c in group if c in visible])
              for group in (("truth", "prediction"), INPUT_PANELS)
              if sum(c in visible for c in group) == 2 or group[0] == "truth"}
    return visible, limits


def _blank_outside(problem, axes: dict, values: np.ndarray) -> np.ndarray:
    """``values`` over the nodes ``axes`` (space, then perhaps time), NaN at the nodes outside every domain the
    equations hold in: the sensor grid of a disk or polygon fills its bounding box, where nothing is solved, and
    the panels leave that blank as the PINN plot does."""
    space = [a for a in axes if a in problem.axes]
    if len(space) < 2:
        return values
    mesh = np.meshgrid(*(axes[a] for a in space), indexing="ij")
    inside = _inside(problem, {a: m.ravel() for a, m in zip(space, mesh)}).reshape(mesh[0].shape)
    inside = inside.reshape(inside.shape + (1,) * (np.ndim(values) - inside.ndim))
    return np.where(inside, values, np.nan)


def _common_limits(arrays) -> tuple[float, float]:
    """The smallest and largest finite value over ``arrays``."""
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return 0.0, 1.0
    return float(min(a.min() for a in finite)), float(max(a.max() for a in finite))


def _with_times(problem, pool):
    """``pool``, given time nodes if the problem has time but the pool none (an unlabelled training pool: a
    family without reference solutions): as many as the first space axis has, spanning the time interval."""
    if problem.time is None or pool.times is not None:
        return pool
    count = len(next(iter(pool.layout.nodes().values())))
    times = (problem.time.name, np.linspace(problem.time.start, problem.time.end, count))
    return dataclasses.replace(pool, times=times)


def _generated_inputs(run, pool):
    """``[N, *grid]``: the first input as a DGNO model generates it from each member's latent mean (else None)."""
    import torch

    network = getattr(run.model, "model", run.model)
    if not hasattr(network, "decode_inputs") or not pool.layout.channels:
        return None
    nodes = pool.layout.nodes()
    mesh = np.meshgrid(*nodes.values(), indexing="ij")
    points = {a: torch.as_tensor(m.reshape(1, -1), dtype=run.dtype, device=run.device) for a, m in zip(nodes, mesh)}
    with torch.no_grad():
        network.eval()
        beta = network.beta(pool.operator_inputs(run.dtype).to(run.device))
        values = network.decode_inputs(points, beta)[pool.layout.channels[0]]
    return values.double().cpu().numpy().reshape((len(pool),) + mesh[0].shape)


def _input_of(pool, member: int) -> tuple[np.ndarray, str]:
    """The member's first varying input on the grid (or its params, as a title over a blank panel)."""
    params = ", ".join(f"{k} = {v[member]:.3g}" for k, v in pool.params.items())
    if pool.layout.channels:
        name = pool.layout.channels[0]
        return pool.grid_inputs[name][member], name + (f" ({params})" if params else "")
    return np.zeros(pool.layout.shape), params


def _panel(figure, ax, axes: dict, values, title: str, limits, diverging: bool, time: str | None = None) -> None:
    """One member's values over its nodes (``axes``: name -> nodes): a curve in 1-D, an image in 2-D, and past
    two axes the image of the first two at the middle node of each other one (named in the title). An image
    with the ``time`` axis is drawn to fill its panel: space against time has no true proportions."""
    nodes = list(axes.values())
    if len(nodes) > 2:
        middles = [len(n) // 2 for n in nodes[2:]]
        values = values[(slice(None), slice(None), *middles)]
        title += "\nat " + ", ".join(f"{name} = {n[m]:.3g}" for name, n, m in zip(list(axes)[2:], nodes[2:], middles))
    ax.set_title(title, fontsize=9)
    names = list(axes)
    ax.set_xlabel(names[0], fontsize=8, labelpad=2)
    if len(nodes) == 1:
        ax.plot(nodes[0], values, lw=1.4)
        if limits is not None:
            ax.set_ylim(limits[0] - 0.05 * abs(limits[1] - limits[0]), limits[1] + 0.05 * abs(limits[1] - limits[0]))
        ax.set_xlim(nodes[0][0], nodes[0][-1])
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=7, length=2.5, pad=2)  # as the images' beside it (matplotlib's 10 dwarfed them)
        ax.locator_params(nbins=4)
        return
    if diverging:
        bound = float(np.nanmax(np.abs(values))) or 1.0
        limits, cmap = (-bound, bound), "RdBu_r"
    else:
        cmap = "viridis"
        limits = limits or (float(np.nanmin(values)), float(np.nanmax(values)))
    extent = (nodes[0][0], nodes[0][-1], nodes[1][0], nodes[1][-1])
    width, height = abs(extent[1] - extent[0]), abs(extent[3] - extent[2])
    # true proportions unless they would squash the panel into a strip (space-time, say: x in [0, 2], t in [0, 0.3])
    spacetime = time in names[:2]
    aspect = "equal" if max(width, height) <= 4 * min(width, height) and not spacetime else "auto"
    # one cell per node, centred on it (imshow spread the nodes over equal cells from the first node to the last,
    # half a cell off at the ends); NaN (a node outside the domain) is left blank
    image = ax.pcolormesh(nodes[0], nodes[1], np.ma.masked_invalid(np.asarray(values, dtype=float).T),
                          shading="nearest", cmap=cmap, vmin=limits[0], vmax=limits[1], rasterized=True)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect(aspect)
    colorbar = figure.colorbar(image, ax=ax, shrink=0.8)
    colorbar.ax.tick_params(labelsize=7)  # as the axes' ticks (matplotlib's default, 10, dwarfed them)
    colorbar.formatter.set_powerlimits((-3, 4))
    colorbar.update_ticks()
    ax.set_ylabel(names[1], fontsize=8, labelpad=2)  # (which axis is which: x across, t up, say)
    ax.tick_params(labelsize=7, length=2.5, pad=2)  # (pad 1 ran the corner's two '0.00' into each other)
    ax.locator_params(nbins=4)
