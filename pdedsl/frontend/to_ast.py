"""Parse tree -> AST.

This runs after parsing (not as Lark's in-parser transformer) so that every
node gets the span Lark propagated to it. One method per grammar rule.
"""

from __future__ import annotations

from lark import Token, Transformer, Tree, v_args

from ..errors import Span
from . import ast


def span_of_meta(meta) -> Span:
    return Span(meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos)


def span_of_token(token: Token) -> Span:
    return Span(token.line, token.column, token.end_line, token.end_column, token.start_pos, token.end_pos)


def _ident(token: Token) -> ast.Ident:
    return ast.Ident(str(token), span_of_token(token))


def _chain_parts(children):
    """Split ``[a, op, b, op, c]`` into operands, operator texts and operator spans."""
    operands = tuple(children[0::2])
    tokens = children[1::2]
    return operands, tuple(str(t) for t in tokens), tuple(span_of_token(t) for t in tokens)


@v_args(meta=True)
class _TreeToAst(Transformer):
    # ---- expressions ----
    def number(self, meta, children):
        (token,) = children
        return ast.Number(str(token), span_of_token(token))

    def name(self, meta, children):
        (token,) = children
        return ast.Name(str(token), span_of_token(token))

    def call(self, meta, children):
        func, arguments = children
        return ast.Call(_ident(func), arguments if arguments is not None else (), span_of_meta(meta))

    def arguments(self, meta, children):
        return tuple(c for c in children if c is not None)

    def keyword(self, meta, children):
        name, value = children
        return ast.Keyword(_ident(name), value, span_of_meta(meta))

    def unary(self, meta, children):
        op, operand = children
        return ast.Unary(str(op), operand, span_of_meta(meta))

    def power(self, meta, children):
        base, _caret, exponent = children
        return ast.Power(base, exponent, span_of_meta(meta))

    def _chain(self, kind, meta, children):
        operands, ops, op_spans = _chain_parts(children)
        return ast.Chain(kind, operands, ops, op_spans, span_of_meta(meta))

    def sum(self, meta, children):
        return self._chain("sum", meta, children)

    def product(self, meta, children):
        return self._chain("product", meta, children)

    def compare(self, meta, children):
        return self._chain("compare", meta, children)

    def csg(self, meta, children):
        return self._chain("csg", meta, children)

    def _bool(self, kind, meta, children):
        n = len(children) - 1
        return ast.Chain(kind, tuple(children), (kind,) * n, (span_of_meta(meta),) * n, span_of_meta(meta))

    def and_op(self, meta, children):
        return self._bool("and", meta, children)

    def or_op(self, meta, children):
        return self._bool("or", meta, children)

    def not_op(self, meta, children):
        (operand,) = children
        return ast.Not(operand, span_of_meta(meta))

    def vector(self, meta, children):
        return ast.Vector(tuple(c for c in children if c is not None), span_of_meta(meta))

    def range(self, meta, children):
        low, high = children
        return ast.Range(low, high, span_of_meta(meta))

    def string(self, meta, children):
        (token,) = children
        return ast.StringLit(str(token)[1:-1], span_of_token(token))

    # ---- statements ----
    def start(self, meta, children):
        return ast.Spec(tuple(children))

    def target(self, meta, children):
        if len(children) == 2:
            return ast.Target(_ident(children[1]), True, span_of_meta(meta))
        return ast.Target(_ident(children[0]), False, span_of_meta(meta))

    def problem_decl(self, meta, children):
        return ast.ProblemDecl(_ident(children[0]), span_of_meta(meta))

    def domain_decl(self, meta, children):
        name, shape = children
        return ast.DomainDecl(_ident(name), shape, span_of_meta(meta))

    def time_decl(self, meta, children):
        name, interval = children
        return ast.TimeDecl(_ident(name), interval, span_of_meta(meta))

    def region_decl(self, meta, children):
        name, base, *rest = children
        return ast.RegionDecl(_ident(name), base, rest[0] if rest else None, span_of_meta(meta))

    def field_decl(self, meta, children):
        return ast.FieldDecl(tuple(_ident(c) for c in children), span_of_meta(meta))

    def const_decl(self, meta, children):
        name, value = children
        return ast.ConstDecl(_ident(name), value, span_of_meta(meta))

    def param_decl(self, meta, children):
        name, op, value = children
        kind = "prior" if op.type == "TILDE" else "value"
        return ast.ParamDecl(_ident(name), kind, value, span_of_meta(meta))

    def input_decl(self, meta, children):
        name, op, value = children
        kind = {"TILDE": "prior", "EQUAL": "formula", "FROM": "data"}[op.type]
        return ast.InputDecl(_ident(name), kind, value, span_of_meta(meta))

    def let_decl(self, meta, children):
        name, value = children
        return ast.LetDecl(_ident(name), value, span_of_meta(meta))

    def relation(self, meta, children):
        lhs, rhs = children
        return ast.Relation(lhs, rhs, span_of_meta(meta))

    def block(self, meta, children):
        return tuple(children)

    def _block(self, kind, meta, name, target, relations):
        return ast.Block(kind, _ident(name) if name is not None else None, target, relations, span_of_meta(meta))

    def equation_block(self, meta, children):
        name, target, relations = children
        return self._block("equation", meta, name, target, relations)

    def boundary_block(self, meta, children):
        _keyword, name, target, relations = children
        return self._block("boundary", meta, name, target, relations)

    def initial_block(self, meta, children):
        name, target, relations = children
        return self._block("initial", meta, name, target, relations)

    def periodic_decl(self, meta, children):
        *fields, axis = children
        return ast.PeriodicDecl(tuple(_ident(f) for f in fields), _ident(axis), span_of_meta(meta))

    def observe_decl(self, meta, children):
        name, _from, path, noise = children
        return ast.ObserveDecl(_ident(name), path, noise, span_of_meta(meta))

    def infer_decl(self, meta, children):
        return ast.InferDecl(tuple(_ident(c) for c in children), span_of_meta(meta))

    def exact_decl(self, meta, children):
        name, value = children
        return ast.ExactDecl(_ident(name), value, span_of_meta(meta))

    def reference_decl(self, meta, children):
        name, _from, path = children
        return ast.ReferenceDecl(_ident(name), path, span_of_meta(meta))


def tree_to_ast(tree: Tree) -> ast.Spec:
    """The AST of a parse tree produced by pdedsl's grammar."""
    return _TreeToAst().transform(tree)
