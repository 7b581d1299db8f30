"""Every spec in specs/ and examples/ checks cleanly, and the language floor's examples are accepted verbatim."""

import re
from pathlib import Path

import pytest

import pdedsl
from pdedsl.ir.listing import format_problem

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted(ROOT.glob("specs/*.pde")) + sorted(ROOT.glob("examples/*.pde"))
LANGUAGE_FLOOR = Path(__file__).parent / "data" / "language.md"  # a copy of shared/design/language.md


def test_there_are_enough_specs():
    assert len(list(ROOT.glob("specs/*.pde"))) >= 10
    assert list(ROOT.glob("examples/*.pde"))


@pytest.mark.parametrize("path", SPECS, ids=[f"{p.parent.name}/{p.name}" for p in SPECS])
def test_spec_checks_without_errors_or_warnings(path):
    problem = pdedsl.load(path)
    assert problem.warnings == (), "\n".join(w.render() for w in problem.warnings)
    assert problem.equations


@pytest.mark.parametrize("path", SPECS, ids=[f"{p.parent.name}/{p.name}" for p in SPECS])
def test_canonical_listing_round_trips(path, tmp_path):
    problem = pdedsl.load(path)
    listing = format_problem(problem)
    again_path = path.parent / f".roundtrip_{path.name}"  # same folder: relative data paths still resolve
    try:
        again_path.write_text(listing, encoding="utf-8")
        again = pdedsl.load(again_path)
    finally:
        again_path.unlink(missing_ok=True)
    assert format_problem(again) == listing
    assert again == problem


def _complete_examples() -> list[str]:
    text = LANGUAGE_FLOOR.read_text(encoding="utf-8")
    section = text.split("## Complete examples", 1)[1]
    return re.findall(r"```\n(.*?)```", section, re.S)


def test_language_floor_complete_examples_are_accepted_verbatim():
    examples = _complete_examples()
    assert len(examples) == 2
    for example in examples:
        problem = pdedsl.load(example)
        assert problem.equations and problem.boundary_conditions


def test_language_floor_snippets_parse_verbatim():
    """The floor's snippet blocks are fragments (they use each other's names); each must parse as written."""
    text = LANGUAGE_FLOOR.read_text(encoding="utf-8")
    blocks = re.findall(r"```\n(.*?)```", text, re.S)
    assert len(blocks) == 6
    for block in blocks:
        assert pdedsl.parse(block).statements


def test_language_floor_snippets_check_in_context(tmp_path):
    """Each snippet block, verbatim, inside the few declarations it takes from the others."""
    import numpy as np

    geometry, unknowns, physics, data = re.findall(r"```\n(.*?)```", LANGUAGE_FLOOR.read_text(encoding="utf-8"), re.S)[:4]
    grid = np.linspace(0, 1, 5)
    np.savez(tmp_path / "coefficient.npz", x=grid, y=grid, k0=np.ones((5, 5)))
    np.savez(tmp_path / "u_obs.npz", x=grid, y=grid, t=grid, u=grid)
    np.savez(tmp_path / "burgers.npz", x=grid, y=grid, t=grid, u=np.zeros((5, 5, 5)))
    cases = {
        "geometry_physics.pde": geometry + "field u\ninput a ~ gaussian_field(length: 0.1)\n" + physics,
        "unknowns.pde": "domain Omega = box(x: [0, 1], y: [0, 1])\n" + unknowns
                        + "equation in Omega:\n    -div(flux) + ux + uy + p = f + g + k0 + nu*D*k\n",
        "data.pde": "domain Omega = box(x: [0, 1], y: [0, 1])\ntime t: [0, 1]\nfield u\n"
                    "input a ~ gaussian_field(length: 0.1)\nparam D = 1\n"
                    "equation in Omega:\n    dt(u) = D*div(a*grad(u))\ninitial:\n    u = 0\n" + data,
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        problem = pdedsl.load(path)
        assert problem.equations, name
