"""A convolutional encoder for inputs sampled on the sensor grid (DGNO's ``encoder="cnn"``).

An MLP encoder reads the grid as a flat vector, so it must learn from data
that neighbouring nodes belong together; a convolution knows it. The stack
here halves the grid per layer (kernel 5, stride 2, zero padding 2) until a
side has at most 4 nodes (at most 3 layers; 29 -> 15 -> 8 -> 4 in 2-D),
with 32 channels, then 64, then flattens; the random
params (standardised) are appended to the flat features, and the encoder's
fully connected layers follow as for the MLP encoder. It works on 1-, 2- and
3-D grids (``Conv1d``/``2d``/``3d``). Weights are Glorot-uniform from the
backend's seeded generator, so the same seed gives the same network.
"""

from __future__ import annotations

import math

import torch

from .base import BackendError

KERNEL, STRIDE, PADDING = 5, 2, 2
SMALLEST_SIDE = 4  # stop halving once a side is this short
MAX_LAYERS = 3
FIRST_CHANNELS = 32
_CONVOLUTIONS = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}


def _halved(side: int) -> int:
    return (side + 2 * PADDING - KERNEL) // STRIDE + 1


class ConvEncoder(torch.nn.Module):
    """Convolutions over ``channels`` input fields on a grid of ``shape``; ``features`` gives flat vectors."""

    def __init__(self, channels: int, shape: tuple[int, ...], generator: torch.Generator):
        super().__init__()
        if len(shape) not in _CONVOLUTIONS:
            raise BackendError(f"the cnn encoder reads grids of 1 to 3 axes, not {len(shape)}; use --encoder mlp")
        if channels < 1:
            raise BackendError("the cnn encoder reads inputs sampled on the grid, and this problem has none (only "
                               "random params); use --encoder mlp")
        convolution = _CONVOLUTIONS[len(shape)]
        layers, sizes = [], list(shape)
        width_in, width_out = channels, FIRST_CHANNELS
        while len(layers) < MAX_LAYERS and (not layers or min(sizes) > SMALLEST_SIDE):
            layers.append(convolution(width_in, width_out, KERNEL, stride=STRIDE, padding=PADDING))
            sizes = [_halved(s) for s in sizes]
            width_in, width_out = width_out, min(2 * width_out, 2 * FIRST_CHANNELS)
        self.layers = torch.nn.ModuleList(layers)
        self.shape = tuple(shape)
        self.out_features = width_in * math.prod(sizes)
        for layer in self.layers:
            receptive = KERNEL ** len(shape)
            bound = (6.0 / (layer.in_channels * receptive + layer.out_channels * receptive)) ** 0.5
            with torch.no_grad():
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.zero_()

    def features(self, grid: torch.Tensor, activation) -> torch.Tensor:
        """``[B, out_features]`` from standardised inputs ``[B, channels, *shape]``."""
        x = grid
        for layer in self.layers:
            x = activation(layer(x))
        return x.flatten(1)
