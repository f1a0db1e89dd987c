"""Muscle paths: conditional points, moment arms, velocities."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import gaitsim
from gaitsim.mechanics.model_functions import BuildOptions
from gaitsim.model.description import (
    Body,
    ConditionalPathPoint,
    Coordinate,
    Frame,
    Joint,
    JointType,
    Model,
    Muscle,
    PathPoint,
)

THIGH = (-0.03, -0.1, 0.0)
VIA1 = (-0.05, -0.35, 0.0)
VIA2 = (-0.04, -0.42, 0.0)
SHANK = (-0.02, -0.05, 0.0)


def knee_model(via_ranges: tuple[tuple[float, float], ...]) -> Model:
    points = [PathPoint("origin", "thigh", THIGH)]
    for k, (rng, loc) in enumerate(zip(via_ranges, (VIA1, VIA2), strict=False)):
        points.append(ConditionalPathPoint(f"via{k}", "thigh", loc, "knee", rng))
    points.append(PathPoint("insertion", "shank", SHANK))
    return Model(
        "knee",
        (
            Body("thigh", 7.0, (0, -0.2, 0), (0.1, 0.02, 0.1, 0, 0, 0)),
            Body("shank", 3.0, (0, -0.2, 0), (0.04, 0.005, 0.04, 0, 0, 0)),
        ),
        (
            Joint("hip", JointType.WELD, Frame("ground"), Frame("thigh")),
            Joint(
                "knee",
                JointType.PIN,
                Frame("thigh", (0, -0.4, 0)),
                Frame("shank"),
                (Coordinate("knee", range=(-2.0, 0.2)),),
            ),
        ),
        (Muscle("m", 1000.0, 0.1, 0.3, 0.0, 10.0, tuple(points)),),
    )


def polyline(points: list[np.ndarray]) -> float:
    return float(sum(np.linalg.norm(b - a) for a, b in zip(points[:-1], points[1:], strict=True)))


def ground_points(angle: float, active: list[bool]) -> list[np.ndarray]:
    """Independent computation: planar knee, shank rotated about z at (0, -0.4)."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    knee = np.array([0.0, -0.4, 0.0])
    pts = [np.array(THIGH)]
    for on, loc in zip(active, (VIA1, VIA2), strict=False):
        if on:
            pts.append(np.array(loc))
    pts.append(knee + rot @ np.array(SHANK))
    return pts


@pytest.mark.parametrize(
    "ranges", [((-1.0, 0.2),), ((-1.0, 0.2), (-2.0, -0.5)), ((-2.0, -1.2), (-0.8, 0.2))]
)
def test_hard_switch_removes_points_exactly(ranges: tuple[tuple[float, float], ...]) -> None:
    model = knee_model(ranges)
    f = gaitsim.build(model, BuildOptions(conditional_smoothing=0))
    for angle in np.linspace(-2.0, 0.2, 45):
        active = [lo <= angle <= hi for lo, hi in ranges]
        expected = polyline(ground_points(angle, active))
        assert float(f.muscle_tendon_lengths(angle)) == pytest.approx(expected, abs=1e-12)


def test_smooth_switch_agrees_away_from_range_ends_and_is_smooth() -> None:
    ranges = ((-1.0, 0.2), (-2.0, -0.5))
    model = knee_model(ranges)
    smooth = gaitsim.build(model)  # default smoothing, 0.005 rad
    for angle in np.linspace(-1.9, 0.1, 81):
        if min(abs(angle - e) for r in ranges for e in r) < 0.05:
            continue
        active = [lo <= angle <= hi for lo, hi in ranges]
        # 10 widths from a range end the weight differs from 0/1 by e^-10 ~ 5e-5, times a
        # few cm of point displacement: far below a micrometre.
        assert float(smooth.muscle_tendon_lengths(angle)) == pytest.approx(
            polyline(ground_points(angle, active)), abs=1e-6
        )
    # The moment arm is continuous across a range end.
    arms = [float(smooth.moment_arms(a)[0, 0]) for a in np.linspace(-1.05, -0.95, 201)]
    assert np.max(np.abs(np.diff(arms))) < 5e-3


def test_moment_arm_is_minus_dl_dq_and_velocity_is_dl_dt() -> None:
    model = knee_model(((-1.0, 0.2),))
    f = gaitsim.build(model)
    for angle in (-1.7, -0.6, 0.0):
        h = 1e-6
        dl = (
            float(f.muscle_tendon_lengths(angle + h)) - float(f.muscle_tendon_lengths(angle - h))
        ) / (2 * h)
        assert float(f.moment_arms(angle)[0, 0]) == pytest.approx(-dl, abs=1e-7)
        assert float(f.lengthening_velocities(angle, 2.0)) == pytest.approx(2.0 * dl, abs=1e-6)


def test_flexor_has_negative_moment_arm_about_flexion_negative_knee() -> None:
    # The path runs behind the knee (negative x): a knee flexor in OpenSim's convention.
    model = knee_model(())
    model = dataclasses.replace(model)
    f = gaitsim.build(model)
    assert float(f.moment_arms(-0.5)[0, 0]) < 0
