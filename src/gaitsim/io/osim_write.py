"""Write a gaitsim :class:`~gaitsim.model.description.Model` as an OpenSim 4 ``.osim`` file.

:func:`write_osim` writes a file (refusing to overwrite one unless asked);
:func:`osim_string` returns the XML text. Only the standard library's
:mod:`xml.etree.ElementTree` is used; OpenSim is not needed. The document is written in
the layout OpenSim 4.6 itself writes (``<OpenSimDocument Version="40600">``), and
:func:`gaitsim.io.osim.read_osim` reads it back into an equal model (see below).

What is written, and how it maps (the inverse of :mod:`gaitsim.io.osim`)
------------------------------------------------------------------------
* ``gravity``; ``description`` -> ``<credits>``; ``references`` -> ``<publications>``
  (several references are joined with ``"; "``: they come back as one).
* Bodies -> ``<Body>`` with ``mass``, ``mass_center`` and ``inertia``
  (``Ixx Iyy Izz Ixy Ixz Iyz`` about the centre of mass, OpenSim's order).
* Joints, in model order (so OpenSim's coordinate order is gaitsim's): the parent and child
  frames become ``PhysicalOffsetFrame`` s ``<body>_offset`` in the joint's ``<frames>``.
  ``PIN`` -> ``PinJoint``, ``PLANAR`` -> ``PlanarJoint``, ``WELD`` -> ``WeldJoint``,
  ``CUSTOM`` -> ``CustomJoint`` whose ``SpatialTransform`` holds the rotations (in order)
  as ``rotation1..``, the translations as ``translation1..``; the remaining axes get
  ``Constant 0`` on unit axes independent of the given ones (OpenSim needs six). Raises
  :class:`~gaitsim.errors.UnsupportedFeatureError` when OpenSim would order or type the
  coordinates differently (OpenSim orders a custom joint's coordinates by first use in
  rotation1..translation3 and makes a coordinate rotational when it drives a rotation),
  or when a coordinate drives no axis.
* Coordinates: ``default_value``, ``range``, ``locked`` (``clamped`` false).
* Functions: ``Constant``, ``LinearFunction``, ``SimmSpline``, ``NaturalCubicSpline``,
  ``PolynomialFunction``, ``MultiplierFunction``.
* Muscles -> ``DeGrooteFregly2016Muscle`` with every gaitsim parameter
  (``ignore_tendon_compliance`` true for a rigid tendon). Paths: ``PathPoint``,
  ``ConditionalPathPoint`` (``socket_coordinate`` ``/jointset/<joint>/<coordinate>``),
  ``MovingPathPoint`` (``x_location`` ... with ``socket_x_coordinate`` ...). An axis of a
  moving point without a coordinate is evaluated at 0 (as gaitsim does) and written as a
  ``Constant`` attached to one of the point's coordinates; a moving point without any
  coordinate is a fixed ``PathPoint``.
* Wrap cylinders -> ``WrapCylinder`` in the ``WrapObjectSet`` of their body (or ground)
  with ``xyz_body_rotation``, ``translation``, ``radius``, ``quadrant`` and a ``length``
  of :data:`WRAP_CYLINDER_LENGTH` (gaitsim's cylinders are infinite); each
  :class:`~gaitsim.model.description.PathWrap` -> a ``PathWrap`` whose ``range`` is the
  1-based indices of its two path points. OpenSim computes the wrapping its own way
  (iteratively, within 0.1 degree, and with jumps to the long way round a constrained
  cylinder where gaitsim's closed form stays on the short side), so wrapping is written
  only with ``approximate_wrapping=True``; otherwise a model whose muscles wrap raises
  UnsupportedFeatureError. Measured on ``gait2d`` (``tests/unit/test_osim_write.py``):
  wrapped lengths agree within 0.006 mm over the walking range, but differ by up to
  0.48 m at extreme poses (iliopsoas above 70 degrees of hip flexion, gastrocnemius
  beyond 100 degrees of knee flexion); on ``gait3d`` gluteus maximus 1 differs by up to
  0.36 m even at walking hip flexion with random rotation and adduction. A wrapped
  segment that ends on a conditional path point raises UnsupportedFeatureError even then
  (OpenSim would wrap a different segment while the point is inactive).
* Coordinate actuators -> ``CoordinateActuator`` (infinite control bounds as ``Inf``).
* Limit torques -> ``ExpressionBasedCoordinateForce`` with the expression of
  :class:`~gaitsim.model.description.LimitTorque` in ``q`` and ``qdot``. (The reader
  :func:`~gaitsim.io.osim.read_osim` does not import that force type.)
* Contact spheres and half-spaces -> ``ContactSphere`` / ``ContactHalfSpace`` in the
  ``ContactGeometrySet``; contacts -> ``SmoothSphereHalfSpaceForce`` (OpenSim 4.6 calls
  the derivative smoothing ``constant_contact_force``).
* Markers -> ``Marker`` in the ``MarkerSet``.

Numbers are written with Python's shortest round-trip representation, so reading the file
back gives the same floats. Validation: ``tests/unit/test_osim_write.py`` (round trip
through :func:`~gaitsim.io.osim.read_osim`; OpenSim 4.6 on the written files).
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from gaitsim.errors import UnsupportedFeatureError
from gaitsim.mechanics.functions import evaluate
from gaitsim.model.description import (
    GROUND,
    AxisKind,
    Body,
    ConditionalPathPoint,
    Constant,
    ContactSphere,
    Coordinate,
    CoordinateActuator,
    Frame,
    Function,
    HalfSpace,
    Joint,
    JointType,
    LimitTorque,
    Linear,
    Marker,
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
    SmoothContact,
    TendonModel,
    TransformAxis,
    Vec3,
    WrapCylinder,
)
from gaitsim.model.validation import validate

__all__ = ["OSIM_VERSION", "WRAP_CYLINDER_LENGTH", "osim_string", "write_osim"]

OSIM_VERSION = 40600
"""The ``OpenSimDocument`` version written (the format of OpenSim 4.6)."""

WRAP_CYLINDER_LENGTH = 1.0
"""Length (m) written for wrap cylinders: far longer than any body, so infinite in effect."""

_UNIT_AXES: tuple[Vec3, Vec3, Vec3] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def osim_string(model: Model, *, approximate_wrapping: bool = False) -> str:
    """``model`` as the text of an OpenSim 4 ``.osim`` document.

    Parameters
    ----------
    model
        The model.
    approximate_wrapping
        Write muscle wrapping even though OpenSim computes wrapped paths differently
        (see the module docstring); without it a model whose muscles wrap raises
        :class:`~gaitsim.errors.UnsupportedFeatureError`.

    Raises
    ------
    ModelError
        The model is invalid (:func:`gaitsim.model.validation.validate`).
    UnsupportedFeatureError
        The model uses something OpenSim cannot express the same way (see the module
        docstring); the message names the element.
    """
    return _Writer(model, f"<model {model.name!r}>", approximate_wrapping).document()


def write_osim(
    model: Model,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    approximate_wrapping: bool = False,
) -> Path:
    """Write ``model`` to an OpenSim 4 ``.osim`` file and return its path.

    ``approximate_wrapping`` is as in :func:`osim_string`.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is false (nothing is overwritten silently).
    ModelError, UnsupportedFeatureError
        As :func:`osim_string` (nothing is written then).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    text = _Writer(model, path, approximate_wrapping).document()
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------------------
def _num(value: float) -> str:
    value = float(value)
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        raise ValueError("NaN cannot be written to an .osim file")
    return repr(value)


def _nums(values: Iterable[float]) -> str:
    return " ".join(_num(v) for v in values)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _set(parent: ET.Element, tag: str, name: str | None = None) -> ET.Element:
    """An OpenSim ``Set`` element; returns its ``<objects>``."""
    el = _sub(parent, tag) if name is None else _sub(parent, tag, name=name)
    objects = _sub(el, "objects")
    _sub(el, "groups")
    return objects


def _frame_path(body: str) -> str:
    return "/ground" if body == GROUND else f"/bodyset/{body}"


def _independent_axes(given: Sequence[Vec3], count: int) -> list[Vec3]:
    """``count`` unit axes that, with ``given``, are linearly independent."""
    chosen = [np.asarray(a, dtype=float) / np.linalg.norm(a) for a in given]
    out: list[Vec3] = []
    for candidate in _UNIT_AXES:
        if len(out) == count:
            break
        trial = np.array([*chosen, np.asarray(candidate)])
        if np.linalg.matrix_rank(trial, tol=1e-6) == len(trial):
            chosen.append(np.asarray(candidate))
            out.append(candidate)
    if len(out) != count:  # pragma: no cover - three unit axes always complete a basis
        raise AssertionError("could not complete the transform axes")
    return out


# --------------------------------------------------------------------------------------
# The writer
# --------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, model: Model, target: object, approximate_wrapping: bool) -> None:
        self.model = model
        self.target = target
        self.approximate_wrapping = approximate_wrapping
        self.joint_of: dict[str, str] = {}

    def unsupported(self, element: str, problem: str) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(self.target, element, problem)

    def document(self) -> str:
        model = validate(self.model)
        wrapping = [m.name for m in model.muscles if m.wraps]
        if wrapping and not self.approximate_wrapping:
            raise self.unsupported(
                f"wrapping of muscle(s) {', '.join(wrapping)}",
                "OpenSim's WrapCylinder computes wrapped paths its own way (iteratively, "
                "finite cylinder, and with jumps to the long way round a constrained "
                "cylinder that gaitsim does not make), so lengths in OpenSim may differ; "
                "pass approximate_wrapping=True to write the wrapping anyway",
            )
        self.joint_of = {c.name: j.name for j in model.joints for c in j.coordinates}
        root = ET.Element("OpenSimDocument", Version=str(OSIM_VERSION))
        el = _sub(root, "Model", name=model.name)
        ground = _sub(el, "Ground", name=GROUND)
        self.wrap_objects(ground, GROUND)
        _sub(el, "gravity", _nums(model.gravity))
        if model.description:
            _sub(el, "credits", model.description)
        if model.references:
            _sub(el, "publications", "; ".join(model.references))
        _sub(el, "length_units", "meters")
        _sub(el, "force_units", "N")
        bodies = _set(el, "BodySet", "bodyset")
        for body in model.bodies:
            self.body(bodies, body)
        joints = _set(el, "JointSet", "jointset")
        for joint in model.joints:
            self.joint(joints, joint)
        forces = _set(el, "ForceSet", "forceset")
        for muscle in model.muscles:
            self.muscle(forces, muscle)
        for actuator in model.actuators:
            self.actuator(forces, actuator)
        for torque in model.limit_torques:
            self.limit_torque(forces, torque)
        for contact in model.contacts:
            self.contact(forces, contact)
        geometry = _set(el, "ContactGeometrySet", "contactgeometryset")
        for sphere in model.contact_spheres:
            self.sphere(geometry, sphere)
        for half_space in model.half_spaces:
            self.half_space(geometry, half_space)
        markers = _set(el, "MarkerSet", "markerset")
        for marker in model.markers:
            self.marker(markers, marker)
        ET.indent(root, space="\t")
        return '<?xml version="1.0" encoding="UTF-8" ?>\n' + ET.tostring(root, "unicode") + "\n"

    # -- bodies -------------------------------------------------------------------------
    def body(self, parent: ET.Element, body: Body) -> None:
        el = _sub(parent, "Body", name=body.name)
        self.wrap_objects(el, body.name)
        _sub(el, "mass", _num(body.mass))
        _sub(el, "mass_center", _nums(body.com))
        _sub(el, "inertia", _nums(body.inertia))

    def wrap_objects(self, parent: ET.Element, body: str) -> None:
        cylinders = [w for w in self.model.wrap_cylinders if w.body == body]
        if not cylinders:
            return
        objects = _set(parent, "WrapObjectSet", "wrapobjectset")
        for w in cylinders:
            self.cylinder(objects, w)

    def cylinder(self, parent: ET.Element, w: WrapCylinder) -> None:
        el = _sub(parent, "WrapCylinder", name=w.name)
        _sub(el, "active", "true")
        _sub(el, "xyz_body_rotation", _nums(w.orientation))
        _sub(el, "translation", _nums(w.translation))
        _sub(el, "quadrant", w.quadrant)
        _sub(el, "radius", _num(w.radius))
        _sub(el, "length", _num(WRAP_CYLINDER_LENGTH))

    # -- joints -------------------------------------------------------------------------
    def joint(self, parent: ET.Element, joint: Joint) -> None:
        tag = {
            JointType.PIN: "PinJoint",
            JointType.PLANAR: "PlanarJoint",
            JointType.WELD: "WeldJoint",
            JointType.CUSTOM: "CustomJoint",
        }[joint.type]
        self.check_motions(joint)
        el = _sub(parent, tag, name=joint.name)
        parent_name = f"{joint.parent.body}_offset"
        child_name = f"{joint.child.body}_offset"
        _sub(el, "socket_parent_frame", parent_name)
        _sub(el, "socket_child_frame", child_name)
        if joint.coordinates:
            coordinates = _sub(el, "coordinates")
            for c in joint.coordinates:
                self.coordinate(coordinates, c)
        frames = _sub(el, "frames")
        self.offset_frame(frames, parent_name, joint.parent)
        self.offset_frame(frames, child_name, joint.child)
        if joint.type is JointType.CUSTOM:
            self.spatial_transform(el, joint)

    def check_motions(self, joint: Joint) -> None:
        if joint.type is JointType.CUSTOM:
            self.check_custom_order(joint)
            rotational = {
                a.coordinate
                for a in joint.transform
                if a.kind is AxisKind.ROTATION and a.coordinate is not None
            }
            expected = [
                Motion.ROTATIONAL if c.name in rotational else Motion.TRANSLATIONAL
                for c in joint.coordinates
            ]
        elif joint.type is JointType.PIN:
            expected = [Motion.ROTATIONAL]
        elif joint.type is JointType.PLANAR:
            expected = [Motion.ROTATIONAL, Motion.TRANSLATIONAL, Motion.TRANSLATIONAL]
        else:
            expected = []
        for c, motion in zip(joint.coordinates, expected, strict=True):
            if c.motion is not motion:
                raise self.unsupported(
                    f"coordinate {c.name!r} of joint {joint.name!r}",
                    f"it is {c.motion.value} but OpenSim would make it {motion.value} "
                    f"(from the joint type and the axes it drives)",
                )

    def check_custom_order(self, joint: Joint) -> None:
        rotations = [a for a in joint.transform if a.kind is AxisKind.ROTATION]
        translations = [a for a in joint.transform if a.kind is AxisKind.TRANSLATION]
        first_use: list[str] = []
        for a in rotations + translations:
            if a.coordinate is not None and a.coordinate not in first_use:
                first_use.append(a.coordinate)
        listed = [c.name for c in joint.coordinates]
        idle = [name for name in listed if name not in first_use]
        if idle:
            raise self.unsupported(
                f"CustomJoint {joint.name!r}",
                f"coordinate(s) {', '.join(idle)} drive no transform axis; OpenSim makes a "
                "custom joint's coordinates from its axes and would leave them out",
            )
        if first_use != listed:
            raise self.unsupported(
                f"CustomJoint {joint.name!r}",
                f"OpenSim orders its coordinates by first use in rotation1..translation3 "
                f"({', '.join(first_use)}), not as the joint lists them ({', '.join(listed)})",
            )

    def coordinate(self, parent: ET.Element, c: Coordinate) -> None:
        el = _sub(parent, "Coordinate", name=c.name)
        _sub(el, "default_value", _num(c.default))
        _sub(el, "range", _nums(c.range))
        _sub(el, "clamped", "false")
        _sub(el, "locked", _bool(c.locked))

    def offset_frame(self, parent: ET.Element, name: str, frame: Frame) -> None:
        el = _sub(parent, "PhysicalOffsetFrame", name=name)
        _sub(el, "socket_parent", _frame_path(frame.body))
        _sub(el, "translation", _nums(frame.translation))
        _sub(el, "orientation", _nums(frame.orientation))

    def spatial_transform(self, parent: ET.Element, joint: Joint) -> None:
        rotations = [a for a in joint.transform if a.kind is AxisKind.ROTATION]
        translations = [a for a in joint.transform if a.kind is AxisKind.TRANSLATION]
        el = _sub(parent, "SpatialTransform")
        for kind, given in (("rotation", rotations), ("translation", translations)):
            fillers = _independent_axes([a.axis for a in given], 3 - len(given))
            filler_kind = AxisKind.ROTATION if kind == "rotation" else AxisKind.TRANSLATION
            axes = list(given) + [
                TransformAxis(filler_kind, axis, Constant(0.0)) for axis in fillers
            ]
            for i, axis in enumerate(axes, start=1):
                ta = _sub(el, "TransformAxis", name=f"{kind}{i}")
                _sub(ta, "coordinates", axis.coordinate or "")
                _sub(ta, "axis", _nums(axis.axis))
                self.function(ta, axis.function, name="function")

    # -- functions ----------------------------------------------------------------------
    def function(self, parent: ET.Element, function: Function, *, name: str | None = None) -> None:
        attrs = {} if name is None else {"name": name}
        if isinstance(function, Constant):
            el = _sub(parent, "Constant", **attrs)
            _sub(el, "value", _num(function.value))
        elif isinstance(function, Linear):
            el = _sub(parent, "LinearFunction", **attrs)
            _sub(el, "coefficients", _nums((function.slope, function.intercept)))
        elif isinstance(function, SimmSpline | NaturalCubicSpline):
            tag = "SimmSpline" if isinstance(function, SimmSpline) else "NaturalCubicSpline"
            el = _sub(parent, tag, **attrs)
            _sub(el, "x", _nums(function.x))
            _sub(el, "y", _nums(function.y))
        elif isinstance(function, Polynomial):
            el = _sub(parent, "PolynomialFunction", **attrs)
            _sub(el, "coefficients", _nums(function.coefficients))
        elif isinstance(function, Multiplier):
            el = _sub(parent, "MultiplierFunction", **attrs)
            inner = _sub(el, "function")
            self.function(inner, function.function)
            _sub(el, "scale", _num(function.scale))
        else:  # pragma: no cover - validate() rejects other objects
            raise TypeError(f"not a gaitsim function: {function!r}")

    # -- muscles ------------------------------------------------------------------------
    def muscle(self, parent: ET.Element, m: Muscle) -> None:
        el = _sub(parent, "DeGrooteFregly2016Muscle", name=m.name)
        path = _sub(el, "GeometryPath", name="path")
        points = _set(path, "PathPointSet")
        for p in m.path:
            self.path_point(points, p)
        wraps = _set(path, "PathWrapSet")
        index = {p.name: i for i, p in enumerate(m.path)}
        for k, w in enumerate(m.wraps):
            i, j = index[w.start], index[w.end]
            for end in (m.path[i], m.path[j]):
                if isinstance(end, ConditionalPathPoint):
                    raise self.unsupported(
                        f"wrap {w.cylinder!r} of muscle {m.name!r}",
                        f"the wrapped segment ends on conditional path point {end.name!r}; "
                        "OpenSim would wrap a different segment when it is inactive",
                    )
            pw = _sub(wraps, "PathWrap", name=f"{m.name}_wrap{k + 1}")
            _sub(pw, "wrap_object", w.cylinder)
            _sub(pw, "method", "hybrid")
            _sub(pw, "range", f"{i + 1} {j + 1}")
        values = (
            ("max_isometric_force", _num(m.max_isometric_force)),
            ("optimal_fiber_length", _num(m.optimal_fiber_length)),
            ("tendon_slack_length", _num(m.tendon_slack_length)),
            ("pennation_angle_at_optimal", _num(m.pennation_angle_at_optimal)),
            ("max_contraction_velocity", _num(m.max_contraction_velocity)),
            ("ignore_tendon_compliance", _bool(m.tendon is TendonModel.RIGID)),
            ("ignore_activation_dynamics", "false"),
            ("activation_time_constant", _num(m.activation_time_constant)),
            ("deactivation_time_constant", _num(m.deactivation_time_constant)),
            ("default_activation", _num(m.default_activation)),
            ("active_force_width_scale", _num(m.active_force_width_scale)),
            ("fiber_damping", _num(m.fiber_damping)),
            (
                "passive_fiber_strain_at_one_norm_force",
                _num(m.passive_fiber_strain_at_one_norm_force),
            ),
            ("tendon_strain_at_one_norm_force", _num(m.tendon_strain_at_one_norm_force)),
            ("ignore_passive_fiber_force", _bool(m.ignore_passive_fiber_force)),
        )
        for tag, text in values:
            _sub(el, tag, text)

    def coordinate_path(self, name: str) -> str:
        return f"/jointset/{self.joint_of[name]}/{name}"

    def path_point(self, parent: ET.Element, p: PathElement) -> None:
        if isinstance(p, MovingPathPoint):
            self.moving_point(parent, p)
            return
        tag = "ConditionalPathPoint" if isinstance(p, ConditionalPathPoint) else "PathPoint"
        el = _sub(parent, tag, name=p.name)
        _sub(el, "socket_parent_frame", _frame_path(p.body))
        _sub(el, "location", _nums(p.location))
        if isinstance(p, ConditionalPathPoint):
            _sub(el, "socket_coordinate", self.coordinate_path(p.coordinate))
            _sub(el, "range", _nums(p.range))

    def moving_point(self, parent: ET.Element, p: MovingPathPoint) -> None:
        coordinates = [p.x_coordinate, p.y_coordinate, p.z_coordinate]
        functions = [p.x, p.y, p.z]
        used = [c for c in coordinates if c is not None]
        if not used:  # every axis is evaluated at 0: a fixed point
            x, y, z = (float(evaluate(f, 0.0)) for f in functions)
            self.path_point(parent, PathPoint(p.name, p.body, (x, y, z)))
            return
        el = _sub(parent, "MovingPathPoint", name=p.name)
        _sub(el, "socket_parent_frame", _frame_path(p.body))
        for axis, coordinate, function in zip("xyz", coordinates, functions, strict=True):
            if coordinate is None:  # a constant: attach it to one of the point's coordinates
                function = Constant(float(evaluate(function, 0.0)))
                coordinate = used[0]
            _sub(el, f"socket_{axis}_coordinate", self.coordinate_path(coordinate))
            self.function(_sub(el, f"{axis}_location"), function)

    # -- other forces -------------------------------------------------------------------
    def actuator(self, parent: ET.Element, a: CoordinateActuator) -> None:
        el = _sub(parent, "CoordinateActuator", name=a.name)
        _sub(el, "min_control", _num(a.min_control))
        _sub(el, "max_control", _num(a.max_control))
        _sub(el, "coordinate", a.coordinate)
        _sub(el, "optimal_force", _num(a.optimal_force))

    def limit_torque(self, parent: ET.Element, t: LimitTorque) -> None:
        el = _sub(parent, "ExpressionBasedCoordinateForce", name=t.name)
        _sub(el, "coordinate", t.coordinate)
        k = t.stiffness / t.sharpness
        s = t.sharpness
        expression = (
            f"{_num(k)}*(exp(-{_num(s)}*(q-({_num(t.lower)})))"
            f"-exp({_num(s)}*(q-({_num(t.upper)}))))-{_num(t.damping)}*qdot"
        )
        _sub(el, "expression", expression)

    def contact(self, parent: ET.Element, c: SmoothContact) -> None:
        el = _sub(parent, "SmoothSphereHalfSpaceForce", name=c.name)
        _sub(el, "socket_sphere", f"/contactgeometryset/{c.sphere}")
        _sub(el, "socket_half_space", f"/contactgeometryset/{c.half_space}")
        for tag, value in (
            ("stiffness", c.stiffness),
            ("dissipation", c.dissipation),
            ("static_friction", c.static_friction),
            ("dynamic_friction", c.dynamic_friction),
            ("viscous_friction", c.viscous_friction),
            ("transition_velocity", c.transition_velocity),
            ("constant_contact_force", c.derivative_smoothing),
            ("hertz_smoothing", c.hertz_smoothing),
            ("hunt_crossley_smoothing", c.hunt_crossley_smoothing),
        ):
            _sub(el, tag, _num(value))

    # -- contact geometry and markers ---------------------------------------------------
    def sphere(self, parent: ET.Element, s: ContactSphere) -> None:
        el = _sub(parent, "ContactSphere", name=s.name)
        _sub(el, "socket_frame", _frame_path(s.body))
        _sub(el, "location", _nums(s.location))
        _sub(el, "orientation", "0 0 0")
        _sub(el, "radius", _num(s.radius))

    def half_space(self, parent: ET.Element, h: HalfSpace) -> None:
        el = _sub(parent, "ContactHalfSpace", name=h.name)
        _sub(el, "socket_frame", _frame_path(h.body))
        _sub(el, "location", _nums(h.location))
        _sub(el, "orientation", _nums(h.orientation))

    def marker(self, parent: ET.Element, m: Marker) -> None:
        el = _sub(parent, "Marker", name=m.name)
        _sub(el, "socket_parent_frame", _frame_path(m.body))
        _sub(el, "location", _nums(m.location))
        _sub(el, "fixed", _bool(m.fixed))
