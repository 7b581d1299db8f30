"""Identifiers for generated code: never user text, always valid, never colliding.

Every identifier is a role prefix (``c_`` const, ``p_`` param, ``coord_``
coordinate, ``f_`` field or input value, ``n_`` normal component,
``residual_``, ``exact_``) followed by the user's name reduced to ASCII letters,
digits and underscores (Greek letters spelt out, accents dropped, other
characters ``x<hex>``: see :func:`ascii_part`). The prefixes
cannot begin a Python keyword, builtin or a name the module itself uses, so a
field called ``torch``, ``self`` or ``__import__`` becomes ``f_torch``,
``f_self``, ``f___import__``; if two names still reduce to the same text, the
later one gets a numeric suffix.
"""

from __future__ import annotations

import keyword
import re
import unicodedata


def ascii_part(name: str) -> str:
    """``name`` in ASCII letters, digits and underscores, as readable as it can be: ``ν`` is ``nu``, ``Ω``
    ``Omega``, ``é`` ``e``, the ligature ``ﬁ`` ``fi``; any other character is ``x<hex>``."""
    return "".join(_ascii_char(char) for char in name)


_GREEK = re.compile(r"(?:MATHEMATICAL [A-Z -]*)?GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)(?: WITH .*)?")


def _ascii_char(char: str) -> str:
    if char.isascii():
        return char if char.isalnum() or char == "_" else f"x{ord(char):x}"
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if bare.isascii() and bare.isalnum():
        return bare
    greek = _GREEK.fullmatch(unicodedata.name(bare if len(bare) == 1 else char, ""))
    if greek is not None:
        letter = greek[2].lower()
        return letter if greek[1] == "SMALL" else letter.capitalize()
    return f"x{ord(char):x}"


class Namer:
    """Hands out unique identifiers for (role, key) pairs, the same one each time it is asked."""

    def __init__(self, reserved=()):
        self._given: dict[tuple, str] = {}
        self._used: set[str] = set(reserved)

    def name(self, prefix: str, key, readable: str) -> str:
        identity = (prefix, key)
        if identity in self._given:
            return self._given[identity]
        base = prefix + ascii_part(readable)
        candidate, index = base, 2
        while candidate in self._used or keyword.iskeyword(candidate) or not candidate.isidentifier():
            candidate = f"{base}_{index}"
            index += 1
        self._used.add(candidate)
        self._given[identity] = candidate
        return candidate


def derivative_readable(function: str, orders) -> str:
    """``u`` for a value, ``u__x2`` for d(u, x, 2), ``u__x1_y1`` for d(u, x, y)."""
    if not orders:
        return function
    return function + "__" + "_".join(f"{axis}{count}" for axis, count in orders)


def relation_readable(name: str) -> str:
    """A relation's name as an identifier part: a vector relation's component ``darcy[0]`` is ``darcy_0``
    (spelt ``darcy_1x5b0x5d`` by :func:`ascii_part` otherwise)."""
    return re.sub(r"\[(\d+)\]", r"_\1", name)
