"""Tests of gaitsim.capture.force_plates (ground reaction, centre of pressure, free
moment from C3D force platforms).

References: synthetic platforms of types 1-4 whose channels are generated from a known
wrench (the inverse of the C3D user guide's definitions, written here), rows of
OpenSim's reference tables for walking2/walking5 (``std_cop_walking*_grfs.sto``, which
``testC3DFileAdapter.cpp`` compares its output with), ezc3d's own platform extraction,
the platform outlines, the body-weight law and the Plug-in Gait ground reactions stored
in ``kineticstoolkit_walk.c3d``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from test_c3d import C3DSpec, Param, build_c3d

from gaitsim.capture.force_plates import (
    force_plates_from_c3d,
    plate_axes,
    plate_from_cop,
    plate_from_wrench,
)
from gaitsim.capture.ground_reactions import assign_feet
from gaitsim.capture.trial import read_c3d_trial, read_opensim_trial, trial_from_c3d
from gaitsim.errors import FileFormatError
from gaitsim.io.c3d import read_c3d

G = 9.80665

# ---------------------------------------------------------------------------------------
# The centre-of-pressure formula on known wrenches
# ---------------------------------------------------------------------------------------


def test_cop_and_free_moment_of_a_known_wrench() -> None:
    """A force F applied at p with free torque T n has moment (p - c) x F + T n about c;
    the plate recovers p and T n (any orientation of the surface)."""
    rng = np.random.default_rng(1)
    normal = np.array([0.3, 0.9, -0.2])
    normal /= np.linalg.norm(normal)
    centre = np.array([0.4, 0.01, -0.3])
    n = 50
    tangent = np.cross(normal, [1.0, 0.0, 0.0])
    tangent /= np.linalg.norm(tangent)
    other = np.cross(normal, tangent)
    offsets = rng.uniform(-0.2, 0.2, (n, 2))
    cop = centre + offsets[:, :1] * tangent + offsets[:, 1:] * other
    force = rng.normal(0, 80, (n, 3)) + 700 * normal
    torque = rng.normal(0, 5, n)
    moment = np.cross(cop - centre, force) + torque[:, None] * normal
    plate = plate_from_wrench("P", np.arange(n) * 0.001, force, moment, centre, normal)
    # double precision arithmetic on values of order 1: 1e-12 is a few hundred ulps
    np.testing.assert_allclose(plate.cop, cop, atol=1e-12)
    np.testing.assert_allclose(plate.free_moment, torque[:, None] * normal, atol=1e-10)


def test_cop_undefined_at_or_below_threshold() -> None:
    force = np.array([[0.0, 0.0, 19.9], [0.0, 0.0, 20.0], [0.0, 0.0, 20.1], [5, 0, -300.0]])
    moment = np.zeros((4, 3))
    plate = plate_from_wrench(
        "P", np.arange(4), force, moment, np.zeros(3), [0, 0, 1], threshold=20.0
    )
    assert plate.loaded.tolist() == [False, False, True, False]
    assert np.isnan(plate.cop[[0, 1, 3]]).all() and np.isnan(plate.free_moment[[0, 1, 3]]).all()
    np.testing.assert_allclose(plate.cop[2], [0, 0, 0], atol=1e-15)


def test_point_of_application_round_trip() -> None:
    """OpenSim records (force, point, torque) give back the same point and torque."""
    rng = np.random.default_rng(2)
    force = np.column_stack(
        [rng.normal(0, 50, 20), 600 + rng.normal(0, 50, 20), rng.normal(0, 20, 20)]
    )
    point = np.column_stack(
        [rng.uniform(0, 1, 20), np.full(20, -0.0075), rng.uniform(-0.2, 0.2, 20)]
    )
    torque = np.column_stack([np.zeros(20), rng.normal(0, 3, 20), np.zeros(20)])
    plate = plate_from_cop("R", np.arange(20), force, point, torque, [0, 1, 0])
    # the point is in the plane y = -0.0075 and the torque is vertical: exact recovery
    np.testing.assert_allclose(plate.cop, point, atol=1e-12)
    np.testing.assert_allclose(plate.free_moment, torque, atol=1e-10)


# ---------------------------------------------------------------------------------------
# Synthetic C3D platforms of types 1-4
# ---------------------------------------------------------------------------------------

# A platform 0.6 m x 0.4 m in a Z-up lab, plate x along lab -Y, y along lab -X (as in
# walking2.c3d), so plate z points down; corners in mm.
CORNERS_MM = np.array(
    [[300.0, 300.0, 0.0], [300.0, 700.0, 0.0], [900.0, 700.0, 0.0], [900.0, 300.0, 0.0]]
)


def _truth(n_frames: int, per_frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Known lab force (N), centre of pressure (m) and vertical free torque (N m); the
    first two frames unloaded (force zero)."""
    n = n_frames * per_frame
    s = np.linspace(0, 1, n)
    force = np.column_stack([60 * np.sin(6 * s), 30 * np.cos(5 * s), 400 + 300 * np.sin(3 * s)])
    cop = np.column_stack(
        [0.45 + 0.25 * s, 0.5 + 0.05 * np.sin(7 * s), np.zeros(n)]
    )  # inside the plate
    torque = 4.0 * np.sin(9 * s)
    force[: 2 * per_frame] = 0.0
    return force, cop, torque


def _channels(kind: int, force: np.ndarray, cop: np.ndarray, torque: np.ndarray,
              origin_mm: np.ndarray, cal: np.ndarray | None) -> np.ndarray:  # fmt: skip
    """Analog channels of a platform of ``kind`` measuring the given lab wrench."""
    corners = CORNERS_MM * 1e-3
    rotation = plate_axes(corners)  # plate -> lab
    centre = corners.mean(axis=0)
    normal = -rotation[:, 2]
    f_p = force @ rotation  # lab -> plate
    r_p = (cop - centre) @ rotation
    t_p = (torque[:, None] * normal) @ rotation
    m_c = np.cross(r_p, f_p) + t_p  # moment about the surface centre, plate axes
    if kind == 1:
        return np.column_stack([f_p, r_p[:, :2] * 1e3, t_p[:, 2] * 1e3])
    origin = origin_mm * 1e-3
    if kind in (2, 4):
        r = -origin if origin[2] > 0 else origin
        m_o = m_c - np.cross(f_p, r)
        wrench = np.column_stack([f_p, m_o * 1e3])  # N and N mm
        if kind == 4:
            assert cal is not None
            wrench = wrench @ np.linalg.inv(cal).T
        return wrench
    a, b, az0 = origin[0], origin[1], -abs(origin[2])
    m_o = m_c - np.cross(f_p, [0.0, 0.0, az0])
    fx, fy, fz = f_p.T
    mx, my, mz = m_o.T
    fy14 = fy / 2 + mz / (2 * a)  # Mz = a (Fy14 - Fy23) with Fx12 = Fx34
    fy23 = fy / 2 - mz / (2 * a)
    # Fz1..Fz4 from Fz, Mx = b(1+2-3-4), My = a(-1+2+3-4) and no twist (1-2+3-4 = 0)
    system = np.array([[1, 1, 1, 1], [b, b, -b, -b], [-a, a, a, -a], [1, -1, 1, -1]], float)
    fz_corners = np.linalg.solve(system, np.vstack([fz, mx, my, np.zeros_like(fz)])).T
    return np.column_stack([fx / 2, fx / 2, fy14, fy23, fz_corners])


def _platform_file(
    tmp_path: Path, kind: int, *, origin_mm: tuple[float, float, float] = (0.0, 0.0, -40.0),
    offsets: np.ndarray | None = None, zero: tuple[int, int] = (0, 0),
) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    n_frames, per_frame = 8, 5
    force, cop, torque = _truth(n_frames, per_frame)
    cal = None
    if kind == 4:
        rng = np.random.default_rng(4)
        cal = np.diag([500.0, 500.0, 1000.0, 2e5, 2e5, 1e5]) + rng.normal(0, 5.0, (6, 6))
    channels = _channels(kind, force, cop, torque, np.array(origin_mm), cal)
    if offsets is not None:
        channels = channels + offsets
    n_channels = channels.shape[1]
    units = {1: ["N"] * 3 + ["mm", "mm", "Nmm"], 2: ["N"] * 3 + ["Nmm"] * 3,
             3: ["N"] * 8, 4: ["V"] * 6}[kind]  # fmt: skip
    plate = {
        "USED": Param(2, 1),
        "TYPE": Param(2, [kind]),
        "ZERO": Param(2, list(zero)),
        "CORNERS": Param(4, CORNERS_MM.T.reshape(3, 4, 1)),
        "ORIGIN": Param(4, np.array(origin_mm).reshape(3, 1)),
        "CHANNEL": Param(2, np.arange(1, n_channels + 1).reshape(n_channels, 1)),
    }
    if cal is not None:
        plate["CAL_MATRIX"] = Param(4, cal.reshape(6, 6, 1))
    spec = C3DSpec(
        points=np.full((n_frames, 1, 3), 500.0),
        analogs=channels,
        rate=100.0,
        per_frame=per_frame,
        groups={"FORCE_PLATFORM": plate, "ANALOG": {"UNITS": Param(-1, units)}},
    )
    path = tmp_path / f"type{kind}.c3d"
    path.write_bytes(build_c3d(spec))
    return path, force, cop, torque


@pytest.mark.parametrize("kind", [1, 2, 3, 4])
def test_platform_types_recover_the_wrench(tmp_path: Path, kind: int) -> None:
    path, force, cop, torque = _platform_file(tmp_path, kind, origin_mm=(120.0, 80.0, -40.0))
    plate = read_c3d_trial(path, isolated=False).force_plates[0]
    loaded = force[:, 2] > 20
    assert plate.loaded.tolist() == loaded.tolist()
    # Channels are stored as float32 (relative 6e-8): forces of ~700 N agree to ~1e-4 N,
    # centres of pressure (moment / force, moments of ~300 N m in N mm) to ~1e-6 m.
    np.testing.assert_allclose(plate.force, force, atol=2e-3)
    np.testing.assert_allclose(plate.cop[loaded], cop[loaded], atol=1e-5)
    np.testing.assert_allclose(plate.free_moment[loaded, 2], torque[loaded], atol=1e-3)
    np.testing.assert_allclose(plate.free_moment[loaded, :2], 0.0, atol=1e-9)
    assert plate.corners is not None
    np.testing.assert_allclose(plate.corners, CORNERS_MM * 1e-3, atol=1e-9)
    np.testing.assert_allclose(plate.normal, [0.0, 0.0, 1.0], atol=1e-12)


@pytest.mark.parametrize("kind", [1, 2, 3, 4])
def test_platform_types_agree_with_ezc3d(tmp_path: Path, kind: int) -> None:
    """ezc3d's own force-platform module (extract_forceplat_data) on the same files."""
    import ezc3d

    path, force, cop, torque = _platform_file(tmp_path, kind, origin_mm=(120.0, 80.0, -40.0))
    plate = read_c3d_trial(path, isolated=False).force_plates[0]
    theirs = ezc3d.c3d(str(path), extract_forceplat_data=True)["data"]["platform"][0]
    loaded = plate.loaded
    np.testing.assert_allclose(plate.force, theirs["force"].T, atol=1e-9)
    np.testing.assert_allclose(
        plate.cop[loaded], theirs["center_of_pressure"].T[loaded] * 1e-3, atol=1e-9
    )
    if kind != 1:  # ezc3d's type-1 Tz is the raw channel, not the free moment vector
        np.testing.assert_allclose(
            plate.free_moment[loaded], theirs["Tz"].T[loaded] * 1e-3, atol=1e-9
        )


def test_positive_origin_z_is_the_opposite_vector(tmp_path: Path) -> None:
    """ORIGIN with a positive z (old AMTI convention) is read as the opposite vector,
    as Visual3D and ezc3d do; the synthetic channels were made with that reading."""
    path, force, cop, _ = _platform_file(tmp_path, 2, origin_mm=(5.0, -3.0, 40.0))
    plate = read_c3d_trial(path, isolated=False).force_plates[0]
    loaded = force[:, 2] > 20
    np.testing.assert_allclose(plate.cop[loaded], cop[loaded], atol=1e-5)


def test_zero_baseline_is_subtracted(tmp_path: Path) -> None:
    """FORCE_PLATFORM:ZERO frames 1-2 (unloaded): their mean channel offsets are removed."""
    offsets = np.array([3.0, -2.0, 15.0, 900.0, -700.0, 50.0])
    path, force, cop, _ = _platform_file(tmp_path, 2, offsets=offsets, zero=(1, 2))
    plate = read_c3d_trial(path, isolated=False).force_plates[0]
    loaded = force[:, 2] > 20
    np.testing.assert_allclose(plate.force, force, atol=2e-3)
    np.testing.assert_allclose(plate.cop[loaded], cop[loaded], atol=1e-5)
    # without ZERO the offsets stay and the centre of pressure is off by centimetres
    path, force, cop, _ = _platform_file(tmp_path, 2, offsets=offsets, zero=(0, 0))
    biased = read_c3d_trial(path, isolated=False).force_plates[0]
    assert np.nanmax(np.abs(biased.cop[loaded] - cop[loaded])) > 1e-3


def test_non_finite_platform_channel(tmp_path: Path) -> None:
    path, *_ = _platform_file(tmp_path, 2)
    raw = bytearray(path.read_bytes())
    content = read_c3d(path, isolated=False)
    # overwrite one analog sample of channel 3 (Fz) in the data section with NaN
    start = (content.header.data_block - 1) * 512
    frame_bytes = 4 * 4 + 5 * 6 * 4
    at = start + 3 * frame_bytes + 4 * 4 + 2 * 4
    raw[at : at + 4] = np.float32(np.nan).tobytes()
    path.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError, match=r"force platform 1: analog channel\(s\) \['A2'\]"):
        read_c3d_trial(path, isolated=False)


# ---------------------------------------------------------------------------------------
# The shared lab files
# ---------------------------------------------------------------------------------------

FILES = ("walking2", "walking5", "ezc3d_Qualisys", "ezc3d_BTS", "kineticstoolkit_walk")


@pytest.fixture(scope="module")
def contents(shared_data: Path) -> dict[str, object]:
    return {name: read_c3d(shared_data / "c3d" / f"{name}.c3d") for name in FILES}


# Rows of OpenSim's std_cop_walking2_grfs.sto and std_cop_walking5_grfs.sto
# (opensim-core OpenSim/Common/Test/): time; per plate force (N), centre of pressure (mm)
# and free moment about the vertical (N mm), in the lab frame.
OPENSIM_ROWS = {
    "walking2": [
        (2.738, [(-118.751823425293, 2.891590118408203, 688.3978881835938),
                 (739.8106388641366, 460.5611216446846), -923.2106921158629,
                 (40.14976119995117, -0.8445500135421753, 74.75754547119141),
                 (102.4268426284555, 576.6194435618709), -373.7674765263173]),
        (2.75, [(-141.8598022460938, 8.541312217712402, 760.3069458007813),
                (752.9288948838246, 460.5935837286054), -1408.885830309249,
                (18.2376708984375, -3.333750009536743, 22.3052806854248),
                (40.65424163056804, 602.9268192359617), -477.8162912776703]),
    ],
    "walking5": [
        (2.4, [(-157.7855682373047, 2.313271999359131, 629.99365234375),
               (1064.522718687107, 468.788271236932), -2651.992509562006,
               (-50.18720245361328, 13.64614963531494, 181.9274444580078),
               (514.6546199070842, 542.6406513633151), 116.9956283797724]),
        (2.42, [(-138.8709411621094, -12.72299671173096, 437.4176635742188),
                (1054.143534842949, 469.9872611986357), -2613.734942158779,
                (21.01589012145996, 22.18054962158203, 260.1701965332031),
                (489.0934848149845, 537.7402441076404), -1402.067901537212]),
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", ["walking2", "walking5"])
def test_opensim_reference_rows(contents: Mapping[str, object], name: str) -> None:
    plates = force_plates_from_c3d(contents[name], threshold=0.0)
    time = plates[0].time
    for t, (f1, p1, m1, f2, p2, m2) in OPENSIM_ROWS[name]:
        k = int(np.argmin(np.abs(time - t)))
        assert abs(time[k] - t) < 1e-9
        for plate, f, p, m in ((plates[0], f1, p1, m1), (plates[1], f2, p2, m2)):
            # the reference is printed with 16 significant digits of float64 results
            # computed from the same float32 channels: agreement to 1e-9 relative
            np.testing.assert_allclose(plate.force[k], f, rtol=1e-9)
            np.testing.assert_allclose(plate.cop[k, :2] * 1e3, p, rtol=1e-9)
            np.testing.assert_allclose(plate.cop[k, 2], 0.0, atol=1e-12)
            np.testing.assert_allclose(plate.free_moment[k, 2] * 1e3, m, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", FILES)
def test_shared_files_agree_with_ezc3d_platforms(
    shared_data: Path, contents: Mapping[str, object], name: str
) -> None:
    import ezc3d

    plates = force_plates_from_c3d(contents[name])
    theirs = ezc3d.c3d(str(shared_data / "c3d" / f"{name}.c3d"), extract_forceplat_data=True)
    for plate, reference in zip(plates, theirs["data"]["platform"], strict=True):
        loaded = plate.loaded
        np.testing.assert_allclose(plate.force, reference["force"].T, atol=1e-9)
        np.testing.assert_allclose(
            plate.moment, reference["moment"].T * 1e-3, atol=1e-9
        )  # ezc3d: about the surface centre too
        np.testing.assert_allclose(
            plate.cop[loaded], reference["center_of_pressure"].T[loaded] * 1e-3, atol=1e-9
        )
        np.testing.assert_allclose(
            plate.free_moment[loaded], reference["Tz"].T[loaded] * 1e-3, atol=1e-9
        )


@pytest.mark.parametrize("name", FILES)
def test_centre_of_pressure_inside_the_plates(contents: Mapping[str, object], name: str) -> None:
    """While loaded, the centre of pressure lies on the plate, within 5 mm of its
    outline (the corners are measured positions, good to a few millimetres).
    walking2/5 store their plates without baseline removal: at rest they read up to 26 N
    and 2.3 N m, which shift the centre of pressure by about (2.3 N m + 0.3 m * 26 N) / F,
    centimetres at light loads; they are checked above 500 N (70 % of body weight), the
    zeroed files above 50 N."""
    load = 500.0 if name.startswith("walking") else 50.0
    checked = 0
    for plate in force_plates_from_c3d(contents[name]):
        assert plate.corners is not None
        inside = plate.normal_force > load
        if not np.any(inside):
            continue
        axes = plate_axes(plate.corners)
        local = (plate.cop[inside] - plate.centre) @ axes
        half = np.abs((plate.corners - plate.centre) @ axes).max(axis=0)
        outside = np.maximum(np.abs(local[:, :2]) - half[:2], 0.0)
        assert outside.max() <= 0.005, f"{plate.name}: {outside.max():.4f} m outside"
        np.testing.assert_allclose(local[:, 2], 0.0, atol=1e-9)  # on the surface
        checked += int(np.sum(inside))
    assert checked > 900  # samples of at least one full plate contact at 2 kHz


def test_body_weight_over_a_stride(shared_data: Path) -> None:
    """Over one periodic stride the mean vertical ground reaction equals body weight
    (the centre of mass returns to the same vertical velocity). OpenSim's subject01
    (mass 72.6 kg, the sum of the scaled model's segment masses): a right stride from
    its foot strike at 0.618 s to the next at 1.853 s. 2 % allows for the stride's small
    change in vertical velocity and the data's processing; measured 0.4 %."""
    folder = shared_data / "opensim" / "gait10dof18musc"
    trial = read_opensim_trial(folder / "subject01_walk.trc", folder / "subject01_walk_grf.xml")
    time = trial.force_plates[0].time
    vertical = sum(p.force[:, 1] for p in trial.force_plates)
    stride = (time >= 0.618) & (time < 1.853)
    weight = 72.6 * G
    assert abs(vertical[stride].mean() / weight - 1.0) < 0.02
    # Double support: the centre of mass is decelerated at the bottom of its path, so
    # both feet together carry more than body weight on average.
    low, high = _winter_double_support(shared_data)
    right = trial.plate("right").force[:, 1] > 0.02 * weight
    left = trial.plate("left").force[:, 1] > 0.02 * weight
    assert low < vertical[right & left].mean() / weight < high


def _winter_double_support(shared_data: Path) -> tuple[float, float]:
    """Mean summed vertical force over double support (both feet above 2 % BW) in
    Winter's normal adult curves (the shared Winter_normal.csv), minus and plus one
    standard deviation of the sum (from the file's variances): 1.16 +- 0.18 BW."""
    from gaitsim.analysis.normative import load_normative

    winter = load_normative(shared_data / "normative" / "Winter_normal.csv")
    right, sd_right = winter.curve("grf_y_r")
    left, sd_left = winter.curve("grf_y_l")
    both = (right > 0.02) & (left > 0.02)
    mean = float((right + left)[both].mean())
    sd = float(np.sqrt(sd_right**2 + sd_left**2)[both].mean())
    return mean - sd, mean + sd


def test_double_support_in_kineticstoolkit_walk(
    shared_data: Path, contents: Mapping[str, object]
) -> None:
    """kineticstoolkit_walk: from left foot strike (2.2235 s) to the next (3.33 s), the
    file's events, every foot contact is on a plate, so the mean vertical force over that
    stride is the body weight the plates measure (the pelvis' vertical velocity is the
    same at both ends: the law holds to well under 1 %). Relative to that weight the
    mean vertical force over the double support after the left foot strike is within
    one standard deviation of Winter's normal value. The stored body mass
    (73.4 kg) is not used: the plates weigh the subject 13 % heavier (docs/capture.md)."""
    from gaitsim.signal import lowpass

    content = contents["kineticstoolkit_walk"]
    trial = trial_from_c3d(content)
    time = trial.force_plates[0].time
    vertical = sum(p.force[:, 2] for p in trial.force_plates)
    start, end = 2.2235, 3.33
    pelvis = np.mean([trial.markers.marker(n)[:, 2] for n in ("LASI", "RASI", "LPSI", "RPSI")], 0)
    speed = np.gradient(lowpass(trial.markers.time, pelvis, 6.0), trial.markers.time)
    change = np.interp(end, trial.markers.time, speed) - np.interp(start, trial.markers.time, speed)
    assert abs(change) / (G * (end - start)) < 0.01
    weight = vertical[(time >= start) & (time < end)].mean()
    # double support as in the normal curves: both feet above 2 % of body weight (the
    # left foot on FP2, the right on FP4)
    both = (trial.plate("FP2").force[:, 2] > 0.02 * weight) & (
        trial.plate("FP4").force[:, 2] > 0.02 * weight
    )
    assert np.sum(both) > 100  # 2.2235-2.364 s at 2 kHz, minus the ramps
    low, high = _winter_double_support(shared_data)
    assert low < vertical[both].mean() / weight < high


def test_plug_in_gait_ground_reactions(contents: Mapping[str, object]) -> None:
    """The file's Plug-in Gait outputs R/LGroundReactionForce (N/kg, lab frame) against
    the plates assigned to each foot, at the marker frames, over the clean contacts.
    Mismatches are at contact onsets, where the force rises by a few N/kg per 10 ms frame
    and the model output was sampled with another threshold; RMS 0.05 N/kg (0.5 % of
    body weight) and at most 0.3 N/kg (3 %)."""
    content = contents["kineticstoolkit_walk"]
    trial = trial_from_c3d(content)
    assignment = assign_feet(trial)
    mass = 73.4
    per_frame = content.header.analog_per_frame
    for side, output in (("r", "RGroundReactionForce"), ("l", "LGroundReactionForce")):
        stored = content.point_output(output).values
        mine = np.zeros((trial.force_plates[0].time.size, 3))
        covered = np.zeros(trial.force_plates[0].time.size, dtype=bool)
        for contact in assignment.assigned:
            if contact.side == side:
                rows = slice(contact.first, contact.last + 1)
                mine[rows] += trial.plate(contact.plate).force[rows]
                covered[rows] = True
        frames = covered[::per_frame] & np.all(np.isfinite(stored), axis=1)
        assert np.sum(frames) > 60
        difference = mine[::per_frame][frames] / mass - stored[frames]
        assert np.sqrt(np.mean(difference**2)) < 0.05
        assert np.abs(difference).max() < 0.3
