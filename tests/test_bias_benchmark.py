"""benchmarks/dgno_bias.py: the scales it reports are the least-squares ones, and it reads a mixed-form run."""

import math

import torch

from benchmark_script import ROOT, load
from pdedsl.training import TrainConfig, train


def _script():
    return load("dgno_bias")


def test_a_prediction_off_by_a_scale_is_all_bias_and_noise_is_none():
    bias = _script()
    truth = torch.rand(6, 50, dtype=torch.float64) + 0.5
    low = bias.scale_errors(0.8 * truth, truth)
    assert math.isclose(low["u"], 0.2, rel_tol=1e-12) and math.isclose(low["scale_overall"], 1.25, rel_tol=1e-12)
    assert low["u_after_overall_scale"] < 1e-12 and low["u_after_member_scales"] < 1e-12
    noisy = truth + 0.05 * torch.randn(6, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    report = bias.scale_errors(noisy, truth)
    assert abs(report["scale_overall"] - 1) < 0.01 and report["u_after_overall_scale"] > 0.9 * report["u"]
    assert report["worst"] >= report["median"]


def test_a_mixed_form_run_gets_the_scales_the_physics_sees(tmp_path):
    bias = _script()
    config = TrainConfig(backend="dgno", form="mixed(particles: 20, mismatch_power: 2)", steps=3, samples=10,
                         batch_size=5, grid=9, test_samples=3, log_every=1, eval_every=0)
    train(ROOT / "specs" / "darcy_two_phase.pde", config, tmp_path / "run", progress=False)
    row = bias.measure(tmp_path / "run", particles=20)
    assert row["mismatch_power"] == 2 and row["steps"] == 3
    assert math.isfinite(row["balance_scale_of_s"]) and math.isfinite(row["mismatch_scale_of_u"])
    assert row["u_after_member_scales"] <= row["u"] + 1e-12
