"""What the exact posterior returns: a floor under DGNO's two-phase inverse error of a.

``benchmarks/dgno.py`` scores DGNO's inverse problems (u read at 100 random
nodes at 25 dB SNR, the posterior mean of a against the truth). This script
solves the *same* problems (the same held-out truths, nodes and noise draws:
``synthetic_observations`` in dgno.py, the same seed) without any learned
model: the spec's own prior and the reference solver. A two-phase input is
``threshold(gaussian_field(...))``; its Gaussian field on the 29 x 29 nodes is
``psi = F xi`` with ``xi ~ N(0, I)`` (F from the covariance's
eigendecomposition, exact in distribution), and the likelihood of ``xi`` is
the Gaussian misfit of the finite-volume solution for the thresholded field.
The posterior over ``xi`` is sampled by preconditioned Crank-Nicolson
(pCN: propose ``sqrt(1 - s^2) xi + s eta``, accept with the likelihood ratio;
Cotter, Roberts, Stuart and White, Statistical Science 2013), whose
acceptance does not degrade with the field's dimension; several chains from
independent prior draws, the step size adapted to about 25% acceptance during
burn-in.

Reported per truth: the relative L2 error of the posterior mean of a (the
Bayes estimate under squared error: no method whose posterior is calibrated
does better on average), the 95% band's coverage, and each chain's own
error (their spread says whether the chains agree). The model-free floor
tells whether an inverse error target is a matter of the neural model or of
the information in 100 noisy readings.

    python benchmarks/dgno_bayes_floor.py                            # paper's prior, 5 truths
    python benchmarks/dgno_bayes_floor.py --case two_phase --problems 5
    python benchmarks/dgno_bayes_floor.py --steps 4000 --chains 2    # a quick look
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

HERE = Path(__file__).resolve().parent


def _dgno_script():
    """benchmarks/dgno.py as a module: its specs, held-out data and observation draws are the ones solved here."""
    spec = importlib.util.spec_from_file_location("dgno_benchmark", HERE / "dgno.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TwoPhaseDarcy:
    """-div(a grad u) = f on the unit box's node grid, u = 0 on the boundary: the reference solver's finite
    volumes (harmonic face means, boundary nodes eliminated) with the sparsity pattern built once."""

    def __init__(self, nodes: int, source: float):
        self.n, self.h, self.source = nodes, 1.0 / (nodes - 1), source
        inner = nodes - 2
        index = np.arange(inner * inner).reshape(inner, inner)
        rows, cols = [], []
        for axis in (0, 1):
            low = [slice(None), slice(None)]
            high = [slice(None), slice(None)]
            low[axis], high[axis] = slice(0, -1), slice(1, None)
            rows += [index[tuple(low)].ravel(), index[tuple(high)].ravel()]
            cols += [index[tuple(high)].ravel(), index[tuple(low)].ravel()]
        self.off_rows, self.off_cols = np.concatenate(rows), np.concatenate(cols)
        self.size = inner * inner

    def solve(self, a: np.ndarray) -> np.ndarray:
        """u on all ``n x n`` nodes for the node values ``a``."""
        harmonic_x = 2 * a[1:, :] * a[:-1, :] / (a[1:, :] + a[:-1, :])  # face between (i, j) and (i+1, j)
        harmonic_y = 2 * a[:, 1:] * a[:, :-1] / (a[:, 1:] + a[:, :-1])
        diagonal = (harmonic_x[1:, 1:-1] + harmonic_x[:-1, 1:-1] + harmonic_y[1:-1, 1:] + harmonic_y[1:-1, :-1])
        inner_x, inner_y = harmonic_x[1:-1, 1:-1].ravel(), harmonic_y[1:-1, 1:-1].ravel()
        off = -np.concatenate([inner_x, inner_x, inner_y, inner_y])
        matrix = sp.csc_matrix((np.concatenate([diagonal.ravel(), off]),
                                (np.concatenate([np.arange(self.size), self.off_rows]),
                                 np.concatenate([np.arange(self.size), self.off_cols]))),
                               shape=(self.size, self.size))
        u = np.zeros((self.n, self.n))
        u[1:-1, 1:-1] = spla.spsolve(matrix, np.full(self.size, self.source * self.h ** 2)).reshape(
            self.n - 2, self.n - 2)
        return u


def _model(case: str, dgno):
    """The spec's field factor F (psi = F xi), its threshold and a solver checked against the reference one."""
    from pdedsl import api
    from pdedsl.ir import nodes
    from pdedsl.reference.from_spec import elliptic_spec, solve_spec
    from pdedsl.runtime.instances import _field_prior
    from pdedsl.runtime.priors.dense import DenseEigenSampler

    problem = api.load(dgno.SPECS[case])
    (item,) = [i for i in problem.inputs if i.kind == "prior"]
    if not isinstance(item.prior, nodes.Threshold):
        raise SystemExit(f"{case}: input {item.name} is not a thresholded Gaussian field")
    threshold = _field_prior(item.name, item.prior, {c.name: c.value for c in problem.constants})
    grid = np.linspace(0.0, 1.0, dgno.GRID)
    field = threshold.field
    factor = DenseEigenSampler(field.covariance, (dgno.GRID, dgno.GRID), (grid[1], grid[1])).factor.numpy()
    solver = TwoPhaseDarcy(dgno.GRID, source=10.0)
    reference = elliptic_spec(problem)
    for seed in range(3):  # the fast solver must be the reference solver
        psi = field.mean + (factor @ np.random.default_rng(seed).standard_normal(factor.shape[1]))
        a = np.where(psi.reshape(dgno.GRID, dgno.GRID) < threshold.at, threshold.below, threshold.above)
        expected = solve_spec(problem, reference, {problem.axes[0]: grid, problem.axes[1]: grid}, {item.name: a}, {})
        if not np.allclose(solver.solve(a), expected, rtol=1e-9, atol=1e-12):
            raise SystemExit(f"{case}: this script's solver no longer matches the reference solver for the spec")
    return factor, field.mean, threshold, solver


def posterior(observed, nodes, noise, factor, mean, threshold, solver, chains, steps, burn, seed):
    """pCN chains over xi; the probability of the upper phase at each node, each chain's, and the acceptance."""
    i, j = nodes
    shape = (solver.n, solver.n)

    def phase_and_misfit(xi):
        upper = (mean + factor @ xi).reshape(shape) >= threshold.at
        u = solver.solve(np.where(upper, threshold.above, threshold.below))
        return upper, 0.5 * float(np.sum(((u[i, j] - observed) / noise) ** 2)), u

    generator = np.random.default_rng(seed)
    per_chain, u_sum, accepted = [], np.zeros(shape), 0
    for _ in range(chains):
        xi = generator.standard_normal(factor.shape[1])
        upper, misfit, u = phase_and_misfit(xi)
        log_step, kept = np.log(0.1), np.zeros(shape)
        for step in range(steps):
            s = min(float(np.exp(log_step)), 1.0)
            proposal = np.sqrt(1 - s * s) * xi + s * generator.standard_normal(xi.shape)
            upper_p, misfit_p, u_p = phase_and_misfit(proposal)
            accept = np.log(generator.uniform()) < misfit - misfit_p
            if accept:
                xi, upper, misfit, u = proposal, upper_p, misfit_p, u_p
            if step < burn:  # Robbins-Monro on log s towards 25% acceptance
                log_step += (float(accept) - 0.25) / (1 + step) ** 0.6
            else:
                kept += upper
                u_sum += u
                accepted += accept
        per_chain.append(kept / (steps - burn))
    draws = chains * (steps - burn)
    return np.mean(per_chain, axis=0), per_chain, u_sum / draws, accepted / draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", default="two_phase_paper", choices=("two_phase_paper", "two_phase"))
    parser.add_argument("--problems", type=int, default=5, help="held-out truths (the first N, as dgno.py's)")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20000, help="per chain, burn-in included")
    parser.add_argument("--burn", type=float, default=0.25, help="fraction of each chain discarded")
    parser.add_argument("--seed", type=int, default=0, help="dgno.py's --seed (the observation draws)")
    parser.add_argument("--work", help="folder for the held-out data (default: a temporary one)")
    args = parser.parse_args()
    dgno = _dgno_script()
    work = Path(args.work or tempfile.mkdtemp(prefix="bayes_floor_"))
    work.mkdir(parents=True, exist_ok=True)
    test = dgno._data(dgno.SPECS[args.case], dgno.TEST, dgno.TEST_SEED, work / f"{args.case}_test.npz")
    with np.load(test) as archive:
        a_all, u_all = archive["a"], archive["u"]
    factor, mean, threshold, solver = _model(args.case, dgno)
    generator = np.random.default_rng(args.seed)  # as dgno.py's _inverse draws them, member after member
    burn = int(args.burn * args.steps)
    rows = []
    print(f"{'truth':>5} {'a rel L2':>9} {'covers':>7} {'u rel L2':>9} {'accept':>7}  per chain     s")
    for member in range(args.problems):
        began = time.perf_counter()
        a, u = a_all[member], u_all[member]
        nodes, observed, noise = dgno.synthetic_observations(u, generator)
        upper, per_chain, u_mean, acceptance = posterior(observed, nodes, noise, factor, mean, threshold, solver,
                                                         args.chains, args.steps, burn, args.seed + member)
        span = threshold.above - threshold.below

        def error(p):
            return float(np.linalg.norm(threshold.below + span * p - a) / np.linalg.norm(a))

        truth_upper = a == threshold.above
        inside = np.where(truth_upper, upper > 0.025, upper < 0.975)  # the 95% band of a two-valued input
        row = {"truth": member, "a_rel_l2": error(upper), "coverage_95": float(inside.mean()),
               "u_rel_l2": float(np.linalg.norm(u_mean - u) / np.linalg.norm(u)), "acceptance": float(acceptance),
               "chains": [error(p) for p in per_chain], "wall_s": round(time.perf_counter() - began, 1)}
        rows.append(row)
        print(f"{member:>5} {row['a_rel_l2']:>9.3f} {row['coverage_95']:>7.3f} {row['u_rel_l2']:>9.4f} "
              f"{row['acceptance']:>7.2f}  {' '.join(f'{c:.3f}' for c in row['chains'])}  {row['wall_s']:.0f}",
              flush=True)
    summary = {key: float(np.mean([r[key] for r in rows])) for key in ("a_rel_l2", "coverage_95", "u_rel_l2")}
    print(json.dumps({"benchmark": "dgno_bayes_floor", "case": args.case, "chains": args.chains,
                      "steps": args.steps, "burn": burn, **summary, "rows": rows}))


if __name__ == "__main__":
    main()
