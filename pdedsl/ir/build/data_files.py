"""Checks of the .npz files a spec names (observe, reference, input ... from).

A missing or unreadable file is an error. A file whose arrays do not fit the
problem (missing axis or field arrays, wrong shapes) is a warning here: the
check cannot know every way a later stage may use it, and training reports
it as an error when it loads the data.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ...errors import DiagnosticSink
from ...frontend import ast
from ...layout import HINT, layout_of, misfit, value_problem
from ...npz import ArrayError, NpzError, read_arrays
from ..problem import DataFile


def resolve(literal: ast.StringLit, spec_path: str | None) -> Path:
    """A relative path is taken from the spec file's folder (from the working folder for text)."""
    path = Path(literal.value).expanduser()
    if not path.is_absolute():
        base = Path(spec_path).resolve().parent if spec_path else Path.cwd()
        path = base / path
    return path


#: Array names taken for coordinates: one of these in a data file that the problem lacks is warned about
#: (readings at (x, t) fitted as readings at x would be silently wrong).
COORDINATE_LIKE = frozenset({"x", "y", "z", "t"})


def _listed(names: list[str]) -> str:
    return ("an array " if len(names) == 1 else "arrays ") + ", ".join(f"'{n}'" for n in names)


def check_data_file(
    literal: ast.StringLit, spec_path: str | None, sink: DiagnosticSink, name: str, axes: tuple[str, ...],
    unused_axis: str | None = None, missing_ok: bool = False, shared_axes: tuple[str, ...] = (),
    values_may_be_missing: bool = False,
) -> DataFile | None:
    """Check that ``literal`` names a readable .npz with arrays for ``axes`` and ``name``; an array named
    ``unused_axis`` (``t`` for an input given as data in a problem without time: its readings over time would
    be fitted as readings over space) is an error rather than being silently ignored; in a problem with time,
    an input's file with the time array is read over space and time (``axes`` holds it). ``shared_axes`` are the problem's coordinates the statement does not read but
    the file may hold for others (the time of a truth file that also holds the field's readings).
    ``values_may_be_missing`` (a reference): NaN values mark points without one, and only all of them NaN
    is warned about."""
    if not literal.value.strip():
        sink.error("the data file name is empty", literal.span)
        return None
    path = resolve(literal, spec_path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        where = "" if not spec_path else " (relative paths are taken from the spec's folder)"
        if missing_ok:  # (a command that does not read it: 'pdedsl data' making the observations, say)
            sink.warning(f"data file '{literal.value}' not found; this command does not read it, so the statement "
                         "is left out", literal.span, hint=f"looked for {path}{where}")
        else:
            sink.error(f"data file '{literal.value}' not found", literal.span, hint=f"looked for {path}{where}")
        return None
    except (OSError, ValueError) as error:  # a name too long, a loop of links, a NUL byte, ...
        reason = getattr(error, "strerror", None) or str(error)
        sink.error(f"data file '{_short(literal.value)}' cannot be read: {reason}", literal.span)
        return None
    if stat.S_ISDIR(mode):
        sink.error(f"data file '{literal.value}' is a folder, not an .npz file", literal.span,
                   hint=_folder_hint(literal.value, path))
        return None
    if not stat.S_ISREG(mode):
        sink.error(f"data file '{literal.value}' is not a regular file (a pipe or a device?)", literal.span,
                   hint=f"{path}")
        return None
    try:
        arrays = read_arrays(path, set(axes) | {name})
    except ArrayError as error:
        sink.error(f"data file '{literal.value}' has an array that cannot be used", literal.span, hint=str(error))
        return None
    except NpzError as error:
        sink.error(f"data file '{literal.value}' is not a readable .npz archive", literal.span, hint=str(error))
        return None
    if unused_axis is not None and unused_axis in _names_in(path):
        sink.error(f"data file '{literal.value}' has an array '{unused_axis}', but the problem has no time: an input "
                   f"given as data is a function of {', '.join(axes)} here", literal.span,
                   hint=f"declare 'time {unused_axis}: [start, end]' if '{name}' varies in time, or give its values "
                        f"at one time without '{unused_axis}'")
        return None
    stray = sorted((COORDINATE_LIKE & _names_in(path)) - set(axes) - set(shared_axes) - {name})
    if stray:
        sink.warning(f"data file '{literal.value}' has {_listed(stray)} named like a coordinate, but the problem's "
                     f"coordinates are {', '.join(axes)}: {'it is' if len(stray) == 1 else 'they are'} not read", literal.span, hint="is the file another problem's data?")
    problem = _layout_problem(arrays, name, axes)
    if problem:
        sink.warning(f"data file '{literal.value}' does not match the problem: {problem}", literal.span,
                     hint=HINT)
    else:
        refused = _refused_values(arrays, name, axes, values_may_be_missing)
        if refused:
            sink.warning(f"data file '{literal.value}' holds values training refuses: {refused}", literal.span)
    return DataFile(literal.value, os.fspath(path), literal.span)


def file_has_array(literal: ast.StringLit, spec_path: str | None, name: str) -> bool:
    """Whether the .npz file ``literal`` names holds an array ``name`` (the time axis: an input given as data
    then varies in time); False for a file that cannot be read, which :func:`check_data_file` reports."""
    try:
        return name in _names_in(resolve(literal, spec_path))
    except Exception:  # noqa: BLE001 - any unreadable file (missing, a folder, not an archive) is reported later
        return False


def _names_in(path: Path) -> set[str]:
    """The array names of an .npz archive (read already, so it opens)."""
    import numpy as np

    with np.load(path, allow_pickle=False) as archive:
        return set(archive.files)


def _layout_problem(arrays: dict, name: str, axes: tuple[str, ...]) -> str | None:
    missing = [key for key in (*axes, name) if key not in arrays]
    if missing:
        return "no array named " + ", ".join(f"'{m}'" for m in missing)
    empty = [key for key in (*axes, name) if arrays[key].size == 0]
    if empty:
        return "no values in " + ", ".join(f"'{e}'" for e in empty)
    coordinates = [arrays[a] for a in axes]
    if layout_of(arrays[name], coordinates) is None:
        return misfit(name, arrays[name], axes, coordinates)
    return None


def _refused_values(arrays: dict, name: str, axes: tuple[str, ...], values_may_be_missing: bool) -> str | None:
    """What training refuses at the statement in arrays that fit the problem (NaN or infinite coordinates or
    values), in the words and order of its own check (training/data.py), so check does not pass it as ok."""
    for label in (name, *axes):
        problem = value_problem(label, arrays[label], every=label != name or not values_may_be_missing)
        if problem:
            return problem
    return None


_MAX_LISTED = 3  # .npz files named in the hint about a folder
_MAX_SCANNED = 1000  # entries of a folder looked at for them (a folder may be huge)


def _folder_hint(written: str, path: Path) -> str:
    """What to write instead of a folder: the file inside it, with a few of the .npz files it holds (if any)."""
    found = []
    try:
        with os.scandir(path) as entries:
            for index, entry in enumerate(entries):
                if index >= _MAX_SCANNED or len(found) > _MAX_LISTED:
                    break
                if entry.name.endswith(".npz"):
                    found.append(entry.name)
    except OSError:
        pass
    folder = written.rstrip("/\\") + "/"
    if not found:
        return f"name the .npz file itself, such as '{folder}data.npz' (the folder {path} holds no .npz file)"
    found.sort()
    more = ", ..." if len(found) > _MAX_LISTED else ""
    listed = ", ".join(found[:_MAX_LISTED]) + more
    return f"name the .npz file itself, such as '{folder}{found[0]}' (the folder {path} holds {listed})"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."
