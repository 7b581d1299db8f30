"""A short GPU check: train specs on a device and print throughput and peak memory.

For each spec, a few hundred Adam steps of the default PINN on ``--device``
(cuda by default) with each derivative engine in strong form, then in weak and
mixed form (auto engine), then the relative L2 error (a spec with random
inputs trains on the draw ``--instance 0``; it has no exact solution).
Throughput counts collocation points, or quadrature points of all particles
(``--points`` / 40 particles in 2-D), per second of training; then each operator
backend on ``specs/darcy_smooth.pde`` (DGNO in strong and mixed form, DeepONet's
label term also in bf16; 200 members, batches of 50; throughput
counts members x points, ``rel_l2`` is on the training members);
peak memory is ``torch.cuda.max_memory_allocated`` of the run. On a machine
without CUDA it says so and exits with status 2.

Usage: python benchmarks/gpu_check.py [--device cuda] [--steps N] [--points N] [SPEC ...]
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

import pdedsl  # noqa: E402
from pdedsl.training import TrainConfig, train  # noqa: E402
from pdedsl.training.run import Run  # noqa: E402

DEFAULT_SPECS = ["poisson", "burgers", "heat3d", "darcy_two_phase"]
#: (form, derivative engine) pairs each spec runs with
VARIANTS = (("strong", "forward"), ("strong", "autograd"), ("weak", "auto"), ("mixed", "auto"))


def points_per_step(spec: Path, config: TrainConfig) -> int:
    run = Run(spec, config, Path(tempfile.mkdtemp()))
    batches = run.objective.sample(0)
    weak = run.objective.weak
    particles = sum(len(b.radii) * len(weak.weights) for b in batches.get("weak", {}).values()) if weak else 0
    return (sum(len(b) for b in batches["groups"].values()) + sum(2 * len(low) for low, _ in batches["periodic"])
            + particles)


#: (backend, mode, form, precision) of the operator rows, on specs/darcy_smooth.pde
OPERATORS = (("deeponet", "supervised", "strong", "float32"), ("deeponet", "supervised", "strong", "bf16"),
             ("multionet", "physics", "strong", "float32"), ("multionet", "physics", "weak", "float32"),
             ("fno", "supervised", "strong", "float32"), ("fno", "physics", "weak", "float32"),
             ("dgno", "physics", "strong", "float32"), ("dgno", "physics", "mixed", "float32"))


def operator_rows(args) -> list[dict]:
    """Operator backends on the smooth Darcy family: members x points per second and peak memory."""
    from pdedsl.reference.dataset import generate, write

    spec = ROOT / "specs" / "darcy_smooth.pde"
    folder = Path(tempfile.mkdtemp())
    data = write(folder / "train.npz", generate(pdedsl.load(spec), 200, 29, seed=0))
    rows = []
    for backend, mode, form, precision in OPERATORS:
        config = TrainConfig(backend=backend, mode=mode, form=form, device=args.device, steps=args.steps,
                             precision=precision,
                             data=str(data) if mode == "supervised" else None, samples=200, batch_size=50,
                             test_data=str(data), log_every=10**9)
        if args.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        result = train(spec, config, folder / f"{backend}_{mode}_{form}_{precision}", progress=False)
        peak = torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else None
        points = 29 * 29 if mode == "supervised" else (config.interior_points if form == "strong"
                                                       else config.weak_particles * 40)
        points *= config.batch_size
        rows.append({"spec": f"darcy_smooth {backend}", "form": f"{mode[:3]}-{form}",
                     "engine": "auto" if precision == "float32" else precision,
                     "steps": args.steps, "points_per_step": points, "wall_s": result["wall_s"],
                     "points_per_s": round(points * args.steps / result["wall_s"]),
                     "peak_mb": None if peak is None else round(peak, 1),
                     "rel_l2": {k: float(f"{v:.3g}") for k, v in result["rel_l2"].items()}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--points", type=int, default=20000)
    parser.add_argument("specs", nargs="*", default=DEFAULT_SPECS)
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_check: CUDA is not available on this machine")
        sys.exit(2)
    rows = []
    for name in args.specs:
        spec = ROOT / "specs" / f"{name}.pde"
        random = any(i.kind == "prior" for i in pdedsl.load(spec).inputs)
        for form, engine in VARIANTS:
            config = TrainConfig(device=args.device, steps=args.steps, lbfgs_steps=0, derivatives=engine,
                                 interior_points=args.points, boundary_points=args.points // 5, log_every=10**9,
                                 form=form, weak_particles=max(args.points // 40, 1), instance=0 if random else None)
            if args.device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
            result = train(spec, config, Path(tempfile.mkdtemp()) / name, progress=False)
            peak = torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else None
            points = points_per_step(spec, config)
            rows.append({"spec": name, "form": form, "engine": engine, "steps": args.steps, "points_per_step": points,
                         "wall_s": result["wall_s"], "points_per_s": round(points * args.steps / result["wall_s"]),
                         "peak_mb": None if peak is None else round(peak, 1),
                         "rel_l2": {k: float(f"{v:.3g}") for k, v in result["rel_l2"].items()}})
    rows += operator_rows(args)
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    print(f"device: {device}; {args.steps} Adam steps, {args.points} interior points per equation target")
    print(f"{'spec':<16} {'form':<7} {'engine':<9} {'points/step':>11} {'wall s':>8} {'points/s':>11} "
          f"{'peak MB':>8}  rel L2")
    for r in rows:
        print(f"{r['spec']:<16} {r['form']:<7} {r['engine']:<9} {r['points_per_step']:>11} {r['wall_s']:>8.1f} "
              f"{r['points_per_s']:>11} {r['peak_mb'] if r['peak_mb'] is not None else '-':>8}  {r['rel_l2']}")
    print(json.dumps({"device": device, "rows": rows}))


if __name__ == "__main__":
    main()
