"""Writing files so that a crash, a kill or a full disk leaves the old file or the new one, never half of one."""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator


@contextmanager
def replacing(path) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``path``; when the block ends normally the data is flushed to
    disk and the file takes ``path``'s place (``os.replace``, atomic on one file system), and when it raises the
    temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def make_folder_of(path) -> None:
    """Make the folder ``path`` goes in (and those above it), as every ``-o`` does. A file where one of them must
    go is named in the OSError (mkdir says only 'File exists', which reads as if the output itself were in the
    way)."""
    parent = Path(path).parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (parent, *parent.parents) if p.exists() and not p.is_dir()), None)
        if blocker is None:
            raise
        raise NotADirectoryError(errno.ENOTDIR, f"{blocker} is a file, not a folder") from None


def write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`replacing`)."""
    with replacing(path) as handle:
        handle.write(text.encode("utf-8"))


def json_text(value, indent: int | None = None) -> str:
    """``value`` as strict JSON: a NaN or infinite number (a diverged run's error) is written as null, since
    JSON has no such numbers and other tools refuse Python's ``NaN``."""
    import json
    import math

    def strict(item):
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, dict):
            return {key: strict(entry) for key, entry in item.items()}
        if isinstance(item, (list, tuple)):
            return [strict(entry) for entry in item]
        return item

    return json.dumps(strict(value), indent=indent, allow_nan=False)
