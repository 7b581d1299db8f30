"""The README is the user manual: what it shows must work as written. Nothing is trained here.

* Specs: code blocks that start with ``problem NAME`` are complete specs and must check on their own. The blocks
  of the language reference ("## The language") are also fragments that use each other's names (``a``,
  ``left``, ``walls``, ``ux``...); each is checked verbatim inside a context that declares whatever it uses but
  does not declare itself, with the data files it names.
* The command line: the synopsis ("## Command line") lists exactly the options of each command's ``--help``,
  with the defaults ``--help`` gives; the listings the README prints (``show``, ``emit``, ``compile``) are what
  those commands print.
* Python: the "## Python" section's loading example runs and gives what its comments say.
"""

import re
from pathlib import Path

import numpy as np
import pytest

import pdedsl

README = Path(__file__).resolve().parents[1] / "README.md"

#: Declarations the reference's fragments take from one another, one statement a line. A line is left out
#: when the fragment declares one of its names itself (the fragment's own declaration is the one tested).
CONTEXT = """\
domain Omega = box(x: [0, 1], y: [0, 1])
time t: [0, 1]
region left = boundary(Omega) where x == 0
region walls = boundary(Omega) where y == 0 or y == 1
field u
field v
field ux, uy, p
input a ~ exp(gaussian_field(length: 0.2))
param D = 1.0
param k ~ uniform(0.5, 2.0)
"""

#: Keeps every field in a relation (the context's, or the fragment's own of those names), so that what the
#: check reports is about the fragment.
CONTEXT_EQUATION = "equation context in Omega:\n    dt(u) + dt(v) + ux + uy + p = div(a*grad(u))\n"

DECLARATION = re.compile(r"^(?:domain|region|field|const|param|input|let|time)\s+(.*?)\s*(?:[=~:]|\bfrom\b|#|$)")


def code_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line, info string, body) of every fenced code block, the line being the opening fence's."""
    blocks, opened, body = [], None, []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("```"):
            if opened is not None:
                body.append(line)
        elif opened is None:
            opened, body = (number, line[3:].strip()), []
        else:
            blocks.append((opened[0], opened[1], "\n".join(body) + "\n"))
            opened = None
    assert opened is None, f"README.md:{opened[0]}: a code block is never closed"
    return blocks


def section_lines(text: str, title: str) -> range:
    """The lines of a level-2 section of the README."""
    lines = text.splitlines()
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return range(start + 1, end + 1)


README_TEXT = README.read_text(encoding="utf-8")
BLOCKS = code_blocks(README_TEXT)
LANGUAGE = section_lines(README_TEXT, "## The language")
COMPLETE = [(line, body) for line, info, body in BLOCKS if not info and re.match(r"problem \w+ *(#.*)?\n", body)]
FRAGMENTS = [(line, body) for line, info, body in BLOCKS if not info and line in LANGUAGE]


def declared_names(spec: str) -> set[str]:
    """Names a spec's declarations introduce (a line-based reading: enough for the README's fragments)."""
    names = set()
    for line in spec.splitlines():
        match = DECLARATION.match(line)
        if match:
            names.update(name.strip() for name in match.group(1).split(","))
    return names


def in_context(fragment: str) -> str:
    """The fragment (first: its errors keep their line numbers) and the context's declarations it does not make."""
    own = declared_names(fragment)
    kept = [line for line in CONTEXT.splitlines() if not declared_names(line) & own]
    return fragment + "\n".join(kept) + "\n" + CONTEXT_EQUATION


def write_data_files(folder: Path) -> None:
    """Every data file the fragments name, with readings on the unit square (and in time where a field needs)."""
    grid = np.linspace(0, 1, 5)
    np.savez(folder / "coefficient.npz", x=grid, y=grid, k0=np.ones((5, 5)))
    np.savez(folder / "u_obs.npz", x=grid, y=grid, t=grid, u=grid)
    np.savez(folder / "burgers.npz", x=grid, y=grid, t=grid, u=np.zeros((5, 5, 5)))
    np.savez(folder / "truth.npz", x=grid, y=grid, a=np.ones((5, 5)))


def test_the_readme_shows_specs_to_test():
    assert COMPLETE, "no complete spec found in README.md"
    assert len(FRAGMENTS) >= 4, [line for line, _ in FRAGMENTS]


@pytest.mark.parametrize("line, spec", COMPLETE, ids=[f"README.md:{line}" for line, _ in COMPLETE])
def test_complete_spec_checks(line, spec, tmp_path):
    path = tmp_path / "spec.pde"
    path.write_text(spec, encoding="utf-8")
    pdedsl.load(path)  # SpecError (every error, located in the block) if the README's spec is refused


@pytest.mark.parametrize("line, fragment", FRAGMENTS, ids=[f"README.md:{line}" for line, _ in FRAGMENTS])
def test_language_reference_fragment_checks_in_context(line, fragment, tmp_path):
    write_data_files(tmp_path)
    path = tmp_path / "fragment.pde"
    path.write_text(in_context(fragment), encoding="utf-8")
    problem = pdedsl.load(path)
    assert problem.equations


COMMANDS = ("check", "show", "emit", "compile", "train", "infer", "predict", "plot", "data")
OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def synopsis() -> dict[str, str]:
    """The README's "Command line" block, as the text of each command's lines (continuations joined)."""
    block = README_TEXT.split("## Command line", 1)[1].split("```", 2)[1]
    lines: dict[str, str] = {}
    command = None
    for line in block.splitlines():
        match = re.match(r"pdedsl (\w+)", line)
        if match:
            command = match.group(1)
        if command is not None:
            lines[command] = lines.get(command, "") + " " + line
    return lines


def help_text(command: str, capsys) -> str:
    from pdedsl.cli import main

    assert main([command, "--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_the_synopsis_lists_every_option_of_a_command_and_no_other(command, capsys):
    text = help_text(command, capsys)
    usage = text.split("\n\n", 1)[0]
    assert set(OPTION.findall(synopsis()[command])) == set(OPTION.findall(usage)) - {"-h"}


@pytest.mark.parametrize("command", COMMANDS)
def test_the_defaults_the_synopsis_gives_are_those_of_the_help(command, capsys):
    """`[--restarts R (8)]` in the README and `(default: 8)` in `--help` say the same."""
    described = {}
    for entry in re.split(r"\n  (?=-)", help_text(command, capsys))[1:]:  # argparse's entry per option
        head = entry.split("\n")[0].split("  ")[0]  # '-o FILE, --output FILE', before the description
        described.update((name, " ".join(entry.split())) for name in OPTION.findall(head))
    for option, default in re.findall(r"\[(--[\w-]+) [A-Z_]+ \(([^)]+)\)\]", synopsis()[command]):
        assert f"(default: {default})" in described[option], (option, described[option])


def test_the_first_python_example_runs_as_written_and_says_what_its_comments_say(monkeypatch, capsys):
    """The "## Python" section's loading example (nothing trained), run from the repository's root."""
    python = [body for line, info, body in BLOCKS if info == "python"]
    example = python[0]
    assert 'pdedsl.load("specs/poisson.pde")' in example
    monkeypatch.chdir(README.parent)
    namespace: dict = {}
    exec(compile(example, "README.md (Python example)", "exec"), namespace)  # the README's own code, not a spec's
    problem = namespace["problem"]
    assert (problem.axes, problem.time) == (("x", "y"), None)
    assert str(problem.equations[0].lhs) == "-laplace(u(x, y))"
    assert str(problem.field("u").function) == "u(x, y)"
    assert problem.warnings == ()
    assert "<spec>:2:13: error: missing operator between two operands" in capsys.readouterr().out  # print(error)


def _block(predicate) -> str:
    (body,) = [body for _, _, body in BLOCKS if predicate(body)]
    return body


def _output(argv: list[str], capsys) -> str:
    from pdedsl.cli import main

    assert main(argv) == 0
    return "\n".join(line.rstrip() for line in capsys.readouterr().out.splitlines()) + "\n"


def test_the_shown_outputs_are_what_the_commands_print(monkeypatch, capsys):
    """The listings the README prints for specs/burgers.pde and specs/plate_bending.pde (show, emit --form weak,
    compile) are what those commands print today, and `show --latex` gives the equation it quotes."""
    monkeypatch.chdir(README.parent)
    shown = _block(lambda body: body.startswith("problem burgers: "))
    assert _output(["show", "specs/burgers.pde"], capsys).startswith(shown.split("...\n")[0])
    weak = _output(["emit", "--stage", "lowered", "--form", "weak", "specs/burgers.pde"], capsys)
    assert _block(lambda body: "integrand:" in body and "d(u, t)" in body) in weak
    plate = _output(["emit", "--stage", "lowered", "--form", "weak", "specs/plate_bending.pde"], capsys)
    assert _block(lambda body: "(twice)" in body) in plate
    module = _output(["compile", "specs/burgers.pde"], capsys)
    assert _block(lambda body: body.startswith("def residual_equation_1(")) in module
    latex = re.search(r"With `--latex` the same equation reads\n`([^`]+)`", README_TEXT).group(1)
    assert latex in _output(["show", "--latex", "specs/burgers.pde"], capsys)
