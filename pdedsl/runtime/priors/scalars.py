"""Scalar priors ``uniform(low, high)`` and ``normal(mean, std)``.

``sample(n, seed)`` draws from one generator in sequence, so sample ``i`` of a
batch of ``n`` is sample ``i`` of any larger batch under the same seed.
"""

from __future__ import annotations

import numpy as np

from . import _checks


class ScalarPrior:
    """Base class: a distribution over one real number."""

    def sample(self, n: int, seed: _checks.Seed = None) -> np.ndarray:
        """``n`` independent draws, shape (n,), float64."""
        raise NotImplementedError

    @property
    def support(self) -> tuple[float, float]:
        """The smallest closed interval holding every draw (infinite ends where unbounded)."""
        return -np.inf, np.inf


class Uniform(ScalarPrior):
    """``uniform(low, high)`` on the interval [low, high)."""

    def __init__(self, low, high):
        self.low = _checks.number("uniform", "low", low)
        self.high = _checks.number("uniform", "high", high)
        if self.low >= self.high:
            raise ValueError(f"uniform: low must be < high, got low={self.low}, high={self.high}")

    def __repr__(self) -> str:
        return f"Uniform({self.low}, {self.high})"

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def sample(self, n, seed=None):
        return _checks.generator(seed).uniform(self.low, self.high, size=_checks.count(n))


class Normal(ScalarPrior):
    """``normal(mean, std)``; std = 0 is allowed (a point mass at ``mean``)."""

    def __init__(self, mean, std):
        self.mean = _checks.number("normal", "mean", mean)
        self.std = _checks.nonnegative("normal", "std", std)

    def __repr__(self) -> str:
        return f"Normal({self.mean}, {self.std})"

    def sample(self, n, seed=None):
        return self.mean + self.std * _checks.generator(seed).standard_normal(_checks.count(n))
