"""Accuracy: relative L2 error of each field against its exact solution or reference data."""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from ..ir.problem import Problem, TargetRef
from ..runtime import sampling
from ..runtime.residuals import bind_arguments
from .data import as_tensors, load_statement

EVALUATION_POINTS = 8192


def relative_l2(problem: Problem, module, model, params: dict, dtype, device,
                seed: int = 12345) -> dict[str, Optional[float]]:
    """``{field: ||prediction - truth|| / ||truth||}`` for every field with an exact solution or reference
    (None where the truth is zero everywhere: see :func:`accuracy`)."""
    return accuracy(problem, module, model, params, dtype, device, seed)[0]


def accuracy(problem: Problem, module, model, params: dict, dtype, device,
             seed: int = 12345) -> tuple[dict[str, Optional[float]], dict[str, float]]:
    """The relative L2 error and the root-mean-square error of every field with an exact solution or reference.

    A relative error has no meaning where the truth is zero everywhere (``exact v = 0``): it is None there, and
    the RMS error, which always has one, is what a user reads for that field.
    """
    pairs = {}
    references = {r.name: r for r in problem.references}
    for name, exact in module.EXACT.items():
        coords = _evaluation_points(problem, sampling.field_targets(problem, name), dtype, device, seed)
        with torch.no_grad():
            truth = exact["function"](**bind_arguments(exact, {}, coords, params=params))
            truth = truth + torch.zeros_like(next(iter(coords.values())))
            predicted = model(coords)[name]
        pairs[name] = (predicted, truth)
    fields = {f.name for f in problem.fields}
    for name, reference in references.items():
        if name in pairs or name not in fields:  # (an inferred input's truth is a posterior's to compare)
            continue
        points, values = load_statement(problem, reference, "reference")
        known = np.isfinite(values)  # a reference may leave points without a value (NaN): they are not compared
        coords, _ = as_tensors({a: c[known] for a, c in points.items()}, values[known], dtype, device)
        truth = torch.as_tensor(values[known], dtype=torch.float64)  # (the file's values, not the run's dtype:
        # a reference beyond float32's range became inf there, and the error NaN)
        with torch.no_grad():
            predicted = model(coords)[name]
        pairs[name] = (predicted, truth)
    relative, rms = {}, {}
    for name, (predicted, truth) in pairs.items():
        predicted, truth = predicted.double().cpu().numpy(), truth.double().cpu().numpy()
        relative[name] = relative_error(predicted, truth)
        rms[name] = float(np.sqrt(np.mean((predicted - truth) ** 2)))
    return relative, rms


def relative_error(predicted: np.ndarray, truth: np.ndarray) -> Optional[float]:
    """``||predicted - truth|| / ||truth||``, or None where the truth is zero everywhere (no relative error).

    Both norms are taken of values divided by the truth's largest magnitude, so that a truth near the largest
    float (finite, so a reference may hold it) does not overflow them into inf / inf."""
    peak = float(np.max(np.abs(truth), initial=0.0))
    if peak == 0.0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # far beyond the truth, or a truth cast to float32 infinite
        # (1e308 in a float32 run): an infinite or undefined (NaN) error is the answer, said without numpy's warning
        return float(np.linalg.norm(predicted / peak - truth / peak) / np.linalg.norm(truth / peak))


def describe(name: str, relative: Optional[float], rms: Optional[float]) -> str:
    """How a field's error is said to a user: the relative L2 error, or the RMS error where the truth is zero."""
    if relative is not None:
        return f"{name}: relative L2 error {relative:.3e}"
    if rms is not None:
        return f"{name}: RMS error {rms:.3e} (the exact solution is zero: no relative error)"
    return f"{name}: no relative error (the exact solution is zero)"


def _evaluation_points(problem: Problem, targets: list[TargetRef], dtype, device, seed: int) -> dict[str, torch.Tensor]:
    """Points spread over the ``targets`` a field lives on (the same number in each), the time interval too."""
    generator = torch.Generator().manual_seed(seed)
    parts = []
    for target in targets:
        count = EVALUATION_POINTS // len(targets)
        if problem.time is not None:
            batch = sampling.sample_space_time(problem, target, count, generator, dtype=dtype)
        else:
            batch = sampling.sample_target(problem, target, count, generator, dtype=dtype)
        parts.append(batch.columns())
    return {a: torch.cat([part[a] for part in parts]).to(device) for a in parts[0]}
