"""Tests of gaitsim.io.storage (OpenSim .sto/.mot files)."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gaitsim.errors import FileFormatError
from gaitsim.io import TimeSeriesTable, read_storage, write_storage

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Small valid files in the styles found in practice (written for these tests).
OLD_STYLE = """\
Coordinates
version=1
nRows=3
nColumns=4
inDegrees=yes

Units are S.I. units (second, meters, Newtons, ...)
Angles are in degrees.

endheader
time\tknee\tankle\tpelvis_tx
      0.00000000\t     10.5\t     -3.25\t      0.125
      0.01000000\t     11.0\t     -3.00\t      0.130
      0.02000000\t     11.5\t     nan\t      0.135
"""
NEW_STYLE = """\

DataType=double
version=3
OpenSimVersion=4.3
endheader
time\tsoleus\tgastroc
0.5\t0.01\t0.02
0.5005\t0.015\t0.025
"""
NO_NAME = """\
version=1\t\t\t
nRows=2\t\t\t
nColumns=3\t\t\t
inDegrees=no\t\t\t
endheader\t\t\t
time\t/jointset/hip/flexion/value\t/jointset/knee/angle/value
0\t-0.26\t0.88
0.0096\t-0.25\t0.87
"""
VALID_FILES = (OLD_STYLE, NEW_STYLE, NO_NAME)

REAL_FILES = {
    # relative path: (rows, labels, in_degrees, name)
    "opensim/gait10dof18musc/reference_subject01_walk_IK.mot": (151, 10, True, "Coordinates"),
    "opensim/gait10dof18musc/reference_subject01_walk_ID.sto": (
        151,
        10,
        False,
        "Inverse Dynamics Generalized Forces",
    ),
    "opensim/gait10dof18musc/subject01_walk_grf.mot": (
        1501,
        18,
        True,
        "subject01_walk1_grf.mot",
    ),
    "opensim/gait10dof18musc/reference_cmc_walk_subject_controls.sto": (
        4416,
        28,
        False,
        "controls",
    ),
    "opensim/gait10dof18musc/reference_cmc_walk_subject_Actuation_force.sto": (
        4416,
        28,
        False,
        "ActuatorForces",
    ),
    "opensim/moco_2d_walking/referenceCoordinates.sto": (50, 10, False, ""),
    "opensim/moco_2d_walking/referenceGRF.sto": (50, 18, False, ""),
    "opensim/rajagopal_walk/mocoEMGTracking_coordinates.mot": (238, 39, True, "Coordinates"),
    "opensim/rajagopal_walk/mocoEMGTracking_emg.sto": (2341, 8, False, ""),
    "opensim/rajagopal_walk/mocoEMGTracking_grf.mot": (4778, 18, False, "ground_reaction_forces"),
}


def write(tmp_path: Path, content: str | bytes, name: str = "data.sto") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def make_table(**overrides: object) -> TimeSeriesTable:
    fields: dict[str, object] = {
        "name": "test",
        "labels": ("hip_flexion_r", "knee_angle_r", "pelvis_tx"),
        "time": np.array([0.0, 0.01, 0.02, 0.03]),
        "data": np.arange(12.0).reshape(4, 3) * 10.0,
        "in_degrees": True,
        "metadata": {},
    }
    fields.update(overrides)
    return TimeSeriesTable(**fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("relative", sorted(REAL_FILES))
def test_real_files(shared_data: Path, relative: str, tmp_path: Path) -> None:
    rows, n_labels, in_degrees, name = REAL_FILES[relative]
    table = read_storage(shared_data / relative)
    assert table.data.shape == (rows, n_labels)
    assert table.time.shape == (rows,)
    assert table.in_degrees is in_degrees
    assert table.name == name
    assert len(set(table.labels)) == n_labels
    assert np.all(np.diff(table.time) > 0)

    # Round trip through our writer.
    out = tmp_path / Path(relative).name
    write_storage(table, out)
    again = read_storage(out)
    assert again.labels == table.labels
    assert again.name == table.name
    assert again.in_degrees == table.in_degrees
    assert again.metadata == table.metadata
    np.testing.assert_allclose(again.time, table.time, rtol=1e-9, atol=0)
    np.testing.assert_allclose(again.data, table.data, rtol=1e-9, atol=1e-300)


def test_real_ik_content(shared_data: Path) -> None:
    table = read_storage(shared_data / "opensim/gait10dof18musc/reference_subject01_walk_IK.mot")
    assert table.labels[:3] == ("pelvis_tilt", "pelvis_tx", "pelvis_ty")
    assert table.time[0] == 0.0 and table.time[-1] == pytest.approx(2.5)
    assert table.column("pelvis_tilt")[0] == pytest.approx(10.32995988)
    assert table.column("lumbar_extension")[-1] == pytest.approx(-15.92098183)
    assert "Angles are in degrees." in table.metadata["description"]
    radians = table.with_radians(["pelvis_tilt", "hip_flexion_r"])
    assert not radians.in_degrees
    assert radians.column("pelvis_tilt")[0] == pytest.approx(math.radians(10.32995988))
    assert radians.column("pelvis_tx")[0] == pytest.approx(0.61213494)  # untouched


def test_real_new_style_header(shared_data: Path) -> None:
    table = read_storage(shared_data / "opensim/rajagopal_walk/mocoEMGTracking_emg.sto")
    assert table.metadata["DataType"] == "double"
    assert table.metadata["OpenSimVersion"].startswith("4.3")
    assert "version" not in table.metadata
    assert table.time[0] == pytest.approx(0.83)


def test_real_grf_columns(shared_data: Path) -> None:
    table = read_storage(shared_data / "opensim/gait10dof18musc/subject01_walk_grf.mot")
    assert table.labels[:3] == ("ground_force_vx", "ground_force_vy", "ground_force_vz")
    assert "1_ground_torque_z" in table.labels
    assert table.column("ground_force_vy")[0] == pytest.approx(745.4661142)


# ---------------------------------------------------------------------------------------
# Valid synthetic files
# ---------------------------------------------------------------------------------------


def test_old_style_header(tmp_path: Path) -> None:
    table = read_storage(write(tmp_path, OLD_STYLE))
    assert table.name == "Coordinates"
    assert table.labels == ("knee", "ankle", "pelvis_tx")
    assert table.in_degrees
    np.testing.assert_array_equal(table.time, [0.0, 0.01, 0.02])
    assert table.data[0].tolist() == [10.5, -3.25, 0.125]
    assert math.isnan(table.data[2, 1])
    assert table.metadata == {
        "description": "Units are S.I. units (second, meters, Newtons, ...)\nAngles are in degrees."
    }


def test_new_style_header(tmp_path: Path) -> None:
    table = read_storage(write(tmp_path, NEW_STYLE))
    assert table.name == ""
    assert table.metadata == {"DataType": "double", "OpenSimVersion": "4.3"}
    assert not table.in_degrees
    assert table.data.shape == (2, 2)


def test_header_without_name_line(tmp_path: Path) -> None:
    table = read_storage(write(tmp_path, NO_NAME))
    assert table.name == ""
    assert table.labels == ("/jointset/hip/flexion/value", "/jointset/knee/angle/value")


def test_crlf_bom_and_blank_delimiters(tmp_path: Path) -> None:
    text = "\ufeffname\r\nversion=1\r\nendheader\r\ntime a b\r\n0 1 2\r\n1   3   4\r\n\r\n"
    table = read_storage(write(tmp_path, text))
    assert table.name == "name"
    assert table.labels == ("a", "b")
    np.testing.assert_array_equal(table.data, [[1, 2], [3, 4]])


def test_equal_times_are_allowed(tmp_path: Path) -> None:
    table = read_storage(write(tmp_path, "x\nendheader\ntime\ta\n0\t1\n0\t2\n1\t3\n"))
    np.testing.assert_array_equal(table.time, [0, 0, 1])


def test_exotic_nan_in_data(tmp_path: Path) -> None:
    table = read_storage(write(tmp_path, "x\nendheader\ntime\ta\tb\n0\t-nan(ind)\tNaN\n"))
    assert np.isnan(table.data).all()


# ---------------------------------------------------------------------------------------
# Malformed files: the error names the right line
# ---------------------------------------------------------------------------------------

MALFORMED: dict[str, tuple[str, int, str]] = {
    "missing endheader": ("name\nversion=1\ntime\ta\n0\t1\n", 4, "endheader"),
    "nRows mismatch": (
        "name\nversion=1\nnRows=3\nnColumns=2\nendheader\ntime\ta\n0\t1\n1\t2\n",
        3,
        "nRows=3",
    ),
    "nColumns mismatch": ("name\nnColumns=3\nendheader\ntime\ta\n0\t1\n", 2, "nColumns=3"),
    "bad nRows": ("name\nnRows=ten\nendheader\ntime\ta\n0\t1\n", 2, "nRows"),
    "huge nRows": ("name\nnRows=" + "9" * 5000 + "\nendheader\ntime\ta\n0\t1\n", 2, "nRows"),
    "bad inDegrees": ("name\ninDegrees=maybe\nendheader\ntime\ta\n0\t1\n", 2, "inDegrees"),
    "repeated key": ("name\nnRows=1\nnRows=1\nendheader\ntime\ta\n0\t1\n", 3, "repeated"),
    "unsupported DataType": ("\nDataType=Vec3\nendheader\ntime\ta\n0\t1\n", 2, "DataType"),
    "non-numeric value": (
        "name\nendheader\ntime\tknee\tankle\n0\t1\t2\n1\t2\tabc\n",
        5,
        "'ankle'",
    ),
    "underscore number": ("name\nendheader\ntime\ta\n0\t1_000\n", 4, "'a'"),
    "non-ASCII digit": ("name\nendheader\ntime\ta\n0\t\u0661\n", 4, "not a number"),
    "row too short": ("name\nendheader\ntime\ta\tb\n0\t1\t2\n1\t2\n", 5, "2 values"),
    "row too long": ("name\nendheader\ntime\ta\n0\t1\n1\t2\t3\n", 5, "3 values"),
    "decreasing time": ("name\nendheader\ntime\ta\n0\t1\n2\t1\n1\t1\n", 6, "decreases"),
    "nan time": ("name\nendheader\ntime\ta\n0\t1\nnan\t1\n", 5, "not finite"),
    "infinite time": ("name\nendheader\ntime\ta\n0\t1\ninf\t1\n", 5, "not finite"),
    "overflowing time": ("name\nendheader\ntime\ta\n1e999\t1\n", 4, "not finite"),
    "empty data": ("name\nendheader\ntime\ta\n\n\n", 3, "no data rows"),
    "no labels": ("name\nendheader\n", 2, "no column labels follow"),
    "duplicate labels": ("name\nendheader\ntime\ta\tb\ta\n0\t1\t2\t3\n", 3, "duplicate"),
    "time repeated": ("name\nendheader\ntime\ta\tTime\n0\t1\t2\n", 3, "duplicate"),
    "first label not time": ("name\nendheader\nt\ta\n0\t1\n", 3, "'time'"),
    "empty label": ("name\nendheader\ntime\t\ta\n0\t1\n", 3, "empty"),
    "blank line inside data": ("name\nendheader\ntime\ta\n0\t1\n\n1\t2\n", 5, "blank line"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_line_numbers(tmp_path: Path, case: str) -> None:
    text, line, fragment = MALFORMED[case]
    path = write(tmp_path, text)
    with pytest.raises(FileFormatError) as info:
        read_storage(path)
    assert info.value.line == line, str(info.value)
    assert fragment in info.value.problem
    assert str(path) in str(info.value)


def test_invalid_utf8_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"name\nendheader\ntime\ta\n0\t1\n1\t\xff\n")
    with pytest.raises(FileFormatError, match="UTF-8") as info:
        read_storage(path)
    assert info.value.line == 5


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_storage(tmp_path / "absent.sto")


# ---------------------------------------------------------------------------------------
# TimeSeriesTable
# ---------------------------------------------------------------------------------------


def test_table_is_immutable() -> None:
    table = make_table()
    with pytest.raises(AttributeError):
        table.name = "other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        table.data[0, 0] = 1.0
    with pytest.raises(ValueError):
        table.time[0] = 1.0


def test_column_and_lookup_error() -> None:
    table = make_table()
    np.testing.assert_array_equal(table.column("knee_angle_r"), [10, 40, 70, 100])
    np.testing.assert_array_equal(table.column("time"), table.time)
    with pytest.raises(LookupError, match="knee_angle_r") as info:
        table.column("knee_angle")
    assert not isinstance(info.value, KeyError)


def test_select() -> None:
    table = make_table()
    selected = table.select(["pelvis_tx", "hip_flexion_r"])
    assert selected.labels == ("pelvis_tx", "hip_flexion_r")
    np.testing.assert_array_equal(selected.data[:, 0], table.column("pelvis_tx"))
    assert selected.select("hip_flexion_r").labels == ("hip_flexion_r",)
    with pytest.raises(LookupError):
        table.select(["nope"])
    with pytest.raises(ValueError, match="repeated"):
        table.select(["pelvis_tx", "pelvis_tx"])


def test_with_radians() -> None:
    table = make_table()
    radians = table.with_radians(["hip_flexion_r", "knee_angle_r"])
    assert not radians.in_degrees
    np.testing.assert_allclose(radians.column("knee_angle_r"), np.deg2rad([10, 40, 70, 100]))
    np.testing.assert_array_equal(radians.column("pelvis_tx"), table.column("pelvis_tx"))
    assert radians.with_radians(["knee_angle_r"]) is radians  # already in radians
    with pytest.raises(LookupError):
        table.with_radians(["kne_angle_r"])


@pytest.mark.parametrize(
    "overrides",
    [
        {"labels": ("a", "a", "b")},
        {"labels": ("a", "b", " c")},
        {"labels": ("a", "b\tc", "d")},
        {"labels": ("a", "Time", "d")},
        {"data": np.zeros((3, 3))},
        {"time": np.array([0.0, 1.0, 0.5, 2.0])},
        {"time": np.array([0.0, 1.0, np.nan, 2.0])},
    ],
)
def test_invalid_tables(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_table(**overrides)


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


def test_written_header(tmp_path: Path) -> None:
    table = make_table(metadata={"DataType": "double", "description": "line one\n\nline two"})
    path = tmp_path / "out.mot"
    write_storage(table, path)
    lines = path.read_text().split("\n")
    assert lines[:8] == [
        "test",
        "version=1",
        "nRows=4",
        "nColumns=4",
        "inDegrees=yes",
        "DataType=double",
        "line one",
        "",
    ]
    assert lines[9:11] == ["endheader", "time\thip_flexion_r\tknee_angle_r\tpelvis_tx"]
    assert lines[11] == "0\t0\t10\t20"
    again = read_storage(path)
    assert again.metadata == table.metadata


def test_write_precision(tmp_path: Path) -> None:
    table = make_table(data=np.full((4, 3), 1.0 / 3.0))
    path = tmp_path / "out.sto"
    write_storage(table, path)
    assert "0.3333333333\t" in path.read_text()
    write_storage(table, path, precision=17)
    np.testing.assert_array_equal(read_storage(path).data, table.data)


@pytest.mark.parametrize(
    "table",
    [
        make_table(time=np.zeros(0), data=np.zeros((0, 3))),
        make_table(name="a=b"),
        make_table(name="two\nlines"),
        make_table(metadata={"bad key": "x"}),
        make_table(metadata={"DataType": "Vec3"}),
        make_table(metadata={"description": "nRows=5"}),
    ],
)
def test_write_refuses_unwritable_tables(tmp_path: Path, table: TimeSeriesTable) -> None:
    with pytest.raises(ValueError):
        write_storage(table, tmp_path / "out.sto")


_LABEL = st.from_regex(r"[A-Za-z_/][A-Za-z0-9_./ ]{0,12}[A-Za-z0-9_]", fullmatch=True)
_FINITE = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)
_VALUE = st.one_of(_FINITE, st.just(math.nan), st.just(math.inf), st.just(-math.inf))


@st.composite
def tables(draw: st.DrawFn) -> TimeSeriesTable:
    labels = draw(
        st.lists(_LABEL.filter(lambda label: label.lower() != "time"), max_size=5, unique=True)
    )
    n = draw(st.integers(1, 6))
    steps = draw(hnp.arrays(np.float64, n - 1, elements=st.floats(0, 10)))
    time = draw(st.floats(-100, 100)) + np.concatenate([[0.0], np.cumsum(steps)])
    data = draw(hnp.arrays(np.float64, (n, len(labels)), elements=_VALUE))
    metadata = draw(
        st.dictionaries(
            st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
                lambda k: (
                    k.lower() not in ("version", "nrows", "ncolumns", "indegrees")
                    and k.lower() not in ("datatype", "description")
                )
            ),
            st.from_regex(r"[A-Za-z0-9_.=\-]{0,10}", fullmatch=True),
            max_size=3,
        )
    )
    return TimeSeriesTable(
        name=draw(
            st.from_regex(r"([A-Za-z][A-Za-z0-9 _.]{0,10}[A-Za-z0-9])?", fullmatch=True).filter(
                lambda name: name != "endheader"
            )
        ),
        labels=tuple(labels),
        time=time,
        data=data,
        in_degrees=draw(st.booleans()),
        metadata=metadata,
    )


@settings(max_examples=100, deadline=None)
@given(table=tables())
def test_round_trip_property(fuzz_dir: Path, table: TimeSeriesTable) -> None:
    path = fuzz_dir / "round_trip.sto"
    write_storage(table, path)
    again = read_storage(path)
    assert again.name == table.name
    assert again.labels == table.labels
    assert again.in_degrees == table.in_degrees
    assert again.metadata == table.metadata
    np.testing.assert_allclose(again.time, table.time, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(again.data, table.data, rtol=1e-9, atol=1e-300)


# ---------------------------------------------------------------------------------------
# Fuzzing: only FileFormatError may come out of the reader
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("storage_fuzz")


def read_or_format_error(path: Path, content: bytes) -> TimeSeriesTable | None:
    path.write_bytes(content)
    try:
        table = read_storage(path)
    except FileFormatError as error:
        n_lines = content.count(b"\n") + content.count(b"\r") + 1
        assert error.line is None or 1 <= error.line <= n_lines
        return None
    assert table.data.shape == (table.time.shape[0], len(table.labels))
    assert table.time.shape[0] > 0
    assert np.all(np.isfinite(table.time)) and np.all(np.diff(table.time) >= 0)
    return table


@FUZZ
@given(content=st.binary(max_size=600))
def test_fuzz_random_bytes(fuzz_dir: Path, content: bytes) -> None:
    read_or_format_error(fuzz_dir / "random.sto", content)


@FUZZ
@given(content=st.binary(max_size=200))
def test_fuzz_random_bytes_after_header(fuzz_dir: Path, content: bytes) -> None:
    read_or_format_error(fuzz_dir / "tail.sto", b"name\nendheader\ntime\ta\tb\n" + content)


@FUZZ
@given(base=st.sampled_from(VALID_FILES), data=st.data())
def test_fuzz_corrupted_valid_files(
    fuzz_dir: Path, corrupt: Callable[[st.DataObject, bytes], bytes], base: str, data: st.DataObject
) -> None:
    read_or_format_error(fuzz_dir / "corrupted.sto", corrupt(data, base.encode()))


# ---------------------------------------------------------------------------------------
# OpenSim as an independent oracle (separate process)
# ---------------------------------------------------------------------------------------


@pytest.mark.opensim
@pytest.mark.skipif(find_spec("opensim") is None, reason="opensim is not installed")
def test_opensim_reads_written_file(tmp_path: Path) -> None:
    with_nan = tmp_path / "with_nan.sto"
    write_storage(make_table(data=[[1.5, np.nan, 3], [4, 5, 6], [7, 8, 9], [1, 2, 3]]), with_nan)
    plain = tmp_path / "plain.mot"
    write_storage(make_table(), plain)
    script = textwrap.dedent(
        f"""
        import opensim
        t = opensim.TimeSeriesTable({str(with_nan)!r})
        labels = list(t.getColumnLabels())
        print("OUT", labels, t.getNumRows(), t.getTableMetaDataAsString("inDegrees"))
        print("OUT", list(t.getIndependentColumn()), t.getMatrix().to_numpy().tolist())
        # The legacy Storage class (used by OpenSim's tools) cannot read NaN at all.
        s = opensim.Storage({str(plain)!r})
        column = opensim.ArrayDouble()
        s.getDataColumn("pelvis_tx", column)
        print("OUT", s.getSize(), s.isInDegrees(), [column.get(i) for i in range(4)])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    lines = [line[4:] for line in result.stdout.splitlines() if line.startswith("OUT ")]
    assert lines[0] == "['hip_flexion_r', 'knee_angle_r', 'pelvis_tx'] 4 yes"
    assert lines[1] == (
        "[0.0, 0.01, 0.02, 0.03] [[1.5, nan, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], "
        "[1.0, 2.0, 3.0]]"
    )
    assert lines[2] == "4 True [20.0, 50.0, 80.0, 110.0]"
