"""Induced position by forward simulation: what a muscle does to peak swing knee flexion.

An *ablation* (or perturbation) analysis asks how the motion would change without one
muscle's force (Goldberg, Anderson, Pandy & Delp 2004; Reinbolt, Fox, Arnold, Õunpuu &
Delp 2008): the swing of one leg is simulated forward from a state of the stride with
the model's own excitations, once unchanged (the **baseline**), then with a muscle's (or
a group's) force removed, and with the knee flexion velocity at toe-off scaled by
``1 ± X`` (Goldberg, Ounpuu & Delp 2003). The figure reported is the change in **peak
swing knee flexion** (degrees, flexion positive).

What is simulated
-----------------
* **Start**: the toe-off of ``side`` (``start="toe_off"``, default) or the contralateral
  initial contact before it (``start="pre_swing"``, double support), events from the
  stride's vertical ground reaction force (:func:`gaitsim.analysis.gait_metrics.contact_events`,
  2 % BW threshold). **End**: the next initial contact of ``side``. The stride is
  periodic, so times past its end wrap to its beginning (the forward translation
  advanced by the distance walked).
* **Coordinates simulated** (``coordinates="leg"``, default): those of the leg of
  ``side`` (names ending in ``_r``/``_l``); the other coordinates (pelvis, other leg,
  trunk) are **prescribed** from the stride, as a documented choice: an open-loop
  simulation of the whole body from a collocation solution drifts (it falls), which
  would swamp the effect of one muscle on the swing. The swing-leg equations are the
  corresponding rows of the full model's equations of motion with the prescribed
  accelerations moved to the right-hand side::

      M_ss q̈_s = tau_s - c_s(q, q̇) - M_sp q̈_p

  where ``tau`` holds the muscle forces (``r(q)ᵀ F``), the smooth contact forces (the
  swing foot may touch the floor), the passive limit torques and the stride's
  actuator and residual generalised forces (replayed in time, see
  :func:`gaitsim.analysis.induced_acceleration.stride_forces`). ``coordinates="all"``
  simulates every coordinate (open loop, full body).
* **Muscles**: activation dynamics ``ȧ = f(e, a)`` (De Groote et al. 2016) driven by the
  stride's excitations, interpolated linearly in time (the controls of trapezoidal
  collocation are piecewise linear); compliant tendons add their normalised tendon
  force state (explicit form). Removing a muscle multiplies its tendon force by zero in
  the equations of motion (over the whole simulation, or over ``window``: times
  relative to toe-off, e.g. ``(-inf, 0)`` with ``start="pre_swing"`` for pre-swing only).
* **Prescribed motion** between the stride's samples: cubic Hermite interpolation of
  ``q`` with ``q̇`` and of ``q̇`` with ``q̈``; ``q̈`` is the derivative of the latter.
* **Integrator**: SciPy ``solve_ivp`` with the BDF method (the contact is stiff), the
  exact Jacobian from CasADi, ``rtol = atol = 1e-8`` by default; integration restarts at
  the edges of a removal window.

Peak swing knee flexion is ``-min(knee angle)`` over the simulated span (model signs:
flexion negative), found on the solver's dense output at 1 ms and refined with a
bounded scalar minimisation.

References
----------
Goldberg SR, Ounpuu S, Delp SL (2003). The importance of swing-phase initial conditions
in stiff-knee gait. J Biomech 36(8):1111-1116.
Goldberg SR, Anderson FC, Pandy MG, Delp SL (2004). Muscles that influence knee flexion
velocity in double support: implications for stiff-knee gait. J Biomech 37(8):1189-1196.
Reinbolt JA, Fox MD, Arnold AS, Ounpuu S, Delp SL (2008). Importance of preswing rectus
femoris activity in stiff-knee gait. J Biomech 41(11):2362-2369.
De Groote F, Kinney AL, Rao AV, Fregly BJ (2016). Evaluation of direct collocation
optimal control problem formulations for solving the muscle redundancy problem. Ann
Biomed Eng 44(10):2922-2936.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import casadi as ca
import numpy as np
import scipy.integrate
import scipy.interpolate
import scipy.optimize

from gaitsim.analysis.gait_metrics import STANDARD_GRAVITY, contact_events
from gaitsim.analysis.induced_acceleration import contact_axes, contact_sides, stride_forces
from gaitsim.errors import ModelError
from gaitsim.mechanics.model_functions import ModelFunctions
from gaitsim.model.description import Model, TendonModel

if TYPE_CHECKING:
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "MUSCLE_GROUPS",
    "AblationEntry",
    "AblationResult",
    "AblationSpec",
    "SwingSetup",
    "SwingSimulation",
    "ablation_analysis",
    "group_members",
    "prepare_swing",
    "simulate_swing",
]

#: Functional groups by muscle base name (without ``_r``/``_l``), as named in gaitsim's
#: gait2d and OpenSim's gait2392-based gait3d; a group keeps the members the model has.
MUSCLE_GROUPS: Mapping[str, tuple[str, ...]] = {
    "iliopsoas": ("iliopsoas", "psoas", "iliacus"),
    "biarticular_hamstrings": ("hamstrings", "semimem", "semiten", "bifemlh"),
    "biceps_femoris_short_head": ("bifemsh",),
    "gastrocnemius": ("gastroc", "med_gas", "lat_gas"),
    "rectus_femoris": ("rect_fem",),
    "vasti": ("vasti", "vas_med", "vas_int", "vas_lat"),
    "gluteus_maximus": ("glut_max", "glut_max1", "glut_max2", "glut_max3"),
    "soleus": ("soleus",),
    "tibialis_anterior": ("tib_ant",),
}

_FORWARD = "pelvis_tx"
_CONTACT_THRESHOLD_BW = 0.02


@dataclass(frozen=True)
class AblationSpec:
    """What the user asks of a swing simulation or ablation analysis (no work done here).

    Parameters
    ----------
    side
        Leg whose swing is simulated, ``"r"`` or ``"l"``.
    start
        ``"toe_off"`` or ``"pre_swing"`` (contralateral initial contact before toe-off).
    coordinates
        ``"leg"`` (the side's coordinates, the rest prescribed) or ``"all"``.
    knee
        Knee coordinate; default ``knee_angle_<side>``.
    velocity_change
        Fraction by which the knee velocity at the start is scaled up and down.
    window
        Removal window ``(begin, end)`` in seconds relative to toe-off (None: the whole
        simulation).
    groups
        Muscle groups (see :data:`MUSCLE_GROUPS`).
    rtol, atol
        Integrator tolerances.
    """

    side: str = "r"
    start: str = "toe_off"
    coordinates: str = "leg"
    knee: str | None = None
    velocity_change: float = 0.2
    window: tuple[float, float] | None = None
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(MUSCLE_GROUPS))
    rtol: float = 1e-6
    atol: float = 1e-6

    def __post_init__(self) -> None:
        if self.side not in ("r", "l"):
            raise ValueError(f"side must be 'r' or 'l', got {self.side!r}")
        if self.start not in ("toe_off", "pre_swing"):
            raise ValueError(f"start must be 'toe_off' or 'pre_swing', got {self.start!r}")
        if self.coordinates not in ("leg", "all"):
            raise ValueError(f"coordinates must be 'leg' or 'all', got {self.coordinates!r}")
        if not (math.isfinite(self.velocity_change) and 0 <= self.velocity_change < 1):
            raise ValueError(f"velocity_change must be in [0, 1), got {self.velocity_change!r}")
        if self.window is not None and not self.window[0] < self.window[1]:
            raise ValueError(f"window must be (begin, end) with begin < end, got {self.window}")
        if not (self.rtol > 0 and self.atol > 0):
            raise ValueError("rtol and atol must be positive")

    @property
    def knee_coordinate(self) -> str:
        """The knee coordinate whose peak flexion is reported."""
        return self.knee or f"knee_angle_{self.side}"


@dataclass(frozen=True, eq=False)
class SwingSimulation:
    """One forward simulation of a swing.

    Attributes
    ----------
    time
        ``(n,)`` s, in the stride's time, unwrapped (may exceed the stride's end).
    coordinate_names, q, qd
        All coordinates ``(n, n_q)`` (prescribed ones included), model signs.
    muscle_names, activations
        ``(n, n_m)``.
    simulated
        Names of the simulated (not prescribed) coordinates.
    removed
        Muscles whose force was removed.
    knee_velocity_scale
        Factor applied to the knee velocity at the start.
    knee
        Knee coordinate name.
    peak_knee_flexion
        Peak knee flexion over the simulation (degrees, flexion positive).
    peak_time
        When it occurs (s, stride time, unwrapped).
    start_time, toe_off_time, end_time
        Simulation start, toe-off of the side and end (s, unwrapped).
    solver_steps
        Number of integrator steps taken.
    out_of_range
        Simulated coordinates that left their range in the model (a warning sign: a
        model without passive limit torques, such as gait2d, does not stop a joint
        there).
    swing_foot_force
        Largest normal contact force on the swing foot after toe-off (N): above about
        2 % of body weight the foot touched the floor in swing (toe scuffing).
    """

    time: np.ndarray
    coordinate_names: tuple[str, ...]
    q: np.ndarray
    qd: np.ndarray
    muscle_names: tuple[str, ...]
    activations: np.ndarray
    simulated: tuple[str, ...]
    removed: tuple[str, ...]
    knee_velocity_scale: float
    knee: str
    peak_knee_flexion: float
    peak_time: float
    start_time: float
    toe_off_time: float
    end_time: float
    solver_steps: int
    out_of_range: tuple[str, ...] = ()
    swing_foot_force: float = 0.0

    def coordinate(self, name: str) -> np.ndarray:
        """One coordinate over time (rad or m)."""
        return self.q[:, self.coordinate_names.index(name)]


@dataclass(frozen=True)
class AblationEntry:
    """One perturbed simulation compared with the baseline.

    Attributes
    ----------
    name
        Muscle name, group name, or ``knee_velocity_+20%`` / ``knee_velocity_-20%``.
    kind
        ``"muscle"``, ``"group"`` or ``"knee_velocity"``.
    removed
        Muscles removed (empty for velocity perturbations).
    peak_knee_flexion
        Peak swing knee flexion (degrees, flexion positive).
    change
        ``peak_knee_flexion - baseline`` (degrees): negative means the muscle's force
        *increased* flexion (removing it reduced the peak).
    peak_time
        Time of the peak (s, unwrapped stride time).
    out_of_range, swing_foot_force
        As in :class:`SwingSimulation` (flags for interpreting the change).
    """

    name: str
    kind: str
    removed: tuple[str, ...]
    peak_knee_flexion: float
    change: float
    peak_time: float
    out_of_range: tuple[str, ...] = ()
    swing_foot_force: float = 0.0


@dataclass(frozen=True, eq=False)
class AblationResult:
    """Baseline check and every perturbation of an ablation analysis.

    Attributes
    ----------
    spec
        Settings used.
    baseline
        The unperturbed simulation.
    stride_peak_knee_flexion
        Peak knee flexion of the stride itself over the simulated span (degrees).
    baseline_max_deviation
        Largest ``|knee(simulated) - knee(stride)|`` over the simulated span (degrees).
    baseline_rms_deviation
        RMS of the same difference (degrees).
    entries
        Every muscle of the side, every group with members, then the velocity
        perturbations.
    """

    spec: AblationSpec
    baseline: SwingSimulation
    stride_peak_knee_flexion: float
    baseline_max_deviation: float
    baseline_rms_deviation: float
    entries: tuple[AblationEntry, ...]

    def entry(self, name: str) -> AblationEntry:
        """The entry of one muscle, group or velocity perturbation."""
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(f"no entry {name!r}; have {[e.name for e in self.entries]}")

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One JSON-ready row per entry (plus the baseline), degrees."""
        rows: list[dict[str, Any]] = [
            {
                "name": "baseline",
                "kind": "baseline",
                "removed": [],
                "peak_knee_flexion_deg": self.baseline.peak_knee_flexion,
                "change_deg": 0.0,
                "peak_time_s": self.baseline.peak_time,
                "out_of_range": list(self.baseline.out_of_range),
                "swing_foot_force_n": self.baseline.swing_foot_force,
            }
        ]
        for e in self.entries:
            rows.append(
                {
                    "name": e.name,
                    "kind": e.kind,
                    "removed": list(e.removed),
                    "peak_knee_flexion_deg": e.peak_knee_flexion,
                    "change_deg": e.change,
                    "peak_time_s": e.peak_time,
                    "out_of_range": list(e.out_of_range),
                    "swing_foot_force_n": e.swing_foot_force,
                }
            )
        return rows

    def summary(self) -> dict[str, Any]:
        """Settings, baseline check and entries, JSON-ready."""
        return {
            "side": self.spec.side,
            "start": self.spec.start,
            "coordinates": self.spec.coordinates,
            "knee": self.spec.knee_coordinate,
            "velocity_change": self.spec.velocity_change,
            "window_s": list(self.spec.window) if self.spec.window else None,
            "rtol": self.spec.rtol,
            "atol": self.spec.atol,
            "start_time_s": self.baseline.start_time,
            "toe_off_time_s": self.baseline.toe_off_time,
            "end_time_s": self.baseline.end_time,
            "stride_peak_knee_flexion_deg": self.stride_peak_knee_flexion,
            "baseline_peak_knee_flexion_deg": self.baseline.peak_knee_flexion,
            "baseline_max_deviation_deg": self.baseline_max_deviation,
            "baseline_rms_deviation_deg": self.baseline_rms_deviation,
            "entries": self.tidy_rows(),
        }


# ---------------------------------------------------------------------------------------
# The stride as functions of time
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _StrideSignals:
    """The stride extended over two periods, as functions of (unwrapped) time.

    ``q`` is interpolated by cubic Hermite polynomials with ``q̇`` as slopes, ``q̇`` by cubic
    Hermite polynomials with ``q̈`` as slopes (``q̈`` between samples is the derivative
    of the latter); excitations, activations, tendon forces and the replayed generalised
    forces linearly.
    """

    time: np.ndarray
    q: np.ndarray
    qd: np.ndarray
    qdd: np.ndarray
    excitations: np.ndarray
    activations: np.ndarray
    tendon_forces: np.ndarray
    extra: np.ndarray  # actuator + residual generalised forces (n, n_q)

    def _locate(self, t: float) -> tuple[int, float, float]:
        k = min(max(int(np.searchsorted(self.time, t, side="right")) - 1, 0), self.time.size - 2)
        h = float(self.time[k + 1] - self.time[k])
        return k, h, (float(t) - float(self.time[k])) / h

    def kinematics(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Prescribed ``(q, q̇, q̈)`` at ``t``."""
        k, h, s = self._locate(t)
        s2, s3 = s * s, s * s * s
        h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
        d00, d01 = (6 * s2 - 6 * s) / h, (-6 * s2 + 6 * s) / h
        d10, d11 = 3 * s2 - 4 * s + 1, 3 * s2 - 2 * s
        q0, q1, v0, v1, a0, a1 = (
            self.q[k],
            self.q[k + 1],
            self.qd[k],
            self.qd[k + 1],
            self.qdd[k],
            self.qdd[k + 1],
        )
        q = h00 * q0 + h10 * h * v0 + h01 * q1 + h11 * h * v1
        qd = h00 * v0 + h10 * h * a0 + h01 * v1 + h11 * h * a1
        qdd = d00 * v0 + d10 * a0 + d01 * v1 + d11 * a1
        return q, qd, qdd

    def linear(self, values: np.ndarray, t: float) -> np.ndarray:
        """Linear interpolation of the rows of ``values`` at ``t``."""
        k, _, s = self._locate(t)
        return (1.0 - s) * values[k] + s * values[k + 1]


def _two_periods(result: WalkingResult, extra: np.ndarray) -> _StrideSignals:
    time = np.asarray(result.time, dtype=np.float64)
    period = float(time[-1] - time[0])
    q = np.asarray(result.q, dtype=np.float64)
    shift = np.zeros(q.shape[1])
    if _FORWARD in result.coordinate_names:
        k = result.coordinate_names.index(_FORWARD)
        shift[k] = q[-1, k] - q[0, k]

    def extend(a: np.ndarray, offset: np.ndarray | float = 0.0) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        return np.concatenate([a, a[1:] + offset], axis=0)

    return _StrideSignals(
        time=np.concatenate([time, time[1:] + period]),
        q=extend(q, shift),
        qd=extend(result.qd),
        qdd=extend(result.qdd),
        excitations=extend(result.excitations),
        activations=extend(result.activations),
        tendon_forces=extend(result.tendon_forces),
        extra=extend(extra),
    )


def _events(result: WalkingResult, spec: AblationSpec) -> tuple[float, float, float]:
    """``(start, toe_off, end)`` times, unwrapped so that start <= toe_off < end."""
    time = np.asarray(result.time, dtype=np.float64)
    weight = float(result.body_mass) * STANDARD_GRAVITY
    other = "l" if spec.side == "r" else "r"
    for s in (spec.side, other):
        if s not in result.grf:
            raise ValueError(f"the result has no ground reaction force of side {s!r}")
    own = contact_events(
        result.grf[spec.side][:, 1] / weight, time, threshold=_CONTACT_THRESHOLD_BW
    )
    if not own.stance or own.stance_fraction >= 1.0:
        raise ValueError(f"side {spec.side!r} has no swing phase in the stride")
    _, toe_off = own.main_stance
    period = own.period
    toe_off = own.start + float(np.mod(toe_off - own.start, period))
    later = [c for c in own.initial_contacts if c > toe_off]
    end = float(later[0]) if later else float(own.initial_contacts[0]) + period
    start = toe_off
    if spec.start == "pre_swing":
        opposite = contact_events(
            result.grf[other][:, 1] / weight, time, threshold=_CONTACT_THRESHOLD_BW
        )
        earlier = [c for c in opposite.initial_contacts if c < toe_off]
        before = [c - period for c in opposite.initial_contacts if c - period < toe_off]
        candidates = earlier or before
        if not candidates:
            raise ValueError("no contralateral initial contact before toe-off")
        start = float(max(candidates))
    if start < float(time[0]):  # keep within the extended signals
        start += period
        toe_off += period
        end += period
    return start, toe_off, end


# ---------------------------------------------------------------------------------------
# Dynamics
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _SwingDynamics:
    """CasADi right-hand side and Jacobian of the partially prescribed dynamics."""

    rhs: ca.Function
    jac: ca.Function
    foot_force: ca.Function  # (q, qd) -> normal contact force on the side's foot (N)
    simulated: np.ndarray  # indices of simulated coordinates
    compliant: np.ndarray  # indices of compliant-tendon muscles


def _swing_dynamics(
    model: Model, functions: ModelFunctions, simulated: np.ndarray, side: str
) -> _SwingDynamics:
    n_q, n_m = functions.n_q, len(model.muscles)
    n_s = simulated.size
    compliant = np.array(
        [i for i, m in enumerate(model.muscles) if m.tendon is TendonModel.COMPLIANT], dtype=int
    )
    n_f = compliant.size
    x = ca.MX.sym("x", 2 * n_s + n_m + n_f)
    q_p, qd_p, qdd_p = (ca.MX.sym(name, n_q) for name in ("q_p", "qd_p", "qdd_p"))
    excitation = ca.MX.sym("e", n_m)
    scale = ca.MX.sym("scale", n_m)
    extra = ca.MX.sym("tau_extra", n_q)
    select = np.zeros((n_q, n_s))
    select[simulated, np.arange(n_s)] = 1.0
    keep = np.diag(np.isin(np.arange(n_q), simulated, invert=True).astype(float))
    q = ca.mtimes(ca.DM(keep), q_p) + ca.mtimes(ca.DM(select), x[:n_s])
    qd = ca.mtimes(ca.DM(keep), qd_p) + ca.mtimes(ca.DM(select), x[n_s : 2 * n_s])
    qdd_prescribed = ca.mtimes(ca.DM(keep), qdd_p)
    activation = x[2 * n_s : 2 * n_s + n_m]
    tendon_state = x[2 * n_s + n_m :]
    tau = extra + functions.limit_torques(q, qd) + functions.contact_forces(q, qd)[2]
    derivatives = [x[n_s : 2 * n_s]]
    if n_m:
        lengths = functions.muscle_tendon_lengths(q)
        velocities = functions.lengthening_velocities(q, qd)
        force = functions.muscle_rigid(lengths, velocities, activation)[0]
        if n_f:
            # Compliant muscles: normalised tendon force state (explicit form). Entries of
            # the other muscles get a placeholder and are not used (selected per element).
            position = {int(i): k for k, i in enumerate(compliant)}
            f_t = ca.vertcat(
                *[tendon_state[position[i]] if i in position else 0.5 for i in range(n_m)]
            )
            tendon_force, tendon_rate = functions.muscle_compliant_explicit(
                lengths, velocities, activation, f_t
            )
            force = ca.vertcat(
                *[tendon_force[i] if i in position else force[i] for i in range(n_m)]
            )
            tendon_rate = ca.vertcat(*[tendon_rate[i] for i in compliant.tolist()])
        tau = tau + ca.mtimes(functions.moment_arms(q).T, scale * force)
    mass = functions.mass_matrix(q)
    bias = functions.bias_forces(q, qd)
    right = tau - bias - ca.mtimes(mass, qdd_prescribed)
    sel = ca.DM(select)
    qdd_s = ca.solve(ca.mtimes([sel.T, mass, sel]), ca.mtimes(sel.T, right), "symbolicqr")
    derivatives.append(qdd_s)
    if n_m:
        derivatives.append(functions.activation_rate(excitation, activation))
        if n_f:
            derivatives.append(tendon_rate)
    xdot = ca.vertcat(*derivatives)
    inputs = [x, q_p, qd_p, qdd_p, excitation, scale, extra]
    names = ["x", "q_p", "qd_p", "qdd_p", "e", "scale", "tau_extra"]
    # Expanded to SX: evaluated by CasADi's scalar virtual machine, several times faster.
    rhs = ca.Function("swing_rhs", inputs, [xdot], names, ["xdot"]).expand()
    jac = ca.Function("swing_jac", inputs, [ca.jacobian(xdot, x)], names, ["dxdot_dx"]).expand()
    q_sym, qd_sym = ca.SX.sym("q", n_q), ca.SX.sym("qd", n_q)
    contact = functions.contact_forces(q_sym, qd_sym)[0]
    normal = ca.SX(0)
    for k, (axes, foot) in enumerate(zip(contact_axes(model), contact_sides(model), strict=True)):
        if foot == side:
            normal += ca.dot(ca.DM(axes[0]), contact[:, k])
    foot_force = ca.Function("foot_force", [q_sym, qd_sym], [normal], ["q", "qd"], ["force"])
    return _SwingDynamics(rhs, jac, foot_force, simulated, compliant)


def _simulated_indices(model: Model, spec: AblationSpec) -> np.ndarray:
    names = model.coordinate_names
    if spec.coordinates == "all":
        return np.arange(len(names))
    chosen = [i for i, c in enumerate(names) if c.endswith(f"_{spec.side}")]
    if spec.knee_coordinate not in names:
        raise ModelError(model.name, f"no knee coordinate {spec.knee_coordinate!r}")
    if names.index(spec.knee_coordinate) not in chosen:
        raise ModelError(
            model.name, f"{spec.knee_coordinate!r} is not a coordinate of side {spec.side!r}"
        )
    return np.array(chosen, dtype=int)


# ---------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SwingSetup:
    """Everything a swing simulation of one stride needs, built once by
    :func:`prepare_swing` and reused by every :func:`simulate_swing` of an analysis.

    Attributes
    ----------
    model, spec
        The model and the settings.
    start_time, toe_off_time, end_time
        Simulation start, toe-off of the side and end (s, stride time, unwrapped).
    simulated
        Names of the simulated coordinates (the others are prescribed).
    """

    model: Model
    spec: AblationSpec
    start_time: float
    toe_off_time: float
    end_time: float
    simulated: tuple[str, ...]
    signals: _StrideSignals = field(repr=False)
    dynamics: _SwingDynamics = field(repr=False)

    def stride_coordinates(self, time: np.ndarray) -> np.ndarray:
        """The stride's own coordinates at ``time`` (unwrapped), ``(n, n_q)``."""
        return np.stack([self.signals.kinematics(float(t))[0] for t in np.atleast_1d(time)])


def prepare_swing(
    model: Model,
    functions: ModelFunctions,
    result: WalkingResult,
    spec: AblationSpec | None = None,
) -> SwingSetup:
    """Find the events, interpolate the stride and build the swing dynamics (once).

    Raises
    ------
    ModelError
        If the result's coordinates or muscles are not the model's, or the knee
        coordinate is missing or not on ``spec.side``.
    ValueError
        If the side has no swing (or no stance) in the stride.
    """
    spec = spec or AblationSpec()
    if tuple(result.coordinate_names) != tuple(model.coordinate_names) or tuple(
        result.muscle_names
    ) != tuple(model.muscle_names):
        raise ModelError(model.name, "the result's coordinates or muscles are not the model's")
    simulated = _simulated_indices(model, spec)
    start, toe_off, end = _events(result, spec)
    forces = stride_forces(model, functions, result)
    extra_kinds = [k for k, kind in enumerate(forces.kinds) if kind in ("actuator", "residual")]
    extra = forces.forces[:, extra_kinds].sum(axis=1)
    return SwingSetup(
        model=model,
        spec=spec,
        start_time=start,
        toe_off_time=toe_off,
        end_time=end,
        simulated=tuple(model.coordinate_names[i] for i in simulated),
        signals=_two_periods(result, extra),
        dynamics=_swing_dynamics(model, functions, simulated, spec.side),
    )


def simulate_swing(
    setup: SwingSetup, *, removed: Sequence[str] = (), knee_velocity_scale: float = 1.0
) -> SwingSimulation:
    """Simulate the swing forward from the stride (see the module docstring).

    Parameters
    ----------
    setup
        From :func:`prepare_swing`.
    removed
        Muscles whose force is removed (over ``spec.window``).
    knee_velocity_scale
        Factor on the knee velocity at the start.

    Raises
    ------
    ModelError
        If a removed muscle is not in the model.
    RuntimeError
        If the integrator fails.
    """
    model, sig, dyn, spec = setup.model, setup.signals, setup.dynamics, setup.spec
    names = model.muscle_names
    unknown = sorted(set(removed) - set(names))
    if unknown:
        raise ModelError(model.name, f"no muscles {unknown} to remove")
    n_m = len(names)
    s = dyn.simulated
    n_s = s.size
    knee = model.coordinate_names.index(spec.knee_coordinate)
    removed_mask = np.isin(np.array(names, dtype=object), np.array(list(removed), dtype=object))

    def inputs(t: float, window_on: bool) -> list[np.ndarray]:
        scale = np.ones(n_m)
        if window_on:
            scale[removed_mask] = 0.0
        q, qd, qdd = sig.kinematics(t)
        excitation = np.minimum(np.maximum(sig.linear(sig.excitations, t), 0.0), 1.0)
        return [q, qd, qdd, excitation, scale, sig.linear(sig.extra, t)]

    t0, t_end = setup.start_time, setup.end_time
    x0 = np.concatenate(
        [
            sig.kinematics(t0)[0][s],
            sig.kinematics(t0)[1][s],
            sig.linear(sig.activations, t0),
            sig.linear(sig.tendon_forces, t0)[dyn.compliant]
            / np.array([model.muscles[i].max_isometric_force for i in dyn.compliant]),
        ]
    )
    k_local = int(np.flatnonzero(s == knee)[0])
    x0[n_s + k_local] *= knee_velocity_scale
    if spec.window is None:
        window = (-math.inf, math.inf)
        cuts = [t0, t_end]
    else:
        window = (setup.toe_off_time + spec.window[0], setup.toe_off_time + spec.window[1])
        inside = [min(max(w, t0), t_end) for w in window]
        cuts = sorted({t0, *inside, t_end})
    segments = []
    steps = 0
    x = x0
    for begin, finish in zip(cuts[:-1], cuts[1:], strict=True):
        if finish <= begin:
            continue
        on = bool(removed) and window[0] <= 0.5 * (begin + finish) <= window[1]

        def f(t: float, y: np.ndarray, on: bool = on) -> np.ndarray:
            return np.asarray(dyn.rhs(y, *inputs(t, on))).ravel()

        def jac(t: float, y: np.ndarray, on: bool = on) -> np.ndarray:
            return np.asarray(dyn.jac(y, *inputs(t, on)))

        solution = scipy.integrate.solve_ivp(
            f,
            (begin, finish),
            x,
            method="BDF",
            jac=jac,
            rtol=spec.rtol,
            atol=spec.atol,
            dense_output=True,
        )
        if not solution.success:
            raise RuntimeError(
                f"swing simulation failed at t = {solution.t[-1]:.4f} s: {solution.message}"
            )
        segments.append((finish, solution.sol))
        steps += int(solution.t.size - 1)
        x = solution.y[:, -1]

    def state(t: float) -> np.ndarray:
        for finish, sol in segments[:-1]:
            if t <= finish:
                return np.asarray(sol(t))
        return np.asarray(segments[-1][1](t))

    grid = np.unique(np.concatenate([np.arange(t0, t_end, 1e-3), [t_end]]))
    states = np.stack([state(t) for t in grid])
    knee_values = states[:, k_local]
    k = int(np.argmin(knee_values))
    low, high = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    if high > low:
        found = scipy.optimize.minimize_scalar(
            lambda t: float(state(t)[k_local]),
            bounds=(low, high),
            method="bounded",
            options={"xatol": 1e-7},
        )
        peak_time, peak_value = float(found.x), float(found.fun)
        if knee_values[k] < peak_value:
            peak_time, peak_value = float(grid[k]), float(knee_values[k])
    else:
        peak_time, peak_value = float(grid[k]), float(knee_values[k])
    prescribed = [sig.kinematics(t) for t in grid]
    q_all = np.stack([p[0] for p in prescribed])
    qd_all = np.stack([p[1] for p in prescribed])
    q_all[:, s] = states[:, :n_s]
    qd_all[:, s] = states[:, n_s : 2 * n_s]
    ranges = {c.name: c.range for j in model.joints for c in j.coordinates}
    out_of_range = tuple(
        model.coordinate_names[i]
        for i in s
        if np.any(q_all[:, i] < ranges[model.coordinate_names[i]][0])
        or np.any(q_all[:, i] > ranges[model.coordinate_names[i]][1])
    )
    swing = grid >= setup.toe_off_time
    foot = np.asarray(dyn.foot_force.map(int(swing.sum()))(q_all[swing].T, qd_all[swing].T))
    return SwingSimulation(
        time=grid,
        coordinate_names=tuple(model.coordinate_names),
        q=q_all,
        qd=qd_all,
        muscle_names=tuple(names),
        activations=states[:, 2 * n_s : 2 * n_s + n_m],
        simulated=tuple(model.coordinate_names[i] for i in s),
        removed=tuple(removed),
        knee_velocity_scale=float(knee_velocity_scale),
        knee=model.coordinate_names[knee],
        peak_knee_flexion=float(-np.rad2deg(peak_value)),
        peak_time=peak_time,
        start_time=t0,
        toe_off_time=setup.toe_off_time,
        end_time=t_end,
        solver_steps=steps,
        out_of_range=out_of_range,
        swing_foot_force=float(np.max(foot, initial=0.0)),
    )


def group_members(
    model: Model, side: str, groups: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """The muscles of ``side`` in each group (groups without members are left out)."""
    present = set(model.muscle_names)
    out: dict[str, tuple[str, ...]] = {}
    for group, bases in groups.items():
        members = tuple(f"{b}_{side}" for b in bases if f"{b}_{side}" in present)
        if members:
            out[group] = members
    return out


def ablation_analysis(
    model: Model,
    functions: ModelFunctions,
    result: WalkingResult,
    spec: AblationSpec | None = None,
    *,
    muscles: Sequence[str] | None = None,
) -> AblationResult:
    """Baseline check, every muscle and group of the side removed, knee velocity ±X %.

    Parameters
    ----------
    model, functions, result
        The model, its functions and the stride.
    spec
        Settings.
    muscles
        Muscles to remove one at a time (default: every muscle of ``spec.side``).

    Returns
    -------
    AblationResult
    """
    spec = spec or AblationSpec()
    prepared = prepare_swing(model, functions, result, spec)
    baseline = simulate_swing(prepared)
    knee = model.coordinate_names.index(spec.knee_coordinate)
    stride_knee = prepared.stride_coordinates(baseline.time)[:, knee]
    difference = np.rad2deg(baseline.q[:, knee] - stride_knee)
    stride_peak = float(-np.rad2deg(np.min(stride_knee)))
    chosen = (
        list(muscles)
        if muscles is not None
        else [m for m in model.muscle_names if m.endswith(f"_{spec.side}")]
    )
    entries: list[AblationEntry] = []

    done: dict[tuple[frozenset[str], float], SwingSimulation] = {(frozenset(), 1.0): baseline}

    def entry(name: str, kind: str, removed: tuple[str, ...], scale: float) -> AblationEntry:
        key = (frozenset(removed), scale)
        if key not in done:  # a group of one muscle is that muscle: simulated once
            done[key] = simulate_swing(prepared, removed=removed, knee_velocity_scale=scale)
        sim = done[key]
        return AblationEntry(
            name=name,
            kind=kind,
            removed=removed,
            peak_knee_flexion=sim.peak_knee_flexion,
            change=sim.peak_knee_flexion - baseline.peak_knee_flexion,
            peak_time=sim.peak_time,
            out_of_range=sim.out_of_range,
            swing_foot_force=sim.swing_foot_force,
        )

    for m in chosen:
        entries.append(entry(m, "muscle", (m,), 1.0))
    for group, members in group_members(model, spec.side, spec.groups).items():
        entries.append(entry(group, "group", members, 1.0))
    if spec.velocity_change > 0:
        percent = round(100 * spec.velocity_change)
        for sign in (1, -1):
            name = f"knee_velocity_{'+' if sign > 0 else '-'}{percent}%"
            entries.append(entry(name, "knee_velocity", (), 1.0 + sign * spec.velocity_change))
    return AblationResult(
        spec=spec,
        baseline=baseline,
        stride_peak_knee_flexion=stride_peak,
        baseline_max_deviation=float(np.max(np.abs(difference))),
        baseline_rms_deviation=float(np.sqrt(np.mean(difference**2))),
        entries=tuple(entries),
    )
