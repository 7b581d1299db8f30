"""Training an operator backend: a mini-batch of problem members per step, labels and/or physics.

The objective is the usual one (``objective.py``: strong residuals on
collocation points, weak residuals on particles, boundary terms), evaluated
for a mini-batch of ``batch_size`` members of the family at once: every
tensor the generated residuals see has shape ``[B, n]`` (members by points),
params that vary are ``[B, 1]``, and the points are shared by the members.
With labels (``pdedsl data`` files) a supervised term ``data_<field>``
compares the fields on the grid with the labels: the mean over members of
the squared relative L2 error, the quantity the test error measures (a plain
mean square would favour members with large solutions).

Modes: ``physics`` (no labels: members drawn from the priors), ``supervised``
(labels only) and ``hybrid`` (both). Accuracy is measured on a held-out set
of members solved by the reference solver: the mean over members of the
relative L2 error on the grid (``rel_l2`` in the result).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path
from typing import Optional

import torch

from ..backends import BackendError
from ..backends.operator import OperatorInputs
from ..ir.problem import Problem, TargetRef
from ..npz import shown_name
from ..passes.lowered import DerivativeRequest
from ..reference.dataset import generate, write
from ..reference.from_spec import ReferenceError
from ..runtime import priors, sampling
from ..runtime.family import FamilyError, Pool, draw_pool, load_pool, piecewise_inputs, pool_from_arrays
from ..runtime.jets import Jet, from_autograd
from .config import TrainConfig
from .objective import Objective

#: Seed of the held-out test members (training data should not be written with it).
TEST_SEED = 987_654_321
EVALUATION_CHUNK = 64  # members predicted at once when measuring the test error
DEFAULT_SAMPLES = TrainConfig.samples  # (a --samples equal to it cannot be told from no --samples at all)


def training_pool(problem: Problem, config, progress=None) -> Pool:
    """The members trained on: the labelled data file, or ``samples`` draws from the priors."""
    if config.data:
        pool = load_pool(problem, config.data, precision=config.precision)
        _warn_about_foreign_arrays(problem, config.data, "--data")
        if config.samples and config.samples < len(pool):  # the first ``samples`` members
            pool = pool.head(config.samples)
        elif config.samples > len(pool) and config.samples != DEFAULT_SAMPLES:  # asked for more than there are
            print(f"pdedsl: warning: --samples {config.samples}: {config.data} holds {len(pool)} members; training "
                  "on all of them", file=sys.stderr)
        if config.grid and tuple(pool.layout.shape) != (config.grid,) * len(pool.layout.shape):
            print(f"pdedsl: warning: --grid {config.grid} is ignored: the members of {config.data} come on their own "
                  f"{' x '.join(map(str, pool.layout.shape))} grid", file=sys.stderr)
        return pool
    if mode_of(config) != "physics":
        raise FamilyError(f"mode '{config.mode}' needs labelled data: pass --data FILE (written by 'pdedsl data')")
    return draw_pool(problem, config.samples, config.grid_points(problem), config.seed, progress)


def _warn_about_foreign_arrays(problem: Problem, path, option: str) -> None:
    """A members file with arrays that name nothing in the spec (a param 'k' the spec lacks, say) is most
    likely another problem's data, whose labels solve other equations: it trained without a word."""
    import numpy as np

    names = {*problem.axes, *(f.name for f in problem.fields), *(p.name for p in problem.params),
             *(i.name for i in problem.inputs)} | ({problem.time.name} if problem.time else set())
    try:
        with np.load(path, allow_pickle=False) as archive:
            foreign = sorted(set(archive.files) - names)
    except (OSError, ValueError):
        return
    if foreign:
        listed = ", ".join(f"'{shown_name(name)}'" for name in foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        print(f"pdedsl: warning: {option} {path}: {'an array' if len(foreign) == 1 else 'arrays'} {listed} "
              f"{'names' if len(foreign) == 1 else 'name'} nothing in problem '{problem.name}' and "
              f"{'is' if len(foreign) == 1 else 'are'} not read; is the file another problem's data?",
              file=sys.stderr)


def held_out_pool(problem: Problem, config, folder: Path, layout, progress=None) -> tuple[Optional[Pool], str]:
    """The held-out members (saved as test.npz in the run folder), or None and the reason there are none."""
    path = Path(config.test_data) if config.test_data else folder / "test.npz"
    if path.is_file():
        pool = load_pool(problem, path, precision=config.precision)
        if config.test_data:
            _warn_about_foreign_arrays(problem, path, "--test-data")
    elif config.test_data:
        raise FamilyError(f"{path}: no such test data file")
    elif not config.test_samples:
        return None, "no held-out test set was asked for (--test 0)"
    else:
        nodes = layout.nodes()
        grid = len(next(iter(nodes.values())))
        try:
            arrays = generate(problem, config.test_samples, grid, TEST_SEED, progress)
        except ReferenceError as error:
            return None, f"no reference solver for this spec ({error})"
        write(path, arrays)
        pool = pool_from_arrays(problem, arrays, str(path))
    if pool.layout.axes != layout.axes and layout.channels:  # (params alone: the grid reads no input)
        hint = ""
        if config.test_data and not config.data and len(set(pool.layout.shape)) == 1:  # drawn on --grid's nodes
            hint = (f" (its own grid is {' x '.join(str(n) for n in pool.layout.shape)}: pass --grid "
                    f"{pool.layout.shape[0]} to draw the training members on it, or --data with members on it)")
        raise FamilyError(f"{path}: its grid differs from the training grid; the operator reads inputs on "
                          f"{' x '.join(str(n) for n in layout.shape)} nodes{hint}")
    return pool, ""


def mode_of(config) -> str:
    if config.mode != "auto":
        return config.mode
    return "supervised" if config.data else "physics"


class OperatorFields:
    """What the residuals read for the current mini-batch of members: the model's fields and the inputs.

    Everything is ``[B, n]``: the points are shared (``[n]``), the members
    differ. Derivatives always come as jets: the model's own when it
    propagates them (one pass over the ``n`` points), otherwise by autograd on
    per-member copies of the points (autograd would sum over members if all
    shared one leaf); inputs by autograd the same way, piecewise-constant
    inputs with zero slope.
    """

    supports_jets = True
    skips_derivatives = True  # jets() takes ``differentiated`` (passed on to a model that takes it)

    def __init__(self, model, inputs: OperatorInputs, grid_fields: dict, piecewise: set):
        self.model, self.all_inputs, self.grid_fields, self.piecewise = model, inputs, grid_fields, piecewise
        self.data_inputs = grid_fields  # non-empty: residual points must allow autograd for the inputs
        self.fixed: dict = {}  # inputs read from data files: the same for every member
        self.rows: Optional[torch.Tensor] = None
        self.inputs: Optional[OperatorInputs] = None

    def use(self, rows: torch.Tensor) -> None:
        """Evaluate members ``rows`` of the pool from now on."""
        self.rows = rows
        self.inputs = self.all_inputs.select(rows)

    def generate_inputs(self, inputs, generated) -> None:
        """Evaluate the members ``inputs`` (e.g. a generative model's latent variables) from now on, reading the
        inputs named in ``generated`` from the model's own outputs instead of the sampled grids."""
        self.grid_fields = {k: v for k, v in self.grid_fields.items() if k not in set(generated)}
        self.data_inputs = self.grid_fields or self.fixed
        self.all_inputs = inputs
        self.use(torch.arange(len(inputs)))

    def __call__(self, coords: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        shared = {a: t.reshape(1, -1) for a, t in coords.items()}
        values = dict(self.model(shared, self.inputs))
        for name, field in self.grid_fields.items():
            values[name] = field(shared, rows=self.rows)
        for name, field in self.fixed.items():
            values[name] = field(shared)
        return values

    def jets(self, coords: dict[str, torch.Tensor], table, axes, differentiated: Optional[frozenset] = None) -> dict:
        """Every field and input as a jet for ``table``; with ``differentiated`` (the names whose derivatives are
        read), a model that can gives the others as values alone (``runtime/derivatives.py``)."""
        skip = {"differentiated": differentiated} if differentiated is not None and \
            getattr(self.model, "skips_derivatives", False) else {}
        shared = {a: t.detach().reshape(1, -1) for a, t in coords.items()}
        members = len(self.inputs)
        with torch.enable_grad():
            leaves = {a: t.expand(members, -1).clone().requires_grad_(True) for a, t in shared.items()}
            points = [leaves[a] for a in axes]
            if getattr(self.model, "supports_jets", False):
                jets = dict(self.model.jets(shared, table, axes, self.inputs, **skip))
            else:
                jets = {name: from_autograd(value, points, table)
                        for name, value in self.model(leaves, self.inputs).items()}
            for name, field in self.grid_fields.items():
                if name in self.piecewise or table.order == 0:
                    jets[name] = Jet.constant(table, field(shared, rows=self.rows))
                else:
                    jets[name] = from_autograd(field(leaves, rows=self.rows), points, table)
            for name, field in self.fixed.items():
                jets[name] = from_autograd(field(leaves), points, table)
        return jets


class OperatorObjective(Objective):
    """The objective of ``objective.py`` over mini-batches of members, plus the supervised term."""

    def __init__(self, problem: Problem, module, model, config, dtype, device, pool: Pool):
        self.mode = mode_of(config)
        if config.instance is not None:
            raise FamilyError(f"--instance picks one member of the family for a single-problem backend; the "
                              f"{config.backend} backend learns the whole family (leave --instance out)")
        if self.mode != "physics" and not pool.labelled:
            raise FamilyError(f"mode '{self.mode}' needs labelled data (--data FILE)")
        network = getattr(model, "model", model)  # inside a HardDirichlet wrapper
        multilinear = getattr(network, "multilinear", False)
        if self.mode != "supervised" and multilinear and _second_order(module, config.form, problem):
            way_out = ("train it with --form weak, or supervised (--data)" if config.form == "strong" else
                       f"--form {config.form} {_why_second_order(module, config.form, problem)}; train it "
                       "supervised (--data)")
            raise BackendError(f"the {config.backend} backend's fields are multilinear between grid nodes, so "
                               f"their second derivatives vanish: {way_out}")
        self.pool = pool
        inputs = pool.operator_inputs(dtype).to(device)
        piecewise = piecewise_inputs(problem)
        nodes = list(pool.layout.nodes().values())
        grid_fields = {name: priors.GridField(nodes, pool.grid_inputs[name], names=list(pool.layout.axis_names),
                                              piecewise_constant=name in piecewise).to(device)
                       for name in pool.layout.channels if _read_by_residuals(module, name)}
        fields = OperatorFields(model, inputs, grid_fields, piecewise)
        super().__init__(problem, module, model, config, dtype, device, fields=fields)
        fields.fixed = self.data_inputs
        self.varying = {name: torch.as_tensor(values, dtype=dtype, device=device)
                        for name, values in pool.params.items()}
        for name in self.varying:  # set per member each step (an inferred one too: it varies over the family)
            self.params[name] = self.params[name].detach()
        if self.mode == "supervised":  # labels only: no residual terms
            self.groups.clear()
            self.engines.clear()
            self.weak = None
        self.grid_points = {a: torch.as_tensor(values, dtype=dtype, device=device)
                            for a, values in pool.label_points().items()}
        self.labels = {name: torch.as_tensor(values.reshape(len(pool), -1), dtype=dtype, device=device)
                       for name, values in pool.fields.items()}
        # squared norm of each member's labels (the mean over members where a member's is zero)
        self.label_norms = {name: _norms(values) for name, values in self.labels.items()}

    def sample(self, draw: int, adaptive: bool = False, step: int = 0) -> dict:
        batches = super().sample(draw, adaptive=False, step=step)
        generator = torch.Generator().manual_seed(self.config.seed * 7_919 + draw + 1)
        count = min(self.config.batch_size, len(self.pool))
        if step >= self.config.steps:  # L-BFGS needs one deterministic objective: every member at once
            count = len(self.pool)
        order = torch.randperm(len(self.pool), generator=generator)
        batches["samples"] = order[:count]
        coding = self.config.coding_batch
        if coding > count and hasattr(getattr(self.model, "model", self.model), "latent_terms"):
            batches["coding"] = order[count:coding]  # more members for the generative model's autoencoder
        batches["kl_scale"] = kl_scale(self.config, step)
        return batches

    def losses(self, batches: dict) -> "OrderedDict[str, torch.Tensor]":
        rows = batches["samples"].to(self.device)
        self.fields.use(rows)
        for name, values in self.varying.items():
            self.params[name] = values[rows][:, None]
        network = getattr(self.model, "model", self.model)  # inside a HardDirichlet wrapper
        latent = hasattr(network, "latent_terms")  # a generative model (dgno): one latent draw per step
        if latent:
            extra = batches.get("coding")
            network.begin_batch(self.fields.inputs,
                                None if extra is None else self.fields.all_inputs.select(extra.to(self.device)))
        terms = super().losses(batches) if self.mode != "supervised" else OrderedDict()
        if latent:
            for name, value in network.latent_terms().items():
                scale = batches.get("kl_scale", 1.0) if name == "kl" else 1.0
                terms[name] = self.config.weights.get(name, 1.0) * scale * value
        if self.mode != "physics":
            # bf16 only here: label terms need no derivatives, whose accuracy an 8-bit mantissa would ruin
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.precision == "bf16"):
                predicted = self.model({a: t[None] for a, t in self.grid_points.items()}, self.fields.inputs)
            for name, labels in self.labels.items():
                truth = labels[rows]
                error = predicted[name].to(truth.dtype) - truth
                misfit = (error.square().sum(1) / self.label_norms[name][rows]).mean()
                terms[f"data_{name}"] = self.config.weights.get(f"data_{name}", 1.0) * misfit
        return terms

    def predict_pool(self, pool: Pool) -> dict[str, torch.Tensor]:
        """The model's fields for every member of ``pool`` on its grid, ``[N, n]`` per field."""
        inputs = pool.operator_inputs(self.dtype).to(self.device)
        points = {a: torch.as_tensor(values[None], dtype=self.dtype, device=self.device)
                  for a, values in pool.label_points().items()}
        out: dict[str, list] = {}
        with torch.no_grad():
            for start in range(0, len(pool), EVALUATION_CHUNK):
                chunk = inputs.select(slice(start, start + EVALUATION_CHUNK))
                for name, values in self.model(points, chunk).items():
                    out.setdefault(name, []).append(values)
        return {name: torch.cat(parts) for name, parts in out.items()}

    def test_errors(self, pool: Pool) -> dict[str, float]:
        """Mean over members of ``||prediction - truth|| / ||truth||`` on the grid, per field."""
        predicted = self.predict_pool(pool)
        errors = {}
        for name, truth in pool.fields.items():
            truth = torch.as_tensor(truth.reshape(len(pool), -1), dtype=torch.float64)
            difference = predicted[name].double().cpu() - truth
            ratio = difference.norm(dim=1) / truth.norm(dim=1).clamp_min(1e-300)
            errors[name] = float(ratio.mean())
        return errors


def kl_scale(config, step: int) -> float:
    """The KL term's share of its weight at ``step``: rising linearly from 0 over the first ``kl_warmup`` of the
    Adam steps, then 1 (so the objective ends as the ELBO). Early on the encoder's noise would otherwise hide
    latent directions the decoders have not learnt to use yet, and they stay unused (posterior collapse)."""
    ramp = config.kl_warmup * config.steps
    return 1.0 if ramp <= 0 else min(1.0, step / ramp)


def _norms(values: torch.Tensor) -> torch.Tensor:
    norms = values.square().sum(1)
    return torch.where(norms > 0, norms, norms.mean().clamp_min(1e-30))


def _entries_read(module, form: str, problem: Optional[Problem] = None) -> list:
    """The module's entries the run evaluates: under --form weak or mixed each equation's weak form stands in
    for its strong residual, except on a region without volume (``O where x == 0.5``: no ball fits, so
    training keeps it strong; needs ``problem``)."""
    if form == "strong":
        return list(module.RESIDUALS)

    def pinned(entry) -> bool:
        return problem is not None and entry["target"] is not None and \
            sampling.pinned_target(problem, TargetRef(*entry["target"]))
    return [e for e in module.RESIDUALS if e["kind"] != "equation" or pinned(e)] + \
        [e for e in module.WEAK if not pinned(e)]


def derivatives_read(module, form: str, problem: Optional[Problem] = None) -> set:
    """The (name, ((axis, count), ...)) derivatives the run's residuals read (see :func:`_entries_read`)."""
    return {key for entry in _entries_read(module, form, problem)
            for role, key in entry["arguments"].values() if role == "derivative"}


def _second_order(module, form: str, problem: Optional[Problem] = None) -> bool:
    """Whether the residuals of ``form`` read a derivative of order 2 or more (of a field or an input)."""
    return any(sum(c for _, c in orders) >= 2 for _, orders in derivatives_read(module, form, problem))


def _why_second_order(module, form: str, problem: Optional[Problem] = None) -> str:
    """What the weak or mixed form still reads of second order, and where (``d(u, x, 2) in equation_1``): a
    term kept strong, a factor of a third- or fourth-order term moved twice onto the test function
    (``laplace(u)`` of ``laplace(laplace(u))``), an equation on a line, or a condition."""
    read = {}
    for entry in _entries_read(module, form, problem):
        for role, key in entry["arguments"].values():
            if role == "derivative" and sum(c for _, c in key[1]) >= 2:
                read.setdefault(DerivativeRequest(key[0], tuple(key[1])).display, []).append(entry["name"])
    listed = "; ".join(f"{d} in {', '.join(dict.fromkeys(names))}" for d, names in sorted(read.items()))
    return f"still reads second derivatives ({listed}; see pdedsl show --form {form})"


def _read_by_residuals(module, name: str) -> bool:
    entries = list(module.RESIDUALS) + list(module.WEAK)
    return any(role == "derivative" and key[0] == name for entry in entries for role, key in entry["arguments"].values())
