"""The Python face of training: ``pdedsl.load(spec).solver().fit()`` then ``.predict(points)``."""

from __future__ import annotations

import dataclasses

import tempfile
from pathlib import Path
from typing import Mapping

import numpy as np

from .ir.listing import format_problem
from .ir.problem import Problem


class Solver:
    """Trains a backend on a problem; ``fit`` writes a run folder (a temporary one unless ``out`` is given)."""

    def __init__(self, problem: Problem, backend: str = "pinn", **backend_options):
        self.problem, self.backend, self.backend_options = problem, backend, backend_options
        self.run = None
        self.result: dict | None = None

    def fit(self, out: str | Path | None = None, progress: bool = False, **settings) -> dict:
        """Train; ``settings`` are TrainConfig fields (steps, lbfgs_steps, interior_points, seed, ...)."""
        from .training import Run, TrainConfig, train
        from .training.run import removed_if_left_empty

        known = {f.name for f in dataclasses.fields(TrainConfig)} - {"backend", "backend_options"}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise TypeError(f"unknown training setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        config = TrainConfig(backend=self.backend, backend_options=dict(self.backend_options), **settings)
        folder = Path(out) if out is not None else _temporary_folder(self.problem.name)
        with removed_if_left_empty(folder, existed=None if out is not None else False):
            self.result = train(self._spec_file(folder), config, folder, progress=progress)
        self.run = Run.open(folder)
        return self.result

    def _spec_file(self, folder: Path) -> Path:
        """A spec file of this very problem: its own file while that still says the same (so errors point
        into it), else the canonical listing, which loads back equal, with its data files' absolute paths
        (a spec given as text, edited since it was loaded, or a Problem changed in Python)."""
        source = Path(self.problem.source_name)
        if source.is_file() and _says(source, self.problem):
            return source
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "spec.pde"
        path.write_text(format_problem(self.problem, resolved_paths=True), encoding="utf-8")
        return path

    def predict(self, points: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every field at the given points: coordinate name -> array, list, torch tensor or scalar (a scalar
        stands for every point), all of one length; unknown or missing names, unequal lengths and values that
        are not real numbers are a ValueError. A run with an infer posterior gives no ``_std`` here (``pdedsl
        predict`` on its folder does)."""
        _check_mapping("predict", points, "coordinate names to arrays")
        if self.run is None:
            raise RuntimeError("call fit() before predict()")
        if self.run.operator:
            raise TypeError(f"the {self.backend} backend answers for members of the family: "
                            "use predict_members(arrays) with their inputs")
        from .training.predict import evaluate_fields

        from .training.predict import coordinate_names

        names = coordinate_names(self.problem)
        missing = [a for a in names if a not in points]
        if missing:
            raise ValueError(f"predict needs every coordinate; missing: {', '.join(missing)}")
        unknown = [a for a in points if a not in names]
        if unknown:
            raise ValueError(f"predict takes the coordinates {', '.join(names)}; not {', '.join(map(str, unknown))}")
        columns = {a: _real_column(a, points[a]) for a in names}
        try:  # a scalar stands for the same value at every point
            shaped = np.broadcast_arrays(*columns.values())
        except ValueError:
            lengths = ", ".join(f"{a} has {c.size}" for a, c in columns.items())
            raise ValueError(f"predict's coordinates must have one length, or be scalars: {lengths}") from None
        columns = {a: np.ascontiguousarray(c) for a, c in zip(columns, shaped)}
        return evaluate_fields(self.run, columns)  # the spec's fields only (not the mixed form's fluxes)

    def predict_members(self, members: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """An operator's fields for members given as ``pdedsl data`` arrays (axes, inputs, params; labels ignored).

        Returns those arrays plus each field of shape ``(n, len(x), ...)``.
        """
        _check_mapping("predict_members", members, "names to arrays, as pdedsl data writes them")
        if self.run is None:
            raise RuntimeError("call fit() before predict_members()")
        if not self.run.operator:
            raise TypeError(f"the {self.backend} backend solves one problem: use predict(points)")
        from .training.operator_views import predict_arrays

        return predict_arrays(self.run, {k: np.asarray(v) for k, v in members.items()})


def _check_mapping(method: str, value, what: str) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"{method} takes a mapping of {what} (a dict, or an npz file's contents), "
                        f"not {type(value).__name__}")


def _temporary_folder(problem_name: str) -> Path:
    """A new temporary run folder named after the problem (its first 40 characters: a problem's name may be
    longer than a file name can be)."""
    return Path(tempfile.mkdtemp(prefix=f"pdedsl-{problem_name[:40]}-"))


def _says(source: Path, problem) -> bool:
    """Whether the spec file ``source`` still loads to ``problem``."""
    from . import api
    from .errors import SpecError

    try:
        return api.load(source) == problem
    except (SpecError, OSError, UnicodeDecodeError):
        return False


def _real_column(name: str, values) -> np.ndarray:
    """A coordinate's values as a flat float64 array (NumPy, lists, scalars or torch tensors)."""
    if hasattr(values, "detach"):  # a torch tensor, perhaps one that requires grad or lives on a GPU
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or np.iscomplexobj(array):
        raise ValueError(f"predict's {name} must hold real numbers, not {array.dtype}")
    return array.astype(np.float64).reshape(-1)
