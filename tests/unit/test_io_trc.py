"""Tests of gaitsim.io.trc (TRC marker files)."""

from __future__ import annotations

import json
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
from gaitsim.io import MarkerTable, read_trc, write_trc

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADER_KEYS = (
    "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
    "OrigDataStartFrame\tOrigNumFrames"
)
# Small valid files written for these tests, in the layout of common TRC exporters.
STANDARD = f"""\
PathFileType\t4\t(X/Y/Z)\tsmall.trc
{HEADER_KEYS}
100.00\t100.00\t       3\t2\tmm\t100.00\t1\t       3
Frame#\tTime\tR.ASIS\t\t\tL.ASIS\t\t\t
\t\tX1\tY1\tZ1\tX2\tY2\tZ2\t

1\t0.000\t100.0\t1000.0\t-50.0\t110.0\t1010.0\t150.0\t
2\t0.010\t101.0\t1001.0\t-51.0\t111.0\t1011.0\t151.0\t
3\t0.020\t102.0\t1002.0\t-52.0\t112.0\t1012.0\t152.0\t
"""
MISSING = f"""\
PathFileType\t4\t(X/Y/Z)\tmissing.trc
{HEADER_KEYS}
50\t50\t3\t2\tcm\t50\t1\t3
Frame#\tTime\tA\t\t\tB
\t\tX1\tY1\tZ1\tX2\tY2\tZ2
1\t0\t1\t2\t3\t\t\t
2\t0.02\tNaN\tNaN\tNaN\t4\t5\t6
3\t0.04\t1.5\t2.5\t3.5\t4.5\t5.5\t6.5


"""
METRES = """\
PathFileType\t4\t(X/Y/Z)\tm.trc
DataRate\tNumFrames\tNumMarkers\tUnits
200\t2\t1\tm
Frame#\tTime\tHEAD
\t\tX1\tY1\tZ1
1\t0\t0.1\t1.7\t0.0
2\t0.005\t0.1\t1.71\t0.0
"""
VALID_FILES = (STANDARD, MISSING, METRES)


def write(tmp_path: Path, content: str | bytes, name: str = "markers.trc") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def make_table(**overrides: object) -> MarkerTable:
    fields: dict[str, object] = {
        "marker_names": ("A", "B"),
        "time": np.array([0.0, 0.01, 0.02]),
        "positions": np.arange(18.0).reshape(3, 2, 3) / 10.0,
        "rate": 100.0,
        "units_in_file": "m",
    }
    fields.update(overrides)
    return MarkerTable(**fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "frames", "markers", "last_time"),
    [("subject01_walk.trc", 151, 41, 2.5), ("subject01_static.trc", 300, 49, 4.983)],
)
def test_real_files(
    shared_data: Path, tmp_path: Path, name: str, frames: int, markers: int, last_time: float
) -> None:
    table = read_trc(shared_data / "opensim/gait10dof18musc" / name)
    assert table.positions.shape == (frames, markers, 3)
    assert table.rate == 60.0
    assert table.units_in_file == "mm"
    assert table.marker_names[:3] == ("R.ASIS", "L.ASIS", "V.Sacral")
    assert table.time[-1] == pytest.approx(last_time)
    assert not np.isnan(table.positions).any()
    # Metres: a standing subject's markers are within 2 m of the lab origin.
    assert 1.0 < np.abs(table.positions).max() < 2.0

    for units in ("mm", "m"):
        out = tmp_path / f"{units}_{name}"
        write_trc(table, out, units=units)
        again = read_trc(out)
        assert again.marker_names == table.marker_names
        assert again.units_in_file == units
        assert again.rate == table.rate
        np.testing.assert_allclose(again.time, table.time, rtol=1e-9)
        np.testing.assert_allclose(again.positions, table.positions, rtol=1e-9, atol=1e-15)


def test_real_walk_values(shared_data: Path) -> None:
    table = read_trc(shared_data / "opensim/gait10dof18musc/subject01_walk.trc")
    np.testing.assert_allclose(
        table.marker("R.ASIS")[0], [0.61724762, 1.05527502, 0.17078198], rtol=1e-12
    )
    assert table.marker_names[-1] == "Top.Head"
    with pytest.raises(LookupError, match="R.ASIS"):
        table.marker("R.ASI")


# ---------------------------------------------------------------------------------------
# Valid synthetic files
# ---------------------------------------------------------------------------------------


def test_standard_file(tmp_path: Path) -> None:
    table = read_trc(write(tmp_path, STANDARD))
    assert table.marker_names == ("R.ASIS", "L.ASIS")
    assert table.rate == 100.0
    np.testing.assert_array_equal(table.time, [0.0, 0.01, 0.02])
    np.testing.assert_allclose(table.marker("L.ASIS")[2], [0.112, 1.012, 0.152])


def test_missing_markers_and_units(tmp_path: Path) -> None:
    table = read_trc(write(tmp_path, MISSING))
    assert table.units_in_file == "cm"
    assert np.isnan(table.positions[0, 1]).all()
    assert np.isnan(table.positions[1, 0]).all()
    np.testing.assert_allclose(table.positions[0, 0], [0.01, 0.02, 0.03])
    np.testing.assert_allclose(table.positions[2, 1], [0.045, 0.055, 0.065])


def test_metres_and_short_header(tmp_path: Path) -> None:
    table = read_trc(write(tmp_path, METRES))
    assert table.rate == 200.0
    np.testing.assert_allclose(table.marker("HEAD")[1], [0.1, 1.71, 0.0])


def test_crlf(tmp_path: Path) -> None:
    table = read_trc(write(tmp_path, STANDARD.replace("\n", "\r\n")))
    assert table.n_frames == 3


# ---------------------------------------------------------------------------------------
# Malformed files
# ---------------------------------------------------------------------------------------


def replace_line(text: str, line: int, new: str) -> str:
    lines = text.split("\n")
    lines[line - 1] = new
    return "\n".join(lines)


MALFORMED: dict[str, tuple[str, int, str]] = {
    "no PathFileType": (replace_line(STANDARD, 1, "Path\t4"), 1, "PathFileType"),
    "missing key": (
        replace_line(METRES, 2, "DataRate\tNumFrames\tNumMarkers\tUnitz"),
        2,
        "Units",
    ),
    "values count": (replace_line(METRES, 3, "200\t2\t1"), 3, "3 header values"),
    "unknown units": (replace_line(METRES, 3, "200\t2\t1\tinches"), 3, "Units"),
    "bad rate": (replace_line(METRES, 3, "fast\t2\t1\tm"), 3, "DataRate"),
    "zero rate": (replace_line(METRES, 3, "0\t2\t1\tm"), 3, "DataRate"),
    "bad NumFrames": (replace_line(METRES, 3, "200\t2.5\t1\tm"), 3, "NumFrames"),
    "NumFrames mismatch": (replace_line(METRES, 3, "200\t3\t1\tm"), 3, "NumFrames=3"),
    "NumMarkers mismatch": (replace_line(METRES, 3, "200\t2\t2\tm"), 4, "NumMarkers=2"),
    "duplicate marker": (
        replace_line(STANDARD, 4, "Frame#\tTime\tR.ASIS\t\t\tR.ASIS\t\t\t"),
        4,
        "duplicate",
    ),
    "no Frame#": (replace_line(METRES, 4, "Time\tHEAD"), 4, "Frame#"),
    "coordinate labels": (replace_line(METRES, 5, "\t\tX1\tY1"), 5, "coordinate labels"),
    "row too short": (replace_line(STANDARD, 8, "1\t0.000\t100.0\t1000.0"), 8, "fields"),
    "row too long": (replace_line(METRES, 6, "1\t0\t0.1\t1.7\t0.0\t9"), 6, "fields"),
    "non-numeric": (replace_line(METRES, 7, "2\t0.005\t0.1\tx\t0.0"), 7, "Y of marker 'HEAD'"),
    "bad frame": (replace_line(METRES, 7, "two\t0.005\t0.1\t1\t0.0"), 7, "frame"),
    "missing time": (replace_line(METRES, 7, "2\t\t0.1\t1\t0.0"), 7, "time"),
    "decreasing time": (replace_line(METRES, 7, "2\t-1\t0.1\t1\t0.0"), 7, "decreases"),
    "nan time": (replace_line(METRES, 7, "2\tnan\t0.1\t1\t0.0"), 7, "not finite"),
    "no data": ("\n".join(METRES.split("\n")[:5]) + "\n\n", 6, "no data"),
    "blank line inside data": (replace_line(STANDARD, 8, ""), 8, "blank line"),
    "truncated header": ("PathFileType\t4\n", 1, "header"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_line_numbers(tmp_path: Path, case: str) -> None:
    text, line, fragment = MALFORMED[case]
    path = write(tmp_path, text)
    with pytest.raises(FileFormatError) as info:
        read_trc(path)
    assert info.value.line == line, str(info.value)
    assert fragment in info.value.problem
    assert str(path) in str(info.value)


def test_invalid_utf8(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="UTF-8") as info:
        read_trc(write(tmp_path, STANDARD.encode().replace(b"L.ASIS", b"L.\xe9SIS")))
    assert info.value.line == 4


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_trc(tmp_path / "absent.trc")


# ---------------------------------------------------------------------------------------
# MarkerTable and writing
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"marker_names": ("A", "A")},
        {"marker_names": ("A", "B\tC")},
        {"positions": np.zeros((3, 2))},
        {"rate": 0.0},
        {"rate": math.nan},
        {"time": np.array([0.0, 0.02, 0.01])},
    ],
)
def test_invalid_marker_tables(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_table(**overrides)


def test_written_layout(tmp_path: Path) -> None:
    positions = np.arange(18.0).reshape(3, 2, 3) / 10.0
    positions[1, 0] = np.nan
    path = tmp_path / "out.trc"
    write_trc(make_table(positions=positions), path)
    lines = path.read_text().split("\n")
    assert lines[0] == "PathFileType\t4\t(X/Y/Z)\tout.trc"
    assert lines[1] == HEADER_KEYS
    assert lines[2] == "100\t100\t3\t2\tmm\t100\t1\t3"
    assert lines[3] == "Frame#\tTime\tA\t\t\tB\t\t"
    assert lines[4] == "\t\tX1\tY1\tZ1\tX2\tY2\tZ2"
    assert lines[5] == ""
    assert lines[6] == "1\t0\t0\t100\t200\t300\t400\t500"
    assert lines[7].startswith("2\t0.01\tNaN\tNaN\tNaN\t")
    again = read_trc(path)
    np.testing.assert_allclose(again.positions, positions, equal_nan=True)


def test_write_rejects_bad_units(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="units"):
        write_trc(make_table(), tmp_path / "out.trc", units="inch")


_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_.]{0,8}", fullmatch=True)
_COORD = st.one_of(st.floats(-10, 10), st.just(math.nan))


@st.composite
def marker_tables(draw: st.DrawFn) -> MarkerTable:
    names = draw(st.lists(_NAME, min_size=0, max_size=4, unique=True))
    n = draw(st.integers(1, 6))
    rate = draw(st.floats(1, 2000))
    time = draw(st.floats(0, 10)) + np.arange(n) / rate
    positions = draw(hnp.arrays(np.float64, (n, len(names), 3), elements=_COORD))
    return MarkerTable(
        marker_names=tuple(names),
        time=time,
        positions=positions,
        rate=rate,
    )


@settings(max_examples=100, deadline=None)
@given(table=marker_tables(), units=st.sampled_from(["mm", "cm", "m"]))
def test_round_trip_property(fuzz_dir: Path, table: MarkerTable, units: str) -> None:
    path = fuzz_dir / "round_trip.trc"
    write_trc(table, path, units=units)
    again = read_trc(path)
    assert again.marker_names == table.marker_names
    assert again.rate == pytest.approx(table.rate, rel=1e-9)
    np.testing.assert_allclose(again.time, table.time, rtol=1e-9)
    np.testing.assert_allclose(again.positions, table.positions, rtol=1e-9, atol=1e-15)


# ---------------------------------------------------------------------------------------
# Fuzzing: only FileFormatError may come out of the reader
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("trc_fuzz")


def read_or_format_error(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        table = read_trc(path)
    except FileFormatError as error:
        n_lines = content.count(b"\n") + content.count(b"\r") + 1
        assert error.line is None or 1 <= error.line <= n_lines
        return
    assert table.positions.shape == (table.n_frames, len(table.marker_names), 3)
    assert table.n_frames > 0 and table.rate > 0
    assert np.all(np.diff(table.time) >= 0)


@FUZZ
@given(content=st.binary(max_size=600))
def test_fuzz_random_bytes(fuzz_dir: Path, content: bytes) -> None:
    read_or_format_error(fuzz_dir / "random.trc", content)


@FUZZ
@given(content=st.binary(max_size=200))
def test_fuzz_random_bytes_after_header(fuzz_dir: Path, content: bytes) -> None:
    header = "\n".join(METRES.split("\n")[:5]) + "\n"
    read_or_format_error(fuzz_dir / "tail.trc", header.encode() + content)


@FUZZ
@given(base=st.sampled_from(VALID_FILES), data=st.data())
def test_fuzz_corrupted_valid_files(
    fuzz_dir: Path,
    corrupt: Callable[[st.DataObject, bytes], bytes],
    base: str,
    data: st.DataObject,
) -> None:
    read_or_format_error(fuzz_dir / "corrupted.trc", corrupt(data, base.encode()))


# ---------------------------------------------------------------------------------------
# OpenSim as an independent oracle (separate process)
# ---------------------------------------------------------------------------------------


@pytest.mark.opensim
@pytest.mark.skipif(find_spec("opensim") is None, reason="opensim is not installed")
def test_opensim_reads_written_file(tmp_path: Path) -> None:
    positions = np.arange(18.0).reshape(3, 2, 3) / 10.0
    positions[1, 1] = np.nan  # missing last marker: the trailing fields must still count
    path = tmp_path / "written.trc"
    write_trc(make_table(positions=positions), path, units="mm")
    script = textwrap.dedent(
        f"""
        import json
        import opensim
        t = opensim.TimeSeriesTableVec3({str(path)!r})
        m = t.getMatrix()
        print("OUT", list(t.getColumnLabels()), t.getNumRows(), t.getTableMetaDataAsString("Units"))
        values = [[[m.getElt(r, c).get(i) for i in range(3)] for c in range(2)] for r in range(3)]
        print("OUT", json.dumps(values))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    lines = [line[4:] for line in result.stdout.splitlines() if line.startswith("OUT ")]
    assert lines[0] == "['A', 'B'] 3 mm"
    read_back = np.array(json.loads(lines[1])) / 1000.0
    np.testing.assert_allclose(read_back, positions, equal_nan=True, rtol=1e-12)
