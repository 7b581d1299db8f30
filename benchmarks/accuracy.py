"""Accuracy of the PINN backend on the bundled specs against the issue's targets.

Trains each spec (the default TrainConfig unless flags say otherwise) and
checks the relative L2 error of every field against its exact solution or
reference data:

    poisson        <= 1e-3, and in under 2 minutes (compile, training and evaluation)
    burgers        <= 5e-3
    heat, wave, helmholtz, and a Neumann/Robin spec   <= 1e-2

With --weak it compares the strong, weak and mixed forms instead (issue 5):
on 2-D Poisson (smooth; target: weak error within 2x the strong error) and on
one two-phase Darcy instance (darcy_two_phase.pde drawn with --instance 0:
a in {5, 10}, f = 10, u = 0 on the boundary; truth: the finite-difference
solution on the instance's 257 x 257 grid with harmonic face averages;
target: the weak form beats the strong form).

The Neumann/Robin spec is robin_cooling.pde if it can be validated (it has an
exact solution and no data input), else the first of robin_exact.pde and any
other spec in specs/ with a dn() condition that can. Prints a table and a
final JSON line with every number. Exit status: 0 when every spec meets its
target (with --quick: when every spec trained), 1 otherwise.

Usage:
    python benchmarks/accuracy.py                 # full run: many minutes on a CPU
    python benchmarks/accuracy.py --quick         # smoke run: a few steps per spec
    python benchmarks/accuracy.py --only poisson burgers --steps 5000 --device cuda --plot
    python benchmarks/accuracy.py --weak          # strong vs weak vs mixed (Poisson, two-phase Darcy)
    python benchmarks/accuracy.py --weak --seeds 0 1 2 --only poisson   # the forms at three seeds
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pdedsl  # noqa: E402
from pdedsl.training import TrainConfig, train  # noqa: E402

# (spec, target relative L2, time limit in seconds or None)
TARGETS = {
    "poisson": (1e-3, 120.0),
    "burgers": (5e-3, None),
    "heat": (1e-2, None),
    "wave": (1e-2, None),
    "helmholtz": (1e-2, None),
}
NEUMANN_ROBIN_TARGET = 1e-2
NEUMANN_ROBIN_PREFERRED = ("robin_cooling", "robin_exact")

CONFIG_FLAGS = ("steps", "lbfgs_steps", "interior_points", "boundary_points", "learning_rate", "precision", "device",
                "seed", "optimizer", "sampling", "threads")  # command-line options that override TrainConfig fields of the same name
QUICK = dict(steps=60, lbfgs_steps=20, interior_points=256, boundary_points=64, resample_every=20, log_every=10,
             checkpoint_every=10_000)


def validatable(path: Path) -> bool:
    """The spec loads, every field has an exact solution or reference, and no input is given as data."""
    try:
        problem = pdedsl.load(path)
    except pdedsl.PdeError:
        return False
    truths = {e.name for e in problem.exact} | {r.name for r in problem.references}
    has_data_input = any(i.data is not None or i.kind != "formula" for i in problem.inputs)
    return bool(problem.fields) and all(f.name in truths for f in problem.fields) and not has_data_input


def neumann_robin_spec() -> tuple[str, str]:
    """``(name, why)`` of the Neumann/Robin spec to benchmark."""
    specs = ROOT / "specs"
    skipped = []
    others = sorted(p.stem for p in specs.glob("*.pde") if "dn(" in p.read_text(encoding="utf-8"))
    for name in dict.fromkeys(NEUMANN_ROBIN_PREFERRED + tuple(others)):
        path = specs / f"{name}.pde"
        if path.is_file() and validatable(path):
            why = f"{name}.pde" + (f" (instead of {', '.join(skipped)}: data input or no exact solution)"
                                   if skipped else "")
            return name, why
        skipped.append(f"{name}.pde")
    raise SystemExit("no Neumann/Robin spec with an exact solution and no data input in specs/")


def settings_from(args) -> dict:
    """The settings the flags give; every other one is left to TrainConfig's defaults."""
    values = dict(QUICK) if args.quick else {}
    values.update({key: getattr(args, key) for key in CONFIG_FLAGS if getattr(args, key) is not None})
    return values


def config_from(args) -> TrainConfig:
    return TrainConfig(**settings_from(args))


def run_one(name: str, target: float, limit, config: TrainConfig, runs: Path, plot: bool) -> dict:
    spec = ROOT / "specs" / f"{name}.pde"
    folder = runs / name
    entry = {"spec": f"{name}.pde", "target": target, "time_limit_s": limit}
    began = time.perf_counter()
    try:
        result = train(spec, TrainConfig(**asdict(config)), folder, progress=False)
    except Exception as error:  # noqa: BLE001 - one broken spec must not stop the others
        entry.update(error=f"{type(error).__name__}: {error}", passed=False,
                     wall_s=round(time.perf_counter() - began, 2))
        traceback.print_exc(file=sys.stderr)
        return entry
    wall = time.perf_counter() - began
    errors = result["rel_l2"]
    entry.update(rel_l2=errors, wall_s=round(wall, 2), train_wall_s=result.get("wall_s"), steps=result.get("steps"),
                 folder=str(folder))
    entry["passed"] = bool(errors) and all(e <= target for e in errors.values()) and (limit is None or wall <= limit)
    if plot:
        from pdedsl.training.plot import plot as draw

        entry["plot"] = str(draw(folder))
    return entry


FORMS = ("strong", "weak", "mixed")
WEAK_SPECS = ("poisson", "darcy_two_phase")


def two_phase_truth(folder: Path) -> dict:
    """The finite-difference solution of the Darcy instance a run trained on, on the instance's grid."""
    import numpy as np

    from pdedsl.reference.from_spec import elliptic_spec, solve_spec

    problem = pdedsl.load(folder / "spec.pde")
    with np.load(folder / "instance.npz") as data:
        axes = {a: data[a] for a in problem.axes}
        inputs = {i.name: data[i.name] for i in problem.inputs if i.kind == "prior"}
    return {**axes, "u": solve_spec(problem, elliptic_spec(problem), axes, inputs, {})}


def grid_error(folder: Path, truth: dict) -> float:
    """Relative L2 error of the trained ``u`` at the truth's grid nodes."""
    import numpy as np

    from pdedsl.training.predict import evaluate_fields
    from pdedsl.training.run import Run

    x, y = np.meshgrid(truth["x"], truth["y"], indexing="ij")
    predicted = evaluate_fields(Run.open(folder), {"x": x.ravel(), "y": y.ravel()})["u"].reshape(x.shape)
    return float(np.linalg.norm(predicted - truth["u"]) / np.linalg.norm(truth["u"]))


def run_forms(given: dict, runs: Path, seeds: list[int], names=WEAK_SPECS, mismatch_power=None) -> list[dict]:
    """Each spec in each form at each seed, with the given settings and each form's own defaults (the
    optimiser and its step count depend on the form); ``mismatch_power`` is the mixed form's option."""
    entries = []
    for seed in seeds:
        for name in names:
            for form in FORMS:
                print(f"training {name} ({form}, seed {seed}) ...", file=sys.stderr, flush=True)
                spelled = form if form != "mixed" or mismatch_power is None else \
                    f"mixed(mismatch_power: {mismatch_power:g})"
                settings = {**given, "form": spelled, "seed": seed,
                            "instance": 0 if name == "darcy_two_phase" else None}
                folder = runs / f"{name}_{form}_seed{seed}"
                began = time.perf_counter()
                result = train(ROOT / "specs" / f"{name}.pde", TrainConfig(**settings), folder, progress=False)
                wall = time.perf_counter() - began
                error = result["rel_l2"].get("u") if name == "poisson" else grid_error(folder, two_phase_truth(folder))
                config = TrainConfig(**settings)
                entries.append({"spec": f"{name}.pde", "form": form, "seed": seed, "rel_l2": error,
                                "wall_s": round(wall, 2), "optimizer": config.optimizer, "steps": result.get("steps"),
                                "folder": str(folder)})
    return entries


def weak_verdicts(entries: list[dict]) -> dict:
    """The issue's claims, each required at every seed (the seeds pair up runs of the three forms)."""
    error = {(e["spec"].removesuffix(".pde"), e["form"], e["seed"]): e["rel_l2"] for e in entries}
    seeds = sorted({e["seed"] for e in entries})
    claims = {}
    if any(spec == "poisson" for spec, _, _ in error):
        claims["poisson_weak_within_2x_strong"] = all(
            error[("poisson", "weak", s)] <= 2 * error[("poisson", "strong", s)] for s in seeds)
    if any(spec == "darcy_two_phase" for spec, _, _ in error):
        for form in ("weak", "mixed"):
            claims[f"darcy_{form}_beats_strong"] = all(
                error[("darcy_two_phase", form, s)] < error[("darcy_two_phase", "strong", s)] for s in seeds)
    return claims


def print_forms(entries: list[dict]) -> None:
    print(f"{'spec':<22} {'seed':>4} {'form':<7} {'optimiser':<10} {'steps':>6} {'rel L2':>10} {'/ strong':>9} "
          f"{'wall s':>8}")
    strong = {(e["spec"], e["seed"]): e["rel_l2"] for e in entries if e["form"] == "strong"}
    for e in entries:
        ratio = e["rel_l2"] / strong[(e["spec"], e["seed"])]
        print(f"{e['spec']:<22} {e['seed']:>4} {e['form']:<7} {e['optimizer']:<10} {e['steps']:>6} "
              f"{e['rel_l2']:>10.2e} {ratio:>9.2f} {e['wall_s']:>8.1f}")


def print_table(entries: list[dict]) -> None:
    rows = []
    for e in entries:
        errors = e.get("rel_l2") or {"-": None}
        for i, (field, error) in enumerate(errors.items()):
            first = i == 0
            limit = f"<= {e['time_limit_s']:.0f}" if e["time_limit_s"] and first else ""
            rows.append((e["spec"] if first else "", field, "error" if "error" in e else
                         (f"{error:.2e}" if error is not None else "-"), f"<= {e['target']:.0e}",
                         f"{e['wall_s']:.1f}" if first else "", limit,
                         ("pass" if e["passed"] else "FAIL") if first else ""))
    header = ("spec", "field", "rel L2", "target", "wall s", "limit s", "result")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    for e in entries:
        if "error" in e:
            print(f"{e['spec']}: {e['error']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: few steps and points per spec")
    parser.add_argument("--only", nargs="+", metavar="SPEC", help="benchmark only these specs (names without .pde)")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "accuracy", help="folder for the run folders")
    parser.add_argument("--plot", action="store_true", help="also draw plot.png in each run folder")
    parser.add_argument("--steps", type=int, help="Adam steps")
    parser.add_argument("--lbfgs-steps", type=int, help="iterations after Adam (L-BFGS or Levenberg-Marquardt)")
    parser.add_argument("--optimizer", choices=("lbfgs", "lm"), help="the optimiser after Adam (default: lm)")
    parser.add_argument("--sampling", choices=("uniform", "rad"))
    parser.add_argument("--interior-points", type=int)
    parser.add_argument("--boundary-points", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--precision", choices=("float32", "float64"))
    parser.add_argument("--device", help="cpu, cuda, ...")
    parser.add_argument("--threads", type=int, help="torch CPU threads (as train's --threads; default: 1, and "
                        "every core for the Levenberg-Marquardt solves)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--weak", action="store_true", help="compare strong, weak and mixed forms (see above)")
    parser.add_argument("--mismatch-power", type=float, metavar="P",
                        help="with --weak: the mixed form's flux mismatch weighed by stiffness^-P (default: its own)")
    parser.add_argument("--seeds", type=int, nargs="+", help="with --weak: compare the forms at each of these seeds "
                        "(every claim must hold at each; default: --seed)")
    args = parser.parse_args(argv)
    if args.weak:
        given = settings_from(args)
        names = [n for n in WEAK_SPECS if not args.only or n in args.only]
        if not names:
            parser.error(f"--weak compares the forms on {' and '.join(WEAK_SPECS)}; --only names neither")
        entries = run_forms(given, args.runs, args.seeds or [TrainConfig(**given).seed], names, args.mismatch_power)
        print()
        print_forms(entries)
        verdicts = weak_verdicts(entries)
        for claim, holds in verdicts.items():
            print(f"{claim}: {'yes' if holds else 'NO'}")
        print(json.dumps({"benchmark": "accuracy_forms", "quick": args.quick, "settings": given,
                          "results": entries, **verdicts}))
        return 0 if all(verdicts.values()) or args.quick else 1

    robin, why = neumann_robin_spec()
    targets = {**TARGETS, robin: (NEUMANN_ROBIN_TARGET, None)}
    if args.only:
        unknown = [n for n in args.only if n not in targets]
        if unknown:
            parser.error(f"unknown spec(s) {', '.join(unknown)}; choose from {', '.join(targets)}")
        targets = {n: targets[n] for n in args.only}
    config = config_from(args)
    print(f"Neumann/Robin spec: {why}")
    custom = any(getattr(args, key) is not None for key in CONFIG_FLAGS)
    kind = ("quick, adjusted" if custom else "quick") if args.quick else ("custom" if custom else "default")
    print(f"config: {kind} (steps {config.steps} + {config.optimizer} {config.lbfgs_steps}, sampling {config.sampling}, "
          f"{config.interior_points}/{config.boundary_points} points, {config.precision} on {config.device}); "
          f"runs in {args.runs}", flush=True)

    entries = []
    for name, (target, limit) in targets.items():
        print(f"training {name} ...", file=sys.stderr, flush=True)
        entries.append(run_one(name, target, limit, config, args.runs, args.plot))
    print()
    print_table(entries)
    passed = sum(e["passed"] for e in entries)
    crashed = sum("error" in e for e in entries)
    print(json.dumps({
        "benchmark": "accuracy", "quick": args.quick, "config": asdict(config), "neumann_robin_spec": f"{robin}.pde",
        "results": entries, "passed": passed, "failed": len(entries) - passed, "errors": crashed,
        "all_passed": passed == len(entries),
    }))
    if args.quick:
        return 1 if crashed else 0
    return 0 if passed == len(entries) else 1


if __name__ == "__main__":
    sys.exit(main())
