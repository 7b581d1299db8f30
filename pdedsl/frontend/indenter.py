"""The post-lexer that turns indentation into _INDENT/_DEDENT tokens.

It follows Lark's ``Indenter`` but keeps the open brackets as a stack of
tokens (not a counter) so that an unclosed bracket can be reported where it
was opened, and it reports a bad dedent as a located error instead of an
assertion or an unlocated exception.
"""

from __future__ import annotations

from typing import Iterator

from lark.exceptions import LarkError
from lark.indenter import Indenter
from lark.lexer import Token


class BadDedent(LarkError):
    """A line is dedented to a column that no enclosing block started at."""

    def __init__(self, token: Token):
        super().__init__("unindent does not match any outer indentation level")
        self.token = token


class MixedIndent(BadDedent):
    """A line's tabs and spaces differ from those of the block it continues or opens (a tab is 8 columns here,
    but not in every editor, so the blocks a reader sees could differ from the parser's)."""


class SpecIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def __init__(self) -> None:
        super().__init__()
        self.open_brackets: list[Token] = []

    def process(self, stream):
        self.paren_level = 0
        self.indent_level = [0]
        self.indent_text = [""]
        self.open_brackets = []
        return self._process(stream)

    def _process(self, stream) -> Iterator[Token]:
        token = previous = None
        for token in stream:
            if previous is None and token.type != self.NL_type and token.column > 1:
                yield Token(self.INDENT_type, "", 0, 1, 1)  # the first line is indented (no _NL says so)
            previous = token
            if token.type == self.NL_type:
                if not self.open_brackets:  # inside brackets a newline is just space
                    yield from self._newline(token)
            else:
                yield token
            if token.type in self.OPEN_PAREN_types:
                self.open_brackets.append(token)
            elif token.type in self.CLOSE_PAREN_types and self.open_brackets:
                self.open_brackets.pop()
            self.paren_level = len(self.open_brackets)
        while len(self.indent_level) > 1:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, "", token) if token else Token(self.DEDENT_type, "")

    def _newline(self, token: Token) -> Iterator[Token]:
        yield token
        indent_text = token.rsplit("\n", 1)[1] if "\n" in token else ""
        indent = indent_text.count(" ") + indent_text.count("\t") * self.tab_len
        if indent > self.indent_level[-1]:
            if not indent_text.startswith(self.indent_text[-1]):
                raise MixedIndent(token)
            self.indent_level.append(indent)
            self.indent_text.append(indent_text)
            yield Token.new_borrow_pos(self.INDENT_type, indent_text, token)
            return
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            self.indent_text.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, indent_text, token)
        if indent != self.indent_level[-1]:
            raise BadDedent(token)
        if indent_text != self.indent_text[-1]:
            raise MixedIndent(token)
