"""Reading .npz data (observe, reference) into flat point sets: scattered points or grids."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import PdeError
from ..npz import NpzError, open_npz


class DataError(PdeError):
    """A data file does not fit the problem (the message says how)."""


def load_points(path: str, name: str, axes: tuple[str, ...], finite: bool = False
                ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``({axis: coordinates}, values)`` as flat arrays, from scattered or grid layout.

    ``finite`` (observations) refuses empty arrays and NaN or infinite entries; references may hold NaN
    where they have no value (grid nodes outside the domain), which their users mask.
    """
    try:
        archive = open_npz(path)
    except NpzError as error:
        raise DataError(f"{path}: not a readable .npz archive: {error}") from None
    with archive:
        missing = [key for key in (*axes, name) if key not in archive.files]
        if missing:
            raise DataError(f"{path}: no array named {', '.join(map(repr, missing))} (it has {', '.join(archive.files)})")
        values = np.asarray(archive[name], dtype=np.float64)
        coordinates = [np.asarray(archive[a], dtype=np.float64).reshape(-1) for a in axes]
    if finite:
        _all_finite(path, name, values, coordinates, axes)
    if values.ndim == 1 and all(len(c) == len(values) for c in coordinates):
        return dict(zip(axes, coordinates)), values
    if values.shape == tuple(len(c) for c in coordinates):
        mesh = np.meshgrid(*coordinates, indexing="ij")
        return {a: m.reshape(-1) for a, m in zip(axes, mesh)}, values.reshape(-1)
    raise DataError(f"{path}: '{name}' has shape {values.shape}, which fits neither scattered points nor a grid "
                    f"over {', '.join(f'{a} ({len(c)})' for a, c in zip(axes, coordinates))}")


def _all_finite(path, name: str, values: np.ndarray, coordinates: list[np.ndarray], axes) -> None:
    """Refuse empty arrays and NaN or infinite entries, naming the array and the first bad index."""
    for label, array in ((name, values), *zip(axes, coordinates)):
        if array.size == 0:
            raise DataError(f"{path}: '{label}' is empty")
        bad = ~np.isfinite(array)
        if bad.any():
            first = np.unravel_index(int(np.argmax(bad)), array.shape)
            raise DataError(f"{path}: '{label}' has {int(bad.sum())} value(s) that are NaN or infinite (the first at "
                            f"index {first if len(first) > 1 else first[0]}); remove those points")


def as_tensors(points: dict, values: np.ndarray, dtype, device) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    return ({a: torch.as_tensor(c, dtype=dtype, device=device) for a, c in points.items()},
            torch.as_tensor(values, dtype=dtype, device=device))
