"""Runtime samplers for the priors of the language, as plain NumPy/torch objects.

* Field priors (``sample(axes, n, seed) -> (n, nx, ny, ...)``, ``piecewise_constant``):
  :class:`MaternField` (``gaussian_field``; exact sampling by circulant embedding,
  or by a dense eigendecomposition for long correlations on small grids),
  :class:`Threshold` (``threshold``), :class:`Pointwise` / :class:`Exp`.
* Scalar priors (``sample(n, seed) -> (n,)``): :class:`Uniform`, :class:`Normal`.
* :class:`GridField`: a sampled field (or batch) evaluated at arbitrary points
  in torch, multilinear or nearest-node.

Seeds: an int (or None, or a SeedSequence / Generator). Field sample ``i``
comes from the ``i``-th child of ``SeedSequence(seed)``, so it does not depend
on the batch size.
"""

from .circulant import CirculantEmbedding
from .dense import DenseEigenSampler
from .fields import Exp, FieldPrior, MaternField, Pointwise, Threshold
from .grid_field import GridField
from .matern import matern_covariance
from .scalars import Normal, ScalarPrior, Uniform

__all__ = [
    "CirculantEmbedding", "DenseEigenSampler", "Exp", "FieldPrior", "GridField", "MaternField", "Normal", "Pointwise",
    "ScalarPrior", "Threshold", "Uniform", "matern_covariance",
]
