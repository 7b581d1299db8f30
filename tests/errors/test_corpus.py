"""The error corpus: malformed specs and the exact diagnostics each must produce.

Every ``corpus/*.pde`` file is a small spec with one realistic mistake (or, for
``several_*.pde``, several independent ones). Its first lines state what the
checker must report, one line per error, in the order they are printed::

    # expect: LINE:COL: MESSAGE

LINE:COL and MESSAGE are exactly what ``pdedsl check`` prints after
``path:`` and ``error: ``; the header lines count, so positions include them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pdedsl

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.pde"))
_EXPECT = re.compile(r"# expect: (\d+):(\d+): (.+)")


def expectations(path: Path) -> list[tuple[int, int, str]]:
    """The (line, column, message) triples stated in the header of ``path``."""
    expected = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        match = _EXPECT.fullmatch(line.rstrip())
        if match is not None:
            expected.append((int(match[1]), int(match[2]), match[3]))
    return expected


def test_corpus_is_large_enough():
    assert len(FILES) >= 40, f"only {len(FILES)} specs in {CORPUS}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_reports_exactly_the_expected_errors(path: Path):
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect: LINE:COL: MESSAGE' header"
    if path.stem.startswith("several_"):
        assert len(expected) >= 3, f"{path.name} should assert several independent errors"

    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(path)
    error = raised.value

    errors = [d for d in error.diagnostics if d.severity == "error"]
    assert all(d.span is not None for d in errors), "every error in a spec must be located"
    found = [(d.span.line, d.span.column, d.message) for d in errors]
    assert found == expected, "\n" + str(error)

    rendered = str(error)
    for line, column, message in expected:
        assert f"{path.name}:{line}:{column}: error: {message}" in rendered


@pytest.mark.parametrize("pasted, typed", [
    ("\u2212", "-"),   # a Unicode minus sign, as PDFs and word processors write it
    ("\u2013", "-"),   # an en dash
    ("\u00d7", "*"),   # a multiplication sign
    ("\u22c5", "*"),   # a dot operator
    ("\u00a0", "space"),  # a non-breaking space
    ("\u2009", "space"),  # a thin space
])
def test_a_character_pasted_from_a_document_names_the_one_to_type(pasted, typed):
    """'unexpected character' alone leaves a line that looks right unexplained."""
    text = f"field u\ndomain O = interval(x: [0, 1])\nequation in O:\n    2 {pasted} u = 1\n"
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(text)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.span.line, error.span.column) == (4, 7)
    assert error.message.startswith("unexpected character")
    assert error.hint is not None and typed in error.hint and f"U+{ord(pasted):04X}" in error.hint


def test_a_backslash_line_continuation_is_told_to_use_brackets():
    """Python's and the shell's '\\' at a line's end is no continuation here: the hint names the one there is."""
    text = "field u\ndomain O = interval(x: [0, 1])\nequation in O:\n    -d(u, x, 2) = 1 + \\\n        x\n"
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(text)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.span.line, error.span.column) == (4, 23)
    assert error.message == "unexpected character '\\'"
    assert error.hint is not None and "inside brackets" in error.hint


def test_a_prior_built_on_another_random_input_is_a_function_of_it():
    """The floor writes threshold(g, below:, above:): with its Gaussian field declared first as 'input g ~ ...',
    'a' is a function of g's draw (session 33; it was refused, with a hint to write g's prior in place)."""
    import sympy

    text = ("domain O = box(x: [0, 1], y: [0, 1])\nfield u\ninput g ~ gaussian_field(length: 0.1,  smoothness: 2.5)\n"
            "input a ~ threshold(g, below: 5, above: 10)\nequation in O:\n    -div(a*grad(u)) = g\n"
            "boundary on boundary(O):\n    u = 0\n")
    problem = pdedsl.load(text)
    g, a = problem.inputs
    assert (g.kind, a.kind) == ("prior", "formula") and problem.warnings == ()
    assert a.formula.has(g.function) and not a.formula.atoms(sympy.Function) - {g.function} - a.formula.atoms(
        sympy.sign)


@pytest.mark.parametrize("line, column, message, hint", [
    ("input a ~ threshold(g, below: 5, above: 10) + gaussian_field(length: 0.2)", 11,
     "the prior of input 'a' reads input 'g', so it is a function of g's draw, and cannot draw "
     "gaussian_field(...) of its own", "declare that draw as an input of its own"),
    ("input a ~ threshold(g + gaussian_field(length: 0.2), below: 5, above: 10)", 11,
     "the prior of input 'a' reads input 'g', so it is a function of g's draw, and cannot draw "
     "gaussian_field(...) of its own", "declare that draw as an input of its own"),
])
def test_a_prior_over_another_input_draws_nothing_of_its_own(line, column, message, hint):
    text = ("domain O = box(x: [0, 1], y: [0, 1])\nfield u\ninput g ~ gaussian_field(length: 0.1)\n" + line +
            "\nequation in O:\n    -div(a*grad(u)) = g\n")
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(text)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.span.line, error.span.column, error.message) == (4, column, message)
    assert hint in error.hint


def test_priors_over_each_other_and_inferring_a_derived_input_are_refused():
    head = "domain O = box(x: [0, 1], y: [0, 1])\nfield u\nequation in O:\n    -div(a*grad(u)) = 1\n"
    with pytest.raises(pdedsl.SpecError, match=r"input 'a' is defined in terms of itself \(a -> b -> a\)"):
        pdedsl.load(head + "input a ~ threshold(b, below: 1, above: 2)\ninput b ~ exp(a)\n")
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(head + "input g ~ gaussian_field(length: 0.1)\ninput a ~ threshold(g, below: 1, above: 2)\n"
                    'observe u from "nowhere.npz" noise 0.1\ninfer a\n')
    (error,) = [d for d in raised.value.diagnostics if "infer" in d.message or "inferred" in d.message]
    assert error.message == "input 'a' is a function of input 'g' and cannot be inferred on its own"
    assert error.hint == "infer g: a follows from it"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x1c", "\x1d", "\x1e"])
def test_a_line_break_other_than_newline_in_a_comment_is_refused_where_it_is(separator):
    """Editors (and Python's splitlines) show U+2028, U+2029, NEL, VT and FS/GS/RS as line breaks; pdedsl's
    comment ran on past them, so the 'domain' line an editor showed below a comment was silently commented
    out, and the error was 'unknown domain' at its use."""
    text = (f"# the unit interval{separator}domain O = interval(x: [0, 1])\nfield u\nequation in O:\n"
            "    -d(u, x, 2) = 1\n")
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(text)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.span.line, error.span.column) == (1, 20)
    assert error.message == f"a comment holds {ascii(separator)[1:-1]}, which some editors show as a line break"
    assert "ordinary line break" in error.hint and f"U+{ord(separator):04X}" in error.hint


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                     "\u2069"])
def test_a_text_direction_control_in_a_comment_is_refused(control):
    """A bidirectional override or isolate in a comment makes a line display in another order than the one it
    is read in (the 'Trojan Source' attack, CVE-2021-42574); outside comments it was already refused."""
    text = f"domain O = interval(x: [0, 1])\nfield u  # unknown {control}u\nequation in O:\n    -d(u, x, 2) = 1\n"
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(text)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.span.line, error.span.column) == (2, 20)
    assert error.message == f"a comment holds {ascii(control)[1:-1]}, a control of text direction"
    assert f"U+{ord(control):04X}" in error.hint


def test_right_to_left_text_and_marks_in_comments_stay_allowed():
    """Comments in Arabic or Hebrew, and the right-to-left mark they may carry, are no attack."""
    text = ("domain O = interval(x: [0, 1])\nfield u  # \u05d8\u05de\u05e4\u05e8\u05d8\u05d5\u05e8\u05d4 \u200f\n"
            "equation in O:\n    -d(u, x, 2) = 1\nboundary on boundary(O):\n    u = 0\n")
    pdedsl.load(text)


@pytest.mark.parametrize("declaration, use, line, column", [
    ("field not, v", "dt(not) = laplace(not)", 2, 7),
    ("domain boundary = interval(x: [0, 1])", "dt(u) = laplace(u)", 2, 8),
    ("param not = 2", "dt(u) = not*laplace(u)", 2, 7),
])
def test_a_keyword_declared_as_a_name_is_named_at_its_declaration_beside_the_syntax_errors_of_its_uses(
        declaration, use, line, column):
    """The grammar reads a keyword as a name where only a name can come ('field not'), so the declaration
    parsed and only the uses failed, with 'unexpected ...' errors that did not say why (the keyword check
    runs after parsing, which stopped)."""
    name = declaration.split()[1].rstrip(",")
    target = name if declaration.startswith("domain") else "O"
    text = ("domain O = interval(x: [0, 1])\n" * (not declaration.startswith("domain")) + declaration + "\n"
            + "field u\n" * (not declaration.startswith("field")) + f"time t: [0, 1]\nequation in {target}:\n"
            f"    {use}\n")
    if declaration.startswith("domain"):
        line, text = 1, text
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(text)
    errors = [d for d in raised.value.diagnostics if d.severity == "error"]
    first = errors[0]
    assert (first.span.line, first.span.column) == (line, column)
    assert first.message == f"'{name}' is a keyword and cannot be used as a name"
    assert len(errors) >= 2 and all(e.message.startswith("unexpected") for e in errors[1:])


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x00", "\t", "\x7f", "\x9b", "\u2028", "\u202e"])
def test_a_control_character_in_a_string_is_refused_where_it_is(char):
    """Strings took any character but '"' and newline: an escape sequence in a data file's name reached the
    terminal raw through 'data file ... not found' (ESC [2J cleared the screen), and a text-direction control
    reordered the name as shown."""
    text = ("domain O = interval(x: [0, 1])\nfield u\nequation in O:\n    -d(u, x, 2) = 1\n"
            f'observe u from "a{char}b.npz" noise 0.1\n')
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(text)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.span.line, error.span.column) == (5, 18)
    assert error.message == f"a string holds {ascii(char)[1:-1]}, a control character"
    assert char not in str(raised.value).split("\n", 1)[0]  # (the message line shows it escaped)
