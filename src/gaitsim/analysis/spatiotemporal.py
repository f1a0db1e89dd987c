"""Spatio-temporal gait parameters of one gait cycle.

For a cycle of side *s* (initial contact IC\\ :sub:`s` at :math:`t_0`, opposite toe-off
:math:`t_{oo}`, opposite initial contact :math:`t_{oc}`, toe-off :math:`t_o`, next
initial contact :math:`t_1`; :math:`T = t_1 - t_0`) and the position :math:`x_s(t)` of
the contact point of foot *s* along the walking direction:

=========================  ======================================================
parameter                  definition
=========================  ======================================================
stride time                :math:`T`
stride length              :math:`x_s(t_1) - x_s(t_0)`
speed                      stride length / stride time
cadence                    :math:`120 / T` steps per minute (two steps a stride)
step time                  :math:`t_1 - t_{oc}` (the step that ends with this
                           foot's contact)
step length                :math:`x_s(t_1) - x_o(t_{oc})`: how far this foot lands
                           in front of where the opposite foot landed
stance %                   :math:`100 (t_o - t_0) / T`
swing %                    :math:`100 (t_1 - t_o) / T`
double support %           :math:`100 [(t_{oo} - t_0) + (t_o - t_{oc})] / T`
                           (both double supports of the cycle)
single support %           :math:`100 (t_{oc} - t_{oo}) / T` (this foot alone on
                           the floor = the opposite foot's swing)
=========================  ======================================================

So stance = double support + single support, and over a cycle the right and left step
lengths add up to the stride length (sum laws the tests check).

Where the contact point positions come from:

* measured trials (:func:`spatiotemporal_from_markers`): the heel (or another foot)
  marker of each foot at its initial contact, interpolated linearly between frames;
* simulated strides (:func:`spatiotemporal_from_result`): the centre of pressure of the
  foot at the first sample at or after its initial contact (where the contact point
  is), from :attr:`WalkingResult.cop`; the stride is periodic, so the next contact of
  the same foot is the same one a stride later, displaced by the distance walked
  (``result.speed * period`` along x).

Lengths are measured along the walking direction (for a simulation: +x, or -x when the
speed is negative, so backward walking has positive lengths); speed is then positive
too. Times in s, lengths in m, speed in m/s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from gaitsim.analysis.events import (
    EventError,
    GaitCycle,
    GaitEvents,
    events_from_result,
    gait_cycles,
    opposite,
    walking_direction,
)

if TYPE_CHECKING:
    from gaitsim.io.trc import MarkerTable
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "SpatioTemporal",
    "average",
    "spatiotemporal",
    "spatiotemporal_from_markers",
    "spatiotemporal_from_result",
]


@dataclass(frozen=True)
class SpatioTemporal:
    """Spatio-temporal parameters of one gait cycle (see the module documentation).

    Attributes
    ----------
    side
        ``"r"`` or ``"l"``: the side whose cycle it is.
    speed
        m/s.
    cadence
        Steps per minute.
    stride_time, step_time
        s.
    stride_length, step_length
        m.
    stance_percent, swing_percent, double_support_percent, single_support_percent
        Percent of the stride time.
    """

    side: str
    speed: float
    cadence: float
    stride_time: float
    stride_length: float
    step_time: float
    step_length: float
    stance_percent: float
    swing_percent: float
    double_support_percent: float
    single_support_percent: float

    def as_dict(self) -> dict[str, float | str]:
        """The parameters by name (JSON-ready)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: A function giving the position (3,) of a foot's contact point at an initial contact:
#: ``position(side, time)``.
ContactPosition = Callable[[str, float], np.ndarray]


def spatiotemporal(
    cycle: GaitCycle, contact_position: ContactPosition, direction: ArrayLike
) -> SpatioTemporal:
    """Spatio-temporal parameters of one complete gait cycle.

    Parameters
    ----------
    cycle
        The cycle (its three inner events must be known and in walking order).
    contact_position
        ``contact_position(side, time)``: position (m, ground frame) of the foot's
        contact point at its initial contact at ``time`` (called for the cycle's start
        and end on its side and for the opposite contact).
    direction
        Walking direction; lengths are measured along its horizontal part.

    Returns
    -------
    SpatioTemporal

    Raises
    ------
    EventError
        If the cycle lacks an event or its events are out of order.
    """
    opposite_toe_off, opposite_contact, toe_off = cycle.require_complete()
    d = np.asarray(direction, dtype=np.float64).reshape(3).copy()
    d[1] = 0.0
    norm = float(np.linalg.norm(d))
    if not norm > 0:
        raise ValueError(f"direction {direction!r} has no horizontal component")
    d /= norm
    side = cycle.side

    def along(which: str, time: float) -> float:
        position = np.asarray(contact_position(which, time), dtype=np.float64).reshape(3)
        value = float(position @ d)
        if not math.isfinite(value):
            raise EventError(f"no contact position of foot {which!r} at {time:.4f} s")
        return value

    stride_time = cycle.duration
    landing = along(side, cycle.end)
    stride_length = landing - along(side, cycle.start)
    step_length = landing - along(opposite(side), opposite_contact)
    double_support = (opposite_toe_off - cycle.start) + (toe_off - opposite_contact)
    return SpatioTemporal(
        side=side,
        speed=stride_length / stride_time,
        cadence=120.0 / stride_time,
        stride_time=stride_time,
        stride_length=stride_length,
        step_time=cycle.end - opposite_contact,
        step_length=step_length,
        stance_percent=100.0 * (toe_off - cycle.start) / stride_time,
        swing_percent=100.0 * (cycle.end - toe_off) / stride_time,
        double_support_percent=100.0 * double_support / stride_time,
        single_support_percent=100.0 * (opposite_contact - opposite_toe_off) / stride_time,
    )


def spatiotemporal_from_markers(
    events: GaitEvents,
    markers: MarkerTable,
    foot: Mapping[str, str],
    side: str,
    *,
    direction: ArrayLike | None = None,
    pelvis: Sequence[str] = (),
) -> tuple[SpatioTemporal, ...]:
    """Spatio-temporal parameters of every complete cycle of one side of a measured trial.

    Parameters
    ----------
    events
        Events of the trial (from force plates or markers).
    markers
        Marker trajectories (ground frame, metres).
    foot
        By side, the marker standing for the foot's contact point (the heel marker).
    side
        Side whose cycles are measured.
    direction
        Walking direction; ``None``: the travel of the mean of the ``pelvis`` markers
        (overground trials only, see :func:`~gaitsim.analysis.events.walking_direction`).
        On a treadmill the markers do not travel and the lengths come out near zero
        (and meaningless): use an overground trial.
    pelvis
        Pelvis markers for the direction when it is not given.

    Returns
    -------
    tuple of SpatioTemporal
        One per complete cycle (cycles whose events are incomplete are skipped).

    Raises
    ------
    EventError
        If no cycle of the side is complete, or a foot marker is missing at a contact.
    LookupError
        If a marker is not in the table.
    """
    time = np.asarray(markers.time, dtype=np.float64)
    if direction is None:
        if not pelvis:
            raise ValueError("give the walking direction or the pelvis markers to find it")
        centre = np.mean([markers.marker(name) for name in pelvis], axis=0)
        direction = walking_direction(centre)
    trajectories = {s: markers.marker(foot[s]) for s in (side, opposite(side))}

    def position(which: str, when: float) -> np.ndarray:
        trajectory = trajectories[which]
        return np.array([np.interp(when, time, trajectory[:, k]) for k in range(3)])

    cycles = [c for c in gait_cycles(events, side) if c.complete]
    if not cycles:
        raise EventError(f"no complete gait cycle of side {side!r} in the events")
    return tuple(spatiotemporal(c, position, direction) for c in cycles)


def spatiotemporal_from_result(
    result: WalkingResult, side: str, *, events: GaitEvents | None = None
) -> SpatioTemporal:
    """Spatio-temporal parameters of a simulated, periodic stride for one side.

    Parameters
    ----------
    result
        The stride; its last sample is the first of the next stride.
    side
        ``"r"`` or ``"l"``.
    events
        Its events; default :func:`~gaitsim.analysis.events.events_from_result`.

    Returns
    -------
    SpatioTemporal

    Raises
    ------
    EventError
        If the side has not exactly one complete cycle in the stride, or the centre of
        pressure is undefined over the whole stance after a contact.
    """
    events = events_from_result(result) if events is None else events
    if events.period is None:
        raise ValueError("the events of a simulated stride must be periodic")
    cycles = gait_cycles(events, side)
    if len(cycles) != 1:
        raise EventError(
            f"side {side!r} has {len(cycles)} initial contacts in the stride, expected 1"
        )
    time = np.asarray(result.time, dtype=np.float64)
    period = events.period
    start = float(time[0])
    forward = 1.0 if result.speed >= 0 else -1.0
    distance = float(result.speed) * period
    toe_offs = {s: events.toe_offs(s) for s in ("r", "l")}

    def position(which: str, when: float) -> np.ndarray:
        laps = math.floor((when - start) / period + 1e-12)
        local = when - laps * period
        cop = np.asarray(result.cop[which], dtype=np.float64)
        # Samples from the contact on, through the stance (until the next toe-off).
        offs = toe_offs[which]
        ahead = np.mod(offs - local, period)
        stance_end = local + (float(ahead.min()) if offs.size else period)
        order = np.argsort(np.mod(time[:-1] - local, period), kind="stable")
        for i in order:
            elapsed = float(np.mod(time[i] - local, period))
            if local + elapsed > stance_end:
                break
            if np.all(np.isfinite(cop[i, [0, 2]])):
                wrapped = 1 if time[i] < local else 0  # sample of the next stride
                point = cop[i].copy()
                point[0] += (laps + wrapped) * distance
                return point
        return np.full(3, np.nan)

    return spatiotemporal(cycles[0], position, (forward, 0.0, 0.0))


def average(parameters: Sequence[SpatioTemporal]) -> SpatioTemporal:
    """Mean of the parameters of several cycles of the same side.

    Raises
    ------
    ValueError
        If the sequence is empty or mixes sides.
    """
    if not parameters:
        raise ValueError("nothing to average")
    sides = {p.side for p in parameters}
    if len(sides) != 1:
        raise ValueError(f"cannot average parameters of different sides {sorted(sides)}")
    values = {
        f.name: float(np.mean([getattr(p, f.name) for p in parameters]))
        for f in fields(SpatioTemporal)
        if f.name != "side"
    }
    return SpatioTemporal(side=parameters[0].side, **values)
