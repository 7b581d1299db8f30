"""Where a trained operator's error of u comes from: a systematic scale, or member by member.

For a run folder (any operator backend with held-out members; the mixed form
for the last two columns) it measures on the held-out members:

* the mean relative L2 error of u, and its median and worst member;
* the scale c that fits the prediction best to the truth, per member and for
  all members at once, and the error left after it: a scale near 1 with
  little error removed means no systematic bias;
* the error left when the mean error field over the members is subtracted;
* (mixed form) two scales the physics alone can see, no labels needed: the
  one that makes the flux outputs s satisfy the weak balance best (all
  particle residuals ``V_j + c B_j``, least squares in c), and the one that
  fits ``c * flux(u)`` to s under the flux mismatch's own weight. A model
  whose s is balanced (first near 1) and whose u fits s (second near 1) while
  u is still off in scale has a bias that lies in the mismatch's weighting
  (README, Benchmarks, DGNO, session 24).

    python benchmarks/dgno_bias.py RUN_DIR [RUN_DIR ...] [--particles 1000]

Prints a table and a final JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch

from pdedsl.training.operators import OperatorObjective
from pdedsl.training.run import Run
from pdedsl.training.weak import mixed_outputs

CHUNK = 10  # members whose weak residuals are computed at once


def scale_errors(predicted: torch.Tensor, truth: torch.Tensor) -> dict:
    """The error of ``predicted`` [N, n] against ``truth``, and what is left after the best scales."""
    def error(values):
        return float(((values - truth).norm(dim=1) / truth.norm(dim=1)).mean())

    per_member = (predicted * truth).sum(1) / (predicted * predicted).sum(1)
    overall = float((predicted * truth).sum() / (predicted * predicted).sum())
    difference = predicted - truth
    ratios = difference.norm(dim=1) / truth.norm(dim=1)
    return {"u": error(predicted), "median": float(ratios.median()), "worst": float(ratios.max()),
            "scale_overall": overall, "u_after_overall_scale": error(overall * predicted),
            "scale_per_member_mean": float(per_member.mean()),
            "u_after_member_scales": error(per_member[:, None] * predicted),
            "u_without_mean_error": error(predicted - difference.mean(0))}


def physics_scales(run: Run, particles: int, seed: int = 5) -> dict:
    """The balance-optimal scale of the flux outputs and the mismatch-optimal scale of u, per member (means)."""
    config = dataclasses.replace(run.config, weak_particles=particles)
    objective = OperatorObjective(run.problem, run.module, run.model, config, run.dtype, run.device, run.test)
    if objective.weak is None or not objective.weak.mixed:
        return {}
    network = getattr(run.model, "model", run.model)
    fields, zeroed = objective.fields, {"names": ()}
    jets = fields.jets

    def scaled_jets(coords, table, axes, **options):  # the outputs in zeroed["names"] set to zero (flux(u), s linear)
        return {name: (jet * 0.0 if name in zeroed["names"] else jet)
                for name, jet in jets(coords, table, axes, **options).items()}

    fields.jets = scaled_jets
    batch = objective.weak.sample(torch.Generator().manual_seed(seed))
    balance, fit = [], []
    with torch.no_grad():
        for start in range(0, len(run.test), CHUNK):
            fields.use(torch.arange(start, min(start + CHUNK, len(run.test))))
            if hasattr(network, "begin_batch"):
                network.begin_batch(fields.inputs, None)

            def residuals(names):
                zeroed["names"] = names
                return {k: v.detach().double() for k, v in objective.weak.residuals(batch).items()}

            full = residuals(())
            without_s = residuals(tuple(mixed_outputs(run.module)))
            without_u = residuals(tuple(f.name for f in run.problem.fields))
            for name in (k for k in full if "#" not in k):
                volume, flux = without_s[name], full[name] - without_s[name]
                balance.append(-(volume * flux).sum(-1) / (flux * flux).sum(-1))
            parts = [k for k in full if "#" in k]
            if parts:  # part = sqrt(w) (s - flux(u)); without u it is sqrt(w) s
                s_part = {k: without_u[k] for k in parts}
                u_part = {k: without_u[k] - full[k] for k in parts}
                fit.append(sum((s_part[k] * u_part[k]).sum(-1) for k in parts)
                           / sum((u_part[k] ** 2).sum(-1) for k in parts))
    fields.jets = jets
    return {"balance_scale_of_s": float(torch.cat(balance).mean()),
            "mismatch_scale_of_u": float(torch.cat(fit).mean()) if fit else float("nan")}


def measure(folder: Path, particles: int) -> dict:
    run = Run.open(folder)
    run.prepare_test()
    if run.test is None:
        raise SystemExit(f"{folder}: no held-out members ({run.no_test_reason})")
    objective = run.objective
    predicted = objective.predict_pool(run.test)
    row = {"run": str(folder), "steps": int(run.checkpoint_mark[0]),
           "mismatch_power": run.config.weak_mismatch_power if run.config.form == "mixed" else None}
    for name, values in run.test.fields.items():
        truth = torch.as_tensor(values.reshape(len(run.test), -1), dtype=torch.float64)
        row.update(scale_errors(predicted[name].double().cpu(), truth))
        break  # the first field (u for the Darcy specs)
    row.update(physics_scales(run, particles))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--particles", type=int, default=1000, help="test balls for the physics scales")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [measure(Path(folder), args.particles) for folder in args.runs]
    print(f"{'run':<34} {'steps':>6} {'p':>4} {'u':>7} {'worst':>7} {'scale':>7} {'u scaled':>8} "
          f"{'u - mean err':>12} {'s balance':>9} {'u fit':>7}")
    for row in rows:
        power = "" if row["mismatch_power"] is None else f"{row['mismatch_power']:g}"
        print(f"{Path(row['run']).name[-34:]:<34} {row['steps']:>6} {power:>4} {row['u']:>7.4f} {row['worst']:>7.4f} "
              f"{row['scale_overall']:>7.4f} {row['u_after_overall_scale']:>8.4f} {row['u_without_mean_error']:>12.4f} "
              f"{row.get('balance_scale_of_s', float('nan')):>9.4f} {row.get('mismatch_scale_of_u', float('nan')):>7.4f}")
    print(json.dumps({"benchmark": "dgno_bias", "rows": rows}))


if __name__ == "__main__":
    sys.exit(main())
