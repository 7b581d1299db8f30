"""AST expressions -> SymPy, checked: names, ranks, booleans, and where each thing may appear.

SymPy objects are built node by node with ``evaluate=False`` (never from
text), so the IR keeps the form the user wrote. Every node reports at most
one error and yields BAD; its parents then stay silent.
"""

from __future__ import annotations

import math

import sympy

from ...errors import did_you_mean
from ...frontend import ast
from ..builtins import CONSTANTS
from ..numeric import MAX_EXACT_DIGITS, UNDEFINED, NotFinite, evaluate, exact_digits, folds_to_undefined, is_constant
from .calls import CallBuilder
from .context import (AXIS, CONST, DOMAIN, FIELD, INPUT, KIND_NOUN, LET, PARAM, REGION, TIME, BAD,
                      Context, Typed, describe_shape, merged, shortened)

_COMPARISONS = {
    "==": sympy.Eq, "!=": sympy.Ne, "<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt, ">=": sympy.Ge,
}

#: Errors after which an unknown name gets no did-you-mean hint: each is a search of every declared name, and a
#: generated spec with thousands of unknown names took minutes to check.
MAX_HINTED = 50


def negate(expr: sympy.Basic) -> sympy.Basic:
    """``-expr``, folding the sign into a leading number (``-2``, ``-(2*x)`` -> ``-2*x``, ``-(-x)`` -> ``x``)."""
    if isinstance(expr, sympy.Number):
        return -expr
    if isinstance(expr, sympy.Mul) and isinstance(expr.args[0], sympy.Number):
        coefficient, rest = -expr.args[0], expr.args[1:]
        if coefficient == 1:
            return rest[0] if len(rest) == 1 else sympy.Mul(*rest, evaluate=False)
        return sympy.Mul(coefficient, *rest, evaluate=False)
    if isinstance(expr, sympy.Mul):
        return sympy.Mul(sympy.S.NegativeOne, *expr.args, evaluate=False)
    return sympy.Mul(sympy.S.NegativeOne, expr, evaluate=False)


def _has_sign(expr: sympy.Basic) -> bool:
    """Is ``expr`` a product written with a leading minus (``-a``, ``-2*x``)?"""
    return isinstance(expr, sympy.Mul) and isinstance(expr.args[0], sympy.Number) and expr.args[0] < 0


def number_value(text: str) -> float:
    return float(text)


class ExpressionBuilder(CallBuilder):
    """Builds one expression at a time for a :class:`ProblemBuilder` (``owner``)."""

    def __init__(self, owner):
        self.owner = owner
        self.sink = owner.sink

    # ---- entry point ----
    def build(self, node: ast.Expr, ctx: Context) -> Typed:
        """Build ``node`` under ``ctx``'s rules; checks the result's kind (condition or value)."""
        typed = self.expr(node, ctx)
        if typed.bad:
            return typed
        if ctx.predicate and not typed.boolean:
            self.sink.error(f"{ctx.purpose} must be a condition such as 'x == 0' or 'x^2 + y^2 < 1'", node.span)
            return BAD
        if not ctx.predicate and typed.boolean:
            self.sink.error(f"a comparison cannot be used in {ctx.purpose}", node.span,
                            hint="comparisons ('==', '<', ...) belong in a region's 'where' predicate")
            return BAD
        return typed

    def expr(self, node: ast.Expr, ctx: Context) -> Typed:
        method = getattr(self, f"_build_{type(node).__name__}", None)
        if method is None:
            from ...errors import InternalError

            raise InternalError(f"no expression builder for {type(node).__name__}")
        typed = method(node, ctx)
        return typed if ctx.evaluated else self._finite(node, typed)

    def _finite(self, node: ast.Expr, typed: Typed) -> Typed:
        """``typed``, or BAD after an error if its numbers are not a finite float64 (``10^400``, ``1/0``, ``log(-1)``).

        A const is checked whole where it is declared; the numbers kept inside
        equations, conditions, lets and formulas are checked here, node by
        node, so the innermost failing one is reported. A sum or product checks
        its number terms together (SymPy folds ``x*10^300*10^300`` into one number),
        a product with a vector or a random primitive too.
        """
        if typed.bad or typed.boolean:
            return typed
        if typed.shape and not isinstance(typed.expr, sympy.Mul):  # a vector's scale is checked (grad(u)/(k - 2))
            return typed
        if typed.random and not isinstance(typed.expr, (sympy.Add, sympy.Mul)):  # a prior's numbers are, too
            return typed
        consts = {s for s in typed.expr.free_symbols if self.owner.scope.kind_of(s.name) == CONST}
        expr = typed.expr
        if isinstance(expr, sympy.Pow) and expr.exp.is_integer:  # lowering distributes it over the base's number
            base = expr.base  # (x*10^200)^2 holds 10^400
            number = sympy.Mul(*_number_parts(base, consts), evaluate=False) if isinstance(base, sympy.Mul) else base
            expr = sympy.Pow(number, expr.exp, evaluate=False)
        if isinstance(expr, (sympy.Add, sympy.Mul)):
            expr = expr.func(*_number_parts(expr, consts), evaluate=False)
        if (expr.is_Atom and not expr.is_Number) or not is_constant(expr, consts):
            return typed  # a number atom is checked too: SymPy may have folded it (``(x*10^200)^2``)
        values = {symbol: self.owner.const_value(symbol.name) for symbol in expr.free_symbols}
        if None in values.values():
            return typed  # that const's own error is reported
        text = shortened(" ".join(self.owner.source.text[node.span.start:node.span.end].split()))
        try:
            evaluate(expr, values)
            digits = exact_digits(expr)
        except NotFinite as why:
            self.sink.error(f"'{text}' is not a finite real number: {why}", node.span)
            return BAD
        if digits > MAX_EXACT_DIGITS:
            self.sink.error(f"'{text}' is too large to compute exactly (about {digits:.2g} digits)", node.span,
                            hint="write its numbers with a decimal point (2.0, not 2) to compute it in floating point")
            return BAD
        if folds_to_undefined(expr):
            self.sink.error(f"'{text}' is not a finite real number: {UNDEFINED}", node.span)
            return BAD
        return typed

    def value(self, node: ast.Expr, ctx: Context) -> Typed:
        """Build an operand that must be a value (not a condition)."""
        typed = self.expr(node, ctx)
        if not typed.bad and typed.boolean:
            self.sink.error("a comparison cannot be used as a value", node.span,
                            hint="comparisons ('==', '<', ...) belong in a region's 'where' predicate")
            return BAD
        return typed

    def scalar(self, node: ast.Expr, ctx: Context, what: str) -> Typed:
        """Build an operand that must be a scalar value; ``what`` names it in the message."""
        typed = self.value(node, ctx)
        if not typed.bad and typed.shape:
            self.sink.error(f"{what} must be a scalar, not {describe_shape(typed)}", node.span)
            return BAD
        return typed

    # ---- leaves ----
    def _build_Number(self, node: ast.Number, ctx: Context) -> Typed:
        value = number_value(node.text)
        if not math.isfinite(value):
            self.sink.error(f"number {shortened(node.text)} is too large to represent", node.span)
            return BAD
        if node.text.isdigit():
            return Typed(sympy.Integer(int(node.text)))
        return Typed(sympy.Float(value))

    def _build_Name(self, node: ast.Name, ctx: Context) -> Typed:
        name = node.id
        if name in CONSTANTS:
            return Typed(CONSTANTS[name])
        owner = self.owner
        kind = owner.scope.kind_of(name)
        if kind is None:
            if name in owner.all_axes:
                kind = AXIS
            elif owner.time is not None and name == owner.time.name:
                kind = TIME
        if kind is None:
            return self._unknown_name(node, ctx)
        if kind in (DOMAIN, REGION):
            self.sink.error(f"'{name}' is {KIND_NOUN[kind]}, not a value", node.span)
            return BAD
        if kind not in ctx.names:
            noun = KIND_NOUN[kind].split(" ", 1)[1]
            hint = (self._prior_in_place_hint(name) if ctx.random and kind in (INPUT, PARAM) else None)
            self.sink.error(f"{noun} '{name}' cannot be used in {ctx.purpose}", node.span,
                            hint=hint or _allowed_hint(ctx))
            return BAD
        if kind == AXIS:
            if name not in ctx.axes:
                axes = ", ".join(ctx.axes) or "none"
                self.sink.error(f"'{name}' is not an axis here (the axes are: {axes})", node.span)
                return BAD
            return Typed(sympy.Symbol(name, real=True))
        if kind == TIME:  # (no time axis: its statement is in error, and says so)
            return BAD if owner.time is None else Typed(owner.time.symbol)
        if kind in (CONST, PARAM):
            return Typed(sympy.Symbol(name, real=True))
        if kind == FIELD:
            function = owner.field_function(name)
            return BAD if function is None else Typed(function, fields=frozenset({name}))
        if kind == INPUT:
            function = owner.input_function(name)
            return BAD if function is None else Typed(function)
        assert kind == LET
        return owner.let_value(name, ctx, node.span)

    def _prior_in_place_hint(self, name: str) -> str | None:
        """For a random input or param named inside a prior (``threshold(g, ...)`` after ``input g ~ ...``):
        write its prior there instead, quoted from the spec; None if ``name`` has no prior."""
        declaration = self.owner.scope.get(name)
        node = getattr(declaration, "node", None)
        if getattr(node, "kind", None) != "prior":
            return None
        span = node.value.span
        written = self.owner.source.text[span.start:span.end]
        if not written:
            return None
        return f"a prior is made of random primitives, not of other inputs or params: write {written} in place of '{name}'"

    def _unknown_name(self, node: ast.Name, ctx: Context) -> Typed:
        owner = self.owner
        if node.id in owner.doubtful_axes:
            return BAD  # an axis of a domain in error, which is reported where it is declared
        if node.id in owner.scope.refused:
            return BAD  # a reserved name a declaration tried to take: reported there, once
        candidates = owner.scope.names(*(k for k in ctx.names if k not in (AXIS, TIME)))
        candidates += list(ctx.axes) + list(CONSTANTS)
        if owner.time is not None and TIME in ctx.names:
            candidates.append(owner.time.name)
        hint = did_you_mean(node.id, candidates) if self.sink.error_count < MAX_HINTED else None
        if hint is None and node.id == "t" and owner.time is None:
            hint = "declare a time axis with 'time t: [0, 1]'"
        self.sink.error(f"unknown name '{node.id}'", node.span, hint=hint)
        return BAD

    # ---- arithmetic ----
    def _build_Unary(self, node: ast.Unary, ctx: Context) -> Typed:
        operand = self.value(node.operand, ctx)
        if operand.bad:
            return BAD
        expr = negate(operand.expr) if node.op == "-" else operand.expr
        return merged([operand], expr, operand.shape)

    def _build_Power(self, node: ast.Power, ctx: Context) -> Typed:
        base = self.scalar(node.base, ctx, "the base of '^'")
        exponent = self.scalar(node.exponent, ctx, "an exponent")
        if base.bad or exponent.bad:
            return BAD
        return merged([base, exponent], sympy.Pow(base.expr, exponent.expr, evaluate=False))

    def _build_Chain(self, node: ast.Chain, ctx: Context) -> Typed:
        if node.kind == "sum":
            return self._sum(node, ctx)
        if node.kind == "product":
            return self._product(node, ctx)
        if node.kind == "compare":
            return self._compare(node, ctx)
        if node.kind in ("and", "or"):
            return self._logic(node, ctx)
        self.sink.error("'&' combines domains and is only allowed in a 'domain' statement", node.ops_spans[0])
        return BAD

    def _sum(self, node: ast.Chain, ctx: Context) -> Typed:
        parts = [self.value(operand, ctx) for operand in node.operands]
        if any(p.bad for p in parts):
            return BAD
        shape = parts[0].shape
        for part, op, op_span in zip(parts[1:], node.ops, node.ops_spans):
            if part.shape != shape:
                verb = "add" if op == "+" else "subtract"
                self.sink.error(
                    f"cannot {verb} {describe_shape(parts[0])} and {describe_shape(part)}", op_span,
                    hint="both sides of '+' and '-' must be scalars, or vectors of the same length",
                )
                return BAD
        terms = [parts[0].expr] + [p.expr if op == "+" else negate(p.expr) for p, op in zip(parts[1:], node.ops)]
        return merged(parts, sympy.Add(*terms, evaluate=False), shape)

    def _product(self, node: ast.Chain, ctx: Context) -> Typed:
        parts = [self.value(operand, ctx) for operand in node.operands]
        if any(p.bad for p in parts):
            return BAD
        shape: tuple[int, ...] = parts[0].shape
        for part, op, op_span in zip(parts[1:], node.ops, node.ops_spans):
            if op == "/" and part.shape:
                self.sink.error("cannot divide by a vector", op_span)
                return BAD
            if part.shape and shape:
                self.sink.error("cannot multiply two vectors with '*'", op_span, hint="use dot(a, b) for the inner product")
                return BAD
            shape = shape or part.shape
        first = parts[0].expr
        # '-a*b' and '-(a*b)' both mean (-1)*a*b: a signed first factor is flattened in.
        factors = list(first.args) if _has_sign(first) else [first]
        factors += [
            p.expr if op == "*" else sympy.Pow(p.expr, sympy.S.NegativeOne, evaluate=False)
            for p, op in zip(parts[1:], node.ops)
        ]
        return merged(parts, sympy.Mul(*factors, evaluate=False), shape)

    def _compare(self, node: ast.Chain, ctx: Context) -> Typed:
        parts = [self.scalar(operand, ctx, "each side of a comparison") for operand in node.operands]
        if any(p.bad for p in parts):
            return BAD
        relations = [
            _COMPARISONS[op](left.expr, right.expr, evaluate=False)
            for left, op, right in zip(parts, node.ops, parts[1:])
        ]
        expr = relations[0] if len(relations) == 1 else sympy.And(*relations, evaluate=False)
        return merged(parts, expr, boolean=True)

    def _logic(self, node: ast.Chain, ctx: Context) -> Typed:
        parts = [self.expr(operand, ctx) for operand in node.operands]
        if any(p.bad for p in parts):
            return BAD
        for part, operand in zip(parts, node.operands):
            if not part.boolean:
                self.sink.error(f"'{node.kind}' combines conditions, but this is {describe_shape(part)}", operand.span)
                return BAD
        combine = sympy.And if node.kind == "and" else sympy.Or
        return merged(parts, combine(*(p.expr for p in parts), evaluate=False), boolean=True)

    def _build_Not(self, node: ast.Not, ctx: Context) -> Typed:
        operand = self.expr(node.operand, ctx)
        if operand.bad:
            return BAD
        if not operand.boolean:
            self.sink.error(f"'not' applies to a condition, but this is {describe_shape(operand)}", node.operand.span)
            return BAD
        return merged([operand], sympy.Not(operand.expr), boolean=True)

    def _build_Vector(self, node: ast.Vector, ctx: Context) -> Typed:
        from ..nodes import VectorLiteral

        parts = [self.scalar(item, ctx, "a vector component") for item in node.items]
        if any(p.bad for p in parts):
            return BAD
        return merged(parts, VectorLiteral(*(p.expr for p in parts)), (len(parts),))

    def _build_Range(self, node: ast.Range, ctx: Context) -> Typed:
        self.sink.error("a range [a, b] is only allowed for an axis of box() or interval() and in 'time'", node.span)
        return BAD


def _number_parts(expr: sympy.Basic, consts) -> list:
    """The terms of a sum (factors of a product) that are numbers, nested ones included: SymPy folds them into one."""
    parts = []
    for arg in expr.args:
        if is_constant(arg, consts):
            parts.append(arg)
        elif type(arg) is type(expr):
            parts.extend(_number_parts(arg, consts))
    return parts


def _allowed_hint(ctx: Context) -> str | None:
    order = [CONST, PARAM, INPUT, FIELD, LET, AXIS, TIME]
    nouns = {CONST: "consts", PARAM: "params", INPUT: "inputs", FIELD: "fields", LET: "lets",
             AXIS: "coordinates", TIME: "time"}
    allowed = [nouns[k] for k in order if k in ctx.names]
    if not allowed:
        return "only numbers and built-in constants are allowed there"
    return f"{ctx.purpose} may use numbers, pi, e, " + ", ".join(allowed[:-1]) + (" and " if len(allowed) > 1 else "") + allowed[-1]
