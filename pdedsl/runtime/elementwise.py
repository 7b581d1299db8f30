"""Derivative towers of elementwise functions: ``[f(z), f'(z), ..., f^(n)(z)]`` for forward-mode jets.

Each tower reuses the function's own value where the calculus allows
(``tanh' = 1 - tanh^2``, ``sigmoid' = sigmoid (1 - sigmoid)``), so a jet costs
a few multiplications per order on top of one transcendental call. Higher
orders follow from polynomial recurrences derived once at import.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

Tower = Callable[[torch.Tensor, int], list]


def _poly_derivative(p: list[float]) -> list[float]:
    return [k * c for k, c in enumerate(p)][1:] or [0.0]


def _poly_mul(p: list[float], q: list[float]) -> list[float]:
    out = [0.0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return out


def _recurrence(start: list[float], factor: list[float], count: int = 8) -> list[list[float]]:
    """p_0 = start, p_{k+1} = p_k' * factor: derivatives of s(z) when s' = factor(s)."""
    polys = [start]
    for _ in range(count):
        polys.append(_poly_mul(_poly_derivative(polys[-1]), factor))
    return polys


def _horner(p: list[float], s: torch.Tensor) -> torch.Tensor:
    out = torch.full_like(s, p[-1])
    for c in reversed(p[:-1]):
        out = out * s + c if c else out * s
    return out


_TANH = _recurrence([0.0, 1.0], [1.0, 0.0, -1.0])  # d tanh = 1 - tanh^2
_SIGMOID = _recurrence([0.0, 1.0], [0.0, 1.0, -1.0])  # d sigmoid = sigmoid - sigmoid^2
_HERMITE = [[1.0]]  # probabilists' Hermite polynomials He_k, for derivatives of the normal density
for _k in range(1, 9):
    _HERMITE.append([a - b for a, b in zip(_poly_mul([0.0, 1.0], _HERMITE[-1]) + [0.0],
                                           _poly_derivative(_HERMITE[-1]) + [0.0] * 3)][:_k + 1])


def tanh(z: torch.Tensor, n: int) -> list:
    t = torch.tanh(z)
    out = [t]
    if n >= 1:
        out.append(1 - t * t)
    if n >= 2:
        out.append(-2 * t * out[1])
    for k in range(3, n + 1):
        out.append(_horner(_TANH[k], t))
    return out


def sin(z: torch.Tensor, n: int) -> list:
    s, c = torch.sin(z), torch.cos(z)
    cycle = [s, c, -s, -c]
    return [cycle[k % 4] for k in range(n + 1)]


def cos(z: torch.Tensor, n: int) -> list:
    s, c = torch.sin(z), torch.cos(z)
    cycle = [c, -s, -c, s]
    return [cycle[k % 4] for k in range(n + 1)]


def exp(z: torch.Tensor, n: int) -> list:
    e = torch.exp(z)
    return [e] * (n + 1)


def _sigmoid_tower(z: torch.Tensor, n: int) -> list:
    s = torch.sigmoid(z)
    return [s] + [_horner(_SIGMOID[k], s) for k in range(1, n + 1)]


def softplus(z: torch.Tensor, n: int) -> list:
    return [torch.nn.functional.softplus(z)] + (_sigmoid_tower(z, n - 1) if n >= 1 else [])


def silu(z: torch.Tensor, n: int) -> list:
    """z * sigmoid(z): the k-th derivative is z s^(k) + k s^(k-1)."""
    s = _sigmoid_tower(z, n)
    return [z * s[0]] + [z * s[k] + k * s[k - 1] for k in range(1, n + 1)]


def gelu(z: torch.Tensor, n: int) -> list:
    """z * Phi(z) (the exact, erf-based GELU): Phi^(k) = (-1)^(k-1) He_(k-1)(z) phi(z)."""
    phi = torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    big_phi = [cdf] + [(-1) ** (k - 1) * _horner(_HERMITE[k - 1], z) * phi for k in range(1, n + 1)]
    return [z * cdf] + [z * big_phi[k] + k * big_phi[k - 1] for k in range(1, n + 1)]


TOWERS: dict[str, Tower] = {"tanh": tanh, "sin": sin, "cos": cos, "exp": exp,
                            "softplus": softplus, "silu": silu, "gelu": gelu}
