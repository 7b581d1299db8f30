"""How well does an autoencoder code new two-phase permeabilities, given more draws or more members a step?

A quick, backend-free proxy for DGNO's input autoencoder (README: Benchmarks,
DGNO, session 20): an MLP encoder (841 pixels -> 2 x 256 -> 128 latents,
tanh) and an MLP decoder onto the 29 x 29 logits, trained by binary cross
entropy (deterministic codes) on draws of the paper's two-phase prior, Adam
at 2e-3 falling a hundredfold. Reported: the relative L2 error of the
decoded a (the Bernoulli mean between the phases) on 300 held-out draws and
on 300 training draws, and the fraction of held-out pixels on the wrong side.
Each configuration is ``draws:batch``.

    python benchmarks/autoencoder_data.py                                # 10^4:25, 5x10^4:25, 5x10^4:100
    python benchmarks/autoencoder_data.py --runs 3000:25 --steps 6000    # a quick one
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
LATENT, WIDTH, HELD_OUT = 128, 256, 300


def _mlp(inputs: int, outputs: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(inputs, WIDTH), torch.nn.SiLU(), torch.nn.Linear(WIDTH, WIDTH),
                               torch.nn.SiLU(), torch.nn.Linear(WIDTH, outputs))


def _errors(encoder, decoder, upper: torch.Tensor, low: float, high: float) -> tuple[float, float]:
    truth = low + (high - low) * upper
    with torch.no_grad():
        probability = torch.sigmoid(decoder(torch.tanh(encoder(2 * upper - 1))))
    decoded = low + (high - low) * probability
    relative = ((decoded - truth).norm(dim=1) / truth.norm(dim=1)).mean()
    return float(relative), float(((probability > 0.5) != (upper > 0.5)).float().mean())


def run(upper: torch.Tensor, held_out: torch.Tensor, low: float, high: float, steps: int, batch: int,
        seed: int) -> dict:
    torch.manual_seed(seed)
    pixels = upper.shape[1]
    encoder, decoder = _mlp(pixels, LATENT), _mlp(LATENT, pixels)
    optimiser = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=2e-3)
    generator = torch.Generator().manual_seed(seed)
    began = time.perf_counter()
    for step in range(steps):
        for group in optimiser.param_groups:
            group["lr"] = 2e-3 * 0.01 ** (step / steps)
        rows = upper[torch.randint(len(upper), (batch,), generator=generator)]
        logits = decoder(torch.tanh(encoder(2 * rows - 1)))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, rows)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    held, wrong = _errors(encoder, decoder, held_out, low, high)
    trained, _ = _errors(encoder, decoder, upper[:HELD_OUT], low, high)
    return {"draws": len(upper), "batch": batch, "held_out": held, "train": trained, "wrong": wrong,
            "seconds": round(time.perf_counter() - began, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default="10000:25,50000:25,50000:100", help="draws:batch, comma-separated")
    parser.add_argument("--steps", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from pdedsl import api
    from pdedsl.runtime.family import draw_pool

    torch.set_num_threads(1)
    runs = [tuple(int(v) for v in item.split(":")) for item in args.runs.split(",")]
    problem = api.load(ROOT / "specs" / "darcy_two_phase_paper.pde")
    drawn = draw_pool(problem, max(draws for draws, _ in runs), 29, args.seed).grid_inputs["a"]
    held = draw_pool(problem, HELD_OUT, 29, args.seed + 1).grid_inputs["a"]
    low, high = float(drawn.min()), float(drawn.max())

    def upper_phase(values) -> torch.Tensor:
        return torch.tensor(values.reshape(len(values), -1) > (low + high) / 2, dtype=torch.float32)

    pool, held_out = upper_phase(drawn), upper_phase(held)
    rows = [run(pool[:draws], held_out, low, high, args.steps, batch, args.seed) for draws, batch in runs]
    print(f"{args.steps} steps; {HELD_OUT} held out")
    print(f"{'draws':>7} {'batch':>6} {'a rel. L2 held out':>19} {'on training draws':>18} {'wrong pixels':>13} "
          f"{'s':>6}")
    for row in rows:
        print(f"{row['draws']:>7} {row['batch']:>6} {row['held_out']:>19.3f} {row['train']:>18.3f} "
              f"{row['wrong']:>13.3f} {row['seconds']:>6.0f}")
    print(json.dumps({"benchmark": "autoencoder_data", "steps": args.steps, "rows": rows}))


if __name__ == "__main__":
    main()
