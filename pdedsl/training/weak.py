"""Weak-form losses (``--form weak`` and ``--form mixed``): equations tested against Wendland functions on particles.

For every equation target, each draw places ``weak_particles`` balls inside
the target (``runtime/weak/particles.py``; a region's balls stay inside the
region; with time, each ball also gets a time drawn uniformly from the
interval: weak in space, strong in time). At the ball's quadrature points
``x_jk = c_j + R_j xi_k`` the generated ``WEAK`` function gives
``(volume, flux, stiffness)``, and the particle's residual is

    r_j = sum_k w_k [volume(x_jk) phi_j(x_jk) + flux(x_jk) . grad phi_j(x_jk)]

(the weights sum to 1, so it is a mean over the ball). The loss of the
equation is the mean of ``r_j^2``, plus the mean of the ``weak_top_k``
largest ``r_j^2`` when that is set (DGNO and ParticleWNN add it so the worst
balls are not averaged away).

The mixed form (DGNO, for discontinuous coefficients) gives the network one
extra output ``s_a`` per nonzero flux component (``mixed_outputs``). The
balance uses ``s`` in place of the flux, and a pointwise term
``mean sum_a w_a |s_a - flux_a(u)|^2`` over the same quadrature points ties
``s`` to the fields; so ``u`` is only differentiated inside that term, and the
balance never sees the derivative of a jumping coefficient.

The weight is a power of the inverse of the flux's stiffness
``k_a = d(flux_a) / d(d(u, a))`` (``a`` for ``div(a grad u)``), scaled by its
batch mean so that a constant stiffness gives weight 1:
``w_a = (mean(k_a) / k_a)^p``, detached, ``p = weak_mismatch_power``
(``mismatch_power: p``, default 2). Where the coefficient jumps, a network
smooth across the interface cannot kink there, and the weight decides which
average of the coefficient it sees across it: fitting ``k grad u`` to a
balanced ``s`` with weight ``k^-p`` gives a locally constant gradient
``s mean(k^(1-p)) / mean(k^(2-p))``, an effective coefficient of
``mean(k^2) / mean(k)`` at ``p = 0`` (the plain square), the arithmetic mean at
``p = 1`` (the constitutive-relation error ``(s - a grad u)^2 / a`` of Prager
and Synge, the default before session 24) and the harmonic mean at ``p = 2``
(``|s / a - grad u|^2``). Along a line across layers the harmonic mean is the
exact one (the rise of ``u`` is the integral of ``s / a``); the others are too
stiff and leave ``u`` low. On the two-phase Darcy instance the mean of ``u``
was 0.82 of the truth's at ``p = 0`` (relative error 0.18), 0.95 at ``p = 1``
(0.055) and 1.007 at ``p = 2`` (0.032); DGNO models of the paper's two-phase
prior lost their 2% low bias and 15-25% of their error (README, Weak forms).

Radii are uniform in ``[r_min, r_max]``; with ``weak_schedule = "linear"``
``r_max`` grows from ``r_min`` to ``weak_radius`` over the Adam steps
(ParticleWNN changes it during training the same way). Every particle and
quadrature point is evaluated in one batch through the usual derivative
entry point.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

import torch

from ..backends import BackendError
from ..ir.problem import Problem, TargetRef
from ..runtime import derivatives, sampling
from ..runtime.base import SamplingError
from ..runtime.residuals import bind_arguments, requests_of
from ..runtime.weak import Wendland, polar_ball, radius_at, sample_particles, to_particles
from .distributed import CONTEXT

#: (radial, angular) counts of the polar quadrature by dimension: 16 points in 1-D, 40 in 2-D, 300 in 3-D
#: (the exact 3-D Poisson solution's weak loss, `benchmarks/weak_floor.py poisson3d`: 6.2e-6 with 5 radial
#: points and 160 in all, 1.2e-11 with 6 and 300)
#: (``weak_quadrature`` sets the radial count; the angular one keeps the proportion).
#: An equal-weight grid (25 points in 2-D, as in the DGNO paper) biased the trained solution by about
#: 1e-2 on 2-D Poisson; these rules average the test-function integrands to about 1e-4 or better.
POLAR_POINTS = {1: (8, 2), 2: (5, 8), 3: (6, 10)}
#: Radial counts in the Levenberg-Marquardt phase, which fits the discrete weak form so closely that the
#: default rule's error becomes the floor (2-D Poisson: 1.2e-5 with 5 radial points, 4.2e-7 with 8; README
#: Weak forms). The Adam steps before it keep the default rule, and so does the mixed form.
LM_RADIAL = {2: 8, 3: 8}  # 1-D: the default rule's floor is already float32 rounding (weak_floor.py graded_rod)
#: Last Levenberg-Marquardt steps of the weak form (by dimension; ``polish:`` sets it) that draw at least as
#: many balls as the network has parameters (see :meth:`WeakTerms.polish`). With fewer rows than parameters
#: a step nearly interpolates its own draw, and the iterates wander between draws (2-D Poisson, seed 1: the
#: error of successive iterates swung between 5e-7 and 2e-6). 2-D Poisson with them, seeds 0/1/2: 2.2e-7,
#: 5.0e-7, 6.2e-7 against 2.4e-7, 7.2e-7, 8.4e-7 without. 3-D Poisson (session 32, seed 0): 2.7e-6 against
#: 6.6e-6 without, at about 6 s a step on one CPU thread since the Jacobian is worked in blocks of points
#: (10-20 s before, when 3-D had none).
POLISH_STEPS = {1: 50, 2: 50, 3: 50}
#: Default particle radius as a fraction of the target's narrowest bounding-box side.
RADIUS_FRACTION = 0.1
#: Radii below this fraction of the target's narrowest side get a warning: a ball's residual is a difference of
#: integrands of size 1/R (below), so at R = 1e-4 of the side float32 rounding is already 1e-3 of the residual.
TINY_RADIUS_FRACTION = 1e-4
#: Default smallest radius as a fraction of the largest, by working precision. Smaller balls reach closer to
#: the boundary, where no ball of the largest radius may be centred, but a ball's residual is a difference
#: of integrands of size |grad u| |grad phi| ~ 1/R, so float32 rounding in it grows as the ball shrinks.
#: 2-D Poisson with radius_min a tenth of the radius, seeds 1/2: float32 1.3e-6 and 3.3e-6 (half: 5.0e-7,
#: 6.2e-7); float64 2.8e-7 and 4.4e-8 (half, seed 1: 5.4e-7).
RADIUS_MIN_FRACTION = {torch.float32: 0.5, torch.float64: 0.1}
#: Dimensions in which the weak form under Levenberg-Marquardt trains in float64 unless told otherwise
#: (not 3-D: a 3-D weak step already costs 0.67 s in float32).
FLOAT64_DIMENSIONS = (1, 2)
#: Points drawn to estimate the bounding box of a region cut out by a predicate.
REGION_PROBE_POINTS = 4096
#: Default weight of the mixed form's flux mismatch against the balance (weight 1). The balance is
#: small by construction (the test function's mean over its ball is 1/9 in 2-D), so at equal weights
#: the optimiser shrinks u to shrink the mismatch. Two-phase Darcy instance, relative error of u:
#: 0.157 at weight 1, 0.059 at 0.133, 0.067 at 0.02 (the strong form: 0.070).
FLUX_WEIGHT = 0.1
#: The largest weight a point's flux mismatch gets where its stiffness is near zero.
MAX_MISMATCH_WEIGHT = 1000.0
#: Take each ball's mean out of every flux factor (the one multiplying grad phi) before the products, as is
#: always done for the factors of phi's second derivatives: the rule integrates grad phi to zero (it is
#: symmetric under xi -> -xi), so the residual is the same, but the products of a factor and grad phi
#: (~1/R) no longer carry the factor's mean, whose rounding was the float32 floor of fine rules: the exact
#: solution's float32 weak loss with 8 radial points (`benchmarks/weak_floor.py`, session 34) went from 4.6e-12
#: to 1.3e-13 (poisson), 1.9e-12 to 1.35e-13 (graded_rod), 2.8e-13 to 2.5e-14 (poisson3d); default 2-D rules,
#: and the terms moved twice (plate_bending, beam) unchanged; trained errors moved within their run-to-run spread
#: (the float64 weak Poisson run alike to 7 digits; weak Darcy and the float32 mixed runs by -9% to +13%:
#: README, Weak forms).
CENTRED_FLUXES = True


def flux_output(equation: str, axis: str) -> str:
    """The name of the mixed form's flux output; brackets keep it apart from every spec name."""
    return f"s[{equation}].{axis}"


def mixed_outputs(module) -> tuple[str, ...]:
    """Every flux output the mixed form adds to the network, in a fixed order."""
    return tuple(flux_output(entry["name"], axis) for entry in module.WEAK for axis in entry["fluxes"])


@dataclass
class WeakBatch:
    centres: torch.Tensor  # [P, d]
    radii: torch.Tensor  # [P]
    times: Optional[torch.Tensor]  # [P], or None without time


class WeakTerms:
    def __init__(self, problem: Problem, module, config, fields, params: dict, dtype, device,
                 engine_choice: str = "auto"):
        self.problem, self.config, self.fields, self.params = problem, config, fields, params
        self.dtype, self.device = dtype, device
        self.mixed = config.form == "mixed"
        self.flux_terms = {f"{e['name']}_flux" for e in module.WEAK if e["fluxes"]} if self.mixed else set()
        self.space = list(problem.axes)
        self.axes = [c.name for c in problem.coordinates]
        self.groups: "OrderedDict[Optional[TargetRef], list]" = OrderedDict()
        derived = {entry["name"] for entry in module.WEAK}
        missing = [e["name"] for e in module.RESIDUALS if e["kind"] == "equation" and e["name"] not in derived]
        if missing:
            raise BackendError(f"no weak form could be derived for equation(s) {', '.join(missing)}; "
                               "use --form strong")
        entries = [e for e in module.WEAK  # an equation on a line or point stays strong (see Objective)
                   if not sampling.pinned_target(problem, TargetRef(*e["target"]) if e["target"] else None)]
        flat = [e["name"] for e in entries if not e["fluxes"]]
        if self.mixed and flat and CONTEXT.main:
            print(f"pdedsl: note: equation{'s' if len(flat) > 1 else ''} {', '.join(flat)} "
                  f"{'have' if len(flat) > 1 else 'has'} no term in divergence form moved once by parts "
                  f"(moved twice, as fourth-order terms are, they leave no first-order flux), so no flux for the mixed "
                  f"form to stand in for: --form mixed treats {'them' if len(flat) > 1 else 'it'} as --form weak "
                  "(see pdedsl show --form mixed)",
                  file=sys.stderr)
        for entry in entries:
            target = TargetRef(*entry["target"]) if entry["target"] is not None else None
            self.groups.setdefault(target, []).append(entry)
        self.interiors = {target: sampling.interior_of(problem, target) for target in self.groups}
        self.radii = {target: self._radius_range(target) for target in self.groups}
        dimension = len(self.space)
        radial, angular = POLAR_POINTS[dimension]
        if config.weak_quadrature:  # finer rules for rough integrands (jumping coefficients)
            radial, angular = _rule_size(dimension, int(config.weak_quadrature))
        self.rule = polar_ball(dimension, radial, angular, dtype=dtype, device=device)
        self.fine_rule = self.rule  # for the Levenberg-Marquardt phase (see refine)
        # (not for the mixed form: its Levenberg-Marquardt rows are quadrature points, already costly)
        if config.optimizer == "lm" and not self.mixed and not config.weak_quadrature and dimension in LM_RADIAL:
            self.fine_rule = polar_ball(dimension, *_rule_size(dimension, LM_RADIAL[dimension]),
                                        dtype=dtype, device=device)
        self.reference, self.weights = self.rule.points, self.rule.weights
        self.particles = int(config.weak_particles)  # per target and draw (raised by polish)
        self.test_function = Wendland(dimension)
        self.engines = {target: derivatives.engine_for(fields, self._requests(entries), self.axes, None,
                                                       engine_choice)
                        for target, entries in self.groups.items()}

    def refine(self) -> None:
        """Use the finer rule from now on: Levenberg-Marquardt fits the discrete weak form so closely that the
        default rule's error becomes its floor, while Adam, far from that floor, gets the cheaper rule."""
        self.reference, self.weights = self.fine_rule.points, self.fine_rule.weights

    @property
    def polish_steps(self) -> int:
        """How many of the last Levenberg-Marquardt steps :meth:`polish` (none for the mixed form, whose
        rows are already one per quadrature point)."""
        if self.mixed:
            return 0
        given = self.config.weak_polish
        return POLISH_STEPS[len(self.space)] if given is None else max(int(given), 0)

    def polish(self, parameters: int) -> None:
        """From now on draw enough balls that the rows (balls x equations) number at least ``parameters``:
        a Gauss-Newton step then fits its draw in the least-squares sense instead of interpolating it."""
        rows_per_ball = sum(len(entries) for entries in self.groups.values())
        self.particles = max(self.particles, -(-parameters // rows_per_ball))

    # ---- particles ----
    def _radius_range(self, target) -> tuple[float, float]:
        """``(r_min, r_max)`` at the end of the schedule, checked against the config."""
        low, high = self._bounding_box(target)
        narrowest = float((high - low).min())
        r_max = float(self.config.weak_radius) or RADIUS_FRACTION * narrowest
        fraction = 0.5 if self.mixed else RADIUS_MIN_FRACTION.get(self.dtype, 0.5)
        r_min = float(self.config.weak_radius_min) or r_max * fraction
        if not 0 < r_min <= r_max:
            raise BackendError(f"weak-form radii need 0 < radius_min <= radius, got radius_min={r_min:g}, "
                               f"radius={r_max:g}")
        if r_min < TINY_RADIUS_FRACTION * narrowest and CONTEXT.main:
            print(f"pdedsl: warning: weak-form particles of radius {r_min:g} in {target.kind} '{target.name}' "
                  f"(narrowest side {narrowest:g}) are so small that rounding swamps their residuals; the default "
                  f"radius is {RADIUS_FRACTION * narrowest:g}", file=sys.stderr)
        return r_min, r_max

    def _bounding_box(self, target):
        base, inside = self.interiors[target]
        if inside is None:
            return base.bounding_box()
        generator = torch.Generator().manual_seed(0)
        points = base.sample_interior(REGION_PROBE_POINTS, generator)
        points = points[inside(points)]
        if len(points) < 2:
            raise BackendError(f"region '{target.name}' is too small to place weak-form particles in")
        return points.min(dim=0).values, points.max(dim=0).values

    def radius_bounds(self, target, step: int) -> tuple[float, float]:
        """Radii of the particles drawn at ``step``: fixed, or ``r_max`` growing over the Adam steps."""
        r_min, r_max = self.radii[target]
        if self.config.weak_schedule == "linear":
            r_max = radius_at(step, self.config.steps, r_min, r_max)
        return r_min, r_max

    def sample(self, generator: torch.Generator, step: int = 0) -> dict:
        batches = {}
        for target in self.groups:
            base, inside = self.interiors[target]
            r_min, r_max = self.radius_bounds(target, step)
            try:
                particles = sample_particles(base, self.particles, generator, r_min=r_min, r_max=r_max,
                                             dtype=torch.float64, inside=inside)
            except SamplingError as error:
                raise self._no_room(target, r_max, error) from None
            times = None
            if self.problem.time is not None:
                start, end = self.problem.time.start, self.problem.time.end
                times = start + (end - start) * torch.rand(self.particles, generator=generator,
                                                           dtype=torch.float64)
            batches[target] = WeakBatch(particles.centres, particles.radii, times)
        return batches

    def _no_room(self, target, r_max: float, error: SamplingError) -> BackendError:
        """Particles that do not fit, said at the equation that asks for them, with the option that sizes them."""
        equation = next((e for e in self.problem.equations if e.target == target), None)
        place = f"{target.kind} '{target.name}'" if target.kind == "region" else f"domain '{target.name}'"
        return BackendError(self.problem.locate(equation.span if equation is not None else None,
                                                f"the weak form's particles do not fit in {place} ({error}); give "
                                                f"them a smaller radius: --form \"weak(radius: R)\" with R below "
                                                f"{r_max:g}"))

    # ---- losses ----
    def _requests(self, entries) -> list:
        requests = list(requests_of(entries))
        if self.mixed:
            requests += [(flux_output(e["name"], axis), ()) for e in entries for axis in e["fluxes"]]
        return requests

    def losses(self, batches: dict) -> "OrderedDict[str, torch.Tensor]":
        terms: "OrderedDict[str, torch.Tensor]" = OrderedDict()
        for target, entries in self.groups.items():
            residuals, mismatches = self._residuals(entries, batches[target], self.engines[target])
            for name, residual in residuals.items():
                terms[name] = self.weight(name) * self._reduce(residual.square())
            for name, parts in mismatches.items():
                mismatch = sum(part.square().sum(-1) for part in parts.values())  # [..., P]
                terms[f"{name}_flux"] = self.weight(f"{name}_flux") * mismatch.mean()
        return terms

    def weight(self, term: str) -> float:
        """The loss weight of a term: ``--weight`` if given, else 1 (:data:`FLUX_WEIGHT` for a flux mismatch).
        A part of a term (``<term>#<axis>``) has its term's weight."""
        term = term.split("#")[0]
        return float(self.config.weights.get(term, FLUX_WEIGHT if term in self.flux_terms else 1.0))

    def residuals(self, batches: dict) -> "OrderedDict[str, torch.Tensor]":
        """Every weak equation's particle residuals ``[..., P]`` by residual name; with the mixed form also
        ``<name>_flux#<axis>``, one value ``[..., P * K]`` per quadrature point and flux component, scaled so
        that the mean of their squares, summed over the axes, is the flux term of the loss. (Rows per point
        keep the mismatch a sum of squares for Gauss-Newton methods; roots of whole balls' mismatches were
        not smooth where a mismatch vanishes.)"""
        out: "OrderedDict[str, torch.Tensor]" = OrderedDict()
        for target, entries in self.groups.items():
            residuals, mismatches = self._residuals(entries, batches[target], self.engines[target])
            out.update(residuals)
            for name, parts in mismatches.items():
                for axis, part in parts.items():
                    out[f"{name}_flux#{axis}"] = part.flatten(-2) * part.shape[-1] ** 0.5
        return out

    def _reduce(self, squares: torch.Tensor) -> torch.Tensor:
        loss = squares.mean()
        if self.config.weak_top_k:
            loss = loss + torch.topk(squares, min(int(self.config.weak_top_k), squares.numel())).values.mean()
        return loss

    def _residuals(self, entries, batch: WeakBatch, engine: str):
        """Per equation: the particle residuals ``[..., P]``, and (mixed form) per flux axis the weighted
        differences of the flux output and the flux ``[..., P, K]``, whose squares summed over the ball's
        points (and the axes) are the ball's flux mismatch."""
        centres = batch.centres.to(self.device, self.dtype)
        radii = batch.radii.to(self.device, self.dtype)
        points = to_particles(self.reference, centres, radii)  # [P, K, d]
        phi, grad_phi = self.test_function(points, centres, radii)
        count, per = points.shape[0], points.shape[1]
        needs_grad = engine == "autograd" or bool(self.fields.data_inputs)
        coords = {axis: points[..., i].reshape(-1).detach().requires_grad_(needs_grad)
                  for i, axis in enumerate(self.space)}
        if batch.times is not None:
            times = batch.times.to(self.device, self.dtype)
            coords[self.problem.time.name] = times[:, None].expand(count, per).reshape(-1).detach() \
                .requires_grad_(needs_grad)
        computed = derivatives.compute(self.fields, coords, self._requests(entries), self.axes, engine)
        residuals, mismatches = {}, {}
        for entry in entries:
            volume, flux, stiffness, *twice = entry["function"](**bind_arguments(entry, computed, coords, None,
                                                                                  self.params))
            flux, stiffness = dict(zip(entry["axes"], flux)), dict(zip(entry["axes"], stiffness))
            integrand = _as_grid(volume, count, per, phi) * phi
            if twice:  # terms integrated by parts twice: against the test function's second derivatives
                pairs = [(self.space.index(a), self.space.index(b)) for a, b in entry["hessian"]]
                for value, second in zip(twice[0], self.test_function.second_derivatives(points, centres, radii,
                                                                                          pairs)):
                    # each ball's mean of the factor taken out (its integral against d2 phi is zero): in float32
                    # the products of a factor and phi's second derivatives (~1/R^2) otherwise round to 1e-6 loss
                    integrand = integrand + _centred(_as_grid(value, count, per, phi), self.weights) * second
            parts = {}
            for axis_index, axis in enumerate(entry["axes"]):
                value = _as_grid(flux[axis], count, per, phi)
                if self.mixed and axis in entry["fluxes"]:
                    approximation = _as_grid(computed[(flux_output(entry["name"], axis), ())], count, per, phi)
                    weight = mismatch_weight(_as_grid(stiffness[axis], count, per, phi),
                                             self.config.weak_mismatch_power)
                    parts[axis] = (approximation - value) * (weight * self.weights).sqrt()
                    value = approximation
                if CENTRED_FLUXES:
                    value = _centred(value, self.weights)
                integrand = integrand + value * grad_phi[..., axis_index]
            residuals[entry["name"]] = integrand @ self.weights
            if self.mixed and entry["fluxes"]:
                mismatches[entry["name"]] = parts
        return residuals, mismatches


def default_precision(config, dimension: int) -> str:
    """The working precision when none is given: float64 for the weak form under Levenberg-Marquardt in
    :data:`FLOAT64_DIMENSIONS` (whose small balls float32 rounding would swamp; :data:`RADIUS_MIN_FRACTION`),
    float32 otherwise."""
    weak_lm = config.form == "weak" and config.optimizer == "lm" and dimension in FLOAT64_DIMENSIONS
    return "float64" if weak_lm else "float32"


def _rule_size(dimension: int, radial: int) -> tuple[int, int]:
    """``(radial, angular)`` of a polar rule with ``radial`` Gauss points, angles in the default proportion."""
    if radial < 1:
        raise BackendError(f"the weak-form quadrature needs at least 1 radial point, got {radial}")
    default_radial, default_angular = POLAR_POINTS[dimension]
    return radial, max(1, round(radial * default_angular / default_radial))


def mismatch_weight(stiffness: torch.Tensor, power: float) -> torch.Tensor:
    """``(mean(|k|) / |k|)^power`` (detached), the mixed form's flux-mismatch weight (see the module docstring).

    A constant stiffness gives 1 everywhere, and so does one that vanishes
    throughout; a stiffness near zero at some points is floored so that no
    weight exceeds :data:`MAX_MISMATCH_WEIGHT` (at a thousandth of the mean
    for ``power`` 1).
    """
    magnitude = stiffness.detach().abs()
    if power == 0:
        return torch.ones_like(magnitude)
    mean = magnitude.mean()
    usable = torch.isfinite(mean) & (mean > 0)  # decided on the device: no host read in the training step
    weight = mean / torch.maximum(magnitude, MAX_MISMATCH_WEIGHT ** (-1.0 / power) * mean)
    if power != 1.0:
        weight = weight ** power
    return torch.where(usable, weight, torch.ones_like(weight))


def _centred(value: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``value [..., P, K]`` less each ball's weighted mean over its points. Used on factors of derivatives of
    the test function, whose integral over the ball is zero, so the residual is unchanged while the products
    lose a large common part whose rounding would otherwise remain."""
    return value - (value @ weights)[..., None]


def _as_grid(value, count: int, per: int, like: torch.Tensor) -> torch.Tensor:
    """A generated expression's value as ``[..., P, K]`` (constants broadcast; leading axes, e.g. an operator's
    members, kept)."""
    if torch.is_tensor(value) and value.dim():
        if value.shape[-1] == count * per:
            return value.reshape(value.shape[:-1] + (count, per))
        return value.unsqueeze(-1) + torch.zeros_like(like)  # one value per member ([B, 1]), e.g. a param
    return torch.zeros_like(like) + value
