"""Accuracy: relative L2 error of each field against its exact solution or reference data."""

from __future__ import annotations

import numpy as np
import torch

from ..ir.problem import Problem, TargetRef
from ..runtime import sampling
from ..runtime.residuals import bind_arguments
from .data import as_tensors, load_statement

EVALUATION_POINTS = 8192


def relative_l2(problem: Problem, module, model, params: dict, dtype, device, seed: int = 12345) -> dict[str, float]:
    """``{field: ||prediction - truth|| / ||truth||}`` for every field with an exact solution or reference."""
    errors = {}
    references = {r.name: r for r in problem.references}
    for name, exact in module.EXACT.items():
        coords = _evaluation_points(problem, sampling.field_targets(problem, name), dtype, device, seed)
        with torch.no_grad():
            truth = exact["function"](**bind_arguments(exact, {}, coords, params=params))
            truth = truth + torch.zeros_like(next(iter(coords.values())))
            predicted = model(coords)[name]
        errors[name] = _ratio(predicted, truth)
    for name, reference in references.items():
        if name in errors:
            continue
        points, values = load_statement(problem, reference, "reference")
        known = np.isfinite(values)  # a reference may leave points without a value (NaN): they are not compared
        coords, truth = as_tensors({a: c[known] for a, c in points.items()}, values[known], dtype, device)
        with torch.no_grad():
            predicted = model(coords)[name]
        errors[name] = _ratio(predicted, truth)
    return errors


def _ratio(predicted: torch.Tensor, truth: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(predicted - truth) / torch.linalg.vector_norm(truth).clamp_min(1e-300))


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
