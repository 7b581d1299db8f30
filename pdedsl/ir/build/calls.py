"""Calls: elementary functions, differential operators and random primitives.

A mix-in of :class:`ExpressionBuilder`; one small method per operator so each
rule (arity, rank, where it may appear) reads on its own.
"""

from __future__ import annotations

import sympy
from sympy.core.function import AppliedUndef

from ...errors import Span, did_you_mean
from ...frontend import ast
from .. import nodes
from ..builtins import CALLABLES, CONSTANTS, FUNCTIONS, OPERATORS, PRIORS, REQUIRED, SHAPES, Signature
from .context import AXIS, DOMAIN, INPUT, KIND_NOUN, TIME, BAD, Context, Typed, describe_shape, merged, shortened


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class CallBuilder:
    def _build_Call(self, node: ast.Call, ctx: Context) -> Typed:
        name = node.func.text
        if name in FUNCTIONS:
            return self._function(node, ctx)
        if name in OPERATORS:
            return getattr(self, f"_operator_{name}")(node, ctx)
        if name in PRIORS:
            return self._prior(node, ctx)
        if name in SHAPES:
            self.sink.error(f"{name}() describes geometry and can only be used in a 'domain' statement", node.func.span)
            return BAD
        kind = self.owner.scope.kind_of(name)
        if kind is None and name in self.owner.all_axes:
            kind = AXIS  # (as a name alone is told: 'x(u)' is no unknown function)
        if kind is not None or name in CONSTANTS:
            noun = KIND_NOUN[kind] if kind is not None else "a built-in constant"
            self.sink.error(f"'{name}' is {noun}, not a function", node.func.span)
            return BAD
        hint = did_you_mean(name, CALLABLES)
        closest = hint.split("'")[1] if hint else None
        noun = "operator" if closest in OPERATORS else "function"
        self.sink.error(f"unknown {noun} '{name}'", node.func.span, hint=hint)
        return BAD

    # ---- shared checks ----
    def _positional(self, node: ast.Call, count: int, usage: str) -> bool:
        """Check that ``node`` has exactly ``count`` positional arguments and no keywords."""
        if node.keywords:
            self.sink.error(f"{node.func.text}() takes no named arguments", node.keywords[0].span, hint=f"write {usage}")
            return False
        if len(node.args) != count:
            self.sink.error(
                f"{node.func.text}() takes {_plural(count, 'argument')}, got {len(node.args)}", node.span,
                hint=f"write {usage}",
            )
            return False
        return True

    def _allowed(self, node: ast.Call, ctx: Context, flag: bool, why: str) -> bool:
        if not flag:
            self.sink.error(f"{node.func.text}() cannot be used in {ctx.purpose}", node.func.span, hint=why)
        return flag

    def _space_dimension(self, node: ast.Call, ctx: Context) -> int | None:
        if not ctx.axes:
            refused = DOMAIN in self.owner.scope.refused.values()  # a domain's name was refused, and reported
            if not self.owner.scope.names(DOMAIN) and not refused:  # else a domain failed to build and was reported
                self.sink.error(f"{node.func.text}() needs space axes, but no domain is declared", node.func.span)
            return None
        return len(ctx.axes)

    # ---- elementary functions ----
    def _function(self, node: ast.Call, ctx: Context) -> Typed:
        name = node.func.text
        if not self._positional(node, 1, f"{name}(x)"):
            return BAD
        argument = self.scalar(node.args[0], ctx, f"the argument of {name}()")
        if argument.bad:
            return BAD
        return merged([argument], FUNCTIONS[name](argument.expr, evaluate=False))

    # ---- differential operators ----
    _DIFFERENTIAL_WHY = "derivatives belong in equations, conditions and lets"

    def _operator_grad(self, node: ast.Call, ctx: Context) -> Typed:
        if not (self._allowed(node, ctx, ctx.differential, self._DIFFERENTIAL_WHY) and self._positional(node, 1, "grad(u)")):
            return BAD
        dimension = self._space_dimension(node, ctx)
        operand = self.value(node.args[0], ctx)
        if operand.bad or dimension is None:
            return BAD
        if operand.shape:
            self.sink.error(f"grad() takes a scalar, but this is {describe_shape(operand)}", node.args[0].span,
                            hint="the gradient of a vector is not supported; take grad of each component")
            return BAD
        return merged([operand], nodes.Grad(operand.expr), (dimension,))

    def _operator_div(self, node: ast.Call, ctx: Context) -> Typed:
        if not (self._allowed(node, ctx, ctx.differential, self._DIFFERENTIAL_WHY) and self._positional(node, 1, "div(F)")):
            return BAD
        dimension = self._space_dimension(node, ctx)
        operand = self.value(node.args[0], ctx)
        if operand.bad or dimension is None:
            return BAD
        if not operand.shape:
            self.sink.error("div() takes a vector, but this is a scalar", node.args[0].span,
                            hint="write div(a * grad(u)) or div((ux, uy)); for a scalar, use laplace(u) or d(u, x)")
            return BAD
        if operand.shape != (dimension,):
            self.sink.error(
                f"div() needs a vector of length {dimension} (one per axis: {', '.join(ctx.axes)}), "
                f"but this has length {operand.shape[0]}", node.args[0].span,
            )
            return BAD
        return merged([operand], nodes.Div(operand.expr))

    def _operator_laplace(self, node: ast.Call, ctx: Context) -> Typed:
        if not (self._allowed(node, ctx, ctx.differential, self._DIFFERENTIAL_WHY) and self._positional(node, 1, "laplace(u)")):
            return BAD
        dimension = self._space_dimension(node, ctx)
        operand = self.value(node.args[0], ctx)
        if operand.bad or dimension is None:
            return BAD
        return merged([operand], nodes.Laplace(operand.expr), operand.shape)

    def _operator_dn(self, node: ast.Call, ctx: Context) -> Typed:
        why = "dn() is the outward normal derivative, which exists only on a boundary: use it in a 'boundary' block"
        if not (self._allowed(node, ctx, ctx.normal, why) and self._positional(node, 1, "dn(u)")):
            return BAD
        dimension = self._space_dimension(node, ctx)
        operand = self.scalar(node.args[0], ctx, "the argument of dn()")
        if operand.bad or dimension is None:
            return BAD
        return merged([operand], nodes.NormalDerivative(operand.expr))

    def _operator_dot(self, node: ast.Call, ctx: Context) -> Typed:
        if not self._positional(node, 2, "dot(a, b)"):
            return BAD
        left, right = (self.value(arg, ctx) for arg in node.args)
        if left.bad or right.bad:
            return BAD
        for typed, arg in ((left, node.args[0]), (right, node.args[1])):
            if not typed.shape:
                self.sink.error("dot() takes two vectors, but this is a scalar", arg.span, hint="use '*' for scalars")
                return BAD
        if left.shape != right.shape:
            self.sink.error(f"dot() of vectors of different lengths ({left.shape[0]} and {right.shape[0]})", node.span)
            return BAD
        return merged([left, right], nodes.Inner(left.expr, right.expr))

    def _operator_dt(self, node: ast.Call, ctx: Context) -> Typed:
        if not (self._allowed(node, ctx, ctx.differential, self._DIFFERENTIAL_WHY) and self._positional(node, 1, "dt(u)")):
            return BAD
        time = self.owner.time
        if time is None:
            if not self.owner.time_in_error:
                self.sink.error("dt() needs a time axis, but the problem has none", node.func.span,
                                hint="declare one with 'time t: [0, 1]'")
            return BAD
        if TIME not in ctx.names:
            self.sink.error(f"dt() cannot be used in {ctx.purpose}", node.func.span)
            return BAD
        operand = self.value(node.args[0], ctx)
        if operand.bad:
            return BAD
        return merged([operand], sympy.Derivative(operand.expr, time.symbol, evaluate=False), operand.shape)

    def _operator_d(self, node: ast.Call, ctx: Context) -> Typed:
        usage = "d(u, x), d(u, x, x) or d(u, x, 2)"
        if not self._allowed(node, ctx, ctx.differential, self._DIFFERENTIAL_WHY):
            return BAD
        if node.keywords:
            self.sink.error("d() takes no named arguments", node.keywords[0].span, hint=f"write {usage}")
            return BAD
        if len(node.args) < 2:
            self.sink.error(f"d() needs a function and at least one axis, got {_plural(len(node.args), 'argument')}",
                            node.span, hint=f"write {usage}")
            return BAD
        operand = self.value(node.args[0], ctx)
        variables = self._derivative_variables(node.args[1:], ctx)
        if operand.bad or variables is None:
            return BAD
        return merged([operand], sympy.Derivative(operand.expr, *variables, evaluate=False), operand.shape)

    def _derivative_variables(self, args, ctx: Context):
        """``x, 2, y`` -> [(x, 2), (y, 1)]; axes must be in scope, orders positive integers."""
        owner = self.owner
        variables: list[list] = []
        after_order = False  # the previous argument was an order
        for arg in args:
            if isinstance(arg, ast.Unary) and arg.op == "+" and isinstance(arg.operand, ast.Number):
                arg = arg.operand  # d(u, x, +2) is d(u, x, 2)
            if isinstance(arg, ast.Number):
                if not variables or after_order:  # d(u, 2) or d(u, x, 2, 3), which SymPy refuses too
                    self.sink.error("a derivative order must follow an axis, as in d(u, x, 2)", arg.span)
                    return None
                order = _whole_number(arg.text)
                if order is None or not 1 <= order <= 20:
                    self.sink.error(f"derivative order must be a whole number from 1 to 20, not {shortened(arg.text)}",
                                    arg.span)
                    return None
                variables[-1][1] += order - 1
                after_order = True
                continue
            after_order = False
            if isinstance(arg, ast.Unary) and isinstance(arg.operand, ast.Number) and variables:
                self.sink.error(f"derivative order must be a whole number from 1 to 20, not "
                                f"{arg.op}{arg.operand.text}", arg.span)
                return None
            if not isinstance(arg, ast.Name):
                self.sink.error("d() differentiates with respect to an axis name, such as x or t", arg.span)
                return None
            name = arg.id
            is_time = owner.time is not None and name == owner.time.name
            if is_time:
                if TIME not in ctx.names:
                    self.sink.error(f"time derivatives cannot be used in {ctx.purpose}", arg.span)
                    return None
                symbol = owner.time.symbol
            elif name in ctx.axes:
                symbol = sympy.Symbol(name, real=True)
            else:
                self._bad_axis(arg, ctx)
                return None
            if variables and variables[-1][0] == symbol:
                variables[-1][1] += 1
            else:
                variables.append([symbol, 1])
        return [(symbol, count) for symbol, count in variables]

    def _bad_axis(self, arg: ast.Name, ctx: Context) -> None:
        owner = self.owner
        if owner.time_in_error and owner.scope.kind_of(arg.id) == TIME:
            return  # the time statement's own error says what is wrong
        axes = list(ctx.axes) + ([owner.time.name] if owner.time is not None and TIME in ctx.names else [])
        listed = ", ".join(axes) or "none"
        kind = owner.scope.kind_of(arg.id)
        if kind is None and arg.id in owner.doubtful_axes:
            return  # an axis of a domain in error, which is reported where it is declared
        if kind is not None:
            message = f"'{arg.id}' is {KIND_NOUN[kind]}, not an axis; d() differentiates with respect to an axis ({listed})"
        elif arg.id in owner.all_axes:
            message = f"'{arg.id}' is not an axis of this problem (its axes are: {listed})"
        else:
            message = f"unknown axis '{arg.id}' (the axes are: {listed})"
        hint = did_you_mean(arg.id, axes)
        if hint is None and owner.time is None and arg.id == "t":
            hint = "declare a time axis with 'time t: [0, 1]'"
        self.sink.error(message, arg.span, hint=hint)

    # ---- random primitives ----
    def _prior(self, node: ast.Call, ctx: Context) -> Typed:
        name = node.func.text
        why = "random primitives describe priors: write 'input a ~ ...' or 'param k ~ ...'"
        if not self._allowed(node, ctx, ctx.random, why):
            return BAD
        cls, signature = PRIORS[name]
        bound = self.bind_arguments(node, signature)
        if bound is None:
            return BAD
        if cls is nodes.Threshold:
            return self._threshold(node, ctx, bound)
        values = [self._prior_number(bound[p], p, name) for p in signature.names]
        if any(v is None for v in values):
            return BAD
        if not self._prior_values_valid(node, name, dict(zip(signature.names, values)), bound):
            return BAD
        kind = "field" if cls.is_field else "scalar"
        return Typed(cls(*(sympy.Float(v) for v in values)), random=frozenset({kind}))

    def _threshold(self, node: ast.Call, ctx: Context, bound) -> Typed:
        field_arg = bound["field"]
        field = self.scalar(field_arg, ctx, "the field of threshold()")
        numbers = [self._prior_number(bound[p], p, "threshold") for p in ("below", "above", "at")]
        if field.bad or any(v is None for v in numbers):
            return BAD
        if "field" not in field.random and INPUT in ctx.names and field.expr.atoms(AppliedUndef):
            # threshold(g, ...) of an input g: a function of its draw, drawing nothing itself (see Statements)
            return merged([field], nodes.Threshold(field.expr, *(sympy.Float(v) for v in numbers)))
        if "field" not in field.random:
            self.sink.error("threshold() needs a random field as its first argument", field_arg.span,
                            hint="for example threshold(gaussian_field(length: 0.1), below: 5, above: 10)")
            return BAD
        return merged([field], nodes.Threshold(field.expr, *(sympy.Float(v) for v in numbers)), random={"field"})

    def _prior_number(self, arg, parameter: str, family: str) -> float | None:
        """A prior's numeric argument: a default, or a constant expression evaluated now."""
        if isinstance(arg, float):
            return arg
        return self.owner.constant_number(arg, f"the '{parameter}' of {family}()")

    def _prior_values_valid(self, node: ast.Call, name: str, values: dict, bound) -> bool:
        def fail(parameter: str, message: str) -> bool:
            self.sink.error(message, span_of(bound[parameter], node.span))
            return False

        if name == "gaussian_field":
            for parameter in ("length", "smoothness", "variance"):
                if values[parameter] <= 0:
                    return fail(parameter, f"the {parameter} of gaussian_field() must be positive, not {values[parameter]:g}")
        if name == "uniform" and not values["low"] < values["high"]:
            return fail("high", f"uniform(low, high) needs low < high, got [{values['low']:g}, {values['high']:g}]")
        if name == "normal" and values["std"] <= 0:
            return fail("std", f"the std of normal() must be positive, not {values['std']:g}")
        return True

    # ---- argument binding (shared with geometry) ----
    def bind_arguments(self, node: ast.Call, signature: Signature) -> dict | None:
        """Match positional and named arguments to ``signature``; defaults fill the rest.

        Returns name -> AST expression (or the default value), or None after
        reporting the first problem.
        """
        name = node.func.text
        bound: dict = {}
        seen_keyword = False
        usage = f"{name}({signature.describe()})"
        for index, arg in enumerate(node.args):
            if isinstance(arg, ast.Keyword):
                seen_keyword = True
                key = signature.parameter(arg.name.text)
                if key is None:
                    self.sink.error(f"{name}() has no parameter '{arg.name.text}'", arg.name.span,
                                    hint=did_you_mean(arg.name.text, signature.names) or f"its parameters are: {usage}")
                    return None
                if key in bound:
                    self.sink.error(f"'{key}' is given twice", arg.name.span)
                    return None
                bound[key] = arg.value
                continue
            if seen_keyword:
                self.sink.error("a positional argument cannot follow a named one", arg.span, hint=f"write {usage}")
                return None
            if index >= len(signature.names):
                self.sink.error(f"{name}() takes at most {_plural(len(signature.names), 'argument')}", arg.span,
                                hint=f"write {usage}")
                return None
            bound[signature.names[index]] = arg
        for key, default in zip(signature.names, signature.defaults):
            if key not in bound:
                if default is REQUIRED:
                    self.sink.error(f"{name}() needs '{key}'", node.span, hint=f"write {usage}")
                    return None
                bound[key] = default
        return bound


def _whole_number(text: str) -> int | None:
    """The whole number a numeral spells (``2``, ``2.``, ``2.0``, ``2e0``), or None for any other.

    Read through float, which is exact for the small orders that matter and, unlike ``int``, takes a
    numeral of any length (thousands of digits become inf, which is no whole number)."""
    value = float(text)
    return int(value) if value.is_integer() else None


def span_of(value, fallback: Span) -> Span:
    return getattr(value, "span", fallback)
