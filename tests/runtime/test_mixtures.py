"""A posterior per node as an equal mixture over draws: exact moments and quantiles, checked by brute force."""

import math

import pytest
import torch
from scipy import integrate
from scipy.optimize import brentq
from scipy.stats import norm

from pdedsl.runtime import mixtures
from pdedsl.runtime.mixtures import DrawMixture, normal_mixture_quantiles

LEVELS = (0.025, 0.975)


def _draws(shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _root_of_cdf(cdf, level, low=-50.0, high=50.0):
    """The level's quantile of a continuous CDF, by Brent's method to roundoff."""
    return brentq(lambda v: cdf(v) - level, low, high, xtol=1e-14, rtol=1e-14)


def test_a_gaussian_mixtures_band_is_the_root_of_its_cdf_and_what_a_huge_draw_gives():
    """(37 draws: with 40, the narrowest node's CDF is flat at 2.5% = 1/40 between two draws, any value there
    its quantile.)"""
    location = _draws((37, 5)) * torch.tensor([0.1, 1.0, 3.0, 0.5, 2.0], dtype=torch.float64)
    scale = torch.tensor([[0.3, 0.05, 1.0, 2.0, 0.5]], dtype=torch.float64)
    found = DrawMixture("gaussian", location, scale).quantiles(LEVELS)
    draws = location + scale * _draws((20_000, 37, 5), seed=1)  # 7.4e5 values of each node's mixture
    for node in range(5):
        for row, level in enumerate(LEVELS):
            exact = _root_of_cdf(lambda v: norm.cdf((v - location[:, node].numpy()) / float(scale[0, node])).mean(),
                                 level)
            assert float(found[row, node]) == pytest.approx(exact, abs=1e-9)
            brute = float(torch.quantile(draws[..., node].reshape(-1)[:10 ** 6], level))
            assert float(found[row, node]) == pytest.approx(brute, abs=0.02 * float(draws[..., node].std()))


def test_a_cdf_with_steps_narrow_draws_far_apart_still_gets_its_exact_quantiles():
    """Newton alone wanders on a staircase CDF; its bisection safeguard keeps every node on the root."""
    location = 3 * _draws((37, 200), seed=4)
    scale = torch.linspace(1e-4, 0.05, 200, dtype=torch.float64)[None]
    found = normal_mixture_quantiles(location, scale, LEVELS)
    for node in (0, 57, 199):
        for row, level in enumerate(LEVELS):
            exact = _root_of_cdf(lambda v: norm.cdf((v - location[:, node].numpy()) / float(scale[0, node])).mean(),
                                 level)
            assert float(found[row, node]) == pytest.approx(exact, abs=1e-9)
    cdf = torch.special.ndtr((found[:, None, :] - location) / scale).mean(1)
    assert torch.allclose(cdf, torch.tensor(LEVELS, dtype=torch.float64)[:, None], atol=1e-9)


def test_the_mixtures_moments_follow_the_law_of_total_variance():
    location, scale = _draws((30, 4)), torch.tensor([[0.5, 1.0, 0.0, 2.0]], dtype=torch.float64)
    mean, variance = DrawMixture("gaussian", location, scale).moments()
    assert torch.allclose(mean, location.mean(0))
    assert torch.allclose(variance, location.var(0) + scale[0] ** 2)  # (the draws' means: a sample's variance)
    assert torch.equal(DrawMixture("point", location).moments()[1], location.var(0))


def test_nodes_where_no_draw_has_a_spread_keep_the_draws_empirical_quantiles():
    """A field without model error at a node (or a zero error, on a Dirichlet boundary): a point per draw."""
    location = _draws((25, 3))
    empirical = torch.quantile(location, torch.tensor(LEVELS, dtype=torch.float64), dim=0)
    assert torch.equal(DrawMixture("point", location).quantiles(LEVELS), empirical)
    scale = torch.tensor([[0.0, 0.4, 0.0]], dtype=torch.float64)
    found = DrawMixture("gaussian", location, scale).quantiles(LEVELS)
    assert torch.equal(found[:, [0, 2]], empirical[:, [0, 2]]) and not torch.equal(found[:, 1], empirical[:, 1])


def test_nodes_go_a_pass_at_a_time_without_changing_a_quantile(monkeypatch):
    location, scale = _draws((16, 50)), torch.full((1, 50), 0.3, dtype=torch.float64)
    whole = normal_mixture_quantiles(location, scale, LEVELS)
    monkeypatch.setattr(mixtures, "ELEMENTS_PER_PASS", 16 * 7)  # 7 nodes a pass, the last one 1
    assert torch.allclose(normal_mixture_quantiles(location, scale, LEVELS), whole, rtol=1e-13, atol=1e-13)


def test_a_lognormal_mixture_is_a_gaussian_one_in_log_a():
    median = (0.3 * _draws((20, 3))).exp()
    spread = torch.tensor([[0.4]], dtype=torch.float64)
    mixture = DrawMixture("lognormal", median, spread)
    draws = median * (spread * _draws((50_000, 20, 3), seed=2)).exp()
    mean, variance = mixture.moments()
    exact_mean = (median * math.exp(0.08)).mean(0)  # E a = m exp(s^2 / 2) per draw
    assert torch.allclose(mean, exact_mean) and torch.allclose(mean, draws.mean((0, 1)), rtol=0.01)
    assert torch.allclose(variance, draws.reshape(-1, 3).var(0), rtol=0.03)
    found = mixture.quantiles(LEVELS)
    for node in range(3):
        logs = median[:, node].log().numpy()
        for row, level in enumerate(LEVELS):
            exact = math.exp(_root_of_cdf(lambda v: norm.cdf((v - logs) / 0.4).mean(), level))
            assert float(found[row, node]) == pytest.approx(exact, rel=1e-10)
    assert bool((found > 0).all())


def test_a_bernoulli_mixtures_band_is_its_exact_quantiles():
    """A two-phase pixel is 5 or 10: the band's ends are phases, the lower one up to its probability."""
    upper = torch.tensor([[0.0, 0.97, 0.5, 0.01, 1.0], [0.01, 0.99, 0.5, 0.02, 1.0]], dtype=torch.float64)
    mixture = DrawMixture("bernoulli", upper, phases=(5.0, 10.0))
    low, high = mixture.quantiles(LEVELS)  # P(upper) = 0.005, 0.98, 0.5, 0.015, 1 node by node
    assert low.tolist() == [5.0, 10.0, 5.0, 5.0, 10.0]  # the lower phase has under 2.5% at 0.98 and 1
    assert high.tolist() == [5.0, 10.0, 10.0, 5.0, 10.0]  # the upper phase has under 2.5% at 0.005 and 0.015
    draws = torch.where(torch.rand(200_000, 2, 5, generator=torch.Generator().manual_seed(3),
                                   dtype=torch.float64) < upper, 10.0, 5.0).double().reshape(-1, 5)
    mean, variance = mixture.moments()
    assert torch.allclose(mean, draws.mean(0), atol=0.02) and torch.allclose(mean, 5 + 5 * upper.mean(0))
    assert torch.allclose(variance, draws.var(0), atol=0.05)
    assert DrawMixture("bernoulli", upper, phases=(0.1, 0.7)).quantiles(LEVELS)[0, 0] == 0.1  # not float32's 0.1


@pytest.mark.parametrize("location, scale, bounds", [
    (0.3, 1.0, (0.0, math.inf)),
    (0.3, 0.5, (-0.2, 0.6)),
    (-3.0, 1.0, (0.0, 2 * math.pi)),
    (5.0, 1.0, (-math.inf, math.inf)),
])
def test_a_clipped_gaussians_moments_are_exact_and_its_quantiles_clipped(location, scale, bounds):
    """A random param's likelihood, clipped to its prior's support (a draw of 'uniform(0, 2 pi)' stays inside)."""
    lower, upper = bounds
    mixture = DrawMixture("gaussian", torch.tensor([[location]], dtype=torch.float64),
                          torch.tensor([[scale]], dtype=torch.float64), bounds=bounds)
    mean, variance = (float(v) for v in mixture.draw_moments())
    below = norm.cdf(lower, location, scale) if lower > -math.inf else 0.0
    above = norm.sf(upper, location, scale) if upper < math.inf else 0.0
    ends = max(lower, location - 12 * scale), min(upper, location + 12 * scale)
    moment = [(lower ** k * below if below else 0.0) + (upper ** k * above if above else 0.0) +
              integrate.quad(lambda v: v ** k * norm.pdf(v, location, scale), *ends, epsabs=1e-14)[0]
              for k in (1, 2)]
    assert mean == pytest.approx(moment[0], abs=1e-10)
    assert variance == pytest.approx(moment[1] - moment[0] ** 2, abs=1e-10)
    found = mixture.quantiles(LEVELS)[:, 0]
    expected = [min(max(norm.ppf(level, location, scale), lower), upper) for level in LEVELS]
    assert found.tolist() == pytest.approx(expected, abs=1e-9)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown mixture kind 'poisson'"):
        DrawMixture("poisson", torch.zeros(2, 1))
