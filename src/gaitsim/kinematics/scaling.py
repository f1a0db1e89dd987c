"""Scaling a model to a subject, as OpenSim's ScaleTool (``ModelScaler``) does.

What the user asks for is a :class:`ScaleSetup`: marker-pair :class:`Measurement` s (each
scales some axes of some bodies), :class:`ManualScale` factors, the subject's mass and
whether to keep the model's mass distribution. :func:`scale_model` computes the body scale
factors from a static trial and applies them; :func:`apply_scale_factors` applies given
factors. The result is a :class:`ScaledModel`: the scaled
:class:`~gaitsim.model.description.Model` and a :class:`ScaleReport` (factors per body and
axis with the measurement that produced each, marker-pair distances before and after,
masses, muscle length ratios and every approximation made). Setups can be read from TOML
with :func:`read_scale_setup`. The full description, with the validation figures, is
``docs/scaling.md``.

Measurement-based scale factors (OpenSim ``ModelScaler::computeMeasurementScaleFactor``)
---------------------------------------------------------------------------------------
For a measurement with marker pairs ``(a_k, b_k)``, ``k = 1..K``::

    d_k^exp = mean over the frames t in the time range of |p_a(t) - p_b(t)|
    d_k^mod = |x_a(q0) - x_b(q0)|        (model markers, model in its default pose q0)
    s       = (1/K) sum_k d_k^exp / d_k^mod

and ``s`` becomes the factor of every (body, axis) the measurement names. ``q0`` holds
each coordinate's ``default``. Frames in which a marker of the pair is missing (NaN) are
left out of that pair's mean and counted in the report (OpenSim would return NaN).
Unlike OpenSim, which lets a later measurement or a manual scale silently overwrite an
earlier factor, a (body, axis) named twice raises :class:`~gaitsim.errors.ModelError`.
Bodies no measurement or manual scale names keep the factor 1 (as in OpenSim) and are
listed in the report's notes.

Applying factors ``S = diag(s_x, s_y, s_z)`` of each body
---------------------------------------------------------
Everything fixed in a body's frame is a vector ``v`` in that frame and becomes ``S v``:

* the body's centre of mass; joint frame origins in the parent and the child body
  (``Joint.parent.translation`` with the parent's factors, ``Joint.child.translation``
  with the child's); path points, conditional path points and the functions of moving
  path points (``x`` times ``s_x``, ...); wrap cylinder origins; contact sphere centres;
  half-space origins; markers.
* Translations of a custom joint are along axes of the parent's joint frame, so they are
  scaled by the parent body's factor along that axis, as OpenSim's
  ``SpatialTransform::scale`` does, except the identity ``Linear(1, 0)`` of a coordinate
  (a translational degree of freedom, e.g. ``pelvis_tx``; OpenSim skips it too).
  Planar-joint translations are degrees of freedom and are not scaled. With unequal
  factors, a translation axis that is oblique to the parent body's axes would change
  direction: that raises :class:`~gaitsim.errors.UnsupportedFeatureError` (OpenSim
  scales it by ``|axis| . s`` and keeps its direction).
* Orientations of frames and wrap cylinders, and joint rotation axes, are kept (as
  OpenSim); this is exact for equal factors and for directions along the body axes.

Mass and inertia. With ``preserve_mass_distribution`` (OpenSim's flag) body masses keep
their ratios; otherwise each mass is first multiplied by ``s_x s_y s_z`` (constant
density). If a subject mass is given, every mass is then multiplied by
``subject_mass / total``. The inertia about the centre of mass is transformed exactly for
an affine scaling of the body's matter: with the second moment
``J = integral r r^T dm = (tr(I)/2) E - I`` (body frame, about the centre of mass),

    J' = (m'/m) S J S,      I' = tr(J') E - J'

which for equal factors is ``I' = (m'/m) s^2 I``, OpenSim's formula. (For unequal factors
OpenSim's ``Body::scaleInertialProperties`` instead refits a cylinder to the diagonal
moments; gaitsim's transform is exact for any mass distribution, see
``tests/unit/test_scaling.py``.)

Muscles (OpenSim ``Muscle::extendPostScale``). Each muscle's optimal fibre length and
tendon slack length are multiplied by ``l_mt'(q0) / l_mt(q0)``, the ratio of its
muscle-tendon length after and before scaling in the default pose, computed with
OpenSim's hard switch of conditional path points (``conditional_smoothing = 0``). Maximal
isometric force, pennation and time constants are not scaled (OpenSim does not either).

Surfaces under unequal factors (documented choices, each use listed in the report notes):

* wrap cylinder radius times ``(|S x_c| + |S y_c|) / 2``, the mean stretch of the
  cylinder's cross-section axes ``x_c``, ``y_c`` (OpenSim ``WrapCylinder::scale``); exact
  when those two stretches are equal, otherwise the elliptical section is replaced by a
  circle of the mean radius.
* contact sphere radius times ``|S n|`` where ``n`` is the unit normal of the half-space
  it touches, expressed in the sphere's body at the default pose: the point of the sphere
  that faces the floor stays where the scaled body puts it, so the foot sole keeps its
  height when the foot is scaled in length only. A sphere that touches no half-space is
  scaled by ``(s_x s_y s_z)^(1/3)`` (same volume). OpenSim does not scale contact
  geometry at all.
* half-spaces fixed to a scaled body must have their normal along a body axis (else
  UnsupportedFeatureError): the plane then stays a plane with the same normal.

Nothing else in a model is geometric: limit torques, coordinate actuators, contact force
parameters and gravity are unchanged, as are coordinate defaults and ranges (so, as in
OpenSim, a scaled model's default pelvis height is the generic one).

Validation (``tests/unit/test_scaling.py``, ``tests/validation/test_scaling_subject01.py``):
the generic gait10dof18musc scaled with OpenSim's published subject01 setup gives
OpenSim's published subject01 factors (to their 6 printed digits), masses and muscle
lengths; the same scaled model as OpenSim 4.6's ScaleTool (masses, inertias for equal
factors, joint frames, markers, muscle lengths to 1e-12 relative); known factors
recovered from synthetic static trials; analytic properties of uniform scaling.

References: OpenSim ``ModelScaler.cpp``, ``Model.cpp`` (``Model::scale``), ``Body.cpp``,
``SpatialTransform.cpp``, ``WrapCylinder.cpp``, ``Millard2012EquilibriumMuscle.cpp``
(opensim-core); the comments of OpenSim's example ScaleTool setup
``subject01_Setup_Scale.xml`` (Gait2354 example).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from gaitsim.errors import FileFormatError, ModelError, UnsupportedFeatureError
from gaitsim.io.trc import MarkerTable
from gaitsim.mechanics.model_functions import BuildOptions, ModelFunctions, build
from gaitsim.mechanics.rotations import body_fixed_xyz
from gaitsim.model.description import (
    GROUND,
    AxisKind,
    Body,
    ConditionalPathPoint,
    Constant,
    ContactSphere,
    Function,
    HalfSpace,
    Joint,
    JointType,
    Linear,
    Model,
    Motion,
    MovingPathPoint,
    Multiplier,
    Muscle,
    NaturalCubicSpline,
    PathElement,
    PathPoint,
    Polynomial,
    SimmSpline,
    TransformAxis,
    Vec3,
    WrapCylinder,
)
from gaitsim.model.validation import validate

__all__ = [
    "AXES",
    "BodyAxes",
    "Measurement",
    "ManualScale",
    "ScaleSetup",
    "MarkerPairResult",
    "MeasurementResult",
    "BodyScaleResult",
    "ScaleReport",
    "ScaledModel",
    "scale_model",
    "apply_scale_factors",
    "measure",
    "read_scale_setup",
    "scale_setup_from_dict",
]

AXES = "xyz"
"""Body axes, in order; :attr:`BodyAxes.axes` is a subset of these letters."""

_UNIT: Vec3 = (1.0, 1.0, 1.0)
_ALIGNED = 1.0 - 1e-9  # |cosine| above which an axis counts as a body axis
_MANUAL = "manual"


# ======================================================================================
# What the user asks for
# ======================================================================================
@dataclass(frozen=True)
class BodyAxes:
    """The axes of one body that a measurement scales.

    Parameters
    ----------
    body
        Body name (not ``"ground"``).
    axes
        Some of the letters ``"x"``, ``"y"``, ``"z"`` (body frame axes), e.g. ``"xyz"``
        (OpenSim's ``BodyScale`` ``axes``).
    """

    body: str
    axes: str = AXES


@dataclass(frozen=True)
class Measurement:
    """A measurement: marker pairs whose distances scale some axes of some bodies.

    Parameters
    ----------
    name
        Unique name (shown in the report).
    marker_pairs
        Pairs of marker names; each must be a model marker and a marker of the static
        trial.
    bodies
        The body axes that take the measurement's factor.
    """

    name: str
    marker_pairs: tuple[tuple[str, str], ...]
    bodies: tuple[BodyAxes, ...]


@dataclass(frozen=True)
class ManualScale:
    """Scale factors given directly for one body (OpenSim's ``ScaleSet`` entry).

    Parameters
    ----------
    body
        Body name (not ``"ground"``).
    factors
        ``(s_x, s_y, s_z)``, positive.
    """

    body: str
    factors: Vec3


@dataclass(frozen=True)
class ScaleSetup:
    """How to scale a model to a subject.

    Parameters
    ----------
    measurements
        Marker-pair measurements (need a static trial).
    manual_scales
        Factors given per body. A body may not take both a manual scale and a measurement.
    subject_mass
        The subject's mass (kg); the scaled model's total mass. ``None`` keeps the masses
        the scaling gives (unchanged with ``preserve_mass_distribution``).
    preserve_mass_distribution
        Keep the ratios of the body masses (OpenSim's flag). If false, each body's mass is
        first multiplied by ``s_x s_y s_z``.
    time_range
        ``(start, end)`` times (s) of the static trial over which marker distances are
        averaged; ``None`` uses every frame.
    """

    measurements: tuple[Measurement, ...] = ()
    manual_scales: tuple[ManualScale, ...] = ()
    subject_mass: float | None = None
    preserve_mass_distribution: bool = True
    time_range: tuple[float, float] | None = None


# ======================================================================================
# The result
# ======================================================================================
@dataclass(frozen=True)
class MarkerPairResult:
    """One marker pair of a measurement.

    Distances in metres. ``model_distance_before`` and ``model_distance_after`` are
    taken between the model markers in the default pose of the generic and of the scaled
    model; ``experimental_distance`` is the mean over ``frames_used`` frames of the static
    trial (``frames_missing`` frames had a marker missing).
    """

    markers: tuple[str, str]
    experimental_distance: float
    frames_used: int
    frames_missing: int
    model_distance_before: float
    model_distance_after: float

    @property
    def error_before(self) -> float:
        """Model minus experimental distance before scaling (m)."""
        return self.model_distance_before - self.experimental_distance

    @property
    def error_after(self) -> float:
        """Model minus experimental distance after scaling (m)."""
        return self.model_distance_after - self.experimental_distance


@dataclass(frozen=True)
class MeasurementResult:
    """A measurement's scale factor and its marker pairs."""

    name: str
    factor: float
    pairs: tuple[MarkerPairResult, ...]


@dataclass(frozen=True)
class BodyScaleResult:
    """The factors applied to one body, and where each came from.

    ``sources`` names, per axis x, y, z, the measurement that set the factor,
    ``"manual"`` for a manual scale, or ``""`` when the axis was not scaled (factor 1).
    """

    body: str
    factors: Vec3
    sources: tuple[str, str, str]


@dataclass(frozen=True)
class ScaleReport:
    """What scaling did.

    Attributes
    ----------
    bodies
        Factors per body (every body of the model, in model order).
    measurements
        Each measurement's factor and marker pairs (distances before and after).
    muscle_length_ratios
        ``(muscle, l_mt'(q0) / l_mt(q0))``: the factor applied to its optimal fibre length
        and tendon slack length.
    mass_before, mass_after
        Total model mass (kg) before and after.
    subject_mass
        The requested subject mass, or ``None``.
    preserve_mass_distribution
        As requested.
    time_range
        ``(first, last)`` time of the static frames used, or ``None`` without measurements.
    notes
        Approximations made and bodies left unscaled, in plain words.
    """

    bodies: tuple[BodyScaleResult, ...]
    measurements: tuple[MeasurementResult, ...]
    muscle_length_ratios: tuple[tuple[str, float], ...]
    mass_before: float
    mass_after: float
    subject_mass: float | None
    preserve_mass_distribution: bool
    time_range: tuple[float, float] | None
    notes: tuple[str, ...]

    def factors(self, body: str) -> Vec3:
        """The ``(s_x, s_y, s_z)`` applied to ``body``."""
        for b in self.bodies:
            if b.body == body:
                return b.factors
        raise KeyError(f"no body {body!r} in the scale report")

    def summary(self) -> str:
        """A plain-text table of the factors, marker-pair errors and masses."""
        lines = ["body            s_x      s_y      s_z      from"]
        for b in self.bodies:
            src = ", ".join(sorted({s for s in b.sources if s})) or "(not scaled)"
            sx, sy, sz = b.factors
            lines.append(f"{b.body:<15} {sx:8.5f} {sy:8.5f} {sz:8.5f} {src}")
        if self.measurements:
            lines.append("")
            lines.append(
                "measurement     factor   marker pair                 error before / after (mm)"
            )
            for m in self.measurements:
                for k, p in enumerate(m.pairs):
                    head = f"{m.name:<15} {m.factor:8.5f}" if k == 0 else " " * 24
                    pair = f"{p.markers[0]}-{p.markers[1]}"
                    errors = f"{1e3 * p.error_before:8.2f} / {1e3 * p.error_after:8.2f}"
                    lines.append(f"{head} {pair:<27} {errors}")
        lines.append("")
        lines.append(f"mass: {self.mass_before:.3f} kg -> {self.mass_after:.3f} kg")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (JSON-ready)."""
        return {
            "bodies": [
                {"body": b.body, "factors": list(b.factors), "sources": list(b.sources)}
                for b in self.bodies
            ],
            "measurements": [
                {
                    "name": m.name,
                    "factor": m.factor,
                    "pairs": [
                        {
                            "markers": list(p.markers),
                            "experimental_distance": p.experimental_distance,
                            "frames_used": p.frames_used,
                            "frames_missing": p.frames_missing,
                            "model_distance_before": p.model_distance_before,
                            "model_distance_after": p.model_distance_after,
                        }
                        for p in m.pairs
                    ],
                }
                for m in self.measurements
            ],
            "muscle_length_ratios": {name: r for name, r in self.muscle_length_ratios},
            "mass_before": self.mass_before,
            "mass_after": self.mass_after,
            "subject_mass": self.subject_mass,
            "preserve_mass_distribution": self.preserve_mass_distribution,
            "time_range": None if self.time_range is None else list(self.time_range),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ScaledModel:
    """The scaled model and the report of how it was scaled."""

    model: Model
    report: ScaleReport


# ======================================================================================
# Public functions
# ======================================================================================
def scale_model(model: Model, setup: ScaleSetup, static: MarkerTable | None = None) -> ScaledModel:
    """Scale ``model`` to a subject (OpenSim's ScaleTool without marker placement).

    Parameters
    ----------
    model
        The generic model; its markers are used by the measurements.
    setup
        Measurements, manual scales and masses (see :class:`ScaleSetup`).
    static
        The static trial (marker positions in metres); needed when ``setup`` has
        measurements.

    Returns
    -------
    ScaledModel
        The scaled, validated model and the :class:`ScaleReport`.

    Raises
    ------
    ModelError
        The setup names an unknown body, marker or axis, scales ground, gives a factor
        that is not positive, sets one (body, axis) twice, or a marker is missing from the
        static trial in every frame used.
    UnsupportedFeatureError
        The factors would change something the model description cannot express (an
        oblique joint translation axis or half-space normal under unequal factors).
    """
    setup_el = "scale setup"
    names = [m.name for m in setup.measurements]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})[0]
        raise ModelError(f"{setup_el}.measurements.{dup}", "measurement names must be unique")
    frames = np.arange(0)
    if setup.measurements:
        if static is None:
            raise ModelError(
                f"{setup_el}.measurements", "measurement-based scaling needs a static trial"
            )
        frames = _frames_in_range(static, setup.time_range, setup_el)
        marker_names = {mk.name for mk in model.markers}
        for m in setup.measurements:
            _check_measurement(m, marker_names, static, setup_el)
    # Every body, axis and conflict is checked before any (slow) mechanics is built.
    _assemble_factors(
        model, [(m, 1.0, None) for m in setup.measurements], setup.manual_scales, setup_el
    )
    before = build(model, BuildOptions(conditional_smoothing=0.0))
    q0 = _default_pose(model)

    measured: list[tuple[Measurement, float, list[tuple[tuple[str, str], float, int, int, float]]]]
    measured = []
    used_range: tuple[float, float] | None = None
    if setup.measurements:
        assert static is not None
        used_range = (float(static.time[frames[0]]), float(static.time[frames[-1]]))
        model_markers = _marker_positions(model, before, q0)
        for m in setup.measurements:
            factor, pairs = _measurement(m, model_markers, static, frames, setup_el)
            measured.append((m, factor, pairs))

    factors, sources = _assemble_factors(model, measured, setup.manual_scales, setup_el)
    scaled, notes, ratios, after = _apply(
        model,
        factors,
        subject_mass=setup.subject_mass,
        preserve_mass_distribution=setup.preserve_mass_distribution,
        before=before,
    )
    unscaled = [b.name for b in model.bodies if b.name not in factors]
    if unscaled:
        notes.append(f"bodies not scaled (factor 1): {', '.join(unscaled)}")
    translational = [c.name for c in model.coordinates if c.motion is Motion.TRANSLATIONAL]
    if factors and translational:
        notes.append(
            "defaults and ranges of translational coordinates are kept, as OpenSim does "
            f"({', '.join(translational)}): the default pose may no longer stand on the floor"
        )

    results: list[MeasurementResult] = []
    if measured:
        markers_after = _marker_positions(scaled, after, q0)
        for m, factor, pairs in measured:
            pair_results = tuple(
                MarkerPairResult(
                    markers=pair,
                    experimental_distance=exp_d,
                    frames_used=used,
                    frames_missing=missing,
                    model_distance_before=mod_d,
                    model_distance_after=float(
                        np.linalg.norm(markers_after[pair[0]] - markers_after[pair[1]])
                    ),
                )
                for pair, exp_d, used, missing, mod_d in pairs
            )
            results.append(MeasurementResult(m.name, factor, pair_results))

    report = ScaleReport(
        bodies=tuple(
            BodyScaleResult(b.name, factors.get(b.name, _UNIT), sources.get(b.name, ("", "", "")))
            for b in model.bodies
        ),
        measurements=tuple(results),
        muscle_length_ratios=ratios,
        mass_before=model.total_mass,
        mass_after=scaled.total_mass,
        subject_mass=setup.subject_mass,
        preserve_mass_distribution=setup.preserve_mass_distribution,
        time_range=used_range,
        notes=tuple(notes),
    )
    return ScaledModel(scaled, report)


def apply_scale_factors(
    model: Model,
    factors: Mapping[str, Vec3],
    *,
    subject_mass: float | None = None,
    preserve_mass_distribution: bool = True,
) -> Model:
    """``model`` with each named body scaled by its ``(s_x, s_y, s_z)``.

    Bodies not in ``factors`` keep the factor 1. See the module docstring for what is
    scaled and how; :func:`scale_model` with :class:`ManualScale` entries does the same and
    also returns the report.

    Raises
    ------
    ModelError
        Unknown body, ``"ground"``, or a factor that is not finite and positive; a
        subject mass that is not positive.
    UnsupportedFeatureError
        As :func:`scale_model`.
    """
    checked: dict[str, Vec3] = {}
    names = {b.name for b in model.bodies}
    for body, value in factors.items():
        checked[body] = _check_factors(f"scale factors.{body}", body, value, names)
    before = build(model, BuildOptions(conditional_smoothing=0.0))
    scaled, _, _, _ = _apply(
        model,
        checked,
        subject_mass=subject_mass,
        preserve_mass_distribution=preserve_mass_distribution,
        before=before,
    )
    return scaled


def measure(
    model: Model,
    measurement: Measurement,
    static: MarkerTable,
    time_range: tuple[float, float] | None = None,
) -> MeasurementResult:
    """One measurement's factor on ``model`` (no scaling; ``model_distance_after`` is the
    model distance too)."""
    functions = build(model)
    frames = _frames_in_range(static, time_range, "scale setup")
    markers = _marker_positions(model, functions, _default_pose(model))
    factor, pairs = _measurement(measurement, markers, static, frames, "scale setup")
    return MeasurementResult(
        measurement.name,
        factor,
        tuple(MarkerPairResult(p, e, u, n, d, d) for p, e, u, n, d in pairs),
    )


# ======================================================================================
# Measurements
# ======================================================================================
def _default_pose(model: Model) -> np.ndarray:
    return np.array([c.default for c in model.coordinates], dtype=float)


def _marker_positions(
    model: Model, functions: ModelFunctions, q: np.ndarray
) -> dict[str, np.ndarray]:
    if not model.markers:
        return {}
    positions = np.asarray(functions.marker_positions(q), dtype=float)
    return {m.name: positions[:, k] for k, m in enumerate(model.markers)}


def _frames_in_range(
    static: MarkerTable, time_range: tuple[float, float] | None, setup_el: str
) -> np.ndarray:
    if static.n_frames == 0:
        raise ModelError(f"{setup_el}.static trial", "the static trial has no frames")
    if time_range is None:
        return np.arange(static.n_frames)
    start, end = (float(t) for t in time_range)
    if not (math.isfinite(start) and math.isfinite(end)) or start > end:
        raise ModelError(
            f"{setup_el}.time_range", f"must be finite with start <= end, got {time_range}"
        )
    tol = 1e-9 * max(1.0, abs(start), abs(end))
    frames = np.flatnonzero((static.time >= start - tol) & (static.time <= end + tol))
    if frames.size == 0:
        raise ModelError(
            f"{setup_el}.time_range",
            f"no frame of the static trial lies in [{start}, {end}] s "
            f"(the trial spans {static.time[0]} to {static.time[-1]} s)",
        )
    return frames


def _check_measurement(
    measurement: Measurement, model_markers: Iterable[str], static: MarkerTable, setup_el: str
) -> None:
    el = f"{setup_el}.measurements.{measurement.name}"
    if not measurement.marker_pairs:
        raise ModelError(f"{el}.marker_pairs", "a measurement needs at least one marker pair")
    if not measurement.bodies:
        raise ModelError(f"{el}.bodies", "a measurement must scale at least one body")
    known = set(model_markers)
    for k, pair in enumerate(measurement.marker_pairs):
        pel = f"{el}.marker_pairs[{k}]"
        if len(pair) != 2:
            raise ModelError(pel, f"a marker pair has two marker names, got {pair!r}")
        if pair[0] == pair[1]:
            raise ModelError(pel, f"the two markers are the same ({pair[0]!r})")
        for name in pair:
            if name not in known:
                raise ModelError(pel, f"the model has no marker {name!r}")
            if name not in static.marker_names:
                raise ModelError(pel, f"the static trial has no marker {name!r}")


def _measurement(
    measurement: Measurement,
    model_markers: Mapping[str, np.ndarray],
    static: MarkerTable,
    frames: np.ndarray,
    setup_el: str,
) -> tuple[float, list[tuple[tuple[str, str], float, int, int, float]]]:
    _check_measurement(measurement, model_markers, static, setup_el)
    el = f"{setup_el}.measurements.{measurement.name}"
    pairs: list[tuple[tuple[str, str], float, int, int, float]] = []
    ratios = []
    for k, (a, b) in enumerate(measurement.marker_pairs):
        pel = f"{el}.marker_pairs[{k}]"
        pa = static.positions[frames, static.marker_names.index(a), :]
        pb = static.positions[frames, static.marker_names.index(b), :]
        distances = np.linalg.norm(pa - pb, axis=1)
        valid = np.isfinite(distances)
        if not valid.any():
            raise ModelError(
                pel, f"marker {a!r} or {b!r} is missing in every frame of the time range"
            )
        experimental = float(np.mean(distances[valid]))
        model_distance = float(np.linalg.norm(model_markers[a] - model_markers[b]))
        if model_distance <= 0.0:
            raise ModelError(pel, f"markers {a!r} and {b!r} coincide on the model")
        ratios.append(experimental / model_distance)
        pairs.append(((a, b), experimental, int(valid.sum()), int((~valid).sum()), model_distance))
    return float(np.mean(ratios)), pairs


def _check_factors(element: str, body: str, value: Iterable[float], bodies: set[str]) -> Vec3:
    if body == GROUND:
        raise ModelError(element, "ground cannot be scaled")
    if body not in bodies:
        raise ModelError(element, f"the model has no body {body!r}")
    values = tuple(float(v) for v in value)
    if len(values) != 3 or not all(math.isfinite(v) and v > 0.0 for v in values):
        raise ModelError(element, f"scale factors must be three positive numbers, got {value!r}")
    return (values[0], values[1], values[2])


def _assemble_factors(
    model: Model,
    measured: list[tuple[Measurement, float, Any]],
    manual: tuple[ManualScale, ...],
    setup_el: str,
) -> tuple[dict[str, Vec3], dict[str, tuple[str, str, str]]]:
    bodies = {b.name for b in model.bodies}
    per_axis: dict[str, list[float]] = {}
    sources: dict[str, list[str]] = {}
    for m, factor, _ in measured:
        for k, target in enumerate(m.bodies):
            el = f"{setup_el}.measurements.{m.name}.bodies[{k}]"
            _check_factors(el, target.body, _UNIT, bodies)
            axes = target.axes.lower()
            if not axes or any(a not in AXES for a in axes) or len(set(axes)) != len(axes):
                raise ModelError(
                    f"{el}.axes", f"must be distinct letters among x, y, z, got {target.axes!r}"
                )
            values = per_axis.setdefault(target.body, [1.0, 1.0, 1.0])
            src = sources.setdefault(target.body, ["", "", ""])
            for a in axes:
                i = AXES.index(a)
                if src[i]:
                    raise ModelError(
                        el,
                        f"axis {a} of body {target.body!r} is already scaled by measurement "
                        f"{src[i]!r}; each body axis takes one measurement",
                    )
                values[i] = factor
                src[i] = m.name
    for k, ms in enumerate(manual):
        el = f"{setup_el}.manual_scales[{k}]"
        values3 = _check_factors(el, ms.body, ms.factors, bodies)
        if ms.body in sources:
            taken = sorted({s for s in sources[ms.body] if s})
            raise ModelError(
                el,
                f"body {ms.body!r} is already scaled by {', '.join(repr(t) for t in taken)}; "
                "a body takes either measurements or a manual scale",
            )
        per_axis[ms.body] = list(values3)
        sources[ms.body] = [_MANUAL] * 3
    factors = {b: (v[0], v[1], v[2]) for b, v in per_axis.items()}
    return factors, {b: (s[0], s[1], s[2]) for b, s in sources.items()}


# ======================================================================================
# Applying factors
# ======================================================================================
class _Factors:
    """Body -> diagonal of S (ground and unlisted bodies: 1)."""

    def __init__(self, factors: Mapping[str, Vec3]) -> None:
        self._factors = {b: np.asarray(v, dtype=float) for b, v in factors.items()}

    def of(self, body: str) -> np.ndarray:
        return self._factors.get(body, np.ones(3))

    def uniform(self, body: str) -> bool:
        s = self.of(body)
        return bool(s[0] == s[1] == s[2])

    def point(self, body: str, v: Vec3) -> Vec3:
        return _vec(self.of(body) * np.asarray(v, dtype=float))


def _vec(v: Iterable[float]) -> Vec3:
    x, y, z = (float(e) for e in v)
    return (x, y, z)


def _apply(
    model: Model,
    factors: Mapping[str, Vec3],
    *,
    subject_mass: float | None,
    preserve_mass_distribution: bool,
    before: ModelFunctions,
) -> tuple[Model, list[str], tuple[tuple[str, float], ...], ModelFunctions]:
    """Scale the geometry, masses and muscles; return the model, notes, muscle ratios and
    the functions of the scaled geometry."""
    if subject_mass is not None and not (math.isfinite(subject_mass) and subject_mass > 0.0):
        raise ModelError("scale setup.subject_mass", f"must be positive, got {subject_mass!r}")
    s = _Factors(factors)
    notes: list[str] = []
    where = f"model {model.name!r}"

    bodies = _scale_bodies(model, s, subject_mass, preserve_mass_distribution)
    joints = tuple(_scale_joint(j, s, where) for j in model.joints)
    cylinders = tuple(_scale_cylinder(w, s, notes) for w in model.wrap_cylinders)
    half_spaces = tuple(_scale_half_space(h, s, where) for h in model.half_spaces)
    spheres = _scale_spheres(model, s, before, notes)
    markers = tuple(replace(mk, location=s.point(mk.body, mk.location)) for mk in model.markers)
    muscles = tuple(
        replace(m, path=tuple(_scale_path_point(p, s) for p in m.path)) for m in model.muscles
    )
    geometry = replace(
        model,
        bodies=bodies,
        joints=joints,
        muscles=muscles,
        wrap_cylinders=cylinders,
        half_spaces=half_spaces,
        contact_spheres=spheres,
        markers=markers,
    )
    after = build(geometry, BuildOptions(conditional_smoothing=0.0))
    ratios: tuple[tuple[str, float], ...] = ()
    if model.muscles:
        q0 = _default_pose(model)
        l0 = np.asarray(before.muscle_tendon_lengths(q0), dtype=float).ravel()
        l1 = np.asarray(after.muscle_tendon_lengths(q0), dtype=float).ravel()
        scaled_muscles = []
        pairs = []
        for m, a, b in zip(muscles, l0, l1, strict=True):
            if not (a > 0.0 and b > 0.0):
                raise ModelError(
                    f"muscles.{m.name}",
                    f"muscle-tendon length in the default pose is {a} m before and {b} m "
                    "after scaling; it must be positive to scale the muscle's lengths",
                )
            ratio = float(b / a)
            pairs.append((m.name, ratio))
            scaled_muscles.append(_scale_muscle(m, ratio))
        ratios = tuple(pairs)
        geometry = replace(geometry, muscles=tuple(scaled_muscles))
    return validate(geometry), notes, ratios, after


def _scale_muscle(muscle: Muscle, ratio: float) -> Muscle:
    if ratio == 1.0:
        return muscle
    return replace(
        muscle,
        optimal_fiber_length=muscle.optimal_fiber_length * ratio,
        tendon_slack_length=muscle.tendon_slack_length * ratio,
    )


def _scaled_inertia(
    inertia: tuple[float, float, float, float, float, float], s: np.ndarray, mass_ratio: float
) -> tuple[float, float, float, float, float, float]:
    """Inertia about the centre of mass after ``r -> S r`` and ``m -> mass_ratio m``."""
    if s[0] == s[1] == s[2]:
        k = mass_ratio * float(s[0]) ** 2
        if k == 1.0:
            return inertia
        ixx, iyy, izz, ixy, ixz, iyz = (k * v for v in inertia)
        return (ixx, iyy, izz, ixy, ixz, iyz)
    ixx, iyy, izz, ixy, ixz, iyz = inertia
    matrix = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
    second = 0.5 * np.trace(matrix) * np.eye(3) - matrix  # J = integral r r^T dm
    second = mass_ratio * (s[:, None] * second * s[None, :])
    out = np.trace(second) * np.eye(3) - second
    return (
        float(out[0, 0]),
        float(out[1, 1]),
        float(out[2, 2]),
        float(out[0, 1]),
        float(out[0, 2]),
        float(out[1, 2]),
    )


def _scale_bodies(
    model: Model, s: _Factors, subject_mass: float | None, preserve: bool
) -> tuple[Body, ...]:
    first: list[tuple[Body, float]] = []  # (body with scaled geometry, its new mass)
    for b in model.bodies:
        f = s.of(b.name)
        mass = b.mass if preserve else b.mass * float(np.prod(f))
        ratio = mass / b.mass if b.mass > 0.0 else 1.0
        scaled = replace(
            b, com=s.point(b.name, b.com), inertia=_scaled_inertia(b.inertia, f, ratio)
        )
        first.append((scaled, mass))
    if subject_mass is None:
        return tuple(replace(b, mass=m) if m != b.mass else b for b, m in first)
    total = sum(m for _, m in first)
    if total <= 0.0:
        raise ModelError("bodies", "the model has no mass; it cannot be scaled to a subject mass")
    k = subject_mass / total
    out = []
    for b, m in first:
        ixx, iyy, izz, ixy, ixz, iyz = (k * v for v in b.inertia)
        out.append(replace(b, mass=k * m, inertia=(ixx, iyy, izz, ixy, ixz, iyz)))
    return tuple(out)


def _is_degree_of_freedom(axis: TransformAxis) -> bool:
    f = axis.function
    return (
        axis.coordinate is not None
        and isinstance(f, Linear)
        and f.slope == 1.0
        and f.intercept == 0.0
    )


def _axis_factor(direction: np.ndarray, s: np.ndarray) -> float | None:
    """Stretch of a unit ``direction`` (body frame) under S, if S keeps its direction."""
    if s[0] == s[1] == s[2]:
        return float(s[0])
    i = int(np.argmax(np.abs(direction)))
    if abs(direction[i]) >= _ALIGNED:
        return float(s[i])
    return None


def _scale_joint(joint: Joint, s: _Factors, where: str) -> Joint:
    parent = replace(joint.parent, translation=s.point(joint.parent.body, joint.parent.translation))
    child = replace(joint.child, translation=s.point(joint.child.body, joint.child.translation))
    transform = joint.transform
    if joint.type is JointType.CUSTOM:
        f = s.of(joint.parent.body)
        rotation = body_fixed_xyz(joint.parent.orientation)
        axes = []
        for k, axis in enumerate(joint.transform):
            if axis.kind is AxisKind.ROTATION or _is_degree_of_freedom(axis):
                axes.append(axis)
                continue
            unit = np.asarray(axis.axis, dtype=float)
            direction = rotation @ (unit / np.linalg.norm(unit))
            factor = _axis_factor(direction, f)
            if factor is None:
                raise UnsupportedFeatureError(
                    where,
                    f"joints.{joint.name}.transform[{k}]",
                    f"the translation axis {axis.axis} is oblique to the axes of body "
                    f"{joint.parent.body!r}, which is scaled by unequal factors {tuple(f)}; "
                    "the scaled translation would change direction",
                )
            axes.append(replace(axis, function=_scaled_function(axis.function, factor)))
        transform = tuple(axes)
    return replace(joint, parent=parent, child=child, transform=transform)


def _scaled_function(function: Function, factor: float) -> Function:
    """``factor * function`` in the same form (every gaitsim function is linear in its
    values: splines in their ``y``, polynomials in their coefficients)."""
    if factor == 1.0:
        return function
    if isinstance(function, Constant):
        return Constant(function.value * factor)
    if isinstance(function, Linear):
        return Linear(function.slope * factor, function.intercept * factor)
    if isinstance(function, SimmSpline):
        return SimmSpline(function.x, tuple(v * factor for v in function.y))
    if isinstance(function, NaturalCubicSpline):
        return NaturalCubicSpline(function.x, tuple(v * factor for v in function.y))
    if isinstance(function, Polynomial):
        return Polynomial(tuple(c * factor for c in function.coefficients))
    if isinstance(function, Multiplier):
        return Multiplier(function.function, function.scale * factor)
    raise TypeError(f"not a gaitsim function: {function!r}")


def _scale_path_point(point: PathElement, s: _Factors) -> PathElement:
    if isinstance(point, MovingPathPoint):
        fx, fy, fz = (float(v) for v in s.of(point.body))
        return replace(
            point,
            x=_scaled_function(point.x, fx),
            y=_scaled_function(point.y, fy),
            z=_scaled_function(point.z, fz),
        )
    if isinstance(point, PathPoint | ConditionalPathPoint):
        return replace(point, location=s.point(point.body, point.location))
    raise TypeError(f"not a gaitsim path point: {point!r}")


def _scale_cylinder(cylinder: WrapCylinder, s: _Factors, notes: list[str]) -> WrapCylinder:
    f = s.of(cylinder.body)
    rotation = body_fixed_xyz(cylinder.orientation)
    stretch_x = float(np.linalg.norm(f * rotation[:, 0]))
    stretch_y = float(np.linalg.norm(f * rotation[:, 1]))
    if not math.isclose(stretch_x, stretch_y, rel_tol=1e-12):
        notes.append(
            f"wrap cylinder {cylinder.name!r}: its cross-section is stretched by "
            f"{stretch_x:.4f} and {stretch_y:.4f}; the radius takes the mean"
        )
    if _axis_factor(rotation[:, 2], f) is None:
        notes.append(
            f"wrap cylinder {cylinder.name!r}: its axis is oblique to the axes of body "
            f"{cylinder.body!r} (unequal factors); its orientation is kept"
        )
    return replace(
        cylinder,
        translation=s.point(cylinder.body, cylinder.translation),
        radius=cylinder.radius * 0.5 * (stretch_x + stretch_y),
    )


def _half_space_normal(half_space: HalfSpace) -> np.ndarray:
    """Outward normal of a half-space in its body's frame (the frame's -X axis)."""
    return -body_fixed_xyz(half_space.orientation)[:, 0]


def _scale_half_space(half_space: HalfSpace, s: _Factors, where: str) -> HalfSpace:
    if half_space.body == GROUND:
        return half_space
    f = s.of(half_space.body)
    if _axis_factor(_half_space_normal(half_space), f) is None:
        raise UnsupportedFeatureError(
            where,
            f"half_spaces.{half_space.name}",
            f"its normal is oblique to the axes of body {half_space.body!r}, which is scaled "
            f"by unequal factors {tuple(f)}; the scaled plane would tilt",
        )
    return replace(half_space, location=s.point(half_space.body, half_space.location))


def _scale_spheres(
    model: Model, s: _Factors, functions: ModelFunctions, notes: list[str]
) -> tuple[ContactSphere, ...]:
    if not model.contact_spheres:
        return ()
    rotations: dict[str, np.ndarray] = {GROUND: np.eye(3)}
    if any(not s.uniform(sp.body) for sp in model.contact_spheres):
        _, rot = functions.body_poses(_default_pose(model))
        rot = np.asarray(rot, dtype=float)
        for k, b in enumerate(model.bodies):
            rotations[b.name] = rot[:, 3 * k : 3 * k + 3]
    planes = {h.name: h for h in model.half_spaces}
    out = []
    for sphere in model.contact_spheres:
        f = s.of(sphere.body)
        if f[0] == f[1] == f[2]:
            factor = float(f[0])
        else:
            normals = []
            for c in model.contacts:
                if c.sphere != sphere.name:
                    continue
                h = planes[c.half_space]
                ground = rotations[h.body] @ _half_space_normal(h)
                normals.append(rotations[sphere.body].T @ ground)
            if not normals:
                factor = float(np.prod(f)) ** (1.0 / 3.0)
                notes.append(
                    f"contact sphere {sphere.name!r} touches no half-space; its radius is "
                    f"scaled by the geometric mean of {tuple(float(v) for v in f)}"
                )
            else:
                if any(np.linalg.norm(n - normals[0]) > 1e-9 for n in normals[1:]):
                    raise UnsupportedFeatureError(
                        f"model {model.name!r}",
                        f"contact_spheres.{sphere.name}",
                        "it touches half-spaces with different normals and its body is "
                        "scaled by unequal factors; no one radius keeps it on all of them",
                    )
                factor = float(np.linalg.norm(f * normals[0]))
                notes.append(
                    f"contact sphere {sphere.name!r}: body scaled by unequal factors; radius "
                    f"scaled by {factor:.5f}, the stretch along its contact normal"
                )
        out.append(
            replace(
                sphere,
                location=s.point(sphere.body, sphere.location),
                radius=sphere.radius * factor,
            )
        )
    return tuple(out)


# ======================================================================================
# Setup files (TOML)
# ======================================================================================
def read_scale_setup(path: str | Path) -> ScaleSetup:
    """Read a scale setup from a TOML file.

    The file holds (every key optional except a measurement's)::

        subject_mass = 72.6                 # kg
        preserve_mass_distribution = true
        time_range = [1.0, 2.0]             # s

        [[measurements]]
        name = "thigh"
        marker_pairs = [["R.ASIS", "R.Knee.Lat"], ["L.ASIS", "L.Knee.Lat"]]
        bodies = [{ body = "femur_r", axes = "xyz" }, { body = "femur_l" }]

        [[manual_scales]]
        body = "torso"
        factors = [1.0, 1.05, 1.0]

    Raises
    ------
    FileFormatError
        The file cannot be read, is not TOML (with the line) or has an unknown key or a
        value of the wrong kind (naming the key).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(path, None, f"cannot read the scale setup: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise FileFormatError(path, line, f"not valid TOML: {exc}") from None
    return scale_setup_from_dict(data, source=str(path))


def scale_setup_from_dict(data: Mapping[str, Any], *, source: str = "scale setup") -> ScaleSetup:
    """A :class:`ScaleSetup` from plain data (the TOML layout of :func:`read_scale_setup`).

    Raises
    ------
    FileFormatError
        Unknown keys or values of the wrong kind, naming the key (``source`` is the file).
    """

    def fail(key: str, problem: str) -> FileFormatError:
        return FileFormatError(source, None, f"{key}: {problem}")

    def keys(table: Any, key: str, allowed: set[str], required: set[str]) -> Mapping[str, Any]:
        if not isinstance(table, Mapping):
            raise fail(key, f"must be a table, got {table!r}")
        unknown = set(table) - allowed
        if unknown:
            raise fail(key, f"unknown key(s) {sorted(unknown)}; expected some of {sorted(allowed)}")
        missing = required - set(table)
        if missing:
            raise fail(key, f"missing key(s) {sorted(missing)}")
        return table

    def number(key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(key, f"must be a number, got {value!r}")
        return float(value)

    def string(key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def array(key: str, value: Any, size: int | None = None) -> list[Any]:
        if not isinstance(value, list) or (size is not None and len(value) != size):
            what = f"a list of {size}" if size is not None else "a list"
            raise fail(key, f"must be {what}, got {value!r}")
        return value

    top = keys(
        data,
        "(top level)",
        {"subject_mass", "preserve_mass_distribution", "time_range", "measurements",
         "manual_scales"},
        set(),
    )  # fmt: skip
    measurements = []
    for i, m in enumerate(array("measurements", top.get("measurements", []))):
        key = f"measurements[{i}]"
        m = keys(m, key, {"name", "marker_pairs", "bodies"}, {"name", "marker_pairs", "bodies"})
        pairs = []
        for j, pair in enumerate(array(f"{key}.marker_pairs", m["marker_pairs"])):
            pk = f"{key}.marker_pairs[{j}]"
            a, b = (string(pk, v) for v in array(pk, pair, 2))
            pairs.append((a, b))
        targets = []
        for j, t in enumerate(array(f"{key}.bodies", m["bodies"])):
            tk = f"{key}.bodies[{j}]"
            t = keys(t, tk, {"body", "axes"}, {"body"})
            targets.append(
                BodyAxes(string(f"{tk}.body", t["body"]), string(f"{tk}.axes", t.get("axes", AXES)))
            )
        measurements.append(
            Measurement(string(f"{key}.name", m["name"]), tuple(pairs), tuple(targets))
        )
    manual = []
    for i, ms in enumerate(array("manual_scales", top.get("manual_scales", []))):
        key = f"manual_scales[{i}]"
        ms = keys(ms, key, {"body", "factors"}, {"body", "factors"})
        fx, fy, fz = (
            number(f"{key}.factors", v) for v in array(f"{key}.factors", ms["factors"], 3)
        )
        manual.append(ManualScale(string(f"{key}.body", ms["body"]), (fx, fy, fz)))
    mass = top.get("subject_mass")
    preserve = top.get("preserve_mass_distribution", True)
    if not isinstance(preserve, bool):
        raise fail("preserve_mass_distribution", f"must be true or false, got {preserve!r}")
    time_range = top.get("time_range")
    if time_range is not None:
        start, end = (number("time_range", v) for v in array("time_range", time_range, 2))
        time_range = (start, end)
    return ScaleSetup(
        measurements=tuple(measurements),
        manual_scales=tuple(manual),
        subject_mass=None if mass is None else number("subject_mass", mass),
        preserve_mass_distribution=preserve,
        time_range=time_range,
    )
