"""Argument checks and seed handling shared by the prior samplers.

Parameters arrive from a parsed spec (Python, NumPy or SymPy numbers), so each
check converts to ``float`` and turns anything unusable into a ``ValueError``
that names the prior and the parameter, which is what a spec author needs to
see.
"""

from __future__ import annotations

import math
from typing import Sequence, Union

import numpy as np

Seed = Union[None, int, Sequence[int], np.random.SeedSequence, np.random.Generator]


def number(owner: str, name: str, value) -> float:
    """``value`` as a finite float, or a ValueError naming ``owner``'s parameter ``name``."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(result):
        raise ValueError(f"{owner}: {name} must be finite, got {result}")
    return result


def positive(owner: str, name: str, value) -> float:
    """``value`` as a float that is > 0 (lengths, smoothness)."""
    result = number(owner, name, value)
    if result <= 0:
        raise ValueError(f"{owner}: {name} must be > 0, got {result}")
    return result


def nonnegative(owner: str, name: str, value) -> float:
    """``value`` as a float that is >= 0 (a variance or standard deviation may be zero: a point mass)."""
    result = number(owner, name, value)
    if result < 0:
        raise ValueError(f"{owner}: {name} must be >= 0, got {result}")
    return result


def count(n) -> int:
    """The number of samples asked for, as a nonnegative int."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"number of samples must be a nonnegative int, got {n!r}")
    return int(n)


def generator(seed: Seed) -> np.random.Generator:
    """One generator for ``seed`` (an existing Generator is used as is, so it advances)."""
    return np.random.default_rng(seed)


def generators(seed: Seed, n: int) -> list[np.random.Generator]:
    """``n`` independent generators, the i-th depending only on ``seed`` and ``i``.

    Drawing sample ``i`` from its own child stream makes it independent of how
    many samples are drawn in the same call (sample ``i`` of a batch of ``n`` is
    sample ``i`` of any larger batch) and of the grid size used for the others.
    A Generator or SeedSequence passed in is stateful: each call spawns fresh
    children, so repeated calls give new samples.
    """
    if isinstance(seed, np.random.Generator):
        return seed.spawn(n)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [np.random.default_rng(child) for child in root.spawn(n)]
