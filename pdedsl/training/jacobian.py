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
``torch.func.vmap(grad(...))`` over the rows' blocks of points gives the
gradient of each row's contraction ``sum_pc (dr_i / dout_pc) out_pc`` with
respect to the parameters of the bare network, ``vmap`` over rows (the
elementwise jet node is written for torch.func; runtime/jet_map.py). The
rest of the residual (hard constraints, coefficients, interpolated data,
test functions) is differentiated by plain autograd and may use anything.

A row owns a contiguous block of the points of each network call: one
point per row in the strong form, ``n / rows`` consecutive points per row
(a test ball's quadrature points) in the weak form.

Large draws are worked through in blocks of about :data:`CHUNK_POINTS`
points: the network's outputs without gradient tracking, and the rows'
gradients. The weak form's polish steps evaluate order-3 jets at over
100,000 quadrature points (plate bending), and whole-draw temporaries of
hundreds of megabytes cost more in page faults than in arithmetic
(``benchmarks/lm_step.py``).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch.func import functional_call, grad, vmap

from ..runtime.jets import Jet

CHUNK_POINTS = 4096  # points per block of work (a few megabytes per jet part in float64)


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
        """Capture: the network's outputs become leaves, for :meth:`jacobian`."""
        self.calls = []
        with self._replaced(self._forward, self._jets):
            yield self

    @contextmanager
    def evaluating(self):
        """Values only: the network is evaluated in blocks without gradient tracking (a trial step's loss)."""
        def forward(coordinates, *conditions):
            _refuse_conditions(conditions)
            return self._evaluate(coordinates, None, ())

        def jets(coordinates, table, axes, *conditions):
            _refuse_conditions(conditions)
            return self._evaluate(coordinates, table, tuple(axes))

        with self._replaced(forward, jets):
            yield self

    @contextmanager
    def _replaced(self, forward, jets):
        network = self.network
        network.forward, network.jets = forward, jets
        try:
            yield
        finally:
            del network.forward, network.jets

    def _evaluate(self, coordinates, table, axes) -> dict:
        """The network's plain outputs (``table`` None) or jets, detached, in blocks of :data:`CHUNK_POINTS`."""
        count = next(iter(coordinates.values())).shape[0]
        cls = type(self.network)
        pieces = []
        with torch.no_grad():
            for start in range(0, max(count, 1), CHUNK_POINTS):  # (no points: one empty block)
                block = {a: t[start:start + CHUNK_POINTS] for a, t in coordinates.items()}
                pieces.append(cls.forward(self.network, block) if table is None
                              else cls.jets(self.network, block, table, axes))
        if len(pieces) == 1:
            return pieces[0]
        counts = [min(CHUNK_POINTS, count - start) for start in range(0, count, CHUNK_POINTS)]
        return {name: _joined([piece[name] for piece in pieces], counts) for name in pieces[0]}

    # ---- the captured evaluations ----
    def _forward(self, coordinates, *conditions):
        _refuse_conditions(conditions)
        values = self._evaluate(coordinates, None, ())
        call = self._record(coordinates, None, ())
        out = {}
        for name, value in values.items():
            leaf = self._leaf(call, name, 0, value.detach().reshape(1, -1))
            out[name] = leaf[0]
        return out

    def _jets(self, coordinates, table, axes, *conditions):
        _refuse_conditions(conditions)
        jets = self._evaluate(coordinates, table, tuple(axes))
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
            points = sensitivity.shape[0]
            if points % count:
                raise ValueError(f"{points} evaluated points do not split evenly into {count} residual rows")
            jacobian += self._row_gradients(call, sensitivity.reshape(count, points // count, -1))
        return jacobian

    def _row_gradients(self, call: _Call, sensitivity: torch.Tensor) -> torch.Tensor:
        """``[rows, parameters]``: per row, the gradient of ``sum over its points and components of
        sensitivity * output``. One ``vmap`` over rows of ``grad`` over a row's own points, so no
        per-point output Jacobian is ever stored (a test ball's 40 points are contracted at once)."""
        parameters = {name: p.detach() for name, p in self.network.named_parameters()}
        rows, per = sensitivity.shape[:2]
        blocks = {a: v.reshape(rows, per) for a, v in call.coordinates.items()}

        def contracted(params, block, weights):
            result = functional_call(self.bare, {f"network.{k}": v for k, v in params.items()},
                                     (block, call.table, call.axes))
            flat = []
            for name, index, _components in call.layout:
                value = result[name]
                part = value if call.table is None else value.parts[index]
                flat.append(part.expand(part.shape[:-1] + (per,)).reshape(-1, per))
            return (torch.cat(flat).T * weights).sum()  # [per, components] against the sensitivities

        row_gradients = vmap(grad(contracted), in_dims=(None, 0, 0))
        chunk = max(1, CHUNK_POINTS // per)  # rows per block
        pieces = []
        for start in range(0, rows, chunk):
            gradients = row_gradients(parameters, {a: v[start:start + chunk] for a, v in blocks.items()},
                                      sensitivity[start:start + chunk])
            pieces.append(torch.cat([gradients[name].flatten(1) for name in self.names], dim=1))
        return torch.cat(pieces)


def _refuse_conditions(conditions) -> None:
    if conditions:
        raise ValueError("Gauss-Newton methods need a network of the coordinates alone (the PINN backend)")


def _joined(pieces: list, counts: list):
    """Blocks' outputs joined along the points axis (the last): tensors, or jets part by part; a part
    broadcast along the points axis within a block is expanded first."""
    first = pieces[0]
    if not isinstance(first, Jet):
        return torch.cat([p.expand(p.shape[:-1] + (n,)) for p, n in zip(pieces, counts)], dim=-1)
    parts = []
    for index, part in enumerate(first.parts):
        if part is None:
            parts.append(None)
            continue
        blocks = [piece.parts[index] for piece in pieces]
        parts.append(torch.cat([b.expand(b.shape[:-1] + (n,)) for b, n in zip(blocks, counts)], dim=-1))
    return Jet(first.table, parts)
