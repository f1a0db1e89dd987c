"""Gait metrics of one simulated stride, and comparison with normative curves.

Two layers:

* functions on arrays, usable without a simulation: :func:`contact_events`,
  :func:`swing_peak_flexion`, :func:`stance_peaks`, :func:`cycle_normalised`,
  :func:`pearson`;
* functions on a :class:`~gaitsim.simulate.result.WalkingResult`: :func:`stance_fraction`,
  :func:`peak_swing_knee_flexion`, :func:`vertical_grf_peaks`,
  :func:`correlation_with_normative`, :func:`summary` (and the helpers
  :func:`result_variable`, :func:`aligned_curve`, :func:`aligned_normative`).

Conventions
-----------
* A stride is **periodic**. For a :class:`WalkingResult` the last sample is taken to be
  the first sample of the next stride (as :attr:`WalkingResult.cycle_percent` assumes), so
  the period is ``time[-1] - time[0]``. The array functions take ``period`` explicitly
  when the samples do not repeat the first one at the end (e.g. 50 nodes of a stride).
  Phases may wrap around the end of the samples (a stance that starts at 90 % and ends at
  50 % of the next stride's samples is one stance).
* **Contact** of a foot: its vertical ground reaction force is above a threshold,
  by default :data:`CONTACT_THRESHOLD` = 0.02 body weights (2 % BW; about 15 N for
  75 kg). Smooth contact models never give exactly zero force, and measured force plates
  have noise, so a small threshold is used rather than zero. The event times are
  interpolated linearly where the force crosses the threshold. Every crossing counts: a
  brief unloading during stance makes two stance phases (the longest one is used as
  "the" stance by :func:`stance_peaks`).
* Body weight is ``body_mass * 9.80665`` N (standard gravity).
* Curves over the gait cycle have 101 points, 0 to 100 %, starting at an initial contact
  (of the right foot unless another side is given); normative curves start at the right
  initial contact too (see :mod:`gaitsim.analysis.normative`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from gaitsim.analysis.normative import PERCENT, NormativeCurves

if TYPE_CHECKING:
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "first_loaded_contact",
    "stance_knee_extension",
    "CONTACT_THRESHOLD",
    "STANDARD_GRAVITY",
    "ContactEvents",
    "VerticalPeaks",
    "aligned_curve",
    "aligned_normative",
    "contact_events",
    "correlation_with_normative",
    "cycle_normalised",
    "is_translational",
    "peak_swing_knee_flexion",
    "pearson",
    "result_variable",
    "stance_fraction",
    "stance_peaks",
    "summary",
    "swing_peak_flexion",
    "vertical_grf_peaks",
]

#: Default contact threshold on the vertical ground reaction force (body weights).
CONTACT_THRESHOLD = 0.02
#: Standard gravity (m/s^2) used to express forces in body weights.
STANDARD_GRAVITY = 9.80665

_SIDES = ("r", "l")
_GRF_VARIABLE = re.compile(r"grf_([xyz])_([rl])")
_TRANSLATION = re.compile(r"(?:^|_)t[xyz]$")


# ---------------------------------------------------------------------------------------
# Array functions
# ---------------------------------------------------------------------------------------


def _check_series(values: ArrayLike, time: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert to float arrays and check shapes and time (finite, strictly increasing)."""
    t = np.asarray(time, dtype=np.float64)
    x = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"time must be 1-D with at least 2 samples, got shape {t.shape}")
    if x.shape[:1] != t.shape:
        raise ValueError(f"values must have {t.size} rows (one per time), got shape {x.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("time must be finite and strictly increasing")
    return x, t


def _period(time: np.ndarray, period: float | None) -> tuple[float, bool]:
    """The period, and whether the last sample repeats the first (``period`` is None)."""
    span = float(time[-1] - time[0])
    if period is None:
        return span, True
    period = float(period)
    tolerance = 1e-9 * max(abs(span), 1.0)
    if not math.isfinite(period) or period < span - tolerance:
        raise ValueError(
            f"period {period!r} is shorter than the time span of the samples ({span!r})"
        )
    return period, period <= span + tolerance


def _cyclic(time: np.ndarray, values: np.ndarray, repeats: bool) -> tuple[np.ndarray, np.ndarray]:
    """Drop the last sample if it repeats the first one (one period later)."""
    if repeats:
        return time[:-1], values[:-1]
    return time, values


@dataclass(frozen=True)
class ContactEvents:
    """Initial contacts, toe-offs and stance phases of one foot over one periodic stride.

    Attributes
    ----------
    initial_contacts, toe_offs
        Event times (s, or the unit of the time given), sorted, within
        ``[start, start + period)``.
    stance
        Stance phases as ``(initial contact, toe-off)`` pairs in the order of the initial
        contacts; the toe-off is *unwrapped* (it may exceed ``start + period`` when the
        stance wraps around the end of the stride), so ``toe-off - contact`` is the
        stance duration. A foot in contact all the time has one phase
        ``(start, start + period)`` and no events.
    start, period
        Time of the first sample and duration of the stride.
    threshold
        Contact threshold used (same unit as the force).
    """

    initial_contacts: np.ndarray
    toe_offs: np.ndarray
    stance: tuple[tuple[float, float], ...]
    start: float
    period: float
    threshold: float

    @property
    def stance_fraction(self) -> float:
        """Fraction of the stride in stance, 0 to 1."""
        return float(sum(end - begin for begin, end in self.stance) / self.period)

    @property
    def main_stance(self) -> tuple[float, float]:
        """The longest stance phase ``(initial contact, unwrapped toe-off)``.

        Raises
        ------
        ValueError
            If the foot is never in contact.
        """
        if not self.stance:
            raise ValueError("the foot is never in contact (no stance phase)")
        return max(self.stance, key=lambda phase: phase[1] - phase[0])

    def in_stance(self, time: ArrayLike) -> np.ndarray:
        """Whether the foot is in contact at the given times (taken modulo the period)."""
        t = np.asarray(time, dtype=np.float64)
        inside = np.zeros(t.shape, dtype=bool)
        for begin, end in self.stance:
            inside |= np.mod(t - begin, self.period) < end - begin
            if end - begin >= self.period:
                inside[...] = True
        return inside


def contact_events(
    grf_y: ArrayLike,
    time: ArrayLike,
    *,
    threshold: float = CONTACT_THRESHOLD,
    period: float | None = None,
) -> ContactEvents:
    """Find the initial contacts and toe-offs of one foot from its vertical force.

    The foot is in contact where ``grf_y > threshold``; events are interpolated linearly
    between samples where the force crosses the threshold. The stride is periodic: the
    segment from the last sample back to the first one (one period later) is searched
    too, so a stance that wraps around the end of the samples is found as one phase.

    Parameters
    ----------
    grf_y
        Vertical ground reaction force on the foot, shape ``(n,)``, in body weights
        (divide newtons by ``body_mass * 9.80665``) or in the unit of ``threshold``.
    time
        Sample times, strictly increasing, shape ``(n,)``.
    threshold
        Contact threshold, by default 0.02 (2 % of body weight).
    period
        Duration of the stride. ``None`` (default): ``time[-1] - time[0]``, the last
        sample being the first one of the next stride. Give it when the samples stop
        before the end of the stride (e.g. 50 nodes at 0, 2, ... 98 %).

    Returns
    -------
    ContactEvents

    Raises
    ------
    ValueError
        If the shapes disagree, time is not strictly increasing, the period is shorter
        than the samples' span or values are not finite.
    """
    f, t = _check_series(grf_y, time)
    if f.ndim != 1:
        raise ValueError(f"grf_y must be 1-D, got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("grf_y must be finite")
    threshold = float(threshold)
    period_value, _ = _period(t, period)
    start = float(t[0])
    # Close the cycle: the sample after the last one is the first one, one period later.
    # When the last sample repeats the first this adds a zero-length segment, which only
    # matters if the two disagree (the event is then placed at the start).
    t_ext = np.append(t, start + period_value)
    f_ext = np.append(f, f[0])
    above = f_ext > threshold
    ups: list[float] = []
    downs: list[float] = []
    for i in np.flatnonzero(above[:-1] != above[1:]).tolist():
        df = f_ext[i + 1] - f_ext[i]
        fraction = (threshold - f_ext[i]) / df
        crossing = float(t_ext[i] + fraction * (t_ext[i + 1] - t_ext[i]))
        crossing = start + float(np.mod(crossing - start, period_value))
        (ups if above[i + 1] else downs).append(crossing)
    ups.sort()
    downs.sort()
    stance: list[tuple[float, float]] = []
    if not ups and not downs:
        if above[0]:  # no crossing: in contact all the time or never
            stance.append((start, start + period_value))
    else:
        offs = np.array(downs)
        for contact in ups:
            later = offs[offs > contact]
            toe_off = float(later[0]) if later.size else float(offs[0]) + period_value
            stance.append((contact, toe_off))
    return ContactEvents(
        initial_contacts=np.array(ups),
        toe_offs=np.array(downs),
        stance=tuple(stance),
        start=start,
        period=period_value,
        threshold=threshold,
    )


def _parabola_vertex(t: np.ndarray, f: np.ndarray, k: int) -> tuple[float, float]:
    """Refine the extremum at sample ``k`` with the parabola through ``k - 1, k, k + 1``."""
    if k <= 0 or k >= len(f) - 1:
        return float(t[k]), float(f[k])
    t0, t1, t2 = t[k - 1 : k + 2]
    f0, f1, f2 = f[k - 1 : k + 2]
    denominator = (t0 - t1) * (t0 - t2) * (t1 - t2)
    a = (t2 * (f1 - f0) + t1 * (f0 - f2) + t0 * (f2 - f1)) / denominator
    b = (t2 * t2 * (f0 - f1) + t1 * t1 * (f2 - f0) + t0 * t0 * (f1 - f2)) / denominator
    if a == 0 or not math.isfinite(a):
        return float(t1), float(f1)
    vertex = -b / (2 * a)
    if not t0 <= vertex <= t2:
        return float(t1), float(f1)
    c = f1 - a * t1 * t1 - b * t1
    return float(vertex), float(a * vertex * vertex + b * vertex + c)


def swing_peak_flexion(knee_angle: ArrayLike, time: ArrayLike, events: ContactEvents) -> float:
    """Peak knee flexion during swing (degrees, flexion positive).

    Parameters
    ----------
    knee_angle
        Knee angle (rad) in the model's sign convention: flexion *negative*.
    time
        Sample times of ``knee_angle`` (the samples ``events`` was computed from).
    events
        Contact events of the same foot.

    Returns
    -------
    float
        ``-min(knee_angle)`` over the swing samples, in degrees, refined with a parabola
        through the smallest sample and its neighbours.

    Raises
    ------
    ValueError
        If no sample is in swing.
    """
    q, t = _check_series(knee_angle, time)
    swing = ~events.in_stance(t)
    if not np.any(swing):
        raise ValueError("no sample of the stride is in swing (the foot never leaves the floor)")
    k = int(np.flatnonzero(swing)[np.argmin(q[swing])])
    # Refine only when the neighbours are in swing too (same phase).
    if 0 < k < len(q) - 1 and swing[k - 1] and swing[k + 1]:
        _, value = _parabola_vertex(t, q, k)
    else:
        value = float(q[k])
    return float(-np.rad2deg(value))


class VerticalPeaks(NamedTuple):
    """The two peaks of the vertical ground reaction force in stance.

    Attributes
    ----------
    first, second
        Peak values (unit of the force given, body weights for the result functions):
        the loading-response peak (first half of stance) and the push-off peak (second
        half).
    first_time, second_time
        When they occur (same unit as time), within ``[start, start + period)``.
    """

    first: float
    second: float
    first_time: float
    second_time: float


def stance_peaks(grf_y: ArrayLike, time: ArrayLike, events: ContactEvents) -> VerticalPeaks:
    """The two peaks of the vertical force during the (longest) stance phase.

    Stance is split at its middle; in each half the highest local maximum of the samples
    is taken (a sample not lower than both neighbours), or the highest sample of the half
    if it has no local maximum (a monotonic half, e.g. a single-humped force). A flat or
    low middle of stance therefore does not hide either peak. Each peak is refined with
    the parabola through its sample and the neighbours.

    Parameters
    ----------
    grf_y
        Vertical force of the foot, shape ``(n,)`` (body weights for the usual meaning).
    time
        Sample times (those ``events`` was computed from).
    events
        Contact events of the same foot.

    Raises
    ------
    ValueError
        If the foot is never in contact or fewer than 3 samples fall in stance.
    """
    f, t = _check_series(grf_y, time)
    begin, end = events.main_stance
    repeats = abs(float(t[-1] - t[0]) - events.period) <= 1e-9 * max(events.period, 1.0)
    tc, fc = _cyclic(t, f, repeats)
    # Unwrap the sample times into [begin, begin + period) and keep those in stance.
    unwrapped = begin + np.mod(tc - begin, events.period)
    inside = unwrapped <= end
    order = np.argsort(unwrapped[inside], kind="stable")
    ts = unwrapped[inside][order]
    fs = fc[inside][order]
    if ts.size < 3:
        raise ValueError(f"only {ts.size} samples in stance; cannot find two peaks")
    middle = begin + 0.5 * (end - begin)
    local = np.zeros(ts.size, dtype=bool)
    local[1:-1] = (fs[1:-1] >= fs[:-2]) & (fs[1:-1] >= fs[2:])
    peaks: list[tuple[float, float]] = []
    for half in (ts <= middle, ts >= middle):
        if not np.any(half):
            raise ValueError("a half of stance has no sample; sample the stride more finely")
        candidates = np.flatnonzero(half & local)
        if candidates.size == 0:
            candidates = np.flatnonzero(half)
        k = int(candidates[np.argmax(fs[candidates])])
        when, value = _parabola_vertex(ts, fs, k)
        peaks.append((events.start + float(np.mod(when - events.start, events.period)), value))
    return VerticalPeaks(peaks[0][1], peaks[1][1], peaks[0][0], peaks[1][0])


def cycle_normalised(
    x: ArrayLike,
    time: ArrayLike,
    start_time: float,
    *,
    period: float | None = None,
    n_points: int = 101,
) -> np.ndarray:
    """Resample one periodic stride at ``n_points`` points of the cycle from ``start_time``.

    Linear interpolation, periodic: point ``k`` is at ``start_time + k / (n_points - 1)``
    periods, wrapping around the end of the samples, so the first and last points are
    the same instant of two consecutive strides (0 and 100 %).

    Parameters
    ----------
    x
        Values, shape ``(n,)`` or ``(n, m)`` (each column resampled).
    time
        Sample times, strictly increasing, shape ``(n,)``.
    start_time
        Time of the event at 0 % (e.g. an initial contact); any time, taken modulo the
        period.
    period
        Duration of the stride; ``None``: ``time[-1] - time[0]``, the last sample being
        the first one of the next stride (it is then not used).
    n_points
        Number of points (101: every percent).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_points,)`` or ``(n_points, m)``.
    """
    values, t = _check_series(x, time)
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2, got {n_points}")
    period_value, repeats = _period(t, period)
    tc, vc = _cyclic(t, values, repeats)
    targets = float(start_time) + period_value * np.linspace(0.0, 1.0, n_points)
    if vc.ndim == 1:
        return np.interp(targets, tc, vc, period=period_value)
    flat = vc.reshape(vc.shape[0], -1)
    columns = [
        np.interp(targets, tc, flat[:, j], period=period_value) for j in range(flat.shape[1])
    ]
    return np.stack(columns, axis=1).reshape((n_points, *vc.shape[1:]))


def pearson(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson correlation coefficient of two curves of the same length.

    Returns NaN if either curve is constant (the correlation is undefined).
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"curves must have the same length >= 2, got {x.size} and {y.size}")
    dx = x - x.mean()
    dy = y - y.mean()
    norm = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if norm == 0.0:
        return math.nan
    return float(np.clip(float(dx @ dy) / norm, -1.0, 1.0))


# ---------------------------------------------------------------------------------------
# Functions on a WalkingResult
# ---------------------------------------------------------------------------------------


def is_translational(coordinate: str) -> bool:
    """Whether a coordinate name is a translation by OpenSim's naming (``pelvis_tx``...)."""
    return bool(_TRANSLATION.search(coordinate))


def _body_weight(result: WalkingResult) -> float:
    weight = float(result.body_mass) * STANDARD_GRAVITY
    if not weight > 0:
        raise ValueError(f"body mass must be positive, got {result.body_mass!r}")
    return weight


def _check_side(result: WalkingResult, side: str) -> None:
    if side not in _SIDES or side not in result.grf:
        raise ValueError(f"side must be one of {sorted(result.grf)} ('r' or 'l'), got {side!r}")


def result_variable(result: WalkingResult, variable: str) -> tuple[np.ndarray, str]:
    """One variable of a result over time, named as normative variables are, with its unit.

    Parameters
    ----------
    result
        The simulated stride.
    variable
        A coordinate name (rad or m, model signs), ``<coordinate>_moment`` (net moment
        per body mass, N m/kg, or N/kg for translations), ``grf_x_r``, ``grf_y_r``,
        ``grf_z_r``, ``..._l`` (body weights) or ``<muscle>_activation``.

    Returns
    -------
    values, unit
        Shape ``(n,)`` and the unit string (``"rad"``, ``"m"``, ``"N m/kg"``, ``"N/kg"``,
        ``"BW"``, ``""``).

    Raises
    ------
    LookupError
        If the result has no such variable.
    """
    coordinates = tuple(result.coordinate_names)
    if variable in coordinates:
        unit = "m" if is_translational(variable) else "rad"
        return np.asarray(result.coordinate(variable), dtype=np.float64), unit
    if variable.endswith("_moment") and variable[: -len("_moment")] in coordinates:
        coordinate = variable[: -len("_moment")]
        unit = "N/kg" if is_translational(coordinate) else "N m/kg"
        return np.asarray(result.moment(coordinate), dtype=np.float64) / result.body_mass, unit
    match = _GRF_VARIABLE.fullmatch(variable)
    if match and match.group(2) in result.grf:
        axis = "xyz".index(match.group(1))
        force = np.asarray(result.grf[match.group(2)], dtype=np.float64)[:, axis]
        return force / _body_weight(result), "BW"
    if variable.endswith("_activation") and variable[: -len("_activation")] in result.muscle_names:
        return np.asarray(result.activation(variable[: -len("_activation")]), dtype=float), ""
    raise LookupError(f"the result of {result.model_name!r} has no variable {variable!r}")


def _events(result: WalkingResult, side: str, threshold: float) -> ContactEvents:
    _check_side(result, side)
    force = np.asarray(result.grf[side], dtype=np.float64)[:, 1] / _body_weight(result)
    return contact_events(force, result.time, threshold=threshold)


def _first_contact(events: ContactEvents, side: str) -> float:
    """Start of the longest stance (the initial contact curves are aligned at)."""
    if not events.stance:
        raise ValueError(f"foot {side!r} never touches the floor: no initial contact")
    return events.main_stance[0]


def first_loaded_contact(
    result: WalkingResult, side: str, *, threshold: float = CONTACT_THRESHOLD
) -> str:
    """Which contact of the foot loads first at the start of its main stance.

    Walks forward from the initial contact (foot force above ``threshold`` body weights)
    and returns the name of the contact element (e.g. ``"contactFront_r"``) whose
    vertical force first exceeds half the threshold: the heel in normal walking, the
    forefoot in backward walking.

    Raises
    ------
    ValueError
        If the result carries no per-contact forces or the foot never touches the floor.
    """
    own = {
        name: np.asarray(f, dtype=np.float64)[:, 1] / _body_weight(result)
        for name, f in result.contact_forces.items()
        if name.endswith(f"_{side}")
    }
    if not own:
        raise ValueError(f"no per-contact forces for side {side!r} in this result")
    events = _events(result, side, threshold)
    start = _first_contact(events, side)
    time = np.asarray(result.time, dtype=np.float64)
    # Samples from the initial contact on, wrapping round the periodic stride.
    order = np.argsort(np.mod(time - start, events.period), kind="stable")
    for i in order:
        loaded = [n for n, f in own.items() if f[i] > 0.5 * threshold]
        if loaded:
            return max(loaded, key=lambda n: own[n][i])
    raise ValueError(f"foot {side!r}: no contact element is ever loaded")


def stance_knee_extension(
    result: WalkingResult, side: str, *, threshold: float = CONTACT_THRESHOLD
) -> float:
    """How far the knee extends during the main stance (deg; positive: it extends).

    OpenSim's knee angle is negative in flexion, so extension is an increase of
    ``knee_angle``: the value is the largest knee angle over the stance samples minus the
    knee angle at the first stance sample (initial contact), in degrees.
    """
    events = _events(result, side, threshold)
    begin, _ = events.main_stance
    time = np.asarray(result.time, dtype=np.float64)
    knee = np.asarray(result.coordinate(f"knee_angle_{side}"), dtype=np.float64)
    inside = events.in_stance(time)
    if not inside.any():
        raise ValueError(f"foot {side!r} has no stance sample")
    phase = np.mod(time - begin, events.period)
    first = int(np.argmin(np.where(inside, phase, np.inf)))
    return float(np.degrees(knee[inside].max() - knee[first]))


def stance_fraction(
    result: WalkingResult, side: str, *, threshold: float = CONTACT_THRESHOLD
) -> float:
    """Fraction of the stride (0 to 1) the foot of ``side`` (``"r"``/``"l"``) is in contact.

    Contact is a vertical force above ``threshold`` body weights (see
    :func:`contact_events`).
    """
    return _events(result, side, threshold).stance_fraction


def peak_swing_knee_flexion(
    result: WalkingResult, side: str, *, threshold: float = CONTACT_THRESHOLD
) -> float:
    """Peak knee flexion in swing (degrees, flexion positive) of ``knee_angle_<side>``.

    Raises
    ------
    LookupError
        If the model has no ``knee_angle_<side>``.
    ValueError
        If the foot never leaves the floor.
    """
    events = _events(result, side, threshold)
    knee, _ = result_variable(result, f"knee_angle_{side}")
    return swing_peak_flexion(knee, result.time, events)


def vertical_grf_peaks(
    result: WalkingResult, side: str, *, threshold: float = CONTACT_THRESHOLD
) -> VerticalPeaks:
    """The two peaks of the vertical ground reaction force in stance (body weights).

    See :func:`stance_peaks` for how the peaks are found.
    """
    events = _events(result, side, threshold)
    force, _ = result_variable(result, f"grf_y_{side}")
    return stance_peaks(force, result.time, events)


def aligned_curve(
    result: WalkingResult,
    variable: str,
    side: str = "r",
    *,
    threshold: float = CONTACT_THRESHOLD,
) -> np.ndarray:
    """A result variable at 101 points of the cycle from the initial contact of ``side``.

    The initial contact is the start of the foot's longest stance phase. Units and signs
    are those of :func:`result_variable`.
    """
    values, _ = result_variable(result, variable)
    start = _first_contact(_events(result, side, threshold), side)
    return cycle_normalised(values, result.time, start)


def aligned_normative(
    normative: NormativeCurves,
    variable: str,
    side: str = "r",
    *,
    threshold: float = CONTACT_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """Normative mean and SD at 101 points from the initial contact of ``side``.

    When the normative data have the vertical force of that foot (``grf_y_<side>``, in
    body weights), the initial contact is found from its mean curve with the same
    threshold as for results, so both are aligned at the same event definition;
    otherwise 0 % (the right initial contact by convention) is used for ``"r"``.

    Raises
    ------
    LookupError
        If the normative data have no ``variable``.
    ValueError
        If ``side`` is ``"l"`` and the data have no ``grf_y_l``, or the foot of the
        normative data never touches the floor.
    """
    mean, sd = normative.curve(variable)
    force = f"grf_y_{side}"
    if force in normative:
        events = contact_events(normative.mean[force], PERCENT, threshold=threshold)
        start = _first_contact(events, side)
    elif side == "r":
        start = 0.0
    else:
        raise ValueError(
            f"cannot align normative data {normative.name!r} at the {side!r} initial contact: "
            f"it has no {force!r}"
        )
    if start == 0.0:
        return np.array(mean), np.array(sd)
    return cycle_normalised(mean, PERCENT, start), cycle_normalised(sd, PERCENT, start)


def correlation_with_normative(
    result: WalkingResult,
    normative: NormativeCurves,
    variable: str,
    side: str = "r",
    *,
    threshold: float = CONTACT_THRESHOLD,
) -> float:
    """Pearson r between a result curve and the normative mean, aligned at initial contact.

    Both curves are taken at 101 points of the cycle from the initial contact of ``side``
    (see :func:`aligned_curve` and :func:`aligned_normative`). ``variable`` is a full
    name such as ``"knee_angle_r"`` or ``"grf_y_l"``; ``side`` chooses only the event the
    stride is aligned at.

    Returns
    -------
    float
        r in [-1, 1], or NaN if either curve is constant.
    """
    simulated = aligned_curve(result, variable, side, threshold=threshold)
    mean, _ = aligned_normative(normative, variable, side, threshold=threshold)
    return pearson(simulated, mean)


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _per_side(
    sides: Iterable[str], compute: Callable[[str], Any], problems: list[str], what: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for side in sides:
        try:
            out[side] = compute(side)
        except (ValueError, LookupError) as error:
            out[side] = None
            problems.append(f"{what} ({side}): {error}")
    return out


def summary(
    result: WalkingResult,
    normative: NormativeCurves | None = None,
    *,
    threshold: float = CONTACT_THRESHOLD,
) -> dict[str, Any]:
    """The main gait metrics of a stride as a JSON-ready dictionary.

    Keys: ``model``, ``kind``, ``speed_m_per_s``, ``stride_time_s``,
    ``cadence_steps_per_min``, ``contact_threshold_bw``, ``stance_percent`` (by side),
    ``peak_swing_knee_flexion_deg`` (by side), ``vertical_grf_peaks_bw`` (by side:
    ``first``, ``second`` and their ``first_percent``/``second_percent`` of stance), and
    with normative data ``normative`` (name, source, speed) and ``correlations``
    (Pearson r of every variable both have, aligned at the right initial contact).
    A metric that cannot be computed (e.g. a foot that never leaves the floor) is
    ``None`` and the reason is listed under ``problems``. Non-finite numbers are ``None``.
    """
    problems: list[str] = []
    stride = float(result.time[-1] - result.time[0])
    sides = [side for side in _SIDES if side in result.grf]

    def stance(side: str) -> float | None:
        return _finite_or_none(100.0 * stance_fraction(result, side, threshold=threshold))

    def knee(side: str) -> float | None:
        return _finite_or_none(peak_swing_knee_flexion(result, side, threshold=threshold))

    def peaks(side: str) -> dict[str, float | None]:
        events = _events(result, side, threshold)
        found = vertical_grf_peaks(result, side, threshold=threshold)
        begin, end = events.main_stance

        def percent_of_stance(when: float) -> float:
            return 100.0 * float(np.mod(when - begin, events.period)) / (end - begin)

        return {
            "first": _finite_or_none(found.first),
            "second": _finite_or_none(found.second),
            "first_percent_of_stance": _finite_or_none(percent_of_stance(found.first_time)),
            "second_percent_of_stance": _finite_or_none(percent_of_stance(found.second_time)),
        }

    out: dict[str, Any] = {
        "model": result.model_name,
        "kind": result.kind,
        "speed_m_per_s": _finite_or_none(float(result.speed)),
        "stride_time_s": _finite_or_none(stride),
        "cadence_steps_per_min": _finite_or_none(120.0 / stride) if stride > 0 else None,
        "contact_threshold_bw": float(threshold),
        "stance_percent": _per_side(sides, stance, problems, "stance"),
        "peak_swing_knee_flexion_deg": _per_side(sides, knee, problems, "peak knee flexion"),
        "vertical_grf_peaks_bw": _per_side(sides, peaks, problems, "vertical GRF peaks"),
    }
    if normative is not None:
        out["normative"] = {
            "name": normative.name,
            "source": normative.source,
            "speed_m_per_s": normative.speed,
        }
        correlations: dict[str, float | None] = {}
        for variable in normative.variables:
            try:
                result_variable(result, variable)
            except LookupError:
                continue
            try:
                r = correlation_with_normative(
                    result, normative, variable, "r", threshold=threshold
                )
                correlations[variable] = _finite_or_none(r)
            except (ValueError, LookupError) as error:
                correlations[variable] = None
                problems.append(f"correlation of {variable}: {error}")
        out["correlations"] = correlations
    out["problems"] = problems
    return out
