"""Tests of gaitsim.io.run_folder: a synthetic stride written to a run folder and read back."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import gaitsim
from gaitsim.analysis.normative import load_normative
from gaitsim.io import applied_loads, read_external_loads, read_storage
from gaitsim.io.run_folder import QUANTITIES, RunFiles, write_run
from gaitsim.simulate.result import WalkingResult

MASS = 72.0
WEIGHT = MASS * 9.80665
STRIDE = 1.1
N = 101
THRESHOLD_N = 0.02 * WEIGHT


def vertical_force(phase: np.ndarray) -> np.ndarray:
    """Two-humped vertical force (N) for a stance from 0 to 60 % of the stride."""
    s = phase / 0.6
    humps = 1.25 * (np.sin(np.pi * s) + 0.3 * np.sin(3 * np.pi * s))  # peaks 1.15, middle 0.875
    return np.where(phase < 0.6, humps, 0.0) * WEIGHT


def synthetic_result() -> WalkingResult:
    """A stride of gait2d: sinusoidal coordinates, muscles and a two-hump force per foot."""
    model = gaitsim.load_builtin("gait2d")
    coordinates = tuple(c.name for c in model.coordinates)
    muscles = tuple(m.name for m in model.muscles)
    time = np.linspace(0.0, STRIDE, N)
    phase = time / STRIDE
    omega = 2 * np.pi / STRIDE
    amplitude = np.linspace(0.1, 0.6, len(coordinates))
    offset = np.linspace(0.0, 2.0, len(coordinates))
    q = amplitude * np.sin(omega * time[:, None] + offset)
    qd = amplitude * omega * np.cos(omega * time[:, None] + offset)
    qdd = -amplitude * omega**2 * np.sin(omega * time[:, None] + offset)
    excitations = 0.5 + 0.4 * np.sin(omega * time[:, None] + np.arange(len(muscles)))
    grf: dict[str, np.ndarray] = {}
    cop: dict[str, np.ndarray] = {}
    for side, shift in (("r", 0.0), ("l", 0.5)):
        local = np.mod(phase - shift, 1.0)
        force = np.zeros((N, 3))
        force[:, 1] = vertical_force(local)
        force[:, 0] = 0.2 * WEIGHT * np.sin(2 * np.pi * local / 0.6) * (local < 0.6)
        point = np.column_stack([0.3 + 0.2 * local, np.zeros(N), np.full(N, 0.1)])
        point[force[:, 1] < THRESHOLD_N] = np.nan
        grf[side], cop[side] = force, point
    return WalkingResult(
        model_name="gait2d",
        kind="predictive",
        time=time,
        coordinate_names=coordinates,
        q=q,
        qd=qd,
        qdd=qdd,
        joint_moments=50 * q,
        muscle_names=muscles,
        excitations=excitations,
        activations=np.roll(excitations, 3, axis=0),
        tendon_forces=1000 * excitations,
        grf=grf,
        cop=cop,
        body_mass=MASS,
        speed=1.25,
        settings={"mesh_intervals": 50, "weights": np.array([1.0, 2.0]), "name": "test"},
        solver={"status": "Solve_Succeeded", "iterations": np.int64(412), "dual_inf": math.nan},
    )


@pytest.fixture(scope="module")
def result() -> WalkingResult:
    return synthetic_result()


@pytest.fixture(scope="module")
def run(result: WalkingResult, tmp_path_factory: pytest.TempPathFactory) -> RunFiles:
    return write_run(result, tmp_path_factory.mktemp("runs") / "run1")


def test_every_file_is_written(run: RunFiles) -> None:
    names = {p.relative_to(run.folder).as_posix() for p in run.folder.rglob("*") if p.is_file()}
    expected = {"states.sto", "controls.sto", "grf.mot", "grf.xml", "table.parquet", "run.json"}
    figures = {
        f"figures/{name}.{ext}"
        for name in ("joint_angles", "joint_moments", "ground_reaction_forces", "activations")
        for ext in ("png", "svg")
    }
    assert names == expected | figures
    assert {p.relative_to(run.folder).as_posix() for p in run.all()} == names
    assert all(p.stat().st_size > 0 for p in run.all())


def test_states_read_back(run: RunFiles, result: WalkingResult) -> None:
    table = read_storage(run.states)
    coordinates = list(result.coordinate_names)
    activations = [f"{m}_activation" for m in result.muscle_names]
    assert list(table.labels) == coordinates + [f"{c}_u" for c in coordinates] + activations
    assert not table.in_degrees
    np.testing.assert_allclose(table.time, result.time, rtol=1e-11, atol=1e-14)
    n_q = len(coordinates)
    np.testing.assert_allclose(table.data[:, :n_q], result.q, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(table.data[:, n_q : 2 * n_q], result.qd, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(table.data[:, 2 * n_q :], result.activations, rtol=1e-11)
    controls = read_storage(run.controls)
    assert controls.labels == result.muscle_names
    np.testing.assert_allclose(controls.data, result.excitations, rtol=1e-11)


def test_grf_read_back(run: RunFiles, result: WalkingResult) -> None:
    table = read_storage(run.grf_mot)
    assert table.labels[:9] == (
        "ground_force_r_vx", "ground_force_r_vy", "ground_force_r_vz",
        "ground_force_r_px", "ground_force_r_py", "ground_force_r_pz",
        "ground_torque_r_x", "ground_torque_r_y", "ground_torque_r_z",
    )  # fmt: skip
    assert len(table.labels) == 18 and not np.isnan(table.data).any()
    loads = read_external_loads(run.grf_xml)
    assert loads.resolve_datafile(run.grf_xml) == run.grf_mot
    applied = {load.name: load for load in applied_loads(loads, table)}
    assert set(applied) == {"right", "left"}
    for side, name in (("r", "right"), ("l", "left")):
        load = applied[name]
        assert load.body == f"calcn_{side}"
        assert load.force_frame == load.point_frame == "ground"
        np.testing.assert_allclose(load.force, result.grf[side], rtol=1e-11, atol=1e-9)
        expected_point = np.nan_to_num(result.cop[side], nan=0.0)
        np.testing.assert_allclose(load.point, expected_point, rtol=1e-11, atol=1e-14)
        assert np.isnan(result.cop[side]).any()  # the zeros above replaced NaN
        assert not load.torque.any()


def test_parquet_table(run: RunFiles, result: WalkingResult) -> None:
    table = pq.read_table(run.table)
    assert table.column_names == ["time", "percent", "quantity", "name", "value", "unit"]
    n_q, n_m = len(result.coordinate_names), len(result.muscle_names)
    assert table.num_rows == N * (4 * n_q + 3 * n_m + 2 * 6)
    assert table.schema.metadata[b"model"] == b"gait2d"
    data = table.to_pydict()
    # The synthetic result has no per-sphere contact forces.
    assert set(data["quantity"]) == set(QUANTITIES) - {"contact_force"}
    quantity = np.array(data["quantity"])
    name = np.array(data["name"])
    value = np.array(data["value"])
    unit = np.array(data["unit"])

    def series(q: str, n: str) -> np.ndarray:
        mask = (quantity == q) & (name == n)
        assert mask.sum() == N
        return value[mask]

    knee = result.coordinate_names.index("knee_angle_r")
    assert series("coordinate", "knee_angle_r") == pytest.approx(result.q[:, knee])
    assert series("acceleration", "knee_angle_r") == pytest.approx(result.qdd[:, knee])
    assert series("tendon_force", "soleus_r") == pytest.approx(
        result.tendon_forces[:, result.muscle_names.index("soleus_r")]
    )
    assert series("grf", "grf_y_l") == pytest.approx(result.grf["l"][:, 1])
    cop = series("cop", "cop_x_r")
    assert np.array_equal(np.isnan(cop), np.isnan(result.cop["r"][:, 0]))
    assert set(unit[(quantity == "coordinate") & (name == "pelvis_tx")]) == {"m"}
    assert set(unit[(quantity == "coordinate") & (name == "knee_angle_r")]) == {"rad"}
    assert set(unit[(quantity == "moment") & (name == "knee_angle_r")]) == {"N m"}
    assert set(unit[quantity == "activation"]) == {""}
    mask = (quantity == "speed") & (name == "hip_flexion_l")
    assert np.array(data["time"])[mask] == pytest.approx(result.time)
    assert np.array(data["percent"])[mask] == pytest.approx(np.linspace(0, 100, N))


def test_run_json(run: RunFiles, result: WalkingResult) -> None:
    record = json.loads(run.run_json.read_text())
    assert record["gaitsim_version"] == gaitsim.__version__
    assert record["model"] == "gait2d" and record["kind"] == "predictive"
    assert record["settings"] == {"mesh_intervals": 50, "weights": [1.0, 2.0], "name": "test"}
    assert record["solver"] == {"status": "Solve_Succeeded", "iterations": 412, "dual_inf": None}
    assert set(record["files"]) == {p.relative_to(run.folder).as_posix() for p in run.all()}
    summary = record["summary"]
    assert summary["stride_time_s"] == pytest.approx(STRIDE)
    assert summary["stance_percent"]["r"] == pytest.approx(60, abs=1.5)
    assert summary["stance_percent"]["l"] == pytest.approx(60, abs=1.5)
    peaks = summary["vertical_grf_peaks_bw"]["r"]
    assert peaks["first"] == pytest.approx(1.15, abs=0.01)
    assert peaks["second"] == pytest.approx(1.15, abs=0.01)
    assert peaks["first_percent_of_stance"] == pytest.approx(26, abs=3)
    assert peaks["second_percent_of_stance"] == pytest.approx(74, abs=3)
    assert summary["problems"] == []
    assert record["normative"] is None


def test_figures_are_images(run: RunFiles) -> None:
    for path in run.figures:
        head = path.read_bytes()[:8]
        if path.suffix == ".png":
            assert head == b"\x89PNG\r\n\x1a\n"
            assert path.stat().st_size > 10_000
        else:
            assert path.read_text().lstrip().startswith("<?xml")


def test_refuses_to_overwrite(run: RunFiles, result: WalkingResult) -> None:
    with pytest.raises(FileExistsError, match=str(run.folder)):
        write_run(result, run.folder)


def test_overwrite_and_empty_folder(result: WalkingResult, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    files = write_run(result, folder, figure_formats=("png",))  # an empty folder is fine
    assert {p.suffix for p in files.figures} == {".png"}
    (folder / "notes.txt").write_text("mine")
    files = write_run(result, folder, overwrite=True, figure_formats=("png",))
    assert (folder / "notes.txt").read_text() == "mine"
    assert files.states.is_file()
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        write_run(result, not_a_folder, overwrite=True)


def test_with_normative(result: WalkingResult, shared_data: Path, tmp_path: Path) -> None:
    winter = load_normative(shared_data / "normative" / "Winter_normal.csv")
    files = write_run(result, tmp_path / "run", normative=winter, figure_formats=("png",))
    record = json.loads(files.run_json.read_text())
    assert record["normative"]["name"] == winter.name
    correlations = record["summary"]["correlations"]
    assert set(correlations) == set(winter.variables)
    assert all(-1.0 <= r <= 1.0 for r in correlations.values())


def test_inconsistent_result_is_refused(result: WalkingResult, tmp_path: Path) -> None:
    bad = WalkingResult(**{**result.__dict__, "qd": result.qd[:, :3]})
    with pytest.raises(ValueError, match="qd"):
        write_run(bad, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


@pytest.mark.opensim
@pytest.mark.skipif(find_spec("opensim") is None, reason="opensim is not installed")
def test_opensim_reads_the_run_files(run: RunFiles, result: WalkingResult) -> None:
    # opensim and casadi cannot share a process: read the files in a separate one.
    script = textwrap.dedent(
        f"""
        import json
        import opensim

        out = {{}}
        for key, path in (("states", {str(run.states)!r}), ("grf", {str(run.grf_mot)!r})):
            storage = opensim.Storage(path)
            labels = storage.getColumnLabels()
            columns = {{}}
            for label in ("knee_angle_r", "knee_angle_r_u", "soleus_r_activation",
                          "ground_force_l_vy", "ground_force_r_px"):
                if labels.findIndex(label) >= 0:
                    column = opensim.ArrayDouble()
                    storage.getDataColumn(label, column)
                    columns[label] = [column.get(i) for i in range(column.getSize())]
            out[key] = {{
                "rows": storage.getSize(),
                "labels": [labels.get(i) for i in range(labels.getSize())],
                "in_degrees": storage.isInDegrees(),
                "columns": columns,
            }}
        loads = opensim.ExternalLoads({str(run.grf_xml)!r}, True)
        out["loads"] = [loads.get(i).getName() for i in range(loads.getSize())]
        out["datafile"] = loads.getDataFileName()
        print("OUT" + json.dumps(out))
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr
    line = next(x for x in completed.stdout.splitlines() if x.startswith("OUT"))
    out = json.loads(line[3:])
    states, grf = out["states"], out["grf"]
    assert states["rows"] == N and grf["rows"] == N
    assert not states["in_degrees"]
    assert states["labels"][0] == "time" and len(states["labels"]) == 1 + 20 + 18
    knee = result.coordinate_names.index("knee_angle_r")
    np.testing.assert_allclose(states["columns"]["knee_angle_r"], result.q[:, knee], rtol=1e-10)
    np.testing.assert_allclose(states["columns"]["knee_angle_r_u"], result.qd[:, knee], rtol=1e-10)
    soleus = result.activations[:, result.muscle_names.index("soleus_r")]
    np.testing.assert_allclose(states["columns"]["soleus_r_activation"], soleus, rtol=1e-10)
    assert len(grf["labels"]) == 19
    np.testing.assert_allclose(
        grf["columns"]["ground_force_l_vy"], result.grf["l"][:, 1], atol=1e-8
    )
    np.testing.assert_allclose(
        grf["columns"]["ground_force_r_px"], np.nan_to_num(result.cop["r"][:, 0]), atol=1e-12
    )
    assert out["loads"] == ["right", "left"] and out["datafile"] == "grf.mot"
