"""Exact sampling of a Gaussian field on a small grid from the eigendecomposition of its covariance matrix.

The fallback for long correlation lengths, where a circulant embedding would
need a periodic grid many times larger than the field's grid: for up to a few
thousand nodes, one symmetric eigendecomposition C = V diag(lambda) V^T
(O(P^3), once per grid) and a matrix-vector product per sample (O(P^2)) are
cheaper. Each sample is its own product, of one fixed shape, so sample i does
not depend on how many were drawn with it to the last bit. (Padded 64-row
blocks gave the same guarantee, but ``draw_pool`` draws one member at a time
and paid for 64: ``benchmarks/pool_size.py`` measured 7.7 ms a member then,
1.9 ms now, on 29 x 29 nodes.) Roundoff can leave eigenvalues slightly
negative; they are clipped, which changes no covariance by more than the
largest of them (reported as ``covariance_error``). The eigendecomposition runs in torch, single-threaded:
at these sizes threads gain little, while on a machine whose cores are busy
threaded LAPACK (NumPy's or torch's) was seen to be ~80x slower (13 s instead
of 0.16 s for 841 nodes).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

class DenseEigenSampler:
    """Samples X = V diag(sqrt(lambda)) xi of the covariance matrix between all grid nodes."""

    method = "dense eigendecomposition"

    def __init__(self, covariance: Callable[[np.ndarray], np.ndarray], counts: Sequence[int],
                 spacings: Sequence[float]):
        self.shape = tuple(int(c) for c in counts)
        nodes = np.stack([g.ravel() for g in np.meshgrid(
            *[np.arange(n) * h for n, h in zip(counts, spacings)], indexing="ij")], axis=-1)
        distances = np.sqrt(((nodes[:, None, :] - nodes[None, :, :]) ** 2).sum(-1))
        eigenvalues, vectors = _eigh_single_threaded(torch.from_numpy(covariance(distances)))
        self.covariance_error = float(max(0.0, -eigenvalues.min().item()))
        self.factor = vectors * eigenvalues.clamp(min=0.0).sqrt()  # [P, P], columns scaled modes

    def sample(self, generators: Sequence[np.random.Generator]) -> np.ndarray:
        """One zero-mean sample per generator, shape (len(generators), *shape), float64."""
        n = len(generators)
        out = np.empty((n, self.factor.shape[0]))
        for row, rng in zip(out, generators):
            row[:] = torch.mv(self.factor, torch.from_numpy(rng.standard_normal(self.factor.shape[1]))).numpy()
        return out.reshape((n,) + self.shape)


def _eigh_single_threaded(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.linalg.eigh`` with torch's intra-op threads set to 1 meanwhile (restored afterwards)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return torch.linalg.eigh(matrix)
    finally:
        torch.set_num_threads(previous)
