"""Gait events and cycles: synthetic signals with known crossings and extremes, a
simulated stride against gait_metrics, and measured trials against force plates."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from gaitsim.analysis import gait_metrics as gm
from gaitsim.analysis.events import (
    INITIAL_CONTACT,
    TOE_OFF,
    EventError,
    GaitCycle,
    GaitEvent,
    GaitEvents,
    ZeniMarkers,
    cycle_normalised,
    events_from_force,
    events_from_markers,
    events_from_result,
    gait_cycles,
    walking_direction,
)
from gaitsim.errors import GaitsimError
from gaitsim.io.trc import MarkerTable

# ---------------------------------------------------------------------------------------
# A synthetic force signal with exactly known threshold crossings
# ---------------------------------------------------------------------------------------

THRESHOLD = 20.0
SLOPE = 4000.0  # N/s: the force ramps through the threshold at this rate
PLATEAU = 800.0


def ramp_force(t: np.ndarray, stances: list[tuple[float, float]]) -> np.ndarray:
    """Piecewise-linear force equal to THRESHOLD exactly at each contact and toe-off.

    Around every event the force is linear over 5 ms before and after (from 0 to
    THRESHOLD + 20 N), so linear interpolation between samples is exact there.
    """
    force = np.zeros_like(t)
    for on, off in stances:
        rise = THRESHOLD + SLOPE * (t - on)
        fall = THRESHOLD + SLOPE * (off - t)
        force = np.maximum(force, np.clip(np.minimum(rise, fall), 0.0, PLATEAU))
    return force


STANCES_R = [(0.1003, 0.7417), (1.2001, 1.8432)]
STANCES_L = [(0.6512, 1.2929)]


def test_force_events_at_exact_crossings() -> None:
    t = np.arange(0.0, 2.0, 0.001)  # 1 kHz, the events fall between samples
    events = events_from_force(t, {"r": ramp_force(t, STANCES_R), "l": ramp_force(t, STANCES_L)})
    # The force is linear through the threshold, so interpolation is exact (rounding only).
    assert events.initial_contacts("r") == pytest.approx([0.1003, 1.2001], abs=1e-12)
    assert events.toe_offs("r") == pytest.approx([0.7417, 1.8432], abs=1e-12)
    assert events.initial_contacts("l") == pytest.approx([0.6512], abs=1e-12)
    assert events.toe_offs("l") == pytest.approx([1.2929], abs=1e-12)
    times = [e.time for e in events.events]
    assert times == sorted(times)
    assert events.period is None and events.start == 0.0 and events.end == t[-1]
    assert [e.kind for e in events.events[:3]] == [INITIAL_CONTACT, INITIAL_CONTACT, TOE_OFF]


def test_force_events_with_noise_and_chatter() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(0.0, 2.0, 0.001)
    clean = ramp_force(t, STANCES_R)
    noise = rng.uniform(-5.0, 5.0, t.size)
    force = clean + noise
    # Chatter: a 3 ms heel tap in swing, and a 10 ms unloading in mid-stance.
    force[(t > 0.95) & (t < 0.953)] = 60.0
    force[(t > 0.40) & (t < 0.41)] = 0.0
    events = events_from_force(t, {"r": force})
    # With |noise| <= 5 N on a 4000 N/s ramp the crossing is within 5/4000 s of the true
    # one, plus at most one sample (1 ms) from interpolating between noisy samples.
    tolerance = 5.0 / SLOPE + 0.001
    assert events.initial_contacts("r") == pytest.approx([0.1003, 1.2001], abs=tolerance)
    assert events.toe_offs("r") == pytest.approx([0.7417, 1.8432], abs=tolerance)
    # Without the minimum duration the chatter makes extra events (the rule does work).
    raw = events_from_force(t, {"r": force}, min_duration=0.0)
    assert len(raw.initial_contacts("r")) > 2


def test_force_events_threshold_is_settable_and_edges_have_no_events() -> None:
    t = np.arange(0.0, 1.0, 0.001)
    # In contact at the start (no initial contact there) and a toe-off at 0.5 s.
    force = np.clip(THRESHOLD + SLOPE * (0.5 - t), 0.0, PLATEAU)
    events = events_from_force(t, {"l": force})
    assert [(e.side, e.kind) for e in events.events] == [("l", TOE_OFF)]
    assert events.toe_offs("l") == pytest.approx([0.5], abs=1e-12)
    # A threshold of 100 N crosses (100 - 20) / 4000 s = 20 ms earlier.
    higher = events_from_force(t, {"l": force}, threshold=100.0)
    assert higher.toe_offs("l") == pytest.approx([0.48], abs=1e-12)
    body_weight = 0.02 * 70.0 * gm.STANDARD_GRAVITY  # 2 % BW of 70 kg, 13.7 N
    assert events_from_force(t, {"l": force}, threshold=body_weight).toe_offs("l")[0] > 0.5


def test_force_events_reject_bad_input() -> None:
    t = np.arange(0.0, 1.0, 0.01)
    force = np.zeros(t.size)
    with pytest.raises(ValueError, match="not finite"):
        events_from_force(t, {"r": np.where(t > 0.5, np.nan, force)})
    with pytest.raises(ValueError, match="side"):
        events_from_force(t, {"x": force})
    with pytest.raises(ValueError, match="rows"):
        events_from_force(t, {"r": force[:-1]})
    with pytest.raises(ValueError, match="increasing"):
        events_from_force(t[::-1], {"r": force})
    with pytest.raises(ValueError, match="min_duration"):
        events_from_force(t, {"r": force}, min_duration=-1.0)


def test_event_types_validate() -> None:
    with pytest.raises(ValueError, match="kind"):
        GaitEvent("r", "heel_strike", 0.1)
    with pytest.raises(ValueError, match="sorted"):
        GaitEvents((GaitEvent("r", TOE_OFF, 0.5), GaitEvent("r", INITIAL_CONTACT, 0.1)), 0, 1)
    with pytest.raises(ValueError, match="outside"):
        GaitEvents((GaitEvent("r", TOE_OFF, 1.5),), 0.0, 1.0)
    with pytest.raises(ValueError, match="outside the cycle"):
        GaitCycle("r", 0.0, 1.0, toe_off=1.2)
    assert issubclass(EventError, GaitsimError)


# ---------------------------------------------------------------------------------------
# Zeni et al. (2008) on synthetic sinusoidal markers
# ---------------------------------------------------------------------------------------

PERIOD = 1.1  # s, stride
SPEED = 1.25  # m/s of the pelvis
AMPLITUDE = 0.35  # m, heel and toe excursion relative to the pelvis


def sinusoidal_walker(
    rate: float = 100.0, direction: tuple[float, float] = (1.0, 0.0)
) -> tuple[MarkerTable, dict[str, list[float]]]:
    """Heel and toe markers oscillating sinusoidally about a pelvis moving at SPEED.

    Along the walking direction, relative to the pelvis, each heel is
    ``AMPLITUDE * cos(2 pi (t - c) / PERIOD)`` (maxima at the contacts c + k PERIOD) and
    each toe ``-AMPLITUDE * cos(2 pi (t - o) / PERIOD)`` (minima at the toe-offs o).
    """
    t = np.arange(0.0, 3.0, 1.0 / rate)
    d = np.array([direction[0], 0.0, direction[1]])
    d /= np.linalg.norm(d)
    pelvis = np.outer(SPEED * t, d) + np.array([0.0, 1.0, 0.0])
    phases = {
        "r": (0.137, 0.137 + 0.62 * PERIOD),
        "l": (0.137 + 0.5 * PERIOD, 0.137 + 0.12 * PERIOD),
    }
    columns = {"SACR": pelvis}
    expected: dict[str, list[float]] = {}
    for side, (contact, toe_off) in phases.items():
        lateral = np.array([0.0, 0.0, 0.1 if side == "r" else -0.1])
        heel = AMPLITUDE * np.cos(2 * np.pi * (t - contact) / PERIOD)
        toe = -AMPLITUDE * np.cos(2 * np.pi * (t - toe_off) / PERIOD)
        columns[f"{side}HEE"] = pelvis + np.outer(heel, d) + lateral - [0, 0.95, 0]
        columns[f"{side}TOE"] = pelvis + np.outer(toe, d) + lateral - [0, 0.95, 0]
        inside = lambda first: [  # noqa: E731
            first + k * PERIOD
            for k in range(-2, 5)
            if t[0] < first + k * PERIOD < t[-1] - 1.0 / rate
        ]
        expected[f"{side} {INITIAL_CONTACT}"] = inside(contact)
        expected[f"{side} {TOE_OFF}"] = inside(toe_off)
    names = tuple(columns)
    positions = np.stack([columns[n] for n in names], axis=1)
    return MarkerTable(names, t, positions, rate), expected


ZENI = ZeniMarkers(
    heel={"r": "rHEE", "l": "lHEE"}, toe={"r": "rTOE", "l": "lTOE"}, pelvis=("SACR",)
)


@pytest.mark.parametrize("direction", [(1.0, 0.0), (-0.6, 0.8)])
def test_zeni_events_at_the_known_extremes(direction: tuple[float, float]) -> None:
    markers, expected = sinusoidal_walker(direction=direction)
    events = events_from_markers(markers, ZENI)
    # Parabolic refinement of a sampled sinusoid is biased by O((w dt)^2 dt): about 3e-6 s
    # at 100 Hz for a 1.1 s period; 1e-4 s leaves room and still needs sub-sample timing
    # (samples are 10 ms apart).
    for key, times in expected.items():
        side, kind = key.split()
        assert events.times(side, kind) == pytest.approx(times, abs=1e-4), key


def test_zeni_treadmill_needs_a_direction_and_gaps_are_skipped() -> None:
    markers, expected = sinusoidal_walker()
    # Remove the pelvis' travel (a treadmill): same relative motion, no travel.
    travel = np.outer(SPEED * markers.time, [1.0, 0.0, 0.0])
    still = MarkerTable(
        markers.marker_names, markers.time, markers.positions - travel[:, None, :], 100.0
    )
    with pytest.raises(EventError, match="treadmill"):
        events_from_markers(still, ZENI)
    events = events_from_markers(still, ZENI, direction=(1.0, 0.0, 0.0))
    assert events.initial_contacts("r") == pytest.approx(expected[f"r {INITIAL_CONTACT}"], abs=1e-4)
    # Missing right-heel frames around the first right contact: that contact is not
    # reported (no guessing across the gap), the others are.
    positions = np.array(still.positions)
    first = expected[f"r {INITIAL_CONTACT}"][0]
    gap = np.abs(still.time - first) < 0.05
    positions[gap, still.marker_names.index("rHEE"), :] = np.nan
    holed = MarkerTable(still.marker_names, still.time, positions, 100.0)
    found = events_from_markers(holed, ZENI, direction=(1.0, 0.0, 0.0)).initial_contacts("r")
    assert found == pytest.approx(expected[f"r {INITIAL_CONTACT}"][1:], abs=1e-4)


def test_walking_direction_is_the_horizontal_travel() -> None:
    path = np.outer(np.linspace(0.0, 2.0, 50), [0.6, 0.1, -0.8]) + [0.0, 1.0, 0.0]
    assert walking_direction(path) == pytest.approx([0.6, 0.0, -0.8])


# ---------------------------------------------------------------------------------------
# Simulated strides: agreement with gait_metrics.contact_events
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_events_of_a_simulated_stride_match_contact_events(shipped_stride, direction) -> None:  # noqa: ANN001
    _, _, result = shipped_stride(direction)
    events = events_from_result(result)
    assert events.period == pytest.approx(result.time[-1] - result.time[0], rel=1e-15)
    weight = result.body_mass * gm.STANDARD_GRAVITY
    for side in ("r", "l"):
        reference = gm.contact_events(result.grf[side][:, 1] / weight, result.time)
        # The same function computes both: identical up to rounding of the modulo.
        assert events.initial_contacts(side) == pytest.approx(reference.initial_contacts, abs=1e-12)
        assert events.toe_offs(side) == pytest.approx(reference.toe_offs, abs=1e-12)
        (cycle,) = gait_cycles(events, side)
        assert cycle.periodic and cycle.complete
        assert cycle.duration == pytest.approx(events.period, rel=1e-12)
        assert cycle.toe_off - cycle.start == pytest.approx(
            reference.stance_fraction * events.period, rel=1e-9
        )


def test_periodic_chatter_is_merged(shipped_stride) -> None:  # noqa: ANN001
    _, _, result = shipped_stride("forward")
    weight = result.body_mass * gm.STANDARD_GRAVITY
    cycle = gait_cycles(events_from_result(result), "r")[0]
    # A two-sample unloading in the middle of the right stance (~18 ms here).
    grf = {k: np.array(v) for k, v in result.grf.items()}
    middle = (cycle.start + cycle.toe_off) / 2
    k = int(np.argmin(np.abs(result.time - middle)))
    grf["r"][k : k + 2, 1] = 0.0
    chattering = dataclasses.replace(result, grf=grf)
    raw = gm.contact_events(grf["r"][:, 1] / weight, result.time)
    assert len(raw.initial_contacts) == 2  # gait_metrics counts every crossing
    merged = events_from_result(chattering)
    assert merged.initial_contacts("r") == pytest.approx([cycle.start], abs=1e-12)
    assert merged.toe_offs("r") == pytest.approx([cycle.toe_off], abs=1e-12)


# ---------------------------------------------------------------------------------------
# Cycles and normalisation
# ---------------------------------------------------------------------------------------


def test_cycles_of_a_trial_carry_their_inner_events() -> None:
    t = np.arange(0.0, 2.0, 0.001)
    events = events_from_force(t, {"r": ramp_force(t, STANCES_R), "l": ramp_force(t, STANCES_L)})
    (right,) = gait_cycles(events, "r")
    assert (right.start, right.end) == pytest.approx((0.1003, 1.2001), abs=1e-12)
    assert right.toe_off == pytest.approx(0.7417, abs=1e-12)
    assert right.opposite_toe_off is None  # the left foot was in swing at 0.1003 s
    assert right.opposite_contact == pytest.approx(0.6512, abs=1e-12)
    assert not right.complete
    with pytest.raises(EventError, match="opposite_toe_off"):
        right.require_complete()
    assert gait_cycles(events, "l") == ()  # one left contact: no full cycle


def test_cycle_normalised_on_trials_and_strides(shipped_stride) -> None:  # noqa: ANN001
    t = np.linspace(0.0, 2.0, 401)
    cycle = GaitCycle("r", 0.31, 1.43)
    signal = np.stack([3.0 * t + 1.0, t * t], axis=1)
    curve = cycle_normalised(signal, t, cycle)
    points = np.linspace(0.31, 1.43, 101)
    assert curve.shape == (101, 2)
    assert curve[:, 0] == pytest.approx(3.0 * points + 1.0, abs=1e-12)  # linear: exact
    # Linear interpolation of t^2 with a 5 ms step errs by at most step^2/4.
    assert curve[:, 1] == pytest.approx(points**2, abs=0.005**2 / 4 + 1e-15)
    with pytest.raises(ValueError, match="within the samples"):
        cycle_normalised(signal, t, GaitCycle("r", 1.5, 2.5))

    _, _, result = shipped_stride("forward")
    (left,) = gait_cycles(events_from_result(result), "l")
    knee = result.coordinate("knee_angle_l")
    expected = gm.cycle_normalised(knee, result.time, left.start)
    assert cycle_normalised(knee, result.time, left) == pytest.approx(expected, abs=0.0)


# ---------------------------------------------------------------------------------------
# Measured trials (shared data): markers against force plates
# ---------------------------------------------------------------------------------------


def test_subject01_zeni_events_against_force_plates(shared_data: Path) -> None:
    from gaitsim.io.storage import read_storage
    from gaitsim.io.trc import read_trc

    folder = shared_data / "opensim" / "gait10dof18musc"
    grf = read_storage(folder / "subject01_walk_grf.mot")
    plates = events_from_force(
        grf.time, {"r": grf.column("ground_force_vy"), "l": grf.column("1_ground_force_vy")}
    )
    # OpenSim's subject01 walks on a treadmill along +x: the direction must be given.
    markers = read_trc(folder / "subject01_walk.trc")
    names = ZeniMarkers(
        heel={"r": "R.Heel", "l": "L.Heel"},
        toe={"r": "R.Toe.Tip", "l": "L.Toe.Tip"},
        pelvis=("V.Sacral",),
    )
    zeni = events_from_markers(markers, names, direction=(1.0, 0.0, 0.0))
    n_matched = 0
    for side in ("r", "l"):
        for kind in (INITIAL_CONTACT, TOE_OFF):
            for when in zeni.times(side, kind):
                nearest = plates.times(side, kind)
                error = float(np.min(np.abs(nearest - when)))
                # Zeni's coordinate method anticipates heel strike by one or two 60 Hz
                # frames (measured 20-28 ms early here) and finds toe-off within one
                # frame (9-13 ms late): 35 ms is two frames plus interpolation.
                assert error < 0.035, (side, kind, when, nearest)
                n_matched += 1
    assert n_matched == 7  # the last left contact (2.459 s) is too close to the end


def _c3d_trial(path: Path) -> tuple[MarkerTable, dict, GaitEvents]:
    """Heel/toe/pelvis markers in the model frame, force plates, and the file's events."""
    import ezc3d

    c3d = ezc3d.c3d(str(path), extract_forceplat_data=True)
    parameters = c3d["parameters"]
    rate = float(parameters["POINT"]["RATE"]["value"][0])
    first = int(parameters["TRIAL"]["ACTUAL_START_FIELD"]["value"][0])
    labels = parameters["POINT"]["LABELS"]["value"]
    names = ("LHEE", "RHEE", "LTOE", "RTOE", "LPSI", "RPSI", "LANK", "RANK", "LKNE", "RKNE")
    points = c3d["data"]["points"][:3, [labels.index(n) for n in names], :] / 1000.0
    lab = points.transpose(2, 1, 0)
    # Lab frame z up -> model frame y up (x stays, z_model = -y_lab keeps it right-handed).
    positions = np.stack([lab[..., 0], lab[..., 2], -lab[..., 1]], axis=-1)
    time = (first - 1 + np.arange(positions.shape[0])) / rate
    markers = MarkerTable(names, time, positions, rate)
    analog_rate = float(parameters["ANALOG"]["RATE"]["value"][0])
    plates = {}
    for k, plate in enumerate(c3d["data"]["platform"]):
        force = plate["force"][2]
        plates[k] = ((first - 1) / rate + np.arange(force.size) / analog_rate, force)
    event = parameters["EVENT"]
    listed = []
    for context, label, when in zip(
        event["CONTEXTS"]["value"],
        event["LABELS"]["value"],
        event["TIMES"]["value"][1],
        strict=True,
    ):
        kind = INITIAL_CONTACT if "Strike" in label else TOE_OFF
        listed.append(GaitEvent(context[0].lower(), kind, float(when)))
    listed.sort(key=lambda e: e.time)
    return markers, plates, GaitEvents(tuple(listed), float(time[0]), float(time[-1]))


def test_c3d_events_against_the_files_own_events(shared_data: Path) -> None:
    markers, plates, listed = _c3d_trial(shared_data / "c3d" / "kineticstoolkit_walk.c3d")
    # Force plates 3 (right), 1 (left) carry one stance each; their events were found by
    # the capture software at sub-frame times (1.6605, 2.2235 s...).
    right_time, right_force = plates[3]
    left_time, left_force = plates[1]
    ours_r = events_from_force(right_time, {"r": right_force})
    ours_l = events_from_force(left_time, {"l": left_force})
    # Different thresholds (ours 20 N) shift crossings by a fraction of a ms on these
    # ramps; 2 ms is four 2 kHz samples.
    assert ours_r.initial_contacts("r")[0] == pytest.approx(1.6605, abs=0.002)
    assert ours_r.toe_offs("r")[0] == pytest.approx(2.364, abs=0.002)
    assert ours_l.initial_contacts("l")[0] == pytest.approx(2.2235, abs=0.002)
    assert ours_l.toe_offs("l")[0] == pytest.approx(2.892, abs=0.002)
    names = ZeniMarkers(
        heel={"r": "RHEE", "l": "LHEE"}, toe={"r": "RTOE", "l": "LTOE"}, pelvis=("LPSI", "RPSI")
    )
    zeni = events_from_markers(markers, names)  # overground: direction from the pelvis
    for side in ("r", "l"):
        for kind in (INITIAL_CONTACT, TOE_OFF):
            mine = zeni.times(side, kind)
            theirs = listed.times(side, kind)
            assert mine.size == theirs.size, (side, kind)
            # Measured 36-42 ms (contacts) and 11-31 ms (toe-offs) early on this
            # overground 100 Hz trial: up to about four frames, hence 50 ms.
            assert np.all(np.abs(mine - theirs) < 0.05), (side, kind, mine, theirs)
    assert math.isclose(float(np.linalg.norm(walking_direction(markers.marker("LPSI")))), 1.0)
