"""The analysed grammar is cached on disk per user; a parser loaded from the cache parses as a fresh one."""

import subprocess
import sys

from pdedsl.frontend import grammar

SPEC = "problem p\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n    -d(u, x, 2) = 1\n"


def test_the_cache_lives_in_the_users_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert grammar.parser_cache() == str(tmp_path / "pdedsl" / f"grammar-lark-{grammar.lark.__version__}.cache")
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # a folder that cannot be made
    assert grammar.parser_cache() is False


def test_a_parser_loaded_from_the_cache_parses_the_same(tmp_path):
    program = ("from pdedsl.frontend.grammar import lark_parser\n"
               f"print(lark_parser().parse({SPEC!r}).pretty())\n")
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, check=True)
    assert (tmp_path / "pdedsl").is_dir() and list((tmp_path / "pdedsl").iterdir())
    second = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, check=True)
    assert first.stdout == second.stdout and "equation_block" in first.stdout and not second.stderr
