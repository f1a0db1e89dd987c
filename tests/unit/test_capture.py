"""Tests of gaitsim.capture: trials, gait events, the lab-to-model frame, gap filling,
filtering, foot assignment, the ground-reaction table and the import pipeline.

References: analytic trajectories (polynomials, sines with known filter gains), physical
facts of the shared lab trials (forces point up, subjects walk forward, the right foot is
on the right), the events stored in the files, and OpenSim's own ground-reaction file
for subject01 (same wrenches, same inverse dynamics).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gaitsim.capture.filtering import filter_markers, filter_plate, filter_trial
from gaitsim.capture.force_plates import plate_from_wrench
from gaitsim.capture.gaps import (
    MarkerGapError,
    complete_span,
    fill_gaps,
    find_gaps,
    max_gap_frames,
)
from gaitsim.capture.ground_reactions import (
    assign_feet,
    contacts,
    events_from_contacts,
    ground_reaction_table,
)
from gaitsim.capture.importing import ImportSettings, import_opensim_trial, import_trial
from gaitsim.capture.lab_frame import (
    detect_lab_frame,
    lab_frame_from_axes,
    lab_frame_from_rotation,
    to_model_frame,
)
from gaitsim.capture.marker_names import foot_markers, pelvis_markers, side_of
from gaitsim.capture.trial import (
    RecordedEvent,
    Trial,
    crop,
    gait_events,
    read_c3d_trial,
    read_opensim_trial,
)
from gaitsim.errors import GaitsimError
from gaitsim.io.c3d import C3DEvent
from gaitsim.io.trc import MarkerTable

C3D_FILES = ("walking2", "walking5", "ezc3d_Qualisys", "ezc3d_BTS", "kineticstoolkit_walk")


def table(positions: np.ndarray, rate: float = 100.0, names: tuple[str, ...] | None = None):  # type: ignore[no-untyped-def]
    n, m, _ = positions.shape
    return MarkerTable(
        marker_names=names or tuple(f"M{i}" for i in range(m)),
        time=np.arange(n) / rate,
        positions=positions,
        rate=rate,
    )


@pytest.fixture(scope="module")
def trials(shared_data: Path) -> dict[str, Trial]:
    found = {name: read_c3d_trial(shared_data / "c3d" / f"{name}.c3d") for name in C3D_FILES}
    folder = shared_data / "opensim" / "gait10dof18musc"
    found["subject01"] = read_opensim_trial(
        folder / "subject01_walk.trc", folder / "subject01_walk_grf.xml"
    )
    return found


# ---------------------------------------------------------------------------------------
# Events and marker names
# ---------------------------------------------------------------------------------------


def test_gait_event_labels() -> None:
    events = [
        C3DEvent("Foot Strike", "Left", 1.0),
        C3DEvent("Foot Off", "Right", 2.0),
        C3DEvent("LHS", "", 0.5),
        C3DEvent("RTO", "", 0.7),
        C3DEvent("Right Heel Strike", "", 0.9),
        C3DEvent("Event", "General", 0.1),
        C3DEvent("Foot Strike", "General", 0.2),
        C3DEvent("Toe Off", "Left", 3.0),
    ]
    found, others = gait_events(events)
    assert [(e.side, e.kind, e.time) for e in found] == [
        ("l", "foot_strike", 0.5),
        ("r", "foot_off", 0.7),
        ("r", "foot_strike", 0.9),
        ("l", "foot_strike", 1.0),
        ("r", "foot_off", 2.0),
        ("l", "foot_off", 3.0),
    ]
    assert [e.label for e in others] == ["Event", "Foot Strike"]
    with pytest.raises(ValueError):
        RecordedEvent("x", "foot_strike", 1.0)


def test_marker_roles() -> None:
    assert [side_of(n) for n in ("RHEE", "L.Heel", "r heel", "heel_l", "C7", "Right_Toe")] == [
        "r", "l", "r", "l", None, "r",
    ]  # fmt: skip
    names = ("LASI", "RASI", "RHEE", "RTOE", "LHEE", "LTOE", "R_FCC", "C7")
    assert foot_markers(names) == {"r": ("RHEE", "RTOE"), "l": ("LHEE", "LTOE")}
    assert pelvis_markers(names) == ["LASI", "RASI"]


@pytest.mark.parametrize("name", ["kineticstoolkit_walk", "ezc3d_Qualisys"])
def test_events_match_force_contacts(shared_data: Path, name: str) -> None:
    """Each clean plate contact starts with a foot strike and ends with a foot off of
    the same side among the file's events. Events were placed on marker frames by the
    lab software with its own threshold (5-10 N): with a 10 N threshold here they agree
    within two marker frames."""
    trial = read_c3d_trial(shared_data / "c3d" / f"{name}.c3d", threshold=10.0)
    times = [e.time for e in trial.events]
    assert times == sorted(times)
    for side in ("r", "l"):
        kinds = [e.kind for e in trial.events if e.side == side]
        assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False))  # alternate
    tolerance = 2.0 / trial.markers.rate
    matched = 0
    first, last = trial.force_plates[0].time[[0, -1]]
    for side, kind, time in events_from_contacts(assign_feet(trial)):
        if time - first < tolerance or last - time < tolerance:
            continue  # contact cut by the recording's ends
        near = [e for e in trial.events if e.side == side and e.kind == kind]
        assert min(abs(e.time - time) for e in near) <= tolerance, (side, kind, time)
        matched += 1
    assert matched >= 4


# ---------------------------------------------------------------------------------------
# Lab frame
# ---------------------------------------------------------------------------------------


def test_frame_from_axes() -> None:
    frame = lab_frame_from_axes("+z", "-x")
    r = frame.rotation
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-15)
    assert np.linalg.det(r) == pytest.approx(1.0)
    np.testing.assert_array_equal(r @ [-1, 0, 0], [1, 0, 0])  # walking direction -> +x
    np.testing.assert_array_equal(r @ [0, 0, 1], [0, 1, 0])  # up -> +y
    # facing -x with +z up, the right hand is on +y (right = forward x up)
    np.testing.assert_array_equal(r @ [0, 1, 0], [0, 0, 1])
    with pytest.raises(GaitsimError):
        lab_frame_from_axes("+z", "-z")
    with pytest.raises(GaitsimError):
        lab_frame_from_axes("up", "+x")
    with pytest.raises(GaitsimError):
        lab_frame_from_rotation(np.diag([1.0, 1.0, -1.0]))


@pytest.mark.parametrize("name", [*C3D_FILES, "subject01"])
@pytest.mark.parametrize("use_plates", [True, False])
def test_detected_frame_is_physical(trials: dict[str, Trial], name: str, use_plates: bool) -> None:
    """In the detected model frame forces point up (+y), the subject walks forward
    (+x: pelvis travel, or heel-to-toe direction on a treadmill) and the right foot is
    on the right (+z) of the left foot; with plates or from the markers alone."""
    trial = trials[name]
    plates = trial.force_plates if use_plates else ()
    frame = detect_lab_frame(trial.markers, plates)
    model = to_model_frame(trial, frame)
    for plate in model.force_plates:
        if np.any(plate.loaded):
            mean = plate.force[plate.loaded].mean(axis=0)
            assert mean[1] > 0.9 * np.linalg.norm(mean)
            np.testing.assert_allclose(plate.normal, [0, 1, 0], atol=0.05)
    feet = foot_markers(model.markers.marker_names)
    heel_r, toe_r = (model.markers.marker(n) for n in feet["r"])
    heel_l, _ = (model.markers.marker(n) for n in feet["l"])
    assert np.nanmean(heel_r[:, 2]) > np.nanmean(heel_l[:, 2])
    assert np.nanmean(toe_r[:, 0] - heel_r[:, 0]) > 0  # feet point forward
    assert model.frame == "model"
    assert "model frame" in model.history[-1]


def test_frame_of_vicon_files_matches_their_screen_axes(trials: dict[str, Trial]) -> None:
    """Vicon files declare POINT:Y_SCREEN '+Z' (z is up on screen); detection agrees."""
    for name in ("walking2", "walking5", "kineticstoolkit_walk"):
        assert detect_lab_frame(trials[name].markers, trials[name].force_plates).up == "+z"


def test_rotation_keeps_geometry(trials: dict[str, Trial]) -> None:
    trial = trials["walking5"]
    frame = lab_frame_from_axes("+z", "-x")
    model = to_model_frame(trial, frame)
    r = frame.rotation
    for before, after in zip(trial.force_plates, model.force_plates, strict=True):
        np.testing.assert_allclose(after.force, before.force @ r.T, atol=1e-12)
        loaded = before.loaded
        np.testing.assert_allclose(after.cop[loaded], before.cop[loaded] @ r.T, atol=1e-12)
        assert after.loaded.tolist() == loaded.tolist()
    np.testing.assert_allclose(
        model.markers.positions, trial.markers.positions @ r.T, atol=1e-12, equal_nan=True
    )
    with pytest.raises(GaitsimError):
        to_model_frame(model, frame)


# ---------------------------------------------------------------------------------------
# Gaps
# ---------------------------------------------------------------------------------------


def _cubic_markers(n: int = 100) -> MarkerTable:
    t = np.arange(n) / 100.0
    x = 0.2 + 1.3 * t - 0.4 * t**2 + 0.25 * t**3
    y = 0.9 + 0.05 * t**3
    z = -0.1 * t + 0.2 * t**2
    single = np.stack([x, y, z], axis=1)
    return table(np.stack([single, single + 0.1], axis=1))


def test_short_gaps_filled_exactly_for_cubic_trajectories() -> None:
    """A not-a-knot cubic spline reproduces a cubic polynomial, so filled gaps of a cubic
    trajectory equal it to rounding."""
    truth = _cubic_markers()
    positions = np.array(truth.positions)
    positions[20:30, 0] = np.nan  # 10 frames
    positions[60:63, 1, 2] = np.nan  # one coordinate missing = marker missing
    result = fill_gaps(table(positions), max_gap=10)
    np.testing.assert_allclose(result.markers.positions, truth.positions, atol=1e-12)
    assert [(g.marker, g.first, g.last) for g in result.filled] == [("M0", 20, 29), ("M1", 60, 62)]
    assert result.unfilled == ()


def test_sine_gap_error_bound() -> None:
    """1 Hz sine of 0.1 m amplitude at 100 Hz, 10-frame gap: the cubic spline error is
    at most about (5/384) h^4 max|f''''| = (5/384) 0.1^4 (2 pi)^4 0.1 = 0.2 mm."""
    t = np.arange(200) / 100.0
    single = np.stack([0.1 * np.sin(2 * np.pi * t), np.zeros_like(t), np.zeros_like(t)], axis=1)
    positions = single[:, None, :].copy()
    positions[95:105] = np.nan
    filled = fill_gaps(table(positions), max_gap=10).markers.positions
    assert np.max(np.abs(filled[95:105, 0] - single[95:105])) < 2e-4


def test_unfillable_gaps_are_listed() -> None:
    positions = np.array(_cubic_markers().positions)
    positions[20:40, 0] = np.nan  # 20 frames > 10
    positions[:5, 1] = np.nan  # at the start
    with pytest.raises(MarkerGapError) as info:
        fill_gaps(table(positions), max_gap=10)
    error = info.value
    assert [(g.marker, g.first, g.last) for g in error.gaps] == [("M0", 20, 39), ("M1", 0, 4)]
    message = str(error)
    assert "M0 frames 20-39 (20 frames, 0.200-0.390 s)" in message
    assert "M1 frames 0-4" in message and "at the start" in message
    # optional markers keep their gaps
    result = fill_gaps(table(positions), max_gap=10, optional=("M0", "M1"))
    assert len(result.unfilled) == 2 and result.filled == ()
    assert np.isnan(result.markers.positions[20:40, 0]).all()


def test_missing_markers() -> None:
    positions = np.array(_cubic_markers().positions)
    positions[:, 1] = np.nan
    with pytest.raises(MarkerGapError) as info:
        fill_gaps(table(positions))
    assert info.value.missing == ("M1",) and "missing in every frame: M1" in str(info.value)
    assert len(fill_gaps(table(positions), optional=["M1"]).unfilled) == 1


def test_gap_length_in_seconds() -> None:
    assert max_gap_frames(120.0, 0.1) == 12
    assert max_gap_frames(100.0, 0.1) == 10
    positions = np.array(_cubic_markers().positions)
    positions[20:31, 0] = np.nan  # 11 frames
    with pytest.raises(MarkerGapError):
        fill_gaps(table(positions), max_gap_seconds=0.1)
    assert len(fill_gaps(table(positions), max_gap_seconds=0.11).filled) == 1


def test_complete_span() -> None:
    positions = np.array(_cubic_markers().positions)
    positions[:10, 0] = np.nan
    positions[90:, 0] = np.nan
    positions[:5, 1] = np.nan
    positions[80:, 1] = np.nan
    positions[40:45, 1] = np.nan  # fillable
    markers = table(positions)
    assert complete_span(markers, max_gap=10) == (10, 79)
    assert complete_span(markers, max_gap=10, optional=["M1"]) == (10, 89)
    assert complete_span(markers, max_gap=3) == (45, 79)  # the 5-frame gap now splits it
    assert len(find_gaps(markers)) == 5


# ---------------------------------------------------------------------------------------
# Filtering
# ---------------------------------------------------------------------------------------


def test_marker_filter_gains() -> None:
    """Zero-lag 3rd-order Butterworth at 6 Hz (squared magnitude 1 / (1 + (f/fc)^6)^2):
    a 1 Hz component keeps 1 - 4e-5 of its amplitude, a 30 Hz one keeps 6e-5."""
    rate = 200.0
    t = np.arange(2000) / rate
    slow = 0.05 * np.sin(2 * np.pi * 1.0 * t)
    fast = 0.002 * np.sin(2 * np.pi * 30.0 * t)
    positions = np.stack([slow + fast, np.zeros_like(t), np.ones_like(t)], axis=1)[:, None, :]
    out = filter_markers(table(positions, rate), 6.0).markers.positions[:, 0, 0]
    middle = slice(400, 1600)  # away from the end effects of padding
    # 1 Hz: 0.05 m * 4.3e-5 = 2.1 um; 30 Hz residue: 0.002 m * 6.4e-5 = 0.13 um; bound 7 um
    assert np.max(np.abs(out[middle] - slow[middle])) < 7e-6


def test_marker_filter_runs_and_short_fragments() -> None:
    positions = np.array(_cubic_markers(200).positions)
    positions[50:60, 0] = np.nan
    positions[62:64, 0] = np.nan  # leaves a 2-frame fragment at 60-61
    result = filter_markers(table(positions), 6.0)
    assert result.removed == (("M0", 60, 61),)
    out = result.markers.positions
    assert np.isnan(out[50:64, 0]).all()
    # a slow cubic trajectory (content far below 6 Hz) is changed by < 0.1 mm inside
    np.testing.assert_allclose(out[80:180, 1], positions[80:180, 1], atol=1e-4)


def test_plate_filter_keeps_a_fixed_centre_of_pressure() -> None:
    """With the force applied at a fixed point, the moment is linear in the force, so
    filtering force and moment together leaves the centre of pressure exactly at that
    point wherever the filtered load is above the threshold (filtering the centre of
    pressure itself would smear its undefined stretches)."""
    rate = 1000.0
    t = np.arange(1000) / rate
    load = np.clip(np.sin(np.pi * t), 0, None) ** 2 * 800.0
    load[:100] = 0.0
    force = np.column_stack([0.1 * load, load, -0.05 * load])
    point = np.array([0.3, 0.0, -0.1])
    moment = np.cross(point, force)
    plate = plate_from_wrench("P", t, force, moment, np.zeros(3), [0, 1, 0])
    filtered = filter_plate(plate, 6.0)
    loaded = filtered.loaded
    assert 0 < np.sum(loaded) < loaded.size
    np.testing.assert_allclose(filtered.cop[loaded], np.tile(point, (loaded.sum(), 1)), atol=1e-10)
    assert np.isnan(filtered.cop[~loaded]).all()


def test_filter_trial_records_steps(trials: dict[str, Trial]) -> None:
    trial = crop(trials["ezc3d_Qualisys"], 3.6, 4.6)
    out = filter_trial(trial, marker_cutoff=6.0, force_cutoff=10.0)
    assert "markers low-pass filtered at 6 Hz" in out.history[-1]
    assert "force plates low-pass filtered at 10 Hz" in out.history[-1]
    assert filter_trial(trial, marker_cutoff=None, force_cutoff=None) is trial
    with pytest.raises(GaitsimError):
        filter_trial(trial, marker_cutoff=-1.0)


# ---------------------------------------------------------------------------------------
# Feet and ground reactions
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # (plate, side) of every clean contact; the sides are those of the foot-strike
        # events stored in the files at the contacts' starts (kineticstoolkit: right 1.66 s
        # on FP4, left 2.22 s on FP2; Qualisys: left 3.59 s on FP1, right 4.05 s on FP2)
        ("kineticstoolkit_walk", [("FP2", "l"), ("FP4", "r")]),
        ("ezc3d_Qualisys", [("FP1", "l"), ("FP2", "r")]),
    ],
)
def test_contacts_go_to_the_foot_of_the_event(
    trials: dict[str, Trial], name: str, expected: list[tuple[str, str]]
) -> None:
    assignment = assign_feet(trials[name])
    assert [(c.plate, c.side) for c in assignment.assigned] == expected


def test_both_feet_on_one_plate_is_not_assigned(trials: dict[str, Trial]) -> None:
    """kineticstoolkit_walk: the right foot is on FP1 from 2.747 s, the left lands on it
    at 3.33 s (its event) while the right is still there: the contact is refused."""
    assignment = assign_feet(trials["kineticstoolkit_walk"])
    (refused,) = assignment.unassigned
    assert refused.plate == "FP1" and refused.start < 3.33 < refused.end
    model = to_model_frame(trials["kineticstoolkit_walk"])
    with pytest.raises(GaitsimError, match="not assigned to a foot: FP1"):
        ground_reaction_table(model, assign_feet(model))
    # without strict, the refused contact is left out: while only FP1 is loaded, both
    # feet's forces are zero
    table_, _ = ground_reaction_table(model, assign_feet(model), strict=False)
    only_fp1 = model.plate("FP1").loaded & ~model.plate("FP2").loaded & ~model.plate("FP4").loaded
    assert np.sum(only_fp1) > 100
    for side in ("r", "l"):
        np.testing.assert_array_equal(table_.column(f"ground_force_{side}_vy")[only_fp1], 0.0)


def test_foot_on_two_plates_combines_wrenches() -> None:
    """One foot on two plates: the combined centre of pressure of two vertical forces is
    their force-weighted mean position (statics)."""
    n = 50
    t = np.arange(n) / 100.0
    names = ("RHEE", "RTOE", "LHEE", "LTOE")
    positions = np.zeros((n, 4, 3))
    positions[:, 0] = [0.45, 0.05, 0.1]
    positions[:, 1] = [0.65, 0.03, 0.1]
    positions[:, 2] = [-0.5, 0.05, -0.1]
    positions[:, 3] = [-0.3, 0.03, -0.1]
    markers = MarkerTable(names, t, positions, 100.0)
    f1 = np.column_stack([np.zeros(n), np.full(n, 300.0), np.zeros(n)])
    f2 = np.column_stack([np.zeros(n), np.full(n, 500.0), np.zeros(n)])
    p1, p2 = np.array([0.5, 0.0, 0.1]), np.array([0.6, 0.0, 0.12])
    c1, c2 = np.array([0.25, 0.0, 0.1]), np.array([0.75, 0.0, 0.1])
    plates = (
        plate_from_wrench("A", t, f1, np.cross(p1 - c1, f1), c1, [0, 1, 0]),
        plate_from_wrench("B", t, f2, np.cross(p2 - c2, f2), c2, [0, 1, 0]),
    )
    trial = Trial("synthetic", markers, plates, None, (), frame="model")
    assignment = assign_feet(trial)
    assert [c.side for c in assignment.contacts] == ["r", "r"]
    data, loads = ground_reaction_table(trial, assignment)
    point = np.column_stack([data.column(f"ground_force_r_p{a}") for a in "xyz"])
    np.testing.assert_allclose(point, np.tile((300 * p1 + 500 * p2) / 800, (n, 1)), atol=1e-12)
    np.testing.assert_allclose(data.column("ground_force_r_vy"), 800.0)
    np.testing.assert_array_equal(data.column("ground_force_l_vy"), 0.0)
    assert [f.applied_to_body for f in loads.forces] == ["calcn_r", "calcn_l"]


def test_lab_frame_trial_refused_for_inverse_dynamics(trials: dict[str, Trial]) -> None:
    trial = trials["ezc3d_Qualisys"]
    with pytest.raises(GaitsimError, match="model frame"):
        ground_reaction_table(trial, assign_feet(trial))


def test_spikes_are_reported_not_assigned() -> None:
    n = 100
    t = np.arange(n) / 1000.0
    force = np.zeros((n, 3))
    force[40:45, 1] = 100.0  # 5 ms
    plate = plate_from_wrench("A", t, force, np.zeros((n, 3)), np.zeros(3), [0, 1, 0])
    assert contacts(plate) == [(40, 44)]
    positions = np.zeros((n, 4, 3))
    positions[:, 1, 0] = 0.2
    positions[:, 3, 0] = 0.2
    markers = MarkerTable(("RHEE", "RTOE", "LHEE", "LTOE"), t, positions, 1000.0)
    trial = Trial("synthetic", markers, (plate,), None, (), frame="model")
    assignment = assign_feet(trial)
    (spike,) = assignment.unassigned
    assert "spike of 4 ms" in spike.note
    ground_reaction_table(trial, assignment)  # spikes do not make it fail


def test_opensim_ground_reactions_round_trip(shared_data: Path) -> None:
    """subject01 (OpenSim's gait example): reading its .mot through a Trial, assigning
    the records to feet and writing the ground-reaction table gives the same wrenches
    (about the origin) as the file, and the same inverse dynamics."""
    from gaitsim.inverse_dynamics import inverse_dynamics
    from gaitsim.io.external_loads import read_external_loads
    from gaitsim.io.storage import read_storage
    from gaitsim.model.builtin import load_model

    folder = shared_data / "opensim" / "gait10dof18musc"
    trial = read_opensim_trial(
        folder / "subject01_walk.trc", folder / "subject01_walk_grf.xml", threshold=0.0
    )
    model_trial = to_model_frame(trial, lab_frame_from_axes("+y", "+x"))
    assignment = assign_feet(model_trial)
    assert {c.plate: c.side for c in assignment.contacts} == {"right": "r", "left": "l"}
    data, loads = ground_reaction_table(model_trial, assignment)
    original = read_storage(folder / "subject01_walk_grf.mot")
    for side, prefix in (("r", ""), ("l", "1_")):

        def columns(tab, names):  # type: ignore[no-untyped-def]
            return np.column_stack([tab.column(n) for n in names])

        f0 = columns(original, [f"{prefix}ground_force_v{a}" for a in "xyz"])
        p0 = columns(original, [f"{prefix}ground_force_p{a}" for a in "xyz"])
        t0 = columns(original, [f"{prefix}ground_torque_{a}" for a in "xyz"])
        f1 = columns(data, [f"ground_force_{side}_v{a}" for a in "xyz"])
        p1 = columns(data, [f"ground_force_{side}_p{a}" for a in "xyz"])
        t1 = columns(data, [f"ground_torque_{side}_{a}" for a in "xyz"])
        np.testing.assert_array_equal(f1, f0)
        # same wrench about the origin (the torque is re-expressed along the vertical,
        # the point moves accordingly): rounding of products of ~1e3 N and ~1 m
        np.testing.assert_allclose(np.cross(p1, f1) + t1, np.cross(p0, f0) + t0, atol=1e-9)
    model = load_model(folder / "subject01_scaled.osim")
    coordinates = read_storage(folder / "reference_subject01_walk_IK.mot")
    reference = inverse_dynamics(
        model, coordinates, read_external_loads(folder / "subject01_walk_grf.xml"), original
    )
    ours = inverse_dynamics(model, coordinates, loads, data)
    # Loads are interpolated in time column by column (OpenSim's ExternalForce rule), so
    # two decompositions of one wrench differ slightly between samples: measured 0.008 N m
    # against peak moments near 100 N m.
    np.testing.assert_allclose(ours.generalized_forces, reference.generalized_forces, atol=0.02)


# ---------------------------------------------------------------------------------------
# The import pipeline
# ---------------------------------------------------------------------------------------


def test_import_c3d_trial(shared_data: Path) -> None:
    trial = import_trial(shared_data / "c3d" / "ezc3d_Qualisys.c3d")
    assert trial.frame == "model"
    assert np.all(np.isfinite(trial.markers.positions))
    steps = " | ".join(trial.history)
    for words in ("read", "model frame", "filled 0 marker gaps", "filtered at 6 Hz"):
        assert words in steps
    for plate in trial.force_plates:
        np.testing.assert_allclose(plate.normal, [0, 1, 0], atol=0.01)
    data, loads = ground_reaction_table(trial, assign_feet(trial))
    assert data.n_rows == trial.force_plates[0].time.size
    assert loads.forces[0].force_identifier == "ground_force_r_v"


def test_import_overground_trial_needs_cropping(shared_data: Path) -> None:
    path = shared_data / "c3d" / "walking2.c3d"
    with pytest.raises(MarkerGapError) as info:
        import_trial(path)
    assert any(not gap.interior for gap in info.value.gaps)
    head = ("RFHD", "LFHD", "RBHD", "LBHD", "C7", "T10", "STRN", "CLAV")
    trial = import_trial(path, ImportSettings(crop_to_complete=True, optional_markers=head))
    lower = [n for n in trial.markers.marker_names if n not in head]
    assert all(np.all(np.isfinite(trial.markers.marker(n))) for n in lower)
    assert trial.history[1].startswith("cropped to")


def test_import_opensim_trial(shared_data: Path) -> None:
    folder = shared_data / "opensim" / "gait10dof18musc"
    trial = import_opensim_trial(
        folder / "subject01_walk.trc",
        folder / "subject01_walk_grf.xml",
        ImportSettings(up="+y", forward="+x", marker_cutoff=6.0, force_cutoff=None),
    )
    assert trial.frame == "model" and [p.name for p in trial.force_plates] == ["right", "left"]
    assert "up +y: given; forward +x: given" in trial.history[1]


def test_explicit_rotation_setting(shared_data: Path) -> None:
    rotation = lab_frame_from_axes("+z", "+x").rotation
    settings = ImportSettings(
        rotation=tuple(tuple(row) for row in rotation.tolist()),
        marker_cutoff=None,
        force_cutoff=None,
    )
    trial = import_trial(shared_data / "c3d" / "ezc3d_Qualisys.c3d", settings)
    np.testing.assert_array_equal(trial.rotation, rotation)
    assert math.isclose(abs(np.linalg.det(trial.rotation)), 1.0)


def test_write_trial_files(shared_data: Path, tmp_path: Path) -> None:
    """The exported folder reads back: markers (TRC, mm, 10 significant digits: 1e-9 m
    for positions below 10 m), ground reactions with their ExternalLoads, events, summary."""
    import json

    from gaitsim.capture.export import write_trial
    from gaitsim.io.external_loads import applied_loads, read_external_loads
    from gaitsim.io.storage import read_storage
    from gaitsim.io.trc import read_trc

    trial = import_trial(shared_data / "c3d" / "ezc3d_Qualisys.c3d")
    files = write_trial(trial, tmp_path / "out")
    markers = read_trc(files.markers)
    np.testing.assert_allclose(markers.positions, trial.markers.positions, atol=1e-9)
    assert files.external_loads is not None
    loads = read_external_loads(files.external_loads)
    data = read_storage(loads.resolve_datafile(files.external_loads))
    applied = {load.name: load for load in applied_loads(loads, data)}
    assert applied["right"].body == "calcn_r" and applied["left"].body == "calcn_l"
    expected, _ = ground_reaction_table(trial, assign_feet(trial))
    np.testing.assert_allclose(data.data, expected.data, rtol=1e-9, atol=1e-9)
    rows = files.events.read_text().splitlines()
    assert rows[0] == "side,kind,time_s,label" and len(rows) == 1 + len(trial.events)
    summary = json.loads(files.summary.read_text())
    assert summary["frame"] == "model" and summary["history"] == list(trial.history)
    assert [c["side"] for c in summary["contacts"]] == ["l", "r"]
