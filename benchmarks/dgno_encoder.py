"""DGNO's input autoencoder alone: how well do the encoders reconstruct a two-phase permeability?

An inverse problem solved through DGNO returns inputs its input decoder
generates, so the decoder's reconstruction of held-out inputs bounds the error
of a. This script trains only the encoder and the input decoder of the dgno
backend (reconstruction and KL with its warm-up, no physics: the part of the
ELBO that sees a) on draws of a two-phase prior, once per encoder, and reports
the mean relative L2 error of the decoded a (the Bernoulli mean, what the
inverse problem's posterior mean is scored by) on held-out draws, on training
draws, and the fraction of pixels on the wrong side; beside them the best
128-term linear code (principal components, clipped to the phases; see
benchmarks/latent_floor.py).

    python benchmarks/dgno_encoder.py                                  # the paper's prior, both encoders
    python benchmarks/dgno_encoder.py --kl-weight 0                    # deterministic encoders
    python benchmarks/dgno_encoder.py --spec darcy_two_phase --draws 3000 --steps 3000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
GRID, HELD_OUT, LATENT = 29, 300, 128


def _decoded(model, inputs) -> torch.Tensor:
    """``[B, pixels]``: a as the input decoder makes it from the encoder's mean."""
    coordinates = {name: model.sensor_points[:, i] for i, name in enumerate(model.coordinate_names)}
    with torch.no_grad():
        return model.decode_inputs(coordinates, torch.tanh(model.encode(inputs)[0]))["a"]


def _errors(model, inputs) -> tuple[float, float]:
    truth = inputs.grid[:, 0].reshape(len(inputs), -1).to(torch.float64)
    decoded = _decoded(model, inputs).to(torch.float64)
    middle = float(model.phase_low[0] + model.phase_high[0]) / 2
    relative = ((decoded - truth).norm(dim=1) / truth.norm(dim=1)).mean()
    wrong = ((decoded > middle) != (truth > middle)).double().mean()
    return float(relative), float(wrong)


def train_autoencoder(problem, pool, held_out, encoder: str, steps: int, batch: int, seed: int,
                      kl_weight: float = 1.0) -> dict:
    from pdedsl.backends import create, new_run_options

    torch.manual_seed(seed)
    options = {**new_run_options("dgno"), "latent": LATENT, "encoder": encoder, "seed": seed}
    model = create("dgno", problem, layout=pool.layout, **options)
    inputs = pool.operator_inputs(torch.float32)
    model.set_normalisation(inputs)
    model = model.float()
    parameters = [p for name, p in model.named_parameters()
                  if name.startswith(("encoder", "conv_encoder", "pca_", "input_decoders"))]
    optimiser = torch.optim.Adam(parameters, lr=2e-3)
    generator = torch.Generator().manual_seed(seed)
    began = time.perf_counter()
    model.train()
    for step in range(steps):
        for group in optimiser.param_groups:  # the benchmark's schedule: 2e-3 falling a hundredfold
            group["lr"] = 2e-3 * 0.01 ** (step / steps)
        model.begin_batch(inputs.select(torch.randint(len(inputs), (batch,), generator=generator)))
        terms = model.latent_terms()
        warm = min(1.0, step / (0.5 * steps))  # the KL warm-up over half the steps, as in training
        loss = terms["reconstruct_a"] + kl_weight * warm * terms["kl"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    held, held_wrong = _errors(model, held_out.operator_inputs(torch.float32))
    train_error, _ = _errors(model, inputs.select(torch.arange(min(len(inputs), HELD_OUT))))
    return {"encoder": encoder, "kl_weight": kl_weight, "held_out": held, "wrong": held_wrong, "train": train_error,
            "seconds": round(time.perf_counter() - began, 1)}


def linear_floor(pool, held_out) -> float:
    (name,) = pool.layout.channels
    fitted = pool.grid_inputs[name].reshape(len(pool), -1)
    truth = held_out.grid_inputs[name].reshape(len(held_out), -1)
    low, high = float(fitted.min()), float(fitted.max())
    mean = fitted.mean(axis=0)
    basis = np.linalg.svd(fitted - mean, full_matrices=False)[2][:LATENT]
    projected = np.clip((truth - mean) @ basis.T @ basis + mean, low, high)
    return float(np.mean(np.linalg.norm(projected - truth, axis=1) / np.linalg.norm(truth, axis=1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", default="darcy_two_phase_paper")
    parser.add_argument("--draws", type=int, default=3000, help="training draws of the prior")
    parser.add_argument("--steps", type=int, default=6000, help="Adam steps (the CPU line's budget)")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--encoders", default="mlp,pca")
    parser.add_argument("--kl-weight", type=float, default=1.0, help="0: a deterministic encoder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from pdedsl import api
    from pdedsl.runtime.family import draw_pool

    torch.set_num_threads(1)
    problem = api.load(ROOT / "specs" / f"{args.spec}.pde")
    pool = draw_pool(problem, args.draws, GRID, args.seed)
    held_out = draw_pool(problem, HELD_OUT, GRID, args.seed + 1)
    floor = linear_floor(pool, held_out)
    rows = [train_autoencoder(problem, pool, held_out, encoder, args.steps, args.batch, args.seed, args.kl_weight)
            for encoder in args.encoders.split(",")]
    print(f"{args.spec}: {args.draws} draws, {args.steps} steps x {args.batch}, KL weight {args.kl_weight:g}, "
          f"{HELD_OUT} held out; "
          f"best {LATENT}-term linear code {floor:.3f}")
    print(f"{'encoder':<8} {'a rel. L2 held out':>19} {'on training draws':>18} {'wrong pixels':>13} {'s':>6}")
    for row in rows:
        print(f"{row['encoder']:<8} {row['held_out']:>19.3f} {row['train']:>18.3f} {row['wrong']:>13.3f} "
              f"{row['seconds']:>6.0f}")
    print(json.dumps({"benchmark": "dgno_encoder", "spec": args.spec, "draws": args.draws, "steps": args.steps,
                      "batch": args.batch, "linear_floor": floor, "rows": rows}))


if __name__ == "__main__":
    main()
