"""Smooth cylinder wrapping (gaitsim.mechanics.wrapping) against hand-computed geometry.

The cylinder has radius ``R`` and its axis along Z through the origin unless stated.
For a point at in-plane distance ``d`` the tangent length is ``sqrt(d^2 - R^2)`` and the
tangent point lies ``acos(R / d)`` from the point's bearing; the wrapped length is the
two tangent lengths plus ``R`` times the arc in contact.
"""

from __future__ import annotations

import dataclasses
import math

import casadi as ca
import numpy as np
import pytest

import gaitsim
from gaitsim.errors import ModelError
from gaitsim.mechanics.paths import muscle_length, path_length
from gaitsim.mechanics.rotations import body_fixed_xyz
from gaitsim.mechanics.skeleton import build_skeleton
from gaitsim.mechanics.wrapping import cylinder_wrap
from gaitsim.model.description import (
    Body,
    Coordinate,
    Frame,
    Joint,
    JointType,
    Model,
    Muscle,
    PathPoint,
    PathWrap,
    WrapCylinder,
)
from gaitsim.model.toml_format import dumps_model, loads_model
from gaitsim.model.validation import validate

R = 0.05
EYE = np.eye(3)
ORIGIN = (0.0, 0.0, 0.0)


def wrap(p, s, quadrant="all", *, centre=ORIGIN, axes=EYE, radius=R):
    w = cylinder_wrap(p, s, centre, axes, radius, quadrant)
    return float(w.length), float(w.wrap_angle), bool(float(w.wrapped))


# ----------------------------------------------------------------------------- geometry
@pytest.mark.parametrize("quadrant", ["all", "+y"])
def test_segment_tangent_to_the_circle_is_straight(quadrant):
    # P and S on the line y = R, tangent to the circle at (0, R): the tangent points
    # coincide, the wrap angle is exactly zero and the length is the straight one.
    a = 3 * R
    length, theta, _ = wrap((-a, R, 0.0), (a, R, 0.0), quadrant)
    assert theta == pytest.approx(0.0, abs=1e-12)
    assert length == pytest.approx(2 * a, rel=1e-14)


@pytest.mark.parametrize("quadrant", ["all", "+y", "-y"])
def test_segment_through_the_axis(quadrant):
    # P = (-2R, 0), S = (2R, 0): tangent lengths sqrt(3) R, each tangent point 60 deg from
    # its point's bearing, so the arc is 180 - 2 * 60 = 60 deg on either side.
    length, theta, wrapped = wrap((-2 * R, 0.0, 0.0), (2 * R, 0.0, 0.0), quadrant)
    assert wrapped
    assert theta == pytest.approx(math.pi / 3, rel=1e-14)
    assert length == pytest.approx(2 * math.sqrt(3) * R + math.pi * R / 3, rel=1e-14)


def _off_centre(a, h, over_top):
    t = math.sqrt(a * a + h * h - R * R)
    alpha = math.atan2(t, R)
    sweep = math.pi - 2 * math.atan2(h, a) if over_top else math.pi + 2 * math.atan2(h, a)
    return 2 * t + R * (sweep - 2 * alpha), sweep - 2 * alpha


def test_segment_cutting_the_cylinder_wraps_the_near_side():
    # The line y = h (0 < h < R) cuts the circle above its centre: the path goes over
    # the top with "all" or "+y", and under the bottom, the long way, with "-y".
    a, h = 3 * R, 0.4 * R
    p, s = (-a, h, 0.0), (a, h, 0.0)
    top, top_angle = _off_centre(a, h, over_top=True)
    bottom, bottom_angle = _off_centre(a, h, over_top=False)
    for quadrant in ("all", "+y"):
        length, theta, wrapped = wrap(p, s, quadrant)
        assert wrapped and theta == pytest.approx(top_angle, rel=1e-13)
        assert length == pytest.approx(top, rel=1e-14)
    length, theta, wrapped = wrap(p, s, "-y")
    assert wrapped and theta == pytest.approx(bottom_angle, rel=1e-13)
    assert length == pytest.approx(bottom, rel=1e-14)
    assert bottom > top


def test_constrained_side_wraps_even_when_the_straight_segment_is_clear():
    # The line y = 2R misses the circle: straight for "all" and "+y"; "-y" forces the
    # path round the bottom: sweep 180 + 2 * 45 deg.
    a = h = 2 * R
    p, s = (-a, h, 0.0), (a, h, 0.0)
    for quadrant in ("all", "+y"):
        length, theta, wrapped = wrap(p, s, quadrant)
        assert not wrapped and theta < 0
        assert length == pytest.approx(2 * a, rel=1e-14)
    t = math.sqrt(7) * R
    expected = 2 * t + R * (1.5 * math.pi - 2 * math.acos(1 / (2 * math.sqrt(2))))
    length, _, wrapped = wrap(p, s, "-y")
    assert wrapped and length == pytest.approx(expected, rel=1e-14)


def test_x_quadrants():
    # The same geometry turned by 90 deg: the line x = h, 0 < h < R.
    a, h = 3 * R, 0.4 * R
    p, s = (h, -a, 0.0), (h, a, 0.0)
    near, _ = _off_centre(a, h, over_top=True)
    far, _ = _off_centre(a, h, over_top=False)
    assert wrap(p, s, "+x")[0] == pytest.approx(near, rel=1e-14)
    assert wrap(p, s, "-x")[0] == pytest.approx(far, rel=1e-14)
    assert wrap(p, s, "all")[0] == pytest.approx(near, rel=1e-14)


def test_helix_spreads_the_axial_rise_over_the_unrolled_path():
    # Unrolled, tangent segments and arc form one straight line of in-plane length U and
    # rise 2c: L = sqrt(U^2 + (2c)^2).
    c = 0.7 * R
    u = 2 * math.sqrt(3) * R + math.pi * R / 3
    length, theta, wrapped = wrap((-2 * R, 0.0, -c), (2 * R, 0.0, c), "+y")
    assert wrapped and theta == pytest.approx(math.pi / 3, rel=1e-14)
    assert length == pytest.approx(math.hypot(u, 2 * c), rel=1e-14)


def test_end_point_inside_the_cylinder_gives_the_straight_segment():
    # As OpenSim's WrapCylinder ("insideRadius"): no wrapping if P or S is inside.
    p, s = (-0.5 * R, 0.1 * R, 0.0), (3 * R, 0.0, 0.2 * R)
    length, _, wrapped = wrap(p, s, "all")
    assert not wrapped
    assert length == pytest.approx(float(np.linalg.norm(np.subtract(s, p))), rel=1e-15)


def test_cylinder_frame_is_placed_and_turned():
    # The helix case expressed in a cylinder frame moved and turned in ground.
    rot = body_fixed_xyz((0.3, -1.1, 2.0))
    centre = np.array([0.2, -0.4, 0.9])
    c = 0.7 * R
    p = centre + rot @ np.array([-2 * R, 0.0, -c])
    s = centre + rot @ np.array([2 * R, 0.0, c])
    u = 2 * math.sqrt(3) * R + math.pi * R / 3
    length, _, wrapped = wrap(p, s, "+y", centre=centre, axes=rot)
    assert wrapped and length == pytest.approx(math.hypot(u, 2 * c), rel=1e-13)


def test_bad_arguments():
    with pytest.raises(ValueError, match="quadrant"):
        cylinder_wrap(ORIGIN, (1, 0, 0), ORIGIN, EYE, R, "+z")
    with pytest.raises(ValueError, match="radius"):
        cylinder_wrap(ORIGIN, (1, 0, 0), ORIGIN, EYE, 0.0)


# ----------------------------------------------------------------------------- smoothness
def _length_function(quadrant="all"):
    p, s = ca.SX.sym("p", 3), ca.SX.sym("s", 3)
    w = cylinder_wrap(p, s, ORIGIN, EYE, R, quadrant)
    length = w.length
    grad = ca.gradient(length, ca.vertcat(p, s))
    return ca.Function("L", [p, s], [length, grad, w.wrap_angle])


def test_length_is_c1_at_lift_off_finite_differences():
    # P and S on the line y = R touch the circle at (0, R); moving S along a generic
    # direction d makes the path wrap for lam > 0 and stay straight for lam < 0.
    f = _length_function("all")
    p = np.array([-3 * R, R, -0.4 * R])
    s0 = np.array([2 * R, R, 0.5 * R])
    d = np.array([0.3, -1.0, 0.5])
    assert float(f(p, s0)[2]) == pytest.approx(0.0, abs=1e-12)
    assert float(f(p, s0 + 1e-3 * d)[2]) > 0 > float(f(p, s0 - 1e-3 * d)[2])

    def length(lam):
        return float(f(p, s0 + lam * d)[0])

    h = 1e-8
    right = (length(h) - length(0.0)) / h
    left = (length(0.0) - length(-h)) / h
    assert abs(right - left) <= 1e-6 * abs(right)
    # The exact gradients just either side of lift-off agree as well ...
    g_in = np.asarray(f(p, s0 + 1e-9 * d)[1]).ravel()
    g_out = np.asarray(f(p, s0 - 1e-9 * d)[1]).ravel()
    assert np.max(np.abs(g_in - g_out)) <= 1e-6 * np.max(np.abs(g_out))
    # ... while the second derivative jumps (C1, not C2): one-sided curvatures differ.
    h2 = 1e-4
    curv_in = (length(2 * h2) - 2 * length(h2) + length(0.0)) / h2**2
    curv_out = (length(0.0) - 2 * length(-h2) + length(-2 * h2)) / h2**2
    assert abs(curv_in - curv_out) > 1e-2 * max(abs(curv_in), abs(curv_out))


def _lift_off(f, p, s, d, lo, hi):
    """Bisect on the sign of the wrap angle along s + lam d; None unless it is a lift-off."""
    theta_lo = float(f(p, s + lo * d)[2])
    if theta_lo * float(f(p, s + hi * d)[2]) >= 0:
        return None
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if (float(f(p, s + mid * d)[2]) > 0) == (theta_lo > 0):
            lo = mid
        else:
            hi = mid
    star = 0.5 * (lo + hi)
    # A lift-off has the wrap angle pass continuously through zero (a quadrant's wall or
    # an end point entering the cylinder would make it jump).
    if max(abs(float(f(p, s + (star + e) * d)[2])) for e in (-1e-9, 1e-9)) > 1e-6:
        return None
    return star


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("quadrant", ["all", "-y"])
def test_gradient_is_continuous_at_lift_off_random(seed, quadrant):
    # Random 3D end points; bisect on the signed wrap angle along a random direction to
    # find lift-off, then compare the exact gradient (all six coordinates) either side.
    rng = np.random.default_rng(seed)
    f = _length_function(quadrant)
    for _ in range(100):
        p = np.r_[rng.uniform(-4, -1.5, 1) * R, rng.uniform(-2, 2, 1) * R, rng.normal(0, R, 1)]
        s = np.r_[rng.uniform(1.5, 4, 1) * R, rng.uniform(-2, 2, 1) * R, rng.normal(0, R, 1)]
        d = rng.normal(size=3)
        d[2] *= 0.3
        star = _lift_off(f, p, s, d, -R, R)
        if star is not None:
            break
    else:  # pragma: no cover - the search always finds a lift-off
        pytest.fail("no lift-off found")
    g1 = np.asarray(f(p, s + (star - 1e-9) * d)[1]).ravel()
    g2 = np.asarray(f(p, s + (star + 1e-9) * d)[1]).ravel()
    assert np.max(np.abs(g1 - g2)) <= 1e-6 * np.max(np.abs(g1))
    l1 = float(f(p, s + (star - 1e-9) * d)[0])
    l2 = float(f(p, s + (star + 1e-9) * d)[0])
    # no jump in value: the change across the 2e-9 step is the slope times the step
    slope = float(np.dot(g1, np.r_[np.zeros(3), d]))
    assert abs((l2 - l1) - slope * 2e-9) <= 1e-14


# ----------------------------------------------------------------------------- in a model
def _pin_model(radius=R, z_origin=0.0, z_insertion=0.0, on_arm=False, quadrant="+x"):
    """An arm on a pin at the origin; a muscle from ground round a cylinder on the axis."""
    arm = Body("arm", 1.0, (0.0, -0.1, 0.0), (0.01, 0.01, 0.01, 0.0, 0.0, 0.0))
    pin = Joint(
        "pin", JointType.PIN, Frame("ground"), Frame("arm"), (Coordinate("q", range=(-1.0, 1.0)),)
    )
    cylinder = WrapCylinder(
        "axle", "arm" if on_arm else "ground", (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), radius, quadrant
    )
    muscle = Muscle(
        "m",
        100.0,
        0.1,
        0.2,
        0.0,
        10.0,
        (
            PathPoint("origin", "ground", (0.0, 0.2, z_origin)),
            PathPoint("insertion", "arm", (0.0, -0.2, z_insertion)),
        ),
        wraps=(PathWrap("axle", "origin", "insertion"),),
    )
    return Model("pin", (arm,), (pin,), (muscle,), wrap_cylinders=(cylinder,))


@pytest.mark.parametrize("on_arm", [False, True])
def test_moment_arm_about_a_pin_through_the_cylinder_axis_is_the_radius(on_arm):
    # Wrapped round a cylinder centred on the joint axis, the path's arc grows or shrinks
    # by exactly R dq: the moment arm is the radius, whichever body carries the cylinder.
    f = gaitsim.build(_pin_model(on_arm=on_arm))
    for q in np.linspace(-0.9, 0.45, 28):  # wrapped while q < pi - 2 acos(R / 0.2) = 0.505
        assert float(f.moment_arms([q])[0, 0]) == pytest.approx(R, rel=1e-12)
    # and the length is tangents plus arc: 2 sqrt(0.2^2 - R^2) + R (pi - q - 2 acos(R/0.2))
    q = 0.3
    t = math.sqrt(0.2**2 - R**2)
    expected = 2 * t + R * (math.pi - q - 2 * math.acos(R / 0.2))
    assert float(f.muscle_tendon_lengths([q])[0]) == pytest.approx(expected, rel=1e-13)


def test_moment_arm_of_a_helical_wrap_about_the_axis():
    # With an axial rise dz, L = sqrt(U^2 + dz^2) and dU/dq = -R: r = R U / L.
    dz = 0.06
    f = gaitsim.build(_pin_model(z_origin=-dz / 2, z_insertion=dz / 2))
    for q in (-0.5, 0.0, 0.4):
        u = 2 * math.sqrt(0.2**2 - R**2) + R * (math.pi - q - 2 * math.acos(R / 0.2))
        length = math.hypot(u, dz)
        assert float(f.muscle_tendon_lengths([q])[0]) == pytest.approx(length, rel=1e-13)
        assert float(f.moment_arms([q])[0, 0]) == pytest.approx(R * u / length, rel=1e-12)


def test_muscle_length_uses_the_muscles_wraps():
    model = _pin_model()
    sk = build_skeleton(model)
    m = model.muscles[0]
    q = [0.2]
    found = float(ca.Function("l", [sk.q], [path_length(m.path, sk, wraps=m.wraps)])(q))
    direct = float(ca.Function("l", [sk.q], [muscle_length(m, sk)])(q))
    bare = float(ca.Function("l", [sk.q], [path_length(m.path, sk)])(q))
    assert found == direct
    assert bare == pytest.approx(0.4 * math.cos(0.1), rel=1e-12)  # chord of the two points
    assert direct > bare


# ----------------------------------------------------------------------------- description
def test_toml_round_trip_with_wraps():
    model = _pin_model(quadrant="-y")
    text = dumps_model(model)
    assert "[[wrap_cylinders]]" in text and "wraps = [" in text
    assert loads_model(text) == model


def _broken(**changes):
    model = _pin_model()
    cylinder = dataclasses.replace(model.wrap_cylinders[0], **changes.pop("cylinder", {}))
    muscle = dataclasses.replace(model.muscles[0], **changes.pop("muscle", {}))
    return dataclasses.replace(model, wrap_cylinders=(cylinder,), muscles=(muscle,), **changes)


@pytest.mark.parametrize(
    ("changes", "element"),
    [
        ({"cylinder": {"body": "thigh"}}, "wrap_cylinders.axle.body"),
        ({"cylinder": {"radius": 0.0}}, "wrap_cylinders.axle.radius"),
        ({"cylinder": {"radius": -0.01}}, "wrap_cylinders.axle.radius"),
        ({"cylinder": {"quadrant": "x"}}, "wrap_cylinders.axle.quadrant"),
        ({"cylinder": {"translation": (0.0, math.nan, 0.0)}}, "wrap_cylinders.axle.translation[1]"),
        (
            {"muscle": {"wraps": (PathWrap("hub", "origin", "insertion"),)}},
            "muscles.m.wraps[0].cylinder",
        ),
        ({"muscle": {"wraps": (PathWrap("axle", "origin", "elbow"),)}}, "muscles.m.wraps[0].end"),
        ({"muscle": {"wraps": (PathWrap("axle", "insertion", "origin"),)}}, "muscles.m.wraps[0]"),
        (
            {"muscle": {"wraps": (PathWrap("axle", "origin", "insertion"),) * 2}},
            "muscles.m.wraps[1]",
        ),
    ],
)
def test_validation_names_the_element(changes, element):
    with pytest.raises(ModelError) as info:
        validate(_broken(**changes))
    assert info.value.element == element


def test_duplicate_cylinder_names():
    model = _pin_model()
    model = dataclasses.replace(model, wrap_cylinders=model.wrap_cylinders * 2)
    with pytest.raises(ModelError, match="wrap_cylinders.axle"):
        validate(model)


# ----------------------------------------------------------------------------- vs OpenSim
_OSIM = """<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000">
<Model name="wrapcheck">
  <Ground name="ground"><WrapObjectSet><objects>{ground}</objects></WrapObjectSet></Ground>
  <BodySet name="bodyset"><objects>
    <Body name="arm">
      <mass>1</mass><mass_center>0 -0.1 0</mass_center><inertia>0.01 0.01 0.01 0 0 0</inertia>
      <WrapObjectSet><objects>{arm}</objects></WrapObjectSet>
    </Body>
  </objects></BodySet>
  <JointSet name="jointset"><objects>
    <PinJoint name="pin">
      <socket_parent_frame>/ground</socket_parent_frame>
      <socket_child_frame>/bodyset/arm</socket_child_frame>
      <coordinates><Coordinate name="q"><range>-3 3</range></Coordinate></coordinates>
    </PinJoint>
  </objects></JointSet>
  <ForceSet name="forceset"><objects>
    <DeGrooteFregly2016Muscle name="m">
      <GeometryPath name="path">
        <PathPointSet><objects>
          <PathPoint name="origin">
            <socket_parent_frame>/ground</socket_parent_frame><location>{p}</location>
          </PathPoint>
          <PathPoint name="insertion">
            <socket_parent_frame>/bodyset/arm</socket_parent_frame><location>{s}</location>
          </PathPoint>
        </objects></PathPointSet>
        <PathWrapSet><objects>
          <PathWrap name="pw"><wrap_object>cyl</wrap_object><range>-1 -1</range></PathWrap>
        </objects></PathWrapSet>
      </GeometryPath>
      <max_isometric_force>100</max_isometric_force>
      <optimal_fiber_length>0.1</optimal_fiber_length>
      <tendon_slack_length>0.2</tendon_slack_length>
    </DeGrooteFregly2016Muscle>
  </objects></ForceSet>
</Model>
</OpenSimDocument>
"""
_CYLINDER = (
    '<WrapCylinder name="cyl"><xyz_body_rotation>{o}</xyz_body_rotation>'
    "<translation>{t}</translation><quadrant>{q}</quadrant><radius>{r}</radius>"
    "<length>10</length></WrapCylinder>"
)


def _opensim_oracle():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "validation" / "oracle.py"
    if not path.exists() or importlib.util.find_spec("opensim") is None:
        pytest.skip("needs opensim and tests/validation/oracle.py")
    spec = importlib.util.spec_from_file_location("_gaitsim_wrap_oracle", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run_oracle


@pytest.mark.opensim
@pytest.mark.parametrize(
    ("p", "s", "translation", "orientation", "radius", "quadrant", "on_arm"),
    [
        ((0, 0.2, 0), (0, -0.2, 0), (0.01, 0.005, 0), (0, 0, 0), 0.05, "all", False),
        ((0, 0.2, 0), (0, -0.2, 0), (0, 0, 0), (0, 0, 0), 0.05, "+x", False),
        ((0.03, 0.2, 0), (0.02, -0.2, 0), (0, 0, 0), (0, 0, 0), 0.05, "-x", True),
        (
            (0.1, 0.15, 0.03),
            (-0.05, -0.18, -0.04),
            (0, 0, 0),
            (-0.25, -0.27, 0.1),
            0.05,
            "-y",
            False,
        ),
    ],
)
def test_agrees_with_opensim_wrap_cylinder(
    tmp_path, p, s, translation, orientation, radius, quadrant, on_arm
):
    # OpenSim's WrapCylinder finds its tangent points iteratively (to 0.1 deg): lengths
    # agree to 0.01 mm and moment arms to 0.1 mm, straight and wrapped, in plane and as
    # helices (the configurations avoid the switch of sides, where both jump).
    run_oracle = _opensim_oracle()

    def text(v):
        return " ".join(repr(float(x)) for x in v)

    cyl = _CYLINDER.format(o=text(orientation), t=text(translation), q=quadrant, r=radius)
    osim = tmp_path / "wrap.osim"
    osim.write_text(
        _OSIM.format(ground="" if on_arm else cyl, arm=cyl if on_arm else "", p=text(p), s=text(s))
    )
    qs = np.linspace(-1.2, 1.2, 13)
    res = run_oracle(osim, [{"id": "g", "type": "muscle_geometry", "q": qs[:, None]}])
    model = _pin_model(radius=radius, quadrant=quadrant, on_arm=on_arm)
    cylinder = dataclasses.replace(
        model.wrap_cylinders[0], translation=translation, orientation=orientation
    )
    muscle = model.muscles[0]
    path = (
        dataclasses.replace(muscle.path[0], location=p),
        dataclasses.replace(muscle.path[1], location=s),
    )
    model = dataclasses.replace(
        model, wrap_cylinders=(cylinder,), muscles=(dataclasses.replace(muscle, path=path),)
    )
    f = gaitsim.build(model)
    lengths = np.array([float(f.muscle_tendon_lengths([q])[0]) for q in qs])
    arms = np.array([float(f.moment_arms([q])[0, 0]) for q in qs])
    np.testing.assert_allclose(lengths, np.asarray(res["g"]["length"])[:, 0], atol=1e-5)
    np.testing.assert_allclose(arms, np.asarray(res["g"]["moment_arm"])[:, 0, 0], atol=1e-4)
