"""Check a model description and name the element at fault.

:func:`validate` is called by every loader (TOML, OpenSim import) and by
:func:`gaitsim.mechanics.build`; it raises :class:`~gaitsim.errors.ModelError` at the first
problem, with the element (``"muscles.soleus_r.max_isometric_force"``) and the problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from gaitsim.errors import ModelError
from gaitsim.model.description import (
    GROUND,
    WRAP_QUADRANTS,
    AxisKind,
    ConditionalPathPoint,
    Constant,
    Function,
    JointType,
    Linear,
    Model,
    MovingPathPoint,
    Multiplier,
    NaturalCubicSpline,
    Polynomial,
    SimmSpline,
)

__all__ = ["validate"]


def _finite(element: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(element, f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ModelError(element, f"must be finite, got {value!r}")
    return float(value)


def _positive(element: str, value: object, *, allow_zero: bool = False) -> float:
    v = _finite(element, value)
    if v < 0 or (v == 0 and not allow_zero):
        raise ModelError(element, f"must be {'>= 0' if allow_zero else '> 0'}, got {v!r}")
    return v


def _vector(element: str, values: Iterable[object], size: int) -> None:
    values = tuple(values)
    if len(values) != size:
        raise ModelError(element, f"must have {size} numbers, got {len(values)}")
    for i, v in enumerate(values):
        _finite(f"{element}[{i}]", v)


def _unique(kind: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise ModelError(kind, f"every name must be a non-empty string, got {name!r}")
        if name in seen:
            raise ModelError(f"{kind}.{name}", "name is used twice")
        seen.add(name)


def _function(element: str, function: Function) -> None:
    if isinstance(function, Constant):
        _finite(f"{element}.value", function.value)
    elif isinstance(function, Linear):
        _finite(f"{element}.slope", function.slope)
        _finite(f"{element}.intercept", function.intercept)
    elif isinstance(function, Polynomial):
        if not function.coefficients:
            raise ModelError(element, "polynomial needs at least one coefficient")
        for i, c in enumerate(function.coefficients):
            _finite(f"{element}.coefficients[{i}]", c)
    elif isinstance(function, Multiplier):
        _finite(f"{element}.scale", function.scale)
        _function(f"{element}.function", function.function)
    elif isinstance(function, SimmSpline | NaturalCubicSpline):
        if len(function.x) < 2 or len(function.x) != len(function.y):
            raise ModelError(element, "spline needs at least two knots and as many y as x")
        for i, (x, y) in enumerate(zip(function.x, function.y, strict=True)):
            _finite(f"{element}.x[{i}]", x)
            _finite(f"{element}.y[{i}]", y)
        if any(b <= a for a, b in zip(function.x, function.x[1:], strict=False)):
            raise ModelError(element, "spline knots x must be strictly increasing")
    else:
        raise ModelError(element, f"unknown function {function!r}")


def validate(model: Model) -> Model:
    """Check ``model`` and return it unchanged.

    Raises
    ------
    ModelError
        Naming the element and the problem: unknown bodies or coordinates, negative or
        non-finite masses and parameters, joints that form a cycle or leave a body
        unconnected, joints of the wrong shape, duplicate names, wrap cylinders with a
        non-positive radius or an unknown quadrant, path wraps that name an unknown
        cylinder or points that are not consecutive in the path.
    """
    _unique("bodies", [b.name for b in model.bodies])
    body_names = {b.name for b in model.bodies}
    if GROUND in body_names:
        raise ModelError(f"bodies.{GROUND}", "'ground' is implicit and cannot be a body")
    for b in model.bodies:
        e = f"bodies.{b.name}"
        _positive(f"{e}.mass", b.mass, allow_zero=True)
        _vector(f"{e}.com", b.com, 3)
        _vector(f"{e}.inertia", b.inertia, 6)
        ixx, iyy, izz = b.inertia[:3]
        if min(ixx, iyy, izz) < 0:
            raise ModelError(f"{e}.inertia", "principal moments must be >= 0")
        # Triangle inequality of principal moments (tolerance for rounded file values).
        if (
            ixx + iyy < izz * (1 - 1e-6) - 1e-12
            or ixx + izz < iyy * (1 - 1e-6) - 1e-12
            or (iyy + izz < ixx * (1 - 1e-6) - 1e-12)
        ):
            raise ModelError(f"{e}.inertia", "moments violate the triangle inequality")
    _vector("gravity", model.gravity, 3)

    _unique("joints", [j.name for j in model.joints])
    _unique("coordinates", [c.name for c in model.coordinates])
    known = body_names | {GROUND}
    children: set[str] = set()
    for j in model.joints:
        e = f"joints.{j.name}"
        for side, frame in (("parent", j.parent), ("child", j.child)):
            if frame.body not in known:
                raise ModelError(f"{e}.{side}", f"unknown body {frame.body!r}")
            _vector(f"{e}.{side}.translation", frame.translation, 3)
            _vector(f"{e}.{side}.orientation", frame.orientation, 3)
        if j.child.body == GROUND:
            raise ModelError(f"{e}.child", "ground cannot be a joint's child")
        if j.child.body == j.parent.body:
            raise ModelError(e, "parent and child are the same body")
        if j.child.body in children:
            raise ModelError(f"{e}.child", f"body {j.child.body!r} has two parent joints")
        children.add(j.child.body)
        expected = {JointType.WELD: 0, JointType.PIN: 1, JointType.PLANAR: 3}
        if j.type in expected and len(j.coordinates) != expected[j.type]:
            raise ModelError(
                e,
                f"a {j.type.value} joint has {expected[j.type]} coordinates, "
                f"got {len(j.coordinates)}",
            )
        if j.type is not JointType.CUSTOM and j.transform:
            raise ModelError(e, "only custom joints take transform axes")
        own = {c.name for c in j.coordinates}
        if j.type is JointType.CUSTOM:
            rotations = [a for a in j.transform if a.kind is AxisKind.ROTATION]
            translations = [a for a in j.transform if a.kind is AxisKind.TRANSLATION]
            if len(rotations) > 3 or len(translations) > 3:
                raise ModelError(e, "at most three rotation and three translation axes")
            for k, axis in enumerate(j.transform):
                ae = f"{e}.transform[{k}]"
                _vector(f"{ae}.axis", axis.axis, 3)
                if all(v == 0 for v in axis.axis):
                    raise ModelError(f"{ae}.axis", "axis has zero length")
                if axis.coordinate is not None and axis.coordinate not in own:
                    raise ModelError(
                        f"{ae}.coordinate", f"{axis.coordinate!r} is not a coordinate of {j.name}"
                    )
                _function(f"{ae}.function", axis.function)
        for c in j.coordinates:
            ce = f"coordinates.{c.name}"
            lo = _finite(f"{ce}.range[0]", c.range[0])
            hi = _finite(f"{ce}.range[1]", c.range[1])
            if lo > hi:
                raise ModelError(f"{ce}.range", f"lower {lo} is above upper {hi}")
            _finite(f"{ce}.default", c.default)
    missing = body_names - children
    if missing:
        raise ModelError(f"bodies.{sorted(missing)[0]}", "no joint connects this body")
    # Every body must reach ground without a cycle.
    parent_of = {j.child.body: j.parent.body for j in model.joints}
    for body in body_names:
        seen = [body]
        while seen[-1] != GROUND:
            nxt = parent_of[seen[-1]]
            if nxt in seen:
                raise ModelError(f"bodies.{body}", f"joints form a cycle: {' -> '.join(seen)}")
            seen.append(nxt)

    coords = {c.name for c in model.coordinates}

    def _coordinate(element: str, name: str | None) -> None:
        if name is not None and name not in coords:
            raise ModelError(element, f"unknown coordinate {name!r}")

    _unique("wrap_cylinders", [w.name for w in model.wrap_cylinders])
    for w in model.wrap_cylinders:
        e = f"wrap_cylinders.{w.name}"
        if w.body not in known:
            raise ModelError(f"{e}.body", f"unknown body {w.body!r}")
        _vector(f"{e}.translation", w.translation, 3)
        _vector(f"{e}.orientation", w.orientation, 3)
        _positive(f"{e}.radius", w.radius)
        if w.quadrant not in WRAP_QUADRANTS:
            raise ModelError(
                f"{e}.quadrant",
                f"must be one of {', '.join(repr(q) for q in WRAP_QUADRANTS)}, got {w.quadrant!r}",
            )
    cylinders = {w.name for w in model.wrap_cylinders}

    _unique("muscles", [m.name for m in model.muscles])
    for m in model.muscles:
        e = f"muscles.{m.name}"
        for attr in (
            "max_isometric_force",
            "optimal_fiber_length",
            "tendon_slack_length",
            "max_contraction_velocity",
            "activation_time_constant",
            "deactivation_time_constant",
            "tendon_strain_at_one_norm_force",
            "passive_fiber_strain_at_one_norm_force",
            "active_force_width_scale",
        ):
            _positive(f"{e}.{attr}", getattr(m, attr))
        _positive(f"{e}.fiber_damping", m.fiber_damping, allow_zero=True)
        alpha = _finite(f"{e}.pennation_angle_at_optimal", m.pennation_angle_at_optimal)
        if not 0.0 <= alpha < math.pi / 2:
            raise ModelError(f"{e}.pennation_angle_at_optimal", "must be in [0, pi/2)")
        a0 = _finite(f"{e}.default_activation", m.default_activation)
        if not 0.0 <= a0 <= 1.0:
            raise ModelError(f"{e}.default_activation", "must be in [0, 1]")
        if len(m.path) < 2:
            raise ModelError(f"{e}.path", "a path needs at least two points")
        _unique(f"{e}.path", [p.name for p in m.path])
        for p in m.path:
            pe = f"{e}.path.{p.name}"
            if p.body not in known:
                raise ModelError(f"{pe}.body", f"unknown body {p.body!r}")
            if isinstance(p, MovingPathPoint):
                for ax in "xyz":
                    _function(f"{pe}.{ax}", getattr(p, ax))
                    _coordinate(f"{pe}.{ax}_coordinate", getattr(p, f"{ax}_coordinate"))
            else:
                _vector(f"{pe}.location", p.location, 3)
            if isinstance(p, ConditionalPathPoint):
                _coordinate(f"{pe}.coordinate", p.coordinate)
                if p.range[0] > p.range[1]:
                    raise ModelError(f"{pe}.range", "lower bound is above upper bound")
        if isinstance(m.path[0], ConditionalPathPoint) or isinstance(
            m.path[-1], ConditionalPathPoint
        ):
            raise ModelError(f"{e}.path", "origin and insertion cannot be conditional points")
        point_index = {p.name: i for i, p in enumerate(m.path)}
        wrapped_segments: set[int] = set()
        for k, wrap in enumerate(m.wraps):
            we = f"{e}.wraps[{k}]"
            if wrap.cylinder not in cylinders:
                raise ModelError(f"{we}.cylinder", f"unknown wrap cylinder {wrap.cylinder!r}")
            for attr in ("start", "end"):
                if getattr(wrap, attr) not in point_index:
                    raise ModelError(f"{we}.{attr}", f"unknown path point {getattr(wrap, attr)!r}")
            i = point_index[wrap.start]
            if point_index[wrap.end] != i + 1:
                raise ModelError(
                    we,
                    f"end {wrap.end!r} must be the path point directly after start {wrap.start!r}",
                )
            if i in wrapped_segments:
                raise ModelError(
                    we, f"segment {wrap.start!r}-{wrap.end!r} already wraps over a cylinder"
                )
            wrapped_segments.add(i)

    _unique("limit_torques", [t.name for t in model.limit_torques])
    for t in model.limit_torques:
        e = f"limit_torques.{t.name}"
        _coordinate(f"{e}.coordinate", t.coordinate)
        if _finite(f"{e}.lower", t.lower) > _finite(f"{e}.upper", t.upper):
            raise ModelError(e, "lower limit is above upper limit")
        _positive(f"{e}.stiffness", t.stiffness, allow_zero=True)
        _positive(f"{e}.sharpness", t.sharpness)
        _positive(f"{e}.damping", t.damping, allow_zero=True)

    _unique("actuators", [a.name for a in model.actuators])
    for a in model.actuators:
        e = f"actuators.{a.name}"
        _coordinate(f"{e}.coordinate", a.coordinate)
        _positive(f"{e}.optimal_force", a.optimal_force)
        # Control bounds may be infinite (OpenSim's default for coordinate actuators).
        for attr in ("min_control", "max_control"):
            value = getattr(a, attr)
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise ModelError(f"{e}.{attr}", f"must be a number, got {value!r}")
        if a.min_control > a.max_control:
            raise ModelError(e, "min_control is above max_control")

    _unique("contact_spheres", [s.name for s in model.contact_spheres])
    _unique("half_spaces", [h.name for h in model.half_spaces])
    for s in model.contact_spheres:
        e = f"contact_spheres.{s.name}"
        if s.body not in known:
            raise ModelError(f"{e}.body", f"unknown body {s.body!r}")
        _vector(f"{e}.location", s.location, 3)
        _positive(f"{e}.radius", s.radius)
    for h in model.half_spaces:
        e = f"half_spaces.{h.name}"
        if h.body not in known:
            raise ModelError(f"{e}.body", f"unknown body {h.body!r}")
        _vector(f"{e}.location", h.location, 3)
        _vector(f"{e}.orientation", h.orientation, 3)
    spheres = {s.name for s in model.contact_spheres}
    planes = {h.name for h in model.half_spaces}
    _unique("contacts", [c.name for c in model.contacts])
    for c in model.contacts:
        e = f"contacts.{c.name}"
        if c.sphere not in spheres:
            raise ModelError(f"{e}.sphere", f"unknown contact sphere {c.sphere!r}")
        if c.half_space not in planes:
            raise ModelError(f"{e}.half_space", f"unknown half space {c.half_space!r}")
        for attr in (
            "stiffness",
            "transition_velocity",
            "hertz_smoothing",
            "hunt_crossley_smoothing",
            "derivative_smoothing",
        ):
            _positive(f"{e}.{attr}", getattr(c, attr))
        for attr in ("dissipation", "static_friction", "dynamic_friction", "viscous_friction"):
            _positive(f"{e}.{attr}", getattr(c, attr), allow_zero=True)

    _unique("markers", [mk.name for mk in model.markers])
    for mk in model.markers:
        e = f"markers.{mk.name}"
        if mk.body not in known:
            raise ModelError(f"{e}.body", f"unknown body {mk.body!r}")
        _vector(f"{e}.location", mk.location, 3)
    return model
