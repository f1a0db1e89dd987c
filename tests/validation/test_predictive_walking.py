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
    reason="issue 3 criteria not met yet: on 2026-11-20 stance 54.6 %, swing "
    "knee flexion 72.5 deg, first vertical GRF peak 2.9 BW, hip r = 0.60",
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
