"""Does an operator backend's training step cost more when the pool of members is larger?

It should not: a step reads a mini-batch of members. This script trains the
DGNO CPU line of ``benchmarks/dgno.py`` (two-phase Darcy, the paper's prior,
mixed form, 25 members a step) for a few steps on pools of several sizes and
reports the median seconds per step (from ``metrics.jsonl``, drawing excluded),
and, alone, the lookup of a mini-batch's input at the particles
(``GridField`` with ``rows``), which once converted the whole pool to the
training precision on every call. It also times drawing the pool, one member at
a time as ``pdedsl train`` does (the paper's prior takes the dense Gaussian
sampler, whose padded 64-row products once cost 3.6 ms a member).

    python benchmarks/pool_size.py                      # pools of 1000 and 10^4 members
    python benchmarks/pool_size.py --pools 1000,50000 --steps 80
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "darcy_two_phase_paper.pde"
LOG_EVERY = 10


def lookup_ms(members: int, repeats: int = 20) -> float:
    """Median milliseconds of one mini-batch lookup (25 members, 2000 float32 points) in a pool of ``members``."""
    from pdedsl.runtime.priors import GridField

    nodes = np.linspace(0, 1, 29)
    field = GridField([nodes, nodes], np.random.default_rng(0).random((members, 29, 29)), names=["x", "y"],
                      piecewise_constant=True)
    points = {"x": torch.rand(1, 2000), "y": torch.rand(1, 2000)}
    rows = torch.randint(members, (25,))
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        field(points, rows=rows)
        times.append(time.perf_counter() - began)
    return 1e3 * statistics.median(times)


def draw_ms(members: int) -> float:
    """Milliseconds per member of ``draw_pool`` on the 29 x 29 grid (the sampler's set-up excluded)."""
    import pdedsl
    from pdedsl.runtime.family import draw_pool

    problem = pdedsl.load(SPEC)
    draw_pool(problem, 1, 29, seed=0)  # the eigendecomposition, paid once per family
    began = time.perf_counter()
    draw_pool(problem, members, 29, seed=0)
    return 1e3 * (time.perf_counter() - began) / members


def step_seconds(members: int, steps: int, work: Path) -> float:
    """Median seconds per Adam step of the DGNO CPU line trained on ``members`` drawn members."""
    from pdedsl.training import TrainConfig, train

    config = TrainConfig(backend="dgno", steps=steps, samples=members, batch_size=25, grid=29, test_samples=0,
                         form="mixed", weak_particles=100, learning_rate=8e-3, decay=0.01, log_every=LOG_EVERY)
    folder = work / f"pool_{members}"
    train(str(SPEC), config, folder, progress=False)
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    walls = [(r["step"], r["wall_s"]) for r in rows if r.get("phase") == "adam"]
    per_step = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(walls[1:], walls[2:])]  # the first interval warms up
    return statistics.median(per_step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pools", default="1000,10000", help="pool sizes, comma-separated")
    parser.add_argument("--steps", type=int, default=60, help="Adam steps per pool (logged every 10)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    pools = [int(p) for p in args.pools.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for members in pools:
            rows.append({"pool": members, "draw_ms_per_member": draw_ms(members), "lookup_ms": lookup_ms(members),
                         "step_s": step_seconds(members, args.steps, Path(work))})
    print(f"{'pool':>7} {'draw ms/member':>15} {'lookup ms':>10} {'s / step':>9}")
    for row in rows:
        print(f"{row['pool']:>7} {row['draw_ms_per_member']:>15.2f} {row['lookup_ms']:>10.2f} {row['step_s']:>9.3f}")
    print(json.dumps({"benchmark": "pool_size", "steps": args.steps, "rows": rows}))


if __name__ == "__main__":
    main()
