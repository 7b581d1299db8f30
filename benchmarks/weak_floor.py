"""The weak loss of the exact solution: how low the weak form's quadrature and precision let a loss go.

For each spec with closed-form solutions of every field, the network is
replaced by the exact solution and the weak equation terms are averaged over
five particle draws, with the default ball rule and finer ones, in float32
and float64. A trained model whose weak loss stalls far above these floors
is limited by the optimisation, not by the discretisation (the README's Weak
forms section compares them with the trained run on 2-D Poisson).

Usage: python benchmarks/weak_floor.py [--draws N] [SPEC ...]
The last line is one JSON object with every row.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pdedsl.runtime.residuals import bind_arguments  # noqa: E402
from pdedsl.training import TrainConfig  # noqa: E402
from pdedsl.training.run import Run  # noqa: E402

#: radial Gauss points of the ball rule (0: the default)
RULES = (0, 6, 8, 12)


def exact_model(run: Run):
    """A stand-in for the network that returns every field's exact solution."""
    module, params = run.module, run.objective.params

    def forward(coordinates, *rest):
        reference = next(iter(coordinates.values()))
        return {name: exact["function"](**bind_arguments(exact, {}, coordinates, params=params))
                + torch.zeros_like(reference) for name, exact in module.EXACT.items()}
    return forward


def floor(spec: Path, rule: int, precision: str, draws: int) -> float:
    config = TrainConfig(form="weak", derivatives="autograd", hard_dirichlet=False, weak_quadrature=rule,
                         precision=precision)
    run = Run(spec, config, Path(tempfile.mkdtemp()))
    if set(run.module.EXACT) != {f.name for f in run.problem.fields}:
        raise SystemExit(f"{spec.name}: every field needs an exact solution")
    run.model.forward = exact_model(run)
    totals = []
    for draw in range(draws):
        terms = run.objective.weak.losses(run.objective.sample(draw)["weak"])
        totals.append(sum(float(value.detach()) for value in terms.values()))
    return sum(totals) / len(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("specs", nargs="*", default=["poisson"])
    args = parser.parse_args()
    rows = []
    print(f"{'spec':<12} {'radial points':>13} {'float32':>10} {'float64':>10}")
    for name in args.specs:
        spec = ROOT / "specs" / f"{name}.pde"
        for rule in RULES:
            row = {"spec": name, "radial_points": rule or "default",
                   **{p: floor(spec, rule, p, args.draws) for p in ("float32", "float64")}}
            rows.append(row)
            print(f"{name:<12} {str(row['radial_points']):>13} {row['float32']:>10.3g} {row['float64']:>10.3g}")
    print(json.dumps({"benchmark": "weak_floor", "draws": args.draws, "rows": rows}))


if __name__ == "__main__":
    main()
