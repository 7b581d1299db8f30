"""Prediction: evaluate a trained run's fields at the points of an ``.npz`` file.

The points file uses the language's data layout (see ``language.md``), without
the field arrays:

* scattered: one array per coordinate of the problem (space axes, then time),
  all the same shape (normally 1-D, length ``n``); the fields come back in that
  same shape;
* grid: one 1-D array per coordinate, of any lengths; the fields are evaluated
  on the full grid and come back shaped ``(len(x), len(y), ..., len(t))``, in
  the order the axes were declared, space before time.

Equal lengths are ambiguous (``n`` scattered points, or an ``n x n`` grid).
A field array in the file settles it (its shape, as for ``reference`` data);
otherwise equal lengths mean scattered points, unless ``layout="grid"`` says
otherwise.

The output ``.npz`` holds the coordinate arrays as given plus one array per
field, and is written atomically (a temporary file, then ``os.replace``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Mapping

import numpy as np
import torch

from ..errors import PdeError
from ..files import make_folder_of, replacing
from ..ir.build.data_files import COORDINATE_LIKE
from ..npz import NpzError, open_npz, read_array
from ..runtime import sampling

#: Points evaluated per forward pass (bounds memory on large grids).
CHUNK = 1 << 16

LAYOUTS = ("auto", "scattered", "grid")


class PredictError(PdeError):
    """A points file does not fit the run's problem, or an output cannot be written (the message says how)."""


def coordinate_names(problem) -> tuple[str, ...]:
    """The problem's coordinates in data-file order: space axes, then time."""
    return tuple(problem.axes) + ((problem.time.name,) if problem.time is not None else ())


def evaluate_fields(run, columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every field of ``run``'s model at the points ``columns`` (flat arrays by coordinate name), as float64."""
    names = coordinate_names(run.problem)
    count = len(next(iter(columns.values()))) if columns else 0
    parts: dict[str, list[np.ndarray]] = {f.name: [] for f in run.problem.fields}
    run.model.eval()
    with torch.no_grad():
        for start in range(0, max(count, 1), CHUNK):
            chunk = {a: torch.as_tensor(np.asarray(columns[a][start:start + CHUNK], dtype=np.float64),
                                        dtype=run.dtype, device=run.device) for a in names}
            out = run.model(chunk)
            for name in parts:
                value = out[name]
                size = len(next(iter(chunk.values())))
                parts[name].append(np.broadcast_to(value.detach().to("cpu", torch.float64).numpy(), (size,)).copy())
    return {name: np.concatenate(chunks) if chunks else np.zeros(0) for name, chunks in parts.items()}


def exact_fields(run, columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The closed-form exact solution of every field that has one, at the points ``columns``, as float64."""
    values = {}
    count = len(next(iter(columns.values())))
    coords = {a: torch.as_tensor(np.asarray(c, dtype=np.float64), dtype=torch.float64) for a, c in columns.items()}
    params = {k: torch.as_tensor(v.detach().to("cpu", torch.float64)) for k, v in run.objective.params.items()}
    with torch.no_grad():
        for name, exact in run.module.EXACT.items():
            arguments = {identifier: coords[key] if role == "coordinate" else params[key]
                         for identifier, (role, key) in exact["arguments"].items()}
            truth = torch.as_tensor(exact["function"](**arguments), dtype=torch.float64)
            values[name] = np.broadcast_to(truth.numpy(), (count,)).copy()
    return values


def read_points(path, problem, layout: str = "auto") -> tuple[dict[str, np.ndarray], str, tuple[int, ...]]:
    """``(arrays as given, layout, result shape)`` of a points file; raises :class:`PredictError` if it does not fit."""
    if layout not in LAYOUTS:
        raise PredictError(f"unknown layout '{layout}' (expected one of {', '.join(LAYOUTS)})")
    path = Path(path)
    names = coordinate_names(problem)
    if not path.is_file():
        raise PredictError(f"{path}: no such points file")
    try:
        archive = open_npz(path)
    except NpzError as error:
        raise PredictError(f"{path}: not a readable .npz archive: {error}") from None
    with archive:
        missing = [a for a in names if a not in archive.files]
        if missing:
            has = ", ".join(map(repr, archive.files)) or "no arrays"
            raise PredictError(f"{path}: no coordinate array named {', '.join(map(repr, missing))} "
                               f"(problem '{problem.name}' needs {', '.join(map(repr, names))}; the file has {has})")
        try:
            arrays = {a: read_array(archive, a) for a in names}
            field_shapes = {f.name: read_array(archive, f.name).shape for f in problem.fields
                            if f.name in archive.files}
        except NpzError as error:
            raise PredictError(f"{path}: {error}") from None
        stray = sorted((COORDINATE_LIKE & set(archive.files)) - set(names) - {f.name for f in problem.fields})
    if stray:  # points at (x, t) answered at x alone would be silently wrong
        print(f"pdedsl: warning: {path}: {', '.join(map(repr, stray))} named like a coordinate, but problem "
              f"'{problem.name}' has coordinates {', '.join(map(repr, names))}: "
              f"{'it is' if len(stray) == 1 else 'they are'} not read", file=sys.stderr)
    for name, array in arrays.items():
        if array.dtype.kind == "b":
            raise PredictError(f"{path}: coordinate '{name}' has dtype {array.dtype}; numbers are needed")
        if array.ndim == 0:
            raise PredictError(f"{path}: coordinate '{name}' is a single number (a 0-d array); "
                               "give a 1-D array of coordinates")
        if array.size == 0:
            raise PredictError(f"{path}: coordinate '{name}' is empty")
        if not np.isfinite(array).all():
            raise PredictError(f"{path}: coordinate '{name}' has non-finite values (nan or inf)")
    shapes = {a: arr.shape for a, arr in arrays.items()}
    described = ", ".join(f"{a} {s}" for a, s in shapes.items())
    same = len(set(shapes.values())) == 1
    all_1d = all(len(s) == 1 for s in shapes.values())
    grid_shape = tuple(s[0] for s in shapes.values()) if all_1d else None

    if layout == "auto":
        if field_shapes and all_1d:
            shape = next(iter(field_shapes.values()))
            if shape == grid_shape and len(names) > 1:
                layout = "grid"
            elif same and shape == shapes[names[0]]:
                layout = "scattered"
        if layout == "auto":
            layout = "scattered" if same else "grid"
    if layout == "scattered":
        if not same:
            reason = "the same shape" if not all_1d else "the same length"
            raise PredictError(f"{path}: scattered points need coordinate arrays of {reason}, but they are "
                               f"{described}; for a grid, give one 1-D array per coordinate")
        return arrays, "scattered", shapes[names[0]]
    if not all_1d:
        raise PredictError(f"{path}: the coordinate arrays fit neither layout: scattered points need arrays of the "
                           f"same shape, a grid one 1-D array per coordinate; they are {described}")
    return arrays, "grid", grid_shape


def outside_count(problem, columns: Mapping[str, np.ndarray], slack: float | None = None) -> int:
    """How many points lie outside every domain the equations are posed on (or the time interval): the model
    extrapolates there. ``slack``, relative to each shape's scale, widens the test (data stored in float32
    sit up to ~1e-7 off the edges they were meant to lie on); None takes the float64 tolerance."""
    try:
        samplers = [sampling.target_sampler(problem, domain) for domain in equation_domains(problem)]
    except PdeError:
        return 0
    axes = samplers[0].axes
    count = len(np.asarray(columns[axes[0]]).reshape(-1)) if axes else 0
    outside = 0
    for start in range(0, count, CHUNK):  # a pass at a time: the points of a large grid need not fit twice
        part = slice(start, start + CHUNK)
        points = torch.as_tensor(np.stack([np.asarray(columns[a][part], dtype=np.float64) for a in axes], 1))
        inside = np.zeros(len(points), dtype=bool)
        for shape in samplers:
            tolerance = None if slack is None else slack * shape.scale
            inside |= shape.contains(points, tolerance).numpy()
        if problem.time is not None and problem.time.name in columns:  # (an input's data hold no time)
            t = np.asarray(columns[problem.time.name][part], dtype=np.float64)
            margin = max(1e-9, slack or 0.0) * max(abs(problem.time.end - problem.time.start), 1.0)
            inside &= (t >= problem.time.start - margin) & (t <= problem.time.end + margin)
        outside += int((~inside).sum())
    return outside


def equation_domains(problem) -> list[str]:
    """The domains the equations are posed on (in order, once each); the default domain when there are none."""
    domains = []
    for equation in problem.equations:
        if equation.target is not None:
            domain = sampling.resolve_target(problem, equation.target)[0]
            if domain not in domains:
                domains.append(domain)
    return domains or [sampling._default_domain(problem)]


def write_npz(path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` atomically: a crash leaves the old file or the new one, never half of one."""
    path = Path(path)
    try:  # (a folder that cannot be made, under a file say, is refused like a file that cannot be written)
        make_folder_of(path)
        with replacing(path) as handle:
            np.savez(handle, **arrays)
    except OSError as error:
        raise PredictError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def point_columns(arrays: Mapping[str, np.ndarray], layout: str, names) -> dict[str, np.ndarray]:
    """Flat coordinate arrays of every point: the full grid's nodes, or the scattered points as given."""
    if layout == "grid":
        mesh = np.meshgrid(*(np.asarray(arrays[a], dtype=np.float64) for a in names), indexing="ij")
        return {a: m.reshape(-1) for a, m in zip(names, mesh)}
    return {a: np.asarray(arrays[a], dtype=np.float64).reshape(-1) for a in names}


#: What a run or posterior folder keeps (training, infer and their caches write these): never a predict's output.
FOLDER_FILES = frozenset({"checkpoint.pt", "config.json", "spec.pde", "solver.py", "metrics.jsonl", "result.json",
                          "test.npz", "instance.npz", "members.train.npz", "members.test.npz", "inference.json",
                          "posterior.npz", "fields.npz", "latent_prior.npz", "model_error.npz", "laplace.pt", ".lock"})


def check_output(folder, points_path, output_path) -> None:
    """Refuse an output that would replace the points file, or a file of the folder answering (its checkpoint,
    say, or a data file under data/): a slip of -o would lose the run."""
    output = Path(output_path).resolve()
    if output == Path(points_path).resolve():
        raise PredictError(f"{output_path}: the output would overwrite the points file; write it elsewhere (-o)")
    own = Path(folder).resolve()
    if (output.parent == own and output.name in FOLDER_FILES) or own / "data" in output.parents:
        raise PredictError(f"{output_path}: the output would overwrite {output.name}, a file of the folder {folder} "
                           "that its run needs; write it elsewhere (-o)")
    if output.suffix.lower() == ".pde":  # (as compile -o and data -o refuse it)
        raise PredictError(f"-o {output_path} would overwrite a spec with predictions; write them to a .npz file")


def _spread_or_plain(run, folder, columns) -> dict[str, np.ndarray]:
    """A PINN inference's fields with their posterior ``_std`` (scalar_posterior.py), else the fields alone."""
    from .scalar_posterior import field_spread

    spread = field_spread(run, folder, columns) if np.size(next(iter(columns.values()), [])) else None
    return spread if spread is not None else evaluate_fields(run, columns)


def predict(folder, points_path, output_path, layout: str = "auto", run=None) -> dict:
    """Evaluate every field of the run in ``folder`` at the points of ``points_path``; write ``output_path``.

    Returns a summary: ``{"output", "layout", "shape", "points", "fields", "outside_domain"}``
    (``outside_domain``: points outside the domain or time interval, where the model extrapolates).
    ``run`` may be an already opened :class:`~pdedsl.training.Run` of ``folder``.
    """
    from .inference import is_posterior_folder
    from .run import Run  # here, not at the top: run.py imports the training machinery

    check_output(folder, points_path, output_path)
    if run is None and is_posterior_folder(folder):  # written by 'pdedsl infer --model'
        from .posterior_views import predict_posterior

        return predict_posterior(folder, points_path, output_path, layout)
    run = run if run is not None else Run.open(Path(folder))
    if run.operator:  # it answers for members of its family: the file holds their inputs
        from .operator_views import predict_members

        return predict_members(run, points_path, output_path)
    problem = run.problem
    names = coordinate_names(problem)
    arrays, layout, shape = read_points(points_path, problem, layout)
    columns = point_columns(arrays, layout, names)
    fields = _spread_or_plain(run, folder, columns)
    output = {a: arrays[a] for a in names}
    output.update({name: values.reshape(shape) for name, values in fields.items()})
    written = write_npz(output_path, output)
    return {
        "output": str(written),
        "layout": layout,
        "shape": list(shape),
        "points": int(np.prod(shape)),
        "fields": list(fields),
        "outside_domain": outside_count(problem, columns),
    }
