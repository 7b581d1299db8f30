"""Checks of the .npz files a spec names (observe, reference, input ... from).

A missing or unreadable file is an error. A file whose arrays do not fit the
problem (missing axis or field arrays, wrong shapes) is a warning here: the
check cannot know every way a later stage may use it, and training reports
it as an error when it loads the data.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from ...errors import DiagnosticSink
from ...frontend import ast
from ...npz import NpzError, open_npz
from ..problem import DataFile


def resolve(literal: ast.StringLit, spec_path: str | None) -> Path:
    """A relative path is taken from the spec file's folder (from the working folder for text)."""
    path = Path(literal.value).expanduser()
    if not path.is_absolute():
        base = Path(spec_path).resolve().parent if spec_path else Path.cwd()
        path = base / path
    return path


def check_data_file(
    literal: ast.StringLit, spec_path: str | None, sink: DiagnosticSink, name: str, axes: tuple[str, ...]
) -> DataFile | None:
    """Check that ``literal`` names a readable .npz with arrays for ``axes`` and ``name``."""
    if not literal.value.strip():
        sink.error("the data file name is empty", literal.span)
        return None
    path = resolve(literal, spec_path)
    if not path.is_file():
        where = "" if not spec_path else " (relative paths are taken from the spec's folder)"
        sink.error(f"data file '{literal.value}' not found", literal.span, hint=f"looked for {path}{where}")
        return None
    try:
        arrays = _read_arrays(path, set(axes) | {name})
    except NpzError as error:
        sink.error(f"data file '{literal.value}' is not a readable .npz archive", literal.span, hint=str(error))
        return None
    problem = _layout_problem(arrays, name, axes)
    if problem:
        sink.warning(f"data file '{literal.value}' does not match the problem: {problem}", literal.span,
                     hint=_LAYOUT_HINT)
    return DataFile(literal.value, os.fspath(path), literal.span)


def _read_arrays(path: Path, keys: set[str]) -> dict:
    """The arrays named ``keys`` that the archive has; :class:`NpzError` says why it cannot be read."""
    try:
        with open_npz(path) as loaded:
            return {key: loaded[key] for key in loaded.files if key in keys}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise NpzError(f"an array in it cannot be read ({str(error)[:200] or type(error).__name__})") from None


_LAYOUT_HINT = (
    "scattered data: one 1-D array per axis and per field, all the same length; "
    "grid data: 1-D axis arrays and a field array of shape (len(x), len(y), ...) in declaration order"
)


def _layout_problem(arrays: dict, name: str, axes: tuple[str, ...]) -> str | None:
    missing = [key for key in (*axes, name) if key not in arrays]
    if missing:
        return "no array named " + ", ".join(f"'{m}'" for m in missing)
    values = arrays[name]
    coordinates = [arrays[a] for a in axes]
    if any(c.ndim != 1 for c in coordinates):
        return "axis arrays must be 1-D"
    scattered = values.ndim == 1 and all(len(c) == len(values) for c in coordinates)
    grid = values.shape == tuple(len(c) for c in coordinates)
    if not (scattered or grid):
        lengths = ", ".join(f"len({a})={len(c)}" for a, c in zip(axes, coordinates))
        return f"'{name}' has shape {values.shape}, which fits neither scattered points nor a grid ({lengths})"
    return None
