"""Are the standard deviations ``pdedsl infer`` gives scalar unknowns (without a model) calibrated?

The heat problem of ``specs/heat_inverse.pde`` has a closed-form solution,
``u = exp(-D pi^2 t) sin(pi x)``, so its exact posterior over D given noisy
readings is a one-dimensional integral (flat prior, computed on a fine grid of
D). This script draws ``--datasets`` sets of readings (the spec's 21 x 11 grid,
true D = 0.25, Gaussian noise 0.01, seeds 0, 1, ...), runs the PINN inference
on each (``pdedsl.infer``, default training unless ``--steps`` says
otherwise), and compares its Laplace standard deviation with the exact
posterior's, and its 95% interval with the truth:

* ``std ratio``: PINN std / exact posterior std (1 is right);
* ``z``: (PINN mean - true D) / PINN std; over many datasets its RMS should be
  near 1 and the 95% interval should hold the truth about 95% of the time.

    python benchmarks/scalar_calibration.py                  # 20 datasets, about 1 minute each on one thread
    python benchmarks/scalar_calibration.py --datasets 3 --steps 300

Prints a table and, last, one JSON line with every number.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pdedsl import api  # noqa: E402

TRUE_D = 0.25
NOISE = 0.01
X = np.linspace(0.0, 1.0, 21)
T = np.linspace(0.0, 1.0, 11)


def solution(d: np.ndarray | float) -> np.ndarray:
    """u on the readings' grid for each diffusivity in ``d``: shape ``d.shape + (21, 11)``."""
    d = np.asarray(d, dtype=float)[..., None, None]
    return np.exp(-d * np.pi ** 2 * T[None, :]) * np.sin(np.pi * X)[:, None]


def readings(seed: int) -> np.ndarray:
    return solution(TRUE_D) + NOISE * np.random.default_rng(seed).standard_normal((X.size, T.size))


def exact_posterior(observed: np.ndarray) -> tuple[float, float]:
    """Mean and std of D under a flat prior, by quadrature on a grid fine enough for a std near 1e-3."""
    grid = np.linspace(0.2, 0.3, 20001)
    misfit = ((solution(grid) - observed) ** 2).sum(axis=(1, 2)) / (2 * NOISE ** 2)
    weights = np.exp(-(misfit - misfit.min()))
    weights /= weights.sum()
    mean = float((grid * weights).sum())
    return mean, float(math.sqrt(((grid - mean) ** 2 * weights).sum()))


def one_dataset(seed: int, folder: Path, settings: dict) -> dict:
    work = folder / f"data{seed}"
    work.mkdir()
    shutil.copy(ROOT / "specs" / "heat_inverse.pde", work / "heat_inverse.pde")
    observed = readings(seed)
    np.savez(work / "heat_obs.npz", x=X, t=T, u=observed)
    began = time.perf_counter()
    report = api.infer(work / "heat_inverse.pde", out=work / "run", **settings)
    mean, std = report["params"]["D"], report["params_std"]["D"]
    exact_mean, exact_std = exact_posterior(observed)
    low, high = report["params_interval_95"]["D"]
    return {"seed": seed, "mean": mean, "std": std, "exact_mean": exact_mean, "exact_std": exact_std,
            "std_ratio": std / exact_std, "z": (mean - TRUE_D) / std, "covers": bool(low <= TRUE_D <= high),
            "exact_covers": bool(abs(exact_mean - TRUE_D) <= 1.959964 * exact_std),
            "seconds": round(time.perf_counter() - began, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--steps", type=int, default=None, help="Adam steps of each fit (default: infer's)")
    parser.add_argument("--lbfgs-steps", type=int, default=None, help="refining steps (default: infer's)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    settings = {"threads": args.threads, **{k: v for k, v in (("steps", args.steps),
                                                            ("lbfgs_steps", args.lbfgs_steps)) if v is not None}}
    rows = []
    print(f"{'seed':>4} {'D mean':>9} {'D std':>9} {'exact mean':>10} {'exact std':>9} {'ratio':>6} {'z':>6} "
          f"{'covers':>6} {'s':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(args.datasets):
            row = one_dataset(seed, Path(folder), settings)
            rows.append(row)
            print(f"{row['seed']:>4} {row['mean']:9.5f} {row['std']:9.2e} {row['exact_mean']:10.5f} "
                  f"{row['exact_std']:9.2e} {row['std_ratio']:6.3f} {row['z']:6.2f} {str(row['covers']):>6} "
                  f"{row['seconds']:6.1f}", flush=True)
    summary = {
        "datasets": len(rows),
        "coverage_95": sum(r["covers"] for r in rows) / len(rows),
        "exact_coverage_95": sum(r["exact_covers"] for r in rows) / len(rows),  # the same draws' own luck
        "median_std_ratio": statistics.median(r["std_ratio"] for r in rows),
        "rms_z": math.sqrt(statistics.fmean(r["z"] ** 2 for r in rows)),
        "max_mean_gap_in_exact_std": max(abs(r["mean"] - r["exact_mean"]) / r["exact_std"] for r in rows),
        "settings": settings,
    }
    print(f"coverage of the 95% intervals {summary['coverage_95']:.2f} (the exact posterior's on the same draws "
          f"{summary['exact_coverage_95']:.2f}); median std / exact std "
          f"{summary['median_std_ratio']:.3f}; RMS z {summary['rms_z']:.2f}; largest |mean - exact mean| "
          f"{summary['max_mean_gap_in_exact_std']:.2f} exact std")
    print(json.dumps({"rows": rows, "summary": summary}))


if __name__ == "__main__":
    main()
