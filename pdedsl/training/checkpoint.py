"""Checkpoints: written atomically, loadable with ``torch.load(weights_only=True)``."""

from __future__ import annotations

import os
from pathlib import Path

import torch


def save(state: dict, path: Path) -> None:
    """Write ``state`` to ``path`` so that a crash at any moment leaves the old or the new file, never half of one."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        torch.save(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def load(path: Path, device: str = "cpu") -> dict:
    return torch.load(path, map_location=device, weights_only=True)
