"""Levenberg-Marquardt: a Gauss-Newton optimiser for the last phase of PINN training.

The loss is a sum of squared residual rows, ``L = |r(theta)|^2``
(``Objective.residual_rows``). Each step forms the Jacobian ``J`` of the rows
(training/jacobian.py), the Gauss-Newton matrix ``A = J^T J`` and gradient
``g = J^T r`` in float64, and solves the damped normal equations

    (A + mu * D) delta = -g,    D = diag(A) + eps * mean(diag(A)) * I

by Cholesky (Marquardt's scaling; through the smaller of the parameters x
parameters and rows x rows systems, see :class:`_Damped`). The step is taken
if the loss falls; the damping ``mu`` then shrinks by Nielsen's rule ``max(1/3, 1 - (2 rho - 1)^3)``
(``rho``: actual over predicted decrease); otherwise it grows fourfold and the
system is solved again. Near a minimum it converges far faster than L-BFGS
on these ill-conditioned least-squares problems (Gauss-Newton and natural
gradient methods for PINNs: Müller and Zeinhofer, ICML 2023; Jnini et al. 2024).

Every step draws fresh points, so the method cannot overfit one set of
collocation points (with one fixed set it drives that set's loss to 1e-7
while the error stalls). Its cost is ``rows x parameters^2`` per step, so it
suits networks of a few thousand parameters, which is where it shines.
"""

from __future__ import annotations

import torch

from .distributed import CONTEXT
from .jacobian import OutputCapture

MU_START = 1e-3
MU_LARGEST = 1e12
EPSILON = 1e-6  # the identity's share of the damping, for directions the data do not see
MAX_PARAMETERS = 20_000  # above this a step's P x P solve costs more than it gains (the error says so)


class LevenbergMarquardt:
    """The optimiser's state (the damping) and one step on one draw of points."""

    def __init__(self, network: torch.nn.Module, objective, extra_parameters=()):
        self.network, self.objective = network, objective
        self.parameters = list(network.parameters())
        self.extra = list(extra_parameters)  # inferred scalars: columns by central differences
        self.capture = OutputCapture(network)
        self.mu = MU_START
        self.unknowns = count = sum(p.numel() for p in self.parameters) + len(self.extra)  # columns of J
        if count > MAX_PARAMETERS:
            raise ValueError(f"Levenberg-Marquardt solves a {count} x {count} system per step; use a network "
                             f"with at most {MAX_PARAMETERS} parameters (e.g. --width 32) or --optimizer lbfgs")

    def state_dict(self) -> dict:
        return {"mu": self.mu}

    def load_state_dict(self, state: dict) -> None:
        self.mu = float(state.get("mu", MU_START))

    # ---- one step ----
    def step(self, batches: dict) -> tuple[dict, bool]:
        """One damped Gauss-Newton step on ``batches``; returns the loss terms before it, and whether it moved."""
        rows, jacobian = self._linearise(batches)
        residual = torch.cat(list(rows.values())).double()
        loss = CONTEXT.total(residual.square().sum())
        terms = _terms(rows)
        if not torch.isfinite(loss) or not torch.isfinite(jacobian).all():
            self.mu = min(self.mu * 4, MU_LARGEST)
            return terms, False
        solve = _Damped(jacobian, residual)
        saved = self._flat().double()
        while self.mu < MU_LARGEST:
            delta = solve(self.mu)
            if delta is None:  # not positive definite in working precision
                self.mu *= 4
                continue
            self._assign(saved + delta)
            trial = CONTEXT.total(self._loss(batches))
            if torch.isfinite(trial) and trial < loss:
                ratio = float((loss - trial) / solve.predicted(delta).clamp_min(1e-300))
                self.mu = max(self.mu * max(1 / 3, 1 - (2 * ratio - 1) ** 3), 1e-15)
                return terms, True
            self.mu *= 4
        self._assign(saved)
        self.mu = MU_START  # no step helped on this draw: start afresh on the next one
        return terms, False

    def _linearise(self, batches: dict):
        """The rows on ``batches`` and their Jacobian (network columns, then inferred scalars)."""
        with self.capture.active():
            rows = self.objective.residual_rows(batches, self._share())
            blocks = [self.capture.jacobian(v) for v in rows.values()]
        jacobian = torch.cat(blocks, dim=0).double()
        if self.extra:
            jacobian = torch.cat([jacobian, self._extra_columns(batches)], dim=1)
        return {k: v.detach() for k, v in rows.items()}, jacobian

    def _extra_columns(self, batches: dict) -> torch.Tensor:
        """Columns of inferred scalars by central differences (a handful of extra evaluations, each in blocks
        of points without tracking the network's gradients, like a trial step's loss)."""
        columns = []
        for parameter in self.extra:
            value = parameter.detach().clone()
            h = 1e-3 * max(abs(float(value)), 1.0)
            evaluations = []
            for shifted in (value + h, value - h):
                with torch.no_grad():
                    parameter.copy_(shifted)
                with self.capture.evaluating():
                    rows = self.objective.residual_rows(batches, self._share())
                evaluations.append(torch.cat(list(rows.values())).detach().double())
            with torch.no_grad():
                parameter.copy_(value)
            columns.append((evaluations[0] - evaluations[1]) / (2 * h))
        return torch.stack(columns, dim=1)

    @staticmethod
    def _share() -> int:
        return CONTEXT.world if CONTEXT.active else 1

    def _loss(self, batches: dict) -> torch.Tensor:
        with self.capture.evaluating():  # (the rest with grad: interpolated data need it)
            rows = self.objective.residual_rows(batches, self._share())
        return torch.cat(list(rows.values())).double().square().sum()

    def _flat(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.parameters + self.extra])

    def _assign(self, flat: torch.Tensor) -> None:
        offset = 0
        with torch.no_grad():
            for parameter in self.parameters + self.extra:
                size = parameter.numel()
                parameter.copy_(flat[offset:offset + size].view_as(parameter))
                offset += size


class _Damped:
    """Solutions of ``(A + mu D) delta = -g`` for one linearisation and any damping ``mu``.

    ``A = J^T J``, ``g = J^T r`` (summed over ranks) and ``D = diag(A)``. With
    the columns scaled to unit norm, ``J_s = J D^(-1/2)``, the system becomes
    ``(J_s^T J_s + mu I) s = -J_s^T r`` with ``delta = D^(-1/2) s``; when there
    are fewer rows than parameters (one process) it is solved through the
    smaller ``rows x rows`` matrix ``J_s J_s^T + mu I`` instead (the same
    solution: ``s = -J_s^T (J_s J_s^T + mu I)^(-1) r``).
    """

    def __init__(self, jacobian: torch.Tensor, residual: torch.Tensor):
        squares = CONTEXT.total(jacobian.square().sum(0))
        self.scale = (squares + EPSILON * squares.mean().clamp_min(1e-300)).sqrt()
        scaled = jacobian / self.scale
        self.rows_form = not CONTEXT.active and scaled.shape[0] < scaled.shape[1]
        self.scaled, self.residual = scaled, residual
        self.matrix = scaled @ scaled.T if self.rows_form else CONTEXT.total(scaled.T @ scaled)
        self.gradient = CONTEXT.total(scaled.T @ residual)  # J_s^T r
        self.identity = torch.eye(self.matrix.shape[0], dtype=self.matrix.dtype, device=self.matrix.device)

    def __call__(self, mu: float):
        factor, info = torch.linalg.cholesky_ex(self.matrix + mu * self.identity)
        if int(info) != 0:
            return None
        if self.rows_form:
            s = -self.scaled.T @ torch.cholesky_solve(self.residual[:, None], factor)[:, 0]
        else:
            s = -torch.cholesky_solve(self.gradient[:, None], factor)[:, 0]
        self.last_s = s
        return s / self.scale

    def predicted(self, delta: torch.Tensor) -> torch.Tensor:
        """The decrease of the loss the linear model predicts for the last step: ``-(2 g.s + |J_s s|^2)``."""
        s = self.last_s
        model = (self.scaled @ s).square().sum() if self.rows_form else s @ (self.matrix @ s)
        return -(2 * self.gradient @ s + model)


def _terms(rows: dict) -> dict:
    """Loss terms (sums of squared rows, over every rank), periodic parts merged back into their term."""
    terms: dict = {}
    for name, values in rows.items():
        key = name.split("#")[0]
        terms[key] = terms.get(key, 0.0) + values.double().square().sum()
    totals = CONTEXT.total(torch.stack(list(terms.values())))
    return dict(zip(terms, totals.tolist()))
