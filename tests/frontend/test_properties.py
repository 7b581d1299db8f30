"""Property tests: generated and mutated specs either check or fail with SpecError, never anything else."""

import pathlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

import pdedsl
from pdedsl.frontend.grammar import grammar_text

SPECS = sorted(pathlib.Path(__file__).resolve().parents[2].glob("specs/*.pde"))

# The grammar without its post-lexer: Hypothesis generates token sequences
# from it; the indentation tokens are given explicit text.
_GENERATOR = Lark(grammar_text(), parser="lalr", lexer="contextual", start="start")
_PROGRAMS = from_lark(
    _GENERATOR,
    explicit={"_INDENT": st.sampled_from(["    ", "\t", "  "]), "_DEDENT": st.just("")},
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def loads_or_spec_error(text: str) -> None:
    try:
        pdedsl.load(text)
    except pdedsl.SpecError as error:
        assert error.errors, "a SpecError must carry at least one error"
        rendered = str(error)
        assert ": error: " in rendered and "Traceback" not in rendered


@SETTINGS
@given(_PROGRAMS)
def test_programs_generated_from_the_grammar(program):
    loads_or_spec_error(program)


@SETTINGS
@given(st.sampled_from(SPECS), st.data())
def test_byte_mutations_of_valid_specs(path, data):
    original = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        position = data.draw(st.integers(0, max(len(original) - 1, 0)))
        if kind == "flip" and original:
            original[position] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            original[position:position] = bytes([data.draw(st.integers(0, 255))])
        elif original:
            del original[position]
    try:
        text = pdedsl.api.decode(bytes(original), path.name)
    except pdedsl.SpecError:
        return  # not UTF-8: reported as a located SpecError, which is the property
    loads_or_spec_error(text)


@SETTINGS
@given(st.sampled_from(SPECS), st.data())
def test_token_deletions_of_valid_specs(path, data):
    words = path.read_text().split(" ")
    index = data.draw(st.integers(0, len(words) - 1))
    loads_or_spec_error(" ".join(words[:index] + words[index + 1:]))


def test_spec_corpus_for_mutations_exists():
    assert len(SPECS) >= 10
