"""How a problem becomes a nonlinear program: direct collocation, methods as data.

A transcription is a small frozen object: the number of mesh intervals and the
collocation scheme, a :class:`Scheme` that stores the method as data (its points inside
an interval and its quadrature weights), not as branching code.

* :data:`TRAPEZOIDAL`: points ``(0, 1)``, weights ``(1/2, 1/2)``; defect
  ``x_{k+1} - x_k - h/2 (f_k + f_{k+1})``. Second order.
* :data:`HERMITE_SIMPSON` (separated form): points ``(0, 1/2, 1)``, weights
  ``(1/6, 4/6, 1/6)``; midpoint states and controls are variables, with defects
  ``x_m - (x_k + x_{k+1})/2 - h/8 (f_k - f_{k+1})`` and
  ``x_{k+1} - x_k - h/6 (f_k + 4 f_m + f_{k+1})``. Fourth order.

Layout of the decision vector ``z`` (every entry divided by its variable's scale)::

    z = [ T,                          phase duration (1)
          p,                          static parameters (n_p)
          x_0, ..., x_N,              states at the N+1 mesh points, one column each
          u_0, ..., u_N,              controls at the mesh points
          x_m0, ..., x_m(N-1),        Hermite-Simpson only: midpoint states
          u_m0, ..., u_m(N-1) ]       Hermite-Simpson only: midpoint controls

(each block stored column by column: all of x_0, then all of x_1, ...).

Layout of the constraint vector ``g``::

    g = [ defects,                    n_x per interval (trapezoidal), or 2 n_x per
                                      interval (Hermite-Simpson: midpoint interpolation
                                      first, then Simpson), interval by interval
          path constraints,           each block at every mesh point, then (Hermite-
                                      Simpson) at every midpoint
          boundary constraints ]      each block once

Defects are scaled by the state scales (divided by ``scale_x``) so that every row has
the units of the scaled states.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np

from gaitsim.ocp.goals import EndpointGoal, IntegralGoal
from gaitsim.ocp.problem import OptimalControlProblem, ProblemError, as_column

__all__ = [
    "Scheme",
    "TRAPEZOIDAL",
    "HERMITE_SIMPSON",
    "Trapezoidal",
    "HermiteSimpson",
    "Transcription",
    "NLP",
    "transcribe",
    "node_function",
    "node_input_offsets",
]


@dataclass(frozen=True)
class Scheme:
    """A collocation scheme as data: points in an interval and quadrature weights."""

    name: str
    points: tuple[float, ...]
    weights: tuple[float, ...]

    @property
    def has_midpoint(self) -> bool:
        """Whether the scheme collocates at the interval midpoint too."""
        return len(self.points) == 3


TRAPEZOIDAL = Scheme("trapezoidal", (0.0, 1.0), (0.5, 0.5))
HERMITE_SIMPSON = Scheme("hermite-simpson", (0.0, 0.5, 1.0), (1 / 6, 4 / 6, 1 / 6))


@dataclass(frozen=True)
class Transcription:
    """Direct collocation on a uniform mesh of ``n_intervals`` with ``scheme``."""

    n_intervals: int = 50
    scheme: Scheme = HERMITE_SIMPSON

    def __post_init__(self) -> None:
        if self.n_intervals < 1:
            raise ProblemError("a transcription needs at least one mesh interval")


def Trapezoidal(n_intervals: int = 50) -> Transcription:  # noqa: N802 - reads as a type
    """Trapezoidal collocation on ``n_intervals`` uniform intervals."""
    return Transcription(n_intervals, TRAPEZOIDAL)


def HermiteSimpson(n_intervals: int = 50) -> Transcription:  # noqa: N802
    """Hermite-Simpson (separated) collocation on ``n_intervals`` uniform intervals."""
    return Transcription(n_intervals, HERMITE_SIMPSON)


@dataclass(frozen=True)
class NLP:
    """The transcribed problem: symbols, bounds, and how to read a solution back.

    ``blocks`` names each constraint block with its slice of ``g``, for reports.
    """

    z: ca.MX
    f: ca.MX
    g: ca.MX
    lbz: np.ndarray
    ubz: np.ndarray
    lbg: np.ndarray
    ubg: np.ndarray
    blocks: tuple[tuple[str, slice], ...]
    terms: dict[str, ca.MX]
    unpack: ca.Function
    """``z -> (T, p, X (n_x x N+1), U (n_u x N+1), Xm, Um)`` in physical units."""
    pack: ca.Function
    """``(T, p, X, U, Xm, Um) -> z`` (inverse of ``unpack``)."""
    mesh: np.ndarray
    """Mesh points as fractions of the duration, ``(N+1,)``."""
    transcription: Transcription
    node: ca.Function
    """``(x, u, p, t) -> y``: every function of one collocation point, stacked (see
    :func:`node_function`)."""
    node_inputs: ca.Function
    """``z -> W``: the node inputs ``[x; u; p; t]`` of every collocation point (mesh
    points, then midpoints), ``vec`` of an ``n_w x n_nodes`` matrix; linear in ``z``."""
    outer: ca.Function
    """``(z, Y) -> (f, g, term_0, ...)`` with ``Y = vec`` of the node outputs: the NLP as a
    function of the decision vector and the node outputs, so that
    ``f(z), g(z) = outer(z, vec(node.map(W(z))))``."""


def node_input_offsets(node: ca.Function) -> list[int]:
    """Where each input of ``node`` (``x, u, p, t``) starts in their stacked column ``w``,
    and where the last ends: offsets for :func:`casadi.vertsplit`."""
    offsets = [0]
    for i in range(node.n_in()):
        offsets.append(offsets[-1] + node.numel_in(i))
    return offsets


def node_function(problem: OptimalControlProblem) -> tuple[ca.Function, dict[str, slice]]:
    """Every function of one collocation point, stacked into one ``(x, u, p, t) -> y``.

    ``y`` is ``[dx/dt; path constraint 0; ...; integrand of goal i; ...]`` (integral goals
    only); the returned dictionary names the rows: ``"dynamics"``, ``"path {i}"``,
    ``"goal {i}"`` (``i`` the index in the problem's tuple). The function is built from
    scalar (SX) expressions, so that its derivatives are cheap to build and evaluate.
    """
    nx, nu, npar = len(problem.states), len(problem.controls), len(problem.parameters)
    parts: list[tuple[str, ca.Function, bool]] = [("dynamics", problem.dynamics, False)]
    parts += [(f"path {i}", c.function, False) for i, c in enumerate(problem.path_constraints)]
    parts += [
        (f"goal {i}", g.integrand, g.time_dependent)
        for i, g in enumerate(problem.goals)
        if isinstance(g, IntegralGoal)
    ]
    # Calling a function with scalar (SX) symbols inlines its expressions; parts with no
    # scalar form (a rootfinder, an external function) become call nodes.
    args = [ca.SX.sym("x", nx), ca.SX.sym("u", nu), ca.SX.sym("p", npar), ca.SX.sym("t", 1)]
    outputs = [ca.vec(f(*args[:3], *(args[3:] if timed else []))) for _, f, timed in parts]
    rows: dict[str, slice] = {}
    start = 0
    for (key, _, _), out in zip(parts, outputs, strict=True):
        rows[key] = slice(start, start + out.shape[0])
        start += out.shape[0]
    node = ca.Function("node", args, [ca.vertcat(*outputs)], ["x", "u", "p", "t"], ["y"])
    return node, rows


def transcribe(problem: OptimalControlProblem, transcription: Transcription) -> NLP:
    """Build the NLP of ``problem`` (see the module docstring for the layouts)."""
    problem.check()
    n = transcription.n_intervals
    scheme = transcription.scheme
    nx, nu, npar = len(problem.states), len(problem.controls), len(problem.parameters)
    sx = np.array([v.nominal for v in problem.states])
    su = np.array([v.nominal for v in problem.controls])
    sp = np.array([v.nominal for v in problem.parameters])
    t_lo, t_hi = problem.duration
    st = max(abs(t_hi), 1e-9)

    mid = scheme.has_midpoint
    nm = n if mid else 0
    z_t = ca.MX.sym("T", 1)
    z_p = ca.MX.sym("p", npar)
    z_x = ca.MX.sym("X", nx, n + 1)
    z_u = ca.MX.sym("U", nu, n + 1)
    z_xm = ca.MX.sym("Xm", nx, nm)
    z_um = ca.MX.sym("Um", nu, nm)
    parts = [z_t, z_p, ca.vec(z_x), ca.vec(z_u), ca.vec(z_xm), ca.vec(z_um)]
    z = ca.vertcat(*parts)

    duration = st * z_t
    p = ca.DM(sp) * z_p if npar else ca.MX(0, 1)
    x = ca.repmat(ca.DM(sx), 1, n + 1) * z_x
    u = ca.repmat(ca.DM(su), 1, n + 1) * z_u if nu else ca.MX(0, n + 1)
    xm = ca.repmat(ca.DM(sx), 1, nm) * z_xm if nm else ca.MX(nx, 0)
    um = ca.repmat(ca.DM(su), 1, nm) * z_um if (nm and nu) else ca.MX(nu, nm)
    h = duration / n
    mesh = np.linspace(0.0, 1.0, n + 1)
    fractions = np.concatenate([mesh, 0.5 * (mesh[:-1] + mesh[1:])]) if mid else mesh
    n_nodes = fractions.size

    # Every function of one collocation point (dynamics, path constraints, integrands)
    # is one node function, evaluated at all points with a single map; what the NLP does
    # with its outputs Y (defects, scaling, quadrature, normalisation) is the "outer"
    # function of (z, Y). This split is what lets gaitsim.ocp.nlp_derivatives build
    # the constraint Jacobian and the Lagrangian Hessian node by node.
    node, rows = node_function(problem)
    ny = node.numel_out(0)
    node_inputs = ca.vertcat(
        ca.horzcat(x, xm),
        ca.horzcat(u, um),
        ca.repmat(p, 1, n_nodes),
        duration * ca.DM(fractions).T,
    )
    y_sym = ca.MX.sym("Y", ny, n_nodes)

    def node_rows(key: str, where: str) -> Any:
        block = y_sym[rows[key], :]
        return block[:, : n + 1] if where == "mesh" else block[:, n + 1 :]

    f_nodes = node_rows("dynamics", "mesh")
    inv_sx = ca.repmat(ca.DM(1.0 / sx), 1, n)
    if mid:
        f_mid = node_rows("dynamics", "mid")
        d_interp = xm - 0.5 * (x[:, :-1] + x[:, 1:]) - h / 8 * (f_nodes[:, :-1] - f_nodes[:, 1:])
        d_simpson = x[:, 1:] - x[:, :-1] - h / 6 * (f_nodes[:, :-1] + 4 * f_mid + f_nodes[:, 1:])
        defects = ca.vec(ca.vertcat(d_interp * inv_sx, d_simpson * inv_sx))
    else:
        d_trap = x[:, 1:] - x[:, :-1] - h / 2 * (f_nodes[:, :-1] + f_nodes[:, 1:])
        defects = ca.vec(d_trap * inv_sx)

    g_parts: list[Any] = [defects]
    lbg: list[np.ndarray] = [np.zeros(defects.shape[0])]
    ubg: list[np.ndarray] = [np.zeros(defects.shape[0])]
    blocks: list[tuple[str, slice]] = [("defects", slice(0, defects.shape[0]))]
    offset = defects.shape[0]

    def add(name: str, expr: Any, lo: np.ndarray, hi: np.ndarray) -> None:
        nonlocal offset
        size = expr.shape[0]
        g_parts.append(expr)
        lbg.append(lo)
        ubg.append(hi)
        blocks.append((name, slice(offset, offset + size)))
        offset += size

    for i, c in enumerate(problem.path_constraints):
        m = c.function.numel_out(0)
        lo = as_column(c.lower, m, f"path constraint {c.name} lower")
        hi = as_column(c.upper, m, f"path constraint {c.name} upper")
        scale = as_column(c.scale, m, f"path constraint {c.name} scale")
        inv = ca.DM(1.0 / scale)
        add(
            f"{c.name} (mesh points)",
            ca.vec(ca.repmat(inv, 1, n + 1) * node_rows(f"path {i}", "mesh")),
            np.tile(lo / scale, n + 1),
            np.tile(hi / scale, n + 1),
        )
        if mid:
            add(
                f"{c.name} (midpoints)",
                ca.vec(ca.repmat(inv, 1, n) * node_rows(f"path {i}", "mid")),
                np.tile(lo / scale, n),
                np.tile(hi / scale, n),
            )
    x0, xf = x[:, 0], x[:, -1]
    for c in problem.boundary_constraints:
        m = c.function.numel_out(0)
        add(
            c.name,
            c.function(x0, xf, p, duration),
            as_column(c.lower, m, f"boundary constraint {c.name} lower"),
            as_column(c.upper, m, f"boundary constraint {c.name} upper"),
        )

    terms: dict[str, Any] = {}
    for i, goal in enumerate(problem.goals):
        if isinstance(goal, IntegralGoal):
            values = node_rows(f"goal {i}", "mesh")
            w0, w1 = scheme.weights[0], scheme.weights[-1]
            raw = h * (w0 * ca.sum2(values[:, :-1]) + w1 * ca.sum2(values[:, 1:]))
            if mid:
                raw = raw + h * scheme.weights[1] * ca.sum2(node_rows(f"goal {i}", "mid"))
        elif isinstance(goal, EndpointGoal):
            raw = goal.function(x0, xf, p, duration)
        else:
            raise ProblemError(f"{problem.name}: unknown goal type {type(goal).__name__}")
        terms[goal.name] = goal.normalize(raw, x0, xf, duration)
    objective = sum(terms.values()) if terms else ca.MX(0)
    g_outer = ca.vertcat(*g_parts)
    outer = ca.Function(
        "outer",
        [z, ca.vec(y_sym)],
        [objective, g_outer, *terms.values()],
        ["z", "Y"],
        ["f", "g", *(f"term_{k}" for k in range(len(terms)))],
    )
    node_input_fn = ca.Function("node_inputs", [z], [ca.vec(node_inputs)], ["z"], ["W"])
    y_all = node.map(n_nodes)(*ca.vertsplit(node_inputs, node_input_offsets(node)))
    f_expr, g_expr, *term_exprs = outer(z, ca.vec(y_all))
    terms = dict(zip(terms.keys(), term_exprs, strict=True))

    # Bounds of z (scaled).
    def bounds_of(variables: tuple[Any, ...], scale: np.ndarray) -> tuple[np.ndarray, ...]:
        lo = (
            np.array([v.lower for v in variables], dtype=float) / scale
            if variables
            else np.zeros(0)
        )
        hi = (
            np.array([v.upper for v in variables], dtype=float) / scale
            if variables
            else np.zeros(0)
        )
        return lo, hi

    xlo, xhi = bounds_of(problem.states, sx)
    ulo, uhi = bounds_of(problem.controls, su)
    plo, phi = bounds_of(problem.parameters, sp)
    x_lo = np.tile(xlo[:, None], (1, n + 1))
    x_hi = np.tile(xhi[:, None], (1, n + 1))
    for i, v in enumerate(problem.states):
        if v.initial is not None:
            x_lo[i, 0], x_hi[i, 0] = v.initial[0] / sx[i], v.initial[1] / sx[i]
        if v.final is not None:
            x_lo[i, -1], x_hi[i, -1] = v.final[0] / sx[i], v.final[1] / sx[i]
    lbz = np.concatenate(
        [
            [t_lo / st],
            plo,
            x_lo.ravel(order="F"),
            np.tile(ulo, n + 1),
            np.tile(xlo, nm),
            np.tile(ulo, nm),
        ]
    )
    ubz = np.concatenate(
        [
            [t_hi / st],
            phi,
            x_hi.ravel(order="F"),
            np.tile(uhi, n + 1),
            np.tile(xhi, nm),
            np.tile(uhi, nm),
        ]
    )

    unpack = ca.Function(
        "unpack", [z], [duration, p, x, u, xm, um], ["z"], ["T", "p", "X", "U", "Xm", "Um"]
    )
    # pack: physical -> scaled z.
    pt, pp = ca.MX.sym("T"), ca.MX.sym("p", npar)
    px, pu = ca.MX.sym("X", nx, n + 1), ca.MX.sym("U", nu, n + 1)
    pxm, pum = ca.MX.sym("Xm", nx, nm), ca.MX.sym("Um", nu, nm)
    packed = ca.vertcat(
        pt / st,
        pp / ca.DM(sp) if npar else ca.MX(0, 1),
        ca.vec(px / ca.repmat(ca.DM(sx), 1, n + 1)),
        ca.vec(pu / ca.repmat(ca.DM(su), 1, n + 1)) if nu else ca.MX(0, 1),
        ca.vec(pxm / ca.repmat(ca.DM(sx), 1, nm)) if nm else ca.MX(0, 1),
        ca.vec(pum / ca.repmat(ca.DM(su), 1, nm)) if (nm and nu) else ca.MX(0, 1),
    )
    pack = ca.Function(
        "pack", [pt, pp, px, pu, pxm, pum], [packed], ["T", "p", "X", "U", "Xm", "Um"], ["z"]
    )
    return NLP(
        z=z,
        f=f_expr,
        g=g_expr,
        lbz=lbz,
        ubz=ubz,
        lbg=np.concatenate(lbg),
        ubg=np.concatenate(ubg),
        blocks=tuple(blocks),
        terms=terms,
        unpack=unpack,
        pack=pack,
        mesh=mesh,
        transcription=transcription,
        node=node,
        node_inputs=node_input_fn,
        outer=outer,
    )
