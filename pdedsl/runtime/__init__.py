"""What generated code calls at run time: geometry sampling and predicate evaluation.

* :mod:`.geometry`: ``sampler(shape)`` for every IR shape (uniform interior and
  boundary points, outward normals, membership, measures).
* :mod:`.predicates`: ``evaluate(expr, values, constants, tolerance)`` walks a
  SymPy tree on torch tensors (no ``eval``/``lambdify``).
* :mod:`.sampling`: points for a problem's targets (domains, boundaries,
  regions), space-time and initial points, periodic pairs, as :class:`Batch`.
"""

from .geometry import SamplingError, ShapeSampler, sampler
from .predicates import UnsupportedExpressionError, evaluate
from .sampling import (Batch, sample_initial, sample_periodic_pairs, sample_space_time, sample_target,
                       target_sampler)

__all__ = [
    "Batch", "SamplingError", "ShapeSampler", "UnsupportedExpressionError", "evaluate", "sample_initial",
    "sample_periodic_pairs", "sample_space_time", "sample_target", "sampler", "target_sampler",
]
