"""Random-field priors sampled on grids: Matern Gaussian fields and pointwise maps of them.

Every field prior has ``sample(axes, n, seed) -> array (n, len(axes[0]), ...)``
and ``piecewise_constant`` (True when samples are two-phase, so that
:class:`GridField` evaluates them by nearest node instead of multilinearly).
"""

from __future__ import annotations

import warnings
from typing import Callable, Optional, Sequence

import numpy as np

from ...errors import PdeWarning
from . import _checks
from .circulant import find_embedding, grid_geometry
from .dense import DenseEigenSampler
from .grid_field import GridField
from .matern import matern_covariance


class FieldPrior:
    """Base class: a distribution over functions, sampled at the nodes of a grid."""

    piecewise_constant = False

    def sample(self, axes: Sequence, n: int, seed: _checks.Seed = None) -> np.ndarray:
        """``n`` samples at the nodes of the grid spanned by ``axes``: shape (n, *map(len, axes))."""
        raise NotImplementedError

    def grid_field(self, axes: Sequence, values, names: Optional[Sequence[str]] = None):
        """A :class:`GridField` evaluating sampled ``values`` off the grid, in the mode that suits this prior."""
        return GridField(axes, values, names=names, piecewise_constant=self.piecewise_constant)


class MaternField(FieldPrior):
    """``gaussian_field(length, smoothness, variance, mean)``: a Gaussian field with Matern covariance.

    Sampled exactly in distribution on uniform grids. The method is circulant
    embedding (:mod:`.circulant`), with the periodic grid padded until its
    spectrum is nonnegative; samples then have covariances k(r) between nodes
    up to ``tolerance * variance`` (default 1e-6), so only Monte Carlo error
    remains. When that takes a periodic grid over 16x the node count and
    the grid has at most ``dense_limit`` nodes (long correlation lengths on
    small grids), the covariance matrix's eigendecomposition is used instead
    (:mod:`.dense`, exact up to roundoff). Past ``max_padded_size`` periodic
    nodes the remaining negative eigenvalues are clipped with a RuntimeWarning.
    :meth:`sampler` tells which method a grid gets; it is cached per grid.
    """

    def __init__(self, length, smoothness=1.5, variance=1.0, mean=0.0, *, tolerance: float = 1e-6,
                 dense_limit: int = 1600, max_padded_size: int = 2 ** 22):
        self.length = _checks.positive("gaussian_field", "length", length)
        self.smoothness = _checks.positive("gaussian_field", "smoothness", smoothness)
        self.variance = _checks.nonnegative("gaussian_field", "variance", variance)
        self.mean = _checks.number("gaussian_field", "mean", mean)
        self.tolerance = tolerance
        self.dense_limit = dense_limit
        self.max_padded_size = max_padded_size
        self._samplers: dict = {}

    def __repr__(self) -> str:
        return (f"MaternField(length={self.length}, smoothness={self.smoothness}, "
                f"variance={self.variance}, mean={self.mean})")

    def covariance(self, r) -> np.ndarray:
        """The Matern covariance k(r) at distances ``r``."""
        return matern_covariance(r, self.length, self.smoothness, self.variance)

    def sampler(self, axes: Sequence):
        """The zero-mean sampler for the grid of ``axes`` (only node counts and spacings matter).

        It has ``method``, ``shape``, ``covariance_error`` (largest absolute
        error of a node-to-node covariance) and ``sample(generators)``.
        """
        counts, spacings = grid_geometry(axes)
        key = (counts, tuple(round(h, 12) for h in spacings))
        if key not in self._samplers:
            self._samplers[key] = self._choose_sampler(counts, spacings)
        return self._samplers[key]

    def _choose_sampler(self, counts, spacings):
        """Circulant embedding if a modest padding suffices, else dense for small grids, else big padding."""
        nodes = int(np.prod(counts))
        allowed = self.tolerance * self.variance
        cheap = min(self.max_padded_size, 16 * nodes)
        embedding = find_embedding(self.covariance, counts, spacings, self.length, allowed, cheap)
        if embedding.covariance_error <= allowed:
            return embedding
        if nodes <= self.dense_limit:
            return DenseEigenSampler(self.covariance, counts, spacings)
        embedding = find_embedding(self.covariance, counts, spacings, self.length, allowed, self.max_padded_size)
        if embedding.covariance_error > allowed:
            warnings.warn(f"gaussian_field: circulant embedding of size {embedding.padded_shape} still has negative "
                          f"eigenvalues; clipping them changes covariances by up to {embedding.covariance_error:.3g} "
                          f"(variance {self.variance:.3g})", PdeWarning, stacklevel=4)
        return embedding

    def sample(self, axes, n, seed=None):
        n = _checks.count(n)
        sampler = self.sampler(axes)
        return self.mean + sampler.sample(_checks.generators(seed, n))


class Pointwise(FieldPrior):
    """``fn(field)``: a deterministic pointwise function of a sampled field (same seed -> same base sample).

    ``fn`` maps an array of samples (n, nx, ...) to an array of the same shape.
    With ``coordinates=True`` it is called as ``fn(values, x, y, ...)`` with
    the node coordinates as arrays of shape (1, nx, ny, ...), for priors that
    also depend on position (a mean varying in space, say).
    """

    def __init__(self, field: FieldPrior, fn: Callable[..., np.ndarray], name: Optional[str] = None,
                 coordinates: bool = False):
        if not isinstance(field, FieldPrior):
            raise ValueError(f"{name or 'pointwise'}: expected a field prior, got {field!r}")
        self.field = field
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "fn")
        self.coordinates = coordinates

    def __repr__(self) -> str:
        return f"{self.name}({self.field!r})"

    @property
    def piecewise_constant(self) -> bool:
        """A function of a piecewise constant field is piecewise constant too (if it ignores position)."""
        return self.field.piecewise_constant and not self.coordinates

    def sample(self, axes, n, seed=None):
        values = self.field.sample(axes, n, seed)
        if not self.coordinates:
            return np.asarray(self.fn(values), dtype=np.float64)
        mesh = np.meshgrid(*[np.asarray(a, dtype=np.float64) for a in axes], indexing="ij")
        result = np.asarray(self.fn(values, *[m[None] for m in mesh]), dtype=np.float64)
        return np.broadcast_to(result, values.shape).copy()


class Exp(Pointwise):
    """``exp(field)``: a log-normal field when ``field`` is Gaussian."""

    def __init__(self, field: FieldPrior):
        super().__init__(field, np.exp, "exp")


class Threshold(FieldPrior):
    """``threshold(field, below, above, at)``: ``below`` where the field is < ``at``, ``above`` elsewhere."""

    piecewise_constant = True

    def __init__(self, field: FieldPrior, below, above, at=0.0):
        if not isinstance(field, FieldPrior):
            raise ValueError(f"threshold: expected a field prior to threshold, got {field!r}")
        self.field = field
        self.below = _checks.number("threshold", "below", below)
        self.above = _checks.number("threshold", "above", above)
        self.at = _checks.number("threshold", "at", at)

    def __repr__(self) -> str:
        return f"Threshold({self.field!r}, below={self.below}, above={self.above}, at={self.at})"

    def sample(self, axes, n, seed=None):
        values = self.field.sample(axes, n, seed)
        return np.where(values < self.at, self.below, self.above)
