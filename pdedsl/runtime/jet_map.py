"""An elementwise function applied to a jet, as one autograd node with a hand-written backward.

Composing the chain rule from elementary torch operations works, but its
reverse pass is several times longer than it needs to be (every product of
the forward pass becomes two in the backward, plus broadcasting reductions).
Here the backward is written once from the structure of Faa di Bruno's
formula. With ``f_k = f^(k)(z)`` and output part ``m``

    out_m = f_1 * in_m + sum over term groups of f_k * prod(gathered input slots)

so the gradient reaching ``f_k`` is the upstream gradient times the products,
summed over components, the gradient of a slot is the upstream gradient
times ``f_k`` and the other slots, and finally ``dz = sum_k grad(f_k) * f_(k+1)``.
"""

from __future__ import annotations

import torch


def apply_map(table, tower_fn, parts: tuple) -> list:
    """The parts of ``f(jet)`` for a jet with ``parts`` (``None`` where zero)."""
    present = tuple(p is not None for p in parts)
    produced = _produced(table, present)
    tensors = [p for p in parts if p is not None]
    outputs = iter(_node_type(table, tower_fn, present).apply(*tensors))  # (then the tower, for the backward)
    return [next(outputs) if made else None for made in produced]


_NODE_TYPES: dict = {}


def _node_type(table, tower_fn, present):
    """An autograd.Function with the table, function and zero pattern bound, so that ``apply`` takes
    only tensors (which ``torch.compile`` can trace without breaking the graph).

    Written in the ``setup_context`` style with a generated vmap rule, so that
    torch.func transforms accept it: the Levenberg-Marquardt phase takes
    per-point Jacobians with ``vmap(jacrev(...))`` (training/jacobian.py).
    The forward returns the derivatives f', f'', ... after the output parts;
    they are saved for the backward and are not differentiable.
    """
    key = (table, tower_fn, present)
    if key not in _NODE_TYPES:
        count = sum(_produced(table, present))

        class ElementwiseJet(torch.autograd.Function):
            generate_vmap_rule = True

            @staticmethod
            def forward(*tensors):
                return _forward(table, tower_fn, present, tensors)

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.mark_non_differentiable(*output[count:])
                ctx.save_for_backward(*inputs, *output[count:])

            @staticmethod
            def backward(ctx, *grads):
                return _backward(ctx, table, present, grads[:count])

        _NODE_TYPES[key] = ElementwiseJet
    return _NODE_TYPES[key]


def _produced(table, present: tuple) -> tuple:
    """Which output parts are nonzero, given which input parts are."""
    produced = [True]
    for m in range(1, table.order + 1):
        produced.append(present[m] or any(all(present[o] for o, _ in terms.slots)
                                          for terms in table.chain_terms.get(m, ())))
    return tuple(produced)


def _live_terms(table, present, m):
    return [terms for terms in table.chain_terms.get(m, ()) if all(present[o] for o, _ in terms.slots)]


def _gathered(terms, parts, like):
    _, positions, counts = terms.tensors(like)
    slots = [parts[o] if where is None else parts[o].index_select(0, where)
             for (o, _), where in zip(terms.slots, positions)]
    return slots, counts


def _forward(table, tower_fn, present, tensors):
    """Inside forward and backward nothing is recorded, so temporaries are updated in place
    (``mul_``, ``addcmul_``, ``index_add_``): fewer passes over memory than composed operations.
    Under torch.func transforms (vmap) a temporary may be unbatched where its update is batched, so
    there every update is out of place (see :func:`_grows`)."""
    _set_pure(tensors)
    order = table.order
    inputs = iter(tensors)
    parts = [next(inputs) if made else None for made in present]
    z = parts[0]
    tower = tower_fn(z, order + 1)  # one order more than the output needs, for the backward
    outputs = [tower[0]]
    for m in range(1, order + 1):
        result = tower[1] * parts[m] if present[m] else None
        for terms in _live_terms(table, present, m):
            slots, counts = _gathered(terms, parts, z)
            product = slots[0] * slots[1]  # a fresh tensor (chain terms have two or more blocks)
            for slot in slots[2:]:
                product = product * slot
            result = _scatter_into(terms, result, _scaled(product, tower[len(slots)], counts))
        if result is not None:
            outputs.append(result)
    # (f itself is the first output, and the backward needs no f.) A tower may repeat one tensor (exp's is
    # e, e, e, ...; sin's cycles back to sin z at the fourth derivative): the tail is marked non-differentiable,
    # so an entry that is the value output itself is copied, or the value would lose its gradient.
    tail = tuple(t.clone() if t is outputs[0] else t for t in tower[1:])
    return tuple(outputs) + tail


def _backward(ctx, table, present, grads):
    saved = ctx.saved_tensors
    _set_pure(tuple(saved) + tuple(g for g in grads if g is not None))
    count = sum(present)
    inputs, tower = iter(saved[:count]), (None,) + tuple(saved[count:])
    parts = [next(inputs) if made else None for made in present]
    produced = _produced(table, present)
    upstream = iter(grads)
    out_grads = [next(upstream) if made else None for made in produced]
    grad_z = out_grads[0] * tower[1]
    grad_tower = [None] * (table.order + 1)  # the gradients reaching f_1 .. f_order
    grad_parts = [None] * (table.order + 1)
    for m in range(1, table.order + 1):
        g = out_grads[m]
        if g is None:
            continue
        if present[m]:
            grad_tower[1] = _dot(g, parts[m], grad_tower[1])
            grad_parts[m] = _accumulate(grad_parts[m], tower[1], g)
        for terms in _live_terms(table, present, m):
            _backward_terms(terms, g, parts, tower, grad_tower, grad_parts)
    for k, gk in enumerate(grad_tower):
        if gk is not None:
            grad_z = grad_z + gk * tower[k + 1] if _grows(grad_z, gk) else grad_z.addcmul_(gk, tower[k + 1])
    grad_inputs = [_reduce_to(grad_z, parts[0])]
    for m in range(1, table.order + 1):
        if present[m]:
            grad_inputs.append(None if grad_parts[m] is None else _reduce_to(grad_parts[m], parts[m]))
    return tuple(grad_inputs)


def _backward_terms(terms, g, parts, tower, grad_tower, grad_parts) -> None:
    slots, counts = _gathered(terms, parts, g)
    targets, positions, _ = terms.tensors(g)
    k = len(slots)
    upstream = g if targets is None else g.index_select(0, targets)
    if counts is not None:
        upstream = upstream * counts.view((-1,) + (1,) * (upstream.dim() - 1))
    product = slots[0]
    for slot in slots[1:]:
        product = product * slot
    grad_tower[k] = _dot(upstream, product, grad_tower[k])
    scaled = upstream * tower[k]
    squares = k == 2 and terms.slots[0] == terms.slots[1]  # f_2 * a * a: d/da = 2 f_2 a
    for a, ((order, _), where) in enumerate(zip(terms.slots, positions)):
        if squares and a == 1:
            break
        others = None
        for b, slot in enumerate(slots):
            if b != a:
                others = slot if others is None else others * slot
        if squares:
            others = others * 2
        if where is None:
            grad_parts[order] = _accumulate(grad_parts[order], scaled, others)
            continue
        contribution = scaled * others
        if grad_parts[order] is None:
            part = parts[order]
            tail = torch.broadcast_shapes(tuple(part.shape[1:]), tuple(contribution.shape[1:]))
            grad_parts[order] = contribution.new_zeros((part.shape[0],) + tail)
        grad_parts[order] = _index_add(grad_parts[order], where, contribution)


def _scaled(product, factor, counts):
    """``product * factor * counts`` (counts per component), in place where the shapes allow."""
    product = product * factor if _grows(product, factor) else product.mul_(factor)
    if counts is not None:
        scale = counts.view((-1,) + (1,) * (product.dim() - 1))
        product = product * scale if _grows(product, scale) else product.mul_(scale)
    return product


def _scatter_into(terms, result, term):
    """``result`` (a temporary of ours, or None) plus the terms scattered to their targets."""
    targets, _, _ = terms.tensors(term)
    if targets is None:
        return term if result is None else (result + term if _grows(result, term) else result.add_(term))
    if result is None:
        result = term.new_zeros((terms.size,) + tuple(term.shape[1:]))
    return _index_add(result, targets, term)


def _index_add(into, index, values):
    if tuple(into.shape[1:]) != torch.broadcast_shapes(tuple(into.shape[1:]), tuple(values.shape[1:])):
        into = into.expand((into.shape[0],) + torch.broadcast_shapes(tuple(into.shape[1:]),
                                                                     tuple(values.shape[1:]))).clone()
    return into.index_add(0, index, values) if _PURE else into.index_add_(0, index, values)


def _dot(g, part, into):
    """``into + sum_i g[i] * part[i]`` over the component axis, without materialising the products."""
    start = 0
    if into is None:
        into = g[0] * part[0]
        start = 1
    for i in range(start, g.shape[0]):
        if _grows(into, g[i]) or _grows(into, part[i]):
            into = into + g[i] * part[i]
        else:
            into.addcmul_(g[i], part[i])
    return into


def _accumulate(into, a, b):
    """``into + a * b``, reusing ``into`` (a temporary of ours) when its shape allows."""
    if into is None:
        return a * b
    if _grows(into, a) or _grows(into, b):
        return into + a * b
    return into.addcmul_(a, b)


_PURE = False  # inside a torch.func transform: no in-place updates (set per node call)


def _set_pure(tensors) -> None:
    global _PURE
    if torch.compiler.is_compiling():  # (torch.compile traces no torch.func transforms here)
        _PURE = False
        return
    _PURE = any(torch._C._functorch.is_functorch_wrapped_tensor(t) for t in tensors)


def _grows(tensor, other) -> bool:
    """Whether ``tensor`` cannot take ``other`` in place: broadcasting gives a larger shape than its own,
    or a torch.func transform is active."""
    return _PURE or tuple(tensor.shape) != tuple(torch.broadcast_shapes(tensor.shape, other.shape))


def _reduce_to(grad, like):
    """Sum ``grad`` over the axes along which ``like`` was broadcast."""
    if grad is None or grad.shape == like.shape:
        return grad
    extra = grad.dim() - like.dim()
    grad = grad.sum(dim=tuple(range(extra))) if extra else grad
    axes = tuple(i for i, (a, b) in enumerate(zip(like.shape, grad.shape)) if a == 1 and b != 1)
    return grad.sum(dim=axes, keepdim=True) if axes else grad
