"""Hints on syntax errors whose cause the message alone cannot say."""

from __future__ import annotations

import pytest

import pdedsl

BASE = """problem p
domain Omega = box(x: [0, 1], y: [0, 1])
field u
equation in Omega:
    lap(u) = 1
"""


def _only_error(text: str) -> pdedsl.Diagnostic:
    """The one error ``text`` gets."""
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.parse(text)
    errors = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert len(errors) == 1, str(raised.value)
    return errors[0]


def test_a_quote_escaped_with_a_backslash_gets_the_no_escapes_hint():
    error = _only_error(BASE + 'observe u from "a\\"b.npz" noise 0.01\n')
    assert error.message.startswith("unexpected name 'b'")
    assert "no escapes" in error.hint and "ends the string" in error.hint


def test_a_string_followed_by_a_name_with_a_space_gets_no_escapes_hint():
    error = _only_error(BASE + 'observe u from "a.npz" nosie 0.01\n')
    assert "escape" not in (error.hint or "")


@pytest.mark.parametrize("text, keyword", [
    (BASE.replace("box(x: [0, 1], y: [0, 1])", "box(not: [0, 1])"), "not"),
    (BASE.replace("equation in Omega", "equation in in Omega"), "in"),
])
def test_a_keyword_where_a_name_was_expected_is_named(text, keyword):
    error = _only_error(text)
    assert error.hint == f"'{keyword}' is a keyword and cannot be used as a name"


def test_a_statement_ending_after_a_keyword_gets_no_keyword_hint():
    error = _only_error(BASE + "region r = Omega where x > 0 and\n")
    assert "keyword" not in (error.hint or "")


def test_a_keyword_used_as_one_gets_no_keyword_hint():
    error = _only_error(BASE.replace("equation in Omega", "equation in (Omega)"))
    assert error.hint is None
