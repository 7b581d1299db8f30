"""Checkpoints: written atomically, loadable with ``torch.load(weights_only=True)``."""

from __future__ import annotations

from pathlib import Path

import torch

from ..files import replacing


def save(state: dict, path: Path) -> None:
    """Write ``state`` to ``path`` so that a crash at any moment leaves the old or the new file, never half of one."""
    with replacing(path) as handle:
        torch.save(state, handle)


def load(path: Path, device: str = "cpu") -> dict:
    return torch.load(path, map_location=device, weights_only=True)
