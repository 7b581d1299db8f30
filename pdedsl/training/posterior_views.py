"""``predict`` and ``plot`` for a latent posterior (a folder written by ``pdedsl infer --model``).

``predict`` pushes the saved posterior draws of z through the decoders at the
points of an ``.npz`` (scattered or grid, as for any run) and writes, for
every field and inferred input, the posterior mean ``name`` and standard
deviation ``name_std`` (and the MAP, ``name_map``); fields include the
model's own error when ``infer`` used it (``model_error.py``). ``plot`` shows, per
inferred input and field, the truth (when known), the posterior mean with
the observations on it, the standard deviation and the error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .inference import load_posterior_arrays, open_posterior
from .inverse import decode_latent, posterior_mixtures
from .model_error import model_error
from .operator_views import _panel
from .plot import _save, output_path_of
from .predict import coordinate_names, outside_count, point_columns, read_points, write_npz


def predict_posterior(folder, points_path, output_path, layout: str = "auto") -> dict:
    """Posterior mean, ``_std`` and ``_map`` of every field and inferred input at the points of ``points_path``."""
    report, problem, run, samples, z_map = open_posterior(folder)
    names = coordinate_names(run.problem)
    arrays, layout, shape = read_points(points_path, run.problem, layout)
    columns = point_columns(arrays, layout, names)
    shown = list(run.model.field_names) + [n for n in report["inferred"] if n in run.layout.channels]
    error = model_error(run)[0] if report.get("model_error", {}).get("used") else None  # as infer used it
    count = len(columns[names[0]])
    parts: dict[str, list[np.ndarray]] = {}
    step = _points_per_pass(len(samples))  # every draw is decoded at every point of a pass
    for start in range(0, max(count, 1), step):
        coords = {a: torch.as_tensor(v[start:start + step], dtype=run.dtype, device=run.device)
                  for a, v in columns.items()}
        moments = _moments(run, samples, coords, error)
        best = decode_latent(run, z_map[None], coords, model_error=error)
        for name in shown:
            mean, variance = moments[name]
            for key, value in ((name, mean), (f"{name}_std", np.sqrt(variance)),
                               (f"{name}_map", best[name][0].double().cpu().numpy())):
                parts.setdefault(key, []).append(value.reshape(-1))
    output = {a: arrays[a] for a in names}
    output.update({key: np.concatenate(values).reshape(shape) for key, values in parts.items()})
    # a param has one value, the same in every pass: the mixture over the draws of its clipped likelihood
    for name in (n for n in report["inferred"] if n in run.layout.scalars):
        mean, variance = moments[name]
        output[name], output[f"{name}_std"] = np.asarray(float(mean[0])), np.asarray(float(np.sqrt(variance[0])))
        output[f"{name}_map"] = np.asarray(float(best[name].reshape(-1)[0]))
    written = write_npz(output_path, output)
    return {"output": str(written), "layout": layout, "shape": list(shape), "points": int(np.prod(shape)),
            "fields": shown, "outside_domain": outside_count(run.problem, columns)}


def _points_per_pass(draws: int) -> int:
    """Points decoded at once: every draw is decoded at every point of a pass, so passes shrink as draws grow
    (about 2^19 draw-points, a few hundred MB)."""
    return max(64, (1 << 19) // max(draws, 1))


def _moments(run, samples: torch.Tensor, coords: dict, error) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Posterior mean and variance at each point of every decoded quantity, over the draws ``samples`` of z:
    the mixture of the likelihoods (inputs, params) or of the model error (fields) each draw gives, by the law
    of total variance (``infer`` summarises its grid so too), so the answer at a point depends on the point
    alone."""
    decoded = decode_latent(run, samples, coords, model_error=error)
    mixtures = posterior_mixtures(run, decoded, coords, error)
    return {name: tuple(m.cpu().numpy() for m in mixture.moments()) for name, mixture in mixtures.items()}


def plot_posterior(folder, output_path=None) -> Path:
    """Truth, posterior mean (with the observations), std and error of every inferred input and field."""
    output = output_path_of(Path(folder), output_path)
    return _save(posterior_figure(folder), output)


def posterior_figure(folder):
    """The matplotlib Figure :func:`plot_posterior` saves (tests read its axes and titles)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    folder = Path(folder)
    report, arrays = load_posterior_arrays(folder)
    axes = list(report["axes"])
    nodes = [arrays[a] for a in axes]
    problem = _spec_problem(folder)
    outside = _outside_mask(problem, axes, nodes)
    time_axis = problem.time.name if problem is not None and problem.time is not None else None
    shown = [n for n in report["inferred"] if n in arrays and arrays[n].ndim] + \
        [n for n in report.get("fields", []) if n in arrays]
    any_truth = any(f"true_{n}" in arrays for n in shown)
    columns = ["truth", "mean", "std", "error"] if any_truth else ["mean", "std"]
    figure = Figure(figsize=(3.3 * len(columns), 2.9 * len(shown) + 0.5), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(len(shown), len(columns))
    for row, name in enumerate(shown):
        mean, std, true, low, high = (_blank(arrays.get(key), outside) for key in
                                      (name, f"{name}_std", f"true_{name}", f"{name}_low", f"{name}_high"))
        row_nodes = nodes
        if name not in report.get("fields", []) and axes[-1] == time_axis:  # an input: the same at every t
            mean, std, true, low, high = (None if v is None else v[..., 0] for v in (mean, std, true, low, high))
            row_nodes = nodes[:-1]
        scores = report.get("truth", {}).get(name, {})
        panels = {"mean": (mean, f"{name}: posterior mean"), "std": (std, f"{name}: posterior std")}
        if true is not None:
            panels["truth"] = (true, f"{name}: truth")
            # a line each: on one, the two ran past the panel into its colour bar
            panels["error"] = (mean - true, f"{name}: error (mean - truth)\nrel. L2 "
                                            f"{scores.get('rel_l2', float('nan')):.2e}\n95% band covers "
                                            f"{100 * scores.get('coverage_95', float('nan')):.0f}%")
        limits = (float(np.nanmin(mean if true is None else np.fmin(mean, true))),
                  float(np.nanmax(mean if true is None else np.fmax(mean, true))))
        for column, key in enumerate(columns):
            ax = figure.add_subplot(grid[row, column])
            if key not in panels:
                ax.axis("off")
                continue
            values, title = panels[key]
            _panel(figure, ax, dict(zip(axes, row_nodes)), values, title, limits if key in ("truth", "mean") else None,
                   diverging=key == "error", time=time_axis)
            if key == "mean" and len(row_nodes) == 1:
                _band(ax, row_nodes[0], low, high, true)
            if key == "mean" and f"obs_{name}" in arrays:
                _observations(ax, arrays, name, axes, limits)
    sliced = f"  |  at {axes[2]} = {nodes[2][len(nodes[2]) // 2]:.3g}" if len(axes) == 3 else ""
    figure.suptitle(f"{report['problem']}  |  infer {', '.join(report['inferred'])}  |  "
                    f"{sum(o['points'] for o in report['observations'].values())} observations{sliced}", fontsize=11)
    return figure


def _spec_problem(folder: Path):
    """The inference folder's copy of the spec, checked (None if it cannot be read: the plot goes on without)."""
    from .. import api
    from ..errors import PdeError

    try:
        return api.load(folder / "spec.pde")
    except (PdeError, OSError):
        return None


def _outside_mask(problem, axes: list[str], nodes: list[np.ndarray]):
    """``True`` at the grid nodes outside the spec's domain (a disk's corners), or None where all are inside."""
    from ..errors import PdeError
    from .plot import _inside

    if problem is None:
        return None
    space = [a for a in axes if a in problem.axes]
    mesh = np.meshgrid(*nodes, indexing="ij")
    columns = {a: m.reshape(-1) for a, m in zip(axes, mesh) if a in space}
    try:
        inside = _inside(problem, columns)
    except PdeError:
        return None
    if inside is None or bool(inside.all()):
        return None
    return ~inside.reshape(mesh[0].shape)


def _blank(values, outside):
    """``values`` with the nodes outside the domain left blank (NaN) where they are on the grid."""
    if values is None or outside is None or np.shape(values) != outside.shape:
        return values
    return np.where(outside, np.nan, values)


def _band(ax, nodes, low, high, true) -> None:
    """Over a 1-D mean curve: its 95% credible band and, where known, the truth, so the three read together."""
    if low is not None and high is not None and np.shape(low) == np.shape(nodes):
        ax.fill_between(nodes, low, high, color="C0", alpha=0.25, lw=0, label="95% band")
        bottom, top = ax.get_ylim()
        bottom, top = min(bottom, float(np.nanmin(low))), max(top, float(np.nanmax(high)))
        ax.set_ylim(bottom - 0.03 * (top - bottom), top + 0.03 * (top - bottom))
    if true is not None:
        ax.plot(nodes, true, color="black", ls="--", lw=1.0, label="truth")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best", framealpha=0.8)


def _observations(ax, arrays: dict, name: str, axes: list[str], limits) -> None:
    """The observations over a mean panel: in 1-D their values; in 2-D their places, coloured by their values
    on the panel's own scale, so that data and posterior mean compare at a glance."""
    located = [arrays.get(f"obs_{name}_{a}") for a in axes[:2]]
    if len(axes) == 1 and located[0] is not None:
        ax.plot(located[0], arrays[f"obs_{name}"], ls="none", marker="x", ms=4, color="C1", label="observed")
        ax.legend(fontsize=7, loc="best", framealpha=0.8)  # (after the band's: this one lists every line)
    elif len(located) == 2 and all(v is not None for v in located):
        ax.scatter(located[0], located[1], s=10, c=arrays[f"obs_{name}"], cmap="viridis", vmin=limits[0],
                   vmax=limits[1], edgecolors="black", linewidths=0.4, label="observed")
        # said in the title: a legend in a corner would hide the observations there
        ax.set_title(ax.get_title() + f"\n{len(located[0])} observations as dots", fontsize=9)
