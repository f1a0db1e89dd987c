"""Induced acceleration analysis against analytic answers, linearity and Newton's laws.

The strides are the shipped gait2d walking solutions (forward 1.3 m/s, backward
-0.8 m/s); the analytic cases are a single rigid body standing on one contact sphere
(rolling, or pivoting about its contact point), solved by hand with Newton-Euler.
"""

from __future__ import annotations

import dataclasses
import math

import casadi as ca
import numpy as np
import pytest

from gaitsim.analysis.gait_metrics import CONTACT_THRESHOLD, STANDARD_GRAVITY, contact_events
from gaitsim.analysis.induced_acceleration import (
    AppliedForces,
    ContactConstraint,
    InducedAccelerationSpec,
    constrained_contacts,
    induced_accelerations,
    solve_induced_accelerations,
    stride_forces,
)
from gaitsim.errors import ModelError
from gaitsim.mechanics.model_functions import build
from gaitsim.model.description import (
    Body,
    ContactSphere,
    Coordinate,
    Frame,
    HalfSpace,
    Joint,
    JointType,
    Model,
    Motion,
    SmoothContact,
)

DIRECTIONS = ("forward", "backward")
CONSTRAINTS = (ContactConstraint.ROLLING, ContactConstraint.POINT)
G = 9.80665


@pytest.fixture(scope="module")
def analyses(shipped_stride):  # type: ignore[no-untyped-def]
    """Induced accelerations of both shipped strides with each contact constraint."""
    cache = {}
    for direction in DIRECTIONS:
        model, functions, result = shipped_stride(direction)
        for constraint in (*CONSTRAINTS, ContactConstraint.NONE):
            spec = InducedAccelerationSpec(constraint=constraint)
            cache[direction, constraint] = induced_accelerations(model, functions, result, spec)
    return cache


# ---------------------------------------------------------------------------------------
# Linearity: the contributions sum to the total
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_contributions_sum_to_the_total(analyses, direction, constraint) -> None:  # type: ignore[no-untyped-def]
    ia = analyses[direction, constraint]
    assert ia.constrained.any(), "some frames must have constrained contacts"
    errors = ia.sum_errors()
    # The total is a separate solve with all generalised forces summed; the two differ by
    # rounding only (about 1e-12 of accelerations of 1e2-1e3 rad/s^2 and forces of 1e3 N).
    # 1e-6 (rad/s^2, m/s^2, N) is the bound.
    assert errors["accelerations"] < 1e-6
    assert errors["com_accelerations"] < 1e-6
    assert errors["contact_forces"] < 1e-6
    # Per foot as well (the GRF shares).
    for side in ia.sides:
        summed = sum(ia.grf(name, side) for name in ia.contributor_names)
        np.testing.assert_allclose(summed, ia.total_grf(side), rtol=0, atol=1e-6)


def test_tidy_table_rows_sum_to_the_total(analyses) -> None:  # type: ignore[no-untyped-def]
    ia = analyses["forward", ContactConstraint.ROLLING]
    table = ia.tidy_table().to_pydict()
    n, n_k, n_q = ia.accelerations.shape
    assert len(table["value"]) == n * (n_k + 1) * (n_q + 3 + 3 * len(ia.sides))
    value = np.asarray(table["value"])
    kind = np.asarray(table["kind"])
    key = np.char.add(np.asarray(table["quantity"]), np.asarray(table["name"]))
    knee = key == "accelerationknee_angle_r"
    parts = value[knee & (kind != "total")].reshape(n_k, n).sum(axis=0)
    total = value[knee & (kind == "total")]
    # Same numbers as the arrays, regrouped: rounding only.
    np.testing.assert_allclose(parts, total, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(
        total, ia.total_accelerations[:, ia.coordinate_names.index("knee_angle_r")]
    )


# ---------------------------------------------------------------------------------------
# Without contact: M^-1 tau, checked with the model's own forward dynamics
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_unconstrained_contributions_are_forward_dynamics(
    analyses, shipped_stride, direction
) -> None:  # type: ignore[no-untyped-def]
    model, functions, result = shipped_stride(direction)
    ia = analyses[direction, ContactConstraint.NONE]
    assert not ia.constrained.any()
    assert np.all(ia.contact_forces == 0.0)
    fd = functions.forward_dynamics  # CasADi symbolic QR, independent of the SciPy path
    no_loads = np.zeros((6, len(model.bodies)))
    zero = np.zeros(functions.n_q)
    for i in range(0, result.time.size, 9):
        q, qd = result.q[i], result.qd[i]
        resting = np.asarray(fd(q, zero, zero, no_loads)).ravel()  # gravity alone
        moving = np.asarray(fd(q, qd, zero, no_loads)).ravel()  # gravity + velocity
        arms = np.asarray(functions.moment_arms(q))
        checks = {
            "gravity": resting,
            "velocity": moving - resting,
        }
        for m, name in enumerate(model.muscle_names):
            tau = arms[m] * result.tendon_forces[i, m]
            checks[name] = np.asarray(fd(q, zero, tau, no_loads)).ravel() - resting
        for name, expected in checks.items():
            got = ia.accelerations[i, ia.contributor_names.index(name)]
            # Two linear solves of a 10x10 system (condition ~1e4) by different methods:
            # agreement to ~1e-11 relative; 1e-8 of the largest entry leaves margin.
            scale = max(1.0, float(np.max(np.abs(expected))))
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8 * scale, err_msg=name)


# ---------------------------------------------------------------------------------------
# The constraints hold, computed independently from the sphere centres and body poses
# ---------------------------------------------------------------------------------------


def _contact_point_accelerations(model, functions, constraint):  # type: ignore[no-untyped-def]
    """``(q, qd, qdd) -> 3 x n_contacts``: acceleration of the constrained point of each
    contact, from ``sphere_centres`` and ``body_poses`` (not the module's own Jacobians)."""
    n = functions.n_q
    q, qd, qdd = ca.SX.sym("q", n), ca.SX.sym("qd", n), ca.SX.sym("qdd", n)
    centres = functions.sphere_centres(q)
    _, rotations = functions.body_poses(q)
    bodies = [b.name for b in model.bodies]
    spheres = {s.name: (k, s) for k, s in enumerate(model.contact_spheres)}
    columns = []
    for c in model.contacts:
        k, sphere = spheres[c.sphere]
        b = bodies.index(sphere.body)
        centre = centres[:, k]
        velocity = ca.jtimes(centre, q, qd)
        acceleration = ca.jtimes(velocity, q, qd) + ca.jtimes(centre, q, qdd)
        rotation = rotations[:, 3 * b : 3 * b + 3]
        rdot = ca.reshape(ca.jtimes(ca.vec(rotation), q, qd), 3, 3)
        w = rdot @ rotation.T
        omega = ca.vertcat(w[2, 1], w[0, 2], w[1, 0])
        alpha = ca.jtimes(omega, q, qd) + ca.jtimes(omega, qd, qdd)
        offset = ca.DM([0.0, -sphere.radius, 0.0])  # the gait2d floor's normal is +y
        point = acceleration + ca.cross(alpha, offset)
        if constraint is ContactConstraint.POINT:
            point += ca.cross(omega, ca.cross(omega, offset))
        columns.append(point)
    return ca.Function("contact_point_acceleration", [q, qd, qdd], [ca.horzcat(*columns)])


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_constraints_hold_for_the_total(analyses, shipped_stride, direction, constraint) -> None:  # type: ignore[no-untyped-def]
    model, functions, result = shipped_stride(direction)
    ia = analyses[direction, constraint]
    # The gait2d floor: normal +y, tangents +x and +z.
    np.testing.assert_allclose(ia.contact_normals, np.tile([0.0, 1.0, 0.0], (4, 1)), atol=1e-15)
    # Every constrained contact has its normal (non-penetration) row enforced.
    np.testing.assert_array_equal(ia.enforced[:, :, 0], ia.constrained)
    accelerate = _contact_point_accelerations(model, functions, constraint)
    worst = 0.0
    for i in range(result.time.size):
        points = np.asarray(accelerate(result.q[i], result.qd[i], ia.total_accelerations[i]))
        for c in range(len(model.contacts)):
            for axis in range(3):
                if ia.enforced[i, c, axis]:
                    worst = max(worst, abs(float(ia.contact_axes[c, axis] @ points[:, c])))
    # J q̈ = -J̇q̇ is solved to rounding; 1e-8 m/s^2 is the bound.
    assert worst < 1e-8
    assert float(np.max(ia.constraint_residual)) < 1e-8
    # A flat planar foot gets 3 rows, a foot on one sphere 2: never more than 3 per foot.
    for side in ia.sides:
        idx = [k for k, s in enumerate(ia.contact_sides) if s == side]
        assert ia.enforced[:, idx].reshape(len(ia.time), -1).sum(axis=1).max() <= 3


def test_contacts_are_constrained_when_the_foot_is_loaded(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    model, functions, result = shipped_stride("forward")
    constrained, _ = constrained_contacts(model, functions, result.q, result.qd)
    weight = model.total_mass * STANDARD_GRAVITY
    sides = ("r", "l", "r", "l")  # contacts: heel_r, heel_l, front_r, front_l
    assert [c.name[-1] for c in model.contacts] == list(sides)
    for side in ("r", "l"):
        idx = [k for k, s in enumerate(sides) if s == side]
        loaded = result.grf[side][:, 1] > CONTACT_THRESHOLD * weight
        np.testing.assert_array_equal(constrained[:, idx].any(axis=1), loaded)


# ---------------------------------------------------------------------------------------
# Invariances and Newton's law for the whole body
# ---------------------------------------------------------------------------------------


def test_a_muscle_without_force_contributes_exactly_zero(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    model, functions, result = shipped_stride("forward")
    tendon = result.tendon_forces.copy()
    k = model.muscle_names.index("rect_fem_r")
    tendon[:, k] = 0.0
    silent = dataclasses.replace(result, tendon_forces=tendon)
    ia = induced_accelerations(model, functions, silent)
    assert np.all(ia.accelerations[:, k] == 0.0)
    assert np.all(ia.com_accelerations[:, k] == 0.0)
    assert np.all(ia.contact_forces[:, k] == 0.0)
    # ... and the other muscles' shares do not depend on it (linearity).
    full = induced_accelerations(model, functions, result)
    other = model.muscle_names.index("vasti_r")
    np.testing.assert_array_equal(ia.accelerations[:, other], full.accelerations[:, other])


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_newtons_law_for_the_whole_body(analyses, shipped_stride, direction) -> None:  # type: ignore[no-untyped-def]
    """m a_com = sum of external forces, per contributor: muscles, the trunk actuator and
    the velocity terms are internal, so only their share of the ground force moves the
    centre of mass; gravity adds the weight."""
    model, _, _ = shipped_stride(direction)
    ia = analyses[direction, ContactConstraint.ROLLING]
    mass = model.total_mass
    ground = ia.contact_forces.sum(axis=2)  # (n, n_k, 3)
    weight = mass * np.asarray(model.gravity)
    for k, (name, kind) in enumerate(zip(ia.contributor_names, ia.contributor_kinds, strict=True)):
        if kind == "residual":  # acts on the pelvis translations: external
            continue
        expected = ground[:, k] + (weight if kind == "gravity" else 0.0)
        # Momentum balance holds to rounding of forces ~1e3 N: 1e-7 N.
        np.testing.assert_allclose(
            mass * ia.com_accelerations[:, k], expected, atol=1e-7, err_msg=name
        )


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_rolling_and_point_differ_only_in_the_velocity_term(analyses, direction) -> None:  # type: ignore[no-untyped-def]
    rolling = analyses[direction, ContactConstraint.ROLLING]
    point = analyses[direction, ContactConstraint.POINT]
    velocity = rolling.contributor_names.index("velocity")
    others = [k for k in range(len(rolling.contributor_names)) if k != velocity]
    # Same Jacobian, same rows: identical up to rounding.
    np.testing.assert_allclose(
        rolling.accelerations[:, others], point.accelerations[:, others], rtol=0, atol=1e-9
    )
    # The centripetal term w x (w x d) of a pinned point changes the velocity share.
    difference = np.abs(rolling.accelerations[:, velocity] - point.accelerations[:, velocity])
    assert difference.max() > 1e-3


def test_plantarflexors_support_the_body_in_late_stance(analyses, shipped_stride) -> None:  # type: ignore[no-untyped-def]
    """Anderson & Pandy (2003, Gait Posture 17:159-169) and Liu et al. (2006, J Biomech
    39:2623-2630): in the second half of stance of normal walking, soleus and
    gastrocnemius give most of the muscles' support (upward ground force). A literature
    check of the analysis on the forward stride (not a property of the method)."""
    model, _, result = shipped_stride("forward")
    ia = analyses["forward", ContactConstraint.ROLLING]
    weight = model.total_mass * STANDARD_GRAVITY
    events = contact_events(result.grf["r"][:, 1] / weight, result.time)
    begin, end = events.main_stance
    since = np.mod(result.time - begin, events.period)
    late = events.in_stance(result.time) & (since >= 0.5 * (end - begin))
    share = {
        m: float(np.mean(ia.grf(m, "r")[late, 1])) / weight
        for m in model.muscle_names
        if m.endswith("_r")
    }
    plantarflexors = share["soleus_r"] + share["gastroc_r"]
    others = [v for m, v in share.items() if m not in ("soleus_r", "gastroc_r")]
    print({m: round(v, 3) for m, v in share.items()})
    assert plantarflexors > 0.0
    assert share["soleus_r"] > max(others) and share["gastroc_r"] > max(others)


def test_clinical_signs_at_the_edge(analyses) -> None:  # type: ignore[no-untyped-def]
    ia = analyses["forward", ContactConstraint.ROLLING]
    model_signs = ia.contribution("vasti_r", "knee_angle_r")
    clinical = ia.contribution("vasti_r", "knee_angle_r", clinical=True)
    # Knee flexion is negative in the model, positive clinically; degrees at the edge.
    np.testing.assert_allclose(clinical, -np.rad2deg(model_signs), rtol=1e-15)
    hip = ia.contribution("vasti_r", "hip_flexion_r", clinical=True)
    np.testing.assert_allclose(hip, np.rad2deg(ia.contribution("vasti_r", "hip_flexion_r")))
    table = ia.tidy_table(clinical=True).to_pydict()
    units = {
        (q, n): u for q, n, u in zip(table["quantity"], table["name"], table["unit"], strict=True)
    }
    assert units["acceleration", "knee_angle_r"] == "deg/s^2"
    assert units["acceleration", "pelvis_tx"] == "m/s^2"


def test_informational_deviation_from_the_stride(analyses) -> None:  # type: ignore[no-untyped-def]
    """Rigid constraints are not the stride's compliant contact: print how far apart they
    are (no tight bound, by design), and check the figures are finite."""
    for direction in DIRECTIONS:
        ia = analyses[direction, ContactConstraint.ROLLING]
        deviation = ia.reference_deviation()
        feet = [
            ia.constrained[:, [k for k, s in enumerate(ia.contact_sides) if s == side]].any(1)
            for side in ia.sides
        ]
        single = np.sum(feet, axis=0) == 1
        knee = ia.coordinate_names.index("knee_angle_r")
        diff = ia.total_accelerations[:, knee] - ia.reference_accelerations[:, knee]
        print(
            f"{direction}: knee_angle_r RMS {deviation['knee_angle_r']:.1f} rad/s^2 over the "
            f"stride, median |diff| {np.median(np.abs(diff)):.2f} rad/s^2, "
            f"{np.median(np.abs(diff[single])):.2f} rad/s^2 with one foot on the floor"
        )
        assert all(math.isfinite(v) for v in deviation.values())


# ---------------------------------------------------------------------------------------
# Analytic cases: one rigid body on one sphere
# ---------------------------------------------------------------------------------------

MASS, RADIUS, IZZ = 3.0, 0.05, 0.2
COM = (0.05, 0.6, 0.0)


def _body_on_a_sphere() -> Model:
    """A rigid body free in the plane (tilt, x, y) with a contact sphere at its origin."""
    joint = Joint(
        "free",
        JointType.PLANAR,
        Frame("ground"),
        Frame("rod"),
        (
            Coordinate("tilt"),
            Coordinate("tx", Motion.TRANSLATIONAL, (-5.0, 5.0)),
            Coordinate("ty", Motion.TRANSLATIONAL, (-5.0, 5.0)),
        ),
    )
    return Model(
        "rod",
        (Body("rod", MASS, COM, (IZZ, 0.05, IZZ, 0.0, 0.0, 0.0)),),
        (joint,),
        contact_spheres=(ContactSphere("ball", "rod", (0.0, 0.0, 0.0), RADIUS),),
        half_spaces=(HalfSpace("floor"),),
        contacts=(SmoothContact("ball_floor", "ball", "floor", 1e6, 2.0, 0.8, 0.8, 0.5),),
    )


def _newton_euler(theta, omega, constraint, gravity, torque, centripetal):  # type: ignore[no-untyped-def]
    """Solve for (alpha, Fx, Fy) by hand: m a_G = F + m g, I alpha = ((P - G) x F)_z + tau,
    with a_G = a_C + alpha z x s - w^2 s and the contact condition on a_C."""
    c, s_ = math.cos(theta), math.sin(theta)
    s = np.array([c * COM[0] - s_ * COM[1], s_ * COM[0] + c * COM[1]])  # C -> G
    d = np.array([0.0, -RADIUS])  # C -> contact point
    # a_C = alpha * k + a0: rolling a_C = (-alpha r, 0); point adds (0, -w^2 r)... as
    # a_C = -alpha z x d + w^2 d.
    k = np.array([-RADIUS, 0.0])  # -z x d = -(r, 0)... z x d = (r, 0)
    a0 = omega**2 * d if constraint is ContactConstraint.POINT else np.zeros(2)
    z_cross_s = np.array([-s[1], s[0]])
    lever = d - s  # G -> P
    a = np.zeros((3, 3))
    b = np.zeros(3)
    # m (alpha (k + z x s) + a0 - w^2 s) - F = m g
    a[0:2, 0] = MASS * (k + z_cross_s)
    a[0:2, 1:3] = -np.eye(2)
    b[0:2] = MASS * np.array(gravity)
    if centripetal:
        b[0:2] += -MASS * (a0 - omega**2 * s)
    # I alpha - (lever x F)_z = tau
    a[2, 0] = IZZ
    a[2, 1:3] = [lever[1], -lever[0]]
    b[2] = torque
    alpha, fx, fy = np.linalg.solve(a, b)
    a_c = alpha * k + (a0 if centripetal else 0.0)
    a_g = a_c + alpha * z_cross_s - (omega**2 * s if centripetal else 0.0)
    return np.array([alpha, a_c[0], a_c[1]]), a_g, np.array([fx, fy])


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_body_on_a_sphere_matches_newton_euler(constraint) -> None:  # type: ignore[no-untyped-def]
    model = _body_on_a_sphere()
    functions = build(model)
    thetas = np.array([0.0, 0.3, -0.5])
    omegas = np.array([1.5, -2.0, 0.7])
    q = np.stack([thetas, np.full(3, 0.2), np.full(3, RADIUS)], axis=1)
    qd = np.stack([omegas, np.full(3, -0.3), np.zeros(3)], axis=1)
    torque = 4.0
    zero = np.zeros(3)
    c_static = np.stack([np.asarray(functions.bias_forces(qi, zero)).ravel() for qi in q])
    c_full = np.stack(
        [np.asarray(functions.bias_forces(qi, vi)).ravel() for qi, vi in zip(q, qd, strict=True)]
    )
    applied = np.stack([-c_static, -(c_full - c_static), np.tile([torque, 0.0, 0.0], (3, 1))], 1)
    forces = AppliedForces(
        ("gravity", "velocity", "motor"), ("gravity", "velocity", "other"), applied
    )
    spec = InducedAccelerationSpec(constraint=constraint)
    ia = solve_induced_accelerations(
        model, functions, np.arange(3.0), q, qd, forces, np.ones((3, 1), dtype=bool), None, spec
    )
    g = (0.0, -G)
    for i, (theta, omega) in enumerate(zip(thetas, omegas, strict=True)):
        cases = {
            "gravity": _newton_euler(theta, 0.0, constraint, g, 0.0, False),
            "velocity": _newton_euler(theta, omega, constraint, (0.0, 0.0), 0.0, True),
            "motor": _newton_euler(theta, 0.0, constraint, (0.0, 0.0), torque, False),
        }
        for name, (qdd, a_g, force) in cases.items():
            k = ia.contributor_names.index(name)
            # Hand-solved 3x3 system against the model's Jacobians: rounding only.
            np.testing.assert_allclose(ia.accelerations[i, k], qdd, atol=1e-10, err_msg=name)
            np.testing.assert_allclose(
                ia.com_accelerations[i, k, :2], a_g, atol=1e-10, err_msg=name
            )
            np.testing.assert_allclose(
                ia.contact_forces[i, k, 0, :2], force, atol=1e-9, err_msg=name
            )
    assert ia.enforced_rows.tolist() == [2, 2, 2]  # normal and forward no-slip; z is out of plane


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_balanced_body_stays_in_static_equilibrium(constraint) -> None:  # type: ignore[no-untyped-def]
    """With its centre of mass straight above the contact, gravity and the constraint
    cancel: zero acceleration and a vertical ground force equal to the weight."""
    model = _body_on_a_sphere()
    functions = build(model)
    theta = math.atan2(COM[0], COM[1])  # rotates the centre of mass over the sphere
    q = np.array([[theta, 0.0, RADIUS]])
    qd = np.zeros((1, 3))
    gravity = -np.asarray(functions.bias_forces(q[0], qd[0])).ravel()
    forces = AppliedForces(("gravity",), ("gravity",), gravity[None, None, :])
    ia = solve_induced_accelerations(
        model,
        functions,
        np.zeros(1),
        q,
        qd,
        forces,
        np.ones((1, 1), dtype=bool),
        None,
        InducedAccelerationSpec(constraint=constraint),
    )
    # Exact equilibrium up to rounding of m g ~ 30 N.
    np.testing.assert_allclose(ia.com_accelerations[0, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(ia.accelerations[0, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(ia.contact_forces[0, 0, 0], [0.0, MASS * G, 0.0], atol=1e-10)


# ---------------------------------------------------------------------------------------
# Loud failures
# ---------------------------------------------------------------------------------------


def test_bad_input_is_refused(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    model, functions, result = shipped_stride("forward")
    with pytest.raises(ValueError, match="sphere_share"):
        InducedAccelerationSpec(sphere_share=1.5)
    with pytest.raises(ValueError, match="'bogus' is not a valid ContactConstraint"):
        InducedAccelerationSpec(constraint="bogus")  # type: ignore[arg-type]
    swapped = dataclasses.replace(result, muscle_names=tuple(reversed(result.muscle_names)))
    with pytest.raises(ModelError, match="muscles"):
        stride_forces(model, functions, swapped)
    forces = stride_forces(model, functions, result)
    with pytest.raises(ValueError, match="constrained must have shape"):
        solve_induced_accelerations(
            model, functions, result.time, result.q, result.qd, forces, np.zeros((3, 4), bool)
        )
    with pytest.raises(ValueError, match="unknown contributor kinds"):
        AppliedForces(("a",), ("magic",), np.zeros((1, 1, 10)))
    ia = induced_accelerations(model, functions, result)
    with pytest.raises(KeyError, match="no contributor 'quads'"):
        ia.contribution("quads", "knee_angle_r")
    with pytest.raises(KeyError, match="no coordinate"):
        ia.contribution("vasti_r", "knee")
