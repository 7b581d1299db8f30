"""The one runtime entry point for derivatives: every value and partial derivative a residual needs.

Generated modules list what they need (``DERIVATIVES``, and per residual its
``arguments``); :func:`compute` returns each of them, each computed once and
shared between the residuals of a group. Two engines sit behind it:

* ``forward``: the field source propagates a truncated Taylor jet
  (:mod:`pdedsl.runtime.jets`) through the network in one pass, carrying
  exactly the derivative components the residuals reference (``u_t, u_x,
  u_xx`` for Burgers, not a Hessian). Available when the source says so
  (``supports_jets``), as PINN backends built from linear layers and
  elementwise activations do.
* ``autograd``: nested reverse mode on already computed values, the general
  fallback; higher orders are built from lower ones (``d(u, x, 2)`` from
  ``d(u, x)``, shared with ``d(u, x, y)``).

``engine="auto"`` takes the forward engine whenever the source supports it.
Assumption of both: each point's values depend only on that point's
coordinates (as for a PINN), so the gradient of a sum over points is the
pointwise derivative.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import torch

from ..errors import PdeError
from .jets import JetTable, contraction_key

Request = tuple  # (function name, ((axis, count), ...))
ENGINES = ("auto", "forward", "autograd")
FORWARD_COST, PASS_OFFSET = 0.46, 0.2  # the cost model of engine_for, fitted to measurements


class EngineError(PdeError):
    """The requested derivative engine cannot serve this model."""


def supports_jets(fields) -> bool:
    return not isinstance(fields, Mapping) and bool(getattr(fields, "supports_jets", False))


def chosen_engine(fields, engine: str = "auto") -> str:
    """The engine :func:`compute` will use for ``fields`` (``forward`` or ``autograd``)."""
    if engine not in ENGINES:
        raise EngineError(f"unknown derivative engine '{engine}' (choose one of {', '.join(ENGINES)})")
    if engine == "autograd":
        return "autograd"
    if supports_jets(fields):
        return "forward"
    if engine == "forward":
        raise EngineError("the forward derivative engine needs a network built from linear layers and "
                          "elementwise activations (the PINN backend); use --derivatives autograd")
    return "autograd"


def engine_for(fields, requests, axis_order, contraction=None, engine: str = "auto") -> str:
    """The engine for one group of requests: ``engine`` if it names one, else a cost model's pick.

    The forward engine's work grows with the number of jet components K
    (value and every derivative carried, a contracted Laplacian counting
    once); reverse mode's with the number of reverse passes P (one per
    function and lower derivative that has derivatives taken of it).
    Measured with ``benchmarks/derivatives.py`` (eager, 2-core CPU), forward
    over autograd time was about 0.66 for a 2-D Laplacian (K = 4, P = 3),
    0.6 in 3-D (K = 5, P = 4) and 1.03 for Burgers (K = 4: u, u_x, u_t,
    u_xx; P = 2). ``0.46 K / (P - 0.2)`` fits all three; ``auto`` takes the
    forward engine where that estimate is below 1. The choice depends only
    on the spec, so a resumed run makes the same one.
    """
    chosen = chosen_engine(fields, engine)
    if engine != "auto" or chosen != "forward":
        return chosen
    order = list(axis_order)
    requests = [(function, tuple(orders)) for function, orders in requests]
    weights = dict(contraction or ())
    contracted = [r for r in requests if len(r[1]) == 1 and r[1][0][1] == 2 and r[1][0][0] in weights]
    sums = [tuple((order.index(a), w) for a, w in contraction)] if contracted else []
    table = JetTable.cached([multi_index(r[1], order) for r in requests if r not in contracted], len(order), sums)
    parents = set()
    for function, orders in requests:
        orders = _normalise(orders, order)
        while orders:
            orders = _decrement(orders)
            parents.add((function, orders))
    return "forward" if FORWARD_COST * len(table.indices) < len(parents) - PASS_OFFSET else "autograd"


def compute(
    fields,
    coordinates: Mapping[str, torch.Tensor],
    requests: Iterable[Request],
    axis_order: Iterable[str] | None = None,
    engine: str = "auto",
    contraction: tuple | None = None,
) -> dict[Request, torch.Tensor]:
    """``{request: tensor}`` for every request, e.g. ``("u", (("x", 2),))`` for d(u, x, 2).

    ``fields`` is either a mapping of value tensors computed from the
    ``coordinates`` tensors (which must then require grad), or a field source:
    a callable ``fields(coordinates) -> {name: tensor}`` that may also offer
    ``jets(coordinates, table, axes) -> {name: Jet}`` with ``supports_jets``.

    ``contraction`` (``((axis, weight), ...)``, from a generated module's
    residual entries) promises that the caller reads the pure second
    derivatives along those axes only through ``sum w_a d2/da2``. The forward
    engine then carries that sum as one component and returns it, divided
    by the first weight, as the first axis' derivative and zeros for the
    others, which gives the caller the same sum at a fraction of the cost.
    """
    order = list(axis_order) if axis_order is not None else list(coordinates)
    requests = [(function, tuple(orders)) for function, orders in requests]
    if chosen_engine(fields, engine) == "forward":
        return _forward(fields, coordinates, requests, order, contraction)
    values = fields if isinstance(fields, Mapping) else fields(coordinates)
    return _autograd(values, coordinates, requests, order)


def multi_index(orders, axis_order: list[str]) -> tuple[int, ...]:
    """``(("x", 2), ("y", 1))`` -> ``(0, 0, 1)``: axis positions, repeated by count."""
    return tuple(sorted(axis_order.index(axis) for axis, count in orders for _ in range(count)))


def _forward(fields, coordinates, requests, order, contraction) -> dict[Request, torch.Tensor]:
    weights = dict(contraction or ())
    contracted = [r for r in requests if len(r[1]) == 1 and r[1][0][1] == 2 and r[1][0][0] in weights]
    indices = {request: multi_index(request[1], order) for request in requests if request not in contracted}
    sums = [tuple((order.index(axis), weight) for axis, weight in contraction)] if contracted else []
    table = JetTable.cached(indices.values(), len(order), sums)
    if getattr(fields, "skips_derivatives", False):  # it may give the names no derivative is read of as values
        jets = fields.jets(coordinates, table, order, differentiated=frozenset(f for f, orders in requests if orders))
    else:
        jets = fields.jets(coordinates, table, order)
    out = {request: jets[request[0]].derivative(index) for request, index in indices.items()}
    first = contraction[0][0] if contracted else None
    for function, orders in contracted:
        jet = jets[function]
        out[(function, orders)] = (jet.derivative(contraction_key(sums[0])) / weights[first]
                                   if orders[0][0] == first else torch.zeros_like(jet.value))
    return out


def _autograd(values, coordinates, requests, order) -> dict[Request, torch.Tensor]:
    """Level by level: one reverse pass per (function, lower derivative) gives all its next derivatives."""
    wanted = {(function, _normalise(orders, order)) for function, orders in requests}
    closed = set()
    for function, orders in wanted:
        while orders:
            closed.add((function, orders))
            orders = _decrement(orders)
    cache: dict[Request, torch.Tensor] = {(function, ()): values[function] for function, _ in wanted}
    levels = [sum(c for _, c in orders) for _, orders in closed]
    for level in range(1, (max(levels) if levels else 0) + 1):  # (no max(default=): torch.compile traces this)
        children: dict[Request, list] = {}
        for function, orders in sorted(closed):
            if sum(c for _, c in orders) == level:
                children.setdefault((function, _decrement(orders)), []).append(orders)
        for parent, kids in children.items():
            axes = [_last_axis(kid) for kid in kids]
            gradients = _partials(cache[parent], [coordinates[a] for a in axes])
            cache.update({(parent[0], kid): g for kid, g in zip(kids, gradients)})
    return {(function, orders): cache[(function, _normalise(orders, order))] for function, orders in requests}


def _partials(output: torch.Tensor, points: list[torch.Tensor]) -> list[torch.Tensor]:
    """d output / d p for every p, in one reverse pass."""
    if not output.requires_grad:
        return [torch.zeros_like(output) for _ in points]
    gradients = torch.autograd.grad(output, points, grad_outputs=torch.ones_like(output),
                                    create_graph=True, allow_unused=True)
    return [torch.zeros_like(output) if g is None else g for g in gradients]


def _last_axis(orders: tuple) -> str:
    return orders[-1][0]


def _normalise(orders, axis_order) -> tuple:
    counts: dict[str, int] = {}
    for axis, count in orders:
        counts[axis] = counts.get(axis, 0) + count
    return tuple((axis, counts[axis]) for axis in axis_order if counts.get(axis))


def _decrement(orders: tuple) -> tuple:
    *rest, (axis, count) = orders
    return tuple(rest) + (((axis, count - 1),) if count > 1 else ())
