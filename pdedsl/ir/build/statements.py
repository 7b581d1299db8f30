"""The statements after geometry: params, inputs, lets, equations and conditions, data and targets.

A mix-in of :class:`ProblemBuilder`; each statement kind has one method.
"""

from __future__ import annotations

import os

import sympy
from sympy.core.function import AppliedUndef

from ...errors import did_you_mean
from ...frontend import ast
from .. import geometry as geo
from .. import nodes
from ..builtins import PRIORS
from .. import problem as ir
from .context import AXIS, CONST, DOMAIN, FIELD, INPUT, KIND_NOUN, LET, PARAM, TIME, Context, describe_shape
from ..numeric import MAX_WRITTEN_DEPTH, folded, written_depth
from .data_files import check_data_file
from .prior_hazards import prior_hazards

#: Names an equation or condition may use.
_PHYSICS_NAMES = frozenset({CONST, PARAM, INPUT, FIELD, LET, AXIS, TIME})

_PURPOSE = {"equation": "an equation", "boundary": "a boundary condition", "initial": "an initial condition"}

#: Warnings of check that training turns into errors (training/run.py: nothing_to_train), by their text.
NO_FIELD = "the spec declares no field: there is nothing to solve for"
NOTHING_TO_TRAIN = "the problem has no equation, condition or observation: there is nothing to train"


def _fresh_name(stem: str, used: set[str]) -> str:
    """``stem_1``, ``stem_2``, ...: the first not yet used (and now used)."""
    index = 1
    while f"{stem}_{index}" in used:
        index += 1
    name = f"{stem}_{index}"
    used.add(name)
    return name


class StatementBuilder:
    def build_statements(self, statements, blocks, targets) -> dict:
        of = lambda kind: [s for s in statements if isinstance(s, kind)]  # noqa: E731
        self._observe_count = len(of(ast.ObserveDecl))
        self._infer_spans = [s.span for s in of(ast.InferDecl)]
        self._periodic_lines: dict[tuple[str, str], int] = {}
        equations, boundary, initial = self._blocks(blocks, targets)
        inferred = self._inferred(of(ast.InferDecl))
        fields = [ir.Field(d.name, self.field_function(d.name), d.span) for d in self.scope.of_kind(FIELD)]
        inputs = tuple(i for i in map(self._input, self.scope.of_kind(INPUT)) if i is not None)
        result = dict(
            fields=tuple(fields),
            params=tuple(p for p in map(self._param, self.scope.of_kind(PARAM)) if p is not None),
            inputs=inputs,
            lets=tuple(x for x in map(self._let, self.scope.of_kind(LET)) if x is not None),
            equations=tuple(equations),
            boundary_conditions=tuple(boundary),
            initial_conditions=tuple(initial),
            periodic=tuple(p for p in map(self._periodic, of(ast.PeriodicDecl)) if p is not None),
            observations=tuple(o for o in map(self._observe, of(ast.ObserveDecl)) if o is not None),
            inferred=tuple(inferred),
            infer_spans=tuple(inferred.values()),
            exact=self._exact(of(ast.ExactDecl), inputs),
            references=self._references(of(ast.ReferenceDecl), inferred),
        )
        self._check_input_cycles()
        self._warn_about_gaps(result)
        self._warn_about_initial_overlaps(result["initial_conditions"])
        self._warn_about_boundary_repeats(result["boundary_conditions"])
        self._warn_about_initial_orders(result["equations"], result["initial_conditions"])
        self._warn_about_cut_out_normals(result["equations"], result["boundary_conditions"])
        self._warn_about_conditions_apart(result["equations"], result["boundary_conditions"])
        self._warn_about_overdetermined_regions(result["equations"], inferred)
        self._warn_about_repeated_observations(result["observations"])
        self._warn_about_inferred_exact(result["exact"], result["params"], inferred)
        self._warn_about_exact_beside_reference(result["exact"], result["references"])
        self._refuse_posterior_name_clashes(inferred)
        self._refuse_training_term_names(result)
        return result

    def _refuse_training_term_names(self, result) -> None:
        """Training logs and weighs (``--weight NAME=W``) each residual under its name beside terms of its own:
        ``data_u`` (``data_u_2``, ...) per ``observe`` file, ``kl`` and ``reconstruct_a`` (dgno), ``rim_flux``
        (the mixed form's, per equation), ``periodic_1``, ... A residual of one of those names would be taken
        for that term."""
        terms = {f"data_{f.name}": f"the data term of '{f.name}' (its readings, or an operator's labels)"
                 for f in result["fields"]}
        count = {}
        for observation in result["observations"]:
            count[observation.name] = count.get(observation.name, 0) + 1
            key = observation.name + (f"_{count[observation.name]}" if count[observation.name] > 1 else "")
            terms[f"data_{key}"] = f"the loss term of the readings of '{observation.name}'"
        if any(i.kind == "prior" for i in result["inputs"]) or any(p.is_random for p in result["params"]):
            for name in [i.name for i in result["inputs"]] + [p.name for p in result["params"]]:
                terms[f"reconstruct_{name}"] = f"the dgno backend's reconstruction term of '{name}'"
            terms["kl"] = "the KL term of the dgno backend"
        for index, _ in enumerate(result["periodic"]):
            terms[f"periodic_{index + 1}"] = f"the loss term of the periodic statement number {index + 1}"
        for equation in result["equations"]:
            terms[f"{equation.name}_flux"] = f"the mixed form's flux term of equation '{equation.name}'"
        for condition in (*result["equations"], *result["boundary_conditions"], *result["initial_conditions"]):
            if condition.name in terms:
                self.sink.error(f"the name '{condition.name}' is also {terms[condition.name]}: training would "
                                "log and weigh the two as one", self._name_spans.get(condition.name, condition.span),
                                hint="name this block otherwise")

    #: What infer and predict of a posterior name after a field, input or param (posterior_views, inverse)
    POSTERIOR_SUFFIXES = {"_std": "spread", "_map": "MAP estimate", "_low": "lower bound", "_high": "upper bound"}

    def _refuse_posterior_name_clashes(self, inferred) -> None:
        """A spec that infers gets posterior arrays named ``u_std``, ``a_map``, ... beside ``u`` and ``a`` in the
        files of infer and predict: a field, input or param of such a name would be overwritten there."""
        if not inferred:
            return
        names = {d.name: d for kind in (FIELD, INPUT, PARAM) for d in self.scope.of_kind(kind)}
        for name, declaration in names.items():
            for suffix, what in self.POSTERIOR_SUFFIXES.items():
                base = name[:-len(suffix)]
                if name.endswith(suffix) and base in names:
                    self.sink.error(f"'{name}' would share its name with the posterior {what} of '{base}' ({name}) "
                                    "in the files of infer and predict", declaration.span,
                                    hint=f"rename '{name}'")

    # ---- knowns and priors ----
    def _param(self, declaration) -> ir.Param | None:
        node: ast.ParamDecl = declaration.node
        name = node.name.text
        if node.kind == "value":
            value = self.constant_number(node.value, f"the value of param '{name}'")
            return None if value is None else ir.Param(name, value, None, node.span)
        typed = self.expressions.build(node.value, Context("a prior", frozenset({CONST, LET}), random=True))
        if typed.bad:
            return None
        if "field" in typed.random:
            self.sink.error(f"param '{name}' is a scalar, but its prior is a random field", node.value.span,
                            hint=f"use 'input {name} ~ ...' for a random field")
            return None
        if not typed.random:
            self.sink.error(f"the prior of param '{name}' has no random part", node.value.span,
                            hint=f"use uniform(low, high) or normal(mean, std), or write 'param {name} = value'")
            return None
        return ir.Param(name, None, typed.expr, node.span)

    def _input(self, declaration) -> ir.Input | None:
        node: ast.InputDecl = declaration.node
        name = node.name.text
        function = self.field_function(name)
        if node.kind == "data":
            data = check_data_file(node.value, self.source.path, self.sink, name,
                                   tuple(str(a) for a in function.args),  # (space, and time if the file has it)
                                   unused_axis=None if self.time else "t")
            return None if data is None else ir.Input(name, function, "data", data=data, span=node.span)
        if node.kind == "formula":
            context = Context(f"the formula of input '{name}'", frozenset({CONST, PARAM, INPUT, AXIS, TIME, LET}),
                              axes=self.axes)
            typed = self.expressions.build(node.value, context)
            if typed.bad or not self._scalar(typed, node.value, f"input '{name}'"):
                return None
            return ir.Input(name, function, "formula", formula=typed.expr, span=node.span)
        reads = self._inputs_named(node.value)
        names = {CONST, AXIS, LET} | ({INPUT, PARAM} if reads else set())
        context = Context("a prior", frozenset(names), axes=self.axes, random=True)
        typed = self.expressions.build(node.value, context)
        if typed.bad or not self._scalar(typed, node.value, f"input '{name}'"):
            return None
        if reads:
            return self._derived_input(name, function, node, typed, reads)
        if "field" not in typed.random:
            if typed.random:
                message, hint = f"input '{name}' is a field, but its prior is a random scalar", f"use 'param {name} ~ ...'"
            else:
                message, hint = f"the prior of input '{name}' has no random part", f"write 'input {name} = ...' for a formula"
            self.sink.error(message, node.value.span, hint=hint)
            return None
        self._warn_about_prior_hazards(typed.expr, node.value)
        return ir.Input(name, function, "prior", prior=typed.expr, span=node.span)

    def _inputs_named(self, value) -> list[str]:
        """The inputs a prior names (``g`` in ``threshold(g, below: 5, above: 10)``), in order of appearance."""
        return list(dict.fromkeys(n.id for n in ast.walk(value)
                                  if isinstance(n, ast.Name) and self.scope.kind_of(n.id) == INPUT))

    def _derived_input(self, name: str, function, node, typed, reads: list[str]) -> ir.Input | None:
        """``input a ~ threshold(g, ...)`` with ``input g ~ gaussian_field(...)``: a prior over another input is a
        function of that input's draw (one draw of g serves g and a), so ``a`` is a formula input of g (its
        ``prior`` keeps the written form, for listings), and a random primitive of its own would be a second,
        independent draw that no formula can hold."""
        if typed.random:
            drawn = min((p for p in typed.expr.atoms(nodes.RandomPrimitive) if not isinstance(p, nodes.Threshold)),
                        key=str)
            spelled = next(n for n, (cls, _) in PRIORS.items() if isinstance(drawn, cls))
            self.sink.error(f"the prior of input '{name}' reads input '{reads[0]}', so it is a function of "
                            f"{reads[0]}'s draw, and cannot draw {spelled}(...) of its own", node.value.span,
                            hint=f"declare that draw as an input of its own (input h ~ {spelled}(...)) and use h here")
            return None
        formula = typed.expr.replace(lambda e: isinstance(e, nodes.Threshold), lambda e: _step(*e.args))
        return ir.Input(name, function, "formula", formula=formula, prior=typed.expr, span=node.span)

    def _warn_about_prior_hazards(self, prior, node) -> None:
        """sqrt, log or 1/ of a Gaussian field: an error where nearly every draw is undefined, else a warning
        (see prior_hazards.py)."""
        def constant(name: str) -> float | None:
            return self.const_value(name) if self.scope.kind_of(name) == CONST else None

        for hazard in prior_hazards(prior, constant):
            report = self.sink.error if hazard.error else self.sink.warning
            report(hazard.message, node.span, hint=hazard.hint)

    def _scalar(self, typed, node, what: str) -> bool:
        if typed.shape:
            self.sink.error(f"{what} must be a scalar, not {describe_shape(typed)}", node.span)
            return False
        return True

    def _check_input_cycles(self) -> None:
        """An input formula may use other inputs, but not (through them) itself."""
        formulas = {d.name: d.node for d in self.scope.of_kind(INPUT)  # (a prior over inputs is a formula of them)
                    if d.node.kind == "formula" or d.node.kind == "prior" and self._inputs_named(d.node.value)}
        uses = {
            name: {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name) and n.id in formulas}
            for name, node in formulas.items()
        }
        reported: set[str] = set()
        for start in uses:
            path, stack = [start], [iter(sorted(uses[start]))]
            while stack:
                following = next(stack[-1], None)
                if following is None:
                    stack.pop()
                    path.pop()
                elif following == start and start not in reported:
                    reported.update(path)
                    self.sink.error(f"input '{start}' is defined in terms of itself ({' -> '.join(path + [start])})",
                                    formulas[start].value.span)
                elif following not in path and len(path) < len(uses):
                    path.append(following)
                    stack.append(iter(sorted(uses[following])))

    def _let(self, declaration) -> ir.Let | None:
        node: ast.LetDecl = declaration.node
        context = Context("a let", _PHYSICS_NAMES, axes=self.axes, differential=True, normal=True)  # one for all
        typed = self.let_value(node.name.text, context, node.span)
        return None if typed.bad else ir.Let(node.name.text, typed.expr, node.span)

    # ---- equations and conditions ----
    def block_target(self, block: ast.Block):
        """Where a block applies, checked against its kind; (None, None, False) for a whole-domain initial."""
        if block.target is None:
            if block.kind == "initial":
                return None, None, False
            domains = self.scope.names(DOMAIN)
            built = [d for d in domains if d not in self.geometry.operand_domains()]  # not only a part of another
            if len(domains) == 1 or len(built) == 1:
                name = domains[0] if len(domains) == 1 else built[0]
                return ir.TargetRef("domain", name), name, False
            if not domains:
                self.sink.error(f"this {block.kind} has no domain to hold in", block.span,
                                hint="declare one, e.g. 'domain Omega = box(x: [0, 1])'")
            else:
                self.sink.error(f"say where this {block.kind} holds: there are several domains", block.span,
                                hint=f"write '{block.kind} in NAME:' with one of: {', '.join(domains)}")
            return None
        resolved = self.resolve_target(block.target, block.kind)
        if resolved is None:
            return None
        ref, _domain, on_boundary = resolved
        if block.kind == "boundary" and not on_boundary:
            what = f"'{ref}' is the interior of a domain" if ref.kind == "domain" else f"region '{ref}' lies in the interior of a domain"
            self.sink.error(f"a boundary condition needs a boundary, but {what}", block.target.span,
                            hint="write 'on boundary(DOMAIN)' or name a region defined from boundary(...)")
            return None
        if block.kind != "boundary" and on_boundary:
            what = "an equation" if block.kind == "equation" else "an initial condition"
            self.sink.error(f"{what} holds inside a domain, but '{ref}' is on a boundary", block.target.span,
                            hint="conditions on a boundary go in a 'boundary' block")
            return None
        return resolved

    def _blocks(self, blocks, targets):
        used = {b.name.text for b in blocks if b.name is not None and len(b.relations) == 1}
        seen: dict[str, int] = {}
        self._name_spans: dict[str, object] = {}  # each relation's name -> where it is written (or the relation)
        out = {"equation": [], "boundary": [], "initial": []}
        for block in blocks:
            if block.name is not None:
                if block.name.text in seen:
                    self.sink.error(f"the name '{block.name.text}' is already used by a block on line "
                                    f"{seen[block.name.text]}", block.name.span)
                seen.setdefault(block.name.text, block.span.line)
            if block.kind == "initial" and self.time is None:
                if not self.time_in_error:
                    self.sink.error("'initial' needs a time axis, but the problem has none", block.span,
                                    hint="declare one with 'time t: [0, 1]', or remove the initial block")
                continue
            target = targets[id(block)]
            for relation in block.relations:
                if block.name is not None and len(block.relations) == 1:
                    name = block.name.text
                else:
                    name = _fresh_name(block.name.text if block.name is not None else block.kind, used)
                self._name_spans[name] = block.name.span if block.name is not None else relation.span
                condition = self._relation(block, relation, name, target)
                if condition is not None:
                    out[block.kind].append(condition)
        return out["equation"], out["boundary"], out["initial"]

    def _relation(self, block: ast.Block, relation: ast.Relation, name: str, target) -> ir.Condition | None:
        context = Context(_PURPOSE[block.kind], _PHYSICS_NAMES, axes=self.axes, differential=True,
                          normal=block.kind == "boundary")
        lhs = self.expressions.build(relation.lhs, context)
        rhs = self.expressions.build(relation.rhs, context)
        if lhs.bad or rhs.bad or target is None:
            return None
        if lhs.shape != rhs.shape:
            self.sink.error(f"the two sides differ: the left is {describe_shape(lhs)}, the right {describe_shape(rhs)}",
                            relation.span)
            return None
        if max(written_depth(lhs.expr), written_depth(rhs.expr)) > MAX_WRITTEN_DEPTH:
            self.sink.error(f"this {block.kind} nests too deeply written out: its lets substituted, it is more than "
                            f"{MAX_WRITTEN_DEPTH} levels deep", relation.span,
                            hint="generated code cannot nest that deeply; shorten the chain of lets")
            return None
        if not (lhs.fields | rhs.fields):
            if self._mentions_refused_field(relation):
                return None  # its field's declaration is already reported
            self.sink.error(f"this {block.kind} involves no field, so no solution can meet or miss it",
                            relation.span, hint="declared fields: " + (", ".join(self.scope.names(FIELD)) or "none"))
            return None
        if not lhs.shape and _fields_cancel(lhs.expr, rhs.expr):
            self.sink.error(f"the fields cancel out of this {block.kind}: what is left involves none, so no solution "
                            "can meet or miss it", relation.span)
            return None
        self._used_fields.update(lhs.fields | rhs.fields)
        return ir.Condition(block.kind, name, target[0], lhs.expr, rhs.expr, len(lhs.shape), relation.span)

    # ---- periodicity, data and targets ----
    def _mentions_refused_field(self, relation: ast.Relation) -> bool:
        """Whether the relation names a field whose declaration was refused (a duplicate or reserved name)."""
        refused = {name for name, kind in self.scope.refused.items() if kind == FIELD}
        return any(isinstance(node, ast.Name) and node.id in refused for node in ast.walk(relation))

    def _periodic(self, node: ast.PeriodicDecl) -> ir.Periodic | None:
        fields = [self._name_of_kind(ident, (FIELD,), "periodic") for ident in node.fields]
        axis = node.axis.text
        if self.time is not None and axis == self.time.name:
            self.sink.error("periodic conditions are for space axes, not time", node.axis.span)
            return None
        if axis not in self.axes:
            self.sink.error(f"unknown axis '{axis}' (the axes are: {', '.join(self.axes) or 'none'})", node.axis.span,
                            hint=did_you_mean(axis, self.axes))
            return None
        for domain in self.physics_domains:
            shape = self.geometry.shapes.get(domain)
            if shape is not None and not isinstance(shape, geo.Box):
                kind = "a CSG domain" if isinstance(shape, geo.Csg) else f"a {type(shape).__name__.lower()}"
                self.sink.error(f"periodic in '{axis}' needs a box or interval domain, but '{domain}' is {kind}",
                                node.axis.span)
                return None
        if any(f is None for f in fields):
            return None
        for field, ident in zip(fields, node.fields):
            earlier = self._periodic_lines.setdefault((field, axis), node.span.line)
            if earlier != node.span.line:
                self.sink.warning(f"'{field}' is already periodic in '{axis}' (line {earlier})", ident.span)
        return ir.Periodic(tuple(fields), axis, node.span)

    def _name_of_kind(self, ident: ast.Ident, kinds, statement: str) -> str | None:
        name = ident.text
        kind = self.scope.kind_of(name)
        if kind in kinds:
            return name
        wanted = " or ".join(KIND_NOUN[k] for k in kinds)
        if kind is None and (name in self.all_axes or (self.time is not None and name == self.time.name)):
            self.sink.error(f"'{statement}' needs {wanted}, but '{name}' is a coordinate", ident.span)
        elif kind is None:
            self.sink.error(f"unknown name '{name}' in '{statement}'", ident.span,
                            hint=did_you_mean(name, self.scope.names(*kinds)))
        else:
            self.sink.error(f"'{statement}' needs {wanted}, but '{name}' is {KIND_NOUN[kind]}", ident.span)
        return None

    def _data_axes(self, name: str) -> tuple[str, ...]:
        time = (self.time.name,) if self.time and self.scope.kind_of(name) == FIELD else ()
        return self.axes + time

    def _observe(self, node: ast.ObserveDecl) -> ir.Observation | None:
        name = self._name_of_kind(node.name, (FIELD, INPUT), "observe")
        noise = None
        if node.noise is not None:
            noise = self.constant_number(node.noise, "the noise level")
            if noise is not None and noise < 0:
                self.sink.error(f"the noise level must not be negative, got {noise:g}", node.noise.span,
                                hint="it is the standard deviation of the measurement error")
                return None
        if name is None:
            return None
        data = check_data_file(node.path, self.source.path, self.sink, name, self._data_axes(name),
                               missing_ok=not self.observations_read)
        return None if data is None else ir.Observation(name, data, noise, node.span)

    def _inferred(self, nodes) -> dict:
        """The names ``infer`` statements give, in order, with where each is named."""
        inferred: dict = {}
        for node in nodes:
            for ident in node.names:
                name = self._name_of_kind(ident, (PARAM, INPUT), "infer") if not self._infer_misuse(ident) else None
                if name is None:
                    continue
                if name in inferred:
                    self.sink.error(f"'{name}' is already inferred on line {inferred[name].line}", ident.span)
                    continue
                declaration = self.scope.get(name).node
                reads = (self._inputs_named(declaration.value)
                         if isinstance(declaration, ast.InputDecl) and declaration.kind == "prior" else [])
                if reads:
                    self.sink.error(f"input '{name}' is a function of input '{reads[0]}' and cannot be inferred on "
                                    "its own", ident.span, hint=f"infer {reads[0]}: {name} follows from it")
                    continue
                if isinstance(declaration, ast.InputDecl) and declaration.kind != "prior":
                    how = "given as data" if declaration.kind == "data" else "given by a formula"
                    self.sink.error(f"input '{name}' is {how} and cannot be inferred", ident.span,
                                    hint="infer a param or an input with a prior ('input a ~ ...')")
                    continue
                inferred[name] = ident.span
        return inferred

    def _infer_misuse(self, ident: ast.Ident) -> bool:
        kind = self.scope.kind_of(ident.text)
        if kind == FIELD:
            self.sink.error(f"'{ident.text}' is a field, and fields are always unknown", ident.span,
                            hint="'infer' names a param or an input")
            return True
        if kind == CONST:
            self.sink.error(f"'{ident.text}' is a const and cannot be inferred", ident.span,
                            hint=f"declare it as 'param {ident.text} = ...' to infer it")
            return True
        return False

    def _exact(self, nodes, inputs) -> tuple[ir.Exact, ...]:
        """Closed forms of fields. A formula input is written out in them (it is a closed form too); an input
        that is random or read from data has no closed form and is refused."""
        exact: dict[str, ir.Exact] = {}
        context = Context("an exact solution", frozenset({CONST, PARAM, AXIS, TIME, LET, INPUT}), axes=self.axes,
                          differential=True)
        formulas = {i.function: i.formula for i in inputs if i.kind == "formula" and i.formula is not None}
        others = {i.function: i for i in inputs if i.function not in formulas}
        for node in nodes:
            name = self._name_of_kind(node.name, (FIELD,), "exact")
            typed = self.expressions.build(node.value, context)
            if name is None or typed.bad or not self._scalar(typed, node.value, "an exact solution"):
                continue
            unknown = [others[f] for f in typed.expr.atoms(AppliedUndef) if f in others]
            if unknown:
                item = min(unknown, key=lambda i: i.name)
                how = "is random" if item.kind == "prior" else "is read from data"
                self.sink.error(f"input '{item.name}' {how}, so an exact solution cannot use it: only a formula "
                                f"input (input {item.name} = ...) has a closed form", node.value.span)
                continue
            expr = typed.expr
            for _ in range(len(formulas)):  # (a formula may use another formula input; cycles are refused)
                if not any(expr.has(f) for f in formulas):
                    break
                expr = expr.xreplace(formulas)
            if name in exact:
                self.sink.error(f"field '{name}' already has an exact solution (line {exact[name].span.line})",
                                node.name.span)
                continue
            exact[name] = ir.Exact(name, expr, node.span)
        return tuple(exact.values())

    def _references(self, nodes, inferred) -> tuple[ir.Reference, ...]:
        """``reference NAME from "file"``: a field's solution, or the truth of an inferred input (what a
        posterior of it is measured against)."""
        references: dict[str, ir.Reference] = {}
        for node in nodes:
            name = self._name_of_kind(node.name, (FIELD, INPUT), "reference")
            if name is None:
                continue
            kind = self.scope.kind_of(name)
            if kind == INPUT and name not in inferred:
                self.sink.error(f"'reference {name}': an input's reference is the truth of an inferred input, and "
                                f"'{name}' is not inferred", node.name.span,
                                hint=f"add 'infer {name}' (and observations), or leave this line out")
                continue
            if name in references:
                self.sink.error(f"{KIND_NOUN[kind].split()[-1]} '{name}' already has reference data "
                                f"(line {references[name].span.line})", node.name.span)
                continue
            shared = (self.time.name,) if self.time is not None and kind == INPUT else ()
            data = check_data_file(node.path, self.source.path, self.sink, name, self._data_axes(name),
                                   shared_axes=shared, missing_ok=not self.observations_read,  # (data makes truths)
                                   values_may_be_missing=True)
            if data is not None:
                references[name] = ir.Reference(name, data, node.span)
        return tuple(references.values())

    # ---- warnings ----
    def _warn_about_gaps(self, result: dict) -> None:
        if self.sink.has_errors:  # a statement in error is missing from the result: its gap is no news
            return
        physics = result["equations"] + result["boundary_conditions"] + result["initial_conditions"]
        if physics:
            for declaration in self.scope.of_kind(FIELD):
                if declaration.name not in self._used_fields:
                    self.sink.warning(f"field '{declaration.name}' appears in no equation or condition",
                                      declaration.span)
        elif not self.scope.of_kind(FIELD):
            self.sink.warning(NO_FIELD, self._problem_span,
                              hint="declare the unknowns ('field u') and the equations they obey")
        elif not self._observe_count:
            for declaration in self.scope.of_kind(FIELD)[:1]:
                self.sink.warning(NOTHING_TO_TRAIN, declaration.span)
        if self.time is not None and result["equations"] and not result["initial_conditions"]:
            self.sink.warning("the problem is time-dependent but has no initial condition", self.time.span)
        if self._infer_spans and not self._observe_count:
            self.sink.warning("'infer' without 'observe': there is no data to infer from", self._infer_spans[0])


    def _warn_about_inferred_exact(self, exact, params, inferred) -> None:
        """An exact solution that uses a fixed param which is inferred (``param D = 1.0`` with ``infer D``):
        training evaluates it at the current estimate of D, so the reported error measures how well the
        network solves the equation at that estimate and stays small even when the estimate is wrong. (A random
        param is a member's own value, which the closed form rightly follows.)"""
        guessed = {p.name for p in params if not p.is_random and p.name in inferred}
        for item in exact:
            used = sorted(s.name for s in item.expr.free_symbols if s.name in guessed)
            if used:
                self.sink.warning(f"exact {item.name} uses '{used[0]}', which is inferred: the error is measured "
                                  f"against it at the estimate of {used[0]}, so a wrong estimate goes unnoticed",
                                  item.span, hint=f"write the true value of {used[0]} in the exact solution")

    def _warn_about_exact_beside_reference(self, exact, references) -> None:
        """A field with both an exact solution and reference data: training measures it against the exact
        solution alone (training/metrics.py; a posterior of 'infer --model' is scored against the data)."""
        closed = {item.name: item for item in exact}
        for reference in references:
            if reference.name in closed:
                self.sink.warning(f"'{reference.name}' has an exact solution (line {closed[reference.name].span.line}) "
                                  "and reference data: training measures its error against the exact solution",
                                  reference.span,
                                  hint="keep the one to measure against")

    def _warn_about_initial_overlaps(self, conditions) -> None:
        """Two initial conditions giving the same quantity (``u``, or ``dt(u)``) where both hold: training
        fits both, so where they differ neither is met. Regions that are both proper parts are not compared."""
        given: dict[tuple, list] = {}
        for condition in conditions:
            quantity = _initial_quantity(condition.lhs, self.time.name)
            if quantity is None:
                continue
            for earlier in given.get(quantity, []):
                if _may_overlap(earlier.target, condition.target):
                    field, order = quantity
                    what = f"'{field}'" if order == 0 else f"the time derivative of '{field}'"
                    self.sink.warning(f"the initial value of {what} is already given on line {earlier.span.line}, "
                                      "where this one holds too; where the two differ, neither is met",
                                      condition.span)
                    break
            given.setdefault(quantity, []).append(condition)


    def _warn_about_boundary_repeats(self, conditions) -> None:
        """Two boundary conditions giving a field's value (``u = ...``) on the same boundary or region: training
        fits both, so where they differ neither is met (``u = 0`` and ``u = 1`` on ``boundary(O)``)."""
        given: dict[tuple, ir.Condition] = {}
        for condition in conditions:
            if not isinstance(condition.lhs, AppliedUndef):
                continue
            key = (condition.lhs.func.__name__, condition.target)
            earlier = given.setdefault(key, condition)
            if earlier is not condition:
                self.sink.warning(f"the value of '{key[0]}' on {condition.target} is already given on line "
                                  f"{earlier.span.line}; where the two differ, neither is met", condition.span)

    def _warn_about_cut_out_normals(self, equations, conditions) -> None:
        """``dn`` on ``boundary(Hole)`` where Hole is cut out of the equations' domain (``Plate = Sq - Hole``):
        Hole's outward normal points into Plate, the opposite of Plate's own outward normal there."""
        physics = list(dict.fromkeys(self._domain_of(e.target) for e in equations))
        for condition in conditions:
            target = condition.target
            if target.kind != "boundary" or target.name in physics:
                continue
            if not any(isinstance(node, nodes.NormalDerivative) for side in (condition.lhs, condition.rhs)
                       for node in sympy.preorder_traversal(side)):
                continue
            hole = self.geometry.shapes.get(target.name)
            for name in physics:
                if hole is not None and _cut_out_of(hole, self.geometry.shapes.get(name)):
                    self.sink.warning(
                        f"dn here is along the outward normal of '{target.name}', which is cut out of '{name}': it "
                        f"points into '{name}', the opposite of '{name}'s own outward normal there",
                        condition.span, hint=f"for '{name}'s outward normal, declare 'region rim = boundary({name}) "
                                             f"where ...' with a predicate that picks the rim of '{target.name}', "
                                             "and write 'boundary on rim:'")
                    break


    def _warn_about_conditions_apart(self, equations, conditions) -> None:
        """A boundary condition on a domain that lies apart from every domain its field's equations hold in
        (``boundary on boundary(C)`` for a field solved in ``A``, their bounding boxes disjoint): training fits
        the network there, where nothing else constrains it, and the condition does nothing for the solution;
        a spec naming the wrong domain or region. Domains that touch (an interface) are not warned about."""
        fields = {d.name for d in self.scope.of_kind(FIELD)}
        solved: dict[str, set] = {}
        for equation in equations:
            for name in _fields_in(equation, fields):
                solved.setdefault(name, set()).add(self._domain_of(equation.target))
        for condition in conditions:
            home = self._domain_of(condition.target)
            for name in sorted(_fields_in(condition, fields)):
                domains = solved.get(name, set())
                if not domains or home in domains or not all(self._apart(home, d) for d in domains):
                    continue
                listed = ", ".join(f"'{d}'" for d in sorted(domains))
                self.sink.warning(f"this condition on '{condition.target.name}' (a part of '{home}') constrains "
                                  f"'{name}', whose equations hold in {listed}, which '{home}' does not touch: it "
                                  f"does nothing for the solution there", condition.span,
                                  hint=f"name a boundary or region of the domain where '{name}' is solved")
                break

    def _warn_about_overdetermined_regions(self, equations, inferred) -> None:
        """An equation on an interior region for fields that the equations of a target around it (its domain, or
        a region it refines) already determine: ``-laplace(u) = 1`` in Omega and ``-laplace(u) = 2`` in a disc
        of it give the disc two equations for one field, which no u meets. Conservative: the equations around
        must be at least as many as their unknowns (fields, and inferred inputs; a problem inferring a param is
        left alone), the region's fields among theirs, and every region on the way of full dimension (an
        equation on a line, ``x == 0.5``, is an interior condition). Regions side by side are not compared.
        The warning sits at the later of the two equations."""
        if any(self.scope.kind_of(name) == PARAM for name in inferred):
            return
        unknowns = {d.name for d in self.scope.of_kind(FIELD)} | set(inferred)
        for equation in equations:
            around = self._targets_around(equation.target)
            mine = _fields_in(equation, unknowns)
            outer = [e for e in equations if e.target in around]
            theirs = set().union(*(_fields_in(e, unknowns) for e in outer))
            if not around or not mine or not mine <= theirs or sum(map(_components, outer)) < len(theirs):
                continue
            earlier = next(e for e in outer if _fields_in(e, unknowns) & mine)
            first, later = sorted((earlier, equation), key=lambda e: (e.span.line, e.span.column))
            shared = sorted(_fields_in(earlier, unknowns) & mine)[0]
            count = sum(map(_components, outer)) + _components(equation)
            names = ", ".join(sorted(theirs))
            self.sink.warning(f"'{shared}' already has an equation on line {first.span.line} (in "
                              f"'{first.target.name}'); both hold in '{equation.target.name}': {count} equations "
                              f"for {len(theirs)} field{'s' if len(theirs) != 1 else ''} ({names}) there; where "
                              "they differ, none is met", later.span,
                              hint=f"to pose another equation in '{equation.target.name}', split "
                                   f"'{self._domain_of(equation.target)}' into regions and give each its own")

    def _targets_around(self, target) -> list:
        """The targets that hold all of interior region ``target`` (the regions it refines, then its domain),
        or none where a region on the way is on a boundary or pins an axis (no volume: see above)."""
        around = []
        while target.kind == "region":
            region = self.region(target.name)
            if region is None or region.on_boundary or (region.predicate is not None
                                                         and region.predicate.atoms(sympy.Eq)):
                return []
            target = region.base
            around.append(target)
        return around

    def _apart(self, first: str, second: str) -> bool:
        """Whether two domains' bounding boxes are disjoint (beyond rounding): they surely share no point."""
        from .extent import extent

        a, b = (extent(self.geometry.shapes.get(name)) if self.geometry.shapes.get(name) is not None else None
                for name in (first, second))
        if a is None or b is None or set(a) != set(b):
            return False
        scale = max(1.0, *(abs(v) for box in (a, b) for pair in box.values() for v in pair))
        return any(a[axis][0] > b[axis][1] + 1e-9 * scale or b[axis][0] > a[axis][1] + 1e-9 * scale for axis in a)

    def _warn_about_repeated_observations(self, observations) -> None:
        """The same file observed twice for one name counts every reading twice (its noise as if halved)."""
        seen: dict[tuple, int] = {}
        for observation in observations:
            key = (observation.name, os.path.realpath(observation.data.path))  # one file however spelt
            if key in seen:
                self.sink.warning(f"'{observation.name}' is already observed from this file on line {seen[key]}: "
                                  "each reading would count twice", observation.span)
            seen.setdefault(key, observation.span.line)

    def _warn_about_initial_orders(self, equations, initial) -> None:
        """A field of order k in time needs its value and first k - 1 time derivatives at the start: one
        missing leaves the solution undetermined, one more may contradict the equation."""
        if self.time is None or not initial or self.sink.has_errors:
            return
        orders = _time_orders(equations, self.time.symbol)
        given: dict[str, dict[int, object]] = {}
        loose = set()  # fields in initial relations that are not 'u = ...' or 'dt(u) = ...': not judged
        for condition in initial:
            quantity = _initial_quantity(condition.lhs, self.time.name)
            if quantity is None:
                loose |= {f.func.__name__ for f in (condition.lhs - condition.rhs).atoms(AppliedUndef)}
                continue
            given.setdefault(quantity[0], {}).setdefault(quantity[1], condition)
        for declaration in self.scope.of_kind(FIELD):
            field, order = declaration.name, orders.get(declaration.name, 0)
            if field in loose:
                continue
            for k, condition in sorted(given.get(field, {}).items()):
                if k >= order:
                    what = f"'{field}'" if k == 0 else _time_derivative(field, k, self.time.name)
                    because = ("no equation differentiates it in time" if order == 0 else
                               f"'{field}' is of order {order} in time, so its equations decide {what} at the start")
                    self.sink.warning(f"this initial condition gives {what}, but {because}: the two may disagree",
                                      condition.span)
            missing = [k for k in range(order) if k not in given.get(field, {})]
            if missing:
                names = " and ".join(f"'{field}'" if k == 0 else _time_derivative(field, k, self.time.name)
                                     for k in missing)
                example = f"{field} = ..." if missing[0] == 0 else f"{_time_derivative(field, missing[0], self.time.name)} = ..."
                self.sink.warning(f"'{field}' is of order {order} in time, but no initial condition gives {names}: "
                                  "the solution is not determined", declaration.span,
                                  hint=f"add '{example}' to an 'initial' block")

    def _domain_of(self, target) -> str:
        region = self.region(target.name) if target.kind == "region" else None
        return region.domain if region is not None else target.name


def _fields_in(relation, fields: set) -> set:
    """The fields a relation (equation or condition) mentions."""
    found = set()
    for side in (relation.lhs, relation.rhs):
        found |= {f.func.__name__ for f in side.atoms(AppliedUndef) if f.func.__name__ in fields}
    return found


def _components(relation) -> int:
    """How many scalar equations a relation stands for (a vector relation, one per component)."""
    shape = getattr(relation.lhs, "shape", ())
    return int(sympy.prod(shape)) if shape else 1


def _cut_out_of(hole, shape) -> bool:
    """Whether ``hole`` is subtracted somewhere in the CSG tree of ``shape``."""
    if not isinstance(shape, geo.Csg):
        return False
    if shape.op == "difference" and shape.right == hole:
        return True
    return _cut_out_of(hole, shape.left) or _cut_out_of(hole, shape.right)


def _time_derivative(field: str, k: int, time: str = "t") -> str:
    return f"dt({field})" if k == 1 else f"d({field}, {time}, {k})"


def _time_orders(equations, time) -> dict[str, int]:
    """The highest time derivative of each field in ``equations`` (through operators and products too)."""
    orders: dict[str, int] = {}
    for equation in equations:
        for side in (equation.lhs, equation.rhs):
            for node in sympy.preorder_traversal(side):
                if isinstance(node, sympy.Derivative):
                    count = sum(c for v, c in node.variable_count if v == time)
                    for function in node.expr.atoms(AppliedUndef):
                        name = function.func.__name__
                        orders[name] = max(orders.get(name, 0), count)
    return orders


def _initial_quantity(lhs, time: str):
    """``(field, k)`` for a left side that is a field (k = 0) or its k-th time derivative; else None."""
    if isinstance(lhs, AppliedUndef):
        return lhs.func.__name__, 0
    if isinstance(lhs, sympy.Derivative) and isinstance(lhs.expr, AppliedUndef):
        if all(variable.name == time for variable, _ in lhs.variable_count):
            return lhs.expr.func.__name__, sum(count for _, count in lhs.variable_count)
    return None


def _may_overlap(a, b) -> bool:
    """Whether two initial conditions' targets overlap for certain: one is the whole domain (None, or a
    domain), or both are the same region."""
    return a is None or b is None or a.kind == "domain" or b.kind == "domain" or a == b


def _fields_cancel(lhs, rhs) -> bool:
    """Whether ``lhs - rhs``, mentioning fields, has none left once SymPy has combined like terms (``u - u``,
    ``0*u``; no expansion, which large expressions could not afford)."""
    try:
        difference = folded(sympy.Add(lhs, -rhs))
    except (TypeError, ValueError, AttributeError, RecursionError):  # (what SymPy cannot rebuild is left alone)
        return False
    return not difference.atoms(AppliedUndef)


def _step(value, below, above, at) -> sympy.Expr:
    """``threshold(value, below, above, at)`` as a pointwise function of a known ``value`` (an input's draw):
    ``below`` under ``at``, ``above`` over it (their mean where ``value`` is exactly ``at``, a set of no area
    for a drawn field). Written with ``sign``, which generated code, the grid evaluator and the derivative
    rules (its derivative is 0) all know."""
    return (below + above) / 2 + (above - below) / 2 * sympy.sign(value - at)
