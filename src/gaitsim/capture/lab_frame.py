"""From the lab frame of a trial to gaitsim's model frame.

Labs choose their own axes: Vicon and most C3D files have +z up and walk along +x or
-x (or +y); BTS has +y up; OpenSim files have +y up. gaitsim's models use OpenSim's
ground frame: **+x forward (walking direction), +y up, +z to the subject's right**.

A :class:`LabFrame` is the proper rotation ``R`` (``det R = +1``) with
``v_model = R v_lab``; its rows are the lab-frame unit vectors of the model axes::

    R = [ f ; u ; f x u ]        f: walking direction, u: up (both in lab coordinates)

(+z right = forward x up for a right-handed frame). Only a rotation is applied, no
translation: positions keep the lab origin, which labs put on the floor.

Choosing the frame
------------------
Explicitly, with :func:`lab_frame_from_axes` (``up="+z", forward="-x"``) or
:func:`lab_frame_from_rotation`, or detected from the data by :func:`detect_lab_frame`
(each choice is logged and recorded in :attr:`LabFrame.reason`):

* **Up** is the lab axis (``±x``, ``±y`` or ``±z``) closest to the mean ground reaction
  force of the loaded force plates (reaction forces oppose gravity). Without loaded
  plates it is the axis along which the markers spread most within a frame (a walking
  body is taller than it is long or wide), pointing to the side where the markers are
  (labs put the floor at height 0, so markers have positive heights).
* **Forward** is the horizontal lab axis closest to the net displacement of the pelvis
  markers (names containing ASI, PSI, SACR, IAS, IPS, pelvis or sacral; all markers when
  none is found) from their first to their last visible position. When the pelvis moves
  less than 0.3 m (treadmill), the mean heel-to-toe direction of the feet is used
  (heel: HEE, HEEL, CAL, FCC; toe: TOE, MT, MET, FM). Axes are snapped to the lab axes:
  walkways are laid out along them; give an explicit rotation otherwise.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from gaitsim.capture.force_plates import ForcePlate, plate_from_wrench
from gaitsim.capture.marker_names import foot_markers, pelvis_markers
from gaitsim.capture.trial import Trial
from gaitsim.errors import GaitsimError
from gaitsim.io.trc import MarkerTable

__all__ = [
    "LabFrame",
    "detect_lab_frame",
    "lab_frame_from_axes",
    "lab_frame_from_rotation",
    "rotate_markers",
    "rotate_plate",
    "to_model_frame",
]

_log = logging.getLogger(__name__)

_AXES = {"x": 0, "y": 1, "z": 2}
#: Pelvis travel (m) below which the walking direction is taken from the feet.
MIN_TRAVEL = 0.3


@dataclass(frozen=True, eq=False)
class LabFrame:
    """A rotation from a lab frame to the model frame.

    Attributes
    ----------
    rotation
        ``R`` with ``v_model = R v_lab`` (3 x 3, orthonormal, determinant +1).
    up, forward
        The lab axes that become model +y and +x (``"+z"``, ``"-x"``...), or
        ``"custom"`` for a rotation not aligned with the lab axes.
    reason
        How the frame was chosen, in words.
    """

    rotation: np.ndarray
    up: str
    forward: str
    reason: str


def _axis_vector(axis: str) -> np.ndarray:
    text = axis.strip().lower()
    if len(text) == 1:
        text = "+" + text
    if len(text) != 2 or text[0] not in "+-" or text[1] not in _AXES:
        raise GaitsimError(f"axis must be one of +x, -x, +y, -y, +z, -z; got {axis!r}")
    vector = np.zeros(3)
    vector[_AXES[text[1]]] = 1.0 if text[0] == "+" else -1.0
    return vector


def _axis_name(vector: np.ndarray) -> str:
    k = int(np.argmax(np.abs(vector)))
    return ("+" if vector[k] > 0 else "-") + "xyz"[k]


def lab_frame_from_axes(up: str, forward: str, *, reason: str = "given") -> LabFrame:
    """The lab frame in which ``up`` is vertical and ``forward`` the walking direction.

    Parameters
    ----------
    up, forward
        Lab axes such as ``"+z"`` and ``"-x"``.
    reason
        Recorded in :attr:`LabFrame.reason`.

    Raises
    ------
    GaitsimError
        If an axis is malformed or the two are parallel.
    """
    u = _axis_vector(up)
    f = _axis_vector(forward)
    if abs(float(u @ f)) > 0:
        raise GaitsimError(f"up {up!r} and forward {forward!r} must be different lab axes")
    rotation = np.vstack([f, u, np.cross(f, u)])
    rotation.setflags(write=False)
    return LabFrame(rotation=rotation, up=_axis_name(u), forward=_axis_name(f), reason=reason)


def lab_frame_from_rotation(rotation: ArrayLike, *, reason: str = "given rotation") -> LabFrame:
    """A lab frame from an explicit rotation ``R`` (``v_model = R v_lab``).

    Raises
    ------
    GaitsimError
        If ``R`` is not a proper rotation (orthonormal to 1e-6, determinant +1).
    """
    r = np.array(rotation, dtype=np.float64)
    if r.shape != (3, 3) or not np.all(np.isfinite(r)):
        raise GaitsimError(f"rotation must be a finite 3 x 3 matrix, got shape {r.shape}")
    if not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
        raise GaitsimError("rotation must be orthonormal with determinant +1")
    r.setflags(write=False)
    aligned = np.all(np.isclose(np.abs(r), np.round(np.abs(r)), atol=1e-9))
    up = _axis_name(r[1]) if aligned else "custom"
    forward = _axis_name(r[0]) if aligned else "custom"
    return LabFrame(rotation=r, up=up, forward=forward, reason=reason)


def _snap(vector: np.ndarray, exclude: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Closest lab axis (optionally perpendicular to ``exclude``) and the angle (deg)."""
    v = np.array(vector, dtype=np.float64)
    if exclude is not None:
        v = v - (v @ exclude) * exclude
        v[np.abs(exclude) > 0.5] = 0.0
    axis = np.zeros(3)
    k = int(np.argmax(np.abs(v)))
    axis[k] = math.copysign(1.0, v[k])
    angle = math.degrees(math.acos(min(1.0, abs(v[k]) / np.linalg.norm(v))))
    return axis, angle


def _up_from_plates(plates: Sequence[ForcePlate]) -> tuple[np.ndarray, str] | None:
    forces = [p.force[np.linalg.norm(p.force, axis=1) > max(p.threshold, 50.0)] for p in plates]
    forces = [f for f in forces if f.size]
    if not forces:
        return None
    mean = np.concatenate(forces).mean(axis=0)
    axis, angle = _snap(mean)
    return axis, (
        f"up {_axis_name(axis)}: the lab axis closest to the mean loaded plate force "
        f"({angle:.1f} deg away)"
    )


def _up_from_markers(markers: MarkerTable) -> tuple[np.ndarray, str]:
    positions = markers.positions
    visible = np.isfinite(positions[..., 0])
    frames = np.sum(visible, axis=1) >= 3
    if not np.any(frames):
        raise GaitsimError(
            "cannot detect the vertical axis: no loaded force plate and no frame with at "
            "least 3 visible markers; give the lab axes explicitly"
        )
    spread = np.nanmax(positions[frames], axis=1) - np.nanmin(positions[frames], axis=1)
    extent = np.median(spread, axis=0)
    k = int(np.argmax(extent))
    heights = positions[frames][..., k]
    sign = 1.0 if np.nanmean(heights) >= 0 else -1.0
    axis = np.zeros(3)
    axis[k] = sign
    return axis, (
        f"up {_axis_name(axis)}: no loaded force plate; the axis of largest within-frame "
        f"marker spread ({extent[k]:.2f} m), towards the markers (floor at 0)"
    )


def _travel(markers: MarkerTable, columns: list[int]) -> np.ndarray | None:
    """Mean displacement of the given markers from first to last visible position."""
    moves = []
    for k in columns:
        visible = np.flatnonzero(np.all(np.isfinite(markers.positions[:, k, :]), axis=1))
        if visible.size >= 2:
            moves.append(markers.positions[visible[-1], k] - markers.positions[visible[0], k])
    return np.mean(moves, axis=0) if moves else None


def _forward_from_markers(markers: MarkerTable, up: np.ndarray) -> tuple[np.ndarray, str]:
    names = markers.marker_names
    pelvis = [names.index(n) for n in pelvis_markers(names)]
    travel = _travel(markers, pelvis) if pelvis else None
    which = "pelvis markers " + ", ".join(names[i] for i in pelvis)
    if travel is None:
        travel = _travel(markers, list(range(len(names))))
        which = "markers (no visible pelvis marker)"
    horizontal = None if travel is None else travel - (travel @ up) * up
    if horizontal is not None and np.linalg.norm(horizontal) >= MIN_TRAVEL:
        axis, angle = _snap(horizontal, exclude=up)
        return axis, (
            f"forward {_axis_name(axis)}: the lab axis closest to the travel of the "
            f"{which} ({np.linalg.norm(horizontal):.2f} m, {angle:.1f} deg away)"
        )
    feet = []
    for heel, toe in foot_markers(names).values():
        vector = markers.marker(toe) - markers.marker(heel)
        ok = np.all(np.isfinite(vector), axis=1)
        if np.any(ok):
            feet.append(vector[ok].mean(axis=0))
    if feet:
        direction = np.mean(feet, axis=0)
        axis, angle = _snap(direction - (direction @ up) * up, exclude=up)
        return axis, (
            f"forward {_axis_name(axis)}: the pelvis moved less than {MIN_TRAVEL} m; the "
            f"mean heel-to-toe direction of the feet ({angle:.1f} deg away)"
        )
    raise GaitsimError(
        f"cannot detect the walking direction: the pelvis moved less than {MIN_TRAVEL} m "
        "and no heel and toe markers were found; give the lab axes explicitly"
    )


def detect_lab_frame(
    markers: MarkerTable,
    plates: Sequence[ForcePlate] = (),
    *,
    up: str | None = None,
    forward: str | None = None,
) -> LabFrame:
    """Detect the lab frame from the data (see the module docstring); ``up`` or
    ``forward`` fix one axis and detect the other.

    Raises
    ------
    GaitsimError
        If an axis cannot be detected (no loaded plate and too few markers, or no
        walking direction), or the detected axes coincide.
    """
    reasons = []
    if up is not None:
        u = _axis_vector(up)
        reasons.append(f"up {_axis_name(u)}: given")
    else:
        found = _up_from_plates(plates)
        u, why = found if found is not None else _up_from_markers(markers)
        reasons.append(why)
    if forward is not None:
        f = _axis_vector(forward)
        reasons.append(f"forward {_axis_name(f)}: given")
    else:
        f, why = _forward_from_markers(markers, u)
        reasons.append(why)
    frame = lab_frame_from_axes(_axis_name(u), _axis_name(f), reason="; ".join(reasons))
    _log.info("lab frame: %s", frame.reason)
    return frame


# ---------------------------------------------------------------------------------------
# Applying it
# ---------------------------------------------------------------------------------------


def rotate_markers(markers: MarkerTable, rotation: np.ndarray) -> MarkerTable:
    """Markers with every position ``p`` replaced by ``rotation @ p``."""
    return MarkerTable(
        marker_names=markers.marker_names,
        time=markers.time,
        positions=markers.positions @ np.asarray(rotation).T,
        rate=markers.rate,
        units_in_file=markers.units_in_file,
    )


def rotate_plate(plate: ForcePlate, rotation: np.ndarray) -> ForcePlate:
    """A force plate with every vector and point rotated by ``rotation``."""
    r = np.asarray(rotation)
    return plate_from_wrench(
        plate.name,
        plate.time,
        plate.force @ r.T,
        plate.moment @ r.T,
        r @ plate.centre,
        r @ plate.normal,
        corners=None if plate.corners is None else plate.corners @ r.T,
        threshold=plate.threshold,
    )


def to_model_frame(trial: Trial, frame: LabFrame | None = None) -> Trial:
    """The trial rotated into the model frame.

    Parameters
    ----------
    trial
        A trial in its lab frame.
    frame
        The lab frame; default: :func:`detect_lab_frame` on the trial's data.

    Raises
    ------
    GaitsimError
        If the trial is already in the model frame, or detection fails.
    """
    if trial.frame != "lab":
        raise GaitsimError(f"the trial is already in the {trial.frame} frame")
    if frame is None:
        frame = detect_lab_frame(trial.markers, trial.force_plates)
    r = frame.rotation
    return trial.with_step(
        f"rotated into the model frame (lab {frame.forward} forward, {frame.up} up): "
        f"{frame.reason}",
        markers=rotate_markers(trial.markers, r),
        force_plates=tuple(rotate_plate(p, r) for p in trial.force_plates),
        frame="model",
        rotation=r @ trial.rotation,
    )
