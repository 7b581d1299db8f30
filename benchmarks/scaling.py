"""Throughput of data-parallel training at 1, 2, ... processes (torchrun; gloo on CPU, NCCL on GPUs).

Trains one spec for a fixed number of Adam steps at each process count, the
total batch held fixed (each of N processes takes 1/N of the points), and
reports collocation points per second of training (``result.json``'s
``wall_s``, which leaves out interpreter start-up) and the parallel
efficiency ``throughput(N) / (N * throughput(1))``. One thread per process.
Usage: python benchmarks/scaling.py [--processes 1 2] [--points 8000] [--steps 200] [--device cpu] [SPEC]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(spec: Path, processes: int, args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="pdedsl-scaling-"))
    command = [sys.executable, "-m", "pdedsl", "train", str(spec), "--steps", str(args.steps), "--lbfgs-steps", "0",
               "--points", str(args.points), "--device", args.device, "--compile", "off", "--threads", "1",
               "--out", str(folder), "-q"]
    if processes > 1:
        command += ["--nproc", str(processes)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    subprocess.run(command, env=environment, check=True, capture_output=True, timeout=3600)
    return json.loads((folder / "result.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--points", type=int, default=8000, help="interior points per step, all processes together")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("spec", nargs="?", default="poisson")
    args = parser.parse_args()
    spec = ROOT / "specs" / f"{args.spec}.pde"
    rows = []
    for processes in args.processes:
        result = run(spec, processes, args)
        rows.append({"processes": processes, "wall_s": result["wall_s"],
                     "points_per_s": round(args.points * args.steps / result["wall_s"]),
                     "rel_l2": result["rel_l2"]})
    base = rows[0]["points_per_s"] / rows[0]["processes"]
    for row in rows:
        row["efficiency"] = round(row["points_per_s"] / (row["processes"] * base), 3)
    print(f"{args.spec}: {args.steps} Adam steps, {args.points} interior points per step in all, {args.device}")
    print(f"{'processes':>9} {'wall s':>8} {'points/s':>10} {'efficiency':>10}")
    for r in rows:
        print(f"{r['processes']:>9} {r['wall_s']:>8.2f} {r['points_per_s']:>10} {r['efficiency']:>10.3f}")
    print(json.dumps({"benchmark": "scaling", "spec": args.spec, "device": args.device, "steps": args.steps,
                      "points": args.points, "rows": rows}))


if __name__ == "__main__":
    main()
