"""The accuracy a run reports against its exact solutions and reference files."""

from __future__ import annotations

import types

import numpy as np
import torch

import pdedsl
from pdedsl.training.metrics import accuracy

SPEC = """problem p
domain O = box(x: [0, 1])
field u
equation in O:
    d(u, x, 2) = 0
boundary on boundary(O):
    u = 0
reference u from "truth.npz"
"""


def test_a_reference_beyond_float32_is_compared_in_float64(tmp_path):
    """A reference of 1e39 (finite in the file, inf in float32) gave 'relative L2 error nan' in a float32 run."""
    x = np.linspace(0.0, 1.0, 11)
    np.savez(tmp_path / "truth.npz", x=x, u=np.full_like(x, 1e39))
    (tmp_path / "p.pde").write_text(SPEC)
    problem = pdedsl.load(tmp_path / "p.pde")

    def model(coords):
        return {"u": torch.zeros_like(coords["x"])}

    relative, rms = accuracy(problem, types.SimpleNamespace(EXACT={}), model, {}, torch.float32, "cpu")
    assert relative["u"] == 1.0
    assert np.isfinite(rms["u"]) and rms["u"] == 1e39
