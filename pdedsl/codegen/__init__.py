"""Code generation: LoweredProblem -> one readable, standalone PyTorch module per spec."""

from .generate import generate_module
from .loader import load_module

__all__ = ["generate_module", "load_module"]
