"""Flux centring in weak residuals: each ball's mean of a factor of grad(phi) is taken out before the products.

The ball rule integrates grad(phi) to zero, so the residuals are the same up to rounding, in every backend that
tests equations weakly (a PINN, operator members [M, P, K], the mixed form's flux outputs, DGNO); what changes is
the rounding floor of float32 on fine rules (``benchmarks/weak_floor.py``).
"""

from pathlib import Path

import pytest
import torch

from pdedsl.training import TrainConfig, weak
from pdedsl.training.run import Run

ROOT = Path(__file__).resolve().parents[2]
SMALL = dict(steps=1, lbfgs_steps=0, interior_points=32, boundary_points=8, weak_particles=16, precision="float64",
             backend_options={"width": 16, "depth": 2})
FAMILY = dict(samples=4, batch_size=2, grid=9, test_samples=0)
CASES = {
    "1-D PINN": ("specs/graded_rod.pde", dict(form="weak")),
    "2-D PINN": ("specs/poisson.pde", dict(form="weak")),
    "3-D PINN": ("specs/poisson3d.pde", dict(form="weak")),
    "PINN in time": ("specs/heat.pde", dict(form="weak")),
    "mixed PINN": ("specs/darcy_smooth.pde", dict(form="mixed", instance=0)),
    "MultiONet members": ("specs/darcy_smooth.pde", dict(form="weak", backend="multionet", **FAMILY)),
    "DGNO mixed": ("specs/darcy_smooth.pde", dict(form="mixed", backend="dgno", **FAMILY,
                                                  backend_options={"width": 8, "depth": 1, "latent": 4,
                                                                   "encoder_width": 8})),
}


def weak_rows(objective, batches, centred: bool, monkeypatch) -> dict:
    """Every weak residual (and mixed-form flux row) of the objective's current model on ``batches``."""
    monkeypatch.setattr(weak, "CENTRED_FLUXES", centred)
    torch.manual_seed(0)  # the same latent draw for a generative model
    objective.losses(batches)  # an operator objective picks its members (and params) for the batch here
    return {name: rows.detach() for name, rows in objective.weak.residuals(batches["weak"]).items()}


@pytest.mark.parametrize("case", list(CASES))
def test_centring_the_fluxes_changes_no_weak_residual_beyond_float64_rounding(tmp_path, monkeypatch, case):
    spec, options = CASES[case]
    run = Run(ROOT / spec, TrainConfig(**{**SMALL, **options}), tmp_path / "run")
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # random weights throughout (MultiONet and DGNO start with zero output layers)
        for parameter in run.model.parameters():
            parameter.copy_(0.5 * torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))
    batches = run.objective.sample(0)
    plain = weak_rows(run.objective, batches, False, monkeypatch)
    centred = weak_rows(run.objective, batches, True, monkeypatch)
    assert plain and set(centred) == set(plain)
    for name, rows in plain.items():
        scale = float(rows.abs().max())
        assert scale > 1e-6, name  # an untrained network: residuals well away from zero
        assert float((centred[name] - rows).abs().max()) <= 1e-12 * scale, name


@pytest.mark.parametrize("spec", ["poisson", "graded_rod"])
def test_centring_the_fluxes_lowers_the_float32_floor_of_a_fine_rule(monkeypatch, spec):
    """The exact solution's float32 weak loss with 8 radial points (benchmarks/weak_floor.py)."""
    from benchmark_script import load

    floor = load("weak_floor").floor
    path = ROOT / "specs" / f"{spec}.pde"
    monkeypatch.setattr(weak, "CENTRED_FLUXES", False)
    plain = floor(path, 8, "float32", 2)
    monkeypatch.setattr(weak, "CENTRED_FLUXES", True)
    centred = floor(path, 8, "float32", 2)
    assert centred < plain / 4, (plain, centred)
