"""The model's own error in an inverse problem (the Bayesian approximation error of Kaipio and Somersalo).

A trained operator is not the physics: on held-out members its fields differ
from the reference solver's by several per cent, often more than the noise
of the observations. A posterior that ignores this trusts the model too much:
its band for ``u`` is far too narrow, and the data misfit pulls the latent
variables to explain the model's error as if it were signal.

:func:`model_error` measures the error ``e = u_reference - u_model`` on fresh
members of the family (drawn with their own seed, :data:`CALIBRATION_SEED`,
apart from training and test members), and keeps its mean and standard
deviation at every node of the sensor grid in ``model_error.npz`` in the run
folder (computed once for the model's checkpoint, then read; training on
makes it again). :class:`ModelError` evaluates them at any
points. ``pdedsl infer`` then (i) adds the mean to the model's prediction and
the variance to the noise variance of every observation, and (ii) makes
every posterior draw of a field a Gaussian, node by node, around the decoded
field plus the mean with the error's variance, and summarises their mixture
exactly (``runtime/mixtures.py``), so that bands and standard deviations
include the model's error without Monte Carlo noise of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..files import replacing
from ..npz import READ_ERRORS
from ..reference.from_spec import ReferenceError
from ..reference.dataset import generate
from ..runtime.family import pool_from_arrays
from ..runtime.priors.grid_field import GridField

#: Seed of the members the model error is measured on (training uses the run's seed, test sets their own).
CALIBRATION_SEED = 31337
#: Members the model error is measured on.
CALIBRATION_MEMBERS = 100
FILE_NAME = "model_error.npz"


class ModelError:
    """Mean and standard deviation of ``reference - model`` per field on a grid, evaluated at any points."""

    def __init__(self, axes: dict[str, np.ndarray], mean: dict[str, np.ndarray], std: dict[str, np.ndarray],
                 members: int, checkpoint=None):
        self.axes, self.mean, self.std, self.members = axes, mean, std, members
        self.checkpoint = None if checkpoint is None else [float(v) for v in checkpoint]  # Run.checkpoint_mark
        self._grids = {name: GridField(list(axes.values()), np.stack([mean[name], std[name]]), names=list(axes))
                       for name in mean}

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.mean)

    def at(self, name: str, coords: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of field ``name``'s error at the points ``coords`` (``[n]`` each)."""
        flat = {a: coords[a].reshape(-1) for a in self.axes}
        values = self._grids[name].to(next(iter(flat.values())).device)(flat)
        like = next(iter(coords.values()))
        return values[0].to(like.dtype).reshape(like.shape), values[1].to(like.dtype).reshape(like.shape)

    def save(self, path: Path) -> None:
        arrays = {**{a: v for a, v in self.axes.items()}, "members": np.asarray(self.members),
                  "axes": np.asarray(list(self.axes))}
        if self.checkpoint is not None:
            arrays["checkpoint"] = np.asarray(self.checkpoint, dtype=np.float64)
        arrays.update({f"{n}_mean": v for n, v in self.mean.items()})
        arrays.update({f"{n}_std": v for n, v in self.std.items()})
        with replacing(path) as handle:
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, path: Path, fields: list[str]) -> "ModelError":
        with np.load(path) as data:
            if "axes" in data.files:
                axes = [str(a) for a in data["axes"]]
            else:  # written before the axes' names were: every array that is not a count or a field's
                axes = [k for k in data.files if k != "members" and not k.endswith(("_mean", "_std"))]
            axes = [a for a in axes if a != "checkpoint"]
            return cls({a: data[a] for a in axes}, {n: data[f"{n}_mean"] for n in fields},
                       {n: data[f"{n}_std"] for n in fields}, int(data["members"]),
                       data["checkpoint"] if "checkpoint" in data.files else None)


def _saved(path: Path, fields: list[str]) -> Optional[ModelError]:
    """The model error kept at ``path``; None where there is none or it cannot be read (damaged, cut short,
    written for other fields): it is a cache, measured again then."""
    if not path.is_file():
        return None
    try:
        return ModelError.load(path, fields)
    except (*READ_ERRORS, KeyError, TypeError):
        return None


def model_error(run, members: int = CALIBRATION_MEMBERS, progress=None) -> tuple[Optional[ModelError], str]:
    """The model error of an operator run (read from its folder, or measured and saved there), or None and why.

    Needs a reference solver for the spec (as the held-out test set does)."""
    fields = list(run.model.field_names)
    path = Path(run.folder) / FILE_NAME
    saved = _saved(path, fields)
    if saved is not None and saved.checkpoint == run.checkpoint_mark:  # else measured on a model since trained on
        return saved, ""
    grid = len(next(iter(run.layout.nodes().values())))
    try:
        arrays = generate(run.problem, members, grid, CALIBRATION_SEED, progress)
    except ReferenceError as error:
        return None, f"no reference solver for this spec ({error})"
    calibration = pool_from_arrays(run.problem, arrays, "model-error members")
    run.model.eval()  # a generative model reads each member's input through its encoder's mean
    predicted = run.objective.predict_pool(calibration)
    axes = calibration.label_axes()
    shape = tuple(len(v) for v in axes.values())
    mean, std = {}, {}
    for name in fields:
        truth = np.asarray(calibration.fields[name], dtype=np.float64).reshape(members, -1)
        error = truth - predicted[name].double().cpu().numpy().reshape(members, -1)
        mean[name], std[name] = error.mean(0).reshape(shape), error.std(0, ddof=1).reshape(shape)
    found = ModelError(axes, mean, std, members, run.checkpoint_mark)
    found.save(path)
    return found, ""
