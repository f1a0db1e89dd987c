"""Gait events (initial contact, toe-off) and the gait cycles they delimit.

Three ways to find events, one result type (:class:`GaitEvents`, a time-ordered tuple of
:class:`GaitEvent`):

* :func:`events_from_force`: measured vertical ground reaction force of each foot. A foot
  is in contact while its force is above a threshold (default :data:`FORCE_THRESHOLD` =
  20 N); the event times are interpolated linearly where the force crosses it. Against
  chatter (noise around the threshold, a brief unloading in stance, a tap in swing),
  contact phases and gaps shorter than ``min_duration`` (default
  :data:`MIN_PHASE_DURATION` = 0.05 s) are removed: first every gap shorter than it is
  closed (the contacts on both sides merge), then every contact shorter than it is
  dropped. Walking phases last 0.1 s (double support) to 0.8 s, chatter a few
  milliseconds, so 50 ms separates them.
* :func:`events_from_markers`: markers only (no force plates), after Zeni, Richards &
  Higginson (2008), "Two simple methods for determining gait events during treadmill and
  overground walking using kinematic data", *Gait & Posture* 27(4):710-714,
  doi:10.1016/j.gaitpost.2007.07.007 (their "coordinate-based" method). Along the
  walking direction, with positions relative to the sacrum (or the mean of the pelvis
  markers given): **initial contact** is a maximum of the heel marker's position (the
  heel is furthest in front of the pelvis), **toe-off** a minimum of the toe marker's
  position (the toe is furthest behind). Extremes are found with
  :func:`scipy.signal.find_peaks` and refined to sub-sample times with the parabola
  through the extreme sample and its two neighbours.
* :func:`events_from_result`: a simulated, periodic stride
  (:class:`~gaitsim.simulate.result.WalkingResult`), from its vertical ground reaction
  forces with :func:`gaitsim.analysis.gait_metrics.contact_events` (threshold in body
  weights, default 2 % BW), then the same minimum-duration rule as for measured forces.

Gait cycles (:class:`GaitCycle`, :func:`gait_cycles`) run from an initial contact of one
foot to its next initial contact and carry the events inside: the foot's toe-off and the
opposite foot's toe-off and initial contact. :func:`cycle_normalised` resamples any
variable to 101 points, 0 to 100 % of a cycle. A simulated stride is periodic: each side
has one cycle, from its initial contact over one period, wrapping around the end of the
samples.

Conventions: times in seconds; positions in metres in the model's ground frame
(+x forward, +y up, +z right); sides ``"r"`` and ``"l"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from scipy.signal import find_peaks

from gaitsim.analysis.gait_metrics import (
    CONTACT_THRESHOLD,
    STANDARD_GRAVITY,
    contact_events,
)
from gaitsim.analysis.gait_metrics import (
    cycle_normalised as _periodic_normalised,
)
from gaitsim.errors import GaitsimError

if TYPE_CHECKING:
    from gaitsim.io.trc import MarkerTable
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "EVENT_KINDS",
    "FORCE_THRESHOLD",
    "INITIAL_CONTACT",
    "MIN_PHASE_DURATION",
    "N_POINTS",
    "SIDES",
    "TOE_OFF",
    "EventError",
    "GaitCycle",
    "GaitEvent",
    "GaitEvents",
    "ZeniMarkers",
    "cycle_normalised",
    "events_from_force",
    "events_from_markers",
    "events_from_result",
    "gait_cycles",
    "opposite",
    "walking_direction",
]

#: Default contact threshold on a measured vertical force (N).
FORCE_THRESHOLD = 20.0
#: Default shortest contact or gap (s) kept by the force-based detection.
MIN_PHASE_DURATION = 0.05
#: Points of a cycle-normalised curve (0, 1, ... 100 %).
N_POINTS = 101
INITIAL_CONTACT = "initial_contact"
TOE_OFF = "toe_off"
#: The kinds of event, in the order they are listed at equal times.
EVENT_KINDS = (INITIAL_CONTACT, TOE_OFF)
SIDES = ("r", "l")
#: Horizontal travel (m) of the pelvis below which the walking direction cannot be
#: estimated from it (a treadmill trial): the direction must then be given.
_MIN_TRAVEL = 0.3


class EventError(GaitsimError, ValueError):
    """Events or cycles cannot be found or are inconsistent (the message says which)."""


def opposite(side: str) -> str:
    """The other side: ``"l"`` for ``"r"`` and ``"r"`` for ``"l"``."""
    _check_side(side)
    return "l" if side == "r" else "r"


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise ValueError(f"side must be 'r' or 'l', got {side!r}")


# ---------------------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GaitEvent:
    """One gait event.

    Attributes
    ----------
    side
        ``"r"`` or ``"l"``.
    kind
        :data:`INITIAL_CONTACT` or :data:`TOE_OFF`.
    time
        When it happens (s).
    """

    side: str
    kind: str
    time: float

    def __post_init__(self) -> None:
        _check_side(self.side)
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"event kind must be one of {EVENT_KINDS}, got {self.kind!r}")
        if not math.isfinite(self.time):
            raise ValueError(f"event time must be finite, got {self.time!r}")
        object.__setattr__(self, "time", float(self.time))


def _order(event: GaitEvent) -> tuple[float, int, int]:
    return (event.time, EVENT_KINDS.index(event.kind), SIDES.index(event.side))


@dataclass(frozen=True)
class GaitEvents:
    """The gait events of a trial or a simulated stride, in time order.

    Attributes
    ----------
    events
        The events, sorted by time (at equal times: contacts before toe-offs, right
        before left).
    start, end
        Time span of the data the events were found in (s).
    period
        For a periodic stride (a simulation), its duration: the events repeat every
        ``period`` and lie in ``[start, start + period)``. ``None`` for a measured
        trial.
    method
        How the events were found (e.g. ``"vertical force > 20 N"``).

    Raises
    ------
    ValueError
        If the events are not in order, lie outside the span, or the span or period is
        invalid.
    """

    events: tuple[GaitEvent, ...]
    start: float
    end: float
    period: float | None = None
    method: str = ""

    def __post_init__(self) -> None:
        events = tuple(self.events)
        if not (math.isfinite(self.start) and math.isfinite(self.end) and self.start < self.end):
            raise ValueError(f"need finite start < end, got {self.start!r}, {self.end!r}")
        if any(_order(a) > _order(b) for a, b in zip(events, events[1:], strict=False)):
            raise ValueError("events must be sorted by time (contacts first, right first)")
        limit = self.end
        if self.period is not None:
            if not (math.isfinite(self.period) and self.period > 0):
                raise ValueError(f"period must be positive, got {self.period!r}")
            limit = self.start + self.period
        outside = [e for e in events if not self.start <= e.time <= limit]
        if outside:
            raise ValueError(f"event {outside[0]} lies outside [{self.start}, {limit}]")
        object.__setattr__(self, "events", events)

    def times(self, side: str, kind: str) -> np.ndarray:
        """Times of the events of one side and kind, increasing (s)."""
        _check_side(side)
        if kind not in EVENT_KINDS:
            raise ValueError(f"event kind must be one of {EVENT_KINDS}, got {kind!r}")
        return np.array([e.time for e in self.events if e.side == side and e.kind == kind])

    def initial_contacts(self, side: str) -> np.ndarray:
        """Times of the initial contacts of one side (s)."""
        return self.times(side, INITIAL_CONTACT)

    def toe_offs(self, side: str) -> np.ndarray:
        """Times of the toe-offs of one side (s)."""
        return self.times(side, TOE_OFF)


@dataclass(frozen=True)
class GaitCycle:
    """One gait cycle of one side: from an initial contact to the next of the same foot.

    Attributes
    ----------
    side
        ``"r"`` or ``"l"``.
    start, end
        Initial contact and the next initial contact of the same foot (s). In a
        periodic stride ``end = start + period`` and may lie past the last sample.
    toe_off
        Toe-off of the same foot within the cycle, or ``None`` if not detected.
    opposite_toe_off
        First toe-off of the opposite foot after ``start`` (end of the first double
        support), or ``None``.
    opposite_contact
        First initial contact of the opposite foot after ``opposite_toe_off`` (start of
        the second double support), or ``None``.
    periodic
        Whether the cycle is one period of a periodic stride (times past the end of the
        samples wrap around to their beginning).
    """

    side: str
    start: float
    end: float
    toe_off: float | None = None
    opposite_toe_off: float | None = None
    opposite_contact: float | None = None
    periodic: bool = False

    def __post_init__(self) -> None:
        _check_side(self.side)
        if not (math.isfinite(self.start) and math.isfinite(self.end) and self.start < self.end):
            raise ValueError(f"cycle needs finite start < end, got {self.start!r}, {self.end!r}")
        for name in ("toe_off", "opposite_toe_off", "opposite_contact"):
            value = getattr(self, name)
            if value is not None and not self.start <= value <= self.end:
                raise ValueError(
                    f"{name} {value!r} lies outside the cycle [{self.start}, {self.end}]"
                )

    @property
    def duration(self) -> float:
        """Stride time (s)."""
        return self.end - self.start

    def percent(self, time: float) -> float:
        """A time of the cycle as percent of it (0 at ``start``, 100 at ``end``)."""
        return 100.0 * (time - self.start) / self.duration

    @property
    def complete(self) -> bool:
        """Whether all three events inside the cycle are known and in walking order."""
        if self.toe_off is None or self.opposite_toe_off is None:
            return False
        if self.opposite_contact is None:
            return False
        return self.start < self.opposite_toe_off < self.opposite_contact < self.toe_off < self.end

    def require_complete(self) -> tuple[float, float, float]:
        """``(opposite_toe_off, opposite_contact, toe_off)``, checked to be in order.

        Raises
        ------
        EventError
            If an event is missing or they are not in the order of walking
            (initial contact < opposite toe-off < opposite contact < toe-off < next
            contact).
        """
        missing = [
            name
            for name in ("opposite_toe_off", "opposite_contact", "toe_off")
            if getattr(self, name) is None
        ]
        if missing:
            raise EventError(
                f"{self.side} cycle {self.start:.4f}-{self.end:.4f} s: no {', '.join(missing)} "
                "detected inside it"
            )
        if not self.complete:
            raise EventError(
                f"{self.side} cycle {self.start:.4f}-{self.end:.4f} s: events out of walking "
                f"order: opposite toe-off {self.opposite_toe_off:.4f}, opposite contact "
                f"{self.opposite_contact:.4f}, toe-off {self.toe_off:.4f} (expected "
                "contact < opposite toe-off < opposite contact < toe-off < next contact)"
            )
        assert self.opposite_toe_off is not None and self.opposite_contact is not None
        assert self.toe_off is not None
        return self.opposite_toe_off, self.opposite_contact, self.toe_off


# ---------------------------------------------------------------------------------------
# Events from force
# ---------------------------------------------------------------------------------------


def _series(values: ArrayLike, time: ArrayLike, what: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=np.float64)
    x = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"time must be 1-D with at least 2 samples, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("time must be finite and strictly increasing")
    if x.shape[:1] != t.shape:
        raise ValueError(f"{what} must have {t.size} rows (one per time), got shape {x.shape}")
    return x, t


def _contact_intervals(
    force: np.ndarray, time: np.ndarray, threshold: float
) -> list[tuple[float | None, float | None]]:
    """Contact intervals ``(on, off)`` of a non-periodic signal; None where cut by the ends."""
    above = force > threshold
    intervals: list[tuple[float | None, float | None]] = []
    on: float | None = None
    inside = bool(above[0])
    for i in np.flatnonzero(above[:-1] != above[1:]).tolist():
        fraction = (threshold - force[i]) / (force[i + 1] - force[i])
        crossing = float(time[i] + fraction * (time[i + 1] - time[i]))
        if above[i + 1]:
            on, inside = crossing, True
        else:
            intervals.append((on, crossing))
            on, inside = None, False
    if inside:
        intervals.append((on, None))
    return intervals


def _debounce(
    intervals: list[tuple[float | None, float | None]], min_duration: float
) -> list[tuple[float | None, float | None]]:
    """Close gaps shorter than ``min_duration``, then drop contacts shorter than it."""
    merged: list[tuple[float | None, float | None]] = []
    for on, off in intervals:
        if merged:
            previous_on, previous_off = merged[-1]
            assert previous_off is not None and on is not None
            if on - previous_off < min_duration:
                merged[-1] = (previous_on, off)
                continue
        merged.append((on, off))
    return [
        (on, off) for on, off in merged if on is None or off is None or off - on >= min_duration
    ]


def _sorted_events(events: list[GaitEvent]) -> tuple[GaitEvent, ...]:
    return tuple(sorted(events, key=_order))


def events_from_force(
    time: ArrayLike,
    vertical_force: Mapping[str, ArrayLike],
    *,
    threshold: float = FORCE_THRESHOLD,
    min_duration: float = MIN_PHASE_DURATION,
) -> GaitEvents:
    """Initial contacts and toe-offs from the measured vertical force of each foot.

    Parameters
    ----------
    time
        Sample times (s), strictly increasing, shape ``(n,)``.
    vertical_force
        By side (``"r"``, ``"l"``, or only one of them), the vertical ground reaction
        force on that foot (N, upward positive), shape ``(n,)``. NaN samples count as
        no contact.
    threshold
        Contact threshold (N), default 20 N. (For 2 % of body weight give
        ``0.02 * mass * 9.80665``.)
    min_duration
        Shortest contact and shortest gap kept (s); see the module documentation.

    Returns
    -------
    GaitEvents
        ``period`` None. An event is reported only where the force crosses the
        threshold inside the data: a foot already in contact at the first sample has no
        initial contact there.

    Raises
    ------
    ValueError
        If shapes disagree, time is not increasing, a force is not finite, a side is
        unknown, the threshold is not finite or the minimum duration is negative.
    """
    t = np.asarray(time, dtype=np.float64)
    threshold = float(threshold)
    min_duration = float(min_duration)
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    if not (math.isfinite(min_duration) and min_duration >= 0):
        raise ValueError(f"min_duration must be >= 0, got {min_duration!r}")
    if not vertical_force:
        raise ValueError("vertical_force needs at least one side ('r' or 'l')")
    events: list[GaitEvent] = []
    for side, values in vertical_force.items():
        _check_side(side)
        force, t = _series(values, t, f"vertical force of side {side!r}")
        if force.ndim != 1:
            raise ValueError(f"vertical force of side {side!r} must be 1-D, got {force.shape}")
        if not np.all(np.isfinite(force)):
            bad = int(np.flatnonzero(~np.isfinite(force))[0])
            raise ValueError(
                f"vertical force of side {side!r} is not finite at t = {t[bad]!r} s "
                "(fill or trim missing force samples first)"
            )
        for on, off in _debounce(_contact_intervals(force, t, threshold), min_duration):
            if on is not None:
                events.append(GaitEvent(side, INITIAL_CONTACT, on))
            if off is not None:
                events.append(GaitEvent(side, TOE_OFF, off))
    return GaitEvents(
        events=_sorted_events(events),
        start=float(t[0]),
        end=float(t[-1]),
        method=f"vertical force > {threshold:g} N, phases >= {min_duration:g} s",
    )


# ---------------------------------------------------------------------------------------
# Events of a simulated (periodic) stride
# ---------------------------------------------------------------------------------------


def _periodic_debounce(
    stance: Sequence[tuple[float, float]], period: float, min_duration: float
) -> list[tuple[float, float]]:
    """Apply the minimum-duration rule to periodic stance phases.

    ``stance`` holds ``(on, off)`` pairs with ``on`` inside the stride and ``off``
    unwrapped (``off > on``). Gaps shorter than ``min_duration`` are closed (the gap
    after the last phase leads to the first one, one period later), then phases shorter
    than it are dropped. A phase covering the whole period means permanent contact.
    """
    phases = sorted(stance)
    while phases:
        n = len(phases)
        gaps = [
            phases[(k + 1) % n][0] + (period if k + 1 == n else 0.0) - phases[k][1]
            for k in range(n)
        ]
        k = int(np.argmin(gaps))
        if gaps[k] >= min_duration:
            break
        if n == 1:
            phases = [(phases[0][0], phases[0][0] + period)]
            break
        if k + 1 < n:
            phases = [*phases[:k], (phases[k][0], phases[k + 1][1]), *phases[k + 2 :]]
        else:
            phases = [*phases[1:-1], (phases[-1][0], phases[0][1] + period)]
    return [p for p in phases if p[1] - p[0] >= min_duration]


def events_from_result(
    result: WalkingResult,
    *,
    threshold: float = CONTACT_THRESHOLD,
    min_duration: float = MIN_PHASE_DURATION,
) -> GaitEvents:
    """Initial contacts and toe-offs of a simulated stride, from its ground reaction forces.

    The stride is periodic (its last sample is the first of the next stride, see
    :class:`~gaitsim.simulate.result.WalkingResult`): the events are those of
    :func:`gaitsim.analysis.gait_metrics.contact_events` for each foot's vertical force
    in body weights, after removing contacts and gaps shorter than ``min_duration``
    (none in a converged simulation; the rule is there for consistency with measured
    trials).

    Parameters
    ----------
    result
        The simulated stride.
    threshold
        Contact threshold in body weights (default 0.02, i.e. 2 % BW).
    min_duration
        Shortest contact and gap kept (s).

    Returns
    -------
    GaitEvents
        With ``period`` the stride duration; event times in ``[start, start + period)``.
    """
    time = np.asarray(result.time, dtype=np.float64)
    weight = float(result.body_mass) * STANDARD_GRAVITY
    if not weight > 0:
        raise ValueError(f"body mass must be positive, got {result.body_mass!r}")
    start = float(time[0])
    period = float(time[-1] - time[0])
    events: list[GaitEvent] = []
    for side in SIDES:
        if side not in result.grf:
            continue
        force = np.asarray(result.grf[side], dtype=np.float64)[:, 1] / weight
        found = contact_events(force, time, threshold=threshold)
        for on, off in _periodic_debounce(found.stance, period, float(min_duration)):
            if off - on >= period:
                continue  # always in contact: no event
            events.append(GaitEvent(side, INITIAL_CONTACT, start + (on - start) % period))
            events.append(GaitEvent(side, TOE_OFF, start + (off - start) % period))
    return GaitEvents(
        events=_sorted_events(events),
        start=start,
        end=float(time[-1]),
        period=period,
        method=f"vertical force > {threshold:g} BW, phases >= {float(min_duration):g} s",
    )


# ---------------------------------------------------------------------------------------
# Events from markers (Zeni et al. 2008)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZeniMarkers:
    """Names of the markers used by :func:`events_from_markers`.

    Attributes
    ----------
    heel, toe
        By side, the heel marker and the toe (forefoot) marker, e.g.
        ``{"r": "RHEE", "l": "LHEE"}`` and ``{"r": "RTOE", "l": "LTOE"}``.
    pelvis
        The sacral marker, or several pelvis markers whose mean stands for it (e.g.
        ``("LPSI", "RPSI")``).
    """

    heel: Mapping[str, str]
    toe: Mapping[str, str]
    pelvis: tuple[str, ...]

    def __post_init__(self) -> None:
        for what in ("heel", "toe"):
            names = dict(getattr(self, what))
            if not names or any(side not in SIDES for side in names):
                raise ValueError(f"{what} markers must be given by side 'r'/'l', got {names}")
            object.__setattr__(self, what, names)
        if set(self.heel) != set(self.toe):
            raise ValueError(f"heel and toe markers for different sides: {self.heel}, {self.toe}")
        pelvis = (self.pelvis,) if isinstance(self.pelvis, str) else tuple(self.pelvis)
        if not pelvis:
            raise ValueError("at least one pelvis (sacrum) marker is needed")
        object.__setattr__(self, "pelvis", pelvis)


def walking_direction(pelvis: ArrayLike, *, min_travel: float = _MIN_TRAVEL) -> np.ndarray:
    """Unit horizontal direction of travel of a pelvis trajectory (ground frame, y up).

    Parameters
    ----------
    pelvis
        Positions (m), shape ``(n, 3)``; NaN rows are ignored.
    min_travel
        Least horizontal distance (m) between the first and last finite positions.

    Returns
    -------
    numpy.ndarray
        ``(dx, 0, dz)`` of unit length.

    Raises
    ------
    EventError
        If the pelvis travels less than ``min_travel`` (e.g. on a treadmill): the
        direction must then be given by the caller.
    """
    p = np.asarray(pelvis, dtype=np.float64)
    finite = np.flatnonzero(np.all(np.isfinite(p), axis=1))
    if finite.size < 2:
        raise EventError("the pelvis markers are missing in all but one frame")
    travel = p[finite[-1]] - p[finite[0]]
    travel[1] = 0.0
    distance = float(np.linalg.norm(travel))
    if distance < min_travel:
        raise EventError(
            f"the pelvis travels only {distance:.3f} m horizontally (less than {min_travel} m): "
            "a treadmill trial? give the walking direction, e.g. direction=(1, 0, 0)"
        )
    return travel / distance


def _unit_direction(direction: ArrayLike) -> np.ndarray:
    d = np.asarray(direction, dtype=np.float64).reshape(-1)
    if d.shape != (3,) or not np.all(np.isfinite(d)):
        raise ValueError(f"direction must be 3 finite numbers, got {direction!r}")
    d = d.copy()
    d[1] = 0.0
    norm = float(np.linalg.norm(d))
    if norm == 0.0:
        raise ValueError(f"direction {direction!r} has no horizontal component")
    return d / norm


def _refined_extremes(t: np.ndarray, y: np.ndarray, indices: np.ndarray) -> list[float]:
    """Sub-sample times of extremes at ``indices`` (parabola through 3 samples)."""
    times = []
    for k in indices.tolist():
        y0, y1, y2 = y[k - 1], y[k], y[k + 1]
        curvature = y0 - 2.0 * y1 + y2
        if curvature == 0.0 or not math.isfinite(curvature):
            times.append(float(t[k]))
            continue
        offset = float(np.clip(0.5 * (y0 - y2) / curvature, -1.0, 1.0))
        step = t[k + 1] - t[k] if offset > 0 else t[k] - t[k - 1]
        times.append(float(t[k] + offset * step))
    return times


def _maxima(
    t: np.ndarray, y: np.ndarray, min_interval: float, min_prominence: float
) -> list[float]:
    """Times of the prominent maxima of ``y`` inside its finite stretches."""
    found: list[float] = []
    finite = np.isfinite(y)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], finite.astype(int), [0]))))
    for begin, end in zip(edges[::2], edges[1::2], strict=True):
        if end - begin < 3:
            continue
        ts, ys = t[begin:end], y[begin:end]
        step = float(np.median(np.diff(ts)))
        distance = max(1, int(math.floor(min_interval / step)))
        peaks, _ = find_peaks(ys, distance=distance, prominence=min_prominence)
        found.extend(_refined_extremes(ts, ys, peaks))
    return found


def events_from_markers(
    markers: MarkerTable,
    names: ZeniMarkers,
    *,
    direction: ArrayLike | None = None,
    min_interval: float = 0.4,
    min_prominence: float = 0.05,
) -> GaitEvents:
    """Initial contacts and toe-offs from heel, toe and pelvis markers (Zeni et al. 2008).

    Parameters
    ----------
    markers
        Marker trajectories in the model's ground frame (y up), metres.
    names
        Which markers are the heels, toes and pelvis.
    direction
        Walking direction in the ground frame (only its horizontal part is used).
        ``None``: the direction of the pelvis' travel over the trial (overground
        walking); treadmill trials must give it (e.g. ``(1, 0, 0)``).
    min_interval
        Shortest time (s) between two events of the same kind and foot (less than any
        stride time: strides last about 1 s).
    min_prominence
        Least prominence (m) of an extreme, against marker noise (the heel moves about
        0.6 m to and fro relative to the pelvis in walking).

    Returns
    -------
    GaitEvents
        ``period`` None; events only at extremes inside the data (not at the first or
        last frame, nor next to missing frames).

    Raises
    ------
    LookupError
        If a marker is not in the table.
    EventError
        If the direction is not given and the pelvis does not travel.
    """
    time = np.asarray(markers.time, dtype=np.float64)
    if np.any(np.diff(time) <= 0):
        raise ValueError("marker times must be strictly increasing")
    pelvis = np.mean([markers.marker(name) for name in names.pelvis], axis=0)
    d = walking_direction(pelvis) if direction is None else _unit_direction(direction)
    pelvis_along = pelvis @ d
    events: list[GaitEvent] = []
    for side in SIDES:
        if side not in names.heel:
            continue
        heel = markers.marker(names.heel[side]) @ d - pelvis_along
        toe = markers.marker(names.toe[side]) @ d - pelvis_along
        for when in _maxima(time, heel, min_interval, min_prominence):
            events.append(GaitEvent(side, INITIAL_CONTACT, when))
        for when in _maxima(time, -toe, min_interval, min_prominence):
            events.append(GaitEvent(side, TOE_OFF, when))
    return GaitEvents(
        events=_sorted_events(events),
        start=float(time[0]),
        end=float(time[-1]),
        method="Zeni et al. 2008: heel and toe positions relative to the pelvis",
    )


# ---------------------------------------------------------------------------------------
# Cycles
# ---------------------------------------------------------------------------------------


def _first_after(times: np.ndarray, after: float, before: float) -> float | None:
    inside = times[(times > after) & (times < before)]
    return float(inside[0]) if inside.size else None


def _periodic_cycle(events: GaitEvents, side: str, contact: float) -> GaitCycle:
    assert events.period is not None
    period = events.period

    def unwrapped(times: np.ndarray) -> np.ndarray:
        shifted = contact + np.mod(times - contact, period)
        return np.sort(shifted[shifted > contact])

    end = contact + period
    other = opposite(side)
    toe_off = _first_after(unwrapped(events.toe_offs(side)), contact, end)
    opposite_toe_off = _first_after(unwrapped(events.toe_offs(other)), contact, end)
    after = contact if opposite_toe_off is None else opposite_toe_off
    opposite_contact = _first_after(unwrapped(events.initial_contacts(other)), after, end)
    return GaitCycle(side, contact, end, toe_off, opposite_toe_off, opposite_contact, True)


def gait_cycles(events: GaitEvents, side: str) -> tuple[GaitCycle, ...]:
    """The gait cycles of one side.

    A measured trial has a cycle between each two consecutive initial contacts of the
    side. A periodic stride has one cycle per initial contact, over one period from it
    (events of the next period are the same ones shifted by the period).

    Parameters
    ----------
    events
        Events of the trial or stride.
    side
        ``"r"`` or ``"l"``.

    Returns
    -------
    tuple of GaitCycle
        In time order; events not found inside a cycle are ``None`` in it.
    """
    _check_side(side)
    contacts = events.initial_contacts(side)
    if events.period is not None:
        return tuple(_periodic_cycle(events, side, float(c)) for c in contacts)
    other = opposite(side)
    cycles = []
    for start, end in zip(contacts[:-1].tolist(), contacts[1:].tolist(), strict=True):
        toe_off = _first_after(events.toe_offs(side), start, end)
        opposite_toe_off = _first_after(events.toe_offs(other), start, end)
        after = start if opposite_toe_off is None else opposite_toe_off
        opposite_contact = _first_after(events.initial_contacts(other), after, end)
        cycles.append(GaitCycle(side, start, end, toe_off, opposite_toe_off, opposite_contact))
    return tuple(cycles)


def cycle_normalised(
    values: ArrayLike, time: ArrayLike, cycle: GaitCycle, *, n_points: int = N_POINTS
) -> np.ndarray:
    """A variable resampled at ``n_points`` (101: every percent) over one gait cycle.

    Linear interpolation. For a periodic cycle (a simulated stride) the samples are taken
    as periodic, the last sample being the first of the next stride (see
    :func:`gaitsim.analysis.gait_metrics.cycle_normalised`), so the cycle may start
    anywhere and wrap around the end.

    Parameters
    ----------
    values
        Shape ``(n,)`` or ``(n, m)`` (columns resampled alike).
    time
        Sample times (s), strictly increasing, shape ``(n,)``.
    cycle
        The cycle; for a measured trial it must lie within the samples.
    n_points
        Number of points, 0 to 100 % of the cycle.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_points,)`` or ``(n_points, m)``; NaN where a sample used is NaN.

    Raises
    ------
    ValueError
        If the cycle is not covered by the samples (measured trial) or shapes disagree.
    """
    x, t = _series(values, time, "values")
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2, got {n_points}")
    if cycle.periodic:
        span = float(t[-1] - t[0])
        if abs(span - cycle.duration) > 1e-9 * max(span, 1.0):
            raise ValueError(
                f"periodic cycle of {cycle.duration} s does not match the samples' span "
                f"{span} s (the last sample must start the next stride)"
            )
        return _periodic_normalised(x, t, cycle.start, n_points=n_points)
    tolerance = 1e-9 * max(abs(float(t[-1])), 1.0)
    if cycle.start < t[0] - tolerance or cycle.end > t[-1] + tolerance:
        raise ValueError(
            f"cycle {cycle.start}-{cycle.end} s is not within the samples {t[0]}-{t[-1]} s"
        )
    targets = np.linspace(cycle.start, cycle.end, n_points)
    if x.ndim == 1:
        return np.interp(targets, t, x)
    flat = x.reshape(x.shape[0], -1)
    columns = [np.interp(targets, t, flat[:, j]) for j in range(flat.shape[1])]
    return np.stack(columns, axis=1).reshape((n_points, *x.shape[1:]))
