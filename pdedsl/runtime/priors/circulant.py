"""Exact sampling of a stationary Gaussian field on a uniform grid by circulant embedding.

The grid's (block) Toeplitz covariance matrix is embedded in the (block)
circulant covariance of a periodic grid at least twice as long per axis, whose
lag-j covariance is k(min(j, M - j) h). The DFT diagonalises a circulant
matrix, so its eigenvalues are the FFT of that first row. When they are all
nonnegative, X = C^(1/2) xi = irfft(sqrt(lambda) * rfft(xi)) (xi white noise)
has covariance exactly C, and its restriction to the original grid has
exactly the wanted covariance: the method is exact in distribution, not a
truncation. Long, smooth covariances give some negative eigenvalues; then the
periodic grid is enlarged (:func:`find_embedding`) until clipping them to zero
changes no grid covariance by more than a tolerance.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

_BLOCK_BYTES = 32 * 2 ** 20  # noise transformed per FFT batch, to bound memory


def grid_geometry(axes: Sequence) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Node counts and spacings of uniform, increasing 1-D node arrays; ValueError otherwise."""
    if len(axes) == 0:
        raise ValueError("a field needs at least one axis")
    counts, spacings = [], []
    for index, axis in enumerate(axes):
        nodes = np.asarray(axis, dtype=np.float64)
        if nodes.ndim != 1 or nodes.size == 0 or not np.all(np.isfinite(nodes)):
            raise ValueError(f"axis {index} must be a nonempty 1-D array of finite node coordinates")
        steps = np.diff(nodes)
        spacing = float(steps.mean()) if steps.size else 1.0
        if steps.size and (spacing <= 0 or not np.allclose(steps, spacing, rtol=1e-6, atol=0)):
            raise ValueError(f"axis {index} must be a uniform, increasing grid (steps {steps.min()}..{steps.max()})")
        counts.append(nodes.size)
        spacings.append(spacing)
    return tuple(counts), tuple(spacings)


def fast_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n (and >= 1), a length the FFT handles quickly."""
    m = max(int(n), 1)
    while True:
        rest = m
        for factor in (2, 3, 5):
            while rest % factor == 0:
                rest //= factor
        if rest == 1:
            return m
        m += 1


def find_embedding(covariance: Callable[[np.ndarray], np.ndarray], counts: Sequence[int], spacings: Sequence[float],
                   scale: float, tolerance: float, max_size: int) -> "CirculantEmbedding":
    """The smallest tried embedding whose ``covariance_error`` is <= ``tolerance``, else the largest tried.

    Padding is added in physical units, the same on every axis (an isotropic
    covariance needs room for its tail whatever the axis length): none, then
    0.5, 0.75, 1.1, ... times ``scale`` (the correlation length), growing by
    1.5x, while the periodic grid stays within ``max_size`` nodes.
    """
    padding, best = 0.0, None
    while True:
        shape = tuple(fast_length(2 * (n - 1) + math.ceil(padding / h)) if n > 1 else 1
                      for n, h in zip(counts, spacings))
        if best is not None and math.prod(shape) > max_size:
            return best
        if best is None or shape != best.padded_shape:
            best = CirculantEmbedding(covariance, counts, spacings, shape)
            if best.covariance_error <= tolerance:
                return best
        padding = 0.5 * scale if padding == 0 else 1.5 * padding


class CirculantEmbedding:
    """Square-root spectrum of a covariance embedded on the periodic grid ``padded_shape``.

    ``covariance_error`` is the largest change of a covariance between grid
    nodes caused by clipping negative eigenvalues to zero (measured exactly,
    by transforming the clipped spectrum back), so samples have the wanted
    covariance up to that absolute error.
    """

    method = "circulant embedding"

    def __init__(self, covariance: Callable[[np.ndarray], np.ndarray], counts: Sequence[int],
                 spacings: Sequence[float], padded_shape: Sequence[int]):
        self.shape = tuple(int(c) for c in counts)
        self.padded_shape = tuple(int(m) for m in padded_shape)
        first_row = self._first_row(covariance, spacings)
        eigenvalues = np.fft.rfftn(first_row).real  # the row is real and even, so its DFT is real
        clipped = np.clip(eigenvalues, 0.0, None)
        realised = np.fft.irfftn(clipped, s=self.padded_shape, axes=tuple(range(len(self.padded_shape))))
        grid_lags = tuple(slice(0, n) for n in self.shape)
        self.covariance_error = float(np.abs(realised[grid_lags] - first_row[grid_lags]).max())
        self.min_eigenvalue_ratio = float(eigenvalues.min() / eigenvalues.max()) if eigenvalues.max() > 0 else 0.0
        self.sqrt_eigenvalues = np.sqrt(clipped)

    def _first_row(self, covariance, spacings) -> np.ndarray:
        """Covariances at every lag of the periodic grid, computed once per folded lag |j| <= M/2."""
        folded = [np.arange(m // 2 + 1) * h for m, h in zip(self.padded_shape, spacings)]
        squared = sum(np.meshgrid(*[lag ** 2 for lag in folded], indexing="ij", sparse=True))
        values = covariance(np.sqrt(squared))
        unfold = [np.minimum(np.arange(m), m - np.arange(m)) for m in self.padded_shape]
        return values[np.ix_(*unfold)]

    def sample(self, generators: Sequence[np.random.Generator]) -> np.ndarray:
        """One zero-mean sample per generator, shape (len(generators), *shape), float64."""
        out = np.empty((len(generators),) + self.shape)
        block = max(1, _BLOCK_BYTES // (8 * math.prod(self.padded_shape)))
        axes = tuple(range(1, len(self.shape) + 1))
        crop = (slice(None),) + tuple(slice(0, n) for n in self.shape)
        for start in range(0, len(generators), block):
            chunk = generators[start:start + block]
            noise = np.empty((len(chunk),) + self.padded_shape)
            for row, rng in zip(noise, chunk):
                rng.standard_normal(out=row)
            spectrum = np.fft.rfftn(noise, axes=axes) * self.sqrt_eigenvalues
            out[start:start + len(chunk)] = np.fft.irfftn(spectrum, s=self.padded_shape, axes=axes)[crop]
        return out
