"""Known input fields given as data (``input k from "k.npz"``), evaluated anywhere.

Grid data are interpolated multilinearly (1-3 axes), which is differentiable
in the coordinates, so ``d(k, x)`` in a residual gets the slope of the
interpolant through autograd. Scattered data take the value of the nearest
data point (piecewise constant, so its derivatives are zero).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from ..errors import PdeError
from ..layout import interpolation_of, layout_of, misfit, value_problem
from ..npz import NpzError, read_field


class GridInterpolant(torch.nn.Module):
    def __init__(self, axes: tuple[str, ...], grids: list[np.ndarray], values: np.ndarray):
        super().__init__()
        self.axes = axes
        order = [np.argsort(g) for g in grids]
        grids = [g[o] for g, o in zip(grids, order)]
        values = values[np.ix_(*order)]
        for index, grid in enumerate(grids):
            self.register_buffer(f"grid_{index}", torch.as_tensor(grid, dtype=torch.float64))
        self.register_buffer("values", torch.as_tensor(values, dtype=torch.float64))

    def forward(self, coordinates: Mapping[str, torch.Tensor]) -> torch.Tensor:
        reference = coordinates[self.axes[0]]
        values = self.values.to(reference.dtype)
        lower_indices, fractions = [], []
        for index, axis in enumerate(self.axes):
            grid = getattr(self, f"grid_{index}").to(reference.dtype)
            x = coordinates[axis].clamp(grid[0], grid[-1])
            i = torch.searchsorted(grid.detach(), x.detach().contiguous(), right=True).clamp(1, len(grid) - 1) - 1
            fractions.append((x - grid[i]) / (grid[i + 1] - grid[i]))
            lower_indices.append(i)
        result = torch.zeros_like(reference)
        for corner in range(2 ** len(self.axes)):  # each corner of the cell, weighted
            weight = torch.ones_like(reference)
            index = []
            for dim, (i, f) in enumerate(zip(lower_indices, fractions)):
                upper = (corner >> dim) & 1
                weight = weight * (f if upper else 1 - f)
                index.append(i + upper)
            result = result + weight * values[tuple(index)]
        return result


class NearestInterpolant(torch.nn.Module):
    def __init__(self, axes: tuple[str, ...], points: np.ndarray, values: np.ndarray):
        super().__init__()
        self.axes = axes
        self.register_buffer("points", torch.as_tensor(points, dtype=torch.float64))
        self.register_buffer("values", torch.as_tensor(values, dtype=torch.float64))

    def forward(self, coordinates: Mapping[str, torch.Tensor]) -> torch.Tensor:
        reference = coordinates[self.axes[0]]
        query = torch.stack([coordinates[a].detach() for a in self.axes], dim=-1).to(torch.float64)
        nearest = torch.cdist(query, self.points).argmin(dim=1)
        return self.values[nearest].to(reference.dtype)


class DataInputError(PdeError):
    """An ``input ... from`` file does not fit the input (the message says where and how)."""


def input_interpolant(problem, item) -> torch.nn.Module:
    """The interpolant of the data input ``item`` of ``problem``; a file that does not fit it is refused here,
    located at the ``from`` clause (``check`` only warns, as the file may still change before training)."""
    try:
        return interpolant(item.data.path, item.name, tuple(problem.axes))
    except DataInputError as error:
        span = item.data.span
        where = f"{problem.source_name}:{span.line}:{span.column}: " if span is not None else ""
        raise DataInputError(f"{where}input '{item.name}' from '{item.data.written}': {error}") from None


def interpolant(path: str, name: str, axes: tuple[str, ...]) -> torch.nn.Module:
    """The interpolant of data input ``name`` stored in ``path`` (grid or scattered layout)."""
    try:
        values, coordinates = read_field(path, name, axes)
    except NpzError as error:
        raise DataInputError(str(error)) from None
    for label, array in ((name, values), *zip(axes, coordinates)):
        problem = value_problem(label, array, every=True)
        if problem:
            raise DataInputError(f"{problem}; an input needs a value at every point it is given on")
    layout = layout_of(values, coordinates)
    if layout is None:
        raise DataInputError(f"{misfit(name, values, axes, coordinates)}; an input given as data depends on "
                             "space alone")
    kind = interpolation_of(values, coordinates)
    if kind is None:  # a grid with a repeated node or a single one on some axis
        short = [f"{a}: {len(np.unique(c))} of {len(c)}" for a, c in zip(axes, coordinates)
                 if len(np.unique(c)) < max(len(c), 2)]
        raise DataInputError(f"a grid needs at least 2 nodes on each axis, all distinct (distinct nodes "
                             f"{', '.join(short)}); give the input on scattered points instead")
    if kind == "linear":
        grids = coordinates if layout == "grid" and len(axes) > 1 else [coordinates[0].reshape(-1)]
        return GridInterpolant(axes, grids, values.reshape(tuple(len(g) for g in grids)))
    return NearestInterpolant(axes, np.stack([c.reshape(-1) for c in coordinates], axis=-1), values.reshape(-1))
