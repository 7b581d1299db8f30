"""One draw of a spec's random inputs and params: a single, concrete problem out of a family.

A spec with ``input a ~ threshold(gaussian_field(...), below: 5, above: 10)``
or ``param k ~ uniform(0.5, 2)`` describes a family of problems. Operator
backends learn the whole family; a PINN solves one member, and
``draw_instance(problem, seed)`` picks it: every random param gets a value
from its prior, and every random input is sampled on a grid over the
domains' bounding box (each random primitive of the prior expression from its
own child of ``SeedSequence(seed)``, then the expression is evaluated
pointwise on the grid, so ``exp(...)``, ``5 + 2*gaussian_field(...)`` and
coordinates all work). Inputs holding a ``threshold`` are evaluated off the
grid by nearest node (two phases stay two phases); the others multilinearly.

The same seed gives the same instance, so a reference solver (or a later
``predict``) can solve exactly the problem the network was trained on;
``Instance.save`` writes it as an npz in the layout of ``input ... from``.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy
import torch

from ..errors import PdeError
from ..ir import nodes
from ..ir.problem import Problem
from . import priors
from .predicates import evaluate

#: Grid nodes per axis on which random inputs are sampled, by number of space axes.
GRID_POINTS = {1: 1025, 2: 257, 3: 65}


class InstanceError(PdeError):
    """A random input or param cannot be drawn (the message says which and why)."""


@dataclass
class Instance:
    seed: int
    params: dict[str, float]  # random params' values
    axes: dict[str, np.ndarray]  # grid nodes per space axis
    inputs: dict[str, np.ndarray]  # random inputs on the grid
    piecewise: dict[str, bool]  # inputs to evaluate by nearest node

    def interpolant(self, name: str) -> priors.GridField:
        """Input ``name`` as a module evaluating it at named coordinates."""
        return priors.GridField(list(self.axes.values()), self.inputs[name], names=list(self.axes),
                                piecewise_constant=self.piecewise[name])

    def save(self, path) -> Path:
        """``axes``, inputs and params in one npz (params as 0-d arrays)."""
        path = Path(path)
        np.savez(path, **self.axes, **self.inputs, **{k: np.float64(v) for k, v in self.params.items()})
        return path


def draws_anything(problem: Problem) -> bool:
    """Whether ``problem`` has a random input or param for :func:`draw_instance` to draw (else a seed does
    nothing)."""
    return any(i.kind == "prior" for i in problem.inputs) or any(p.is_random for p in problem.params)


def draw_instance(problem: Problem, seed: int, points: int = 0) -> Instance:
    """The random inputs and params of ``problem`` drawn with ``seed`` (``points`` per grid axis, 0: default)."""
    # the children SeedSequence(seed).spawn(n) would give, made one at a time (spawning 1024 cost 11 ms a draw)
    streams = (np.random.SeedSequence(int(seed), spawn_key=(i,)) for i in itertools.count())
    constants = {c.name: c.value for c in problem.constants}
    params = {}
    for param in problem.params:
        if param.is_random:
            try:
                params[param.name] = _draw_param(param.name, param.prior, streams, constants)
            except InstanceError as error:  # at the param's declaration: the draw is of its prior
                raise InstanceError(problem.locate(param.span, str(error))) from None
    axes = _grid(problem, points or GRID_POINTS[len(problem.axes)])
    inputs, piecewise = {}, {}
    known = {**constants, **params, **{p.name: p.value for p in problem.params if p.value is not None}}
    for item in problem.inputs:
        if item.kind == "prior":
            try:
                inputs[item.name] = _sample_input(item.name, item.prior, axes, streams, known)
            except _NotFinite:
                raise InstanceError(problem.locate(item.span, f"input {item.name}: a draw of its prior is not "
                                                   "finite everywhere; " + _why_not_finite(item.prior))) from None
            piecewise[item.name] = bool(item.prior.atoms(nodes.Threshold))
    return Instance(int(seed), params, axes, inputs, piecewise)


def _grid(problem: Problem, points: int) -> dict[str, np.ndarray]:
    from ..backends.pinn import coordinate_bounds

    lows, highs = coordinate_bounds(problem)
    return {axis: np.linspace(lows[i], highs[i], points) for i, axis in enumerate(problem.axes)}


def _number(owner: str, value, constants) -> float:
    try:
        return float(sympy.sympify(value).subs({sympy.Symbol(k, real=True): v for k, v in constants.items()}))
    except (TypeError, ValueError):
        raise InstanceError(f"{owner}: the prior's parameter {value} is not a number") from None


def param_support(problem: Problem, name: str) -> tuple[float, float]:
    """The interval the random param ``name``'s prior draws from (``uniform(1, 3)``: 1 to 3; ``normal``, or an
    expression of primitives such as ``exp(normal(0, 0.5))``: all numbers)."""
    param = next(p for p in problem.params if p.name == name)
    if not _is_scalar_primitive(param.prior):
        return (-float("inf"), float("inf"))
    return _scalar_prior(name, param.prior, {c.name: c.value for c in problem.constants}).support


def _is_scalar_primitive(prior) -> bool:
    return isinstance(prior, (nodes.UniformPrior, nodes.NormalPrior))


def _draw_param(name: str, prior, streams, constants) -> float:
    """One draw of a param's prior: a primitive (``uniform``, ``normal``), or an expression of them such as
    ``exp(normal(0, 0.5))`` or ``1 + uniform(0, 1)^2``, each primitive drawn once and the expression evaluated."""
    if _is_scalar_primitive(prior):
        return float(_scalar_prior(name, prior, constants).sample(1, next(streams))[0])
    values, replaced = {}, prior
    for index, node in enumerate(dict.fromkeys(_outermost(prior))):
        if not _is_scalar_primitive(node):
            raise InstanceError(f"param {name}: {node} is not a number's prior (a random field belongs in an 'input')")
        symbol = sympy.Symbol(f"random[{index}]")
        values[symbol.name] = torch.tensor(_scalar_prior(name, node, constants).sample(1, next(streams))[0],
                                           dtype=torch.float64)
        replaced = replaced.xreplace({node: symbol})
    try:
        value = float(evaluate(replaced, values, constants))
    except Exception as error:  # noqa: BLE001 - an unknown construct in the prior expression
        raise InstanceError(f"param {name}: cannot evaluate its prior {prior} ({error})") from None
    if not np.isfinite(value):
        raise InstanceError(f"param {name}: a draw of its prior {prior} is not finite")
    return value


def _scalar_prior(name: str, prior, constants) -> priors.ScalarPrior:
    values = [_number(f"param {name}", a, constants) for a in prior.args]
    if isinstance(prior, nodes.UniformPrior):
        return priors.Uniform(*values)
    if isinstance(prior, nodes.NormalPrior):
        return priors.Normal(*values)
    raise InstanceError(f"param {name}: cannot draw from {prior}")


def _field_prior(name: str, node, constants) -> priors.FieldPrior:
    if isinstance(node, nodes.GaussianField):
        return _matern_field(*(_number(f"input {name}", a, constants) for a in node.args))
    if isinstance(node, nodes.Threshold):
        inner = _field_prior(name, node.args[0], constants)
        below, above, at = (_number(f"input {name}", a, constants) for a in node.args[1:])
        return priors.Threshold(inner, below, above, at)
    raise InstanceError(f"input {name}: {node} is not a random field (a scalar prior belongs in a 'param')")


@functools.lru_cache(maxsize=32)
def _matern_field(*parameters: float) -> priors.MaternField:
    """One MaternField per parameter set, shared by every draw: it keeps its samplers, whose set-up (a circulant
    embedding search, or for long correlation lengths an eigendecomposition, 0.3 s on 29 x 29 nodes) would
    otherwise be paid again for every member of a family."""
    return priors.MaternField(*parameters)


def _sample_input(name, prior, axes, streams, constants) -> np.ndarray:
    """The prior expression on the grid: random fields sampled, then everything evaluated pointwise."""
    grids = list(axes.values())
    values = dict(zip(axes, (torch.as_tensor(g) for g in np.meshgrid(*grids, indexing="ij"))))
    replaced = prior
    for index, node in enumerate(dict.fromkeys(_outermost(prior))):
        symbol = sympy.Symbol(f"random[{index}]")
        if isinstance(node, nodes.Threshold) and not isinstance(node.args[0], nodes.GaussianField):
            # a threshold of an expression (gaussian_field(...) + x: a level that varies in space)
            inner = _sample_input(name, node.args[0], axes, streams, constants)
            below, above, at = (_number(f"input {name}", a, constants) for a in node.args[1:])
            sample = np.where(inner < at, below, above)
        elif _is_scalar_primitive(node):  # a random number in a field's prior: one draw for the whole member
            sample = _scalar_prior(name, node, constants).sample(1, next(streams))[0]
        else:
            sample = _field_prior(name, node, constants).sample(grids, 1, next(streams))[0]
        values[symbol.name] = torch.as_tensor(sample)
        replaced = replaced.xreplace({node: symbol})
    try:
        result = evaluate(replaced, values, constants)
    except Exception as error:  # noqa: BLE001 - an unknown construct in the prior expression
        raise InstanceError(f"input {name}: cannot evaluate its prior {prior} on a grid ({error})") from None
    array = np.broadcast_to(result.double().numpy(), tuple(len(g) for g in grids)).copy()
    if not np.all(np.isfinite(array)):
        raise _NotFinite
    return array


class _NotFinite(Exception):
    """A drawn input is not finite at some grid node (draw_instance says where its prior is written)."""


def _why_not_finite(prior) -> str:
    """The likely cause of a draw of ``prior`` that is not finite, for the message that refuses it."""
    undefined = prior.atoms(sympy.log) or any(not p.exp.is_integer or p.exp.is_negative for p in prior.atoms(sympy.Pow))
    if prior.atoms(nodes.GaussianField) and undefined:
        return ("a Gaussian field takes negative values and values near zero, where sqrt, log, fractional "
                "powers and division of it are undefined or infinite: make it positive first, "
                "such as exp(gaussian_field(...))")
    return "a value of its prior expression overflows or is undefined at some grid node"


def _outermost(expr):
    """Random primitives not nested in another (a threshold's inner field belongs to the threshold)."""
    if isinstance(expr, nodes.RandomPrimitive):
        yield expr
        return
    for arg in expr.args:
        yield from _outermost(arg)
