"""How long each compiler stage takes per spec in specs/, in process (imports and start-up aside).

Stages: check (parse + semantic analysis), lower (operator expansion and
residual assembly), generate (printer + template). Prints a table of medians
over N runs after one warm-up, and a final JSON line. The issue's target is a
total under 100 ms for every spec.
Usage: python benchmarks/compile_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pdedsl import api, compiler  # noqa: E402
from pdedsl.frontend.parser import _TOKEN  # noqa: E402


def stages(path: Path) -> tuple[float, float, float]:
    start = time.perf_counter()
    problem = compiler.check(api.source_of(path))
    checked = time.perf_counter()
    lowered = compiler.lower(problem)
    lowered_at = time.perf_counter()
    compiler.generate(lowered, str(path))
    done = time.perf_counter()
    return checked - start, lowered_at - checked, done - lowered_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rows = []
    for path in sorted((ROOT / "specs").glob("*.pde")):
        tokens = sum(1 for m in _TOKEN.finditer(path.read_text(encoding="utf-8")) if not m.group().startswith("#"))
        stages(path)  # warm-up: grammar, template and SymPy caches
        runs = [stages(path) for _ in range(args.repeat)]
        medians = [statistics.median(r[i] for r in runs) * 1e3 for i in range(3)]
        total = statistics.median(sum(r) for r in runs) * 1e3
        rows.append((path.name, tokens, *medians, total))
    width = max(len(r[0]) for r in rows)
    print(f"{'spec':<{width}}  tokens  check ms  lower ms  generate ms  total ms")
    for name, tokens, check, lower, generate, total in rows:
        print(f"{name:<{width}}  {tokens:>6}  {check:>8.2f}  {lower:>8.2f}  {generate:>11.2f}  {total:>8.2f}")
    totals = [r[-1] for r in rows]
    print(json.dumps({
        "benchmark": "compile_speed", "specs": len(rows), "repeat": args.repeat,
        "median_total_ms": round(statistics.median(totals), 2), "max_total_ms": round(max(totals), 2),
        "slowest": max(rows, key=lambda r: r[-1])[0], "target_ms": 100,
    }))


if __name__ == "__main__":
    main()
