"""How long checking a spec takes, in process (parse + semantic analysis), per spec in specs/.

Prints a table (median of N runs after one warm-up) and a final JSON line.
Usage: python benchmarks/check_speed.py [--repeat N]
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

import pdedsl  # noqa: E402
from pdedsl.frontend.parser import _TOKEN  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rows = []
    for path in sorted((ROOT / "specs").glob("*.pde")):
        text = path.read_text(encoding="utf-8")
        tokens = sum(1 for m in _TOKEN.finditer(text) if not m.group().startswith("#"))
        pdedsl.load(path)  # warm-up: grammar and caches
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            pdedsl.load(path)
            times.append(time.perf_counter() - start)
        rows.append((path.name, tokens, statistics.median(times) * 1e3, max(times) * 1e3))
    width = max(len(r[0]) for r in rows)
    print(f"{'spec':<{width}}  tokens  median ms  max ms")
    for name, tokens, median, worst in rows:
        print(f"{name:<{width}}  {tokens:>6}  {median:>9.2f}  {worst:>6.2f}")
    medians = [r[2] for r in rows]
    print(json.dumps({
        "benchmark": "check_speed", "specs": len(rows), "repeat": args.repeat,
        "median_ms": round(statistics.median(medians), 3), "max_median_ms": round(max(medians), 3),
    }))


if __name__ == "__main__":
    main()
