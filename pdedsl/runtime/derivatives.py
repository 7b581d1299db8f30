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
from .jets import JetTable, _partial

Request = tuple  # (function name, ((axis, count), ...))
ENGINES = ("auto", "forward", "autograd")


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


def compute(
    fields,
    coordinates: Mapping[str, torch.Tensor],
    requests: Iterable[Request],
    axis_order: Iterable[str] | None = None,
    engine: str = "auto",
) -> dict[Request, torch.Tensor]:
    """``{request: tensor}`` for every request, e.g. ``("u", (("x", 2),))`` for d(u, x, 2).

    ``fields`` is either a mapping of value tensors computed from the
    ``coordinates`` tensors (which must then require grad), or a field source:
    a callable ``fields(coordinates) -> {name: tensor}`` that may also offer
    ``jets(coordinates, table, axes) -> {name: Jet}`` with ``supports_jets``.
    """
    order = list(axis_order) if axis_order is not None else list(coordinates)
    requests = [(function, tuple(orders)) for function, orders in requests]
    if chosen_engine(fields, engine) == "forward":
        return _forward(fields, coordinates, requests, order)
    values = fields if isinstance(fields, Mapping) else fields(coordinates)
    return _autograd(values, coordinates, requests, order)


def multi_index(orders, axis_order: list[str]) -> tuple[int, ...]:
    """``(("x", 2), ("y", 1))`` -> ``(0, 0, 1)``: axis positions, repeated by count."""
    return tuple(sorted(axis_order.index(axis) for axis, count in orders for _ in range(count)))


def _forward(fields, coordinates, requests, order) -> dict[Request, torch.Tensor]:
    indices = {request: multi_index(request[1], order) for request in requests}
    table = JetTable(indices.values(), len(order))
    jets = fields.jets(coordinates, table, order)
    return {request: jets[request[0]].derivative(index) for request, index in indices.items()}


def _autograd(values, coordinates, requests, order) -> dict[Request, torch.Tensor]:
    cache: dict[Request, torch.Tensor] = {}

    def get(function: str, orders: tuple) -> torch.Tensor:
        key = (function, orders)
        if key in cache:
            return cache[key]
        if not orders:
            result = values[function]
        else:
            axis = orders[-1][0]
            result = _partial(get(function, _decrement(orders)), coordinates[axis])
        cache[key] = result
        return result

    return {(function, orders): get(function, _normalise(orders, order)) for function, orders in requests}


def _normalise(orders, axis_order) -> tuple:
    counts: dict[str, int] = {}
    for axis, count in orders:
        counts[axis] = counts.get(axis, 0) + count
    return tuple((axis, counts[axis]) for axis in axis_order if counts.get(axis))


def _decrement(orders: tuple) -> tuple:
    *rest, (axis, count) = orders
    return tuple(rest) + (((axis, count - 1),) if count > 1 else ())
