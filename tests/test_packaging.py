"""The wheel carries the grammar: an installed (non-editable) pdedsl runs without the source tree."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_ships_grammar_and_runs_the_cli(tmp_path):
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("pdedsl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pdedsl/grammar/pde.lark" in names
    assert (ROOT / "grammar" / "pde.lark").read_bytes() == zipfile.ZipFile(wheel).read("pdedsl/grammar/pde.lark")

    site = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)])
    spec = tmp_path / "p.pde"
    spec.write_text("problem p\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n    -d(u, x, 2) = 1\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = run(
        [sys.executable, "-c", "import pdedsl, pdedsl.frontend.grammar as g; print(pdedsl.__file__); print(g.grammar_path())"],
        cwd=tmp_path, env=env,
    )
    module_file, grammar_file = probe.stdout.split()
    assert module_file.startswith(str(site)) and grammar_file.startswith(str(site))
    result = subprocess.run([sys.executable, "-m", "pdedsl", "check", str(spec)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "p.pde: ok" in result.stdout
