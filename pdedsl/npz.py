"""Opening the .npz archives a user names, with a plain reason when a file is not one.

``np.load`` guesses a file's kind from its first bytes; anything that is
neither a zip archive nor a ``.npy`` array it takes for a pickle, so a text
file renamed ``.npz`` gets numpy's advice to load it "unsafely" with
``allow_pickle``. :func:`open_npz` looks at those bytes first and says what
the file is instead; pickles are never loaded.
"""

from __future__ import annotations

import os
import zipfile
import zlib

from .errors import PdeError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip file's first entry, or an empty zip
NPY_MAGIC = b"\x93NUMPY"
WHAT_NPZ_IS = "an .npz file is a zip archive of named arrays, as numpy.savez writes it"


class NpzError(PdeError):
    """A file is not a readable .npz archive; the message says why (without the path, which callers add)."""


class ArrayError(NpzError):
    """An archive opens, but an array in it cannot be used (damaged, not an array, not real numbers)."""


def shown_name(name: str) -> str:
    """An array's name as a message may show it: names come from whoever wrote the file, and one holding a
    control or text-direction character (an escape sequence) would reach the terminal raw; those characters
    are written as escapes (``\\x1b``), the rest as it is."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in name)


def not_npz_reason(path) -> str | None:
    """Why the file at ``path`` is not an .npz archive, judged from its first bytes (None: it looks like one)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        return f"cannot open it ({error.strerror or error})"
    if head.startswith(ZIP_MAGIC):
        return None
    if not head:
        return f"the file is empty ({WHAT_NPZ_IS})"
    if head.startswith(NPY_MAGIC):
        return "it holds a single array (.npy, as numpy.save writes it), not an .npz archive of named arrays"
    return f"it is {'a text file' if _looks_like_text(head) else 'not an .npz archive'} ({WHAT_NPZ_IS})"


def open_npz(path):
    """``np.load(path)`` of an .npz archive (no pickles); :class:`NpzError` if the file is not one."""
    import numpy as np

    reason = not_npz_reason(path)
    if reason is not None:
        raise NpzError(reason)
    try:
        return np.load(os.fspath(path), allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise NpzError(f"it is a damaged .npz archive ({str(error)[:200] or type(error).__name__})") from None


#: What an array of each numpy dtype kind holds, for the message refusing it (real numbers are needed).
_HOLDS = {"c": "complex numbers", "U": "text", "S": "bytes", "M": "dates", "m": "time spans",
          "V": "records (a structured array)", "O": "Python objects"}
#: What numpy raises reading a damaged archive or array (a truncated zip is neither an OSError nor a ValueError).
READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def read_array(archive, key: str) -> "np.ndarray":
    """The array ``key`` of an open archive, checked to hold real numbers (bool, integer or float);
    :class:`ArrayError` says why not: damaged, not an array (a zip of other files), pickled objects, text, ..."""
    import numpy as np

    shown = shown_name(key)
    try:
        array = archive[key]
    except READ_ERRORS as error:
        if "allow_pickle" in str(error):
            raise ArrayError(f"'{shown}' holds Python objects (a pickle), which are never loaded; save numbers") from None
        raise ArrayError(f"'{shown}' cannot be read ({str(error)[:200] or type(error).__name__})") from None
    except MemoryError as error:  # numpy allocates the shape an array's header claims before reading it
        raise ArrayError(f"'{shown}' cannot be read: {str(error)[:200] or 'out of memory'} (the file is damaged, "
                         "or the array is larger than this machine's memory)") from None
    if not isinstance(array, np.ndarray):
        raise ArrayError(f"'{shown}' is not a numpy array ({WHAT_NPZ_IS})")
    if array.dtype.kind not in "biuf":
        raise ArrayError(f"'{shown}' holds {_HOLDS.get(array.dtype.kind, 'values that are not numbers')} "
                       f"(dtype {array.dtype}); real numbers are needed")
    return array


def read_arrays(path, keys=None) -> dict:
    """``{name: array}`` of the archive at ``path``: the names in ``keys`` that it has (every array when None),
    each checked by :func:`read_array`; :class:`NpzError` if the file or one of those arrays is unusable."""
    with open_npz(path) as archive:
        names = [k for k in archive.files if keys is None or k in keys]
        return {name: read_array(archive, name) for name in names}


def read_field(path, name: str, axes) -> tuple:
    """``(values, [coordinates per axis])`` of the field ``name`` in the archive at ``path``, as float64 arrays:
    what ``observe``, ``reference`` and ``input ... from`` files hold. :class:`ArrayError` names arrays that
    are missing or not real numbers; :class:`NpzError` says why the file is not an archive."""
    import numpy as np

    with open_npz(path) as archive:
        missing = [key for key in (*axes, name) if key not in archive.files]
        if missing:
            raise ArrayError(f"no array named {', '.join(map(repr, missing))} (the file has "
                             f"{', '.join(map(shown_name, archive.files)) or 'none'})")
        values = read_array(archive, name).astype(np.float64)
        return values, [read_array(archive, axis).astype(np.float64) for axis in axes]


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3  # a character cut off at the end of the sample
    return True
