"""Muscle capacity: isometric moment r(q) F(a=1, v=0, l_MT(q)) about one coordinate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from gaitsim.analysis.muscle_capacity import (
    HIP_FLEXORS_GAIT3D,
    CapacitySpec,
    MuscleCapacity,
    muscle_capacity,
    static_tendon_force,
)
from gaitsim.errors import ModelError
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.mechanics.muscle import (
    active_force_length_multiplier,
    passive_force_length_multiplier,
    tendon_force_length_multiplier,
)
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import Model, Muscle, TendonModel

HIP_ANGLES = np.radians(np.arange(0.0, 121.0, 10.0))
KNEE_FLEXED = -math.pi / 2  # 90 deg of knee flexion: OpenSim's knee_angle is negative


@pytest.fixture(scope="module")
def gait3d() -> tuple[Model, ModelFunctions]:
    model = load_builtin("gait3d")
    return model, build(model)


@pytest.fixture(scope="module")
def hip_flexors(gait3d: tuple[Model, ModelFunctions]) -> dict[str, MuscleCapacity]:
    model, functions = gait3d
    out = {}
    for label, knee in (("knee_0", 0.0), ("knee_90", KNEE_FLEXED)):
        spec = CapacitySpec(
            "hip_flexion_r", tuple(HIP_ANGLES), HIP_FLEXORS_GAIT3D, (("knee_angle_r", knee),)
        )
        out[label] = muscle_capacity(model, spec, functions=functions)
    return out


def _independent_force(muscle: Muscle, lmt: float, activation: float) -> float:
    """Isometric tendon force solved for the *fibre length* with the curves themselves
    (a different unknown and formulation from the module's tendon-force residual)."""
    lopt, lts = muscle.optimal_fiber_length, muscle.tendon_slack_length
    fmax = muscle.max_isometric_force
    width = lopt * math.sin(muscle.pennation_angle_at_optimal)

    def fibre_force_along(lm: float) -> float:
        along = math.sqrt(max(lm * lm - width * width, 0.0))
        multipliers = activation * active_force_length_multiplier(
            lm / lopt, muscle.active_force_width_scale
        ) + passive_force_length_multiplier(
            lm / lopt, muscle.passive_fiber_strain_at_one_norm_force
        )
        return float(fmax * multipliers * along / lm)

    if muscle.tendon is TendonModel.RIGID:
        along = lmt - lts
        return fibre_force_along(math.sqrt(along * along + width * width))

    def mismatch(lm: float) -> float:
        tendon = lmt - math.sqrt(lm * lm - width * width)
        stretch = tendon_force_length_multiplier(
            tendon / lts, muscle.tendon_strain_at_one_norm_force
        )
        return float(fmax * stretch) - fibre_force_along(lm)

    if lmt <= lts:  # the path is shorter than the slack tendon: nothing is taut
        return 0.0
    # Fibre lengths from "tendon at slack length" down to "fibre projection ~ 0".
    longest = math.sqrt((lmt - lts) ** 2 + width * width)
    shortest = math.sqrt((1e-6 * lopt) ** 2 + width * width)
    if mismatch(longest) >= 0.0:
        return 0.0
    lm = brentq(mismatch, shortest, longest, xtol=1e-15, rtol=1e-14)
    return fibre_force_along(lm)


def _finite_difference_arm(
    functions: ModelFunctions, q: np.ndarray, j: int, k: int, step: float = 1e-6
) -> float:
    up, down = q.copy(), q.copy()
    up[j] += step
    down[j] -= step
    lengths_up = np.asarray(functions.muscle_tendon_lengths(up)).ravel()
    lengths_down = np.asarray(functions.muscle_tendon_lengths(down)).ravel()
    return float(-(lengths_up[k] - lengths_down[k]) / (2.0 * step))


@pytest.mark.parametrize("label", ["knee_0", "knee_90"])
def test_capacity_is_moment_arm_times_force_computed_independently(
    gait3d: tuple[Model, ModelFunctions], hip_flexors: dict[str, MuscleCapacity], label: str
) -> None:
    model, functions = gait3d
    capacity = hip_flexors[label]
    knee = 0.0 if label == "knee_0" else KNEE_FLEXED
    j = model.coordinate_names.index("hip_flexion_r")
    for i in (0, 4, 9, 12):  # 0, 40, 90 and 120 deg of hip flexion
        q = np.array([c.default for c in model.coordinates])
        q[model.coordinate_names.index("knee_angle_r")] = knee
        q[j] = HIP_ANGLES[i]
        lengths = np.asarray(functions.muscle_tendon_lengths(q)).ravel()
        for k, name in enumerate(capacity.muscle_names):
            m = model.muscle_names.index(name)
            arm = _finite_difference_arm(functions, q, j, m)
            force = _independent_force(model.muscles[m], float(lengths[m]), 1.0)
            passive = _independent_force(model.muscles[m], float(lengths[m]), 0.0)
            # Central differences with a 1e-6 rad step: truncation ~1e-12 m, rounding of
            # metre-sized lengths ~1e-10 m on a ~0.05 m arm; both root solves converge
            # to ~1e-12 relative. 1e-7 relative (plus 1e-9 N m absolute for the zeros of
            # slack muscles) leaves margin yet catches any wrong column or sign.
            assert capacity.moment_arms[i, k] == pytest.approx(arm, rel=1e-7, abs=1e-12)
            assert capacity.tendon_forces[i, k] == pytest.approx(force, rel=1e-7, abs=1e-9)
            assert capacity.moments[i, k] == pytest.approx(arm * force, rel=1e-6, abs=1e-9)
            assert capacity.passive_moments[i, k] == pytest.approx(
                arm * passive, rel=1e-6, abs=1e-9
            )


def test_rigid_tendon_capacity_on_gait2d() -> None:
    model = load_builtin("gait2d")
    functions = build(model)
    spec = CapacitySpec(
        "knee_angle_r", tuple(np.radians([-100.0, -60.0, -20.0, 0.0])), ("vasti_r",)
    )
    capacity = muscle_capacity(model, spec, functions=functions)
    j = model.coordinate_names.index("knee_angle_r")
    m = model.muscle_names.index("vasti_r")
    assert model.muscles[m].tendon is TendonModel.RIGID
    for i, value in enumerate(spec.values):
        q = np.array([c.default for c in model.coordinates])
        q[j] = value
        lmt = float(np.asarray(functions.muscle_tendon_lengths(q)).ravel()[m])
        expected = _finite_difference_arm(functions, q, j, m) * _independent_force(
            model.muscles[m], lmt, 1.0
        )
        # Same reasons as above; rigid tendon: no root solve on either side.
        assert capacity.moments[i, 0] == pytest.approx(expected, rel=1e-6)
    # Vasti extend the knee: with OpenSim's signs (flexion negative) the moment is positive.
    assert np.all(capacity.moments[:, 0] > 0.0)


def test_hip_flexors_are_flexors_and_psoas_iliacus_work_above_90_degrees(
    hip_flexors: dict[str, MuscleCapacity],
) -> None:
    capacity = hip_flexors["knee_0"]
    # Every one of them has a positive (flexing) moment arm over the whole range.
    assert np.all(capacity.moment_arms > 0.0)
    above = HIP_ANGLES > math.radians(90.0) + 1e-9
    for name in ("psoas_r", "iliacus_r"):
        curves = capacity.muscle(name)
        print(
            name,
            "capacity (N m) at 100, 110, 120 deg:",
            np.round(curves["moment"][above], 2),
            "moment arm (cm):",
            np.round(100 * curves["moment_arm"][above], 2),
        )
        # The curves exist above 90 deg: the pelvic-brim wrap keeps the moment arm
        # positive and the fibres still produce force (small: they are very short there).
        assert np.all(curves["moment"][above] > 0.0)
        assert np.all(curves["moment_arm"][above] > 0.02)
    print("total capacity (N m) from 0 to 120 deg:", np.round(capacity.total_moment, 1))


def test_active_at_least_passive(hip_flexors: dict[str, MuscleCapacity]) -> None:
    for capacity in hip_flexors.values():
        assert np.all(capacity.tendon_forces >= capacity.passive_tendon_forces - 1e-9)
        assert np.all(capacity.passive_tendon_forces >= 0.0)


def test_knee_angle_changes_only_the_muscles_that_cross_the_knee(
    hip_flexors: dict[str, MuscleCapacity],
) -> None:
    straight, flexed = hip_flexors["knee_0"], hip_flexors["knee_90"]
    for name in ("psoas_r", "iliacus_r"):  # one-joint hip flexors: identical
        np.testing.assert_array_equal(
            straight.muscle(name)["moment"], flexed.muscle(name)["moment"]
        )
    # Rectus femoris crosses the knee: flexing the knee stretches it, so its hip-flexion
    # capacity at 40 deg of hip flexion grows (it is on the ascending limb there).
    i = 4
    k = straight.muscle_names.index("rect_fem_r")
    assert flexed.moments[i, k] > 2.0 * straight.moments[i, k]
    assert flexed.norm_fiber_lengths[i, k] > straight.norm_fiber_lengths[i, k]


def test_slack_muscle_has_no_force(gait3d: tuple[Model, ModelFunctions]) -> None:
    model, _ = gait3d
    tfl = model.muscle("tfl_r")
    force, fibre = static_tendon_force(tfl, 0.99 * tfl.tendon_slack_length, 1.0)
    assert force == 0.0 and math.isnan(fibre)


def test_range_flags_rows_and_errors(gait3d: tuple[Model, ModelFunctions]) -> None:
    model, functions = gait3d
    angles = (0.0, math.radians(120.0), math.radians(125.0))
    spec = CapacitySpec("hip_flexion_r", angles, ("psoas_r",))
    capacity = muscle_capacity(model, spec, functions=functions)
    # gait3d: -30 to 120 deg (stored rounded to 2.0943951 rad: 120 deg itself is inside).
    assert capacity.outside_range.tolist() == [False, False, True]
    rows = capacity.to_rows()
    assert len(rows) == 3 and rows[2]["outside_range"] is True
    assert rows[0]["moment"] == pytest.approx(capacity.moments[0, 0])
    with pytest.raises(ModelError, match="no such coordinate"):
        muscle_capacity(model, CapacitySpec("hip_bend_r", (0.0,)), functions=functions)
    with pytest.raises(ModelError, match="no such muscle"):
        muscle_capacity(
            model, CapacitySpec("hip_flexion_r", (0.0,), ("psoas_x",)), functions=functions
        )
    with pytest.raises(ModelError, match="cannot also be fixed"):
        muscle_capacity(
            model,
            CapacitySpec("hip_flexion_r", (0.0,), ("psoas_r",), (("hip_flexion_r", 0.1),)),
            functions=functions,
        )
    with pytest.raises(ValueError, match="activation"):
        CapacitySpec("hip_flexion_r", (0.0,), activation=1.5)
