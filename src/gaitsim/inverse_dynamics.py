"""Inverse dynamics of a measured trial, as OpenSim's ``InverseDynamicsTool``.

Given coordinates over time (typically the ``.mot`` written by inverse kinematics) and,
optionally, external loads (ground reaction forces), :func:`inverse_dynamics` returns
the generalised forces (joint moments and residual forces) that reproduce the motion::

    tau = M(q) qdd + c(q, qd) - J(q)^T f_ext

Processing follows opensim-core ``OpenSim/Tools/InverseDynamicsTool.cpp`` (``run()``):

1. Coordinates are matched to the model by column name; a coordinate missing from the
   table is held at its default value (with a warning), unknown columns are ignored.
   Values in degrees (``in_degrees``) are converted for rotational coordinates only.
2. If ``lowpass_cutoff`` is given (OpenSim's ``lowpass_cutoff_frequency_for_coordinates``,
   6 Hz in the standard gait pipeline) the coordinates are padded by ``n // 2`` samples
   at each end and low-pass filtered (:func:`gaitsim.signal.pad`,
   :func:`gaitsim.signal.lowpass`: 3rd-order Butterworth, forward and backward).
3. Speeds and accelerations are the derivatives of the natural quintic spline through
   the (padded, filtered) samples (:func:`gaitsim.signal.spline_derivatives`; OpenSim's
   ``GCVSplineSet(5, ...)``).
4. Each enabled ``ExternalForce`` is evaluated at the frame times from its data columns
   through a natural cubic interpolating spline, as OpenSim's ``ExternalForce`` does
   (``GCVSpline`` of degree 3 with zero error variance, i.e. no smoothing; linear
   interpolation when the data have 2 or 3 rows). The load data are *not* filtered
   (OpenSim filters only the coordinates). Vectors given in a body frame are rotated to
   ground with that body's pose; the force acts at its point of application, so on the
   body it is the force at the body origin plus the moment ``(point - origin) x F``,
   plus the free torque.
5. Generalised forces are evaluated at the frames of the coordinates table inside
   ``time_range`` (as OpenSim, the first frame is the last one at or before the start),
   with the model's CasADi ``inverse_dynamics`` function mapped over all frames at once.

Differences from OpenSim: OpenSim resamples the coordinates with a spline when the time
steps are not uniform to machine precision (always, for times printed with 8 decimals),
which shifts its output times by up to a few microseconds (``-5e-7, 0.01666616, ...``);
here the frames keep the times of the coordinates file. Forces of the model (muscles,
springs, contact) are not applied: this is OpenSim's ``forces_to_exclude = Muscles``
for models whose only forces are muscles.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.interpolate
from numpy.typing import NDArray

from gaitsim.errors import ModelError
from gaitsim.io.external_loads import AppliedLoad, ExternalLoads, applied_loads
from gaitsim.io.storage import StrPath, TimeSeriesTable, write_storage
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.description import GROUND, Model, Motion
from gaitsim.signal import lowpass, pad, spline_derivatives

__all__ = [
    "InverseDynamicsResult",
    "body_forces",
    "generalized_force_labels",
    "inverse_dynamics",
    "load_interpolant",
    "write",
]

FloatArray = NDArray[np.float64]

TABLE_NAME = "Inverse Dynamics Generalized Forces"


def generalized_force_labels(model: Model) -> tuple[str, ...]:
    """OpenSim's labels of generalised forces: ``<coord>_moment`` or ``<coord>_force``."""
    return tuple(
        f"{c.name}_moment" if c.motion is Motion.ROTATIONAL else f"{c.name}_force"
        for c in model.coordinates
    )


@dataclass(frozen=True, eq=False)
class InverseDynamicsResult:
    """Generalised forces over a trial.

    Parameters
    ----------
    time
        Frame times ``(n,)`` (s).
    coordinate_names
        Coordinates in model order (``n_q``).
    generalized_forces
        ``(n, n_q)``: moments (N m) of rotational and forces (N) of translational
        coordinates that the actuators must supply.
    labels
        Column labels as OpenSim writes them (``hip_flexion_r_moment``, ``pelvis_tx_force``).
    coordinates, speeds, accelerations
        The kinematics used, ``(n, n_q)`` in rad and m (after filtering), for checks.
    """

    time: FloatArray
    coordinate_names: tuple[str, ...]
    generalized_forces: FloatArray
    labels: tuple[str, ...]
    coordinates: FloatArray
    speeds: FloatArray
    accelerations: FloatArray

    def __post_init__(self) -> None:
        n, nq = self.time.shape[0], len(self.coordinate_names)
        for name in ("generalized_forces", "coordinates", "speeds", "accelerations"):
            array = np.array(getattr(self, name), dtype=np.float64)
            if array.shape != (n, nq):
                raise ValueError(f"{name} must have shape {(n, nq)}, got {array.shape}")
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        time = np.array(self.time, dtype=np.float64)
        time.setflags(write=False)
        object.__setattr__(self, "time", time)
        object.__setattr__(self, "coordinate_names", tuple(self.coordinate_names))
        object.__setattr__(self, "labels", tuple(self.labels))
        if len(self.labels) != nq:
            raise ValueError(f"need {nq} labels, got {len(self.labels)}")

    def force(self, coordinate: str) -> FloatArray:
        """The generalised force of one coordinate over time ``(n,)``."""
        try:
            index = self.coordinate_names.index(coordinate)
        except ValueError:
            raise LookupError(f"no coordinate {coordinate!r} in the result") from None
        return self.generalized_forces[:, index]

    def to_table(self) -> TimeSeriesTable:
        """The result as a table with OpenSim's name and labels (``in_degrees`` false)."""
        return TimeSeriesTable(
            name=TABLE_NAME,
            labels=self.labels,
            time=self.time,
            data=self.generalized_forces,
            in_degrees=False,
        )


def write(result: InverseDynamicsResult, path: StrPath, *, precision: int = 10) -> None:
    """Write the generalised forces as an OpenSim Storage (``.sto``) file.

    Parameters
    ----------
    result
        The result of :func:`inverse_dynamics`.
    path
        Destination (overwritten).
    precision
        Significant digits.
    """
    write_storage(result.to_table(), path, precision=precision)


# ---------------------------------------------------------------------------------------
# Input preparation
# ---------------------------------------------------------------------------------------


def _coordinate_matrix(model: Model, table: TimeSeriesTable) -> FloatArray:
    """``(n, n_q)`` coordinate values in rad/m in model order."""
    columns = {label: i for i, label in enumerate(table.labels)}
    values = np.empty((table.n_rows, len(model.coordinates)))
    missing: list[str] = []
    for k, c in enumerate(model.coordinates):
        if c.name in columns:
            column = np.array(table.data[:, columns[c.name]], dtype=np.float64)
            if table.in_degrees and c.motion is Motion.ROTATIONAL:
                column = np.deg2rad(column)
            if not np.all(np.isfinite(column)):
                raise ValueError(f"coordinate column {c.name!r} has non-finite values")
            values[:, k] = column
        else:
            values[:, k] = c.default
            missing.append(c.name)
    if missing:
        warnings.warn(
            "coordinates not in the table, held at their default values: " + ", ".join(missing),
            stacklevel=3,
        )
    return values


def _frame_indices(time: FloatArray, time_range: tuple[float, float] | None) -> NDArray[np.intp]:
    """Frames inside ``time_range`` with OpenSim's ``Storage::findIndex`` rule."""
    if time_range is None:
        return np.arange(time.size)
    start, final = float(time_range[0]), float(time_range[1])
    if not (np.isfinite(start) and np.isfinite(final)) or start > final:
        raise ValueError(f"time_range must be finite with start <= end, got {time_range}")
    start = max(start, float(time[0]))
    final = min(final, float(time[-1]))
    if start > final:
        raise ValueError(
            f"time_range {time_range} does not overlap the coordinates [{time[0]}, {time[-1]}]"
        )
    # findIndex(t): the last index whose time is <= t (0 if none).
    first = max(int(np.searchsorted(time, start, side="right")) - 1, 0)
    last = max(int(np.searchsorted(time, final, side="right")) - 1, 0)
    return np.arange(first, last + 1)


def _kinematics(
    time: FloatArray, q: FloatArray, frames: FloatArray, cutoff: float | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    if cutoff is not None and cutoff >= 0:
        if cutoff == 0:
            raise ValueError("lowpass_cutoff must be positive (or None/negative for none)")
        padded_time, padded = pad(time, q, time.size // 2)
        filtered = lowpass(padded_time, padded, cutoff, padding=False)
        return spline_derivatives(padded_time, filtered, at=frames)
    return spline_derivatives(time, q, at=frames)


def load_interpolant(time: FloatArray, values: FloatArray, at: FloatArray) -> FloatArray:
    """OpenSim's ExternalForce interpolation of ``values (m, 3)`` at times ``at``."""
    if time.size == 1:
        return np.repeat(values[:1], at.size, axis=0)
    if time.size <= 3:
        return np.stack([np.interp(at, time, values[:, j]) for j in range(3)], axis=1)
    spline = scipy.interpolate.CubicSpline(time, values, axis=0, bc_type="natural")
    return np.asarray(spline(at))


def _body_index(model: Model, name: str, what: str) -> int:
    for k, body in enumerate(model.bodies):
        if body.name == name:
            return k
    raise ModelError(what, f"model {model.name!r} has no body {name!r}")


def body_forces(
    model: Model,
    loads: Sequence[AppliedLoad],
    load_time: FloatArray,
    frames: FloatArray,
    positions: FloatArray,
    rotations: FloatArray,
) -> FloatArray:
    """``(n, 6, n_b)``: force at each body origin and torque, in ground.

    ``positions`` is ``(n, n_b, 3)``, ``rotations`` ``(n, n_b, 3, 3)`` (body to ground).
    """
    n, nb = frames.size, len(model.bodies)
    out = np.zeros((n, 6, nb))
    if load_time.size and (frames[0] < load_time[0] - 1e-9 or frames[-1] > load_time[-1] + 1e-9):
        warnings.warn(
            f"frames [{frames[0]}, {frames[-1]}] extend beyond the external load data "
            f"[{load_time[0]}, {load_time[-1]}]; the loads are extrapolated",
            stacklevel=3,
        )

    def to_ground(frame: str, vectors: FloatArray, what: str) -> FloatArray:
        if frame == GROUND:
            return vectors
        k = _body_index(model, frame, what)
        return np.einsum("nij,nj->ni", rotations[:, k], vectors)

    for load in loads:
        what = f"external force {load.name!r}"
        arrays = (load.force, load.point, load.torque)
        if not all(np.all(np.isfinite(a)) for a in arrays):
            raise ValueError(f"{what}: the load data contain non-finite values")
        if load.body == GROUND:
            continue
        b = _body_index(model, load.body, what)
        force = to_ground(load.force_frame, load_interpolant(load_time, load.force, frames), what)
        torque = to_ground(load.force_frame, load_interpolant(load_time, load.torque, frames), what)
        point = load_interpolant(load_time, load.point, frames)
        if load.point_frame != GROUND:
            p = _body_index(model, load.point_frame, what)
            point = np.einsum("nij,nj->ni", rotations[:, p], point) + positions[:, p]
        lever = point - positions[:, b]
        out[:, 0:3, b] += force
        out[:, 3:6, b] += np.cross(lever, force) + torque
    return out


def _check_functions(model: Model, functions: ModelFunctions) -> None:
    other = functions.model
    if other is model:
        return
    same = other.coordinate_names == model.coordinate_names and tuple(
        b.name for b in other.bodies
    ) == tuple(b.name for b in model.bodies)
    if not same:
        raise ValueError(
            f"functions were built for model {other.name!r}, whose coordinates or bodies "
            f"differ from those of model {model.name!r}"
        )


# ---------------------------------------------------------------------------------------
# The computation
# ---------------------------------------------------------------------------------------


def inverse_dynamics(
    model: Model,
    coordinates: TimeSeriesTable,
    external_loads: ExternalLoads | None = None,
    load_data: TimeSeriesTable | None = None,
    *,
    lowpass_cutoff: float | None = 6.0,
    functions: ModelFunctions | None = None,
    time_range: tuple[float, float] | None = None,
) -> InverseDynamicsResult:
    """Generalised forces of a measured motion, as OpenSim's ``InverseDynamicsTool``.

    See the module docstring for every processing step and its OpenSim source.

    Parameters
    ----------
    model
        The model (coordinates in ``model.coordinate_names`` order).
    coordinates
        Coordinates over time, e.g. ``read_storage("walk_IK.mot")``; columns matched by
        name, degrees converted for rotational coordinates when ``in_degrees``. At
        least 6 frames.
    external_loads
        External forces (``read_external_loads(...)``), or ``None`` for none.
    load_data
        The table holding the external loads' columns (required with
        ``external_loads``), e.g. ``read_storage(loads.resolve_datafile(xml))``.
    lowpass_cutoff
        Cut-off (Hz) of the zero-lag low-pass filter applied to the coordinates
        (OpenSim's ``lowpass_cutoff_frequency_for_coordinates``); ``None`` or a negative
        value: no filtering.
    functions
        The model's functions from :func:`gaitsim.build`, to avoid rebuilding them.
    time_range
        ``(start, end)`` of the frames to report (OpenSim's ``time_range``); default
        all frames. Filtering always uses the whole table.

    Returns
    -------
    InverseDynamicsResult
        Generalised forces at the frames of ``coordinates`` inside ``time_range``.

    Raises
    ------
    ValueError
        If the inputs are inconsistent (loads without data, non-finite values, bad
        cut-off or time range, functions of another model).
    ModelError
        If an external force names a body the model does not have.
    gaitsim.errors.FileFormatError
        If the load data lack columns that the external forces need.
    """
    if functions is None:
        functions = build(model)
    else:
        _check_functions(model, functions)
    if external_loads is not None and load_data is None:
        raise ValueError("external_loads were given without load_data (their data table)")
    if lowpass_cutoff is not None and not np.isfinite(lowpass_cutoff):
        raise ValueError(f"lowpass_cutoff must be a number or None, got {lowpass_cutoff!r}")

    time = np.array(coordinates.time, dtype=np.float64)
    if time.size < 6:
        raise ValueError(f"at least 6 frames of coordinates are needed, got {time.size}")
    if np.any(np.diff(time) <= 0):
        raise ValueError("coordinate times must be strictly increasing")
    q_all = _coordinate_matrix(model, coordinates)
    frames = time[_frame_indices(time, time_range)]
    q, qd, qdd = _kinematics(time, q_all, frames, lowpass_cutoff)

    n, nb = frames.size, len(model.bodies)
    per_body = np.zeros((n, 6, nb))
    if external_loads is not None and load_data is not None:
        loads = applied_loads(external_loads, load_data)
        if loads and nb:
            pos, rot = functions.body_poses.map(n)(q.T)
            positions = np.asarray(pos).reshape(3, n, nb).transpose(1, 2, 0)
            rotations = np.asarray(rot).reshape(3, n, nb, 3).transpose(1, 2, 0, 3)
            per_body = body_forces(
                model, loads, np.asarray(load_data.time), frames, positions, rotations
            )

    mapped = functions.inverse_dynamics.map(n)
    tau = mapped(q.T, qd.T, qdd.T, per_body.transpose(1, 0, 2).reshape(6, n * nb))
    generalized = np.asarray(tau).T.reshape(n, len(model.coordinates))
    return InverseDynamicsResult(
        time=frames,
        coordinate_names=model.coordinate_names,
        generalized_forces=generalized,
        labels=generalized_force_labels(model),
        coordinates=q,
        speeds=qd,
        accelerations=qdd,
    )
