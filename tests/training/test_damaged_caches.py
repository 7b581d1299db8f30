"""Caches a run folder keeps (infer's aggregate prior, the model error) are made again when damaged, never a crash."""

import types

import numpy as np
import pytest
import torch

from pdedsl.training import inverse


def _damaged(path, how):
    """Write a damaged archive at ``path``: cut short, garbage, empty, or one without the arrays expected."""
    if how == "cut short":
        np.savez(path, mean=np.zeros(3), factor=np.eye(3), checkpoint=np.zeros(2))
        path.write_bytes(path.read_bytes()[:60])
    elif how == "garbage":
        path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    elif how == "empty":
        path.write_bytes(b"")
    else:
        np.savez(path, other=np.zeros(3))


@pytest.mark.parametrize("how", ["cut short", "garbage", "empty", "other arrays"])
def test_a_damaged_aggregate_prior_is_made_again(tmp_path, monkeypatch, how):
    _damaged(tmp_path / inverse.PRIOR_FILE, how)
    made = inverse.LatentPrior(torch.zeros(3, dtype=torch.float64), torch.eye(3, dtype=torch.float64))
    monkeypatch.setattr(inverse, "aggregate_prior", lambda network, pool, dtype: made)
    run = types.SimpleNamespace(folder=tmp_path, checkpoint_mark=[5.0, 1.0], pool=None, dtype=torch.float64)
    assert inverse.run_aggregate_prior(run, network=None) is made
    with np.load(tmp_path / inverse.PRIOR_FILE) as saved:  # and the damaged file is replaced
        assert list(saved["checkpoint"]) == [5.0, 1.0]


@pytest.mark.parametrize("how", ["cut short", "garbage", "empty", "other arrays"])
def test_a_damaged_model_error_is_measured_again(tmp_path, how):
    from pdedsl.training.model_error import ModelError, _saved

    _damaged(tmp_path / "model_error.npz", how)
    assert _saved(tmp_path / "model_error.npz", ["u"]) is None
    assert _saved(tmp_path / "missing.npz", ["u"]) is None
    x = np.linspace(0, 1, 3)
    ModelError({"x": x}, {"u": x}, {"u": x + 1}, 4, [5.0, 1.0]).save(tmp_path / "good.npz")
    assert _saved(tmp_path / "good.npz", ["u"]).checkpoint == [5.0, 1.0]


def test_a_metrics_log_with_bytes_that_are_not_text_loses_only_its_damaged_lines_on_resume(tmp_path):
    """A crash (or a disk) that leaves non-UTF-8 bytes in metrics.jsonl stopped 'train --resume' with an
    internal error (UnicodeDecodeError); the damaged line is dropped like one a kill cut short."""
    from pdedsl.training.run import _forget_metrics_after

    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 1, "loss": 0.5}\n{"step": 2, "lo\xff\xfe\n{"step": 9, "loss": 0.1}\n')
    _forget_metrics_after(path, step=4)
    assert path.read_text(encoding="utf-8") == '{"step": 1, "loss": 0.5}\n'
