"""Marker placement (:mod:`gaitsim.kinematics.marker_placement`).

References independent of the placement code: markers displaced by known offsets in
their bodies' frames (the answer is the offset), the model's own marker positions after
moving (the target positions), plain NumPy means and ranges of the static frames, and,
for the clinical case, Vicon's own Plug-in Gait knee angles and Schwartz et al.'s (2008)
normal knee flexion on kineticstoolkit's Plug-in Gait trial. The comparison with OpenSim's
MarkerPlacer is in ``tests/validation/test_marker_placement_opensim.py``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from gaitsim.errors import FileFormatError, GaitsimError, ModelError
from gaitsim.io.trc import MarkerTable
from gaitsim.kinematics.inverse_kinematics import (
    CoordinateTask,
    CoordinateValue,
    IKSettings,
    inverse_kinematics,
)
from gaitsim.kinematics.marker_placement import (
    DEFAULT_MAX_DISPLACEMENT,
    PLUG_IN_GAIT_WANDS,
    MarkerPlacementError,
    MarkerPlacementSettings,
    MarkerPlacementWarning,
    PlacementStatus,
    average_static,
    place_markers,
    placement_settings_from_dict,
    plug_in_gait_placement,
    pose_tasks,
    read_placement_settings,
    relocate_markers,
    write_marker_set,
)
from gaitsim.kinematics.marker_sets import (
    MarkerAssignment,
    MarkerMapping,
    identity_mapping,
    load_shipped_mapping,
)
from gaitsim.mechanics.model_functions import build
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import Model

SEED = 20261205
# Known-answer tolerance. The static pose is held at the true pose by coordinate tasks
# of weight W = 1e6 per rad^2 (m^2); the displaced markers (offsets up to 3 cm, weight 1
# per m^2, lever arms up to about 1.5 m from a body origin through the chain) pull it
# away by at most |dq| ~ sum_i |r_i| L / W = 45 x 0.03 m x 1.5 m / 1e6 = 2e-6 rad (m),
# which moves a marker location by at most 1.5 m x 2e-6 = 3e-6 m. 1e-5 m bounds that.
# The solver's own tolerance (1e-10 relative) is far below it.
RECOVERED = 1e-5
TASK_WEIGHT = 1e6
# Rounding only (a rotation and a subtraction in double precision on metre values).
EXACT = 1e-12


@pytest.fixture(scope="module")
def gait3d() -> Model:
    return load_builtin("gait3d")


@pytest.fixture(scope="module")
def gait2d() -> Model:
    return load_builtin("gait2d")


def _pose(model: Model, rng: np.random.Generator) -> np.ndarray:
    """A standing-like pose: every free rotation within +-0.3 rad of its default and
    inside its range, the pelvis moved; coordinates no marker depends on (mtp) at their
    default."""
    q = np.array([c.default for c in model.coordinates])
    for j, c in enumerate(model.coordinates):
        if c.locked or c.name.startswith("mtp"):
            continue
        lo, hi = c.range
        if c.name in ("pelvis_tx", "pelvis_tz"):
            q[j] = rng.uniform(-0.5, 0.5)
        elif c.name == "pelvis_ty":
            q[j] = rng.uniform(0.85, 1.0)
        else:
            q[j] = np.clip(c.default + rng.uniform(-0.3, 0.3), lo + 0.05, hi - 0.05)
    return q


def _static_of(model: Model, q: np.ndarray, frames: int = 3) -> MarkerTable:
    """A still static trial: ``frames`` identical frames of the model's markers at ``q``."""
    positions = np.asarray(build(model).marker_positions(q), dtype=float).T
    return MarkerTable(
        marker_names=tuple(m.name for m in model.markers),
        time=np.arange(frames) / 100.0,
        positions=np.repeat(positions[None], frames, axis=0),
        rate=100.0,
    )


def _displaced(model: Model, offsets: np.ndarray) -> Model:
    return dataclasses.replace(
        model,
        markers=tuple(
            dataclasses.replace(m, location=tuple(np.add(m.location, d)))
            for m, d in zip(model.markers, offsets, strict=True)
        ),
    )


# --------------------------------------------------------------------------------------
# Known answer: markers displaced by known offsets in their body frames
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gait2d", "gait3d"])
def test_known_offsets_are_recovered_and_fixed_markers_stay(
    name: str, request: pytest.FixtureRequest
) -> None:
    generic: Model = request.getfixturevalue(name)
    rng = np.random.default_rng(SEED)
    q0 = _pose(generic, rng)
    offsets = rng.uniform(-0.03, 0.03, (len(generic.markers), 3))
    truth = _displaced(generic, offsets)
    static = _static_of(truth, q0)  # every marker displaced, the fixed ones too
    fixed = {"R.ASIS", "L.Heel", "Sternum", "R.Knee.Med"}
    model = dataclasses.replace(
        generic,
        markers=tuple(dataclasses.replace(m, fixed=m.name in fixed) for m in generic.markers),
    )
    settings = MarkerPlacementSettings(
        coordinate_tasks=pose_tasks(dict(zip(model.coordinate_names, q0, strict=True)), TASK_WEIGHT)
    )
    result = place_markers(model, static, settings=settings)

    assert result.frames == 3 and result.time_range == (0.0, 0.02)
    np.testing.assert_allclose(result.pose, q0, atol=RECOVERED)
    for placed, original, true in zip(result.markers, model.markers, truth.markers, strict=True):
        offset = float(np.linalg.norm(np.subtract(true.location, original.location)))
        # At the true pose a marker is off by its offset (|R d| = |d|).
        assert placed.error_before == pytest.approx(offset, abs=RECOVERED)
        if placed.name in fixed:
            assert placed.status is PlacementStatus.FIXED
            assert placed.location_after == original.location  # not touched at all
            assert placed.displacement == 0.0
            assert placed.error_after == pytest.approx(offset, abs=RECOVERED)  # not hidden
        else:
            assert placed.status is PlacementStatus.MOVED
            np.testing.assert_allclose(placed.location_after, true.location, atol=RECOVERED)
            assert placed.displacement == pytest.approx(offset, abs=RECOVERED)
            assert placed.error_after < RECOVERED
    worst = max(
        float(np.linalg.norm(np.subtract(p.location_after, t.location)))
        for p, t in zip(result.markers, truth.markers, strict=True)
        if p.moved
    )
    print(
        f"\n{name}: offsets recovered to {worst:.1e} m, pose to "
        f"{np.max(np.abs(result.pose - q0)):.1e}"
    )
    # Everything but the markers is the model as it was, the fixed markers included.
    assert dataclasses.replace(result.model, markers=model.markers) == model
    kept = [m for m in result.model.markers if m.name in fixed]
    assert kept == [m for m in model.markers if m.name in fixed]

    # Inverse kinematics on the static with the placed model, free of coordinate tasks and
    # without the (unmoved) fixed markers: the markers are fitted exactly at the true pose.
    mapping = identity_mapping(result.model, {n: 0.0 for n in fixed})
    ik = inverse_kinematics(result.model, static, mapping, IKSettings())
    assert np.nanmax(ik.marker_errors) < RECOVERED
    print(f"refit without tasks: largest marker error {np.nanmax(ik.marker_errors):.1e} m")
    observed = [j for j, c in enumerate(model.coordinate_names) if c not in ik.unobserved]
    np.testing.assert_allclose(ik.coordinates[0][observed], q0[observed], atol=RECOVERED)


def test_relocated_markers_sit_on_their_targets(gait3d: Model) -> None:
    rng = np.random.default_rng(SEED + 1)
    q = _pose(gait3d, rng)
    names = ("R.Knee.Lat", "L.Toe.Tip", "Top.Head", "V.Sacral")
    targets = {n: rng.uniform(-1.0, 1.0, 3) for n in names}
    moved = relocate_markers(gait3d, q, targets)
    positions = np.asarray(build(moved).marker_positions(q), dtype=float).T
    order = [m.name for m in gait3d.markers]
    for n in names:
        np.testing.assert_allclose(positions[order.index(n)], targets[n], atol=EXACT)
    for old, new in zip(gait3d.markers, moved.markers, strict=True):
        assert new.body == old.body and new.fixed == old.fixed
        if old.name not in names:
            assert new == old

    with pytest.raises(ModelError, match=r"markers\.R\.Knee\.Lateral.*close matches.*R\.Knee\.Lat"):
        relocate_markers(gait3d, q, {"R.Knee.Lateral": (0.0, 0.0, 0.0)})
    fixed = dataclasses.replace(
        gait3d,
        markers=tuple(dataclasses.replace(m, fixed=m.name == "R.Heel") for m in gait3d.markers),
    )
    with pytest.raises(ModelError, match=r"markers\.R\.Heel: .*fixed"):
        relocate_markers(fixed, q, {"R.Heel": (0.0, 0.0, 0.0)})
    with pytest.raises(ModelError, match="3 finite numbers"):
        relocate_markers(gait3d, q, {"R.Heel": (0.0, math.nan, 0.0)})
    with pytest.raises(ValueError, match="shape"):
        relocate_markers(gait3d, q[:-1], {"R.Heel": (0.0, 0.0, 0.0)})


# --------------------------------------------------------------------------------------
# Averaging the static frames (OpenSim's averageFrames)
# --------------------------------------------------------------------------------------
def test_static_frames_are_averaged_over_visible_frames_in_the_range() -> None:
    rng = np.random.default_rng(SEED + 2)
    time = np.arange(10) / 10.0  # 0.0 ... 0.9 s
    positions = rng.normal(0.0, 0.01, (10, 3, 3)) + np.array([0.0, 1.0, 0.2])
    positions[4, 1] = np.nan  # marker b missing in one frame of the range
    positions[:, 2] = np.nan  # marker c never seen
    table = MarkerTable(("a", "b", "c"), time, positions, 10.0)

    average = average_static(table, (0.2, 0.6))
    inside = slice(2, 7)
    assert average.frames == 5 and average.time_range == (0.2, 0.6)
    assert average.table.time.tolist() == [0.2]
    np.testing.assert_allclose(average.table.positions[0, 0], positions[inside, 0].mean(axis=0))
    b = positions[inside, 1][[0, 1, 3, 4]]
    np.testing.assert_allclose(average.table.positions[0, 1], b.mean(axis=0))
    assert np.all(np.isnan(average.table.positions[0, 2]))
    assert average.visible.tolist() == [5, 4, 0]
    ranges = np.ptp(positions[inside, 0], axis=0)
    assert average.movement[0] == pytest.approx(ranges.max(), abs=EXACT)
    assert average.movement[1] == pytest.approx(np.ptp(b, axis=0).max(), abs=EXACT)
    assert math.isnan(average.movement[2])

    # OpenSim 4 narrows a range beyond the data to the data; (t, t) is one frame.
    assert average_static(table, (-5.0, 50.0)).frames == 10
    one = average_static(table, (0.3, 0.3))
    assert one.frames == 1
    np.testing.assert_array_equal(one.table.positions[0, 0], positions[3, 0])
    with pytest.raises(GaitsimError, match="no static frame"):
        average_static(table, (0.31, 0.39))
    with pytest.raises(GaitsimError, match="start <= end"):
        average_static(table, (0.5, 0.2))


def test_a_marker_that_moves_over_the_frames_is_refused_or_warned(gait2d: Model) -> None:
    q = np.array([c.default for c in gait2d.coordinates])
    still = _static_of(gait2d, q, frames=5)
    positions = np.array(still.positions)
    k = still.marker_names.index("R.Heel")
    positions[:, k, 0] += np.linspace(0.0, 0.05, 5)  # drifts 5 cm forwards
    moving = dataclasses.replace(still, positions=positions)

    with pytest.raises(MarkerPlacementError, match=r"R\.Heel \(50 mm\)") as caught:
        place_markers(gait2d, moving)
    assert caught.value.markers == (("R.Heel", pytest.approx(0.05)),)
    # The frames where it is still pass.
    assert place_markers(gait2d, moving, settings=MarkerPlacementSettings(time_range=(0, 0)))
    # Warned, placed, and said in the notes.
    settings = MarkerPlacementSettings(on_excess="warn")
    with pytest.warns(MarkerPlacementWarning, match=r"R\.Heel"):
        result = place_markers(gait2d, moving, settings=settings)
    assert any("R.Heel (50 mm)" in n for n in result.notes)
    unlimited = MarkerPlacementSettings(max_marker_movement=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        place_markers(gait2d, moving, settings=unlimited)


def test_a_marker_displaced_beyond_the_limit_is_named(gait2d: Model) -> None:
    q = np.array([c.default for c in gait2d.coordinates])
    offsets = np.zeros((len(gait2d.markers), 3))
    order = [m.name for m in gait2d.markers]
    offsets[order.index("L.Knee.Lat")] = (0.0, 0.0, -0.3)  # e.g. a knee marker label swap
    offsets[order.index("R.Heel")] = (0.0, 0.0, 0.02)
    static = _static_of(_displaced(gait2d, offsets), q)
    # Give the fit the true pose so that the answer is the offset.
    settings = MarkerPlacementSettings(
        coordinate_tasks=pose_tasks(dict(zip(gait2d.coordinate_names, q, strict=True)), 1e6)
    )
    with pytest.raises(MarkerPlacementError, match=r"L\.Knee\.Lat \(300 mm\)") as caught:
        place_markers(gait2d, static, settings=settings)
    assert [name for name, _ in caught.value.markers] == ["L.Knee.Lat"]
    assert DEFAULT_MAX_DISPLACEMENT < 0.3

    warn = dataclasses.replace(settings, on_excess="warn")
    with pytest.warns(MarkerPlacementWarning, match=r"L\.Knee\.Lat"):
        result = place_markers(gait2d, static, settings=warn)
    assert result.marker("L.Knee.Lat").displacement == pytest.approx(0.3, abs=RECOVERED)
    assert result.marker("R.Heel").displacement == pytest.approx(0.02, abs=RECOVERED)
    raised = dataclasses.replace(settings, max_displacement=0.5)
    assert place_markers(gait2d, static, settings=raised).marker("L.Knee.Lat").moved


# --------------------------------------------------------------------------------------
# Which markers move
# --------------------------------------------------------------------------------------
def test_statuses_weights_and_lab_names(gait3d: Model) -> None:
    """Lab names through a mapping; a marker absent from the static, one missing in every
    frame, one not movable, and wand markers out of the fit (weight 0) but moved."""
    rng = np.random.default_rng(SEED + 3)
    q0 = _pose(gait3d, rng)
    offsets = rng.uniform(-0.02, 0.02, (len(gait3d.markers), 3))
    model_static = _static_of(_displaced(gait3d, offsets), q0)
    mapping = load_shipped_mapping("plug_in_gait_lower_body")
    lab_of = {a.model: a.lab for a in mapping.markers}
    keep = [i for i, n in enumerate(model_static.marker_names) if n in lab_of and n != "V.Sacral"]
    positions = np.array(model_static.positions[:, keep])
    names = tuple(lab_of[model_static.marker_names[i]] for i in keep)
    positions[:, names.index("LTOE")] = np.nan  # never seen
    static = MarkerTable(names, model_static.time, positions, 100.0)

    settings = dataclasses.replace(
        plug_in_gait_placement(gait3d),
        movable=tuple(a.model for a in mapping.markers if a.model != "R.Heel"),
        coordinate_tasks=pose_tasks(dict(zip(gait3d.coordinate_names, q0, strict=True)), 1e6),
    )
    result = place_markers(gait3d, static, mapping, settings)
    status = {m.name: m.status for m in result.markers}
    assert status["V.Sacral"] is PlacementStatus.NOT_IN_STATIC  # optional SACR absent
    assert status["Sternum"] is PlacementStatus.NOT_IN_STATIC  # not in the mapping
    assert status["L.Toe.MT2"] is PlacementStatus.MISSING
    assert status["R.Heel"] is PlacementStatus.NOT_MOVABLE
    assert result.marker("R.Heel").error_before > 0.001  # data there, but kept
    for wand in PLUG_IN_GAIT_WANDS:
        placed = result.marker(wand)
        assert placed.moved and placed.weight == 0.0 and placed.lab is not None
    moved = {m.name for m in result.moved}
    assert moved == set(lab_of) - {"V.Sacral", "L.Toe.MT2", "R.Heel"}
    order = [m.name for m in gait3d.markers]
    for name in moved:
        true = np.add(gait3d.markers[order.index(name)].location, offsets[order.index(name)])
        np.testing.assert_allclose(result.marker(name).location_after, true, atol=RECOVERED)
    for name in set(order) - moved:
        assert result.model.markers[order.index(name)] == gait3d.markers[order.index(name)]
    assert result.marker("R.ASIS").lab == "RASI" and result.marker("R.ASIS").weight == 3.0
    text = " ".join(result.notes)
    assert "not in the static trial: " in text and "Sternum" in text
    assert "missing in the static frames: L.Toe.MT2" in text
    assert "not movable (settings): R.Heel" in text
    assert "weight 0" in text and "R.Thigh.Rear" in text
    # The report forms.
    data = json.loads(json.dumps(result.to_dict()))
    assert len(data["markers"]) == len(gait3d.markers)
    assert data["markers"][order.index("L.Toe.MT2")]["error_before"] is None
    assert "R.Thigh.Rear" in result.summary()


def test_plug_in_gait_settings_follow_the_model(gait3d: Model, gait2d: Model) -> None:
    three = plug_in_gait_placement(gait3d)
    assert dict(three.marker_weights) == {w: 0.0 for w in PLUG_IN_GAIT_WANDS}
    assert {t.coordinate for t in three.coordinate_tasks} == {"hip_rotation_r", "hip_rotation_l"}
    assert all(
        t.value == 0.0 and t.value_type is CoordinateValue.MANUAL for t in three.coordinate_tasks
    )
    two = plug_in_gait_placement(gait2d)  # no hip rotation in the planar model
    assert two.coordinate_tasks == () and dict(two.marker_weights) == dict(three.marker_weights)


# --------------------------------------------------------------------------------------
# Loud failures
# --------------------------------------------------------------------------------------
def test_settings_naming_unknown_or_fixed_things_raise(gait2d: Model) -> None:
    static = _static_of(gait2d, np.array([c.default for c in gait2d.coordinates]))

    def place(**changes: object) -> None:
        place_markers(gait2d, static, settings=MarkerPlacementSettings(**changes))  # type: ignore[arg-type]

    with pytest.raises(ModelError, match=r"movable\.R\.Knee: .*close matches.*'R\.Knee\.Lat'"):
        place(movable=("R.Knee",))
    with pytest.raises(ModelError, match=r"marker_weights\.R\.Hell.*'R\.Heel'"):
        place(marker_weights=(("R.Hell", 0.0),))
    with pytest.raises(ModelError, match=r"marker_weights\.R\.Heel: weight"):
        place(marker_weights=(("R.Heel", -1.0),))
    with pytest.raises(ModelError, match=r"coordinate_tasks\.knee_flexion_r.*'knee_angle_r'"):
        place(coordinate_tasks=pose_tasks({"knee_flexion_r": 0.0}))
    with pytest.raises(ModelError, match=r"coordinate_tasks\.knee_angle_r: more than one"):
        place(coordinate_tasks=pose_tasks({"knee_angle_r": 0.0}) * 2)
    with pytest.raises(GaitsimError, match="max_displacement must be positive"):
        place(max_displacement=0.0)
    with pytest.raises(GaitsimError, match="max_marker_movement must be positive"):
        place(max_marker_movement=-1.0)
    with pytest.raises(GaitsimError, match="on_excess"):
        place(on_excess="ignore")
    fixed = dataclasses.replace(
        gait2d,
        markers=tuple(dataclasses.replace(m, fixed=m.name == "R.Heel") for m in gait2d.markers),
    )
    with pytest.raises(ModelError, match=r"movable\.R\.Heel: the marker is fixed"):
        place_markers(fixed, static, settings=MarkerPlacementSettings(movable=("R.Heel",)))
    # A weight for a marker that the mapping does not bring in from the static.
    only_heel = MarkerMapping("heel", (MarkerAssignment("R.Heel", "R.Heel"),))
    with pytest.raises(ModelError, match=r"marker_weights\.L\.Heel: the marker mapping"):
        place_markers(
            gait2d, static, only_heel, MarkerPlacementSettings(marker_weights=(("L.Heel", 1.0),))
        )
    # A required lab marker that the static lacks.
    required = MarkerMapping("req", (MarkerAssignment("RHEE", "R.Heel"),))
    with pytest.raises(GaitsimError, match="RHEE"):
        place_markers(gait2d, static, required)


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------
def test_marker_set_file_holds_every_marker_exactly(gait3d: Model, tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 4)
    model = dataclasses.replace(
        gait3d,
        markers=tuple(
            dataclasses.replace(m, location=tuple(rng.normal(0, 0.3, 3)), fixed=k % 3 == 0)
            for k, m in enumerate(gait3d.markers)
        ),
    )
    path = write_marker_set(model, tmp_path / "markers.xml")
    root = ET.parse(path).getroot()
    assert root.tag == "OpenSimDocument"
    elements = root.findall("./MarkerSet/objects/Marker")
    assert [e.get("name") for e in elements] == [m.name for m in model.markers]
    for e, m in zip(elements, model.markers, strict=True):
        assert e.findtext("socket_parent_frame") == f"/bodyset/{m.body}"
        assert tuple(float(v) for v in e.findtext("location", "").split()) == m.location
        assert e.findtext("fixed") == ("true" if m.fixed else "false")
    with pytest.raises(FileExistsError):
        write_marker_set(model, path)
    write_marker_set(model, path, overwrite=True)


def test_placement_settings_from_toml(gait3d: Model, tmp_path: Path) -> None:
    path = tmp_path / "placement.toml"
    path.write_text(
        """
time_range = [0.5, 1.5]
max_displacement = false
on_excess = "warn"
movable = ["R.Knee.Lat", "R.Heel"]

[marker_weights]
"R.Thigh.Rear" = 0.0

[coordinates]
knee_angle_r = { degrees = -5.0, weight = 10.0 }
pelvis_ty = { metres = 0.95 }
subtalar_angle_r = { default = true, weight = 100.0 }
""",
        encoding="utf-8",
    )
    settings = read_placement_settings(path, gait3d)
    assert settings.time_range == (0.5, 1.5)
    assert settings.max_displacement is None
    assert settings.max_marker_movement == MarkerPlacementSettings().max_marker_movement
    assert settings.on_excess == "warn" and settings.movable == ("R.Knee.Lat", "R.Heel")
    assert settings.marker_weights == (("R.Thigh.Rear", 0.0),)
    assert settings.coordinate_tasks == (
        CoordinateTask("knee_angle_r", 10.0, CoordinateValue.MANUAL, math.radians(-5.0)),
        CoordinateTask("pelvis_ty", 1.0, CoordinateValue.MANUAL, 0.95),
        CoordinateTask("subtalar_angle_r", 100.0, CoordinateValue.DEFAULT),
    )

    def bad(data: dict[str, object], match: str) -> None:
        with pytest.raises(FileFormatError, match=match):
            placement_settings_from_dict(data, gait3d, source="p.toml")

    bad({"time_rang": [0, 1]}, r"p\.toml: \(top level\): unknown key")
    bad({"coordinates": {"knee_angle_r": {"metres": 0.1}}}, "is rotational: give .* degrees")
    bad({"coordinates": {"pelvis_tx": {"degrees": 1.0}}}, "is not rotational")
    bad({"coordinates": {"knee_angle_r": {"degrees": 1.0, "default": True}}}, "exactly one")
    bad({"coordinates": {"knee_angle": {"degrees": 1.0}}}, r"coordinates\.knee_angle: .*close")
    bad({"coordinates": {"knee_angle_r": {"degrees": "0"}}}, "must be a number")
    bad({"max_displacement": "none"}, "max_displacement: must be a number")
    bad({"on_excess": "shout"}, "on_excess")
    path.write_text("time_range = [0.5,\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="not valid TOML"):
        read_placement_settings(path, gait3d)


# --------------------------------------------------------------------------------------
# The clinical case: kineticstoolkit's Plug-in Gait trial on the scaled gait3d
# --------------------------------------------------------------------------------------
KINETICSTOOLKIT = Path("c3d") / "kineticstoolkit_walk.c3d"
MASS = 73.4  # kg, the C3D's PROCESSING:Bodymass (as the pipeline reads it)
# Mid-stance, 12-31 % of the cycle (Perry & Burnfield 2010, Gait Analysis, 2nd ed.).
MID_STANCE = slice(12, 32)
# Static-pose knee tasks weigh 10 per rad^2 against markers of weight 1-3 per m^2 with
# residuals of a few cm at lever arms under 0.5 m: the markers can pull the knee by about
# sum_i w_i |r_i| L / 10 ~ 6 x 0.03 x 0.5 / 10 ~ 0.01 rad (0.5 degrees). 1 degree.
STATIC_KNEE_TOLERANCE = math.radians(1.0)


@pytest.fixture(scope="module")
def kineticstoolkit(shared_data: Path) -> dict[str, object]:
    """The trial prepared and gait3d scaled as the clinical pipeline does (Plug-in Gait
    mapping, shipped scale setup, first 0.1 s as the 'static': the file has no static
    trial), and inverse kinematics of the walking trial without placement."""
    from gaitsim.capture.importing import ImportSettings, prepare_trial
    from gaitsim.capture.trial import read_c3d_trial
    from gaitsim.io.c3d import read_c3d
    from gaitsim.kinematics.scaling import scale_model
    from gaitsim.pipeline.clinical import shipped_scale_setup

    path = shared_data / KINETICSTOOLKIT
    raw = read_c3d_trial(path)
    mapping = load_shipped_mapping("plug_in_gait_lower_body")
    required = {a.lab for a in mapping.markers if not a.optional}
    trial = prepare_trial(
        raw,
        ImportSettings(
            optional_markers=tuple(n for n in raw.markers.marker_names if n not in required),
            crop_to_complete=True,
        ),
    )
    static = prepare_trial(
        raw, ImportSettings(optional_markers=raw.markers.marker_names, force_cutoff=None)
    ).markers
    start = float(static.time[0])
    lab_of = {a.lab: a.model for a in mapping.markers}
    columns = [i for i, n in enumerate(static.marker_names) if n in lab_of]
    renamed = MarkerTable(
        tuple(lab_of[static.marker_names[i]] for i in columns),
        static.time,
        static.positions[:, columns],
        static.rate,
    )
    setup = dataclasses.replace(shipped_scale_setup(), subject_mass=MASS, time_range=(start, 1.62))
    scaled = scale_model(load_builtin("gait3d"), setup, renamed).model
    content = read_c3d(path)
    plug_in_gait = {
        side: np.radians(content.point_output(f"{prefix}KneeAngles").values[:, 0])
        for side, prefix in (("r", "R"), ("l", "L"))
    }
    return {
        "trial": trial,
        "static": static,
        "start": start,
        "mapping": mapping,
        "scaled": scaled,
        "pig_time": content.markers.time,
        "pig_knee": plug_in_gait,  # flexion positive, rad
    }


def _mid_stance_distance(
    model: Model, data: dict[str, object], shared_data: Path
) -> tuple[dict[str, float], dict[str, float]]:
    """Per side: mean distance (rad) of the mid-stance knee flexion of the walking trial
    from Schwartz et al.'s free-speed band (mean +- 1 SD; 0 inside), and the mean offset
    from Vicon's Plug-in Gait knee flexion over the trial."""
    from gaitsim.analysis.normative import load_normative_sets

    trial = data["trial"]
    normal = load_normative_sets(shared_data / "normative" / "Schwartz2008.json")["Free"]
    mean = normal.mean["knee_flexion"][MID_STANCE]
    sd = normal.sd["knee_flexion"][MID_STANCE]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # frames that do not converge are not the point
        ik = inverse_kinematics(model, trial.markers, data["mapping"], IKSettings())  # type: ignore[attr-defined]
    distance, offset = {}, {}
    for side in ("r", "l"):
        flexion = -ik.coordinate(f"knee_angle_{side}")  # clinical sign
        strikes = [
            e.time
            for e in trial.events
            if e.side == side and e.kind == "foot_strike"  # type: ignore[attr-defined]
        ]
        cycles = [
            np.interp(np.linspace(a, b, 101), ik.time, flexion)[MID_STANCE]
            for a, b in zip(strikes[:-1], strikes[1:], strict=True)
        ]
        assert cycles, side
        knee = np.mean(cycles, axis=0)
        distance[side] = float(np.mean(np.maximum(np.abs(knee - mean) - sd, 0.0)))
        pig = np.interp(ik.time, data["pig_time"], data["pig_knee"][side])  # type: ignore[index]
        offset[side] = float(np.mean(flexion - pig))
    return distance, offset


def test_kineticstoolkit_walking_frames_are_not_a_static_pose(
    kineticstoolkit: dict[str, object],
) -> None:
    """The pipeline's 'static' (the first 0.1 s of walking) is not a pose: averaging it
    is refused, naming the markers (the swinging foot moves most)."""
    start: float = kineticstoolkit["start"]  # type: ignore[assignment]
    with pytest.raises(MarkerPlacementError, match="moved over the averaged static frames") as e:
        place_markers(
            kineticstoolkit["scaled"],  # type: ignore[arg-type]
            kineticstoolkit["static"],  # type: ignore[arg-type]
            kineticstoolkit["mapping"],  # type: ignore[arg-type]
            MarkerPlacementSettings(time_range=(start, 1.62)),
        )
    assert len(e.value.markers) >= 10 and e.value.markers[0][1] > 0.1


def test_kineticstoolkit_knee_with_placement(
    kineticstoolkit: dict[str, object], shared_data: Path
) -> None:
    """Placement on the first frame with the knee angles set to the lab's own Plug-in Gait
    values there (the file has no static trial, so the pose of this frame is only known
    from Vicon): the static knee takes the set values, and the walking trial's mid-stance
    knee comes nearer the normal band on both sides."""
    scaled: Model = kineticstoolkit["scaled"]  # type: ignore[assignment]
    start: float = kineticstoolkit["start"]  # type: ignore[assignment]
    pig_time = kineticstoolkit["pig_time"]
    pig = kineticstoolkit["pig_knee"]
    set_value = {
        side: float(np.interp(start, pig_time, pig[side]))  # type: ignore[arg-type, index]
        for side in ("r", "l")
    }
    settings = dataclasses.replace(plug_in_gait_placement(scaled), time_range=(start, start))
    settings = dataclasses.replace(
        settings,
        coordinate_tasks=settings.coordinate_tasks
        + pose_tasks({f"knee_angle_{s}": -v for s, v in set_value.items()}, 10.0),
    )
    result = place_markers(
        scaled,
        kineticstoolkit["static"],  # type: ignore[arg-type]
        kineticstoolkit["mapping"],  # type: ignore[arg-type]
        settings,
    )
    for side in ("r", "l"):
        knee = -result.coordinate(f"knee_angle_{side}")
        assert abs(knee - set_value[side]) < STATIC_KNEE_TOLERANCE, (side, knee, set_value)

    before, offset_before = _mid_stance_distance(scaled, kineticstoolkit, shared_data)
    after, offset_after = _mid_stance_distance(result.model, kineticstoolkit, shared_data)
    print(
        "\nmid-stance knee outside the normal band (deg), before -> after placement:",
        {s: f"{math.degrees(before[s]):.1f} -> {math.degrees(after[s]):.1f}" for s in before},
        "\nmean offset from Plug-in Gait (deg):",
        {s: f"{math.degrees(offset_before[s]):+.1f} -> {math.degrees(offset_after[s]):+.1f}"
         for s in before},
    )  # fmt: skip
    moved = sorted(result.moved, key=lambda m: -m.displacement)
    print(
        "largest displacements (mm):", [(m.name, round(1000 * m.displacement)) for m in moved[:6]]
    )
    for side in ("r", "l"):
        assert after[side] < before[side], side
        assert abs(offset_after[side]) < abs(offset_before[side]), side


def test_kineticstoolkit_default_plug_in_gait_placement_helps_too(
    kineticstoolkit: dict[str, object], shared_data: Path
) -> None:
    """Without any knee value: the anatomical markers alone (wands out of the fit, hip
    rotations held at 0) fix the static pose of the first frame, as the pipeline would do
    by default. Both knees still come nearer the normal band and Plug-in Gait."""
    scaled: Model = kineticstoolkit["scaled"]  # type: ignore[assignment]
    start: float = kineticstoolkit["start"]  # type: ignore[assignment]
    settings = dataclasses.replace(
        plug_in_gait_placement(scaled), time_range=(start, start), on_excess="warn"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no marker beyond the default limits
        result = place_markers(
            scaled,
            kineticstoolkit["static"],  # type: ignore[arg-type]
            kineticstoolkit["mapping"],  # type: ignore[arg-type]
            settings,
        )
    before, offset_before = _mid_stance_distance(scaled, kineticstoolkit, shared_data)
    after, offset_after = _mid_stance_distance(result.model, kineticstoolkit, shared_data)
    print(
        "\ndefault placement, mid-stance knee outside the band (deg):",
        {s: f"{math.degrees(before[s]):.1f} -> {math.degrees(after[s]):.1f}" for s in before},
        "offset from Plug-in Gait:",
        {s: f"{math.degrees(offset_before[s]):+.1f} -> {math.degrees(offset_after[s]):+.1f}"
         for s in before},
    )  # fmt: skip
    for side in ("r", "l"):
        assert after[side] < before[side], side
        assert abs(offset_after[side]) < abs(offset_before[side]), side
