"""Joint mechanics: power, work per phase and Winter's power bursts.

Strides are gaitsim's shipped gait2d solutions (``shipped_stride`` fixture). Their
phases are built here from the contact events with simple documented rules
(:func:`stride_phases`), standing in for the phase detection of
:mod:`gaitsim.analysis.phases`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from stride_phases import stride_phases

from gaitsim.analysis.gait_metrics import (
    peak_swing_knee_flexion,
)
from gaitsim.analysis.joint_mechanics import (
    WINTER_BURSTS,
    AnalysisInputError,
    BurstDefinition,
    JointMechanics,
    check_burst_definitions,
    interval_work,
    joint_mechanics,
    sign_intervals,
)
from gaitsim.analysis.phases import PERRY_PHASES, Phase
from gaitsim.errors import GaitsimError
from gaitsim.simulate.result import WalkingResult

Stride = Callable[[str], Any]


@pytest.fixture(scope="module")
def forward(shipped_stride: Stride) -> tuple[WalkingResult, list[Phase], JointMechanics]:
    _, _, result = shipped_stride("forward")
    phases = stride_phases(result)
    return result, phases, joint_mechanics(result, phases)


@pytest.fixture(scope="module")
def backward(shipped_stride: Stride) -> tuple[WalkingResult, list[Phase], JointMechanics]:
    _, _, result = shipped_stride("backward")
    phases = stride_phases(result)
    return result, phases, joint_mechanics(result, phases)


# ---------------------------------------------------------------------------------------
# Work of a periodic signal: known answers
# ---------------------------------------------------------------------------------------


def test_sign_intervals_of_a_triangle_wave_are_exact() -> None:
    # v = 1, -1, 1 at t = 0, 1, 2 (periodic): crossings at 0.5 and 1.5; the negative
    # triangle [0.5, 1.5] has area 1/2, each positive half-triangle 1/4.
    t = np.array([0.0, 1.0, 2.0])
    v = np.array([1.0, -1.0, 1.0])
    intervals = sign_intervals(t, v)
    assert [i.sign for i in intervals] == [-1, 1]
    negative, positive = intervals
    assert (negative.start, negative.end, negative.work) == pytest.approx((0.5, 1.5, -0.5))
    assert (negative.peak, negative.peak_time) == (-1.0, 1.0)
    # The positive interval runs across the end of the samples: one interval, unwrapped.
    assert (positive.start, positive.end, positive.work) == pytest.approx((1.5, 2.5, 0.5))
    assert interval_work(t, v, 0.0, 2.0) == pytest.approx((0.5, -0.5))
    # A window wrapping round the end: [1.75, 2] (v from 0.5 to 1) and [2, 2.25] = [0, 0.25]
    # (v from 1 to 0.5) are two trapezoids of area 0.25 * 0.75 each.
    assert interval_work(t, v, 1.75, 2.25) == pytest.approx((0.375, 0.0))


def test_origin_cuts_intervals_without_changing_the_work() -> None:
    t = np.array([0.0, 1.0, 2.0])
    v = np.array([1.0, -1.0, 1.0])
    cut = sign_intervals(t, v, origin=0.25)
    # Cut at 0.25: [0.25, 0.5] positive, [0.5, 1.5] negative, [1.5, 2.25] positive.
    assert [(i.sign, i.start, i.end) for i in cut] == [
        (1, pytest.approx(0.25), pytest.approx(0.5)),
        (-1, pytest.approx(0.5), pytest.approx(1.5)),
        (1, pytest.approx(1.5), pytest.approx(2.25)),
    ]
    # Triangles: [0.25, 0.5] (v 0.5 -> 0) 0.0625; [1.5, 2] 0.25 plus [2, 2.25] 0.1875.
    assert [i.work for i in cut] == pytest.approx([0.0625, -0.5, 0.4375])
    assert sum(i.work for i in cut) == pytest.approx(float(np.trapezoid(v, t)), abs=1e-15)


def test_a_sign_change_at_the_stride_boundary_makes_no_empty_interval() -> None:
    # The last sample should repeat the first; a solver leaves them slightly apart, here
    # of opposite signs. Cutting at another origin puts both at one instant: no interval
    # of zero duration may come out of that, and the work is unchanged.
    t = np.linspace(0.0, 2.0, 9)
    v = np.array([1e-3, -1.0, -2.0, -1.0, 0.5, 1.0, 0.5, -1.0, -1e-3])
    for origin in (None, 0.6, 1.3):
        intervals = sign_intervals(t, v, origin=origin)
        assert all(i.end > i.start for i in intervals)
        total = sum(i.work for i in intervals)
        assert total == pytest.approx(float(np.trapezoid(v, t)), abs=1e-15)


def test_work_of_a_sine_matches_the_analytic_integral() -> None:
    # P = sin(2 pi t / T): positive work T / pi, negative -T / pi. With 401 samples the
    # trapezoid error of a half-sine is about (pi^2 / 12) h^2 relative, ~1e-5 for
    # h = 1/400 of the period: tolerance 1e-4.
    period = 0.9
    t = np.linspace(0.0, period, 401)
    v = np.sin(2 * np.pi * t / period)
    positive, negative = interval_work(t, v, 0.0, period)
    assert positive == pytest.approx(period / np.pi, rel=1e-4)
    assert negative == pytest.approx(-period / np.pi, rel=1e-4)
    intervals = sign_intervals(t, v)
    assert [i.sign for i in intervals] == [1, -1]
    assert intervals[0].peak_time == pytest.approx(period / 4)


def test_interval_work_rejects_bad_input() -> None:
    t = np.linspace(0.0, 1.0, 5)
    with pytest.raises(AnalysisInputError, match="values"):
        interval_work(t, np.array([0.0, 1.0, np.nan, 1.0, 0.0]), 0.0, 1.0)
    with pytest.raises(AnalysisInputError, match="interval"):
        interval_work(t, np.zeros(5), 0.6, 0.2)
    with pytest.raises(AnalysisInputError, match="period"):
        interval_work(t, np.zeros(5), 0.0, 0.5, period=0.5)
    with pytest.raises(GaitsimError):
        sign_intervals(t[::-1], np.zeros(5))


# ---------------------------------------------------------------------------------------
# Burst definitions
# ---------------------------------------------------------------------------------------


def test_winter_definitions_are_consistent() -> None:
    check_burst_definitions(WINTER_BURSTS)  # no exception
    assert [d.label for d in WINTER_BURSTS] == [
        "H1", "H2", "H3", "K1", "K2", "K3", "K4", "A1", "A2",
    ]  # fmt: skip


def test_overlapping_windows_of_one_sign_are_refused() -> None:
    clash = BurstDefinition("K5", "knee_angle", -1, ("loading_response",), "a second K1")
    with pytest.raises(AnalysisInputError, match="K5.*loading_response"):
        check_burst_definitions((*WINTER_BURSTS, clash))
    gap = BurstDefinition("K6", "knee_angle", 1, ("mid_stance", "pre_swing"), "not consecutive")
    with pytest.raises(AnalysisInputError, match="consecutive"):
        check_burst_definitions((gap,))


# ---------------------------------------------------------------------------------------
# The shipped strides
# ---------------------------------------------------------------------------------------


def test_power_is_moment_times_angular_velocity(forward: Any) -> None:
    result, _, mechanics = forward
    for joint in mechanics.joints:
        j = result.coordinate_names.index(joint.coordinate)
        assert np.array_equal(joint.power, result.joint_moments[:, j] * result.qd[:, j])
        # Clinical signs change angle and moment together, so power keeps its sign.
        clinical = joint.clinical_moment_per_kg * np.radians(joint.clinical_angular_velocity_deg)
        np.testing.assert_allclose(clinical, joint.power_per_kg, rtol=1e-12, atol=1e-15)
    # Only rotational coordinates are joints.
    assert [j.coordinate for j in mechanics.joints] == [
        c for c in result.coordinate_names if c not in ("pelvis_tx", "pelvis_ty")
    ]


def test_clinical_knee_flexion_is_positive(forward: Any) -> None:
    result, _, mechanics = forward
    knee = mechanics.joint("knee_angle_r")
    assert knee.positive_angle == "flexion" and knee.positive_moment == "flexor"
    np.testing.assert_array_equal(knee.clinical_angle_deg, -np.degrees(knee.angle))
    # Independent: gait_metrics' peak swing knee flexion (parabola through the largest
    # sample) agrees with the largest clinical sample to within 1 deg (the refinement).
    peak = peak_swing_knee_flexion(result, "r")
    assert abs(peak - knee.clinical_angle_deg.max()) < 1.0
    assert peak > 40.0


def _check_work_conservation(mechanics: JointMechanics) -> None:
    time = mechanics.time
    for group in mechanics.bursts:
        power = mechanics.joint(group.coordinate).power_per_kg
        total = float(np.trapezoid(power, time))
        labelled = sum(b.work for b in group.bursts if b.present)
        parts = labelled + group.unlabelled_positive_work + group.unlabelled_negative_work
        # Same piecewise-linear integral summed in another order: rounding only; scale
        # by the absolute work so that a near-zero net work is compared fairly.
        scale = float(np.trapezoid(np.abs(power), time))
        assert abs(parts - total) <= 1e-12 * scale, group.coordinate


def test_joint_work_is_conserved_forward(forward: Any) -> None:
    _, _, mechanics = forward
    _check_work_conservation(mechanics)
    # Phases of a side tile the stride: their works add up to the stride's work.
    for joint in mechanics.joints:
        if joint.side is None:
            continue
        rows = {w.phase: w for w in mechanics.work if w.coordinate == joint.coordinate}
        stride = rows.pop("stride")
        assert len(rows) == 8
        for field in ("positive_work", "negative_work"):
            summed = sum(getattr(w, field) for w in rows.values())
            # Integration intervals differ only in where they are split: rounding only.
            assert summed == pytest.approx(getattr(stride, field), rel=1e-10, abs=1e-14)


def test_joint_work_is_conserved_backward(backward: Any) -> None:
    _check_work_conservation(backward[2])


def test_winter_bursts_forward(forward: Any) -> None:
    _, phases, mechanics = forward
    period = mechanics.period
    for side in "rl":
        own = {p.name: p for p in phases if p.side == side}
        contact = own["initial_contact"].start

        def percent(t: float, contact: float = contact) -> float:
            return 100.0 * float(np.mod(t - contact, period)) / period

        k1, a2, h3 = (mechanics.burst(label, side) for label in ("K1", "A2", "H3"))
        for b in (k1, a2, h3):
            print(
                f"{side} {b.label}: {b.status}, sign {b.sign:+d}, {b.start_percent:.1f}-"
                f"{b.end_percent:.1f} % (window {b.window_start_percent:.1f}-"
                f"{b.window_end_percent:.1f} %), peak {b.peak_power:.3f} W/kg at "
                f"{b.peak_percent:.1f} %, work {b.work:.4f} J/kg, {b.moment} moment, "
                f"{b.motion}, cut at contact: {b.cut_at_contact}"
            )
        # K1: negative power in the loading response.
        loading_end = percent(own["loading_response"].end)
        assert k1.status == "present" and k1.sign == -1
        assert k1.work < 0 and k1.peak_power < 0
        assert k1.start_percent < loading_end and k1.peak_percent <= loading_end
        # A2: positive power peaking in pre-swing.
        assert a2.status == "present" and a2.sign == 1 and a2.work > 0
        pre_swing = own["pre_swing"]
        assert percent(pre_swing.start) <= a2.peak_percent <= percent(pre_swing.end)
        # H3: positive power near toe-off (its interval reaches within 5 % of the
        # cycle of the toe-off: the simulated H3 starts just after it).
        toe_off = percent(own["initial_swing"].start)
        assert h3.status == "present" and h3.sign == 1 and h3.work > 0
        assert h3.start_percent - 5.0 <= toe_off <= h3.end_percent + 5.0


#: Perry & Burnfield (2010) normal timing of the phases, % of the cycle.
PERRY_NORMAL_BOUNDS = (0.0, 0.0, 12.0, 31.0, 50.0, 62.0, 75.0, 87.0, 100.0)


def _power_only_result(percent: np.ndarray, powers: dict[str, np.ndarray]) -> WalkingResult:
    """A one-second 'stride' whose joint power per kg is the given curves: moment = power
    and angular velocity = 1 rad/s, body mass 1 kg (angles and moments are not meant)."""
    time = percent / 100.0
    names = tuple(powers)
    n = time.size
    ones = np.ones((n, len(names)))
    return WalkingResult(
        model_name="power curves",
        kind="normative",
        time=time,
        coordinate_names=names,
        q=time[:, None] * ones,
        qd=ones,
        qdd=0.0 * ones,
        joint_moments=np.stack([powers[c] for c in names], axis=1),
        muscle_names=(),
        excitations=np.zeros((n, 0)),
        activations=np.zeros((n, 0)),
        tendon_forces=np.zeros((n, 0)),
        grf={},
        cop={},
        body_mass=1.0,
        speed=0.0,
    )


@pytest.mark.parametrize("speed_class", ["Free", "Fast", "VeryFast"])
def test_winter_bursts_in_normal_gait(shared_data: Any, speed_class: str) -> None:
    # Independent data: Schwartz, Rozumalski & Trost (2008) mean sagittal joint powers
    # (W/kg, total power in Plug-in Gait's Z component) of typically developing children,
    # every 2 % of the cycle from initial contact, with Perry's normal phase timing. In
    # normal walking at free and faster speeds all nine of Winter's bursts exist.
    data = json.loads((shared_data / "normative" / "Schwartz2008.json").read_text())
    curves = data["Schwartz2008"][speed_class]

    def mean(variable: str) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(curves[variable]["Z"], dtype=float)  # percent, mean-SD, mean+SD
        return rows[:, 0], 0.5 * (rows[:, 1] + rows[:, 2])

    percent, hip = mean("HipPower")
    _, knee = mean("KneePower")
    _, ankle = mean("AnklePower")
    result = _power_only_result(
        percent, {"hip_flexion_r": hip, "knee_angle_r": knee, "ankle_angle_r": ankle}
    )
    bounds = [b / 100.0 for b in PERRY_NORMAL_BOUNDS]
    phases = [Phase(name, "r", bounds[k], bounds[k + 1]) for k, name in enumerate(PERRY_PHASES)]
    mechanics = joint_mechanics(result, phases)
    for definition in WINTER_BURSTS:
        b = mechanics.burst(definition.label, "r")
        print(
            f"{speed_class} {b.label}: {b.status} {b.start_percent:.0f}-{b.end_percent:.0f} %, "
            f"peak {b.peak_power:.2f} W/kg at {b.peak_percent:.0f} %, work {b.work:.3f} J/kg"
        )
        assert b.status == "present" and b.sign == definition.sign, b.label
    # Where Winter puts them (percent of the cycle): K1 in loading response, A2 peaking in
    # pre-swing, K4 in terminal swing, H3 just after toe-off (62 %).
    assert mechanics.burst("K1", "r").end_percent <= 15.0
    assert 50.0 <= mechanics.burst("A2", "r").peak_percent <= 62.0
    assert 87.0 <= mechanics.burst("K4", "r").peak_percent <= 100.0
    assert 55.0 <= mechanics.burst("H3", "r").peak_percent <= 70.0
    _check_work_conservation(mechanics)


def test_bursts_are_mirror_symmetric(forward: Any) -> None:
    # The stride is the half cycle and its mirror, so the left side's bursts are the
    # right side's half a stride later. Tolerance: the half-cycle periodicity holds to
    # the solver's constraint tolerance, far below 1e-6 J/kg and 1e-3 % of the cycle.
    mechanics = forward[2]
    for definition in WINTER_BURSTS:
        right = mechanics.burst(definition.label, "r")
        left = mechanics.burst(definition.label, "l")
        assert right.status == left.status
        if right.status != "absent":
            assert left.work == pytest.approx(right.work, abs=1e-6)
            assert left.start_percent == pytest.approx(right.start_percent, abs=1e-3)


def test_labels_never_hide_a_sign(forward: Any, backward: Any) -> None:
    for _, _, mechanics in (forward, backward):
        for group in mechanics.bursts:
            for b in group.bursts:
                expected = b.definition.sign
                assert b.status in ("present", "reversed", "absent")
                if b.status == "absent":
                    assert b.sign == 0 and math.isnan(b.work) and math.isnan(b.peak_power)
                    continue
                reported = expected if b.status == "present" else -expected
                assert b.sign == reported
                assert np.sign(b.work) == reported and np.sign(b.peak_power) == reported
                assert 0.0 <= b.start_percent < b.end_percent <= 100.0 + 1e-9
                assert b.moment and b.motion
                # The window's work of the reported sign includes the burst's share.
                in_window = b.window_positive_work if reported > 0 else b.window_negative_work
                assert abs(in_window) > 0.0


def test_backward_stride_is_reported(backward: Any) -> None:
    # Backward walking (-0.8 m/s): the output is well formed; what it says is recorded
    # in docs/muscle_function.md. Bursts whose expected sign is missing in the window
    # are "absent" or "reversed", never relabelled.
    _, _, mechanics = backward
    statuses = {(b.label, b.side): b.status for group in mechanics.bursts for b in group.bursts}
    for (label, side), status in sorted(statuses.items()):
        b = mechanics.burst(label, side)
        print(
            f"backward {side} {label}: {status}, sign {b.sign:+d}, work {b.work:.4f} J/kg, "
            f"peak {b.peak_power:.3f} W/kg at {b.peak_percent:.1f} %, {b.moment} {b.motion}"
        )
    assert len(statuses) == 18
    assert "absent" in statuses.values() or "reversed" in statuses.values()
    json.dumps(mechanics.to_records(), allow_nan=False)


def test_table_is_tidy(forward: Any) -> None:
    mechanics = forward[2]
    rows = mechanics.table()
    records = mechanics.to_records()
    json.dumps(records, allow_nan=False)  # NaN became None
    assert all(set(r) == {"item", "phase", "quantity", "value", "unit"} for r in records)
    status = [r for r in rows if r.quantity == "burst_status"]
    assert len(status) == 18  # 9 bursts x 2 sides
    knee_k1 = {r.quantity: r.value for r in rows if r.item == "knee_angle_r" and r.phase == "K1"}
    assert knee_k1["burst_work"] == mechanics.burst("K1", "r").work
    assert knee_k1["burst_status"] == "present"


# ---------------------------------------------------------------------------------------
# Loud failures
# ---------------------------------------------------------------------------------------


def test_bad_phases_are_refused(forward: Any) -> None:
    result, phases, _ = forward
    twice = [*phases, phases[0]]
    with pytest.raises(AnalysisInputError, match="initial_contact.*twice"):
        joint_mechanics(result, twice)
    no_pre_swing = [p for p in phases if not (p.side == "r" and p.name == "pre_swing")]
    with pytest.raises(AnalysisInputError, match="pre_swing"):
        joint_mechanics(result, no_pre_swing)
    # Without phases: curves and stride work, no bursts.
    bare = joint_mechanics(result, [])
    assert bare.bursts == () and {w.phase for w in bare.work} == {"stride"}


def test_bad_results_are_refused(forward: Any) -> None:
    result = forward[0]
    broken = result.joint_moments.copy()
    broken[3, 4] = np.nan
    with pytest.raises(AnalysisInputError, match="joint_moments"):
        joint_mechanics(dataclasses.replace(result, joint_moments=broken), forward[1])
    with pytest.raises(AnalysisInputError, match="body_mass"):
        joint_mechanics(dataclasses.replace(result, body_mass=0.0), forward[1])
    with pytest.raises(AnalysisInputError, match="min_burst_peak"):
        joint_mechanics(result, forward[1], min_burst_peak=-1.0)
