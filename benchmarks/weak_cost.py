"""Training-step time of the weak vs the strong form, per point at which the network is evaluated.

Both forms evaluate the network (with its derivatives) at the same number of
points per step: the strong form at ``particles * K`` collocation points, the
weak form at ``particles`` balls of ``K`` quadrature points each (K = 40 in
2-D, 8 in 1-D). A step is loss + backward + Adam, one CPU thread, default
network (4 x 64 tanh), float32; forms are interleaved round by round (machines
here are shared and noisy) and medians reported. Issue target: the weak form
costs no more per point-evaluation than the strong form (ratio <= 1).
Usage: python benchmarks/weak_cost.py [--rounds N] [--particles P] [SPEC ...]
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
from pdedsl.training.weak import POLAR_POINTS  # noqa: E402

DEFAULT_SPECS = ["poisson", "darcy_two_phase", "heat", "helmholtz"]
FORMS = ("strong", "weak", "mixed")


def stepper(spec: Path, form: str, particles: int):
    """A function doing one training step of ``spec`` in ``form``, and the point-evaluations it makes."""
    import pdedsl

    dimension = len(pdedsl.load(spec).axes)
    per_ball = POLAR_POINTS[dimension][0] * POLAR_POINTS[dimension][1]
    random = bool(pdedsl.load(spec).inputs) and any(i.kind == "prior" for i in pdedsl.load(spec).inputs)
    config = TrainConfig(form=form, weak_particles=particles, interior_points=particles * per_ball,
                         instance=0 if random else None, compile="off", threads=1)
    run = Run(spec, config, Path("/tmp/pdedsl-bench-weak"))
    optimizer = torch.optim.Adam(run.model.parameters(), lr=1e-3)
    batches = run.objective.sample(0)

    def step() -> float:
        start = time.perf_counter()
        optimizer.zero_grad()
        sum(run.objective.losses(batches).values()).backward()
        optimizer.step()
        return time.perf_counter() - start

    return step, particles * per_ball


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--particles", type=int, default=200)
    parser.add_argument("specs", nargs="*", default=DEFAULT_SPECS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name in args.specs:
        steppers = {form: stepper(ROOT / "specs" / f"{name}.pde", form, args.particles) for form in FORMS}
        times = {form: [] for form in FORMS}
        for _ in range(3):  # warm-up
            for form in FORMS:
                steppers[form][0]()
        for _ in range(args.rounds):
            for form in FORMS:
                times[form].append(steppers[form][0]())
        points = steppers["strong"][1]
        row = {"spec": name, "points": points}
        for form in FORMS:
            row[f"{form}_ms"] = round(statistics.median(times[form]) * 1e3, 2)
            row[f"{form}_us_per_point"] = round(statistics.median(times[form]) * 1e6 / points, 3)
        row["weak_over_strong"] = round(row["weak_ms"] / row["strong_ms"], 3)
        row["mixed_over_strong"] = round(row["mixed_ms"] / row["strong_ms"], 3)
        rows.append(row)
    print(f"{'spec':<16} {'points':>7} {'strong ms':>10} {'weak ms':>8} {'mixed ms':>9} {'weak/strong':>12} "
          f"{'mixed/strong':>13}")
    for r in rows:
        print(f"{r['spec']:<16} {r['points']:>7} {r['strong_ms']:>10.2f} {r['weak_ms']:>8.2f} {r['mixed_ms']:>9.2f} "
              f"{r['weak_over_strong']:>12.3f} {r['mixed_over_strong']:>13.3f}")
    print(json.dumps({"benchmark": "weak_cost", "rounds": args.rounds, "particles": args.particles, "rows": rows,
                      "weak_not_costlier": all(r["weak_over_strong"] <= 1.0 for r in rows)}))


if __name__ == "__main__":
    main()
