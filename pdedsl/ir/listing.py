"""Whole-problem listings: the canonical spec (``emit --stage ir``) and the mathematics (``show``).

The canonical listing is itself a valid spec: every name explicit, every
default filled in, lets inlined into the equations they appear in. Loading it
again gives an equal Problem, which the tests use as a round-trip check.
"""

from __future__ import annotations

from .geometry import _number
from .printing import latex_text, math_text, spec_text
from .problem import Condition, Problem


def format_problem(problem: Problem, resolved_paths: bool = False) -> str:
    """The problem as a canonical, fully explicit spec; with ``resolved_paths``, data files are named by their
    absolute paths, so the listing reads the same files from any folder."""
    def _file(data) -> str:
        safe = resolved_paths and not any(c in data.path for c in '"\n')  # (a string cannot hold these)
        return _quoted(data.path if safe else data.written)

    lines = [f"problem {problem.name}"]
    if problem.time is not None:
        t = problem.time
        lines.append(f"time {t.name}: [{_number(t.start)}, {_number(t.end)}]")
    lines += [f"domain {d.name} = {d.shape}" for d in problem.domains]
    lines += [_region_line(region) for region in problem.regions]
    if problem.fields:
        lines.append("field " + ", ".join(f.name for f in problem.fields))
    for constant in problem.constants:
        lines.append(f"const {constant.name} = {spec_text(constant.expr)}")
    for param in problem.params:
        lines.append(f"param {param.name} ~ {spec_text(param.prior)}" if param.is_random
                     else f"param {param.name} = {_number(param.value)}")
    for item in problem.inputs:
        if item.kind == "prior" or item.prior is not None:  # (a prior over inputs is a formula of them)
            lines.append(f"input {item.name} ~ {spec_text(item.prior)}")
        elif item.kind == "formula":
            lines.append(f"input {item.name} = {spec_text(item.formula)}")
        else:
            lines.append(f"input {item.name} from {_file(item.data)}")
    lines += [f"let {let.name} = {spec_text(let.expr)}" for let in problem.lets]
    for condition in problem.equations + problem.boundary_conditions + problem.initial_conditions:
        lines.append(_block_header(condition))
        lines.append(f"    {spec_text(condition.lhs)} = {spec_text(condition.rhs)}")
    for periodic in problem.periodic:
        lines.append(f"periodic {', '.join(periodic.fields)} in {periodic.axis}")
    for observation in problem.observations:
        noise = f" noise {_number(observation.noise)}" if observation.noise is not None else ""
        lines.append(f"observe {observation.name} from {_file(observation.data)}{noise}")
    if problem.inferred:
        lines.append("infer " + ", ".join(problem.inferred))
    lines += [f"exact {e.name} = {spec_text(e.expr)}" for e in problem.exact]
    lines += [f"reference {r.name} from {_file(r.data)}" for r in problem.references]
    return "\n".join(lines) + "\n"


def _region_line(region) -> str:
    where = f" where {spec_text(region.predicate)}" if region.predicate is not None else ""
    return f"region {region.name} = {region.base}{where}"


def _block_header(condition: Condition) -> str:
    if condition.kind == "equation":
        return f"equation {condition.name} in {condition.target}:"
    if condition.kind == "boundary":
        return f"boundary {condition.name} on {condition.target}:"
    where = f" on {condition.target}" if condition.target is not None else ""
    return f"initial {condition.name}{where}:"


def _one_line_math(expr) -> str:
    text = math_text(expr)
    return text if "\n" not in text else "\n    " + text.replace("\n", "\n    ")


def _quoted(text: str) -> str:
    return '"' + text + '"'


def show_problem(problem: Problem, latex: bool = False) -> str:
    """A reader's view: what the problem is, then each equation and condition as mathematics."""
    coordinates = ", ".join(problem.axes)
    space = f"{len(problem.axes)}-D in ({coordinates})" if problem.axes else "no space axes"
    time = ""
    if problem.time is not None:
        time = f", time {problem.time.name} in [{_number(problem.time.start)}, {_number(problem.time.end)}]"
    out = [f"problem {problem.name}: {space}{time}"]
    out += [f"  domain {d.name} = {d.shape}" for d in problem.domains]
    out += ["  " + _region_line(region) for region in problem.regions]
    if problem.fields:
        out.append("  unknowns: " + ", ".join(f.name for f in problem.fields))
    for c in problem.constants:
        value = "" if c.expr.is_Number else f" = {c.value:.6g}"
        out.append(f"  const {c.name} = {spec_text(c.expr)}{value}")
    out += [f"  param {p.name} " + (f"~ {spec_text(p.prior)}" if p.is_random else f"= {_number(p.value)}")
            for p in problem.params]
    for item in problem.inputs:
        how = {"prior": lambda i: f"~ {spec_text(i.prior)}",
               "formula": lambda i: f"= {spec_text(i.formula)}" if i.prior is None else f"~ {spec_text(i.prior)}",
               "data": lambda i: f"from {_quoted(i.data.written)} (over {', '.join(i.axes)})"}[item.kind](item)
        out.append(f"  input {item.name} {how}")
    out += [f"  let {let.name} = {spec_text(let.expr)}" for let in problem.lets]
    for condition in problem.equations + problem.boundary_conditions + problem.initial_conditions:
        out.append("")
        header = _block_header(condition)
        if condition.kind == "initial":  # (when the start is, for the reader: not spec syntax)
            header = f"{header[:-1]} (at {problem.time.name} = {_number(problem.time.start)}):"
        out.append(header)
        if latex:
            out.append("    " + latex_text(condition.lhs, condition.rhs))
        else:
            out.extend("    " + line for line in math_text(condition.lhs, condition.rhs).split("\n"))
    extras = []
    extras += [f"periodic {', '.join(p.fields)} in {p.axis}" for p in problem.periodic]
    extras += [f"observe {o.name} from {_quoted(o.data.written)}" + (f" (noise std {o.noise:g})" if o.noise is not None else "")
               for o in problem.observations]
    if problem.inferred:
        extras.append("infer " + ", ".join(problem.inferred))
    for exact in problem.exact:
        extras.append(f"exact {exact.name} = " + (latex_text(exact.expr) if latex else _one_line_math(exact.expr)))
    extras += [f"reference {r.name} from {_quoted(r.data.written)}" for r in problem.references]
    if extras:
        out.append("")
        out.extend(extras)
    return "\n".join(out) + "\n"
