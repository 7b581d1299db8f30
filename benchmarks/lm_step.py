"""Seconds per Levenberg-Marquardt step, by spec and form, on one CPU thread.

Each case builds the default run for ``--optimizer lm`` (4 x 20 tanh MLP,
1000 points per equation target, 200 test balls of the Levenberg-Marquardt
phase's rule, or one per parameter for the weak form's polish steps), then times ``--steps`` steps on fresh draws after one
warm-up step, and prints the median with the number of residual rows. Why it
exists: a step costs about ``rows x parameters^2`` (the Gauss-Newton matrix)
plus the rows' Jacobian, and the mixed form's flux mismatch has a row per
quadrature point and axis, which is why the mixed form defaults to L-BFGS.

The fourth-order plate's polish steps evaluate order-3 jets at 1341 balls x
104 quadrature points, which is why the network is evaluated, and the rows'
gradients taken, in blocks of points (training/jacobian.py: CHUNK_POINTS).

Usage: python benchmarks/lm_step.py [--steps N] [--threads T] [--only SPEC ...]
The last line is one JSON object with every row.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pdedsl.training import TrainConfig  # noqa: E402
from pdedsl.training.run import Run, Trainer  # noqa: E402

#: (spec, form) pairs timed
#: (spec, form, phase): "polish" is the weak form's last steps, with at least as many balls as parameters
CASES = [("poisson", "strong", ""), ("poisson", "weak", ""), ("poisson", "weak", "polish"), ("poisson", "mixed", ""),
         ("burgers", "strong", ""), ("poisson3d", "strong", ""), ("poisson3d", "weak", ""),
         ("plate_bending", "strong", ""), ("plate_bending", "weak", "polish")]


def step_times(spec: str, form: str, phase: str, steps: int, folder: Path) -> tuple[list[float], int]:
    config = TrainConfig(form=form, optimizer="lm", steps=0, lbfgs_steps=steps + 1)
    run = Run(ROOT / "specs" / f"{spec}.pde", config, folder)
    trainer = Trainer(run, progress=False)
    if run.objective.weak is not None:
        run.objective.weak.refine()  # the rule the Levenberg-Marquardt phase uses
    lm = trainer._levenberg_marquardt()
    if phase == "polish":
        run.objective.weak.polish(lm.unknowns)
    times, rows = [], 0
    for step in range(steps + 1):
        batches = run.objective.sample(step, adaptive=False, step=step)
        began = time.perf_counter()
        lm.step(batches)
        if step:
            times.append(time.perf_counter() - began)
    with lm.capture.active():
        rows = sum(v.numel() for v in run.objective.residual_rows(batches).values())
    return times, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="+", metavar="SPEC", help="time only the cases of these specs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for spec, form, phase in CASES:
            if args.only and spec not in args.only:
                continue
            times, rows = step_times(spec, form, phase, args.steps, Path(scratch) / f"{spec}_{form}{phase}")
            results.append({"spec": spec, "form": form, "phase": phase or "-", "rows": rows,
                            "median_s": round(statistics.median(times), 3)})
    print(f"{'spec':<10} {'form':<7} {'phase':<7} {'rows':>7} {'s per step':>11}")
    for row in results:
        print(f"{row['spec']:<10} {row['form']:<7} {row['phase']:<7} {row['rows']:>7} {row['median_s']:>11.3f}")
    print(json.dumps({"benchmark": "lm_step", "threads": args.threads, "steps": args.steps, "results": results}))


if __name__ == "__main__":
    main()
