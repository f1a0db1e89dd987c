"""Spatio-temporal parameters: exact answers on a synthetic constant-speed walker, sum
laws, and simulated strides (symmetric and made asymmetric)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from gaitsim.analysis.events import (
    EventError,
    GaitCycle,
    GaitEvents,
    events_from_force,
    events_from_result,
    gait_cycles,
)
from gaitsim.analysis.spatiotemporal import (
    SpatioTemporal,
    average,
    spatiotemporal,
    spatiotemporal_from_markers,
    spatiotemporal_from_result,
)
from gaitsim.io.trc import MarkerTable

# The walker: stride T, the left foot lands a*T after the right one, stance fractions
# SIGMA_R and SIGMA_L, right and left step lengths STEP_R and STEP_L. Every event time is
# a multiple of the 100 Hz marker period, so the heel is exactly on its footprint in the
# frame of each contact.
T = 1.0
A = 0.52
SIGMA_R, SIGMA_L = 0.63, 0.60
STEP_R, STEP_L = 0.66, 0.58
STRIDE = STEP_R + STEP_L
FIRST_R = 0.2
FIRST_L = FIRST_R + A * T


def stances(first: float, sigma: float, end: float) -> list[tuple[float, float]]:
    return [(first + k * T, first + k * T + sigma * T) for k in range(-2, 6) if first + k * T < end]


def heel_track(t: np.ndarray, first: float, sigma: float, footprint0: float) -> np.ndarray:
    """Heel x: on footprint k (at footprint0 + k STRIDE) in stance, linear in swing."""
    x = np.empty_like(t)
    for k in range(-3, 6):
        contact = first + k * T
        off = contact + sigma * T
        next_contact = contact + T
        here = footprint0 + k * STRIDE
        stance = (t >= contact) & (t < off)
        swing = (t >= off) & (t < next_contact)
        x[stance] = here
        x[swing] = here + STRIDE * (t[swing] - off) / (next_contact - off)
    return x


def walker(duration: float = 3.5) -> tuple[GaitEvents, MarkerTable]:
    """Force-plate events (1 kHz ramps through 20 N at the events) and heel markers."""
    t_force = np.arange(0.0, duration, 0.001)

    def force(first: float, sigma: float) -> np.ndarray:
        out = np.zeros_like(t_force)
        for on, off in stances(first, sigma, duration):
            ramp = np.minimum(20.0 + 4000.0 * (t_force - on), 20.0 + 4000.0 * (off - t_force))
            out = np.maximum(out, np.clip(ramp, 0.0, 800.0))
        return out

    events = events_from_force(
        t_force, {"r": force(FIRST_R, SIGMA_R), "l": force(FIRST_L, SIGMA_L)}
    )
    t = np.round(np.arange(0.0, duration, 0.01), 10)
    zeros = np.zeros_like(t)
    right = np.stack([heel_track(t, FIRST_R, SIGMA_R, 0.0), zeros + 0.05, zeros + 0.1], axis=1)
    left = np.stack([heel_track(t, FIRST_L, SIGMA_L, STEP_L), zeros + 0.05, zeros - 0.1], axis=1)
    pelvis = np.stack([STRIDE / T * t, zeros + 1.0, zeros], axis=1)
    markers = MarkerTable(
        ("RHEE", "LHEE", "SACR"), t, np.stack([right, left, pelvis], axis=1), 100.0
    )
    return events, markers


def test_constant_speed_walker_gives_the_exact_parameters() -> None:
    events, markers = walker()
    heel = {"r": "RHEE", "l": "LHEE"}
    right = spatiotemporal_from_markers(events, markers, heel, "r", pelvis=("SACR",))
    left = spatiotemporal_from_markers(events, markers, heel, "l", pelvis=("SACR",))
    assert len(right) == 3 and len(left) == 2
    # Right cycle: double supports (A - 1 + SIGMA_L) T and (SIGMA_R - A) T; single support
    # is the left swing. Left cycle: the mirror image. Exact up to float rounding (the
    # events come from linear force ramps and the heels sit on their footprints).
    expected = {
        "r": dict(
            step_time=(1 - A) * T,
            step_length=STEP_R,
            stance_percent=100 * SIGMA_R,
            double_support_percent=100 * ((A - 1 + SIGMA_L) + (SIGMA_R - A)),
            single_support_percent=100 * (1 - SIGMA_L),
        ),
        "l": dict(
            step_time=A * T,
            step_length=STEP_L,
            stance_percent=100 * SIGMA_L,
            double_support_percent=100 * ((SIGMA_R - A) + (SIGMA_L - (1 - A))),
            single_support_percent=100 * (1 - SIGMA_R),
        ),
    }
    for side, cycles in (("r", right), ("l", left)):
        for p in cycles:
            assert p.side == side
            assert p.stride_time == pytest.approx(T, abs=1e-12)
            assert p.stride_length == pytest.approx(STRIDE, abs=1e-9)
            assert p.speed == pytest.approx(STRIDE / T, abs=1e-9)
            assert p.cadence == pytest.approx(120.0 / T, abs=1e-9)
            assert p.swing_percent == pytest.approx(100.0 - expected[side]["stance_percent"])
            for name, value in expected[side].items():
                assert getattr(p, name) == pytest.approx(value, abs=1e-9), (side, name)
    mean = average(right)
    assert mean.step_length == pytest.approx(STEP_R, abs=1e-9)


def test_sum_laws_on_the_walker() -> None:
    events, markers = walker()
    heel = {"r": "RHEE", "l": "LHEE"}
    right = spatiotemporal_from_markers(events, markers, heel, "r", direction=(1, 0, 0))
    left = spatiotemporal_from_markers(events, markers, heel, "l", direction=(1, 0, 0))
    for p in right + left:
        assert p.stance_percent == pytest.approx(
            p.double_support_percent + p.single_support_percent, abs=1e-9
        )
        assert p.stance_percent + p.swing_percent == pytest.approx(100.0, abs=1e-9)
    # A right step and the following left step make a stride.
    assert right[0].step_length + left[0].step_length == pytest.approx(STRIDE, abs=1e-9)
    assert right[0].step_time + left[0].step_time == pytest.approx(T, abs=1e-9)


def test_walking_the_other_way_gives_the_same_lengths() -> None:
    events, markers = walker()
    mirrored = np.array(markers.positions) * [-1.0, 1.0, -1.0]  # walk along -x
    back = MarkerTable(markers.marker_names, markers.time, mirrored, markers.rate)
    (first, *_) = spatiotemporal_from_markers(
        events, back, {"r": "RHEE", "l": "LHEE"}, "r", pelvis=("SACR",)
    )
    assert first.step_length == pytest.approx(STEP_R, abs=1e-9)
    assert first.speed == pytest.approx(STRIDE / T, abs=1e-9)


def test_incomplete_cycles_and_bad_positions_are_refused() -> None:
    with pytest.raises(EventError, match="no opposite_toe_off"):
        spatiotemporal(GaitCycle("r", 0.0, 1.0, toe_off=0.6), lambda s, t: np.zeros(3), (1, 0, 0))
    cycle = GaitCycle("r", 0.0, 1.0, toe_off=0.6, opposite_toe_off=0.1, opposite_contact=0.5)
    with pytest.raises(EventError, match="no contact position"):
        spatiotemporal(cycle, lambda s, t: np.full(3, np.nan), (1, 0, 0))
    with pytest.raises(ValueError, match="horizontal"):
        spatiotemporal(cycle, lambda s, t: np.zeros(3), (0, 1, 0))
    events, markers = walker(duration=0.9)  # no complete cycle
    with pytest.raises(EventError, match="no complete gait cycle"):
        spatiotemporal_from_markers(
            events, markers, {"r": "RHEE", "l": "LHEE"}, "r", direction=(1, 0, 0)
        )
    with pytest.raises(ValueError, match="average"):
        average([])


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_simulated_stride(shipped_stride, direction) -> None:  # noqa: ANN001
    _, functions, result = shipped_stride(direction)
    period = float(result.time[-1] - result.time[0])
    right = spatiotemporal_from_result(result, "r")
    left = spatiotemporal_from_result(result, "l")
    for p in (right, left):
        assert p.speed == pytest.approx(abs(result.speed), rel=1e-12)
        assert p.stride_time == pytest.approx(period, rel=1e-12)
        assert p.cadence == pytest.approx(120.0 / period, rel=1e-12)
        assert p.stance_percent == pytest.approx(
            p.double_support_percent + p.single_support_percent, abs=1e-9
        )
        assert p.step_length > 0  # along the walking direction, also backward
    # The stride is a mirrored half cycle: both steps are half the stride (to rounding).
    assert right.step_length == pytest.approx(left.step_length, abs=1e-9)
    assert right.step_length + left.step_length == pytest.approx(right.stride_length, abs=1e-12)
    assert right.step_time + left.step_time == pytest.approx(period, abs=1e-12)
    # The contact point is under the first sphere to touch: the centre of pressure at the
    # first loaded sample is within a sphere radius (heel 35 mm) of that sphere's centre
    # along x. Checked with the model's own sphere kinematics, independent of the CoP.
    model = functions.model
    names = [s.name for s in model.contact_spheres]
    n = result.time.size
    centres = np.asarray(functions.sphere_centres.map(n)(result.q.T)).reshape(3, n, len(names))
    events = events_from_result(result)
    for side in ("r", "l"):
        (cycle,) = gait_cycles(events, side)
        local = cycle.start
        k = int(np.argmax(result.time >= local))
        first_contact = "heel" if direction == "forward" else "front"
        sphere = centres[0, k, names.index(f"{first_contact}_{side}")]
        assert abs(result.cop[side][k, 0] - sphere) < 0.035


def test_asymmetric_stride_wraps_correctly(shipped_stride) -> None:  # noqa: ANN001
    """Shift the left foot's contact data later by whole samples and forward by delta."""
    _, _, result = shipped_stride("forward")
    shift, delta = 4, 0.03
    dt = float(result.time[1] - result.time[0])

    def rolled(values: np.ndarray) -> np.ndarray:  # periodic: last sample = first
        body = np.roll(values[:-1], shift, axis=0)
        return np.concatenate([body, body[:1]])

    cop_l = rolled(result.cop["l"])
    cop_l[:, 0] += delta
    grf = dict(result.grf, l=rolled(result.grf["l"]))
    shifted = dataclasses.replace(result, grf=grf, cop=dict(result.cop, l=cop_l))
    before = spatiotemporal_from_result(result, "r")
    right = spatiotemporal_from_result(shifted, "r")
    left = spatiotemporal_from_result(shifted, "l")
    # Grid spacing is uniform to 1e-12 s, so event times shift by exactly shift * dt.
    assert right.step_length == pytest.approx(before.step_length - delta, abs=1e-9)
    assert left.step_length == pytest.approx(before.step_length + delta, abs=1e-9)
    assert right.step_time == pytest.approx(before.step_time - shift * dt, abs=1e-9)
    assert left.step_time == pytest.approx(before.step_time + shift * dt, abs=1e-9)
    assert right.step_length + left.step_length == pytest.approx(right.stride_length, abs=1e-12)


def _c3d_heels_and_events(path: Path) -> tuple[MarkerTable, GaitEvents]:
    """Heel and pelvis markers (model frame, y up) and the events listed in a C3D file."""
    import ezc3d

    from gaitsim.analysis.events import INITIAL_CONTACT, TOE_OFF, GaitEvent

    c3d = ezc3d.c3d(str(path))
    parameters = c3d["parameters"]
    rate = float(parameters["POINT"]["RATE"]["value"][0])
    first = int(parameters["TRIAL"]["ACTUAL_START_FIELD"]["value"][0])
    labels = parameters["POINT"]["LABELS"]["value"]
    names = ("LHEE", "RHEE", "LPSI", "RPSI")
    # (3, markers, frames) in mm -> (frames, markers, xyz) in m
    lab = (c3d["data"]["points"][:3, [labels.index(n) for n in names], :] / 1000.0).T
    positions = np.stack([lab[..., 0], lab[..., 2], -lab[..., 1]], axis=-1)
    time = (first - 1 + np.arange(positions.shape[0])) / rate
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
    markers = MarkerTable(names, time, positions, rate)
    return markers, GaitEvents(tuple(listed), float(time[0]), float(time[-1]))


def test_measured_overground_trial(shared_data: Path) -> None:
    """kineticstoolkit's Plug-in Gait trial: its own events and heel markers."""
    markers, listed = _c3d_heels_and_events(shared_data / "c3d" / "kineticstoolkit_walk.c3d")
    heel = {"r": "RHEE", "l": "LHEE"}
    (right,) = spatiotemporal_from_markers(listed, markers, heel, "r", pelvis=("LPSI", "RPSI"))
    (left,) = spatiotemporal_from_markers(listed, markers, heel, "l", pelvis=("LPSI", "RPSI"))
    for p in (right, left):
        assert isinstance(p, SpatioTemporal)
        # An adult walking slowly (leg length 0.885 m in the file): speed 0.8-1.0 m/s,
        # stride 0.9-1.1 m, stance 55-70 %.
        assert 0.8 < p.speed < 1.0
        assert 0.9 < p.stride_length < 1.1
        assert 55.0 < p.stance_percent < 70.0
        assert 0.4 < p.step_length < 0.55
    # Step times straight from the file's events (right strikes 1.6605, 2.74 s; left
    # strikes 2.2235, 3.33 s).
    assert right.step_time == pytest.approx(2.74 - 2.2235, abs=1e-6)
    assert left.step_time == pytest.approx(3.33 - 2.74, abs=1e-6)
