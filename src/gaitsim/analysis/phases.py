"""Gait phases (Perry & Burnfield, *Gait Analysis: Normal and Pathological Function*,
2nd ed., 2010): the eight phases of one limb's gait cycle.

A :class:`Phase` is one phase of one side, as a time interval. Strides are periodic, so
a phase may run past the end of a stride (``end`` greater than the stride's last time):
:meth:`Phase.mask` takes times modulo the stride period.

:func:`gait_phases` divides a :class:`~gaitsim.analysis.events.GaitCycle` into the eight
phases from its events (initial contact, opposite toe-off, opposite initial contact,
toe-off, next initial contact) and, where measured, three kinematic events
(:class:`PhaseEvents`: heel rise, feet adjacent, tibia vertical); without them it uses
documented substitutes (midpoint of single support; 13/38 and 25/38 of swing, Perry's
normal timing). :func:`phase_boundaries` says which definition gave each boundary.
:func:`phase_events_from_markers` and :func:`phase_events_from_result` find the
kinematic events from marker trajectories or from a simulated stride's model kinematics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from gaitsim.analysis.clinical_variables import horizontal_unit
from gaitsim.analysis.events import EventError, GaitCycle, opposite

if TYPE_CHECKING:
    from gaitsim.io.trc import MarkerTable
    from gaitsim.mechanics.model_functions import ModelFunctions
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "HEEL_RISE_HEIGHT",
    "PERRY_PHASES",
    "STANCE_PHASES",
    "SWING_FRACTIONS",
    "SWING_PHASES",
    "Phase",
    "PhaseBoundary",
    "PhaseEvents",
    "feet_adjacent_time",
    "gait_phases",
    "heel_rise_time",
    "phase_boundaries",
    "phase_events_from_markers",
    "phase_events_from_result",
    "tibia_vertical_time",
]

#: The eight phases in order, from initial contact of the limb.
PERRY_PHASES = (
    "initial_contact",
    "loading_response",
    "mid_stance",
    "terminal_stance",
    "pre_swing",
    "initial_swing",
    "mid_swing",
    "terminal_swing",
)
STANCE_PHASES = PERRY_PHASES[:5]
SWING_PHASES = PERRY_PHASES[5:]


@dataclass(frozen=True)
class Phase:
    """One gait phase of one side.

    Attributes
    ----------
    name
        One of :data:`PERRY_PHASES`.
    side
        ``"r"`` or ``"l"``.
    start, end
        Times (s), ``start <= end``; ``end`` may exceed the stride's last time in a
        periodic stride (see :meth:`mask`).
    """

    name: str
    side: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if self.name not in PERRY_PHASES:
            raise ValueError(f"unknown phase {self.name!r}; expected one of {PERRY_PHASES}")
        if self.side not in ("r", "l"):
            raise ValueError(f"side must be 'r' or 'l', got {self.side!r}")
        if not (np.isfinite(self.start) and np.isfinite(self.end) and self.start <= self.end):
            raise ValueError(
                f"phase {self.name}: need finite start <= end, got {self.start}, {self.end}"
            )

    @property
    def duration(self) -> float:
        """Length of the phase (s)."""
        return self.end - self.start

    def mask(self, time: ArrayLike, period: float | None = None) -> np.ndarray:
        """Which of ``time`` fall in ``[start, end)``.

        With ``period`` (the stride duration of a periodic stride), times are compared
        modulo the period, so a phase that wraps past the stride's end is found at its
        beginning too.
        """
        t = np.asarray(time, dtype=float)
        if period is None:
            return (t >= self.start) & (t < self.end)
        if not period > 0:
            raise ValueError(f"period must be positive, got {period}")
        if self.duration >= period:
            return np.ones(t.shape, dtype=bool)
        offset = np.mod(t - self.start, period)
        return offset < self.duration


# ---------------------------------------------------------------------------------------
# Phases of a gait cycle from its events
# ---------------------------------------------------------------------------------------

#: Perry & Burnfield (2010), normal walking: where initial swing and mid swing end, as
#: fractions of swing. Initial swing is 62-75 %, mid swing 75-87 % and terminal swing
#: 87-100 % of the cycle (Perry & Burnfield 2010, "Phases of Gait"): 13/38 and 25/38 of
#: the 38 % swing.
SWING_FRACTIONS = (13.0 / 38.0, 25.0 / 38.0)
#: Default rise (m) of the heel above its lowest stance height that marks heel rise.
HEEL_RISE_HEIGHT = 0.01


@dataclass(frozen=True)
class PhaseEvents:
    """Kinematic events that end mid-stance, initial swing and mid swing, if measured.

    Any of them may be ``None``; :func:`gait_phases` then uses the documented
    substitute (see :func:`phase_boundaries`).

    Attributes
    ----------
    heel_rise
        The heel leaves the floor (end of mid-stance), s.
    feet_adjacent
        The swinging foot passes the stance foot (end of initial swing), s.
    tibia_vertical
        The swinging limb's tibia passes the vertical (end of mid swing), s.
    """

    heel_rise: float | None = None
    feet_adjacent: float | None = None
    tibia_vertical: float | None = None


@dataclass(frozen=True)
class PhaseBoundary:
    """Where one phase ends, and which definition gave it.

    Attributes
    ----------
    phase
        The phase that ends here (one of :data:`PERRY_PHASES`).
    time
        When (s).
    definition
        The event used, in words (e.g. ``"opposite toe-off"`` or
        ``"substitute: midpoint of single support"``).
    measured
        Whether the event was detected (True) or is a substitute (False).
    """

    phase: str
    time: float
    definition: str
    measured: bool


def _inside(name: str, value: float, begin: float, end: float) -> None:
    if not begin <= value <= end:
        raise EventError(
            f"{name} at {value:.4f} s is outside its phase window [{begin:.4f}, {end:.4f}] s"
        )


def phase_boundaries(
    cycle: GaitCycle, events: PhaseEvents | None = None
) -> tuple[PhaseBoundary, ...]:
    """The end of each of Perry's phases in one gait cycle, with the definition used.

    Definitions (Perry & Burnfield 2010, *Gait Analysis: Normal and Pathological
    Function*, 2nd ed., "Phases of Gait"):

    ========================  ==========================================================
    phase                     ends at
    ========================  ==========================================================
    initial contact           the initial contact itself (an instant: zero duration)
    loading response          opposite toe-off
    mid-stance                heel rise if measured; else the midpoint of single support
                              (31 % of the cycle in Perry's normal timing, where heel
                              rise falls)
    terminal stance           opposite initial contact
    pre-swing                 toe-off
    initial swing             feet adjacent if measured; else 13/38 of swing
                              (62-75 % of the cycle in Perry's normal timing)
    mid swing                 tibia vertical if measured; else 25/38 of swing (75-87 %)
    terminal swing            the next initial contact
    ========================  ==========================================================

    Parameters
    ----------
    cycle
        A complete gait cycle (see :meth:`GaitCycle.require_complete`).
    events
        Measured kinematic events; ``None`` or ``None`` fields use the substitutes.

    Returns
    -------
    tuple of PhaseBoundary
        One per phase of :data:`PERRY_PHASES`, in order.

    Raises
    ------
    EventError
        If the cycle lacks an event or its events are out of order, or a kinematic event
        lies outside its window (heel rise within single support, feet adjacent within
        the first swing phase window: after toe-off and before tibia vertical or the next
        contact, tibia vertical after feet adjacent and before the next contact).
    """
    opposite_toe_off, opposite_contact, toe_off = cycle.require_complete()
    given = events or PhaseEvents()
    swing = cycle.end - toe_off
    out = [
        PhaseBoundary("initial_contact", cycle.start, "initial contact (an instant)", True),
        PhaseBoundary("loading_response", opposite_toe_off, "opposite toe-off", True),
    ]
    if given.heel_rise is not None:
        _inside("heel rise", given.heel_rise, opposite_toe_off, opposite_contact)
        out.append(PhaseBoundary("mid_stance", given.heel_rise, "heel rise", True))
    else:
        middle = 0.5 * (opposite_toe_off + opposite_contact)
        out.append(
            PhaseBoundary("mid_stance", middle, "substitute: midpoint of single support", False)
        )
    out.append(PhaseBoundary("terminal_stance", opposite_contact, "opposite initial contact", True))
    out.append(PhaseBoundary("pre_swing", toe_off, "toe-off", True))
    latest = cycle.end if given.tibia_vertical is None else given.tibia_vertical
    if given.feet_adjacent is not None:
        _inside("feet adjacent", given.feet_adjacent, toe_off, latest)
        adjacent = PhaseBoundary("initial_swing", given.feet_adjacent, "feet adjacent", True)
    else:
        adjacent = PhaseBoundary(
            "initial_swing",
            toe_off + SWING_FRACTIONS[0] * swing,
            "substitute: 13/38 of swing (Perry's normal timing)",
            False,
        )
    if given.tibia_vertical is not None:
        _inside("tibia vertical", given.tibia_vertical, adjacent.time, cycle.end)
        vertical = PhaseBoundary("mid_swing", given.tibia_vertical, "tibia vertical", True)
    else:
        substitute = toe_off + SWING_FRACTIONS[1] * swing
        if substitute < adjacent.time:  # measured feet adjacent late in swing
            substitute = 0.5 * (adjacent.time + cycle.end)
        vertical = PhaseBoundary(
            "mid_swing", substitute, "substitute: 25/38 of swing (Perry's normal timing)", False
        )
    out += [adjacent, vertical]
    out.append(PhaseBoundary("terminal_swing", cycle.end, "next initial contact", True))
    return tuple(out)


def gait_phases(cycle: GaitCycle, events: PhaseEvents | None = None) -> tuple[Phase, ...]:
    """Perry's eight phases of one gait cycle, in order, tiling the cycle.

    ``initial_contact`` is a zero-duration phase at the initial contact; the seven others
    follow one another without gap or overlap from the initial contact to the next one.
    The boundaries are those of :func:`phase_boundaries` (which says which definition
    gave each). In a periodic stride the phases may end after the last sample (see
    :meth:`Phase.mask`).

    Parameters
    ----------
    cycle
        A complete gait cycle.
    events
        Measured kinematic events (heel rise, feet adjacent, tibia vertical), if any.

    Returns
    -------
    tuple of Phase
        Eight phases in the order of :data:`PERRY_PHASES`.

    Raises
    ------
    EventError
        As :func:`phase_boundaries`.
    """
    boundaries = phase_boundaries(cycle, events)
    phases = [Phase("initial_contact", cycle.side, cycle.start, cycle.start)]
    begin = cycle.start
    for boundary in boundaries[1:]:
        phases.append(Phase(boundary.phase, cycle.side, begin, boundary.time))
        begin = boundary.time
    return tuple(phases)


# ---------------------------------------------------------------------------------------
# Kinematic phase events
# ---------------------------------------------------------------------------------------


def _upward_crossing(
    time: np.ndarray, signal: np.ndarray, after: float, before: float, level: float = 0.0
) -> float | None:
    """First time in ``(after, before)`` where ``signal`` rises through ``level``."""
    for i in range(len(time) - 1):
        t0, t1 = time[i], time[i + 1]
        if t1 <= after or t0 >= before:
            continue
        y0, y1 = signal[i] - level, signal[i + 1] - level
        if not (np.isfinite(y0) and np.isfinite(y1)) or not (y0 < 0.0 <= y1):
            continue
        crossing = float(t0 + (t1 - t0) * (-y0) / (y1 - y0))
        if after < crossing < before:
            return crossing
    return None


def _periodic_extension(
    time: np.ndarray, values: np.ndarray, start: float, end: float
) -> tuple[np.ndarray, np.ndarray]:
    """Periodic samples (last = first of the next period) repeated to cover [start, end]."""
    period = float(time[-1] - time[0])
    t, v = time[:-1], values[:-1]
    first = math.floor((start - time[0]) / period) - 1
    last = math.ceil((end - time[0]) / period) + 1
    ts = np.concatenate([t + k * period for k in range(first, last + 1)])
    vs = np.concatenate([v for _ in range(first, last + 1)])
    return ts, vs


def heel_rise_time(
    time: ArrayLike,
    heel_height: ArrayLike,
    cycle: GaitCycle,
    *,
    rise: float = HEEL_RISE_HEIGHT,
) -> float | None:
    """When the heel rises ``rise`` metres above its lowest height in stance.

    Searched in single support (opposite toe-off to opposite initial contact); the
    lowest height is taken from the initial contact to the opposite initial contact.
    For a periodic cycle the samples are taken as periodic.

    Returns
    -------
    float or None
        ``None`` if the heel does not rise within single support (then mid-stance ends
        at the substitute of :func:`phase_boundaries`).
    """
    opposite_toe_off, opposite_contact, _ = cycle.require_complete()
    t = np.asarray(time, dtype=np.float64)
    h = np.asarray(heel_height, dtype=np.float64)
    if cycle.periodic:
        t, h = _periodic_extension(t, h, cycle.start, cycle.end)
    stance = (t >= cycle.start) & (t <= opposite_contact) & np.isfinite(h)
    if not np.any(stance):
        return None
    lowest = float(h[stance].min())
    return _upward_crossing(t, h, opposite_toe_off, opposite_contact, lowest + rise)


def _along(points: ArrayLike, direction: np.ndarray) -> np.ndarray:
    return np.asarray(points, dtype=np.float64) @ direction


def feet_adjacent_time(
    time: ArrayLike,
    swing_foot: ArrayLike,
    stance_foot: ArrayLike,
    cycle: GaitCycle,
    direction: ArrayLike = (1.0, 0.0, 0.0),
) -> float | None:
    """When the swinging foot passes the stance foot along the walking direction.

    Parameters
    ----------
    time
        Sample times (s).
    swing_foot, stance_foot
        The same landmark of the cycle's foot and of the opposite foot (e.g. ankle
        markers or the ``calcn`` origins), ``(n, 3)`` in ground.
    cycle
        The cycle (of the swinging foot).
    direction
        Walking direction (horizontal part used).

    Returns
    -------
    float or None
        First time after toe-off where the swinging foot comes level with the stance
        foot, or ``None`` if it does not before the next initial contact.
    """
    _, _, toe_off = cycle.require_complete()
    d = horizontal_unit(direction)
    t = np.asarray(time, dtype=np.float64)
    gap = _along(swing_foot, d) - _along(stance_foot, d)
    if cycle.periodic:
        t, gap = _periodic_extension(t, gap, cycle.start, cycle.end)
    return _upward_crossing(t, gap, toe_off, cycle.end)


def tibia_vertical_time(
    time: ArrayLike,
    knee: ArrayLike,
    ankle: ArrayLike,
    cycle: GaitCycle,
    direction: ArrayLike = (1.0, 0.0, 0.0),
    *,
    after: float | None = None,
) -> float | None:
    """When the swinging tibia passes the vertical: the ankle comes level with the knee.

    Parameters
    ----------
    time
        Sample times (s).
    knee, ankle
        Knee and ankle joint centres (or lateral knee and malleolus markers) of the
        cycle's side, ``(n, 3)`` in ground.
    cycle
        The cycle.
    direction
        Walking direction (horizontal part used).
    after
        Search from this time (e.g. feet adjacent); default the toe-off.

    Returns
    -------
    float or None
        First time in swing where the ankle moves ahead of the knee, or ``None``.
    """
    _, _, toe_off = cycle.require_complete()
    d = horizontal_unit(direction)
    t = np.asarray(time, dtype=np.float64)
    lead = _along(ankle, d) - _along(knee, d)
    if cycle.periodic:
        t, lead = _periodic_extension(t, lead, cycle.start, cycle.end)
    return _upward_crossing(t, lead, toe_off if after is None else after, cycle.end)


def _phase_events(
    time: np.ndarray,
    cycle: GaitCycle,
    heel_height: np.ndarray | None,
    swing_foot: np.ndarray,
    stance_foot: np.ndarray,
    knee: np.ndarray,
    ankle: np.ndarray,
    direction: ArrayLike,
    rise: float,
) -> PhaseEvents:
    heel = None if heel_height is None else heel_rise_time(time, heel_height, cycle, rise=rise)
    adjacent = feet_adjacent_time(time, swing_foot, stance_foot, cycle, direction)
    vertical = tibia_vertical_time(time, knee, ankle, cycle, direction, after=adjacent)
    return PhaseEvents(heel_rise=heel, feet_adjacent=adjacent, tibia_vertical=vertical)


def phase_events_from_markers(
    markers: MarkerTable,
    cycle: GaitCycle,
    *,
    heel: Mapping[str, str],
    ankle: Mapping[str, str],
    knee: Mapping[str, str],
    direction: ArrayLike = (1.0, 0.0, 0.0),
    rise: float = HEEL_RISE_HEIGHT,
) -> PhaseEvents:
    """Heel rise, feet adjacent and tibia vertical of one cycle from markers.

    * heel rise: the heel marker of the cycle's side rises ``rise`` above its lowest
      stance height (:func:`heel_rise_time`);
    * feet adjacent: the swinging ankle marker passes the stance ankle marker along the
      walking direction (:func:`feet_adjacent_time`);
    * tibia vertical: the swinging ankle marker passes the knee marker of the same side
      (:func:`tibia_vertical_time`), searched after feet adjacent.

    Parameters
    ----------
    markers
        Trajectories in the ground frame (y up), metres.
    cycle
        A complete cycle of the trial.
    heel, ankle, knee
        Marker names by side (``ankle`` for both sides, ``heel`` and ``knee`` for the
        cycle's side at least).
    direction
        Walking direction (horizontal part used).
    rise
        Heel rise height (m).
    """
    side = cycle.side
    other = opposite(side)
    time = np.asarray(markers.time, dtype=np.float64)
    return _phase_events(
        time,
        cycle,
        markers.marker(heel[side])[:, 1],
        markers.marker(ankle[side]),
        markers.marker(ankle[other]),
        markers.marker(knee[side]),
        markers.marker(ankle[side]),
        direction,
        rise,
    )


def phase_events_from_result(
    result: WalkingResult,
    functions: ModelFunctions,
    cycle: GaitCycle,
    *,
    rise: float = HEEL_RISE_HEIGHT,
) -> PhaseEvents:
    """Heel rise, feet adjacent and tibia vertical of a simulated cycle, from the model.

    Body origins from :meth:`ModelFunctions.body_poses` (OpenSim models: the ``tibia``
    origin is the knee centre, ``talus`` the ankle centre, ``calcn`` at the back of the
    heel):

    * heel rise: the ``calcn`` origin rises ``rise`` above its lowest stance height;
    * feet adjacent: the swinging ``talus`` origin passes the stance one along the
      walking direction (+x, or -x when the stride's speed is negative);
    * tibia vertical: the swinging ``talus`` origin passes its ``tibia`` origin.

    Parameters
    ----------
    result
        The simulated stride.
    functions
        The model's functions (``functions.model`` must be the simulated model).
    cycle
        A complete (periodic) cycle of the stride.
    rise
        Heel rise height (m).

    Raises
    ------
    LookupError
        If the model lacks the ``calcn``, ``talus`` or ``tibia`` bodies of a side.
    """
    side = cycle.side
    other = opposite(side)
    model = functions.model
    if tuple(result.coordinate_names) != tuple(model.coordinate_names):
        raise ValueError(
            f"the result's coordinates do not match the model {model.name!r}: "
            f"{result.coordinate_names} vs {model.coordinate_names}"
        )
    bodies = [b.name for b in model.bodies]
    needed = [f"calcn_{side}", f"talus_{side}", f"talus_{other}", f"tibia_{side}"]
    missing = [b for b in needed if b not in bodies]
    if missing:
        raise LookupError(f"model {model.name!r} has no bod(ies) {missing}")
    q = np.asarray(result.q, dtype=np.float64)
    n = q.shape[0]
    positions = np.asarray(functions.body_poses.map(n)(q.T)[0])  # 3 x (n_b * n)
    origins = positions.reshape(3, n, len(bodies)).transpose(1, 2, 0)  # (n, n_b, 3)

    def origin(body: str) -> np.ndarray:
        return origins[:, bodies.index(body), :]

    direction = (1.0 if result.speed >= 0 else -1.0, 0.0, 0.0)
    return _phase_events(
        np.asarray(result.time, dtype=np.float64),
        cycle,
        origin(f"calcn_{side}")[:, 1],
        origin(f"talus_{side}"),
        origin(f"talus_{other}"),
        origin(f"tibia_{side}"),
        origin(f"talus_{side}"),
        direction,
        rise,
    )
