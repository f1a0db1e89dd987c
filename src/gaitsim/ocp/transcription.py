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
    p_nodes = ca.repmat(p, 1, n + 1)

    f_nodes = problem.dynamics.map(n + 1)(x, u, p_nodes)
    inv_sx = ca.repmat(ca.DM(1.0 / sx), 1, n)
    if mid:
        p_mid = ca.repmat(p, 1, n)
        f_mid = problem.dynamics.map(n)(xm, um, p_mid)
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

    for c in problem.path_constraints:
        m = c.function.numel_out(0)
        lo = as_column(c.lower, m, f"path constraint {c.name} lower")
        hi = as_column(c.upper, m, f"path constraint {c.name} upper")
        scale = as_column(c.scale, m, f"path constraint {c.name} scale")
        inv = ca.DM(1.0 / scale)
        values = c.function.map(n + 1)(x, u, p_nodes)
        add(
            f"{c.name} (mesh points)",
            ca.vec(ca.repmat(inv, 1, n + 1) * values),
            np.tile(lo / scale, n + 1),
            np.tile(hi / scale, n + 1),
        )
        if mid:
            values_m = c.function.map(n)(xm, um, ca.repmat(p, 1, n))
            add(
                f"{c.name} (midpoints)",
                ca.vec(ca.repmat(inv, 1, n) * values_m),
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
    mesh = np.linspace(0.0, 1.0, n + 1)
    t_nodes = duration * ca.DM(mesh).T
    t_mid = duration * ca.DM(0.5 * (mesh[:-1] + mesh[1:])).T
    for goal in problem.goals:
        if isinstance(goal, IntegralGoal):
            extra = [t_nodes] if goal.time_dependent else []
            values = goal.integrand.map(n + 1)(x, u, p_nodes, *extra)
            w0, w1 = scheme.weights[0], scheme.weights[-1]
            raw = h * (w0 * ca.sum2(values[:, :-1]) + w1 * ca.sum2(values[:, 1:]))
            if mid:
                extra_m = [t_mid] if goal.time_dependent else []
                raw = raw + h * scheme.weights[1] * ca.sum2(
                    goal.integrand.map(n)(xm, um, ca.repmat(p, 1, n), *extra_m)
                )
        elif isinstance(goal, EndpointGoal):
            raw = goal.function(x0, xf, p, duration)
        else:
            raise ProblemError(f"{problem.name}: unknown goal type {type(goal).__name__}")
        terms[goal.name] = goal.normalize(raw, x0, xf, duration)
    objective = sum(terms.values()) if terms else ca.MX(0)

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
        f=objective,
        g=ca.vertcat(*g_parts),
        lbz=lbz,
        ubz=ubz,
        lbg=np.concatenate(lbg),
        ubg=np.concatenate(ubg),
        blocks=tuple(blocks),
        terms=terms,
        unpack=unpack,
        pack=pack,
        mesh=np.linspace(0.0, 1.0, n + 1),
        transcription=transcription,
    )
