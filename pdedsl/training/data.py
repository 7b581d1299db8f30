"""Reading .npz data (observe, reference) into flat point sets: scattered points or grids."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import PdeError
from ..layout import beyond_range, flat_points, misfit, value_problem
from ..npz import ArrayError, NpzError, read_field


class DataError(PdeError):
    """A data file does not fit the problem (the message says how)."""


def load_points(path: str, name: str, axes: tuple[str, ...], finite: bool = False, dtype=None
                ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``({axis: coordinates}, values)`` as flat arrays, from scattered or grid layout.

    Coordinates must be finite numbers. ``finite`` (observations) refuses NaN or infinite values too;
    references may hold NaN where they have no value (grid nodes outside the domain), which their users mask,
    but not only NaN. With ``dtype`` (the torch dtype the arrays will be used in) a value it cannot hold is
    refused as well.
    """
    try:
        values, coordinates = read_field(path, name, axes)
    except ArrayError as error:
        raise DataError(f"{path}: {error}") from None
    except NpzError as error:
        raise DataError(f"{path}: not a readable .npz archive: {error}") from None
    for label, array in ((name, values), *zip(axes, coordinates)):
        problem = value_problem(label, array, every=finite or label != name) or _beyond(label, array, dtype)
        if problem:
            raise DataError(f"{path}: {problem}")
    flat = flat_points(values, axes, coordinates)
    if flat is None:
        raise DataError(f"{path}: {misfit(name, values, axes, coordinates)}")
    return flat


def _beyond(label: str, array: np.ndarray, dtype) -> str | None:
    """:func:`~pdedsl.layout.beyond_range` at torch's ``dtype`` (None: no limit)."""
    if dtype is None:
        return None
    return beyond_range(label, array, torch.finfo(dtype).max, str(dtype).removeprefix("torch."))


def load_statement(problem, statement, verb: str, finite: bool = False, dtype=None):
    """:func:`load_points` of an ``observe`` or ``reference`` statement's file over the problem's coordinates
    (space, then time; space alone for a reference of an input, which does not vary in time); a file that does
    not fit (or, with ``dtype``, holds values it cannot) is a DataError located at the statement."""
    axes = statement_axes(problem, statement, verb)
    try:
        return load_points(statement.data.path, statement.name, axes, finite=finite, dtype=dtype)
    except DataError as error:
        raise DataError(problem.locate(statement.span, f"'{verb} {statement.name}': {error}")) from None


def statement_axes(problem, statement, verb: str) -> tuple[str, ...]:
    """The coordinates a statement's data file holds (see :func:`load_statement`)."""
    space = tuple(problem.axes)
    if problem.time is None or (verb == "reference" and statement.name not in {f.name for f in problem.fields}):
        return space
    return space + (problem.time.name,)


def as_tensors(points: dict, values: np.ndarray, dtype, device) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    return ({a: torch.as_tensor(c, dtype=dtype, device=device) for a, c in points.items()},
            torch.as_tensor(values, dtype=dtype, device=device))


def observation_keys(problem) -> list[str]:
    """A report's name for each ``observe`` statement: the field, then ``u_2``, ``u_3`` for more files of it
    (the data terms of training are ``data_`` and these)."""
    counts: dict[str, int] = {}
    keys = []
    for observation in problem.observations:
        counts[observation.name] = counts.get(observation.name, 0) + 1
        keys.append(observation.name + (f"_{counts[observation.name]}" if counts[observation.name] > 1 else ""))
    return keys
