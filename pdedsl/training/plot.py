"""Plots of a trained run: prediction, truth, absolute error and loss curves, in one PNG.

The layout follows the problem:

* 1-D steady: curves of the prediction and the truth over ``x``, and the
  absolute error (log scale);
* 1-D + time: space-time images (``x`` horizontal, ``t`` vertical) of the
  prediction, the truth and the absolute error;
* 2-D: images over the domain (points outside it are left blank), at the
  final time if the problem is time-dependent;
* 3-D: the same on the slice through the middle of the third axis.

Several fields give one row each; the loss curves from ``metrics.jsonl``
(total and every term, log scale) fill the last column. The truth is the
``exact`` solution, else the ``reference`` data: the prediction is drawn on a
fine regular grid, the reference and the error on the data's own grid or
points (a slice of a grid is its grid line nearest to the middle or the final
time). A field with neither shows its prediction only. Titles give the
relative L2 error, measured as in ``result.json``.

Only matplotlib's Agg canvas is used: no display, no pyplot state.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..errors import PdeError
from ..files import make_folder_of, replacing
from ..runtime import sampling
from .data import load_points
from .predict import coordinate_names, evaluate_fields, exact_fields
from .scalar_posterior import Z95

CURVE_POINTS = 1001
SNAPSHOTS = 4  # times at which a 1-D + time field is drawn as curves
IMAGE_POINTS = 240  # pixels per side of an image
OUTLINE_POINTS = 400  # nodes per side of the grid whose signed distance outlines a domain
TICKS = 5  # at most about this many tick labels along an image's axis: more collide in a panel's width
PANEL = (4.3, 3.6)  # inches per panel
LOSS_WIDTH = 5.0  # inches
DPI = 110


#: The loss terms' colours: matplotlib's cycle without its grey (C7), the total's colour (Stokes' eighth term
#: read as the total).
TERM_COLOURS = tuple(f"C{k}" for k in range(10) if k != 7)

#: The formats ``plot -o`` writes, chosen by the file's extension.
PICTURE_FORMATS = ("png", "pdf", "svg")


class PlotError(PdeError):
    """A run cannot be plotted (the message says why)."""


class PlotOptionError(PlotError):
    """An option of the plot (``--at``, the output's format) does not fit the run: a usage error (exit 2)."""


# ---- what is shown ----
@dataclass
class View:
    """The coordinates a panel shows (``vertical`` None: a curve), where the others are held, and the box."""

    horizontal: str
    vertical: Optional[str]
    fixed: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]


@dataclass
class Sheet:
    """Values on the points of a panel: a grid ``(len(h), len(v))``, or scattered points (flat ``h``, ``v``)."""

    h: np.ndarray
    v: Optional[np.ndarray]
    grid: bool
    inside: np.ndarray  # bool, shaped like the values
    fixed: dict[str, float]  # the coordinates held fixed (slice, time)
    prediction: np.ndarray
    truth: Optional[np.ndarray] = None
    smooth: bool = False  # a coarse data grid: interpolate between its points when drawn


@dataclass
class Row:
    """One field: its prediction on a fine grid and, if it has one, its truth (and the prediction there)."""

    name: str
    fine: Sheet
    data: Optional[Sheet] = None
    label: str = ""  # "exact" or "reference (file)"
    note: str = ""
    observed: Optional[tuple] = None  # (h, v or None, values) of the field's observations on the view
    shown: str = "prediction"  # what the first panel holds ("prediction", or a drawn input)
    spread: Optional[np.ndarray] = None  # a PINN inference's posterior std on the fine grid (drawn as a band)
    snapshots: Optional["Snapshots"] = None  # 1-D + time: curves at a few times


@dataclass
class Snapshots:
    """A field of a 1-D + time problem at a few times: the prediction (with its band after an inference), the
    truth and the observations taken at each time, read as curves where the space-time image gives only colour."""

    x: np.ndarray
    times: list[float]
    prediction: list[np.ndarray]
    spread: Optional[list[np.ndarray]] = None
    truth: Optional[list[Optional[tuple[np.ndarray, np.ndarray]]]] = None  # (x, values) at each time, if any
    observed: Optional[list[Optional[tuple[np.ndarray, np.ndarray]]]] = None



def _physics_domains(problem) -> list[str]:
    """The domains the equations are posed on (as the PINN's coordinate scaling takes them)."""
    names = {c.target.name for c in problem.equations if c.target is not None and c.target.kind == "domain"}
    names |= {problem.region(c.target.name).domain for c in problem.equations
              if c.target is not None and c.target.kind == "region"}
    return sorted(names) or [d.name for d in problem.domains][:1]


def _view(problem) -> View:
    samplers = [sampling.target_sampler(problem, name) for name in _physics_domains(problem)]
    boxes = [s.bounding_box() for s in samplers]
    low, high = {}, {}
    for index, axis in enumerate(problem.axes):
        low[axis] = min(float(b[0][index]) for b in boxes)
        high[axis] = max(float(b[1][index]) for b in boxes)
    time = problem.time
    if time is not None:
        low[time.name], high[time.name] = float(time.start), float(time.end)
    axes = tuple(problem.axes)
    if len(axes) == 1:
        return View(axes[0], time.name if time is not None else None, {}, low, high)
    fixed = {axis: (low[axis] + high[axis]) / 2 for axis in axes[2:]}  # 3-D: the middle of the third axis
    if time is not None:
        fixed[time.name] = float(time.end)
    return View(axes[0], axes[1], fixed, low, high)


def _held_at(view: View, at: dict[str, float]) -> View:
    """``view`` with the coordinates it holds fixed moved to ``at`` (``--at t=0.25``): an axis the panels show,
    a name that is no coordinate, or a value outside the box is a PlotError."""
    for name, value in at.items():
        if name not in view.fixed:
            shown = ", ".join(a for a in (view.horizontal, view.vertical) if a)
            held = ", ".join(view.fixed) or "none"
            what = "is shown along a panel's axis" if name in (view.horizontal, view.vertical) else "is no coordinate"
            raise PlotOptionError(f"--at {name}: {name} {what}; the panels show {shown} and hold {held}")
        if not view.low[name] <= value <= view.high[name]:
            raise PlotOptionError(f"--at {name}={value:g}: outside {name}'s range [{view.low[name]:g}, {view.high[name]:g}]")
    return View(view.horizontal, view.vertical, {**view.fixed, **at}, view.low, view.high)


def _over_domains(problem, columns: dict[str, np.ndarray], measure, combine) -> np.ndarray:
    """``measure(sampler, points)`` of every physics domain at the points, folded by ``combine``."""
    result = None
    for name in _physics_domains(problem):
        s = sampling.target_sampler(problem, name)
        points = torch.as_tensor(np.stack([np.asarray(columns[a], dtype=np.float64) for a in s.axes], axis=1))
        found = measure(s, points).numpy()
        result = found if result is None else combine(result, found)
    return result


def _inside(problem, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Which points lie in one of the physics domains (closed, with the samplers' tolerance)."""
    return _over_domains(problem, columns, lambda s, points: s.contains(points), np.logical_or)


def _lives(problem, field: str, columns: dict[str, np.ndarray]) -> Optional[np.ndarray]:
    """Which points lie where ``field`` has an equation (its targets, where training and the error measure it:
    ``sampling.field_targets``); None where that is every physics domain whole, as for most fields."""
    from ..runtime.predicates import evaluate

    targets = sampling.field_targets(problem, field)
    if all(t.kind == "domain" for t in targets):
        return None
    constants = {c.name: c.value for c in problem.constants}
    values = {a: torch.as_tensor(np.asarray(c, dtype=np.float64)) for a, c in columns.items()}
    lives = np.zeros(len(next(iter(columns.values()))), dtype=bool)
    for target in targets:
        domain, on_boundary, predicates = sampling.resolve_target(problem, target)
        if on_boundary:
            continue
        s = sampling.target_sampler(problem, domain)
        found = s.contains(torch.stack([values[a] for a in s.axes], dim=1)).numpy()
        for predicate in predicates:
            found &= np.broadcast_to(evaluate(predicate, values, constants).numpy().astype(bool), found.shape)
        lives |= found
    return lives


def _signed_distance(problem, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Distance to the boundary of the union of the physics domains: negative inside, positive outside."""
    return _over_domains(problem, columns, lambda s, points: s.signed_distance(points), np.minimum)


def _outline(problem, view: View, fixed: dict[str, float]) -> Optional[tuple]:
    """``(h, v, distance)``: the signed distance to the domain's boundary on a grid over the view's box, whose
    zero contour is drawn over every image of a domain that does not fill its box (a disk, an L-shape, a
    hole), so the cut-out reads as a smooth edge rather than as a staircase of blank pixels; None for a box
    (and for space against time)."""
    if view.vertical is None or view.vertical not in problem.axes:
        return None
    h, v = (np.linspace(view.low[a], view.high[a], OUTLINE_POINTS) for a in (view.horizontal, view.vertical))
    H, V = np.meshgrid(h, v, indexing="ij")
    columns = _columns(view, {view.horizontal: H.reshape(-1), view.vertical: V.reshape(-1)}, fixed)
    distance = _signed_distance(problem, columns).reshape(H.shape)
    inner = distance[1:-1, 1:-1]
    if not (inner > 0).any():  # the box itself: its edges are the panel's frame
        return None
    return h, v, distance


def _centres(low: float, high: float, count: int) -> np.ndarray:
    return low + (np.arange(count) + 0.5) * (high - low) / count


def _columns(view: View, shown: dict[str, np.ndarray], fixed: dict[str, float]) -> dict[str, np.ndarray]:
    n = len(next(iter(shown.values())))
    return {**shown, **{a: np.full(n, value) for a, value in fixed.items()}}


def _fine(run, view: View, fixed: dict[str, float]) -> tuple[Sheet, dict, dict]:
    """Every field's prediction on a regular grid over the box, and the columns of its points (flat)."""
    if view.vertical is None:
        h, v = np.linspace(view.low[view.horizontal], view.high[view.horizontal], CURVE_POINTS), None
        shape = h.shape
        columns = _columns(view, {view.horizontal: h}, fixed)
    else:  # pixel centres: no point falls exactly on an edge, so cut-outs show clean
        h, v = (_centres(view.low[a], view.high[a], IMAGE_POINTS) for a in (view.horizontal, view.vertical))
        H, V = np.meshgrid(h, v, indexing="ij")
        shape = H.shape
        columns = _columns(view, {view.horizontal: H.reshape(-1), view.vertical: V.reshape(-1)}, fixed)
    inside = _inside(run.problem, columns).reshape(shape)
    predictions = {name: values.reshape(shape) for name, values in evaluate_fields(run, columns).items()}
    return Sheet(h, v, True, inside, dict(fixed), np.zeros(shape)), predictions, columns


def _reference(run, view: View, path: str, name: str) -> Sheet:
    """The reference data of field ``name`` on the view (a grid slice or scattered points) and the prediction there."""
    problem = run.problem
    names = coordinate_names(problem)
    with np.load(path, allow_pickle=False) as archive:
        raw = {key: np.asarray(archive[key], dtype=np.float64) for key in (*names, name) if key in archive.files}
    shown = [view.horizontal] + ([view.vertical] if view.vertical else [])
    values = raw.get(name)
    is_grid = (values is not None and len(names) > 1 and all(a in raw and raw[a].ndim == 1 for a in names)
               and values.shape == tuple(len(raw[a]) for a in names))
    fixed = {}
    if is_grid:
        index = []
        for a in names:
            if a in view.fixed:  # the grid line nearest to where the view holds this coordinate
                k = int(np.argmin(np.abs(raw[a] - view.fixed[a])))
                fixed[a] = float(raw[a][k])
                index.append(k)
            else:
                index.append(slice(None))
        truth = values[tuple(index)]
        kept = [a for a in names if a not in view.fixed]
        if kept != shown:  # the data's axis order is (space..., time); the view's may differ
            truth = np.transpose(truth, [kept.index(a) for a in shown])
        mesh = np.meshgrid(*(raw[a] for a in shown), indexing="ij")
        columns = _columns(view, {a: m.reshape(-1) for a, m in zip(shown, mesh)}, fixed)
        shape = mesh[0].shape
        inside = _inside(problem, columns).reshape(shape)
        prediction = evaluate_fields(run, columns)[name].reshape(shape)
        smooth = len(shape) == 2 and min(shape) >= 2 and bool(inside.all()) and min(shape) < 120
        return Sheet(raw[shown[0]], raw[shown[1]] if len(shown) > 1 else None, True, inside, fixed, prediction,
                     truth.reshape(shape), smooth)
    points, flat = load_points(path, name, names)
    keep = np.ones(len(flat), dtype=bool)
    for a, value in view.fixed.items():  # scattered data: the points on the data's slice nearest to the view's
        nearest = points[a][np.argmin(np.abs(points[a] - value))]
        keep &= np.abs(points[a] - nearest) <= 1e-6 * max(view.high[a] - view.low[a], 1e-12)
        fixed[a] = float(nearest)
    columns = {a: c[keep] for a, c in points.items()}
    truth = flat[keep]
    if view.vertical is None:
        order = np.argsort(columns[view.horizontal], kind="stable")
        columns, truth = {a: c[order] for a, c in columns.items()}, truth[order]
    inside = _inside(problem, columns)
    prediction = evaluate_fields(run, columns)[name]
    return Sheet(columns[view.horizontal], columns[view.vertical] if view.vertical else None, False, inside, fixed,
                 prediction, truth)


def _rows(run, view: View) -> list[Row]:
    """One row per field, with the truth where the problem has one."""
    problem = run.problem
    fine, predictions, columns = _fine(run, view, view.fixed)
    spread = _posterior_spread(run, columns, fine.inside.shape)
    if spread:  # an inference's fields: its posterior mean (the fit, moved by any prior on the unknowns)
        predictions = {name: spread[name] for name in predictions}
    exact = exact_fields(run, columns) if run.module.EXACT else {}
    references = {r.name: r for r in problem.references}
    rows = []
    for f in problem.fields:
        name = f.name
        lives = _lives(problem, name, columns)  # a field of one region is blank beyond it
        inside = fine.inside if lives is None else fine.inside & lives.reshape(fine.inside.shape)
        sheet = Sheet(fine.h, fine.v, True, inside, fine.fixed, predictions[name])
        row = Row(name, sheet)
        if name in exact:
            row.data = Sheet(fine.h, fine.v, True, inside, fine.fixed, predictions[name],
                             exact[name].reshape(fine.inside.shape))
            row.label = "exact"
        elif name in references:
            reference = references[name]
            try:
                data = _reference(run, view, reference.data.path, name)
            except (PdeError, OSError, ValueError, KeyError) as error:
                row.note = f"reference not shown: {error}"
            else:
                if data.prediction.size < (2 if view.vertical is None else 3):
                    row.note = "no reference points on this slice"
                else:
                    row.data, row.label = data, f"reference ({Path(reference.data.written).name})"
                    if data.fixed != fine.fixed:  # the data's slice: draw the prediction there too
                        other, others, _ = _fine(run, view, data.fixed)
                        row.fine = Sheet(other.h, other.v, True, other.inside, other.fixed, others[name])
        row.observed = _observed(run, view, row.fine.fixed, name)
        if _is_space_time(problem, view):
            row.snapshots = _snapshots(run, view, row, with_spread=bool(spread))
        rows.append(row)
        if spread:
            row.spread, row.shown = spread[f"{name}_std"], "posterior mean"
            if view.vertical is not None:  # an image: the spread gets a row of its own
                rows.append(Row(name, Sheet(fine.h, fine.v, True, fine.inside, fine.fixed, row.spread),
                                shown="posterior std"))
    return rows + _drawn_inputs(run, fine, columns)


def _is_space_time(problem, view: View) -> bool:
    """Whether the panels show one space axis against time (a 1-D + time problem)."""
    return problem.time is not None and view.vertical == problem.time.name


def _near(values: np.ndarray, target: float, view: View, axis: str) -> np.ndarray:
    """Which ``values`` of coordinate ``axis`` equal ``target`` up to a millionth of its range."""
    return np.abs(values - target) <= 1e-6 * max(view.high[axis] - view.low[axis], 1e-12)


def _snapshot_times(view: View, row: Row) -> list[float]:
    """``SNAPSHOTS`` times spread over the interval, each moved to the nearest time the reference grid or the
    observations hold (so their values are drawn exactly where they were given), first and last included."""
    t = view.vertical
    targets = np.linspace(view.low[t], view.high[t], SNAPSHOTS)
    given = None
    if row.data is not None and row.data.grid and row.label != "exact":
        given = np.asarray(row.data.v)
    elif row.observed is not None:
        given = np.unique(row.observed[1])
    if given is None or given.size == 0:
        return [float(a) for a in targets]
    times = []
    for target in targets:
        nearest = float(given[np.argmin(np.abs(given - target))])
        if nearest not in times:
            times.append(nearest)
    return times


def _snapshots(run, view: View, row: Row, with_spread: bool) -> Snapshots:
    """Row ``row``'s field at a few times (:func:`_snapshot_times`) on a fine line of ``x``."""
    x_axis, t_axis = view.horizontal, view.vertical
    times = _snapshot_times(view, row)
    x = np.linspace(view.low[x_axis], view.high[x_axis], CURVE_POINTS)
    columns = {x_axis: np.tile(x, len(times)), t_axis: np.repeat(np.asarray(times, dtype=float), len(x))}
    shape = (len(times), len(x))
    predicted = evaluate_fields(run, columns)[row.name].reshape(shape)
    snapshots = Snapshots(x, times, list(predicted))
    if with_spread:
        spread = _posterior_spread(run, columns, shape)
        if spread:
            snapshots.prediction = list(spread[row.name])
            snapshots.spread = list(spread[f"{row.name}_std"])
    if row.label == "exact":
        exact = exact_fields(run, columns)[row.name].reshape(shape)
        snapshots.truth = [(x, values) for values in exact]
    elif row.data is not None:
        data = row.data
        h, v = (np.broadcast_to(data.h[:, None], data.truth.shape), np.broadcast_to(data.v[None, :], data.truth.shape)) \
            if data.grid else (data.h, data.v)
        snapshots.truth = [_points_at(h, v, data.truth, time, view) for time in times]
    if row.observed is not None:
        snapshots.observed = [_points_at(row.observed[0], row.observed[1], row.observed[2], time, view)
                              for time in times]
    return snapshots


def _points_at(h, v, values, time: float, view: View) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """The ``(x, values)`` given at ``time`` (sorted along x), None where there are none."""
    keep = _near(np.asarray(v, dtype=float).reshape(-1), time, view, view.vertical)
    if not keep.any():
        return None
    x, values = np.asarray(h, dtype=float).reshape(-1)[keep], np.asarray(values, dtype=float).reshape(-1)[keep]
    order = np.argsort(x, kind="stable")
    return x[order], values[order]


def _posterior_spread(run, columns: dict, shape) -> dict:
    """A PINN inference's posterior mean and ``_std`` of every field on the plot's grid ({} for other runs)."""
    from .scalar_posterior import field_spread

    folder = getattr(run, "folder", None)
    spread = field_spread(run, folder, columns) if folder is not None else None
    return {key: values.reshape(shape) for key, values in spread.items()} if spread else {}


def _drawn_inputs(run, fine: Sheet, columns: dict) -> list[Row]:
    """A row per random input the run drew (``--instance``), so the coefficient is seen beside the solution."""
    instance = getattr(run.objective, "instance", None)
    if instance is None:
        return []
    import torch

    points = {a: torch.as_tensor(np.asarray(columns[a], dtype=np.float64)) for a in instance.axes}
    rows = []
    for name in instance.inputs:
        with torch.no_grad():
            values = instance.interpolant(name)(points).numpy().reshape(fine.inside.shape)
        rows.append(Row(name, Sheet(fine.h, fine.v, True, fine.inside, fine.fixed, values),
                        shown=f"input drawn with --instance {instance.seed}"))
    return rows


def _observed(run, view: View, fixed: dict[str, float], name: str) -> Optional[tuple]:
    """The observations of field ``name`` that lie on the view (all of them, without fixed coordinates)."""
    observation = next((o for o in run.problem.observations if o.name == name), None)
    if observation is None:
        return None
    try:
        points, values = load_points(observation.data.path, name, coordinate_names(run.problem))
    except (PdeError, OSError, ValueError, KeyError):
        return None
    keep = np.ones(len(values), dtype=bool)
    for a, value in fixed.items():
        keep &= np.abs(points[a] - value) <= 1e-6 * max(view.high[a] - view.low[a], 1e-12)
    if not keep.any():
        return None
    return (points[view.horizontal][keep], points[view.vertical][keep] if view.vertical else None, values[keep])


def _error_labels(run, rows: list[Row]) -> dict[str, str]:
    """Each field's error as a panel title says it: the relative L2 error as ``result.json`` measures it, else
    as seen on the plotted points; the RMS error where the truth is zero (it has no relative error)."""
    from .metrics import accuracy, relative_error

    try:
        relative, rms = accuracy(run.problem, run.module, run.model, run.objective.params, run.dtype, run.device)
    except (PdeError, OSError, ValueError, KeyError):
        relative, rms = {}, {}
    for row in rows:
        if row.name not in relative and row.data is not None:
            d = row.data
            ok = d.inside & np.isfinite(d.truth)
            relative[row.name] = relative_error(d.prediction[ok], d.truth[ok])
            rms[row.name] = float(np.sqrt(np.mean((d.prediction - d.truth)[ok] ** 2))) if ok.any() else None
    labels = {}
    for name, value in relative.items():
        if value is not None:
            labels[name] = f"rel. L2 {value:.2e}"
        elif rms.get(name) is not None:
            labels[name] = f"RMS error {rms[name]:.2e}"
    return labels


# ---- drawing ----
def _read_metrics(folder: Path) -> list[dict]:
    """The records of ``metrics.jsonl`` that can be drawn: a line cut short by a killed run, or one that is not
    a record as training writes it (edited by hand, say), is passed over."""
    path = folder / "metrics.jsonl"
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a killed run
        if _drawable(record):
            records.append(record)
    return records


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(value) -> bool:
    """A name -> number mapping as result.json and metrics.jsonl hold them (null: a number that was not finite)."""
    return isinstance(value, dict) and all(_number(v) or v is None for v in value.values())


def _drawable(record) -> bool:
    return (isinstance(record, dict) and _number(record.get("step", 0)) and _numbers(record.get("terms", {}))
            and _numbers(record.get("rel_l2", {})))


#: The entries of result.json that plots read, with the type training writes each as.
_RESULT_ENTRIES = {"steps": _number, "wall_s": _number, "test_samples": _number, "rel_l2": _numbers,
                   "params": _numbers, "mode": lambda value: isinstance(value, str)}


def read_result(folder: Path) -> dict:
    """A run's ``result.json``, without the entries plots read that do not have the type training writes
    ({} where there is none, or it is not a JSON object): a damaged or edited file is not worth a crash."""
    try:
        result = json.loads((Path(folder) / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(result, dict):
        return {}
    return {key: value for key, value in result.items() if key not in _RESULT_ENTRIES or _RESULT_ENTRIES[key](value)}


def formatted(value, spec: str) -> str:
    """``value`` formatted by ``spec``, or 'nan' for a number JSON holds as null (it was not finite)."""
    return "nan" if value is None else format(value, spec)


def _finite(values) -> np.ndarray:
    return np.array([v if isinstance(v, (int, float)) and math.isfinite(v) else np.nan for v in values], dtype=float)


def _positive(values) -> np.ndarray:
    return np.array([v if isinstance(v, (int, float)) and math.isfinite(v) and v > 0 else np.nan for v in values],
                    dtype=float)


def _draw_losses(ax, records: list[dict], final: Optional[dict] = None) -> None:
    """Loss terms against steps, and on a right axis the errors logged by ``--eval-every``, ending with the run's
    ``final`` result (``result.json``: its step count and errors) where there is one."""
    ax.set_title("training loss", fontsize=10)
    if not records:
        ax.text(0.5, 0.5, "no metrics.jsonl yet", ha="center", va="center", transform=ax.transAxes, color="0.4")
        ax.set_xticks([])
        ax.set_yticks([])
        return
    steps = np.array([r.get("step", i) for i, r in enumerate(records)], dtype=float)
    marker = dict(marker="o", ms=3) if len(records) < 25 else {}
    terms = []
    for r in records:
        terms.extend(name for name in r.get("terms", {}) if name not in terms)
    curves = {"total": _finite([r.get("loss") for r in records])}
    curves.update({name: _finite([r.get("terms", {}).get(name) for r in records]) for name in terms})
    values = np.concatenate(list(curves.values()))
    values = values[np.isfinite(values)]
    signed = bool(values.size and values.min() < 0)  # a log-likelihood term (DGNO's Gaussian inputs) can be < 0; a
    # term at exactly 0 (the KL at the first step) is no reason for a signed axis: the log axis leaves it out
    for i, (name, curve) in enumerate(curves.items()):
        # the total as a wide grey band under the terms: a single term (or a dominant one) equals it, and drawn
        # on top it would hide that term's line
        style = dict(color="0.55", lw=4.0, alpha=0.5, zorder=1) if name == "total" else \
            dict(color=TERM_COLOURS[(i - 1) % len(TERM_COLOURS)], lw=1.1, zorder=2)
        ax.plot(steps, curve if signed else np.where(curve > 0, curve, np.nan), label=name, **style, **marker)
    if signed:  # logarithmic away from zero, linear within the smallest magnitude's reach of it
        magnitudes = np.abs(values[values != 0])
        ax.set_yscale("symlog", linthresh=float(magnitudes.min()) if magnitudes.size else 1.0)
        ax.axhline(0.0, color="0.6", lw=0.8)
    else:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.08)
    adam = [r.get("step", 0) for r in records if r.get("phase") == "adam"]
    for phase, label in (("lbfgs", " L-BFGS"), ("lm", " LM")):
        later = [r.get("step", 0) for r in records if r.get("phase") == phase]
        if later:
            at = max(adam) if adam else min(later)
            ax.axvline(at, color="0.5", ls=":", lw=1)
            ax.text(at, 0.985, label, transform=ax.get_xaxis_transform(), va="top", ha="left", fontsize=8,
                    color="0.35")
    handles, labels = ax.get_legend_handles_labels()
    errors = _draw_errors(ax, records, final)
    handles, labels = handles + errors[0], labels + errors[1]
    # below the axes, so that it never hides a curve
    height = ax.figure.get_figheight() - 0.6  # the axes' height in inches, roughly: the legend sits 0.5 in below
    ax.legend(handles, labels, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.5 / height),
              ncol=min(len(labels), 4), frameon=False, handlelength=1.6, columnspacing=1.2)


def _draw_errors(ax, records: list[dict], final: Optional[dict] = None) -> tuple[list, list]:
    """The errors logged during training (``--eval-every``: on held-out members, or against the exact solution
    or reference), on a right-hand log axis of their own; returns their legend handles and labels. The final
    errors (``result.json``) end the curve: training logs none at its last step."""
    measured = [r for r in records if r.get("rel_l2")]
    if not measured:
        return [], []
    if final and final.get("rel_l2") and final.get("steps") is not None and final["steps"] > measured[-1].get("step", 0):
        measured.append({"step": final["steps"], "rel_l2": final["rel_l2"]})
    right = ax.twinx()
    handles, labels = [], []
    names = []
    for r in measured:
        names.extend(name for name in r["rel_l2"] if name not in names)
    steps = np.array([r.get("step", 0) for r in measured], dtype=float)
    for i, name in enumerate(names):
        line, = right.plot(steps, _positive([r["rel_l2"].get(name) for r in measured]), color="black", lw=1.2,
                           ls=("--", "-.", ":")[i % 3], marker="s", ms=3)
        handles.append(line)
        labels.append(f"rel. L2 error {name} (right)")
    right.set_yscale("log")
    right.set_ylabel("relative L2 error", fontsize=8)
    right.tick_params(labelsize=7)
    return handles, labels


def _limits(*arrays) -> tuple[float, float]:
    finite = [np.asarray(a, dtype=float) for a in arrays if a is not None]
    finite = np.concatenate([a[np.isfinite(a)] for a in finite]) if finite else np.zeros(0)
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if high - low <= 1e-12 * max(abs(low), abs(high), 1.0):
        pad = max(abs(high), 1.0) * 1e-3
        low, high = low - pad, high + pad
    return low, high


def _color_map(low: float, high: float):
    """A diverging map centred on 0 for fields of both signs, a sequential one otherwise."""
    if low < 0 < high and min(-low, high) > 0.15 * max(-low, high):
        bound = max(-low, high)
        return "RdBu_r", -bound, bound
    return "viridis", low, high


def _image(figure, ax, problem, view: View, sheet: Sheet, values, cmap, vmin, vmax):
    values = np.asarray(values, dtype=float)
    if sheet.grid:
        masked = np.ma.masked_where(~sheet.inside | ~np.isfinite(values), values)
        mesh = ax.pcolormesh(sheet.h, sheet.v, masked.T, cmap=cmap, vmin=vmin, vmax=vmax, rasterized=True,
                             shading="gouraud" if sheet.smooth else "nearest")
    else:
        import matplotlib.tri as mtri

        triangulation = mtri.Triangulation(sheet.h, sheet.v)
        corners = triangulation.triangles
        centroids = _columns(view, {view.horizontal: sheet.h[corners].mean(axis=1),
                                    view.vertical: sheet.v[corners].mean(axis=1)}, sheet.fixed)
        hidden = ~_inside(problem, centroids) | ~np.isfinite(values[corners]).all(axis=1)
        triangulation.set_mask(hidden)
        mesh = ax.tripcolor(triangulation, np.where(np.isfinite(values), values, 0.0), cmap=cmap, vmin=vmin,
                            vmax=vmax, shading="gouraud", rasterized=True)
    colorbar = figure.colorbar(mesh, ax=ax, shrink=0.92, pad=0.02)
    colorbar.ax.tick_params(labelsize=7)
    colorbar.formatter.set_powerlimits((-3, 4))
    colorbar.update_ticks()
    outline = _outline(problem, view, sheet.fixed)
    if outline is not None:
        ax.contour(outline[0], outline[1], outline[2].T, levels=[0.0], colors="0.15", linewidths=0.9)
    ax.set_xlabel(view.horizontal)
    ax.set_ylabel(view.vertical)
    ax.set_xlim(view.low[view.horizontal], view.high[view.horizontal])
    ax.set_ylim(view.low[view.vertical], view.high[view.vertical])
    ax.tick_params(labelsize=8)
    ax.locator_params(axis="both", nbins=TICKS)
    if view.vertical in problem.axes:  # space against space: true proportions, unless very elongated
        width = view.high[view.horizontal] - view.low[view.horizontal]
        height = view.high[view.vertical] - view.low[view.vertical]
        if 0.25 <= height / max(width, 1e-300) <= 4:
            ax.set_aspect("equal")


def _at(fixed: dict[str, float]) -> str:
    return ", ".join(f"{a} = {v:.3g}" for a, v in fixed.items())


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.4", wrap=True)
    ax.set_axis_off()


def _draw_curves(figure, grid, index: int, row: Row, view: View, error: str, any_truth: bool) -> None:
    fine, data = row.fine, row.data
    x = view.horizontal
    ax = figure.add_subplot(grid[index, 0])
    ax.plot(fine.h, np.where(fine.inside, fine.prediction, np.nan), color="C0", lw=1.8,
            label="prediction" if row.spread is None else "posterior mean")
    if row.spread is not None:
        ax.fill_between(fine.h, np.where(fine.inside, fine.prediction - Z95 * row.spread, np.nan),
                        np.where(fine.inside, fine.prediction + Z95 * row.spread, np.nan), color="C0", alpha=0.25,
                        lw=0, label="95% band")
    if data is not None:
        style = (dict(color="black", lw=1.2, ls="--") if data.grid and data.h.size > 60
                 else dict(color="black", ls="none", marker="o", ms=2.5))
        ax.plot(data.h, data.truth, label=row.label, **style)
    if row.observed is not None:
        ax.plot(row.observed[0], row.observed[2], ls="none", marker="x", ms=4, color="C1", label="observed")
    ax.set_xlabel(x)
    ax.set_ylabel(row.name)
    ax.set_xlim(view.low[x], view.high[x])
    ax.grid(True, alpha=0.3)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8, loc="best")
    title = f"{row.name}: {row.shown}" + (f" and {row.label}" if data is not None else "")
    ax.set_title(title + (f"\n{error}" if error else ""), fontsize=10)
    if row.note:
        ax.text(0.02, 0.02, row.note, transform=ax.transAxes, fontsize=7, color="0.4")
    if data is not None:
        ax = figure.add_subplot(grid[index, 1])
        difference = np.abs(data.prediction - data.truth)
        shown = np.where(data.inside & (difference > 0), difference, np.nan)
        ax.semilogy(data.h, shown, color="C3", lw=1.2, **({} if data.h.size > 60 else dict(marker="o", ms=2.5)))
        floor = _error_floor(shown)
        if floor is not None:
            ax.set_ylim(bottom=floor)
        ax.set_xlabel(x)
        ax.set_ylabel(f"|{row.name} - {row.label.split(' ')[0]}|")
        ax.set_xlim(view.low[x], view.high[x])
        ax.grid(True, which="both", alpha=0.25)
        ax.tick_params(labelsize=8)
        whole = " (whole domain)" if data.fixed and error else ""  # the slice shown is not all that was measured
        ax.set_title(f"{row.name}: |error|" + (f" at {_at(data.fixed)}" if data.fixed else "")
                     + (f"\n{error}{whole}" if error else ""), fontsize=10)
    elif any_truth and row.shown in ("prediction", "posterior mean"):
        _empty(figure.add_subplot(grid[index, 1]), f"{row.name}: no exact solution or reference")


def _error_floor(errors: np.ndarray) -> Optional[float]:
    """The bottom of a log error axis: a decade under the error's 1st percentile, so that the few points where
    prediction and truth agree exactly (an end both hold by construction: 1e-16) do not stretch the axis over
    ten empty decades and squash the curve; None where the lowest error is above it anyway."""
    finite = errors[np.isfinite(errors) & (errors > 0)]
    if finite.size < 2:
        return None
    floor = float(np.percentile(finite, 1)) / 10
    return floor if floor > finite.min() else None


def _draw_images(figure, grid, index: int, row: Row, view: View, problem, error: str, any_truth: bool) -> None:
    fine, data = row.fine, row.data
    shown = [np.where(fine.inside, fine.prediction, np.nan)]
    if data is not None:
        shown.append(np.where(data.inside, data.truth, np.nan))
    cmap, vmin, vmax = _color_map(*_limits(*shown))
    where = f" at {_at(fine.fixed)}" if fine.fixed else ""
    ax = figure.add_subplot(grid[index, 0])
    _image(figure, ax, problem, view, fine, fine.prediction, cmap, vmin, vmax)
    if row.observed is not None:  # where the data are: dots coloured like the field
        h, v, values = row.observed
        ax.scatter(h, v, c=values, cmap=cmap, vmin=vmin, vmax=vmax, s=9, edgecolors="black", linewidths=0.4,
                   label="observed", zorder=3)
        ax.legend(fontsize=7, loc="upper right", framealpha=0.8, handletextpad=0.2)
    ax.set_title(f"{row.name}: {row.shown}{where}" + (f"\n{error}" if error and data is None else ""), fontsize=10)
    if row.note:
        ax.text(0.02, 0.02, row.note, transform=ax.transAxes, fontsize=7, color="0.3")
    if data is not None:
        ax = figure.add_subplot(grid[index, 1])
        _image(figure, ax, problem, view, data, data.truth, cmap, vmin, vmax)
        ax.set_title(f"{row.name}: {row.label}" + (f" at {_at(data.fixed)}" if data.fixed else ""), fontsize=10)
        ax = figure.add_subplot(grid[index, 2])
        difference = data.prediction - data.truth  # signed: where the model is high (red) or low (blue)
        bound = _limits(np.abs(np.where(data.inside, difference, np.nan)))[1]
        _image(figure, ax, problem, view, data, difference, "RdBu_r", -max(bound, 1e-300), max(bound, 1e-300))
        whole = " (whole domain)" if data.fixed and error else ""  # the slice shown is not all that was measured
        ax.set_title(f"{row.name}: error ({row.shown} - {row.label.split(' ')[0]})"
                     + (f" at {_at(data.fixed)}" if data.fixed else "")
                     + (f"\n{error}{whole}" if error else ""), fontsize=10)
    elif any_truth and row.shown in ("prediction", "posterior mean"):
        _empty(figure.add_subplot(grid[index, 1]), f"{row.name}: no exact solution or reference")


def _draw_snapshots(ax, row: Row, view: View) -> None:
    """Row ``row``'s snapshots: one colour per time (dark early, light late), the prediction solid (with its 95%
    band after an inference), the truth dashed black over it, the observations as dots of the time's colour."""
    import matplotlib

    snapshots = row.snapshots
    colours = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.78, len(snapshots.times)))  # (past 0.8: too pale on white)
    truth_label = row.label.split(" ")[0] if row.label else "truth"
    for k, (time, colour) in enumerate(zip(snapshots.times, colours)):
        prediction = snapshots.prediction[k]
        ax.plot(snapshots.x, prediction, color=colour, lw=1.6, label=f"{view.vertical} = {time:.3g}", zorder=2)
        if snapshots.spread is not None:
            ax.fill_between(snapshots.x, prediction - Z95 * snapshots.spread[k], prediction + Z95 * snapshots.spread[k],
                            color=colour, alpha=0.2, lw=0)
        truth = snapshots.truth[k] if snapshots.truth else None
        if truth is not None:
            style = (dict(ls="--", lw=1.0) if truth[0].size > 60 else dict(ls="none", marker="s", ms=2.5))
            ax.plot(truth[0], truth[1], color="black", zorder=3, label=truth_label if k == 0 else None, **style)
        observed = snapshots.observed[k] if snapshots.observed else None
        if observed is not None:
            ax.plot(observed[0], observed[1], ls="none", marker="o", ms=4, mfc=colour, mec="black", mew=0.5,
                    zorder=4, label="observed" if not any(l.get_label() == "observed" for l in ax.lines) else None)
    ax.set_xlabel(view.horizontal)
    ax.set_ylabel(row.name)
    ax.set_xlim(view.low[view.horizontal], view.high[view.horizontal])
    ax.grid(True, alpha=0.3)
    ax.tick_params(labelsize=8)
    ax.locator_params(axis="x", nbins=TICKS)
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith(f"{view.vertical} ="))  # times first
    ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=7, loc="best", framealpha=0.8)
    what = "posterior mean, 95% band" if snapshots.spread is not None else row.shown
    ax.set_title(f"{row.name}: {what} at {len(snapshots.times)} times", fontsize=10)


def _headline(problem, result: dict, instance=None, form: str = "strong") -> str:
    """Problem, dimension, the form where it is not the strong one (a weak-form run looked like any other), steps
    and time, the inferred params, and the params ``--instance`` drew."""
    parts = [problem.name, f"{len(problem.axes)}-D" + (" + time" if problem.time is not None else "")]
    if form != "strong":
        parts.append(f"{form} form")
    steps, wall = result.get("steps"), result.get("wall_s")
    if steps is not None:
        parts.append(f"{steps} steps" + (f" in {wall:.1f} s" if isinstance(wall, (int, float)) else ""))
    inferred = result.get("params") or {}
    spread = result.get("params_std") or {}
    if inferred:
        parts.append(", ".join(f"{k} = {formatted(v, '.4g')}" + (f" +- {formatted(spread[k], '.2g')}"
                                                                 if k in spread else "")
                               for k, v in inferred.items()))
    drawn = {k: v for k, v in (instance.params if instance is not None else {}).items() if k not in inferred}
    if drawn:
        parts.append(", ".join(f"{k} = {v:.4g}" for k, v in drawn.items()) + f" (drawn, --instance {instance.seed})")
    return "  |  ".join(parts)


def plot(folder, output_path=None, run=None, at: Optional[dict[str, float]] = None) -> Path:
    """Draw the run in ``folder`` into one PNG at ``output_path`` (default ``folder/plot.png``); returns its path.

    ``run`` may be an already opened :class:`~pdedsl.training.Run` of ``folder``. ``at`` holds the coordinates
    the panels do not show (time, a third axis) at other values than the default (the final time, the middle).
    """
    from .inference import is_posterior_folder
    from .run import Run  # here, not at the top: run.py imports the training machinery

    folder = Path(folder)
    output = output_path_of(folder, output_path)
    if run is None and is_posterior_folder(folder):  # written by 'pdedsl infer --model'
        from .posterior_views import plot_posterior

        _refuse_at(at, "a posterior")
        return plot_posterior(folder, output)
    run = run if run is not None else Run.open(folder)
    if run.operator:
        from .operator_views import plot_members

        _refuse_at(at, "an operator run")
        return plot_members(run, folder, output)
    return _save(figure_of(run, folder, at), output)


def figure_of(run, folder, at: Optional[dict[str, float]] = None):
    """The matplotlib Figure of a PINN run (what :func:`plot` saves), so that tests can read its axes, titles
    and images rather than pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    folder = Path(folder)
    problem = run.problem
    view = _held_at(_view(problem), at or {})
    rows = _rows(run, view)
    errors = _error_labels(run, rows)
    result = read_result(folder)

    curve = view.vertical is None
    any_truth = any(row.data is not None for row in rows)
    columns = (2 if curve else 3) if any_truth else 1
    snapshot_column = columns if any(row.snapshots is not None for row in rows) else None
    columns += snapshot_column is not None
    figure = Figure(figsize=(columns * PANEL[0] + LOSS_WIDTH, max(len(rows) * PANEL[1], 3.8) + 0.3),
                    layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(len(rows), columns + 1, width_ratios=[1] * columns + [LOSS_WIDTH / PANEL[0]])
    for index, row in enumerate(rows):
        error = errors.get(row.name, "") if row.shown in ("prediction", "posterior mean") else ""  # (not a std's)
        if curve:
            _draw_curves(figure, grid, index, row, view, error, any_truth)
        else:
            _draw_images(figure, grid, index, row, view, problem, error, any_truth)
        if row.snapshots is not None:
            _draw_snapshots(figure.add_subplot(grid[index, snapshot_column]), row, view)
    _draw_losses(figure.add_subplot(grid[:, columns]), _read_metrics(folder), result)
    headline = _headline(problem, {**result, **_inferred_spread(folder)}, getattr(run.objective, "instance", None),
                         getattr(run.config, "form", "strong"))
    if not result and run.checkpoint_mark is not None:  # a run still training (or killed)
        headline += f"  |  unfinished: checkpoint of step {run.checkpoint_mark[0]:.0f} of {run.config.total_steps}"
    figure.suptitle(headline, fontsize=11)
    return figure


def _inferred_spread(folder: Path) -> dict:
    """A PINN inference's posterior mean and standard deviation of its unknowns (``inference.json``), for the
    headline; nothing where the folder has none (or one that does not read: the plot does not need it)."""
    try:
        report = json.loads((Path(folder) / "inference.json").read_text(encoding="utf-8"))
        kept = {key: {name: value for name, value in report[key].items()
                      if value is None or isinstance(value, (int, float))}
                for key in ("params", "params_std") if isinstance(report.get(key), dict)}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}
    return {key: values for key, values in kept.items() if values}


def _refuse_at(at: Optional[dict], what: str) -> None:
    if at:
        raise PlotOptionError(f"--at is for PINN runs; the plot of {what} shows its members or posterior whole")


def output_path_of(folder: Path, output_path=None) -> Path:
    """Where a plot goes: ``folder/plot.png`` by default, ``plot.png`` inside a folder given (an existing one, or a
    name ending in '/'), else the file named, whose extension picks the format."""
    if output_path is None:
        return Path(folder) / "plot.png"
    output = Path(output_path)
    if os.path.isdir(output) or str(output_path).endswith(("/", os.sep)):  # (isdir: False for a name too long)
        return output / "plot.png"
    if output.suffix.lower()[1:] not in PICTURE_FORMATS:
        raise PlotOptionError(f"{output}: a plot is written as " + ", ".join(f".{f}" for f in PICTURE_FORMATS)
                        + f" (name the file so), not as '{output.suffix or 'a name without extension'}'")
    return output


def _save(figure, output: Path) -> Path:
    """Save atomically (:func:`pdedsl.files.replacing`), in the format its extension names."""
    try:
        make_folder_of(output)
    except OSError as error:
        raise PlotError(f"cannot write {output}: {error.strerror or error}") from None
    try:
        with replacing(output) as handle:
            figure.savefig(handle, format=output.suffix.lower()[1:] or "png", dpi=DPI)
    except OSError as error:
        raise PlotError(f"cannot write {output}: {error.strerror or error}") from None
    return output
