"""pdedsl: write a PDE down once, compile it to PyTorch, solve it with neural operators.

    import pdedsl
    problem = pdedsl.load("specs/poisson.pde")   # a checked Problem, or SpecError
"""

__version__ = "0.1.0"

from .api import compile, infer, load, parse  # noqa: E402
from .errors import Diagnostic, InternalError, PdeError, SpecError  # noqa: E402
from .ir import Problem  # noqa: E402

__all__ = ["load", "parse", "compile", "infer", "Problem", "SpecError", "PdeError", "InternalError", "Diagnostic", "__version__"]
