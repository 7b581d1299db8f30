"""Finding the grammar file and building the (cached) Lark parser.

The grammar lives in the repository at ``grammar/pde.lark``; a wheel carries
it as ``pdedsl/grammar/pde.lark``. Both places are tried, wheel first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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


@lru_cache(maxsize=None)
def lark_parser() -> Lark:
    """The LALR parser with the indentation post-lexer; built once per process."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        postlex=SpecIndenter(),
        propagate_positions=True,
        maybe_placeholders=True,
        start="start",
    )
