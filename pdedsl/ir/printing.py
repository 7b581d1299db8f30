"""Printing the IR: back to pdedsl syntax, as 2-D Unicode mathematics, and as LaTeX.

Each printer is a SymPy printer subclass with one ``_print_<Class>`` method
per node it shows differently. Fields and inputs print as their bare names
(``u``, not ``u(x, y, t)``), and terms keep the order the user wrote them in.
"""

from __future__ import annotations

import unicodedata

import sympy
from sympy.core.function import AppliedUndef
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter, translate
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm
from sympy.printing.str import StrPrinter

from . import nodes

_FUNCTION_SPELLING = {"atan": "arctan", "Abs": "abs"}


def _is_reciprocal(expr) -> bool:
    return isinstance(expr, sympy.Pow) and expr.exp == sympy.S.NegativeOne


def _float_text(value) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") and "e" not in text else text


class SpecPrinter(StrPrinter):
    """Expressions in the language's own syntax (what ``emit --stage ir`` shows)."""

    def __init__(self):
        super().__init__({"order": "none"})

    def _print_AppliedUndef(self, expr) -> str:
        return expr.func.__name__

    def _print_Symbol(self, expr) -> str:
        return expr.name

    def _print_Float(self, expr) -> str:
        return repr(float(expr))  # keeps "1.0" a float when the listing is parsed again

    def _print_Exp1(self, expr) -> str:
        return "e"

    # Sums, products and powers print factor by factor in their stored order,
    # so that parsing the printed text rebuilds the very same tree.
    def _print_Add(self, expr, order=None) -> str:
        parts = []
        for index, term in enumerate(expr.args):
            negative, body = self._signed(term)
            if index == 0:
                parts.append(("-" if negative else "") + body)
            else:
                parts.append((" - " if negative else " + ") + body)
        return "".join(parts)

    def _signed(self, term) -> tuple[bool, str]:
        """(is it written with a leading minus, the text after that minus) of one term."""
        if isinstance(term, sympy.Number) and term < 0:
            return True, self._print(-term)
        if isinstance(term, sympy.Mul) and isinstance(term.args[0], sympy.Number) and term.args[0] < 0:
            coefficient, rest = -term.args[0], list(term.args[1:])
            keep_one = coefficient == 1 and _is_reciprocal(rest[0])  # -1/x, not -x^(-1)
            factors = rest if coefficient == 1 and not keep_one else [coefficient] + rest
            return True, self._product(factors)
        if isinstance(term, sympy.Mul):
            return False, self._product(list(term.args))
        return False, self.parenthesize(term, PRECEDENCE["Add"], strict=False)

    def _print_Mul(self, expr) -> str:
        negative, body = self._signed(expr)
        return ("-" + body) if negative else body

    def _product(self, factors) -> str:
        # strict=False: a factor of equal precedence (a nested product) keeps its brackets.
        text = self.parenthesize(factors[0], PRECEDENCE["Mul"], strict=False)
        for factor in factors[1:]:
            if _is_reciprocal(factor):
                text += "/" + self.parenthesize(factor.base, PRECEDENCE["Mul"], strict=False)
            else:
                text += "*" + self.parenthesize(factor, PRECEDENCE["Mul"], strict=False)
        return text

    def _print_Pow(self, expr, rational=False) -> str:
        base, exponent = expr.args
        if exponent == sympy.S.Half:
            return f"sqrt({self._print(base)})"
        base_text = self.parenthesize(base, PRECEDENCE["Pow"], strict=False)
        simple = isinstance(exponent, (sympy.Symbol, sympy.Function, sympy.Pow)) or (
            isinstance(exponent, (sympy.Integer, sympy.Float)) and exponent >= 0)  # x^(3/2), not x^3/2
        exponent_text = self._print(exponent) if simple else f"({self._print(exponent)})"
        return f"{base_text}^{exponent_text}"

    def _print_Function(self, expr) -> str:
        if isinstance(expr, AppliedUndef):
            return self._print_AppliedUndef(expr)
        name = _FUNCTION_SPELLING.get(expr.func.__name__, expr.func.__name__)
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Derivative(self, expr) -> str:
        parts = []
        for variable, count in expr.variable_count:
            parts.append(self._print(variable) if count == 1 else f"{self._print(variable)}, {count}")
        return f"d({self._print(expr.expr)}, {', '.join(parts)})"

    def _print_Relational(self, expr) -> str:
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[expr.rel_op]
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_And(self, expr) -> str:
        return " and ".join(self.parenthesize(a, PRECEDENCE["And"]) for a in expr.args)

    def _print_Or(self, expr) -> str:
        return " or ".join(self.parenthesize(a, PRECEDENCE["Or"]) for a in expr.args)

    def _print_Not(self, expr) -> str:
        return f"not ({self._print(expr.args[0])})"

    def _print_Exp(self, expr) -> str:
        return f"exp({self._print(expr.args[0])})"


class MathPrinter(PrettyPrinter):
    """2-D Unicode mathematics for ``pdedsl show``."""

    def __init__(self):
        super().__init__({"order": "none", "use_unicode": True, "wrap_line": False})

    def _print_AppliedUndef(self, expr):
        return prettyForm(expr.func.__name__)

    def _print_Symbol(self, expr, bold_name=False):
        return prettyForm(expr.name)  # names as written: 'theta' and 'θ' stay distinct

    def _print_Function(self, expr, sort=False, func_name=None, left="(", right=")"):
        if isinstance(expr, AppliedUndef):
            return self._print_AppliedUndef(expr)
        return super()._print_Function(expr, sort, _FUNCTION_SPELLING.get(expr.func.__name__, func_name), left, right)

    def print_ir_node(self, expr, **_):
        if isinstance(expr, nodes.RandomPrimitive):
            return prettyForm(SpecPrinter().doprint(expr))
        symbol = {nodes.Grad: "∇", nodes.Laplace: "Δ", nodes.NormalDerivative: "∂ₙ"}.get(type(expr))
        if symbol is not None:
            argument = self._print(expr.args[0])
            if not isinstance(expr.args[0], (sympy.Symbol, AppliedUndef)):
                argument = prettyForm(*argument.parens())
            return prettyForm(*argument.left(symbol))
        if isinstance(expr, nodes.Div):
            inner = self._print(expr.args[0])
            if not isinstance(expr.args[0], nodes.VectorLiteral):
                inner = prettyForm(*inner.parens())
            return prettyForm(*inner.left("∇⋅"))
        if isinstance(expr, nodes.Inner):
            left, right = (self._print(a) if isinstance(a, nodes.VectorLiteral) else prettyForm(*self._print(a).parens())
                           for a in expr.args)
            return prettyForm(*left.right("⋅", right))
        items = [self._print(a) for a in expr.args]
        joined = items[0]
        for item in items[1:]:
            joined = prettyForm(*joined.right(", ", item))
        return prettyForm(*joined.parens())

    def _print_Float(self, expr):
        return prettyForm(_float_text(expr))


class MathLatexPrinter(LatexPrinter):
    """LaTeX for ``pdedsl show --latex``."""

    def __init__(self):
        super().__init__({"order": "none"})

    def _print_AppliedUndef(self, expr, exp=None) -> str:
        name = self._name(expr.func.__name__)
        return name if exp is None else f"{name}^{{{exp}}}"

    def _print_Symbol(self, expr, style="plain") -> str:
        return self._name(expr.name)

    def _name(self, name: str) -> str:
        """A user's name: Greek names as letters and ``u_x`` subscripted, as SymPy writes them, except where
        that is not valid TeX (leading, trailing or doubled underscores) or reads as an operator (a name
        ``Delta`` beside the Laplacian): those are set upright as written (a name ``Δ`` slanted). Greek letters
        written as such become TeX's letters (:func:`_tex_letters`)."""
        if name.startswith("_") or name.endswith("_") or "__" in name:
            return _tex_letters(r"\mathrm{" + name.replace("_", r"\_") + "}")
        text = _tex_letters(self._super_sub(name))
        if text in (r"\Delta", r"{\Delta}"):  # a name, beside the Laplacian: upright if spelt, slanted if Greek
            return r"\mathrm{Delta}" if name == "Delta" else r"\mathit{\Delta}"
        return text

    @staticmethod
    def _super_sub(name: str) -> str:
        """SymPy's split of a name into letters, superscripts and subscripts (``u1`` is u with subscript 1,
        ``nu_eff`` nu with subscript eff), glued as SymPy does, with each part of several letters that is no
        TeX letter or accent set upright: ``kk`` slanted read as k times k, ``\\mathrm{kk}`` reads as one name.
        (For user names only: SymPy's own functions, ``\\sin``, keep its spelling.)"""
        base, supers, subs = split_super_sub(name)
        text = _upright(base)
        if supers:
            text += "^{%s}" % " ".join(map(_upright, supers))
        if subs:
            text += "_{%s}" % " ".join(map(_upright, subs))
        return text

    def _print_Function(self, expr, exp=None) -> str:
        if isinstance(expr, AppliedUndef):
            return self._print_AppliedUndef(expr, exp)
        if expr.func is sympy.atan:
            return rf"\arctan{{\left({self._print(expr.args[0])} \right)}}" + ("" if exp is None else f"^{{{exp}}}")
        return super()._print_Function(expr, exp)

    def _print_Mul(self, expr) -> str:
        """SymPy's, but a negated sum in \\left( \\right) as every other bracket here: its own wrote
        ``- (k - 1)`` with plain brackets (for the products it writes factor by factor, as given, it has none)."""
        as_given = expr.args[0] is sympy.S.One or any(isinstance(a, sympy.Number) for a in expr.args[1:])
        if not as_given and expr.could_extract_minus_sign() and (-expr).is_Add:
            return rf"- \left({self._print(-expr)}\right)"
        return super()._print_Mul(expr)

    def print_ir_node(self, expr, exp=None) -> str:
        text = self._ir_node(expr)
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _ir_node(self, expr) -> str:
        args = [self._print(a) for a in expr.args]
        simple = isinstance(expr.args[0], (sympy.Symbol, AppliedUndef)) if expr.args else True
        wrapped = args[0] if simple else self._bracket(expr.args[0], args[0]) if args else ""
        if isinstance(expr, nodes.Grad):
            return rf"\nabla {wrapped}"
        if isinstance(expr, nodes.Div):
            return rf"\nabla \cdot {self._bracket(expr.args[0], args[0])}"
        if isinstance(expr, nodes.Laplace):
            return rf"\Delta {wrapped}"
        if isinstance(expr, nodes.NormalDerivative):
            return rf"\partial_{{n}} {wrapped}"
        if isinstance(expr, nodes.Inner):
            return rf"{self._bracket(expr.args[0], args[0])} \cdot {self._bracket(expr.args[1], args[1])}"
        if isinstance(expr, nodes.VectorLiteral):
            return r"\begin{pmatrix}" + r" \\ ".join(args) + r"\end{pmatrix}"
        return r"\operatorname{" + expr.spelling.replace("_", r"\_") + "}" + rf"\left({', '.join(args)}\right)"

    @staticmethod
    def _bracket(arg, text: str) -> str:
        """``text`` (the printed ``arg``) in round brackets, unless ``arg`` is a vector literal: its matrix is
        a bracket already (``\\left(\\begin{pmatrix}`` drew two)."""
        return text if isinstance(arg, nodes.VectorLiteral) else rf"\left({text}\right)"

    def _print_Derivative(self, expr) -> str:
        total = sum(count for _, count in expr.variable_count)
        top = r"\partial" if total == 1 else rf"\partial^{{{total}}}"
        bottom = " ".join(
            rf"\partial {self._print(v)}" if c == 1 else rf"\partial {self._print(v)}^{{{c}}}" for v, c in expr.variable_count
        )
        inner = expr.expr
        if isinstance(inner, (sympy.Symbol, AppliedUndef)):
            return rf"\frac{{{top} {self._print(inner)}}}{{{bottom}}}"
        return rf"\frac{{{top}}}{{{bottom}}}\left({self._print(inner)}\right)"

    def _print_Float(self, expr) -> str:
        text = _float_text(expr)
        if "e" in text:
            mantissa, exponent = text.split("e")
            return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
        return text


#: Greek capitals TeX draws as Latin letters (it has no macro for them).
_LATIN_CAPITALS = {"ALPHA": "A", "BETA": "B", "EPSILON": "E", "ZETA": "Z", "ETA": "H", "IOTA": "I", "KAPPA": "K",
                   "MU": "M", "NU": "N", "OMICRON": "O", "RHO": "P", "TAU": "T", "CHI": "X"}
#: Letters whose TeX macro is not their Unicode name (TeX's \phi is the symbol U+03D5, φ is \varphi).
_TEX_SPECIAL = {"\u03c6": r"\varphi", "\u03d5": r"\phi", "\u03b5": r"\varepsilon", "\u03f5": r"\epsilon",
                "\u03d1": r"\vartheta", "\u03c2": r"\varsigma", "\u03f1": r"\varrho", "\u03d6": r"\varpi",
                "\u03bf": "o", "\u03bb": r"\lambda", "\u039b": r"\Lambda"}


def _upright(part: str) -> str:
    """One part of a name as SymPy translates it (``alpha`` is ``\\alpha``, ``xdot`` a dotted x), or, when
    that leaves several letters as written (``kk``, ``Re``, ``eff``), those letters upright; numbers stay."""
    text = translate(part)
    if text == part and len(part) > 1 and not part.isdigit():
        return r"\mathrm{" + part + "}"
    return text


def _tex_letters(text: str) -> str:
    """Greek letters in ``text`` as TeX macros (``{\\kappa}``), so that ``show --latex`` compiles under
    plain pdflatex; other non-ASCII letters stay as written (they need XeLaTeX or LuaLaTeX)."""
    out = []
    for ch in text:
        if ord(ch) < 128:
            out.append(ch)
            continue
        macro = _TEX_SPECIAL.get(ch)
        name = unicodedata.name(ch, "")
        if macro is None and name.startswith("GREEK SMALL LETTER ") and " " not in name[19:]:
            macro = "\\" + name[19:].lower()
        elif macro is None and name.startswith("GREEK CAPITAL LETTER ") and " " not in name[21:]:
            letter = name[21:]
            macro = _LATIN_CAPITALS.get(letter, "\\" + letter.capitalize())
        out.append("{" + macro + "}" if macro is not None else ch)
    return "".join(out)


def spec_text(expr) -> str:
    """``expr`` in pdedsl syntax."""
    return SpecPrinter().doprint(expr)


def _displayed(expr):
    """``expr`` with the factors 1 the IR keeps (``1/u^2`` is ``1 * u^-2``, so that every number written is
    checked) left out, for the reader's view only; untouched parts stay the same objects."""
    if not isinstance(expr, sympy.Basic) or not expr.args:
        return expr
    args = tuple(_displayed(a) for a in expr.args)
    if isinstance(expr, sympy.Mul):
        kept = tuple(a for a in args if not _is_one(a)) or (sympy.S.One,)
        kept = _numbers_first_below(_signs_in_front(_numbers_first(kept)))  # (a number first takes the sign)
        if len(kept) == 1:
            return kept[0]
        if kept != expr.args:
            return sympy.Mul(*kept, evaluate=False)
        return expr
    if args == expr.args:
        return expr
    if isinstance(expr, (sympy.Add, sympy.Pow)):
        return expr.func(*args, evaluate=False)
    return expr.func(*args)


def _is_one(factor) -> bool:
    """The number 1, written ``1`` or ``1.0`` (SymPy keeps the two apart)."""
    return bool(factor.is_Number and factor.is_real and float(factor) == 1)


def _negative(factor) -> bool:
    """Whether ``factor`` is written with a leading minus: a negative number, a product led by one, or an odd
    power of either (``1/(-2 x)``)."""
    if _odd_power(factor):
        return _negative(factor.base)
    lead = factor.args[0] if isinstance(factor, sympy.Mul) and factor.args else factor
    return bool(lead.is_Number and lead.is_negative)


def _negated(factor):
    """``-factor`` written without its minus (for a factor :func:`_negative` holds of)."""
    if _odd_power(factor):
        base = _negated(factor.base)
        return sympy.S.One if _is_one(base) else sympy.Pow(base, factor.exp, evaluate=False)
    if isinstance(factor, sympy.Mul):
        lead, rest = -factor.args[0], factor.args[1:]
        return sympy.Mul(*((lead,) if not _is_one(lead) else ()) + rest, evaluate=False) if rest else lead
    return -factor


def _odd_power(factor) -> bool:
    return isinstance(factor, sympy.Pow) and factor.exp.is_Integer and bool(factor.exp % 2)


def _signs_in_front(factors: tuple) -> tuple:
    """A product's minus signs gathered in front: ``2*(-(x - y))*u`` reads ``-2 (x - y) u``, not ``2⋅-(x - y)⋅u``.

    Every negative factor is negated and, where their count is odd, the product's leading number takes the
    sign (``-1*(-2)*x*(-u)`` reads ``-2 x u``, not ``-1⋅2⋅x⋅u``), else a ``-1`` in front, which prints as a
    minus."""
    negative = [index for index, factor in enumerate(factors) if _negative(factor)]
    if not negative or negative == [0] and factors[0].is_Number:
        return factors
    flipped = [_negated(f) if i in negative else f for i, f in enumerate(factors)]
    flipped = [f for f in flipped if not _is_one(f)]
    if len(negative) % 2:
        lead = flipped[:1] if flipped and flipped[0].is_Number else []
        flipped = [-lead[0] if lead else sympy.S.NegativeOne] + flipped[len(lead):]
    return tuple(flipped) or (sympy.S.One,)


def _numbers_first(factors: tuple) -> tuple:
    """Numbers lead a product, as people write them: ``x*3*u`` reads ``3 x u`` (TeX's ``x 3 u`` reads as x3u)."""
    numbers = [f for f in factors if f.is_Number]
    return tuple(numbers + [f for f in factors if not f.is_Number]) if numbers else factors


def _numbers_first_below(factors: tuple) -> tuple:
    """Numbers in a denominator lead it, as people write them: ``u/x/2`` reads ``u/(2 x)``, not ``u/(x 2)``."""
    def numeric_reciprocal(factor) -> bool:
        return isinstance(factor, sympy.Pow) and factor.base.is_Number and factor.exp.is_negative
    below = [f for f in factors if _is_reciprocal(f) or numeric_reciprocal(f)]
    if not below:
        return factors
    above = [f for f in factors if not (_is_reciprocal(f) or numeric_reciprocal(f))]
    return tuple(above + sorted(below, key=lambda f: not numeric_reciprocal(f)))


def math_text(lhs, rhs=None) -> str:
    """``lhs`` (or ``lhs = rhs``) as 2-D Unicode mathematics."""
    lhs, rhs = _displayed(lhs), _displayed(rhs)
    printer = MathPrinter()
    if rhs is None:
        return printer.doprint(lhs)
    left, right = printer._print(lhs), printer._print(rhs)
    return str(prettyForm(*left.right(" = ", right)))


def latex_name(name: str) -> str:
    """How ``show --latex`` writes the name ``name`` (for a listing that sets some name otherwise)."""
    return MathLatexPrinter()._name(name)


def latex_text(lhs, rhs=None) -> str:
    lhs, rhs = _displayed(lhs), _displayed(rhs)
    printer = MathLatexPrinter()
    if rhs is None:
        return printer.doprint(lhs)
    return f"{printer.doprint(lhs)} = {printer.doprint(rhs)}"
