"""Text -> parse tree -> AST, with every syntax error located and explained.

``parse_spec`` is the front end's entry point. It parses the whole text; on a
syntax error it parses each top-level statement on its own (positions kept) so
that every broken statement is reported, not just the first.
"""

from __future__ import annotations

import dataclasses

import re

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from ..errors import Diagnostic, Source, Span, SpecError
from . import ast
from .grammar import lark_parser
from .indenter import BadDedent
from .syntax_errors import _span_of_token, describe_syntax_error
from .to_ast import span_of_meta, tree_to_ast

#: Deepest nesting of a parse tree accepted (brackets, unary signs, powers...).
MAX_NESTING = 120
#: Syntax errors reported for one file before giving up.
MAX_SYNTAX_ERRORS = 20
#: Most tokens in one spec. Real specs have a few hundred; the pure-Python
#: parser takes about a second for this many, and no more is accepted so that
#: any input gets an answer quickly.
MAX_TOKENS = 20_000

_TOKEN = re.compile(r'#[^\n]*|"[^"\n]*"?|[^\W\d]\w*|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+|[^\s\w]', re.UNICODE)

STATEMENT_KEYWORDS = (
    "problem", "domain", "time", "region", "field", "const", "param", "input", "let",
    "equation", "boundary", "initial", "periodic", "observe", "infer", "exact", "reference",
)
_STATEMENT_START = re.compile(r"(?:%s)\b" % "|".join(STATEMENT_KEYWORDS))
#: A line that opens like a statement with a misspelt keyword (``feild u``): it starts a statement of its own,
#: so the errors after it are found too.
_MISSPELT_START = re.compile(r"[A-Za-z_]\w*[ \t]+[A-Za-z_]")
_BRACKET_SCAN = re.compile(r'#[^\n]*|"[^"\n]*"?|[()\[\]{}\n]')


_LEADING_FORM_FEEDS = re.compile(r"^\f+", re.MULTILINE)


def normalise(text: str) -> str:
    """Line endings to '\\n' and a final newline; trailing blank space dropped.

    CRLF and lone CR become LF, which moves no line or column; a form feed (a
    page break some editors keep) is a space, which moves none either, except at
    the start of a line, where it is dropped (as Python does) so that it does not
    read as an indent. Trailing blank lines and spaces at the very end would
    otherwise read as an indent.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _LEADING_FORM_FEEDS.sub("", text).replace("\f", " ")
    return text.rstrip(" \t\f\n") + "\n"


def parse_spec(source: Source) -> ast.Spec:
    """Parse a whole spec into its AST, or raise SpecError with every syntax error."""
    tree = parse_tree(source)
    return tree_to_ast(tree)


def parse_tree(source: Source) -> Tree:
    text = source.text
    _check_size(source)
    _check_comments_and_strings(source)
    try:
        tree = _parse(text)
    except (LarkError, RecursionError) as first:
        syntax, keywords = _errors_by_statement(source)
        diagnostics = (syntax or [_diagnose(first, source)]) + keywords
        in_order = sorted(diagnostics, key=lambda d: (d.span.line, d.span.column) if d.span else (0, 0))
        raise SpecError(in_order) from None
    _check_nesting(tree, source)
    return tree


def _parse(text: str) -> Tree:
    return lark_parser().parse(text)


def _diagnose(error: Exception, source: Source) -> Diagnostic:
    if isinstance(error, (UnexpectedInput, BadDedent)):
        return describe_syntax_error(error, source, _parse)
    if isinstance(error, RecursionError):
        return Diagnostic("the spec is nested too deeply to parse", None, source)
    return Diagnostic(f"cannot parse the spec: {error}", None, source)


def _errors_by_statement(source: Source) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Parse each top-level statement separately and diagnose the ones that fail; second, the keywords that
    the statements which parse declare as names (see :func:`_keywords_declared`).

    A statement starts at a line that begins (column 1) with a statement
    keyword. Text outside the statement is blanked to spaces, so line and
    column numbers stay those of the whole file.
    """
    text = source.text
    starts = [at for at in _top_level_line_starts(text)
              if _STATEMENT_START.match(text, at) or _MISSPELT_START.match(text, at)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = list(zip(starts, starts[1:] + [len(text)]))
    found: list[Diagnostic] = []
    keywords: list[Diagnostic] = []
    for begin, end in bounds:
        masked = _blank(text[:begin]) + text[begin:end]
        if not masked.strip():
            continue
        try:
            tree = _parse(masked.rstrip(" \t\f\n") + "\n")
        except (LarkError, RecursionError) as error:
            found.append(_diagnose(error, source))
            if len(found) >= MAX_SYNTAX_ERRORS and (begin, end) != bounds[-1]:
                stop = f"checking stopped after {MAX_SYNTAX_ERRORS} syntax errors: fix these and check again"
                last = found[-1]
                found[-1] = dataclasses.replace(last, hint=f"{last.hint}; {stop}" if last.hint else stop)
                break
        else:
            keywords.extend(_keywords_declared(tree, source))
    return found, keywords


def _keywords_declared(tree: Tree, source: Source) -> list[Diagnostic]:
    """An error at each keyword a statement that parsed declares as a name ('field not', 'domain boundary').

    The grammar takes a keyword for a name where only a name can come, so such a declaration parses and only
    its uses fail, with syntax errors that cannot say why; the checker, which names the keyword, runs only
    once the whole spec parses. Said here, the cause comes beside those errors (same message as the checker).
    """
    from ..ir.builtins import KEYWORDS

    found = []
    for statement in tree.children:
        if not isinstance(statement, Tree):
            continue
        for token in statement.children:
            if isinstance(token, Token) and token.type == "NAME" and token.value in KEYWORDS:
                found.append(Diagnostic(f"'{token.value}' is a keyword and cannot be used as a name",
                                        _span_of_token(token), source, hint="choose another name"))
    return found


def _top_level_line_starts(text: str) -> list[int]:
    """Offsets of the lines that begin outside every bracket (comments and strings skipped)."""
    starts, depth = [0], 0
    for token in _BRACKET_SCAN.finditer(text):
        kind = token.group()
        if kind == "\n":
            if depth == 0:
                starts.append(token.end())
        elif kind in "([{":
            depth += 1
        elif kind in ")]}":
            depth = max(depth - 1, 0)
    return starts


def _check_size(source: Source) -> None:
    """Refuse specs with more than MAX_TOKENS tokens (comments do not count) before parsing."""
    count = 0
    for match in _TOKEN.finditer(source.text):
        if match.group().startswith("#"):
            continue
        count += 1
        if count > MAX_TOKENS:
            before = source.text[: match.start()]
            line = before.count("\n") + 1
            column = match.start() - (before.rfind("\n") + 1) + 1
            raise SpecError([Diagnostic(
                f"the spec is too large: more than {MAX_TOKENS} tokens (names, numbers and symbols)",
                Span(line, column, line, column + 1, match.start(), match.end()), source,
                hint="a spec this large is almost certainly generated by mistake; split long expressions with 'let'",
            )])


#: Characters that editors (and Python's ``str.splitlines``) show as line breaks, which end no comment here.
_LINE_BREAKS = "\x0b\x1c\x1d\x1e\x85\u2028\u2029"
#: Bidirectional embeddings, overrides and isolates: a line holding one may display in another order than the
#: one it is read in ('Trojan Source', CVE-2021-42574). Right-to-left text and the marks U+200E/U+200F are fine.
_DIRECTION_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_HIDDEN_IN_COMMENT = re.compile(f"[{_LINE_BREAKS}{_DIRECTION_CONTROLS}]")


def _check_comments_and_strings(source: Source) -> None:
    """Refuse comments and strings that hide text. In a comment, a line break other than newline shows the
    rest of the comment as a line of its own (a 'domain' statement after it looked declared and was not), and
    a text-direction control reorders what is shown; a string (a data file's name, echoed in messages) may
    hold no control character at all (an escape sequence reached the terminal raw). Outside both the lexer
    refuses these characters already."""
    found = []
    for match in _TOKEN.finditer(source.text):
        token = match.group()
        if token.startswith("#"):
            hidden = _HIDDEN_IN_COMMENT.search(token)
        elif token.startswith('"'):
            hidden = next((m for m in _CHARACTER.finditer(token) if _is_control(m.group())), None)
        else:
            continue
        if hidden is None:
            continue
        at = match.start() + hidden.start()
        char = hidden.group()
        line = source.text.count("\n", 0, at) + 1
        column = at - (source.text.rfind("\n", 0, at) + 1) + 1
        found.append(_hidden_character(char, token.startswith("#"), Span(line, column, line, column + 1, at, at + 1),
                                       source))
    if found:
        raise SpecError(found[:MAX_SYNTAX_ERRORS])


_CHARACTER = re.compile(".", re.DOTALL)


def _is_control(char: str) -> bool:
    """A character a string may not hold: a control character (C0, DEL, C1: tab too), a line break other
    than newline, or a text-direction control."""
    import unicodedata

    return unicodedata.category(char) == "Cc" or char in _LINE_BREAKS or char in _DIRECTION_CONTROLS


def _hidden_character(char: str, in_comment: bool, span: Span, source: Source) -> Diagnostic:
    """The error for a character that hides text (see :func:`_check_comments_and_strings`)."""
    shown, code = ascii(char)[1:-1], f"U+{ord(char):04X}"
    if not in_comment:
        return Diagnostic(f"a string holds {shown}, a control character", span, source,
                          hint=f"a data file's name is written in printable characters: delete {code}")
    if char in _LINE_BREAKS:
        return Diagnostic(f"a comment holds {shown}, which some editors show as a line break", span, source,
                          hint=f"pdedsl reads the rest of the line as part of the comment: replace {code} "
                               "with an ordinary line break (or a space)")
    return Diagnostic(f"a comment holds {shown}, a control of text direction", span, source,
                      hint=f"{code} can make the line display in another order than the one pdedsl reads it in: "
                           "delete it")


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _check_nesting(tree: Tree, source: Source) -> None:
    """Reject trees deeper than MAX_NESTING before anything recursive walks them."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            meta = node.meta
            span = None
            if not getattr(meta, "empty", True):
                span = span_of_meta(meta)
            raise SpecError([
                Diagnostic(
                    f"expression is nested too deeply (more than {MAX_NESTING} levels)",
                    span,
                    source,
                    hint="split it into named parts with 'let'",
                )
            ])
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
