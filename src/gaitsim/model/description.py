"""The model description: frozen dataclasses that say what a musculoskeletal model *is*.

A :class:`Model` is plain data, as written in a gaitsim model file (TOML, see
:mod:`gaitsim.model.toml_format`) or imported from OpenSim (:mod:`gaitsim.io.osim`).
Nothing here computes mechanics; :mod:`gaitsim.mechanics` builds CasADi functions from it.
:func:`gaitsim.model.validation.validate` checks a description and raises
:class:`~gaitsim.errors.ModelError` naming the element at fault.

Conventions (the same everywhere in gaitsim)
--------------------------------------------
* SI units: metres, kilograms, seconds, newtons, radians.
* The ground frame is called ``"ground"``; +Y is up (gravity along -Y by default), +X is
  the walking direction, +Z points to the right of a forward walker (OpenSim's frame).
* Orientations of offset frames are body-fixed X-Y-Z Euler angles (OpenSim's convention).
* Inertia is about the centre of mass, in the body frame, ordered
  ``(Ixx, Iyy, Izz, Ixy, Ixz, Iyz)``.
* Coordinate signs follow the model (OpenSim models flex the knee with *negative*
  ``knee_angle``); reports convert to clinical signs at the edge.
* Right/left: names end in ``_r`` / ``_l``.

Wrapping surfaces
-----------------
Muscle paths may wrap over cylinders. The surfaces belong to the model
(:attr:`Model.wrap_cylinders`, :class:`WrapCylinder`: a frame on a body, radius, side),
as OpenSim's wrap objects belong to bodies, so that one bone surface can serve several
muscles; a muscle lists the segments of its path that may wrap in :attr:`Muscle.wraps`
(:class:`PathWrap`: cylinder name and the two consecutive path points). In a model file
they are ``[[wrap_cylinders]]`` tables and, in a muscle, ``[[muscles.wraps]]`` tables
(``cylinder``, ``start``, ``end``). Both default to empty. The mechanics are in
:mod:`gaitsim.mechanics.wrapping`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "Vec3",
    "Constant",
    "Linear",
    "SimmSpline",
    "NaturalCubicSpline",
    "Polynomial",
    "Multiplier",
    "Function",
    "Frame",
    "Body",
    "Motion",
    "Coordinate",
    "AxisKind",
    "TransformAxis",
    "JointType",
    "Joint",
    "PathPoint",
    "ConditionalPathPoint",
    "MovingPathPoint",
    "PathElement",
    "WRAP_QUADRANTS",
    "WrapCylinder",
    "PathWrap",
    "TendonModel",
    "Muscle",
    "LimitTorque",
    "CoordinateActuator",
    "ContactSphere",
    "HalfSpace",
    "SmoothContact",
    "Marker",
    "Model",
    "GROUND",
]

GROUND = "ground"

Vec3 = tuple[float, float, float]


# --------------------------------------------------------------------------------------
# Scalar functions of one coordinate (used by custom joints and moving path points)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Constant:
    """``f(x) = value``."""

    value: float


@dataclass(frozen=True)
class Linear:
    """``f(x) = slope * x + intercept``."""

    slope: float
    intercept: float = 0.0


@dataclass(frozen=True)
class SimmSpline:
    """Interpolating cubic spline with OpenSim's ``SimmSpline`` end conditions.

    Outside ``[x[0], x[-1]]`` it extrapolates linearly with the end slope, as OpenSim does.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class NaturalCubicSpline:
    """Interpolating cubic spline with zero second derivative at both ends.

    Outside ``[x[0], x[-1]]`` it extrapolates linearly with the end slope.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class Polynomial:
    """``f(x) = sum(c[i] * x**(n-1-i))``: coefficients from the highest power down.

    This is the order of OpenSim's ``PolynomialFunction`` and of :func:`numpy.polyval`.
    """

    coefficients: tuple[float, ...]


@dataclass(frozen=True)
class Multiplier:
    """``f(x) = scale * function(x)`` (OpenSim's ``MultiplierFunction``)."""

    function: Function
    scale: float = 1.0


Function = Constant | Linear | SimmSpline | NaturalCubicSpline | Polynomial | Multiplier


# --------------------------------------------------------------------------------------
# Bodies, frames and joints
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    """A frame fixed on a body: an offset from the body's own frame.

    Parameters
    ----------
    body
        Name of the body (or ``"ground"``).
    translation
        Origin of this frame in the body frame (m).
    orientation
        Body-fixed X-Y-Z Euler angles of this frame in the body frame (rad).
    """

    body: str
    translation: Vec3 = (0.0, 0.0, 0.0)
    orientation: Vec3 = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Body:
    """A rigid body.

    Parameters
    ----------
    name
        Unique name (not ``"ground"``).
    mass
        Mass (kg), >= 0.
    com
        Centre of mass in the body frame (m).
    inertia
        ``(Ixx, Iyy, Izz, Ixy, Ixz, Iyz)`` about the centre of mass, body frame (kg m^2).
    """

    name: str
    mass: float
    com: Vec3 = (0.0, 0.0, 0.0)
    inertia: tuple[float, float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


class Motion(enum.Enum):
    """Whether a coordinate is an angle (rad) or a distance (m)."""

    ROTATIONAL = "rotational"
    TRANSLATIONAL = "translational"


@dataclass(frozen=True)
class Coordinate:
    """A generalised coordinate.

    Parameters
    ----------
    name
        Unique name across the model (e.g. ``"knee_angle_r"``).
    motion
        Rotational (rad) or translational (m).
    range
        ``(lower, upper)`` of the physiological range; used for limit torques, sampling
        and bounds, never clamped silently.
    default
        Default value.
    locked
        A locked coordinate is held at ``default`` (it stays in the state vector so that
        files keep their columns, but it has no speed and no dynamics).
    """

    name: str
    motion: Motion = Motion.ROTATIONAL
    range: tuple[float, float] = (-3.141592653589793, 3.141592653589793)
    default: float = 0.0
    locked: bool = False


class AxisKind(enum.Enum):
    """Whether a transform axis rotates about or translates along its axis."""

    ROTATION = "rotation"
    TRANSLATION = "translation"


@dataclass(frozen=True)
class TransformAxis:
    """One axis of a custom joint's spatial transform (OpenSim ``TransformAxis``).

    The amount is ``function(q)`` for the named coordinate, or ``function(0)`` with no
    coordinate (a constant offset).
    """

    kind: AxisKind
    axis: Vec3
    function: Function
    coordinate: str | None = None


class JointType(enum.Enum):
    """Kinds of joints.

    ``WELD``
        No coordinates: child frame coincides with parent frame.
    ``PIN``
        One rotation about the common Z axis of the parent and child frames.
    ``PLANAR``
        Rotation about Z, then translations along X and Y of the parent frame
        (coordinates in that order: rz, tx, ty).
    ``CUSTOM``
        Up to three rotations (applied in order, each about its axis in the frame rotated
        by the previous ones: body-fixed) and three translations (along axes fixed in the
        parent frame), each a :data:`Function` of at most one coordinate; as OpenSim's
        ``CustomJoint``.
    """

    WELD = "weld"
    PIN = "pin"
    PLANAR = "planar"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Joint:
    """A joint connecting ``child.body`` to ``parent.body``.

    The joint moves the child's joint frame (``child``) relative to the parent's joint
    frame (``parent``); see :class:`JointType` for what each type allows.
    """

    name: str
    type: JointType
    parent: Frame
    child: Frame
    coordinates: tuple[Coordinate, ...] = ()
    transform: tuple[TransformAxis, ...] = ()


# --------------------------------------------------------------------------------------
# Muscles and their paths
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PathPoint:
    """A fixed point of a muscle path, in the frame of ``body``."""

    name: str
    body: str
    location: Vec3


@dataclass(frozen=True)
class ConditionalPathPoint:
    """A path point that is part of the path only while ``coordinate`` is in ``range``.

    Inside the mechanics it is made smooth: see
    :mod:`gaitsim.mechanics.paths` for the documented smoothing.
    """

    name: str
    body: str
    location: Vec3
    coordinate: str
    range: tuple[float, float]


@dataclass(frozen=True)
class MovingPathPoint:
    """A path point whose location on ``body`` is a function of coordinates.

    Each of ``x``, ``y`` and ``z`` is a function of the coordinate named in
    ``x_coordinate`` etc.; a missing coordinate means the function is evaluated at 0.
    """

    name: str
    body: str
    x: Function
    y: Function
    z: Function
    x_coordinate: str | None = None
    y_coordinate: str | None = None
    z_coordinate: str | None = None


PathElement = PathPoint | ConditionalPathPoint | MovingPathPoint


WRAP_QUADRANTS = ("all", "+x", "-x", "+y", "-y")
"""Allowed values of :attr:`WrapCylinder.quadrant`."""


@dataclass(frozen=True)
class WrapCylinder:
    """A cylinder fixed on a body, over which muscle paths may wrap (OpenSim ``WrapCylinder``).

    Wrap cylinders belong to the model (:attr:`Model.wrap_cylinders`), as OpenSim's wrap
    objects belong to a body; a muscle says which of its path segments may wrap over
    which cylinder with :class:`PathWrap` entries in :attr:`Muscle.wraps`, so one cylinder
    (a bone surface) can serve several muscles.

    Parameters
    ----------
    name
        Unique name among the model's wrap cylinders.
    body
        The body the cylinder is fixed on (or ``"ground"``).
    translation
        Origin of the cylinder's frame in the body frame (m): a point on its axis.
    orientation
        Body-fixed X-Y-Z Euler angles of the cylinder's frame in the body frame (rad),
        OpenSim's ``xyz_body_rotation``. The cylinder's axis is the frame's Z axis.
    radius
        Radius (m), > 0. The cylinder is infinitely long (OpenSim's ``length`` only limits
        where a wrap may start and is not used).
    quadrant
        The side of the cylinder, in its own frame, over which the path may wrap:
        ``"all"`` (either side: the path wraps only if the straight segment would cut
        the cylinder, and over the side it would cut) or ``"+x"``, ``"-x"``, ``"+y"``,
        ``"-y"`` (the path always passes on that side: it also wraps, the long way round,
        when the straight segment would pass on the other side). See
        :mod:`gaitsim.mechanics.wrapping`.
    """

    name: str
    body: str
    translation: Vec3
    orientation: Vec3
    radius: float
    quadrant: str = "all"


@dataclass(frozen=True)
class PathWrap:
    """Lets the path segment from point ``start`` to the next point ``end`` wrap a cylinder.

    ``cylinder`` names one of :attr:`Model.wrap_cylinders`; ``start`` and ``end`` name two
    consecutive points of the muscle's path (``end`` directly after ``start``). A segment
    wraps over at most one cylinder.
    """

    cylinder: str
    start: str
    end: str


class TendonModel(enum.Enum):
    """Rigid tendon (length fixed at slack length) or compliant tendon (elastic)."""

    RIGID = "rigid"
    COMPLIANT = "compliant"


@dataclass(frozen=True)
class Muscle:
    """A Hill-type muscle in the DeGroote, Fregly et al. (2016) formulation.

    Parameters
    ----------
    name
        Unique name.
    max_isometric_force
        Fmax (N).
    optimal_fiber_length
        l_opt (m).
    tendon_slack_length
        l_ts (m).
    pennation_angle_at_optimal
        Pennation at optimal fibre length (rad), in [0, pi/2).
    max_contraction_velocity
        In optimal fibre lengths per second.
    path
        Ordered path points, origin first.
    activation_time_constant, deactivation_time_constant
        (s).
    tendon_strain_at_one_norm_force
        Tendon strain at which tendon force equals Fmax.
    passive_fiber_strain_at_one_norm_force
        Fibre strain at which passive fibre force equals Fmax.
    active_force_width_scale
        Widens the active force-length curve (OpenSim's property of the same name).
    fiber_damping
        Normalised fibre damping.
    ignore_passive_fiber_force
        Turn off passive fibre force.
    tendon
        Rigid or compliant tendon.
    default_activation
        Initial activation.
    wraps
        Path segments that may wrap over the model's wrap cylinders (:class:`PathWrap`).
    """

    name: str
    max_isometric_force: float
    optimal_fiber_length: float
    tendon_slack_length: float
    pennation_angle_at_optimal: float
    max_contraction_velocity: float
    path: tuple[PathElement, ...]
    activation_time_constant: float = 0.015
    deactivation_time_constant: float = 0.060
    tendon_strain_at_one_norm_force: float = 0.049
    passive_fiber_strain_at_one_norm_force: float = 0.6
    active_force_width_scale: float = 1.0
    fiber_damping: float = 0.0
    ignore_passive_fiber_force: bool = False
    tendon: TendonModel = TendonModel.COMPLIANT
    default_activation: float = 0.05
    wraps: tuple[PathWrap, ...] = ()


# --------------------------------------------------------------------------------------
# Other forces
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LimitTorque:
    """Passive torque that resists motion beyond a coordinate's limits.

    ``tau = -k_upper * (exp(s * (q - upper)) - 1) for q > upper`` is smoothed into the
    double-exponential form used in predictive gait models (Anderson 1999; Falisse 2019)::

        tau = k * (exp(-s * (q - lower)) - exp(s * (q - upper))) - damping * qdot

    with ``k = stiffness / s`` so that the slope at each limit is ``stiffness`` (N m/rad).
    """

    name: str
    coordinate: str
    lower: float
    upper: float
    stiffness: float = 1.0
    sharpness: float = 20.0
    damping: float = 0.0


@dataclass(frozen=True)
class CoordinateActuator:
    """An ideal torque (or force) on a coordinate: ``tau = optimal_force * control``."""

    name: str
    coordinate: str
    optimal_force: float
    min_control: float = -1.0
    max_control: float = 1.0


@dataclass(frozen=True)
class ContactSphere:
    """A contact sphere on a body (centre in the body frame)."""

    name: str
    body: str
    location: Vec3
    radius: float


@dataclass(frozen=True)
class HalfSpace:
    """A contact half-space on a body (usually the ground).

    As OpenSim's ``ContactHalfSpace``, the half-space occupies ``x > 0`` of the frame
    given by ``location`` and ``orientation``: its outward normal is the frame's -X axis.
    With ``orientation = (0, 0, -pi/2)`` on ground, the floor is the plane y = 0 with
    normal +Y.
    """

    name: str
    body: str = GROUND
    location: Vec3 = (0.0, 0.0, 0.0)
    orientation: Vec3 = (0.0, 0.0, -1.5707963267948966)


@dataclass(frozen=True)
class SmoothContact:
    """Smooth Hunt-Crossley sphere-on-plane contact (OpenSim ``SmoothSphereHalfSpaceForce``).

    Parameters follow Serrancoli, Falisse et al. (2019) and OpenSim's property names.
    """

    name: str
    sphere: str
    half_space: str
    stiffness: float
    dissipation: float
    static_friction: float
    dynamic_friction: float
    viscous_friction: float
    transition_velocity: float = 0.2
    hertz_smoothing: float = 300.0
    hunt_crossley_smoothing: float = 50.0
    derivative_smoothing: float = 1e-5


@dataclass(frozen=True)
class Marker:
    """A motion-capture marker fixed on a body."""

    name: str
    body: str
    location: Vec3
    fixed: bool = False


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Model:
    """A musculoskeletal model: bodies connected by a tree of joints, and the forces on them.

    The order of ``joints`` is the order of the coordinates in every state vector: the
    coordinates of the first joint come first, in the joint's own order.
    ``wrap_cylinders`` are the surfaces that muscle paths may wrap over (referred to by
    name from :attr:`Muscle.wraps`).
    """

    name: str
    bodies: tuple[Body, ...]
    joints: tuple[Joint, ...]
    muscles: tuple[Muscle, ...] = ()
    limit_torques: tuple[LimitTorque, ...] = ()
    actuators: tuple[CoordinateActuator, ...] = ()
    contact_spheres: tuple[ContactSphere, ...] = ()
    half_spaces: tuple[HalfSpace, ...] = ()
    contacts: tuple[SmoothContact, ...] = ()
    markers: tuple[Marker, ...] = ()
    gravity: Vec3 = (0.0, -9.80665, 0.0)
    description: str = ""
    references: tuple[str, ...] = field(default=())
    wrap_cylinders: tuple[WrapCylinder, ...] = ()

    # -- conveniences (pure look-ups, no mechanics) -------------------------------------
    @property
    def coordinates(self) -> tuple[Coordinate, ...]:
        """All coordinates, in state-vector order."""
        return tuple(c for j in self.joints for c in j.coordinates)

    @property
    def coordinate_names(self) -> tuple[str, ...]:
        """Names of all coordinates, in state-vector order."""
        return tuple(c.name for c in self.coordinates)

    @property
    def muscle_names(self) -> tuple[str, ...]:
        """Names of all muscles, in model order."""
        return tuple(m.name for m in self.muscles)

    @property
    def total_mass(self) -> float:
        """Sum of the body masses (kg)."""
        return float(sum(b.mass for b in self.bodies))

    def body(self, name: str) -> Body:
        """The body called ``name``."""
        for b in self.bodies:
            if b.name == name:
                return b
        raise KeyError(f"model {self.name!r} has no body {name!r}")

    def coordinate(self, name: str) -> Coordinate:
        """The coordinate called ``name``."""
        for c in self.coordinates:
            if c.name == name:
                return c
        raise KeyError(f"model {self.name!r} has no coordinate {name!r}")

    def muscle(self, name: str) -> Muscle:
        """The muscle called ``name``."""
        for m in self.muscles:
            if m.name == name:
                return m
        raise KeyError(f"model {self.name!r} has no muscle {name!r}")

    def wrap_cylinder(self, name: str) -> WrapCylinder:
        """The wrap cylinder called ``name``."""
        for w in self.wrap_cylinders:
            if w.name == name:
                return w
        raise KeyError(f"model {self.name!r} has no wrap cylinder {name!r}")
