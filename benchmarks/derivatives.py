"""Training-step time of PDE residuals: pdedsl's forward (jet) engine vs DeepXDE vs a plain forward+backward.

One step = the residual at N collocation points, its mean square, and the
backward pass to the network's parameters (no optimiser). All methods use the
same MLP shape (d-64-64-64-1, tanh, float32) and the same points, and run
interleaved round by round in one process, so that the machine's load hits
them alike; the table shows medians after warm-up.

* ``ours``: the generated residual of the spec with ``runtime.derivatives``
  on the forward engine (weighted-Laplacian contraction where the residual
  allows it), eager PyTorch.
* ``ours+compile``: the same step under ``torch.compile`` (its one-off
  compile time is reported separately as compile_s).
* ``autograd``: the same generated residual on pdedsl's reverse-mode engine.
* ``deepxde``: DeepXDE's own network and ``dde.grad.hessian``/``jacobian``
  (pytorch backend; ``pip install deepxde``, a benchmark-only dependency).
* ``fwd+bwd``: a plain forward and backward of the MLP on the same points.

Memory: megabytes of tensors autograd keeps for the backward pass of one
step (summed with saved-tensor hooks; on CUDA also the peak allocation).

Usage: python benchmarks/derivatives.py [--points N] [--rounds R] [--device cpu|cuda] [--no-compile]
The last line is one JSON object with the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("DDE_BACKEND", "pytorch")
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pdedsl import api  # noqa: E402
from pdedsl.backends import create  # noqa: E402
from pdedsl.codegen.loader import load_module  # noqa: E402
from pdedsl.runtime import derivatives  # noqa: E402
from pdedsl.runtime.residuals import bind_arguments, contraction_of, requests_of  # noqa: E402

CASES = {"poisson_2d": "poisson.pde", "poisson_3d": "ball_poisson.pde", "burgers": "burgers.pde"}


def pdedsl_step(spec: Path, model, points: torch.Tensor, engine: str):
    """A function of the points: mean squared residual of the spec's first equation."""
    problem = api.load(spec)
    module = load_module(api.compile(spec))
    entry = next(e for e in module.RESIDUALS if e["kind"] == "equation")
    axes = [c.name for c in problem.coordinates]
    requests, contraction = requests_of([entry]), contraction_of([entry])
    params = {name: torch.tensor(value) for name, value in module.PARAMS.items() if value is not None}

    def loss(x: torch.Tensor) -> torch.Tensor:
        coords = {a: x[:, i] if engine == "forward" else x[:, i].detach().requires_grad_(True)
                  for i, a in enumerate(axes)}
        computed = derivatives.compute(model, coords, requests, axes, engine, contraction)
        return entry["function"](**bind_arguments(entry, computed, coords, None, params)).square().mean()

    return loss


def deepxde_step(case: str, dimension: int, device):
    try:
        import deepxde as dde
    except ImportError:
        return None
    net = dde.nn.FNN([dimension] + [64] * 3 + [1], "tanh", "Glorot uniform").to(device)
    pi = torch.pi

    def loss(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().requires_grad_(True)
        y = net(x)
        if case == "burgers":
            residual = (dde.grad.jacobian(y, x, i=0, j=1) + y * dde.grad.jacobian(y, x, i=0, j=0)
                        - 0.01 / pi * dde.grad.hessian(y, x, i=0, j=0))
        else:  # -laplace(u) = f with the spec's manufactured right-hand side
            laplacian = sum(dde.grad.hessian(y, x, i=k, j=k) for k in range(dimension))
            source = torch.prod(torch.sin(pi * x), dim=1, keepdim=True) * dimension * pi ** 2
            residual = -laplacian - source
        dde.grad.clear()
        return residual.square().mean()

    return loss, net


def plain_step(model):
    def loss(x: torch.Tensor) -> torch.Tensor:
        h = x
        for layer in model.layers[:-1]:
            h = torch.tanh(layer(h))
        return model.layers[-1](h).square().mean()

    return loss


def saved_megabytes(step, x) -> float:
    total = [0]

    def pack(tensor):
        total[0] += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = step(x)
    loss.backward()
    return total[0] / 2**20


def timed(step, x, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    step(x).backward()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def run_case(case: str, args, device) -> dict:
    spec = ROOT / "specs" / CASES[case]
    problem = api.load(spec)
    dimension = len(problem.coordinates)
    torch.manual_seed(0)
    model = create("pinn", problem, width=64, depth=3, activation="tanh").to(device)
    x = torch.rand(args.points, dimension, device=device)
    steps = {"ours": pdedsl_step(spec, model, x, "forward"),
             "autograd": pdedsl_step(spec, model, x, "autograd"),
             "fwd+bwd": plain_step(model)}
    theirs = deepxde_step(case, dimension, device)
    if theirs is not None:
        steps["deepxde"] = theirs[0]
    compile_s = None
    if args.compile:
        steps["ours"](x).backward()  # fills pdedsl's caches eagerly, as training's Compiled wrapper does
        compiled = torch.compile(steps["ours"], dynamic=False)
        start = time.perf_counter()
        compiled(x).backward()
        compile_s = time.perf_counter() - start
        steps["ours+compile"] = compiled
    memory = {name: saved_megabytes(step, x) for name, step in steps.items() if name != "ours+compile"}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(args.rounds + args.warmup):
        for name, step in steps.items():
            elapsed = timed(step, x, device)
            if round_ >= args.warmup:
                times[name].append(elapsed)
    result = {"case": case, "dimension": dimension, "compile_s": compile_s,
              "ms": {name: statistics.median(t) * 1e3 for name, t in times.items()}, "saved_mb": memory}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        steps["ours"](x).backward()
        result["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=8192)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    parser.add_argument("cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    results = [run_case(case, args, device) for case in args.cases]
    names = ["ours", "ours+compile", "autograd", "deepxde", "fwd+bwd"]
    print(f"{args.points} points, MLP d-64-64-64-1 tanh, float32, {args.threads} thread(s), device {device}; "
          f"median ms per step over {args.rounds} rounds")
    print(f"{'case':<12}" + "".join(f"{n:>14}" for n in names) + f"{'compile s':>11}")
    for r in results:
        cells = "".join(f"{r['ms'][n]:>14.1f}" if n in r["ms"] else f"{'-':>14}" for n in names)
        print(f"{r['case']:<12}{cells}{(r['compile_s'] or 0):>11.1f}")
    print("autograd-saved MB per step: " + "; ".join(
        f"{r['case']}: " + ", ".join(f"{n} {mb:.0f}" for n, mb in r["saved_mb"].items()) for r in results))
    summary = {}
    by_case = {r["case"]: r for r in results}

    def ratio(case, ours, other):
        r = by_case.get(case)
        if r is None or ours not in r["ms"] or other not in r["ms"]:
            return None
        return round(r["ms"][ours] / r["ms"][other], 3)

    fast = "ours+compile" if args.compile else "ours"
    summary["ratio_vs_deepxde_2d"] = ratio("poisson_2d", fast, "deepxde")
    summary["ratio_vs_deepxde_3d"] = ratio("poisson_3d", fast, "deepxde")
    summary["ratio_vs_deepxde_burgers"] = ratio("burgers", fast, "deepxde")
    summary["ratio_vs_forward_backward_2d"] = ratio("poisson_2d", fast, "fwd+bwd")
    summary["eager_ratio_vs_deepxde_2d"] = ratio("poisson_2d", "ours", "deepxde")
    summary["eager_ratio_vs_deepxde_3d"] = ratio("poisson_3d", "ours", "deepxde")
    summary["eager_ratio_vs_deepxde_burgers"] = ratio("burgers", "ours", "deepxde")
    summary["compile_s"] = max((r["compile_s"] or 0.0 for r in results), default=None) if args.compile else None
    summary["device"] = str(device)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
