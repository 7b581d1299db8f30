"""Finding the grammar file and building the (cached) Lark parser.

The grammar lives in the repository at ``grammar/pde.lark``; a wheel carries
it as ``pdedsl/grammar/pde.lark``. Both places are tried, wheel first.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import lark
from lark import Lark

from ..errors import InternalError
from .indenter import SpecIndenter

_PACKAGE = Path(__file__).resolve().parent.parent
_CANDIDATES = (
    _PACKAGE / "grammar" / "pde.lark",  # installed wheel
    _PACKAGE.parent / "grammar" / "pde.lark",  # source checkout / editable install
)


def grammar_path() -> Path:
    """The path of ``pde.lark`` that this installation uses."""
    for candidate in _CANDIDATES:
        if candidate.is_file():
            return candidate
    raise InternalError(f"the grammar file pde.lark is missing (looked in {', '.join(map(str, _CANDIDATES))})")


def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


def parser_cache() -> str | bool:
    """Where Lark keeps the analysed grammar between processes (``False``: nowhere).

    Building the LALR tables takes about a second, on every command; loading them takes 25 ms. The file
    lives in the user's own cache folder (never a shared temporary one: it is a pickle), and Lark checks
    the grammar's and options' hash stored in it, so an edited grammar is analysed afresh. A folder that
    cannot be written only costs the second.
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "pdedsl"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return False
    if not os.access(folder, os.W_OK | os.X_OK) or folder.stat().st_uid != os.getuid():
        return False
    return str(folder / f"grammar-lark-{lark.__version__}.cache")


@lru_cache(maxsize=None)
def lark_parser() -> Lark:
    """The LALR parser with the indentation post-lexer; built once per process (and cached on disk)."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        postlex=SpecIndenter(),
        propagate_positions=True,
        maybe_placeholders=True,
        start="start",
        cache=parser_cache(),
    )
