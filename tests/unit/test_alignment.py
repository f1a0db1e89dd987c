"""Alignment changes of gait3d (gaitsim.alignment), checked by geometry measured through
the model's kinematics, and the transfer of a motion onto a changed model."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from gaitsim.alignment import (
    POSITION_TOLERANCE,
    Alignment,
    FemoralTorsion,
    KneeVarus,
    Presentation,
    align_motion,
    apply_alignment,
    femoral_anteversion,
    knee_varus_angle,
)
from gaitsim.analysis.joint_loads import BodyLoad, LoadedMotion, joint_load
from gaitsim.errors import ModelError
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import Linear, Model, MovingPathPoint

# Measured angles come from central differences of the knee rotation (step 1e-6 rad:
# truncation error ~1e-13) and from atan2 of projected vectors; 1e-9 rad leaves room for
# rounding only, far below the smallest change tested (5 degrees = 0.087 rad).
ANGLE_TOL = 1e-9


@pytest.fixture(scope="module")
def gait3d() -> Model:
    return load_builtin("gait3d")


@pytest.fixture(scope="module")
def gait3d_functions(gait3d: Model) -> ModelFunctions:
    return build(gait3d)


def _default_poses(model: Model) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    functions = build(model)
    q = np.array([c.default for c in model.coordinates])
    p, r = functions.body_poses(q)
    p, r = np.asarray(p), np.asarray(r)
    names = [b.name for b in model.bodies]
    return (
        {n: p[:, k] for k, n in enumerate(names)},
        {n: r[:, 3 * k : 3 * k + 3] for k, n in enumerate(names)},
    )


def _markers(model: Model) -> dict[str, np.ndarray]:
    functions = build(model)
    q = np.array([c.default for c in model.coordinates])
    positions = np.asarray(functions.marker_positions(q))
    return {m.name: positions[:, k] for k, m in enumerate(model.markers)}


@pytest.mark.parametrize("degrees", [20.0, -20.0, 35.0])
def test_femoral_torsion_changes_the_measured_anteversion(gait3d: Model, degrees: float) -> None:
    changed = apply_alignment(gait3d, Alignment("t", (FemoralTorsion(math.radians(degrees)),)))
    for side in ("r", "l"):
        before = femoral_anteversion(gait3d, side)
        after = femoral_anteversion(changed, side)
        assert after - before == pytest.approx(math.radians(degrees), abs=ANGLE_TOL)
    # The gait3d femur has no neck: its direction is assumed 12 degrees from the
    # condylar (Z) axis about the frame's Y axis. Measured about the mechanical axis,
    # which is tilted from Y by atan(5 mm / 396 mm) = 0.75 deg in the sagittal plane, the
    # projection shifts the angle by less than a degree.
    assert math.degrees(femoral_anteversion(gait3d, "r")) == pytest.approx(12.0, abs=1.0)


def test_femoral_torsion_turns_only_the_femur_about_its_mechanical_axis(gait3d: Model) -> None:
    angle = math.radians(20.0)
    changed = apply_alignment(gait3d, Alignment("t", (FemoralTorsion(angle, ("r",)),)))
    p0, _ = _default_poses(gait3d)
    p1, _ = _default_poses(changed)
    # Hip and knee centres (femur and tibia origins) keep their places: the torsion axis
    # runs through both (rounding only).
    for body in ("pelvis", "femur_r", "tibia_r", "femur_l", "tibia_l", "torso"):
        np.testing.assert_allclose(p1[body], p0[body], atol=1e-15)  # bit-level rounding
    # The foot swings about the mechanical axis (the leg below the knee turns in).
    assert np.linalg.norm(p1["calcn_r"] - p0["calcn_r"]) > 0.01
    # Everything off the right femur is untouched, in the description itself.
    for a, b in zip(gait3d.bodies, changed.bodies, strict=True):
        if a.name != "femur_r":
            assert a == b
    for a, b in zip(gait3d.muscles, changed.muscles, strict=True):
        if all(p.body != "femur_r" for p in a.path):
            assert a == b
    hip = next(j for j in changed.joints if j.name == "hip_r")
    assert hip == next(j for j in gait3d.joints if j.name == "hip_r")  # s = 0: no change
    # Every femur point moves on a circle about the axis through the hip centre (the
    # femur origin) and the knee centre: distance to the hip and projection on the axis
    # are kept, and the angle turned is angle * s, s its fraction of the femur length.
    knee = p0["tibia_r"] - p0["femur_r"]  # default pose: femur frame = ground axes
    length = float(np.linalg.norm(knee))
    down = knee / length
    old = {m.name: m for m in gait3d.markers}
    for marker in changed.markers:
        if marker.body != "femur_r":
            assert marker == old[marker.name]
            continue
        a, b = np.array(old[marker.name].location), np.array(marker.location)
        # A rotation moves points of ~0.4 m by rounding only: 1e-12 m.
        assert np.linalg.norm(b) == pytest.approx(np.linalg.norm(a), abs=1e-12)
        assert b @ down == pytest.approx(a @ down, abs=1e-12)
        s = float(np.clip(a @ down / length, 0.0, 1.0))
        ra, rb = a - (a @ down) * down, b - (b @ down) * down
        turned = math.atan2(np.cross(ra, rb) @ (-down), ra @ rb)
        # Right leg: internal rotation is about +Y (up), i.e. about -down.
        assert turned == pytest.approx(angle * s, abs=1e-9)


@pytest.mark.parametrize("degrees", [5.0, -5.0, 10.0])
def test_knee_varus_changes_the_measured_tibiofemoral_angle(gait3d: Model, degrees: float) -> None:
    changed = apply_alignment(gait3d, Alignment("v", (KneeVarus(math.radians(degrees)),)))
    for side in ("r", "l"):
        assert knee_varus_angle(gait3d, side) == pytest.approx(0.0, abs=ANGLE_TOL)
        assert knee_varus_angle(changed, side) == pytest.approx(
            math.radians(degrees), abs=ANGLE_TOL
        )
        # The anteversion (a femur property) does not change.
        assert femoral_anteversion(changed, side) == pytest.approx(
            femoral_anteversion(gait3d, side), abs=ANGLE_TOL
        )


def test_knee_varus_turns_the_tibia_about_the_knee_and_nothing_else(gait3d: Model) -> None:
    angle = math.radians(5.0)
    changed = apply_alignment(gait3d, Alignment("v", (KneeVarus(angle, ("r",)),)))
    before, after = _markers(gait3d), _markers(changed)
    p0, _ = _default_poses(gait3d)
    knee = p0["tibia_r"]
    bodies = {m.name: m.body for m in gait3d.markers}
    for name, body in bodies.items():
        if body in ("tibia_r", "calcn_r"):
            # Rigid rotation about the tibia's antero-posterior (ground X at the default
            # pose) axis through the knee centre: distance kept, the X coordinate kept.
            a, b = before[name] - knee, after[name] - knee
            # Rigid rotation evaluated in floating point: 1e-12 m, 1e-9 rad (atan2 of
            # short vectors) are rounding bounds.
            assert np.linalg.norm(b) == pytest.approx(np.linalg.norm(a), abs=1e-12)
            assert b[0] == pytest.approx(a[0], abs=1e-12)
            turned = math.atan2(a[1] * b[2] - a[2] * b[1], a[1] * b[1] + a[2] * b[2])
            # Varus on the right: the distal tibia goes medially (-Z): rotation about +X.
            assert turned == pytest.approx(angle, abs=1e-9)
        else:
            np.testing.assert_array_equal(after[name], before[name])
    for a, b in zip(gait3d.joints, changed.joints, strict=True):
        if a.name != "knee_r":
            assert a == b


def test_zero_change_gives_the_same_model(gait3d: Model) -> None:
    same = apply_alignment(gait3d, Alignment("z", (FemoralTorsion(0.0), KneeVarus(0.0))))
    assert same == gait3d


def test_bad_alignment_inputs_are_refused(gait3d: Model) -> None:
    with pytest.raises(ValueError, match="smaller than 90"):
        FemoralTorsion(math.nan).apply(gait3d)
    with pytest.raises(ValueError, match="smaller than 90"):
        KneeVarus(math.radians(95.0)).apply(gait3d)
    with pytest.raises(ValueError, match="sides"):
        KneeVarus(0.1, ("x",)).apply(gait3d)
    no_knee = dataclasses.replace(
        gait3d, joints=tuple(j for j in gait3d.joints if j.name != "knee_r")
    )
    with pytest.raises(ModelError, match="knee_r"):
        KneeVarus(0.1, ("r",)).apply(no_knee)
    # A moving path point on the femur cannot be twisted: refused, not left in place.
    muscle = gait3d.muscle("vas_lat_r")
    moving = MovingPathPoint(
        "moved", "femur_r", Linear(0.0, 0.03), Linear(0.0, -0.3), Linear(0.0, 0.03)
    )
    changed_muscle = dataclasses.replace(muscle, path=(moving, *muscle.path[1:]))
    odd = dataclasses.replace(
        gait3d,
        muscles=tuple(changed_muscle if m.name == muscle.name else m for m in gait3d.muscles),
    )
    with pytest.raises(ModelError, match="moving path point"):
        FemoralTorsion(0.2, ("r",)).apply(odd)


# --------------------------------------------------------------------------------------
# Moving a motion onto a changed model
# --------------------------------------------------------------------------------------
def _motion(model: Model, functions: ModelFunctions) -> LoadedMotion:
    """A smooth leg motion with the knee flexed and a ground force on each foot."""
    n = 25
    time = np.linspace(0.0, 0.5, n)
    q = np.tile([c.default for c in model.coordinates], (n, 1)).astype(float)
    qd, qdd = np.zeros_like(q), np.zeros_like(q)
    w = 2 * math.pi
    for side, phase in (("r", 0.0), ("l", math.pi)):
        for name, mean, amplitude in (
            (f"hip_flexion_{side}", 0.2, 0.25),
            (f"knee_angle_{side}", -0.5, 0.2),
            (f"ankle_angle_{side}", 0.05, 0.1),
            (f"hip_adduction_{side}", 0.03, 0.02),
        ):
            k = model.coordinate_names.index(name)
            q[:, k] = mean + amplitude * np.sin(w * time + phase)
            qd[:, k] = amplitude * w * np.cos(w * time + phase)
            qdd[:, k] = -amplitude * w**2 * np.sin(w * time + phase)
    pos, rot = functions.body_poses.map(n)(q.T)
    nb = len(model.bodies)
    positions = np.asarray(pos).reshape(3, n, nb).transpose(1, 2, 0)
    rotations = np.asarray(rot).reshape(3, n, nb, 3).transpose(1, 2, 0, 3)
    loads = []
    for side in ("r", "l"):
        k = [b.name for b in model.bodies].index(f"calcn_{side}")
        point = positions[:, k] + np.einsum("nij,j->ni", rotations[:, k], [0.12, -0.03, 0.0])
        force = np.column_stack(
            [40 * np.sin(w * time), 600 + 100 * np.cos(w * time), 15 + 0 * time]
        )
        torque = np.column_stack([0 * time, 3 * np.sin(w * time), 0 * time])
        loads.append(BodyLoad(f"calcn_{side}", force, point, torque, name=side))
    return LoadedMotion(time, q, qd, qdd, np.zeros((n, len(model.muscles))), tuple(loads), 700.0)


def _foot_poses(model: Model, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    functions = build(model)
    n = q.shape[0]
    nb = len(model.bodies)
    pos, rot = functions.body_poses.map(n)(q.T)
    k = [b.name for b in model.bodies].index("calcn_r")
    return (
        np.asarray(pos).reshape(3, n, nb)[:, :, k],
        np.asarray(rot).reshape(3, n, nb, 3)[:, :, k, :],
    )


def test_unchanged_alignment_carries_the_knee_load_over_unchanged(
    gait3d: Model, gait3d_functions: ModelFunctions
) -> None:
    motion = _motion(gait3d, gait3d_functions)
    reference = joint_load(gait3d, motion, "knee_r", functions=gait3d_functions)
    same = apply_alignment(gait3d, Alignment("unchanged"))
    for presentation in Presentation:
        aligned = align_motion(
            gait3d, same, motion, presentation, original_functions=gait3d_functions
        )
        assert not np.any(aligned.coordinate_change)
        load = joint_load(same, aligned.motion, "knee_r")
        # The load points are re-expressed through the foot frame and back: rounding
        # only (1e-9 N m on moments of tens of N m).
        np.testing.assert_allclose(load.net_moment, reference.net_moment, rtol=0, atol=1e-9)
        np.testing.assert_allclose(load.net_force, reference.net_force, rtol=0, atol=1e-9)


def test_same_foot_keeps_the_foot_pose_and_same_angles_moves_it(
    gait3d: Model, gait3d_functions: ModelFunctions
) -> None:
    motion = _motion(gait3d, gait3d_functions)
    changed = apply_alignment(gait3d, Alignment("v", (KneeVarus(math.radians(5.0)),)))
    p0, r0 = _foot_poses(gait3d, motion.q)
    same_foot = align_motion(gait3d, changed, motion, Presentation.SAME_FOOT)
    p1, r1 = _foot_poses(changed, same_foot.motion.q)
    # With the knee flexed the least-squares problem has an exact solution: the foot is
    # back to rounding (the solver stops at a squared residual of 1e-24).
    np.testing.assert_allclose(p1, p0, atol=1e-9)
    np.testing.assert_allclose(r1, r0, atol=1e-9)
    assert same_foot.position_residual < 1e-9 < POSITION_TOLERANCE
    # The loads did not move (their body is where it was, to the 1e-9 above) and keep
    # their forces exactly.
    for a, b in zip(motion.loads, same_foot.motion.loads, strict=True):
        np.testing.assert_allclose(b.point, a.point, atol=1e-9)
        np.testing.assert_array_equal(b.force, a.force)
    # Keeping the foot under a varus knee abducts the hip (the knee moves laterally).
    assert np.mean(same_foot.change(gait3d, "hip_adduction_r")) < -math.radians(0.5)

    same_angles = align_motion(gait3d, changed, motion, Presentation.SAME_ANGLES)
    np.testing.assert_array_equal(same_angles.motion.q, motion.q)
    p2, r2 = _foot_poses(changed, motion.q)
    assert np.min(np.linalg.norm(p2 - p0, axis=0)) > 0.02  # the foot swung medially
    # Loads ride with the foot: the same point in the foot's frame.
    load0, load2 = motion.loads[0], same_angles.motion.loads[0]
    local0 = np.einsum("jnk,nj->nk", r0, load0.point - p0.T)
    local2 = np.einsum("jnk,nj->nk", r2, load2.point - p2.T)
    np.testing.assert_allclose(local2, local0, atol=1e-12)  # frame round trip: rounding


def test_compensated_torsion_is_a_hip_rotation_and_leaves_the_knee_load(
    gait3d, gait3d_functions
) -> None:  # type: ignore[no-untyped-def]
    motion = _motion(gait3d, gait3d_functions)
    angle = math.radians(20.0)
    changed = apply_alignment(gait3d, Alignment("a", (FemoralTorsion(angle),)))
    aligned = align_motion(gait3d, changed, motion, Presentation.SAME_FOOT)
    # The hip turns externally by about the torsion (its axis, the femur's Y axis, is
    # 0.75 deg off the mechanical axis the torsion turns about, hence the 0.5 deg).
    assert np.mean(aligned.change(gait3d, "hip_rotation_r")) == pytest.approx(
        -angle, abs=math.radians(0.5)
    )
    assert np.mean(aligned.change(gait3d, "hip_rotation_l")) == pytest.approx(
        -angle, abs=math.radians(0.5)
    )
    reference = joint_load(gait3d, motion, "knee_r", functions=gait3d_functions)
    load = joint_load(changed, aligned.motion, "knee_r")
    # Shank and foot are back in place, so the knee's net load is the original one; the
    # knee axis itself differs by the small residual misalignment of the two axes, and
    # accelerations by spline derivatives of the (smooth) coordinate change:
    # 1e-3 of the moment scale.
    scale = np.max(np.abs(reference.net_moment))
    np.testing.assert_allclose(load.net_moment, reference.net_moment, atol=1e-3 * scale)
