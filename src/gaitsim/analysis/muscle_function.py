"""Muscle function in a simulated stride: fibre mechanics, work per phase, moment shares.

:func:`muscle_function` takes a model, its
:class:`~gaitsim.mechanics.model_functions.ModelFunctions`, a
:class:`~gaitsim.simulate.result.WalkingResult` and gait phases, and returns a
:class:`MuscleFunction`: for every muscle its activation, tendon force, fibre length and
velocity, muscle-tendon and fibre power, moment arms and contributions to each joint
moment over time (:class:`MuscleCurves`), and per phase whether it works concentrically,
eccentrically or isometrically while active, its work, and its mean and peak moment
contributions (:class:`MusclePhase`). :func:`moment_balance` checks that the muscles'
moments, the passive limit torques and the coordinate actuators add up to the net joint
moments of inverse dynamics.

Conventions and equations
-------------------------
Lengths m, velocities m/s, forces N, power W, work J. Velocities are **lengthening
positive** (OpenSim's convention); powers are **produced positive** (positive while the
muscle shortens under tension):

* muscle-tendon (MT) power ``P_mt = -F_T v_mt`` with ``F_T`` the tendon force of the
  result and ``v_mt`` the MT lengthening velocity;
* fibre power ``P_f = -F_M v_M`` with the fibre force ``F_M = F_T / cos(alpha)``
  (the force the tendon transmits, pennation ``alpha``) and fibre velocity ``v_M``;
* tendon power ``P_t = P_mt - P_f = -F_T v_T`` (energy stored in the tendon is negative
  power). With a constant-width pennation ``v_M = v_M,AT cos(alpha)`` (De Groote et al.
  2016; OpenSim ``DeGrooteFregly2016Muscle``), so ``-F_M v_M = -F_T v_M,AT``;
* a rigid tendon has ``v_T = 0``: fibre and MT power are equal.

Contribution of muscle ``m`` to the moment about coordinate ``j``: ``r_mj F_m`` with the
moment arm ``r = -d l_mt / d q`` (:meth:`ModelFunctions.moment_arms`). Since
``v_mt = -r qdot``, ``sum_j r_mj F_m qdot_j = P_mt`` for every muscle (virtual power).

Fibre state
-----------
* **Rigid tendon**: fibre length and velocity from :attr:`ModelFunctions.muscle_rigid`
  (OpenSim's rigid-tendon relations); ``cos(alpha) = (l_mt - l_ts) / l_M``. The tendon
  force of the result is used as ``F_T``; the largest difference from the rigid-tendon
  force of the model's curves (divided by ``F_max``) is reported as
  :attr:`MuscleCurves.force_inconsistency` (0 to rounding for gaitsim's own strides).
* **Compliant tendon**: the normalised tendon force ``f_t = F_T / F_max`` gives the
  tendon length (inverse tendon curve), the fibre length follows from the geometry, and
  the fibre velocity from ``v_T = l_ts (d f_t/dt) / f_T'(l~T)`` and
  ``v_M = (v_mt - v_T) cos(alpha)``
  (:func:`gaitsim.mechanics.muscle.compliant_tendon_state_implicit`, De Groote et al.
  2016 formulation 3). ``d f_t/dt`` is the derivative of the periodic cubic spline
  (:class:`scipy.interpolate.CubicSpline`, ``bc_type="periodic"``) through the tendon
  force samples, the last sample being replaced by the first, unless the caller gives the
  rates. :attr:`MuscleCurves.force_inconsistency` is then the largest fibre-tendon
  equilibrium residual (normalised).

Activity and action
-------------------
A muscle is **active** at a sample when its activation is at least
:attr:`ActivityCriteria.min_activation` (default 0.1), or, if
:attr:`ActivityCriteria.min_force_fraction` is set, its tendon force is at least that
fraction of ``F_max``. While active it **holds** (isometric) when
``|v_M| < isometric_velocity * v_max * l_opt`` (default 1 % of the maximum contraction
velocity), else it **shortens** (concentric, ``v_M < 0``) or **lengthens** (eccentric).
Per phase, each sample stands for the time around it (half the distance to each
neighbour, the stride being periodic); the fractions of the phase's active time in each
action are reported, and the action of the phase is the largest share (``"inactive"``
when the muscle is never active in the phase). A phase that contains no sample (e.g. a
zero-duration initial contact) is judged from the values linearly interpolated at its
midpoint; its mean moment contribution is the value at that instant. Muscles with a
side suffix are analysed in the phases of their side, others in every phase given.
Work in a phase is the exact integral of the linear interpolant of
the power (see :func:`gaitsim.analysis.joint_mechanics.interval_work`), active or not.

References
----------
* De Groote F, Kinney AL, Rao AV, Fregly BJ (2016). Evaluation of direct collocation
  optimal control problem formulations for solving the muscle redundancy problem.
  *Ann Biomed Eng* 44(10):2922-2936.
* Zajac FE (1989). Muscle and tendon: properties, models, scaling, and application to
  biomechanics and motor control. *Crit Rev Biomed Eng* 17(4):359-411 (MT power, tendon
  energy storage).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.interpolate import CubicSpline

from gaitsim.analysis.gait_metrics import is_translational
from gaitsim.analysis.joint_mechanics import (
    AnalysisInputError,
    TableRow,
    coordinate_side,
    interval_work,
    phase_label,
    side_phases,
)
from gaitsim.analysis.phases import PERRY_PHASES, Phase
from gaitsim.errors import ModelError
from gaitsim.mechanics.model_functions import ModelFunctions, muscle_parameters
from gaitsim.mechanics.muscle import compliant_tendon_state_implicit
from gaitsim.model.description import Model, TendonModel

if TYPE_CHECKING:
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "ACTIONS",
    "MOMENT_ARM_THRESHOLD",
    "ActivityCriteria",
    "MomentBalance",
    "MomentContribution",
    "MuscleCurves",
    "MuscleFunction",
    "MusclePhase",
    "classify_action",
    "moment_balance",
    "muscle_function",
]

#: Actions a muscle can have in a phase (``"unsampled"`` only from
#: :func:`classify_action` given no samples; :func:`muscle_function` interpolates instead).
ACTIONS = ("concentric", "eccentric", "isometric", "inactive", "unsampled")

#: A muscle crosses a coordinate if its moment arm about it exceeds this (m or
#: dimensionless for translations) somewhere in the stride.
MOMENT_ARM_THRESHOLD = 1e-6


@dataclass(frozen=True)
class ActivityCriteria:
    """When a muscle counts as active, and when it holds its length.

    Attributes
    ----------
    min_activation
        Active when the activation is at least this (default 0.1).
    min_force_fraction
        If set, also active when the tendon force is at least this fraction of ``F_max``
        (e.g. 0.05).
    isometric_velocity
        Holds (isometric) when ``|v_M| / (v_max l_opt)`` is below this (default 0.01).

    Raises
    ------
    AnalysisInputError
        If a threshold is negative or not finite.
    """

    min_activation: float = 0.1
    min_force_fraction: float | None = None
    isometric_velocity: float = 0.01

    def __post_init__(self) -> None:
        values = {
            "min_activation": self.min_activation,
            "isometric_velocity": self.isometric_velocity,
        }
        if self.min_force_fraction is not None:
            values["min_force_fraction"] = self.min_force_fraction
        for name, value in values.items():
            if not (math.isfinite(value) and value >= 0.0):
                raise AnalysisInputError(f"ActivityCriteria.{name}", f"must be >= 0, got {value}")

    def is_active(
        self, activation: ArrayLike, tendon_force: ArrayLike, max_isometric_force: float
    ) -> np.ndarray:
        """Whether a muscle is active at given activations and tendon forces (N)."""
        active = np.asarray(activation, dtype=np.float64) >= self.min_activation
        if self.min_force_fraction is not None:
            force = np.asarray(tendon_force, dtype=np.float64)
            active = active | (force >= self.min_force_fraction * max_isometric_force)
        return np.asarray(active, dtype=bool)


@dataclass(frozen=True, eq=False)
class MuscleCurves:
    """One muscle over the stride (lengthening velocities positive; SI units).

    Attributes
    ----------
    name, side
        Muscle name and side (``None`` without a side suffix).
    tendon
        ``"rigid"`` or ``"compliant"``.
    max_isometric_force, optimal_fiber_length, max_contraction_velocity
        ``F_max`` (N), ``l_opt`` (m), ``v_max`` (optimal lengths per second).
    coordinate_names
        Columns of :attr:`moment_arms` (the model's coordinates).
    activation, tendon_force
        ``(n,)``: activation and ``F_T`` (N) of the result.
    muscle_tendon_length, muscle_tendon_velocity
        ``(n,)``: ``l_mt`` (m) and ``v_mt`` (m/s).
    fiber_length, fiber_velocity
        ``(n,)``: ``l_M`` (m) and ``v_M`` (m/s).
    cos_pennation
        ``(n,)``.
    moment_arms
        ``(n, n_q)``: ``r = -d l_mt / d q`` (m, or dimensionless for translations).
    force_inconsistency
        Rigid: ``max |F_T - F_T,model| / F_max``; compliant: largest equilibrium
        residual (see the module docstring).
    """

    name: str
    side: str | None
    tendon: str
    max_isometric_force: float
    optimal_fiber_length: float
    max_contraction_velocity: float
    coordinate_names: tuple[str, ...]
    activation: np.ndarray
    tendon_force: np.ndarray
    muscle_tendon_length: np.ndarray
    muscle_tendon_velocity: np.ndarray
    fiber_length: np.ndarray
    fiber_velocity: np.ndarray
    cos_pennation: np.ndarray
    moment_arms: np.ndarray
    force_inconsistency: float

    @property
    def norm_fiber_length(self) -> np.ndarray:
        """``l_M / l_opt``."""
        return self.fiber_length / self.optimal_fiber_length

    @property
    def norm_fiber_velocity(self) -> np.ndarray:
        """``v_M / (v_max l_opt)`` (-1 is the maximum shortening velocity)."""
        return self.fiber_velocity / (self.max_contraction_velocity * self.optimal_fiber_length)

    @property
    def fiber_force(self) -> np.ndarray:
        """``F_M = F_T / cos(alpha)`` (N), along the fibre."""
        return self.tendon_force / self.cos_pennation

    @property
    def muscle_tendon_power(self) -> np.ndarray:
        """``-F_T v_mt`` (W), produced positive."""
        return -self.tendon_force * self.muscle_tendon_velocity

    @property
    def fiber_power(self) -> np.ndarray:
        """``-F_M v_M`` (W), produced positive."""
        return -self.fiber_force * self.fiber_velocity

    @property
    def tendon_power(self) -> np.ndarray:
        """MT power minus fibre power (W): ``-F_T v_T``, negative while the tendon stores."""
        return self.muscle_tendon_power - self.fiber_power

    @property
    def moment_contributions(self) -> np.ndarray:
        """``r_mj F_m``, ``(n, n_q)`` (N m, or N for translations)."""
        return self.moment_arms * self.tendon_force[:, None]

    @property
    def crossed_coordinates(self) -> tuple[str, ...]:
        """Coordinates whose moment arm exceeds :data:`MOMENT_ARM_THRESHOLD` somewhere."""
        peak = np.max(np.abs(self.moment_arms), axis=0)
        pairs = zip(self.coordinate_names, peak, strict=True)
        return tuple(c for c, r in pairs if r > MOMENT_ARM_THRESHOLD)

    def active(self, criteria: ActivityCriteria) -> np.ndarray:
        """Which samples are active under ``criteria`` (``(n,)`` bool)."""
        return criteria.is_active(self.activation, self.tendon_force, self.max_isometric_force)


@dataclass(frozen=True)
class MomentContribution:
    """A muscle's contribution to one joint moment in one phase.

    Attributes
    ----------
    coordinate
        The joint.
    mean
        Time average of ``r F`` over the phase (N m); for a zero-duration phase the
        value at that instant.
    peak
        Value of largest magnitude, signed (N m), among the samples in the phase and the
        values interpolated at its start and end.
    """

    coordinate: str
    mean: float
    peak: float


@dataclass(frozen=True)
class MusclePhase:
    """What one muscle does in one phase.

    Attributes
    ----------
    muscle, phase
        Muscle name and phase label (``"loading_response_r"``).
    start, end
        The phase (s; ``end`` may exceed the stride's last time).
    active_fraction
        Fraction of the phase's time the muscle is active.
    action
        One of :data:`ACTIONS`.
    concentric_fraction, eccentric_fraction, isometric_fraction
        Shares of the active time (NaN when inactive).
    fiber_positive_work, fiber_negative_work
        Fibre work in the phase (J), produced >= 0, absorbed <= 0.
    muscle_tendon_positive_work, muscle_tendon_negative_work
        The same for the muscle-tendon unit (J).
    moments
        Contributions to the moments about the coordinates the muscle crosses.
    """

    muscle: str
    phase: str
    start: float
    end: float
    active_fraction: float
    action: str
    concentric_fraction: float
    eccentric_fraction: float
    isometric_fraction: float
    fiber_positive_work: float
    fiber_negative_work: float
    muscle_tendon_positive_work: float
    muscle_tendon_negative_work: float
    moments: tuple[MomentContribution, ...]


@dataclass(frozen=True, eq=False)
class MuscleFunction:
    """Muscle function over one stride (see the module docstring).

    Attributes
    ----------
    model_name
        The model.
    time
        ``(n,)`` s.
    coordinate_names
        The model's coordinates (columns of moment arms and contributions).
    criteria
        Activity criteria used.
    muscles
        One :class:`MuscleCurves` per muscle of the result, in result order.
    phases
        One :class:`MusclePhase` per muscle and phase.
    """

    model_name: str
    time: np.ndarray
    coordinate_names: tuple[str, ...]
    criteria: ActivityCriteria
    muscles: tuple[MuscleCurves, ...]
    phases: tuple[MusclePhase, ...]

    @property
    def muscle_names(self) -> tuple[str, ...]:
        """Names of the muscles, in order."""
        return tuple(m.name for m in self.muscles)

    def muscle(self, name: str) -> MuscleCurves:
        """The curves of one muscle.

        Raises
        ------
        KeyError
            If there is no such muscle.
        """
        for m in self.muscles:
            if m.name == name:
                return m
        raise KeyError(f"no muscle {name!r} in the muscle function analysis")

    def phase(self, muscle: str, phase: str) -> MusclePhase:
        """One muscle in one phase (label ``"<phase>_<side>"``).

        Raises
        ------
        KeyError
            If there is no such pair.
        """
        for p in self.phases:
            if p.muscle == muscle and p.phase == phase:
                return p
        raise KeyError(f"no phase {phase!r} for muscle {muscle!r}")

    @property
    def muscle_moments(self) -> np.ndarray:
        """``sum_m r_mj F_m``: the moments of all muscles, ``(n, n_q)`` (N m)."""
        total = np.zeros((self.time.size, len(self.coordinate_names)))
        for m in self.muscles:
            total += m.moment_contributions
        return total

    def table(self) -> tuple[TableRow, ...]:
        """Tidy rows (item = muscle).

        Per phase: ``action`` (word), ``active_fraction``, ``concentric_fraction``,
        ``eccentric_fraction``, ``isometric_fraction`` (""), ``fiber_positive_work``,
        ``fiber_negative_work``, ``muscle_tendon_positive_work``,
        ``muscle_tendon_negative_work`` (J), ``moment_mean:<coordinate>``,
        ``moment_peak:<coordinate>`` (N m). Over the ``"stride"``: the same works,
        ``peak_tendon_force`` (N), ``peak_activation``, ``force_inconsistency``, and the
        ranges ``min_norm_fiber_length``, ``max_norm_fiber_length``,
        ``min_norm_fiber_velocity``, ``max_norm_fiber_velocity``.
        """
        rows: list[TableRow] = []
        t0, t1 = float(self.time[0]), float(self.time[-1])
        for m in self.muscles:
            fp, fn = interval_work(self.time, m.fiber_power, t0, t1)
            mp, mn = interval_work(self.time, m.muscle_tendon_power, t0, t1)
            for quantity, value, unit in (
                ("fiber_positive_work", fp, "J"),
                ("fiber_negative_work", fn, "J"),
                ("muscle_tendon_positive_work", mp, "J"),
                ("muscle_tendon_negative_work", mn, "J"),
                ("peak_tendon_force", float(np.max(m.tendon_force)), "N"),
                ("peak_activation", float(np.max(m.activation)), ""),
                ("force_inconsistency", m.force_inconsistency, ""),
                ("min_norm_fiber_length", float(np.min(m.norm_fiber_length)), ""),
                ("max_norm_fiber_length", float(np.max(m.norm_fiber_length)), ""),
                ("min_norm_fiber_velocity", float(np.min(m.norm_fiber_velocity)), ""),
                ("max_norm_fiber_velocity", float(np.max(m.norm_fiber_velocity)), ""),
            ):
                rows.append(TableRow(m.name, "stride", quantity, value, unit))
        for p in self.phases:
            rows.append(TableRow(p.muscle, p.phase, "action", p.action, ""))
            for quantity, value, unit in (
                ("active_fraction", p.active_fraction, ""),
                ("concentric_fraction", p.concentric_fraction, ""),
                ("eccentric_fraction", p.eccentric_fraction, ""),
                ("isometric_fraction", p.isometric_fraction, ""),
                ("fiber_positive_work", p.fiber_positive_work, "J"),
                ("fiber_negative_work", p.fiber_negative_work, "J"),
                ("muscle_tendon_positive_work", p.muscle_tendon_positive_work, "J"),
                ("muscle_tendon_negative_work", p.muscle_tendon_negative_work, "J"),
            ):
                rows.append(TableRow(p.muscle, p.phase, quantity, value, unit))
            for c in p.moments:
                rows.append(
                    TableRow(p.muscle, p.phase, f"moment_mean:{c.coordinate}", c.mean, "N m")
                )
                rows.append(
                    TableRow(p.muscle, p.phase, f"moment_peak:{c.coordinate}", c.peak, "N m")
                )
        return tuple(rows)

    def to_records(self) -> list[dict[str, Any]]:
        """:meth:`table` as JSON-ready dicts."""
        return [row.to_record() for row in self.table()]


@dataclass(frozen=True, eq=False)
class MomentBalance:
    """Net joint moments against what the model's force elements supply, ``(n, n_q)``.

    ``residual = net - muscle - limit - actuator``. Where the actuator torques were not
    given (:attr:`actuators_known` false) the residual of an actuated coordinate
    (:attr:`actuated`) includes the actuator torque; elsewhere it is the dynamics
    residual of the solution (bounded by the collocation constraint tolerance).

    Attributes
    ----------
    coordinate_names, time
        Columns and rows.
    net
        Net moments of inverse dynamics (:attr:`WalkingResult.joint_moments`).
    muscle
        ``sum_m r_mj F_m``.
    limit
        Passive limit torques (:attr:`ModelFunctions.limit_torques`).
    actuator
        Coordinate actuator torques (zero when not known).
    actuated
        Per coordinate: whether a coordinate actuator acts on it.
    actuators_known
        Whether actuator controls were given.
    """

    coordinate_names: tuple[str, ...]
    time: np.ndarray
    net: np.ndarray
    muscle: np.ndarray
    limit: np.ndarray
    actuator: np.ndarray
    actuated: tuple[bool, ...]
    actuators_known: bool

    @property
    def residual(self) -> np.ndarray:
        """``net - muscle - limit - actuator`` (N m or N)."""
        return self.net - self.muscle - self.limit - self.actuator

    def max_residual(self, coordinate: str) -> float:
        """Largest absolute residual about one coordinate."""
        return float(np.max(np.abs(self.residual[:, self.coordinate_names.index(coordinate)])))

    def table(self) -> tuple[TableRow, ...]:
        """Rows ``(coordinate, "stride", max_abs_residual | rms_residual, value, unit)`` and
        ``includes_actuator`` (``"yes"``/``"no"``/``"not actuated"``)."""
        rows: list[TableRow] = []
        residual = self.residual
        for j, name in enumerate(self.coordinate_names):
            unit = "N" if is_translational(name) else "N m"
            r = residual[:, j]
            rows.append(
                TableRow(name, "stride", "max_abs_residual", float(np.max(np.abs(r))), unit)
            )
            rows.append(
                TableRow(name, "stride", "rms_residual", float(np.sqrt(np.mean(r**2))), unit)
            )
            state = "not actuated"
            if self.actuated[j]:
                state = "yes" if self.actuators_known else "no"
            rows.append(TableRow(name, "stride", "includes_actuator", state, ""))
        return tuple(rows)


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def classify_action(
    norm_fiber_velocity: ArrayLike,
    active: ArrayLike,
    weights: ArrayLike,
    isometric_velocity: float,
) -> tuple[str, float, float, float, float]:
    """The action of a muscle over some samples.

    Parameters
    ----------
    norm_fiber_velocity
        ``v_M / (v_max l_opt)`` at the samples (lengthening positive).
    active
        Whether each sample is active.
    weights
        Time each sample stands for (s).
    isometric_velocity
        ``|v~|`` below which the fibre holds.

    Returns
    -------
    action, active_fraction, concentric, eccentric, isometric
        ``action`` is the largest share of the active time (ties: isometric, then
        concentric); fractions as in :class:`MusclePhase`.
    """
    v = np.asarray(norm_fiber_velocity, dtype=np.float64)
    on = np.asarray(active, dtype=bool)
    w = np.asarray(weights, dtype=np.float64)
    nan = math.nan
    if v.size == 0 or float(w.sum()) <= 0.0:
        return "unsampled", nan, nan, nan, nan
    active_time = float(w[on].sum())
    active_fraction = active_time / float(w.sum())
    if active_time <= 0.0:
        return "inactive", active_fraction, nan, nan, nan
    holds = np.abs(v) < isometric_velocity
    shares = {
        "isometric": float(w[on & holds].sum()) / active_time,
        "concentric": float(w[on & ~holds & (v < 0)].sum()) / active_time,
        "eccentric": float(w[on & ~holds & (v > 0)].sum()) / active_time,
    }
    action = max(shares, key=lambda k: shares[k])  # dict order breaks ties
    return (
        action,
        active_fraction,
        shares["concentric"],
        shares["eccentric"],
        shares["isometric"],
    )


def _at(time: np.ndarray, values: np.ndarray, when: Any) -> np.ndarray:
    """Values of a periodic stride linearly interpolated at ``when`` (modulo the period)."""
    period = float(time[-1] - time[0])
    return np.atleast_1d(np.interp(when, time[:-1], values[:-1], period=period))


def _sample_weights(time: np.ndarray) -> np.ndarray:
    """Time each sample of a periodic stride stands for; the last sample (the first of the
    next stride) gets 0 so that the instant is not counted twice."""
    period = float(time[-1] - time[0])
    t = time[:-1]
    previous = np.concatenate([[time[-2] - period], t[:-1]])
    following = time[1:]
    return np.append(0.5 * (following - previous), 0.0)


def _mapped(function: Any, n: int, *args: np.ndarray) -> list[np.ndarray]:
    out = function.map(n)(*args)
    if not isinstance(out, tuple | list):
        out = [out]
    return [np.asarray(o, dtype=np.float64) for o in out]


def _periodic_rate(time: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Time derivative of a periodic sampled signal (periodic cubic spline)."""
    closed = values.copy()
    closed[-1] = closed[0]
    return np.asarray(CubicSpline(time, closed, bc_type="periodic")(time, 1), dtype=np.float64)


def _matrix(values: Any, shape: tuple[int, int], what: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.shape != shape:
        raise AnalysisInputError(what, f"expected shape {shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise AnalysisInputError(what, "has non-finite values")
    return a


def _check_functions(model: Model, functions: ModelFunctions) -> None:
    if functions.model is not model and functions.model != model:
        raise AnalysisInputError(
            "functions", f"were built for model {functions.model.name!r}, not this {model.name!r}"
        )


def _columns(given: Sequence[str], wanted: Sequence[str], what: str, kind: str) -> list[int]:
    index = {name: i for i, name in enumerate(given)}
    missing = [name for name in wanted if name not in index]
    if missing:
        raise ModelError(missing[0], f"{kind} of the model is not in the {what}")
    return [index[name] for name in wanted]


# ---------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------


def muscle_function(
    model: Model,
    functions: ModelFunctions,
    result: WalkingResult,
    phases: Sequence[Phase],
    *,
    criteria: ActivityCriteria | None = None,
    tendon_force_rates: ArrayLike | None = None,
) -> MuscleFunction:
    """Fibre mechanics, work and moment contributions of every muscle of a stride.

    Parameters
    ----------
    model
        The model simulated (its muscles must be the result's, in any order).
    functions
        ``build(model)``.
    result
        The stride (periodic: the last sample is the first of the next stride).
    phases
        Gait phases of either or both sides (one per name and side).
    criteria
        Activity and isometric thresholds (default :class:`ActivityCriteria()`).
    tendon_force_rates
        ``d(F_T / F_max)/dt``, ``(n, n_m)`` in result muscle order, for compliant muscles
        (default: periodic spline derivative of the tendon force).

    Returns
    -------
    MuscleFunction

    Raises
    ------
    ModelError
        If a muscle or coordinate of the model is missing from the result or a muscle of
        the result is not in the model.
    AnalysisInputError
        If ``functions`` were built for another model, the result's arrays have wrong
        shapes or non-finite values, time is not increasing, or a phase is given twice.
    """
    criteria = criteria or ActivityCriteria()
    _check_functions(model, functions)
    time = np.asarray(result.time, dtype=np.float64)
    if time.ndim != 1 or time.size < 3:
        raise AnalysisInputError("result.time", f"need at least 3 samples, got {time.shape}")
    if not (np.all(np.isfinite(time)) and np.all(np.diff(time) > 0)):
        raise AnalysisInputError("result.time", "must be finite and strictly increasing")
    n = time.size
    period = float(time[-1] - time[0])
    names = tuple(result.muscle_names)
    for name in names:
        if name not in model.muscle_names:
            raise ModelError(name, f"muscle of the result is not in model {model.name!r}")
    coordinates = tuple(model.coordinate_names)
    q_cols = _columns(result.coordinate_names, coordinates, "result", "coordinate")
    q = _matrix(result.q, (n, len(result.coordinate_names)), "result.q")[:, q_cols]
    qd = _matrix(result.qd, (n, len(result.coordinate_names)), "result.qd")[:, q_cols]
    m_cols = _columns(names, model.muscle_names, "result", "muscle")
    activation = _matrix(result.activations, (n, len(names)), "result.activations")[:, m_cols]
    force = _matrix(result.tendon_forces, (n, len(names)), "result.tendon_forces")[:, m_cols]
    rates: np.ndarray | None = None
    if tendon_force_rates is not None:
        rates = _matrix(tendon_force_rates, (n, len(names)), "tendon_force_rates")[:, m_cols]

    n_m, n_q = len(model.muscles), len(coordinates)
    (lmt,) = _mapped(functions.muscle_tendon_lengths, n, q.T)
    (vmt,) = _mapped(functions.lengthening_velocities, n, q.T, qd.T)
    (arms,) = _mapped(functions.moment_arms, n, q.T)
    # Mapped outputs are column blocks per frame: (n_m, n * n_q) -> (n, n_m, n_q).
    arms = arms.reshape(n_m, n, n_q).transpose(1, 0, 2)
    rigid = _mapped(functions.muscle_rigid, n, lmt, vmt, activation.T)
    rigid_force, rigid_length, rigid_velocity = rigid[0], rigid[1], rigid[2]

    curves: dict[str, MuscleCurves] = {}
    for i, m in enumerate(model.muscles):
        if m.name not in names:
            continue
        f_max = m.max_isometric_force
        if m.tendon is TendonModel.RIGID:
            length, velocity = rigid_length[i], rigid_velocity[i]
            cos_alpha = (lmt[i] - m.tendon_slack_length) / length
            inconsistency = float(np.max(np.abs(force[:, i] - rigid_force[i])) / f_max)
        else:
            norm_force = force[:, i] / f_max
            rate = rates[:, i] if rates is not None else _periodic_rate(time, norm_force)
            state = compliant_tendon_state_implicit(
                muscle_parameters(m), lmt[i], vmt[i], activation[:, i], norm_force, rate
            )
            length = np.asarray(state.fiber_length, dtype=np.float64)
            velocity = np.asarray(state.fiber_velocity, dtype=np.float64)
            cos_alpha = np.asarray(state.cos_pennation, dtype=np.float64)
            inconsistency = float(np.max(np.abs(np.asarray(state.equilibrium_residual))))
        curves[m.name] = MuscleCurves(
            name=m.name,
            side=coordinate_side(m.name),
            tendon=m.tendon.value,
            max_isometric_force=f_max,
            optimal_fiber_length=m.optimal_fiber_length,
            max_contraction_velocity=m.max_contraction_velocity,
            coordinate_names=coordinates,
            activation=activation[:, i].copy(),
            tendon_force=force[:, i].copy(),
            muscle_tendon_length=lmt[i].copy(),
            muscle_tendon_velocity=vmt[i].copy(),
            fiber_length=np.array(length, dtype=np.float64),
            fiber_velocity=np.array(velocity, dtype=np.float64),
            cos_pennation=np.array(cos_alpha, dtype=np.float64),
            moment_arms=arms[:, i, :].copy(),
            force_inconsistency=inconsistency,
        )
    ordered = tuple(curves[name] for name in names)

    weights = _sample_weights(time)
    by_side = {side: side_phases(phases, side) for side in ("r", "l")}
    every = sorted(
        (p for side in ("r", "l") for p in by_side[side].values()),
        key=lambda p: (p.side, PERRY_PHASES.index(p.name)),
    )
    analysed: list[MusclePhase] = []
    for curve in ordered:
        chosen = [p for p in every if curve.side is None or p.side == curve.side]
        active = curve.active(criteria)
        norm_velocity = curve.norm_fiber_velocity
        contributions = curve.moment_contributions
        crossed = [coordinates.index(c) for c in curve.crossed_coordinates]
        fiber_power, mt_power = curve.fiber_power, curve.muscle_tendon_power
        for phase in chosen:
            inside = phase.mask(time, period) & (weights > 0)
            if np.any(inside):
                v, on, w = norm_velocity[inside], active[inside], weights[inside]
            else:  # e.g. a zero-duration initial contact: the values at its midpoint
                middle = phase.start + 0.5 * phase.duration
                v = _at(time, norm_velocity, middle)
                on = criteria.is_active(
                    _at(time, curve.activation, middle),
                    _at(time, curve.tendon_force, middle),
                    curve.max_isometric_force,
                )
                w = np.ones(1)
            action, active_fraction, conc, ecc, iso = classify_action(
                v, on, w, criteria.isometric_velocity
            )
            fp, fn = interval_work(time, fiber_power, phase.start, phase.end)
            mp, mn = interval_work(time, mt_power, phase.start, phase.end)
            moments: list[MomentContribution] = []
            for j in crossed:
                ends = _at(time, contributions[:, j], np.array([phase.start, phase.end]))
                if phase.duration > 0:
                    pos, neg = interval_work(time, contributions[:, j], phase.start, phase.end)
                    mean = (pos + neg) / phase.duration
                else:
                    mean = float(ends[0])
                values = np.concatenate([contributions[inside, j], ends])
                peak = float(values[np.argmax(np.abs(values))])
                moments.append(MomentContribution(coordinates[j], mean, peak))
            analysed.append(
                MusclePhase(
                    muscle=curve.name,
                    phase=phase_label(phase),
                    start=phase.start,
                    end=phase.end,
                    active_fraction=active_fraction,
                    action=action,
                    concentric_fraction=conc,
                    eccentric_fraction=ecc,
                    isometric_fraction=iso,
                    fiber_positive_work=fp,
                    fiber_negative_work=fn,
                    muscle_tendon_positive_work=mp,
                    muscle_tendon_negative_work=mn,
                    moments=tuple(moments),
                )
            )
    return MuscleFunction(
        model_name=model.name,
        time=time.copy(),
        coordinate_names=coordinates,
        criteria=criteria,
        muscles=ordered,
        phases=tuple(analysed),
    )


def moment_balance(
    model: Model,
    functions: ModelFunctions,
    result: WalkingResult,
    analysis: MuscleFunction,
    *,
    actuator_controls: ArrayLike | None = None,
) -> MomentBalance:
    """Compare the net joint moments with muscle, limit and actuator torques.

    Parameters
    ----------
    model, functions
        The model and its functions (the analysis' model).
    result
        The stride analysed.
    analysis
        Its :func:`muscle_function`.
    actuator_controls
        Controls of the model's coordinate actuators, ``(n, n_actuators)`` in
        ``model.actuators`` order. :class:`WalkingResult` does not carry them; without
        them the actuator torque is left in the residual of actuated coordinates.

    Returns
    -------
    MomentBalance
        In the model's coordinate order.

    Raises
    ------
    ModelError
        If a coordinate of the model is missing from the result.
    AnalysisInputError
        If shapes disagree.
    """
    _check_functions(model, functions)
    time = np.asarray(result.time, dtype=np.float64)
    n = time.size
    coordinates = tuple(model.coordinate_names)
    if analysis.coordinate_names != coordinates or analysis.time.shape != time.shape:
        raise AnalysisInputError("analysis", "is not the muscle function of this model and result")
    cols = _columns(result.coordinate_names, coordinates, "result", "coordinate")
    shape = (n, len(result.coordinate_names))
    q = _matrix(result.q, shape, "result.q")[:, cols]
    qd = _matrix(result.qd, shape, "result.qd")[:, cols]
    net = _matrix(result.joint_moments, shape, "result.joint_moments")[:, cols]
    (limit,) = _mapped(functions.limit_torques, n, q.T, qd.T)
    matrix = functions.actuator_matrix
    actuator = np.zeros((n, len(coordinates)))
    if actuator_controls is not None:
        controls = _matrix(actuator_controls, (n, matrix.shape[1]), "actuator_controls")
        actuator = controls @ matrix.T
    return MomentBalance(
        coordinate_names=coordinates,
        time=time.copy(),
        net=net,
        muscle=analysis.muscle_moments,
        limit=limit.T.copy(),
        actuator=actuator,
        actuated=tuple(bool(np.any(matrix[j] != 0.0)) for j in range(len(coordinates))),
        actuators_known=actuator_controls is not None,
    )
