"""Training: objective, loop (Adam then L-BFGS), checkpoints, metrics and run folders."""

import importlib

__all__ = ["TrainConfig", "Run", "RunError", "resume", "train"]
_HOMES = {"TrainConfig": ".config", "Run": ".run", "RunError": ".run", "resume": ".run", "train": ".run"}


def __getattr__(name: str):
    """The package's names, imported on first use: ``pdedsl check`` imports ``training.stopping`` and should
    not pay for torch and the training loop."""
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
