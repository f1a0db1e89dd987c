"""Joint mechanics of a simulated stride: angles, moments, powers, work and Winter's bursts.

:func:`joint_mechanics` takes a :class:`~gaitsim.simulate.result.WalkingResult` and the
gait phases of each side (:class:`~gaitsim.analysis.phases.Phase`, from the phase
detection) and returns a :class:`JointMechanics`: for every rotational coordinate its
angle, angular velocity, net moment and power over time, the positive and negative work in
each phase and over the stride, and Winter's labelled power bursts.

Conventions
-----------
* **Inside: model signs** (OpenSim's: ``knee_angle`` negative in flexion; ground +x
  forward, +y up, +z right), SI units, radians. The net moment is
  :attr:`WalkingResult.joint_moments`: the generalised force about the coordinate that
  muscles, passive structures and actuators supply (inverse dynamics with the contact
  forces applied), i.e. an **internal** moment, positive in the direction of increasing
  coordinate.
* **Joint power** ``P = M * qdot`` (W): positive when the moment and the angular velocity
  have the same sign (the muscles generate energy, concentric), negative when the joint
  absorbs energy (eccentric). Per kilogram: divided by :attr:`WalkingResult.body_mass`.
  Power is the same in model and clinical signs (both factors change sign together).
* **At the edges: clinical signs** (:data:`CLINICAL_SIGNS`): angles in degrees with hip
  flexion, knee flexion, ankle dorsiflexion, hip adduction and internal rotation positive.
  Clinical moments are internal moments **positive in the direction of the positive
  clinical angle**: hip *flexor*, knee *flexor*, ankle *dorsiflexor* moments positive
  (extensor and plantarflexor moments negative), as in :mod:`gaitsim.report.figures`.
  :attr:`JointCurves.positive_moment` says which for each joint.
* **Work** over an interval is the integral of the piecewise-linear interpolant of the
  power samples (the trapezoid rule), split exactly at its zero crossings into positive
  (generated) and negative (absorbed) work, so that positive + negative work over the
  stride equals the trapezoid of the power samples.
* **Periodic stride**: as in :mod:`gaitsim.analysis.gait_metrics`, the last sample of a
  result is the first instant of the next stride; phases and bursts may wrap around the
  end of the samples.

Winter's power bursts
---------------------
Winter (1983; 1991, ch. 5) named the bursts of sagittal joint power in normal walking;
Eng & Winter (1995) those of the hip. :data:`WINTER_BURSTS` defines each one by its
joint, its expected sign and a **window** of consecutive gait phases (Perry & Burnfield
2010) of the same side:

====  ======  ===========================================  =============================
name  sign    window (phases)                              what it is
====  ======  ===========================================  =============================
H1    \\+      initial contact .. mid-stance                hip extensors, early stance
H2    \\-      mid-stance .. terminal stance                hip flexors absorb as the hip
                                                           extends
H3    \\+      pre-swing .. initial swing                   hip flexors pull the thigh
                                                           forward ("pull-off")
K1    \\-      initial contact .. loading response          knee extensors absorb as the
                                                           knee flexes under load
K2    \\+      mid-stance .. terminal stance                knee extensors re-extend the
                                                           knee
K3    \\-      pre-swing .. initial swing                   knee extensors (rectus
                                                           femoris) limit knee flexion
K4    \\-      mid-swing .. terminal swing                  knee flexors decelerate the
                                                           swinging shank
A1    \\-      loading response .. terminal stance          plantarflexors absorb as the
                                                           tibia rotates over the foot
A2    \\+      terminal stance .. pre-swing                 plantarflexor push-off
====  ======  ===========================================  =============================

The power of a joint is cut at its zero crossings, and at the side's initial contact
(the start of its ``initial_contact`` phase, 0 % of its cycle, as on Winter's plots from
heel contact to heel contact), into **sign intervals** (:func:`sign_intervals`). A burst
is the sign interval of the expected sign whose *peak* lies in the window; when several
do, the one with the most work. Labelling by the peak means each interval gets at most
one label per sign: windows of the same sign do not overlap (checked by
:func:`check_burst_definitions`). An interval whose peak power is below ``min_peak``
(default 0.05 W/kg) does not count as a burst. If no interval of the expected sign
qualifies, the burst is **absent**; if an interval of the *opposite* sign peaks in the
window it is reported as **reversed** with that interval's figures (so a reversed K1,
e.g. in backward walking, shows as ``status="reversed", sign=+1``, never as a K1).

Each burst reports its start and end (zero crossings of the whole interval, which may
extend beyond its window; 0-100 % of the side's cycle), peak power (W/kg) and work
(J/kg), and, so that the mechanism can be judged rather than assumed, the mean internal
moment over the burst (``moment``: e.g. ``"extensor"``) and the direction of the joint's
motion (``motion``: e.g. ``"flexion"``); ``cut_at_contact`` says that the interval is
bounded by the initial contact rather than by a zero crossing (the power does not change
sign there: the burst continues one from the end of the previous cycle). Winter's K1,
for instance, is an *extensor* moment during knee *flexion*; a K1 reported with a flexor
moment during extension and ``cut_at_contact`` is the tail of a terminal-swing
deceleration (as in gaitsim's shipped forward stride, see ``docs/muscle_function.md``).

References
----------
* Winter DA (1983). Energy generation and absorption at the ankle and knee during fast,
  natural, and slow cadences. *Clin Orthop Relat Res* 175:147-154.
* Winter DA (1991). *The Biomechanics and Motor Control of Human Gait: Normal, Elderly
  and Pathological*, 2nd ed. University of Waterloo Press.
* Eng JJ, Winter DA (1995). Kinetic analysis of the lower limbs during walking: what
  information can be gained from a three-dimensional model? *J Biomech* 28(6):753-758.
* Perry J, Burnfield JM (2010). *Gait Analysis: Normal and Pathological Function*, 2nd ed.
* Kirtley C. Clinical gait analysis teach-in, "Loading response"
  (clinicalgaitanalysis.com/teach-in/loading): K1 is the eccentric quadriceps burst of the
  loading response.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from gaitsim.analysis.gait_metrics import is_translational
from gaitsim.analysis.phases import PERRY_PHASES, Phase
from gaitsim.errors import GaitsimError

if TYPE_CHECKING:
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "CLINICAL_SIGNS",
    "DEFAULT_MIN_BURST_PEAK",
    "WINTER_BURSTS",
    "AnalysisInputError",
    "BurstDefinition",
    "ClinicalSign",
    "JointBursts",
    "JointCurves",
    "JointMechanics",
    "JointWork",
    "PowerBurst",
    "SignInterval",
    "TableRow",
    "check_burst_definitions",
    "clinical_sign",
    "coordinate_side",
    "interval_work",
    "joint_mechanics",
    "phase_label",
    "side_phases",
    "sign_intervals",
]

#: Smallest peak power (W/kg) of an interval that counts as a burst.
DEFAULT_MIN_BURST_PEAK = 0.05


class AnalysisInputError(GaitsimError, ValueError):
    """The input of an analysis is unusable (missing phases, shapes, non-finite values).

    Parameters
    ----------
    element
        What is at fault (a phase, a side, a muscle, a result field).
    problem
        What is wrong with it, in plain words.
    """

    def __init__(self, element: str, problem: str) -> None:
        self.element = element
        self.problem = problem
        super().__init__(f"{element}: {problem}")


# ---------------------------------------------------------------------------------------
# Tidy tables
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableRow:
    """One row of a tidy table of analysis results.

    Attributes
    ----------
    item
        The muscle or joint (coordinate) the value belongs to.
    phase
        The phase (``"<phase>_<side>"``, e.g. ``"loading_response_r"``), ``"stride"``
        for the whole stride, or a burst label (``"K1"``).
    quantity
        What the value is (e.g. ``"positive_work"``).
    value
        A number, or a word for categorical results (``"absent"``, ``"concentric"``).
    unit
        SI unit of the value (``""`` if none).
    """

    item: str
    phase: str
    quantity: str
    value: float | str
    unit: str

    def to_record(self) -> dict[str, Any]:
        """The row as a JSON-ready dict (non-finite numbers become ``None``)."""
        value: float | str | None = self.value
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        return {
            "item": self.item,
            "phase": self.phase,
            "quantity": self.quantity,
            "value": value,
            "unit": self.unit,
        }


def phase_label(phase: Phase) -> str:
    """``"<name>_<side>"``: how a phase is named in tables (e.g. ``"pre_swing_l"``)."""
    return f"{phase.name}_{phase.side}"


# ---------------------------------------------------------------------------------------
# Signs
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClinicalSign:
    """How a coordinate is shown clinically.

    Attributes
    ----------
    factor
        Clinical value = ``factor *`` model value (angles, velocities and moments).
    positive_angle
        What a positive clinical angle means (``"flexion"``).
    positive_moment
        What a positive clinical (internal) moment is (``"flexor"``).
    negative_angle, negative_moment
        The same for negative values (``"extension"``, ``"extensor"``).
    """

    factor: float
    positive_angle: str
    positive_moment: str
    negative_angle: str
    negative_moment: str


#: Clinical signs of the coordinates of OpenSim's gait models (gait2392, gait10dof18musc
#: and gaitsim's built-ins), by coordinate name without the side suffix.
CLINICAL_SIGNS: dict[str, ClinicalSign] = {
    "hip_flexion": ClinicalSign(1.0, "flexion", "flexor", "extension", "extensor"),
    "hip_adduction": ClinicalSign(1.0, "adduction", "adductor", "abduction", "abductor"),
    "hip_rotation": ClinicalSign(
        1.0, "internal rotation", "internal rotator", "external rotation", "external rotator"
    ),
    "knee_angle": ClinicalSign(-1.0, "flexion", "flexor", "extension", "extensor"),
    "ankle_angle": ClinicalSign(
        1.0, "dorsiflexion", "dorsiflexor", "plantarflexion", "plantarflexor"
    ),
    "subtalar_angle": ClinicalSign(1.0, "inversion", "invertor", "eversion", "evertor"),
    "mtp_angle": ClinicalSign(1.0, "toe extension", "toe extensor", "toe flexion", "toe flexor"),
}


def coordinate_side(name: str) -> str | None:
    """``"r"`` or ``"l"`` for names ending in ``_r``/``_l``, else ``None``."""
    if name.endswith("_r"):
        return "r"
    if name.endswith("_l"):
        return "l"
    return None


def _base_name(name: str) -> str:
    return name[:-2] if coordinate_side(name) else name


def clinical_sign(coordinate: str) -> ClinicalSign:
    """The clinical sign of a coordinate; model signs for coordinates not in the table
    (e.g. ``pelvis_tilt``, ``lumbar``), described as such."""
    known = CLINICAL_SIGNS.get(_base_name(coordinate))
    if known is not None:
        return known
    return ClinicalSign(
        1.0,
        f"positive {coordinate} (model sign)",
        "positive (model sign)",
        f"negative {coordinate} (model sign)",
        "negative (model sign)",
    )


# ---------------------------------------------------------------------------------------
# Work of a periodic piecewise-linear signal
# ---------------------------------------------------------------------------------------


def _series(time: ArrayLike, values: ArrayLike, what: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.size < 2:
        raise AnalysisInputError("time", f"must be 1-D with at least 2 samples, got {t.shape}")
    if v.shape != t.shape:
        raise AnalysisInputError(what, f"must have shape {t.shape} (one per time), got {v.shape}")
    if not (np.all(np.isfinite(t)) and np.all(np.diff(t) > 0)):
        raise AnalysisInputError("time", "must be finite and strictly increasing")
    if not np.all(np.isfinite(v)):
        raise AnalysisInputError(what, "must be finite")
    return t, v


def _closed(t: np.ndarray, v: np.ndarray, period: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Samples covering exactly one period ``[t0, t0 + period]``.

    With ``period=None`` the last sample is the first instant of the next stride and the
    samples are used as they are. A longer period closes the cycle with the first value.
    """
    span = float(t[-1] - t[0])
    if period is None:
        return t, v
    period = float(period)
    tolerance = 1e-9 * max(span, 1.0)
    if not (math.isfinite(period) and period >= span - tolerance):
        raise AnalysisInputError("period", f"{period!r} is shorter than the samples' span {span}")
    if period <= span + tolerance:
        return t, v
    return np.append(t, t[0] + period), np.append(v, v[0])


def _refined(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The piecewise-linear interpolant's nodes with its zero crossings inserted."""
    crossing = v[:-1] * v[1:] < 0.0
    if not np.any(crossing):
        return t, v
    k = np.flatnonzero(crossing)
    tc = t[k] + v[k] / (v[k] - v[k + 1]) * (t[k + 1] - t[k])
    # Insert each crossing right after its segment's first node (not by sorting times:
    # two nodes may share a time where the end of the samples meets their start).
    return np.insert(t, k + 1, tc), np.insert(v, k + 1, 0.0)


def _parts(t: np.ndarray, v: np.ndarray, a: float, b: float) -> tuple[float, float]:
    """Positive and negative integrals of the linear interpolant over ``[a, b]``
    (``t[0] <= a <= b <= t[-1]``, ``t`` already refined at the zero crossings)."""
    if b <= a:
        return 0.0, 0.0
    inside = (t > a) & (t < b)
    tt = np.concatenate([[a], t[inside], [b]])
    vv = np.concatenate([[np.interp(a, t, v)], v[inside], [np.interp(b, t, v)]])
    areas = 0.5 * (vv[:-1] + vv[1:]) * np.diff(tt)
    # After refinement every segment keeps one sign, so its area has that sign.
    return float(areas[areas > 0].sum()), float(areas[areas < 0].sum())


def interval_work(
    time: ArrayLike,
    values: ArrayLike,
    start: float,
    end: float,
    *,
    period: float | None = None,
) -> tuple[float, float]:
    """Positive and negative integral of a periodic signal over ``[start, end]``.

    The signal is the linear interpolant of the samples (so the integral over the whole
    period is the trapezoid rule of the samples), split exactly at its zero crossings.

    Parameters
    ----------
    time
        Sample times, strictly increasing.
    values
        Samples (e.g. power in W), shape of ``time``.
    start, end
        Interval (``start <= end``, at most one period long); taken modulo the period, so
        an interval may wrap around the end of the samples.
    period
        Stride duration; ``None``: ``time[-1] - time[0]`` (the last sample is the first
        instant of the next stride).

    Returns
    -------
    positive, negative
        ``integral max(v, 0)`` and ``integral min(v, 0)`` (e.g. J for power in W).

    Raises
    ------
    AnalysisInputError
        If the samples are invalid or the interval is reversed or longer than a period.
    """
    t, v = _series(time, values, "values")
    t, v = _closed(t, v, period)
    length = float(t[-1] - t[0])
    start, end = float(start), float(end)
    if not (math.isfinite(start) and math.isfinite(end) and start <= end):
        raise AnalysisInputError("interval", f"need finite start <= end, got {start}, {end}")
    if end - start > length * (1.0 + 1e-12):
        raise AnalysisInputError("interval", f"longer than the period {length}")
    t, v = _refined(t, v)
    a = float(t[0] + np.mod(start - t[0], length))
    b = a + (end - start)
    if b <= t[-1]:
        return _parts(t, v, a, min(b, float(t[-1])))
    p1, n1 = _parts(t, v, a, float(t[-1]))
    p2, n2 = _parts(t, v, float(t[0]), float(t[0]) + (b - float(t[-1])))
    return p1 + p2, n1 + n2


@dataclass(frozen=True)
class SignInterval:
    """A maximal interval where a periodic signal keeps one sign.

    Attributes
    ----------
    start, end
        Zero crossings bounding it (s); ``end`` is unwrapped: it exceeds the last sample
        time when the interval wraps around the end of the stride.
    sign
        ``+1`` or ``-1``.
    work
        Integral of the signal over the interval (e.g. J/kg for power in W/kg).
    peak, peak_time
        Value of largest magnitude (signed) and its time, within the samples' range.
    """

    start: float
    end: float
    sign: int
    work: float
    peak: float
    peak_time: float


def _rotated(t: np.ndarray, v: np.ndarray, origin: float) -> tuple[np.ndarray, np.ndarray]:
    """The closed samples of one period re-started at ``origin`` (``[a, a + period]``).

    The last sample and the first one (one period later) are kept as two nodes at the
    same time, so every segment, and so every integral, is that of the original samples.
    """
    t0, length = float(t[0]), float(t[-1] - t[0])
    a = t0 + float(np.mod(origin - t0, length))
    if a <= t0 or a >= t[-1]:
        return t, v
    va = float(np.interp(a, t, v))
    after, before = t > a, t < a
    return (
        np.concatenate([[a], t[after], t[before] + length, [a + length]]),
        np.concatenate([[va], v[after], v[before], [va]]),
    )


def sign_intervals(
    time: ArrayLike,
    values: ArrayLike,
    *,
    period: float | None = None,
    origin: float | None = None,
) -> tuple[SignInterval, ...]:
    """Cut a periodic signal at its zero crossings into intervals of one sign.

    The signal is the linear interpolant of the samples; crossings are interpolated.
    Without ``origin``, an interval that runs across the end of the samples into their
    beginning is one interval (its ``end`` is unwrapped). With ``origin`` (e.g. an initial
    contact), intervals are also cut there, as on a plot of the cycle from that event, and
    none runs across it. Stretches where the signal is exactly zero belong to no
    interval. The works of all intervals sum to the trapezoid rule of the samples over
    the period.

    Parameters
    ----------
    time, values, period
        As in :func:`interval_work`.
    origin
        Time (any, taken modulo the period) where the cycle is cut.

    Returns
    -------
    tuple of SignInterval
        In order of their start (from ``origin`` if given); empty if the signal is zero
        everywhere. ``start`` and ``peak_time`` lie within one period from the first
        sample; ``end = start + duration``.
    """
    t, v = _series(time, values, "values")
    t, v = _closed(t, v, period)
    t0 = float(t[0])
    length = float(t[-1] - t[0])
    if origin is not None:
        if not math.isfinite(origin):
            raise AnalysisInputError("origin", f"must be finite, got {origin!r}")
        t, v = _rotated(t, v, float(origin))
    t, v = _refined(t, v)
    signs = np.sign(v[:-1] + v[1:]).astype(int)
    widths = np.diff(t)
    areas = 0.5 * (v[:-1] + v[1:]) * widths
    # Runs of segments of one non-zero sign. Zero-length segments (two nodes at the same
    # time, where the end of the samples meets their start) carry no area and neither
    # start nor break a run; a stretch of exact zeros breaks it.
    groups: list[list[int]] = []
    running = 0
    for k in np.flatnonzero(widths > 0).tolist():
        sign = int(signs[k])
        if sign == 0:
            running = 0
        elif sign == running:
            groups[-1].append(k)
        else:
            groups.append([k])
            running = sign
    used = np.flatnonzero(widths > 0)
    wrap = (
        origin is None
        and len(groups) > 1
        and groups[0][0] == used[0]
        and groups[-1][-1] == used[-1]
        and signs[groups[0][0]] == signs[groups[-1][-1]]
    )
    if wrap:
        groups[0] = groups.pop() + groups[0]
    out: list[SignInterval] = []
    for group in groups:
        nodes = sorted(set(group) | {k + 1 for k in group})
        peak_node = max(nodes, key=lambda k: abs(v[k]))
        first, final = group[0], group[-1]
        begin, finish = float(t[first]), float(t[final + 1])
        if finish <= begin:  # wraps around the end of the samples
            finish += length
        start = t0 + float(np.mod(begin - t0, length))
        out.append(
            SignInterval(
                start=start,
                end=start + (finish - begin),
                sign=int(signs[first]),
                work=float(areas[group].sum()),
                peak=float(v[peak_node]),
                peak_time=t0 + float(np.mod(float(t[peak_node]) - t0, length)),
            )
        )
    if origin is None:
        out.sort(key=lambda i: i.start)
    return tuple(out)


# ---------------------------------------------------------------------------------------
# Phases
# ---------------------------------------------------------------------------------------


def side_phases(phases: Sequence[Phase], side: str) -> dict[str, Phase]:
    """The phases of one side by name.

    Raises
    ------
    AnalysisInputError
        If a phase of that side is given twice.
    """
    out: dict[str, Phase] = {}
    for phase in phases:
        if not isinstance(phase, Phase):
            raise AnalysisInputError("phases", f"expected Phase objects, got {type(phase)}")
        if phase.side != side:
            continue
        if phase.name in out:
            raise AnalysisInputError(
                f"phase {phase.name} ({side})", "given twice; give one phase of each name"
            )
        out[phase.name] = phase
    return out


def _initial_contact(own: dict[str, Phase], side: str) -> float:
    for name in ("initial_contact", "loading_response"):
        if name in own:
            return own[name].start
    raise AnalysisInputError(
        f"phases of side {side!r}", "no initial_contact (or loading_response) phase"
    )


# ---------------------------------------------------------------------------------------
# Bursts
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BurstDefinition:
    """One of Winter's power bursts.

    Attributes
    ----------
    label
        ``"H1"``... ``"A2"``.
    joint
        Coordinate name without side suffix (``"knee_angle"``).
    sign
        ``+1`` generation, ``-1`` absorption.
    phases
        Consecutive phases (:data:`~gaitsim.analysis.phases.PERRY_PHASES` order) forming
        the window, from the start of the first to the end of the last.
    description
        What the burst is.
    """

    label: str
    joint: str
    sign: int
    phases: tuple[str, ...]
    description: str


#: Winter's bursts (Winter 1983, 1991; Eng & Winter 1995 for the hip); see module notes.
WINTER_BURSTS: tuple[BurstDefinition, ...] = (
    BurstDefinition(
        "H1",
        "hip_flexion",
        +1,
        ("initial_contact", "loading_response", "mid_stance"),
        "hip extensors generate energy in early stance",
    ),
    BurstDefinition(
        "H2",
        "hip_flexion",
        -1,
        ("mid_stance", "terminal_stance"),
        "hip flexors absorb energy as the hip extends",
    ),
    BurstDefinition(
        "H3",
        "hip_flexion",
        +1,
        ("pre_swing", "initial_swing"),
        "hip flexors pull the thigh forward around toe-off",
    ),
    BurstDefinition(
        "K1",
        "knee_angle",
        -1,
        ("initial_contact", "loading_response"),
        "knee extensors absorb energy as the knee flexes under load",
    ),
    BurstDefinition(
        "K2",
        "knee_angle",
        +1,
        ("mid_stance", "terminal_stance"),
        "knee extensors generate energy re-extending the knee",
    ),
    BurstDefinition(
        "K3",
        "knee_angle",
        -1,
        ("pre_swing", "initial_swing"),
        "knee extensors (rectus femoris) absorb energy limiting knee flexion",
    ),
    BurstDefinition(
        "K4",
        "knee_angle",
        -1,
        ("mid_swing", "terminal_swing"),
        "knee flexors absorb energy decelerating the swinging shank",
    ),
    BurstDefinition(
        "A1",
        "ankle_angle",
        -1,
        ("loading_response", "mid_stance", "terminal_stance"),
        "plantarflexors absorb energy as the tibia rotates over the foot",
    ),
    BurstDefinition(
        "A2",
        "ankle_angle",
        +1,
        ("terminal_stance", "pre_swing"),
        "plantarflexors generate the push-off",
    ),
)


def check_burst_definitions(definitions: Iterable[BurstDefinition]) -> None:
    """Check that burst windows are consecutive phases and that windows of one joint and
    sign do not share a phase (so that no interval can get two labels).

    Raises
    ------
    AnalysisInputError
        Naming the offending burst.
    """
    seen: dict[tuple[str, int], dict[str, str]] = {}
    labels: set[str] = set()
    for d in definitions:
        if d.label in labels:
            raise AnalysisInputError(f"burst {d.label}", "label used twice")
        labels.add(d.label)
        if d.sign not in (1, -1):
            raise AnalysisInputError(f"burst {d.label}", f"sign must be +1 or -1, got {d.sign}")
        if not d.phases or any(p not in PERRY_PHASES for p in d.phases):
            raise AnalysisInputError(f"burst {d.label}", f"unknown phases in {d.phases}")
        index = [PERRY_PHASES.index(p) for p in d.phases]
        if index != list(range(index[0], index[0] + len(index))):
            raise AnalysisInputError(f"burst {d.label}", f"phases {d.phases} are not consecutive")
        used = seen.setdefault((d.joint, d.sign), {})
        for p in d.phases:
            if p in used:
                raise AnalysisInputError(
                    f"burst {d.label}", f"window shares phase {p} with {used[p]} of the same sign"
                )
            used[p] = d.label


@dataclass(frozen=True)
class PowerBurst:
    """One labelled power burst of one joint and side, as found in the stride.

    Percentages are of the side's cycle from its initial contact. Work in J/kg, power in
    W/kg.

    Attributes
    ----------
    definition
        The burst looked for.
    coordinate, side
        The joint (``"knee_angle_r"``) and its side.
    status
        ``"present"`` (an interval of the expected sign peaks in the window),
        ``"reversed"`` (none; an interval of the opposite sign does, and the figures
        below are that interval's) or ``"absent"`` (neither; figures NaN).
    sign
        Sign of the interval reported: the expected sign if present, the opposite if
        reversed, 0 if absent.
    window_start_percent, window_end_percent
        The window.
    start_percent, end_percent, peak_percent
        The interval's zero crossings and peak; ``end_percent`` may exceed 100.
    start_time, end_time
        The same as times (s; ``end_time`` unwrapped).
    peak_power
        Signed peak power (W/kg).
    work
        Signed work of the interval (J/kg).
    mean_moment
        Mean clinical moment over the interval (N m/kg; positive =
        ``ClinicalSign.positive_moment``).
    moment
        Which internal moment that is (``"extensor"``, ``"flexor"``...; ``""`` if absent).
    angle_change
        Clinical angle at the end minus at the start (deg).
    motion
        The direction of that change (``"flexion"``, ``"extension"``...; ``""`` if absent).
    cut_at_contact
        Whether the interval is bounded by the side's initial contact rather than by a
        zero crossing of the power: it is the part after (or before) the contact of an
        interval that runs across it, e.g. the end of the terminal-swing absorption.
    window_positive_work, window_negative_work
        Positive and negative work within the window (J/kg), whatever the labels.
    """

    definition: BurstDefinition
    coordinate: str
    side: str
    status: str
    sign: int
    window_start_percent: float
    window_end_percent: float
    start_percent: float
    end_percent: float
    peak_percent: float
    start_time: float
    end_time: float
    peak_power: float
    work: float
    mean_moment: float
    moment: str
    angle_change: float
    motion: str
    cut_at_contact: bool
    window_positive_work: float
    window_negative_work: float

    @property
    def label(self) -> str:
        """The burst's name (``"K1"``)."""
        return self.definition.label

    @property
    def present(self) -> bool:
        """Whether a burst of the expected sign was found."""
        return self.status == "present"


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class JointCurves:
    """One joint (rotational coordinate) over the stride, in model signs and SI units.

    Attributes
    ----------
    coordinate, side
        Coordinate name and side (``None`` for e.g. ``lumbar``).
    sign
        Its clinical sign.
    angle, angular_velocity, moment, power
        ``(n,)``: rad, rad/s, N m (net internal moment), W.
    body_mass
        kg, for the per-kilogram values.
    """

    coordinate: str
    side: str | None
    sign: ClinicalSign
    angle: np.ndarray
    angular_velocity: np.ndarray
    moment: np.ndarray
    power: np.ndarray
    body_mass: float

    @property
    def power_per_kg(self) -> np.ndarray:
        """Joint power per body mass (W/kg)."""
        return self.power / self.body_mass

    @property
    def moment_per_kg(self) -> np.ndarray:
        """Net moment per body mass, model sign (N m/kg)."""
        return self.moment / self.body_mass

    @property
    def clinical_angle_deg(self) -> np.ndarray:
        """Angle in degrees, clinical sign (``sign.positive_angle`` positive)."""
        return np.degrees(self.sign.factor * self.angle)

    @property
    def clinical_angular_velocity_deg(self) -> np.ndarray:
        """Angular velocity in deg/s, clinical sign."""
        return np.degrees(self.sign.factor * self.angular_velocity)

    @property
    def clinical_moment_per_kg(self) -> np.ndarray:
        """Internal moment per body mass (N m/kg), ``sign.positive_moment`` positive."""
        return self.sign.factor * self.moment_per_kg

    @property
    def positive_angle(self) -> str:
        """What a positive clinical angle means."""
        return self.sign.positive_angle

    @property
    def positive_moment(self) -> str:
        """Which internal moment is positive clinically (``"flexor"``...)."""
        return self.sign.positive_moment


@dataclass(frozen=True)
class JointWork:
    """Work of one joint in one phase (or the whole stride), J/kg.

    Attributes
    ----------
    coordinate
        The joint.
    phase
        ``"<phase>_<side>"`` or ``"stride"``.
    start, end
        Interval (s; ``end`` may exceed the stride's last time).
    positive_work, negative_work
        Generated (>= 0) and absorbed (<= 0) work per body mass.
    """

    coordinate: str
    phase: str
    start: float
    end: float
    positive_work: float
    negative_work: float

    @property
    def net_work(self) -> float:
        """Positive plus negative work (J/kg)."""
        return self.positive_work + self.negative_work


@dataclass(frozen=True)
class JointBursts:
    """The labelled bursts of one joint and what the labels leave over (J/kg).

    ``sum(b.work for b in bursts if b.present) + unlabelled_positive_work +
    unlabelled_negative_work`` is the net work of the joint over the stride.
    """

    coordinate: str
    side: str
    bursts: tuple[PowerBurst, ...]
    unlabelled_positive_work: float
    unlabelled_negative_work: float


@dataclass(frozen=True, eq=False)
class JointMechanics:
    """Joint mechanics of one stride (see the module docstring for conventions).

    Attributes
    ----------
    model_name
        Model of the result.
    time
        ``(n,)`` s.
    period
        Stride duration (s).
    body_mass
        kg.
    joints
        One :class:`JointCurves` per rotational coordinate, in result order.
    work
        Work per joint in each phase of its side (every phase given for joints without a
        side) and over the stride.
    bursts
        Winter's bursts per sided joint that has definitions.
    min_burst_peak
        Smallest peak (W/kg) that counts as a burst.
    """

    model_name: str
    time: np.ndarray
    period: float
    body_mass: float
    joints: tuple[JointCurves, ...]
    work: tuple[JointWork, ...]
    bursts: tuple[JointBursts, ...]
    min_burst_peak: float

    def joint(self, coordinate: str) -> JointCurves:
        """The curves of one coordinate.

        Raises
        ------
        KeyError
            If it is not a rotational coordinate of the result.
        """
        for j in self.joints:
            if j.coordinate == coordinate:
                return j
        raise KeyError(f"no rotational coordinate {coordinate!r} in the joint mechanics")

    def burst(self, label: str, side: str) -> PowerBurst:
        """One burst (``burst("K1", "r")``).

        Raises
        ------
        KeyError
            If there is no such burst.
        """
        for group in self.bursts:
            for b in group.bursts:
                if b.label == label and b.side == side:
                    return b
        raise KeyError(f"no burst {label!r} of side {side!r}")

    def table(self) -> tuple[TableRow, ...]:
        """Tidy rows: work per joint and phase, and every burst's figures.

        Quantities: ``positive_work``, ``negative_work``, ``net_work`` (J/kg) per phase
        and ``"stride"``; per burst (phase column = label): ``burst_status``,
        ``burst_moment``, ``burst_motion``, ``burst_cut_at_contact`` (words),
        ``burst_sign``, ``burst_window_start``/``burst_window_end``, ``burst_start``,
        ``burst_end``, ``burst_peak_time`` (% cycle), ``burst_peak_power`` (W/kg),
        ``burst_work`` (J/kg), ``burst_mean_moment`` (N m/kg, clinical sign),
        ``burst_angle_change`` (deg, clinical sign), ``burst_window_positive_work``,
        ``burst_window_negative_work`` (J/kg); ``unlabelled_positive_work``,
        ``unlabelled_negative_work`` (phase ``"stride"``).
        """
        rows: list[TableRow] = []
        for w in self.work:
            rows.append(TableRow(w.coordinate, w.phase, "positive_work", w.positive_work, "J/kg"))
            rows.append(TableRow(w.coordinate, w.phase, "negative_work", w.negative_work, "J/kg"))
            rows.append(TableRow(w.coordinate, w.phase, "net_work", w.net_work, "J/kg"))
        for group in self.bursts:
            for b in group.bursts:
                c, p = b.coordinate, b.label
                rows.append(TableRow(c, p, "burst_status", b.status, ""))
                rows.append(TableRow(c, p, "burst_sign", float(b.sign), ""))
                rows.append(TableRow(c, p, "burst_moment", b.moment, ""))
                rows.append(TableRow(c, p, "burst_motion", b.motion, ""))
                rows.append(TableRow(c, p, "burst_cut_at_contact", str(b.cut_at_contact), ""))
                for quantity, value, unit in (
                    ("burst_window_start", b.window_start_percent, "%"),
                    ("burst_window_end", b.window_end_percent, "%"),
                    ("burst_start", b.start_percent, "%"),
                    ("burst_end", b.end_percent, "%"),
                    ("burst_peak_time", b.peak_percent, "%"),
                    ("burst_peak_power", b.peak_power, "W/kg"),
                    ("burst_work", b.work, "J/kg"),
                    ("burst_mean_moment", b.mean_moment, "N m/kg"),
                    ("burst_angle_change", b.angle_change, "deg"),
                    ("burst_window_positive_work", b.window_positive_work, "J/kg"),
                    ("burst_window_negative_work", b.window_negative_work, "J/kg"),
                ):
                    rows.append(TableRow(c, p, quantity, value, unit))
            rows.append(
                TableRow(
                    group.coordinate,
                    "stride",
                    "unlabelled_positive_work",
                    group.unlabelled_positive_work,
                    "J/kg",
                )
            )
            rows.append(
                TableRow(
                    group.coordinate,
                    "stride",
                    "unlabelled_negative_work",
                    group.unlabelled_negative_work,
                    "J/kg",
                )
            )
        return tuple(rows)

    def to_records(self) -> list[dict[str, Any]]:
        """:meth:`table` as JSON-ready dicts."""
        return [row.to_record() for row in self.table()]


# ---------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------


def _finite_matrix(values: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.shape != shape:
        raise AnalysisInputError(f"result.{what}", f"expected shape {shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise AnalysisInputError(f"result.{what}", "has non-finite values")
    return a


def _percent(t: float, origin: float, period: float) -> float:
    offset = float(np.mod(t - origin, period))
    if period - offset <= 1e-12 * period:  # rounding of an instant at the origin
        offset = 0.0
    return 100.0 * offset / period


def _window(
    definition: BurstDefinition, own: dict[str, Phase], origin: float, period: float, side: str
) -> tuple[float, float]:
    """Window of a burst as unwrapped offsets (s) from the side's initial contact."""
    missing = [p for p in definition.phases if p not in own]
    if missing:
        raise AnalysisInputError(
            f"burst {definition.label} ({side})", f"needs phases {missing} of side {side!r}"
        )
    first, last = own[definition.phases[0]], own[definition.phases[-1]]
    start = float(np.mod(first.start - origin, period))
    last_start = float(np.mod(last.start - origin, period))
    if last_start < start:
        last_start += period
    return start, last_start + last.duration


def _find_burst(
    definition: BurstDefinition,
    joint: JointCurves,
    side: str,
    intervals: tuple[SignInterval, ...],
    time: np.ndarray,
    own: dict[str, Phase],
    period: float,
    min_peak: float,
) -> tuple[PowerBurst, SignInterval | None]:
    origin = _initial_contact(own, side)
    w0, w1 = _window(definition, own, origin, period, side)

    def in_window(i: SignInterval) -> bool:
        offset = float(np.mod(i.peak_time - origin, period))
        # Half-open windows: a peak on the boundary of two windows belongs to one only.
        inside = w0 <= offset < w1 or w0 <= offset + period < w1
        return inside and abs(i.peak) >= min_peak

    candidates = [i for i in intervals if in_window(i)]
    expected = [i for i in candidates if i.sign == definition.sign]
    opposite = [i for i in candidates if i.sign == -definition.sign]
    chosen: SignInterval | None = None
    status = "absent"
    if expected:
        chosen, status = max(expected, key=lambda i: abs(i.work)), "present"
    elif opposite:
        chosen, status = max(opposite, key=lambda i: abs(i.work)), "reversed"
    power = joint.power_per_kg
    positive, negative = interval_work(time, power, origin + w0, origin + w1)
    nan = math.nan
    start_percent = end_percent = peak_percent = start_time = end_time = nan
    peak_power = work = mean_moment = angle_change = nan
    moment = motion = ""
    sign = 0
    cut = False
    if chosen is not None:
        sign = chosen.sign
        start_time, end_time = chosen.start, chosen.end
        duration = end_time - start_time
        start_percent = _percent(start_time, origin, period)
        end_percent = start_percent + 100.0 * duration / period
        peak_percent = _percent(chosen.peak_time, origin, period)
        peak_power, work = chosen.peak, chosen.work
        up, down = interval_work(time, joint.clinical_moment_per_kg, start_time, end_time)
        mean_moment = (up + down) / duration if duration > 0 else nan
        angle = joint.clinical_angle_deg[:-1]  # the last sample repeats the first
        ends = np.interp([start_time, end_time], time[:-1], angle, period=period)
        angle_change = float(ends[1] - ends[0])
        moment = joint.sign.positive_moment if mean_moment >= 0 else joint.sign.negative_moment
        motion = joint.sign.positive_angle if angle_change >= 0 else joint.sign.negative_angle
        at_contact = float(np.interp(origin, time[:-1], power[:-1], period=period))
        touches = [
            abs(np.mod(x - origin + 0.5 * period, period) - 0.5 * period)
            for x in (start_time, end_time)
        ]
        cut = bool(at_contact != 0.0 and min(touches) <= 1e-9 * period)
    burst = PowerBurst(
        definition=definition,
        coordinate=joint.coordinate,
        side=side,
        status=status,
        sign=sign,
        window_start_percent=100.0 * w0 / period,
        window_end_percent=100.0 * w1 / period,
        start_percent=start_percent,
        end_percent=end_percent,
        peak_percent=peak_percent,
        start_time=start_time,
        end_time=end_time,
        peak_power=peak_power,
        work=work,
        mean_moment=mean_moment,
        moment=moment,
        angle_change=angle_change,
        motion=motion,
        cut_at_contact=cut,
        window_positive_work=positive,
        window_negative_work=negative,
    )
    return burst, (chosen if status == "present" else None)


def joint_mechanics(
    result: WalkingResult,
    phases: Sequence[Phase],
    *,
    bursts: Sequence[BurstDefinition] = WINTER_BURSTS,
    min_burst_peak: float = DEFAULT_MIN_BURST_PEAK,
) -> JointMechanics:
    """Angles, velocities, moments, powers, work per phase and Winter's bursts of a stride.

    Parameters
    ----------
    result
        A simulated stride (periodic: its last sample is the first of the next stride).
    phases
        Gait phases of either or both sides (one per name and side), e.g. from the phase
        detection. Bursts are found for each side that has phases; work per phase is
        computed for the phases given.
    bursts
        Burst definitions (default :data:`WINTER_BURSTS`).
    min_burst_peak
        Smallest peak power (W/kg) of an interval that counts as a burst (>= 0).

    Returns
    -------
    JointMechanics

    Raises
    ------
    AnalysisInputError
        If the result's arrays are inconsistent or not finite, the body mass is not
        positive, a phase is given twice, or a side with phases lacks a phase that a
        burst window needs.
    """
    check_burst_definitions(bursts)
    if not (math.isfinite(min_burst_peak) and min_burst_peak >= 0.0):
        raise AnalysisInputError("min_burst_peak", f"must be >= 0, got {min_burst_peak!r}")
    time = np.asarray(result.time, dtype=np.float64)
    if time.ndim != 1 or time.size < 3:
        raise AnalysisInputError("result.time", f"need at least 3 samples, got {time.shape}")
    if not (np.all(np.isfinite(time)) and np.all(np.diff(time) > 0)):
        raise AnalysisInputError("result.time", "must be finite and strictly increasing")
    mass = float(result.body_mass)
    if not (math.isfinite(mass) and mass > 0):
        raise AnalysisInputError("result.body_mass", f"must be positive, got {mass!r}")
    names = tuple(result.coordinate_names)
    shape = (time.size, len(names))
    q = _finite_matrix(result.q, shape, "q")
    qd = _finite_matrix(result.qd, shape, "qd")
    moments = _finite_matrix(result.joint_moments, shape, "joint_moments")
    period = float(time[-1] - time[0])
    sides = [s for s in ("r", "l") if any(p.side == s for p in phases)]
    own_phases = {s: side_phases(phases, s) for s in ("r", "l")}

    joints: list[JointCurves] = []
    work: list[JointWork] = []
    found: list[JointBursts] = []
    for j, name in enumerate(names):
        if is_translational(name):
            continue
        side = coordinate_side(name)
        curves = JointCurves(
            coordinate=name,
            side=side,
            sign=clinical_sign(name),
            angle=q[:, j].copy(),
            angular_velocity=qd[:, j].copy(),
            moment=moments[:, j].copy(),
            power=moments[:, j] * qd[:, j],
            body_mass=mass,
        )
        joints.append(curves)
        power = curves.power_per_kg
        pos, neg = interval_work(time, power, float(time[0]), float(time[-1]))
        work.append(JointWork(name, "stride", float(time[0]), float(time[-1]), pos, neg))
        chosen_phases = own_phases[side].values() if side else list(phases)
        for phase in sorted(chosen_phases, key=lambda p: (p.side, PERRY_PHASES.index(p.name))):
            pos, neg = interval_work(time, power, phase.start, phase.end)
            work.append(JointWork(name, phase_label(phase), phase.start, phase.end, pos, neg))
        definitions = [d for d in bursts if side and _base_name(name) == d.joint]
        if not definitions or side not in sides:
            continue
        assert side is not None
        origin = _initial_contact(own_phases[side], side)
        intervals = sign_intervals(time, power, origin=origin)
        labelled: list[PowerBurst] = []
        claimed: set[int] = set()
        for d in definitions:
            burst, interval = _find_burst(
                d, curves, side, intervals, time, own_phases[side], period, min_burst_peak
            )
            labelled.append(burst)
            if interval is not None:
                claimed.add(intervals.index(interval))
        rest = [i for k, i in enumerate(intervals) if k not in claimed]
        found.append(
            JointBursts(
                coordinate=name,
                side=side,
                bursts=tuple(labelled),
                unlabelled_positive_work=float(sum(i.work for i in rest if i.sign > 0)),
                unlabelled_negative_work=float(sum(i.work for i in rest if i.sign < 0)),
            )
        )
    return JointMechanics(
        model_name=result.model_name,
        time=time.copy(),
        period=period,
        body_mass=mass,
        joints=tuple(joints),
        work=tuple(work),
        bursts=tuple(found),
        min_burst_peak=float(min_burst_peak),
    )
