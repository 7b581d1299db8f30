"""Weak-form losses (``--form weak``): each equation tested against Wendland functions on particles.

For every equation target, each draw places ``weak_particles`` balls inside
the domain (``runtime/weak/particles.py``; with time, each ball also gets a
time drawn uniformly from the interval: weak in space, strong in time). At
the ball's quadrature points ``x_jk = c_j + R_j xi_k`` the generated ``WEAK``
function gives ``(volume, flux)``, and the particle's residual is

    r_j = sum_k w_k [volume(x_jk) phi_j(x_jk) + flux(x_jk) . grad phi_j(x_jk)]

(the weights sum to 1, so it is a mean over the ball). The loss of the
equation is the mean of ``r_j^2``. Every particle and quadrature point is
evaluated in one batch through the usual derivative entry point.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

import torch

from ..backends import BackendError
from ..ir.problem import Problem, TargetRef
from ..runtime import derivatives, sampling
from ..runtime.residuals import bind_arguments, requests_of
from ..runtime.weak import Wendland, polar_ball, sample_particles, to_particles

#: (radial, angular) counts of the polar quadrature by dimension: 8 points in 1-D, 40 in 2-D, 160 in 3-D.
#: An equal-weight grid (25 points in 2-D, as in the DGNO paper) biased the trained solution by about
#: 1e-2 on 2-D Poisson; these rules average the test-function integrands to about 1e-4 or better.
POLAR_POINTS = {1: (8, 1), 2: (5, 8), 3: (5, 8)}
#: Default particle radius as a fraction of the target's narrowest bounding-box side.
RADIUS_FRACTION = 0.1


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
        self.space = list(problem.axes)
        self.axes = [c.name for c in problem.coordinates]
        self.groups: "OrderedDict[TargetRef, list]" = OrderedDict()
        derived = {entry["name"] for entry in module.WEAK}
        missing = [e["name"] for e in module.RESIDUALS if e["kind"] == "equation" and e["name"] not in derived]
        if missing:
            raise BackendError(f"no weak form could be derived for equation(s) {', '.join(missing)}; "
                               "use --form strong")
        for entry in module.WEAK:
            target = TargetRef(*entry["target"]) if entry["target"] is not None else None
            if target is None or target.kind != "domain":
                raise BackendError(f"the weak form of equation '{entry['name']}' needs its equation on a whole "
                                   f"domain ('equation in D'); regions and default targets are not supported yet "
                                   "(use --form strong)")
            self.groups.setdefault(target, []).append(entry)
        dimension = len(self.space)
        radial, angular = POLAR_POINTS[dimension]
        rule = polar_ball(dimension, radial, angular, dtype=dtype, device=device)
        self.reference, self.weights = rule.points, rule.weights
        self.test_function = Wendland(dimension)
        self.engines = {target: derivatives.engine_for(fields, requests_of(entries), self.axes, None,
                                                       engine_choice)
                        for target, entries in self.groups.items()}

    def _radius(self, target: TargetRef) -> float:
        if self.config.weak_radius:
            return float(self.config.weak_radius)
        low, high = sampling.target_sampler(self.problem, target.name).bounding_box()
        return RADIUS_FRACTION * float((high - low).min())

    def sample(self, generator: torch.Generator) -> dict:
        batches = {}
        for target in self.groups:
            domain = sampling.target_sampler(self.problem, target.name)
            radius = self._radius(target)
            particles = sample_particles(domain, self.config.weak_particles, generator,
                                         r_min=radius / 2, r_max=radius, dtype=torch.float64)
            times = None
            if self.problem.time is not None:
                start, end = self.problem.time.start, self.problem.time.end
                times = start + (end - start) * torch.rand(self.config.weak_particles, generator=generator,
                                                           dtype=torch.float64)
            batches[target] = WeakBatch(particles.centres, particles.radii, times)
        return batches

    def losses(self, batches: dict) -> "OrderedDict[str, torch.Tensor]":
        terms: "OrderedDict[str, torch.Tensor]" = OrderedDict()
        for target, entries in self.groups.items():
            for name, residual in self._residuals(entries, batches[target], self.engines[target]).items():
                terms[name] = self.config.weights.get(name, 1.0) * residual.square().mean()
        return terms

    def _residuals(self, entries, batch: WeakBatch, engine: str) -> dict[str, torch.Tensor]:
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
        computed = derivatives.compute(self.fields, coords, requests_of(entries), self.axes, engine)
        out = {}
        for entry in entries:
            volume, flux = entry["function"](**bind_arguments(entry, computed, coords, None, self.params))
            integrand = _as_grid(volume, count, per, phi) * phi
            for axis_index, value in enumerate(flux):
                integrand = integrand + _as_grid(value, count, per, phi) * grad_phi[..., axis_index]
            out[entry["name"]] = integrand @ self.weights
        return out


def _as_grid(value, count: int, per: int, like: torch.Tensor) -> torch.Tensor:
    """A generated expression's value as ``[P, K]`` (constants broadcast)."""
    if torch.is_tensor(value) and value.dim():
        return value.reshape(count, per)
    return torch.zeros_like(like) + value
