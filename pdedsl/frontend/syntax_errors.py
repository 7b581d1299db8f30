"""Readable syntax errors.

Lark reports an unexpected token and the set of terminals it expected. This
module turns that into a sentence a person understands: first by matching the
error against labelled examples of common mistakes (Lark's
``match_examples``), then by naming the unexpected token and what could have
come instead.
"""

from __future__ import annotations

import unicodedata

import re
from functools import lru_cache

from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import Token

from ..errors import Diagnostic, Source, Span, did_you_mean
from .grammar import lark_parser
from .indenter import BadDedent, MixedIndent

# Each label is a message; its examples are small specs that fail in the same
# parser state as the mistake the message explains.
_EXAMPLES: dict[str, list[str]] = {
    "an equation or condition needs '=' between its two sides": [
        "equation in O:\n    u\n",
        "equation in O:\n    u + 1\n",
        "boundary on b:\n    dn(u)\n",
        "equation in O:\n    -laplace(u)\n",
    ],
    "a block header ends with ':'": [
        "equation in O\n    u = 0\n",
        "boundary on b\n    u = 0\n",
        "boundary on boundary(O)\n    u = 0\n",
        "initial\n    u = 0\n",
        "equation\n    u = 0\n",
        "equation e in O\n    u = 0\n",
    ],
    "the equations of a block go on indented lines below its header": [
        "equation in O:\nu = 0\n",
        "equation in O:\n-u = 0\n",
        "equation in O:\n+u = 0\n",
        "equation in O:\n(u) = 0\n",
        "equation in O:\n1 = u\n",
        "equation in O:\n[1, 2] = u\n",
        "boundary on b:\nu = 0\n",
        "initial:\nu = 0\n",
    ],
    "a block needs at least one equation or condition, on indented lines below its header": [
        "equation in O:\n",
        "equation e in O:\n",
        "boundary on b:\n",
        "initial:\n",
        "equation in O:  # a comment\n",
    ],
    "unexpected indentation: only the lines of an equation, boundary or initial block are indented": [
        "field u\n    field v\n",
        "problem p\n  field u\n",
        "  problem p\n",
        "# a comment\n  problem p\n",
    ],
    "missing operator between two operands (write 2*x for a product)": [
        "const c = 2 x\n",
        "const c = 2 (3)\n",
        "equation in O:\n    2 u = 0\n",
        "equation in O:\n    u = 2 x\n",
    ],
    "the expression is incomplete": [
        "const c = 2 +\n",
        "const c = 2 *\n",
        "const c =\n",
        "equation in O:\n    u = \n",
        "equation in O:\n    u + = 1\n",
    ],
    "a domain is defined with '=': domain NAME = box(...)": [
        "domain O box(x: [0, 1])\n",
        "domain O: box(x: [0, 1])\n",
    ],
    "a time axis is declared as: time t: [t0, t1]": [
        "time t = [0, 1]\n",
        "time t [0, 1]\n",
        "time t: 0, 1\n",
        "time: [0, 1]\n",
    ],
    "a range is written [low, high]": [
        "time t: [0]\n",
        "time t: [0, 1, 2]\n",
        "time t: [0 1]\n",
    ],
    "an input is given by a prior (input a ~ ...), a formula (input a = ...) or data (input a from \"file.npz\")": [
        "input a\n",
        "input a : 1\n",
    ],
    "a param has a value (param k = 1) or a prior (param k ~ uniform(0, 1))": [
        "param k\n",
        "param k : 1\n",
    ],
    "a boundary block names where it applies: boundary on REGION: or boundary on boundary(DOMAIN):": [
        "boundary:\n    u = 0\n",
        "boundary b:\n    u = 0\n",
        "boundary in O:\n    u = 0\n",
    ],
    "a block holds on a domain or a named region, not on a 'where' of its own: declare the region "
    "('region r = boundary(D) where ...', or 'D where ...' inside) and name it ('on r:', 'in r:')": [
        "boundary on boundary(O) where x == 0:\n    u = 0\n",
        "boundary on b where x == 0:\n    u = 0\n",
        "equation in O where x < 1:\n    u = 0\n",
    ],
    "an equation block says where it holds with 'in': equation NAME in DOMAIN:": [
        "equation on O:\n    u = 0\n",
    ],
    "a periodic statement takes one axis: write one statement per axis (periodic u in x, then periodic u in y)": [
        "periodic u in x, y\n",
        "periodic u in x y\n",
    ],
    "a region's predicate compares with '==' ('where x == 0'); '=' makes equations": [
        "region r = O where x = 0\n",
        "region r = boundary(O) where x = 0\n",
        "region r = O where x < 1 and y = 0\n",
    ],
    "a data file name is a double-quoted string: \"file.npz\"": [
        "observe u from u.npz\n",
        "reference u from u.npz\n",
        "input a from a.npz\n",
    ],
}


@lru_cache(maxsize=None)
def _terminal_texts() -> dict[str, str]:
    """Terminal name -> how to show it ('domain', '(', ...)."""
    shown = {}
    for term in lark_parser().terminals:
        pattern = term.pattern
        if pattern.type == "str":
            shown[term.name] = f"'{pattern.value}'"
    shown.update({
        "NAME": "a name",
        "NUMBER": "a number",
        "STRING": "a quoted string",
        "COMPARE": "a comparison",
        "_NL": "end of line",
        "_INDENT": "an indented line",
        "_DEDENT": "the end of the block",
        "$END": "end of file",
    })
    return shown


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "_NL":
        return "end of line"
    if token.type == "_INDENT":
        return "indentation"
    if token.type == "_DEDENT":
        return "end of the indented block"
    if token.type == "NAME":
        return f"name '{token.value}'"
    if token.type == "NUMBER":
        return f"number {token.value}"
    if token.type == "STRING":
        return f"string {token.value}"
    return f"'{token.value}'"


def _describe_expected(expected) -> str:
    from .parser import STATEMENT_KEYWORDS

    shown = _terminal_texts()
    statement_terminals = {keyword.upper() for keyword in STATEMENT_KEYWORDS}
    names = set()
    if len(statement_terminals & set(expected)) >= 5:
        expected = set(expected) - statement_terminals
        names.add("a statement (problem, domain, field, equation, boundary, ...)")
    names = sorted(names | {shown.get(name, name) for name in expected})
    if len(names) > 8:
        names = names[:8] + ["..."]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _span_of_token(token: Token) -> Span:
    if token.type in ("_INDENT", "_DEDENT") and token.end_line:
        # These borrow the position of the newline before them; point at the indentation itself.
        return Span(token.end_line, 1, token.end_line, max(token.end_column or 1, 2))
    line = token.line or 1
    column = token.column or 1
    end_line = token.end_line or line
    end_column = token.end_column or column + 1
    return Span(line, column, end_line, end_column, token.start_pos or 0, token.end_pos or 0)


def describe_syntax_error(error: Exception, source: Source, parse_fn) -> Diagnostic:
    """The diagnostic for one Lark (or indentation) error."""
    if isinstance(error, MixedIndent):
        line = error.token.end_line or 1
        return Diagnostic(
            "this line's tabs and spaces differ from the indentation of the lines above it",
            Span(line, 1, line, max(error.token.end_column or 1, 2)),
            source,
            hint="indent with spaces only, or with tabs only (a tab counts as 8 spaces, but not in every editor)",
        )
    if isinstance(error, BadDedent):
        token = error.token
        line = token.end_line or 1
        return Diagnostic(
            "this line's indentation matches no enclosing block",
            Span(line, 1, line, max(token.end_column or 1, 2)),
            source,
            hint="indent every line of a block by the same amount",
        )
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, source)
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, source, parse_fn)
    assert isinstance(error, UnexpectedInput)
    return Diagnostic("unexpected end of file", None, source)


def _unexpected_character(error: UnexpectedCharacters, source: Source) -> Diagnostic:
    pos = error.pos_in_stream
    char = source.text[pos] if 0 <= pos < len(source.text) else ""
    span = Span(error.line, error.column, error.line, error.column + 1, pos, pos + 1)
    if char == '"':
        return Diagnostic("unterminated string", span, source, hint="close it with '\"' on the same line")
    if char == "'":
        return Diagnostic("strings use double quotes", span, source, hint="write \"file.npz\"")
    if unicodedata.combining(char):
        return Diagnostic(f"unexpected accent {ascii(char)} on its own", span, source,
                          hint="write the accented letter as one character (é, not e followed by an accent): "
                               "most editors do so when told to save text normalised as NFC")
    if unicodedata.digit(char, None) is not None:
        return Diagnostic(f"unexpected character '{char}'", span, source,
                          hint="numbers are written with the digits 0-9")
    if char == "\\":
        return Diagnostic("unexpected character '\\'", span, source,
                          hint="a statement runs over several lines only inside brackets: put the expression "
                               "in ( ) and break the line there, with no '\\'")
    shown = f"'{char}'" if char.isprintable() and not char.isspace() else ascii(char)
    return Diagnostic(f"unexpected character {shown}", span, source, hint=_lookalike_hint(char))


# Characters that word processors and PDFs put where a spec needs an ASCII one.
_LOOKALIKES = {
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u2217": "*", "\u2219": "*",
    "\u00f7": "/", "\u2215": "/",
    "\u201c": '"', "\u201d": '"', "\u201e": '"',
}


def _lookalike_hint(char: str) -> str | None:
    """A hint naming the ASCII character that ``char`` (pasted from a document) stands for.

    Unicode minus signs and dashes, multiplication signs, curly quotes and
    non-breaking or thin spaces look like the spec's own characters but are
    not, so the error alone would leave a reader staring at a line that looks
    right.
    """
    name = unicodedata.name(char, f"U+{ord(char):04X}")
    if char in _LOOKALIKES:
        return f"this is {name} (U+{ord(char):04X}), not '{_LOOKALIKES[char]}': type '{_LOOKALIKES[char]}' instead"
    if unicodedata.category(char) == "Zs":
        return f"this is {name} (U+{ord(char):04X}), not an ordinary space: type a space instead"
    return None


def _unexpected_token(error: UnexpectedToken, source: Source, parse_fn) -> Diagnostic:

    token = error.token
    span = _span_of_token(token)
    brackets = lark_parser().options.postlex.open_brackets
    at_end = token.type in ("$END", "_DEDENT")
    if brackets and (at_end or token.line is None or token.line > brackets[-1].line):
        opened = brackets[-1]
        hint = ("close it before the statement ends" if at_end else
                f"the statement runs on to line {token.line}, where {_describe_token(token)} was not expected")
        return Diagnostic(
            f"'{opened.value}' was never closed",
            _span_of_token(opened),
            source,
            hint=hint,
        )
    if token.type in ("$END", "_DEDENT") and token.line is None:
        last = len(source.text.rstrip("\n").split("\n"))
        span = Span(last, 1, last, 2)
    found = _describe_token(token)
    line_text = source.line(token.line or 0)
    if "EQUAL" in error.expected and "==" in line_text:
        column = line_text.index("==") + 1
        return Diagnostic(
            "use '=' in equations and conditions", Span(token.line, column, token.line, column + 2), source,
            hint="'==' compares coordinates in region predicates ('where x == 0')",
        )
    comparison = re.search(r"<=|>=|!=|<|>", line_text) if "EQUAL" in error.expected else None
    if comparison is not None and token.column is not None and comparison.start() + 1 < token.column:
        # 'u >= 0' as an equation parses as a comparison and fails at the line's end: point at the comparison
        column = comparison.start() + 1
        return Diagnostic(
            f"an equation or condition is an equality ('='), not '{comparison.group()}'",
            Span(token.line, column, token.line, column + len(comparison.group())), source,
            hint="comparisons belong in region predicates ('region r = D where x > 0'); an inequality "
                 "constraint on a field is not part of the language",
        )
    if token.type == "STAR" and token.start_pos and source.text[token.start_pos - 1] == "*":
        return Diagnostic("use '^' for powers, not '**'",
                          Span(token.line, token.column - 1, token.line, token.column + 1), source)
    if token.type == "NAME" and _is_superscript(token.value[0]):
        return Diagnostic(f"use '^' for powers, not a superscript ('{token.value[0]}')", span, source,
                          hint=f"write ^{unicodedata.normalize('NFKC', token.value)}")
    if _bare_exponent(token, source):
        return Diagnostic("a number's exponent needs digits", Span(token.line, token.column - 1, token.line,
                          token.column + 1), source, hint="write 1e3 or 1e-3; for Euler's number write exp(1)")
    label = _match_example(error, parse_fn)
    if label is not None:
        if token.type in ("_INDENT", "_NL", "$END", "_DEDENT"):
            return Diagnostic(label, span, source)
        return Diagnostic(f"{label} (found {found})", span, source)
    hint = None
    if token.type == "NAME" and "FIELD" in error.expected:  # at the start of a statement
        from .parser import STATEMENT_KEYWORDS

        hint = did_you_mean(token.value, STATEMENT_KEYWORDS) or (
            "a statement starts with a keyword; equations go in an 'equation' block"
        )
    before = line_text[: max((token.column or 1) - 1, 0)]
    if token.type == "LPAR" and hint is None:  # a call where a name was expected: 'on boundry(Omega)'
        hint = _misspelt_call(before)
    if token.type == "NAME" and hint is None:
        hint = _string_with_escape(before)
    if hint is None and ("NAME" not in error.expected or token.type in _AFTER_A_NAME_ONLY):
        hint = _keyword_as_name(before)
    message = f"unexpected {found}; expected {_describe_expected(error.expected)}"
    return Diagnostic(message, span, source, hint=hint)


def _is_superscript(char: str) -> bool:
    """Whether ``char`` is a superscript digit or sign (``²``), which a name may hold but not start with."""
    return "SUPERSCRIPT" in unicodedata.name(char, "")


def _bare_exponent(token: Token, source: Source) -> bool:
    """Whether the token is the 'e' of a number written '1e' or '1e-' with no exponent digits."""
    start = token.start_pos
    return (token.type == "NAME" and token.value in ("e", "E") and start is not None and start > 0
            and source.text[start - 1] in "0123456789.")


def _string_with_escape(before: str) -> str | None:
    """The no-escapes hint for a name glued to the end of a string: '"a\\"b.npz"' is the string '"a\\"' then 'b'.

    Strings have no escapes, so the quote a backslash was meant to escape ends the string and what follows
    it reads as code; a name right after a closing quote (no space) is the sign of it.
    """
    if not re.search(r'"[^"]*"$', before):
        return None
    return "strings have no escapes: a '\"' ends the string, and a string cannot hold a '\"'"


#: Tokens that follow a name but no keyword: a keyword before one was meant as a name ('box(not: [0, 1])').
_AFTER_A_NAME_ONLY = ("COLON", "EQUAL", "COMMA", "RPAR")


def _keyword_as_name(before: str) -> str | None:
    """A hint naming the keyword just before an unexpected token, where it was likely meant as a name.

    'box(not: [0, 1])' fails at the ':' and 'equation in in O:' at 'O', neither saying that the word before
    is a keyword. The caller gives it only where the keyword was taken as a name (no name is expected next) or
    is followed by what only follows a name: 'equation in (O)' uses 'in' as a keyword, and is not told.
    """
    from ..ir.builtins import KEYWORDS

    word = re.search(r"(?<![\w.])([A-Za-z_]\w*)\s*$", before)
    if word is None or word[1] not in KEYWORDS:
        return None
    return f"'{word[1]}' is a keyword and cannot be used as a name"


def _misspelt_call(before: str) -> str | None:
    """A did-you-mean hint for the name just before an unexpected '(', if it is close to a callable."""
    from ..ir.builtins import CALLABLES, KEYWORDS

    match = re.search(r"(\w+)\s*$", before)
    if match is None or match[1] in CALLABLES or match[1] in KEYWORDS:  # 'in (' is no misspelt 'sin('
        return None
    return did_you_mean(match[1], CALLABLES + ("boundary",))


@lru_cache(maxsize=None)
def _example_signatures() -> dict:
    """(parser state at the top of the stack, token type) -> label, for every example.

    Lark's own ``match_examples`` compares whole parser stacks, so an example
    written as a first statement never matches the same mistake further down a
    spec. The LALR state on top of the stack and the unexpected token's type
    identify the mistake wherever it is.
    """
    signatures: dict = {}
    for label, examples in _EXAMPLES.items():
        for example in examples:
            try:
                lark_parser().parse(example)
            except UnexpectedToken as error:
                key = (error.state.position, error.token.type)
                signatures.setdefault(key, label)
            except Exception:  # an example that fails otherwise only lacks a signature
                continue
    return signatures


def _match_example(error: UnexpectedToken, parse_fn) -> str | None:
    signatures = _example_signatures()
    position = getattr(error.state, "position", None)
    return signatures.get((position, error.token.type))
