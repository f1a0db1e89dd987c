"""One lab trial: markers, force plates, analog channels, gait events and the subject.

A :class:`Trial` is what gaitsim imports from a motion-capture lab, whatever the file
format:

* a C3D file (:func:`read_c3d_trial`, through :func:`gaitsim.io.c3d.read_c3d` and
  :func:`gaitsim.capture.force_plates.force_plates_from_c3d`), or
* OpenSim files: a TRC marker file plus a ground-reaction ``.mot`` and its
  ``ExternalLoads`` XML (:func:`read_opensim_trial`); each enabled external force
  becomes one force record (a :class:`~gaitsim.capture.force_plates.ForcePlate`
  without corners).

A trial starts in the **lab frame** of its file (:attr:`Trial.frame` ``"lab"``);
:func:`gaitsim.capture.lab_frame.to_model_frame` rotates it into the model frame
(``"model"``: +x forward, +y up, +z right). Lengths are in metres, forces in newtons,
moments in newton metres, times in seconds (absolute times of the recording).

Gait events
-----------
C3D events are turned into :class:`RecordedEvent` (side ``"r"``/``"l"``, kind
``"foot_strike"``/``"foot_off"``): the side comes from the event context (``Left``,
``Right``) or, without a context, from a label prefix (``L``/``R``, ``Left``/``Right``,
as Qualisys' ``LHS``, ``RTO``); the kind from the label (``Foot Strike``, ``Heel
Strike``, ``Initial Contact``, ``HS``, ``FS``, ``IC``; ``Foot Off``, ``Toe Off``,
``TO``, ``FO``). Other events (``General`` context, ``Event``...) are not gait events;
they are logged and remain in the C3D content.

Subject
-------
From the C3D ``SUBJECTS:NAMES``, ``PROCESSING:Bodymass`` (kg) and
``PROCESSING:Height`` (in ``POINT:UNITS``, converted to metres), the parameters where
Vicon Nexus stores them. Values outside 1-500 kg or 0.3-3 m are not used (with a
warning).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from gaitsim.capture.force_plates import (
    DEFAULT_THRESHOLD,
    ForcePlate,
    force_plates_from_c3d,
    plate_from_cop,
    plate_from_wrench,
)
from gaitsim.errors import FileFormatError, GaitsimError, UnsupportedFeatureError
from gaitsim.io.c3d import AnalogData, C3DContent, C3DEvent, read_c3d
from gaitsim.io.external_loads import applied_loads, read_external_loads
from gaitsim.io.storage import StrPath, read_storage
from gaitsim.io.trc import UNIT_SCALES, MarkerTable, read_trc

__all__ = [
    "RecordedEvent",
    "SubjectInfo",
    "Trial",
    "crop",
    "gait_events",
    "read_c3d_trial",
    "read_opensim_trial",
    "subject_info",
    "trial_from_c3d",
]

_log = logging.getLogger(__name__)

SIDES = ("r", "l")
EVENT_KINDS = ("foot_strike", "foot_off")
_STRIKE = {"footstrike", "heelstrike", "initialcontact", "hs", "fs", "ic", "footcontact"}
_OFF = {"footoff", "toeoff", "to", "fo"}


@dataclass(frozen=True)
class RecordedEvent:
    """A foot strike or foot off of one side, as the lab recorded it (C3D ``EVENT``).

    The analyses use :class:`gaitsim.analysis.events.GaitEvent` (initial contact and toe
    off, from forces or markers); the pipeline converts recorded events into those.

    Attributes
    ----------
    side
        ``"r"`` or ``"l"``.
    kind
        ``"foot_strike"`` or ``"foot_off"``.
    time
        Absolute time (s).
    label
        The label it was read from.
    """

    side: str
    kind: str
    time: float
    label: str = ""

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"side must be 'r' or 'l', got {self.side!r}")
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"kind must be one of {EVENT_KINDS}, got {self.kind!r}")
        if not math.isfinite(self.time):
            raise ValueError(f"event time must be finite, got {self.time!r}")


@dataclass(frozen=True)
class SubjectInfo:
    """What the file says about the subject (``None``: not stored).

    Attributes
    ----------
    name
        Subject name (``""`` if none).
    mass
        Body mass (kg).
    height
        Height (m).
    """

    name: str = ""
    mass: float | None = None
    height: float | None = None


@dataclass(frozen=True, eq=False)
class Trial:
    """One lab trial.

    Attributes
    ----------
    source
        The file(s) it was read from.
    markers
        Marker trajectories (m), NaN where missing.
    force_plates
        One per force platform (or force record), sharing one time base per file.
    analogs
        The analog channels of a C3D file (all channels, as scaled in the file), or
        ``None`` for OpenSim files.
    events
        Gait events, sorted by time.
    subject
        Subject metadata.
    frame
        ``"lab"`` (as in the file) or ``"model"`` (+x forward, +y up, +z right).
    rotation
        The rotation applied to the file's lab frame so far (``v_now = rotation @
        v_file``): identity in the lab frame.
    history
        Processing steps applied, in order, in words.
    """

    source: str
    markers: MarkerTable
    force_plates: tuple[ForcePlate, ...]
    analogs: AnalogData | None
    events: tuple[RecordedEvent, ...]
    subject: SubjectInfo = field(default_factory=SubjectInfo)
    frame: str = "lab"
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    history: tuple[str, ...] = ()

    def plate(self, name: str) -> ForcePlate:
        """The force plate called ``name``.

        Raises
        ------
        LookupError
            If there is none.
        """
        for plate in self.force_plates:
            if plate.name == name:
                return plate
        names = ", ".join(p.name for p in self.force_plates) or "none"
        raise LookupError(f"no force plate {name!r} in the trial (plates: {names})")

    def with_step(self, step: str, **changes: object) -> Trial:
        """A copy with ``changes`` applied and ``step`` appended to :attr:`history`."""
        return replace(self, history=(*self.history, step), **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Events and subject
# ---------------------------------------------------------------------------------------


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _event_side_kind(event: C3DEvent) -> tuple[str, str] | None:
    context = event.context.strip().lower()
    side = {"left": "l", "right": "r"}.get(context)
    label = event.label.strip()
    words = _words(label)
    if side is None:
        match = re.match(r"(?i)^(left|right|l|r)[\s_.\-]*(.*)$", label)
        if match:
            side = match.group(1)[0].lower()
            words = _words(match.group(2))
    elif words.startswith(("left", "right")):
        words = words[4:] if words.startswith("left") else words[5:]
    if side is None:
        return None
    if words in _STRIKE:
        return side, "foot_strike"
    if words in _OFF:
        return side, "foot_off"
    return None


def gait_events(
    events: Sequence[C3DEvent],
) -> tuple[tuple[RecordedEvent, ...], tuple[C3DEvent, ...]]:
    """Split C3D events into gait events and the rest (see the module docstring).

    Returns
    -------
    tuple
        ``(gait_events sorted by time, other events)``.
    """
    found: list[RecordedEvent] = []
    others: list[C3DEvent] = []
    for event in events:
        side_kind = _event_side_kind(event)
        if side_kind is None:
            others.append(event)
        else:
            found.append(
                RecordedEvent(
                    side=side_kind[0], kind=side_kind[1], time=event.time, label=event.label
                )
            )
    return tuple(sorted(found, key=lambda e: e.time)), tuple(others)


def subject_info(content: C3DContent) -> SubjectInfo:
    """Subject name, mass and height from a C3D file (see the module docstring)."""
    name = ""
    names = content.parameter("SUBJECTS", "NAMES")
    if names is not None and names.type == -1 and names.strings():
        name = names.strings()[0].strip()

    def number(group: str, key: str) -> float | None:
        parameter = content.parameter(group, key)
        if parameter is None or parameter.type == -1 or parameter.size == 0:
            return None
        value = float(parameter.numbers()[0])
        return value if math.isfinite(value) else None

    mass = number("PROCESSING", "Bodymass")
    if mass is not None and not 1.0 <= mass <= 500.0:
        _log.warning("%s: PROCESSING:Bodymass = %g kg is not used", content.path, mass)
        mass = None
    height = number("PROCESSING", "Height")
    if height is not None:
        height *= UNIT_SCALES.get(content.length_unit.lower(), 1e-3)
        if not 0.3 <= height <= 3.0:
            _log.warning("%s: PROCESSING:Height = %g m is not used", content.path, height)
            height = None
    return SubjectInfo(name=name, mass=mass, height=height)


# ---------------------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------------------


def trial_from_c3d(content: C3DContent, *, threshold: float = DEFAULT_THRESHOLD) -> Trial:
    """The :class:`Trial` of a read C3D file, in its lab frame.

    Parameters
    ----------
    content
        From :func:`gaitsim.io.c3d.read_c3d`.
    threshold
        Normal force (N) at or below which centres of pressure are undefined.
    """
    plates = force_plates_from_c3d(content, threshold=threshold)
    events, others = gait_events(content.events)
    for event in others:
        _log.info(
            "%s: event %r (context %r) at %.4f s is not a gait event; not used",
            content.path,
            event.label,
            event.context,
            event.time,
        )
    return Trial(
        source=content.path,
        markers=content.markers,
        force_plates=plates,
        analogs=content.analogs,
        events=events,
        subject=subject_info(content),
        history=(f"read {content.path} (C3D, {content.markers.n_frames} frames)",),
    )


def read_c3d_trial(
    path: StrPath, *, threshold: float = DEFAULT_THRESHOLD, isolated: bool = True
) -> Trial:
    """Read a C3D file into a :class:`Trial` (lab frame).

    Raises
    ------
    FileFormatError, UnsupportedFeatureError
        See :func:`gaitsim.io.c3d.read_c3d`.
    """
    return trial_from_c3d(read_c3d(path, isolated=isolated), threshold=threshold)


def _nearest_axis(vector: np.ndarray) -> np.ndarray:
    axis = np.zeros(3)
    k = int(np.argmax(np.abs(vector)))
    axis[k] = 1.0 if vector[k] >= 0 else -1.0
    return axis


def read_opensim_trial(
    trc_path: StrPath,
    external_loads_path: StrPath,
    *,
    grf_path: StrPath | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Trial:
    """Read OpenSim lab data: TRC markers and ground reactions with their ExternalLoads.

    Every enabled ``ExternalForce`` with force and point identifiers becomes a force
    record named after it; its torque (zero without a torque identifier) is the free
    torque at the point. The surface normal of each record is the coordinate axis
    closest to its mean force over the samples above ``threshold`` (+y, OpenSim's up,
    when it is never loaded). The data must be in the same (ground) frame as the
    markers, in N, m and N m.

    Parameters
    ----------
    trc_path
        Marker file.
    external_loads_path
        ``ExternalLoads`` XML.
    grf_path
        The force data file; default: the XML's ``<datafile>``.
    threshold
        Normal force (N) at or below which centres of pressure are undefined.

    Raises
    ------
    FileFormatError
        If a file is malformed, columns are missing or values are not finite.
    UnsupportedFeatureError
        If a force is expressed in a body frame (that needs a model) or has no point.
    """
    markers = read_trc(trc_path)
    loads = read_external_loads(external_loads_path)
    data_path = (
        Path(grf_path) if grf_path is not None else loads.resolve_datafile(external_loads_path)
    )
    table = read_storage(data_path)
    plates: list[ForcePlate] = []
    for load in applied_loads(loads, table, source=data_path):
        definition = loads.force(load.name)
        if load.force_frame != "ground" or load.point_frame != "ground":
            raise UnsupportedFeatureError(
                external_loads_path,
                f"ExternalForce {load.name!r}",
                "forces or points expressed in a body frame are not supported for lab data",
            )
        if definition.point_identifier is None:
            raise UnsupportedFeatureError(
                external_loads_path,
                f"ExternalForce {load.name!r}",
                "a ground reaction without point of application cannot be imported",
            )
        values = (load.force, load.point, load.torque)
        if not all(np.all(np.isfinite(v)) for v in values):
            raise FileFormatError(
                data_path, None, f"external force {load.name!r} has non-finite values"
            )
        magnitude = np.linalg.norm(load.force, axis=1)
        strong = magnitude > threshold
        direction = load.force[strong].mean(axis=0) if np.any(strong) else np.array([0, 1.0, 0])
        plates.append(
            plate_from_cop(
                load.name,
                table.time,
                load.force,
                load.point,
                load.torque,
                _nearest_axis(direction),
                threshold=threshold,
            )
        )
    if not plates:
        raise FileFormatError(external_loads_path, None, "no enabled external force with data")
    return Trial(
        source=f"{trc_path} + {data_path}",
        markers=markers,
        force_plates=tuple(plates),
        analogs=None,
        events=(),
        history=(f"read {trc_path} (TRC) and {data_path} with {external_loads_path}",),
    )


# ---------------------------------------------------------------------------------------
# Cropping
# ---------------------------------------------------------------------------------------


def crop(trial: Trial, start: float, end: float) -> Trial:
    """The part of the trial with ``start <= time <= end`` (markers, plates, analogs,
    events).

    Raises
    ------
    GaitsimError
        If the interval is empty or leaves no marker frame.
    """
    if not (math.isfinite(start) and math.isfinite(end) and start < end):
        raise GaitsimError(f"crop interval must satisfy start < end, got [{start}, {end}]")
    tolerance = 1e-9
    markers = trial.markers
    keep = (markers.time >= start - tolerance) & (markers.time <= end + tolerance)
    if not np.any(keep):
        raise GaitsimError(
            f"crop interval [{start}, {end}] s holds no marker frame "
            f"(markers span [{markers.time[0]}, {markers.time[-1]}] s)"
        )
    new_markers = MarkerTable(
        marker_names=markers.marker_names,
        time=markers.time[keep],
        positions=markers.positions[keep],
        rate=markers.rate,
        units_in_file=markers.units_in_file,
    )
    plates = []
    for plate in trial.force_plates:
        inside = (plate.time >= start - tolerance) & (plate.time <= end + tolerance)
        plates.append(
            plate_from_wrench(
                plate.name,
                plate.time[inside],
                plate.force[inside],
                plate.moment[inside],
                plate.centre,
                plate.normal,
                corners=plate.corners,
                threshold=plate.threshold,
            )
        )
    analogs = trial.analogs
    if analogs is not None:
        inside = (analogs.time >= start - tolerance) & (analogs.time <= end + tolerance)
        analogs = replace(analogs, time=analogs.time[inside], values=analogs.values[inside])
    events = tuple(e for e in trial.events if start - tolerance <= e.time <= end + tolerance)
    return trial.with_step(
        f"cropped to [{start:g}, {end:g}] s",
        markers=new_markers,
        force_plates=tuple(plates),
        analogs=analogs,
        events=events,
    )
