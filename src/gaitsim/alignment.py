"""Alignment changes to a 3D leg model: femoral torsion and knee varus/valgus.

An :class:`Alignment` records what the user asks for ("femoral anteversion 20 degrees
more", "5 degrees of varus"); :func:`apply_alignment` returns the changed model and
leaves the original untouched, as :mod:`gaitsim.scenarios` does for muscle changes.
Angles are radians inside; reports convert to degrees. The changes need the OpenSim
gait2392 body and joint names (``femur_<s>``, ``tibia_<s>``, ``knee_<s>``, side ``r``/``l``)
as the built-in ``gait3d`` has them; anything else is refused with a
:class:`~gaitsim.errors.ModelError` naming the missing element.

Femoral torsion (:class:`FemoralTorsion`)
-----------------------------------------
Femoral anteversion is the angle between the femoral neck axis and the condylar
(knee flexion) axis, projected on the plane perpendicular to the femoral long axis;
positive when the neck points anteriorly. Typical values: about 10-15 degrees in adults
(e.g. 12 degrees, the value Modenese et al. 2021 measured on the generic OpenSim femur
they deformed); "increased" anteversion in clinical series is 25-40 degrees; retroversion
is anteversion below 0 degrees.

The change follows the bone-deformation approach of Modenese et al. (2021, tool
``msk-bone-deformation``): a *torsion profile* that grows linearly along the femoral
long axis, applied to every object fixed on the femur. Here the profile is zero at the
hip centre and the full change ``angle`` at the knee centre, so the proximal femur (head
and neck, the hip joint frame) keeps its place in the femur's body frame and the distal
femur turns about the long axis. Exactly:

* the long axis ``u`` is the line from the knee centre to the hip centre (the femur's
  mechanical axis), with the knee centre taken at the coordinates' default values
  (``gait3d``: knee straight), so the knee centre itself does not move;
* a point ``p`` on the femur at fraction ``s = clip(((p - h) . (-u)) / L, 0, 1)`` of the
  femur length ``L`` from the hip centre ``h`` is rotated about ``u`` through ``h`` by
  ``sign * angle * s`` (``sign`` +1 for the right leg, -1 for the left, so that a
  positive angle turns the distal femur *internally*: more anteversion). This applies to
  muscle path points (fixed and conditional), wrap cylinders (origin and orientation),
  markers and contact spheres on the femur, and to the femur's centre of mass and
  inertia (negligible, kept consistent);
* joint frames on the femur are rotated by the angle at their joint *centre* (the frame
  origin plus the joint's translation at default coordinates, as the tool does with
  OpenSim's spatial transform): the knee frame, whose origin sits at the hip centre in
  gait2392 but whose joint centre is the knee, turns by the full ``angle``; the hip's
  child frame (``s = 0``) does not move. The knee's translation functions are expressed
  in the turned frame, so the tibia follows the distal femur.

Moving path points on the femur would need their functions rotated; none exist in
``gait3d`` and they are refused rather than left unrotated.

Knee varus and valgus (:class:`KneeVarus`)
------------------------------------------
Varus ("bow legs") is the distal segment deviating towards the midline: in the frontal
plane, the tibia's long axis (knee centre to ankle centre) is angled medially relative
to the femur's (hip centre to knee centre). The healthy mechanical tibiofemoral angle is
about 1-2 degrees of varus (Moreland et al. 1987); gait2392's default pose has 0.
The change rotates the tibia, with everything fixed on it, about its own
antero-posterior (+X) axis through the knee centre by ``sign * angle`` (right +X, left
-X; positive = varus). It is made in the knee joint's *child* frame (the frame on the
tibia that the joint moves): ``C_new = R_x(-sign*angle) C_old``, its origin unchanged, so
that the tibia's pose becomes ``B R_x(sign*angle)``: the knee's flexion axis stays fixed
in the femur (a tibial deformity such as tibia vara, as Lerner et al. 2015 angled the
tibia in an OpenSim knee). Muscle points, markers and the ankle on the tibia follow the
body.

Validation (``tests/unit/test_alignment.py``)
---------------------------------------------
Both changes are checked by *measuring* the changed model in its default pose through
gaitsim's kinematics (:func:`femoral_anteversion`, :func:`knee_varus_angle`), not from
the parameters written: the anteversion changes by the requested angle (to 1e-9 rad)
and the frontal tibiofemoral angle by the requested angle; everything not meant to move
(pelvis, the other leg, the proximal femur, the tibia under a torsion change, the femur
under a varus change) keeps its place exactly.

Walking with a changed alignment
--------------------------------
:func:`align_motion` moves a measured or simulated motion onto a changed model in one of
two :class:`Presentation` s:

``SAME_ANGLES``
    the same coordinate values: with more anteversion the knee and foot turn in
    (in-toeing, "uncompensated"); with varus the shank and foot are angled.
``SAME_FOOT``
    the foot (``calcn_<s>``) keeps its pose in ground: the leg's coordinates (hip
    flexion, adduction and rotation, knee, ankle, subtalar) are solved by damped least
    squares (Levenberg-Marquardt, orientation weighted 0.1 m per radian) so that its
    position and orientation are the original ones (for femoral torsion this is mainly
    a hip rotation: "compensated"). With a nearly straight knee the leg cannot lengthen
    and the match may be inexact: mismatches up to :data:`POSITION_TOLERANCE` and
    :data:`ORIENTATION_TOLERANCE` are accepted and reported
    (:attr:`AlignedMotion.position_residual`), larger ones raise.

In both, every external load (ground reaction) stays attached to the body it acts on:
its point of application is fixed in that body's frame and its force and free torque
keep their directions in ground. The speeds and accelerations are the original ones
plus the time derivatives of the coordinate change (natural quintic spline,
:func:`gaitsim.signal.spline_derivatives`).

References
----------
* Modenese L, Barzan M, Carty CP (2021). Dependency of lower limb joint reaction forces
  on femoral anteversion. Gait & Posture 88:318-321; MATLAB tool
  github.com/modenaxe/msk-bone-deformation (torsion profile linear along the bone).
* Veerkamp K, Kainz H, Killen BA, Jonasdottir H, van der Krogt MM (2021). Torsion Tool:
  an automated tool for personalising femoral and tibial geometries in OpenSim
  musculoskeletal models. J Biomech 125:110589.
* Lerner ZF, DeMers MS, Delp SL, Browning RC (2015). How tibiofemoral alignment and
  contact locations affect predictions of medial and lateral tibiofemoral contact
  forces. J Biomech 48(4):644-650.
* Moreland JR, Bassett LW, Hanker GJ (1987). Radiographic analysis of the axial
  alignment of the lower extremity. J Bone Joint Surg Am 69(5):745-749.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

import casadi as ca
import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from gaitsim.analysis.joint_loads import BodyLoad, LoadedMotion
from gaitsim.errors import GaitsimError, ModelError
from gaitsim.mechanics.functions import evaluate
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.mechanics.rotations import body_fixed_xyz, unskew
from gaitsim.model.description import (
    AxisKind,
    Body,
    ConditionalPathPoint,
    Frame,
    Joint,
    Model,
    MovingPathPoint,
    PathElement,
    PathPoint,
    Vec3,
)
from gaitsim.model.validation import validate
from gaitsim.signal import spline_derivatives

__all__ = [
    "Alignment",
    "AlignedMotion",
    "FemoralTorsion",
    "KneeVarus",
    "NOMINAL_ANTEVERSION",
    "NECK_SHAFT_ANGLE",
    "Presentation",
    "align_motion",
    "apply_alignment",
    "femoral_anteversion",
    "femoral_neck_direction",
    "knee_varus_angle",
    "LEG_COORDINATES",
    "ORIENTATION_TOLERANCE",
    "POSITION_TOLERANCE",
]

FloatArray = NDArray[np.float64]

#: Femoral anteversion assumed for gait3d's femur, which has no neck geometry (rad):
#: 12 degrees, the nominal value Modenese et al. (2021) measured on the generic OpenSim
#: femur they deformed.
NOMINAL_ANTEVERSION = math.radians(12.0)
#: Neck-shaft angle assumed for the femoral neck direction (rad), a typical adult value;
#: it does not enter the anteversion (a projection on the transverse plane).
NECK_SHAFT_ANGLE = math.radians(125.0)

#: The leg coordinates solved to keep the foot in place (:attr:`Presentation.SAME_FOOT`),
#: by side, and the foot body whose pose is kept.
LEG_COORDINATES = {
    side: (
        (
            f"hip_flexion_{side}",
            f"hip_adduction_{side}",
            f"hip_rotation_{side}",
            f"knee_angle_{side}",
            f"ankle_angle_{side}",
            f"subtalar_angle_{side}",
        ),
        f"calcn_{side}",
    )
    for side in ("r", "l")
}

_SIDES = ("r", "l")

#: Largest foot position (m) and orientation (rad) mismatch accepted when the feet are
#: kept in place (:attr:`Presentation.SAME_FOOT`): the least-squares solution is exact
#: unless the knee is straight, where the leg cannot lengthen.
POSITION_TOLERANCE = 0.002
ORIENTATION_TOLERANCE = math.radians(1.0)
#: Weight of the orientation residual against the position residual (m per unit).
ORIENTATION_WEIGHT = 0.05


def _side_sign(side: str) -> float:
    return 1.0 if side == "r" else -1.0


def _check_sides(sides: Sequence[str]) -> tuple[str, ...]:
    out = tuple(sides)
    if not out or any(s not in _SIDES for s in out) or len(set(out)) != len(out):
        raise ValueError(f"sides must be distinct values among {_SIDES}, got {sides!r}")
    return out


def _check_angle(angle: float, what: str) -> None:
    if not math.isfinite(angle) or abs(angle) >= math.pi / 2:
        raise ValueError(f"{what} must be finite and smaller than 90 degrees, got {angle!r} rad")


# --------------------------------------------------------------------------------------
# Geometry of the model, numerically
# --------------------------------------------------------------------------------------
def _joint(model: Model, name: str) -> Joint:
    for joint in model.joints:
        if joint.name == name:
            return joint
    raise ModelError(f"joints.{name}", f"model {model.name!r} has no joint {name!r}")


def _body(model: Model, name: str) -> Body:
    for body in model.bodies:
        if body.name == name:
            return body
    raise ModelError(f"bodies.{name}", f"model {model.name!r} has no body {name!r}")


def _joint_translation(model: Model, joint: Joint) -> FloatArray:
    """Child frame origin in the joint's parent frame at the coordinates' defaults."""
    out = np.zeros(3)
    for axis in joint.transform:
        if axis.kind is not AxisKind.TRANSLATION:
            continue
        x = model.coordinate(axis.coordinate).default if axis.coordinate else 0.0
        value = float(evaluate(axis.function, float(x)))
        out += value * np.asarray(axis.axis, dtype=float)
    return out


def _frame_centre(model: Model, joint: Joint) -> FloatArray:
    """The joint centre in the parent body's frame (defaults), for a joint on a body."""
    rotation = body_fixed_xyz(joint.parent.orientation)
    return np.asarray(joint.parent.translation, dtype=float) + rotation @ _joint_translation(
        model, joint
    )


def _euler(rotation: FloatArray) -> Vec3:
    """Body-fixed X-Y-Z angles of a rotation matrix (:func:`body_fixed_xyz` inverted)."""
    angles = Rotation.from_matrix(rotation).as_euler("XYZ")
    return (float(angles[0]), float(angles[1]), float(angles[2]))


def _axis_rotation(axis: FloatArray, angle: float) -> FloatArray:
    return np.asarray(Rotation.from_rotvec(angle * axis).as_matrix())


def _vec(values: FloatArray) -> Vec3:
    return (float(values[0]), float(values[1]), float(values[2]))


# --------------------------------------------------------------------------------------
# The changes
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FemoralTorsion:
    """Change femoral anteversion by ``angle`` (rad; positive = more anteversion, negative
    = towards retroversion) on ``sides``; see the module docstring for what rotates."""

    angle: float
    sides: tuple[str, ...] = _SIDES

    def describe(self) -> str:
        word = "more" if self.angle >= 0 else "less"
        return (
            f"femoral anteversion {abs(math.degrees(self.angle)):.0f} deg {word} "
            f"({', '.join(self.sides)})"
        )

    def apply(self, model: Model) -> Model:
        _check_angle(self.angle, "femoral torsion angle")
        for side in _check_sides(self.sides):
            model = _twist_femur(model, side, _side_sign(side) * self.angle)
        return model


@dataclass(frozen=True)
class KneeVarus:
    """Angle the tibia in the frontal plane by ``angle`` (rad; positive = varus, "bow
    legs"; negative = valgus, "knock knees") on ``sides``; see the module docstring."""

    angle: float
    sides: tuple[str, ...] = _SIDES

    def describe(self) -> str:
        word = "varus" if self.angle >= 0 else "valgus"
        return f"knee {word} {abs(math.degrees(self.angle)):.0f} deg ({', '.join(self.sides)})"

    def apply(self, model: Model) -> Model:
        _check_angle(self.angle, "knee varus angle")
        for side in _check_sides(self.sides):
            model = _angle_tibia(model, side, _side_sign(side) * self.angle)
        return model


Change = FemoralTorsion | KneeVarus


@dataclass(frozen=True)
class Alignment:
    """A named set of alignment changes, applied in order by :func:`apply_alignment`."""

    name: str
    changes: tuple[Change, ...] = ()

    def describe(self) -> str:
        """Plain-language description."""
        return "; ".join(c.describe() for c in self.changes) or "unchanged alignment"


def apply_alignment(model: Model, alignment: Alignment) -> Model:
    """The model with the alignment's changes applied in order (validated); the model
    keeps its name."""
    for change in alignment.changes:
        model = change.apply(model)
    return validate(model)


def _twist_femur(model: Model, side: str, angle: float) -> Model:
    """Rotate everything on ``femur_<side>`` about the femoral long axis, by
    ``angle * s`` at fraction ``s`` of the length from the hip centre."""
    femur = f"femur_{side}"
    _body(model, femur)
    hips = [j for j in model.joints if j.child.body == femur]
    distal = [j for j in model.joints if j.parent.body == femur]
    if len(hips) != 1 or not distal:
        raise ModelError(
            f"bodies.{femur}", "needs exactly one proximal joint and at least one distal joint"
        )
    hip = np.asarray(hips[0].child.translation, dtype=float)
    centres = {j.name: _frame_centre(model, j) for j in distal}
    knee = max(centres.values(), key=lambda c: float(np.linalg.norm(c - hip)))
    length = float(np.linalg.norm(knee - hip))
    if length <= 0:
        raise ModelError(f"bodies.{femur}", "hip and knee centres coincide")
    down = (knee - hip) / length
    up = -down

    def fraction(point: FloatArray) -> float:
        return float(np.clip((point - hip) @ down / length, 0.0, 1.0))

    def turn(point: FloatArray) -> FloatArray:
        return _axis_rotation(up, angle * fraction(point))

    def move(location: Sequence[float]) -> Vec3:
        p = np.asarray(location, dtype=float)
        return _vec(hip + turn(p) @ (p - hip))

    def frame(f: Frame, centre: FloatArray) -> Frame:
        if f.body != femur:
            return f
        rotation = turn(centre)
        origin = np.asarray(f.translation, dtype=float)
        return dataclasses.replace(
            f,
            translation=_vec(hip + rotation @ (origin - hip)),
            orientation=_euler(rotation @ body_fixed_xyz(f.orientation)),
        )

    joints = []
    for j in model.joints:
        parent = frame(j.parent, centres[j.name]) if j.name in centres else j.parent
        child = frame(j.child, np.asarray(j.child.translation, dtype=float))
        joints.append(dataclasses.replace(j, parent=parent, child=child))

    def point(p: PathElement, muscle: str) -> PathElement:
        if p.body != femur:
            return p
        if isinstance(p, MovingPathPoint):
            raise ModelError(
                f"muscles.{muscle}.{p.name}",
                "a moving path point on the femur cannot be twisted (not supported)",
            )
        assert isinstance(p, PathPoint | ConditionalPathPoint)
        return dataclasses.replace(p, location=move(p.location))

    muscles = tuple(
        dataclasses.replace(m, path=tuple(point(p, m.name) for p in m.path)) for m in model.muscles
    )
    cylinders = []
    for c in model.wrap_cylinders:
        if c.body == femur:
            rotation = turn(np.asarray(c.translation, dtype=float))
            c = dataclasses.replace(
                c,
                translation=move(c.translation),
                orientation=_euler(rotation @ body_fixed_xyz(c.orientation)),
            )
        cylinders.append(c)
    markers = tuple(
        dataclasses.replace(m, location=move(m.location)) if m.body == femur else m
        for m in model.markers
    )
    spheres = tuple(
        dataclasses.replace(s, location=move(s.location)) if s.body == femur else s
        for s in model.contact_spheres
    )
    bodies = []
    for b in model.bodies:
        if b.name == femur:
            rotation = turn(np.asarray(b.com, dtype=float))
            ixx, iyy, izz, ixy, ixz, iyz = b.inertia
            inertia = rotation @ np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
            inertia = inertia @ rotation.T
            b = dataclasses.replace(
                b,
                com=move(b.com),
                inertia=(
                    float(inertia[0, 0]),
                    float(inertia[1, 1]),
                    float(inertia[2, 2]),
                    float(inertia[0, 1]),
                    float(inertia[0, 2]),
                    float(inertia[1, 2]),
                ),
            )
        bodies.append(b)
    return dataclasses.replace(
        model,
        bodies=tuple(bodies),
        joints=tuple(joints),
        muscles=muscles,
        wrap_cylinders=tuple(cylinders),
        markers=markers,
        contact_spheres=spheres,
    )


def _angle_tibia(model: Model, side: str, angle: float) -> Model:
    """Rotate the tibia about its own +X axis through the knee centre by ``angle``."""
    tibia = f"tibia_{side}"
    knee = _joint(model, f"knee_{side}")
    if knee.child.body != tibia:
        raise ModelError(f"joints.{knee.name}", f"its child is {knee.child.body!r}, not {tibia!r}")
    child = knee.child
    orientation = body_fixed_xyz((-angle, 0.0, 0.0)) @ body_fixed_xyz(child.orientation)
    changed = dataclasses.replace(
        knee, child=dataclasses.replace(child, orientation=_euler(orientation))
    )
    return dataclasses.replace(
        model, joints=tuple(changed if j.name == knee.name else j for j in model.joints)
    )


# --------------------------------------------------------------------------------------
# Measuring the alignment of a model (default pose, through the kinematics)
# --------------------------------------------------------------------------------------
def femoral_neck_direction(side: str) -> FloatArray:
    """The assumed femoral neck axis (unit vector from the neck base to the head) in the
    femur's body frame of a gait2392-type femur (+X anterior, +Y proximal, +Z right).

    gait3d has no femoral neck geometry; the direction is built from
    :data:`NOMINAL_ANTEVERSION` relative to the body's Z (condylar) axis and from
    :data:`NECK_SHAFT_ANGLE` relative to its Y axis. It is fixed in the proximal femur,
    which :class:`FemoralTorsion` does not move.
    """
    _check_sides((side,))
    medial = np.array([0.0, 0.0, -_side_sign(side)])
    anterior = np.array([1.0, 0.0, 0.0])
    transverse = math.cos(NOMINAL_ANTEVERSION) * medial + math.sin(NOMINAL_ANTEVERSION) * anterior
    elevation = NECK_SHAFT_ANGLE - math.pi / 2
    return math.cos(elevation) * transverse + math.sin(elevation) * np.array([0.0, 1.0, 0.0])


def _default_poses(model: Model, functions: ModelFunctions, q: FloatArray) -> tuple[dict, dict]:
    pos, rot = functions.body_poses(q)
    positions, rotations = np.asarray(pos), np.asarray(rot)
    names = [b.name for b in model.bodies]
    p = {name: positions[:, k] for k, name in enumerate(names)}
    r = {name: rotations[:, 3 * k : 3 * k + 3] for k, name in enumerate(names)}
    return p, r


def _child_centre(joint: Joint, p: dict, r: dict) -> FloatArray:
    body = joint.child.body
    return p[body] + r[body] @ np.asarray(joint.child.translation, dtype=float)


def _knee_axis(model: Model, functions: ModelFunctions, side: str, q: FloatArray) -> FloatArray:
    """Unit flexion axis of the knee in ground (pointing to the right), by central
    differences of the tibia's orientation relative to the femur."""
    knee = _joint(model, f"knee_{side}")
    if not knee.coordinates:
        raise ModelError(f"joints.{knee.name}", "has no coordinate")
    k = model.coordinate_names.index(knee.coordinates[0].name)
    step = 1e-6
    relative = []
    for sign in (1.0, -1.0):
        dq = np.array(q, dtype=float)
        dq[k] += sign * step
        _, r = _default_poses(model, functions, dq)
        relative.append(r[knee.parent.body].T @ r[knee.child.body])
    derivative = (relative[0] - relative[1]) / (2 * step)
    _, r = _default_poses(model, functions, q)
    rel = r[knee.parent.body].T @ r[knee.child.body]
    spin = derivative @ rel.T  # skew-symmetric: d(rel)/dq rel^T = [axis]x
    axis_parent = 0.5 * np.array(
        [spin[2, 1] - spin[1, 2], spin[0, 2] - spin[2, 0], spin[1, 0] - spin[0, 1]]
    )
    axis = r[knee.parent.body] @ axis_parent
    axis /= np.linalg.norm(axis)
    return axis if axis[2] >= 0 else -axis


def femoral_anteversion(
    model: Model,
    side: str,
    *,
    functions: ModelFunctions | None = None,
    neck: FloatArray | None = None,
) -> float:
    """Femoral anteversion (rad) measured on ``model`` in its default pose.

    The angle, in the plane perpendicular to the femoral long axis (hip centre to knee
    centre), from the medial direction of the knee's flexion axis to the neck axis,
    positive when the neck points anteriorly. The flexion axis is measured through the
    model's kinematics (central differences of the tibia's orientation with the knee
    angle); the neck axis is ``neck`` (femur frame), default
    :func:`femoral_neck_direction`.
    """
    _check_sides((side,))
    functions = functions or build(model)
    q = np.array([c.default for c in model.coordinates])
    p, r = _default_poses(model, functions, q)
    femur = f"femur_{side}"
    hip = _child_centre(next(j for j in model.joints if j.child.body == femur), p, r)
    knee_joint = _joint(model, f"knee_{side}")
    knee = _child_centre(knee_joint, p, r)
    up = (hip - knee) / np.linalg.norm(hip - knee)
    right = _knee_axis(model, functions, side, q)
    medial = -_side_sign(side) * right
    n = r[femur] @ (femoral_neck_direction(side) if neck is None else np.asarray(neck))

    def project(v: FloatArray) -> FloatArray:
        return v - (v @ up) * up

    m = project(medial)
    m /= np.linalg.norm(m)
    anterior = np.cross(up, project(right))
    anterior /= np.linalg.norm(anterior)
    nt = project(n)
    return float(math.atan2(nt @ anterior, nt @ m))


def knee_varus_angle(model: Model, side: str, *, functions: ModelFunctions | None = None) -> float:
    """Frontal-plane tibiofemoral angle (rad, varus positive) in the default pose.

    The femur's axis runs from the hip centre to the knee centre, the tibia's from the
    knee centre to the ankle centre (joint centres: child frame origins), both projected
    on the ground's frontal (Y-Z) plane; the angle is that of the tibia minus that of the
    femur, each measured from straight down towards medial.
    """
    _check_sides((side,))
    functions = functions or build(model)
    q = np.array([c.default for c in model.coordinates])
    p, r = _default_poses(model, functions, q)
    femur, tibia = f"femur_{side}", f"tibia_{side}"
    hip = _child_centre(next(j for j in model.joints if j.child.body == femur), p, r)
    knee = _child_centre(_joint(model, f"knee_{side}"), p, r)
    ankles = [j for j in model.joints if j.parent.body == tibia]
    if len(ankles) != 1:
        raise ModelError(f"bodies.{tibia}", "needs exactly one distal joint (the ankle)")
    ankle = _child_centre(ankles[0], p, r)
    sign = _side_sign(side)

    def frontal(v: FloatArray) -> float:
        return math.atan2(-sign * v[2], -v[1])

    return frontal(ankle - knee) - frontal(knee - hip)


# --------------------------------------------------------------------------------------
# Moving a motion onto a changed model
# --------------------------------------------------------------------------------------
class Presentation(enum.Enum):
    """How a motion is carried over to a changed alignment (module docstring)."""

    SAME_ANGLES = "same joint angles"
    SAME_FOOT = "same foot placement"


@dataclass(frozen=True, eq=False)
class AlignedMotion:
    """A motion moved onto a changed model.

    Attributes
    ----------
    motion
        The motion on the changed model (its loads carried with their bodies).
    presentation
        How it was carried over.
    coordinate_change
        ``(n, n_q)``: changed minus original coordinates (zero for ``SAME_ANGLES``).
    position_residual, orientation_residual
        Largest foot position (m) and orientation (rad) mismatch left by the solve
        (0 for ``SAME_ANGLES``).
    """

    motion: LoadedMotion
    presentation: Presentation
    coordinate_change: FloatArray
    position_residual: float = 0.0
    orientation_residual: float = 0.0

    def change(self, model: Model, coordinate: str) -> FloatArray:
        """Change of one coordinate over time ``(n,)``."""
        return self.coordinate_change[:, model.coordinate_names.index(coordinate)]


def _foot_function(
    model: Model, functions: ModelFunctions, sides: Sequence[str]
) -> tuple[ca.Function, list[int]]:
    """``(q, targets) -> (residual, jacobian)`` for the feet of ``sides``."""
    sk = functions.skeleton
    columns: list[int] = []
    residuals = []
    targets = []
    for side in sides:
        names, foot = LEG_COORDINATES[side]
        for name in names:
            if name not in sk.coordinate_index:
                raise ModelError(name, f"model {model.name!r} has no such coordinate")
            columns.append(sk.coordinate_index[name])
        _body(model, foot)
        pose = sk.poses[foot]
        target = ca.SX.sym(f"target_{side}", 3, 4)
        targets.append(ca.vec(target))
        r_t = target[:, 1:4]
        residuals.append(pose.p - target[:, 0])
        residuals.append(unskew(r_t.T @ pose.R - pose.R.T @ r_t))
    residual = ca.vertcat(*residuals)
    jacobian = ca.jacobian(residual, sk.q)[:, columns]
    function = ca.Function("foot_pose_residual", [sk.q, ca.vertcat(*targets)], [residual, jacobian])
    return function, columns


def _keep_feet(
    original: Model,
    original_functions: ModelFunctions,
    changed: Model,
    changed_functions: ModelFunctions,
    q: FloatArray,
    sides: Sequence[str],
    max_iterations: int = 100,
) -> tuple[FloatArray, float, float]:
    """Leg coordinates that put the feet of ``changed`` where they are on ``original``:
    damped least squares (Levenberg-Marquardt, one damping per frame), since the
    problem is nearly singular with a straight knee. Returns the coordinates and the
    largest position (m) and orientation (rad) mismatch left."""
    n = q.shape[0]
    p0, r0 = original_functions.body_poses.map(n)(q.T)
    index = {b.name: k for k, b in enumerate(original.bodies)}
    nb = len(original.bodies)
    positions = np.asarray(p0).reshape(3, n, nb)
    rotations = np.asarray(r0).reshape(3, n, nb, 3)
    blocks = []
    for side in sides:
        k = index[LEG_COORDINATES[side][1]]
        blocks.append(np.concatenate([positions[:, :, k, None], rotations[:, :, k, :]], axis=2))
    # (n, 12 per side): each side's 3x4 block in column-major order, as ca.vec does.
    targets = np.concatenate([b.transpose(1, 2, 0).reshape(n, 12) for b in blocks], axis=1).T
    function, columns = _foot_function(changed, changed_functions, sides)
    mapped = function.map(n)
    m = len(columns)
    # Weights: metres for positions; the orientation residual (about twice the angle in
    # rad) counts 0.05 m per unit, i.e. 0.1 m per radian.
    weights = np.tile(np.r_[np.ones(3), np.full(3, ORIENTATION_WEIGHT)], len(sides))

    def evaluate(x: FloatArray) -> tuple[FloatArray, FloatArray]:
        res, jac = mapped(x.T, targets)
        r = np.asarray(res).T * weights  # (n, m)
        j = np.asarray(jac).reshape(m, n, m).transpose(1, 0, 2) * weights[None, :, None]
        return r, j

    x = np.array(q, dtype=float)
    r, j = evaluate(x)
    cost = np.sum(r**2, axis=1)
    damping = np.full(n, 1e-6)
    eye = np.eye(m)
    for _ in range(max_iterations):
        active = cost > 1e-24
        if not np.any(active):
            break
        jtj = np.einsum("nki,nkj->nij", j, j)
        jtr = np.einsum("nki,nk->ni", j, r)
        scale = np.einsum("nii->ni", jtj)
        step = np.linalg.solve(
            jtj + damping[:, None, None] * (eye[None] * scale[:, None, :] + 1e-9 * eye[None]),
            jtr[:, :, None],
        )[:, :, 0]
        step[~active] = 0.0
        trial = x.copy()
        trial[:, columns] -= step
        r_new, j_new = evaluate(trial)
        cost_new = np.sum(r_new**2, axis=1)
        better = active & (cost_new < cost)
        x[better] = trial[better]
        r[better], j[better], cost[better] = r_new[better], j_new[better], cost_new[better]
        damping = np.where(better, damping / 10.0, damping * 10.0)
        if np.max(np.abs(step)) < 1e-13 or np.all(damping[active] > 1e12):
            break
    res = r / weights
    parts = res.reshape(n, len(sides), 2, 3)
    position = float(np.max(np.linalg.norm(parts[:, :, 0], axis=2)))
    orientation = float(np.max(np.linalg.norm(parts[:, :, 1], axis=2))) / 2.0
    if position > POSITION_TOLERANCE or orientation > ORIENTATION_TOLERANCE:
        raise GaitsimError(
            f"could not keep the feet in place on the changed model {changed.name!r}: "
            f"foot mismatch {1000 * position:.1f} mm and {math.degrees(orientation):.2f} deg "
            f"(tolerances {1000 * POSITION_TOLERANCE:.0f} mm, "
            f"{math.degrees(ORIENTATION_TOLERANCE):.0f} deg)"
        )
    return x, position, orientation


def _carry_loads(
    original: Model,
    original_functions: ModelFunctions,
    changed_functions: ModelFunctions,
    q_original: FloatArray,
    q_changed: FloatArray,
    loads: Sequence[BodyLoad],
) -> tuple[BodyLoad, ...]:
    n = q_original.shape[0]
    nb = len(original.bodies)
    index = {b.name: k for k, b in enumerate(original.bodies)}

    def poses(functions: ModelFunctions, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        p, r = functions.body_poses.map(n)(q.T)
        return (
            np.asarray(p).reshape(3, n, nb).transpose(1, 2, 0),
            np.asarray(r).reshape(3, n, nb, 3).transpose(1, 2, 0, 3),
        )

    p0, r0 = poses(original_functions, q_original)
    p1, r1 = poses(changed_functions, q_changed)
    out = []
    for load in loads:
        if load.body not in index:
            raise ModelError(f"load {load.name or load.body!r}", f"no body {load.body!r}")
        k = index[load.body]
        local = np.einsum("nji,nj->ni", r0[:, k], load.point - p0[:, k])
        point = p1[:, k] + np.einsum("nij,nj->ni", r1[:, k], local)
        out.append(dataclasses.replace(load, point=point))
    return tuple(out)


def align_motion(
    original: Model,
    changed: Model,
    motion: LoadedMotion,
    presentation: Presentation,
    *,
    sides: Sequence[str] = _SIDES,
    original_functions: ModelFunctions | None = None,
    changed_functions: ModelFunctions | None = None,
    muscle_forces: FloatArray | None = None,
) -> AlignedMotion:
    """Carry ``motion`` (on ``original``) over to the ``changed`` model.

    Parameters
    ----------
    original, changed
        The model the motion belongs to and the model with changed alignment (same
        coordinates and bodies).
    motion
        Coordinates, speeds, accelerations and external loads on ``original``.
    presentation
        :attr:`Presentation.SAME_ANGLES` or :attr:`Presentation.SAME_FOOT` (module
        docstring).
    sides
        Legs whose foot is kept in place with ``SAME_FOOT``.
    original_functions, changed_functions
        The models' functions, to reuse.
    muscle_forces
        Muscle forces of the changed model's muscles ``(n, n_m)``; default the motion's.

    Returns
    -------
    AlignedMotion

    Raises
    ------
    ModelError
        If the models do not share coordinates and bodies, or lack the legs' names.
    GaitsimError
        If the feet cannot be kept in place.
    """
    if original.coordinate_names != changed.coordinate_names or [
        b.name for b in original.bodies
    ] != [b.name for b in changed.bodies]:
        raise ModelError(changed.name, "the changed model's coordinates or bodies differ")
    original_functions = original_functions or build(original)
    changed_functions = changed_functions or build(changed)
    q = np.asarray(motion.q)
    if presentation is Presentation.SAME_FOOT:
        q_new, position, orientation = _keep_feet(
            original, original_functions, changed, changed_functions, q, _check_sides(sides)
        )
    elif presentation is Presentation.SAME_ANGLES:
        q_new, position, orientation = q.copy(), 0.0, 0.0
    else:  # pragma: no cover - exhaustive enum
        raise ValueError(f"unknown presentation {presentation!r}")
    change = q_new - q
    if np.any(change):
        _, d_speed, d_acceleration = spline_derivatives(motion.time, change)
        qd = motion.qd + d_speed
        qdd = motion.qdd + d_acceleration
    else:
        qd, qdd = motion.qd, motion.qdd
    loads = _carry_loads(original, original_functions, changed_functions, q, q_new, motion.loads)
    forces = motion.muscle_forces if muscle_forces is None else muscle_forces
    moved = LoadedMotion(
        time=motion.time,
        q=q_new,
        qd=qd,
        qdd=qdd,
        muscle_forces=forces,
        loads=loads,
        body_weight=motion.body_weight,
    )
    return AlignedMotion(moved, presentation, change, position, orientation)
