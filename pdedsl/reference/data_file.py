"""``pdedsl data -o FILE``, in a way a kill does not lose: the samples solved so far are kept beside FILE.

Solving thousands of samples can take hours (a time-dependent family solves a
stiff ODE system per sample). While it runs, the samples done are written
every :data:`SAVE_EVERY_S` seconds to ``FILE.partial.npz`` (atomically, so a
kill mid-write leaves the previous one), and on Ctrl-C or ``kill`` once more
before stopping. Running the same command again continues after the last
sample saved: sample ``i`` depends only on the seed and ``i``
(``dataset.sample_seed``), so the file written in pieces equals the one
written at once. The partial file records a fingerprint of what made it (the
spec's text, the bytes of its inputs' data files, the seed and the grid);
a partial file of anything else is set aside, never mixed in. The finished
FILE replaces the partial one.
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from pathlib import Path

import numpy as np

from ..ir.problem import Problem
from ..training.stopping import Stopped, stop_requests
from .dataset import check_request, solved_members, write

SAVE_EVERY_S = 20.0
#: The partial file's record of what made it (a key no spec name can take: names have no dots).
RECORD = "pdedsl.partial"


def partial_path(output) -> Path:
    """Where the samples of an unfinished ``-o output`` are kept."""
    output = Path(output)
    return output.with_name(output.name + ".partial.npz")


def fingerprint(spec_text: str, problem: Problem, grid: int, seed: int) -> str:
    """What the samples depend on: the spec's text, the bytes of the inputs' data files, the grid and the seed."""
    digest = hashlib.sha256(spec_text.encode("utf-8"))
    for data in (i.data for i in problem.inputs if i.data is not None):
        try:
            digest.update(Path(data.path).read_bytes())
        except OSError:  # (its readers report it; a file that cannot be read makes no resumable sample)
            digest.update(b"unreadable:" + str(data.path).encode("utf-8", "surrogateescape"))
    digest.update(f"grid={grid};seed={seed}".encode())
    return digest.hexdigest()


class DataStopped(Stopped):
    """``pdedsl data`` stopped on request after saving ``done`` of ``total`` samples in ``folder`` (the
    partial file)."""


def generate_into(problem: Problem, spec_text: str, n: int, grid: int, seed: int, output,
                  progress=None, say=print) -> tuple[dict[str, np.ndarray], int]:
    """Solve ``n`` samples into ``output`` (an .npz, written atomically), continuing a partial file of the same
    spec, data, grid and seed. Returns the arrays written and how many samples came from the partial file."""
    check_request(problem, n, grid)
    partial = partial_path(output)
    stamp = fingerprint(spec_text, problem, grid, seed)
    axes, arrays = _resumed(partial, stamp, n, say)
    start = len(next(iter(arrays.values()), []))
    if start:
        say(f"continuing from {partial}: {start} of {n} samples were solved before")
    if progress is not None and start:
        progress.update(start, "data", {})
    saved_at, saving = time.monotonic(), True
    with stop_requests() as request:
        for index, (axes, values) in enumerate(solved_members(problem, grid, seed, range(start, n)), start):
            for name, value in values.items():
                arrays.setdefault(name, []).append(value)
            if progress is not None:
                progress.update(index + 1, "data", {})
            if request.requested and index + 1 < n:
                _save(partial, axes, arrays, stamp)
                raise DataStopped(partial, index + 1, n, request.signum)
            if saving and time.monotonic() - saved_at > SAVE_EVERY_S and index + 1 < n:
                try:
                    _save(partial, axes, arrays, stamp)
                except OSError as error:  # (a full disk, say): keep solving; the final write may still succeed
                    say(f"cannot keep the samples in {partial} as they come ({error.strerror or error}); "
                        "going on without: a stop now loses them")
                    saving = False
                saved_at = time.monotonic()
    result = {**axes, **{name: np.asarray(values[:n]) for name, values in arrays.items()}}
    write(output, result)
    partial.unlink(missing_ok=True)
    return result, min(start, n)


def _resumed(partial: Path, stamp: str, n: int, say) -> tuple[dict, dict[str, list]]:
    """The axes and per-sample arrays of a partial file made the same way, or empty ones (a partial file made
    another way, or damaged, is renamed aside with a message rather than mixed in or deleted)."""
    if not partial.exists():
        return {}, {}
    try:
        with np.load(partial, allow_pickle=False) as data:
            record = json.loads(str(data[RECORD]))
            if record.get("fingerprint") != stamp:
                raise ValueError("made by another spec, data, grid or seed")
            axes = {name: np.asarray(data[name]) for name in record["axes"]}
            arrays = {name: list(np.asarray(data[name])) for name in record["samples"]}
            if len({len(values) for values in arrays.values()}) != 1:
                raise ValueError("its arrays hold different numbers of samples")
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        aside = _free_name(partial.with_name(partial.name + ".old"))
        partial.replace(aside)
        say(f"set aside {partial} as {aside.name} ({error}); solving every sample anew")
        return {}, {}
    return axes, arrays


def _free_name(path: Path) -> Path:
    """``path``, or ``path`` with the first number 2, 3, ... that names no file yet: a partial file set aside
    must not replace one set aside before (either may hold hours of solves)."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}{number}")
    return candidate


def _save(partial: Path, axes: dict, arrays: dict[str, list], stamp: str) -> None:
    record = {"fingerprint": stamp, "axes": list(axes), "samples": list(arrays)}
    write(partial, {**axes, **{name: np.asarray(values) for name, values in arrays.items()},
                     RECORD: np.array(json.dumps(record))})


