"""Tests of gaitsim.mechanics.contact (Simbody's SmoothSphereHalfSpaceForce)."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
import textwrap

import casadi as ca
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitsim.errors import ModelError
from gaitsim.mechanics.contact import (
    SmoothContactParameters,
    sphere_halfspace_force,
)

# Typical foot-sphere values of the Falisse et al. (2019) gait models.
PARAMS = SmoothContactParameters(
    stiffness=1e6,
    dissipation=2.0,
    static_friction=0.8,
    dynamic_friction=0.8,
    viscous_friction=0.5,
    transition_velocity=0.2,
    radius=0.032,
)
UP = np.array([0.0, 1.0, 0.0])
ORIGIN = np.zeros(3)


def _k_factor(p: SmoothContactParameters) -> float:
    """Simbody's 4/3 k sqrt(R k) with k = 0.5 E^(2/3)."""
    k = 0.5 * p.stiffness ** (2.0 / 3.0)
    return 4.0 / 3.0 * k * math.sqrt(p.radius * k)


def _at_height(clearance: float, velocity=(0.0, 0.0, 0.0), p=PARAMS, omega=None):
    center = np.array([0.1, p.radius + clearance, -0.05])
    return sphere_halfspace_force(
        center, np.asarray(velocity, float), ORIGIN, UP, p, angular_velocity=omega
    )


# --------------------------------------------------------------------------------------
# Normal force
# --------------------------------------------------------------------------------------
def test_force_far_above_plane_is_negligible() -> None:
    # tanh smoothing: the force decays like exp(-2 * 300 * h). With E = 1e6 and R = 0.032
    # it is ~1.5e-3 N at 2 cm clearance and drops below 1e-6 N from ~3.3 cm.
    assert np.linalg.norm(_at_height(0.05).force_on_sphere) < 1e-9
    assert np.linalg.norm(_at_height(0.035).force_on_sphere) < 1e-6
    f2 = np.linalg.norm(_at_height(0.02).force_on_sphere)
    assert 1e-3 < f2 < 2e-3


def test_force_at_zero_indentation_is_the_constant_contact_force() -> None:
    result = _at_height(0.0)
    expected = 0.5 * _k_factor(PARAMS) * PARAMS.derivative_smoothing**0.75
    assert result.indentation == pytest.approx(0.0, abs=1e-15)
    assert result.force_on_sphere[1] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(7.5, abs=0.1)


@pytest.mark.parametrize("depth", [0.01, 0.02, 0.03])
def test_static_penetration_close_to_hertz(depth: float) -> None:
    # Hertz for two equal materials: F = 4/3 sqrt(R) k^(3/2) d^(3/2), k = 0.5 E^(2/3)
    # (i.e. effective modulus E / 2^(3/2)). The smoothing changes it by the factor
    # ((d^2 + cf) / d^2)^(3/4) * (1 + tanh(300 d)) / 2, +7.1 % at 1 cm, +1.9 % at 2 cm,
    # +0.8 % at 3 cm; the dissipation factor (1 + tanh(50 * 2 / (3c))) / 2 is 1 - 1e-29.
    result = _at_height(-depth)
    hertz = _k_factor(PARAMS) * depth**1.5
    smoothing = ((depth**2 + 1e-5) / depth**2) ** 0.75 * 0.5 * (1 + math.tanh(300 * depth))
    fy = result.force_on_sphere[1]
    assert fy == pytest.approx(hertz * smoothing, rel=1e-12)
    tolerance = {0.01: 0.075, 0.02: 0.02, 0.03: 0.009}[depth]
    assert fy == pytest.approx(hertz, rel=tolerance)
    assert result.force_on_sphere[0] == pytest.approx(0.0, abs=1e-12)
    assert result.force_on_sphere[2] == pytest.approx(0.0, abs=1e-12)


def test_hunt_crossley_dissipation() -> None:
    depth = 0.02
    static = _at_height(-depth).normal_force
    approaching = _at_height(-depth, velocity=(0.0, -0.1, 0.0)).normal_force
    separating = _at_height(-depth, velocity=(0.0, 0.1, 0.0)).normal_force
    # v_n is positive towards the half-space:
    # f = f_H (1 + 1.5 c v_n) (1 + tanh(50 (v_n + 2 / (3 c)))) / 2, c = 2.

    def switch(v_n: float) -> float:
        return 0.5 * (1 + math.tanh(50 * (v_n + 1 / 3))) / (0.5 * (1 + math.tanh(50 / 3)))

    assert approaching == pytest.approx(static * (1 + 0.3) * switch(0.1), rel=1e-12)
    assert separating == pytest.approx(static * (1 - 0.3) * switch(-0.1), rel=1e-12)
    # Fast separation (v_n < -2/(3c)) switches the force off smoothly: no pulling.
    fast = _at_height(-depth, velocity=(0.0, 1.0, 0.0)).normal_force
    assert abs(fast) < 1e-6 * static


def test_zero_dissipation_is_supported() -> None:
    p = SmoothContactParameters(
        stiffness=1e6,
        dissipation=0.0,
        static_friction=0.8,
        dynamic_friction=0.8,
        viscous_friction=0.5,
        transition_velocity=0.2,
        radius=0.032,
    )
    result = _at_height(-0.01, velocity=(0.0, -1.0, 0.0), p=p)
    assert result.force_on_sphere[1] == pytest.approx(_at_height(-0.01, p=p).force_on_sphere[1])


def test_contact_point_is_midway_in_the_overlap() -> None:
    depth = 0.015
    result = _at_height(-depth)
    center = np.array([0.1, PARAMS.radius - depth, -0.05])
    np.testing.assert_allclose(
        result.contact_point, center - (PARAMS.radius - depth / 2) * UP, atol=1e-15
    )
    # Half the overlap below the plane surface.
    assert result.contact_point[1] == pytest.approx(-depth / 2, abs=1e-15)


def test_tilted_plane_is_rotation_equivariant() -> None:
    angle = 0.3
    rot = np.array(
        [
            [math.cos(angle), -math.sin(angle), 0.0],
            [math.sin(angle), math.cos(angle), 0.0],
            [0, 0, 1],
        ]
    )
    center = np.array([0.02, 0.02, 0.01])
    velocity = np.array([0.3, -0.05, 0.1])
    omega = np.array([1.0, -2.0, 3.0])
    plane_point = np.array([0.0, 0.0, 0.0])
    flat = sphere_halfspace_force(center, velocity, plane_point, UP, PARAMS, angular_velocity=omega)
    tilted = sphere_halfspace_force(
        rot @ center, rot @ velocity, plane_point, rot @ UP, PARAMS, angular_velocity=rot @ omega
    )
    np.testing.assert_allclose(tilted.force_on_sphere, rot @ flat.force_on_sphere, rtol=1e-12)
    np.testing.assert_allclose(tilted.contact_point, rot @ flat.contact_point, atol=1e-15)


def test_plane_normal_is_normalized() -> None:
    a = sphere_halfspace_force(np.array([0, 0.02, 0]), np.zeros(3), ORIGIN, UP, PARAMS)
    b = sphere_halfspace_force(np.array([0, 0.02, 0]), np.zeros(3), ORIGIN, 5 * UP, PARAMS)
    np.testing.assert_allclose(a.force_on_sphere, b.force_on_sphere, rtol=1e-14)


# --------------------------------------------------------------------------------------
# Friction
# --------------------------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=-math.pi, max_value=math.pi),
    st.floats(min_value=1e-3, max_value=3.0),
    st.lists(st.floats(min_value=-10.0, max_value=10.0), min_size=3, max_size=3),
)
def test_friction_opposes_slip(direction: float, speed: float, omega: list[float]) -> None:
    velocity = speed * np.array([math.cos(direction), 0.0, math.sin(direction)])
    result = _at_height(-0.02, velocity=velocity, omega=np.array(omega))
    slip = result.slip_velocity
    friction = result.friction_force
    assert slip[1] == pytest.approx(0.0, abs=1e-12)  # tangential
    assert friction[1] == pytest.approx(0.0, abs=1e-9)
    if np.linalg.norm(slip) > 1e-6:
        assert np.dot(friction, slip) < 0.0
        cross = np.cross(friction, slip)
        assert np.linalg.norm(cross) <= 1e-9 * np.linalg.norm(friction) * np.linalg.norm(slip)


def test_slip_includes_rotation_of_the_sphere_body() -> None:
    # A sphere rolling without slip: v_C = -omega x (P - C) gives ~zero slip.
    depth = 0.01
    arm = -(PARAMS.radius - depth / 2) * UP  # P - C
    omega = np.array([0.0, 0.0, -20.0])
    velocity = -np.cross(omega, arm)
    result = _at_height(-depth, velocity=velocity, omega=omega)
    np.testing.assert_allclose(result.slip_velocity, 0.0, atol=1e-15)


def test_friction_magnitude_law() -> None:
    p = SmoothContactParameters(
        stiffness=1e6,
        dissipation=2.0,
        static_friction=0.9,
        dynamic_friction=0.6,
        viscous_friction=0.1,
        transition_velocity=0.1,
        radius=0.032,
    )
    for speed in (0.01, 0.05, 0.1, 0.5, 2.0):
        result = _at_height(-0.02, velocity=(speed, 0.0, 0.0), p=p)
        v_slip = math.sqrt(speed**2 + p.derivative_smoothing)
        v_rel = v_slip / p.transition_velocity
        mu = min(v_rel, 1.0) * (0.6 + 2 * (0.9 - 0.6) / (1 + v_rel**2)) + 0.1 * v_slip
        expected = mu * result.normal_force * speed / v_slip
        assert -result.friction_force[0] == pytest.approx(expected, rel=1e-12)


def test_moment_about_point() -> None:
    result = _at_height(-0.02, velocity=(0.5, 0.0, 0.0))
    body_origin = np.array([0.0, 0.1, 0.0])
    expected = np.cross(result.contact_point - body_origin, result.force_on_sphere)
    np.testing.assert_allclose(result.moment_about(body_origin), expected, rtol=1e-14)


# --------------------------------------------------------------------------------------
# CasADi: symbolic agreement and derivatives
# --------------------------------------------------------------------------------------
def _symbolic_function(sym):
    c, v, w = sym.sym("c", 3), sym.sym("v", 3), sym.sym("w", 3)
    result = sphere_halfspace_force(c, v, ORIGIN, UP, PARAMS, angular_velocity=w)
    outputs = [result.force_on_sphere, result.contact_point, result.moment_about(ORIGIN)]
    return ca.Function("contact", [c, v, w], outputs), c, v, w, outputs


@pytest.mark.parametrize("sym", [ca.SX, ca.MX])
def test_symbolic_equals_numeric(sym) -> None:
    f = _symbolic_function(sym)[0]
    rng = np.random.default_rng(3)
    for _ in range(20):
        c = np.r_[rng.uniform(-0.2, 0.2), rng.uniform(0.0, 0.05), rng.uniform(-0.2, 0.2)]
        v, w = rng.uniform(-1, 1, 3), rng.uniform(-5, 5, 3)
        numeric = sphere_halfspace_force(c, v, ORIGIN, UP, PARAMS, angular_velocity=w)
        force, point, moment = (np.asarray(x).ravel() for x in f(c, v, w))
        np.testing.assert_allclose(force, numeric.force_on_sphere, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(point, numeric.contact_point, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(moment, numeric.moment_about(ORIGIN), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("clearance", "velocity"),
    [
        (0.0, (0.0, 0.0, 0.0)),  # boundary, no slip: sqrt(|v_t|^2 + cf) keeps it smooth
        (0.0, (0.2, 0.0, 0.0)),  # slip exactly at the transition velocity (min kink)
        (-0.01, (0.0, 1.0 / 3.0, 0.0)),  # v_n = -2/(3c): centre of the dissipation switch
        (0.05, (0.3, -0.1, 0.2)),  # far above
    ],
)
def test_jacobian_finite_at_contact_boundary(clearance, velocity) -> None:
    _, c, v, w, outputs = _symbolic_function(ca.SX)
    jac = ca.Function("jac_force", [c, v, w], [ca.jacobian(outputs[0], ca.vertcat(c, v, w))])
    center = np.array([0.0, PARAMS.radius + clearance, 0.0])
    value = np.asarray(jac(center, np.asarray(velocity), np.zeros(3)))
    assert value.shape == (3, 9)
    assert np.all(np.isfinite(value))


def test_vertical_stiffness_matches_finite_difference_at_boundary() -> None:
    _, c, v, w, outputs = _symbolic_function(ca.SX)
    jac = ca.Function("jac_force", [c, v, w], [ca.jacobian(outputs[0][1], c)])
    center = np.array([0.0, PARAMS.radius, 0.0])
    ad = float(jac(center, np.zeros(3), np.zeros(3))[1])
    h = 1e-8
    up = _at_height(h).force_on_sphere[1]
    down = _at_height(-h).force_on_sphere[1]
    assert ad == pytest.approx((up - down) / (2 * h), rel=1e-5)
    assert ad < 0.0  # the force grows as the sphere goes down


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [{"stiffness": 0.0}, {"radius": -1.0}, {"dissipation": -1.0}, {"static_friction": -0.1}],
)
def test_invalid_parameters_raise(changes: dict[str, float]) -> None:
    kwargs = {
        "stiffness": 1e6,
        "dissipation": 2.0,
        "static_friction": 0.8,
        "dynamic_friction": 0.8,
        "viscous_friction": 0.5,
        "transition_velocity": 0.2,
        "radius": 0.032,
    }
    kwargs.update(changes)
    with pytest.raises(ModelError):
        SmoothContactParameters(**kwargs)


def test_parameters_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        SmoothContactParameters(1e6, 2.0, 0.8, 0.8, 0.5, 0.2, 0.032)  # type: ignore[misc]


# --------------------------------------------------------------------------------------
# OpenSim oracle (separate process: opensim and casadi cannot share one)
# --------------------------------------------------------------------------------------
_ORACLE = textwrap.dedent(
    """
    import json, sys
    import opensim as osim
    out = []
    for c in json.load(sys.stdin):
        model = osim.Model()
        body = osim.Body("b", 1.0, osim.Vec3(0), osim.Inertia(1))
        model.addBody(body)
        joint = osim.FreeJoint("j", model.getGround(), body)
        model.addJoint(joint)
        sphere = osim.ContactSphere(0.03, osim.Vec3(*c["loc"]), body, "s")
        model.addContactGeometry(sphere)
        plane = osim.ContactHalfSpace(
            osim.Vec3(0), osim.Vec3(0, 0, -1.5707963267948966), model.getGround(), "p")
        model.addContactGeometry(plane)
        force = osim.SmoothSphereHalfSpaceForce("f", sphere, plane)
        force.set_stiffness(1e6); force.set_dissipation(2.0)
        force.set_static_friction(0.8); force.set_dynamic_friction(0.6)
        force.set_viscous_friction(0.5); force.set_transition_velocity(0.2)
        model.addForce(force)
        s = model.initSystem()
        for i in range(6):
            joint.get_coordinates(i).setValue(s, c["q"][i], False)
            joint.get_coordinates(i).setSpeedValue(s, c["u"][i])
        model.realizeDynamics(s)
        loc = osim.Vec3(*c["loc"])
        vec = lambda v: [v.get(i) for i in range(3)]
        values = force.getRecordValues(s)
        out.append({
            "center": vec(body.findStationLocationInGround(s, loc)),
            "velocity": vec(body.findStationVelocityInGround(s, loc)),
            "omega": vec(body.getAngularVelocityInGround(s)),
            "origin": vec(body.getPositionInGround(s)),
            "force": [values.get(i) for i in range(3)],
            "torque": [values.get(i) for i in range(3, 6)],
        })
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)
    """
)


@pytest.mark.opensim
@pytest.mark.skipif(importlib.util.find_spec("opensim") is None, reason="opensim not installed")
def test_matches_opensim_smooth_sphere_half_space_force(tmp_path) -> None:
    rng = np.random.default_rng(7)
    cases = [
        {
            "loc": rng.uniform(-0.05, 0.05, 3).tolist(),
            "q": [*rng.uniform(-1, 1, 3), rng.uniform(-0.1, 0.1), rng.uniform(0.0, 0.08), 0.0],
            "u": rng.uniform(-3, 3, 6).tolist(),
        }
        for _ in range(30)
    ]
    out_file = tmp_path / "oracle.json"
    subprocess.run(
        [sys.executable, "-c", _ORACLE, str(out_file)],
        input=json.dumps(cases),
        text=True,
        check=True,
        capture_output=True,
        cwd=tmp_path,  # OpenSim writes opensim.log into its working directory
    )
    p = SmoothContactParameters(
        stiffness=1e6,
        dissipation=2.0,
        static_friction=0.8,
        dynamic_friction=0.6,
        viscous_friction=0.5,
        transition_velocity=0.2,
        radius=0.03,
    )
    checked = 0
    for ref in json.loads(out_file.read_text()):
        result = sphere_halfspace_force(
            np.array(ref["center"]),
            np.array(ref["velocity"]),
            ORIGIN,
            UP,
            p,
            angular_velocity=np.array(ref["omega"]),
        )
        force = np.array(ref["force"])
        scale = max(np.linalg.norm(force), 1e-3)
        np.testing.assert_allclose(result.force_on_sphere, force, rtol=0, atol=1e-10 * scale)
        torque = result.moment_about(np.array(ref["origin"]))
        np.testing.assert_allclose(torque, ref["torque"], rtol=0, atol=1e-10 * scale)
        checked += np.linalg.norm(force) > 1.0
    assert checked >= 5  # enough cases actually in contact
