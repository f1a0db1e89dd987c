"""Which foot stood on which force plate, and the ground-reaction table for inverse
dynamics.

Assigning contacts to feet (:func:`assign_feet`)
------------------------------------------------
A **contact** is a maximal run of samples in which a plate's normal force exceeds its
threshold. For every sample of a contact, the horizontal distance (in the plate's
surface plane) from the centre of pressure to each foot -- the segment from its heel
marker to its toe marker, markers interpolated linearly to the force samples -- is
computed. The contact goes to the foot with the smaller median distance when

* that foot is within ``max_distance`` (default 0.12 m) of the centre of pressure in at
  least 90 % of the samples where its markers are visible, and
* the other foot is not also within ``max_distance`` in median (both feet on one
  plate: the reaction cannot be split between them).

Otherwise the contact is left unassigned with the reason. The 0.12 m default covers the
centre of pressure running ahead of the toe marker at toe-off and beside the heel-toe
line in the foot's width (measured on the shared C3D trials: assigned contacts have
median distances of at most 0.04 m, the other foot at least 0.3 m away in median).
Contacts shorter than ``min_duration`` (default 20 ms) are spikes, reported and not
used.

The ground-reaction table (:func:`ground_reaction_table`)
----------------------------------------------------------
For each side, the assigned plates' reactions are summed over their contacts: forces
add, moments about the model origin add (``M_O = M_c + c x F``), and the centre of
pressure and free moment of the sum follow from the same formulas as for one plate
(:mod:`gaitsim.capture.force_plates`), on the surface plane through the force-weighted
centre of the contributing plates. Outside contacts the side's force, point and torque
are zero. Columns are named as OpenSim's gait examples name them
(``ground_force_r_vx``... ``ground_force_r_px``... ``ground_torque_r_x``...), in N, m
and N m in the model frame, at the plates' sampling times; the matching
:class:`~gaitsim.io.external_loads.ExternalLoads` applies each side to its calcaneus,
expressed in ground. :func:`gaitsim.inverse_dynamics.inverse_dynamics` takes both.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gaitsim.capture.force_plates import ForcePlate
from gaitsim.capture.marker_names import foot_markers
from gaitsim.capture.trial import SIDES, Trial
from gaitsim.errors import GaitsimError
from gaitsim.io.external_loads import ExternalForce, ExternalLoads
from gaitsim.io.storage import TimeSeriesTable
from gaitsim.io.trc import MarkerTable

__all__ = [
    "Contact",
    "FootAssignment",
    "assign_feet",
    "contacts",
    "events_from_contacts",
    "ground_reaction_table",
]

_log = logging.getLogger(__name__)

#: Default largest centre-of-pressure-to-foot distance (m) of an assigned contact.
DEFAULT_MAX_DISTANCE = 0.12
#: Default shortest contact (s); shorter loaded runs are spikes.
DEFAULT_MIN_DURATION = 0.02
_SHARE = 0.9


@dataclass(frozen=True)
class Contact:
    """One contact of one plate.

    Attributes
    ----------
    plate
        Plate name.
    first, last
        First and last loaded sample (indices into the plate's time).
    start, end
        Their times (s).
    side
        ``"r"``, ``"l"`` or ``None`` when not assigned.
    distance
        Median horizontal distance (m) from the centre of pressure to each foot
        (``{"r": ..., "l": ...}``; NaN where the foot's markers are not visible).
    note
        Why it was (not) assigned.
    """

    plate: str
    first: int
    last: int
    start: float
    end: float
    side: str | None
    distance: Mapping[str, float]
    note: str

    def describe(self) -> str:
        """The contact in words."""
        where = f"{self.plate} {self.start:.3f}-{self.end:.3f} s"
        return f"{where}: {self.side or 'unassigned'} ({self.note})"


@dataclass(frozen=True)
class FootAssignment:
    """The contacts of all plates and their feet.

    Attributes
    ----------
    contacts
        In plate then time order.
    foot_markers
        ``{side: (heel, toe)}`` markers used.
    max_distance
        The distance limit used (m).
    """

    contacts: tuple[Contact, ...]
    foot_markers: Mapping[str, tuple[str, str]]
    max_distance: float

    @property
    def assigned(self) -> tuple[Contact, ...]:
        """The contacts with a side."""
        return tuple(c for c in self.contacts if c.side is not None)

    @property
    def unassigned(self) -> tuple[Contact, ...]:
        """The contacts without a side (spikes included)."""
        return tuple(c for c in self.contacts if c.side is None)


def contacts(plate: ForcePlate) -> list[tuple[int, int]]:
    """``(first, last)`` sample indices of every loaded run of a plate."""
    loaded = plate.loaded.astype(np.int8)
    edges = np.diff(np.concatenate([[0], loaded, [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _interpolate(markers: MarkerTable, name: str, time: np.ndarray) -> np.ndarray:
    """Marker positions at ``time`` (linear; NaN outside the markers' time or in gaps)."""
    positions = markers.marker(name)
    out = np.full((time.size, 3), np.nan)
    if markers.n_frames < 2:
        return out
    index = np.searchsorted(markers.time, time, side="right") - 1
    inside = (index >= 0) & (index < markers.n_frames - 1)
    i = index[inside]
    t0, t1 = markers.time[i], markers.time[i + 1]
    w = ((time[inside] - t0) / (t1 - t0))[:, None]
    out[inside] = (1 - w) * positions[i] + w * positions[i + 1]
    exact = (index == markers.n_frames - 1) & np.isclose(time, markers.time[-1])
    out[exact] = positions[-1]
    return out


def _segment_distance(
    point: np.ndarray, a: np.ndarray, b: np.ndarray, normal: np.ndarray
) -> np.ndarray:
    """Distance in the plane perpendicular to ``normal`` from points to segments a-b."""

    def flat(v: np.ndarray) -> np.ndarray:
        return v - np.outer(v @ normal, normal)

    p, a2, b2 = flat(point), flat(a), flat(b)
    ab = b2 - a2
    length2 = np.einsum("ij,ij->i", ab, ab)
    t = np.einsum("ij,ij->i", p - a2, ab) / np.where(length2 > 0, length2, 1.0)
    t = np.clip(t, 0.0, 1.0)
    closest = a2 + t[:, None] * ab
    return np.linalg.norm(p - closest, axis=1)


def assign_feet(
    trial: Trial,
    *,
    feet: Mapping[str, tuple[str, str]] | None = None,
    max_distance: float = DEFAULT_MAX_DISTANCE,
    min_duration: float = DEFAULT_MIN_DURATION,
) -> FootAssignment:
    """Assign every plate contact to the right or left foot (see the module docstring).

    Parameters
    ----------
    trial
        The trial (any frame).
    feet
        ``{"r": (heel marker, toe marker), "l": (...)}``; default: found from the
        marker names (:func:`gaitsim.capture.marker_names.foot_markers`).
    max_distance
        Largest centre-of-pressure-to-foot distance (m) of an assigned contact.
    min_duration
        Shortest contact (s); shorter ones are reported as spikes and not assigned.

    Raises
    ------
    GaitsimError
        If a foot's heel or toe marker cannot be found or is not in the trial.
    """
    names = trial.markers.marker_names
    chosen = dict(feet) if feet is not None else foot_markers(names)
    for side in SIDES:
        if side not in chosen:
            raise GaitsimError(
                f"no heel and toe markers found for side {side!r} among {list(names)}; "
                "pass them explicitly (feet={'r': (heel, toe), 'l': (heel, toe)})"
            )
        for marker in chosen[side]:
            if marker not in names:
                raise GaitsimError(f"foot marker {marker!r} is not in the trial")
    if not (math.isfinite(max_distance) and max_distance > 0):
        raise GaitsimError(f"max_distance must be positive, got {max_distance!r}")
    found: list[Contact] = []
    for plate in trial.force_plates:
        feet_positions = {
            side: (
                _interpolate(trial.markers, chosen[side][0], plate.time),
                _interpolate(trial.markers, chosen[side][1], plate.time),
            )
            for side in SIDES
        }
        for first, last in contacts(plate):
            start, end = float(plate.time[first]), float(plate.time[last])
            samples = slice(first, last + 1)
            distances = {
                side: _segment_distance(
                    plate.cop[samples], heel[samples], toe[samples], plate.normal
                )
                for side, (heel, toe) in feet_positions.items()
            }
            medians = {
                side: float(np.nanmedian(d)) if np.any(np.isfinite(d)) else math.nan
                for side, d in distances.items()
            }
            side, note = _decide(distances, medians, max_distance, end - start, min_duration)
            found.append(
                Contact(
                    plate=plate.name,
                    first=first,
                    last=last,
                    start=start,
                    end=end,
                    side=side,
                    distance=medians,
                    note=note,
                )
            )
    assignment = FootAssignment(
        contacts=tuple(found), foot_markers=chosen, max_distance=float(max_distance)
    )
    for contact in assignment.contacts:
        _log.info("contact %s", contact.describe())
    return assignment


def _decide(
    distances: Mapping[str, np.ndarray],
    medians: Mapping[str, float],
    max_distance: float,
    duration: float,
    min_duration: float,
) -> tuple[str | None, str]:
    if duration < min_duration:
        return None, f"spike of {1000 * duration:.0f} ms, shorter than {1000 * min_duration:.0f} ms"
    visible = [s for s in SIDES if math.isfinite(medians[s])]
    if not visible:
        return None, "foot markers not visible during the contact"
    side = min(visible, key=lambda s: medians[s])
    other = "l" if side == "r" else "r"
    d = distances[side]
    finite = np.isfinite(d)
    share = float(np.mean(d[finite] <= max_distance))
    text = ", ".join(f"{s}: {medians[s]:.3f} m" for s in SIDES)
    if share < _SHARE:
        return None, (
            f"the nearest foot ({side}) is within {max_distance:g} m of the centre of "
            f"pressure in only {100 * share:.0f} % of the samples (median distances {text}); "
            "a foot may have stepped on or off the plate during the contact"
        )
    if math.isfinite(medians[other]) and medians[other] <= max_distance:
        return None, f"both feet are near the centre of pressure (median distances {text})"
    return side, f"nearest foot (median distances {text})"


def ground_reaction_table(
    trial: Trial,
    assignment: FootAssignment,
    *,
    bodies: Mapping[str, str] | None = None,
    strict: bool = True,
    datafile: str = "ground_reactions.mot",
) -> tuple[TimeSeriesTable, ExternalLoads]:
    """The ground reactions per foot as a table and its ``ExternalLoads``.

    Parameters
    ----------
    trial
        A trial in the model frame (:func:`gaitsim.capture.lab_frame.to_model_frame`).
    assignment
        From :func:`assign_feet` on this trial.
    bodies
        Body each side's reaction is applied to; default ``calcn_r`` and ``calcn_l``
        (the built-in models' and OpenSim's gait models' feet).
    strict
        Raise if a contact longer than the spike limit is unassigned (default). With
        ``False`` such contacts are left out, with a warning.
    datafile
        Name recorded as the loads' data file.

    Returns
    -------
    tuple
        ``(table, loads)`` for :func:`gaitsim.inverse_dynamics.inverse_dynamics`.

    Raises
    ------
    GaitsimError
        If the trial is not in the model frame, has no plates, its plates have
        different times, or (``strict``) a contact is unassigned.
    """
    if trial.frame != "model":
        raise GaitsimError(
            "ground reactions for inverse dynamics need the trial in the model frame; "
            "call gaitsim.capture.lab_frame.to_model_frame first"
        )
    if not trial.force_plates:
        raise GaitsimError("the trial has no force plates")
    time = trial.force_plates[0].time
    for plate in trial.force_plates[1:]:
        if plate.time.shape != time.shape or not np.allclose(plate.time, time, atol=1e-9):
            raise GaitsimError(f"force plate {plate.name} has other sample times than the first")
    problems = [c for c in assignment.unassigned if not c.note.startswith("spike")]
    if problems:
        listing = "; ".join(c.describe() for c in problems)
        if strict:
            raise GaitsimError(f"plate contacts not assigned to a foot: {listing}")
        _log.warning("plate contacts left out of the ground reactions: %s", listing)
    body_of = dict(bodies) if bodies is not None else {"r": "calcn_r", "l": "calcn_l"}
    plates = {p.name: p for p in trial.force_plates}
    n = time.size
    columns: list[str] = []
    blocks: list[np.ndarray] = []
    for side in SIDES:
        force = np.zeros((n, 3))
        moment = np.zeros((n, 3))  # about the model origin
        weight = np.zeros(n)
        weighted_centre = np.zeros((n, 3))
        normal = np.array([0.0, 1.0, 0.0])
        for contact in assignment.assigned:
            if contact.side != side:
                continue
            plate = plates[contact.plate]
            rows = slice(contact.first, contact.last + 1)
            f = plate.force[rows]
            force[rows] += f
            moment[rows] += plate.moment[rows] + np.cross(plate.centre, f)
            fn = np.clip(f @ plate.normal, 0.0, None)
            weight[rows] += fn
            weighted_centre[rows] += fn[:, None] * plate.centre
            normal = plate.normal
        loaded = weight > 0
        point = np.zeros((n, 3))
        torque = np.zeros((n, 3))
        if np.any(loaded):
            centre = weighted_centre[loaded] / weight[loaded, None]
            f = force[loaded]
            m = moment[loaded] - np.cross(centre, f)  # about the weighted centre
            fn = f @ normal
            point[loaded] = centre + np.cross(normal, m) / fn[:, None]
            torque[loaded] = (np.einsum("ij,ij->i", m, f) / fn)[:, None] * normal
        force[~loaded] = 0.0
        prefix = f"ground_force_{side}_"
        columns += [f"{prefix}v{a}" for a in "xyz"] + [f"{prefix}p{a}" for a in "xyz"]
        columns += [f"ground_torque_{side}_{a}" for a in "xyz"]
        blocks += [force, point, torque]
    table = TimeSeriesTable(
        name="ground_reactions",
        labels=tuple(columns),
        time=time,
        data=np.concatenate(blocks, axis=1),
    )
    loads = ExternalLoads(
        forces=tuple(
            ExternalForce(
                name={"r": "right", "l": "left"}[side],
                applied_to_body=body_of[side],
                force_expressed_in_frame="ground",
                point_expressed_in_frame="ground",
                force_identifier=f"ground_force_{side}_v",
                point_identifier=f"ground_force_{side}_p",
                torque_identifier=f"ground_torque_{side}_",
            )
            for side in SIDES
        ),
        datafile=datafile,
        name="ground_reactions",
    )
    return table, loads


def events_from_contacts(assignment: FootAssignment) -> Sequence[tuple[str, str, float]]:
    """Foot strikes and foot offs implied by the assigned contacts:
    ``(side, "foot_strike" | "foot_off", time)`` in time order."""
    found = []
    for contact in assignment.assigned:
        assert contact.side is not None
        found.append((contact.side, "foot_strike", contact.start))
        found.append((contact.side, "foot_off", contact.end))
    return sorted(found, key=lambda e: e[2])
