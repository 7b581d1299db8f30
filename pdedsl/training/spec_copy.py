"""A folder's own copy of its spec and of the data files the spec names, so that the folder stands alone.

Run folders (``pdedsl train``) and posterior folders (``pdedsl infer``) are
reopened later from their ``spec.pde`` by ``predict``, ``plot`` and
``--resume``. A spec names its data by paths relative to its own folder, or
absolute ones, so a verbatim copy would look for the data in the wrong place
or keep depending on the originals. Here every file is copied (hard-linked
where the file system allows) into ``data/`` inside the folder, under its own
name, and the copied spec's string literals are rewritten to point there.
Two files of the same name from different folders get distinct names.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from .. import api

DATA_FOLDER = "data"
_UNSAFE = re.compile(r'["\n\r\x00-\x1f]')  # what a spec's string literal cannot hold


def data_files(problem) -> list:
    """Every DataFile the problem names (observe, reference, input ... from), in spec order."""
    files = [o.data for o in problem.observations] + [r.data for r in problem.references]
    return files + [i.data for i in problem.inputs if i.data is not None]


def copy_spec(spec_path, problem, folder) -> None:
    """Write ``folder/spec.pde``: the spec with its data files copied under ``folder/data/`` and named there.

    A file that already lies in ``folder/data/`` (a spec re-trained into its own run folder) keeps its name
    and is never overwritten; the others get free names beside it."""
    folder = Path(folder)
    text = api.source_of(Path(spec_path)).text
    files = data_files(problem)
    sources = list(dict.fromkeys(Path(data.path).resolve() for data in files))
    home = (folder / DATA_FOLDER).resolve()
    local = {source: source.name for source in sources if source.parent == home}
    taken = {name.casefold() for name in local.values()}  # case-insensitive file systems merge Obs and obs
    for source in sources:
        if source not in local:
            local[source] = _free_name(source.name, taken)
            taken.add(local[source].casefold())
            place(source, home / local[source], link=False)
    edits = []
    for data in files:
        span = data.span
        if span is not None and text[span.start:span.end] == f'"{data.written}"':
            edits.append((span.start, span.end, f'"{DATA_FOLDER}/{local[Path(data.path).resolve()]}"'))
    for start, end, literal in sorted(edits, reverse=True):
        text = text[:start] + literal + text[end:]
    if not _names_itself(Path(spec_path)):  # the copy is spec.pde: without this line its problem would be 'spec'
        text = f"problem {problem.name}\n" + text
    (folder / "spec.pde").write_text(text, encoding="utf-8")


def _names_itself(spec_path: Path) -> bool:
    """Whether the spec has a ``problem NAME`` statement (else its name is its file's stem)."""
    from ..frontend import ast

    return any(isinstance(s, ast.ProblemDecl) for s in api.parse(spec_path).statements)


def place(source: Path, copy: Path, link: bool) -> None:
    """Put the file ``source`` at ``copy``: with ``link``, a hard link where the file system allows (for large
    files written once), else a copy."""
    if copy.exists() and copy.resolve() == Path(source).resolve():
        return
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.unlink(missing_ok=True)
    if link:
        try:
            os.link(source, copy)
            return
        except OSError:
            pass
    shutil.copyfile(source, copy)


def _free_name(name: str, taken: set[str]) -> str:
    """``name`` made safe for a string literal and distinct from the (casefolded) names in ``taken``:
    stem_2, stem_3, ..."""
    name = _UNSAFE.sub("_", name) or "data.npz"
    stem, dot, suffix = name.rpartition(".")
    stem, suffix = (stem, dot + suffix) if dot and stem else (name, "")
    candidate, number = name, 2
    while candidate.casefold() in taken:
        candidate, number = f"{stem}_{number}{suffix}", number + 1
    return candidate
