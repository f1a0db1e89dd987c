"""Inverse kinematics: the model's coordinates that best fit measured markers, frame by frame.

Problem
-------
At each frame, with ``x_i(q)`` the ground position of model marker ``i`` at
coordinates ``q`` (:meth:`~gaitsim.mechanics.skeleton.SkeletonSymbols.point`), ``m_i``
its measured position and ``w_i`` its weight (:mod:`gaitsim.kinematics.marker_sets`),

.. math::

    \\min_q \\; \\sum_{i \\,\\in\\, \\text{visible}} w_i \\, \\lVert x_i(q) - m_i \\rVert^2
    \\; + \\; \\sum_j w_j \\, (q_j - \\bar q_j)^2
    \\qquad \\text{s.t.} \\quad q_{lo} \\le q \\le q_{hi},

the weighted least-squares problem of OpenSim's ``InverseKinematicsTool`` (Lu &
O'Connor 1999; Delp et al. 2007), the second sum being OpenSim's optional coordinate
tasks (:class:`CoordinateTask`: hold a coordinate near its default, a given value or a
value from a file). The bounds are the coordinates' ranges (``IKSettings.use_ranges``;
OpenSim enforces them only for "clamped" coordinates); locked coordinates stay at their
default value. A marker that is missing (NaN) in a frame is left out of that frame.

Method
------
The residual vector is ``sqrt(w_i) (x_i(q) - m_i)`` (and ``sqrt(w_j) (q_j - qbar_j)``),
with its exact Jacobian from CasADi (evaluated through ``Function.buffer``, no copies).
Each frame starts from the previous frame's solution and is solved with SciPy's
least-squares solvers:

1. MINPACK's Levenberg-Marquardt (Moré 1978), compiled and fast, called through
   :func:`scipy.optimize.leastsq` (the same ``lmder`` call with the same arguments as
   ``least_squares(method="lm")``, so the same iterates, without that function's
   per-call checks and wrappers, which took longer than the fit itself on these small
   frames; reported as ``least_squares`` reports it), in an active-set loop for the
   bounds: coordinates that leave their range are held at the
   bound they crossed and the rest solved again; the result is accepted when the
   gradient of the objective pushes every held coordinate outwards (first-order
   conditions of the bounded problem), else the held coordinate pulling inwards most is
   released;
2. if that fails, the bounded trust-region-reflective solver
   (:func:`scipy.optimize.least_squares`, ``method="trf"``; Branch,
   Coleman & Li 1999) finishes from the last point.

The status of each frame names the path taken (``lm``, ``lm+bounds``, ``trf``).

A frame without a previous solution (the first) is solved twice, keeping the better
fit: from the default pose moved along the translational coordinates of the joint to
ground so that the centroid of the model's markers is on the measured centroid (the
model markers' positions and Jacobian from the frame's residual function, no symbolic
work per frame), and
from a pose searched joint by joint from the ground out (each joint's coordinates fitted
to the markers on its child body, from its rotations at their current values and from
each rotation in turn at -90, 90 and 180 degrees, until one fits within
:data:`GOOD_FIT`). A frame
whose fit is suddenly much worse than the previous one (weighted RMS above twice the
previous plus :data:`JUMP`) is solved again the same way and the better fit is kept
(status ``restarted``), so that one bad frame does not derail the rest of a trial.

Coordinates that no fitted marker (nor task) depends on are held at their default value
and reported (:attr:`InverseKinematicsResult.unobserved`; e.g. ``lumbar`` without trunk
markers, ``mtp_angle`` without toe markers). A frame whose Jacobian loses rank (too few
visible markers to fix every coordinate) keeps the previous values along the
undetermined directions and is flagged (:attr:`InverseKinematicsResult.underdetermined`).

Output
------
:class:`InverseKinematicsResult`: coordinates (rad, m) per frame, the distance of each
marker from its model marker per frame (NaN where missing), OpenSim's per-frame error
summary (total squared error, RMS and maximum marker error), the weighted objective,
and the solver's status per frame (a frame that failed says so). Tables for ``.mot``
(degrees, as OpenSim writes IK results) and ``.sto`` files come from
:meth:`~InverseKinematicsResult.coordinates_table` and
:meth:`~InverseKinematicsResult.errors_table`.

OpenSim setups
--------------
:func:`read_opensim_ik_setup` reads an ``InverseKinematicsTool`` setup file: the applied
``IKMarkerTask`` weights (markers without an applied task are not used, as in OpenSim
4), the ``IKCoordinateTask`` entries and the time range.

References
----------
Lu TW, O'Connor JJ (1999). Bone position estimation from skin marker co-ordinates using
global optimisation with joint constraints. J Biomech 32(2):129-134.
Delp SL, Anderson FC, Arnold AS, et al. (2007). OpenSim: open-source software to create
and analyze dynamic simulations of movement. IEEE Trans Biomed Eng 54(11):1940-1950.
Branch MA, Coleman TF, Li Y (1999). A subspace, interior, and conjugate gradient method
for large-scale bound-constrained minimization problems. SIAM J Sci Comput 21(1):1-23.
Moré JJ (1978). The Levenberg-Marquardt algorithm: implementation and theory. In:
Numerical Analysis, Lecture Notes in Mathematics 630:105-116.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import time as _time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import casadi as ca
import numpy as np
import scipy.optimize
from numpy.typing import NDArray

from gaitsim.errors import FileFormatError, GaitsimError, ModelError
from gaitsim.io.storage import StrPath, TimeSeriesTable, write_storage
from gaitsim.io.trc import MarkerTable
from gaitsim.kinematics.marker_sets import (
    MarkerAssignment,
    MarkerMapping,
    MarkerMatch,
    identity_mapping,
    match_markers,
)
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.description import GROUND, Joint, Marker, Model, Motion
from gaitsim.signal import spline_derivatives

__all__ = [
    "CoordinateValue",
    "CoordinateTask",
    "IKSettings",
    "InverseKinematicsResult",
    "OpenSimIKSetup",
    "inverse_kinematics",
    "read_opensim_ik_setup",
    "write_motion",
    "write_marker_errors",
]

FloatArray = NDArray[np.float64]

GOOD_FIT = 0.01
"""Weighted RMS marker distance (m) under which a joint's fit from one start is taken
as found when the starting pose is searched (:func:`_joint_by_joint_pose`)."""
JUMP = 0.01
"""A warm-started frame whose weighted RMS marker distance exceeds twice the previous
frame's plus this (m) is solved again from scratch, keeping the better fit."""
MOTION_NAME = "Coordinates"
"""Name line of the ``.mot`` file, as OpenSim's IK tool writes it."""


# --------------------------------------------------------------------------------------
# What the user asks for
# --------------------------------------------------------------------------------------
class CoordinateValue(enum.Enum):
    """Where a coordinate task takes its target (OpenSim's ``IKCoordinateTask`` types)."""

    DEFAULT = "default_value"
    MANUAL = "manual_value"
    FILE = "from_file"


@dataclass(frozen=True)
class CoordinateTask:
    """Keep a coordinate near a target: adds ``weight * (q - target)^2`` to the objective.

    Parameters
    ----------
    coordinate
        Name of the coordinate.
    weight
        Weight (>= 0), per rad^2 or m^2.
    value_type
        ``DEFAULT``: the coordinate's default value; ``MANUAL``: :attr:`value`;
        ``FILE``: the coordinate's column of :attr:`IKSettings.coordinate_file`.
    value
        Target for ``MANUAL``, in rad or m (OpenSim's ``value``, model units).
    """

    coordinate: str
    weight: float = 1.0
    value_type: CoordinateValue = CoordinateValue.DEFAULT
    value: float = 0.0


@dataclass(frozen=True)
class IKSettings:
    """How inverse kinematics is run (the markers and their weights are in the mapping).

    Parameters
    ----------
    time_range
        ``(start, end)`` in s; the frames with ``start <= t <= end`` are solved (all
        frames if ``None``).
    coordinate_tasks
        OpenSim-style coordinate tasks.
    coordinate_file
        Coordinates over time for ``FROM_FILE`` tasks (rotational columns in degrees if
        the table says so); interpolated at the frame times by a natural quintic spline,
        as OpenSim's ``GCVSplineSet(5, ...)``.
    use_ranges
        Bound each coordinate to its range (``Coordinate.range``).
    tolerance
        Tolerance of the least-squares solver on the relative change of the objective
        and of the coordinates, and on the scaled gradient (``ftol``, ``xtol``, ``gtol``).
    max_evaluations
        Maximum residual evaluations per frame.
    """

    time_range: tuple[float, float] | None = None
    coordinate_tasks: tuple[CoordinateTask, ...] = ()
    coordinate_file: TimeSeriesTable | None = None
    use_ranges: bool = True
    tolerance: float = 1e-10
    max_evaluations: int = 200


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class InverseKinematicsResult:
    """Coordinates fitted to markers over a trial, and how well they fit.

    Parameters
    ----------
    time
        Frame times ``(n,)`` (s), those of the marker data.
    coordinate_names
        All coordinates of the model, in model order (``n_q``).
    rotational
        Whether each coordinate is an angle (for writing degrees).
    coordinates
        ``(n, n_q)`` in rad and m.
    marker_names, lab_names
        The fitted markers (``k``): model names and the trial's names.
    weights
        Their weights ``(k,)``.
    marker_errors
        ``(n, k)``: distance (m) of each measured marker from its model marker; NaN
        where the marker is missing.
    objective
        ``(n,)``: the weighted objective at the solution (marker and coordinate tasks).
    success
        ``(n,)``: whether the solver converged in the frame.
    status
        Solver message per frame.
    evaluations
        Residual evaluations per frame.
    at_limit
        ``(n, n_q)``: coordinate at a bound of its range (within 1e-9).
    underdetermined
        ``(n,)``: the visible markers did not fix every fitted coordinate.
    unobserved
        Coordinates held at their default because no fitted marker depends on them.
    locked
        Locked coordinates (held at their default).
    absent
        Optional markers of the mapping that the trial lacks.
    solve_time
        Wall time of the frame loop (s).
    """

    time: FloatArray
    coordinate_names: tuple[str, ...]
    rotational: tuple[bool, ...]
    coordinates: FloatArray
    marker_names: tuple[str, ...]
    lab_names: tuple[str, ...]
    weights: FloatArray
    marker_errors: FloatArray
    objective: FloatArray
    success: NDArray[np.bool_]
    status: tuple[str, ...]
    evaluations: NDArray[np.int64]
    at_limit: NDArray[np.bool_]
    underdetermined: NDArray[np.bool_]
    unobserved: tuple[str, ...] = ()
    locked: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    solve_time: float = 0.0

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.time.shape[0])

    @property
    def frames_per_second(self) -> float:
        """Frames solved per second of wall time."""
        return self.n_frames / self.solve_time if self.solve_time > 0 else math.inf

    def coordinate(self, name: str) -> FloatArray:
        """One coordinate over time ``(n,)`` (rad or m)."""
        try:
            return self.coordinates[:, self.coordinate_names.index(name)]
        except ValueError:
            raise LookupError(f"no coordinate {name!r} in the result") from None

    def marker_error(self, name: str) -> FloatArray:
        """Distance of one marker (model name) from its measurement over time ``(n,)``."""
        try:
            return self.marker_errors[:, self.marker_names.index(name)]
        except ValueError:
            raise LookupError(f"no fitted marker {name!r} in the result") from None

    # -- per frame, as OpenSim reports -------------------------------------------------
    def total_squared_error(self) -> FloatArray:
        """``(n,)``: sum over visible markers of the squared distance (unweighted, m^2)."""
        return np.nansum(self.marker_errors**2, axis=1)

    def frame_rms_error(self) -> FloatArray:
        """``(n,)``: RMS over visible markers of the distance (m); NaN if none visible."""
        visible = np.sum(np.isfinite(self.marker_errors), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(self.total_squared_error() / visible)

    def frame_max_error(self) -> FloatArray:
        """``(n,)``: largest distance over visible markers (m); NaN if none visible."""
        errors = np.where(np.isfinite(self.marker_errors), self.marker_errors, -np.inf)
        worst = errors.max(axis=1)
        return np.where(np.isfinite(worst), worst, np.nan)

    def frame_worst_marker(self) -> tuple[str, ...]:
        """The marker with the largest distance in each frame (``""`` if none visible)."""
        errors = np.where(np.isfinite(self.marker_errors), self.marker_errors, -np.inf)
        index = errors.argmax(axis=1)
        return tuple(
            self.marker_names[i] if np.isfinite(errors[f, i]) else "" for f, i in enumerate(index)
        )

    # -- per marker, over the trial ----------------------------------------------------
    def marker_rms_error(self) -> FloatArray:
        """``(k,)``: RMS over the frames where each marker is visible (m)."""
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.sqrt(np.nanmean(self.marker_errors**2, axis=0))

    def marker_max_error(self) -> FloatArray:
        """``(k,)``: largest distance over the trial (m); NaN for a marker never seen."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmax(self.marker_errors, axis=0)

    def summary(self) -> str:
        """A plain-text report of the fit: per-marker errors, failures, held coordinates."""
        rms, worst = self.marker_rms_error(), self.marker_max_error()
        seen = np.mean(np.isfinite(self.marker_errors), axis=0)
        overall_rms = np.sqrt(np.nanmean(self.marker_errors**2))
        lines = [
            f"inverse kinematics: {self.n_frames} frames, "
            f"{int(np.sum(self.success))} converged, {self.frames_per_second:.0f} frames/s",
            f"marker error over the trial: RMS {1000 * overall_rms:.1f} mm, "
            f"max {1000 * np.nanmax(self.marker_errors):.1f} mm",
            f"{'marker':<18}{'lab':<14}{'weight':>7}{'RMS mm':>9}{'max mm':>9}{'seen':>7}",
        ]
        for i, name in enumerate(self.marker_names):
            lines.append(
                f"{name:<18}{self.lab_names[i]:<14}{self.weights[i]:>7.3g}"
                f"{1000 * rms[i]:>9.1f}{1000 * worst[i]:>9.1f}{100 * seen[i]:>6.0f}%"
            )
        failed = np.flatnonzero(~self.success)
        if failed.size:
            lines.append(f"{failed.size} frame(s) did not converge:")
            lines += [f"  t = {self.time[f]:.4f} s: {self.status[f]}" for f in failed[:20]]
        if np.any(self.underdetermined):
            lines.append(
                f"{int(np.sum(self.underdetermined))} frame(s) with too few visible markers "
                "to fix every coordinate"
            )
        limit = np.flatnonzero(np.any(self.at_limit, axis=0))
        if limit.size:
            lines.append(
                "at a range limit in some frames: "
                + ", ".join(
                    f"{self.coordinate_names[j]} ({int(np.sum(self.at_limit[:, j]))})"
                    for j in limit
                )
            )
        if self.unobserved:
            lines.append(
                "held at default (no marker depends on them): " + ", ".join(self.unobserved)
            )
        if self.absent:
            lines.append("optional markers not in the trial: " + ", ".join(self.absent))
        return "\n".join(lines)

    # -- tables --------------------------------------------------------------------------
    def coordinates_table(self, *, in_degrees: bool = True) -> TimeSeriesTable:
        """Coordinates as OpenSim's IK ``.mot`` (angles in degrees unless ``in_degrees``
        is false; translations in m)."""
        data = np.array(self.coordinates)
        if in_degrees:
            rot = np.array(self.rotational, dtype=bool)
            data[:, rot] = np.rad2deg(data[:, rot])
        return TimeSeriesTable(
            name=MOTION_NAME,
            labels=self.coordinate_names,
            time=self.time,
            data=data,
            in_degrees=in_degrees,
            metadata={"description": "Coordinates from gaitsim inverse kinematics"},
        )

    def errors_table(self) -> TimeSeriesTable:
        """Per-frame fit: OpenSim's ``total_squared_error``, ``marker_error_RMS`` and
        ``marker_error_max`` (m^2, m, m), then ``weighted_objective`` and ``converged``
        (1 or 0)."""
        data = np.column_stack(
            [
                self.total_squared_error(),
                self.frame_rms_error(),
                self.frame_max_error(),
                self.objective,
                self.success.astype(float),
            ]
        )
        return TimeSeriesTable(
            name="Model Marker Errors from IK",
            labels=(
                "total_squared_error",
                "marker_error_RMS",
                "marker_error_max",
                "weighted_objective",
                "converged",
            ),
            time=self.time,
            data=data,
        )

    def marker_errors_table(self) -> TimeSeriesTable:
        """Distance (m) of each marker (model names) from its measurement, per frame."""
        return TimeSeriesTable(
            name="Marker distances from IK",
            labels=self.marker_names,
            time=self.time,
            data=self.marker_errors,
        )


def write_motion(result: InverseKinematicsResult, path: StrPath, *, precision: int = 10) -> None:
    """Write the coordinates as an OpenSim ``.mot`` file, angles in degrees (as OpenSim)."""
    write_storage(result.coordinates_table(in_degrees=True), path, precision=precision)


def write_marker_errors(
    result: InverseKinematicsResult, path: StrPath, *, precision: int = 10
) -> None:
    """Write the per-frame fit (:meth:`InverseKinematicsResult.errors_table`) as ``.sto``."""
    write_storage(result.errors_table(), path, precision=precision)


# --------------------------------------------------------------------------------------
# How it is computed
# --------------------------------------------------------------------------------------
class _Residual:
    """Residual and Jacobian of one frame, evaluated through CasADi's buffer interface.

    ``Function.buffer`` evaluates into preallocated NumPy arrays without converting
    through ``casadi.DM`` (about 7 times faster than a plain call at this size). The
    Jacobian is with respect to all coordinates; solvers take the columns they vary.
    """

    def __init__(self, function: ca.Function) -> None:
        self.function = function
        self.q = np.zeros(function.nnz_in(0))
        self.measured = np.zeros(function.nnz_in(1))
        self.sqrt_w = np.zeros(function.nnz_in(2))
        self.targets = np.zeros(function.nnz_in(3))
        self.r = np.zeros(function.nnz_out(0))
        self.jac_nonzeros = np.zeros(function.nnz_out(1))
        rows, cols = function.sparsity_out(1).get_triplet()
        self.rows, self.cols = np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)
        self.jac_shape = (function.size1_out(1), function.size2_out(1))
        self.buffer, self.trigger = function.buffer()
        for i, array in enumerate((self.q, self.measured, self.sqrt_w, self.targets)):
            self.buffer.set_arg(i, memoryview(array))
        self.buffer.set_res(0, memoryview(self.r))
        self.buffer.set_res(1, memoryview(self.jac_nonzeros))

    def set_frame(self, measured: FloatArray, sqrt_w: FloatArray, targets: FloatArray) -> None:
        """Data of one frame: measured ``3 x k`` (no NaN), sqrt weights, task targets."""
        self.measured[:] = np.asarray(measured, dtype=float).ravel(order="F")
        self.sqrt_w[:] = sqrt_w
        self.targets[:] = targets

    def __call__(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Residual and dense Jacobian ``d r / d q`` at ``q``."""
        self.q[:] = q
        self.trigger()
        jac = np.zeros(self.jac_shape)
        jac[self.rows, self.cols] = self.jac_nonzeros
        return self.r.copy(), jac


@dataclass(frozen=True, eq=False)
class _Fit:
    """The per-frame least-squares problem of one trial (built once)."""

    residual: _Residual
    free: NDArray[np.intp]
    """Coordinates that are fitted (not locked, observed, with a non-empty range)."""
    lower: FloatArray
    upper: FloatArray
    """Bounds of every coordinate (infinite without ranges)."""
    markers: tuple[Marker, ...]
    """The fitted markers (model markers, in mapping order)."""
    task_weights: FloatArray
    """Weights of the coordinate tasks."""

    @property
    def marker_bodies(self) -> tuple[str, ...]:
        """Body of each fitted marker."""
        return tuple(m.body for m in self.markers)


def _frames(time: FloatArray, time_range: tuple[float, float] | None) -> NDArray[np.intp]:
    if time_range is None:
        return np.arange(time.size)
    start, end = (float(t) for t in time_range)
    if not (math.isfinite(start) and math.isfinite(end)) or start > end:
        raise GaitsimError(f"time_range must be finite with start <= end, got {time_range}")
    slack = 1e-9 * max(1.0, abs(start), abs(end))
    frames = np.flatnonzero((time >= start - slack) & (time <= end + slack))
    if frames.size == 0:
        raise GaitsimError(
            f"no marker frame in time range [{start}, {end}] "
            f"(the trial spans [{time[0]}, {time[-1]}] s)"
        )
    return frames


def _task_targets(
    model: Model, tasks: Sequence[CoordinateTask], table: TimeSeriesTable | None, at: FloatArray
) -> FloatArray:
    """``(n, n_tasks)`` targets of the coordinate tasks at the frame times."""
    out = np.empty((at.size, len(tasks)))
    for j, task in enumerate(tasks):
        coordinate = model.coordinate(task.coordinate)
        if task.value_type is CoordinateValue.DEFAULT:
            out[:, j] = coordinate.default
        elif task.value_type is CoordinateValue.MANUAL:
            out[:, j] = task.value
        else:
            if table is None:
                raise GaitsimError(
                    f"coordinate task {task.coordinate!r} takes its value from a file, "
                    "but IKSettings.coordinate_file is not given"
                )
            column = np.array(table.column(task.coordinate), dtype=float)
            if table.in_degrees and coordinate.motion is Motion.ROTATIONAL:
                column = np.deg2rad(column)
            if at.min() < table.time[0] or at.max() > table.time[-1]:
                raise GaitsimError(
                    f"coordinate file [{table.time[0]}, {table.time[-1]}] s does not cover "
                    f"the frames [{at.min()}, {at.max()}] s"
                )
            out[:, j] = spline_derivatives(table.time, column, at=at)[0]
    return out


def _check_tasks(model: Model, tasks: Sequence[CoordinateTask]) -> None:
    names = model.coordinate_names
    seen: set[str] = set()
    for task in tasks:
        element = f"coordinate_tasks.{task.coordinate}"
        if task.coordinate not in names:
            raise ModelError(element, f"model {model.name!r} has no such coordinate")
        if task.coordinate in seen:
            raise ModelError(element, "more than one task for the coordinate")
        seen.add(task.coordinate)
        if not (math.isfinite(task.weight) and task.weight >= 0):
            raise ModelError(element, f"weight must be finite and >= 0, got {task.weight}")
        if not math.isfinite(task.value):
            raise ModelError(element, f"value must be finite, got {task.value}")


def _build_fit(
    model: Model,
    functions: ModelFunctions,
    match: MarkerMatch,
    tasks: Sequence[CoordinateTask],
    use_ranges: bool,
) -> tuple[_Fit, tuple[str, ...]]:
    sk = functions.skeleton
    q = sk.q
    n_q, k = len(model.coordinate_names), len(match.model_names)
    markers = [model.markers[i] for i in match.model_indices]
    positions = ca.horzcat(*[sk.point(m.body, m.location) for m in markers])  # 3 x k
    task_indices = [model.coordinate_names.index(t.coordinate) for t in tasks]
    weighted_tasks = {i for i, t in zip(task_indices, tasks, strict=True) if t.weight > 0}

    # Coordinates that some marker depends on (structurally) or that a task holds.
    depends = ca.jacobian(ca.vec(positions), q).sparsity()
    colind = depends.colind()
    observed = {j for j in range(n_q) if colind[j + 1] > colind[j]} | weighted_tasks
    coordinates = model.coordinates
    lo = np.array([c.range[0] if use_ranges else -np.inf for c in coordinates])
    hi = np.array([c.range[1] if use_ranges else np.inf for c in coordinates])
    free = np.array(
        [j for j in range(n_q) if j in observed and not coordinates[j].locked and lo[j] < hi[j]],
        dtype=np.intp,
    )
    unobserved = tuple(
        c.name for j, c in enumerate(coordinates) if j not in observed and not c.locked
    )
    if free.size == 0:
        raise GaitsimError("no coordinate of the model depends on the fitted markers")

    measured = ca.SX.sym("measured", 3, k)
    sqrt_w = ca.SX.sym("sqrt_w", k)
    targets = ca.SX.sym("targets", len(tasks))
    task_sqrt_w = np.sqrt(np.array([t.weight for t in tasks], dtype=float))
    r_markers = ca.vec((positions - measured) * ca.repmat(sqrt_w.T, 3, 1))
    r_tasks = ca.DM(task_sqrt_w) * (q[task_indices] - targets) if tasks else ca.SX(0, 1)
    r = ca.vertcat(r_markers, r_tasks)
    residual = ca.Function(
        "ik_residual",
        [q, measured, sqrt_w, targets],
        [r, ca.jacobian(r, q)],
        ["q", "m", "w", "t"],
        ["r", "J"],
    )
    fit = _Fit(_Residual(residual), free, lo, hi, tuple(markers), task_sqrt_w**2)
    return fit, unobserved


def _least_squares(
    fit: _Fit,
    q_full: FloatArray,
    columns: NDArray[np.intp],
    settings: IKSettings,
    bounds: tuple[FloatArray, FloatArray] | None = None,
) -> Any:
    """SciPy's least squares over ``columns`` of ``q_full`` (the others held); ``bounds``
    selects the bounded trust-region solver, else MINPACK's Levenberg-Marquardt."""
    q_work = np.array(q_full, dtype=float)
    cache: dict[bytes, tuple[FloatArray, FloatArray]] = {}

    def evaluate(x: FloatArray) -> tuple[FloatArray, FloatArray]:
        key = x.tobytes()
        if key not in cache:
            cache.clear()
            q_work[columns] = x
            r, jac = fit.residual(q_work)
            cache[key] = (r, jac[:, columns])
        return cache[key]

    tol = settings.tolerance
    x0 = np.array(q_full[columns], dtype=float)
    if bounds is None and tol >= _EPS and np.all(np.isfinite(evaluate(x0)[0])):
        return _levenberg_marquardt(evaluate, x0, tol, settings.max_evaluations)
    options: dict[str, Any] = {
        "jac": lambda x: evaluate(x)[1],
        "ftol": tol,
        "xtol": tol,
        "gtol": tol,
        "max_nfev": settings.max_evaluations,
    }
    if bounds is None:  # least_squares raises the errors of these cases
        return scipy.optimize.least_squares(lambda x: evaluate(x)[0], x0, method="lm", **options)
    return scipy.optimize.least_squares(
        lambda x: evaluate(x)[0], x0, bounds=bounds, method="trf", **options
    )


_EPS = float(np.finfo(float).eps)

# Status and message of ``scipy.optimize.least_squares`` for each MINPACK ``info`` of
# ``lmder`` (SciPy's ``FROM_MINPACK_TO_COMMON`` and ``TERMINATION_MESSAGES``, see
# ``least_squares``'s documentation of ``status`` and ``message``). Codes 6-8 (a
# tolerance too small to be met), which ``least_squares`` has no status for, are
# reported as failures naming the code.
_LM_STATUS: dict[int, tuple[int, str]] = {
    0: (-1, "Improper input parameters status returned from `leastsq`"),
    1: (2, "`ftol` termination condition is satisfied."),
    2: (3, "`xtol` termination condition is satisfied."),
    3: (4, "Both `ftol` and `xtol` termination conditions are satisfied."),
    4: (1, "`gtol` termination condition is satisfied."),
    5: (0, "The maximum number of function evaluations is exceeded."),
}


def _levenberg_marquardt(
    evaluate: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    x0: FloatArray,
    tol: float,
    max_evaluations: int,
) -> scipy.optimize.OptimizeResult:
    """MINPACK's ``lmder`` through :func:`scipy.optimize.leastsq`, reported as
    :func:`scipy.optimize.least_squares` reports its ``method="lm"``.

    ``least_squares(method="lm")`` calls the same ``lmder`` with the same arguments
    (``ftol = xtol = gtol = tol``, ``factor = 100``, ``maxfev = max_evaluations`` and
    ``diag = None``, MINPACK's own scaling of the variables by the Jacobian's column
    norms, which is ``least_squares``'s default ``x_scale="jac"`` since SciPy 1.16; older
    SciPy scaled by 1 there, gaitsim uses MINPACK's scaling with every version), so the
    iterates are identical; ``leastsq`` skips ``least_squares``'s input checks and
    function wrappers, which cost more than the fit itself on IK's small frames (about
    0.25 ms per call, measured).
    """
    x, _, info, _, code = scipy.optimize.leastsq(
        lambda x: evaluate(x)[0],
        x0,
        Dfun=lambda x: evaluate(x)[1],
        full_output=True,
        ftol=tol,
        xtol=tol,
        gtol=tol,
        maxfev=max_evaluations,
    )
    status, message = _LM_STATUS.get(code, (-1, f"MINPACK lmder returned info {code}"))
    residual = info["fvec"]
    return scipy.optimize.OptimizeResult(
        x=np.atleast_1d(x),
        cost=0.5 * float(np.dot(residual, residual)),
        fun=residual,
        nfev=int(info["nfev"]),
        status=status,
        message=message,
        success=status > 0,
    )


def _solve(
    fit: _Fit, q_start: FloatArray, columns: NDArray[np.intp], settings: IKSettings
) -> tuple[FloatArray, Any, str]:
    """Fit the coordinates ``columns`` to the frame set in ``fit.residual``, from ``q_start``.

    MINPACK's Levenberg-Marquardt (compiled, fast) first, in an active-set loop: the
    coordinates that leave their range are held at the bound they crossed and the
    others solved again; a solution inside the bounds is accepted when it satisfies the
    first-order conditions of the bounded problem (the gradient of the objective pushes
    every held coordinate outwards), else the held coordinate pulling inwards most is
    released and the loop goes on. If LM fails or the loop does not settle, SciPy's
    bounded trust-region reflective solver finishes from the last point.

    Returns the coordinates, SciPy's result of the last solve (its ``nfev`` counts the
    evaluations of all the solves) and the method (``"lm"``, ``"lm+bounds"`` or
    ``"trf"``).
    """
    q = np.array(q_start, dtype=float)
    evaluations = 0
    lower, upper = fit.lower[columns], fit.upper[columns]
    q[columns] = np.clip(q[columns], lower, upper)
    held = np.zeros(columns.size, dtype=bool)
    if fit.residual.r.size >= columns.size:
        for _ in range(2 * columns.size + 1):
            solution = _least_squares(fit, q, columns[~held], settings)
            evaluations += solution.nfev
            solution.nfev = evaluations
            if not (solution.success and np.all(np.isfinite(solution.x))):
                break
            trial = q.copy()
            trial[columns[~held]] = solution.x
            x = trial[columns]
            outside = (x < lower) | (x > upper)
            if np.any(outside):  # hold the coordinates that left at the bound crossed
                q[columns] = np.clip(x, lower, upper)
                held |= outside
                if np.all(held):
                    break
                continue
            if not np.any(held):
                return trial, solution, "lm"
            r, jac = fit.residual(trial)
            gradient = jac[:, columns].T @ r  # of half the objective
            slack = 1e-9 * max(1.0, float(np.abs(gradient).max()))
            inward = held & np.where(x <= lower, gradient < -slack, gradient > slack)
            if not np.any(inward):
                return trial, solution, "lm+bounds"
            # Release the held coordinate that pulls inwards most, and solve again.
            q = trial
            held[np.argmax(np.where(inward, np.abs(gradient), -1.0))] = False
    solution = _least_squares(fit, q, columns, settings, bounds=(lower, upper))
    solution.nfev += evaluations
    q[columns] = solution.x
    return q, solution, "trf"


def _joints_from_ground(model: Model) -> list[Joint]:
    """The joints in an order where every parent body is placed before its children."""
    placed, ordered, pending = {GROUND}, [], list(model.joints)
    while pending:
        ready = [j for j in pending if j.parent.body in placed]
        if not ready:  # pragma: no cover - the skeleton builder rejects such models
            raise ModelError(f"joints.{pending[0].name}", "parent body not connected to ground")
        for joint in ready:
            ordered.append(joint)
            placed.add(joint.child.body)
            pending.remove(joint)
    return ordered


def _rotation_starts(model: Model, columns: Sequence[int], q: FloatArray) -> list[FloatArray]:
    """Starting values of a joint's rotations: the current values, then each rotation in
    turn set to -90, 90 and 180 deg (clipped into its range; duplicates dropped) with the
    others at their current values."""
    current = np.array([q[j] for j in columns], dtype=float)
    starts = [current]
    for k, j in enumerate(columns):
        lo, hi = model.coordinates[j].range
        for value in (-np.pi / 2, np.pi / 2, np.pi):
            start = current.copy()
            start[k] = np.clip(value, lo, hi)
            if all(np.abs(start - other).max() > 1e-6 for other in starts):
                starts.append(start)
    return starts


def _marker_positions(
    fit: _Fit, q: FloatArray, measured: FloatArray, sqrt_w: FloatArray, targets: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Ground positions ``(k, 3)`` of the fitted model markers at ``q`` and their Jacobian
    ``(k, 3, n_q)``, from the frame's residual function with the measured markers at the
    origin and unit weights (``r = 1 (x - 0)``: the positions exactly); the frame is set
    back afterwards."""
    k = sqrt_w.size
    try:
        fit.residual.set_frame(np.zeros_like(measured), np.ones(k), targets)
        r, jac = fit.residual(q)
    finally:
        fit.residual.set_frame(measured, sqrt_w, targets)
    return r[: 3 * k].reshape(k, 3), jac[: 3 * k].reshape(k, 3, -1)


def _moved_default_pose(
    model: Model, fit: _Fit, measured: FloatArray, sqrt_w: FloatArray, targets: FloatArray
) -> FloatArray:
    """The default pose moved along the translational coordinates of the joint to ground
    so that the centroids of the visible model and measured markers coincide (one
    Gauss-Newton step, exact when the model's markers translate with those coordinates)."""
    q = np.array([c.default for c in model.coordinates], dtype=float)
    q = np.clip(q, fit.lower, fit.upper)
    visible = sqrt_w > 0
    free = set(fit.free.tolist())
    names = model.coordinate_names
    shift = [
        names.index(c.name)
        for j in model.joints
        if j.parent.body == GROUND
        for c in j.coordinates
        if c.motion is Motion.TRANSLATIONAL and names.index(c.name) in free
    ]
    if np.any(visible) and shift:
        positions, jacobians = _marker_positions(fit, q, measured, sqrt_w, targets)
        seen = np.flatnonzero(visible)
        # Summed marker by marker, in order (the sum of the model points over the count).
        c0, jac = positions[seen[0]], jacobians[seen[0]][:, shift]
        for i in seen[1:]:
            c0, jac = c0 + positions[i], jac + jacobians[i][:, shift]
        c0, jac = c0 / seen.size, jac / seen.size
        target = measured[:, visible].mean(axis=1)
        q[shift] += np.linalg.lstsq(jac, target - c0, rcond=None)[0]
        q = np.clip(q, fit.lower, fit.upper)
    return q


def _joint_by_joint_pose(
    model: Model,
    fit: _Fit,
    q_start: FloatArray,
    measured: FloatArray,
    sqrt_w: FloatArray,
    targets: FloatArray,
    settings: IKSettings,
) -> FloatArray:
    """A starting pose searched joint by joint from ``q_start`` (the moved default pose).

    Joint by joint from the ground out, the joint's coordinates are fitted to the
    visible markers on its child body (or, if it has none, on the bodies beyond it),
    from the starts of :func:`_rotation_starts` in turn until one fits those markers
    to :data:`GOOD_FIT` (weighted RMS), else keeping the best. The full fit then starts
    from this pose.
    """
    q = q_start
    visible = sqrt_w > 0
    free = set(fit.free.tolist())
    names = model.coordinate_names
    children: dict[str, list[str]] = {}
    for joint in model.joints:
        children.setdefault(joint.parent.body, []).append(joint.child.body)

    def beyond(body: str) -> set[str]:
        out, stack = set(), list(children.get(body, []))
        while stack:
            b = stack.pop()
            out.add(b)
            stack += children.get(b, [])
        return out

    try:
        for joint in _joints_from_ground(model):
            columns = np.array(
                [names.index(c.name) for c in joint.coordinates if names.index(c.name) in free],
                dtype=np.intp,
            )
            if columns.size == 0:
                continue
            own = [b == joint.child.body for b in fit.marker_bodies]
            if not np.any(visible & own):
                further = beyond(joint.child.body)
                own = [b in further for b in fit.marker_bodies]
            use = visible & np.array(own, dtype=bool)
            if not np.any(use):
                continue
            fit.residual.set_frame(measured, sqrt_w * use, targets)
            rough = dataclasses.replace(settings, tolerance=1e-6, max_evaluations=50)
            rotations = [j for j in columns if model.coordinates[j].motion is Motion.ROTATIONAL]
            good_enough = 0.5 * GOOD_FIT**2 * float(np.sum((sqrt_w * use) ** 2))
            best, best_cost = q, np.inf
            for start in _rotation_starts(model, rotations, q):
                trial = q.copy()
                trial[rotations] = start
                q_sol, solution, _ = _solve(fit, trial, columns, rough)
                if solution.cost < best_cost - 1e-12:
                    best, best_cost = q_sol, solution.cost
                if best_cost <= good_enough:
                    break
            q = best
    finally:
        fit.residual.set_frame(measured, sqrt_w, targets)
    return q


def _first_frame(
    model: Model,
    fit: _Fit,
    measured: FloatArray,
    sqrt_w: FloatArray,
    targets: FloatArray,
    settings: IKSettings,
) -> tuple[FloatArray, Any, str]:
    """Solve a frame without a previous solution: the better of the fits started from
    the moved default pose (:func:`_moved_default_pose`) and from the pose searched
    joint by joint from it (:func:`_joint_by_joint_pose`)."""
    moved = _moved_default_pose(model, fit, measured, sqrt_w, targets)
    searched = _joint_by_joint_pose(model, fit, moved, measured, sqrt_w, targets, settings)
    best: tuple[FloatArray, Any, str] | None = None
    for start in (moved, searched):
        candidate = _solve(fit, start, fit.free, settings)
        if best is None or candidate[1].cost < best[1].cost:
            best = candidate
    assert best is not None
    return best


def inverse_kinematics(
    model: Model,
    markers: MarkerTable,
    mapping: MarkerMapping | None = None,
    settings: IKSettings | None = None,
    *,
    functions: ModelFunctions | None = None,
) -> InverseKinematicsResult:
    """Fit the model's coordinates to measured markers, frame by frame.

    Parameters
    ----------
    model
        The model (its markers, coordinates, ranges and locks are used).
    markers
        Measured trajectories (m, NaN where missing), in the model's ground frame.
    mapping
        Which trial marker is which model marker, with weights; ``None`` fits every
        model marker found in the trial under its own name, with weight 1
        (:func:`~gaitsim.kinematics.marker_sets.identity_mapping`).
    settings
        Time range, coordinate tasks, bounds and tolerances (:class:`IKSettings`).
    functions
        The model's CasADi functions, if already built (:func:`gaitsim.mechanics.build`).

    Returns
    -------
    InverseKinematicsResult

    Raises
    ------
    ModelError
        If the mapping names a model marker the model lacks, or a coordinate task a
        coordinate it lacks.
    GaitsimError
        If a required marker is missing from the trial, the time range is invalid or
        holds no frame, a setting is out of range, or no coordinate depends on the
        fitted markers.
    """
    settings = settings or IKSettings()
    if not (math.isfinite(settings.tolerance) and 0 < settings.tolerance < 1):
        raise GaitsimError(f"tolerance must be in (0, 1), got {settings.tolerance}")
    if settings.max_evaluations < 1:
        raise GaitsimError(f"max_evaluations must be >= 1, got {settings.max_evaluations}")
    functions = functions or build(model)
    mapping = mapping or identity_mapping(model)
    match = match_markers(mapping, model, markers.marker_names)
    tasks = settings.coordinate_tasks
    _check_tasks(model, tasks)
    frames = _frames(np.asarray(markers.time, dtype=float), settings.time_range)
    times = np.asarray(markers.time, dtype=float)[frames]
    targets = _task_targets(model, tasks, settings.coordinate_file, times)
    fit, unobserved = _build_fit(model, functions, match, tasks, settings.use_ranges)

    data = np.asarray(markers.positions, dtype=float)[frames][:, list(match.data_indices), :]
    data = np.transpose(data, (0, 2, 1))  # (n, 3, k)
    weights = np.array(match.weights, dtype=float)
    n, n_q, k = frames.size, len(model.coordinate_names), weights.size
    q_out = np.empty((n, n_q))
    errors = np.full((n, k), np.nan)
    objective = np.full(n, np.nan)
    success = np.zeros(n, dtype=bool)
    evaluations = np.zeros(n, dtype=np.int64)
    underdetermined = np.zeros(n, dtype=bool)
    status: list[str] = []
    q_default = np.clip([c.default for c in model.coordinates], fit.lower, fit.upper)

    q_prev: FloatArray | None = None
    rms_prev = np.inf
    started = _time.perf_counter()
    for f in range(n):
        measured = data[f]
        visible = np.all(np.isfinite(measured), axis=0)
        if not np.any(visible) and not tasks:
            q_out[f] = q_default if q_prev is None else q_prev
            status.append("failed: no fitted marker visible in this frame; values not fitted")
            continue
        sqrt_w = np.sqrt(weights) * visible
        clean = np.where(visible, measured, 0.0)
        fit.residual.set_frame(clean, sqrt_w, targets[f])
        scale = max(float(np.sum(sqrt_w**2)) + float(np.sum(fit.task_weights)), 1e-300)
        if q_prev is None:
            q_sol, solution, method = _first_frame(model, fit, clean, sqrt_w, targets[f], settings)
        else:
            q_sol, solution, method = _solve(fit, q_prev, fit.free, settings)
            rms = np.sqrt(2 * solution.cost / scale)
            if rms > 2 * rms_prev + JUMP:  # lost track: start again from scratch
                again = _first_frame(model, fit, clean, sqrt_w, targets[f], settings)
                if again[1].cost < solution.cost:
                    q_sol, solution, method = again
                    method += ", restarted"
        rms_prev = np.sqrt(2 * solution.cost / scale)
        q_out[f] = q_sol
        r, jac = fit.residual(q_sol)
        objective[f] = float(np.sum(r**2))
        residual = r[: 3 * k].reshape(k, 3).T  # columns: sqrt(w) (x - m)
        with np.errstate(invalid="ignore", divide="ignore"):
            distance = np.linalg.norm(residual, axis=0) / np.sqrt(weights)
        errors[f] = np.where(visible, distance, np.nan)
        singular = np.linalg.svd(jac[:, fit.free], compute_uv=False)
        underdetermined[f] = singular.size < fit.free.size or singular[-1] <= 1e-9 * max(
            singular[0], 1e-300
        )
        evaluations[f] = solution.nfev
        success[f] = bool(solution.success) and bool(np.all(np.isfinite(q_sol)))
        status.append(f"{'converged' if success[f] else 'failed'} ({method}): {solution.message}")
        if success[f]:
            q_prev = q_sol
    solve_time = _time.perf_counter() - started

    coordinates = model.coordinates
    lo = np.array([c.range[0] for c in coordinates])
    hi = np.array([c.range[1] for c in coordinates])
    at_limit = np.zeros((n, n_q), dtype=bool)
    if settings.use_ranges:
        at_limit = (q_out <= lo + 1e-9) | (q_out >= hi - 1e-9)
        at_limit[:, [c.locked for c in coordinates]] = False
    failed = int(np.sum(~success))
    if failed:
        warnings.warn(
            f"inverse kinematics did not converge in {failed} of {n} frames "
            "(see InverseKinematicsResult.status)",
            stacklevel=2,
        )
    return InverseKinematicsResult(
        time=times,
        coordinate_names=model.coordinate_names,
        rotational=tuple(c.motion is Motion.ROTATIONAL for c in coordinates),
        coordinates=q_out,
        marker_names=match.model_names,
        lab_names=match.lab_names,
        weights=weights,
        marker_errors=errors,
        objective=objective,
        success=success,
        status=tuple(status),
        evaluations=evaluations,
        at_limit=at_limit,
        underdetermined=underdetermined,
        unobserved=unobserved,
        locked=tuple(c.name for c in coordinates if c.locked),
        absent=match.absent,
        solve_time=solve_time,
    )


# --------------------------------------------------------------------------------------
# OpenSim's InverseKinematicsTool setup files
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenSimIKSetup:
    """What gaitsim takes from an OpenSim ``InverseKinematicsTool`` setup file.

    Parameters
    ----------
    mapping
        The applied marker tasks, as a mapping of each marker to itself with its weight
        (all optional: OpenSim uses a task's marker only if the trial has it).
    coordinate_tasks
        The applied coordinate tasks.
    time_range
        ``time_range`` of the file, or ``None`` if absent.
    marker_file, coordinate_file, model_file, output_motion_file
        File names as written in the setup (``None`` if absent or ``Unassigned``).
    accuracy
        OpenSim's ``accuracy`` (informative).
    """

    mapping: MarkerMapping
    coordinate_tasks: tuple[CoordinateTask, ...] = ()
    time_range: tuple[float, float] | None = None
    marker_file: str | None = None
    coordinate_file: str | None = None
    model_file: str | None = None
    output_motion_file: str | None = None
    accuracy: float | None = None
    skipped: tuple[str, ...] = field(default=())
    """Tasks present but not applied (``apply`` false)."""

    def settings(self, coordinate_file: TimeSeriesTable | None = None) -> IKSettings:
        """:class:`IKSettings` with this setup's time range and coordinate tasks."""
        return IKSettings(
            time_range=self.time_range,
            coordinate_tasks=self.coordinate_tasks,
            coordinate_file=coordinate_file,
        )


def _line_of(text: str, pattern: str) -> int | None:
    match = re.search(pattern, text)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def read_opensim_ik_setup(path: StrPath) -> OpenSimIKSetup:
    """Read an OpenSim ``InverseKinematicsTool`` setup (``.xml``).

    Only ``IKMarkerTask`` and ``IKCoordinateTask`` entries whose ``apply`` is true are
    used (OpenSim 4 ignores the markers of the trial that have no applied task).

    Raises
    ------
    FileFormatError
        If the file is not well-formed XML, has no ``InverseKinematicsTool``, or a value
        (weight, apply, value type, time range) cannot be read (with the line where it
        can be found).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FileFormatError(path, exc.position[0], f"not well-formed XML: {exc}") from None
    tool = root if root.tag == "InverseKinematicsTool" else root.find(".//InverseKinematicsTool")
    if tool is None:
        raise FileFormatError(path, None, "no <InverseKinematicsTool> element")

    def task_line(tag: str, name: str) -> int | None:
        return _line_of(text, rf"<{tag}\s+name\s*=\s*\"{re.escape(name)}\"")

    def flag(el: ET.Element, tag: str, name: str) -> bool:
        raw = (el.findtext("apply") or "true").strip().lower()
        if raw not in ("true", "false"):
            raise FileFormatError(
                path, task_line(tag, name), f"{name}: apply must be true or false, got {raw!r}"
            )
        return raw == "true"

    def number(el: ET.Element, key: str, tag: str, name: str, default: float) -> float:
        raw = el.findtext(key)
        if raw is None or not raw.strip():
            return default
        try:
            value = float(raw)
        except ValueError:
            raise FileFormatError(
                path, task_line(tag, name), f"{name}: {key} is not a number: {raw.strip()!r}"
            ) from None
        if not math.isfinite(value) or (key == "weight" and value < 0):
            raise FileFormatError(path, task_line(tag, name), f"{name}: invalid {key} {value}")
        return value

    assignments: list[MarkerAssignment] = []
    coordinate_tasks: list[CoordinateTask] = []
    skipped: list[str] = []
    task_set = tool.find("IKTaskSet")
    objects = task_set.find("objects") if task_set is not None else None
    for el in list(objects) if objects is not None else []:
        name = (el.get("name") or "").strip()
        if el.tag not in ("IKMarkerTask", "IKCoordinateTask"):
            raise FileFormatError(path, task_line(el.tag, name), f"unsupported task <{el.tag}>")
        if not name:
            raise FileFormatError(path, None, f"a <{el.tag}> has no name")
        if not flag(el, el.tag, name):
            skipped.append(name)
            continue
        weight = number(el, "weight", el.tag, name, 0.0)
        if el.tag == "IKMarkerTask":
            assignments.append(
                MarkerAssignment(name, name, weight, optional=True, line=task_line(el.tag, name))
            )
            continue
        raw_type = (el.findtext("value_type") or "default_value").strip()
        try:
            value_type = CoordinateValue(raw_type)
        except ValueError:
            allowed = [v.value for v in CoordinateValue]
            raise FileFormatError(
                path,
                task_line(el.tag, name),
                f"{name}: value_type must be one of {allowed}, got {raw_type!r}",
            ) from None
        value = number(el, "value", el.tag, name, 0.0)
        coordinate_tasks.append(CoordinateTask(name, weight, value_type, value))

    def file_name(key: str) -> str | None:
        raw = (tool.findtext(key) or "").strip()
        return None if not raw or raw == "Unassigned" else raw

    time_range = None
    raw_range = (tool.findtext("time_range") or "").split()
    if raw_range:
        try:
            start, end = (float(v) for v in raw_range)
        except ValueError:
            raise FileFormatError(
                path,
                _line_of(text, r"<time_range>"),
                f"time_range must be two numbers: {raw_range}",
            ) from None
        time_range = (start, end)
    accuracy_text = (tool.findtext("accuracy") or "").strip()
    try:
        accuracy = float(accuracy_text) if accuracy_text else None
    except ValueError:
        raise FileFormatError(
            path, _line_of(text, r"<accuracy>"), f"accuracy is not a number: {accuracy_text!r}"
        ) from None
    mapping = MarkerMapping(
        name=path.stem,
        markers=tuple(assignments),
        description=f"marker tasks of OpenSim setup {path.name}",
        source=str(path),
    )
    return OpenSimIKSetup(
        mapping=mapping,
        coordinate_tasks=tuple(coordinate_tasks),
        time_range=time_range,
        marker_file=file_name("marker_file"),
        coordinate_file=file_name("coordinate_file"),
        model_file=file_name("model_file"),
        output_motion_file=file_name("output_motion_file"),
        accuracy=accuracy,
        skipped=tuple(skipped),
    )
