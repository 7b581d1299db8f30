"""``pdedsl infer``: pose the spec's inverse problem, solve it, and keep the answer in a folder.

With ``--model RUN`` (a DGNO run trained on the same family) the answer is a
posterior over the latent variables (``inverse.py``). Without it, a spec
whose unknowns are scalars (``infer D`` for ``param D = 1.0``) is solved the
PINN way: the network and the unknowns are fitted together to the physics
and the data, and a Laplace posterior at that fit gives their standard
deviations (``scalar_posterior.py``).

An inference folder holds::

    inference.json   what was inferred from what, the method, and errors/coverage against a truth if known
    posterior.npz    z_map [m], covariance [m, m], samples [K, m] (the draws every summary uses)
    fields.npz       on the model's sensor grid: axes, and for every field and varying input its mean,
                     _std, _low/_high (95% band), _map; the observations (obs_<name>, obs_<name>_<axis>)
    spec.pde         a copy of the inverse spec (and its data files)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from .. import api
from ..files import json_text, replacing, write_text
from ..runtime.family import random_params
from .data import DataError, load_points, observation_keys, statement_axes
from .inverse import (InferError, LatentPosterior, Settings, calibration, inferred_names, observations_of,
                      posterior_mixtures, summarise)
from .model_error import CALIBRATION_MEMBERS, model_error
from .objective import field_inverse_hint
from .predict import outside_count, write_npz
from .progress import Progress
from .spec_copy import copy_spec

METHODS = {
    "laplace": "Laplace approximation in the latent space (Gauss-Newton Hessian at the MAP); {samples} draws of "
               "it pushed through the decoders, each with its inputs' likelihoods (and the model's error) around "
               "what it decodes",
    "mala": "MAP, Laplace approximation (Gauss-Newton), then Metropolis-adjusted Langevin in the latent space "
            "preconditioned by it ({chains} chains x {steps} steps, half kept); {samples} posterior draws pushed "
            "through the decoders, each with its inputs' likelihoods (and the model's error) around what it decodes",
}
PRIOR_NOTES = {
    "aggregate": "z ~ N(m, C), the encoder's aggregate posterior over the training pool (m, C its mean and "
                 "covariance)",
    "standard": "z ~ N(0, I), the generative model's nominal prior",
}
#: Time nodes of the posterior fields of a time-dependent problem.
TIME_NODES = 21
PINN_METHOD = "a PINN and the unknowns fitted together to the physics and the data"
LAPLACE_METHOD = ("Laplace (Gauss-Newton) at the fit: the network follows each unknown through the linearised "
                  "physics, the readings are Gaussian at their noise")


def infer(spec_path, model_folder, out_folder, settings: Optional[Settings] = None,
          truth: Optional[dict[str, np.ndarray]] = None, progress: bool = True) -> dict:
    """Solve the inverse problem of ``spec_path`` with the DGNO run in ``model_folder``; write ``out_folder``.

    ``truth`` (arrays on the sensor grid, by name) adds errors and coverage to the report, as do the spec's
    ``reference`` statements.
    """
    from .run import Run, RunError

    began = time.perf_counter()
    settings = settings or Settings()
    problem = api.load(spec_path)
    try:
        run = Run.open(Path(model_folder))
    except RunError as error:
        raise InferError(str(error)) from None
    _check_same_family(problem, run)
    if Path(out_folder).resolve() == run.folder.resolve():
        raise InferError(f"--out {out_folder} is the model's own run folder; write the posterior elsewhere")
    if any((Path(out_folder) / name).exists() for name in ("config.json", "checkpoint.pt")):
        raise InferError(f"--out {out_folder} holds a training run (of 'pdedsl train', or of 'pdedsl infer' without "
                         "--model); write the posterior elsewhere")
    _refuse_foreign_files(Path(out_folder))
    names = inferred_names(problem, run)
    observations = observations_of(problem, run)
    _warn_outside(problem, run, observations)
    axes = posterior_axes(run)
    shape = tuple(len(v) for v in axes.values())
    space_shape = tuple(len(v) for a, v in axes.items() if a in run.problem.axes)
    known = _truths_on_grid(_references(problem, axes), run, shape, space_shape)
    known.update(_truths_on_grid(truth or {}, run, shape, space_shape))  # checked before the long work
    error, error_note = None, "turned off"
    if settings.model_error:
        bar = Progress(CALIBRATION_MEMBERS, enabled=progress)
        error, error_note = model_error(run, progress=bar)
        bar.close()
    posterior = LatentPosterior(run, observations, settings, error)
    bar = Progress(settings.adam_steps, enabled=progress)
    w_map = posterior.find_map(bar)
    bar.close()
    whitened = posterior.laplace(w_map)
    with torch.no_grad():
        misfit = float(posterior.negative_log_posterior(w_map[None])[0])
    acceptance = None
    if settings.sampler == "mala":
        bar = Progress(settings.mala_steps, enabled=progress)
        samples, acceptance = posterior.mala(w_map, whitened, bar)
        bar.close()
    else:
        samples = posterior.draw(w_map, whitened, settings.samples, settings.seed)
    prior = posterior.prior  # from the whitened coordinates back to z
    z_map, covariance, samples = prior.latent(w_map), prior.covariance(whitened), prior.latent(samples)
    coords = _grid_coordinates(axes, run)
    # each draw's likelihoods and model error summarised as a mixture, not drawn (runtime/mixtures.py)
    mixtures = posterior_mixtures(run, posterior.decode(samples, coords), coords, error)
    summary = summarise(mixtures, posterior.decode(z_map[None], coords))
    summary = {k: _constant_in_time(k, v.reshape(_shape_of(k, run, shape, space_shape)), run)
               for k, v in summary.items()}
    report = {
        "kind": "latent",
        "problem": problem.name,
        "model": str(Path(model_folder).resolve()),
        # (so that a posterior moved together with its model still finds it)
        "model_relative": os.path.relpath(Path(model_folder).resolve(), Path(out_folder).resolve()),
        "model_checkpoint": run.checkpoint_mark,  # [step, wall s]: predict and plot refuse a model trained on since
        "method": METHODS[settings.sampler].format(samples=len(samples), chains=settings.chains,
                                                   steps=settings.mala_steps),
        "prior": PRIOR_NOTES[settings.prior],
        "acceptance": acceptance,
        "inferred": names,
        "fields": list(run.model.field_names),
        "axes": list(axes),
        "observations": {key: {"points": int(o.values.numel()), "noise": o.noise}
                         for key, o in zip(observation_keys(problem), observations)},
        "model_error": _model_error_report(error, error_note),
        "latent": posterior.latent_size,
        "particles": posterior.particles,  # of the posterior's physics (None: a strong form)
        "negative_log_posterior_map": misfit,
        "params": {n: float(summary[n].reshape(-1)[0]) for n in names if n in run.layout.scalars},
        "params_std": {n: float(summary[f"{n}_std"].reshape(-1)[0]) for n in names if n in run.layout.scalars},
        "truth": calibration(summary, known),
        "seed": settings.seed,
        "wall_s": round(time.perf_counter() - began, 2),
    }
    out = Path(out_folder)
    summary.update({f"true_{name}": np.asarray(values, dtype=np.float64) for name, values in known.items()})
    _write_folder(out, spec_path, problem, report, z_map, covariance, samples, axes, summary, observations)
    return report


def _model_error_report(error, note: str) -> dict:
    """What ``inference.json`` says about the model error: its size per field, or why it was not used."""
    if error is None:
        return {"used": False, "why": note}
    return {"used": True, "members": error.members,
            "fields": {name: {"mean_abs_bias": float(np.abs(error.mean[name]).mean()),
                              "mean_std": float(error.std[name].mean())} for name in error.fields}}


def infer_scalars(spec_path, out_folder, steps: Optional[int] = None, seed: int = 0, progress: bool = True,
                  lbfgs_steps: Optional[int] = None, instance: Optional[int] = None,
                  threads: Optional[int] = None) -> dict:
    """Fit a PINN and the spec's scalar unknowns together to the physics and the observations.

    The folder is an ordinary run folder (``predict`` and ``plot`` work on it) plus ``inference.json``.
    ``threads`` is train's setting: on a machine whose cores are busy with other work, the
    Levenberg-Marquardt phase's default of every core ran 3.5-5.7 times slower than one thread.
    """
    from .config import TrainConfig
    from .run import resume, train

    problem = api.load(spec_path)
    fields = [n for n in problem.inferred if n not in {p.name for p in problem.params}]
    if fields:
        raise InferError(problem.locate(problem.infer_span(fields[0]), field_inverse_hint(fields[0], spec_path)))
    if not problem.inferred:
        raise InferError(f"{problem.source_name}: the spec has no 'infer' statement: nothing to infer")
    if not problem.observations:
        raise InferError(problem.locate(problem.infer_span(problem.inferred[0]),
                                        "the spec observes nothing ('observe u from \"data.npz\" noise 0.01'), so "
                                        "there is nothing to infer from"))
    if instance is None:
        _check_one_problem(problem, spec_path)
    given = {name: value for name, value in (("steps", steps), ("lbfgs_steps", lbfgs_steps), ("threads", threads))
             if value is not None}
    config = TrainConfig(seed=seed, instance=instance, **given)  # (which checks their kinds and values)
    _check_not_a_training_run(Path(out_folder))
    if _killed_alike(spec_path, problem, config, Path(out_folder)):
        print(f"pdedsl: note: {out_folder} holds this inference, killed part way; continuing it from its last "
              "checkpoint (delete the folder to start afresh)", file=sys.stderr)
        result = resume(out_folder, progress=progress)
    else:
        folder = Path(out_folder)
        if (folder / "checkpoint.pt").is_file() and not (folder / "result.json").exists():
            print(f"pdedsl: note: {out_folder} holds an inference killed part way with other equations or "
                  "settings (steps, seed, ...); starting afresh (the same command as before continues it)",
                  file=sys.stderr)
        result = train(spec_path, config, out_folder, progress=progress)
    return scalar_report(problem, config, result)


POSTERIOR_KEYS = ("params", "uncertainty", "params_std", "params_interval_95", "params_fit", "params_correlation",
                  "noise", "uncertainty_notes")


def infers_scalars(problem, config) -> bool:
    """Whether a run of ``config`` fits ``problem``'s scalar unknowns to its observations: such a run, from
    ``train`` or ``infer``, ends with their posterior (:func:`posterior_of_fit`)."""
    return config.backend == "pinn" and bool(problem.observations) and any(
        p.name in problem.inferred for p in problem.params)


def posterior_of_fit(folder, problem, config, result) -> dict:
    """Add the Laplace posterior of the fitted unknowns to a finished run's ``result`` (as ``posterior``) and
    write the folder's ``inference.json`` (what ``plot`` and ``infer`` read); returns ``result``."""
    result["posterior"] = _scalar_uncertainty(folder, config)
    write_text(Path(folder) / "result.json", json_text(result, indent=2))
    write_text(Path(folder) / "inference.json", json_text(scalar_report(problem, config, result), indent=2))
    return result


def scalar_report(problem, config, result) -> dict:
    """``inference.json`` of a PINN fit: the fit's summary with the posterior's keys (``params``: its mean)."""
    report = {
        "kind": "pinn",
        "problem": problem.name,
        "method": PINN_METHOD,
        "inferred": list(problem.inferred),
        "observations": {key: {"noise": o.noise} for key, o in zip(observation_keys(problem), problem.observations)},
        "params": result["params"],
        "rel_l2": result["rel_l2"],
        "rms_error": result.get("rms_error", {}),
        "wall_s": result["wall_s"],
    }
    report.update(result.get("posterior", {}))
    if config.instance is not None:  # the draw of the other random inputs and params it was solved on (instance.npz)
        report["instance"] = config.instance
    return report


def _scalar_uncertainty(folder, config) -> dict:
    """The Laplace posterior of the fitted unknowns (scalar_posterior.py) as report keys: ``params`` become its
    mean, with ``params_std`` and the rest; where it cannot be formed, a note saying why."""
    from .run import Run, _read_config
    from .scalar_posterior import LAPLACE_FILE, NoUncertainty, laplace, with_forward_derivatives

    folder = Path(folder)
    trained = with_forward_derivatives(_read_config(folder))
    run = Run(folder / "spec.pde", trained, folder, trained=True)
    run.load_checkpoint()
    (folder / LAPLACE_FILE).unlink(missing_ok=True)  # an earlier inference's, in a folder redone in place
    try:
        posterior = laplace(run, draw=config.total_steps + 1)
    except NoUncertainty as error:
        return {"uncertainty_notes": [str(error)]}
    except (ValueError, RuntimeError) as error:  # (the fit is kept and reported whatever happens here)
        return {"uncertainty_notes": [f"no standard deviations: the Gauss-Newton matrix could not be formed "
                                      f"({type(error).__name__}: {error})"]}
    posterior.save(folder)
    return {"params": posterior.mean, "uncertainty": LAPLACE_METHOD, **posterior.report()}


def _check_one_problem(problem, spec_path) -> None:
    """The PINN fit solves one problem: a random input or param that is not inferred needs ``--instance``."""
    random = [i for i in problem.inputs if i.kind == "prior"] + [
        p for p in problem.params if p.is_random and p.name not in problem.inferred]
    for item in random[:1]:
        kind = "input" if item in problem.inputs else "param"
        raise InferError(problem.locate(item.span, f"{kind} '{item.name}' is random, and an inference without "
                                        "--model solves one problem: add --instance SEED to solve on one draw of "
                                        f"it, or train a model of the family (pdedsl train {spec_path} --backend "
                                        "dgno --out RUN) and pass --model RUN"))


def _check_not_a_training_run(folder: Path) -> None:
    """A PINN inference writes a run folder of its own: one that holds a trained model (say a dgno run meant
    as ``--model``) is refused rather than overwritten; an earlier PINN inference may be redone in place."""
    from .run import RunError

    try:
        backend = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, AttributeError):
        return  # no run there (or not one pdedsl can read, which training refuses itself)
    if backend != "pinn":
        raise RunError(f"{folder} holds a trained {backend} model; an inference without --model writes a run of "
                       f"its own: choose another --out (or pass the model: --model {folder})")
    if (folder / "result.json").exists() and not (folder / "inference.json").exists():
        raise RunError(f"{folder} holds a training run; an inference writes a run of its own: choose another --out")


def _killed_alike(spec_path, problem, config, folder: Path) -> bool:
    """Whether ``folder`` holds the same PINN inference (same equations, steps and seed), killed before it ended:
    running the command again then continues it instead of starting afresh."""
    from .. import compiler
    from ..errors import PdeError
    from .run import _read_config

    if not (folder / "checkpoint.pt").is_file() or (folder / "result.json").exists():
        return False
    try:
        previous, kept = _read_config(folder), api.load(folder / "spec.pde")
    except PdeError:  # (a RunError, or a kept spec that no longer checks)
        return False
    same_settings = all(getattr(previous, name) == getattr(config, name)
                        for name in ("backend", "steps", "lbfgs_steps", "seed", "optimizer", "form", "instance"))
    return same_settings and kept.name == problem.name and \
        compiler.generate(compiler.lower(kept), "spec.pde") == compiler.generate(compiler.lower(problem), "spec.pde")


def posterior_axes(run) -> dict[str, np.ndarray]:
    """The grid posterior fields are summarised on: the sensor grid (and time nodes, with time)."""
    axes = run.layout.nodes()
    if run.problem.time is not None:
        axes[run.problem.time.name] = np.linspace(run.problem.time.start, run.problem.time.end, TIME_NODES)
    return axes


def _grid_coordinates(axes: dict[str, np.ndarray], run) -> dict[str, torch.Tensor]:
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    return {a: torch.as_tensor(m.reshape(-1), dtype=run.dtype, device=run.device) for a, m in zip(axes, mesh)}


def _truths_on_grid(truth: dict, run, grid_shape: tuple, space_shape: tuple) -> dict[str, np.ndarray]:
    """Python truths shaped like the posterior grid; an input of a time-dependent problem may come on the
    space grid alone (it does not vary in time) and is repeated at every time node."""
    out = {}
    known = set(run.model.field_names) | set(run.layout.channels) | set(random_params(run.problem))
    for name, values in truth.items():
        if name not in known:
            raise InferError(f"truth={{'{name}': ...}}: the model has no '{name}' (it generates "
                             f"{', '.join(sorted(known))})")
        array = np.asarray(values, dtype=np.float64)
        if name not in run.model.field_names and name not in run.layout.channels:
            out[name] = array  # a param: not on the grid
            continue
        shape = _shape_of(name, run, grid_shape, space_shape)
        if array.size == int(np.prod(shape)):
            out[name] = array.reshape(shape)
        elif run.problem.time is not None and name in run.layout.channels and \
                array.size == int(np.prod(shape[:-1])):
            out[name] = np.ascontiguousarray(np.broadcast_to(array.reshape(shape[:-1] + (1,)), shape))
        else:
            raise InferError(f"the truth of '{name}' has {array.size} values, but its posterior is on a grid of "
                             f"shape {shape} (the model's sensor grid" +
                             (", times the time nodes)" if run.problem.time is not None else ")"))
    return out


def _summarised_name(key: str) -> str:
    """The field or input a summary key belongs to (``a_std`` -> ``a``)."""
    return key.rsplit("_", 1)[0] if key.endswith(("_std", "_low", "_high", "_map")) else key


def _shape_of(key: str, run, shape: tuple, space_shape: tuple) -> tuple:
    name = _summarised_name(key)
    if name in run.layout.scalars:
        return ()
    if name in run.layout.channels and run.problem.time is not None:
        return space_shape + (shape[-1],)  # inputs do not vary in time; kept on the same grid for plotting
    return shape


def _constant_in_time(key: str, values: np.ndarray, run) -> np.ndarray:
    """An input's summary in a time-dependent problem: its first time slice at every time node.

    Inputs do not depend on time; their summaries, computed without drawing, are
    the same at every time node already, and this makes it so to the last bit.
    """
    name = _summarised_name(key)
    if run.problem.time is None or name not in run.layout.channels:
        return values
    return np.ascontiguousarray(np.broadcast_to(values[..., :1], values.shape))


def _references(problem, axes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The spec's ``reference`` data on the posterior grid, which they must be given on (an inferred input's
    on its space part)."""
    out = {}
    for reference in problem.references:
        held = statement_axes(problem, reference, "reference")
        on = {a: v for a, v in axes.items() if a in held}
        try:
            points, values = load_points(reference.data.path, reference.name, tuple(on))
        except DataError as error:
            raise InferError(problem.locate(reference.span, f"'reference {reference.name}': {error}")) from None
        mesh = np.meshgrid(*on.values(), indexing="ij")
        if all(len(points[a]) == m.size and np.allclose(points[a], m.reshape(-1)) for a, m in zip(on, mesh)):
            out[reference.name] = values.reshape(mesh[0].shape)
            continue
        interpolated = _from_other_grid(points, values, on)
        if interpolated is None:
            grid = ", ".join(f"{a}: {len(v)} nodes in [{v.min():g}, {v.max():g}]" for a, v in on.items())
            raise InferError(problem.locate(reference.span, f"'reference {reference.name}' ({reference.data.path}) "
                                            f"must be given on the model's sensor grid ({grid}), or on a grid "
                                            "that covers it, to be compared"))
        out[reference.name], text = interpolated
        print(f"pdedsl: note: 'reference {reference.name}' is given on {text}; it is interpolated linearly "
              "onto the model's sensor grid to be compared", file=sys.stderr)
    return out


def _from_other_grid(points: dict, values: np.ndarray, on: dict) -> Optional[tuple[np.ndarray, str]]:
    """Reference values on a grid of their own (a finer one, say) that covers the sensor grid ``on``: their
    linear interpolant there (exact at the nodes the grids share) and the grid's description; None for
    scattered points or a grid that does not cover it."""
    from scipy.interpolate import RegularGridInterpolator

    nodes = {a: np.unique(points[a]) for a in on}
    mesh = np.meshgrid(*nodes.values(), indexing="ij")
    if values.size != mesh[0].size or any(len(points[a]) != m.size for a, m in zip(on, mesh)):
        return None
    order = np.lexsort([points[a] for a in reversed(list(on))])  # the points in the grid's own (ij) order
    if not all(np.allclose(points[a][order], m.reshape(-1)) for a, m in zip(on, mesh)):
        return None
    if any(len(n) < 2 or on[a].min() < n[0] - 1e-9 * (1 + abs(n[0])) or on[a].max() > n[-1] + 1e-9 * (1 + abs(n[-1]))
           for a, n in nodes.items()):
        return None
    gridded = values[order].reshape(mesh[0].shape)
    inside = [np.clip(v, nodes[a][0], nodes[a][-1]) for a, v in on.items()]
    wanted = np.stack([m.reshape(-1) for m in np.meshgrid(*inside, indexing="ij")], axis=-1)
    result = RegularGridInterpolator(tuple(nodes.values()), gridded)(wanted)
    shape = tuple(len(v) for v in on.values())
    return result.reshape(shape), "a grid of " + " x ".join(str(len(n)) for n in nodes.values()) + " nodes"


def _time_name(problem):
    return problem.time.name if problem.time is not None else None


def _coordinates(problem) -> list[str]:
    return list(problem.axes) + ([problem.time.name] if problem.time is not None else [])


def _check_same_family(problem, run) -> None:
    """The inverse spec must pose the model's family: the same fields and random inputs."""
    if run.config.backend != "dgno":
        raise InferError(f"the run in {run.folder} was trained with the {run.config.backend} backend; "
                         "'infer --model' needs a dgno run (leave --model out to fit a PINN to the data)")
    if {f.name for f in problem.fields} != set(run.model.field_names):
        raise InferError(f"the spec has fields {', '.join(f.name for f in problem.fields)} but the model in "
                         f"{run.folder} learned {', '.join(run.model.field_names)}")
    if tuple(problem.axes) != tuple(run.problem.axes) or _time_name(problem) != _time_name(run.problem):
        raise InferError(f"the spec's coordinates ({', '.join(_coordinates(problem))}) differ from those of the model "
                         f"in {run.folder} ({', '.join(_coordinates(run.problem))}): a different family")
    ours = {i.name for i in problem.inputs if i.kind == "prior"}
    theirs = set(run.layout.channels)
    if not ours <= theirs:
        raise InferError(f"the spec's random input(s) {', '.join(sorted(ours - theirs))} are not generated by "
                         f"the model in {run.folder} (it generates {', '.join(sorted(theirs)) or 'none'})")
    trained = {i.name: i for i in run.problem.inputs}
    for item in problem.inputs:
        if item.kind != "prior":
            continue
        if trained[item.name].kind != "prior":
            raise InferError(f"the spec's input '{item.name}' has a prior, but in the model's family "
                             f"({run.folder}) it is a {trained[item.name].kind} input: a different family")
        if trained[item.name].prior != item.prior:
            print(f"pdedsl: warning: the prior of '{item.name}' differs from the one the model in {run.folder} "
                  f"learned ({trained[item.name].prior}); the posterior uses the model's", file=sys.stderr)
    _warn_other_physics(problem, run)


def _warn_other_physics(problem, run) -> None:
    """A spec posed on another domain, or with other equations or conditions, is served by the model's own
    physics: say so (the posterior is the model family's, whatever the spec writes)."""
    from ..backends.pinn import coordinate_bounds

    ours, theirs = coordinate_bounds(problem), coordinate_bounds(run.problem)
    if not (np.allclose(ours[0], theirs[0]) and np.allclose(ours[1], theirs[1])):
        def box(bounds):
            return ", ".join(f"{a} in [{lo:g}, {hi:g}]" for a, lo, hi in zip(problem.axes, *bounds))
        print(f"pdedsl: warning: the spec's domain ({box(ours)}) differs from the one the model in {run.folder} "
              f"learned ({box(theirs)}); the posterior uses the model's", file=sys.stderr)
    for label, mine, model in (("equations", problem.equations, run.problem.equations),
                               ("boundary conditions", problem.boundary_conditions, run.problem.boundary_conditions),
                               ("initial conditions", problem.initial_conditions, run.problem.initial_conditions)):
        if _physics_of(mine) != _physics_of(model):
            print(f"pdedsl: warning: the spec's {label} differ from those of the model's family ({run.folder}); "
                  "the posterior uses the model's physics", file=sys.stderr)


def _physics_of(conditions) -> set:
    """What conditions say, whatever they are named or in which order: (kind, where, lhs - rhs expanded)."""
    import sympy

    return {(c.kind, c.target, sympy.expand(c.lhs - c.rhs)) for c in conditions}


def _warn_outside(problem, run, observations) -> None:
    """Observations outside the model's domain (or time interval) are read where the model extrapolates; a file
    whose readings all lie outside observes nothing of it (an error at its statement, as training says)."""
    for statement, observed in zip(problem.observations, observations):  # (observations_of keeps their order)
        columns = {a: t.double().cpu().numpy() for a, t in observed.coords.items()}
        outside = outside_count(run.problem, columns)
        if outside and outside == len(observed.values):
            raise InferError(problem.locate(statement.span, f"'observe {observed.name}': all {outside} of its "
                                            "readings lie outside the model's domain, so none observes the problem "
                                            "(a file of another problem, or coordinates in other units?)"))
        if outside:
            print(f"pdedsl: warning: {outside} of the {len(observed.values)} readings of '{observed.name}' lie "
                  f"outside the model's domain; the model extrapolates there", file=sys.stderr)


def _write_folder(out: Path, spec_path, problem, report, z_map, covariance, samples, axes, summary, observations):
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InferError(f"cannot create {out}: {error.strerror or error}") from None
    if Path(spec_path).resolve() != (out / "spec.pde").resolve():
        copy_spec(spec_path, problem, out)
    write_npz(out / "posterior.npz", {"z_map": z_map.double().cpu().numpy(), "covariance": covariance.cpu().numpy(),
                                      "samples": samples.double().cpu().numpy()})
    arrays = dict(axes)
    arrays.update(summary)
    for observed in observations:
        arrays[f"obs_{observed.name}"] = observed.values.double().cpu().numpy()
        for axis, values in observed.coords.items():
            arrays[f"obs_{observed.name}_{axis}"] = values.double().cpu().numpy()
    write_npz(out / "fields.npz", arrays)
    with replacing(out / "inference.json") as handle:
        handle.write(json_text(report, indent=2).encode("utf-8"))


#: Files a posterior writes at the top of its folder.
POSTERIOR_FILES = ("spec.pde", "inference.json", "posterior.npz", "fields.npz")


def _refuse_foreign_files(folder: Path) -> None:
    """A folder that is no posterior but holds files a posterior writes (the user's own spec.pde, say) is
    refused: they were overwritten without a word. An earlier posterior is redone in place."""
    if is_posterior_folder(folder):
        return
    foreign = [name for name in POSTERIOR_FILES if (folder / name).exists()]
    if foreign:
        raise InferError(f"--out {folder} holds {', '.join(foreign)}, not a posterior of pdedsl's; writing one there "
                         f"would overwrite {'it' if len(foreign) == 1 else 'them'}: choose another --out, or an empty "
                         "folder")


def is_posterior_folder(folder) -> bool:
    """Whether ``folder`` holds a latent posterior (``pdedsl infer --model``) rather than a run."""
    return all(os.path.isfile(Path(folder) / name) for name in ("posterior.npz", "inference.json"))  # (os.path:
    # False, not OSError, for a name too long)


def load_posterior_arrays(folder) -> tuple[dict, dict[str, np.ndarray]]:
    """``(inference.json, fields.npz)`` of a posterior folder."""
    folder = Path(folder)
    try:
        report = json.loads((folder / "inference.json").read_text(encoding="utf-8"))
        with np.load(folder / "fields.npz", allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError) as error:
        raise InferError(f"{folder}: cannot read the inference results ({error})") from None
    _check_report(folder, report)
    return report, arrays


def _check_report(folder: Path, report) -> None:
    """An ``inference.json`` without what posterior views read (edited by hand, or another program's file of that
    name) is an InferError saying so, not a KeyError deep inside."""
    expected = {"model": str, "problem": str, "inferred": list, "axes": list, "observations": dict}
    wrong = [key for key, kind in expected.items()
             if not isinstance(report.get(key) if isinstance(report, dict) else None, kind)]
    if wrong:
        raise InferError(f"{folder}: inference.json is damaged or not pdedsl's (no usable "
                         f"{', '.join(map(repr, wrong))}); run 'pdedsl infer' again to rewrite it")


def _model_folder(folder: Path, report: dict) -> Path:
    """The posterior's model run: where it was, or where it lies relative to the posterior (both moved)."""
    recorded = Path(report["model"])
    relative = report.get("model_relative")
    if (recorded / "config.json").is_file() or relative is None:
        return recorded
    moved = folder / relative
    return moved if (moved / "config.json").is_file() else recorded


def open_posterior(folder):
    """``(report, problem, run, samples, z_map)`` of an inference folder: its model reopened, the saved draws."""
    from .run import Run, RunError

    folder = Path(folder)
    try:
        report = json.loads((folder / "inference.json").read_text(encoding="utf-8"))
        with np.load(folder / "posterior.npz", allow_pickle=False) as archive:
            samples, z_map = archive["samples"], archive["z_map"]
    except (OSError, ValueError, KeyError) as error:
        raise InferError(f"{folder}: cannot read the inference results ({error})") from None
    _check_report(folder, report)
    try:
        run = Run.open(_model_folder(folder, report))
    except RunError as error:
        raise InferError(f"{folder}: its model run cannot be opened ({error})") from None
    inferred_on = report.get("model_checkpoint")  # (absent in folders written before session 23)
    if inferred_on is not None and inferred_on != run.checkpoint_mark:
        raise InferError(f"{folder}: the model in {report['model']} has changed since this posterior was inferred "
                         f"(its checkpoint was at step {inferred_on[0]:.0f}, now {run.checkpoint_mark[0]:.0f}); its "
                         f"latent draws mean nothing to the new decoders: run 'pdedsl infer' again")
    problem = api.load(folder / "spec.pde")
    z = torch.as_tensor(samples, dtype=run.dtype, device=run.device)
    return report, problem, run, z, torch.as_tensor(z_map, dtype=run.dtype, device=run.device)

