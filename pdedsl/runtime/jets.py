"""Truncated Taylor jets: a tensor together with exactly the partial derivatives a residual needs.

A :class:`Jet` holds the value of a tensor-valued function of the coordinates
and its partial derivatives for a fixed, downward-closed set of multi-indices
(a :class:`JetTable`), grouped by order: ``parts[0]`` is the value,
``parts[m]`` stacks the order-``m`` derivatives along a leading axis. Pushing
a jet through a network (linear maps, elementwise functions, sums, products)
propagates all of them in one forward pass: forward-mode ("Taylor mode")
differentiation.

The chain rule for elementwise functions is Faa di Bruno's formula and the
product rule Leibniz's. Both are expanded once per table into index lists,
so every operation on a jet is a few tensor operations whatever the number of
derivatives, with no Python loop over points or components. Two details keep
it cheap: a part that is identically zero is ``None`` and skipped, and a part
that is the same at every point (the derivatives of the coordinates
themselves) keeps a broadcast axis of length 1 instead of being copied.

A multi-index is a sorted tuple of axis positions: ``()`` is the value,
``(0,)`` is d/dx0, ``(0, 1)`` the mixed second derivative, ``(1, 1, 1)`` d3/dx1^3.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable, Iterable, Optional, Sequence

import torch

MultiIndex = tuple  # sorted tuple of axis positions
Part = Optional[torch.Tensor]  # None: identically zero
_TABLES: dict = {}


def contraction_key(weights) -> tuple:
    """The table key of ``sum_a w_a d^2/dx_a^2`` from ``((axis, w_a), ...)`` (a weighted Laplacian)."""
    return ("+", tuple(sorted((int(a), float(w)) for a, w in weights)))


def _order_of(key) -> int:
    return 2 if key and key[0] == "+" else len(key)


class JetTable:
    """The multi-indices a jet carries (closed under lower derivatives), grouped by order.

    Besides plain multi-indices, a table may carry *contractions*: a weighted
    sum of pure second derivatives (``u_xx + u_yy``) propagated as one
    component (the "forward Laplacian"), when the residuals read those
    derivatives only through that sum. Keys come from :func:`contraction_key`.
    """

    def __init__(self, indices: Iterable[MultiIndex], dimension: int, contractions: Iterable = ()):
        closed: set = {()}
        for index in indices:
            index = tuple(sorted(index))
            if any(not 0 <= axis < dimension for axis in index):
                raise ValueError(f"multi-index {index} refers to an axis outside 0..{dimension - 1}")
            closed |= _sub_indices(index)
        for weights in contractions:
            key = contraction_key(weights)
            closed |= {key} | {(axis,) for axis, _ in key[1]}
        self.dimension = dimension
        self.order = max(_order_of(i) for i in closed)
        self.by_order: tuple[tuple, ...] = tuple(
            tuple(sorted((i for i in closed if _order_of(i) == m), key=repr)) for m in range(self.order + 1))
        self.position = {index: (m, k) for m, group in enumerate(self.by_order) for k, index in enumerate(group)}
        self.chain_terms = self._chain_terms()
        self.product_terms = self._product_terms()

    @classmethod
    def cached(cls, indices, dimension: int, contractions=()) -> "JetTable":
        """The table for these arguments, built once per process: its term lists are reused every step.

        The key keeps the arguments' order (no sorting), so that looking a
        table up is cheap and traceable by ``torch.compile``.
        """
        key = (tuple(tuple(i) for i in indices), dimension, tuple(tuple(c) for c in contractions))
        table = _TABLES.get(key)
        if table is None:
            table = _TABLES[key] = cls(key[0], dimension, key[2])
        return table

    @property
    def indices(self) -> tuple:
        return tuple(i for group in self.by_order for i in group)

    def __eq__(self, other) -> bool:
        return isinstance(other, JetTable) and (self.by_order, self.dimension) == (other.by_order, other.dimension)

    def __hash__(self) -> int:
        return hash((self.by_order, self.dimension))

    def _chain_terms(self) -> dict[int, list["_Terms"]]:
        """Faa di Bruno, per target order m: the terms with k >= 2 blocks, grouped by block orders.

        d^a f(z) = sum over set partitions P of the positions of a of
        f^(|P|)(z) * prod over blocks B of d^B z. The one-block term
        f'(z) d^a z is applied to a whole order at once without index lists.
        """
        groups: dict[int, dict[tuple, Counter]] = defaultdict(lambda: defaultdict(Counter))
        for index in self.indices[1:]:
            if index[0] == "+":  # f'' * sum_a w_a (z_a)^2
                for axis, weight in index[1]:
                    groups[2][(1, 1)][(index, ((axis,), (axis,)))] += weight
                continue
            for partition in _set_partitions(list(range(len(index)))):
                if len(partition) < 2:
                    continue
                blocks = tuple(sorted((tuple(sorted(index[p] for p in block)) for block in partition),
                                      key=lambda b: (len(b), b)))
                groups[len(index)][tuple(len(b) for b in blocks)][(index, blocks)] += 1
        return {m: [self._terms(m, counter) for _, counter in sorted(by_signature.items())]
                for m, by_signature in sorted(groups.items())}

    def _product_terms(self) -> dict[int, list["_Terms"]]:
        """Leibniz, per target order m: d^a (f g) = sum over subsets S of a of d^S f d^(a - S) g."""
        groups: dict[int, dict[tuple, Counter]] = defaultdict(lambda: defaultdict(Counter))
        for index in self.indices:
            if index and index[0] == "+":  # f_C g + f g_C + 2 sum_a w_a f_a g_a
                groups[2][(2, 0)][(index, (index, ()))] += 1
                groups[2][(0, 2)][(index, ((), index))] += 1
                for axis, weight in index[1]:
                    groups[2][(1, 1)][(index, ((axis,), (axis,)))] += 2 * weight
                continue
            for mask in range(1 << len(index)):
                left = tuple(index[p] for p in range(len(index)) if mask >> p & 1)
                right = tuple(index[p] for p in range(len(index)) if not mask >> p & 1)
                groups[len(index)][(len(left), len(right))][(index, (left, right))] += 1
        return {m: [self._terms(m, counter) for _, counter in sorted(by_signature.items())]
                for m, by_signature in sorted(groups.items())}

    def _terms(self, order: int, counter: Counter) -> "_Terms":
        items = sorted(counter.items(), key=lambda item: (self.position[item[0][0]], repr(item[0][1])))
        sizes = [len(group) for group in self.by_order]
        targets = [self.position[index][1] for (index, _), _ in items]
        slots = []
        for slot in range(len(items[0][0][1])):
            parts = [blocks[slot] for (_, blocks), _ in items]
            slots.append((_order_of(parts[0]), [self.position[p][1] for p in parts]))
        return _Terms(sizes[order], targets, slots, [float(c) for _, c in items], sizes)


class _Terms:
    """One vectorised group of chain- or product-rule terms: gather the slots, multiply, scatter-add.

    Index lists that would select a whole part in order are dropped (None),
    so the common cases (``u_x * u_x`` for all first derivatives) cost no copy.
    """

    def __init__(self, size: int, targets: list[int], slots: list[tuple[int, list[int]]],
                 counts: list[float], sizes: list[int]):
        self.size = size
        self.targets = None if targets == list(range(size)) else targets
        self.slots = [(order, None if positions == list(range(sizes[order])) else positions)
                      for order, positions in slots]
        self.counts = None if all(c == 1.0 for c in counts) else counts
        self._cache: dict = {}

    def tensors(self, like: torch.Tensor):
        """Targets, per-slot positions and multiplicities as tensors on ``like``'s device (cached)."""
        key = (str(like.device), like.dtype)
        if key not in self._cache:
            def long(values):
                return None if values is None else torch.tensor(values, dtype=torch.long, device=like.device)

            counts = None if self.counts is None else torch.tensor(self.counts, dtype=like.dtype, device=like.device)
            self._cache[key] = (long(self.targets), [long(p) for _, p in self.slots], counts)
        return self._cache[key]

    def scatter(self, result: Part, term: torch.Tensor) -> torch.Tensor:
        targets, _, counts = self.tensors(term)
        if counts is not None:
            term = term * counts.view((-1,) + (1,) * (term.dim() - 1))
        if targets is None:
            return term if result is None else result + term
        tail = tuple(term.shape[1:]) if result is None else \
            torch.broadcast_shapes(tuple(result.shape[1:]), tuple(term.shape[1:]))
        base = term.new_zeros((self.size,) + tail) if result is None else result.expand((self.size,) + tail)
        return base.index_add(0, targets, term)


class Jet:
    """A value and its derivatives for ``table``; ``parts[m]`` stacks order ``m`` (None when zero)."""

    __slots__ = ("table", "parts")

    def __init__(self, table: JetTable, parts: Sequence[Part]):
        if len(parts) != table.order + 1:
            raise ValueError(f"a jet of order {table.order} needs {table.order + 1} parts, got {len(parts)}")
        self.table, self.parts = table, tuple(parts)

    # ---- construction ----
    @classmethod
    def variables(cls, table: JetTable, points: torch.Tensor, axes: Sequence[int] | None = None) -> "Jet":
        """The jet of the identity map on ``points`` (``[..., columns]``): unit first derivatives.

        Column ``c`` is the table's axis ``axes[c]`` (by default column ``c`` is axis ``c``).
        """
        axes = list(range(points.shape[-1])) if axes is None else list(axes)
        parts: list[Part] = [points] + [None] * table.order
        if table.order >= 1:
            first = points.new_zeros((len(table.by_order[1]),) + (1,) * (points.dim() - 1) + (points.shape[-1],))
            for column, axis in enumerate(axes):
                if (axis,) in table.position:
                    first[table.position[(axis,)][1], ..., column] = 1
            parts[1] = first
        return cls(table, parts)

    @classmethod
    def coordinate(cls, table: JetTable, values: torch.Tensor, axis: int) -> "Jet":
        """The jet of one coordinate (a tensor of any shape) that is the table's axis ``axis``."""
        return cls.variables(table, values.unsqueeze(-1), [axis]).select(0)

    @classmethod
    def constant(cls, table: JetTable, value: torch.Tensor) -> "Jet":
        return cls(table, [value] + [None] * table.order)

    # ---- access ----
    @property
    def value(self) -> torch.Tensor:
        return self.parts[0]

    def derivative(self, index: MultiIndex) -> torch.Tensor:
        """The derivative ``index`` at every point (zeros where the jet knows it vanishes)."""
        order, k = self.table.position[index if index and index[0] == "+" else tuple(sorted(index))]
        part = self.parts[order]
        if order == 0:
            return part
        if part is None:
            return torch.zeros_like(self.parts[0])
        return part[k].expand_as(self.parts[0])

    def select(self, index: int) -> "Jet":
        """The jet of the last axis' entry ``index`` (one output of a network)."""
        return Jet(self.table, [None if p is None else p[..., index] for p in self.parts])

    # ---- algebra ----
    def linear(self, weight: torch.Tensor, bias: torch.Tensor | None = None) -> "Jet":
        """As ``torch.nn.Linear``: the value maps affinely, every derivative linearly."""
        value = torch.nn.functional.linear(self.parts[0], weight, bias)
        return Jet(self.table, [value] + [None if p is None else p @ weight.T for p in self.parts[1:]])

    def affine(self, shift: torch.Tensor, scale: torch.Tensor) -> "Jet":
        """``(self - shift) * scale`` elementwise (both broadcast against the last axis)."""
        return Jet(self.table, [(self.parts[0] - shift) * scale] +
                   [None if p is None else p * scale for p in self.parts[1:]])

    def map(self, derivatives: Callable[[torch.Tensor, int], list]) -> "Jet":
        """An elementwise function, given ``derivatives(z, n) = [f(z), f'(z), ..., f^(n)(z)]``."""
        from .jet_map import apply_map  # one autograd node with a hand-written backward

        return Jet(self.table, apply_map(self.table, derivatives, self.parts))

    def __mul__(self, other) -> "Jet":
        if not isinstance(other, Jet):
            return Jet(self.table, [None if p is None else p * other for p in self.parts])
        _check_same(self, other)
        parts: list[Part] = [self.parts[0] * other.parts[0]]
        for m in range(1, self.table.order + 1):
            result = None
            for terms in self.table.product_terms[m]:
                (left, _), (right, _) = terms.slots
                result = _accumulate(terms, result, [self.parts[left], other.parts[right]], None)
            parts.append(result)
        return Jet(self.table, parts)

    __rmul__ = __mul__

    def __add__(self, other) -> "Jet":
        if isinstance(other, Jet):
            _check_same(self, other)
            return Jet(self.table, [_add(a, b) for a, b in zip(self.parts, other.parts)])
        return Jet(self.table, [self.parts[0] + other] + list(self.parts[1:]))

    __radd__ = __add__

    def __neg__(self) -> "Jet":
        return self * -1.0

    def __sub__(self, other) -> "Jet":
        return self + (-other)

    def __rsub__(self, other) -> "Jet":
        return (-self) + other


def _accumulate(terms: _Terms, result: Part, parts: list[Part], factor) -> Part:
    """``result`` plus the group's terms: products of gathered parts (times ``factor``), scattered."""
    if any(p is None for p in parts):
        return result
    _, positions, _ = terms.tensors(parts[0])
    term = None
    for (order, _), part, where in zip(terms.slots, parts, positions):
        if order == 0:  # the value has no component axis; it multiplies every term alike
            part = part.unsqueeze(0)
        elif where is not None:
            part = part.index_select(0, where)
        term = part if term is None else term * part
    if factor is not None:
        term = term * factor
    return terms.scatter(result, term)


def _add(a: Part, b: Part) -> Part:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def cat(jets: Sequence[Jet]) -> Jet:
    """Concatenate jets along the last (feature) axis."""
    for jet in jets[1:]:
        _check_same(jets[0], jet)
    parts = []
    for m in range(jets[0].table.order + 1):
        group = [j.parts[m] for j in jets]
        if all(p is None for p in group):
            parts.append(None)
            continue
        reference = next(p for p in group if p is not None)
        shape = torch.broadcast_shapes(*(tuple(p.shape[:-1]) for p in group if p is not None))
        parts.append(torch.cat([
            (reference.new_zeros(shape + (j.parts[0].shape[-1],)) if p is None else p.expand(shape + p.shape[-1:]))
            for p, j in zip(group, jets)], dim=-1))
    return Jet(jets[0].table, parts)


def from_autograd(value: torch.Tensor, points: Sequence[torch.Tensor], table: JetTable) -> Jet:
    """The jet of ``value`` by nested reverse-mode autograd with respect to the 1-D ``points`` tensors.

    The general fallback for anything that cannot propagate a jet itself
    (interpolated data, another kind of network). Assumes each entry of
    ``value`` depends only on the point with the same index.
    """
    components: dict = {(): value}
    for index in table.indices[1:]:
        if index[0] != "+":
            components[index] = _partial(components[index[:-1]], points[index[-1]])
    for index in table.indices[1:]:
        if index[0] == "+":
            components[index] = sum(weight * _partial(components[(axis,)], points[axis]) for axis, weight in index[1])
    return Jet(table, [value] + [torch.stack([components[i] for i in group]) for group in table.by_order[1:]])


def _partial(output: torch.Tensor, coordinate: torch.Tensor) -> torch.Tensor:
    if not output.requires_grad:
        return torch.zeros_like(output)
    (gradient,) = torch.autograd.grad(output, coordinate, grad_outputs=torch.ones_like(output),
                                      create_graph=True, allow_unused=True)
    return gradient if gradient is not None else torch.zeros_like(output)


def _check_same(a: Jet, b: Jet) -> None:
    if a.table is not b.table and a.table != b.table:
        raise ValueError("jets over different tables cannot be combined")


def _sub_indices(index: MultiIndex) -> set[MultiIndex]:
    return {tuple(index[p] for p in range(len(index)) if mask >> p & 1) for mask in range(1 << len(index))}


def _set_partitions(items: list) -> Iterable[list[list]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _set_partitions(rest):
        yield [[first]] + partition
        for k in range(len(partition)):
            yield partition[:k] + [[first] + partition[k]] + partition[k + 1:]
