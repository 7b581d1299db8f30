"""What every operator backend shares: the sampled inputs it is conditioned on, and their normalisation.

An operator backend learns a whole family of problems: given one member's
random inputs, it returns that member's fields. A member is described by an
:class:`OperatorInputs`: its inputs that vary from member to member
(``input a ~ ...``, and formula inputs of random params or inputs, not of time) sampled on a
fixed *sensor grid* (``grid``, ``[B, C, n1, ..., nd]``, one channel per
input), and its random params (``scalars``, ``[B, S]``). The
:class:`SensorLayout` names the channels and the grid.

``forward(coordinates, inputs)`` maps coordinate tensors (each ``[n]`` or
``[1, n]``: the same points for every member) to fields of shape ``[B, n]``.
Inputs are standardised with the mean and spread of the training pool
(``set_normalisation``); they are buffers, so they travel in checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np
import torch

from ..ir.problem import Problem
from .base import Backend, BackendError


@dataclass(frozen=True)
class SensorLayout:
    """Where an operator reads its inputs: grid nodes per space axis, input channels, scalar params."""

    axes: tuple[tuple[str, tuple[float, ...]], ...]  # ((axis, nodes), ...)
    channels: tuple[str, ...]  # inputs sampled on the grid, in channel order
    scalars: tuple[str, ...]  # random params, in column order

    @classmethod
    def of(cls, axes: Mapping[str, np.ndarray], channels, scalars) -> "SensorLayout":
        return cls(tuple((a, tuple(float(v) for v in np.asarray(nodes))) for a, nodes in axes.items()),
                   tuple(channels), tuple(scalars))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(nodes) for _, nodes in self.axes)

    @property
    def axis_names(self) -> tuple[str, ...]:
        return tuple(a for a, _ in self.axes)

    def nodes(self) -> dict[str, np.ndarray]:
        return {a: np.asarray(nodes) for a, nodes in self.axes}

    @property
    def sensor_count(self) -> int:
        """Length of the flat vector a branch network reads: every channel at every node, then the scalars."""
        return len(self.channels) * int(np.prod(self.shape)) + len(self.scalars)


@dataclass
class OperatorInputs:
    """A batch of ``B`` problem members: inputs on the sensor grid and random params."""

    grid: Optional[torch.Tensor]  # [B, C, *shape] or None (no varying inputs)
    scalars: Optional[torch.Tensor]  # [B, S] or None (no random params)

    def __len__(self) -> int:
        reference = self.grid if self.grid is not None else self.scalars
        return 0 if reference is None else int(reference.shape[0])

    def select(self, index) -> "OperatorInputs":
        return OperatorInputs(None if self.grid is None else self.grid[index],
                              None if self.scalars is None else self.scalars[index])

    def to(self, device=None, dtype=None) -> "OperatorInputs":
        return OperatorInputs(None if self.grid is None else self.grid.to(device, dtype),
                              None if self.scalars is None else self.scalars.to(device, dtype))

    def flat(self) -> torch.Tensor:
        """``[B, sensor_count]``: every channel at every node, then the scalars."""
        parts = []
        if self.grid is not None:
            parts.append(self.grid.reshape(self.grid.shape[0], -1))
        if self.scalars is not None:
            parts.append(self.scalars)
        return torch.cat(parts, dim=1)


class OperatorBackend(Backend):
    """Base of the operator backends: conditions on :class:`OperatorInputs`, standardises them."""

    is_operator = True
    multilinear = False  # True when fields are interpolated between grid nodes (no second derivatives)

    def __init__(self, problem: Problem, layout: SensorLayout, auxiliary: tuple = (), **options):
        super().__init__(problem, auxiliary=auxiliary, **options)
        if not self.field_names:
            raise BackendError("the problem has no fields to learn")
        if not layout.channels and not layout.scalars:
            raise BackendError(f"the {self.name} backend learns a family of problems, but problem "
                               f"'{problem.name}' has no random inputs or params; use the pinn backend")
        self.layout = layout
        channels, scalars = max(len(layout.channels), 1), max(len(layout.scalars), 1)
        self.register_buffer("grid_mean", torch.zeros(channels))
        self.register_buffer("grid_scale", torch.ones(channels))
        self.register_buffer("scalar_mean", torch.zeros(scalars))
        self.register_buffer("scalar_scale", torch.ones(scalars))

    def set_normalisation(self, inputs: OperatorInputs) -> None:
        """Centre and scale every channel and scalar by the statistics of ``inputs`` (the training pool)."""
        with torch.no_grad():
            if inputs.grid is not None:
                dims = [0] + list(range(2, inputs.grid.dim()))
                self.grid_mean.copy_(inputs.grid.double().mean(dim=dims))
                self.grid_scale.copy_(inputs.grid.double().std(dim=dims).clamp_min(1e-8))
            if inputs.scalars is not None:
                self.scalar_mean.copy_(inputs.scalars.double().mean(dim=0))
                self.scalar_scale.copy_(inputs.scalars.double().std(dim=0).clamp_min(1e-8)
                                        if len(inputs) > 1 else torch.ones_like(self.scalar_scale))

    def standardise(self, inputs: OperatorInputs) -> OperatorInputs:
        """``inputs`` centred and scaled channel by channel (what the networks read)."""
        grid = scalars = None
        if inputs.grid is not None:
            view = (1, -1) + (1,) * (inputs.grid.dim() - 2)
            grid = (inputs.grid - self.grid_mean.to(inputs.grid.dtype).view(view)) / \
                self.grid_scale.to(inputs.grid.dtype).view(view)
        if inputs.scalars is not None:
            scalars = (inputs.scalars - self.scalar_mean.to(inputs.scalars.dtype)) / \
                self.scalar_scale.to(inputs.scalars.dtype)
        return OperatorInputs(grid, scalars)

    def forward(self, coordinates: Mapping[str, torch.Tensor], inputs: OperatorInputs) -> dict[str, torch.Tensor]:
        raise NotImplementedError
