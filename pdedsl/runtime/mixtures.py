"""A posterior at each node as an equal mixture over draws: moments and quantiles without drawing noise.

A latent posterior is known through K draws of z. At a node, each draw gives
not one value but a distribution: the decoded field plus the model's own
error (Gaussian), or an input's likelihood around its decoded value
(Gaussian, log-normal or Bernoulli), or a random param's Gaussian likelihood
clipped to its prior's support. The posterior there is the equal mixture of
the K distributions. Drawing one value from each and summarising the draws
adds Monte Carlo noise (a grainy mean, a ragged band); :class:`DrawMixture`
computes the mixture's summaries exactly instead:

* mean and variance by the law of total variance: the mean of the draws'
  means, and the variance of the draws' means (``ddof=1``, as a sample's)
  plus the mean of the draws' variances;
* quantiles: for the Gaussian kinds by Newton's method on the mixture's CDF
  (the mean of the K normal CDFs), safeguarded by bisection inside a bracket
  that starts at the smallest and largest of the draws' own quantiles (the
  mixture's lies between them), to about 1e-10 of that bracket; a
  log-normal's are a Gaussian's in ``log a``, a clipped Gaussian's are
  clipped (clipping is monotone); a Bernoulli's are exact (the lower value up
  to its probability, then the upper); where every draw is a point (no
  spread) they are the draws' empirical quantiles, linearly interpolated, as
  before.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch

KINDS = ("point", "gaussian", "lognormal", "bernoulli")
MAX_STEPS = 100  # of Newton's method or, where it would leave its bracket, bisection (60 reach roundoff)
TOLERANCE = 1e-10  # a quantile is settled when its step is this fraction of its starting bracket (plus spread)
ELEMENTS_PER_PASS = 1 << 22  # draws x nodes whose CDFs are evaluated at once (about 32 MB per array)


class DrawMixture:
    """Per node, the equal mixture over draws (dimension 0, ``K``) of one distribution per draw.

    ``kind`` and its parameters (tensors ``[K, n]``, or ``[1, n]`` / ``[K, 1]`` where shared):

    * ``"point"``: the value ``location`` itself (a field without model error);
    * ``"gaussian"``: N(``location``, ``scale``^2), clipped to ``bounds`` where given (a random param);
    * ``"lognormal"``: ``log a ~ N(log location, scale^2)``, so ``location`` is the median;
    * ``"bernoulli"``: the value ``phases[1]`` with probability ``location``, else ``phases[0]``.
    """

    def __init__(self, kind: str, location: torch.Tensor, scale: Optional[torch.Tensor] = None,
                 phases: Optional[tuple[float, float]] = None,
                 bounds: tuple[float, float] = (-math.inf, math.inf)):
        if kind not in KINDS:
            raise ValueError(f"unknown mixture kind '{kind}' (expected one of: {', '.join(KINDS)})")
        self.kind = kind
        self.location = torch.as_tensor(location).double()
        self.scale = None if scale is None else torch.as_tensor(scale).double().to(self.location.device)
        self.phases = None if phases is None else (float(phases[0]), float(phases[1]))
        self.bounds = (float(bounds[0]), float(bounds[1]))

    # ---- each draw's distribution ----
    def draw_moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of each draw's distribution (``[K, n]`` each)."""
        location = self.location
        if self.kind == "point":
            return location, torch.zeros_like(location)
        if self.kind == "bernoulli":
            low, high = self.phases
            return low + (high - low) * location, (high - low) ** 2 * location * (1 - location)
        scale = self.scale.expand_as(location)
        if self.kind == "lognormal":
            s2 = scale.square()
            return location * (s2 / 2).exp(), location.square() * s2.expm1() * s2.exp()
        if self.bounds == (-math.inf, math.inf):
            return location, scale.square()
        return _clipped_normal_moments(location, scale, *self.bounds)

    # ---- the mixture ----
    def moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The mixture's mean and variance at each node (``[n]`` each), by the law of total variance."""
        mean, variance = self.draw_moments()
        return mean.mean(0), mean.var(0, correction=1) + variance.mean(0)

    def quantiles(self, levels: Sequence[float]) -> torch.Tensor:
        """``[len(levels), n]``: the mixture's quantiles at each node (module docstring for how)."""
        if self.kind == "point":
            return _empirical(self.location, levels)
        if self.kind == "bernoulli":
            upper = self.location.mean(0)  # the mixture's probability of the upper value
            low, high = self.phases
            lower_value, upper_value = torch.full_like(upper, low), torch.full_like(upper, high)
            return torch.stack([torch.where(1 - upper >= q, lower_value, upper_value) for q in levels])
        location = self.location.clamp_min(1e-300).log() if self.kind == "lognormal" else self.location
        values = normal_mixture_quantiles(location, self.scale.expand_as(location), levels)
        if self.kind == "lognormal":
            return values.exp()
        return values.clamp(*self.bounds)


def normal_mixture_quantiles(location: torch.Tensor, scale: torch.Tensor, levels: Sequence[float],
                             steps: int = MAX_STEPS) -> torch.Tensor:
    """``[len(levels), n]``: quantiles of the equal mixture over dimension 0 of N(location, scale^2) per node.

    Safeguarded Newton on the mixture's CDF (:func:`_newton`) from the quantile of the Gaussian with the
    mixture's moments, inside a bracket that starts at the draws' own quantiles, until a node's step is under
    ``TOLERANCE`` of that bracket; a node where no draw has a spread gets the draws' empirical quantiles (a
    point mass per draw). Nodes go a pass at a time to bound memory.
    """
    location, scale = location.double(), scale.double().expand_as(location)
    draws, nodes = location.shape
    out = location.new_zeros(len(levels), nodes)
    points = ~(scale > 0).any(0)  # every draw a point mass there
    if bool(points.any()):
        out[:, points] = _empirical(location[:, points], levels)
    spread = (~points).nonzero().reshape(-1)
    step = max(1, ELEMENTS_PER_PASS // max(draws, 1))
    for begin in range(0, len(spread), step):
        chosen = spread[begin:begin + step]
        out[:, chosen] = _solved(location[:, chosen], scale[:, chosen], levels, steps)
    return out


def _solved(location: torch.Tensor, scale: torch.Tensor, levels: Sequence[float], steps: int) -> torch.Tensor:
    """The quantiles of :func:`normal_mixture_quantiles` at nodes where some draw has a spread."""
    spread = scale > 0
    safe = torch.where(spread, scale, 1.0)
    mean = location.mean(0)
    deviation = (location.var(0, correction=0) + scale.square().mean(0)).sqrt()
    out = []
    for q in levels:
        normal = float(torch.special.ndtri(torch.tensor(q, dtype=torch.float64)))
        own = location + scale * normal  # each draw's own quantile: the mixture's lies between them
        low, high = own.min(0).values, own.max(0).values
        start = (mean + deviation * normal).clamp(low, high)  # the quantile of the moments' Gaussian
        out.append(_newton(location, safe, spread, q, start, low, high, steps))
    return torch.stack(out)


def _newton(location, safe, spread, q: float, x, low, high, steps: int) -> torch.Tensor:
    """The root of ``CDF(x) = q`` per node (columns), from ``x`` inside ``[low, high]``: Newton where its step
    stays in the bracket and at least halves the step before last, else bisection (Numerical Recipes'
    ``rtsafe``), so never slower than bisection and quadratic near the root. A node leaves the batch once
    settled, so the few slow ones (a CDF with steps: narrow spreads far apart) cost only themselves."""
    result = torch.empty_like(x)
    nodes = torch.arange(len(x), device=x.device)
    tolerance = TOLERANCE * (high - low + safe.max(0).values)
    step = before = high - low
    for _ in range(steps):
        standard = (x - location) / safe
        excess = torch.where(spread, torch.special.ndtr(standard), (x >= location).double()).mean(0) - q
        density = torch.where(spread, torch.exp(-standard.square() / 2) / (math.sqrt(2 * math.pi) * safe),
                              0.0).mean(0)
        low, high = torch.where(excess < 0, x, low), torch.where(excess < 0, high, x)
        newton = x - excess / density  # (no density: inf or NaN, never taken)
        taken = (newton >= low) & (newton <= high) & (2 * excess.abs() <= (before * density).abs())
        before, step = step, torch.where(taken, excess / density, (high - low) / 2).abs()
        x = torch.where(taken, newton, (low + high) / 2)
        settled = (step <= tolerance) | (high - low <= tolerance)
        if bool(settled.any()):
            result[nodes[settled]] = x[settled]
            left = ~settled
            if not bool(left.any()):
                return result
            nodes, x, low, high, step, before, tolerance = (v[left] for v in
                                                            (nodes, x, low, high, step, before, tolerance))
            location, safe, spread = location[:, left], safe[:, left], spread[:, left]
    result[nodes] = x
    return result


def _empirical(values: torch.Tensor, levels: Sequence[float]) -> torch.Tensor:
    levels = torch.tensor(list(levels), dtype=torch.float64, device=values.device)
    return torch.quantile(values.double(), levels, dim=0)


def _clipped_normal_moments(location: torch.Tensor, scale: torch.Tensor, lower: float, upper: float):
    """Mean and variance of ``clip(X, lower, upper)``, X ~ N(location, scale^2) (a bound may be infinite)."""
    spread = scale > 0
    s = torch.where(spread, scale, 1.0)
    a, b = (lower - location) / s, (upper - location) / s
    below, above = torch.special.ndtr(a), 1 - torch.special.ndtr(b)  # the masses clipped to each bound
    pdf_a, pdf_b = _normal_pdf(a), _normal_pdf(b)

    def times(x, mass):  # x * mass, 0 where the mass is (an infinite bound times no mass)
        return torch.where(mass > 0, x * mass, torch.zeros_like(mass))

    inside = 1 - below - above
    first = times(a, below) + times(b, above) + pdf_a - pdf_b  # E[clip(T, a, b)], T standard normal
    second = times(a.square(), below) + times(b.square(), above) + inside + times(a, pdf_a) - times(b, pdf_b)
    mean = location + s * first
    variance = (s.square() * (second - first.square())).clamp_min(0)
    point = location.clamp(lower, upper)  # no spread: the clipped value itself
    return torch.where(spread, mean, point), torch.where(spread, variance, torch.zeros_like(variance))


def _normal_pdf(x: torch.Tensor) -> torch.Tensor:
    return torch.where(torch.isfinite(x), torch.exp(-x.square() / 2) / math.sqrt(2 * math.pi), torch.zeros_like(x))
