"""Tests of gaitsim.analysis (gait metrics and normative curves) on curves with known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import gaitsim
from gaitsim.analysis import gait_metrics as gm
from gaitsim.analysis.normative import (
    PERCENT,
    NormativeCurves,
    load_normative,
    write_normative,
)
from gaitsim.errors import FileFormatError
from gaitsim.simulate.result import WalkingResult

G = gm.STANDARD_GRAVITY
THRESHOLD = gm.CONTACT_THRESHOLD

# Two Gaussian humps (body weights) well inside [0, 1) s: peaks A1 at C1 and A2 at C2.
A1, C1, A2, C2, WIDTH = 1.15, 0.25, 1.10, 0.50, 0.08
# Where each hump alone falls to the threshold (the other one is negligible there).
CONTACT = C1 - WIDTH * math.sqrt(math.log(A1 / THRESHOLD))
TOE_OFF = C2 + WIDTH * math.sqrt(math.log(A2 / THRESHOLD))


def two_humps(t: np.ndarray) -> np.ndarray:
    """Vertical force (BW) of one foot: two Gaussians, contact ~0.089 s to ~0.660 s."""
    return A1 * np.exp(-(((t - C1) / WIDTH) ** 2)) + A2 * np.exp(-(((t - C2) / WIDTH) ** 2))


def dense_peaks() -> tuple[float, float]:
    """The maxima of two_humps in each half of the stance window, by brute force."""
    t = np.linspace(CONTACT, TOE_OFF, 2_000_001)
    f = two_humps(t)
    middle = t.size // 2
    return float(f[: middle + 1].max()), float(f[middle:].max())


GAIT2D = gaitsim.load_builtin("gait2d")
COORDINATES = tuple(c.name for c in GAIT2D.coordinates)
MUSCLES = tuple(m.name for m in GAIT2D.muscles)


def make_result(
    time: np.ndarray,
    grf_y_bw: dict[str, np.ndarray],
    q_columns: dict[str, np.ndarray],
    *,
    mass: float = 70.0,
    grf_x_bw: dict[str, np.ndarray] | None = None,
) -> WalkingResult:
    """A WalkingResult of gait2d with the given coordinates and vertical forces."""
    n = time.size
    q = np.zeros((n, len(COORDINATES)))
    for name, values in q_columns.items():
        q[:, COORDINATES.index(name)] = values
    grf = {}
    for side, vertical in grf_y_bw.items():
        force = np.zeros((n, 3))
        force[:, 1] = vertical * mass * G
        if grf_x_bw is not None:
            force[:, 0] = grf_x_bw[side] * mass * G
        grf[side] = force
    cop = {side: np.zeros((n, 3)) for side in grf}
    zeros_m = np.zeros((n, len(MUSCLES)))
    return WalkingResult(
        model_name="gait2d",
        kind="predictive",
        time=time,
        coordinate_names=COORDINATES,
        q=q,
        qd=np.zeros_like(q),
        qdd=np.zeros_like(q),
        joint_moments=np.zeros_like(q),
        muscle_names=MUSCLES,
        excitations=zeros_m,
        activations=zeros_m,
        tendon_forces=zeros_m,
        grf=grf,
        cop=cop,
        body_mass=mass,
        speed=1.2,
    )


# ---------------------------------------------------------------------------------------
# Contact events
# ---------------------------------------------------------------------------------------


def test_contact_events_of_two_humps() -> None:
    t = np.linspace(0.0, 1.0, 1001)  # the last sample starts the next stride
    events = gm.contact_events(two_humps(t), t)
    assert events.initial_contacts == pytest.approx([CONTACT], abs=1e-5)
    assert events.toe_offs == pytest.approx([TOE_OFF], abs=1e-5)
    assert events.period == 1.0
    assert events.stance_fraction == pytest.approx(TOE_OFF - CONTACT, abs=2e-5)
    assert len(events.stance) == 1
    assert events.in_stance(np.array([0.05, 0.3, 0.65, 0.7])).tolist() == [
        False,
        True,
        True,
        False,
    ]


def test_contact_events_wrapping_around_the_end() -> None:
    t = np.linspace(0.0, 1.0, 1001)
    shift = 0.6  # stance from ~0.689 s to ~1.260 s: wraps around the end of the stride
    events = gm.contact_events(two_humps(np.mod(t - shift, 1.0)), t)
    assert events.initial_contacts == pytest.approx([CONTACT + shift], abs=1e-5)
    assert events.toe_offs == pytest.approx([TOE_OFF + shift - 1.0], abs=1e-5)
    (contact, toe_off) = events.stance[0]
    assert toe_off > events.start + events.period  # unwrapped
    assert toe_off - contact == pytest.approx(TOE_OFF - CONTACT, abs=2e-5)
    assert events.stance_fraction == pytest.approx(TOE_OFF - CONTACT, abs=2e-5)
    assert events.in_stance(np.array([0.1, 0.5, 0.9])).tolist() == [True, False, True]


def test_contact_events_with_explicit_period() -> None:
    """50 nodes of a 1.2 s stride without the repeated end sample (like Winter's data)."""
    period = 1.2
    t = np.arange(50) * period / 50
    shift = 0.9 * period  # stance wraps around the end
    force = two_humps(np.mod(t - shift, period) / period)
    events = gm.contact_events(force, t, period=period)
    assert events.period == period
    assert len(events.stance) == 1
    assert events.stance_fraction == pytest.approx(TOE_OFF - CONTACT, abs=5e-3)
    with pytest.raises(ValueError, match="shorter"):
        gm.contact_events(force, t, period=0.5)


def test_contact_events_threshold_and_degenerate_cases() -> None:
    t = np.linspace(0.0, 1.0, 101)
    always = gm.contact_events(np.full(t.size, 0.5), t)
    assert always.stance_fraction == 1.0
    assert always.initial_contacts.size == 0 and always.toe_offs.size == 0
    assert always.in_stance(t).all()
    never = gm.contact_events(np.zeros(t.size), t)
    assert never.stance_fraction == 0.0 and never.stance == ()
    with pytest.raises(ValueError, match="never in contact"):
        _ = never.main_stance
    # A higher threshold shortens the stance.
    high = gm.contact_events(two_humps(t), t, threshold=0.5)
    assert high.stance_fraction < gm.contact_events(two_humps(t), t).stance_fraction
    with pytest.raises(ValueError, match="increasing"):
        gm.contact_events(np.zeros(3), np.array([0.0, 0.2, 0.1]))


def test_brief_unloading_makes_two_stance_phases() -> None:
    t = np.linspace(0.0, 1.0, 1001)
    force = two_humps(t)
    force[(t > 0.30) & (t < 0.31)] = 0.0
    events = gm.contact_events(force, t)
    assert len(events.stance) == 2
    assert events.main_stance[0] == pytest.approx(0.31, abs=1e-3)


# ---------------------------------------------------------------------------------------
# Peaks
# ---------------------------------------------------------------------------------------


def test_stance_peaks_of_two_humps() -> None:
    t = np.linspace(0.0, 1.0, 201)
    force = two_humps(t)
    peaks = gm.stance_peaks(force, t, gm.contact_events(force, t))
    first, second = dense_peaks()
    assert peaks.first == pytest.approx(first, abs=2e-4)
    assert peaks.second == pytest.approx(second, abs=2e-4)
    assert peaks.first_time == pytest.approx(C1, abs=2e-3)
    assert peaks.second_time == pytest.approx(C2, abs=2e-3)


def test_stance_peaks_with_a_flat_middle_and_wrapping() -> None:
    t = np.linspace(0.0, 1.0, 401)
    shift = 0.7
    local = np.mod(t - shift, 1.0)
    force = np.maximum(two_humps(local), np.where((local > C1) & (local < C2), 0.8, 0.0))
    peaks = gm.stance_peaks(force, t, gm.contact_events(force, t))
    assert peaks.first == pytest.approx(A1, abs=2e-3)
    assert peaks.second == pytest.approx(A2, abs=2e-3)
    assert peaks.first_time == pytest.approx(C1 + shift, abs=3e-3)
    assert peaks.second_time == pytest.approx(C2 + shift - 1.0, abs=3e-3)


def test_stance_peaks_of_a_single_hump() -> None:
    t = np.linspace(0.0, 1.0, 201)
    force = 1.2 * np.clip(np.sin(np.pi * t / 0.6), 0.0, None) * (t <= 0.6)
    peaks = gm.stance_peaks(force, t, gm.contact_events(force, t))
    assert peaks.first == pytest.approx(1.2, abs=1e-3)
    assert peaks.second == pytest.approx(1.2, abs=1e-3)


def test_swing_peak_flexion_ignores_stance() -> None:
    t = np.linspace(0.0, 1.0, 101)
    force = two_humps(t)
    # Knee flexion is negative: a swing minimum of -1.1 rad at 0.8 s and a deeper
    # (non-physiological) one in stance, which must be ignored.
    knee = (
        -0.1 - 1.0 * np.exp(-(((t - 0.8) / 0.08) ** 2)) - 1.5 * np.exp(-(((t - 0.4) / 0.03) ** 2))
    )
    events = gm.contact_events(force, t)
    assert gm.swing_peak_flexion(knee, t, events) == pytest.approx(math.degrees(1.1), abs=0.05)
    with pytest.raises(ValueError, match="swing"):
        gm.swing_peak_flexion(knee, t, gm.contact_events(np.ones(t.size), t))


# ---------------------------------------------------------------------------------------
# Cycle normalisation and correlation
# ---------------------------------------------------------------------------------------


def periodic_curve(t: np.ndarray, period: float) -> np.ndarray:
    phase = 2 * np.pi * t / period
    return np.sin(phase) + 0.3 * np.cos(2 * phase) + 0.1 * np.sin(3 * phase + 0.4)


def test_cycle_normalised_starts_at_the_event_and_wraps() -> None:
    period = 1.3
    t = np.linspace(0.0, period, 2001)
    x = periodic_curve(t, period)
    start = 0.37 * period
    curve = gm.cycle_normalised(x, t, start)
    expected = periodic_curve(start + period * PERCENT / 100, period)
    assert curve.shape == (101,)
    assert curve == pytest.approx(expected, abs=1e-5)
    assert curve[0] == curve[-1]
    # Shifting by a whole period changes nothing; columns are resampled alike.
    assert gm.cycle_normalised(x, t, start + period) == pytest.approx(curve, abs=1e-12)
    both = gm.cycle_normalised(np.stack([x, 2 * x], axis=1), t, start)
    assert both.shape == (101, 2)
    assert both[:, 1] == pytest.approx(2 * curve)


def test_cycle_normalised_with_explicit_period() -> None:
    period = 1.0
    t = np.arange(50) / 50
    x = periodic_curve(t, period)
    curve = gm.cycle_normalised(x, t, 0.0, period=period)
    assert curve[::2][:50] == pytest.approx(x, abs=1e-12)
    assert curve[-1] == pytest.approx(x[0])


def test_correlation_of_a_curve_with_its_shifted_self_is_one() -> None:
    period = 1.0
    t = np.linspace(0.0, period, 501)
    x = periodic_curve(t, period)
    shift = 0.23
    shifted = periodic_curve(t - shift, period)  # the same curve, later by `shift`
    r = gm.pearson(gm.cycle_normalised(x, t, 0.0), gm.cycle_normalised(shifted, t, shift))
    assert r == pytest.approx(1.0, abs=1e-9)
    wrong = gm.pearson(gm.cycle_normalised(x, t, 0.0), gm.cycle_normalised(shifted, t, 0.0))
    assert wrong < 0.9
    assert gm.pearson(x, -x) == pytest.approx(-1.0)
    assert math.isnan(gm.pearson(np.ones(5), np.arange(5)))


# ---------------------------------------------------------------------------------------
# Metrics of a WalkingResult
# ---------------------------------------------------------------------------------------


def synthetic_stride() -> WalkingResult:
    t = np.linspace(0.0, 1.0, 201)
    right = two_humps(t)
    left = two_humps(np.mod(t - 0.5, 1.0))
    knee_r = -0.1 - 1.0 * np.exp(-(((t - 0.8) / 0.08) ** 2))
    knee_l = -0.1 - 0.9 * np.exp(-(((np.mod(t - 0.5, 1.0) - 0.8) / 0.08) ** 2))
    hip_r = 0.4 * np.cos(2 * np.pi * t)
    return make_result(
        t,
        {"r": right, "l": left},
        {"knee_angle_r": knee_r, "knee_angle_l": knee_l, "hip_flexion_r": hip_r},
    )


def test_result_metrics() -> None:
    result = synthetic_stride()
    for side in ("r", "l"):
        assert gm.stance_fraction(result, side) == pytest.approx(TOE_OFF - CONTACT, abs=3e-4)
        peaks = gm.vertical_grf_peaks(result, side)
        first, second = dense_peaks()
        assert (peaks.first, peaks.second) == pytest.approx((first, second), abs=2e-4)
    assert gm.peak_swing_knee_flexion(result, "r") == pytest.approx(math.degrees(1.1), abs=0.05)
    assert gm.peak_swing_knee_flexion(result, "l") == pytest.approx(math.degrees(1.0), abs=0.05)
    with pytest.raises(ValueError, match="side"):
        gm.stance_fraction(result, "x")
    values, unit = gm.result_variable(result, "grf_y_r")
    assert unit == "BW" and values.max() == pytest.approx(A1, abs=1e-3)
    assert gm.result_variable(result, "pelvis_tx")[1] == "m"
    assert gm.result_variable(result, "knee_angle_r_moment")[1] == "N m/kg"
    with pytest.raises(LookupError):
        gm.result_variable(result, "no_such_thing")


def test_aligned_curve_starts_at_the_initial_contact() -> None:
    result = synthetic_stride()
    force = gm.aligned_curve(result, "grf_y_l", "l")
    assert force[0] == pytest.approx(THRESHOLD, abs=1e-3)
    assert force[1] > THRESHOLD
    # The left stance, aligned at left contact, equals the right one aligned at right.
    assert force == pytest.approx(gm.aligned_curve(result, "grf_y_r", "r"), abs=1e-6)


def test_summary_is_json_ready() -> None:
    result = synthetic_stride()
    out = gm.summary(result)
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert out["stance_percent"]["r"] == pytest.approx(100 * (TOE_OFF - CONTACT), abs=0.03)
    assert out["stride_time_s"] == 1.0
    assert out["cadence_steps_per_min"] == pytest.approx(120.0)
    assert out["peak_swing_knee_flexion_deg"]["r"] == pytest.approx(math.degrees(1.1), abs=0.05)
    assert out["vertical_grf_peaks_bw"]["r"]["first"] == pytest.approx(A1, abs=1e-3)
    assert out["problems"] == []
    assert "correlations" not in out


def test_summary_reports_what_it_cannot_compute() -> None:
    t = np.linspace(0.0, 1.0, 101)
    result = make_result(t, {"r": np.ones(t.size), "l": two_humps(t)}, {})
    out = gm.summary(result)
    assert out["stance_percent"]["r"] == 100.0
    assert out["peak_swing_knee_flexion_deg"]["r"] is None
    assert any("swing" in problem for problem in out["problems"])
    json.dumps(out, allow_nan=False)


# ---------------------------------------------------------------------------------------
# Normative data: Winter's, gaitsim's own format
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def winter_path(shared_data: Path) -> Path:
    path = shared_data / "normative" / "Winter_normal.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="module")
def winter(winter_path: Path) -> NormativeCurves:
    return load_normative(winter_path)


def winter_as_result(winter: NormativeCurves) -> WalkingResult:
    """A WalkingResult whose angles and forces are Winter's means."""
    assert winter.stride_time is not None
    t = PERCENT / 100 * winter.stride_time
    q = {name: winter.mean[name] for name in winter.variables if name in COORDINATES}
    vertical = {side: winter.mean[f"grf_y_{side}"] for side in "rl"}
    forward = {side: winter.mean[f"grf_x_{side}"] for side in "rl"}
    return make_result(t, vertical, q, grf_x_bw=forward)


def test_winter_is_read(winter: NormativeCurves, winter_path: Path) -> None:
    assert set(winter.variables) == {
        f"{name}_{side}"
        for name in ("hip_flexion", "knee_angle", "ankle_angle", "grf_x", "grf_y")
        for side in "rl"
    }
    assert winter.units["knee_angle_r"] == "rad" and winter.units["grf_y_l"] == "BW"
    assert winter.speed == 1.325 and winter.stride_time == pytest.approx(1.1396)
    assert "Winter" in winter.source and "BioMAC" in winter.source
    mean, sd = winter.curve("knee_angle_r")
    assert mean.shape == sd.shape == (101,)
    # Node k of 50 is at 2k %: the values are those of the file, sd = sqrt(var).
    assert mean[0] == pytest.approx(-0.0692896)
    assert sd[0] == pytest.approx(math.sqrt(0.00534789))
    assert mean[2] == pytest.approx(-0.122173)
    assert mean[100] == mean[0]  # periodic
    assert mean[1] == pytest.approx((-0.0692896 - 0.122173) / 2)
    # Knee flexion is negative (OpenSim signs): peak swing flexion about 65 degrees.
    assert -math.degrees(mean.min()) == pytest.approx(65, abs=3)
    with pytest.raises(LookupError, match="knee_angle_r"):
        winter.curve("knee_angel_r")


def test_winter_against_itself(winter: NormativeCurves) -> None:
    result = winter_as_result(winter)
    for variable in winter.variables:
        r = gm.correlation_with_normative(result, winter, variable)
        assert r == pytest.approx(1.0, abs=1e-9), variable
    out = gm.summary(result, winter)
    assert all(r == pytest.approx(1.0, abs=1e-9) for r in out["correlations"].values())
    assert len(out["correlations"]) == 10
    json.dumps(out, allow_nan=False)


def test_winter_gait_metrics(winter: NormativeCurves) -> None:
    result = winter_as_result(winter)
    for side in ("r", "l"):
        # Winter's mean force exceeds 2 % BW from ~98.6 % to ~63 % of the cycle (the
        # averaged curves blur the events); the classic toe-off is ~60-62 %.
        assert 0.58 < gm.stance_fraction(result, side) < 0.66
        peaks = gm.vertical_grf_peaks(result, side)
        assert 1.0 < peaks.first < 1.35
        assert 1.0 < peaks.second < 1.35
        assert 55 < gm.peak_swing_knee_flexion(result, side) < 70
    events = gm.contact_events(winter.mean["grf_y_r"], PERCENT)
    assert events.initial_contacts[0] == pytest.approx(98.6, abs=0.5)


def test_left_alignment_of_winter(winter: NormativeCurves) -> None:
    mean_l, _ = gm.aligned_normative(winter, "knee_angle_l", "l")
    mean_r, _ = gm.aligned_normative(winter, "knee_angle_r", "r")
    # Winter's data are symmetric: left from left contact = right from right contact.
    assert mean_l == pytest.approx(mean_r, abs=1e-3)


def test_normative_round_trip(winter: NormativeCurves, tmp_path: Path) -> None:
    path = tmp_path / "winter.csv"
    write_normative(winter, path)
    assert path.read_text().startswith("# gaitsim-normative v1\n")
    again = load_normative(path)
    assert again.variables == winter.variables
    assert (again.name, again.source, again.speed, again.stride_time) == (
        winter.name,
        winter.source,
        winter.speed,
        winter.stride_time,
    )
    assert again.units == winter.units
    for variable in winter.variables:
        assert np.array_equal(again.mean[variable], winter.mean[variable])
        assert np.array_equal(again.sd[variable], winter.sd[variable])


def small_curves() -> NormativeCurves:
    phase = 2 * np.pi * PERCENT / 100
    return NormativeCurves(
        name="test",
        mean={"knee_angle_r": -0.5 + 0.5 * np.cos(phase), "soleus_r_activation": 0 * phase},
        sd={"knee_angle_r": 0.1 + 0 * phase, "soleus_r_activation": 0.05 + 0 * phase},
        units={"knee_angle_r": "rad", "soleus_r_activation": ""},
    )


def test_round_trip_without_speed(tmp_path: Path) -> None:
    curves = small_curves()
    write_normative(curves, tmp_path / "n.csv")
    again = load_normative(tmp_path / "n.csv")
    assert again.speed is None and again.stride_time is None and again.source == ""
    assert again.units == {"knee_angle_r": "rad", "soleus_r_activation": ""}
    assert np.array_equal(again.mean["knee_angle_r"], curves.mean["knee_angle_r"])


def test_gaitsim_format_is_interpolated_periodically(tmp_path: Path) -> None:
    path = tmp_path / "coarse.csv"
    path.write_text(
        "# gaitsim-normative v1\n"
        "# name: coarse\n"
        "# A free-text comment line.\n"
        "# units: a=deg\n"
        "percent,a:sd,a:mean\n"
        "0,1,0\n"
        "25,1,10\n"
        "\n"
        "50,1,20\n"
        "75,2,40\n"
    )
    curves = load_normative(path)
    mean, sd = curves.curve("a")
    assert mean[25] == 10 and mean[60] == pytest.approx(28)
    assert mean[87] == pytest.approx(40 * (1 - 12 / 25))  # wraps back to 0 at 100 %
    assert mean[100] == 0 and sd[100] == 1 and sd[90] == pytest.approx(2 - 15 / 25)
    assert curves.units == {"a": "deg"} and curves.speed is None


GOOD_HEADER = "# gaitsim-normative v1\n# units: a=rad\npercent,a:mean,a:sd\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "empty"),
        ("hello,world\n1,2\n", 1, "not a normative data file"),
        ("# gaitsim-normative v2\n", 1, "version"),
        ("# gaitsim-normative v1\npercent,a:mean,a:sd\n0,1,1\n50,1,1\n", 2, "units"),
        (GOOD_HEADER.replace("percent", "pct") + "0,1,1\n50,1,1\n", 3, "percent"),
        (GOOD_HEADER.replace("a:sd", "a:std") + "0,1,1\n50,1,1\n", 3, "a:std"),
        (GOOD_HEADER.replace(",a:sd", "") + "0,1\n50,1\n", 3, "no sd column"),
        (GOOD_HEADER.replace("a=rad", "a=rad, b=deg") + "0,1,1\n50,1,1\n", 2, "'b'"),
        (GOOD_HEADER.replace("a=rad", "rad") + "0,1,1\n50,1,1\n", 2, "variable=unit"),
        (GOOD_HEADER + "0,1,1\n50,x,1\n", 5, "not a finite number"),
        (GOOD_HEADER + "0,1,1\n50,1\n", 5, "2 values"),
        (GOOD_HEADER + "0,1,1\n50,1,-1\n", 5, "negative sd"),
        (GOOD_HEADER + "50,1,1\n40,1,1\n", 5, "increase"),
        (GOOD_HEADER + "0,1,1\n150,1,1\n", 5, "0..100"),
        (GOOD_HEADER + "0,1,1\n", 3, "at least 2"),
        (GOOD_HEADER + "0,1,1\n# late\n50,1,1\n", 5, "comment"),
        ("# gaitsim-normative v1\n# units: a=rad\n# units: a=deg\n", 3, "repeated"),
        ("# gaitsim-normative v1\n# speed: fast\n# units: a=rad\npercent,a:mean,a:sd\n"
         "0,1,1\n50,1,1\n", 2, "speed"),
        ("# gaitsim-normative v1\n# units: a=rad\n", 2, "no column labels"),
    ],
)  # fmt: skip
def test_bad_gaitsim_files(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(FileFormatError, match=message) as info:
        load_normative(path)
    assert info.value.line == line
    assert str(path) in str(info.value)


WINTER_HEAD = (
    "# converted ; events (1-based node index): R_HS@1.0; L_HS@3.0; R_HS@5.0\n"
    "node,angle:knee_angle_r:mean[rad],angle:knee_angle_r:var[rad^2]\n"
)


def test_small_winter_style_file(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(WINTER_HEAD + "0,0,1\n1,1,4\n2,2,9\n3,3,16\n")
    curves = load_normative(path)
    mean, sd = curves.curve("knee_angle_r")
    assert mean[25] == 1 and sd[25] == 2 and mean[87] == pytest.approx(3 * (1 - 12 / 25))
    assert curves.speed is None


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ("0,0,1\n2,1,4\n2,2,9\n3,3,16\n", 4, "node 2"),
        ("0,0,1\n1,1,-4\n2,2,9\n3,3,16\n", 4, "negative variance"),
        ("0,0,1\n1,nan,4\n2,2,9\n3,3,16\n", 4, "finite"),
        ("0,0,1\n1,1,4\n", 1, "do not define a stride"),
    ],
)
def test_bad_winter_files(tmp_path: Path, rows: str, line: int, message: str) -> None:
    path = tmp_path / "w.csv"
    path.write_text(WINTER_HEAD + rows)
    with pytest.raises(FileFormatError, match=message) as info:
        load_normative(path)
    assert info.value.line == line


def test_winter_file_without_variance_column(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("node,angle:knee_angle_r:mean[rad],bogus\n0,0,1\n1,1,1\n")
    with pytest.raises(FileFormatError, match="bogus") as info:
        load_normative(path)
    assert info.value.line == 1


def test_normative_curves_validate() -> None:
    good = small_curves()
    with pytest.raises(ValueError, match="shape"):
        NormativeCurves("x", {"a": np.zeros(50)}, {"a": np.zeros(50)}, {"a": ""})
    with pytest.raises(ValueError, match="same variables"):
        NormativeCurves("x", {"a": np.zeros(101)}, {}, {"a": ""})
    with pytest.raises(ValueError, match="negative"):
        NormativeCurves("x", {"a": np.zeros(101)}, {"a": -np.ones(101)}, {"a": ""})
    with pytest.raises(ValueError, match="invalid variable"):
        NormativeCurves("x", {"a b": np.zeros(101)}, {"a b": np.zeros(101)}, {"a b": ""})
    assert not good.mean["knee_angle_r"].flags.writeable
    assert "knee_angle_r" in good and "hip" not in good


def test_first_loaded_contact_and_stance_knee_extension() -> None:
    """Synthetic stride: the front sphere loads 10 ms before the heel; the knee extends."""
    import dataclasses

    from gaitsim.analysis.gait_metrics import first_loaded_contact, stance_knee_extension
    from gaitsim.simulate.result import WalkingResult

    n = 201
    time = np.linspace(0.0, 1.0, n)
    mass = 70.0
    weight = mass * 9.80665
    stance = (time >= 0.1) & (time <= 0.7)
    front = np.where((time >= 0.1) & (time <= 0.7), 0.6 * weight, 0.0)
    heel = np.where((time >= 0.11) & (time <= 0.65), 0.6 * weight, 0.0)
    zeros = np.zeros(n)
    names = ("knee_angle_r", "knee_angle_l")
    knee = np.where(stance, np.radians(-50.0 + 70.0 * (time - 0.1) / 0.6), np.radians(-40.0))
    q = np.column_stack([knee, knee])
    result = WalkingResult(
        model_name="synthetic",
        kind="predictive",
        time=time,
        coordinate_names=names,
        q=q,
        qd=q * 0,
        qdd=q * 0,
        joint_moments=q * 0,
        muscle_names=(),
        excitations=np.zeros((n, 0)),
        activations=np.zeros((n, 0)),
        tendon_forces=np.zeros((n, 0)),
        grf={
            "r": np.column_stack([zeros, front + heel, zeros]),
            "l": np.column_stack([zeros, front + heel, zeros]),
        },
        cop={"r": np.zeros((n, 3)), "l": np.zeros((n, 3))},
        body_mass=mass,
        speed=-0.8,
        contact_forces={
            "contactFront_r": np.column_stack([zeros, front, zeros]),
            "contactHeel_r": np.column_stack([zeros, heel, zeros]),
        },
    )
    assert first_loaded_contact(result, "r") == "contactFront_r"
    assert stance_knee_extension(result, "r") == pytest.approx(70.0, abs=1.0)
    swapped = dataclasses.replace(
        result,
        contact_forces={
            "contactFront_r": result.contact_forces["contactHeel_r"],
            "contactHeel_r": result.contact_forces["contactFront_r"],
        },
    )
    assert first_loaded_contact(swapped, "r") == "contactHeel_r"
