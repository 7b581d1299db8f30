"""A coefficient given as data, on a grid and on scattered points: the error a default PINN run reaches.

-div(k grad u) = f on the unit square, u = 0 on its boundary, with k = 1 + x^2
read from a file (the strong form needs grad k) and f chosen so that
u = sin(pi x) sin(pi y) (the spec's `reference`, at 500 random points). Rows:
k on a 33 x 33 grid, and k on N scattered points (uniform, plus the four
corners). Each row is one `pdedsl train` with default settings (seed 0, one
thread), run one after the other.

    python benchmarks/data_inputs.py
    python benchmarks/data_inputs.py --points 800 --steps 300 --lbfgs-steps 50

The last line is one JSON object with every row's relative L2 error and seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SPEC = """problem data_input
domain Omega = box(x: [0, 1], y: [0, 1])
field u
input k from "{file}"
equation in Omega:
    -div(k * grad(u)) = 2*pi^2*(1 + x^2)*sin(pi*x)*sin(pi*y) - 2*pi*x*cos(pi*x)*sin(pi*y)
boundary on boundary(Omega):
    u = 0
reference u from "reference.npz"
"""


def write_files(folder: Path, points: int) -> None:
    """The grid and scattered files of k and the reference points of u."""
    rng = np.random.default_rng(0)
    axis = np.linspace(0, 1, 33)
    np.savez(folder / "grid.npz", x=axis, y=axis, k=1 + np.add.outer(axis ** 2, 0 * axis))
    scattered = np.concatenate([rng.uniform(0, 1, (points, 2)), [[0, 0], [0, 1], [1, 0], [1, 1]]])
    np.savez(folder / "scattered.npz", x=scattered[:, 0], y=scattered[:, 1], k=1 + scattered[:, 0] ** 2)
    x, y = rng.uniform(0, 1, 500), rng.uniform(0, 1, 500)
    np.savez(folder / "reference.npz", x=x, y=y, u=np.sin(np.pi * x) * np.sin(np.pi * y))


def train(folder: Path, layout: str, extra: list[str]) -> dict:
    spec = folder / f"{layout}.pde"
    spec.write_text(SPEC.format(file=f"{layout}.npz"), encoding="utf-8")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pdedsl", "train", str(spec), "--threads", "1", "--json", "-q",
                           "--out", str(folder / f"run_{layout}"), *extra],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{layout}: pdedsl train failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"layout": layout, "rel_l2": result["rel_l2"]["u"], "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=800, help="scattered points of k (default 800)")
    parser.add_argument("--steps", type=int, help="Adam steps (default: train's)")
    parser.add_argument("--lbfgs-steps", type=int, help="steps after Adam (default: train's)")
    args = parser.parse_args()
    extra = [*(["--steps", str(args.steps)] if args.steps is not None else []),
             *(["--lbfgs-steps", str(args.lbfgs_steps)] if args.lbfgs_steps is not None else [])]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_files(folder, args.points)
        rows = [train(folder, layout, extra) for layout in ("grid", "scattered")]
    print(f"{'k given as':<12} {'rel. L2 of u':>13} {'seconds':>8}")
    for row in rows:
        print(f"{row['layout']:<12} {row['rel_l2']:>13.3e} {row['seconds']:>8.1f}")
    print(json.dumps({"points": args.points, "rows": rows}))


if __name__ == "__main__":
    main()
