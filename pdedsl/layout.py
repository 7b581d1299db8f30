"""The two layouts a data file may use for a field's values: scattered points, or a grid.

* scattered: one coordinate array per axis, each of the values' shape (1-D
  arrays of one length, or meshgrid-shaped arrays beside a field of the same
  shape; axes of length 1, as in a column (n, 1), do not count);
* grid: 1-D axis arrays and a field whose shape is ``(len(x), len(y), ...)``
  in the order the axes were declared, space before time.

One function decides, so that ``check``, training, inference and plots agree
on what a file means.
"""

from __future__ import annotations

import numpy as np

HINT = ("scattered data: one array per axis and per field, all of one shape (1-D, of one length); "
        "grid data: 1-D axis arrays and a field array of shape (len(x), len(y), ...) in declaration order")


def layout_of(values: np.ndarray, coordinates: list[np.ndarray]) -> str | None:
    """'scattered', 'grid', or None when the arrays fit neither layout (1-D data on one axis is scattered).

    Scattered arrays agree in shape once axes of length 1 are dropped: ``x`` saved as a column
    ``(n, 1)`` beside ``u`` of shape ``(n,)`` is n points."""
    if values.ndim >= 1 and all(c.size == values.size and np.squeeze(c).shape == np.squeeze(values).shape
                                for c in coordinates):
        return "scattered"
    if all(c.ndim == 1 for c in coordinates) and values.shape == tuple(len(c) for c in coordinates):
        return "grid"
    return None


def interpolation_of(values: np.ndarray, coordinates: list[np.ndarray]) -> str | None:
    """How an input given as data is evaluated between its points: 'linear' (multilinear between grid nodes:
    a grid; 1-D points, at least 2 distinct ones (repeated points are averaged); scattered points in 2-D or 3-D that span the space, fitted on a fine grid
    first), 'nearest' (scattered points that do not span it, all on one line say: the nearest one's value), or
    None when the arrays fit no layout or a grid has an axis with fewer than 2 distinct nodes (refused)."""
    layout = layout_of(values, coordinates)
    if layout == "grid" and len(coordinates) > 1:
        distinct = all(len(np.unique(c)) == len(c) >= 2 for c in coordinates)
        return "linear" if distinct else None
    if layout is None:
        return None
    line = coordinates[0].reshape(-1)
    if len(coordinates) == 1:  # grid and scattered agree
        return "linear" if len(np.unique(line)) >= 2 else "nearest"
    return "linear" if spans_space(np.stack([c.reshape(-1) for c in coordinates], axis=-1)) else "nearest"


def spans_space(points: np.ndarray) -> bool:
    """Whether scattered ``points`` ``[N, d]`` are not all on one hyperplane (a line in 2-D, a plane in 3-D),
    so that a field can be fitted to them in every direction."""
    finite = points[np.isfinite(points).all(axis=1)]
    if len(finite) <= points.shape[1]:
        return False
    centred = finite - finite.mean(axis=0)
    scale = np.abs(centred).max()
    return bool(scale > 0 and np.linalg.matrix_rank(centred / scale, tol=1e-9) == points.shape[1])


def misfit(name: str, values: np.ndarray, axes, coordinates: list[np.ndarray]) -> str:
    """Why the arrays fit neither layout, in the user's terms."""
    shapes = ", ".join(f"{a} {tuple(c.shape)}" for a, c in zip(axes, coordinates))
    return (f"'{name}' has shape {tuple(values.shape)}, which fits neither scattered points nor a grid over the "
            f"axis arrays ({shapes})")


def flat_points(values: np.ndarray, axes, coordinates: list[np.ndarray]):
    """``({axis: coordinates}, values)`` as flat arrays, or None when the layout fits neither."""
    layout = layout_of(values, coordinates)
    if layout == "scattered":
        return {a: c.reshape(-1) for a, c in zip(axes, coordinates)}, values.reshape(-1)
    if layout == "grid":
        mesh = np.meshgrid(*coordinates, indexing="ij")
        return {a: m.reshape(-1) for a, m in zip(axes, mesh)}, values.reshape(-1)
    return None


def value_problem(label: str, array: np.ndarray, every: bool) -> str | None:
    """Why ``array`` cannot be used: it is empty, or has NaN or infinite entries (``every``: any of them;
    else only when nothing else is left), naming the first bad index; None when it can."""
    if array.size == 0:
        return f"'{label}' is empty"
    bad = ~np.isfinite(array)
    if not every:
        return f"every value of '{label}' is NaN or infinite" if bad.all() else None
    if bad.any():
        return f"'{label}' has {int(bad.sum())} value(s) that are NaN or infinite (the first at index {_first(bad)})"
    return None


def beyond_range(label: str, array: np.ndarray, largest: float, precision: str) -> str | None:
    """Why ``array`` cannot be held at a run's ``precision``: finite values past its ``largest`` magnitude
    (1e300 in float32), which become infinite there and leave every loss non-finite; None when it can."""
    with np.errstate(invalid="ignore"):
        over = np.isfinite(array) & (np.abs(array) > largest)
    if not over.any():
        return None
    return (f"'{label}' has {int(over.sum())} value(s) beyond the range of {precision} (+-{largest:.2g}; the "
            f"first at index {_first(over)}): train with --precision float64, or rescale the data")


def _first(mask: np.ndarray):
    """The index of the first True entry of ``mask``: a number for a 1-D array, else a tuple."""
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))
    return first if len(first) > 1 else first[0]
