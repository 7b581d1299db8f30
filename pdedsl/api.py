"""The importable surface: load a spec (from a file or from text) into a checked Problem."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Union

from . import compiler
from .errors import Diagnostic, Source, Span, SpecError
from .frontend import ast
from .ir import Problem

PathOrText = Union[str, os.PathLike]

#: Specs larger than this are refused before parsing.
MAX_SPEC_BYTES = 16 * 1024 * 1024


def load(path_or_text: PathOrText, observations_read: bool = True) -> Problem:
    """Parse and check a spec; returns the Problem or raises SpecError (every error, located).

    A ``Path`` (or a string naming an existing file or folder, or ending in ``.pde``, with no newline in it) is
    read as a file, a folder being refused as one; ``bytes`` are the spec's UTF-8 text, as is any other string.
    Anything else is a TypeError. With ``observations_read=False`` an ``observe`` or ``reference`` file that is
    not there is a warning and its statement is left out (``pdedsl data`` makes such files from the spec).
    """
    with _room_to_recurse():
        return compiler.check(source_of(path_or_text), observations_read)


def parse(path_or_text: PathOrText) -> ast.Spec:
    """Parse only: the AST of a spec (syntax errors raise SpecError)."""
    with _room_to_recurse():
        return compiler.parse(source_of(path_or_text))


def compile(path_or_text: PathOrText) -> str:  # noqa: A001 - the natural name for a compiler's API
    """The generated Python module (source text) for a spec."""
    with _room_to_recurse():
        return compiler.compile_source(source_of(path_or_text))


@contextmanager
def _room_to_recurse(limit: int = 10_000):
    """SymPy walks expression trees recursively, several frames a level: expressions at the language's
    nesting limits need more than Python's default 1000 frames (the command line sets the same limit)."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


#: What ``infer`` without a model (a PINN fitted with the scalar unknowns) takes.
_PINN_INFER_SETTINGS = ("steps", "lbfgs_steps", "seed", "instance", "threads")


def infer(spec: PathOrText, model=None, out="runs/infer", truth=None, progress: bool = False, **settings) -> dict:
    """Solve a spec's inverse problem (its ``observe``/``infer`` statements) into the folder ``out``; returns the
    report, the content of ``out/inference.json``.

    With ``model`` (a folder of a ``dgno`` run on the same family): the posterior in its latent space (MAP,
    the Laplace approximation there, then Langevin chains preconditioned by it; ``sampler="laplace"`` draws
    the Gaussian itself), with ``settings`` restarts, adam_steps, lbfgs_steps, learning_rate, samples,
    particles, sampler, chains, mala_steps, model_error, prior, seed (the command line's --draws is
    ``samples``, --map-steps ``adam_steps``); ``truth``: arrays by name on the sensor grid, for errors and
    coverage. Without it: scalar unknowns fitted with a PINN, with Laplace standard deviations (``settings``:
    steps, lbfgs_steps, seed, instance, threads). An unknown setting, or one of the wrong kind, is a TypeError
    naming it, before any folder is made. ``progress`` shows progress bars.
    """
    import dataclasses

    from .training.inference import infer as infer_latent, infer_scalars
    from .training.inverse import Settings

    known = _PINN_INFER_SETTINGS if model is None else tuple(f.name for f in dataclasses.fields(Settings))
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise TypeError(f"unknown inference setting(s) {', '.join(unknown)} "
                        f"{'without a model (a PINN fit)' if model is None else 'with a dgno model'}; "
                        f"known: {', '.join(known)}")
    if model is None:
        return infer_scalars(spec, out, progress=progress, **settings)
    return infer_latent(spec, model, out, Settings(**settings), truth=truth, progress=progress)


def source_of(path_or_text: PathOrText) -> Source:
    if isinstance(path_or_text, (bytes, bytearray)):  # the bytes of a spec: UTF-8 text
        path_or_text = decode(bytes(path_or_text), "<spec>")
    if not isinstance(path_or_text, (str, os.PathLike)):
        raise TypeError(f"a spec is a path or its text (str, bytes or Path), not {type(path_or_text).__name__}")
    if isinstance(path_or_text, os.PathLike) or _looks_like_path(path_or_text):
        return read_spec_file(Path(path_or_text))
    return compiler.read_source(str(path_or_text))


def _looks_like_path(text: str) -> bool:
    """A string is a path if it ends in .pde or names something on disk (a file, or a folder, which is then
    refused as one rather than parsed as spec text); a spec's text has a newline, is blank, or is no existing
    name."""
    if "\n" in text or len(text) > 4096 or not text.strip():  # (Path("") and Path(" ") are no file's name)
        return False
    if text.endswith(".pde"):
        return True
    try:
        return Path(text).exists()
    except (OSError, ValueError):  # not a possible file name: it is text
        return False


def read_spec_file(path: Path) -> Source:
    """Read a spec file as UTF-8; unreadable or undecodable files raise SpecError (never a traceback)."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            _fail(name, f"the file is too large for a spec ({size} bytes; at most {MAX_SPEC_BYTES})")
        data = path.read_bytes()
    except FileNotFoundError:
        _fail(name, "no such file")
    except IsADirectoryError:
        _fail(name, "is a directory, not a spec file")
    except OSError as error:
        _fail(name, f"cannot read the file: {error.strerror or error}")
    return compiler.read_source(decode(data, name), name, str(path))


def decode(data: bytes, name: str) -> str:
    """UTF-8 text of a spec (a BOM is allowed); a bad byte is reported at its line and column."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    encoding = _wide_encoding(data)
    if encoding is not None:
        _fail(name, f"the file is {encoding} text, not UTF-8", hint="save the spec as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        text = data.decode("utf-8", errors="replace")
        source = Source(text, name)
        span = Span(line, column, line, column + 1)
        raise SpecError([Diagnostic(
            f"the file is not UTF-8 text (byte 0x{data[error.start]:02x} cannot be decoded)",
            span, source, hint="save the spec as UTF-8",
        )]) from None


def _wide_encoding(data: bytes) -> str | None:
    """'UTF-16' or 'UTF-32' when the bytes are plainly one of them (a byte-order mark, or every other byte NUL)."""
    for mark, encoding in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                           (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(mark):
            return encoding
    head = data[:200]
    if len(head) >= 4 and (head[0::2].count(0) == len(head[0::2]) or head[1::2].count(0) == len(head[1::2])):
        return "UTF-16"
    return None


def _fail(name: str, message: str, hint: str | None = None):
    raise SpecError([Diagnostic(message, None, Source("", name), hint=hint)])
