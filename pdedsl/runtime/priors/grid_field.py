"""Evaluating sampled grid fields at arbitrary points, in torch.

Continuous fields are interpolated multilinearly (differentiable in the
points, so autograd gives the slope of the interpolant); two-phase fields take
the value of the nearest node, so the phases keep their two values and sharp
interfaces. Points outside the grid's box are clamped onto it (constant
extrapolation). Work is vectorised over points and samples; the only Python
loop is over the 2^d corners of a cell.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

import numpy as np
import torch

Points = Union[torch.Tensor, Mapping[str, torch.Tensor]]


class GridField(torch.nn.Module):
    """One sampled field, or a batch of them, on the grid ``axes``, callable at points.

    ``values`` has shape ``(nx, ny, ...)`` or ``(B, nx, ny, ...)``; ``axes``
    are increasing 1-D node arrays (uniform or not). Call with an ``[N, d]`` or
    ``[B, N, d]`` tensor, or with a dict ``name -> [N] or [B, N]`` tensor when
    ``names`` are given. The result is ``[N]`` for one field at shared points,
    else ``[B, N]`` (a batch of fields at shared points, or field ``b`` at the
    points ``b``). ``piecewise_constant=True`` selects nearest-node values.
    """

    def __init__(self, axes: Sequence, values, names: Optional[Sequence[str]] = None,
                 piecewise_constant: bool = False):
        super().__init__()
        grids = [np.asarray(a, dtype=np.float64) for a in axes]
        if not grids:
            raise ValueError("a grid field needs at least one axis")
        shape = tuple(len(g) for g in grids)
        values = torch.as_tensor(np.asarray(values, dtype=np.float64))
        if values.shape[-len(grids):] != shape or values.ndim not in (len(grids), len(grids) + 1):
            raise ValueError(f"values of shape {tuple(values.shape)} do not fit a grid of shape {shape}")
        if any(g.ndim != 1 or g.size == 0 or np.any(np.diff(g) <= 0) for g in grids):
            raise ValueError("grid axes must be nonempty, strictly increasing 1-D arrays")
        if names is not None and len(names) != len(grids):
            raise ValueError(f"{len(names)} axis names for {len(grids)} axes")
        self.names = tuple(names) if names is not None else None
        self.shape = shape
        self.batched = values.ndim == len(grids) + 1
        self.piecewise_constant = bool(piecewise_constant)
        for index, grid in enumerate(grids):
            self.register_buffer(f"grid_{index}", torch.as_tensor(grid))
        strides = np.cumprod((1,) + shape[:0:-1])[::-1].copy()  # row-major strides of the grid
        self.register_buffer("strides", torch.as_tensor(strides, dtype=torch.long))
        self.register_buffer("flat_values", values.reshape(-1 if self.batched else 1, int(np.prod(shape))))

    def grids(self) -> list[torch.Tensor]:
        """The node arrays, as stored buffers."""
        return [getattr(self, f"grid_{i}") for i in range(len(self.shape))]

    def forward(self, points: Points, rows: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The field(s) at ``points``; ``rows`` picks some fields of a batch (e.g. one training mini-batch)."""
        coordinates = self._coordinates(points)
        dtype = coordinates[0].dtype if coordinates[0].is_floating_point() else torch.float64
        values = self.flat_values
        if rows is not None:  # pick the rows before converting: the pool may hold 10^4-10^5 members
            values = values[rows.to(values.device)]
        values = values.to(dtype)
        cells = [locate_cells(grid.to(dtype), x.to(dtype)) for grid, x in zip(self.grids(), coordinates)]
        if self.piecewise_constant:
            index = sum(torch.where(f >= 0.5, upper, lower) * s
                        for (lower, upper, f), s in zip(cells, self.strides))
            # zero slope, but connected to the points so autograd.grad gives zeros instead of failing
            anchor = sum(x.to(dtype) for x in coordinates) * 0
            return self._lookup(values, index) + anchor
        result = 0
        for corner in range(2 ** len(cells)):
            weight, index = 1, 0
            for dim, ((lower, upper, f), s) in enumerate(zip(cells, self.strides)):
                take_upper = (corner >> dim) & 1
                weight = weight * (f if take_upper else 1 - f)
                index = index + (upper if take_upper else lower) * s
            result = result + weight * self._lookup(values, index)
        return result

    def _coordinates(self, points: Points) -> list[torch.Tensor]:
        """Per-axis coordinate tensors, each [N] or [B, N]."""
        if isinstance(points, Mapping):
            if self.names is None:
                raise ValueError("GridField was built without axis names; pass points as an [N, d] tensor")
            missing = [n for n in self.names if n not in points]
            if missing:
                raise ValueError(f"points lack the axes {missing}")
            return [torch.as_tensor(points[n]) for n in self.names]
        points = torch.as_tensor(points)
        if points.ndim not in (2, 3) or points.shape[-1] != len(self.shape):
            raise ValueError(f"points must be [N, {len(self.shape)}] or [B, N, {len(self.shape)}], "
                             f"got {tuple(points.shape)}")
        return list(points.unbind(-1))

    def _lookup(self, values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """``values`` [B or 1, P] at flat node indices ``index`` [N] or [B, N]."""
        if index.ndim == 1:
            picked = values[:, index]
            return picked if self.batched else picked[0]
        batch = max(values.shape[0], index.shape[0])
        return torch.gather(values.expand(batch, -1), 1, index.expand(batch, -1))


def locate_cells(grid: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each x (clamped to the grid): the cell's lower and upper node indices and the fraction across it."""
    if grid.numel() == 1:
        zero = torch.zeros(x.shape, dtype=torch.long, device=x.device)
        return zero, zero, x * 0
    x = x.clamp(grid[0], grid[-1])
    lower = (torch.searchsorted(grid, x.detach().contiguous(), right=True) - 1).clamp(0, grid.numel() - 2)
    fraction = (x - grid[lower]) / (grid[lower + 1] - grid[lower])
    return lower, lower + 1, fraction
