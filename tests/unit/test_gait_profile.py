"""Gait variable scores, gait profile score, movement analysis profile, and the clinical
variables (signs checked against anatomy with the models' own kinematics)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gaitsim.analysis import gait_metrics as gm
from gaitsim.analysis.clinical_variables import (
    GPS_VARIABLES,
    OPENSIM_MAPPING,
    clinical_kinematics,
    foot_progression,
    in_degrees,
)
from gaitsim.analysis.events import (
    INITIAL_CONTACT,
    TOE_OFF,
    GaitEvent,
    GaitEvents,
    cycle_normalised,
    events_from_result,
    gait_cycles,
)
from gaitsim.analysis.gait_profile import (
    PELVIC_VARIABLES,
    clinical_cycle_curves,
    gait_profile_score,
    gait_variable_score,
    movement_analysis_profile,
    profile_from_result,
)
from gaitsim.analysis.normative import PERCENT, NormativeCurves, load_normative

# ---------------------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------------------


def reference_curves() -> NormativeCurves:
    """Normative means for the nine variables: smooth, different curves (rad)."""
    phase = 2 * np.pi * PERCENT / 100
    mean = {v: 0.2 * np.sin(phase + k) + 0.05 * k for k, v in enumerate(GPS_VARIABLES)}
    sd = {v: np.full(101, 0.05) for v in GPS_VARIABLES}
    return NormativeCurves("reference", mean, sd, dict.fromkeys(GPS_VARIABLES, "rad"))


@pytest.mark.parametrize("offset", [0.0, 0.07, -0.3])
def test_gvs_of_an_offset_curve_is_the_offset(offset: float) -> None:
    mean = reference_curves().mean["knee_flexion"]
    assert gait_variable_score(mean + offset, mean) == pytest.approx(abs(offset), abs=1e-15)
    assert gait_variable_score(mean + offset, mean, step=1) == pytest.approx(abs(offset), abs=1e-15)


def test_gvs_samples_every_second_percent_like_baker() -> None:
    mean = reference_curves().mean["hip_flexion"]
    odd_only = mean.copy()
    odd_only[1::2] += 0.1  # differs only at 1, 3, ... 99 %
    assert gait_variable_score(odd_only, mean) == 0.0  # Baker's 51 points: 0, 2, ... 100 %
    # All 101 points: 50 of them differ by 0.1.
    assert gait_variable_score(odd_only, mean, step=1) == pytest.approx(0.1 * math.sqrt(50 / 101))
    with pytest.raises(ValueError, match="divisor"):
        gait_variable_score(mean, mean, step=3)
    with pytest.raises(ValueError, match="same length"):
        gait_variable_score(mean[:51], mean)
    with pytest.raises(ValueError, match="finite"):
        gait_variable_score(np.full(101, np.nan), mean)


def test_gps_is_the_rms_of_the_scores() -> None:
    assert gait_profile_score([0.12] * 9) == pytest.approx(0.12, abs=1e-15)
    assert gait_profile_score([3.0, 4.0]) == pytest.approx(math.sqrt(12.5), abs=1e-15)
    with pytest.raises(ValueError):
        gait_profile_score([])
    with pytest.raises(ValueError):
        gait_profile_score([-1.0])


def test_movement_analysis_profile_of_offset_curves() -> None:
    normative = reference_curves()
    offsets = {
        "r": {v: 0.01 * (k + 1) for k, v in enumerate(GPS_VARIABLES)},
        "l": {v: -0.02 * (k + 1) for k, v in enumerate(GPS_VARIABLES)},
    }
    curves = {
        side: {v: normative.mean[v] + c for v, c in by_variable.items()}
        for side, by_variable in offsets.items()
    }
    profile = movement_analysis_profile(curves, normative)
    assert profile.complete and profile.variables == GPS_VARIABLES
    for side in ("r", "l"):
        for variable, offset in offsets[side].items():
            assert profile.scores[side][variable] == pytest.approx(abs(offset), abs=1e-15)
        expected = math.sqrt(np.mean([c * c for c in offsets[side].values()]))
        assert profile.gps[side] == pytest.approx(expected, abs=1e-15)
    # Overall: 15 scores, the pelvic ones from the left side only.
    overall = [abs(c) for v, c in offsets["l"].items()]
    overall += [abs(c) for v, c in offsets["r"].items() if v not in PELVIC_VARIABLES]
    assert len(overall) == 15
    assert profile.overall == pytest.approx(math.sqrt(np.mean(np.square(overall))), abs=1e-15)
    right_pelvis = movement_analysis_profile(curves, normative, pelvis_side="r")
    assert right_pelvis.overall != pytest.approx(profile.overall)
    report = profile.in_degrees()
    assert report["gps_deg"]["r"] == pytest.approx(math.degrees(profile.gps["r"]))
    # The normative mean itself scores zero everywhere.
    perfect = movement_analysis_profile({"r": dict(normative.mean)}, normative)
    assert perfect.gps["r"] == 0.0 and perfect.overall == 0.0
    assert perfect.pelvis_side == "r"  # no left curves: the right pelvis is used


def test_profile_with_missing_variables_is_incomplete() -> None:
    normative = reference_curves()
    sagittal = ("pelvic_tilt", "hip_flexion", "knee_flexion", "ankle_dorsiflexion")
    curves = {"r": {v: normative.mean[v] + 0.1 for v in sagittal}}
    profile = movement_analysis_profile(curves, normative)
    assert not profile.complete and profile.variables == sagittal
    assert profile.gps["r"] == pytest.approx(0.1, abs=1e-15)
    with pytest.raises(LookupError):
        movement_analysis_profile(
            {"r": {"knee_flexion": normative.mean["knee_flexion"]}},
            NormativeCurves("other", {"x": np.zeros(101)}, {"x": np.zeros(101)}, {"x": ""}),
        )
    with pytest.raises(ValueError, match="none of the variables"):
        movement_analysis_profile({"r": {}}, normative)


# ---------------------------------------------------------------------------------------
# Clinical variables: signs against anatomy
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gait3d():  # type: ignore[no-untyped-def]
    from gaitsim.mechanics.model_functions import build
    from gaitsim.model.builtin import load_builtin

    model = load_builtin("gait3d")
    return model, build(model)


def origins(functions, model, q: np.ndarray) -> dict[str, np.ndarray]:  # noqa: ANN001
    positions, rotations = (np.asarray(a) for a in functions.body_poses(q))
    return {
        b.name: (positions[:, i], rotations[:, 3 * i : 3 * i + 3])
        for i, b in enumerate(model.bodies)
    }


def test_clinical_signs_follow_anatomy(gait3d) -> None:  # noqa: ANN001
    model, functions = gait3d
    names = model.coordinate_names
    neutral = np.zeros(len(names))
    base = origins(functions, model, neutral)
    angle = 0.2

    def moved(coordinate: str) -> tuple[dict, dict]:
        q = neutral.copy()
        q[names.index(coordinate)] = angle
        return origins(functions, model, q), clinical_kinematics(names, q[None, :], "r") | {
            f"{k}_l": v for k, v in clinical_kinematics(names, q[None, :], "l").items()
        }

    # Anterior pelvic tilt lowers the front of the pelvis (its x axis points down).
    poses, clinical = moved("pelvis_tilt")
    front_down = poses["pelvis"][1][1, 0] < 0
    assert front_down == (clinical["pelvic_tilt"][0] > 0)
    # Obliquity "up" on the right raises the right hip centre (femur_r origin).
    poses, clinical = moved("pelvis_list")
    right_up = poses["femur_r"][0][1] > base["femur_r"][0][1]
    assert right_up == (clinical["pelvic_obliquity"][0] > 0)
    assert np.sign(clinical["pelvic_obliquity_l"][0]) == -np.sign(clinical["pelvic_obliquity"][0])
    # Pelvic rotation "forward" on the right brings the right hip centre forward.
    poses, clinical = moved("pelvis_rotation")
    right_forward = poses["femur_r"][0][0] > base["femur_r"][0][0]
    assert right_forward == (clinical["pelvic_rotation"][0] > 0)
    # Hip adduction moves each knee towards the midline (z -> 0).
    for side in ("r", "l"):
        poses, clinical = moved(f"hip_adduction_{side}")
        key = "hip_adduction" if side == "r" else "hip_adduction_l"
        medial = abs(poses[f"tibia_{side}"][0][2]) < abs(base[f"tibia_{side}"][0][2])
        assert medial == (clinical[key][0] > 0)
    # Knee flexion brings the ankle behind the knee; ankle dorsiflexion lifts the toes.
    poses, clinical = moved("knee_angle_r")
    behind = poses["talus_r"][0][0] < base["talus_r"][0][0]
    assert behind == (clinical["knee_flexion"][0] > 0)
    poses, clinical = moved("ankle_angle_r")
    toes_up = poses["toes_r"][0][1] > base["toes_r"][0][1]
    assert toes_up == (clinical["ankle_dorsiflexion"][0] > 0)
    # Every mapping applies to gait3d.
    assert {m.variable for m in OPENSIM_MAPPING} <= set(
        clinical_kinematics(names, neutral[None, :], "r")
    )


def test_foot_progression_from_the_foot_orientation(gait3d) -> None:  # noqa: ANN001
    model, functions = gait3d
    names = model.coordinate_names
    q = np.zeros((3, len(names)))
    q[1, names.index("hip_rotation_r")] = 0.2  # internal rotation: toes in
    q[2, names.index("hip_rotation_l")] = -0.1  # external: toes out
    right = clinical_kinematics(names, q, "r", functions=functions)
    left = clinical_kinematics(names, q, "l", functions=functions)
    # With the foot flat and the leg straight, hip rotation turns the foot by as much.
    assert right["foot_progression"] == pytest.approx([0.0, 0.2, 0.0], abs=1e-12)
    assert left["foot_progression"] == pytest.approx([0.0, 0.0, -0.1], abs=1e-12)
    # A foot pointing 30 deg to the right of +x: toes out for the right foot, in for the
    # left; walking along -x the same foot points backward-ish: angle pi - 30 deg away.
    turn = math.radians(30.0)
    rotation = np.array(
        [
            [math.cos(turn), 0.0, -math.sin(turn)],
            [0.0, 1.0, 0.0],
            [math.sin(turn), 0.0, math.cos(turn)],
        ]
    )[None]
    assert rotation[0][:, 0] == pytest.approx([math.cos(turn), 0.0, math.sin(turn)])
    assert foot_progression(rotation, "r")[0] == pytest.approx(-turn)
    assert foot_progression(rotation, "l")[0] == pytest.approx(turn)
    assert abs(foot_progression(rotation, "r", (-1.0, 0.0, 0.0))[0]) == pytest.approx(
        math.pi - turn
    )
    # A planar model gives no foot progression, and four sagittal variables.
    from gaitsim.model.builtin import load_builtin

    gait2d = load_builtin("gait2d")
    planar = clinical_kinematics(gait2d.coordinate_names, np.zeros((1, 10)), "r")
    assert set(planar) == {"pelvic_tilt", "hip_flexion", "knee_flexion", "ankle_dorsiflexion"}
    assert in_degrees({"a": [math.pi]})["a"] == pytest.approx([180.0])


# ---------------------------------------------------------------------------------------
# Simulated stride and a measured Plug-in Gait trial against Schwartz 2008
# ---------------------------------------------------------------------------------------


def test_profile_of_a_simulated_stride(shipped_stride, shared_data: Path) -> None:  # noqa: ANN001
    _, _, result = shipped_stride("forward")
    normative = load_normative(shared_data / "normative" / "Schwartz2008.json", speed=result.speed)
    profile = profile_from_result(result, normative)
    assert normative.name == "Schwartz2008 Free"  # 1.3 m/s, leg 0.88 m: 0.44
    assert not profile.complete
    assert profile.variables == ("pelvic_tilt", "hip_flexion", "knee_flexion", "ankle_dorsiflexion")
    # Independent path for the knee: gait_metrics' curve aligned at the right contact
    # (model sign: flexion negative, hence the minus).
    knee = -gm.aligned_curve(result, "knee_angle_r", "r")
    expected = math.sqrt(np.mean((knee - normative.mean["knee_flexion"])[::2] ** 2))
    assert profile.scores["r"]["knee_flexion"] == pytest.approx(expected, abs=1e-12)
    # A mirrored half cycle: the two sides score the same.
    for variable in profile.variables:
        assert profile.scores["l"][variable] == pytest.approx(
            profile.scores["r"][variable], abs=1e-9
        )
    (cycle,) = gait_cycles(events_from_result(result), "l")
    curves = clinical_cycle_curves(result.time, result.coordinate_names, result.q, cycle)
    assert curves["knee_flexion"] == pytest.approx(
        -cycle_normalised(result.coordinate("knee_angle_l"), result.time, cycle), abs=0.0
    )


def _pig_trial(path: Path) -> tuple[dict[str, dict[str, np.ndarray]], float]:
    """Plug-in Gait angles (clinical signs, rad) over the first cycle of each side."""
    import ezc3d

    c3d = ezc3d.c3d(str(path))
    parameters = c3d["parameters"]
    rate = float(parameters["POINT"]["RATE"]["value"][0])
    first = int(parameters["TRIAL"]["ACTUAL_START_FIELD"]["value"][0])
    labels = parameters["POINT"]["LABELS"]["value"]
    points = c3d["data"]["points"]
    time = (first - 1 + np.arange(points.shape[2])) / rate
    event = parameters["EVENT"]
    listed = sorted(
        (
            GaitEvent(context[0].lower(), INITIAL_CONTACT if "Strike" in label else TOE_OFF, when)
            for context, label, when in zip(
                event["CONTEXTS"]["value"],
                event["LABELS"]["value"],
                event["TIMES"]["value"][1],
                strict=True,
            )
        ),
        key=lambda e: e.time,
    )
    events = GaitEvents(tuple(listed), float(time[0]), float(time[-1]))
    outputs = {
        "pelvic_tilt": ("PelvisAngles", 0),
        "pelvic_obliquity": ("PelvisAngles", 1),
        "pelvic_rotation": ("PelvisAngles", 2),
        "hip_flexion": ("HipAngles", 0),
        "hip_adduction": ("HipAngles", 1),
        "hip_rotation": ("HipAngles", 2),
        "knee_flexion": ("KneeAngles", 0),
        "ankle_dorsiflexion": ("AnkleAngles", 0),
        "foot_progression": ("FootProgressAngles", 2),
    }
    curves = {}
    for side in ("r", "l"):
        cycle = gait_cycles(events, side)[0]
        curves[side] = {
            variable: np.radians(
                cycle_normalised(points[axis, labels.index(side.upper() + name)], time, cycle)
            )
            for variable, (name, axis) in outputs.items()
        }
    leg = float(parameters["PROCESSING"]["RLegLength"]["value"][0]) / 1000.0
    return curves, leg


def test_plug_in_gait_adult_against_schwartz(shared_data: Path) -> None:
    """A healthy adult's Plug-in Gait angles (kineticstoolkit's walk.c3d) vs Schwartz 2008.

    Plug-in Gait signs are the clinical ones, as in the normative file: curves of the same
    variable must correlate positively (a wrong sign would make r negative), and the
    profile of a healthy walker must be small.
    """
    curves, leg = _pig_trial(shared_data / "c3d" / "kineticstoolkit_walk.c3d")
    # Speed 0.90 m/s measured from the heel markers (test_spatiotemporal), leg 0.884 m:
    # dimensionless 0.305, the Slow class.
    normative = load_normative(
        shared_data / "normative" / "Schwartz2008.json", speed=0.90, leg_length=leg
    )
    assert normative.name == "Schwartz2008 Slow"
    profile = movement_analysis_profile(curves, normative)
    assert profile.complete
    # Measured 5.9 (right), 7.4 (left) deg; a healthy adult against typically developing
    # children stays well under 10 deg.
    for side in ("r", "l"):
        assert math.degrees(profile.gps[side]) < 10.0
        for variable in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion", "hip_adduction",
                         "pelvic_obliquity", "pelvic_rotation", "foot_progression"):  # fmt: skip
            r = gm.pearson(curves[side][variable], normative.mean[variable])
            assert r > 0.75, (side, variable, r)
