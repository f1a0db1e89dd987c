"""Ground reaction force, centre of pressure and free moment from force platforms.

A :class:`ForcePlate` holds, per sample, the force the platform exerts on the subject
``F`` (the ground reaction force) and its moment ``M_c`` about a reference point ``c`` of
the platform's working surface, in the trial's frame; from these it derives the centre
of pressure and the free moment.

Centre of pressure and free moment (any frame)
----------------------------------------------
With ``n`` the unit normal of the working surface pointing out of the platform (up),
the centre of pressure ``p`` is the point of the surface plane about which the moment of
the reaction has no component in the plane; the remaining moment is the free moment
``T n`` (Shimba, *J. Biomech.* 17(1):53-60, 1984, for the general wrench; Winter,
*Biomechanics and Motor Control of Human Movement*, 4th ed., 2009, chapter 5, for
the force-plate case)::

    p = c + (n x M_c) / (F . n)             (p - c is perpendicular to n)
    T = (M_c . F) / (F . n)                 free moment vector  T n

These follow from ``M_p = M_c + (c - p) x F`` and the vector identity
``(n x M) x F = M (n . F) - n (M . F)``. Both are undefined (NaN) where the normal force
``F . n`` is at or below the platform's ``threshold`` (default 20 N): there the ratio
amplifies noise without bound.

From the C3D channels to ``(F, M_c)`` (C3D user guide, "FORCE_PLATFORM" group)
-----------------------------------------------------------------------------
Channels are first scaled by ezc3d (``ANALOG`` scale, offset, general scale), then
baseline-corrected when ``FORCE_PLATFORM:ZERO`` gives a valid frame range (mean of
those frames subtracted), and converted to N and N m (``ANALOG:UNITS`` of the channels:
``N``/``kN`` and ``Nmm``/``Ncm``/``Nm``, with or without a separator; when a channel has
no unit or a non-mechanical one such as ``V``, forces are taken in N and moments in N
times ``POINT:UNITS``, the C3D rule that all lengths are in point units). In platform
coordinates (``x, y`` in the surface, ``z`` into the platform):

* **Type 1** ``Fx Fy Fz Px Py Tz``: the centre of pressure ``(Px, Py, 0)`` relative to
  the surface centre (ezc3d's reading; ``ORIGIN`` is not used) and the free torque:
  ``M_c = (Px, Py, 0) x F + (0, 0, Tz)``.
* **Type 2** ``Fx Fy Fz Mx My Mz`` about the platform origin ``O``; **type 4** the same
  after ``[F; M] = CAL_MATRIX [channels]``. ``ORIGIN`` ``r`` is the vector from ``O``
  to the centre of the working surface, with a negative ``z`` when ``O`` is below the
  surface; a positive ``z`` (old AMTI convention) is taken as the opposite vector, as
  Visual3D and ezc3d do. ``M_c = M_O + F x r``.
* **Type 3** ``Fx12 Fx34 Fy14 Fy23 Fz1 Fz2 Fz3 Fz4`` (Kistler): with ``a, b`` the
  sensor offsets (``ORIGIN`` x, y) and sensor 1 at ``(+a, +b)``, 2 at ``(-a, +b)``,
  3 at ``(-a, -b)``, 4 at ``(+a, -b)``::

      F   = (Fx12 + Fx34, Fy14 + Fy23, Fz1 + Fz2 + Fz3 + Fz4)
      M_O = (b (Fz1 + Fz2 - Fz3 - Fz4),
             a (-Fz1 + Fz2 + Fz3 - Fz4),
             b (-Fx12 + Fx34) + a (Fy14 - Fy23))
      M_c = M_O + F x (0, 0, az0)

  with ``az0 = -|ORIGIN z|`` (the surface lies above the sensor plane). Kistler's
  optional centre-of-pressure correction polynomials (``FPCOPPOLY``, not part of the C3D
  standard) are not applied; a warning is logged when a file has non-zero ones.

The platform's axes in the lab follow from its corners (corner 1 in the ``+x+y``
quadrant, 2 ``-x+y``, 3 ``-x-y``, 4 ``+x-y``; C3D user guide, "FORCE_PLATFORM:CORNERS")::

    x = (c1 - c2) / |c1 - c2|,   z = x cross (c1 - c4), normalised,   y = z cross x

The reference point ``c`` is the mean of the corners (the centre of the working
surface) and the surface normal is ``n = -z`` (the platform z axis points down into the
platform). Vectors go to the lab as ``R v`` with ``R = [x y z]`` (columns).

The channels of C3D files are the force exerted by the platform on the subject: in all
five shared test files (Vicon, Qualisys and BTS systems, read with ezc3d, BTK-based
OpenSim and this module alike) the vertical lab force is upward during stance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from gaitsim.errors import FileFormatError
from gaitsim.io.c3d import AnalogData, C3DContent, ForcePlatformDefinition
from gaitsim.io.trc import UNIT_SCALES

__all__ = [
    "DEFAULT_THRESHOLD",
    "ForcePlate",
    "force_plates_from_c3d",
    "plate_axes",
    "plate_from_cop",
    "plate_from_wrench",
    "platform_wrench",
    "with_wrench",
]

_log = logging.getLogger(__name__)

#: Normal force (N) at or below which the centre of pressure is undefined.
DEFAULT_THRESHOLD = 20.0


@dataclass(frozen=True, eq=False)
class ForcePlate:
    """The ground reaction measured by one force platform (or one force record).

    Build it with :func:`plate_from_wrench` or :func:`plate_from_cop`, which derive
    :attr:`cop` and :attr:`free_moment` consistently from the wrench.

    Attributes
    ----------
    name
        ``"FP1"``, ``"FP2"``... for C3D platforms, the force's name for OpenSim data.
    time
        Sample times (s), shape ``(n,)``.
    force
        Force exerted on the subject (N), shape ``(n, 3)``.
    moment
        Moment of the reaction about :attr:`centre` (N m), shape ``(n, 3)``.
    centre
        Reference point on the working surface (m), shape ``(3,)``.
    normal
        Unit normal of the working surface, pointing up out of the platform.
    cop
        Centre of pressure (m), shape ``(n, 3)``; NaN where not :attr:`loaded`.
    free_moment
        Free moment about the centre of pressure (N m), along :attr:`normal`, shape
        ``(n, 3)``; NaN where not :attr:`loaded`.
    corners
        The platform's corners (m), shape ``(4, 3)``, or ``None`` when unknown (data
        that came without platform geometry, such as an OpenSim ``.mot`` file).
    threshold
        Normal force (N) at or below which :attr:`cop` and :attr:`free_moment` are NaN.
    """

    name: str
    time: np.ndarray
    force: np.ndarray
    moment: np.ndarray
    centre: np.ndarray
    normal: np.ndarray
    cop: np.ndarray
    free_moment: np.ndarray
    corners: np.ndarray | None
    threshold: float

    @property
    def normal_force(self) -> np.ndarray:
        """``force . normal`` (N), shape ``(n,)``."""
        return np.asarray(self.force @ self.normal)

    @property
    def loaded(self) -> np.ndarray:
        """Samples where the normal force exceeds :attr:`threshold`."""
        return np.asarray(self.normal_force > self.threshold)


def _frozen(values: ArrayLike, shape: tuple[int, ...] | None = None) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    if shape is not None and array.shape != shape:
        raise ValueError(f"expected shape {shape}, got {array.shape}")
    array.setflags(write=False)
    return array


def plate_from_wrench(
    name: str,
    time: ArrayLike,
    force: ArrayLike,
    moment: ArrayLike,
    centre: ArrayLike,
    normal: ArrayLike,
    *,
    corners: ArrayLike | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> ForcePlate:
    """Make a :class:`ForcePlate` from force and moment about a surface point.

    Parameters
    ----------
    name
        Name of the platform.
    time
        Sample times, shape ``(n,)``.
    force, moment
        Reaction force (N) and its moment about ``centre`` (N m), shape ``(n, 3)``.
    centre
        Point of the working surface, shape ``(3,)``.
    normal
        Normal of the working surface pointing up (normalised here).
    corners
        Platform corners, shape ``(4, 3)``, or ``None``.
    threshold
        Normal force (N) at or below which the centre of pressure is undefined.

    Raises
    ------
    ValueError
        If shapes disagree, values are not finite, the normal is zero or the threshold
        is negative.
    """
    t = _frozen(time)
    n = t.shape[0]
    f = _frozen(force, (n, 3))
    m = _frozen(moment, (n, 3))
    c = _frozen(centre, (3,))
    unit = np.array(normal, dtype=np.float64)
    if unit.shape != (3,) or not np.all(np.isfinite(unit)) or np.linalg.norm(unit) == 0:
        raise ValueError(f"normal must be a non-zero 3-vector, got {normal!r}")
    unit = _frozen(unit / np.linalg.norm(unit))
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(m)) and np.all(np.isfinite(c))):
        raise ValueError(f"force plate {name!r}: force, moment and centre must be finite")
    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0 N, got {threshold!r}")
    corner_array = None if corners is None else _frozen(corners, (4, 3))
    normal_force = f @ unit
    loaded = normal_force > threshold
    safe = np.where(loaded, normal_force, 1.0)
    offset = np.cross(unit, m) / safe[:, None]
    cop = np.where(loaded[:, None], c + offset, np.nan)
    torque = np.einsum("ij,ij->i", m, f) / safe
    free = np.where(loaded[:, None], torque[:, None] * unit, np.nan)
    return ForcePlate(
        name=name,
        time=t,
        force=f,
        moment=m,
        centre=c,
        normal=unit,
        cop=_frozen(cop),
        free_moment=_frozen(free),
        corners=corner_array,
        threshold=float(threshold),
    )


def with_wrench(plate: ForcePlate, force: ArrayLike, moment: ArrayLike) -> ForcePlate:
    """The same platform with another force and moment (e.g. filtered); the centre of
    pressure and free moment are recomputed."""
    return plate_from_wrench(
        plate.name,
        plate.time,
        force,
        moment,
        plate.centre,
        plate.normal,
        corners=plate.corners,
        threshold=plate.threshold,
    )


def plate_from_cop(
    name: str,
    time: ArrayLike,
    force: ArrayLike,
    cop: ArrayLike,
    torque: ArrayLike,
    normal: ArrayLike,
    *,
    centre: ArrayLike | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> ForcePlate:
    """Make a :class:`ForcePlate` from force, point of application and free torque, as
    stored in OpenSim ground-reaction files.

    The moment about ``centre`` is ``(cop - centre) x force + torque``; the centre of
    pressure is then recomputed on the plane through ``centre`` with the given normal,
    so it equals ``cop`` where ``cop`` lies in that plane and the torque is along the
    normal.

    Parameters
    ----------
    name, time, threshold
        As in :func:`plate_from_wrench`.
    force, cop, torque
        Force (N), point of application (m) and torque (N m), shape ``(n, 3)``. Where
        the force is zero the point may be anything finite.
    normal
        Up direction of the surface.
    centre
        Reference point of the surface; default: the mean point of application over the
        samples whose normal force exceeds the threshold (the origin if there are none).

    Raises
    ------
    ValueError
        If shapes disagree or values are not finite.
    """
    f = np.array(force, dtype=np.float64)
    p = np.array(cop, dtype=np.float64)
    tau = np.array(torque, dtype=np.float64)
    if f.shape != p.shape or f.shape != tau.shape or f.ndim != 2 or f.shape[1] != 3:
        raise ValueError("force, cop and torque must all have shape (n, 3)")
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(p)) and np.all(np.isfinite(tau))):
        raise ValueError(f"force record {name!r}: force, point and torque must be finite")
    unit = np.array(normal, dtype=np.float64)
    unit = unit / np.linalg.norm(unit)
    if centre is None:
        loaded = f @ unit > threshold
        point = p[loaded].mean(axis=0) if np.any(loaded) else np.zeros(3)
    else:
        point = np.array(centre, dtype=np.float64)
    moment = np.cross(p - point, f) + tau
    return plate_from_wrench(name, time, f, moment, point, unit, threshold=threshold)


# ---------------------------------------------------------------------------------------
# C3D force platforms
# ---------------------------------------------------------------------------------------


def plate_axes(corners: ArrayLike) -> np.ndarray:
    """Rotation ``R`` (3 x 3, columns = platform x, y, z in the lab) from the corners.

    Raises
    ------
    ValueError
        If the corners are degenerate (coincident or collinear).
    """
    c = np.asarray(corners, dtype=np.float64)
    x = c[0] - c[1]
    y = c[0] - c[3]
    z = np.cross(x, y)
    if np.linalg.norm(x) < 1e-9 or np.linalg.norm(z) < 1e-12 * max(np.linalg.norm(x) ** 2, 1):
        raise ValueError("the platform corners are coincident or collinear")
    x = x / np.linalg.norm(x)
    z = z / np.linalg.norm(z)
    y = np.cross(z, x)
    return np.column_stack([x, y, z])


def _unit_factor(unit: str, kind: str, length_unit_m: float) -> float:
    """SI factor of a channel's unit; the C3D fallback when the unit is not mechanical."""
    text = unit.strip().lower().replace(".", "").replace("*", "").replace(" ", "")
    text = text.replace("·", "").replace("\u22c5", "")
    lengths = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}
    if kind == "force":
        return {"n": 1.0, "kn": 1e3}.get(text, 1.0)
    if kind == "moment":
        if text.startswith("kn") and text[2:] in lengths:
            return 1e3 * lengths[text[2:]]
        if text.startswith("n") and text[1:] in lengths:
            return lengths[text[1:]]
        return length_unit_m
    return lengths.get(text, length_unit_m)  # a length


def _baseline(
    values: np.ndarray, zero: tuple[int, int], per_frame: int, n_frames: int, number: int
) -> np.ndarray:
    first, last = zero
    if first < 1 or last < first:
        return np.zeros(values.shape[1])
    if last > n_frames:
        _log.warning(
            "force platform %d: FORCE_PLATFORM:ZERO frames %d-%d exceed the %d frames of the "
            "trial; no baseline subtracted",
            number,
            first,
            last,
            n_frames,
        )
        return np.zeros(values.shape[1])
    return values[(first - 1) * per_frame : last * per_frame].mean(axis=0)


def platform_wrench(
    definition: ForcePlatformDefinition,
    analogs: AnalogData,
    length_unit_m: float,
    *,
    analog_per_frame: int = 1,
    source: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Force (N) and moment about the surface centre (N m) of a C3D platform, in platform
    coordinates, shape ``(n, 3)`` each (see the module docstring for each type).

    Parameters
    ----------
    definition
        The platform.
    analogs
        The file's analog channels (scaled).
    length_unit_m
        Metres per ``POINT:UNITS`` unit (fallback unit of moments and type-1 centres of
        pressure).
    analog_per_frame
        Analog samples per point frame (for ``FORCE_PLATFORM:ZERO``).
    source
        File name for error messages.

    Raises
    ------
    FileFormatError
        If a channel the platform uses has non-finite samples.
    """
    index = [c - 1 for c in definition.channels]
    raw = analogs.values[:, index]
    bad = ~np.all(np.isfinite(raw), axis=0)
    if np.any(bad):
        names = [analogs.names[index[i]] for i in np.flatnonzero(bad)]
        first_bad = int(np.flatnonzero(~np.all(np.isfinite(raw), axis=1))[0])
        raise FileFormatError(
            source or "<c3d>",
            None,
            f"force platform {definition.number}: analog channel(s) {names} have non-finite "
            f"samples (first at t = {analogs.time[first_bad]:.4f} s)",
        )
    n_frames = raw.shape[0] // max(analog_per_frame, 1)
    raw = raw - _baseline(raw, definition.zero, analog_per_frame, n_frames, definition.number)
    units = [analogs.units[i] for i in index]
    kind = definition.type
    if kind == 4:
        assert definition.calibration is not None
        raw = raw @ definition.calibration.T
    if kind in (2, 4):
        force = raw[:, 0:3] * np.array([_unit_factor(u, "force", 1.0) for u in units[0:3]])
        moment_o = raw[:, 3:6] * np.array(
            [_unit_factor(u, "moment", length_unit_m) for u in units[3:6]]
        )
        r = np.array(definition.origin, dtype=np.float64)
        if r[2] > 0:
            r = -r
        return force, moment_o + np.cross(force, r)
    if kind == 1:
        force = raw[:, 0:3] * np.array([_unit_factor(u, "force", 1.0) for u in units[0:3]])
        px = raw[:, 3] * _unit_factor(units[3], "length", length_unit_m)
        py = raw[:, 4] * _unit_factor(units[4], "length", length_unit_m)
        tz = raw[:, 5] * _unit_factor(units[5], "moment", length_unit_m)
        point = np.column_stack([px, py, np.zeros_like(px)])
        moment = np.cross(point, force)
        moment[:, 2] += tz
        return force, moment
    # Type 3 (Kistler): eight channels, forces only.
    scale = np.array([_unit_factor(u, "force", 1.0) for u in units])
    fx12, fx34, fy14, fy23, fz1, fz2, fz3, fz4 = (raw * scale).T
    a, b = float(definition.origin[0]), float(definition.origin[1])
    az0 = -abs(float(definition.origin[2]))
    force = np.column_stack([fx12 + fx34, fy14 + fy23, fz1 + fz2 + fz3 + fz4])
    moment_o = np.column_stack(
        [
            b * (fz1 + fz2 - fz3 - fz4),
            a * (-fz1 + fz2 + fz3 - fz4),
            b * (-fx12 + fx34) + a * (fy14 - fy23),
        ]
    )
    return force, moment_o + np.cross(force, np.array([0.0, 0.0, az0]))


def force_plates_from_c3d(
    content: C3DContent, *, threshold: float = DEFAULT_THRESHOLD
) -> tuple[ForcePlate, ...]:
    """The force platforms of a C3D file, in its lab frame (platform ``k`` is ``"FPk"``).

    Parameters
    ----------
    content
        From :func:`gaitsim.io.c3d.read_c3d`.
    threshold
        Normal force (N) at or below which the centre of pressure is undefined.

    Raises
    ------
    FileFormatError
        If a platform's corners are degenerate or its channels have non-finite samples.
    """
    unit_m = _length_unit_metres(content.length_unit)
    per_frame = content.header.analog_per_frame or 1
    cop_poly = content.parameter("FORCE_PLATFORM", "FPCOPPOLY")
    if cop_poly is not None and cop_poly.type != -1 and np.any(cop_poly.numbers() != 0):
        _log.warning(
            "%s: FORCE_PLATFORM:FPCOPPOLY (Kistler centre-of-pressure correction) is not applied",
            content.path,
        )
    plates = []
    for definition in content.force_platforms:
        try:
            rotation = plate_axes(definition.corners)
        except ValueError as exc:
            raise FileFormatError(
                content.path, None, f"force platform {definition.number}: {exc}"
            ) from None
        force, moment = platform_wrench(
            definition,
            content.analogs,
            unit_m,
            analog_per_frame=per_frame,
            source=content.path,
        )
        plates.append(
            plate_from_wrench(
                f"FP{definition.number}",
                content.analogs.time,
                force @ rotation.T,
                moment @ rotation.T,
                definition.corners.mean(axis=0),
                -rotation[:, 2],
                corners=definition.corners,
                threshold=threshold,
            )
        )
    return tuple(plates)


def _length_unit_metres(unit: str) -> float:
    return UNIT_SCALES.get(unit.lower(), 1e-3)
