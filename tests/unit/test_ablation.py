"""Induced position (ablation) by forward simulation of the swing of a shipped stride."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from gaitsim.analysis.ablation import (
    MUSCLE_GROUPS,
    AblationSpec,
    ablation_analysis,
    group_members,
    prepare_swing,
    simulate_swing,
)
from gaitsim.analysis.gait_metrics import contact_events, swing_peak_flexion
from gaitsim.errors import ModelError
from gaitsim.mechanics.model_functions import build
from gaitsim.model.description import TendonModel

# Bound on the baseline's knee deviation from the stride (degrees). The simulation is
# open loop from a trapezoidal collocation solution (about 50 nodes per half stride), so
# it cannot reproduce the stride exactly; measured 0.16 deg (forward) and reported in
# docs/induced_acceleration.md. 1 deg is well below the 2-5 deg between-session error of
# clinical knee kinematics (McGinley et al. 2009, Gait Posture 29:360-369), so a baseline
# within it reproduces the stride for the purpose of the analysis.
BASELINE_BOUND_DEG = 1.0


@pytest.fixture(scope="module")
def forward_setup(shipped_stride):  # type: ignore[no-untyped-def]
    model, functions, result = shipped_stride("forward")
    return model, functions, result, prepare_swing(model, functions, result)


@pytest.fixture(scope="module")
def forward_baseline(forward_setup):  # type: ignore[no-untyped-def]
    return simulate_swing(forward_setup[3])


def test_baseline_reproduces_the_stride(forward_setup, forward_baseline) -> None:  # type: ignore[no-untyped-def]
    model, _, result, setup = forward_setup
    sim = forward_baseline
    # The simulation spans the swing: from the toe-off to the next initial contact,
    # events found independently here from the stride's vertical force.
    weight = result.body_mass * 9.80665
    events = contact_events(result.grf["r"][:, 1] / weight, result.time)
    period = events.period
    assert sim.start_time == pytest.approx(events.toe_offs[0], abs=1e-12)
    assert np.mod(sim.end_time, period) == pytest.approx(events.initial_contacts[0], abs=1e-12)
    assert sim.simulated == ("hip_flexion_r", "knee_angle_r", "ankle_angle_r")
    stride = setup.stride_coordinates(sim.time)
    knee = model.coordinate_names.index("knee_angle_r")
    deviation = np.rad2deg(np.abs(sim.q[:, knee] - stride[:, knee]))
    print(f"baseline knee deviation: max {deviation.max():.3f} deg")
    assert deviation.max() < BASELINE_BOUND_DEG
    # The prescribed coordinates are the stride's, exactly.
    others = [i for i, c in enumerate(model.coordinate_names) if not c.endswith("_r")]
    np.testing.assert_array_equal(sim.q[:, others], stride[:, others])
    # The peak agrees with the stride's own peak swing knee flexion (gait_metrics).
    stride_peak = swing_peak_flexion(result.coordinate("knee_angle_r"), result.time, events)
    assert abs(sim.peak_knee_flexion - stride_peak) < BASELINE_BOUND_DEG
    assert 40.0 < sim.peak_knee_flexion < 90.0  # a swing, not a stiff knee or a collapse
    assert sim.out_of_range == ()
    print(f"largest swing-foot contact force after toe-off: {sim.swing_foot_force:.1f} N")


def test_removing_a_muscle_without_force_changes_nothing(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    """gait2d has no muscle without force in swing (excitations >= 0.01, passive force),
    so one is made: the right gluteus maximus with a strength of 1 micronewton."""
    model, _, result = shipped_stride("forward")
    weak = tuple(
        dataclasses.replace(m, max_isometric_force=1e-6) if m.name == "glut_max_r" else m
        for m in model.muscles
    )
    weak_model = dataclasses.replace(model, muscles=weak)
    setup = prepare_swing(weak_model, build(weak_model), result)
    base = simulate_swing(setup)
    without = simulate_swing(setup, removed=("glut_max_r",))
    # The force removed is below 1e-6 N; what remains is integration noise (rtol 1e-6
    # gives about 1e-4 deg on the peak): 0.01 deg is the bound.
    assert abs(without.peak_knee_flexion - base.peak_knee_flexion) < 0.01


def test_a_muscle_with_force_changes_the_swing(forward_setup, forward_baseline) -> None:  # type: ignore[no-untyped-def]
    """The vasti resist knee flexion in early swing: without them the knee flexes more."""
    setup = forward_setup[3]
    without = simulate_swing(setup, removed=("vasti_r",))
    assert without.peak_knee_flexion > forward_baseline.peak_knee_flexion + 1.0
    # A muscle of the other (prescribed) leg cannot act on the simulated one.
    other = simulate_swing(setup, removed=("vasti_l",))
    assert other.peak_knee_flexion == forward_baseline.peak_knee_flexion


def test_knee_velocity_at_toe_off_sets_the_peak(forward_setup, forward_baseline) -> None:  # type: ignore[no-untyped-def]
    """Faster knee flexion at toe-off gives more peak flexion (Goldberg et al. 2003)."""
    setup = forward_setup[3]
    faster = simulate_swing(setup, knee_velocity_scale=1.2)
    slower = simulate_swing(setup, knee_velocity_scale=0.8)
    assert faster.peak_knee_flexion > forward_baseline.peak_knee_flexion > slower.peak_knee_flexion
    knee = faster.coordinate_names.index("knee_angle_r")
    np.testing.assert_allclose(faster.qd[0, knee], 1.2 * forward_baseline.qd[0, knee], rtol=1e-12)


def test_bad_requests_are_refused(forward_setup) -> None:  # type: ignore[no-untyped-def]
    model, functions, result, setup = forward_setup
    with pytest.raises(ModelError, match="no muscles"):
        simulate_swing(setup, removed=("quadriceps_r",))
    with pytest.raises(ValueError, match="side"):
        AblationSpec(side="x")
    with pytest.raises(ValueError, match="window"):
        AblationSpec(window=(0.1, 0.0))
    with pytest.raises(ModelError, match="knee"):
        prepare_swing(model, functions, result, AblationSpec(knee="knee_angle_l"))
    assert group_members(model, "r", MUSCLE_GROUPS)["vasti"] == ("vasti_r",)


@pytest.mark.slow
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_full_ablation_analysis(shipped_stride, direction) -> None:  # type: ignore[no-untyped-def]
    """Every right muscle and group, and the knee velocity +-20 % (about 1-2 min)."""
    model, functions, result = shipped_stride(direction)
    analysis = ablation_analysis(model, functions, result)
    print(json.dumps(analysis.summary(), indent=1))
    assert analysis.baseline_max_deviation < BASELINE_BOUND_DEG
    right = [m for m in model.muscle_names if m.endswith("_r")]
    names = [e.name for e in analysis.entries]
    assert names[: len(right)] == right
    for group, members in group_members(model, "r", MUSCLE_GROUPS).items():
        entry = analysis.entry(group)
        assert entry.removed == members
        if len(members) == 1:  # the same simulation as the muscle alone
            assert entry.change == analysis.entry(members[0]).change
    faster = analysis.entry("knee_velocity_+20%").change
    slower = analysis.entry("knee_velocity_-20%").change
    if direction == "forward":
        # Goldberg et al. 2003 (forward walking): a faster knee at toe-off gives more
        # peak swing flexion (measured +6.96 and -1.37 deg with the earlier forward guess,
        # +8.69 and -1.41 with the current one).
        assert faster > 0 > slower
    else:
        # Backward walking peaks late in swing, where the muscles set the knee: the
        # knee velocity at toe-off moves the peak by well under a degree either way
        # (measured -0.09 and -0.54 deg; -0.13 and +0.01, and +0.05 and -0.55, with two
        # earlier backward guesses), against 1.4-9 deg forward. 1 deg bounds them all.
        assert abs(faster) < 1.0 and abs(slower) < 1.0
    json.dumps(analysis.summary())  # JSON-ready


@pytest.mark.slow
def test_removal_window_outside_the_simulation_changes_nothing(
    forward_setup, forward_baseline
) -> None:  # type: ignore[no-untyped-def]
    model, functions, result, _ = forward_setup
    late = prepare_swing(model, functions, result, AblationSpec(window=(5.0, 6.0)))
    sim = simulate_swing(late, removed=("vasti_r",))
    assert sim.peak_knee_flexion == forward_baseline.peak_knee_flexion


@pytest.mark.slow
def test_compliant_tendons_and_pre_swing_start(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    """The compliant-tendon branch runs from the stride's tendon forces, and a start at
    the contralateral initial contact (double support) still reproduces the swing."""
    model, _, result = shipped_stride("forward")
    muscles = tuple(
        dataclasses.replace(m, tendon=TendonModel.COMPLIANT) if m.name == "soleus_r" else m
        for m in model.muscles
    )
    compliant = dataclasses.replace(model, muscles=muscles)
    setup = prepare_swing(compliant, build(compliant), result, AblationSpec(start="pre_swing"))
    assert setup.start_time < setup.toe_off_time
    sim = simulate_swing(setup)
    knee = model.coordinate_names.index("knee_angle_r")
    deviation = np.rad2deg(np.abs(sim.q[:, knee] - setup.stride_coordinates(sim.time)[:, knee]))
    print(f"compliant soleus, pre-swing start: max knee deviation {deviation.max():.2f} deg")
    # Another tendon model than the stride's: a looser bound (2 deg) than the baseline's.
    assert deviation.max() < 2.0
