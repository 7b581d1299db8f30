"""apply_residual_assembly: one residual per equation, condition and vector component.

Each relation ``lhs = rhs`` becomes ``lhs - rhs`` with its operators
expanded; then every value and derivative of a field or input becomes a
placeholder symbol and is recorded as a request, so the runtime computes each
one once for all residuals evaluated on the same points.
"""

from __future__ import annotations

import sympy
from sympy.core.function import AppliedUndef

from ..ir.printing import spec_text
from ..ir.problem import Condition, Problem
from .expand import DerivativesTooLarge, DerivativeTooLarge, OperatorExpander
from .lowered import DerivativeRequest, LoweredProblem, Residual, normal_symbol


def apply_residual_assembly(problem: Problem) -> LoweredProblem:
    expander = OperatorExpander(problem)
    coordinates = [c.name for c in problem.coordinates]
    inputs = {i.name for i in problem.inputs}
    residuals, too_large = [], []
    for condition in problem.equations + problem.boundary_conditions + problem.initial_conditions:
        try:
            lhs, rhs = expander.expand(condition.lhs), expander.expand(condition.rhs)
        except DerivativeTooLarge as error:  # (each relation is checked: all of them are reported)
            error.relation = (condition.kind, condition.name, condition.span)
            too_large.append(error)
            continue
        source = f"{spec_text(condition.lhs)} = {spec_text(condition.rhs)}"
        if isinstance(lhs, tuple):
            for index, (left, right) in enumerate(zip(lhs, rhs)):
                residuals.append(_residual(condition, f"{condition.name}[{index}]", left - right, source,
                                           coordinates, inputs))
        else:
            residuals.append(_residual(condition, condition.name, lhs - rhs, source, coordinates, inputs))
    if too_large:
        raise DerivativesTooLarge(too_large)
    return LoweredProblem(problem, tuple(residuals))


def _residual(condition: Condition, name: str, expr: sympy.Expr, source: str, coordinates, inputs) -> Residual:
    replaced, requests = placeholders(expr, coordinates, inputs)
    normals = {normal_symbol(c) for c in coordinates}
    return Residual(
        name=name, kind=condition.kind, target=condition.target, expr=replaced, source=source,
        requests=tuple(sorted(requests)), needs_normal=bool(replaced.free_symbols & normals), span=condition.span,
    )


def placeholders(expr: sympy.Expr, coordinates, inputs):
    """Replace derivatives (then bare values) of fields and inputs by placeholder symbols."""
    requests: set[DerivativeRequest] = set()
    mapping = {}
    for derivative in expr.atoms(sympy.Derivative):
        function = derivative.expr
        if not isinstance(function, AppliedUndef):
            continue
        counts = dict()
        for variable, count in derivative.variable_count:
            counts[variable.name] = counts.get(variable.name, 0) + count
        orders = tuple((axis, counts[axis]) for axis in coordinates if axis in counts)
        request = DerivativeRequest(function.func.__name__, orders, function.func.__name__ in inputs)
        requests.add(request)
        mapping[derivative] = request.symbol
    expr = expr.xreplace(mapping)
    values = {}
    for function in expr.atoms(AppliedUndef):
        request = DerivativeRequest(function.func.__name__, (), function.func.__name__ in inputs)
        requests.add(request)
        values[function] = request.symbol
    return expr.xreplace(values), requests
