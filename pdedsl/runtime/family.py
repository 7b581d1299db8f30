"""A spec's family of problems as arrays: samples of its random inputs and params on a sensor grid.

Operator backends learn the map from a problem member's inputs to its
fields. Which inputs vary: every ``input a ~ <prior>``, and every formula
input that reads a random param or a random input, directly or through
another formula input (``input g = 2.1 + sin(b1*x)`` with
``param b1 ~ uniform(...)``; ``input f2 = f + s``); every random param is
also a scalar input. A formula input that reads time is no sensor channel
(the sensor grid has space axes only): the residuals substitute every
formula, so the operator needs no channel for it, and the random params and
inputs it reads reach the operator as inputs of their own.
A :class:`Pool` holds ``N`` members: those inputs on the grid (channels of
an :class:`~pdedsl.backends.operator.OperatorInputs`), the params, and,
when labelled, the fields on the same grid.

Member ``i`` of a pool drawn with seed ``S`` is exactly sample ``i`` of
``pdedsl data --seed S`` (both use ``dataset.sample_seed(S, i)``), so an
unlabelled pool and a data file with the same seed describe the same problems.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional

import numpy as np
import sympy
import torch
from sympy.core.function import AppliedUndef

from ..backends.operator import OperatorInputs, SensorLayout
from ..errors import PdeError
from ..ir import nodes
from ..ir.problem import Problem
from ..layout import beyond_range
from ..npz import ArrayError, NpzError, read_arrays
from .instances import draw_instance
from .interpolation import interpolant
from .predicates import EvaluationError, evaluate

#: Sensor grid nodes per axis by number of space axes, when neither data nor the user says.
DEFAULT_GRID = {1: 129, 2: 29, 3: 17}


class FamilyError(PdeError):
    """A pool of samples cannot be built or read (the message says why)."""


def random_params(problem: Problem) -> tuple[str, ...]:
    """Params with a prior: they vary over the family (an inferred one too; 'pdedsl infer' recovers it)."""
    return tuple(p.name for p in problem.params if p.is_random)


def varying_inputs(problem: Problem) -> tuple[str, ...]:
    """Inputs that change from member to member on the sensor grid: random ones, and formulas of random params
    or inputs that do not vary in time (read neither time nor data over time)."""
    random = set(random_params(problem)) | {i.name for i in problem.inputs if i.kind == "prior"}
    reads = formula_reads(problem)
    return tuple(item.name for item in problem.inputs if item.kind == "prior" or
                 (item.kind == "formula" and reads[item.name] & random and not _over_time(problem, item)))


def _over_time(problem: Problem, item) -> bool:
    """Whether input ``item`` varies in time (a formula reading time, or data over time, directly or not)."""
    return problem.time is not None and problem.time.name in item.axes


def formula_reads(problem: Problem) -> dict[str, set[str]]:
    """The names each formula input reads (coordinates, params, inputs), through the formula inputs it reads."""
    formulas = {i.name: i.formula for i in problem.inputs if i.kind == "formula"}

    def reads(name: str, seen: frozenset) -> set[str]:
        names = _names_in(formulas[name])
        for other in (names & formulas.keys()) - seen:
            names |= reads(other, seen | {other})
        return names

    return {name: reads(name, frozenset({name})) for name in formulas}


def _names_in(expr) -> set[str]:
    """Symbols and applied functions (inputs such as ``f(x, y)``) of ``expr``, by name."""
    return {s.name for s in expr.free_symbols} | {f.func.__name__ for f in expr.atoms(AppliedUndef)}


def piecewise_inputs(problem: Problem) -> set[str]:
    """Inputs evaluated by nearest node off the grid (two-phase fields stay two-phase)."""
    return {i.name for i in problem.inputs if i.kind == "prior" and i.prior.atoms(nodes.Threshold)}


@dataclass
class Pool:
    """``N`` members of the family on one grid; ``fields`` is empty when unlabelled."""

    layout: SensorLayout
    grid_inputs: dict[str, np.ndarray]  # name -> [N, *shape]
    params: dict[str, np.ndarray]  # random param -> [N]
    fields: dict[str, np.ndarray]  # field -> [N, *shape] (labels), or [N, *shape, nt] with time
    times: Optional[tuple[str, np.ndarray]] = None  # (time name, nodes) of time-dependent labels

    def head(self, count: int) -> "Pool":
        """The first ``count`` members."""
        return Pool(self.layout, {k: v[:count] for k, v in self.grid_inputs.items()},
                    {k: v[:count] for k, v in self.params.items()}, {k: v[:count] for k, v in self.fields.items()},
                    self.times)

    def label_axes(self) -> dict[str, np.ndarray]:
        """The nodes of the grid the fields live on: the sensor grid's, then time's."""
        axes = self.layout.nodes()
        if self.times is not None:
            axes[self.times[0]] = self.times[1]
        return axes

    def label_points(self) -> dict[str, np.ndarray]:
        """Every node of the label grid, flattened, by coordinate name."""
        axes = self.label_axes()
        mesh = np.meshgrid(*axes.values(), indexing="ij")
        return {a: m.reshape(-1) for a, m in zip(axes, mesh)}

    def __len__(self) -> int:
        arrays = list(self.grid_inputs.values()) + list(self.params.values()) + list(self.fields.values())
        return len(arrays[0]) if arrays else 0

    @property
    def labelled(self) -> bool:
        return bool(self.fields)

    def operator_inputs(self, dtype=torch.float64) -> OperatorInputs:
        """Every member, as the operator networks read them (CPU tensors)."""
        grid = scalars = None
        if self.layout.channels:
            grid = torch.as_tensor(np.stack([self.grid_inputs[c] for c in self.layout.channels], axis=1), dtype=dtype)
        if self.layout.scalars:
            scalars = torch.as_tensor(np.stack([self.params[s] for s in self.layout.scalars], axis=1), dtype=dtype)
        return OperatorInputs(grid, scalars)


def layout_of(problem: Problem, axes: dict[str, np.ndarray]) -> SensorLayout:
    return SensorLayout.of(axes, varying_inputs(problem), random_params(problem))


def draw_pool(problem: Problem, n: int, grid: int, seed: int, progress=None) -> Pool:
    """``n`` unlabelled members drawn from the priors, inputs on ``grid`` nodes per axis."""
    _check_family(problem)
    channels = varying_inputs(problem)
    grid_inputs: dict[str, list] = {c: [] for c in channels}
    params: dict[str, list] = {p: [] for p in random_params(problem)}
    axes = None
    from ..reference.dataset import sample_seed

    for index in range(n):
        instance = draw_instance(problem, sample_seed(seed, index), points=grid)
        axes = instance.axes
        for name in params:
            params[name].append(instance.params[name])
        values = formula_inputs(problem, axes, instance.params, instance.inputs)
        values.update(instance.inputs)
        for name in channels:
            grid_inputs[name].append(values[name])
        if progress is not None:
            progress.update(index + 1, "draw", {})
    return Pool(layout_of(problem, axes), {k: np.asarray(v) for k, v in grid_inputs.items()},
                {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}, {})


def formula_inputs(problem: Problem, axes: dict[str, np.ndarray], params: dict[str, float],
                   inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The varying formula inputs on the grid for one member, from its random ``params`` and ``inputs`` (its
    random inputs on the grid); a formula input they read is evaluated first, a data input interpolated."""
    known = {c.name: c.value for c in problem.constants}
    known.update({p.name: p.value for p in problem.params if p.value is not None})
    known.update(params)
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    values = {a: torch.as_tensor(m) for a, m in zip(axes, mesh)}
    values.update({name: torch.as_tensor(v) for name, v in inputs.items()})
    items = {i.name: i for i in problem.inputs}

    def value(name: str) -> torch.Tensor:
        if name in values:
            return values[name]
        item = items[name]
        if item.kind == "data":
            flat = {a: v.reshape(-1) for a, v in values.items() if a in axes}
            values[name] = interpolant(item.data.path, name, tuple(axes))(flat).reshape(mesh[0].shape)
            return values[name]
        for other in _names_in(item.formula) & items.keys():
            value(other)
        plain = item.formula.xreplace({f: sympy.Symbol(f.func.__name__) for f in item.formula.atoms(AppliedUndef)})
        try:
            values[name] = evaluate(plain, values, known)
        except EvaluationError as error:
            where = f"{problem.source_name}:{item.span.line}:{item.span.column}: " if item.span is not None else ""
            raise FamilyError(f"{where}input '{name}': cannot evaluate its formula on the sensor grid ({error})") \
                from None
        return values[name]

    return {name: np.broadcast_to(value(name).double().numpy(), mesh[0].shape).copy()
            for name in varying_inputs(problem) if items[name].kind == "formula"}


def _check_coordinates_fit(problem: Problem, coordinates: dict[str, np.ndarray], origin: str,
                           training: bool = True) -> None:
    """Members whose grid runs past the problem's domain or time interval are another problem's (data made
    for ``time t: [0, 1]`` given to a spec of ``[1, 2]``): refused for training, rather than learned at the
    wrong places; members to predict for get a warning (the model extrapolates there)."""
    from ..backends.pinn import coordinate_bounds

    lows, highs = coordinate_bounds(problem)
    names = list(problem.axes) + ([problem.time.name] if problem.time is not None else [])
    for name, low, high in zip(names, lows, highs):
        values = coordinates.get(name)
        if values is None or values.size == 0 or not np.all(np.isfinite(values)):
            continue
        if values.size > 1 and not np.all(np.diff(values) > 0):
            raise FamilyError(f"{origin}: its '{name}' is not strictly increasing: a grid axis lists its nodes "
                              "from low to high, each once")
        slack = 1e-6 * max(high - low, 1e-12)
        if values.min() < low - slack or values.max() > high + slack:
            what = "time interval" if problem.time is not None and name == problem.time.name else "domain"
            said = f"{origin}: its '{name}' runs over [{values.min():g}, {values.max():g}], past the problem's " \
                   f"{what} [{low:g}, {high:g}]"
            if training:
                raise FamilyError(f"{said}; its members are of another problem")
            print(f"pdedsl: warning: {said}: the model extrapolates there", file=sys.stderr)
        if training and name in problem.axes and (values.min() > low + slack or values.max() < high - slack):
            raise FamilyError(f"{origin}: its '{name}' runs over [{values.min():g}, {values.max():g}], which does "
                              f"not span the problem's domain [{low:g}, {high:g}]: the sensors cover the whole domain")


def _members_layout(problem: Problem) -> str:
    """The arrays of a file of members to predict for, spelt out: 'pdedsl data' writes none where the
    reference solver refuses the spec (a disk, a Robin condition, a system), and NumPy can."""
    grid = ", ".join(f"len({a})" for a in problem.axes)
    parts = [f"the sensor axes {', '.join(problem.axes)} as 1-D arrays"]
    inputs = [i.name for i in problem.inputs if i.kind == "prior"]
    if inputs:
        parts.append(f"each random input ({', '.join(map(repr, inputs))}) as (members, {grid})")
    params = list(random_params(problem))
    if params:
        parts.append(f"each random param ({', '.join(map(repr, params))}) as (members,)")
    if problem.time is not None:
        parts.append(f"the times to answer at as a 1-D '{problem.time.name}'")
    return f" where its reference solver takes the spec, or with numpy.savez: {'; '.join(parts)}"


def pool_from_arrays(problem: Problem, arrays: dict[str, np.ndarray], origin: str, labelled: bool = True,
                     precision: str | None = None) -> Pool:
    """A pool from ``pdedsl data``'s layout: axis arrays, ``[n, *grid]`` inputs and fields, ``[n]`` params.

    With ``labelled=False`` the fields may be missing (members to predict for). With a run's ``precision``
    ('float32', 'bf16' or 'float64'), values it cannot hold (1e300 in float32, where it is inf) are refused.
    """
    _check_family(problem)
    field_names = [f.name for f in problem.fields if labelled or f.name in arrays]
    missing = [name for name in (*problem.axes, *field_names) if name not in arrays]
    missing += [name for name in random_params(problem) if name not in arrays]
    missing += [i.name for i in problem.inputs if i.kind == "prior" and i.name not in arrays]
    if missing:
        raise FamilyError(f"{origin}: no array named {', '.join(map(repr, missing))} (of the names this spec "
                          f"uses, it has {', '.join(sorted(arrays)) or 'none'}); write it with 'pdedsl data'"
                          + ("" if labelled else _members_layout(problem)))
    used = (*problem.axes, *((problem.time.name,) if problem.time is not None else ()), *field_names,
            *random_params(problem), *varying_inputs(problem))
    for name in used:  # (text, objects or complex numbers given from Python; files are checked when read)
        if name in arrays and np.asarray(arrays[name]).dtype.kind not in "biuf":
            raise FamilyError(f"{origin}: '{name}' holds {np.asarray(arrays[name]).dtype} values; real numbers "
                              "are needed")
    axes = {a: np.asarray(arrays[a], dtype=np.float64).reshape(-1) for a in problem.axes}
    shape = tuple(len(v) for v in axes.values())
    times = None
    if problem.time is not None:
        if problem.time.name not in arrays:
            raise FamilyError(f"{origin}: no array named '{problem.time.name}' (the time nodes of the fields)")
        times = (problem.time.name, np.asarray(arrays[problem.time.name], dtype=np.float64).reshape(-1))
    _check_coordinates_fit(problem, {**axes, **dict([times] if times else [])}, origin, training=labelled)
    label_shape = shape + ((len(times[1]),) if times is not None else ())
    fields = {name: np.asarray(arrays[name], dtype=np.float64) for name in field_names}
    members = [np.asarray(arrays[n]) for n in (*field_names, *random_params(problem), *varying_inputs(problem))
               if n in arrays]
    if any(m.ndim == 0 for m in members):
        raise FamilyError(f"{origin}: every input, param and field needs one entry per member (first axis); "
                          "a single number (a 0-d array) has none")
    count = len(members[0]) if members else 0
    if members and count == 0:
        raise FamilyError(f"{origin}: it holds no members (its arrays are empty)")
    for name, values in fields.items():
        if values.shape != (count,) + label_shape:
            grid = " x ".join(tuple(problem.axes) + ((problem.time.name,) if times is not None else ()))
            raise FamilyError(f"{origin}: '{name}' has shape {values.shape}, expected {(count,) + label_shape} "
                              f"(samples, then the grid {grid})")
    params = {p: np.asarray(arrays[p], dtype=np.float64).reshape(-1) for p in random_params(problem)}
    for name, values in params.items():
        if values.shape != (count,):
            raise FamilyError(f"{origin}: param '{name}' has {values.size} values for {count} samples")
    grid_inputs = {}
    for name in varying_inputs(problem):
        if name in arrays:
            values = np.asarray(arrays[name], dtype=np.float64)
            if values.shape == shape and (count,) + shape != shape:
                raise FamilyError(f"{origin}: input '{name}' has shape {values.shape}, one member's values: members "
                                  f"come first, {('n',) + shape} (for one member, values[None])")
            if values.shape != (count,) + shape:
                raise FamilyError(f"{origin}: input '{name}' has shape {values.shape}, expected {(count,) + shape}")
            grid_inputs[name] = values
    for kind, group in (("field", fields), ("param", params), ("input", grid_inputs)):
        for name, values in group.items():
            if not np.isfinite(values).all():
                raise FamilyError(f"{origin}: {kind} '{name}' has {int(np.size(values) - np.isfinite(values).sum())}"
                                  " non-finite values (nan or inf)")
            too_large = _beyond_precision(name, values, precision)
            if too_large is not None:
                raise FamilyError(f"{origin}: {too_large}")
    random = [i.name for i in problem.inputs if i.kind == "prior"]
    formulas = [name for name in varying_inputs(problem) if name not in grid_inputs]  # evaluated per member
    evaluated = [formula_inputs(problem, axes, {k: v[i] for k, v in params.items()},
                                {n: grid_inputs[n][i] for n in random}) for i in range(count if formulas else 0)]
    grid_inputs.update({name: np.asarray([e[name] for e in evaluated]).reshape((count,) + shape) for name in formulas})
    return Pool(layout_of(problem, axes), grid_inputs, params, fields, times)


def _beyond_precision(name: str, values: np.ndarray, precision: str | None) -> str | None:
    """:func:`~pdedsl.layout.beyond_range` at a run's ``precision`` (bf16 keeps its values in float32)."""
    if precision is None:
        return None
    held = np.float64 if precision == "float64" else np.float32
    return beyond_range(name, values, float(np.finfo(held).max), np.dtype(held).name)


def load_pool(problem: Problem, path, labelled: bool = True, precision: str | None = None) -> Pool:
    """A pool from an .npz written by ``pdedsl data`` (``labelled=False``: fields optional; ``precision``:
    see :func:`pool_from_arrays`)."""
    return pool_from_arrays(problem, member_arrays(problem, path), str(path), labelled, precision)


def member_arrays(problem: Problem, path) -> dict[str, np.ndarray]:
    """The arrays of a members file that the problem names (axes, time, fields, params, inputs); other arrays
    are left unread, so an unrelated one (even one numpy cannot load without pickles) is no obstacle."""
    names = {*problem.axes, *(f.name for f in problem.fields), *(p.name for p in problem.params),
             *(i.name for i in problem.inputs)} | ({problem.time.name} if problem.time else set())
    try:
        return read_arrays(path, names)
    except ArrayError as error:
        raise FamilyError(f"{path}: {error}") from None
    except NpzError as error:
        raise FamilyError(f"{path}: not a readable .npz archive: {error}") from None


def _check_family(problem: Problem) -> None:
    if problem.time is None and not problem.axes:
        raise FamilyError(f"problem '{problem.name}' has no space axes to place sensors on")
    if not varying_inputs(problem) and not random_params(problem):
        raise FamilyError(f"problem '{problem.name}' has no random inputs or params, so it is one problem, "
                          "not a family: train it with the pinn backend")


def default_grid(problem: Problem, grid: Optional[int] = None) -> int:
    return int(grid) if grid else DEFAULT_GRID[len(problem.axes)]
