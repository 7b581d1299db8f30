"""SymPy node types the IR adds: differential operators, vectors and random primitives.

They never evaluate themselves. ``grad``, ``div``, ``laplace`` and ``dn`` stay
as nodes until a named pass lowers them (UFL keeps ``Grad`` until
``apply_derivatives`` for the same reason): integration by parts needs to see
``div(...)``. Random primitives carry their (already numeric) arguments in a
fixed order, so a prior is data, not code.
"""

from __future__ import annotations

import sympy


class IRNode(sympy.Function):
    """An unevaluated node; ``spelling`` is how the language writes it."""

    spelling = ""

    @classmethod
    def eval(cls, *args):  # never simplify: the node is the meaning
        return None

    def _sympystr(self, printer) -> str:
        return f"{self.spelling}({', '.join(printer._print(a) for a in self.args)})"

    # SymPy's printers skip _print_<Base> methods for Function subclasses, so
    # the pretty and LaTeX printers reach pdedsl's handlers through these hooks.
    def _pretty(self, printer, **kwargs):
        handler = getattr(printer, "print_ir_node", None)
        return handler(self, **kwargs) if handler else printer._print_Function(self)

    def _latex(self, printer, **kwargs):
        handler = getattr(printer, "print_ir_node", None)
        return handler(self, **kwargs) if handler else printer._print_Function(self, **kwargs)


class Grad(IRNode):
    """Gradient of a scalar: a vector with one component per space axis."""

    nargs = 1
    spelling = "grad"


class Div(IRNode):
    """Divergence of a vector: a scalar."""

    nargs = 1
    spelling = "div"


class Laplace(IRNode):
    """Laplacian (sum of second derivatives in space) of a scalar or, componentwise, a vector."""

    nargs = 1
    spelling = "laplace"


class NormalDerivative(IRNode):
    """Outward normal derivative ``dn(u) = grad(u) . n`` on a boundary."""

    nargs = 1
    spelling = "dn"


class Inner(IRNode):
    """Inner product of two vectors of the same length."""

    nargs = 2
    spelling = "dot"


class VectorLiteral(IRNode):
    """A vector literal ``(e1, e2, ...)``; one element is written ``(e1,)``, as ``(e1)`` is just ``e1``."""

    spelling = ""

    def _sympystr(self, printer) -> str:
        items = [printer._print(a) for a in self.args]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


class RandomPrimitive(IRNode):
    """A random primitive of a prior; ``parameters`` name its arguments in order."""

    parameters: tuple[str, ...] = ()
    is_field = False  # a random function of space (else a random scalar)

    def _sympystr(self, printer) -> str:
        parts = [f"{name}: {printer._print(value)}" for name, value in zip(self.parameters, self.args)]
        return f"{self.spelling}({', '.join(parts)})"

    def parameter(self, name: str):
        return self.args[self.parameters.index(name)]


class GaussianField(RandomPrimitive):
    """Gaussian random field with Matern covariance."""

    nargs = 4
    spelling = "gaussian_field"
    parameters = ("length", "smoothness", "variance", "mean")
    is_field = True


class Threshold(RandomPrimitive):
    """Two-phase field: ``below`` where the field is under ``at``, ``above`` elsewhere."""

    nargs = 4
    spelling = "threshold"
    parameters = ("field", "below", "above", "at")
    is_field = True

    def _sympystr(self, printer) -> str:
        field, rest = self.args[0], zip(self.parameters[1:], self.args[1:])
        parts = [printer._print(field)] + [f"{name}: {printer._print(value)}" for name, value in rest]
        return f"threshold({', '.join(parts)})"


class UniformPrior(RandomPrimitive):
    nargs = 2
    spelling = "uniform"
    parameters = ("low", "high")


class NormalPrior(RandomPrimitive):
    nargs = 2
    spelling = "normal"
    parameters = ("mean", "std")


DIFFERENTIAL_OPERATORS = (Grad, Div, Laplace, NormalDerivative)
RANDOM_PRIMITIVES = (GaussianField, Threshold, UniformPrior, NormalPrior)
