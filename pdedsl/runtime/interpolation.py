"""Known input fields given as data (``input k from "k.npz"``), evaluated anywhere.

Grid data are interpolated multilinearly (1-4 axes), which is differentiable
in the coordinates, so ``d(k, x)`` in a residual gets the slope of the
interpolant through autograd. Scattered points on 2 to 4 axes are fitted once,
on a fine grid over their bounding box, and then read like grid data: up to
:data:`GLOBAL_FIT_POINTS` points by a cubic radial basis function with a linear
term (``|x - x_j|^3``, the polyharmonic spline that is smooth between the
points and exact at them), more by linear interpolation on their Delaunay
triangulation; the fit is clipped to the data's range, so a jump in the data
(two materials) does not ring below or above its values. Before session 33
they took the nearest point's value, whose derivatives are zero: a strong-form
``-div(k*grad(u))`` lost ``grad(k)``. Scattered points that do not span the
space (all on one line in 2-D) still take the nearest point's value.

An input whose file holds the time array (in a problem with time) is a
function of space and time: time is one more axis of the grid, or of the
scattered points' fit (1-D space and time are fitted as 2-D points).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from ..errors import PdeError
from ..layout import beyond_range, interpolation_of, layout_of, misfit, value_problem
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


#: Scattered points fitted by one global radial basis function (a dense system of this order); more are
#: interpolated linearly on their triangulation, which is accurate enough where data are that dense.
GLOBAL_FIT_POINTS = 4000

#: Nodes per axis of the fine grid a scattered fit is read from (its slopes are the derivatives training sees).
FIT_NODES = {2: 257, 3: 49, 4: 21}  # (3: three space axes, or two and time; 4: three and time)


def fitted_grid(points: np.ndarray, values: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """``(axis grids, values on them)``: scattered ``points`` ``[N, d]`` (spanning the space, d = 2 to 4: time
    is one more axis, scaled to [0, 1] like the others)
    fitted on a fine grid over their bounding box (see the module docstring). Repeated points are averaged."""
    from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator, RBFInterpolator

    points, values = averaged_repeats(points, values)
    dimension = points.shape[1]
    nodes = FIT_NODES[dimension]
    grids = [np.linspace(lo, hi, nodes) for lo, hi in zip(points.min(axis=0), points.max(axis=0))]
    query = np.stack([m.reshape(-1) for m in np.meshgrid(*grids, indexing="ij")], axis=-1)
    scale = points.max(axis=0) - points.min(axis=0)  # each axis to [0, 1]: the kernel sees no units
    origin = points.min(axis=0)
    try:
        if len(points) > GLOBAL_FIT_POINTS:
            raise np.linalg.LinAlgError
        fitted = RBFInterpolator((points - origin) / scale, values, kernel="cubic", degree=1)((query - origin) / scale)
    except np.linalg.LinAlgError:  # many points, or a system too ill-conditioned: piecewise linear instead
        fitted = LinearNDInterpolator(points, values)(query)
        outside = ~np.isfinite(fitted)  # corners of the box outside the points' hull
        fitted[outside] = NearestNDInterpolator(points, values)(query[outside])
    fitted = np.clip(fitted, values.min(), values.max())
    return grids, fitted.reshape((nodes,) * dimension)


def averaged_repeats(points: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(distinct points [M, d], the mean of the values at each)`` of points ``[N, d]``, sorted: data joined
    from pieces repeat their shared points, and readings there may differ a little."""
    points, inverse = np.unique(points, axis=0, return_inverse=True)
    values = np.bincount(inverse.reshape(-1), weights=values) / np.bincount(inverse.reshape(-1))
    return points, values


class DataInputError(PdeError):
    """An ``input ... from`` file does not fit the input (the message says where and how)."""


def input_interpolant(problem, item, dtype=None) -> torch.nn.Module:
    """The interpolant of the data input ``item`` of ``problem``; a file that does not fit it (or, with
    ``dtype``, the torch dtype it will be evaluated in, holds values that dtype cannot) is refused here,
    located at the ``from`` clause (``check`` only warns, as the file may still change before training)."""
    try:
        return interpolant(item.data.path, item.name, item.axes, dtype)  # (space, and time when its file has it)
    except DataInputError as error:
        span = item.data.span
        where = f"{problem.source_name}:{span.line}:{span.column}: " if span is not None else ""
        raise DataInputError(f"{where}input '{item.name}' from '{item.data.written}': {error}") from None


def interpolant(path: str, name: str, axes: tuple[str, ...], dtype=None) -> torch.nn.Module:
    """The interpolant of data input ``name`` stored in ``path`` (grid or scattered layout); with ``dtype``,
    values beyond its range are refused (they would be infinite there, and every residual with them)."""
    try:
        values, coordinates = read_field(path, name, axes)
    except NpzError as error:
        raise DataInputError(str(error)) from None
    for label, array in ((name, values), *zip(axes, coordinates)):
        problem = value_problem(label, array, every=True) or (
            dtype is not None and beyond_range(label, array, torch.finfo(dtype).max, str(dtype).removeprefix("torch.")))
        if problem:
            raise DataInputError(f"{problem}; an input needs a value at every point it is given on")
    layout = layout_of(values, coordinates)
    if layout is None:
        raise DataInputError(f"{misfit(name, values, axes, coordinates)}; an input given as data is a function "
                             f"of {', '.join(axes)} here")
    kind = interpolation_of(values, coordinates)
    if kind is None:  # a grid with a repeated node or a single one on some axis
        short = [f"{a}: {len(np.unique(c))} of {len(c)}" for a, c in zip(axes, coordinates)
                 if len(np.unique(c)) < max(len(c), 2)]
        raise DataInputError(f"a grid needs at least 2 nodes on each axis, all distinct (distinct nodes "
                             f"{', '.join(short)}); give the input on scattered points instead")
    if kind == "linear" and len(axes) == 1:
        nodes, averaged = averaged_repeats(coordinates[0].reshape(-1, 1), values.reshape(-1))
        return _resolvable(GridInterpolant(axes, [nodes[:, 0]], averaged), dtype)
    if kind == "linear" and layout == "grid":
        return _resolvable(GridInterpolant(axes, coordinates, values.reshape(tuple(len(g) for g in coordinates))),
                           dtype)
    points = np.stack([c.reshape(-1) for c in coordinates], axis=-1)  # scattered
    if kind == "linear":
        return _resolvable(GridInterpolant(axes, *fitted_grid(points, values.reshape(-1))), dtype)
    return NearestInterpolant(axes, points, values.reshape(-1))


def _resolvable(interpolant: GridInterpolant, dtype=None) -> GridInterpolant:
    """``interpolant``, if ``dtype`` (float64 if None) can interpolate between its nodes: each gap between
    neighbouring nodes must stay above zero in it and have a finite inverse (the slope of a cell). Data over
    x in [0, 1e-300] had nodes float32 rounds together: every value was NaN, and the error blamed the equation."""
    dtype = dtype or torch.float64
    for index, axis in enumerate(interpolant.axes):
        grid = getattr(interpolant, f"grid_{index}")
        gaps = torch.diff(grid.to(dtype))
        if len(grid) > 1 and not bool(torch.isfinite(1 / gaps).all() and (gaps > 0).all()):
            raise DataInputError(f"the {axis} nodes (from {float(grid[0]):g} to {float(grid[-1]):g}) are too close "
                                 f"together to interpolate between in {str(dtype).removeprefix('torch.')} (a gap "
                                 f"between neighbours is {float(torch.diff(grid).min()):.3g}); give the input over "
                                 "the domain it is used on, in the spec's units")
    return interpolant
