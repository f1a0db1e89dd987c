"""Import OpenSim model files (``.osim``) into a gaitsim :class:`~gaitsim.model.description.Model`.

Only the standard library's XML parser (``xml.parsers.expat`` with
:class:`xml.etree.ElementTree.TreeBuilder`) is used: OpenSim is not needed at run time.

API
---
:func:`read_osim` reads a file, :func:`read_osim_string` reads XML text (handy in tests).
Both take ``ignore_unsupported`` (import what can be imported and :func:`warnings.warn`
an :class:`OsimImportWarning` for each unsupported element instead of raising
:class:`~gaitsim.errors.UnsupportedFeatureError`) and ``tendon`` (a
:class:`~gaitsim.model.description.TendonModel` that overrides every muscle's tendon).

Errors: malformed XML, a missing required element, a bad number or a reference to an
unknown body, frame or coordinate raise :class:`~gaitsim.errors.FileFormatError` carrying
the file and the 1-based line of the offending element; inconsistencies the file format
cannot catch raise :class:`~gaitsim.errors.ModelError`; features gaitsim does not model
raise :class:`~gaitsim.errors.UnsupportedFeatureError` naming the element type and name.

Supported format
----------------
OpenSim 4 documents (``<OpenSimDocument Version="40000">`` and later). OpenSim 3 documents
(``Version`` < 40000: joints nested in bodies, ``parent_body``/``location_in_parent``, ...)
raise UnsupportedFeatureError: open and re-save them with OpenSim 4 first.

What is read, and how it maps
-----------------------------
* ``<gravity>`` (default ``0 -9.80665 0``); ``<credits>`` -> ``Model.description``;
  ``<publications>`` -> ``Model.references`` (one entry). ``length_units``/``force_units``
  are informational in OpenSim and ignored.
* Bodies: ``mass`` (required), ``mass_center``, ``inertia`` as
  ``Ixx Iyy Izz Ixy Ixz Iyz`` about the centre of mass (OpenSim's ``Body::inertia`` order,
  the same as gaitsim's). Ground is implicit (``"ground"``).
* Joints, in JointSet order (so coordinates come out in OpenSim's CoordinateSet order:
  checked against the column order of OpenSim-generated ``.sto`` files for the bundled
  models). ``socket_parent_frame``/``socket_child_frame`` may name a body (``/bodyset/x``,
  ``/ground``, bare ``x``) or a ``PhysicalOffsetFrame`` (in the joint's ``<frames>``, in a
  body's or the model's ``<components>``); offset frames, possibly chained, are composed
  into a :class:`~gaitsim.model.description.Frame` on the body (orientations are
  body-fixed X-Y-Z Euler angles, as OpenSim's).

  - ``PinJoint`` -> PIN (1 rotational coordinate); ``PlanarJoint`` -> PLANAR (coordinates
    in file order, which OpenSim defines as rz, tx, ty); ``WeldJoint`` -> WELD.
  - ``CustomJoint`` -> CUSTOM with its six ``TransformAxis`` (rotation1-3, translation1-3)
    each with kind, axis (as written; OpenSim/Simbody normalise axes), function and
    coordinate (``None`` when ``<coordinates>`` is empty). A TransformAxis driven by two or
    more coordinates is unsupported. A coordinate is rotational if it drives a rotation
    axis, else translational. (OpenSim orders a custom joint's mobilities by first use in
    the transform axes; a file whose ``<coordinates>`` list differs from that order is
    rejected with ModelError because OpenSim would silently mismatch them.)
  - ``UniversalJoint`` (x, then new y), ``GimbalJoint`` (x, then new y, then new z) and
    ``SliderJoint`` (translation along x) are exact special cases of a custom joint and
    are imported as CUSTOM. Other joint types (Ball, Free, Ellipsoid, ...) and
    ``reverse=true`` raise UnsupportedFeatureError even with ``ignore_unsupported`` (a
    joint cannot be left out).
* Coordinates: ``range`` (default ``-10 10``), ``default_value`` (default 0), ``locked``.
  Ignored: ``clamped`` (gaitsim never clamps coordinates silently), ``default_speed_value``,
  ``is_free_to_satisfy_constraints``. ``prescribed=true`` is unsupported.
* Functions: ``Constant``, ``LinearFunction`` (``coefficients`` = slope intercept),
  ``SimmSpline`` and ``NaturalCubicSpline`` (``x``, ``y``), ``PolynomialFunction``
  (``coefficients`` from the highest power down, as documented in OpenSim's
  ``PolynomialFunction.h``), ``MultiplierFunction`` (``function`` and ``scale``). Any other
  function (``GCVSpline``, ``PiecewiseLinearFunction``, ...) is unsupported.
* Muscles (``DeGrooteFregly2016Muscle``, ``Millard2012EquilibriumMuscle``,
  ``Thelen2003Muscle``) become DeGroote-Fregly muscles. ``max_isometric_force``,
  ``optimal_fiber_length`` and ``tendon_slack_length`` are required (OpenSim's defaults of
  1000 N, 0.1 m and 0.2 m are never what a model means); other missing properties take
  OpenSim 4's defaults (``constructProperties()`` in opensim-core ``Muscle.cpp``,
  ``ActivationFiberLengthMuscle.cpp``, ``DeGrooteFregly2016Muscle.cpp``,
  ``Millard2012EquilibriumMuscle.cpp``, ``Thelen2003Muscle.cpp``,
  ``FiberForceLengthCurve.cpp``, ``TendonForceLengthCurve.cpp``)::

                          DeGroote2016   Millard2012             Thelen2003
      pennation           0              0                       0
      max_contr_velocity  10             10                      10
      activation tau      0.015          0.010                   0.015
      deactivation tau    0.060          0.040                   0.050
      default_activation  0.5            0.05                    0.05
      tendon strain       0.049          TendonForceLengthCurve  FmaxTendonStrain 0.04
                                         strain_at_one_norm_force 0.049
      passive strain      0.6            FiberForceLengthCurve   FmaxMuscleStrain 0.6
                                         strain_at_one_norm_force 0.7
      tendon              ignore_tendon_compliance (default false) -> RIGID / COMPLIANT

  DeGroote-Fregly also maps ``active_force_width_scale`` (1.0), ``fiber_damping`` (0.0)
  and ``ignore_passive_fiber_force`` (false). ``tendon=`` overrides every muscle's tendon.
  ``ignore_activation_dynamics=true`` and ``appliesForce=false`` are unsupported.

  DROPPED (gaitsim's muscle has no counterpart; one INFO log line per file lists those
  present): all muscles: ``min_control``, ``max_control`` (gaitsim bounds excitations
  itself), ``optimal_force``; DeGroote-Fregly: ``default_normalized_tendon_force``,
  ``tendon_compliance_dynamics_mode``; Millard: ``fiber_damping`` (OpenSim default 0.1, a
  regularisation of Millard's equilibrium solve; gaitsim keeps its own default, 0),
  ``minimum_activation``, ``default_fiber_length``, every ``ActiveForceLengthCurve`` and
  ``ForceVelocityCurve`` property, ``FiberForceLengthCurve`` ``strain_at_zero_force``,
  ``stiffness_at_low_force``, ``stiffness_at_one_norm_force``, ``curviness``,
  ``TendonForceLengthCurve`` ``stiffness_at_one_norm_force``, ``norm_force_at_toe_end``,
  ``curviness`` (gaitsim uses the DeGroote-Fregly curve shapes); Thelen: ``KshapeActive``,
  ``KshapePassive``, ``Af``, ``Flen``, ``fv_linear_extrap_threshold``,
  ``maximum_pennation_angle``, ``minimum_activation``, ``default_fiber_length``. Any other
  unrecognised muscle property is dropped and listed the same way.
* Paths (``GeometryPath``/``PathPointSet``): ``PathPoint``; ``ConditionalPathPoint``
  (``socket_coordinate`` ``/jointset/<joint>/<coord>`` -> the coordinate name; the legacy
  ``<coordinate>`` element is the fallback; ``range``); ``MovingPathPoint``
  (``x_location``/``y_location``/``z_location`` functions, default Constant 0, and
  ``socket_x_coordinate`` etc.). A MovingPathPoint's ``<location>`` element is ignored:
  OpenSim 4 overwrites it with NaN when the model is connected (``MovingPathPoint.cpp``).
  Note that OpenSim evaluates a MovingPathPoint's functions at the coordinate value
  *clamped to the coordinate's range*. Path points on offset frames are composed into the
  body frame (a MovingPathPoint only on an offset frame with zero offset). Non-empty
  ``PathWrapSet``s and wrap objects (``WrapObjectSet`` of a body or ground) are
  unsupported.
* ``CoordinateActuator`` -> CoordinateActuator (``optimal_force`` default 1,
  ``min_control``/``max_control`` default -inf/+inf as OpenSim's ``Actuator``).
  ``CoordinateLimitForce`` is unsupported: its piecewise linear stiffness in degrees,
  separate upper and lower stiffness and damping only beyond the limits do not map onto
  :class:`~gaitsim.model.description.LimitTorque`.
* Contact: ``ContactSphere`` (``socket_frame``, ``location``, ``radius``),
  ``ContactHalfSpace`` (``socket_frame``, ``location``, ``orientation``, both default 0),
  ``SmoothSphereHalfSpaceForce`` (``socket_sphere``, ``socket_half_space``, ``stiffness``
  1, ``dissipation`` 0, ``static_friction``/``dynamic_friction``/``viscous_friction`` 0,
  ``transition_velocity`` 0.01, ``derivative_smoothing`` (or its newer name
  ``constant_contact_force``) 1e-5, ``hertz_smoothing`` 300, ``hunt_crossley_smoothing``
  50: the defaults of OpenSim's ``SmoothSphereHalfSpaceForce.cpp``). Other contact
  geometry and contact forces (``HuntCrossleyForce``, ...) are unsupported.
* Markers: ``socket_parent_frame``, ``location``, ``fixed`` (default false).
* Display geometry (``attached_geometry``, ``FrameGeometry``, ``Appearance``,
  ``VisibleObject``, ``GeometrySet``, ...) and the model's ``<defaults>`` are ignored
  silently. ``ControllerSet`` and ``ProbeSet`` contents are ignored with a warning (they
  do not change the musculoskeletal model). Anything else (constraints, other forces,
  ``ComponentSet`` entries, unknown components) is unsupported.
* Where a property element appears twice (2D_gait.osim's ``rect_fem_r`` repeats three),
  the first is used, as OpenSim does.
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

import numpy as np

from gaitsim.errors import FileFormatError, ModelError, UnsupportedFeatureError
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
)

__all__ = ["OsimImportWarning", "read_osim", "read_osim_string"]

logger = logging.getLogger(__name__)

_REQUIRED: Any = object()
_ZERO3: Vec3 = (0.0, 0.0, 0.0)
_MAX_FUNCTION_DEPTH = 32
_AXIS_NAMES = (
    "rotation1",
    "rotation2",
    "rotation3",
    "translation1",
    "translation2",
    "translation3",
)
_UNIT_AXES: tuple[Vec3, Vec3, Vec3] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)\Z", re.IGNORECASE
)

# Display-only or bookkeeping children, ignored wherever they appear.
_DISPLAY = frozenset(
    {
        "attached_geometry",
        "FrameGeometry",
        "Appearance",
        "VisibleObject",
        "GeometrySet",
        "display_preference",
        "show_axes",
        "scale_factors",
        "groups",
        "force_visualization_radius",
        "force_visualization_scale_factor",
    }
)
_MODEL_IGNORED = frozenset(
    {"length_units", "force_units", "assembly_accuracy", "defaults", "validationLog"}
)
_MUSCLE_TYPES = frozenset(
    {"DeGrooteFregly2016Muscle", "Millard2012EquilibriumMuscle", "Thelen2003Muscle"}
)
_CONTACT_GEOMETRY = frozenset({"ContactSphere", "ContactHalfSpace"})
_KNOWN_FUNCTIONS = frozenset(
    {
        "Constant",
        "LinearFunction",
        "SimmSpline",
        "NaturalCubicSpline",
        "PolynomialFunction",
        "MultiplierFunction",
    }
)

# Muscle properties consumed by the mapping (the rest is reported as dropped).
_MUSCLE_COMMON = frozenset(
    {
        "GeometryPath",
        "appliesForce",
        "isDisabled",
        "max_isometric_force",
        "optimal_fiber_length",
        "tendon_slack_length",
        "pennation_angle_at_optimal",
        "max_contraction_velocity",
        "ignore_tendon_compliance",
        "ignore_activation_dynamics",
        "activation_time_constant",
        "deactivation_time_constant",
        "default_activation",
    }
)
_MUSCLE_MAPPED = {
    "DeGrooteFregly2016Muscle": _MUSCLE_COMMON
    | {
        "tendon_strain_at_one_norm_force",
        "passive_fiber_strain_at_one_norm_force",
        "active_force_width_scale",
        "fiber_damping",
        "ignore_passive_fiber_force",
    },
    "Millard2012EquilibriumMuscle": _MUSCLE_COMMON
    | {"TendonForceLengthCurve", "FiberForceLengthCurve"},
    "Thelen2003Muscle": _MUSCLE_COMMON | {"FmaxTendonStrain", "FmaxMuscleStrain"},
}
# OpenSim 4 defaults per muscle type: (act tau, deact tau, default activation,
# tendon strain at Fmax, passive fibre strain at Fmax).
_MUSCLE_DEFAULTS = {
    "DeGrooteFregly2016Muscle": (0.015, 0.060, 0.5, 0.049, 0.6),
    "Millard2012EquilibriumMuscle": (0.010, 0.040, 0.05, 0.049, 0.7),
    "Thelen2003Muscle": (0.015, 0.050, 0.05, 0.04, 0.6),
}


class OsimImportWarning(UserWarning):
    """An element of an ``.osim`` file was ignored (``ignore_unsupported=True`` etc.)."""


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def read_osim(
    path: str | os.PathLike[str],
    *,
    ignore_unsupported: bool = False,
    tendon: TendonModel | None = None,
) -> Model:
    """Read an OpenSim 4 ``.osim`` file into a gaitsim :class:`Model`.

    Parameters
    ----------
    path
        The ``.osim`` file.
    ignore_unsupported
        Leave out unsupported elements (wrap objects, constraints, other forces, ...) with
        an :class:`OsimImportWarning` each, instead of raising
        :class:`~gaitsim.errors.UnsupportedFeatureError`. Unsupported joints and
        functions cannot be left out and always raise.
    tendon
        If given, the tendon model of every muscle (overrides
        ``ignore_tendon_compliance``).

    Raises
    ------
    FileFormatError
        The file cannot be read, is not well-formed XML, or lacks a required element,
        has a bad number or a dangling reference (message names file and line).
    ModelError
        The content is inconsistent in a way OpenSim would reject or mis-handle.
    UnsupportedFeatureError
        The model uses a feature gaitsim does not support.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FileFormatError(path, None, f"cannot read file: {exc.strerror or exc}") from exc
    return _read(data, path, ignore_unsupported=ignore_unsupported, tendon=tendon)


def read_osim_string(
    text: str | bytes,
    *,
    source: str = "<string>",
    ignore_unsupported: bool = False,
    tendon: TendonModel | None = None,
) -> Model:
    """As :func:`read_osim`, from the XML text itself; ``source`` names it in errors."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return _read(data, source, ignore_unsupported=ignore_unsupported, tendon=tendon)


def _read(
    data: bytes, source: object, *, ignore_unsupported: bool, tendon: TendonModel | None
) -> Model:
    if tendon is not None and not isinstance(tendon, TendonModel):
        raise TypeError(f"tendon must be a TendonModel or None, not {tendon!r}")
    root, lines = _parse_xml(data, source)
    reader = _Reader(source, lines, ignore_unsupported=ignore_unsupported, tendon=tendon)
    return reader.read(root)


# --------------------------------------------------------------------------------------
# XML parsing with line numbers
# --------------------------------------------------------------------------------------
def _parse_xml(data: bytes, source: object) -> tuple[ET.Element, dict[int, int]]:
    """Parse ``data``; return the root and a map ``id(element) -> line``."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    lines: dict[int, int] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = builder.start(tag, attrs)
        lines[id(element)] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data

    # Refuse entity declarations outright (no entity-expansion bombs).
    def no_entities(*_args: object) -> None:
        raise _EntityRefused()

    parser.EntityDeclHandler = no_entities
    try:
        parser.Parse(data, True)
        root = builder.close()
    except expat.ExpatError as exc:
        raise FileFormatError(
            source, exc.lineno, f"malformed XML: {expat.ErrorString(exc.code)}"
        ) from exc
    except _EntityRefused as exc:
        raise FileFormatError(
            source, parser.CurrentLineNumber, "XML entity declarations are not allowed"
        ) from exc
    except (ValueError, LookupError, UnicodeError) as exc:  # bad encoding declarations
        raise FileFormatError(source, parser.CurrentLineNumber, f"malformed XML: {exc}") from exc
    return root, lines


class _EntityRefused(Exception):
    pass


# --------------------------------------------------------------------------------------
# Geometry helpers (body-fixed X-Y-Z Euler angles, as OpenSim)
# --------------------------------------------------------------------------------------
def _rotation(angles: Vec3) -> np.ndarray:
    a, b, c = angles
    ca_, sa = math.cos(a), math.sin(a)
    cb, sb = math.cos(b), math.sin(b)
    cc, sc = math.cos(c), math.sin(c)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, ca_, -sa], [0.0, sa, ca_]])
    ry = np.array([[cb, 0.0, sb], [0.0, 1.0, 0.0], [-sb, 0.0, cb]])
    rz = np.array([[cc, -sc, 0.0], [sc, cc, 0.0], [0.0, 0.0, 1.0]])
    return rx @ ry @ rz


def _euler_xyz(r: np.ndarray) -> Vec3:
    """Body-fixed X-Y-Z angles of ``r = Rx(a) Ry(b) Rz(c)``."""
    sb = float(np.clip(r[0, 2], -1.0, 1.0))
    cb = math.hypot(float(r[0, 0]), float(r[0, 1]))
    b = math.atan2(sb, cb)
    if cb > 1e-12:
        a = math.atan2(-float(r[1, 2]), float(r[2, 2]))
        c = math.atan2(-float(r[0, 1]), float(r[0, 0]))
    else:  # gimbal lock: put all of the first and last rotation into ``a``
        a = math.atan2(float(r[2, 1]), float(r[1, 1]))
        c = 0.0
    return (a, b, c)


def _vec(v: Iterable[float]) -> Vec3:
    x, y, z = (float(e) for e in v)
    return (x, y, z)


def _compose(outer: Frame, translation: Vec3, orientation: Vec3) -> Frame:
    """The frame at (translation, orientation) in ``outer``, expressed on outer's body."""
    if outer.orientation == _ZERO3:
        return Frame(outer.body, _vec(np.add(outer.translation, translation)), orientation)
    r_outer = _rotation(outer.orientation)
    t = _vec(np.asarray(outer.translation) + r_outer @ np.asarray(translation))
    if orientation == _ZERO3:
        return Frame(outer.body, t, outer.orientation)
    return Frame(outer.body, t, _euler_xyz(r_outer @ _rotation(orientation)))


def _point_on(frame: Frame, location: Vec3) -> Vec3:
    """``location`` (given in ``frame``) expressed in the frame of ``frame.body``."""
    return _compose(frame, location, _ZERO3).translation


def _norm_path(owner: str, ref: str) -> str | None:
    parts = ref.split("/") if ref.startswith("/") else owner.split("/") + ref.split("/")
    out: list[str] = []
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not out:
                return None
            out.pop()
        else:
            out.append(part)
    return "/" + "/".join(out)


def _candidates(owner: str, ref: str) -> list[str]:
    """Registry paths ``ref`` (a socket value of component ``owner``) may mean."""
    found: list[str] = []
    first = _norm_path(owner, ref)
    if first is not None:
        found.append(first)
    if not ref.startswith("/"):
        rest = ref
        while rest.startswith(("../", "./")):
            rest = rest.split("/", 1)[1]
        alt = _norm_path("/", rest)
        if alt is not None and alt not in found:
            found.append(alt)
    return found


@dataclass
class _FrameSpec:
    element: ET.Element | None
    owner: str
    body: str | None = None  # set for bodies and ground
    parent_ref: str | None = None  # set for offset frames
    translation: Vec3 = _ZERO3
    orientation: Vec3 = _ZERO3


@dataclass
class _Dropped:
    count: dict[str, int] = field(default_factory=dict)
    properties: dict[str, set[str]] = field(default_factory=dict)

    def add(self, kind: str, props: Iterable[str]) -> None:
        self.count[kind] = self.count.get(kind, 0) + 1
        self.properties.setdefault(kind, set()).update(props)


# --------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------
class _Reader:
    def __init__(
        self,
        source: object,
        lines: dict[int, int],
        *,
        ignore_unsupported: bool,
        tendon: TendonModel | None,
    ) -> None:
        self.source = source
        self.lines = lines
        self.ignore = ignore_unsupported
        self.tendon = tendon
        self.frames: dict[str, _FrameSpec] = {}
        self.resolved: dict[str, Frame] = {}
        self.coordinates: dict[str, str] = {}  # path -> coordinate name
        self.coordinate_names: set[str] = set()
        self.geometry: dict[str, tuple[str, str]] = {}  # path -> (kind, name)
        self.dropped = _Dropped()

    # -- error helpers ----------------------------------------------------------------
    def line(self, el: ET.Element | None) -> int | None:
        return None if el is None else self.lines.get(id(el))

    @staticmethod
    def describe(el: ET.Element) -> str:
        name = el.get("name")
        return f"<{el.tag} name={name!r}>" if name is not None else f"<{el.tag}>"

    def error(
        self, el: ET.Element | None, problem: str, *, at: ET.Element | None = None
    ) -> FileFormatError:
        """FileFormatError about ``el``, at the line of ``at`` (default: ``el``)."""
        where = f"{self.describe(el)}: " if el is not None else ""
        return FileFormatError(
            self.source, self.line(at if at is not None else el), where + problem
        )

    def unsupported(
        self, el: ET.Element, element: str, problem: str, *, always: bool = False
    ) -> None:
        """Raise UnsupportedFeatureError, or warn when ignoring unsupported features."""
        line = self.line(el)
        element = f"{element} (line {line})" if line is not None else element
        if always or not self.ignore:
            hint = "" if always else " (pass ignore_unsupported=True to leave it out)"
            raise UnsupportedFeatureError(self.source, element, problem + hint)
        self.warn(f"{self.source}: ignored {element}: {problem}")

    @staticmethod
    def warn(message: str) -> None:
        warnings.warn(message, OsimImportWarning, stacklevel=2)

    def name(self, el: ET.Element) -> str:
        name = el.get("name")
        if name is None or not name.strip():
            raise self.error(el, "missing name attribute")
        return name.strip()

    # -- value helpers ----------------------------------------------------------------
    @staticmethod
    def child(el: ET.Element, tag: str) -> ET.Element | None:
        for c in el:
            if c.tag == tag:
                return c
        return None

    def req_child(self, el: ET.Element, tag: str) -> ET.Element:
        c = self.child(el, tag)
        if c is None:
            raise self.error(el, f"missing <{tag}>")
        return c

    def numbers(
        self,
        el: ET.Element,
        count: int | None = None,
        *,
        finite: bool = True,
        owner: ET.Element | None = None,
    ) -> tuple[float, ...]:
        """The numbers in ``el``'s text (``owner``, if given, is named in errors)."""
        what = f"<{el.tag}>: " if owner is not None else ""
        context = owner if owner is not None else el
        values = []
        for tok in (el.text or "").split():
            if not _NUMBER.match(tok):
                raise self.error(context, f"{what}{tok!r} is not a number", at=el)
            value = float(tok)
            if math.isnan(value) or (finite and math.isinf(value)):
                raise self.error(context, f"{what}{tok!r} is not a finite number", at=el)
            values.append(value)
        if count is not None and len(values) != count:
            problem = f"{what}expected {count} number(s), found {len(values)}"
            raise self.error(context, problem, at=el)
        return tuple(values)

    def scalar(
        self, el: ET.Element, tag: str, default: Any = _REQUIRED, *, finite: bool = True
    ) -> float:
        c = self.child(el, tag)
        if c is None:
            if default is _REQUIRED:
                raise self.error(el, f"missing <{tag}>")
            return float(default)
        return self.numbers(c, 1, finite=finite, owner=el)[0]

    def vec3(self, el: ET.Element, tag: str, default: Any = _REQUIRED) -> Vec3:
        c = self.child(el, tag)
        if c is None:
            if default is _REQUIRED:
                raise self.error(el, f"missing <{tag}>")
            return default
        return _vec(self.numbers(c, 3, owner=el))

    def boolean(self, el: ET.Element, tag: str, default: bool) -> bool:
        c = self.child(el, tag)
        if c is None:
            return default
        text = (c.text or "").strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise self.error(el, f"<{tag}>: {c.text!r} is not a boolean (true/false)", at=c)

    def text(self, el: ET.Element, tag: str, default: Any = _REQUIRED) -> str:
        c = self.child(el, tag)
        if c is None or not (c.text or "").strip():
            if default is _REQUIRED:
                raise self.error(el, f"missing <{tag}>")
            return default
        return (c.text or "").strip()

    def objects(self, set_el: ET.Element | None) -> list[ET.Element]:
        if set_el is None:
            return []
        objs = self.child(set_el, "objects")
        return [] if objs is None else list(objs)

    # -- references ---------------------------------------------------------------------
    def _by_name(self, registry: dict[str, Any], ref: str) -> str | None:
        matches = [p for p in registry if p.rsplit("/", 1)[-1] == ref]
        return matches[0] if len(matches) == 1 else None

    def frame_path(
        self, ref: str, owner: str, el: ET.Element, what: str, at: ET.Element | None = None
    ) -> str:
        for cand in _candidates(owner, ref):
            if cand in self.frames:
                return cand
        if "/" not in ref:
            for preferred in (f"/bodyset/{ref}", f"/{ref}" if ref == GROUND else None):
                if preferred in self.frames:
                    return preferred
            found = self._by_name(self.frames, ref)
            if found is not None:
                return found
        raise self.error(el, f"{what} {ref!r} names no body or frame of the model", at=at)

    def frame_ref(self, el: ET.Element, tag: str, owner: str) -> Frame:
        ref = self.text(el, tag)
        at = self.child(el, tag)
        return self.frame(self.frame_path(ref, owner, el, f"<{tag}>", at))

    def frame(self, path: str, stack: tuple[str, ...] = ()) -> Frame:
        if path in self.resolved:
            return self.resolved[path]
        spec = self.frames[path]
        if spec.body is not None:
            result = Frame(spec.body)
        else:
            if path in stack:
                raise self.error(spec.element, "offset frames form a cycle")
            assert spec.parent_ref is not None and spec.element is not None
            parent_path = self.frame_path(
                spec.parent_ref,
                spec.owner,
                spec.element,
                "<socket_parent>",
                self.child(spec.element, "socket_parent"),
            )
            parent = self.frame(parent_path, (*stack, path))
            result = _compose(parent, spec.translation, spec.orientation)
        self.resolved[path] = result
        return result

    def coordinate_ref(self, el: ET.Element, ref: str, owner: str) -> str:
        for cand in _candidates(owner, ref):
            if cand in self.coordinates:
                return self.coordinates[cand]
        if "/" not in ref and ref in self.coordinate_names:
            return ref
        raise self.error(el, f"{ref!r} names no coordinate of the model")

    def geometry_ref(self, el: ET.Element, tag: str, owner: str, kind: str) -> str:
        ref = self.text(el, tag)
        path = None
        for cand in _candidates(owner, ref):
            if cand in self.geometry:
                path = cand
                break
        if path is None and "/" not in ref:
            path = self._by_name(self.geometry, ref)
        if path is None:
            raise self.error(el, f"<{tag}> {ref!r} names no contact geometry of the model")
        found_kind, name = self.geometry[path]
        if found_kind != kind:
            raise self.error(el, f"<{tag}> {ref!r} is a {found_kind}, not a {kind}")
        return name

    # -- registration of frames ---------------------------------------------------------
    def register_offset_frames(self, container: ET.Element | None, prefix: str) -> None:
        """Register the PhysicalOffsetFrames among ``container``'s children."""
        if container is None:
            return
        for el in container:
            if el.tag != "PhysicalOffsetFrame":
                continue
            name = self.name(el)
            path = f"{prefix}/{name}"
            if path in self.frames:
                raise self.error(el, f"duplicate frame {path!r}")
            self.frames[path] = _FrameSpec(
                element=el,
                owner=path,
                parent_ref=self.text(el, "socket_parent"),
                translation=self.vec3(el, "translation", _ZERO3),
                orientation=self.vec3(el, "orientation", _ZERO3),
            )

    # -- the model ----------------------------------------------------------------------
    def read(self, root: ET.Element) -> Model:
        model_el = root
        if root.tag == "OpenSimDocument":
            version_text = root.get("Version")
            if version_text is not None:
                try:
                    version = int(version_text.strip())
                except ValueError:
                    raise self.error(root, f"bad Version {version_text!r}") from None
                if version < 40000:
                    raise UnsupportedFeatureError(
                        self.source,
                        f"OpenSimDocument Version={version}",
                        "OpenSim 3 model files are not supported; "
                        "open and save the model with OpenSim 4 first",
                    )
            model_el = self.req_child(root, "Model")
        elif root.tag != "Model":
            raise self.error(
                root, "not an OpenSim model file (root is neither <OpenSimDocument> nor <Model>)"
            )
        name = model_el.get("name") or Path(str(self.source)).stem

        known = {
            "Ground", "BodySet", "JointSet", "ForceSet", "components", "ContactGeometrySet",
            "MarkerSet", "ConstraintSet", "ComponentSet", "ControllerSet", "ProbeSet",
            "gravity", "credits", "publications",
        }  # fmt: skip
        for el in model_el:
            if el.tag not in known and el.tag not in _MODEL_IGNORED and el.tag not in _DISPLAY:
                self.unsupported(el, self.describe(el), "unknown model element")

        # Ground and bodies (wrap objects are reported first: they are the most common
        # unsupported feature).
        self.frames["/ground"] = _FrameSpec(element=None, owner="/ground", body=GROUND)
        ground_el = self.child(model_el, "Ground")
        if ground_el is not None:
            self.body_extras(ground_el, GROUND, "/ground")
        bodies = self.bodies(self.child(model_el, "BodySet"))
        components = self.child(model_el, "components")
        self.register_offset_frames(components, "")
        joint_els = self.objects(self.child(model_el, "JointSet"))
        for el in joint_els:
            self.register_offset_frames(self.child(el, "frames"), f"/jointset/{self.name(el)}")
        joints = tuple(self.joint(el) for el in joint_els)

        # Contact geometry (model components and ContactGeometrySet).
        spheres: list[ContactSphere] = []
        half_spaces: list[HalfSpace] = []
        geometry_sources: list[tuple[ET.Element, str]] = []
        if components is not None:
            geometry_sources += [(el, "") for el in components if el.tag in _CONTACT_GEOMETRY]
        cgs = self.child(model_el, "ContactGeometrySet")
        geometry_sources += [(el, "/contactgeometryset") for el in self.objects(cgs)]
        for el, prefix in geometry_sources:
            item = self.contact_geometry(el, prefix)
            if isinstance(item, ContactSphere):
                spheres.append(item)
            elif isinstance(item, HalfSpace):
                half_spaces.append(item)

        # Forces, in document order of <components> and <ForceSet>.
        muscles: list[Muscle] = []
        actuators: list[CoordinateActuator] = []
        contacts: list[SmoothContact] = []
        for section in model_el:
            if section.tag == "components":
                items = [(el, "") for el in section if el.tag not in _CONTACT_GEOMETRY
                         and el.tag != "PhysicalOffsetFrame"]  # fmt: skip
            elif section.tag == "ForceSet":
                items = [(el, "/forceset") for el in self.objects(section)]
            else:
                continue
            for el, prefix in items:
                item = self.force(el, prefix)
                if isinstance(item, Muscle):
                    muscles.append(item)
                elif isinstance(item, CoordinateActuator):
                    actuators.append(item)
                elif isinstance(item, SmoothContact):
                    contacts.append(item)

        markers = tuple(self.marker(el) for el in self.objects(self.child(model_el, "MarkerSet")))
        for el in self.objects(self.child(model_el, "ConstraintSet")):
            self.unsupported(el, self.describe(el), "kinematic constraints are not supported")
        for el in self.objects(self.child(model_el, "ComponentSet")):
            self.unsupported(el, self.describe(el), "unknown component")
        for set_tag in ("ControllerSet", "ProbeSet"):
            for el in self.objects(self.child(model_el, set_tag)):
                self.warn(f"{self.source}: ignored {set_tag} entry {self.describe(el)}")

        self.log_dropped()
        publications = self.text(model_el, "publications", "")
        return Model(
            name=name,
            bodies=bodies,
            joints=joints,
            muscles=tuple(muscles),
            actuators=tuple(actuators),
            contact_spheres=tuple(spheres),
            half_spaces=tuple(half_spaces),
            contacts=tuple(contacts),
            markers=markers,
            gravity=self.vec3(model_el, "gravity", (0.0, -9.80665, 0.0)),
            description=" ".join(self.text(model_el, "credits", "").split()),
            references=(" ".join(publications.split()),) if publications else (),
        )

    def log_dropped(self) -> None:
        if not self.dropped.count:
            return
        parts = []
        for kind, n in sorted(self.dropped.count.items()):
            props = ", ".join(sorted(self.dropped.properties[kind])) or "none"
            parts.append(f"{n} {kind} (dropped: {props})")
        logger.info(
            "%s: muscles mapped to DeGroote-Fregly parameters: %s",
            self.source,
            "; ".join(parts),
        )

    # -- bodies -------------------------------------------------------------------------
    def body_extras(self, el: ET.Element, body: str, path: str) -> None:
        """Wrap objects and offset frames of a body (or ground)."""
        for wrap in self.objects(self.child(el, "WrapObjectSet")):
            self.unsupported(
                wrap,
                f"{wrap.tag} {wrap.get('name')!r} on body {body!r}",
                "wrap objects (muscle wrapping surfaces) are not supported",
            )
        comps = self.child(el, "components")
        if comps is not None:
            self.register_offset_frames(comps, path)
            for c in comps:
                if c.tag != "PhysicalOffsetFrame":
                    self.unsupported(c, f"{self.describe(c)} on body {body!r}",
                                     "unsupported component")  # fmt: skip
        if self.child(el, "Joint") is not None:
            raise UnsupportedFeatureError(
                self.source,
                f"<Joint> in body {body!r} (line {self.line(self.child(el, 'Joint'))})",
                "joints nested in bodies are OpenSim 3 format; save the model with OpenSim 4",
            )

    def bodies(self, body_set: ET.Element | None) -> tuple[Body, ...]:
        out = []
        for el in self.objects(body_set):
            if el.tag != "Body":
                self.unsupported(el, self.describe(el), "unsupported body type", always=True)
            name = self.name(el)
            if name == GROUND:
                raise self.error(el, "a body may not be called 'ground'")
            path = f"/bodyset/{name}"
            if path in self.frames:
                raise self.error(el, f"duplicate body {name!r}")
            self.frames[path] = _FrameSpec(element=el, owner=path, body=name)
            self.body_extras(el, name, path)
            inertia_el = self.child(el, "inertia")
            if inertia_el is not None:
                inertia = self.numbers(inertia_el, 6, owner=el)
            else:
                tags = ("inertia_xx", "inertia_yy", "inertia_zz",
                        "inertia_xy", "inertia_xz", "inertia_yz")  # fmt: skip
                inertia = tuple(self.scalar(el, t, 0.0) for t in tags)
            ixx, iyy, izz, ixy, ixz, iyz = inertia
            out.append(
                Body(
                    name=name,
                    mass=self.scalar(el, "mass"),
                    com=self.vec3(el, "mass_center", _ZERO3),
                    inertia=(ixx, iyy, izz, ixy, ixz, iyz),
                )
            )
        return tuple(out)

    # -- functions ------------------------------------------------------------------------
    def function_in(
        self, container: ET.Element, skip: Iterable[str] = (), depth: int = 0
    ) -> Function | None:
        """The function held by ``container`` (directly or in a ``<function>`` wrapper)."""
        skip = set(skip) | _DISPLAY
        found = [c for c in container if c.tag not in skip]
        if not found:
            return None
        if len(found) > 1:
            raise self.error(container, "expected one function, found "
                             + ", ".join(f"<{c.tag}>" for c in found))  # fmt: skip
        el = found[0]
        if el.tag == "function":
            return self.function_in(el, depth=depth + 1)
        return self.function(el, depth)

    def function(self, el: ET.Element, depth: int = 0) -> Function:
        if depth > _MAX_FUNCTION_DEPTH:
            raise self.error(el, "functions nested too deeply")
        tag = el.tag
        if tag not in _KNOWN_FUNCTIONS:
            self.unsupported(el, self.describe(el), "unsupported function type", always=True)
        if tag == "Constant":
            return Constant(self.scalar(el, "value", 0.0))
        if tag == "LinearFunction":
            c = self.child(el, "coefficients")
            slope, intercept = (1.0, 0.0) if c is None else self.numbers(c, 2, owner=el)
            return Linear(slope, intercept)
        if tag in ("SimmSpline", "NaturalCubicSpline"):
            x = self.numbers(self.req_child(el, "x"), owner=el)
            y = self.numbers(self.req_child(el, "y"), owner=el)
            if len(x) != len(y):
                raise self.error(el, f"{len(x)} x values but {len(y)} y values")
            if len(x) < 2:
                raise self.error(el, "a spline needs at least 2 points")
            if any(b <= a for a, b in zip(x[:-1], x[1:], strict=True)):
                raise self.error(el, "spline x values must increase strictly")
            return SimmSpline(x, y) if tag == "SimmSpline" else NaturalCubicSpline(x, y)
        if tag == "PolynomialFunction":
            c = self.child(el, "coefficients")
            coefficients = (1.0,) if c is None else self.numbers(c, owner=el)
            if not coefficients:
                raise self.error(el, "no coefficients")
            return Polynomial(coefficients)
        # MultiplierFunction
        inner = self.function_in(el, skip={"scale"}, depth=depth + 1)
        if inner is None:
            raise self.error(el, "missing <function>")
        return Multiplier(inner, self.scalar(el, "scale", 1.0))

    # -- joints and coordinates -----------------------------------------------------------
    def coordinate_elements(self, el: ET.Element) -> list[ET.Element]:
        coords_el = self.child(el, "coordinates")
        coords = [] if coords_el is None else list(coords_el)
        for c in coords:
            if c.tag != "Coordinate":
                raise self.error(c, "expected <Coordinate>")
        return coords

    def coordinate(self, el: ET.Element, motion: Motion, joint: str) -> Coordinate:
        name = self.name(el)
        if self.boolean(el, "prescribed", False):
            self.unsupported(el, f"Coordinate {name!r}", "prescribed motion is not supported")
        range_el = self.child(el, "range")
        lo, hi = (
            (-10.0, 10.0) if range_el is None else self.numbers(range_el, 2, finite=False, owner=el)
        )
        path = f"/jointset/{joint}/{name}"
        if name in self.coordinate_names:
            raise self.error(el, f"duplicate coordinate name {name!r}")
        self.coordinates[path] = name
        self.coordinate_names.add(name)
        return Coordinate(
            name=name,
            motion=motion,
            range=(lo, hi),
            default=self.scalar(el, "default_value", 0.0),
            locked=self.boolean(el, "locked", False),
        )

    def joint(self, el: ET.Element) -> Joint:
        name = self.name(el)
        tag = el.tag
        owner = f"/jointset/{name}"
        simple = {
            "PinJoint": (JointType.PIN, (Motion.ROTATIONAL,)),
            "PlanarJoint": (JointType.PLANAR, (Motion.ROTATIONAL,) + (Motion.TRANSLATIONAL,) * 2),
            "WeldJoint": (JointType.WELD, ()),
            "UniversalJoint": (JointType.CUSTOM, (Motion.ROTATIONAL,) * 2),
            "GimbalJoint": (JointType.CUSTOM, (Motion.ROTATIONAL,) * 3),
            "SliderJoint": (JointType.CUSTOM, (Motion.TRANSLATIONAL,)),
        }
        if tag not in simple and tag != "CustomJoint":
            self.unsupported(el, f"{tag} {name!r}", "unsupported joint type", always=True)
        if self.boolean(el, "reverse", False):
            self.unsupported(el, f"{tag} {name!r}", "reversed joints are not supported",
                             always=True)  # fmt: skip
        parent = self.frame_ref(el, "socket_parent_frame", owner)
        child = self.frame_ref(el, "socket_child_frame", owner)
        coord_els = self.coordinate_elements(el)
        if tag == "CustomJoint":
            coordinates, transform = self.custom_transform(el, name, coord_els)
            return Joint(name, JointType.CUSTOM, parent, child, coordinates, transform)

        jtype, motions = simple[tag]
        if len(coord_els) != len(motions):
            raise self.error(el, f"a {tag} has {len(motions)} coordinate(s), "
                             f"found {len(coord_els)}")  # fmt: skip
        coordinates = tuple(
            self.coordinate(c, m, name) for c, m in zip(coord_els, motions, strict=True)
        )
        transform: tuple[TransformAxis, ...] = ()
        if jtype is JointType.CUSTOM:  # Universal, Gimbal, Slider: exact custom joints
            names = [c.name for c in coordinates]
            rotated = names if tag != "SliderJoint" else []
            slid = names if tag == "SliderJoint" else []
            transform = tuple(
                TransformAxis(
                    kind,
                    _UNIT_AXES[i],
                    Linear(1.0) if i < len(driven) else Constant(0.0),
                    driven[i] if i < len(driven) else None,
                )
                for kind, driven in ((AxisKind.ROTATION, rotated), (AxisKind.TRANSLATION, slid))
                for i in range(3)
            )
        return Joint(name, jtype, parent, child, coordinates, transform)

    def custom_transform(
        self, el: ET.Element, joint: str, coord_els: list[ET.Element]
    ) -> tuple[tuple[Coordinate, ...], tuple[TransformAxis, ...]]:
        st = self.req_child(el, "SpatialTransform")
        by_name: dict[str, ET.Element] = {}
        for ta in st:
            if ta.tag != "TransformAxis":
                raise self.error(ta, "expected <TransformAxis>")
            by_name.setdefault(ta.get("name", ""), ta)
        listed = [self.name(c) for c in coord_els]
        raw: list[tuple[AxisKind, Vec3, Function, str | None]] = []
        used: list[str] = []
        rotational: set[str] = set()
        for i, axis_name in enumerate(_AXIS_NAMES):
            ta = by_name.get(axis_name)
            if ta is None:
                raise self.error(st, f"missing <TransformAxis name={axis_name!r}>")
            names = self.text(ta, "coordinates", "").split()
            if len(names) > 1:
                self.unsupported(
                    ta,
                    f"TransformAxis {axis_name!r} of CustomJoint {joint!r}",
                    f"an axis driven by {len(names)} coordinates ({', '.join(names)}) "
                    "is not supported",
                    always=True,
                )
            q = names[0] if names else None
            if q is not None and q not in listed:
                raise self.error(ta, f"coordinate {q!r} is not among the joint's <coordinates>")
            axis = self.vec3(ta, "axis")
            if not any(axis):
                raise self.error(ta, "zero <axis>")
            fn = self.function_in(ta, skip={"coordinates", "axis"})
            if fn is None:
                raise self.error(ta, "missing function")
            kind = AxisKind.ROTATION if i < 3 else AxisKind.TRANSLATION
            if q is not None:
                if q not in used:
                    used.append(q)
                if kind is AxisKind.ROTATION:
                    rotational.add(q)
            raw.append((kind, axis, fn, q))
        if used != listed:
            raise ModelError(
                f"CustomJoint {joint!r}",
                f"its <coordinates> ({', '.join(listed) or 'none'}) must list the coordinates "
                f"in the order the transform axes first use them ({', '.join(used) or 'none'})"
                "; OpenSim would mismatch them otherwise",
            )
        coordinates = tuple(
            self.coordinate(
                c,
                Motion.ROTATIONAL if n in rotational else Motion.TRANSLATIONAL,
                joint,
            )
            for c, n in zip(coord_els, listed, strict=True)
        )
        transform = tuple(TransformAxis(k, a, f, q) for k, a, f, q in raw)
        return coordinates, transform

    # -- contact geometry ---------------------------------------------------------------
    def contact_geometry(self, el: ET.Element, prefix: str) -> ContactSphere | HalfSpace | None:
        if el.tag not in _CONTACT_GEOMETRY:
            self.unsupported(el, self.describe(el), "unsupported contact geometry")
            return None
        name = self.name(el)
        path = f"{prefix}/{name}"
        frame = self.frame_ref(el, "socket_frame", path)
        location = self.vec3(el, "location", _ZERO3)
        if el.tag == "ContactSphere":
            self.geometry[path] = ("ContactSphere", name)
            radius = self.scalar(el, "radius")
            return ContactSphere(name, frame.body, _point_on(frame, location), radius)
        self.geometry[path] = ("ContactHalfSpace", name)
        placed = _compose(frame, location, self.vec3(el, "orientation", _ZERO3))
        return HalfSpace(name, placed.body, placed.translation, placed.orientation)

    # -- forces ---------------------------------------------------------------------------
    def force(
        self, el: ET.Element, prefix: str
    ) -> Muscle | CoordinateActuator | SmoothContact | None:
        tag = el.tag
        if tag in _MUSCLE_TYPES:
            return self.muscle(el, prefix)
        if tag == "CoordinateActuator":
            name = self.name(el)
            if not self.applies_force(el, name):
                return None
            owner = f"{prefix}/{name}"
            return CoordinateActuator(
                name=name,
                coordinate=self.coordinate_ref(el, self.text(el, "coordinate"), owner),
                optimal_force=self.scalar(el, "optimal_force", 1.0),
                min_control=self.scalar(el, "min_control", -math.inf, finite=False),
                max_control=self.scalar(el, "max_control", math.inf, finite=False),
            )
        if tag == "SmoothSphereHalfSpaceForce":
            return self.smooth_contact(el, prefix)
        problem = "unsupported force or component type"
        if tag == "CoordinateLimitForce":
            problem = (
                "CoordinateLimitForce does not map onto a gaitsim LimitTorque (piecewise "
                "stiffness in degrees, separate upper/lower stiffness, damping only beyond "
                "the limits); add LimitTorques to the gaitsim model instead"
            )
        self.unsupported(el, self.describe(el), problem)
        return None

    def applies_force(self, el: ET.Element, name: str) -> bool:
        enabled = self.boolean(el, "appliesForce", True) and not self.boolean(
            el, "isDisabled", False
        )
        if not enabled:
            self.unsupported(el, f"{el.tag} {name!r}", "disabled forces (appliesForce=false) "
                             "are not supported")  # fmt: skip
        return enabled

    def smooth_contact(self, el: ET.Element, prefix: str) -> SmoothContact:
        name = self.name(el)
        owner = f"{prefix}/{name}"
        if self.child(el, "socket_sphere") is None and self.child(el, "socket_sphere_frame"):
            self.unsupported(el, f"SmoothSphereHalfSpaceForce {name!r}",
                             "the pre-4.1 form (sphere and half-space given inside the force) "
                             "is not supported; save the model with a recent OpenSim",
                             always=True)  # fmt: skip
        smoothing_tag = (
            "constant_contact_force"
            if self.child(el, "derivative_smoothing") is None
            else "derivative_smoothing"
        )
        return SmoothContact(
            name=name,
            sphere=self.geometry_ref(el, "socket_sphere", owner, "ContactSphere"),
            half_space=self.geometry_ref(el, "socket_half_space", owner, "ContactHalfSpace"),
            stiffness=self.scalar(el, "stiffness", 1.0),
            dissipation=self.scalar(el, "dissipation", 0.0),
            static_friction=self.scalar(el, "static_friction", 0.0),
            dynamic_friction=self.scalar(el, "dynamic_friction", 0.0),
            viscous_friction=self.scalar(el, "viscous_friction", 0.0),
            transition_velocity=self.scalar(el, "transition_velocity", 0.01),
            hertz_smoothing=self.scalar(el, "hertz_smoothing", 300.0),
            hunt_crossley_smoothing=self.scalar(el, "hunt_crossley_smoothing", 50.0),
            derivative_smoothing=self.scalar(el, smoothing_tag, 1e-5),
        )

    # -- muscles --------------------------------------------------------------------------
    def muscle(self, el: ET.Element, prefix: str) -> Muscle | None:
        tag = el.tag
        name = self.name(el)
        owner = f"{prefix}/{name}"
        if not self.applies_force(el, name):
            return None
        if self.boolean(el, "ignore_activation_dynamics", False):
            self.unsupported(el, f"{tag} {name!r}",
                             "ignore_activation_dynamics=true is not supported; "
                             "activation dynamics are kept")  # fmt: skip
        act, deact, default_act, tendon_strain, passive_strain = _MUSCLE_DEFAULTS[tag]
        dropped = {c.tag for c in el if c.tag not in _MUSCLE_MAPPED[tag] and c.tag not in _DISPLAY}
        extra: dict[str, Any] = {}
        if tag == "DeGrooteFregly2016Muscle":
            tendon_strain = self.scalar(el, "tendon_strain_at_one_norm_force", tendon_strain)
            passive_strain = self.scalar(
                el, "passive_fiber_strain_at_one_norm_force", passive_strain
            )
            extra = {
                "active_force_width_scale": self.scalar(el, "active_force_width_scale", 1.0),
                "fiber_damping": self.scalar(el, "fiber_damping", 0.0),
                "ignore_passive_fiber_force": self.boolean(el, "ignore_passive_fiber_force", False),
            }
        elif tag == "Millard2012EquilibriumMuscle":
            dropped.add("fiber_damping")  # dropped even when absent (OpenSim default 0.1)
            for curve_tag, mapped in (
                ("TendonForceLengthCurve", "tendon"),
                ("FiberForceLengthCurve", "passive"),
            ):
                curve = self.child(el, curve_tag)
                if curve is None:
                    continue
                if mapped == "tendon":
                    tendon_strain = self.scalar(curve, "strain_at_one_norm_force", tendon_strain)
                else:
                    passive_strain = self.scalar(curve, "strain_at_one_norm_force", passive_strain)
                dropped |= {
                    f"{curve_tag}.{c.tag}"
                    for c in curve
                    if c.tag != "strain_at_one_norm_force" and c.tag not in _DISPLAY
                }
            for curve_tag in ("ActiveForceLengthCurve", "ForceVelocityCurve"):
                curve = self.child(el, curve_tag)
                if curve is not None:
                    dropped.discard(curve_tag)
                    dropped |= {f"{curve_tag}.{c.tag}" for c in curve if c.tag not in _DISPLAY}
        else:  # Thelen2003Muscle
            tendon_strain = self.scalar(el, "FmaxTendonStrain", tendon_strain)
            passive_strain = self.scalar(el, "FmaxMuscleStrain", passive_strain)
        self.dropped.add(tag, dropped)

        if self.tendon is not None:
            tendon = self.tendon
        elif self.boolean(el, "ignore_tendon_compliance", False):
            tendon = TendonModel.RIGID
        else:
            tendon = TendonModel.COMPLIANT
        return Muscle(
            name=name,
            max_isometric_force=self.scalar(el, "max_isometric_force"),
            optimal_fiber_length=self.scalar(el, "optimal_fiber_length"),
            tendon_slack_length=self.scalar(el, "tendon_slack_length"),
            pennation_angle_at_optimal=self.scalar(el, "pennation_angle_at_optimal", 0.0),
            max_contraction_velocity=self.scalar(el, "max_contraction_velocity", 10.0),
            path=self.path(el, name, owner),
            activation_time_constant=self.scalar(el, "activation_time_constant", act),
            deactivation_time_constant=self.scalar(el, "deactivation_time_constant", deact),
            tendon_strain_at_one_norm_force=tendon_strain,
            passive_fiber_strain_at_one_norm_force=passive_strain,
            tendon=tendon,
            default_activation=self.scalar(el, "default_activation", default_act),
            **extra,
        )

    def path(self, el: ET.Element, muscle: str, owner: str) -> tuple[PathElement, ...]:
        gp = self.child(el, "GeometryPath")
        if gp is None:
            for c in el:
                if c.tag.endswith("Path"):
                    self.unsupported(c, f"{c.tag} of muscle {muscle!r}",
                                     "only GeometryPath muscle paths are supported",
                                     always=True)  # fmt: skip
            raise self.error(el, "missing <GeometryPath>")
        path_owner = f"{owner}/{gp.get('name', 'geometrypath')}"
        points: list[PathElement] = []
        for i, p in enumerate(self.objects(self.req_child(gp, "PathPointSet")), start=1):
            pname = p.get("name") or f"{muscle}-P{i}"
            powner = f"{path_owner}/{pname}"
            if p.tag not in ("PathPoint", "ConditionalPathPoint", "MovingPathPoint"):
                self.unsupported(p, f"{self.describe(p)} in muscle {muscle!r}",
                                 "unsupported path point type", always=True)  # fmt: skip
            frame = self.frame_ref(p, "socket_parent_frame", powner)
            if p.tag == "MovingPathPoint":
                points.append(self.moving_point(p, pname, frame, powner, muscle))
                continue
            location = _point_on(frame, self.vec3(p, "location", _ZERO3))
            if p.tag == "PathPoint":
                points.append(PathPoint(pname, frame.body, location))
                continue
            ref = self.text(p, "socket_coordinate", None) or self.text(p, "coordinate", None)
            if ref is None:
                raise self.error(p, "missing <socket_coordinate>")
            range_el = self.child(p, "range")
            lo, hi = (0.0, 0.0) if range_el is None else self.numbers(range_el, 2, owner=p)
            points.append(
                ConditionalPathPoint(
                    pname, frame.body, location, self.coordinate_ref(p, ref, powner), (lo, hi)
                )
            )
        for wrap in self.objects(self.child(gp, "PathWrapSet")):
            wrap_object = self.text(wrap, "wrap_object", "?")
            self.unsupported(
                wrap,
                f"{wrap.tag} {wrap.get('name') or wrap_object!r} of muscle {muscle!r} "
                f"(wrap object {wrap_object!r})",
                "muscle wrapping is not supported",
            )
        return tuple(points)

    def moving_point(
        self, p: ET.Element, name: str, frame: Frame, owner: str, muscle: str
    ) -> MovingPathPoint:
        if frame.translation != _ZERO3 or frame.orientation != _ZERO3:
            self.unsupported(p, f"MovingPathPoint {name!r} of muscle {muscle!r}",
                             "a moving path point on an offset frame is not supported",
                             always=True)  # fmt: skip
        functions: list[Function] = []
        coordinates: list[str | None] = []
        for axis in "xyz":
            loc = self.child(p, f"{axis}_location")
            fn = None if loc is None else self.function_in(loc)
            functions.append(Constant(0.0) if fn is None else fn)
            ref = self.text(p, f"socket_{axis}_coordinate", None)
            coordinates.append(None if ref is None else self.coordinate_ref(p, ref, owner))
        return MovingPathPoint(name, frame.body, *functions, *coordinates)

    # -- markers --------------------------------------------------------------------------
    def marker(self, el: ET.Element) -> Marker:
        name = self.name(el)
        frame = self.frame_ref(el, "socket_parent_frame", f"/markerset/{name}")
        location = _point_on(frame, self.vec3(el, "location", _ZERO3))
        return Marker(name, frame.body, location, self.boolean(el, "fixed", False))
