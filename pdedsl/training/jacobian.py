"""Jacobians of residual rows with respect to a network's parameters, for Gauss-Newton methods.

Every residual row depends on the network only through the network's
outputs (values and derivative jets) at that row's own points: a point of
the strong form, the quadrature points of one test ball, a periodic pair.
So the Jacobian factors through the outputs:

    dr_i / dtheta = sum over the row's points p and output components c of
                    (dr_i / dout_pc) * (dout_pc / dtheta)

:class:`OutputCapture` replaces the network's outputs by leaf tensors while the
objective evaluates its rows. One ordinary backward pass per loss term then
gives every ``dr_i / dout_pc`` at once (rows do not share points), and
``torch.func.vmap(jacrev(...))`` over the captured points gives the
per-point output Jacobians ``dout_pc / dtheta`` of the bare network (the
elementwise jet node is written for torch.func; runtime/jet_map.py). The
rest of the residual (hard constraints, coefficients, interpolated data,
test functions) is differentiated by plain autograd and may use anything.

A row owns a contiguous block of the points of each network call: one
point per row in the strong form, ``n / rows`` consecutive points per row
(a test ball's quadrature points) in the weak form.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch.func import functional_call, jacrev, vmap

from ..runtime.jets import Jet


@dataclass
class _Call:
    """One evaluation of the network: its points, and leaves standing for its outputs."""

    coordinates: dict
    table: object  # the jet table, or None for a plain evaluation
    axes: tuple
    layout: list = field(default_factory=list)  # (name, part index, components) in output order
    leaves: list = field(default_factory=list)


class _Bare(torch.nn.Module):
    """The network as a module whose forward is its jets (so functional_call can swap parameters)."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, coordinates, table, axes):
        if table is None:
            return self.network.__class__.forward(self.network, coordinates)
        return self.network.__class__.jets(self.network, coordinates, table, axes)


class OutputCapture:
    """While active, ``network``'s forward and jets return leaves; :meth:`jacobian` assembles rows."""

    def __init__(self, network: torch.nn.Module):
        self.network = network
        self.bare = _Bare(network)
        self.names = [name for name, _ in network.named_parameters()]
        self.calls: list[_Call] = []

    @contextmanager
    def active(self):
        self.calls = []
        network = self.network
        network.forward = self._forward
        network.jets = self._jets
        try:
            yield self
        finally:
            del network.forward, network.jets

    # ---- the captured evaluations ----
    def _forward(self, coordinates, *conditions):
        if conditions:
            raise ValueError("Gauss-Newton methods need a network of the coordinates alone (the PINN backend)")
        with torch.no_grad():
            values = type(self.network).forward(self.network, coordinates)
        call = self._record(coordinates, None, ())
        out = {}
        for name, value in values.items():
            leaf = self._leaf(call, name, 0, value.detach().reshape(1, -1))
            out[name] = leaf[0]
        return out

    def _jets(self, coordinates, table, axes, *conditions):
        if conditions:
            raise ValueError("Gauss-Newton methods need a network of the coordinates alone (the PINN backend)")
        with torch.no_grad():
            jets = type(self.network).jets(self.network, coordinates, table, axes)
        call = self._record(coordinates, table, tuple(axes))
        count = next(iter(coordinates.values())).shape[0]
        out = {}
        for name, jet in jets.items():
            parts = []
            for index, part in enumerate(jet.parts):
                if part is None:
                    parts.append(None)
                    continue
                # a part the same at every point (broadcast) gets one column per point: rows own their points
                full = part.detach().expand(part.shape[:-1] + (count,)) if index else part.detach()
                leaf = self._leaf(call, name, index, full.reshape(-1, count))
                parts.append(leaf.reshape(full.shape) if index else leaf[0])
            out[name] = Jet(table, parts)
        return out

    def _record(self, coordinates, table, axes) -> _Call:
        call = _Call({a: t.detach() for a, t in coordinates.items()}, table, axes)
        self.calls.append(call)
        return call

    @staticmethod
    def _leaf(call: _Call, name: str, index: int, values: torch.Tensor) -> torch.Tensor:
        leaf = values.clone().requires_grad_(True)  # [components, points]
        call.layout.append((name, index, leaf.shape[0]))
        call.leaves.append(leaf)
        return leaf

    # ---- the Jacobian ----
    def jacobian(self, rows: torch.Tensor) -> torch.Tensor:
        """``d rows / d parameters`` as a ``[len(rows), parameters]`` matrix (rows from one capture)."""
        leaves = [leaf for call in self.calls for leaf in call.leaves]
        grads = torch.autograd.grad(rows.sum(), leaves, allow_unused=True, retain_graph=True)
        count = rows.numel()
        total = sum(p.numel() for p in self.network.parameters())
        jacobian = rows.new_zeros((count, total))
        position = 0
        for call in self.calls:
            mine = grads[position:position + len(call.leaves)]
            position += len(call.leaves)
            if all(g is None for g in mine):
                continue
            sensitivity = torch.cat([(g if g is not None else torch.zeros_like(leaf)).T
                                     for g, leaf in zip(mine, call.leaves)], dim=1)  # [points, components]
            per_point = torch.einsum("nc,ncp->np", sensitivity, self._output_jacobian(call))
            points = per_point.shape[0]
            if points % count:
                raise ValueError(f"{points} evaluated points do not split evenly into {count} residual rows")
            jacobian += per_point.reshape(count, points // count, total).sum(1)
        return jacobian

    def _output_jacobian(self, call: _Call) -> torch.Tensor:
        """``[points, components, parameters]``: every captured output's derivative at every point."""
        parameters = {name: p.detach() for name, p in self.network.named_parameters()}

        def outputs(params, point):
            single = {a: v.reshape(1) for a, v in point.items()}
            result = functional_call(self.bare, {f"network.{k}": v for k, v in params.items()},
                                     (single, call.table, call.axes))
            flat = []
            for name, index, components in call.layout:
                value = result[name]
                part = value if call.table is None else value.parts[index]
                flat.append(part.reshape(-1))
            return torch.cat(flat)

        per_point = vmap(jacrev(outputs), in_dims=(None, 0))(parameters, call.coordinates)
        return torch.cat([per_point[name].reshape(per_point[name].shape[:2] + (-1,)) for name in self.names], dim=2)
