"""AST -> checked Problem IR: the semantic analysis of a spec.

Declarations come in any order (a spec is read whole), so names are first
collected into a :class:`Scope`; consts, domains, regions and lets are then
built on demand, with cycles reported. Every independent error is collected;
a Problem is returned only when there are none.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import sympy
from sympy.core.function import AppliedUndef

from ...errors import DiagnosticSink, Source, Span, did_you_mean, look_alike, look_alike_keys
from ...frontend import ast
from .. import geometry as geo
from .. import problem as ir
from ..numeric import (MAX_EXACT_DIGITS, MAX_WRITTEN_DEPTH, MAX_WRITTEN_SIZE, UNDEFINED, NotFinite, evaluate,
                       exact_digits, folds_to_undefined, written_depth, written_size)
from .data_files import file_has_array
from .context import AXIS, CONST, DOMAIN, FIELD, INPUT, KIND_NOUN, LET, PARAM, REGION, TIME, Context, Typed
from .expressions import ExpressionBuilder
from .extent import conflicting_bounds, extent, unmet_bound
from .geometry import GeometryBuilder
from .resolution import judge_range, shortest
from .scope import Scope
from .statements import StatementBuilder

_DECLARES = {
    ast.DomainDecl: DOMAIN, ast.RegionDecl: REGION, ast.ConstDecl: CONST, ast.ParamDecl: PARAM,
    ast.InputDecl: INPUT, ast.LetDecl: LET, ast.TimeDecl: TIME,
}


def _noun(kind: str) -> str:
    """``field``, ``time axis``: the kind of a declaration without its article."""
    return KIND_NOUN[kind].split(" ", 1)[1]


def build_problem(spec: ast.Spec, source: Source, observations_read: bool = True) -> ir.Problem:
    """The checked IR of ``spec``; raises SpecError listing every error found. Without ``observations_read``
    (a command that does not read them: ``pdedsl data``, which makes them), an observation or reference file
    not found is a warning, and the statement is left out."""
    builder = ProblemBuilder(source)
    builder.observations_read = observations_read
    problem = builder.build(spec)
    builder.sink.raise_if_errors()
    return problem


class ProblemBuilder(StatementBuilder):
    def __init__(self, source: Source):
        self.source = source
        self.observations_read = True
        self.sink = DiagnosticSink(source)
        self.scope = Scope(self.sink)
        self.expressions = ExpressionBuilder(self)
        self.geometry = GeometryBuilder(self)
        self.time: ir.TimeAxis | None = None
        self.all_axes: set[str] = set()  # axes of every domain
        self.doubtful_axes: set[str] = set()  # axes a domain in error may have had
        self.axes: tuple[str, ...] = ()  # axes of the domains the physics is posed on
        self.physics_domains: list[str] = []
        self._const_values: dict[str, float | None] = {}
        self._const_exprs: dict[str, sympy.Expr] = {}
        self._const_stack: list[str] = []
        self._let_stack: list[str] = []
        self._let_values: dict[tuple, Typed] = {}
        self._regions: dict[str, ir.Region | None] = {}
        self._region_stack: list[str] = []
        self._functions: dict[str, sympy.Expr] = {}
        self._reported_cycles: set[frozenset] = set()
        self._used_fields: set[str] = set()  # fields that some equation or condition involves

    # ---- the pass, in order ----
    def build(self, spec: ast.Spec) -> ir.Problem:
        statements = spec.statements
        name = self._problem_name(statements)
        self._declare(statements)
        self.time = self._time(statements)
        # a 'time' statement in error already said so: uses of the axis are not reported as missing it again
        self.time_in_error = self.time is None and any(isinstance(s, ast.TimeDecl) for s in statements)
        domains = self._domains()
        regions = [r for r in (self.region(d.name) for d in self.scope.of_kind(REGION)) if r is not None]
        blocks = [s for s in statements if isinstance(s, ast.Block)]
        targets = {id(block): self.block_target(block) for block in blocks}
        self.axes = self._physics_axes(blocks, targets, domains)
        self._make_functions()
        constants = [c for c in (self._constant(d) for d in self.scope.of_kind(CONST)) if c is not None]
        problem = self.build_statements(statements, blocks, targets)
        if not self.sink.has_errors:
            warn_initial_values_not_periodic(self.sink, problem, domains, constants)
        return ir.Problem(
            name=name,
            axes=self.axes,
            time=self.time,
            domains=tuple(domains),
            regions=tuple(regions),
            constants=tuple(constants),
            source_name=self.source.name,
            source=self.source,
            warnings=tuple(self.sink.warnings()),
            **problem,
        )

    def _problem_name(self, statements) -> str:
        declared = [s for s in statements if isinstance(s, ast.ProblemDecl)]
        for extra in declared[1:]:
            self.sink.error(f"the problem is already named on line {declared[0].span.line}", extra.span)
        if declared and statements[0] is not declared[0]:
            self.sink.error("'problem' must be the first statement", declared[0].span)
        self._problem_span = declared[0].span if declared else Span(1, 1, 1, 1)
        if declared:
            return declared[0].name.text
        stem = Path(self.source.name).stem
        return stem if stem.isidentifier() else "problem"

    def _declare(self, statements) -> None:
        for statement in statements:
            kind = _DECLARES.get(type(statement))
            if kind is not None:
                self.scope.declare(kind, statement.name, statement)
            elif isinstance(statement, ast.FieldDecl):
                for ident in statement.names:
                    self.scope.declare(FIELD, ident, statement)
        self._warn_about_look_alikes()

    def _warn_about_look_alikes(self) -> None:
        """Warn at the later of two declared names that a reader takes for one another (``u`` and ``U``, ``u1``
        and ``ul``): a use of one where the other was meant passes every check. The earliest look-alike is
        named; each name's keys are taken once, so thousands of names do not cost millions of comparisons."""
        declared = sorted(self.scope.declarations.values(), key=lambda d: (d.span.line, d.span.column))
        first_by_key: list[dict] = [{}, {}]  # case key -> (index, declaration); glyph key -> (index, declaration)
        for index, later in enumerate(declared):
            keys = look_alike_keys(later.name)
            matches = [seen[key] for seen, key in zip(first_by_key, keys) if key in seen]
            for seen, key in zip(first_by_key, keys):
                seen.setdefault(key, (index, later))
            if not matches:
                continue
            _, earlier = min(matches, key=lambda match: match[0])
            how = look_alike(later.name, earlier.name)
            why = "case" if how == "case" else "look-alike characters (1, l, I; 0, O)"
            self.sink.warning(f"{_noun(later.kind)} '{later.name}' looks like {_noun(earlier.kind)} "
                              f"'{earlier.name}' on line {earlier.span.line}: the names differ only in {why}",
                              later.span, hint="rename one of them: a use of one where the other was meant "
                                               "would pass unnoticed")

    # ---- numbers ----
    def constant_number(self, node: ast.Expr, what: str) -> float | None:
        """Evaluate a constant expression (numbers, pi, e, consts) to a float, or report why not."""
        typed = self.expressions.build(node, Context(what, frozenset({CONST, LET}), evaluated=True))
        return self._evaluate(typed, node, what)

    def _evaluate(self, typed: Typed, node: ast.Expr, what: str) -> float | None:
        if typed.bad:
            return None
        if typed.shape:
            self.sink.error(f"{what} must be a number, not a vector", node.span)
            return None
        values = {}
        for symbol in typed.expr.free_symbols:
            value = self.const_value(symbol.name)
            if value is None:
                return None
            values[symbol] = value
        try:
            value = evaluate(typed.expr, values)
            if exact_digits(typed.expr) <= MAX_EXACT_DIGITS and folds_to_undefined(typed.expr):
                raise NotFinite(UNDEFINED)
            return value
        except NotFinite as why:
            self.sink.error(f"{what} is not a finite real number: {why}", node.span)
            return None

    def range_numbers(self, node: ast.Range, what: str) -> tuple[float, float] | None:
        low = self.constant_number(node.low, what)
        high = self.constant_number(node.high, what)
        if low is None or high is None:
            return None
        if not low < high:
            self.sink.error(f"{what} [{low:g}, {high:g}] is empty: its start must be below its end", node.span)
            return None
        verdict = judge_range(low, high)
        if verdict is not None:
            written = f"{what} [{shortest(low)}, {shortest(high)}]"
            if verdict.error:
                self.sink.error(f"{written} cannot be sampled: {verdict.reason}", node.span, hint=verdict.hint)
                return None
            self.sink.warning(f"{written}: {verdict.reason}", node.span, hint=verdict.hint)
        return low, high

    def const_value(self, name: str) -> float | None:
        """The value of const ``name`` (built on first use; cycles reported)."""
        if name in self._const_values:
            return self._const_values[name]
        declaration = self.scope.get(name)
        if name in self._const_stack:
            cycle = " -> ".join(self._const_stack[self._const_stack.index(name):] + [name])
            self.sink.error(f"const '{name}' is defined in terms of itself ({cycle})", declaration.node.value.span)
            return None
        self._const_stack.append(name)
        try:
            node = declaration.node.value
            context = Context(f"the value of const '{name}'", frozenset({CONST, LET}), evaluated=True)
            typed = self.expressions.build(node, context)
            value = self._evaluate(typed, node, f"const '{name}'")
        finally:
            self._const_stack.pop()
        self._const_values[name] = value
        if value is not None:
            self._const_exprs[name] = typed.expr
        return value

    def _constant(self, declaration) -> ir.Constant | None:
        value = self.const_value(declaration.name)
        if value is None:
            return None
        return ir.Constant(declaration.name, self._const_exprs[declaration.name], value, declaration.node.span)

    # ---- time and geometry ----
    def _time(self, statements) -> ir.TimeAxis | None:
        declared = [s for s in statements if isinstance(s, ast.TimeDecl)]
        if not declared:
            return None
        first = declared[0]
        for extra in declared[1:]:
            if extra.name.text != first.name.text:  # (the same name twice is reported as a redeclaration)
                self.sink.error(f"a problem has one time axis, and '{first.name.text}' is it (line {first.span.line})",
                                extra.span, hint="remove this 'time' statement or rename its uses")
        if self.scope.kind_of(first.name.text) != TIME:  # the name was refused (reserved or taken)
            return None
        bounds = self.range_numbers(first.interval, f"time interval of '{first.name.text}'")
        if bounds is None:
            return None
        return ir.TimeAxis(first.name.text, bounds[0], bounds[1], first.span)

    def _domains(self) -> list[ir.Domain]:
        domains = []
        for declaration in self.scope.of_kind(DOMAIN):
            shape = self.geometry.domain_shape(declaration.name)
            if shape is not None and extent(shape) is None:
                self.sink.warning(f"domain '{declaration.name}' holds no point: as combined, its shapes leave "
                                  "nothing", declaration.node.shape.span)
            if shape is not None:
                self.all_axes.update(shape.axes)
                domains.append(ir.Domain(declaration.name, shape, declaration.node.span))
            else:  # its error is reported: uses of its axes are not errors of their own
                self.doubtful_axes.update(_axes_written(declaration.node.shape))
        return domains

    def region(self, name: str) -> ir.Region | None:
        """Region ``name`` (built on first use; regions may refine other regions)."""
        if name in self._regions:
            return self._regions[name]
        node: ast.RegionDecl = self.scope.get(name).node
        if name in self._region_stack:
            cycle = " -> ".join(self._region_stack[self._region_stack.index(name):] + [name])
            self.sink.error(f"region '{name}' is defined in terms of itself ({cycle})", node.base.span)
            return None
        self._region_stack.append(name)
        try:
            region = self._build_region(node)
        finally:
            self._region_stack.pop()
        self._regions[name] = region
        return region

    def _build_region(self, node: ast.RegionDecl) -> ir.Region | None:
        resolved = self.resolve_target(node.base, "region")
        if resolved is None:
            return None
        ref, domain, on_boundary = resolved
        shape = self.geometry.domain_shape(domain)
        if shape is None:
            return None
        predicate = None
        if node.predicate is not None:
            context = Context(f"the predicate of region '{node.name.text}'", frozenset({CONST, AXIS, LET}),
                              axes=shape.axes, predicate=True)
            typed = self.expressions.build(node.predicate, context)
            if typed.bad:
                return None
            predicate = typed.expr
            box = extent(shape)
            unmet = unmet_bound(predicate, box) if box is not None else None
            if unmet is not None:
                spans = ", ".join(f"{a} in [{lo:g}, {hi:g}]" for a, (lo, hi) in box.items())
                self.sink.warning(f"region '{node.name.text}' holds no point: {unmet}, but domain '{domain}' spans "
                                  f"{spans}", node.predicate.span)
            elif conflicting_bounds(predicate) is not None:
                self.sink.warning(f"region '{node.name.text}' holds no point: {conflicting_bounds(predicate)} "
                                  "cannot both hold", node.predicate.span)
        return ir.Region(node.name.text, ref, domain, on_boundary, predicate, node.span)

    def resolve_target(self, target: ast.Target, user: str):
        """``(TargetRef, domain name, on boundary?)`` for a target, or None after an error."""
        name = target.name.text
        kind = self.scope.kind_of(name)
        if target.boundary:
            if kind == DOMAIN:
                return ir.TargetRef("boundary", name), name, True
            if kind is None:
                self._unknown_target(target, (DOMAIN,))
            else:
                self.sink.error(f"boundary() takes a domain, but '{name}' is {KIND_NOUN[kind]}", target.name.span)
            return None
        if kind == DOMAIN:
            return ir.TargetRef("domain", name), name, False
        if kind == REGION:
            region = self.region(name)
            if region is None:
                return None
            return ir.TargetRef("region", name), region.domain, region.on_boundary
        if kind is None:
            self._unknown_target(target, (DOMAIN, REGION))
        else:
            self.sink.error(f"'{name}' is {KIND_NOUN[kind]}, not a domain or region", target.name.span)
        return None

    def _unknown_target(self, target: ast.Target, kinds) -> None:
        if target.name.text in self.scope.refused:
            return  # a reserved or taken name a declaration tried: reported there, once
        what = " or ".join(k for k in kinds)
        self.sink.error(f"unknown {what} '{target.name.text}'", target.name.span,
                        hint=did_you_mean(target.name.text, self.scope.names(*kinds)))

    def _physics_axes(self, blocks, targets, domains: list[ir.Domain]) -> tuple[str, ...]:
        """The space axes of the domains the equations and conditions are posed on (all must agree)."""
        used = [
            (targets[id(b)][1], (b.target or b).span)
            for b in blocks
            if targets[id(b)] is not None and targets[id(b)][1] is not None
        ]
        if not used:
            axes: list[str] = []
            for domain in domains:
                axes.extend(a for a in domain.axes if a not in axes)
            self.physics_domains = [d.name for d in domains]
            return tuple(axes)
        first_name = used[0][0]
        first = self.geometry.shapes.get(first_name)
        if first is None:
            return ()
        for name, span in used[1:]:
            shape = self.geometry.shapes.get(name)
            if shape is not None and set(shape.axes) != set(first.axes):
                self.sink.error(
                    f"domain '{name}' has axes ({', '.join(shape.axes)}) but '{first_name}' has "
                    f"({', '.join(first.axes)}); one problem's equations live in one space", span,
                )
        self.physics_domains = list(dict.fromkeys(name for name, _ in used))
        return first.axes

    # ---- unknowns and inputs as SymPy functions ----
    def _make_functions(self) -> None:
        space = tuple(sympy.Symbol(a, real=True) for a in self.axes)
        time = (self.time.symbol,) if self.time else ()
        for declaration in self.scope.of_kind(FIELD):
            self._functions[declaration.name] = sympy.Function(declaration.name)(*space, *time)
        timed = self._inputs_over_time()
        for declaration in self.scope.of_kind(INPUT):
            uses_time = declaration.name in timed
            self._functions[declaration.name] = sympy.Function(declaration.name)(*space, *(time if uses_time else ()))

    def _inputs_over_time(self) -> set[str]:
        """The inputs that vary in time: data whose file holds the time array, and formulas that read time or
        such an input (``input g = k*s`` over data ``s(x, t)``), through any chain of formulas and lets (``let
        T = exp(-t)``, ``input w = T*x``)."""
        if self.time is None:
            return set()
        formulas = {d.name: {n.id for n in ast.walk(d.node.value) if isinstance(n, ast.Name)}
                    for d in [*self.scope.of_kind(INPUT), *self.scope.of_kind(LET)]
                    if isinstance(d.node, ast.LetDecl) or d.node.kind == "formula"}
        timed = {d.name for d in self.scope.of_kind(INPUT)
                 if d.node.kind == "data" and file_has_array(d.node.value, self.source.path, self.time.name)}
        reading = {self.time.name} | timed
        while True:
            more = {name for name, names in formulas.items() if names & reading} - timed
            if not more:
                return timed
            timed |= more
            reading |= more

    def field_function(self, name: str) -> sympy.Expr | None:
        return self._functions.get(name)

    input_function = field_function

    def let_value(self, name: str, ctx: Context, use_span) -> Typed:
        """The value of let ``name`` built where it is used (so the use site's rules apply)."""
        node = self.scope.get(name).node
        if name in self._let_stack:
            members = self._let_stack[self._let_stack.index(name):]
            if frozenset(members) not in self._reported_cycles:  # report each cycle once
                self._reported_cycles.add(frozenset(members))
                cycle = " -> ".join(members + [name])
                self.sink.error(f"let '{name}' is defined in terms of itself ({cycle})", node.value.span)
            return Typed(None)
        if (name, ctx) in self._let_values:  # built once per place of use: a chain of lets that each use the
            return self._let_values[name, ctx]  # one before twice would otherwise take exponential time
        if not self._let_stack:
            self._build_used_lets_first(name, ctx)
        self._let_stack.append(name)
        try:
            value = self.expressions.value(node.value, ctx)
        finally:
            self._let_stack.pop()
        if not value.bad and value.expr is not None and written_size(value.expr) > MAX_WRITTEN_SIZE:
            self.sink.error(f"let '{name}' is too large written out: its lets substituted, it has more than "
                            f"{MAX_WRITTEN_SIZE} terms and operators", node.value.span,
                            hint="a let that uses another let several times doubles it each time; "
                                 "write the expression more simply (2*a, not a + a)")
            value = Typed(None)
        elif not value.bad and value.expr is not None and written_depth(value.expr) > MAX_WRITTEN_DEPTH:
            self.sink.error(f"let '{name}' nests too deeply written out: its lets substituted, it is more than "
                            f"{MAX_WRITTEN_DEPTH} levels deep", node.value.span,
                            hint="generated code cannot nest that deeply; shorten the chain of lets")
            value = Typed(None)
        self._let_values[name, ctx] = value
        return value

    def _build_used_lets_first(self, name: str, ctx: Context) -> None:
        """Build, deepest first, the lets that let ``name`` uses and that are not built for ``ctx`` yet, so that
        a chain of a thousand lets is built one link at a time rather than by a thousand nested calls."""
        order, state, stack = [], {}, [(name, False)]  # state: "open" while on the current path, then "done"
        while stack:
            current, expanded = stack.pop()
            if expanded:
                state[current] = "done"
                order.append(current)
                continue
            if current in state:
                continue
            state[current] = "open"
            stack.append((current, True))
            for used in self._lets_used_by(current):
                if state.get(used) == "open":
                    return  # a cycle: building as written reports it where it starts
                if used not in state and (used, ctx) not in self._let_values:
                    stack.append((used, False))
        for used in order[:-1]:
            self.let_value(used, ctx, None)

    def _lets_used_by(self, name: str) -> list[str]:
        node = self.scope.get(name).node
        return [n.id for n in ast.walk(node.value) if isinstance(n, ast.Name) and self.scope.kind_of(n.id) == LET]


def _axes_written(shape: ast.Expr) -> set[str]:
    """The axes a domain's shape names (``box(x: ..., y: ...)``), or the default x, y, z of the others."""
    names = {"x", "y", "z"}
    for node in ast.walk(shape):
        if isinstance(node, ast.Call) and node.func.text in ("box", "interval"):
            names |= {a.name.text for a in node.args if isinstance(a, ast.Keyword)}
    return names


def warn_initial_values_not_periodic(sink: DiagnosticSink, problem: dict, domains, constants) -> None:
    """A closed-form initial value of a periodic field that differs on the two faces (``initial: u = x`` with
    ``periodic u in x``) contradicts the condition at t0: a warning at the initial condition."""
    boxes = {d.name: d.shape for d in domains if isinstance(d.shape, geo.Box)}
    known = {sympy.Symbol(c.name, real=True): c.value for c in constants}
    known.update({sympy.Symbol(p.name, real=True): p.value for p in problem["params"] if p.value is not None})
    for periodic in problem["periodic"]:
        for condition in problem["initial_conditions"]:
            field = condition.lhs.func.__name__ if isinstance(condition.lhs, AppliedUndef) else None
            if field not in periodic.fields or condition.rank:
                continue
            box = next((boxes[e.target.name] for e in problem["equations"] if e.target is not None
                        and e.target.name in boxes and periodic.axis in boxes[e.target.name].axes), None)
            if box is None:
                continue
            gap = _face_gap(condition.rhs.subs(known), box, periodic.axis)
            if gap is not None and gap > 1e-9:
                sink.warning(f"the initial value of '{field}' differs on the two faces of {periodic.axis} (by up to "
                             f"{gap:.3g}), where 'periodic {field} in {periodic.axis}' asks them to agree",
                             condition.span)


def _face_gap(value: sympy.Expr, box: "geo.Box", axis: str) -> float | None:
    """The largest difference of ``value`` between the low and high faces across ``axis`` (at 5 nodes per other
    axis); None where ``value`` is not a closed form of the coordinates."""
    symbols = {s.name: s for s in value.free_symbols}
    if value.atoms(AppliedUndef, sympy.Derivative) or set(symbols) - set(box.axes):
        return None
    index = box.axes.index(axis)
    others = [(a, lo, hi) for i, (a, lo, hi) in enumerate(zip(box.axes, box.low, box.high)) if i != index]
    gap = 0.0
    for ticks in itertools.product(*([lo + (hi - lo) * k / 4 for k in range(5)] for _, lo, hi in others)):
        at = {symbols[a]: v for (a, _, _), v in zip(others, ticks) if a in symbols}
        sides = []
        for face in (box.low[index], box.high[index]):
            point = {**at, **({symbols[axis]: face} if axis in symbols else {})}
            try:
                sides.append(complex(value.subs(point).evalf()))
            except (TypeError, ValueError):
                return None
        gap = max(gap, abs(sides[0] - sides[1]))
    return gap
