"""What to solve: an optimal control problem, kept apart from how it is solved.

An :class:`OptimalControlProblem` records user input only: the dynamics, the variables
with their bounds, the goals and the constraints. It does no work when constructed;
:func:`gaitsim.ocp.solve` validates it and builds the nonlinear program.

The problem has one phase on ``t in [0, T]``; the duration ``T`` is fixed when its bounds
are equal and free otherwise. States ``x`` (n_x), controls ``u`` (n_u) and static
parameters ``p`` (n_p) obey ``dx/dt = f(x, u, p)``; path constraints ``g(x, u, p)`` hold at
every collocation point; boundary constraints ``b(x(0), x(T), p, T)`` hold once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import casadi as ca
import numpy as np

from gaitsim.errors import GaitsimError
from gaitsim.ocp.goals import Goal

__all__ = [
    "ProblemError",
    "Variable",
    "PathConstraint",
    "BoundaryConstraint",
    "OptimalControlProblem",
]


class ProblemError(GaitsimError, ValueError):
    """An optimal control problem is malformed (names the part at fault)."""


@dataclass(frozen=True)
class Variable:
    """A state, control or parameter with its bounds.

    Parameters
    ----------
    name
        Unique name among the problem's variables.
    lower, upper
        Bounds over the whole phase (may be infinite).
    initial, final
        Optional ``(lower, upper)`` bounds at ``t = 0`` and ``t = T`` (states only).
    scale
        Typical magnitude: the NLP works with ``value / scale``. By default the largest
        finite bound magnitude, or 1.
    """

    name: str
    lower: float = -math.inf
    upper: float = math.inf
    initial: tuple[float, float] | None = None
    final: tuple[float, float] | None = None
    scale: float | None = None

    @property
    def nominal(self) -> float:
        """The scale actually used."""
        if self.scale is not None:
            return float(self.scale)
        finite = [abs(v) for v in (self.lower, self.upper) if math.isfinite(v) and v != 0]
        return max(finite) if finite else 1.0


@dataclass(frozen=True)
class PathConstraint:
    """``lower <= g(x, u, p) <= upper`` at every collocation point.

    ``function`` is a :class:`casadi.Function` of ``(x, u, p)`` with one output.
    """

    name: str
    function: ca.Function
    lower: Sequence[float] | float = 0.0
    upper: Sequence[float] | float = 0.0
    scale: Sequence[float] | float = 1.0


@dataclass(frozen=True)
class BoundaryConstraint:
    """``lower <= b(x(0), x(T), p, T) <= upper``, once per phase.

    ``function`` is a :class:`casadi.Function` of ``(x0, xT, p, T)`` with one output.
    """

    name: str
    function: ca.Function
    lower: Sequence[float] | float = 0.0
    upper: Sequence[float] | float = 0.0


@dataclass(frozen=True)
class OptimalControlProblem:
    """A single-phase optimal control problem (see the module docstring).

    Parameters
    ----------
    states, controls, parameters
        The variables, in vector order.
    dynamics
        ``(x, u, p) -> dx/dt`` as a :class:`casadi.Function`.
    duration
        ``(lower, upper)`` of the phase duration ``T`` (s); equal values fix it.
    goals
        The terms of the objective (summed).
    path_constraints, boundary_constraints
        Constraints (see their classes).
    name
        For messages and records.
    """

    states: tuple[Variable, ...]
    controls: tuple[Variable, ...]
    dynamics: ca.Function
    duration: tuple[float, float]
    goals: tuple[Goal, ...] = ()
    parameters: tuple[Variable, ...] = ()
    path_constraints: tuple[PathConstraint, ...] = ()
    boundary_constraints: tuple[BoundaryConstraint, ...] = ()
    name: str = "problem"
    metadata: dict[str, object] = field(default_factory=dict)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the states, in vector order."""
        return tuple(v.name for v in self.states)

    @property
    def control_names(self) -> tuple[str, ...]:
        """Names of the controls, in vector order."""
        return tuple(v.name for v in self.controls)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the static parameters, in vector order."""
        return tuple(v.name for v in self.parameters)

    def check(self) -> None:
        """Raise :class:`ProblemError` naming what is malformed."""
        names = self.state_names + self.control_names + self.parameter_names
        seen: set[str] = set()
        for n in names:
            if n in seen:
                raise ProblemError(f"{self.name}: variable name {n!r} is used twice")
            seen.add(n)
        for v in self.states + self.controls + self.parameters:
            if v.lower > v.upper:
                raise ProblemError(f"{self.name}: {v.name}: lower bound above upper bound")
            if v.nominal <= 0 or not math.isfinite(v.nominal):
                raise ProblemError(f"{self.name}: {v.name}: scale must be positive")
        lo, hi = self.duration
        if not (0 < lo <= hi < math.inf):
            raise ProblemError(f"{self.name}: duration bounds must satisfy 0 < lower <= upper")
        nx, nu, npar = len(self.states), len(self.controls), len(self.parameters)
        _check_function(self.name, "dynamics", self.dynamics, (nx, nu, npar), nx)
        for c in self.path_constraints:
            _check_function(self.name, f"path constraint {c.name}", c.function, (nx, nu, npar))
        for c in self.boundary_constraints:
            _check_function(
                self.name, f"boundary constraint {c.name}", c.function, (nx, nx, npar, 1)
            )
        for g in self.goals:
            g.check(self.name, nx, nu, npar)


def _check_function(
    problem: str, what: str, f: ca.Function, sizes: tuple[int, ...], n_out: int | None = None
) -> None:
    if f.n_in() != len(sizes):
        raise ProblemError(f"{problem}: {what} must take {len(sizes)} inputs, has {f.n_in()}")
    for i, size in enumerate(sizes):
        if f.numel_in(i) != size:
            raise ProblemError(
                f"{problem}: {what}: input {i} ({f.name_in(i)}) has {f.numel_in(i)} "
                f"elements, expected {size}"
            )
    if n_out is not None and f.numel_out(0) != n_out:
        raise ProblemError(f"{problem}: {what} must return {n_out} values")


def as_column(values: Sequence[float] | float, n: int, what: str) -> np.ndarray:
    """``values`` broadcast to a column of ``n`` floats."""
    a = np.asarray(values, dtype=float).ravel()
    if a.size == 1:
        return np.full(n, float(a[0]))
    if a.size != n:
        raise ProblemError(f"{what}: expected {n} values, got {a.size}")
    return a
