"""How well the data determine scalar unknowns fitted with a PINN: a Laplace (Gauss-Newton) posterior.

``pdedsl infer`` without a model fits the network's weights ``w`` and the
spec's scalar unknowns ``k`` together to the physics and the observations.
This module turns that fit into a posterior over ``k``, linearised at it:

* the physics (equations, boundary, initial and periodic conditions, weak
  particles) is taken to fix the fields once ``k`` is known (a well-posed
  forward problem), so the network *follows* every change of ``k``: the
  weights' change is the least-squares solution of the linearised physics
  (each term's rows weighed by the residual level the fit reached), see
  :func:`_follow`; what the physics leaves free and the readings see (a
  constant under Neumann conditions alone) is left to the data, as nuisance
  unknowns with a flat prior (:func:`_free_directions`);
* each ``observe`` statement's readings are Gaussian with the spec's noise
  standard deviation (or, where the spec gives none, the misfit the fit
  reached), so the readings' sensitivity to ``k`` through that follow gives
  the Fisher information ``S^T S`` (``S``: readings' change over their noise
  per unit of each unknown);
* the unknowns: flat, then the spec's own prior where it is a plain
  ``normal(...)`` (its precision added) or ``uniform(...)`` (the Gaussian
  truncated to its range);
* the mean: one Gauss-Newton step from the fit along the follow (the
  readings' remaining pull and a prior's), exact for a problem linear in the
  unknowns even where the fit stopped short.

The Jacobians come from the Levenberg-Marquardt machinery (one row per
residual point). Checked against exact posteriors: on the heat problem
(closed-form solution) the standard deviation of D matches the exact one
to 0.2% over 20 noise draws (benchmarks/scalar_calibration.py), and on two
nearly collinear unknowns (correlation -0.9993) to 4 digits (tests).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from statistics import NormalDist
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..backends.hard import HardDirichlet
from ..files import replacing
from ..ir import nodes
from .levenberg import LevenbergMarquardt

Z95 = NormalDist().inv_cdf(0.975)
FOLLOW_DAMPING = 1e-10  # on the physics' weight block scaled to unit diagonal (see _follow)
UNCONVERGED = 0.5  # a step from the fit, in standard deviations, above which the fit is said not to have converged
MISFIT_TOO_LARGE = 2.0  # rms misfit / stated noise above which the standard deviations are said to be too small
MISFIT_TOO_SMALL = 0.5  # ... and below which the stated noise looks too large
FREE_LEVEL = 1.0  # readings' variance under the physics alone (in noise units) above which the data fix a change
MAX_DRAWS = 8  # draws of collocation points averaged into the physics part of H
LAPLACE_FILE = "laplace.pt"  # an inference folder's covariance over (weights, unknowns), for fields' spreads
POINTS_PER_PASS = 4096  # rows of the fields' Jacobian formed at once


class NoUncertainty(Exception):
    """The posterior cannot be formed for this run; the message says why (reported, not raised to the user)."""


@dataclass
class ScalarPosterior:
    """The unknowns' posterior: mean, standard deviation, 95% interval, correlations, and how they came about."""

    fit: dict[str, float]
    mean: dict[str, float]
    std: dict[str, float]
    interval: dict[str, list[float]]
    correlation: list[list[float]]
    noise: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    follow: Optional[torch.Tensor] = None  # [(weights, unknowns), unknowns]: the model's change per unit unknown
    covariance: Optional[torch.Tensor] = None  # the unknowns' covariance
    step: Optional[torch.Tensor] = None  # posterior mean minus the fit, in the unknowns
    point: Optional[torch.Tensor] = None  # the fit's (weights, unknowns), flat: which model the above belong to

    def save(self, folder) -> None:
        """Keep what :func:`field_spread` needs in ``folder/laplace.pt``."""
        if self.follow is None:
            return
        with replacing(Path(folder) / LAPLACE_FILE) as handle:
            torch.save({"follow": self.follow, "covariance": self.covariance, "step": self.step,
                        "point": self.point, "names": list(self.mean)}, handle)

    def report(self) -> dict:
        """The keys ``inference.json`` gets (beside ``params``, which become :attr:`mean`)."""
        out = {"params_std": self.std, "params_interval_95": self.interval, "params_fit": self.fit,
               "noise": self.noise}
        if len(self.mean) > 1:
            out["params_correlation"] = {"names": list(self.mean), "matrix": self.correlation}
        if self.notes:
            out["uncertainty_notes"] = self.notes
        return out


def laplace(run, draw: int) -> ScalarPosterior:
    """The Laplace posterior of ``run``'s inferred scalars at its trained weights.

    ``draw`` numbers the first draw of collocation points (pass one past any training used, so the points are
    new). Raises :class:`NoUncertainty` where the network is too large for the dense solve.
    """
    network = run.model.model if isinstance(run.model, HardDirichlet) else run.model
    unknowns = run.objective.trainable_params()
    names = [name for name, value in run.objective.params.items() if any(value is u for u in unknowns)]
    try:
        linear = LevenbergMarquardt(network, run.objective, unknowns)
    except ValueError as error:
        raise NoUncertainty(f"no standard deviations: {error}") from None
    physics, readings, misfit, noise, notes = _linearisation(run, linear, draw)
    count = len(unknowns)
    factor, scale = _weight_block(physics, count)
    free = _free_directions(factor, scale, readings, count)
    if free.shape[1]:
        notes.append(_free_note(run.problem, free.shape[1]))
    # the unknowns, then the changes of the fields the physics leaves to the data (flat: they are nuisances)
    follow = torch.cat([_follow(physics, factor, scale, count), free], dim=1)
    sensitivity = readings @ follow  # the readings' change over their noise, per unit of each column
    prior_mean, prior_precision, prior_notes = (torch.cat([part, torch.zeros(free.shape[1], dtype=part.dtype)])
                                                if isinstance(part, torch.Tensor) else part
                                                for part in _normal_priors(run.problem, names))
    covariance = _covariance(sensitivity.T @ sensitivity + torch.diag(prior_precision))
    fit = torch.tensor([float(u.detach()) for u in unknowns] + [0.0] * free.shape[1], dtype=torch.float64)
    # the Gauss-Newton step from the fit to the linearised posterior's mean: what the readings still pull (zero
    # at a converged fit) and a prior's pull; exact for a problem linear in the unknowns, however far the fit
    # stopped short along a direction the data barely determine
    step = covariance @ (prior_precision * (prior_mean - fit) - sensitivity.T @ misfit)
    if not torch.isfinite(step).all():
        step = torch.zeros_like(fit)
    mean = dict(zip(names, (fit + step)[:count].tolist()))
    posterior = _summary(names, dict(zip(names, fit[:count].tolist())), mean, covariance[:count, :count], noise,
                         notes + prior_notes + _unconverged_notes(names, step, covariance, prior_precision),
                         run.problem)
    if torch.isfinite(covariance).all():
        posterior.follow, posterior.covariance, posterior.step = follow, covariance, step
        posterior.point = linear._flat().double()
    return posterior


# ---- the linearisation ----
def _linearisation(run, linear: LevenbergMarquardt, draw: int):
    """The physics' Gauss-Newton matrix over (weights, unknowns), each term's rows over its residual level
    and averaged over draws of points until they outnumber the columns; the observations' rows over their
    noise; the noise each was read with; and notes on the fit."""
    objective = run.objective
    columns = linear.unknowns
    physics = torch.zeros((columns, columns), dtype=torch.float64)
    observations = {term: (precision, targets.numel()) for term, _name, _coords, targets, precision
                    in objective.observations}
    readings, misfits, noise, notes = [], [], {}, []
    physics_rows, draws = 0, 0
    while draws == 0 or (physics_rows < columns and draws < MAX_DRAWS):
        rows, jacobian = linear._linearise(objective.sample(draw + draws))
        start = 0
        for term, values in rows.items():
            block = jacobian[start:start + values.numel()]
            start += values.numel()
            if term in observations:
                if draws == 0:  # the readings are the same in every draw
                    scale, noise[term] = _data_scale(run, term, values, observations[term])
                    readings.append(block * scale)
                    misfits.append(values.detach().double().cpu() * scale)  # (fit - reading) / noise
                continue
            mean_square = float(values.double().square().mean())
            if mean_square > 0 and torch.isfinite(block).all():
                physics += block.T @ block / mean_square
                physics_rows += values.numel()
        draws += 1
    for term, about in noise.items():
        notes += _misfit_notes(term, about)
    return physics / draws, torch.cat(readings), torch.cat(misfits), noise, notes


def _unconverged_notes(names, step, covariance, prior_precision) -> list[str]:
    """A note per unknown whose data-driven step from the fit exceeds half a standard deviation: the fit had
    not converged along it (more --steps would settle it), and the mean reported is the step's end."""
    notes = []
    for index, name in enumerate(names):
        spread = math.sqrt(max(float(covariance[index, index]), 0.0))
        if prior_precision[index] == 0 and spread > 0 and abs(float(step[index])) > UNCONVERGED * spread:
            notes.append(f"{name}: the fit had not converged (the readings still pull it by "
                         f"{abs(float(step[index])) / spread:.1f} standard deviations); the mean is the "
                         "Gauss-Newton step from it, and more --steps would make the fit agree")
    return notes


def _weight_block(physics: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The Cholesky factor of the physics matrix's weight block, scaled to unit diagonal and damped slightly
    (FOLLOW_DAMPING) for directions the physics does not see, and the scale (1 for a weight the physics does
    not see at all, such as the output's bias under Neumann conditions alone)."""
    weights = physics.shape[0] - count
    block = physics[:weights, :weights]
    diagonal = block.diagonal()
    scale = torch.where(diagonal > 0, diagonal.sqrt(), torch.ones_like(diagonal))
    scaled = block / scale[:, None] / scale[None, :] + FOLLOW_DAMPING * torch.eye(weights, dtype=physics.dtype)
    factor, info = torch.linalg.cholesky_ex(scaled)
    if int(info) != 0:
        raise NoUncertainty("no standard deviations: the physics' Gauss-Newton matrix is not positive definite")
    return factor, scale


def _follow(physics: torch.Tensor, factor: torch.Tensor, scale: torch.Tensor, count: int) -> torch.Tensor:
    """``[(weights, unknowns), unknowns]``: how the model changes with each unknown while the physics holds.

    The forward problem is taken to be well posed (the equations and their conditions fix the fields once the
    unknowns are known), so the network follows any change of an unknown: the weights' change is the least-
    squares solution of the linearised physics, ``dw = -A^-1 B`` (``A``, ``B``: the physics matrix's weight
    block and its weight-unknown block; ``factor``, ``scale``: :func:`_weight_block`'s). Where the problem is
    not well posed, what the physics leaves free is taken care of by :func:`_free_directions`. How well the
    network can follow does not enter as information: a joint Gauss-Newton posterior over weights and unknowns
    would count the network's small approximation error at the residual level the fit reached, and on nearly
    collinear unknowns it made the standard deviations ten times too small.
    """
    weights = physics.shape[0] - count
    change = -torch.cholesky_solve(physics[:weights, weights:] / scale[:, None], factor) / scale[:, None]
    return torch.cat([change, torch.eye(count, dtype=physics.dtype)])


def _free_directions(factor: torch.Tensor, scale: torch.Tensor, readings: torch.Tensor, count: int) -> torch.Tensor:
    """``[(weights, unknowns), q]``: changes of the fields that the readings see and the physics does not fix.

    With the physics as a Gaussian over the weights at the residual level the fit reached (precision ``A``,
    the weight block), the readings would vary by ``R A^-1 R^T`` (``R``: their weight columns, over their
    noise). A direction of the readings where that exceeds FREE_LEVEL (their noise) is one the equations and
    conditions leave to the data: a constant added to u under Neumann conditions alone, say (it measured
    1e13 there, and 1e-8 to 1e-5 on well-posed problems). Each such direction's cheapest change of the weights
    becomes a nuisance unknown with a flat prior, so the unknowns' spread is their marginal one and the fields'
    spread holds it too.
    """
    weights = factor.shape[0]
    scaled = torch.linalg.solve_triangular(factor, (readings[:, :weights] / scale[None, :]).T, upper=False)
    left, singular, _ = torch.linalg.svd(scaled, full_matrices=False)
    kept = singular.square() > FREE_LEVEL
    change = torch.linalg.solve_triangular(factor.T, left[:, kept] / singular[kept], upper=True) / scale[:, None]
    return torch.cat([change, torch.zeros((count, change.shape[1]), dtype=change.dtype)])


def _free_note(problem, count: int) -> str:
    fields = ", ".join(f.name for f in problem.fields)
    return (f"the equations and conditions, as closely as the fit meets them, leave {count} "
            f"change{'s' if count > 1 else ''} of {fields} free that the readings see (a constant under Neumann "
            "conditions alone, say; a missing condition, or a fit far from converged): the data fix "
            f"{'them' if count > 1 else 'it'}, and the standard deviations include that")


def _data_scale(run, term: str, values: torch.Tensor, observation) -> tuple[float, dict]:
    """The factor that turns ``term``'s rows into readings over their noise, and what that noise was."""
    relative_precision, count = observation
    row_scale = math.sqrt(run.config.weights.get(term, 1.0) * relative_precision / count)
    misfit = float(values.double().square().mean().sqrt()) / row_scale  # rms of (fit - reading)
    stated = _stated_noise(run.problem, term)
    if stated:
        return 1.0 / (row_scale * stated), {"std": stated, "from": "spec", "rms_misfit": misfit}
    if misfit == 0:
        raise NoUncertainty(f"no standard deviations: '{term}' states no noise and the fit matches its readings "
                            "exactly, so there is no noise level to read them with (give 'noise S')")
    return 1.0 / (row_scale * misfit), {"std": misfit, "from": "the fit's rms misfit (the spec states none)",
                                       "rms_misfit": misfit}


def _stated_noise(problem, term: str) -> Optional[float]:
    from .data import observation_keys

    for key, observation in zip(observation_keys(problem), problem.observations):
        if f"data_{key}" == term:
            return observation.noise or None
    return None


def _misfit_notes(term: str, about: dict) -> list[str]:
    if about["from"] != "spec":
        return [f"{term}: the spec states no noise, so the readings were taken to be as noisy as the fit's misfit "
                f"({about['std']:.3g})"]
    ratio = about["rms_misfit"] / about["std"]
    if ratio > MISFIT_TOO_LARGE:
        return [f"{term}: the fit misses the readings by {ratio:.1f} times their stated noise (rms misfit "
                f"{about['rms_misfit']:.3g}, noise {about['std']:.3g}): the physics and the data disagree, or the "
                "noise is understated, and the standard deviations are too small"]
    if ratio < MISFIT_TOO_SMALL:
        return [f"{term}: the fit misses the readings by only {ratio:.2f} times their stated noise (rms misfit "
                f"{about['rms_misfit']:.3g}, noise {about['std']:.3g}): the noise looks overstated, and the "
                "standard deviations with it"]
    return []


def _covariance(precision: torch.Tensor) -> torch.Tensor:
    """``precision^-1``, by Cholesky with the matrix scaled to unit diagonal (its entries span many orders);
    infinite where the matrix is not positive definite (something the data and physics leave undetermined)."""
    scale = precision.diagonal().clamp_min(1e-300).sqrt()
    scaled = precision / scale[:, None] / scale[None, :]
    factor, info = torch.linalg.cholesky_ex(scaled)
    if int(info) != 0 or not torch.isfinite(scaled).all():
        return torch.full_like(precision, math.inf)
    return torch.cholesky_inverse(factor) / scale[:, None] / scale[None, :]


# ---- the spec's priors on the unknowns ----
def _normal_priors(problem, names: list[str]):
    """Means and precisions of plain ``normal(...)`` priors (zero precision: none), and notes on other shapes."""
    notes = []
    mean = torch.zeros(len(names), dtype=torch.float64)
    precision = torch.zeros(len(names), dtype=torch.float64)
    for index, name in enumerate(names):
        prior = _prior_of(problem, name)
        if isinstance(prior, nodes.NormalPrior):
            centre, std = _numbers(prior, ("mean", "std"))
            if centre is not None and std:
                mean[index], precision[index] = centre, 1 / std ** 2
                continue
        if prior is not None and not isinstance(prior, nodes.UniformPrior):
            notes.append(f"{name}: its prior ({prior}) is not a plain normal(...) or uniform(...), so the "
                         "standard deviation is the data's alone")
    return mean, precision, notes


def _prior_of(problem, name: str):
    param = next((p for p in problem.params if p.name == name), None)
    return param.prior if param is not None else None


def _numbers(prior, parameters) -> tuple:
    try:
        return tuple(float(prior.parameter(p)) for p in parameters)
    except (TypeError, ValueError):  # a parameter that is itself an expression of symbols
        return tuple(None for _ in parameters)


def _summary(names, fit, mean, covariance, noise, notes, problem) -> ScalarPosterior:
    std, interval = {}, {}
    for index, name in enumerate(names):
        spread = math.sqrt(max(float(covariance[index, index]), 0.0))
        low, high = mean[name] - Z95 * spread, mean[name] + Z95 * spread
        prior = _prior_of(problem, name)
        if isinstance(prior, nodes.UniformPrior) and math.isfinite(spread):
            bounds = _numbers(prior, ("low", "high"))
            if None not in bounds:
                mean[name], spread, (low, high) = _truncated(mean[name], spread, *bounds)
        std[name], interval[name] = spread, [low, high]
        if not math.isfinite(spread):
            notes.append(f"{name}: the data do not determine it (its posterior precision is not positive)")
    correlation = [[_correlation(covariance, i, j) for j in range(len(names))] for i in range(len(names))]
    return ScalarPosterior(fit, mean, std, interval, correlation, noise, notes)


def _correlation(covariance: torch.Tensor, i: int, j: int) -> Optional[float]:
    denominator = math.sqrt(float(covariance[i, i]) * float(covariance[j, j]))
    value = float(covariance[i, j]) / denominator if denominator > 0 else math.nan
    return value if math.isfinite(value) else None


def _truncated(mean: float, std: float, low: float, high: float) -> tuple[float, float, tuple[float, float]]:
    """Mean, standard deviation and central 95% interval of ``N(mean, std^2)`` restricted to ``[low, high]``."""
    unit = NormalDist()
    if std == 0:
        clipped = min(max(mean, low), high)
        return clipped, 0.0, (clipped, clipped)
    a, b = (low - mean) / std, (high - mean) / std
    below, above = unit.cdf(a), unit.cdf(b)
    mass = above - below
    if mass <= 1e-12:  # the Gaussian lies wholly outside the prior's range: its nearer end holds it all
        end = low if mean < low else high
        return end, 0.0, (end, end)
    pa, pb = unit.pdf(a), unit.pdf(b)
    shift = (pa - pb) / mass
    variance = 1 + (a * pa - b * pb) / mass - shift ** 2
    quantile = lambda p: mean + std * unit.inv_cdf(min(max(below + p * mass, 1e-300), 1 - 1e-16))  # noqa: E731
    return mean + std * shift, std * math.sqrt(max(variance, 0.0)), (quantile(0.025), quantile(0.975))


def with_forward_derivatives(config):
    """``config`` with the derivative engine the Jacobians need (a run fitted with autograd derivatives is the
    same network; only how its derivatives are taken differs)."""
    if config.derivatives != "autograd":
        return config
    return dataclasses.replace(config, derivatives="auto", optimizer="lbfgs", compile="off")


# ---- the fields' spread ----
def field_spread(run, folder, columns) -> Optional[dict[str, np.ndarray]]:
    """Every field's posterior mean and standard deviation (``<name>_std``) at the points ``columns``.

    Linearised at the fit, the field moves with the unknowns by ``G(x) = J(x) F`` (``J(x)``: its derivative
    with respect to (weights, unknowns); ``F``: the model's follow of each unknown), so its mean is
    ``u(x) + G(x) step`` and its variance ``diag(G(x) C G(x)^T)``, ``C`` the unknowns' covariance (all kept in
    ``folder/laplace.pt``). ``None`` where the folder keeps none; a warning and ``None`` where the run has
    changed since its inference (retrained or resumed), since the covariance belongs to the model it had.
    """
    path = Path(folder) / LAPLACE_FILE
    if not path.is_file():
        return None
    try:
        kept = torch.load(path, map_location="cpu", weights_only=True)
        follow, covariance, step, point = kept["follow"], kept["covariance"], kept["step"], kept["point"]
    except Exception as error:  # (a damaged file: the fields are still answered, without a spread)
        _warn(f"{path} does not read ({type(error).__name__}): the fields get no _std")
        return None
    network = run.model.model if isinstance(run.model, HardDirichlet) else run.model
    unknowns = run.objective.trainable_params()
    linear = LevenbergMarquardt(network, run.objective, unknowns)
    here = linear._flat().double().cpu()
    if point.shape != here.shape or not torch.equal(point, here):
        _warn(f"{path} describes the model this folder held when it was inferred, and the run has changed since "
              "(retrained or resumed): the fields get no _std (run 'pdedsl infer' again for them)")
        return None
    names = [f.name for f in run.problem.fields]
    parts: dict[str, list[np.ndarray]] = {key: [] for name in names for key in (name, f"{name}_std")}
    count = len(next(iter(columns.values())))
    run.model.eval()
    for start in range(0, count, POINTS_PER_PASS):
        coords = {a: torch.as_tensor(np.asarray(c[start:start + POINTS_PER_PASS], dtype=np.float64),
                                     dtype=run.dtype, device=run.device) for a, c in columns.items()}
        for name, (mean, spread) in _spread_of_pass(run, linear, unknowns, coords, names,
                                                    follow, covariance, step).items():
            parts[name].append(mean)
            parts[f"{name}_std"].append(spread)
    return {key: np.concatenate(values) for key, values in parts.items()}


def _spread_of_pass(run, linear, unknowns, coords, names, follow, covariance, step) -> dict:
    size = len(next(iter(coords.values())))
    out = {}
    with linear.capture.active():
        values = run.model(coords)
        rows = {name: values[name].reshape(-1).expand(size) for name in names}
        network_columns = {name: linear.capture.jacobian(rows[name]).double().cpu() for name in names}
    unknown_columns = _unknown_columns(run, unknowns, coords, names)
    for name in names:
        moves = torch.cat([network_columns[name], unknown_columns[name]], dim=1) @ follow  # [points, unknowns]
        mean = rows[name].detach().double().cpu() + moves @ step
        variance = ((moves @ covariance) * moves).sum(dim=1).clamp_min(0.0)
        out[name] = (mean.numpy(), variance.sqrt().numpy())
    return out


def _unknown_columns(run, unknowns, coords, names) -> dict[str, torch.Tensor]:
    """``d field / d unknown`` at the points by central differences (hard conditions may hold an unknown)."""
    columns: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    size = len(next(iter(coords.values())))
    with torch.no_grad():
        for parameter in unknowns:
            value = parameter.detach().clone()
            h = 1e-3 * max(abs(float(value)), 1.0)
            shifted = []
            for moved in (value + h, value - h):
                parameter.copy_(moved)
                shifted.append(run.model(coords))
            parameter.copy_(value)
            for name in names:
                difference = (shifted[0][name] - shifted[1][name]).reshape(-1).expand(size)
                columns[name].append(difference.double().cpu() / (2 * h))
    return {name: torch.stack(parts, dim=1) if parts else torch.zeros((size, 0), dtype=torch.float64)
            for name, parts in columns.items()}


def _warn(message: str) -> None:
    import sys

    print(f"pdedsl: warning: {message}", file=sys.stderr)
