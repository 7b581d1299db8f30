"""How well can k numbers describe a two-phase permeability? A floor for DGNO's inverse error of a.

An inverse problem solved through a generative model can only return inputs
the model's k latent variables describe. This script measures, for each
two-phase prior, the error of the best *linear* code of k numbers: principal
components of the permeability fitted on draws of the prior, applied to
held-out draws (the truth itself is known here, so no observation or solver
error enters). Reported per k: the mean relative L2 error of the projection,
clipped to the two phases ("soft", the quantity an inverse problem's posterior
mean is scored by) and rounded to the nearer phase ("hard"), and the fraction
of pixels on the wrong side.

A nonlinear decoder can beat a linear code, so this is not a strict bound, but
it says how hard a prior is: DGNO's 128 latent variables against a prior whose
128-term linear code already errs by 0.15 will not recover a to 0.10.

    python benchmarks/latent_floor.py                      # both two-phase specs, 3000 draws each
    python benchmarks/latent_floor.py --draws 1000         # quicker
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPECS = ["darcy_two_phase", "darcy_two_phase_paper"]
SIZES = (32, 64, 128, 256)
GRID, HELD_OUT = 29, 300


def floor_of(spec: str, draws: int, seed: int) -> dict:
    from pdedsl import api
    from pdedsl.runtime.family import draw_pool

    problem = api.load(ROOT / "specs" / f"{spec}.pde")
    pool = draw_pool(problem, draws, GRID, seed)
    (name,) = pool.layout.channels
    values = pool.grid_inputs[name].reshape(draws, -1)
    truth, fitted = values[:HELD_OUT], values[HELD_OUT:]
    low, high = float(values.min()), float(values.max())
    mean = fitted.mean(axis=0)
    _, _, components = np.linalg.svd(fitted - mean, full_matrices=False)
    norms = np.linalg.norm(truth, axis=1)
    row = {"spec": spec, "draws": draws}
    for k in SIZES:
        basis = components[:k]
        projected = (truth - mean) @ basis.T @ basis + mean
        soft = np.clip(projected, low, high)
        hard = np.where(projected > (low + high) / 2, high, low)
        row[f"soft_{k}"] = float(np.mean(np.linalg.norm(soft - truth, axis=1) / norms))
        row[f"hard_{k}"] = float(np.mean(np.linalg.norm(hard - truth, axis=1) / norms))
        row[f"wrong_{k}"] = float(np.mean(hard != truth))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=3000, help=f"draws per prior ({HELD_OUT} of them held out)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.draws <= HELD_OUT + max(SIZES):
        parser.error(f"--draws must exceed {HELD_OUT + max(SIZES)}")
    began = time.perf_counter()
    rows = [floor_of(spec, args.draws, args.seed) for spec in SPECS]
    print(f"{'spec':<24} {'k':>4} {'soft rel L2':>12} {'hard rel L2':>12} {'wrong pixels':>13}")
    for row in rows:
        for k in SIZES:
            print(f"{row['spec']:<24} {k:>4} {row[f'soft_{k}']:>12.3f} {row[f'hard_{k}']:>12.3f} "
                  f"{row[f'wrong_{k}']:>13.3f}")
    print(json.dumps({"benchmark": "latent_floor", "wall_s": round(time.perf_counter() - began, 1), "rows": rows}))


if __name__ == "__main__":
    main()
