"""Finite-volume reference solver for steady scalar problems in divergence form.

Solves

    -div(a(x) grad u) + c(x) u = f(x)

on a box in 1, 2 or 3 dimensions, on a uniform node grid that includes the
boundary nodes. It exists to give the neural solvers an independent,
trustworthy answer to compare against, so it favours plain, well-understood
numerics over speed:

* Each node owns a control volume (a full cell in the interior, a half cell
  in an axis where it sits on a Neumann side). The flux through the face
  between two neighbouring nodes is ``a_face * (u_j - u_i) / h`` with
  ``a_face`` the *harmonic* mean of the two node values of ``a``. The
  harmonic mean is the exact conductance of two half-cells in series, so a
  piecewise-constant (two-phase) coefficient whose jump lies midway between
  nodes is handled without the smearing an arithmetic mean causes.
* Dirichlet nodes are eliminated from the system; a node on several sides
  takes the Dirichlet value of the first Dirichlet side in the order
  (axis 0, "low"), (axis 0, "high"), (axis 1, "low"), ... (corner values do
  not enter the 3/5/7-point stencil of any other node, except through a
  Neumann neighbour, which sees the value of that ordering).
* A Neumann side prescribes the outward normal derivative ``du/dn = g``;
  the boundary flux ``a * g`` (``a`` at the boundary node) enters the half
  cell. This is the classical half-cell (equivalently, symmetric ghost-node)
  treatment and is second-order accurate in the solution.

The whole matrix is assembled with vectorised NumPy (loops only over axes)
into one ``scipy.sparse`` CSR matrix and solved with ``spsolve``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence, Union

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

Value = Union[float, np.ndarray, Callable[..., np.ndarray]]

_KINDS = ("dirichlet", "neumann", "robin")
_ENDS = ("low", "high")


@dataclass(frozen=True)
class Side:
    """Boundary condition on one side of the box.

    kind:  "dirichlet" (u = value), "neumann" (outward du/dn = value) or
           "robin" (du/dn + coefficient * u = value).
    value: a scalar, or a callable of the coordinate arrays of the nodes on
           that side (one array per axis, like ``np.meshgrid(..., indexing="ij")``
           restricted to the side) returning values broadcastable to them.
    coefficient: the Robin coefficient (scalar or callable, as ``value``).
    """

    kind: str
    value: Union[float, Callable[..., np.ndarray]] = 0.0
    coefficient: Union[float, Callable[..., np.ndarray]] = 0.0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"Side.kind must be one of {_KINDS}, got {self.kind!r}")


def _check_axes(axes: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[float]]:
    """Validate the 1-D node arrays and return them with their spacings."""
    if not 1 <= len(axes) <= 3:
        raise ValueError(f"expected 1, 2 or 3 axes, got {len(axes)}")
    arrays, spacings = [], []
    for k, axis in enumerate(axes):
        axis = np.asarray(axis, dtype=float)
        if axis.ndim != 1 or axis.size < 3:
            raise ValueError(f"axis {k} must be a 1-D array of at least 3 nodes, got shape {axis.shape}")
        steps = np.diff(axis)
        h = (axis[-1] - axis[0]) / (axis.size - 1)
        if not h > 0 or np.max(np.abs(steps - h)) > 1e-8 * abs(h):
            raise ValueError(f"axis {k} must be uniformly spaced and increasing")
        arrays.append(axis)
        spacings.append(float(h))
    return arrays, spacings


def _field(name: str, value: Value, coords: Sequence[np.ndarray]) -> np.ndarray:
    """Evaluate a scalar / array / callable field on the given coordinate arrays."""
    shape = coords[0].shape
    raw = value(*coords) if callable(value) else value
    arr = np.asarray(raw, dtype=float)
    if arr.shape != shape:
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(f"{name} has shape {arr.shape}, expected the grid's shape {shape}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite values")
    return arr


def side_slice(ndim: int, axis: int, end: str) -> tuple:
    """The index of the nodes on side (axis, "low"|"high") of a grid with ``ndim`` axes."""
    index = [slice(None)] * ndim
    index[axis] = 0 if end == "low" else -1
    return tuple(index)


def solve_elliptic(
    axes: Sequence[np.ndarray],
    a: Value,
    f: Value,
    c: Value = 0.0,
    sides: Mapping[tuple[int, str], Side] | None = None,
    velocity: Sequence[Value] | None = None,
) -> np.ndarray:
    """Solve -div(a grad u) + v . grad u + c u = f on the box spanned by ``axes``.

    axes:  1-D uniform node arrays, one per axis (boundary nodes included).
    a, f, c: scalars, arrays of the grid's shape, or callables of the
           meshgrid coordinate arrays (``indexing="ij"``). ``a`` must be > 0;
           a list of such values, one per axis, is a diagonal (anisotropic)
           coefficient: -sum_k d_k(a_k d_k u).
    sides: ``{(axis, "low"|"high"): Side(...)}``; missing sides are
           homogeneous Dirichlet (u = 0).
    velocity: the transport velocity v, one value per axis (as ``a``); None: 0.

    Returns u at every node, shape ``(len(axes[0]), len(axes[1]), ...)``.
    Raises ValueError for bad shapes, non-uniform grids, a <= 0, unknown
    sides, and the singular all-Neumann problem with c = 0.
    """
    grid = Discretisation(axes, a, c, sides, velocity=velocity)
    forcing, values = grid.boundary_terms(grid.side_values())
    free = ~grid.fixed
    rows = grid.matrix[free]
    b = (_field("f", f, grid.coords).ravel() + forcing)[free] - rows[:, ~free] @ values[~free]
    # The operator is structurally symmetric, so order for A + A^T (much less
    # fill-in than the default COLAMD on 3-D grids).
    solution = spla.spsolve(rows[:, free].tocsc(), b, permc_spec="MMD_AT_PLUS_A")
    if not np.all(np.isfinite(solution)):
        raise ValueError("the linear system is singular (check c and the boundary conditions)")
    values[free] = solution
    return values.reshape(grid.shape)


class Discretisation:
    """The finite-volume operator ``-div(a grad u) + v . grad u + c u`` (Robin sides' ``a b u / (h/2)`` on the
    diagonal) on the grid of ``axes``, and what each side's condition adds: :meth:`boundary_terms`. A steady
    solve uses it once; a time-dependent one (``time_box.py``) once per time, with the sides' values then.

    Transport is discretised in conservation form, ``div(v u) - (div v) u`` (``div v`` by central differences
    of the node values), with the Scharfetter-Gummel face flux ``(D/h) (B(-P) u_i - B(P) u_j)``,
    ``B(z) = z / (exp(z) - 1)``, ``P = v h / D``: exact for constant coefficients in 1-D and an M-matrix at
    any cell Peclet number (central differences oscillate beyond 1), plain central differences as ``v -> 0``.
    Where the flow crosses a Neumann or Robin side, ``v . n u`` leaves through its face."""

    def __init__(self, axes: Sequence[np.ndarray], a: Value, c: Value = 0.0,
                 sides: Mapping[tuple[int, str], Side] | None = None, steady: bool = True,
                 velocity: Sequence[Value] | None = None):
        self.axes, self.spacings = _check_axes(axes)
        ndim = len(self.axes)
        self.shape = tuple(ax.size for ax in self.axes)
        self.coords = np.meshgrid(*self.axes, indexing="ij")
        per_axis = a if isinstance(a, (list, tuple)) else [a] * ndim  # (a list: one coefficient per axis)
        if len(per_axis) != ndim:
            raise ValueError(f"a needs one value per axis ({ndim}) when given as a list, got {len(per_axis)}")
        self.a = [_field("a", value, self.coords) for value in per_axis]
        if any(np.any(value <= 0) for value in self.a):
            raise ValueError("the coefficient a must be positive at every node")
        c_n = np.array(_field("c", c, self.coords))  # (a copy: Robin sides and transport add to it)
        absorbs = bool(np.any(c_n != 0))  # (constants solve v . grad u = 0 too: transport is no c)
        self.velocity = None
        if velocity is not None:
            if len(velocity) != ndim:
                raise ValueError(f"velocity needs one value per axis ({ndim}), got {len(velocity)}")
            self.velocity = [_field(f"velocity along axis {k}", v, self.coords) for k, v in enumerate(velocity)]
            for k, v in enumerate(self.velocity):  # div(v u) - (div v) u = v . grad u
                if v.shape[k] > 2:
                    c_n -= np.gradient(v, self.spacings[k], axis=k, edge_order=2)
        sides = dict(sides or {})
        for key in sides:
            if not (isinstance(key, tuple) and len(key) == 2 and key[0] in range(ndim) and key[1] in _ENDS):
                raise ValueError(f"unknown side {key!r}: use (axis, 'low'|'high') with axis < {ndim}")
        self.sides = {(k, e): sides.get((k, e), Side("dirichlet", 0.0)) for k in range(ndim) for e in _ENDS}
        if steady and all(s.kind == "neumann" for s in self.sides.values()) and not absorbs:
            raise ValueError("all sides are Neumann and c = 0: the problem is singular (u is fixed only up to a "
                             "constant)")
        fixed = np.zeros(self.shape, dtype=bool)
        for (k, end), side in self.sides.items():
            sl = side_slice(ndim, k, end)
            if side.kind == "dirichlet":
                fixed[sl] = True
            else:
                if side.kind == "robin":  # the flux a*(g - b*u) into the half cell: b*u's part on the diagonal
                    b = _field(f"Robin coefficient of side ({k}, {end!r})", side.coefficient,
                               self.side_coords(k, end))
                    c_n[sl] += self.a[k][sl] * b / (0.5 * self.spacings[k])
                if self.velocity is not None:  # what the flow carries out through the side's face
                    outward = self.velocity[k][sl] if end == "high" else -self.velocity[k][sl]
                    c_n[sl] += outward / (0.5 * self.spacings[k])
        self.fixed = fixed.ravel()
        self.matrix = self._operator(c_n)

    def side_coords(self, k: int, end: str) -> list[np.ndarray]:
        """The coordinate arrays of the nodes on side ``(k, end)`` (0-d arrays in 1-D)."""
        sl = side_slice(len(self.axes), k, end)
        return [np.asarray(X[sl]) for X in self.coords]

    def side_values(self, *extra) -> dict:
        """Each side's value on its nodes (a callable value gets the side's coordinates, then ``extra``)."""
        return {(k, end): _field(f"value of side ({k}, {end!r})",
                                 (lambda *xs, v=side.value: v(*xs, *extra)) if callable(side.value) else side.value,
                                 self.side_coords(k, end))
                for (k, end), side in self.sides.items()}

    def boundary_terms(self, values: Mapping) -> tuple[np.ndarray, np.ndarray]:
        """``(forcing, u)`` for the sides' ``values``: the Neumann/Robin flux ``a g`` into each half cell, to add
        to ``f``, and the Dirichlet values at the fixed nodes (the first Dirichlet side in order wins at
        corners; zeros elsewhere), both flat."""
        ndim = len(self.axes)
        forcing, u = np.zeros(self.shape), np.zeros(self.shape)
        taken = np.zeros(self.shape, dtype=bool)
        for (k, end), side in self.sides.items():
            sl = side_slice(ndim, k, end)
            if side.kind == "dirichlet":
                u[sl] = np.where(taken[sl], u[sl], values[(k, end)])
                taken[sl] = True
            else:
                forcing[sl] += self.a[k][sl] * values[(k, end)] / (0.5 * self.spacings[k])
        return forcing.ravel(), u.ravel()

    def _operator(self, c_n: np.ndarray) -> sp.csr_matrix:
        """Face couplings along each axis (harmonic means of ``a``, per control-volume width) plus ``c``."""
        ndim, shape = len(self.axes), self.shape
        index = np.arange(int(np.prod(shape))).reshape(shape)
        rows, cols, vals = [], [], []
        for k, h in enumerate(self.spacings):
            lo = [slice(None)] * ndim
            hi = [slice(None)] * ndim
            lo[k], hi[k] = slice(0, -1), slice(1, None)
            lo, hi = tuple(lo), tuple(hi)
            a_lo, a_hi = self.a[k][lo], self.a[k][hi]
            face = 2.0 * a_lo * a_hi / (a_lo + a_hi)
            if self.velocity is None:
                upwind = downwind = np.ones_like(face)
            else:
                peclet = 0.5 * (self.velocity[k][lo] + self.velocity[k][hi]) * h / face
                upwind, downwind = _bernoulli(-peclet), _bernoulli(peclet)
            # Control-volume width along axis k: h inside, h/2 at the two ends.
            width = np.full(shape[k], h)
            width[[0, -1]] = 0.5 * h
            w_shape = [1] * ndim
            w_shape[k] = -1
            width = width.reshape(w_shape)
            w_lo = np.broadcast_to(width, shape)[lo]
            w_hi = np.broadcast_to(width, shape)[hi]
            i, j = index[lo].ravel(), index[hi].ravel()
            t_lo = (face / (h * w_lo)).ravel()
            t_hi = (face / (h * w_hi)).ravel()
            rows += [i, i, j, j]
            cols += [i, j, j, i]
            upwind, downwind = upwind.ravel(), downwind.ravel()
            vals += [upwind * t_lo, -downwind * t_lo, downwind * t_hi, -upwind * t_hi]
        rows.append(index.ravel())
        cols.append(index.ravel())
        vals.append(c_n.ravel())
        n = index.size
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def _bernoulli(z: np.ndarray) -> np.ndarray:
    """``B(z) = z / (exp(z) - 1)``, 1 at 0, without overflow or cancellation."""
    z = np.asarray(z, dtype=float)
    small = np.abs(z) < 1e-6
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value = z / np.expm1(np.where(small, 1.0, z))
    return np.where(small, 1.0 - z / 2, np.where(np.isfinite(value), value, 0.0))


def solve_nonlinear(
    axes: Sequence[np.ndarray],
    a: Value,
    reaction: Callable[[np.ndarray], np.ndarray],
    slope: Callable[[np.ndarray], np.ndarray],
    sides: Mapping[tuple[int, str], Side] | None = None,
    velocity: Sequence[Value] | None = None,
    tolerance: float = 1e-10,
    iterations: int = 200,
) -> np.ndarray:
    """Solve -div(a grad u) + v . grad u + reaction(u) = 0 by Newton's method with pseudo-transient continuation.

    ``reaction(u)`` and ``slope(u)`` (its derivative in u) take and return node arrays of the grid's shape
    (the source is part of the reaction: ``reaction(0)`` is ``-f``). The first iterate is the harmonic
    extension of the boundary data (the problem without reaction). Plain Newton from there can wander off where
    the Jacobian ``M + diag(slope)`` is indefinite (Allen-Cahn's u - u^3 near 0), so each step solves
    ``(M + diag(slope) + I/dt) du = -F`` instead, a backward Euler step of ``u_t = -F(u)``, with ``dt`` growing
    as the residual falls (by the ratio of successive residual norms, at least doubling: a residual at rounding
    level stops falling) and quartered when a step would raise it half again:
    the iteration follows the flow to a stable steady state and ends as Newton's method. Raises ValueError if
    it does not settle: a problem with no solution may do that.
    """
    grid = Discretisation(axes, a, 0.0, sides, steady=False, velocity=velocity)
    forcing, values = grid.boundary_terms(grid.side_values())
    free = ~grid.fixed
    operator = grid.matrix[free][:, free].tocsc()
    known = forcing[free] - grid.matrix[free][:, ~free] @ values[~free]

    def at(u_free, function):
        values[free] = u_free
        return np.asarray(function(values.reshape(grid.shape)), dtype=float).reshape(-1)[free]

    def residual(u_free):
        return operator @ u_free + at(u_free, reaction) - known

    u = spla.spsolve(operator, known) if np.any(grid.fixed) or velocity is not None else np.zeros(free.sum())
    u = np.where(np.isfinite(u), u, 0.0)
    r, dt = residual(u), 0.1
    floor = 1e-9 * max(np.linalg.norm(r), 1e-300)  # a residual this small is rounding: no step can halve it
    for _ in range(iterations):
        norm = np.linalg.norm(r)
        step = spla.spsolve((operator + sp.diags(at(u, slope) + 1.0 / dt)).tocsc(), -r)
        trial = u + step
        r_trial = residual(trial) if np.all(np.isfinite(step)) else np.full_like(r, np.inf)
        if not np.linalg.norm(r_trial) < max(norm * 1.5, floor) and dt > 1e-8:  # too long a step: a shorter one
            dt /= 4
            continue
        small = np.max(np.abs(step)) <= tolerance * (1 + np.max(np.abs(trial)))
        settled = small and (dt > 1e6 or np.linalg.norm(r_trial) <= floor)
        u, r = trial, r_trial
        dt = min(1e12, dt * max(2.0, min(10.0, norm / max(np.linalg.norm(r), 1e-300))))
        if settled or np.linalg.norm(r) == 0:
            values[free] = u
            return values.reshape(grid.shape)
    raise ValueError(f"Newton's method did not settle in {iterations} steps (the problem may have no solution)")
