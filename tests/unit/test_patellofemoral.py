"""Patellofemoral force model (Brechter & Powers 2002 fit to van Eijden et al. 1986)."""

from __future__ import annotations

import numpy as np
import pytest

from gaitsim.analysis.patellofemoral import (
    VALID_RANGE_DEG,
    patellofemoral_load,
    pf_force_ratio,
    quadriceps_muscles,
    walking_patellofemoral_load,
)
from gaitsim.errors import ModelError


def _published(theta: float) -> float:
    """The published equation, typed in as printed (Brechter & Powers 2002; Ward &
    Powers 2004), evaluated term by term: an independent transcription of the formula."""
    numerator = 4.62e-1 + 1.47e-3 * theta - 3.84e-5 * theta**2
    denominator = 1.0 - 1.62e-2 * theta + 1.55e-4 * theta**2 - 6.98e-7 * theta**3
    return numerator / denominator


@pytest.mark.parametrize("theta", [0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0, 105.0, 120.0])
def test_ratio_is_the_published_equation(theta: float) -> None:
    # Only rounding separates two evaluations of the same rational function.
    assert pf_force_ratio(theta) == pytest.approx(_published(theta), rel=1e-12)


def test_ratio_at_full_extension_is_the_published_constant_and_small() -> None:
    # k(0) is the numerator's constant term, 0.462, as published: at full extension the
    # patella rides high on the trochlea and takes less than half the quadriceps force.
    assert pf_force_ratio(0.0) == pytest.approx(0.462, abs=1e-15)
    assert pf_force_ratio(0.0) < 0.5


def test_ratio_rises_with_flexion_then_levels_near_one() -> None:
    # The fitted curve rises monotonically from full extension to about 80 deg and then
    # stays within 5 % of 1 (the PF force about equals the quadriceps force in deep
    # flexion) up to 120 deg.
    rising = pf_force_ratio(np.linspace(0.0, 80.0, 801))
    assert np.all(np.diff(rising) > 0.0)
    plateau = pf_force_ratio(np.linspace(70.0, 120.0, 501))
    assert np.all(np.abs(plateau - 1.0) < 0.05)
    # Below the plateau the PF force is smaller than the quadriceps force.
    assert np.all(pf_force_ratio(np.linspace(0.0, 60.0, 61)) < 1.0)


def test_the_fit_breaks_down_just_beyond_its_range() -> None:
    # The denominator vanishes at 128.2 deg: why the model refuses angles above 120 deg.
    assert VALID_RANGE_DEG == (0.0, 120.0)
    assert pf_force_ratio(127.0) > 2.0
    assert abs(pf_force_ratio(128.19)) > 100.0
    assert pf_force_ratio(129.0) < 0.0


def test_force_is_ratio_times_quadriceps_force() -> None:
    theta = np.radians([0.0, 20.0, 45.0, 70.0])
    quads = np.array([500.0, 1000.0, 1500.0, 800.0])
    load = patellofemoral_load(np.arange(4.0), theta, quads, 700.0)
    np.testing.assert_allclose(load.force, pf_force_ratio(np.degrees(theta)) * quads)
    np.testing.assert_allclose(load.force_bw, load.force / 700.0)
    assert not load.outside_validity.any()


def test_outside_the_range_is_clamped_and_flagged_or_refused() -> None:
    theta = np.radians([-8.0, 10.0, 125.0])
    quads = np.full(3, 1000.0)
    clamped = patellofemoral_load(np.arange(3.0), theta, quads, 700.0)
    assert clamped.outside_validity.tolist() == [True, False, True]
    assert clamped.ratio[0] == pytest.approx(pf_force_ratio(0.0))
    assert clamped.ratio[2] == pytest.approx(pf_force_ratio(120.0))
    with pytest.raises(ValueError, match="outside the range"):
        patellofemoral_load(np.arange(3.0), theta, quads, 700.0, outside="raise")
    nan = patellofemoral_load(np.arange(3.0), theta, quads, 700.0, outside="nan")
    assert np.isnan(nan.force[[0, 2]]).all() and np.isfinite(nan.force[1])


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="same shape"):
        patellofemoral_load([0.0, 1.0], [0.1], [1.0, 2.0], 700.0)
    with pytest.raises(ValueError, match="positive"):
        patellofemoral_load([0.0], [0.1], [1.0], 0.0)
    with pytest.raises(ValueError, match="finite"):
        patellofemoral_load([0.0], [np.nan], [1.0], 700.0)
    with pytest.raises(ModelError, match="no quadriceps"):
        quadriceps_muscles(("soleus_r", "gastroc_r"), "r")


def test_quadriceps_of_both_builtin_models() -> None:
    assert quadriceps_muscles(("rect_fem_r", "vasti_r", "vasti_l"), "r") == (
        "rect_fem_r",
        "vasti_r",
    )
    gait3d = ("rect_fem_l", "vas_med_l", "vas_int_l", "vas_lat_l", "sar_l")
    assert quadriceps_muscles(gait3d, "l") == gait3d[:4]


def test_walking_stride(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    _, _, result = shipped_stride("forward")
    load = walking_patellofemoral_load(result, "r")
    assert load.quadriceps == ("rect_fem_r", "vasti_r")
    quads = result.tendon_forces[:, [result.muscle_names.index(m) for m in load.quadriceps]]
    np.testing.assert_allclose(load.quadriceps_force, quads.sum(axis=1))
    flexion = -result.coordinate("knee_angle_r")
    np.testing.assert_allclose(load.knee_flexion, flexion)
    inside = ~load.outside_validity
    np.testing.assert_allclose(
        load.force[inside], pf_force_ratio(np.degrees(flexion[inside])) * quads.sum(axis=1)[inside]
    )
    summary = load.summary()
    print("forward stride PF force:", summary)
    # Published PF forces in walking are about 0.5-1.5 BW (e.g. Ward & Powers 2004); a
    # predictive stride's quadriceps forces are model outputs, so only the order of
    # magnitude is checked: positive and below 3 BW.
    assert 0.0 < summary["peak_bw"] < 3.0
    rows = load.to_rows()
    assert len(rows) == 4 * result.time.size
    assert {r["quantity"] for r in rows} == {
        "pf_force",
        "quadriceps_force",
        "ratio",
        "knee_flexion",
    }
