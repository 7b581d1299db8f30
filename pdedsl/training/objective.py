"""The training objective: mean squared residuals on sampled points, data misfit and periodicity.

Residuals that hold on the same target share one batch of points, so the
network and every derivative they need are evaluated once per batch (through
the single derivative entry point). Points are redrawn from a generator seeded
by (seed, draw number), so a resumed run sees exactly the points an
uninterrupted one would.
"""

from __future__ import annotations

from collections import OrderedDict

import torch

from ..backends import BackendError
from ..ir.problem import Problem, TargetRef
from ..runtime import derivatives, sampling
from ..runtime.instances import draw_instance
from ..runtime.interpolation import input_interpolant
from ..runtime.jets import from_autograd
from ..runtime.residuals import bind_arguments, contraction_of, requests_of
from .compiling import Compiled, worth_compiling
from .config import TrainConfig
from .data import as_tensors, load_statement, observation_keys
from .weak import WeakBatch, WeakTerms


RAD_POOL = 8  # candidate points per kept point in adaptive sampling


def field_inverse_hint(name: str, spec) -> str:
    """What to do about ``infer NAME`` of a field: its posterior needs a generative model of the family (``train``
    and ``infer`` without ``--model`` both say so)."""
    return (f"'infer {name}' asks for the posterior of a field, which needs a generative model of the family: "
            f"train one (pdedsl train {spec} --backend dgno --out RUN), then pdedsl infer {spec} --model RUN")


class Objective:
    """The loss of one problem; ``fields`` replaces what residuals read (operators: a batch of members)."""

    def __init__(self, problem: Problem, module, model, config: TrainConfig, dtype, device, fields=None):
        self.problem, self.module, self.model, self.config = problem, module, model, config
        self.dtype, self.device = dtype, device
        self.axes = [c.name for c in problem.coordinates]
        self.instance = None
        if config.instance is not None:
            self.instance = draw_instance(problem, config.instance, config.instance_grid)
        elif fields is None:
            self._check_supported()
        self.params = self._make_params()
        self.groups: "OrderedDict[tuple, list]" = OrderedDict()
        enforced = getattr(model, "enforced", set())  # conditions built into the model need no loss term
        weak_form = config.form in ("weak", "mixed")
        for entry in module.RESIDUALS:
            target = TargetRef(*entry["target"]) if entry["target"] is not None else None
            weak = weak_form and entry["kind"] == "equation" and not sampling.pinned_target(problem, target)
            if entry["name"] in enforced or weak:  # (an equation on a line or point stays strong: no ball fits)
                continue
            self.groups.setdefault((entry["kind"], target), []).append(entry)
        self.observations = self._observations() if fields is None else []
        self.data_inputs = {i.name: input_interpolant(problem, i, dtype).to(device)
                            for i in problem.inputs if i.kind == "data"}
        if self.instance is not None:
            self.data_inputs.update({name: self.instance.interpolant(name).to(device) for name in self.instance.inputs})
        self.fields = fields if fields is not None else FieldSource(model, self.data_inputs)
        # a batch of members has its own jets, computed per member (objective's fields= callers)
        choice = config.derivatives if fields is None else "forward"
        derivatives.chosen_engine(self.fields, choice)  # an impossible choice fails here
        if config.optimizer == "lm" and choice == "auto" and derivatives.supports_jets(self.fields):
            choice = "forward"  # Levenberg-Marquardt's Jacobians come through the network's jets (jacobian.py)
        compiling = worth_compiling(config) and fields is None
        if compiling and choice == "auto" and derivatives.supports_jets(self.fields):
            choice = "forward"  # autograd's double backward cannot be compiled; compiled jets are the fast path
        self.weak = WeakTerms(problem, module, config, self.fields, self.params, dtype, device,
                              choice) if weak_form else None
        self.engines = {key: derivatives.engine_for(self.fields, requests_of(entries), self.axes,
                                                    contraction_of(entries), choice)
                        for key, entries in self.groups.items()}
        self.periodic_engine = choice if choice != "auto" else derivatives.chosen_engine(self.fields)
        self._residuals_of = self._group_residuals
        if compiling:
            self._residuals_of = Compiled(self._group_residuals, "the residuals")

    # ---- set-up ----
    def _check_supported(self) -> None:
        for item in self.problem.inputs:
            if item.kind == "prior" and item.name in self.problem.inferred:
                spec = self.problem.source_name
                raise BackendError(self.problem.locate(self.problem.infer_span(item.name) or item.span,
                                                       field_inverse_hint(item.name, spec)))
            if item.kind == "prior":
                raise BackendError(self.problem.locate(
                    item.span,
                    f"the {self.config.backend} backend needs every input known, but input '{item.name}' is random; "
                    "train on one draw of it (--instance SEED), or learn the whole family with an operator backend "
                    "(--backend deeponet, multionet, fno or dgno)"))
        for param in self.problem.params:
            if param.is_random and param.name not in self.problem.inferred:
                raise BackendError(self.problem.locate(
                    param.span, f"param '{param.name}' is random; the {self.config.backend} backend solves one "
                    "problem, so give it a value, 'infer' it, train on one draw (--instance SEED), or learn the whole "
                    "family with an operator backend (--backend multionet)"))

    def _make_params(self) -> dict[str, torch.Tensor]:
        params = {}
        for param in self.problem.params:
            start = param.value if param.value is not None else _prior_mean(param.prior)
            if self.instance is not None and param.name in self.instance.params and param.name not in self.problem.inferred:
                start = self.instance.params[param.name]
            tensor = torch.tensor(float(start), dtype=self.dtype, device=self.device)
            params[param.name] = torch.nn.Parameter(tensor) if param.name in self.problem.inferred else tensor
        return params

    def trainable_params(self) -> list[torch.nn.Parameter]:
        return [p for p in self.params.values() if isinstance(p, torch.nn.Parameter)]

    def _observations(self) -> list:
        """``(term, field, coords, targets, precision)`` per ``observe`` statement of a field.

        Each statement is its own term: ``data_u``, then ``data_u_2`` for a second file of ``u``. Its
        ``precision`` weighs it against the other statements by their noise, ``(s_min / s)^2``, so the most
        precise has weight 1 (a statement with no or zero noise counts as the most precise); how much the data
        weigh against the physics is ``--weight data_u=W``.
        """
        noises = [o.noise for o in self.problem.observations if o.noise]
        finest = min(noises) if noises else None
        out = []
        fields = {f.name for f in self.problem.fields}
        self.observation_statements = {}
        for key, observation in zip(observation_keys(self.problem), self.problem.observations):
            if observation.name not in fields:  # an input's readings: the model does not output it (warned about)
                continue
            term = f"data_{key}"
            self.observation_statements[term] = observation
            points, values = load_statement(self.problem, observation, "observe", finite=True, dtype=self.dtype)
            coords, targets = as_tensors(points, values, self.dtype, self.device)
            precision = (finest / observation.noise) ** 2 if observation.noise and finest else 1.0
            out.append((term, observation.name, coords, targets, precision))
        return out

    # ---- sampling ----
    def sample(self, draw: int, adaptive: bool = False, step: int = 0) -> dict:
        """Fresh points for every target, from a generator seeded by (seed, draw).

        With ``adaptive``, equation points are chosen by residual-based
        adaptive distribution sampling (RAD; Wu et al., CMAME 2023): from a
        uniform pool RAD_POOL times larger, each point is kept with probability
        proportional to ``|r| / mean |r| + 1``, so points gather where the
        current model's residual is large (a shock) without leaving the rest.
        ``step`` places weak-form particles on their radius schedule.
        """
        generator = torch.Generator().manual_seed(self.config.seed * 1_000_003 + draw)
        batches = {}
        for kind, target in self.groups:
            count = self.config.interior_points if kind == "equation" else self.config.boundary_points
            if adaptive and kind == "equation":
                pool = self._draw(kind, target, count * RAD_POOL, generator)
                batches[(kind, target)] = self._choose(self.groups[(kind, target)], pool, count, generator)
            else:
                batches[(kind, target)] = self._draw(kind, target, count, generator)
        periodic = [sampling.sample_periodic_pairs(self.problem, p, self.config.boundary_points, generator)
                    for p in self.problem.periodic]
        out = {"groups": batches, "periodic": periodic}
        if self.weak is not None:
            out["weak"] = self.weak.sample(generator, step)
        return out

    def batches_to_state(self, batches: dict) -> dict:
        """``sample``'s result as plain tensors and lists (groups in their fixed order); with the weak form's
        particles and an operator's mini-batch of members where there are any."""
        state = {"groups": [batches["groups"][key].to_state() for key in self.groups],
                 "periodic": [[low.to_state(), high.to_state()] for low, high in batches["periodic"]]}
        if "weak" in batches:
            state["weak"] = [[b.centres, b.radii, b.times] for b in (batches["weak"][t] for t in self.weak.groups)]
        for key in ("samples", "coding"):
            if key in batches:
                state[key] = batches[key]
        return state

    def batches_from_state(self, state: dict) -> dict:
        batches = {"groups": {key: sampling.Batch.from_state(b) for key, b in zip(self.groups, state["groups"])},
                   "periodic": [(sampling.Batch.from_state(a), sampling.Batch.from_state(b))
                                for a, b in state["periodic"]]}
        if "weak" in state:
            batches["weak"] = {target: WeakBatch(*particles) for target, particles in zip(self.weak.groups,
                                                                                           state["weak"])}
        for key in ("samples", "coding"):
            if key in state:
                batches[key] = state[key].cpu()
        return batches

    def _choose(self, entries, pool, count: int, generator):
        forward = self._engine_of(entries) == "forward"
        with torch.no_grad() if forward and not self.data_inputs else torch.enable_grad():
            residuals = self._group_residuals(entries, pool)
        size = torch.stack([r.detach().double().square() for r in residuals.values()]).sum(0).sqrt().cpu()
        size = torch.nan_to_num(size, nan=0.0, posinf=0.0)
        weights = size / size.mean().clamp_min(1e-300) + 1.0
        return pool.subset(torch.multinomial(weights, count, replacement=False, generator=generator))

    def _draw(self, kind, target, count, generator):
        if kind == "initial":
            return sampling.sample_initial(self.problem, target, count, generator, dtype=self.dtype)
        if self.problem.time is not None:
            return sampling.sample_space_time(self.problem, target, count, generator, dtype=self.dtype)
        return sampling.sample_target(self.problem, target, count, generator, dtype=self.dtype)

    # ---- losses ----
    def losses(self, batches: dict) -> "OrderedDict[str, torch.Tensor]":
        terms: "OrderedDict[str, torch.Tensor]" = OrderedDict()
        weights = self.config.weights
        for key, entries in self.groups.items():
            for name, residual in self._residuals_of(entries, batches["groups"][key]).items():
                terms[name] = weights.get(name, 1.0) * residual.square().mean()
        if self.weak is not None:
            terms.update(self.weak.losses(batches["weak"]))
        for index, (low, high) in enumerate(batches["periodic"]):
            terms[f"periodic_{index + 1}"] = weights.get(f"periodic_{index + 1}", 1.0) * self._periodic(
                self.problem.periodic[index], low, high)
        for term, name, coords, targets, precision in self.observations:
            predicted = self.model(coords)[name]
            terms[term] = weights.get(term, 1.0) * precision * (predicted - targets).square().mean()
        return terms

    def undefined_terms(self, batches: dict) -> list[tuple[str, int, int, dict[str, float]]]:
        """The residuals that are NaN or infinite on ``batches``: each one's name, how many of its values, out of
        how many, and the coordinates of the first such point (empty for a weak residual, whose values are
        particles'). A fresh run checks this before its first step: a term undefined there would have every
        step skipped, without a word about where the spec is undefined."""
        found = []
        for key, entries in self.groups.items():
            batch = batches["groups"][key]
            for name, residual in self._group_residuals(entries, batch).items():
                bad = ~torch.isfinite(residual.detach()).reshape(-1)
                if bool(bad.any()):
                    index = int(bad.nonzero()[0])
                    at = {a: float(c.reshape(-1)[index]) for a, c in batch.columns().items()}
                    found.append((name, int(bad.sum()), bad.numel(), at))
        if self.weak is not None:
            for name, residual in self.weak.residuals(batches["weak"]).items():
                bad = ~torch.isfinite(residual.detach()).reshape(-1)
                if bool(bad.any()):
                    found.append((name, int(bad.sum()), bad.numel(), {}))
        return found

    def overflowing_observations(self) -> list[tuple[str, float]]:
        """``(term, largest |reading|)`` per data term whose mean square, at a model near zero, is beyond the
        working precision's range: each reading is finite (and refused when it is not representable), but the
        term's sum of squares overflows (readings of 1e19 in float32), so every step's loss would be infinite."""
        limit = torch.finfo(self.dtype).max
        return [(term, float(targets.double().abs().max()))
                for term, _, _, targets, precision in self.observations
                if float(targets.double().square().sum() * max(precision, 1e-300)) > limit]

    def residual_rows(self, batches: dict, share: float = 1.0) -> "OrderedDict[str, torch.Tensor]":
        """Every loss term as a vector of rows whose squares sum to the term (for Gauss-Newton methods).

        Row ``i`` of a residual averaged over ``n`` points is ``sqrt(w / n) * r_i``; ``share`` scales the
        counts (a rank holding 1/world of the points passes ``world``, so rows summed over ranks give the
        mean). A weak term's rows are its particles (``weak_top_k`` is left out: not a sum of squares); a
        mixed-form flux term gives one vector per flux axis (``<name>_flux#x``), a row per quadrature point; a
        periodic term gives one
        vector per matched quantity (``periodic_1#0``, ...), a row per pair; a data term a row per observation.
        """
        rows: "OrderedDict[str, torch.Tensor]" = OrderedDict()
        weights = self.config.weights

        def scaled(residual: torch.Tensor, weight: float) -> torch.Tensor:
            residual = residual.reshape(-1)
            return residual * (weight / (residual.numel() * share)) ** 0.5

        for key, entries in self.groups.items():  # eager: the Jacobian's vmap cannot go through compiled code
            for name, residual in self._group_residuals(entries, batches["groups"][key]).items():
                rows[name] = scaled(residual, weights.get(name, 1.0))
        if self.weak is not None:
            for name, residual in self.weak.residuals(batches["weak"]).items():
                rows[name] = scaled(residual, self.weak.weight(name))
        for index, (low, high) in enumerate(batches["periodic"]):
            name = f"periodic_{index + 1}"
            differences = self._periodic_differences(self.problem.periodic[index], low, high)
            for part, difference in enumerate(differences):  # (value, derivative): each a row per pair
                rows[f"{name}#{part}"] = scaled(difference, weights.get(name, 1.0))
        for term, name, coords, targets, precision in self.observations:
            rows[term] = scaled(self.model(coords)[name] - targets, weights.get(term, 1.0) * precision)
        return rows

    def _engine_of(self, entries) -> str:
        return next(self.engines[key] for key, group in self.groups.items() if group is entries)

    def _coordinates(self, batch, engine: str) -> dict[str, torch.Tensor]:
        # the forward engine needs no graph back to the coordinates unless interpolated data is differentiated
        needs_grad = engine == "autograd" or bool(self.data_inputs)
        return {a: t.to(self.device, self.dtype).detach().requires_grad_(needs_grad)
                for a, t in batch.columns().items()}

    def _group_residuals(self, entries, batch) -> dict[str, torch.Tensor]:
        coords = self._coordinates(batch, self._engine_of(entries))
        computed = derivatives.compute(self.fields, coords, requests_of(entries), self.axes,
                                       self._engine_of(entries), contraction_of(entries))
        normals = None
        if batch.normals is not None:
            normals = {a: batch.normals[:, i].to(self.device, self.dtype) for i, a in enumerate(batch.axes)}
        out = {}
        for entry in entries:
            value = entry["function"](**bind_arguments(entry, computed, coords, normals, self.params))
            out[entry["name"]] = value if torch.is_tensor(value) and value.dim() else torch.zeros_like(coords[self.axes[0]]) + value
        return out

    def field_values(self, coords: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The network's fields and the data inputs' interpolated values at ``coords``."""
        return self.fields(coords)

    def _order_along(self, field: str, axis: str) -> int:
        """The highest derivative order along ``axis`` that the residuals take of ``field``."""
        orders = [sum(count for name, count in key[1] if name == axis)
                  for entry in list(self.module.RESIDUALS) + list(getattr(self.module, "WEAK", ()))
                  for role, key in entry["arguments"].values() if role == "derivative" and key[0] == field]
        return max(orders, default=0)

    def _periodic(self, periodic, low, high) -> torch.Tensor:
        """Values and derivatives across the periodic axis agree at paired points (_periodic_differences)."""
        return sum(difference.square().mean() for difference in self._periodic_differences(periodic, low, high))

    def _periodic_differences(self, periodic, low, high) -> list[torch.Tensor]:
        """Value and derivatives across the axis, each matched at paired points: up to one below the highest
        order the residuals take of the field along that axis (first derivatives at least), since an equation of
        order k along a periodic axis leaves the derivatives below k free at the faces otherwise (a 4th-order
        equation matched in value and slope has spurious solutions)."""
        requests = [(name, ((periodic.axis, order),) if order else ())
                    for name in periodic.fields for order in range(max(self._order_along(name, periodic.axis), 2))]
        engine = self.periodic_engine
        at_low = derivatives.compute(self.fields, self._coordinates(low, engine), requests, self.axes, engine)
        at_high = derivatives.compute(self.fields, self._coordinates(high, engine), requests, self.axes, engine)
        return [at_low[r] - at_high[r] for r in requests]


class FieldSource:
    """Everything residuals read as functions of the coordinates: the model's fields and data inputs.

    Hands the derivative engine either plain values or jets; interpolated
    data inputs cannot propagate jets, so theirs come from autograd.
    """

    def __init__(self, model, data_inputs: dict):
        self.model, self.data_inputs = model, data_inputs
        self.supports_jets = bool(getattr(model, "supports_jets", False))

    def __call__(self, coords: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        values = dict(self.model(coords))
        for name, data in self.data_inputs.items():
            values[name] = data(coords)
        return values

    def jets(self, coords: dict[str, torch.Tensor], table, axes) -> dict:
        jets = dict(self.model.jets(coords, table, axes))
        for name, data in self.data_inputs.items():
            jets[name] = from_autograd(data(coords), [coords[a] for a in axes], table)
        return jets


def _prior_mean(prior) -> float:
    from ..ir import nodes

    if isinstance(prior, nodes.UniformPrior):
        return (float(prior.parameter("low")) + float(prior.parameter("high"))) / 2
    if isinstance(prior, nodes.NormalPrior):
        return float(prior.parameter("mean"))
    return 1.0
