"""Golden files: the generated module for a few specs, byte for byte.

After an intended change to code generation, regenerate them with
``PDEDSL_UPDATE_GOLDEN=1 python -m pytest tests/codegen/test_golden.py`` and
review the diff.
"""

import os
from pathlib import Path

import pytest

import pdedsl
from pdedsl import compiler

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
SPECS = ["poisson", "burgers", "robin_cooling", "stokes", "darcy_lognormal", "heat_inverse"]


def generated(name: str) -> str:
    path = ROOT / "specs" / f"{name}.pde"
    return compiler.compile_source(pdedsl.api.source_of(path)).replace(str(ROOT) + os.sep, "")


@pytest.mark.parametrize("name", SPECS)
def test_generated_module_matches_golden_file(name):
    text = generated(name)
    golden = GOLDEN / f"{name}.py"
    if os.environ.get("PDEDSL_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == text


def test_same_spec_gives_byte_identical_modules():
    assert all(generated(name) == generated(name) for name in SPECS)
