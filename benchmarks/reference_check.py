"""How far the 29 x 29 two-phase Darcy reference is from finer solves of the same piecewise-constant permeability.

Networks read a two-phase input by nearest node, so the problem they solve has a
piecewise-constant a on cells around the 29 x 29 nodes. This script re-solves
held-out members (``pdedsl data`` seed 1, as the benchmarks' test sets) with that
a on grids ``--refine`` times finer and prints the relative L2 difference at
the coarse nodes: the part of any measured error that the reference itself owns.

    python benchmarks/reference_check.py --members 5 --refine 4,8
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pdedsl import api
from pdedsl.reference.dataset import generate
from pdedsl.reference.elliptic import solve_elliptic

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--refine", default="4,8", help="refinement factors (comma separated)")
    args = parser.parse_args()
    problem = api.load(ROOT / "specs" / "darcy_two_phase.pde")
    data = generate(problem, args.members, 29, 1)
    cells = len(data["x"]) - 1
    rows = []
    print(f"{'member':>6} {'refine':>6} {'rel. L2 difference':>19}")
    for member in range(args.members):
        for factor in (int(f) for f in args.refine.split(",")):
            fine = np.linspace(0.0, 1.0, cells * factor + 1)
            nearest = np.clip(np.rint(fine * cells).astype(int), 0, cells)
            a = data["a"][member][np.ix_(nearest, nearest)]
            u = solve_elliptic([fine, fine], a, 10.0)[::factor, ::factor]
            truth = data["u"][member]
            difference = float(np.linalg.norm(u - truth) / np.linalg.norm(truth))
            rows.append({"member": member, "refine": factor, "difference": difference})
            print(f"{member:>6} {factor:>6} {difference:>19.4f}")
    print(json.dumps({"benchmark": "reference_check", "rows": rows,
                      "max_difference": max(r["difference"] for r in rows)}))


if __name__ == "__main__":
    main()
