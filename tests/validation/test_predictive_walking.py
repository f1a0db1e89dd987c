"""Predictive walking with gait2d (slow: minutes; run with ``make test-slow``).

The first test is the contract: the solve converges from gaitsim's shipped guess, walks
at the asked speed, and its stride is left/right symmetric. The next ones state issue 3's
gait criteria one by one against Winter's normal walking.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gaitsim.analysis.gait_metrics import summary
from gaitsim.analysis.normative import load_normative
from gaitsim.simulate.predict import predict_walking

pytestmark = pytest.mark.slow

WINTER = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "normative"
    / ("Winter_normal.csv")
)


@pytest.fixture(scope="module")
def forward():
    return predict_walking("gait2d", speed=1.3)


def test_forward_walking_converges_at_the_asked_speed(forward) -> None:
    run = forward
    assert run.solution.success
    assert run.result.speed == pytest.approx(1.3, abs=1e-6)
    facts = summary(run.result)
    assert facts["stance_percent"]["r"] == pytest.approx(facts["stance_percent"]["l"])
    # Some stance and some swing on each foot: it walks, it does not hop or shuffle.
    assert 40.0 < facts["stance_percent"]["r"] < 80.0
    assert facts["peak_swing_knee_flexion_deg"]["r"] > 30.0


@pytest.fixture(scope="module")
def forward_facts(forward):
    if not WINTER.exists():
        pytest.skip("Winter's normative data (../shared/data) absent")
    return summary(forward.result, load_normative(WINTER))


def test_forward_stance_and_swing_knee(forward_facts) -> None:
    """Issue 3: stance 57-66 % of the cycle, peak knee flexion in swing 50-70 deg."""
    assert 57.0 <= forward_facts["stance_percent"]["r"] <= 66.0
    assert 50.0 <= forward_facts["peak_swing_knee_flexion_deg"]["r"] <= 70.0


def test_forward_angles_correlate_with_winter(forward_facts) -> None:
    """Issue 3: r >= 0.8 for hip and knee angles, r >= 0.6 for the ankle angle."""
    corr = forward_facts["correlations"]
    assert corr["hip_flexion_r"] >= 0.8 and corr["knee_angle_r"] >= 0.8
    assert corr["ankle_angle_r"] >= 0.6


def test_forward_second_vertical_grf_peak(forward_facts) -> None:
    """Issue 3: the push-off peak of the vertical GRF within 1.0-1.35 body weights."""
    assert 1.0 <= forward_facts["vertical_grf_peaks_bw"]["r"]["second"] <= 1.35


def test_forward_first_vertical_grf_peak(forward_facts) -> None:
    """Issue 3: the loading peak of the vertical GRF within 1.0-1.35 body weights.

    The default goals penalise each foot's force above 1.3 BW (linearly, weight 10), the
    upper end of normal walking's loading peak, so this criterion is partly built into
    the problem; without head stability and metabolic energy the same penalty at 1.2 BW
    gave 1.27 BW but a knee pattern unlike Winter's (r 0.69), which the test above
    catches.
    """
    assert 1.0 <= forward_facts["vertical_grf_peaks_bw"]["r"]["first"] <= 1.35


def test_converges_from_perturbed_guesses() -> None:
    """Issue 3's robustness target: 9 of 10 perturbed starts converge (fixed seeds).

    Each start is the shipped guess with every state and control perturbed by Gaussian
    noise of 5 % of its range over the cycle, and no warm start.
    """
    from gaitsim.ocp import Ipopt, Trajectory
    from gaitsim.simulate.guesses import shipped_guess

    shipped = shipped_guess("gait2d", 1.3)
    assert shipped is not None
    base, _ = shipped
    converged = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        spread = np.ptp(base.states, axis=0) + 1e-3
        states = base.states + 0.05 * spread * rng.standard_normal(base.states.shape)
        cspread = np.ptp(base.controls, axis=0) + 1e-3
        controls = base.controls + 0.05 * cspread * rng.standard_normal(base.controls.shape)
        guess = Trajectory(
            base.time, base.state_names, states, base.control_names, controls, base.parameters
        )
        # 500 iterations bound the time of a start that wanders (the perturbed starts need
        # 244-411 with the metabolic goal, measured 2026-11-21; one of ten stops at 500).
        run = predict_walking(
            "gait2d",
            speed=1.3,
            initial_guess=guess,
            return_failure=True,
            solver=Ipopt(tolerance=1e-4, max_iterations=500),
        )
        converged += int(run.solution.success)
        print(
            f"seed {seed}: {run.solution.status}, {run.solution.iterations} iterations, "
            f"{run.solution.seconds:.1f} s"
        )
    print(f"{converged} of 10 perturbed starts converged")
    assert converged >= 9


def test_backward_walking() -> None:
    """Issue 3: toes land first, the knee extends through stance, the speed is as asked."""
    from gaitsim.analysis.gait_metrics import first_loaded_contact, stance_knee_extension

    run = predict_walking("gait2d", speed=-0.8)
    assert run.solution.success
    assert run.result.speed == pytest.approx(-0.8, abs=1e-6)
    assert first_loaded_contact(run.result, "r") == "contactFront_r"
    # The knee extends by tens of degrees over stance (measured: about 50 deg).
    assert stance_knee_extension(run.result, "r") > 20.0
