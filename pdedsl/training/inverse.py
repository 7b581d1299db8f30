"""Inverse problems with a trained DGNO model: the posterior over its latent variables, by Laplace's method.

The trained generative model is the prior: z ~ N(0, I), beta = tanh(z),
and the decoders give every input a(z) and field u(z). Given the spec's
observations ``y_i`` of fields (or inputs) with Gaussian noise ``s``, the
negative log posterior is half the squared norm of one whitened residual
vector::

    v(z) = [ (u(z)(x_i) - y_i) / s ,  sqrt(2 N w / J) r_j(u(z), a(z)) ,  z ]

whose middle block holds the physics as virtual observables, weighted
exactly as in training (``backends/dgno.py``: residual ``r_j`` of a term with
weight ``w`` over ``J`` particles or points, ``N`` values per member).

**The prior over z** (``Settings.prior``). The generative model's nominal
prior is N(0, I), but its decoders were trained only where the encoder puts
members: q(z | a) averaged over the training pool, the *aggregate posterior*,
which a KL term pulls towards N(0, I) without reaching it. Where the two
differ, draws of N(0, I) decode to inputs unlike any member (on two-phase
Darcy, soft mixtures of both phases). ``"aggregate"`` (the default) replaces
N(0, I) by the Gaussian with the aggregate posterior's mean ``m`` and
covariance ``C`` (Cov of the encoder's means plus the mean of its variances,
over the pool), the ex-post density estimate of Ghosh et al. (ICLR 2020) in
its simplest form; ``"standard"`` keeps N(0, I). Everything below works in
whitened coordinates ``w`` with ``z = m + L w`` (``C = L L^T``), so the prior
block of ``v`` is ``w`` either way; the results are stated in ``z``.

* **MAP**: Adam from several starting points at once (each a member of one
  batch), then L-BFGS from the best; the physics is evaluated on one fixed
  draw of particles, so the objective is deterministic.
* **Posterior**: the Laplace approximation N(z_MAP, (J^T J)^-1) with the
  Gauss-Newton Hessian ``J^T J`` of ``v`` (always positive definite: the
  prior block contributes the identity). Samples of z pushed through the
  decoders give the posterior mean, standard deviation and 95% band of every
  input and field (non-Gaussian in a and u, as the decoders are nonlinear):
  at each point, of the mixture over the draws of what each draw gives there
  (an input's likelihood around its decoded value, a field's model error),
  computed exactly rather than drawn (:func:`posterior_mixtures`).
* **Model error** (``model_error.py``): when the run's error against the
  reference solver is known, its mean is added to the model's prediction of
  every observation and its variance to the noise variance (``s`` becomes
  ``sqrt(s^2 + sigma_e(x_i)^2)``), and every decoded draw of a field becomes
  N(field + error mean, sigma_e^2) in the summaries, so the bands of ``u``
  include what the model gets wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..backends.dgno import LatentInputs
from ..errors import PdeError
from ..files import replacing
from ..npz import READ_ERRORS
from ..runtime.family import random_params
from ..runtime.mixtures import DrawMixture
from .data import DataError, as_tensors, load_points

SAMPLERS = ("mala", "laplace")
PRIORS = ("aggregate", "standard")  # z's prior in the inverse problem (module docstring)
TARGET_ACCEPTANCE = 0.574  # optimal for MALA (Roberts and Rosenthal 1998)
PHYSICS_DRAW = 10_000_019  # the particle draw the posterior's physics uses (past any training draw)
MIN_PARTICLES = 400  # by default the posterior's physics uses the model's training particles, at least this many
JACOBIAN_ROWS = 256  # rows of the residual Jacobian per batched backward pass (bounds its memory)
JACOBIAN_COLUMNS = 128  # its columns per batched pass where it goes by columns (all of a 128-latent model)


class InferError(PdeError):
    """An inverse problem cannot be posed as asked (the message says why)."""


@dataclass
class Observed:
    """Noisy observations of one field (or input) at scattered points."""

    name: str
    coords: dict[str, torch.Tensor]  # [n] per coordinate
    values: torch.Tensor  # [n]
    noise: float
    offset: Optional[torch.Tensor] = None  # [n]: the model's mean error at the points (added to its prediction)
    scale: Optional[torch.Tensor] = None  # [n]: sqrt(noise^2 + model error variance), else the noise alone

    def with_model_error(self, error) -> "Observed":
        """These observations with the model's error at their points (when ``error`` covers this field)."""
        if error is None or self.name not in error.fields:
            return self
        mean, std = error.at(self.name, self.coords)
        return Observed(self.name, self.coords, self.values, self.noise, mean, (self.noise ** 2 + std ** 2).sqrt())


@dataclass
class Settings:
    restarts: int = 8  # starting points of the MAP search, optimised together
    adam_steps: int = 800
    lbfgs_steps: int = 200
    learning_rate: float = 0.05
    samples: int = 256  # posterior draws of z behind every mean, std and band
    particles: int = 0  # weak-form particles of the posterior's physics (one fixed draw); 0: DEFAULT_PARTICLES
    sampler: str = "mala"  # "laplace": draws of the Gaussian itself; "mala": exact posterior draws (below)
    chains: int = 8  # MALA chains, run together as one batch
    mala_steps: int = 600  # per chain; the first half adapts the step size and is discarded
    model_error: bool = True  # account for the model's own error (model_error.py) where it can be measured
    prior: str = "aggregate"  # z's prior: the encoder's aggregate posterior, or the nominal N(0, I)
    seed: int = 0

    def __post_init__(self):
        from .config import setting_kind_error

        for item in fields(self):  # from Python (pdedsl.infer), settings arrive unchecked by argparse
            error = setting_kind_error(item.name, getattr(self, item.name), (type(item.default),))
            if error is not None:
                raise TypeError(error)
        if self.sampler not in SAMPLERS:
            raise InferError(f"unknown sampler '{self.sampler}' (expected one of: {', '.join(SAMPLERS)})")
        if self.prior not in PRIORS:
            raise InferError(f"unknown prior '{self.prior}' (expected one of: {', '.join(PRIORS)})")
        if self.samples < 2:
            raise InferError(f"--draws {self.samples}: a standard deviation needs at least 2 posterior draws")
        if self.particles < 0:
            raise InferError(f"--particles {self.particles}: the posterior's physics needs at least 1 particle "
                             "(or 0 in Python: the model's training count, at least 400)")
        kept = self.chains * (self.mala_steps - self.mala_steps // 2)
        if self.sampler == "mala" and kept < self.samples:
            raise InferError(f"--chains {self.chains} keep {kept} draws from the second half of --mala-steps "
                             f"{self.mala_steps}, fewer than --draws {self.samples}: raise --mala-steps or --chains, "
                             "or ask for fewer draws")


@dataclass
class LatentPrior:
    """The Gaussian prior over z of an inverse problem, as ``z = mean + factor @ w`` with w ~ N(0, I)."""

    mean: torch.Tensor  # [m], float64
    factor: torch.Tensor  # [m, m], lower triangular, float64

    @classmethod
    def standard(cls, size: int) -> "LatentPrior":
        return cls(torch.zeros(size, dtype=torch.float64), torch.eye(size, dtype=torch.float64))

    def latent(self, w: torch.Tensor) -> torch.Tensor:
        """z for whitened ``w`` (``[..., m]``), in ``w``'s dtype and device."""
        mean, factor = self.mean.to(w.device, w.dtype), self.factor.to(w.device, w.dtype)
        return mean + w @ factor.T

    def whiten(self, z: torch.Tensor) -> torch.Tensor:
        """w for latent ``z`` (``[B, m]``): the inverse of :meth:`latent`."""
        centred = (z.double() - self.mean.to(z.device)).T
        w = torch.linalg.solve_triangular(self.factor.to(z.device), centred, upper=False).T
        return w.to(z.dtype)

    def covariance(self, whitened: torch.Tensor) -> torch.Tensor:
        """The covariance in z of a covariance in w."""
        factor = self.factor.to(whitened.device)
        return factor @ whitened.double() @ factor.T


#: Where a run folder keeps its aggregate prior (encoding 10^4 members and more takes a while).
PRIOR_FILE = "latent_prior.npz"


def run_aggregate_prior(run, network) -> LatentPrior:
    """The aggregate prior of ``run``'s training pool, kept in its folder for the checkpoint it was made from
    (a run trained on since makes it again)."""
    path = Path(run.folder) / PRIOR_FILE
    mark = np.asarray(run.checkpoint_mark or [], dtype=np.float64)
    try:
        with np.load(path) as saved:
            if np.array_equal(saved["checkpoint"], mark):
                return LatentPrior(torch.from_numpy(saved["mean"]), torch.from_numpy(saved["factor"]))
    except (*READ_ERRORS, KeyError):  # none yet, or unreadable (damaged, cut short): make it
        pass
    prior = aggregate_prior(network, run.pool, run.dtype)
    try:
        with replacing(path) as handle:
            np.savez(handle, mean=prior.mean.numpy(), factor=prior.factor.numpy(), checkpoint=mark)
    except OSError:  # a read-only model folder: make it again next time
        pass
    return prior


def aggregate_prior(network, pool, dtype, chunk: int = 1000) -> LatentPrior:
    """N(m, C) matched to q(z | a) averaged over the training pool: m the mean of the encoder's means,
    C their covariance plus the mean of the encoder's variances (module docstring)."""
    inputs = pool.operator_inputs(dtype)
    means, variances = [], []
    with torch.no_grad():
        for begin in range(0, len(pool), chunk):
            mean, log_std = network.encode(inputs.select(slice(begin, begin + chunk)).to(network.center.device))
            means.append(mean.double().cpu())
            variances.append((2 * log_std.double().cpu()).exp())
    means, variances = torch.cat(means), torch.cat(variances)
    centre = means.mean(dim=0)
    spread = (means - centre).T @ (means - centre) / max(len(means) - 1, 1)
    covariance = spread + torch.diag(variances.mean(dim=0))
    covariance = (covariance + covariance.T) / 2
    return LatentPrior(centre, torch.linalg.cholesky(covariance))


def observations_of(problem, run) -> list[Observed]:
    """The spec's ``observe`` statements as tensors on the run's device (each must state its noise)."""
    axes = tuple(problem.axes) + ((problem.time.name,) if problem.time else ())
    produced = set(run.model.field_names) | set(run.layout.channels)
    out = []
    for observation in problem.observations:
        if observation.noise is None or observation.noise <= 0:
            raise InferError(problem.locate(observation.span, f"'observe {observation.name}' needs a positive noise "
                                            f"level for a posterior (write: observe {observation.name} from \"...\" "
                                            "noise 0.01)"))
        if observation.name not in produced:
            raise InferError(problem.locate(observation.span, f"'observe {observation.name}': the model generates "
                                            f"{', '.join(sorted(produced))}, not '{observation.name}'"))
        try:
            points, values = load_points(observation.data.path, observation.name, axes, finite=True, dtype=run.dtype)
        except DataError as error:
            raise InferError(problem.locate(observation.span, f"'observe {observation.name}': {error}")) from None
        coords, targets = as_tensors(points, values, run.dtype, run.device)
        out.append(Observed(observation.name, coords, targets, float(observation.noise)))
    return out


class LatentPosterior:
    """The posterior over a DGNO run's latent variables given observations (see the module docstring).

    Its methods take and return whitened latents ``w`` (``z = prior.latent(w)``).
    """

    def __init__(self, run, observations: list[Observed], settings: Optional[Settings] = None, model_error=None):
        network = getattr(run.model, "model", run.model)
        if not hasattr(network, "decode_inputs"):
            raise InferError(f"the model in {run.folder} is a {run.config.backend} model; 'pdedsl infer' needs a "
                             "generative one: train it with --backend dgno")
        if not observations:
            raise InferError("the spec observes nothing ('observe u from \"data.npz\" noise 0.01'), so there is "
                             "nothing to infer from")
        self.run, self.network, self.model_error = run, network, model_error
        self.observations = [o.with_model_error(model_error) for o in observations]
        self.settings = settings or Settings()
        self.objective = run.objective
        self.latent_size = network.latent_size
        self.values_per_member = network.value_count()
        run.model.eval()
        run.model.requires_grad_(False)  # the decoders are frozen: only z moves
        network.freeze_trunks()
        weak = self.objective.weak
        saved = weak.particles if weak is not None else None
        #: the weak form's particles of the posterior's physics (None without a weak form): as many as asked,
        #: else the training count, at least MIN_PARTICLES; each step's cost grows with them
        self.particles = None if weak is None else (self.settings.particles or max(saved, MIN_PARTICLES))
        if weak is not None:
            weak.particles = self.particles
        self.batches = self.objective.sample(PHYSICS_DRAW + self.settings.seed)
        if weak is not None:
            weak.particles = saved
        self.prior = run_aggregate_prior(run, network) if self.settings.prior == "aggregate" \
            else LatentPrior.standard(self.latent_size)

    # ---- the residual vector ----
    def _use(self, z: torch.Tensor) -> LatentInputs:
        """Point the objective's fields at the members generated by ``z`` (``[B, m]``)."""
        latent = LatentInputs(z)
        self.objective.fields.generate_inputs(latent, self.network.layout.channels)
        beta = torch.tanh(z)
        for name, values in self.network.decode_params(beta).items():
            self.objective.params[name] = values[:, None]
        return latent

    def residuals(self, w: torch.Tensor) -> torch.Tensor:
        """``[B, K]``: the whitened residual vector ``v`` of each member (row) of the whitened latents ``w``."""
        latent = self._use(self.prior.latent(w))
        parts = []
        for observed in self.observations:
            predicted = self.run.model({a: t[None] for a, t in observed.coords.items()}, latent)[observed.name]
            if observed.offset is not None:
                predicted = predicted + observed.offset
            parts.append((predicted - observed.values) / (observed.noise if observed.scale is None else observed.scale))
        parts += self._physics(len(w))
        parts.append(w)
        return torch.cat([p.reshape(len(w), -1) for p in parts], dim=1)

    def _physics(self, members: int) -> list[torch.Tensor]:
        objective, weights = self.objective, self.objective.config.weights
        scale = 2.0 * self.values_per_member
        parts = []
        for key, entries in objective.groups.items():
            for name, residual in objective._group_residuals(entries, self.batches["groups"][key]).items():
                residual = residual.reshape(members, -1)
                parts.append(residual * math.sqrt(scale * weights.get(name, 1.0) / residual.shape[1]))
        if objective.weak is not None:
            for name, residual in objective.weak.residuals(self.batches["weak"]).items():
                residual = residual.reshape(members, -1)
                parts.append(residual * math.sqrt(scale * objective.weak.weight(name) / residual.shape[1]))
        return parts

    def negative_log_posterior(self, z: torch.Tensor) -> torch.Tensor:
        """``[B]``: half the squared norm of each member's residual vector (up to a constant)."""
        return 0.5 * self.residuals(z).square().sum(dim=1)

    # ---- MAP and Laplace ----
    def find_map(self, progress=None) -> torch.Tensor:
        """The most probable w (``[m]``): Adam from ``restarts`` points at once, then L-BFGS from the best."""
        settings = self.settings
        generator = torch.Generator().manual_seed(settings.seed)
        start = torch.randn(settings.restarts, self.latent_size, generator=generator, dtype=torch.float64)
        start[0] = 0.0  # the prior's mode is always one of the starts
        z = torch.nn.Parameter(start.to(self.run.device, self.run.dtype))
        adam = torch.optim.Adam([z], lr=settings.learning_rate)
        for step in range(settings.adam_steps):
            adam.zero_grad(set_to_none=True)
            loss = self.negative_log_posterior(z)
            loss.sum().backward()
            adam.step()
            if progress is not None:
                progress.update(step + 1, "map", {"-log posterior": loss.detach().min()})
        with torch.no_grad():
            best = int(torch.argmin(self.negative_log_posterior(z)))
        z = torch.nn.Parameter(z.detach()[best:best + 1].clone())
        lbfgs = torch.optim.LBFGS([z], lr=1.0, max_iter=max(settings.lbfgs_steps, 1), history_size=50,
                                  tolerance_grad=1e-10, tolerance_change=0.0, line_search_fn="strong_wolfe")

        def closure():
            lbfgs.zero_grad(set_to_none=True)
            loss = self.negative_log_posterior(z).sum()
            loss.backward()
            return loss

        if settings.lbfgs_steps:
            before = z.detach().clone()
            with torch.no_grad():
                value = float(self.negative_log_posterior(z).sum())
            lbfgs.step(closure)
            with torch.no_grad():
                after = float(self.negative_log_posterior(z).sum())
                if not math.isfinite(after) or after > value:  # never worse than Adam's answer
                    z.copy_(before)
        return z.detach()[0]

    def jacobian(self, z: torch.Tensor) -> torch.Tensor:
        """``[K, m]``: the derivative of the residual vector at (whitened) ``z``.

        By columns (:meth:`jacobian_by_columns`): the mixed form's particles
        give tens of thousands of rows for 128 latents, and the passes per
        latent direction cost a few hundredths of the passes per row (two-phase
        Darcy, 32628 rows: 0.3 s of CPU against about 100 s). By rows
        (:meth:`jacobian_by_rows`) where the columns cannot be formed or fail
        their check.
        """
        columns = self.jacobian_by_columns(z)
        return columns if columns is not None else self.jacobian_by_rows(z)

    def jacobian_by_columns(self, z: torch.Tensor) -> Optional[torch.Tensor]:
        """``[K, m]``: the Jacobian a column (latent direction) at a time, forward mode from two reverse passes;
        None where an operation of the residuals cannot be differentiated so.

        The reverse pass ``g(c) = J^T c`` is linear in the cotangent ``c``, and
        its derivative along ``c`` is ``J``: the backward of ``g`` over the
        ``m`` basis directions gives ``J e_j``, ``JACOBIAN_COLUMNS`` of them per
        batched pass. An operation whose backward is not itself recorded
        (a custom autograd.Function that detaches) would drop its rows without
        an error, so the columns must reproduce ``g`` itself at a random ``c``
        (one reverse pass, taken anyway) to within rounding.
        """
        generator = torch.Generator().manual_seed(0)  # (its own generator: the seeded draws stay as they were)
        with torch.enable_grad():
            point = z.detach().requires_grad_(True)
            vector = self.residuals(point[None])[0]
            probe = torch.randn(len(vector), generator=generator, dtype=torch.float64)
            cotangent = probe.to(vector.device, vector.dtype).requires_grad_(True)
            (pulled,) = torch.autograd.grad(vector, point, cotangent, create_graph=True)
            if not pulled.requires_grad:  # nothing of the backward is recorded
                return None
            columns = []
            for begin in range(0, len(point), JACOBIAN_COLUMNS):
                count = min(JACOBIAN_COLUMNS, len(point) - begin)
                basis = _unit_rows(begin, count, len(point), pulled)
                try:
                    columns.append(_transposed_rows(pulled, cotangent, basis, batched=True))
                except RuntimeError:  # an operation without batched gradients: one pass per column
                    try:
                        columns += [_transposed_rows(pulled, cotangent, basis[k:k + 1], batched=False)
                                    for k in range(count)]
                    except RuntimeError:  # one that cannot be differentiated twice
                        return None
        jacobian = torch.cat(columns).T
        return jacobian if _reproduces(jacobian, cotangent.detach(), pulled.detach()) else None

    def jacobian_by_rows(self, z: torch.Tensor) -> torch.Tensor:
        """``[K, m]``: the Jacobian a row at a time (reverse mode).

        One forward pass, then batched backward passes over ``JACOBIAN_ROWS`` rows
        at a time: a batched backward holds every intermediate once per row, and
        with the mixed form's tens of thousands of rows all at once that took
        more than 24 GB.
        """
        with torch.enable_grad():
            point = z.detach().requires_grad_(True)
            vector = self.residuals(point[None])[0]
            rows = []
            for begin in range(0, len(vector), JACOBIAN_ROWS):
                count = min(JACOBIAN_ROWS, len(vector) - begin)
                basis = _unit_rows(begin, count, len(vector), vector)
                try:
                    rows.append(torch.autograd.grad(vector, point, basis, retain_graph=True, is_grads_batched=True)[0])
                except RuntimeError:  # an operation without batched gradients: one backward pass per row
                    rows += [torch.autograd.grad(vector[k], point, retain_graph=True)[0][None]
                             for k in range(begin, begin + count)]
        return torch.cat(rows)

    def laplace(self, z_map: torch.Tensor) -> torch.Tensor:
        """The covariance ``(J^T J)^-1`` of the Gaussian approximation at ``z_map`` (``[m, m]``, float64)."""
        jacobian = self.jacobian(z_map).double()
        precision = jacobian.T @ jacobian
        precision = (precision + precision.T) / 2
        return torch.cholesky_inverse(torch.linalg.cholesky(precision))

    def draw(self, z_map: torch.Tensor, covariance: torch.Tensor, count: int, seed: int) -> torch.Tensor:
        """``[count, m]`` draws from N(z_map, covariance), reproducible under ``seed``."""
        generator = torch.Generator().manual_seed(seed)
        factor = torch.linalg.cholesky(covariance)
        noise = torch.randn(count, len(z_map), generator=generator, dtype=torch.float64)
        return (z_map.double().cpu() + noise @ factor.T.cpu()).to(self.run.device, self.run.dtype)

    def mala(self, z_map: torch.Tensor, covariance: torch.Tensor, progress=None) -> tuple[torch.Tensor, float]:
        """``samples`` draws of (whitened) z from the posterior itself, and the acceptance rate.

        Metropolis-adjusted Langevin, preconditioned with the Laplace
        covariance ``S``: from z, propose ``z' = z - (h/2) S grad U(z) + sqrt(h) L xi``
        (``S = L L^T``, ``U`` the negative log posterior) and accept with the
        Metropolis-Hastings probability, so the chains leave the exact
        posterior invariant; the Laplace draws alone are wrong where the
        decoders are nonlinear over the posterior's spread. ``chains`` chains
        start near the MAP; during the first half the step ``h`` adapts towards
        an acceptance of 0.574, the second half is kept (thinned).
        """
        settings = self.settings
        generator = torch.Generator().manual_seed(settings.seed + 7)
        device, dtype = self.run.device, self.run.dtype
        covariance = covariance.double()
        factor = torch.linalg.cholesky(covariance)
        precision = torch.cholesky_inverse(factor)
        to = dict(device=device, dtype=dtype)
        factor_d, covariance_d, precision_d = factor.to(**to), covariance.to(**to), precision.to(**to)

        def noise() -> torch.Tensor:
            return torch.randn(settings.chains, len(z_map), generator=generator, dtype=torch.float64).to(**to)

        def energy_and_gradient(z: torch.Tensor):
            z = z.detach().requires_grad_(True)
            energy = self.negative_log_posterior(z)
            (gradient,) = torch.autograd.grad(energy.sum(), z)
            return energy.detach(), gradient

        def log_proposal(to_: torch.Tensor, from_: torch.Tensor, gradient: torch.Tensor, h: float) -> torch.Tensor:
            v = to_ - from_ + (h / 2) * gradient @ covariance_d
            return -((v @ precision_d) * v).sum(1) / (2 * h)

        z = z_map[None].to(**to) + 0.1 * noise() @ factor_d.T
        energy, gradient = energy_and_gradient(z)
        h, burn = 0.25, settings.mala_steps // 2
        kept, accepted, tried = [], 0.0, 0
        stride = max(1, (settings.mala_steps - burn) * settings.chains // max(settings.samples, 1))
        for step in range(settings.mala_steps):
            proposal = z - (h / 2) * gradient @ covariance_d + (h ** 0.5) * noise() @ factor_d.T
            energy_new, gradient_new = energy_and_gradient(proposal)
            log_ratio = (energy - energy_new + log_proposal(z, proposal, gradient_new, h)
                         - log_proposal(proposal, z, gradient, h))
            uniform = torch.rand(settings.chains, generator=generator, dtype=torch.float64).to(device)
            accept = torch.isfinite(log_ratio) & (uniform.log() < log_ratio.double())
            z = torch.where(accept[:, None], proposal, z)
            energy = torch.where(accept, energy_new, energy)
            gradient = torch.where(accept[:, None], gradient_new, gradient)
            rate = float(accept.double().mean())
            if step < burn:  # adapt the step towards the target acceptance
                h *= math.exp(rate - TARGET_ACCEPTANCE)
            else:
                accepted, tried = accepted + rate, tried + 1
                if (step - burn) % stride == 0:
                    kept.append(z.detach().clone())
            if progress is not None:
                progress.update(step + 1, "mala", {"-log posterior": energy.mean(), "step h": torch.tensor(h)})
        samples = torch.cat(kept)[-settings.samples:] if kept else z.detach()
        return samples, accepted / max(tried, 1)

    def decode(self, z: torch.Tensor, coords: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The decoded members of latents ``z`` (not whitened: ``prior.latent(w)``); see :func:`decode_latent`."""
        return decode_latent(self.run, z, coords, model_error=self.model_error)


def _transposed_rows(pulled: torch.Tensor, cotangent: torch.Tensor, basis: torch.Tensor,
                     batched: bool) -> torch.Tensor:
    """``[c, K]``: the derivative of ``pulled`` (``J^T cotangent``) along each row of ``basis`` with respect to the
    cotangent, that is rows of ``J^T`` (zero where ``pulled`` does not reach the cotangent)."""
    grads = basis if batched else basis[0]
    (out,) = torch.autograd.grad(pulled, cotangent, grads, retain_graph=True, is_grads_batched=batched,
                                 allow_unused=True)
    if out is None:
        return torch.zeros(len(basis), len(cotangent), dtype=pulled.dtype, device=pulled.device)
    return out if batched else out[None]


def _unit_rows(begin: int, count: int, size: int, like: torch.Tensor) -> torch.Tensor:
    """``[count, size]``: rows ``begin .. begin + count - 1`` of the identity, in ``like``'s dtype and device."""
    basis = torch.zeros(count, size, dtype=like.dtype, device=like.device)
    basis[torch.arange(count), torch.arange(begin, begin + count)] = 1.0
    return basis


def _reproduces(jacobian: torch.Tensor, cotangent: torch.Tensor, pulled: torch.Tensor) -> bool:
    """Whether ``jacobian^T cotangent`` is the reverse pass ``pulled`` to within rounding: the sum of ``K``
    terms, each off by a unit in the last place, against the size of those terms."""
    product = (jacobian.double().T @ cotangent.double())
    size = jacobian.double().abs().T @ cotangent.double().abs()
    tolerance = math.sqrt(torch.finfo(jacobian.dtype).eps) * size + torch.finfo(jacobian.dtype).tiny
    return bool(torch.all((product - pulled.double()).abs() <= tolerance))


def decode_latent(run, z: torch.Tensor, coords: dict[str, torch.Tensor], chunk: int = 64,
                  model_error=None) -> dict[str, torch.Tensor]:
    """Every field, varying input and random param a DGNO run generates from ``z`` (``[K, m]``) at ``coords``:
    ``[K, n]`` each (params ``[K, 1]``), at the decoders' means (the likelihoods around them, and the model
    error's spread, enter through :func:`posterior_mixtures`). With a ``model_error``, fields get its mean
    added."""
    network = getattr(run.model, "model", run.model)
    run.model.eval()
    out: dict[str, list] = {}
    shared = {a: t.reshape(1, -1) for a, t in coords.items()}
    errors = {name: model_error.at(name, shared) for name in (model_error.fields if model_error else ())
              if name in network.field_names}
    with torch.no_grad():
        for begin in range(0, len(z), chunk):
            latent = LatentInputs(z[begin:begin + chunk])
            values = dict(run.model(shared, latent))
            values.update({name: v[:, None] for name, v in network.decode_params(torch.tanh(latent.z)).items()})
            for name, (mean, _) in errors.items():
                values[name] = values[name] + mean
            for name in (*network.field_names, *network.layout.channels, *network.layout.scalars):
                out.setdefault(name, []).append(values[name])
    return {name: torch.cat(parts) for name, parts in out.items()}


def posterior_mixtures(run, decoded: dict[str, torch.Tensor], coords: dict[str, torch.Tensor],
                       model_error=None) -> dict[str, DrawMixture]:
    """The posterior of every decoded quantity at each point of ``coords`` as a mixture over the draws of z
    (rows of ``decoded``, from :func:`decode_latent` without drawing): an input's or random param's likelihood
    around its decoded value, a field's model error (Gaussian, around the decoded field plus the error's mean)
    where one is used, else the decoded value itself (``runtime/mixtures.py``)."""
    network = getattr(run.model, "model", run.model)
    with torch.no_grad():
        out = dict(network.likelihood_mixtures(decoded))
    shared = {a: t.reshape(1, -1) for a, t in coords.items()}
    for name, values in decoded.items():
        if name in out:
            continue
        if model_error is not None and name in model_error.fields:
            out[name] = DrawMixture("gaussian", values, model_error.at(name, shared)[1])
        else:
            out[name] = DrawMixture("point", values)
    return out


def summarise(mixtures: dict[str, DrawMixture], at_map: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Posterior mean, std, 2.5% and 97.5% quantiles (of the mixture over the draws, :func:`posterior_mixtures`)
    and MAP (the decoders' values at z_MAP) of every decoded quantity."""
    out = {}
    for name, mixture in mixtures.items():
        mean, variance = mixture.moments()
        low, high = mixture.quantiles((0.025, 0.975))
        out[name] = mean.cpu().numpy()
        out[f"{name}_std"] = variance.sqrt().cpu().numpy()
        out[f"{name}_low"], out[f"{name}_high"] = low.cpu().numpy(), high.cpu().numpy()
        out[f"{name}_map"] = at_map[name][0].double().cpu().numpy()
    return out


def calibration(summary: dict[str, np.ndarray], truth: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per quantity with a truth: relative L2 error of the posterior mean and coverage of the 95% band
    (and, for a two-valued truth, the reliability of the phase probabilities: :func:`phase_reliability`)."""
    report = {}
    for name, true in truth.items():
        if name not in summary:
            continue
        true = np.asarray(true, dtype=np.float64).reshape(summary[name].shape)
        inside = (true >= summary[f"{name}_low"]) & (true <= summary[f"{name}_high"])
        report[name] = {
            "rel_l2": float(np.linalg.norm(summary[name] - true) / max(np.linalg.norm(true), 1e-300)),
            "rel_l2_map": float(np.linalg.norm(summary[f"{name}_map"] - true) / max(np.linalg.norm(true), 1e-300)),
            "coverage_95": float(inside.mean()),
            "mean_std": float(summary[f"{name}_std"].mean()),
        }
        report[name].update(phase_reliability(summary[name], summary[f"{name}_low"], summary[f"{name}_high"], true))
    return report


def phase_reliability(mean: np.ndarray, low: np.ndarray, high: np.ndarray, true: np.ndarray,
                      bins: int = 10) -> dict[str, float]:
    """For a truth with exactly two values (a two-phase input): how well the posterior's phase
    probabilities are calibrated, which the band's coverage cannot say.

    Each node's posterior draws take the two values, so its band is both of
    them unless one has under 2.5% of the draws, and a *calibrated* posterior
    covers at least 97.5% of the nodes whatever it knows. Here instead: the
    probability of the upper value, ``p = (mean - lower) / (upper - lower)``
    at every node, against whether the truth there is the upper value:
    ``phase_error`` is the expected calibration error (the node-weighted mean
    over ``bins`` equal bins of p of |mean p - fraction upper|; 0 when
    calibrated), ``brier`` the mean squared difference, ``two_valued_band``
    the fraction of nodes whose band holds both values. Empty otherwise.
    """
    values = np.unique(true)
    if len(values) != 2:
        return {}
    lower, upper = float(values[0]), float(values[1])
    probability = np.clip((mean - lower) / (upper - lower), 0.0, 1.0).reshape(-1)
    is_upper = (true.reshape(-1) == upper).astype(np.float64)
    which = np.minimum((probability * bins).astype(int), bins - 1)
    gap = sum(abs(probability[which == b].mean() - is_upper[which == b].mean()) * np.count_nonzero(which == b)
              for b in range(bins) if np.any(which == b))
    return {"phase_error": float(gap / probability.size),
            "brier": float(np.mean((probability - is_upper) ** 2)),
            "two_valued_band": float(np.mean((low.reshape(-1) <= lower) & (high.reshape(-1) >= upper)))}


def inferred_names(problem, run) -> list[str]:
    """The spec's ``infer`` names, checked against what the model generates."""
    generated = set(run.layout.channels) | set(random_params(run.problem))
    names = list(problem.inferred)
    if not names:
        observed = problem.observations[0] if problem.observations else None
        message = (f"the spec infers nothing: add an 'infer' statement naming the unknown (one of "
                   f"{', '.join(sorted(generated)) or '(none)'})")
        raise InferError(problem.locate(observed.span, message) if observed is not None else message)
    unknown = [n for n in names if n not in generated]
    if unknown:
        raise InferError(problem.locate(problem.infer_span(unknown[0]),
                                        f"'infer {unknown[0]}': the model generates the inputs "
                                        f"{', '.join(sorted(generated)) or '(none)'}; '{unknown[0]}' is not one "
                                        "of them"))
    return names
