"""Text -> parse tree -> AST, with every syntax error located and explained.

``parse_spec`` is the front end's entry point. It parses the whole text; on a
syntax error it parses each top-level statement on its own (positions kept) so
that every broken statement is reported, not just the first.
"""

from __future__ import annotations

import re

from lark import Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..errors import Diagnostic, Source, SpecError
from . import ast
from .grammar import lark_parser
from .indenter import BadDedent
from .syntax_errors import describe_syntax_error
from .to_ast import span_of_meta, tree_to_ast

#: Deepest nesting of a parse tree accepted (brackets, unary signs, powers...).
MAX_NESTING = 120
#: Syntax errors reported for one file before giving up.
MAX_SYNTAX_ERRORS = 20

STATEMENT_KEYWORDS = (
    "problem", "domain", "time", "region", "field", "const", "param", "input", "let",
    "equation", "boundary", "initial", "periodic", "observe", "infer", "exact", "reference",
)
_STATEMENT_START = re.compile(r"(?:%s)\b" % "|".join(STATEMENT_KEYWORDS))


def normalise(text: str) -> str:
    """Line endings to '\\n' and a final newline; trailing blank space dropped.

    CRLF and lone CR become LF, which moves no line or column. Trailing blank
    lines and spaces at the very end would otherwise read as an indent.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip(" \t\f\n") + "\n"


def parse_spec(source: Source) -> ast.Spec:
    """Parse a whole spec into its AST, or raise SpecError with every syntax error."""
    tree = parse_tree(source)
    return tree_to_ast(tree)


def parse_tree(source: Source) -> Tree:
    text = source.text
    try:
        tree = _parse(text)
    except (LarkError, RecursionError) as first:
        diagnostics = _errors_by_statement(source) or [_diagnose(first, source)]
        raise SpecError(diagnostics) from None
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


def _errors_by_statement(source: Source) -> list[Diagnostic]:
    """Parse each top-level statement separately and diagnose the ones that fail.

    A statement starts at a line that begins (column 1) with a statement
    keyword. Text outside the statement is blanked to spaces, so line and
    column numbers stay those of the whole file.
    """
    text = source.text
    starts = [m.start() for m in re.finditer(r"^", text, re.MULTILINE) if _STATEMENT_START.match(text, m.start())]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = list(zip(starts, starts[1:] + [len(text)]))
    found: list[Diagnostic] = []
    for begin, end in bounds:
        masked = _blank(text[:begin]) + text[begin:end]
        if not masked.strip():
            continue
        try:
            _parse(masked.rstrip(" \t\f\n") + "\n")
        except (LarkError, RecursionError) as error:
            found.append(_diagnose(error, source))
            if len(found) >= MAX_SYNTAX_ERRORS:
                break
    return found


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
