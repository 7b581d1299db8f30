"""LoweredProblem -> the source of one standalone Python module (Jinja2 template + SymPy printer).

The template only lays text out; every decision (names, argument lists,
common sub-expressions, literals) is made here. String literals that come
from the spec reach the module through ``repr`` and comments through
:func:`_comment`, so nothing in a spec can break out of them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
import sympy

from .. import __version__
from ..ir.printing import spec_text
from ..passes.contractions import laplacian_contraction
from ..passes.expand import OperatorExpander
from ..passes.lowered import LoweredProblem, Residual, normal_symbol
from .names import Namer, derivative_readable, relation_readable
from .printer import ResidualPrinter

_TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def _docstring_safe(text: str) -> str:
    """Text safe inside a triple-quoted docstring: no quotes, backslashes or control characters."""
    return "".join("?" if ch in "\"\\" or not ch.isprintable() else ch for ch in text)


def _comment(text: str) -> str:
    """Text safe inside a one-line ``#`` comment: no line breaks or control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


class _Symbols:
    """Assigns identifiers to every symbol a lowered problem uses."""

    def __init__(self, lowered: LoweredProblem):
        problem = lowered.problem
        self.namer = Namer(reserved=("math", "torch"))
        self.identifiers: dict[sympy.Symbol, str] = {}
        self.order: dict[sympy.Symbol, tuple] = {}
        self.meaning: dict[sympy.Symbol, tuple] = {}  # what the runtime passes for each argument
        for index, symbol in enumerate(problem.coordinates):
            self._add(symbol, self.namer.name("coord_", symbol.name, symbol.name), (0, index), ("coordinate", symbol.name))
        for index, request in enumerate(lowered.requests):
            readable = derivative_readable(request.function, request.orders)
            self._add(request.symbol, self.namer.name("f_", (request.function, request.orders), readable), (1, index),
                      ("derivative", (request.function, request.orders)))
        for index, symbol in enumerate(problem.coordinates):
            self._add(normal_symbol(symbol.name), self.namer.name("n_", symbol.name, symbol.name), (2, index),
                      ("normal", symbol.name))
        for index, param in enumerate(problem.params):
            self._add(param.symbol, self.namer.name("p_", param.name, param.name), (3, index), ("param", param.name))
        self.constants = {c.symbol: c.value for c in problem.constants}
        for constant in problem.constants:
            self.identifiers[constant.symbol] = self.namer.name("c_", constant.name, constant.name)

    def _add(self, symbol, identifier, order, meaning) -> None:
        self.identifiers[symbol] = identifier
        self.order[symbol] = order
        self.meaning[symbol] = meaning

    def arguments(self, expr: sympy.Expr) -> list[tuple[str, tuple]]:
        """(identifier, (role, key)) of each argument ``expr`` needs, in a fixed order."""
        used = sorted((s for s in expr.free_symbols if s in self.order), key=self.order.__getitem__)
        return [(self.identifiers[s], self.meaning[s]) for s in used]


def generate_module(lowered: LoweredProblem, spec_name: str | None = None) -> str:
    """The generated module's source text; the same lowered problem always gives the same bytes."""
    problem = lowered.problem
    symbols = _Symbols(lowered)
    printer = ResidualPrinter(symbols.identifiers, symbols.constants)
    constants = [
        {"identifier": symbols.identifiers[c.symbol], "value": repr(c.value),
         "comment": _comment(f"{c.name} = {spec_text(c.expr)}")}
        for c in problem.constants
    ]
    residuals = [_residual(r, symbols, printer) for r in lowered.residuals]
    weak = [_weak(w, symbols, printer) for w in lowered.weak]
    expander = OperatorExpander(problem)
    exacts = [_exact(e, expander, symbols, printer) for e in problem.exact]
    context = {
        "version": __version__,
        "version_repr": repr(__version__),
        "problem_repr": repr(problem.name),
        "spec_repr": repr(spec_name if spec_name is not None else problem.source_name),
        "spec_doc": _docstring_safe(spec_name if spec_name is not None else problem.source_name),
        "axes_repr": repr(tuple(problem.axes)),
        "time_repr": repr(problem.time.name if problem.time else None),
        "fields_repr": repr(tuple(f.name for f in problem.fields)),
        "inputs_repr": repr(tuple(i.name for i in problem.inputs)),
        "params_repr": repr({p.name: p.value for p in problem.params}),
        "inferred_repr": repr(tuple(problem.inferred)),
        "constants_repr": repr({c.name: c.value for c in problem.constants}),
        "constants": constants,
        "residuals": residuals,
        "weak": weak,
        "exacts": exacts,
        "derivatives_repr": repr(tuple((r.function, r.orders) for r in lowered.requests)),
    }
    return _environment().get_template("module.py.j2").render(**context)


def _residual(residual: Residual, symbols: _Symbols, printer: ResidualPrinter) -> dict:
    temporaries = (sympy.Symbol(f"cse[{i}]") for i in range(10**6))
    replacements, (reduced,) = sympy.cse(residual.expr, symbols=temporaries, order="none")
    replacements, (reduced,) = _constant_temporaries_inlined(replacements, [reduced], printer.constants)
    lines = []
    local = dict(printer.identifiers)
    for index, (symbol, value) in enumerate(replacements):
        local[symbol] = _temporary(index)
    body_printer = ResidualPrinter(local, printer.constants)
    for index, (symbol, value) in enumerate(replacements):
        lines.append(f"{_temporary(index)} = {body_printer.doprint(value)}")
    arguments = symbols.arguments(residual.expr)
    target = (residual.target.kind, residual.target.name) if residual.target is not None else None
    return {
        "function": symbols.namer.name("residual_", residual.name, relation_readable(residual.name)),
        "signature": _signature(arguments),
        "arguments_repr": _arguments_repr(arguments),
        "comment": _comment(f"{residual.kind} {residual.name}: {residual.source}"),
        "lines": lines,
        "result": body_printer.doprint(reduced),
        "name_repr": repr(residual.name),
        "kind_repr": repr(residual.kind),
        "target_repr": repr(target),
        "derivatives_repr": repr(tuple((r.function, r.orders) for r in residual.requests)),
        "needs_normal": repr(residual.needs_normal),
        "contraction_repr": repr(laplacian_contraction(residual)),
        "source_repr": repr(residual.source),
    }


def _weak(weak, symbols: _Symbols, printer: ResidualPrinter) -> dict:
    """One function returning ``(volume, (flux_x, ...), (stiffness_x, ...))``, and ``(hessian_ab, ...)`` after
    them when a term was integrated by parts twice; sub-expressions shared."""
    stiffness = dict(weak.stiffness)
    exprs = ([weak.volume] + [value for _, value in weak.flux] + [stiffness.get(a, 0) for a, _ in weak.flux]
             + [value for _, value in weak.hessian])
    temporaries = (sympy.Symbol(f"cse[{i}]") for i in range(10**6))
    replacements, reduced = sympy.cse(exprs, symbols=temporaries, order="none")
    replacements, reduced = _constant_temporaries_inlined(replacements, reduced, printer.constants)
    local = dict(printer.identifiers)
    for index, (symbol, _) in enumerate(replacements):
        local[symbol] = _temporary(index)
    body_printer = ResidualPrinter(local, printer.constants)
    lines = [f"{_temporary(index)} = {body_printer.doprint(value)}" for index, (_, value) in enumerate(replacements)]
    arguments = symbols.arguments(sympy.Tuple(*exprs))
    target = (weak.target.kind, weak.target.name) if weak.target is not None else None
    count = len(weak.flux)
    flux = ", ".join(body_printer.doprint(e) for e in reduced[1:1 + count])
    stiffness = ", ".join(body_printer.doprint(e) for e in reduced[1 + count:1 + 2 * count])
    hessian = ", ".join(body_printer.doprint(e) for e in reduced[1 + 2 * count:])
    trailing = "," if count == 1 else ""
    return {
        "function": symbols.namer.name("weak_", weak.name, relation_readable(weak.name)),
        "signature": _signature(arguments),
        "arguments_repr": _arguments_repr(arguments),
        "comment": _comment(f"equation {weak.name}: {weak.source}"),
        "by_parts": _comment(", ".join(weak.integrated) or "nothing"),
        "lines": lines,
        "volume": body_printer.doprint(reduced[0]),
        "flux": flux + trailing,
        "stiffness": stiffness + trailing,
        "hessian": hessian + ("," if len(weak.hessian) == 1 else ""),
        "hessian_repr": repr(tuple(pair for pair, _ in weak.hessian)),
        "hessian_pairs": ", ".join(f"({a}, {b})" for (a, b), _ in weak.hessian),
        "name_repr": repr(weak.name),
        "target_repr": repr(target),
        "axes_repr": repr(tuple(axis for axis, _ in weak.flux)),
        "fluxes_repr": repr(tuple(axis for axis, value in weak.flux if value != 0)),
        "derivatives_repr": repr(tuple((r.function, r.orders) for r in weak.requests)),
    }


def _constant_temporaries_inlined(replacements, reduced, constants) -> tuple[list, list]:
    """``sympy.cse``'s result with every temporary of numbers and consts alone put back where it is used.

    The printer folds a sub-expression to one float literal only when it can see that it is constant; a
    temporary hides that (``exp(-1)`` used twice became ``tmp0``, and ``1/(4 + 2*exp(-1))`` then printed as
    ``torch.pow(2*tmp0 + 4, -1)``, or ``sin(1 + exp(-1))`` as ``torch.sin(tmp0 + 1)``: torch functions of a
    Python float, a TypeError when the residual ran). Put back, each constant part folds to one literal.
    """
    known = set(constants)
    values, kept = {}, []
    for symbol, value in replacements:
        value = value.xreplace(values)
        if value.free_symbols <= known:
            values[symbol] = value
        else:
            kept.append((symbol, value))
    return kept, [expr.xreplace(values) for expr in reduced]


def _temporary(index: int) -> str:
    """A function's local name for a sub-expression it uses more than once: ``tmp0``, ``tmp1``, ... (not
    ``t0``, which reads as a time next to ``coord_t`` and ``f_u__t1``; no argument or constant begins so)."""
    return f"tmp{index}"


def _signature(arguments) -> str:
    """A generated function's parameters: keyword-only, or none at all (a residual whose terms cancelled)."""
    return "*, " + ", ".join(a for a, _ in arguments) if arguments else "**_"


def _arguments_repr(arguments) -> str:
    """A dict literal, one entry per argument: identifier -> (role, key)."""
    if not arguments:
        return "{}"
    return "{" + ", ".join(f"{identifier!r}: {meaning!r}" for identifier, meaning in arguments) + "}"


def _exact(exact, expander, symbols: _Symbols, printer: ResidualPrinter) -> dict:
    """An exact solution's function; operators of closed-form expressions in it (``laplace(x^2*y)``) are
    worked out first, as nothing at run time takes them."""
    expr = expander.scalar(exact.expr).doit()
    arguments = symbols.arguments(expr)
    return {
        "function": symbols.namer.name("exact_", exact.name, exact.name),
        "signature": _signature(arguments),
        "arguments_repr": _arguments_repr(arguments),
        "comment": _comment(f"{exact.name} = {spec_text(exact.expr)}"),
        "result": printer.doprint(expr),
        "field_repr": repr(exact.name),
    }
