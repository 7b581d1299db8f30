"""Source text, spans and the one error type users see.

Every problem with a user's spec becomes a :class:`Diagnostic` located by a
:class:`Span` in a :class:`Source`; a :class:`SpecError` carries all of them
and renders like a compiler::

    darcy.pde:7:6: error: unknown operator 'lapalce'
        -lapalce(u) = f
         ^^^^^^^
    hint: did you mean 'laplace'?

Failures that are not the user's fault are :class:`InternalError`, which says
plainly that it is a bug in pdedsl.
"""

from __future__ import annotations

import unicodedata

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Sequence


@dataclass(frozen=True, eq=False)
class Source:
    """The text of one spec and the name it is reported under."""

    text: str
    name: str = "<spec>"
    path: str | None = None  # the file it came from, if any (for relative data paths)

    def line(self, number: int) -> str:
        """Line ``number`` (1-based) without its line ending, or '' past the end."""
        lines = self._lines()
        return lines[number - 1] if 1 <= number <= len(lines) else ""

    def _lines(self) -> list[str]:
        cached = self.__dict__.get("_lines_cache")
        if cached is None:
            cached = self.text.split("\n")
            object.__setattr__(self, "_lines_cache", cached)
        return cached


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` with 1-based line/column of both ends."""

    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def to(self, other: "Span") -> "Span":
        """The span from the start of ``self`` to the end of ``other``."""
        return Span(self.line, self.column, other.end_line, other.end_column, self.start, other.end)

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One message about a spec: an error or a warning, with a place and an optional hint."""

    message: str
    span: Span | None
    source: Source | None = None
    hint: str | None = None
    severity: str = "error"  # "error" or "warning"

    def render(self) -> str:
        where = self.source.name if self.source is not None else "<spec>"
        if self.span is not None:
            where = f"{where}:{self.span.line}:{self.span.column}"
        lines = [f"{where}: {self.severity}: {self.message}"]
        if self.span is not None and self.source is not None:
            lines.extend(_excerpt(self.source, self.span))
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


_MAX_EXCERPT = 200  # characters of a source line shown under a message


def _excerpt(source: Source, span: Span) -> list[str]:
    """The source line of ``span`` and a caret line under it (tabs kept so columns align)."""
    text = source.line(span.line)
    if not text and span.line > len(source._lines()):
        return []
    start = max(span.column - 1, 0)
    end = span.end_column - 1 if span.end_line == span.line else len(text)
    end = max(end, start + 1)
    if len(text) > _MAX_EXCERPT:  # show a window around the span of a very long line
        left = max(0, start - 40)
        text = ("..." if left else "") + text[left : left + _MAX_EXCERPT] + "..."
        shift = left - (3 if left else 0)
        start, end = start - shift, min(end - shift, len(text))
    prefix = "".join("\t" if ch == "\t" else " " * _cells(ch) for ch in text[:start])
    if start < len(text) and _cells(text[start]) == 0 and prefix.endswith(" "):
        prefix = prefix[:-1]  # a lone accent: under the letter it sits on
    carets = "^" * max(1, sum(_cells(ch) for ch in text[start:min(end, len(text))]) + (end > len(text)))
    printable = "".join(ch if ch.isprintable() or ch == "\t" or _cells(ch) == 0 else "?" for ch in text)
    return ["    " + printable, "    " + prefix + carets]


def _cells(ch: str) -> int:
    """How many terminal columns ``ch`` takes: 2 for wide East Asian characters, 0 for combining marks."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def where(source_name: str, span: "Span | None") -> str:
    """``file:line:col`` of a statement, for errors raised after the front end."""
    return f"{source_name}:{span.line}:{span.column}" if span is not None else source_name


def located(source_name: str, span: "Span | None", message: str, source: "Source | None" = None) -> str:
    """``file:line:col: message``, then the spec's line with carets under ``span`` where its text is at hand:
    how errors found after the front end (a data file, a model that does not fit) point into the spec."""
    text = f"{where(source_name, span)}: {message}"
    if span is not None and source is not None:
        text += "\n" + "\n".join(_excerpt(source, span))
    return text


class PdeError(Exception):
    """Root of the errors pdedsl raises on purpose."""


class SpecError(PdeError):
    """A spec is invalid; holds every diagnostic found (errors first, in source order)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__(self.render())

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    def render(self) -> str:
        text = "\n".join(d.render() for d in self.diagnostics)
        count = len(self.errors)
        if count > 1:
            text += f"\n{count} errors"
        return text


class PdeWarning(RuntimeWarning):
    """A warning pdedsl gives on purpose (the command line prints it as ``pdedsl: warning: ...``)."""


class InternalError(PdeError):
    """Something went wrong inside pdedsl; never the user's fault."""

    def __init__(self, message: str):
        super().__init__(
            f"internal error: {message}\n"
            "This is a bug in pdedsl, not in your spec. Please report it with the spec that caused it."
        )


@dataclass
class DiagnosticSink:
    """Collects diagnostics for one source so independent errors are all reported."""

    source: Source
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _seen: set = field(default_factory=set, repr=False)  # (message, span, hint, severity) of each one held
    error_count: int = 0

    def error(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self._add(Diagnostic(message, span, self.source, hint, "error"))

    def warning(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self._add(Diagnostic(message, span, self.source, hint, "warning"))

    def _add(self, diagnostic: Diagnostic) -> None:
        # The same text reached twice (a let used in two places) is reported once; a set finds it, as a
        # spec may hold thousands of errors (comparing each with all before it took minutes).
        key = (diagnostic.message, diagnostic.span, diagnostic.hint, diagnostic.severity)
        if key not in self._seen:
            self._seen.add(key)
            self.diagnostics.append(diagnostic)
            self.error_count += diagnostic.severity == "error"

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    def sorted(self) -> list[Diagnostic]:
        def key(d: Diagnostic):
            s = d.span
            return (d.severity != "error", s.line if s else 0, s.column if s else 0)

        return sorted(self.diagnostics, key=key)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise SpecError(self.sorted())

    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.sorted() if d.severity == "warning"]


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate to a misspelt ``name``, if any is close.

    A candidate that differs only in case or in compatibility form (the ligature ``ﬁ`` for ``fi``, ``ℌ`` for
    ``H``) comes first, and letters that are not ASCII are named, since a look-alike (Cyrillic ``х`` for
    ``x``) is otherwise invisible in the message.
    """
    pool = sorted(set(candidates))
    same = [c for c in pool if c != name and _folded(c) == _folded(name)]
    matches = same or difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    hint = f"did you mean '{matches[0]}'?" if matches else None
    letters = _named_letters(name + (same[0] if same else ""))
    if letters:
        return f"{hint} ({letters})" if hint else letters
    return hint


def _folded(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


#: Characters a reader takes for one another, each mapped to its class: the digit one, small L and capital i;
#: the digit zero and the letter o.
_GLYPHS = {"1": "\0l", "l": "\0l", "I": "\0l", "0": "\0o", "O": "\0o", "o": "\0o"}


def _glyph_key(name: str) -> str:
    """``name`` with each look-alike character replaced by its class and the others case-folded. The classes
    are taken before folding: folded first, a capital L (as 'l') would join the class of 'I' and '1'."""
    return "".join(_GLYPHS.get(ch, ch.casefold()) for ch in unicodedata.normalize("NFKC", name))


def look_alike_keys(name: str) -> tuple[str, str]:
    """``(case key, glyph key)`` of ``name``: two names look alike when one of their keys is the same (see
    :func:`look_alike`). Keyed in a dict, they find a name's look-alikes among thousands without comparing
    every pair."""
    return _folded(name), _glyph_key(name)


def look_alike(name: str, other: str) -> str | None:
    """How two different names look alike, if they do: "case" (they differ only in case or compatibility form,
    as ``u`` and ``U``), "glyphs" (only in 1, l, I or 0, O, as ``u1`` and ``ul``); else None."""
    if _folded(name) == _folded(other):
        return "case"
    if _glyph_key(name) == _glyph_key(other):
        return "glyphs"
    return None


def _named_letters(name: str) -> str:
    """``'х' is U+0445 CYRILLIC SMALL LETTER HA`` for each distinct character of ``name`` that is not ASCII."""
    odd = dict.fromkeys(ch for ch in name if not ch.isascii())
    return "; ".join(f"'{ch}' is U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}" for ch in odd)
