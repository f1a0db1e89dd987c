"""Perry's gait phases: known answers for Perry's own normal timing, tiling, order,
kinematic events on synthetic trajectories and on a simulated stride."""

from __future__ import annotations

import numpy as np
import pytest

from gaitsim.analysis.events import EventError, GaitCycle, events_from_result, gait_cycles
from gaitsim.analysis.phases import (
    PERRY_PHASES,
    PhaseEvents,
    feet_adjacent_time,
    gait_phases,
    heel_rise_time,
    phase_boundaries,
    phase_events_from_markers,
    phase_events_from_result,
    tibia_vertical_time,
)
from gaitsim.io.trc import MarkerTable

# Perry & Burnfield (2010) normal timing in percent of the cycle, here as seconds of a
# 100 s "cycle": opposite toe-off 12, opposite contact 50, toe-off 62.
PERRY = GaitCycle("r", 0.0, 100.0, toe_off=62.0, opposite_toe_off=12.0, opposite_contact=50.0)


def assert_tiles(phases: tuple, cycle: GaitCycle) -> None:
    """Phases in Perry's order, an instant at contact, then contiguous to the next one."""
    assert tuple(p.name for p in phases) == PERRY_PHASES
    assert all(p.side == cycle.side for p in phases)
    assert phases[0].start == phases[0].end == cycle.start
    assert phases[1].start == cycle.start
    for before, after in zip(phases[1:], phases[2:], strict=False):
        assert before.end == after.start  # no gap, no overlap: exactly the same float
        assert before.duration > 0
    assert phases[-1].end == cycle.end
    assert sum(p.duration for p in phases) == pytest.approx(cycle.duration, rel=1e-12)


def test_substitutes_reproduce_perrys_normal_timing() -> None:
    phases = gait_phases(PERRY)
    assert_tiles(phases, PERRY)
    ends = {p.name: p.end for p in phases}
    # Perry's normal boundaries: 12, 31, 50, 62, 75, 87, 100 % (the substitutes are
    # defined from them, so they must come out exactly for this timing).
    assert ends["loading_response"] == 12.0
    assert ends["mid_stance"] == pytest.approx(31.0, abs=1e-12)
    assert ends["terminal_stance"] == 50.0
    assert ends["pre_swing"] == 62.0
    assert ends["initial_swing"] == pytest.approx(75.0, abs=1e-12)
    assert ends["mid_swing"] == pytest.approx(87.0, abs=1e-12)
    assert ends["terminal_swing"] == 100.0
    boundaries = phase_boundaries(PERRY)
    assert [b.measured for b in boundaries] == [True, True, False, True, True, False, False, True]
    assert "midpoint of single support" in boundaries[2].definition


def test_measured_kinematic_events_are_used_and_checked() -> None:
    measured = PhaseEvents(heel_rise=35.0, feet_adjacent=73.0, tibia_vertical=88.0)
    phases = gait_phases(PERRY, measured)
    assert_tiles(phases, PERRY)
    ends = {p.name: p.end for p in phases}
    assert (ends["mid_stance"], ends["initial_swing"], ends["mid_swing"]) == (35.0, 73.0, 88.0)
    assert all(b.measured for b in phase_boundaries(PERRY, measured))
    with pytest.raises(EventError, match="heel rise"):
        gait_phases(PERRY, PhaseEvents(heel_rise=55.0))  # after the opposite contact
    with pytest.raises(EventError, match="feet adjacent"):  # after tibia vertical
        gait_phases(PERRY, PhaseEvents(feet_adjacent=80.0, tibia_vertical=70.0))
    with pytest.raises(EventError, match="tibia vertical"):  # before the 75 % substitute
        gait_phases(PERRY, PhaseEvents(tibia_vertical=70.0))
    # A late feet adjacent alone moves the mid-swing substitute after it.
    late = gait_phases(PERRY, PhaseEvents(feet_adjacent=92.0))
    assert_tiles(late, PERRY)


def test_incomplete_or_disordered_cycles_are_refused() -> None:
    with pytest.raises(EventError, match="opposite_contact"):
        gait_phases(GaitCycle("l", 0.0, 1.0, toe_off=0.6, opposite_toe_off=0.1))
    disordered = GaitCycle("l", 0.0, 1.0, toe_off=0.4, opposite_toe_off=0.1, opposite_contact=0.5)
    with pytest.raises(EventError, match="order"):
        gait_phases(disordered)


def test_phases_of_a_periodic_cycle_wrap_past_the_stride() -> None:
    stride = GaitCycle(
        "l", 0.7, 1.8, toe_off=1.38, opposite_toe_off=0.83, opposite_contact=1.25, periodic=True
    )
    phases = gait_phases(stride)
    assert_tiles(phases, stride)
    samples = np.linspace(0.0, 1.1, 111)[:-1]  # one period of samples
    covered = sum(p.mask(samples, period=1.1).astype(int) for p in phases)
    assert np.all(covered == 1)  # every sample in exactly one phase


def test_kinematic_event_finders_on_linear_crossings() -> None:
    t = np.linspace(0.0, 100.0, 1001)  # 0.1 s steps
    # Heel: flat at 0.02 m until 33.3, then rising 1 mm per unit time.
    heel = 0.02 + np.clip(t - 33.3, 0.0, None) * 0.001
    assert heel_rise_time(t, heel, PERRY, rise=0.01) == pytest.approx(43.3, abs=1e-9)
    # Swinging ankle passes the stance ankle at 74.2; the knee at 86.6 (both linear).
    swing = np.stack([0.01 * (t - 74.2), np.zeros_like(t), np.zeros_like(t)], axis=1)
    stance = np.zeros_like(swing)
    assert feet_adjacent_time(t, swing, stance, PERRY) == pytest.approx(74.2, abs=1e-9)
    knee = np.stack([0.01 * (86.6 - 74.2) * np.ones_like(t), np.zeros_like(t), 0 * t], axis=1)
    assert tibia_vertical_time(t, knee, swing, PERRY) == pytest.approx(86.6, abs=1e-9)
    # Walking along -x: the same motions mirrored give the same times.
    assert feet_adjacent_time(t, -swing, stance, PERRY, (-1.0, 0.0, 0.0)) == pytest.approx(
        74.2, abs=1e-9
    )
    # Nothing in the window: None (the substitute is then used).
    assert feet_adjacent_time(t, stance - 1.0, stance, PERRY) is None


def test_phase_events_from_markers() -> None:
    t = np.linspace(0.0, 100.0, 1001)
    zeros = np.zeros_like(t)
    heel = np.stack([zeros, 0.02 + np.clip(t - 33.3, 0, None) * 0.001, zeros], axis=1)
    ankle_r = np.stack([0.01 * (t - 74.2), zeros, zeros], axis=1)
    knee_r = np.stack([zeros + 0.124, zeros + 0.5, zeros], axis=1)
    ankle_l = np.zeros_like(heel)
    names = ("RHEE", "RANK", "RKNE", "LANK")
    markers = MarkerTable(names, t, np.stack([heel, ankle_r, knee_r, ankle_l], axis=1), 10.0)
    found = phase_events_from_markers(
        markers, PERRY, heel={"r": "RHEE"}, ankle={"r": "RANK", "l": "LANK"}, knee={"r": "RKNE"}
    )
    assert found.heel_rise == pytest.approx(43.3, abs=1e-9)
    assert found.feet_adjacent == pytest.approx(74.2, abs=1e-9)
    assert found.tibia_vertical == pytest.approx(86.6, abs=1e-9)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_phases_of_a_simulated_stride(shipped_stride, direction) -> None:  # noqa: ANN001
    _, functions, result = shipped_stride(direction)
    events = events_from_result(result)
    period = float(result.time[-1] - result.time[0])
    percents = {}
    for side in ("r", "l"):
        (cycle,) = gait_cycles(events, side)
        measured = phase_events_from_result(result, functions, cycle)
        for phases in (gait_phases(cycle), gait_phases(cycle, measured)):
            assert_tiles(phases, cycle)
            covered = sum(p.mask(result.time[:-1], period=period).astype(int) for p in phases)
            assert np.all(covered == 1)
        percents[side] = [cycle.percent(b.time) for b in phase_boundaries(cycle, measured)]
        if direction == "forward":
            # Walking backward the forefoot lands first and the swinging tibia need not
            # pass the vertical: the substitutes are used there.
            assert None not in (measured.heel_rise, measured.feet_adjacent, measured.tibia_vertical)
    # The stride is a half cycle mirrored: both sides have the same phase timing. The
    # left cycle wraps around the end of the samples, so this checks the wrap too
    # (1e-6 %: rounding of the event times).
    assert percents["r"] == pytest.approx(percents["l"], abs=1e-6)
