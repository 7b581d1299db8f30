"""benchmarks/dgno_bayes_floor.py: its solver is the reference solver, and its sampler finds what the data say."""

import numpy as np

from benchmark_script import load


def _script():
    return load("dgno_bayes_floor")


def test_the_exact_posterior_follows_the_data_and_falls_back_to_the_prior_without_them():
    floor = _script()
    factor, mean, threshold, solver = floor._model("two_phase_paper", floor._dgno_script())  # checks the solver
    rng = np.random.default_rng(3)
    truth = (mean + factor @ rng.standard_normal(factor.shape[1])).reshape(29, 29) >= threshold.at
    u = solver.solve(np.where(truth, threshold.above, threshold.below))
    nodes = np.unravel_index(rng.choice(u.size, 200, replace=False), u.shape)
    noise = 0.02 * np.sqrt(np.mean(u ** 2))
    informed, _, _, accepted = floor.posterior(u[nodes], nodes, noise, factor, mean, threshold, solver, chains=1,
                                               steps=2000, burn=500, seed=0)
    vague, _, _, _ = floor.posterior(u[nodes], nodes, 1e3, factor, mean, threshold, solver, chains=1, steps=600,
                                     burn=100, seed=1)
    assert 0.05 < accepted < 0.6
    assert np.mean((informed > 0.5) == truth) > 0.7  # sharp readings: most phases come back (a coin: 0.5)
    assert 0.3 < vague.mean() < 0.7 and vague.max() - vague.min() < 1.0  # no information: about the prior's 1/2
