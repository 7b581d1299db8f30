"""The FNO backend: a Fourier neural operator from inputs on the sensor grid to fields on that grid.

A Fourier neural operator (Li et al. 2021) reads a problem member's inputs
on the space grid (each input a channel, each random param a constant
channel, plus the grid coordinates mapped to [-1, 1]), lifts them pointwise
to ``width`` channels, and passes them through Fourier layers: a convolution
done in frequency space on the lowest ``modes`` frequencies of each axis,
plus a pointwise linear skip. Because the learned weights act on
frequencies, not on grid cells, the same network reads grids of other
resolutions. The fields come out on the grid nodes; :meth:`FNO.forward`
interpolates them multilinearly to any points, differentiably, so the
physics losses can take first derivatives by autograd. Spectral weights are
stored as real (real, imaginary) pairs: ``module.to(float64)`` would drop
the imaginary part of complex parameters.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from ..ir.problem import Problem
from ..runtime.priors.grid_field import locate_cells
from .base import BackendError, glorot_uniform, register
from .operator import OperatorBackend, OperatorInputs, SensorLayout
from .pinn import ACTIVATIONS

PROJECTION_WIDTH = 128  # hidden width of the pointwise projection back to the fields


def _pointwise(layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """``layer`` applied at every grid node of ``x`` (``[B, C, *shape]``, channels first)."""
    return layer(x.movedim(1, -1)).movedim(-1, 1)


class SpectralConvolution(torch.nn.Module):
    """A convolution on a ``d``-dimensional grid, done as a product on its lowest frequencies.

    ``kept[i]`` is how many frequencies of axis ``i`` the weights act on: on
    the last axis (a real FFT) the first ``kept[-1]``; on the others the first
    and last ``kept[i] // 2`` (positive and negative frequencies), or all of
    them when ``kept[i]`` is the axis length. Other frequencies are zeroed.
    """

    def __init__(self, width: int, kept: tuple[int, ...], generator: torch.Generator):
        super().__init__()
        self.kept = kept
        scale = 1.0 / (width * width)
        self.weight = torch.nn.Parameter(scale * torch.rand(width, width, *kept, 2, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = tuple(x.shape[2:])
        dims = tuple(range(2, x.dim()))
        if x.dtype == torch.bfloat16:  # under autocast: FFTs run in float32
            x = x.float()
        spectrum = torch.fft.rfftn(x, dim=dims)
        low = spectrum[..., :self.kept[-1]]
        for dim, (n, k) in enumerate(zip(shape[:-1], self.kept[:-1]), start=2):
            if k < n:
                low = torch.cat([low.narrow(dim, 0, k // 2), low.narrow(dim, n - k // 2, k // 2)], dim=dim)
        weight = torch.view_as_complex(self.weight.to(x.dtype))
        mixed = torch.einsum("bi...,io...->bo...", low, weight)
        for dim, (n, k) in enumerate(zip(shape[:-1], self.kept[:-1]), start=2):
            if k < n:
                gap = list(mixed.shape)
                gap[dim] = n - k
                zeros = mixed.new_zeros(gap)
                mixed = torch.cat([mixed.narrow(dim, 0, k // 2), zeros, mixed.narrow(dim, k // 2, k // 2)], dim=dim)
        pad = list(mixed.shape)
        pad[-1] = shape[-1] // 2 + 1 - self.kept[-1]
        mixed = torch.cat([mixed, mixed.new_zeros(pad)], dim=-1)
        return torch.fft.irfftn(mixed, s=shape, dim=dims)


@register("fno")
class FNO(OperatorBackend):
    """Lifting, ``depth`` Fourier layers and a pointwise projection, on the sensor grid."""

    activations = tuple(ACTIVATIONS)
    multilinear = True  # second derivatives of the interpolated fields vanish: weak form or labels only

    def __init__(self, problem: Problem, layout: SensorLayout, width: int = 32, depth: int = 4, modes: int = 12,
                 activation: str = "gelu", seed: int = 0, auxiliary: tuple = (), **unused):
        if unused:
            raise BackendError(f"the fno backend has no option(s) {', '.join(sorted(unused))} "
                               f"(its options: width, depth, modes, activation, seed)")
        if problem.time is not None:
            raise BackendError("the fno backend maps inputs on a space grid to fields on that grid; "
                               "time-dependent problems need deeponet, multionet or dgno")
        super().__init__(problem, layout, auxiliary=auxiliary, width=width, depth=depth, modes=modes,
                         activation=activation, seed=seed)
        if activation not in ACTIVATIONS:
            raise BackendError(f"unknown activation '{activation}' (available: {', '.join(sorted(ACTIVATIONS))})")
        for option, value in (("width", width), ("depth", depth), ("modes", modes)):
            if int(value) != value or value < 1:
                raise BackendError(f"the fno backend's {option} must be a positive integer, got {value}")
        if tuple(layout.axis_names) != tuple(problem.axes):
            raise BackendError(f"the sensor grid's axes ({', '.join(layout.axis_names)}) are not the problem's "
                               f"space axes ({', '.join(problem.axes)})")
        for axis, nodes in layout.nodes().items():
            if nodes.ndim != 1 or nodes.size == 0 or np.any(np.diff(nodes) <= 0):
                raise BackendError(f"the sensor grid's nodes on axis '{axis}' must be nonempty and increasing")
        self.activation = ACTIVATIONS[activation]
        with torch.device("cpu"):  # built on the CPU whatever the default device; training moves it
            self._build(layout, int(width), int(depth), int(modes), seed)

    def _build(self, layout: SensorLayout, width: int, depth: int, modes: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        shape = layout.shape
        nodes = [torch.tensor(n, dtype=torch.get_default_dtype()) for n in layout.nodes().values()]
        for index, grid in enumerate(nodes):
            self.register_buffer(f"nodes_{index}", grid)
        scaled = [(g - (g[0] + g[-1]) / 2) / max(float(g[-1] - g[0]) / 2, 1e-12) for g in nodes]
        self.register_buffer("coordinate_grid", torch.stack(torch.meshgrid(*scaled, indexing="ij")))
        # the Fourier layers work on a grid padded at the far end of every axis: the domain is not periodic,
        # and the padded sizes have small prime factors (29 nodes pad to 32; the FFT of a prime size is slow)
        self.padded = tuple(padded_size(n) for n in shape)
        # frequencies kept per axis: both ends of the full FFT axes, the start of the last (real FFT) axis
        kept = tuple(min(n, 2 * modes) for n in self.padded[:-1]) + (min(self.padded[-1] // 2 + 1, modes),)
        channels = len(layout.channels) + len(layout.scalars) + len(shape)
        self.lift = glorot_uniform(torch.nn.Linear(channels, width), generator)
        self.spectral = torch.nn.ModuleList(SpectralConvolution(width, kept, generator) for _ in range(depth))
        self.skips = torch.nn.ModuleList(glorot_uniform(torch.nn.Linear(width, width), generator) for _ in range(depth))
        self.project = glorot_uniform(torch.nn.Linear(width, PROJECTION_WIDTH), generator)
        self.output = glorot_uniform(torch.nn.Linear(PROJECTION_WIDTH, len(self.output_names)), generator)

    def grid_nodes(self) -> list[torch.Tensor]:
        """The sensor grid's node arrays, one per space axis, as stored buffers."""
        return [getattr(self, f"nodes_{i}") for i in range(len(self.layout.shape))]

    def _channels(self, inputs: OperatorInputs) -> torch.Tensor:
        """``[B, C + S + d, *shape]``: standardised inputs, scalars as constant channels, coordinates."""
        dtype = self.lift.weight.dtype
        inputs = self.standardise(inputs.to(dtype=dtype))
        batch, shape = len(inputs), self.layout.shape
        parts = []
        if inputs.grid is not None:
            if tuple(inputs.grid.shape[1:]) != (len(self.layout.channels),) + shape:
                raise BackendError(f"inputs on the grid have shape {tuple(inputs.grid.shape)}, expected "
                                   f"[B, {len(self.layout.channels)}, {', '.join(map(str, shape))}]")
            parts.append(inputs.grid)
        if inputs.scalars is not None:
            parts.append(inputs.scalars.reshape(batch, -1, *(1,) * len(shape)).expand(-1, -1, *shape))
        parts.append(self.coordinate_grid.to(dtype).expand(batch, *self.coordinate_grid.shape))
        return torch.cat(parts, dim=1)

    def grid_forward(self, inputs: OperatorInputs) -> torch.Tensor:
        """``[B, len(output_names), *layout.shape]``: every output at every sensor grid node."""
        x = _pointwise(self.lift, self._channels(inputs))
        shape = self.layout.shape
        padding = [p for n, m in zip(reversed(shape), reversed(self.padded)) for p in (0, m - n)]
        x = torch.nn.functional.pad(x, padding)
        for index, (spectral, skip) in enumerate(zip(self.spectral, self.skips)):
            x = spectral(x) + _pointwise(skip, x)
            if index < len(self.spectral) - 1:
                x = self.activation(x)
        x = x[(slice(None), slice(None)) + tuple(slice(0, n) for n in shape)]
        x = self.activation(_pointwise(self.project, x))
        return _pointwise(self.output, x)

    def forward(self, coordinates: Mapping[str, torch.Tensor], inputs: OperatorInputs) -> dict[str, torch.Tensor]:
        """``{output: [B, n]}`` at the points ``coordinates`` (each ``[n]``, ``[1, n]`` or ``[B, n]``).

        The grid outputs are interpolated multilinearly: exact at the nodes,
        differentiable in the points and the network, clamped outside the grid.
        """
        values = self.grid_forward(inputs)
        batch, outputs = values.shape[:2]
        flat = values.reshape(batch, outputs, -1)
        points = []
        for axis in self.layout.axis_names:
            x = torch.as_tensor(coordinates[axis]).to(values.dtype)
            x = x.reshape(1, -1) if x.dim() <= 1 else x
            if x.dim() != 2 or x.shape[0] not in (1, batch):
                raise BackendError(f"coordinate '{axis}' has shape {tuple(x.shape)}; expected [n], [1, n] "
                                   f"or [{batch}, n]")
            points.append(x)
        count = max(p.shape[1] for p in points)
        cells = [locate_cells(grid.to(values.dtype), x) for grid, x in zip(self.grid_nodes(), points)]
        strides = np.cumprod((1,) + self.layout.shape[:0:-1])[::-1]
        result = 0
        for corner in range(2 ** len(cells)):
            weight, index = 1, 0
            for dim, ((lower, upper, fraction), stride) in enumerate(zip(cells, strides)):
                upper_side = (corner >> dim) & 1
                weight = weight * (fraction if upper_side else 1 - fraction)
                index = index + (upper if upper_side else lower) * int(stride)
            picked = torch.gather(flat, 2, index.expand(batch, count).unsqueeze(1).expand(batch, outputs, count))
            result = result + weight.unsqueeze(1) * picked
        return {name: result[:, i] for i, name in enumerate(self.output_names)}


def padded_size(n: int) -> int:
    """The smallest size of at least ``n + max(2, n // 8)`` with no prime factor above 5 (a fast FFT size)."""
    size = n + max(2, n // 8)
    while True:
        rest = size
        for prime in (2, 3, 5):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return size
        size += 1
