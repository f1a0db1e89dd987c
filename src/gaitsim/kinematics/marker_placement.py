"""Marker placement: moving a model's markers onto a subject's static pose, as OpenSim's
MarkerPlacer (the last step of its ScaleTool) does.

After scaling (:mod:`gaitsim.kinematics.scaling`) the model has the subject's segment
lengths but still the generic model's marker locations, which are not where the lab put
the markers on this subject. Inverse kinematics of a walking trial then trades the
misplaced markers off against each other and the joint angles come out offset (on
kineticstoolkit's Plug-in Gait trial, gait3d's knee 13-16 degrees more flexed than Vicon's
own Plug-in Gait angles). Marker placement solves the static pose once and moves each
marker, in its body's frame, to where the lab's marker is in that pose.

What the user asks for is a :class:`MarkerPlacementSettings` (time range of the static
trial, coordinate tasks for the static pose, marker weights for the static fit, which
markers may move, the largest movement and displacement allowed); :func:`place_markers`
computes it and returns a :class:`MarkerPlacementResult`: the model with its markers
moved (:func:`dataclasses.replace`, nothing else changed), the solved static pose, and per
marker (:class:`PlacedMarker`) its displacement and its fit error before and after.
:func:`write_marker_set` writes a model's markers as an OpenSim ``MarkerSet`` file (the
MarkerPlacer's ``output_marker_file``); ``result.ik.coordinates_table()`` is its
``output_motion_file``. Settings can be read from TOML (:func:`read_placement_settings`).
The full description with the validation figures is in ``docs/scaling.md`` (section
"Marker placement").

Method (OpenSim ``MarkerPlacer::processModel`` and ``moveModelMarkersToPose``)
-------------------------------------------------------------------------------
1. *Average the static frames.* For each mapped marker ``i`` of the static trial, over
   the frames ``t`` with ``start <= t <= end`` (the range clipped to the data, as OpenSim
   4 does) in which it is visible::

       m_i = mean_t p_i(t),       movement_i = max over x, y, z of (max_t p - min_t p)

   (OpenSim's ``MarkerData::averageFrames``; its ``max_marker_movement`` check measures
   the same per-axis range). A marker missing in every frame is not used and not moved.
2. *Solve the static pose* with gaitsim's inverse kinematics
   (:func:`~gaitsim.kinematics.inverse_kinematics.inverse_kinematics`, one frame)::

       q* = argmin_q  sum_i w_i |x_i(q) - m_i|^2 + sum_j w_j (q_j - qbar_j)^2

   with the mapping's weights, overridden by :attr:`MarkerPlacementSettings.marker_weights`
   (OpenSim: the MarkerPlacer's ``IKTaskSet``), and the coordinate tasks of the settings
   (default value, a given value, or a value from a coordinate file at the first averaged
   time; OpenSim's ``IKCoordinateTask``).
3. *Move the markers.* Every marker that has data, is not ``fixed`` and may move gets, in
   the frame of its body ``b`` (origin ``o_b``, rotation ``R_b`` from body to ground at
   ``q*``), the location of the measured marker::

       r_i' = R_b(q*)^T (m_i - o_b(q*))

   so that the moved marker coincides with ``m_i`` in the static pose. A marker on ground
   takes ``m_i`` itself.
4. *Check and report.* Each marker's displacement ``|r_i' - r_i|`` (the same in the body
   frame and in ground), its distance from ``m_i`` at ``q*`` before moving, and, after
   moving, at the pose re-solved with the placed markers (same weights and tasks;
   :attr:`MarkerPlacementSettings.refit`). The re-solved pose differs from ``q*`` when
   coordinate tasks pulled ``q*`` away from the markers: with the markers placed, only the
   tasks remain unbalanced.

Differences from OpenSim (each deliberate, none silent):

* OpenSim deletes the model markers that the static trial lacks
  (``deleteUnusedMarkers``); gaitsim keeps them where they are and lists them
  (status ``not in the static trial``).
* OpenSim only prints a warning when a marker moves more than ``max_marker_movement``
  while the frames are averaged (the average of a moving marker is a position it never
  had); gaitsim raises :class:`MarkerPlacementError` (or warns, :attr:`on_excess`) naming
  the marker, with a default limit of 3 cm.
* OpenSim has no limit on how far a marker is moved; gaitsim raises (or warns) when a
  marker would move more than :attr:`MarkerPlacementSettings.max_displacement` (default
  0.25 m: further than a segment's width, a mislabelled or swapped marker).
* Markers are found in the static trial through the marker mapping (lab names to model
  names), not by equal names only.
* OpenSim bounds only ``clamped`` coordinates; gaitsim's inverse kinematics bounds every
  coordinate to its range unless ``use_ranges`` is false.

Validation (``tests/unit/test_marker_placement.py``,
``tests/validation/test_marker_placement_opensim.py``; figures in ``docs/scaling.md``):
known offsets in body frames recovered from synthetic statics of gait2d and gait3d;
OpenSim 4.6's ScaleTool (MarkerPlacer only) on subject01; the clinical case on
kineticstoolkit's Plug-in Gait trial.

References
----------
OpenSim source (opensim-core): ``OpenSim/Tools/MarkerPlacer.cpp`` (``processModel``,
``moveModelMarkersToPose``), ``OpenSim/Common/MarkerData.cpp`` (``averageFrames``).
Delp SL, Anderson FC, Arnold AS, et al. (2007). OpenSim: open-source software to create
and analyze dynamic simulations of movement. IEEE Trans Biomed Eng 54(11):1940-1950.
Davis RB, Ounpuu S, Tyburski D, Gage JR (1991). A gait analysis data collection and
reduction technique. Hum Mov Sci 10(5):575-587 (the marker set Plug-in Gait follows,
with its thigh and shank wands).
"""

from __future__ import annotations

import difflib
import enum
import math
import tomllib
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gaitsim.errors import FileFormatError, GaitsimError, ModelError
from gaitsim.io.storage import TimeSeriesTable
from gaitsim.io.trc import MarkerTable
from gaitsim.kinematics.inverse_kinematics import (
    CoordinateTask,
    CoordinateValue,
    IKSettings,
    InverseKinematicsResult,
    inverse_kinematics,
)
from gaitsim.kinematics.marker_sets import MarkerMapping, identity_mapping
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.description import GROUND, Model, Motion, Vec3

__all__ = [
    "DEFAULT_MAX_DISPLACEMENT",
    "DEFAULT_MAX_MOVEMENT",
    "PLUG_IN_GAIT_WANDS",
    "AveragedStatic",
    "MarkerPlacementError",
    "MarkerPlacementResult",
    "MarkerPlacementSettings",
    "MarkerPlacementWarning",
    "PlacedMarker",
    "PlacementStatus",
    "average_static",
    "place_markers",
    "placement_settings_from_dict",
    "plug_in_gait_placement",
    "pose_tasks",
    "read_placement_settings",
    "relocate_markers",
    "write_marker_set",
]

FloatArray = NDArray[np.float64]
Excess = Literal["warn", "error"]

DEFAULT_MAX_MOVEMENT = 0.03
"""Largest movement (m, per-axis range) of a marker over the averaged static frames.
A standing subject sways: over the 5 s of OpenSim's subject01 static trial the model's
markers move at most 21 mm (``Top.Head``), those of the pelvis at most 8 mm and of the
legs at most 6 mm; over the first 0.1 s of kineticstoolkit's walking trial the Plug-in
Gait markers move 3-22 cm."""
DEFAULT_MAX_DISPLACEMENT = 0.25
"""Largest displacement (m) of a marker in its body: more than a segment's width, so a
mislabelled or left-right swapped marker rather than a marker placed differently. Plug-in
Gait's thigh and shank wands move 0.10-0.19 m on gait3d (kineticstoolkit's trial)."""
PLUG_IN_GAIT_WANDS = ("R.Thigh.Rear", "L.Thigh.Rear", "R.Shank.Lower", "L.Shank.Lower")
"""Model markers that take Plug-in Gait's thigh and shank wand markers (THI, TIB) in the
shipped mapping ``plug_in_gait_lower_body``."""


class MarkerPlacementError(GaitsimError):
    """A marker moved too much over the static frames, or would be displaced too far.

    Parameters
    ----------
    markers
        The offending model markers with their value (m), largest first.
    problem
        What is wrong, in plain words (names the markers).
    """

    def __init__(self, markers: Sequence[tuple[str, float]], problem: str) -> None:
        self.markers = tuple(markers)
        self.problem = problem
        super().__init__(problem)


class MarkerPlacementWarning(UserWarning):
    """A marker moved or was displaced more than allowed (``on_excess="warn"``)."""


# ======================================================================================
# What the user asks for
# ======================================================================================
@dataclass(frozen=True)
class MarkerPlacementSettings:
    """How markers are placed on a static trial (OpenSim's ``MarkerPlacer`` properties).

    Parameters
    ----------
    time_range
        ``(start, end)`` (s) of the static frames that are averaged, clipped to the data
        as OpenSim does; ``None``: every frame. ``(t, t)`` takes the one frame at ``t``.
    coordinate_tasks
        Coordinate tasks of the static pose (OpenSim's ``IKCoordinateTask``), e.g. from
        :func:`pose_tasks`: ``pose_tasks({"knee_angle_r": 0.0, "knee_angle_l": 0.0}, 10)``.
    coordinate_file
        Coordinates for ``FROM_FILE`` tasks (OpenSim's ``coordinate_file``), taken at the
        first averaged frame's time.
    marker_weights
        ``(model marker, weight)`` pairs that replace the mapping's weight in the static
        fit only (a weight of 0 leaves the marker out of the fit; it is still moved).
    movable
        The model markers that may move; ``None``: every marker that is not ``fixed``.
        Naming a fixed marker is an error (``Marker.fixed`` is honoured).
    max_marker_movement
        Largest movement (m, per-axis range over the averaged frames, as OpenSim's
        ``max_marker_movement``) of a mapped marker; ``None``: no limit.
    max_displacement
        Largest displacement (m) of a moved marker in its body; ``None``: no limit.
    on_excess
        ``"error"``: raise :class:`MarkerPlacementError` when a limit is exceeded;
        ``"warn"``: warn (:class:`MarkerPlacementWarning`), place anyway and say so in
        the result's notes.
    use_ranges, tolerance
        As :class:`~gaitsim.kinematics.inverse_kinematics.IKSettings`.
    refit
        Re-solve the static pose with the placed markers for the errors after placement
        (else they are taken at the pose solved before).
    """

    time_range: tuple[float, float] | None = None
    coordinate_tasks: tuple[CoordinateTask, ...] = ()
    coordinate_file: TimeSeriesTable | None = None
    marker_weights: tuple[tuple[str, float], ...] = ()
    movable: tuple[str, ...] | None = None
    max_marker_movement: float | None = DEFAULT_MAX_MOVEMENT
    max_displacement: float | None = DEFAULT_MAX_DISPLACEMENT
    on_excess: Excess = "error"
    use_ranges: bool = True
    tolerance: float = 1e-10
    refit: bool = True


def pose_tasks(values: Mapping[str, float], weight: float = 1.0) -> tuple[CoordinateTask, ...]:
    """Coordinate tasks that hold coordinates near given values (rad or m).

    Parameters
    ----------
    values
        Target per coordinate, in model units (rad for rotations, m for translations).
    weight
        Weight of each task (per rad^2 or m^2; marker weights are per m^2).
    """
    return tuple(
        CoordinateTask(name, float(weight), CoordinateValue.MANUAL, float(value))
        for name, value in values.items()
    )


def plug_in_gait_placement(
    model: Model, *, hip_rotation_weight: float = 1.0
) -> MarkerPlacementSettings:
    """Settings for a Plug-in Gait static trial on a model with gaitsim's marker names.

    The wand markers (thigh THI and shank TIB, :data:`PLUG_IN_GAIT_WANDS`) are placed by
    eye in the lab and carry no anatomical landmark: they weigh 0 in the static fit, so
    the static pose comes from the anatomical markers (ASIS, PSIS or sacrum, lateral
    epicondyle, lateral malleolus, heel, toe), and are then moved onto the pose as every
    other marker. With the knee straight, the hip centre and the lateral knee and ankle
    markers lie nearly on one line, so the anatomical markers barely fix the rotation of
    the leg about it, which the wands did: a task holds each hip rotation near 0 (feet
    pointing forwards, as a subject stands for a static trial). Knee, hip and ankle
    angles are left to the markers, so that a standing posture with flexed knees is kept
    (no task sets them to 0).

    Parameters
    ----------
    model
        The model; only its markers and coordinates named above are used.
    hip_rotation_weight
        Weight of the hip rotation tasks (per rad^2).
    """
    markers = {m.name for m in model.markers}
    coordinates = set(model.coordinate_names)
    return MarkerPlacementSettings(
        marker_weights=tuple((name, 0.0) for name in PLUG_IN_GAIT_WANDS if name in markers),
        coordinate_tasks=pose_tasks(
            {c: 0.0 for c in ("hip_rotation_r", "hip_rotation_l") if c in coordinates},
            hip_rotation_weight,
        ),
    )


# ======================================================================================
# The result
# ======================================================================================
class PlacementStatus(enum.Enum):
    """What placement did with a model marker."""

    MOVED = "moved"
    FIXED = "fixed"
    NOT_MOVABLE = "not movable (settings)"
    NOT_IN_STATIC = "not in the static trial"
    MISSING = "missing in the static frames"


@dataclass(frozen=True)
class PlacedMarker:
    """One model marker before and after placement.

    Attributes
    ----------
    name, body
        The model marker and its body.
    lab
        Its name in the static trial (``None`` if the mapping has none there).
    status
        What was done with it.
    weight
        Its weight in the static fit (0 if not fitted).
    location_before, location_after
        Location in the body's frame (m); equal unless moved.
    movement
        Per-axis range (m) of the lab marker over the averaged frames (NaN without data).
    frames
        Frames in which the lab marker was visible (0 without data).
    error_before
        Distance (m) of the model marker from the averaged lab marker at the static pose
        solved with the markers before placement (NaN without data).
    error_after
        The same with the placed markers, at the re-solved static pose (NaN without
        data).
    """

    name: str
    body: str
    lab: str | None
    status: PlacementStatus
    weight: float
    location_before: Vec3
    location_after: Vec3
    movement: float
    frames: int
    error_before: float
    error_after: float

    @property
    def displacement(self) -> float:
        """Distance (m) the marker moved in its body (0 unless moved)."""
        return float(np.linalg.norm(np.subtract(self.location_after, self.location_before)))

    @property
    def moved(self) -> bool:
        """Whether placement moved it."""
        return self.status is PlacementStatus.MOVED


@dataclass(frozen=True, eq=False)
class MarkerPlacementResult:
    """The model with its markers placed, the static pose and every marker's figures.

    Attributes
    ----------
    model
        The model with the markers moved (everything else unchanged).
    coordinate_names
        The model's coordinates (order of :attr:`pose`).
    pose
        ``(n_q,)`` static pose solved with the markers before placement (rad, m).
    pose_after
        ``(n_q,)`` static pose re-solved with the placed markers (equal to :attr:`pose`
        without ``refit``).
    static
        The averaged static frame (one frame, lab names, m).
    frames
        Number of static frames averaged.
    time_range
        Times (s) of the first and last averaged frame.
    markers
        One entry per model marker, in model order.
    ik
        Inverse kinematics of the averaged static frame before placement (its
        ``coordinates_table()`` is OpenSim's ``output_motion_file``).
    refit
        Inverse kinematics with the placed markers (``None`` without ``refit``).
    notes
        What the reader should know, in plain words.
    """

    model: Model
    coordinate_names: tuple[str, ...]
    pose: FloatArray
    pose_after: FloatArray
    static: MarkerTable
    frames: int
    time_range: tuple[float, float]
    markers: tuple[PlacedMarker, ...]
    ik: InverseKinematicsResult
    refit: InverseKinematicsResult | None
    notes: tuple[str, ...]

    def marker(self, name: str) -> PlacedMarker:
        """The entry of one model marker."""
        for m in self.markers:
            if m.name == name:
                return m
        raise LookupError(f"no model marker {name!r} in the placement result")

    def coordinate(self, name: str, *, after: bool = False) -> float:
        """One coordinate of the static pose (rad or m), before or after placement."""
        try:
            index = self.coordinate_names.index(name)
        except ValueError:
            raise LookupError(f"no coordinate {name!r} in the placement result") from None
        return float((self.pose_after if after else self.pose)[index])

    @property
    def moved(self) -> tuple[PlacedMarker, ...]:
        """The markers that were moved."""
        return tuple(m for m in self.markers if m.moved)

    def rms_error(self, *, after: bool = False) -> float:
        """RMS (m) over the fitted markers (weight > 0) of the static fit error."""
        errors = [
            m.error_after if after else m.error_before
            for m in self.markers
            if m.weight > 0 and math.isfinite(m.error_before)
        ]
        return float(np.sqrt(np.mean(np.square(errors)))) if errors else math.nan

    def summary(self) -> str:
        """A plain-text table: per marker, status, displacement and errors (mm)."""
        lines = [
            f"marker placement: {self.frames} static frame(s) averaged, "
            f"{self.time_range[0]:.3f}-{self.time_range[1]:.3f} s; "
            f"{len(self.moved)} of {len(self.markers)} markers moved",
            f"static fit RMS {1000 * self.rms_error():.1f} mm before, "
            f"{1000 * self.rms_error(after=True):.1f} mm after",
            f"{'marker':<16}{'lab':<14}{'weight':>7}{'moved mm':>10}{'before mm':>11}"
            f"{'after mm':>10}  status",
        ]
        for m in self.markers:
            lines.append(
                f"{m.name:<16}{m.lab or '-':<14}{m.weight:>7.3g}{1000 * m.displacement:>10.1f}"
                f"{1000 * m.error_before:>11.1f}{1000 * m.error_after:>10.1f}  {m.status.value}"
            )
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data (JSON-ready; NaN as ``None``; m and rad)."""

        def number(value: float) -> float | None:
            return float(value) if math.isfinite(value) else None

        return {
            "frames": self.frames,
            "time_range": list(self.time_range),
            "pose": dict(zip(self.coordinate_names, map(float, self.pose), strict=True)),
            "pose_after": dict(
                zip(self.coordinate_names, map(float, self.pose_after), strict=True)
            ),
            "markers": [
                {
                    "name": m.name,
                    "body": m.body,
                    "lab": m.lab,
                    "status": m.status.value,
                    "weight": m.weight,
                    "location_before": list(m.location_before),
                    "location_after": list(m.location_after),
                    "displacement": m.displacement,
                    "movement": number(m.movement),
                    "frames": m.frames,
                    "error_before": number(m.error_before),
                    "error_after": number(m.error_after),
                }
                for m in self.markers
            ],
            "notes": list(self.notes),
        }


# ======================================================================================
# How it is computed
# ======================================================================================
def _close(wanted: str, available: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(wanted, list(available), n=4, cutoff=0.6)
    hint = f"; close matches: {', '.join(map(repr, close))}" if close else ""
    return f"{what} has no {wanted!r}{hint}"


def _check_limit(name: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise GaitsimError(f"marker placement: {name} must be positive or None, got {value!r}")


def _check_settings(
    model: Model, mapping: MarkerMapping, settings: MarkerPlacementSettings
) -> None:
    where = "marker placement settings"
    markers = {m.name: m for m in model.markers}
    names = list(markers)
    mapped = set(mapping.model_names)
    _check_limit("max_marker_movement", settings.max_marker_movement)
    _check_limit("max_displacement", settings.max_displacement)
    if settings.on_excess not in ("warn", "error"):
        raise GaitsimError(
            f"marker placement: on_excess must be 'warn' or 'error', got {settings.on_excess!r}"
        )
    seen: set[str] = set()
    for name, weight in settings.marker_weights:
        element = f"{where}.marker_weights.{name}"
        if name not in markers:
            raise ModelError(element, _close(name, names, f"model {model.name!r}"))
        if name not in mapped:
            raise ModelError(
                element, f"the marker mapping {mapping.name!r} does not map a lab marker to it"
            )
        if name in seen:
            raise ModelError(element, "given twice")
        seen.add(name)
        if not (math.isfinite(weight) and weight >= 0):
            raise ModelError(element, f"weight must be finite and >= 0, got {weight!r}")
    for name in settings.movable or ():
        element = f"{where}.movable.{name}"
        if name not in markers:
            raise ModelError(element, _close(name, names, f"model {model.name!r}"))
        if markers[name].fixed:
            raise ModelError(element, "the marker is fixed in the model and may not move")
    coordinates = list(model.coordinate_names)
    tasks: set[str] = set()
    for task in settings.coordinate_tasks:
        element = f"{where}.coordinate_tasks.{task.coordinate}"
        if task.coordinate not in coordinates:
            raise ModelError(element, _close(task.coordinate, coordinates, f"model {model.name!r}"))
        if task.coordinate in tasks:
            raise ModelError(element, "more than one task for the coordinate")
        tasks.add(task.coordinate)


def _frames(time: FloatArray, time_range: tuple[float, float] | None) -> NDArray[np.intp]:
    """Indices of the frames in the (clipped) time range."""
    if time.size == 0:
        raise GaitsimError("marker placement: the static trial has no frame")
    if time_range is None:
        return np.arange(time.size)
    start, end = (float(t) for t in time_range)
    if not (math.isfinite(start) and math.isfinite(end)) or start > end:
        raise GaitsimError(
            f"marker placement: time_range must be finite with start <= end, got {time_range}"
        )
    # OpenSim 4 narrows a range that exceeds the data to the data.
    start, end = max(start, float(time[0])), min(end, float(time[-1]))
    slack = 1e-9 * max(1.0, abs(start), abs(end))
    frames = np.flatnonzero((time >= start - slack) & (time <= end + slack))
    if frames.size == 0:
        raise GaitsimError(
            f"marker placement: no static frame in the time range {time_range} "
            f"(the trial spans {time[0]}-{time[-1]} s)"
        )
    return frames


@dataclass(frozen=True, eq=False)
class AveragedStatic:
    """The static frames averaged into one (OpenSim's ``MarkerData::averageFrames``).

    Attributes
    ----------
    table
        One frame at the first averaged frame's time, lab names (m); NaN for a marker
        missing in every averaged frame.
    movement
        ``(k,)``: each marker's largest per-axis range (m) over its visible frames (NaN
        if never visible).
    visible
        ``(k,)``: frames in which each marker is visible.
    frames
        Number of frames averaged.
    time_range
        Times (s) of the first and last averaged frame.
    """

    table: MarkerTable
    movement: FloatArray
    visible: NDArray[np.int64]
    frames: int
    time_range: tuple[float, float]


def average_static(
    static: MarkerTable, time_range: tuple[float, float] | None = None
) -> AveragedStatic:
    """Average the frames of a static trial in a time range.

    Parameters
    ----------
    static
        The static trial (m, NaN where missing).
    time_range
        ``(start, end)`` (s), clipped to the data as OpenSim 4 does; ``None``: every
        frame.

    Raises
    ------
    GaitsimError
        If the time range is invalid or holds no frame.
    """
    time = np.asarray(static.time, dtype=float)
    frames = _frames(time, time_range)
    data = np.asarray(static.positions, dtype=float)[frames]  # (n, k, 3)
    seen = np.all(np.isfinite(data), axis=2)  # (n, k)
    visible = seen.sum(axis=0).astype(np.int64)
    clean = np.where(seen[:, :, None], data, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = clean.sum(axis=0) / visible[:, None]
    mean[visible == 0] = np.nan
    high = np.where(seen[:, :, None], data, -np.inf).max(axis=0)
    low = np.where(seen[:, :, None], data, np.inf).min(axis=0)
    with np.errstate(invalid="ignore"):
        movement = np.where(visible > 0, (high - low).max(axis=1), np.nan)
    table = MarkerTable(
        marker_names=static.marker_names,
        time=time[frames[:1]],
        positions=mean[None],
        rate=static.rate,
        units_in_file=static.units_in_file,
    )
    span = (float(time[frames[0]]), float(time[frames[-1]]))
    return AveragedStatic(table, movement, visible, int(frames.size), span)


def _weighted_mapping(mapping: MarkerMapping, weights: Mapping[str, float]) -> MarkerMapping:
    if not weights:
        return mapping
    markers = tuple(
        replace(a, weight=float(weights[a.model])) if a.model in weights else a
        for a in mapping.markers
    )
    return replace(mapping, markers=markers)


def _excess(
    found: list[tuple[str, float]], limit: float, what: str, how: str, policy: Excess
) -> str | None:
    """Raise or warn about markers above a limit; return the note (``None`` if none)."""
    if not found:
        return None
    found.sort(key=lambda item: -item[1])
    listed = ", ".join(f"{name} ({1000 * value:.0f} mm)" for name, value in found)
    text = f"{what} more than {1000 * limit:.0f} mm: {listed}; {how}"
    if policy == "error":
        raise MarkerPlacementError(found, f"marker placement: {text}")
    warnings.warn(f"marker placement: {text}", MarkerPlacementWarning, stacklevel=3)
    return text


def _body_frames(
    model: Model, functions: ModelFunctions, q: FloatArray
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """``{body: (origin, R body->ground)}`` at ``q`` (ground included)."""
    positions, rotations = (np.asarray(v, dtype=float) for v in functions.body_poses(q))
    frames = {GROUND: (np.zeros(3), np.eye(3))}
    for k, body in enumerate(model.bodies):
        frames[body.name] = (positions[:, k], rotations[:, 3 * k : 3 * k + 3])
    return frames


def _distances(functions: ModelFunctions, q: FloatArray, measured: FloatArray) -> FloatArray:
    """Distance of every model marker from its measured position (NaN rows: NaN)."""
    model_positions = np.asarray(functions.marker_positions(q), dtype=float).T  # (n_m, 3)
    return np.linalg.norm(model_positions - measured, axis=1)


def _solve(
    model: Model,
    table: MarkerTable,
    mapping: MarkerMapping,
    ik_settings: IKSettings,
    functions: ModelFunctions,
    what: str,
) -> InverseKinematicsResult:
    with warnings.catch_warnings():
        # A failed frame is reported below with its status (the only frame).
        warnings.filterwarnings("ignore", message="inverse kinematics did not converge")
        ik = inverse_kinematics(model, table, mapping, ik_settings, functions=functions)
    if not bool(ik.success[0]):
        raise GaitsimError(
            f"marker placement: inverse kinematics of the static pose {what} failed: {ik.status[0]}"
        )
    return ik


def relocate_markers(
    model: Model,
    pose: ArrayLike,
    targets: Mapping[str, ArrayLike],
    *,
    functions: ModelFunctions | None = None,
) -> Model:
    """Move markers so that, at ``pose``, they are at given ground positions.

    Step 3 of the module docstring on its own (OpenSim's ``moveModelMarkersToPose``):
    each named marker on body ``b`` gets the location ``R_b(q)^T (p - o_b(q))``.

    Parameters
    ----------
    model
        The model.
    pose
        ``(n_q,)`` coordinates (rad, m).
    targets
        Ground position (m) per model marker name.
    functions
        The model's CasADi functions, if already built.

    Returns
    -------
    Model
        ``model`` with the named markers moved (:func:`dataclasses.replace`).

    Raises
    ------
    ModelError
        If a name is not a marker of the model, the marker is fixed, or a position is not
        three finite numbers.
    ValueError
        If ``pose`` does not have one value per coordinate.
    """
    q = np.asarray(pose, dtype=float)
    if q.shape != (len(model.coordinate_names),):
        raise ValueError(f"pose must have shape ({len(model.coordinate_names)},), got {q.shape}")
    markers = {m.name: m for m in model.markers}
    names = list(markers)
    for name, position in targets.items():
        element = f"markers.{name}"
        if name not in markers:
            raise ModelError(element, _close(name, names, f"model {model.name!r}"))
        if markers[name].fixed:
            raise ModelError(element, "the marker is fixed and may not be moved")
        p = np.asarray(position, dtype=float)
        if p.shape != (3,) or not np.all(np.isfinite(p)):
            raise ModelError(element, f"target must be 3 finite numbers (m), got {position!r}")
    frames = _body_frames(model, functions or build(model), q)
    moved = []
    for m in model.markers:
        if m.name in targets:
            origin, rotation = frames[m.body]
            r = rotation.T @ (np.asarray(targets[m.name], dtype=float) - origin)
            m = replace(m, location=(float(r[0]), float(r[1]), float(r[2])))
        moved.append(m)
    return replace(model, markers=tuple(moved))


def place_markers(
    model: Model,
    static: MarkerTable,
    mapping: MarkerMapping | None = None,
    settings: MarkerPlacementSettings | None = None,
    *,
    functions: ModelFunctions | None = None,
) -> MarkerPlacementResult:
    """Move the model's markers onto a static trial (see the module docstring).

    Parameters
    ----------
    model
        The (scaled) model.
    static
        The static trial in the model's ground frame (m, NaN where missing), under lab
        names.
    mapping
        Which lab marker is which model marker, and its weight in the static fit;
        ``None``: the model's markers under their own names, weight 1
        (:func:`~gaitsim.kinematics.marker_sets.identity_mapping`).
    settings
        Time range, coordinate tasks, weights, movable markers and limits.
    functions
        The model's CasADi functions, if already built.

    Returns
    -------
    MarkerPlacementResult

    Raises
    ------
    ModelError
        If the settings name a marker or coordinate the model lacks, a marker weight for
        a marker the mapping does not map, a fixed marker as movable, or the mapping names
        a marker the model lacks.
    MarkerPlacementError
        With ``on_excess="error"``: a mapped marker moved more than
        ``max_marker_movement`` over the averaged frames, or a marker would move more
        than ``max_displacement`` (naming the markers, largest first).
    GaitsimError
        If a marker the mapping requires is missing from the static trial, the time range
        holds no frame, a limit is not positive, or the static pose cannot be solved.
    """
    settings = settings or MarkerPlacementSettings()
    mapping = (mapping or identity_mapping(model)).check(model)
    _check_settings(model, mapping, settings)
    functions = functions or build(model)
    notes: list[str] = []

    average = average_static(static, settings.time_range)
    lab_of = {a.model: a.lab for a in mapping.markers}
    lab_index = {name: i for i, name in enumerate(static.marker_names)}
    # Column of the static trial that holds each model marker (mapped and present).
    column_of = {name: lab_index[lab] for name, lab in lab_of.items() if lab in lab_index}
    fit_mapping = _weighted_mapping(mapping, dict(settings.marker_weights))
    weight_of = {a.model: a.weight for a in fit_mapping.markers}
    if settings.max_marker_movement is not None:
        limit = settings.max_marker_movement
        note = _excess(
            [
                (m.name, float(average.movement[column_of[m.name]]))
                for m in model.markers
                if m.name in column_of and average.movement[column_of[m.name]] > limit
            ],
            limit,
            "markers moved over the averaged static frames by",
            "their averaged position is not a pose the subject held (choose a shorter "
            "time range, or one frame)",
            settings.on_excess,
        )
        if note:
            notes.append(note)

    ik_settings = IKSettings(
        coordinate_tasks=settings.coordinate_tasks,
        coordinate_file=settings.coordinate_file,
        use_ranges=settings.use_ranges,
        tolerance=settings.tolerance,
    )
    ik = _solve(model, average.table, fit_mapping, ik_settings, functions, "before placement")
    pose = np.array(ik.coordinates[0])
    # Measured position of each model marker (NaN where there is none).
    measured = np.full((len(model.markers), 3), np.nan)
    for i, m in enumerate(model.markers):
        if m.name in column_of:
            measured[i] = average.table.positions[0, column_of[m.name]]
    error_before = _distances(functions, pose, measured)

    statuses = _statuses(model, column_of, measured, settings.movable)
    targets = {
        m.name: measured[i]
        for i, m in enumerate(model.markers)
        if statuses[i] is PlacementStatus.MOVED
    }
    placed = relocate_markers(model, pose, targets, functions=functions)
    if settings.max_displacement is not None:
        limit = settings.max_displacement
        displaced = [
            (m.name, float(np.linalg.norm(np.subtract(new.location, m.location))))
            for m, new in zip(model.markers, placed.markers, strict=True)
        ]
        note = _excess(
            [(name, d) for name, d in displaced if d > limit],
            limit,
            "markers would move in their body by",
            "check the static trial's labels and the marker mapping (a swapped or "
            "mislabelled marker), or raise max_displacement",
            settings.on_excess,
        )
        if note:
            notes.append(note)

    refit: InverseKinematicsResult | None = None
    if settings.refit:
        placed_functions = build(placed)
        refit = _solve(
            placed, average.table, fit_mapping, ik_settings, placed_functions, "after placement"
        )
        pose_after = np.array(refit.coordinates[0])
        error_after = _distances(placed_functions, pose_after, measured)
    else:
        pose_after = pose.copy()
        error_after = _distances(build(placed), pose, measured)

    entries = []
    for i, m in enumerate(model.markers):
        column = column_of.get(m.name)
        entries.append(
            PlacedMarker(
                name=m.name,
                body=m.body,
                lab=lab_of[m.name] if column is not None else None,
                status=statuses[i],
                weight=float(weight_of[m.name]) if column is not None else 0.0,
                location_before=m.location,
                location_after=placed.markers[i].location,
                movement=float(average.movement[column]) if column is not None else math.nan,
                frames=int(average.visible[column]) if column is not None else 0,
                error_before=float(error_before[i]),
                error_after=float(error_after[i]),
            )
        )
    notes.extend(_notes(entries, ik, settings))
    return MarkerPlacementResult(
        model=placed,
        coordinate_names=model.coordinate_names,
        pose=pose,
        pose_after=pose_after,
        static=average.table,
        frames=average.frames,
        time_range=average.time_range,
        markers=tuple(entries),
        ik=ik,
        refit=refit,
        notes=tuple(notes),
    )


def _statuses(
    model: Model,
    column_of: Mapping[str, int],
    measured: FloatArray,
    movable: Sequence[str] | None,
) -> list[PlacementStatus]:
    """What placement does with each model marker (model order)."""
    allowed = None if movable is None else set(movable)
    out = []
    for i, m in enumerate(model.markers):
        if m.name not in column_of:
            out.append(PlacementStatus.NOT_IN_STATIC)
        elif not np.all(np.isfinite(measured[i])):
            out.append(PlacementStatus.MISSING)
        elif m.fixed:
            out.append(PlacementStatus.FIXED)
        elif allowed is not None and m.name not in allowed:
            out.append(PlacementStatus.NOT_MOVABLE)
        else:
            out.append(PlacementStatus.MOVED)
    return out


def _notes(
    entries: Sequence[PlacedMarker],
    ik: InverseKinematicsResult,
    settings: MarkerPlacementSettings,
) -> list[str]:
    notes = []
    for status in (
        PlacementStatus.NOT_IN_STATIC,
        PlacementStatus.MISSING,
        PlacementStatus.FIXED,
        PlacementStatus.NOT_MOVABLE,
    ):
        names = [e.name for e in entries if e.status is status]
        if names:
            notes.append(f"not moved, {status.value}: {', '.join(names)}")
    unweighted = [e.name for e in entries if e.moved and e.weight == 0]
    if unweighted:
        notes.append(
            "moved without taking part in the static fit (weight 0): " + ", ".join(unweighted)
        )
    if ik.unobserved:
        notes.append(
            "static pose: held at their default (no marker or task depends on them): "
            + ", ".join(ik.unobserved)
        )
    limits = [ik.coordinate_names[j] for j in np.flatnonzero(ik.at_limit[0])]
    if limits:
        notes.append("static pose: at a range limit: " + ", ".join(limits))
    if bool(ik.underdetermined[0]):
        notes.append(
            "static pose: the fitted markers and tasks do not fix every coordinate; "
            "the undetermined ones kept their starting values (add coordinate tasks)"
        )
    if settings.coordinate_tasks:
        notes.append(
            "static pose with coordinate tasks: "
            + ", ".join(
                f"{t.coordinate} ({t.value_type.value}"
                + (f" {t.value:.4g}" if t.value_type is CoordinateValue.MANUAL else "")
                + f", weight {t.weight:g})"
                for t in settings.coordinate_tasks
            )
        )
    return notes


# ======================================================================================
# Files
# ======================================================================================
def write_marker_set(model: Model, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the model's markers as an OpenSim ``MarkerSet`` file (``output_marker_file``).

    Each ``Marker`` has its ``socket_parent_frame`` (``/bodyset/<body>`` or
    ``/ground``), ``location`` (m, shortest round-trip digits) and ``fixed``.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false (nothing is overwritten silently).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    document = ET.Element("OpenSimDocument", Version="40600")
    marker_set = ET.SubElement(document, "MarkerSet", name="markerset")
    objects = ET.SubElement(marker_set, "objects")
    for m in model.markers:
        el = ET.SubElement(objects, "Marker", name=m.name)
        frame = "/ground" if m.body == GROUND else f"/bodyset/{m.body}"
        ET.SubElement(el, "socket_parent_frame").text = frame
        ET.SubElement(el, "location").text = " ".join(repr(float(v)) for v in m.location)
        ET.SubElement(el, "fixed").text = "true" if m.fixed else "false"
    ET.SubElement(marker_set, "groups")
    ET.indent(document)
    text = '<?xml version="1.0" encoding="UTF-8" ?>\n' + ET.tostring(document, encoding="unicode")
    path.write_text(text + "\n", encoding="utf-8")
    return path


_TOP_KEYS = {
    "time_range",
    "coordinates",
    "marker_weights",
    "movable",
    "max_marker_movement",
    "max_displacement",
    "on_excess",
    "use_ranges",
    "refit",
}
_TASK_KEYS = {"degrees", "metres", "default", "weight"}


def placement_settings_from_dict(
    data: Mapping[str, Any], model: Model, *, source: str = "marker placement settings"
) -> MarkerPlacementSettings:
    """:class:`MarkerPlacementSettings` from plain data (the TOML layout of
    :func:`read_placement_settings`).

    Raises
    ------
    FileFormatError
        An unknown key, a value of the wrong kind, or a coordinate target in the wrong
        unit for its coordinate (naming the key; ``source`` is the file).
    """

    def fail(key: str, problem: str) -> FileFormatError:
        return FileFormatError(source, None, f"{key}: {problem}")

    def number(key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(key, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise fail(key, f"must be finite, got {value!r}")
        return float(value)

    def limit(key: str, default: float) -> float | None:
        if key not in data:
            return default
        value = data[key]
        if value is False:
            return None
        return number(key, value)

    def flag(key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise fail(key, f"must be true or false, got {value!r}")
        return value

    if not isinstance(data, Mapping):
        raise fail("(top level)", "must be a table")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise fail(
            "(top level)", f"unknown key(s) {sorted(unknown)}; expected some of {sorted(_TOP_KEYS)}"
        )
    time_range = data.get("time_range")
    if time_range is not None:
        if not isinstance(time_range, list) or len(time_range) != 2:
            raise fail("time_range", f"must be a list of 2 numbers, got {time_range!r}")
        time_range = (number("time_range", time_range[0]), number("time_range", time_range[1]))
    tasks = []
    coordinates = data.get("coordinates", {})
    if not isinstance(coordinates, Mapping):
        raise fail("coordinates", "must be a table: coordinate = { degrees = ..., weight = ... }")
    known = model.coordinate_names
    for name, entry in coordinates.items():
        key = f"coordinates.{name}"
        if name not in known:
            raise fail(key, _close(name, known, f"model {model.name!r}"))
        if not isinstance(entry, Mapping):
            raise fail(key, f"must be a table, got {entry!r}")
        extra = set(entry) - _TASK_KEYS
        if extra:
            raise fail(
                key, f"unknown key(s) {sorted(extra)}; expected some of {sorted(_TASK_KEYS)}"
            )
        targets = [k for k in ("degrees", "metres", "default") if k in entry]
        if len(targets) != 1:
            raise fail(key, "give exactly one of degrees, metres or default = true")
        weight = number(f"{key}.weight", entry.get("weight", 1.0))
        if weight < 0:
            raise fail(f"{key}.weight", f"must be >= 0, got {weight}")
        rotational = model.coordinate(name).motion is Motion.ROTATIONAL
        if targets[0] == "default":
            if entry["default"] is not True:
                raise fail(f"{key}.default", "must be true")
            tasks.append(CoordinateTask(name, weight, CoordinateValue.DEFAULT))
        elif targets[0] == "degrees":
            if not rotational:
                raise fail(key, "is not rotational: give its target in metres")
            value = math.radians(number(f"{key}.degrees", entry["degrees"]))
            tasks.append(CoordinateTask(name, weight, CoordinateValue.MANUAL, value))
        else:
            if rotational:
                raise fail(key, "is rotational: give its target in degrees")
            value = number(f"{key}.metres", entry["metres"])
            tasks.append(CoordinateTask(name, weight, CoordinateValue.MANUAL, value))
    weights = data.get("marker_weights", {})
    if not isinstance(weights, Mapping):
        raise fail("marker_weights", "must be a table: model marker = weight")
    movable = data.get("movable")
    if movable is not None and (
        not isinstance(movable, list) or not all(isinstance(m, str) for m in movable)
    ):
        raise fail("movable", f"must be a list of model marker names, got {movable!r}")
    on_excess = data.get("on_excess", "error")
    if on_excess not in ("warn", "error"):
        raise fail("on_excess", f"must be 'warn' or 'error', got {on_excess!r}")
    return MarkerPlacementSettings(
        time_range=time_range,
        coordinate_tasks=tuple(tasks),
        marker_weights=tuple(
            (str(k), number(f"marker_weights.{k}", v)) for k, v in weights.items()
        ),
        movable=None if movable is None else tuple(movable),
        max_marker_movement=limit("max_marker_movement", DEFAULT_MAX_MOVEMENT),
        max_displacement=limit("max_displacement", DEFAULT_MAX_DISPLACEMENT),
        on_excess=on_excess,
        use_ranges=flag("use_ranges", True),
        refit=flag("refit", True),
    )


def read_placement_settings(path: str | Path, model: Model) -> MarkerPlacementSettings:
    """Read marker placement settings from a TOML file.

    Every key is optional::

        time_range = [0.5, 1.5]        # s; absent: every frame
        max_marker_movement = 0.03     # m; false: no limit
        max_displacement = 0.25        # m; false: no limit
        on_excess = "error"            # or "warn"
        movable = ["R.Knee.Lat"]       # absent: every marker not fixed
        use_ranges = true
        refit = true

        [marker_weights]               # static fit only (model marker names)
        "R.Thigh.Rear" = 0.0

        [coordinates]                  # coordinate tasks of the static pose
        knee_angle_r = { degrees = 0.0, weight = 10.0 }
        pelvis_ty = { metres = 0.95, weight = 1.0 }
        subtalar_angle_r = { default = true, weight = 100.0 }

    Targets of rotational coordinates are given in degrees, of translational ones in
    metres; weights per rad^2 (of the value in radians) or m^2.

    Raises
    ------
    FileFormatError
        The file cannot be read, is not TOML (with the line), or holds an unknown key, a
        value of the wrong kind or a target in the wrong unit (naming the key).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(path, None, f"cannot read the placement settings: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileFormatError(
            path, getattr(exc, "lineno", None), f"not valid TOML: {exc}"
        ) from None
    return placement_settings_from_dict(data, model, source=str(path))
