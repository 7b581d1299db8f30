"""Milliseconds per training step (residual losses + backward + Adam) per spec, at 1 and 2 CPU threads.

Default settings (2000 interior and 400 boundary points, 4 x 64 tanh MLP,
float32). Prints a table of medians over N steps after warm-up, and a final
JSON line. Why it exists: training defaults to ``threads = 1``. On an idle
2-core machine two threads are somewhat faster (this script shows by how
much), but while another process keeps one core busy, two-thread steps were
seen to slow down by an order of magnitude, and these machines are shared.
Usage: python benchmarks/train_step.py [--steps N] [SPEC ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pdedsl.training import TrainConfig  # noqa: E402
from pdedsl.training.run import Run  # noqa: E402

DEFAULT_SPECS = ["poisson", "burgers", "heat", "wave", "helmholtz", "stokes"]


def step_times(spec: Path, threads: int, steps: int) -> list[float]:
    torch.set_num_threads(threads)
    run = Run(spec, TrainConfig(threads=threads), Path("/tmp/pdedsl-bench-run"))
    optimizer = torch.optim.Adam(run.model.parameters(), lr=1e-3)
    batches = run.objective.sample(0)
    times = []
    for index in range(steps + 3):
        start = time.perf_counter()
        optimizer.zero_grad()
        sum(run.objective.losses(batches).values()).backward()
        optimizer.step()
        if index >= 3:
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("specs", nargs="*", default=DEFAULT_SPECS)
    args = parser.parse_args()
    rows = []
    for name in args.specs:
        spec = ROOT / "specs" / f"{name}.pde"
        one, two = (statistics.median(step_times(spec, t, args.steps)) * 1e3 for t in (1, 2))
        rows.append({"spec": name, "ms_1_thread": round(one, 2), "ms_2_threads": round(two, 2),
                     "ratio_2_over_1": round(two / one, 3)})
    print(f"{'spec':<12} {'1 thread ms':>12} {'2 threads ms':>13} {'2/1':>6}")
    for row in rows:
        print(f"{row['spec']:<12} {row['ms_1_thread']:>12.2f} {row['ms_2_threads']:>13.2f} {row['ratio_2_over_1']:>6.2f}")
    print(json.dumps({"benchmark": "train_step", "steps": args.steps, "rows": rows}))


if __name__ == "__main__":
    main()
