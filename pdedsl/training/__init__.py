"""Training: objective, loop (Adam then L-BFGS), checkpoints, metrics and run folders."""

from .config import TrainConfig
from .run import Run, RunError, resume, train

__all__ = ["TrainConfig", "Run", "RunError", "resume", "train"]
