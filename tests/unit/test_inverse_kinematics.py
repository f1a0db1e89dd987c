"""Inverse kinematics on problems with known answers.

* Markers computed from the model at known poses (random, inside the coordinate ranges)
  are fitted back to 1e-6 rad / 1e-6 m, frame by frame from scratch and along a
  trajectory with warm starts, on both built-in models.
* With noise, the objective at the solution is never above the objective at the true
  pose (the solver finds at least as good a fit), computed independently of the solver.
* Ranges bound the solution (a pose outside its range ends at the bound, flagged), and
  without ranges the same pose is recovered; locked coordinates keep their default.
* Missing markers are skipped frame by frame; frames without markers fail loudly;
  unobserved coordinates are held and reported; coordinate tasks pull as weighted.
* Reported errors equal distances computed from the model's marker positions.
* OpenSim setup files are read, with errors naming their line.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from gaitsim.errors import FileFormatError, GaitsimError, ModelError
from gaitsim.io.storage import TimeSeriesTable, read_storage
from gaitsim.io.trc import MarkerTable
from gaitsim.kinematics.inverse_kinematics import (
    CoordinateTask,
    CoordinateValue,
    IKSettings,
    inverse_kinematics,
    read_opensim_ik_setup,
    write_marker_errors,
    write_motion,
)
from gaitsim.kinematics.marker_sets import (
    MarkerAssignment,
    MarkerMapping,
    identity_mapping,
    load_shipped_mapping,
)
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import Model, Motion

RECOVERY = 1e-6  # rad or m: the figure; the solver's tolerance is 1e-10 relative


@pytest.fixture(scope="module")
def gait3d() -> tuple[Model, ModelFunctions]:
    model = load_builtin("gait3d")
    return model, build(model)


@pytest.fixture(scope="module")
def gait2d() -> tuple[Model, ModelFunctions]:
    model = load_builtin("gait2d")
    return model, build(model)


def _random_poses(model: Model, n: int, seed: int) -> np.ndarray:
    """Poses drawn uniformly inside every coordinate's range (translations within 1 m of
    the origin, the pelvis height around standing)."""
    rng = np.random.default_rng(seed)
    lo = np.array([c.range[0] for c in model.coordinates])
    hi = np.array([c.range[1] for c in model.coordinates])
    q = lo + (hi - lo) * rng.random((n, lo.size))
    for j, c in enumerate(model.coordinates):
        if c.motion is Motion.TRANSLATIONAL:
            q[:, j] = c.default + rng.uniform(-1.0, 1.0, n)
    return q


def _markers_at(functions: ModelFunctions, model: Model, q: np.ndarray) -> MarkerTable:
    """Model markers at poses ``q`` (n, n_q), as a trial at 100 Hz."""
    positions = np.stack([np.asarray(functions.marker_positions(p)).T for p in q])
    names = tuple(m.name for m in model.markers)
    return MarkerTable(names, np.arange(q.shape[0]) / 100.0, positions, 100.0)


def _fitted(model: Model, unobserved: tuple[str, ...]) -> list[int]:
    return [j for j, c in enumerate(model.coordinates) if c.name not in unobserved]


def _objective(
    functions: ModelFunctions, q: np.ndarray, names: list[int], measured: np.ndarray, w
) -> float:
    """Weighted sum of squared marker distances, straight from the model's markers."""
    positions = np.asarray(functions.marker_positions(q))[:, names].T
    visible = np.all(np.isfinite(measured), axis=1)
    d2 = np.sum((positions - measured) ** 2, axis=1)
    return float(np.sum(np.asarray(w)[visible] * d2[visible]))


@pytest.mark.parametrize("which", ["gait2d", "gait3d"])
def test_random_poses_are_recovered_from_scratch(which: str, gait2d: tuple, gait3d: tuple) -> None:
    model, functions = gait2d if which == "gait2d" else gait3d
    q_true = _random_poses(model, 6, seed=7)
    for q in q_true:  # each pose alone: the first-frame start, no warm start
        trial = _markers_at(functions, model, q[None, :])
        result = inverse_kinematics(model, trial, functions=functions)
        assert result.success.all()
        cols = _fitted(model, result.unobserved)
        np.testing.assert_allclose(result.coordinates[0, cols], q[cols], atol=RECOVERY)
        assert result.marker_errors.max() < RECOVERY
    # Without toe markers the toes' joints cannot be seen (gait3d), nor anything else
    # is missing: gait2d fits all its 10 coordinates.
    expected = () if which == "gait2d" else ("mtp_angle_r", "mtp_angle_l")
    assert result.unobserved == expected


def test_a_random_trajectory_is_recovered_with_warm_starts(gait3d: tuple) -> None:
    model, functions = gait3d
    knots = _random_poses(model, 4, seed=11)
    s = np.linspace(0.0, 1.0, 40)[:, None]
    q_true = np.concatenate(  # straight segments between random poses, 13 frames each
        [a + (b - a) * s[:13] * 3 for a, b in zip(knots[:-1], knots[1:], strict=True)]
    )
    q_true = np.clip(q_true, *np.array([c.range for c in model.coordinates]).T)
    result = inverse_kinematics(model, _markers_at(functions, model, q_true), functions=functions)
    assert result.success.all()
    cols = _fitted(model, result.unobserved)
    np.testing.assert_allclose(result.coordinates[:, cols], q_true[:, cols], atol=RECOVERY)
    assert np.all(result.evaluations > 0)


def test_with_noise_the_solution_fits_at_least_as_well_as_the_truth(gait3d: tuple) -> None:
    model, functions = gait3d
    q_true = _random_poses(model, 4, seed=3)
    trial = _markers_at(functions, model, q_true)
    rng = np.random.default_rng(5)
    noisy = trial.positions + rng.normal(0.0, 0.005, trial.positions.shape)  # 5 mm
    trial = dataclasses.replace(trial, positions=noisy)
    weights = {
        m.name: float(w) for m, w in zip(model.markers, rng.uniform(0.5, 3.0, 45), strict=True)
    }
    mapping = identity_mapping(model, weights)
    result = inverse_kinematics(model, trial, mapping, functions=functions)
    assert result.success.all()
    w = [weights[n] for n in result.marker_names]
    names = [m.name for m in model.markers]
    index = [names.index(n) for n in result.marker_names]
    for f in range(q_true.shape[0]):
        at_solution = _objective(functions, result.coordinates[f], index, noisy[f], w)
        at_truth = _objective(functions, q_true[f], index, noisy[f], w)
        # The reported objective is the one computed from the model (to rounding).
        assert at_solution == pytest.approx(result.objective[f], rel=1e-9)
        # A minimiser cannot be worse than the true pose (1e-12 relative: rounding).
        assert at_solution <= at_truth * (1 + 1e-12)


def test_ranges_bound_the_solution_and_can_be_lifted(gait2d: tuple) -> None:
    model, functions = gait2d
    q = np.array([c.default for c in model.coordinates])
    knee = model.coordinate_names.index("knee_angle_r")
    upper = model.coordinates[knee].range[1]
    q[knee] = upper + 0.3  # hyperextended beyond the model's 10 deg
    trial = _markers_at(functions, model, q[None, :])
    bounded = inverse_kinematics(model, trial, functions=functions)
    assert bounded.success.all()
    assert bounded.coordinates[0, knee] == pytest.approx(upper, abs=1e-12)
    assert bounded.at_limit[0, knee] and bounded.at_limit[0].sum() == 1
    lo = np.array([c.range[0] for c in model.coordinates])
    hi = np.array([c.range[1] for c in model.coordinates])
    assert np.all(bounded.coordinates >= lo) and np.all(bounded.coordinates <= hi)
    assert bounded.marker_errors.max() > 0.01  # the shank and foot cannot follow
    free = inverse_kinematics(model, trial, settings=IKSettings(use_ranges=False))
    np.testing.assert_allclose(free.coordinates[0], q, atol=RECOVERY)
    assert not free.at_limit.any()


def test_bounds_with_the_bounded_solver_and_an_inward_pull(gait2d: tuple) -> None:
    """Several coordinates outside their ranges at once: the solution must still be a
    minimiser of the bounded problem (checked against SciPy's bounded solver run here
    directly on the model's markers)."""
    import scipy.optimize

    model, functions = gait2d
    names = model.coordinate_names
    q = np.array([c.default for c in model.coordinates])
    for name, value in (("knee_angle_r", 0.5), ("ankle_angle_l", 0.8), ("hip_flexion_l", 2.3)):
        q[names.index(name)] = value
    trial = _markers_at(functions, model, q[None, :])
    result = inverse_kinematics(model, trial, functions=functions)
    lo = np.array([c.range[0] for c in model.coordinates])
    hi = np.array([c.range[1] for c in model.coordinates])
    measured = trial.positions[0]

    def residual(x: np.ndarray) -> np.ndarray:
        return (np.asarray(functions.marker_positions(x)).T - measured).ravel()

    reference = scipy.optimize.least_squares(
        residual, np.clip(q, lo, hi), bounds=(lo, hi), xtol=1e-12, ftol=1e-12, gtol=1e-12
    )
    assert 0.5 * result.objective[0] <= reference.cost * (1 + 1e-9)
    np.testing.assert_allclose(result.coordinates[0], reference.x, atol=1e-5)


def test_locked_coordinates_keep_their_default(gait3d: tuple) -> None:
    model, _ = gait3d
    joints = []
    for joint in model.joints:
        coords = tuple(
            dataclasses.replace(c, locked=True, default=0.1) if c.name == "subtalar_angle_r" else c
            for c in joint.coordinates
        )
        joints.append(dataclasses.replace(joint, coordinates=coords))
    locked = dataclasses.replace(model, joints=tuple(joints))
    functions = build(locked)
    q = _random_poses(locked, 1, seed=2)[0]
    j = locked.coordinate_names.index("subtalar_angle_r")
    q[j] = 0.1
    result = inverse_kinematics(
        locked, _markers_at(functions, locked, q[None, :]), functions=functions
    )
    assert result.locked == ("subtalar_angle_r",)
    assert result.coordinates[0, j] == 0.1
    cols = _fitted(locked, result.unobserved)
    np.testing.assert_allclose(result.coordinates[0, cols], q[cols], atol=RECOVERY)


def test_missing_markers_are_skipped_frame_by_frame(gait3d: tuple) -> None:
    model, functions = gait3d
    knots = _random_poses(model, 2, seed=21)
    q_true = knots[0] + (knots[1] - knots[0]) * np.linspace(0, 0.2, 8)[:, None]
    trial = _markers_at(functions, model, q_true)
    positions = np.array(trial.positions)
    names = list(trial.marker_names)
    positions[2, names.index("R.Thigh.Front")] = np.nan  # one gap
    positions[3, [names.index(n) for n in ("Sternum", "L.Toe.Tip", "R.ASIS")]] = np.nan
    foot = [i for i, m in enumerate(model.markers) if m.body == "calcn_l"]
    positions[5, foot] = np.nan  # the whole left foot: ankle and subtalar not fixed
    result = inverse_kinematics(
        model, dataclasses.replace(trial, positions=positions), functions=functions
    )
    assert result.success.all()
    cols = _fitted(model, result.unobserved)
    for f in (0, 1, 2, 3, 4, 6, 7):
        np.testing.assert_allclose(result.coordinates[f, cols], q_true[f, cols], atol=RECOVERY)
    errors = result.marker_errors
    assert np.isnan(errors[2, result.marker_names.index("R.Thigh.Front")])
    assert np.isnan(errors[3]).sum() == 3 and np.isnan(errors[5]).sum() == len(foot)
    assert np.isfinite(errors[[0, 1, 4, 6, 7]]).all()
    assert result.underdetermined.tolist() == [f == 5 for f in range(8)]
    # Frame 5 keeps the previous frame's left ankle and subtalar angles (no marker on
    # the foot), everything else fits.
    for name in ("ankle_angle_l", "subtalar_angle_l"):
        j = model.coordinate_names.index(name)
        assert result.coordinates[5, j] == pytest.approx(result.coordinates[4, j], abs=1e-9)


def test_a_frame_without_markers_fails_loudly(gait2d: tuple) -> None:
    model, functions = gait2d
    q = np.tile([c.default for c in model.coordinates], (3, 1))
    trial = _markers_at(functions, model, q)
    positions = np.array(trial.positions)
    positions[1] = np.nan
    with pytest.warns(UserWarning, match="did not converge in 1 of 3 frames"):
        result = inverse_kinematics(
            model, dataclasses.replace(trial, positions=positions), functions=functions
        )
    assert result.success.tolist() == [True, False, True]
    assert result.status[1].startswith("failed: no fitted marker visible")
    assert np.isnan(result.frame_rms_error()[1]) and np.isnan(result.objective[1])
    assert "1 frame(s) did not converge" in result.summary()


def test_unobserved_coordinates_are_held_and_reported(gait3d: tuple) -> None:
    model, functions = gait3d
    q = _random_poses(model, 1, seed=4)
    mapping = load_shipped_mapping("plug_in_gait_lower_body")
    lab = {a.model: a.lab for a in mapping.markers}
    trial = _markers_at(functions, model, q)
    keep = [i for i, n in enumerate(trial.marker_names) if n in lab and lab[n] != "SACR"]
    trial = MarkerTable(
        tuple(lab[trial.marker_names[i]] for i in keep), trial.time, trial.positions[:, keep], 100.0
    )
    result = inverse_kinematics(model, trial, mapping, functions=functions)
    assert set(result.unobserved) == {
        "lumbar_extension",
        "lumbar_bending",
        "lumbar_rotation",
        "mtp_angle_r",
        "mtp_angle_l",
    }
    for name in result.unobserved:
        j = model.coordinate_names.index(name)
        assert result.coordinates[0, j] == model.coordinates[j].default
    assert result.absent == ("SACR",)
    cols = _fitted(model, result.unobserved)
    # 16 Plug-in Gait markers fix the pelvis and legs exactly (no noise).
    np.testing.assert_allclose(result.coordinates[0, cols], q[0, cols], atol=RECOVERY)


def test_coordinate_tasks_pull_their_coordinates(gait2d: tuple) -> None:
    model, functions = gait2d
    names = model.coordinate_names
    q = np.tile([c.default for c in model.coordinates], (7, 1))
    trial = _markers_at(functions, model, q)
    # Only the pelvis markers: the lumbar joint has no marker, so a task alone sets it.
    mapping = MarkerMapping(
        "pelvis",
        tuple(MarkerAssignment(n, n) for n in ("R.ASIS", "L.ASIS", "V.Sacral", "R.PSIS")),
    )
    table = TimeSeriesTable(
        "t", ("lumbar",), trial.time, np.linspace(-20, 10, 7)[:, None], in_degrees=True
    )
    tasks = (
        CoordinateTask("lumbar", 1.0, CoordinateValue.FILE),
        CoordinateTask("knee_angle_r", 1.0, CoordinateValue.MANUAL, -0.5),
        CoordinateTask("knee_angle_l", 1.0, CoordinateValue.DEFAULT),
    )
    result = inverse_kinematics(
        model,
        trial,
        mapping,
        IKSettings(coordinate_tasks=tasks, coordinate_file=table),
        functions=functions,
    )
    assert "lumbar" not in result.unobserved
    np.testing.assert_allclose(
        result.coordinate("lumbar"), np.radians(np.linspace(-20, 10, 7)), atol=1e-8
    )
    np.testing.assert_allclose(result.coordinate("knee_angle_r"), -0.5, atol=1e-8)
    np.testing.assert_allclose(result.coordinate("knee_angle_l"), 0.0, atol=1e-8)
    j = names.index("knee_angle_r")
    assert result.objective == pytest.approx(np.zeros(7), abs=1e-14)  # all tasks met
    # A task fights the markers: the weighted compromise of a 1-D quadratic.
    q_marked = q.copy()
    q_marked[:, j] = -1.0
    full = _markers_at(functions, model, q_marked)
    heavy = inverse_kinematics(
        model,
        full,
        settings=IKSettings(
            coordinate_tasks=(CoordinateTask("knee_angle_r", 1e6, CoordinateValue.MANUAL, -0.5),)
        ),
        functions=functions,
    )
    assert heavy.coordinate("knee_angle_r")[0] == pytest.approx(-0.5, abs=1e-3)
    light = inverse_kinematics(
        model,
        full,
        settings=IKSettings(
            coordinate_tasks=(CoordinateTask("knee_angle_r", 1e-6, CoordinateValue.MANUAL, -0.5),)
        ),
        functions=functions,
    )
    assert light.coordinate("knee_angle_r")[0] == pytest.approx(-1.0, abs=1e-3)
    with pytest.raises(ModelError, match="knee_angle"):
        inverse_kinematics(
            model, trial, settings=IKSettings(coordinate_tasks=(CoordinateTask("knee_angle"),))
        )
    with pytest.raises(GaitsimError, match="coordinate_file"):
        inverse_kinematics(model, trial, settings=IKSettings(coordinate_tasks=tasks[:1]))


def test_reported_errors_and_tables(gait2d: tuple, tmp_path: Path) -> None:
    model, functions = gait2d
    q_true = _random_poses(model, 4, seed=8)
    trial = _markers_at(functions, model, q_true)
    rng = np.random.default_rng(1)
    trial = dataclasses.replace(
        trial, positions=trial.positions + rng.normal(0, 0.005, trial.positions.shape)
    )
    result = inverse_kinematics(model, trial, functions=functions)
    # Distances straight from the model's markers at the solution.
    for f in range(4):
        positions = np.asarray(functions.marker_positions(result.coordinates[f])).T
        distance = np.linalg.norm(positions - trial.positions[f], axis=1)
        np.testing.assert_allclose(result.marker_errors[f], distance, rtol=1e-9, atol=1e-12)
        assert result.frame_rms_error()[f] == pytest.approx(np.sqrt(np.mean(distance**2)))
        assert result.frame_max_error()[f] == pytest.approx(distance.max())
        assert result.frame_worst_marker()[f] == model.markers[int(np.argmax(distance))].name
        assert result.total_squared_error()[f] == pytest.approx(np.sum(distance**2))
    rms = np.sqrt(np.mean(result.marker_errors**2, axis=0))
    np.testing.assert_allclose(result.marker_rms_error(), rms)
    np.testing.assert_allclose(result.marker_max_error(), result.marker_errors.max(axis=0))

    path = tmp_path / "ik.mot"
    write_motion(result, path)
    table = read_storage(path)
    assert table.in_degrees and table.name == "Coordinates"
    for j, c in enumerate(model.coordinates):
        expected = result.coordinates[:, j]
        if c.motion is Motion.ROTATIONAL:
            expected = np.degrees(expected)
        np.testing.assert_allclose(table.column(c.name), expected, rtol=1e-9, atol=1e-12)
    write_marker_errors(result, tmp_path / "errors.sto")
    errors = read_storage(tmp_path / "errors.sto")
    assert errors.labels[:3] == ("total_squared_error", "marker_error_RMS", "marker_error_max")
    np.testing.assert_allclose(
        errors.column("marker_error_RMS"), result.frame_rms_error(), rtol=1e-9
    )
    assert result.marker_errors_table().labels == result.marker_names
    text = result.summary()
    assert "4 converged" in text and "R.Heel" in text


def test_time_range_and_required_markers(gait2d: tuple) -> None:
    model, functions = gait2d
    trial = _markers_at(functions, model, np.tile([c.default for c in model.coordinates], (10, 1)))
    result = inverse_kinematics(
        model, trial, settings=IKSettings(time_range=(0.02, 0.05)), functions=functions
    )
    np.testing.assert_allclose(result.time, [0.02, 0.03, 0.04, 0.05])
    with pytest.raises(GaitsimError, match="start <= end"):
        inverse_kinematics(model, trial, settings=IKSettings(time_range=(0.05, 0.02)))
    with pytest.raises(GaitsimError, match="tolerance"):
        inverse_kinematics(model, trial, settings=IKSettings(tolerance=0.0))
    with pytest.raises(GaitsimError, match="max_evaluations"):
        inverse_kinematics(model, trial, settings=IKSettings(max_evaluations=0))
    with pytest.raises(GaitsimError, match="no marker frame in time range"):
        inverse_kinematics(
            model, trial, settings=IKSettings(time_range=(1.0, 2.0)), functions=functions
        )
    mapping = MarkerMapping("m", (MarkerAssignment("RASI", "R.ASIS"),), source="m.toml")
    with pytest.raises(GaitsimError, match="no marker 'RASI' in the trial"):
        inverse_kinematics(model, trial, mapping, functions=functions)
    with pytest.raises(ModelError, match="R.ASSI"):
        inverse_kinematics(
            model, trial, MarkerMapping("m", (MarkerAssignment("R.ASIS", "R.ASSI"),))
        )


SETUP = """<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="30000">
  <InverseKinematicsTool>
    <model_file> ../subject01.osim </model_file>
    <accuracy>1e-005</accuracy>
    <IKTaskSet>
      <objects>
        <IKMarkerTask name="R.ASIS">
          <apply>true</apply>
          <weight>3</weight>
        </IKMarkerTask>
        <IKMarkerTask name="R.Knee.Lat">
          <apply>false</apply>
          <weight>1</weight>
        </IKMarkerTask>
        <IKCoordinateTask name="lumbar">
          <apply>true</apply>
          <weight>0.5</weight>
          <value_type>manual_value</value_type>
          <value>0.1</value>
        </IKCoordinateTask>
      </objects>
      <groups />
    </IKTaskSet>
    <marker_file>walk.trc</marker_file>
    <coordinate_file>Unassigned</coordinate_file>
    <time_range> 0.5 2.5</time_range>
    <output_motion_file>out.mot</output_motion_file>
  </InverseKinematicsTool>
</OpenSimDocument>
"""


def test_read_an_opensim_setup(tmp_path: Path) -> None:
    path = tmp_path / "setup.xml"
    path.write_text(SETUP)
    setup = read_opensim_ik_setup(path)
    assert setup.mapping.markers == (MarkerAssignment("R.ASIS", "R.ASIS", 3.0, True),)
    assert setup.mapping.markers[0].line == 8
    assert setup.skipped == ("R.Knee.Lat",)
    assert setup.coordinate_tasks == (CoordinateTask("lumbar", 0.5, CoordinateValue.MANUAL, 0.1),)
    assert setup.time_range == (0.5, 2.5) and setup.accuracy == 1e-5
    assert setup.marker_file == "walk.trc" and setup.coordinate_file is None
    assert setup.model_file == "../subject01.osim" and setup.output_motion_file == "out.mot"
    settings = setup.settings()
    assert settings.time_range == (0.5, 2.5) and settings.coordinate_tasks == setup.coordinate_tasks


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda t: t.replace("<weight>3</weight>", "<weight>three</weight>"), 8, "weight"),
        (lambda t: t.replace("<weight>3</weight>", "<weight>-3</weight>"), 8, "weight"),
        (lambda t: t.replace("<apply>false</apply>", "<apply>maybe</apply>"), 12, "apply"),
        (lambda t: t.replace("manual_value", "by_hand"), 16, "value_type"),
        (lambda t: t.replace(" 0.5 2.5", "0.5"), 27, "time_range"),
        (lambda t: t.replace("</weight>", "</weigh>", 1), 10, "XML"),
        (lambda t: t.replace("InverseKinematicsTool", "ScaleTool"), None, "InverseKinematicsTool"),
    ],
)
def test_opensim_setup_errors_name_the_line(tmp_path: Path, edit, line, message) -> None:
    path = tmp_path / "setup.xml"
    path.write_text(edit(SETUP))
    with pytest.raises(FileFormatError, match=message) as info:
        read_opensim_ik_setup(path)
    assert info.value.line == line
