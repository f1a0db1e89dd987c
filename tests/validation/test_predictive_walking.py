"""Predictive walking with gait2d (slow: minutes; run with ``make test-slow``).

The first test is the contract that holds today: the solve converges from gaitsim's
data-free guess, walks at the asked speed, and its stride is left/right symmetric. The
second states issue 3's gait criteria, which the current formulation does not yet meet
(it is marked as an expected failure with the figures measured on 2026-11-20).
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


@pytest.mark.xfail(
    reason="issue 3 criteria not met yet: on 2026-11-21 stance 55.7 %, first vertical GRF "
    "peak 2.8 BW and second 0.89 BW, hip r = 0.74 (swing knee flexion 66 deg, knee r 0.85 and "
    "ankle r 0.76 are met)",
    strict=False,
)
def test_forward_walking_meets_the_gait_criteria(forward) -> None:
    if not WINTER.exists():
        pytest.skip("Winter's normative data (../shared/data) absent")
    facts = summary(forward.result, load_normative(WINTER))
    assert 57.0 <= facts["stance_percent"]["r"] <= 66.0
    assert 50.0 <= facts["peak_swing_knee_flexion_deg"]["r"] <= 70.0
    peaks = facts["vertical_grf_peaks_bw"]["r"]
    assert 1.0 <= peaks["first"] <= 1.35 and 1.0 <= peaks["second"] <= 1.35
    corr = facts["correlations"]
    assert corr["hip_flexion_r"] >= 0.8 and corr["knee_angle_r"] >= 0.8
    assert corr["ankle_angle_r"] >= 0.6
    assert np.isfinite(forward.solution.objective)


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
        # 500 iterations bound the time of a start that wanders (a cold start needs ~130).
        run = predict_walking(
            "gait2d",
            speed=1.3,
            initial_guess=guess,
            return_failure=True,
            solver=Ipopt(tolerance=1e-4, max_iterations=500),
        )
        converged += int(run.solution.success)
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
