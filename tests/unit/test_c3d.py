"""Tests of gaitsim.io.c3d (C3D files through ezc3d).

Independent references: the values the shared C3D files store themselves (read back
through ezc3d's own parser for comparison), rows of OpenSim's reference marker table for
``walking2.c3d`` (opensim-core ``OpenSim/Common/Test/std_walking2_markers.trc``, which
``testC3DFileAdapter.cpp`` compares against), and small C3D files written byte by byte
here from the C3D user guide (``build_c3d``), independently of ezc3d's writer.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitsim.errors import FileFormatError, GaitsimError, UnsupportedFeatureError
from gaitsim.io.c3d import _read_arrays, decode_floats, read_c3d
from gaitsim.io.trc import read_trc, write_trc

C3D_FILES = (
    "ezc3d_BTS.c3d",
    "ezc3d_Qualisys.c3d",
    "kineticstoolkit_walk.c3d",
    "walking2.c3d",
    "walking5.c3d",
)

# ---------------------------------------------------------------------------------------
# A C3D writer for tests, from the C3D user guide (header, parameter records, data).
# ---------------------------------------------------------------------------------------


def _float_bytes(values: Sequence[float], processor: str) -> bytes:
    """IEEE little-endian, or DEC F-float (words swapped, value x 4)."""
    out = b""
    for value in values:
        if processor == "dec":
            ieee = struct.pack("<f", value * 4.0)
            out += ieee[2:4] + ieee[0:2]
        else:
            out += struct.pack("<f", value)
    return out


@dataclass
class Param:
    """One parameter to write: type -1 (chars), 1, 2 or 4; value array or strings."""

    type: int
    value: object
    dims: tuple[int, ...] | None = None


@dataclass
class C3DSpec:
    """Content of a test C3D file."""

    points: np.ndarray  # (n_frames, n_points, 3) in file units; NaN = missing
    analogs: np.ndarray  # (n_frames * per_frame, n_channels) raw stored values
    rate: float = 100.0
    per_frame: int = 2
    first_frame: int = 1
    processor: str = "intel"
    integer: bool = False
    point_scale: float = 0.1  # for integer data
    groups: dict[str, dict[str, Param]] = field(default_factory=dict)


def _param_record(name: str, group_id: int, param: Param, processor: str) -> tuple[bytes, bytes]:
    """(name part, part after the pointer) of one parameter record."""
    if param.type == -1:
        strings = [param.value] if isinstance(param.value, str) else list(param.value)
        length = max([len(s) for s in strings] + [0])
        dims = param.dims or ((length,) if len(strings) == 1 else (length, len(strings)))
        data = b"".join(s.encode("latin-1").ljust(dims[0], b" ") for s in strings)
    else:
        array = np.asarray(param.value, dtype=np.float64)
        dims = param.dims if param.dims is not None else array.shape
        flat = array.reshape(-1, order="F")
        if param.type == 4:
            data = _float_bytes(flat.tolist(), processor)
        elif param.type == 2:
            data = b"".join(struct.pack("<h", int(v)) for v in flat)
        else:
            data = b"".join(struct.pack("<b", int(v)) for v in flat)
    body = struct.pack("<bB", param.type, len(dims)) + bytes(dims) + data + b"\x00"
    name_bytes = name.encode("ascii")
    return struct.pack("<bb", len(name_bytes), group_id) + name_bytes, body


def _parameter_section(groups: Mapping[str, Mapping[str, Param]], processor: str) -> bytes:
    records: list[tuple[bytes, bytes]] = []
    for gid, (group, params) in enumerate(groups.items(), start=1):
        name = group.encode("ascii")
        records.append((struct.pack("<bb", len(name), -gid) + name, b"\x00"))
        for pname, param in params.items():
            records.append(_param_record(pname, gid, param, processor))
    section = bytearray()
    for k, (head, body) in enumerate(records):
        step = 0 if k == len(records) - 1 else 2 + len(body)
        section += head + struct.pack("<h", step) + body
    n_blocks = (4 + len(section)) // 512 + 1
    code = {"intel": 84, "dec": 85, "mips": 86}[processor]
    return (bytes([1, 0x50, n_blocks, code]) + bytes(section)).ljust(512 * n_blocks, b"\x00")


def build_c3d(spec: C3DSpec) -> bytes:
    """The bytes of a C3D file holding ``spec`` (points all-NaN: written as missing)."""
    n_frames, n_points, _ = spec.points.shape
    n_channels = spec.analogs.shape[1] if spec.analogs.size else 0
    groups: dict[str, dict[str, Param]] = {
        "POINT": {
            "USED": Param(2, n_points),
            "SCALE": Param(4, spec.point_scale if spec.integer else -1.0),
            "RATE": Param(4, spec.rate),
            "FRAMES": Param(2, n_frames),
            "DATA_START": Param(2, 0),
            "UNITS": Param(-1, "mm"),
            "LABELS": Param(-1, [f"M{i}" for i in range(n_points)]),
        },
        "ANALOG": {
            "USED": Param(2, n_channels),
            "RATE": Param(4, spec.rate * spec.per_frame),
            "GEN_SCALE": Param(4, 1.0),
            "SCALE": Param(4, np.ones(n_channels)),
            "OFFSET": Param(2, np.zeros(n_channels)),
            "LABELS": Param(-1, [f"A{i}" for i in range(n_channels)]),
            "UNITS": Param(-1, ["V"] * n_channels),
        },
    }
    for group, params in spec.groups.items():
        groups.setdefault(group, {}).update(params)
    data_block = 3
    given = "DATA_START" in spec.groups.get("POINT", {})
    while True:  # the parameter section's length decides where the data start
        if not given:
            groups["POINT"]["DATA_START"] = Param(2, data_block)
        section = _parameter_section(groups, spec.processor)
        if 2 + len(section) // 512 == data_block:
            break
        data_block = 2 + len(section) // 512

    header = bytearray(512)
    header[0], header[1] = 2, 0x50
    struct.pack_into("<HHHHH", header, 2, n_points, n_channels * spec.per_frame,
                     spec.first_frame, spec.first_frame + n_frames - 1, 0)  # fmt: skip
    header[12:16] = _float_bytes([spec.point_scale if spec.integer else -1.0], spec.processor)
    struct.pack_into("<HH", header, 16, data_block, spec.per_frame)
    header[20:24] = _float_bytes([spec.rate], spec.processor)

    data = bytearray()
    for i in range(n_frames):
        for j in range(n_points):
            xyz = spec.points[i, j]
            missing = bool(np.all(np.isnan(xyz)))
            if spec.integer:
                words = [0, 0, 0] if missing else [int(round(v / spec.point_scale)) for v in xyz]
                data += struct.pack("<hhh", *words) + struct.pack("<h", -1 if missing else 0x0101)
            else:
                # the fourth value is the residual as a float, negative when missing
                values = [0.0, 0.0, 0.0, -1.0] if missing else [*xyz, 1.0]
                data += _float_bytes(values, spec.processor)
        for k in range(spec.per_frame):
            row = spec.analogs[i * spec.per_frame + k] if n_channels else []
            if spec.integer:
                data += b"".join(struct.pack("<h", int(v)) for v in row)
            else:
                data += _float_bytes(list(row), spec.processor)
    return bytes(header) + section + bytes(data)


def small_spec(**changes: object) -> C3DSpec:
    """Two markers over 5 frames, 3 analog channels at 2 samples per frame."""
    rng = np.random.default_rng(0)
    points = 1000.0 + 100.0 * rng.standard_normal((5, 2, 3))
    points[2, 1] = np.nan
    analogs = rng.standard_normal((10, 3)).round(3)
    spec = C3DSpec(points=points, analogs=analogs)
    for key, value in changes.items():
        setattr(spec, key, value)
    return spec


def write(tmp_path: Path, spec_or_bytes: C3DSpec | bytes, name: str = "t.c3d") -> Path:
    path = tmp_path / name
    raw = spec_or_bytes if isinstance(spec_or_bytes, bytes) else build_c3d(spec_or_bytes)
    path.write_bytes(raw)
    return path


# ---------------------------------------------------------------------------------------
# The files written by the builder are read alike by ezc3d and gaitsim
# ---------------------------------------------------------------------------------------


def test_builder_files_match_ezc3d(tmp_path: Path) -> None:
    """The test writer makes files ezc3d reads as intended (so it is a valid reference)."""
    import ezc3d

    spec = small_spec()
    path = write(tmp_path, spec)
    c = ezc3d.c3d(str(path))
    points = c["data"]["points"][:3].transpose(2, 1, 0)
    # float32 storage: 1e-4 mm is below the float32 resolution of values near 1000 mm
    np.testing.assert_allclose(points, spec.points, atol=1e-4, equal_nan=True)
    np.testing.assert_allclose(c["data"]["analogs"][0].T, spec.analogs, atol=1e-6)


@pytest.mark.parametrize("isolated", [True, False])
def test_markers_and_analogs_of_a_written_file(tmp_path: Path, isolated: bool) -> None:
    spec = small_spec(first_frame=11)
    content = read_c3d(write(tmp_path, spec), isolated=isolated)
    # mm -> m; float32 storage limits agreement to ~1e-7 m near 1 m
    np.testing.assert_allclose(content.markers.positions, spec.points * 1e-3, atol=1e-7)
    assert np.isnan(content.markers.positions[2, 1]).all()
    assert content.markers.marker_names == ("M0", "M1")
    # first frame 11 (1-based) at 100 Hz: t0 = 0.1 s; analog samples every 5 ms
    np.testing.assert_allclose(content.markers.time, 0.1 + np.arange(5) / 100.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(content.analogs.time[:3], [0.1, 0.105, 0.11], rtol=0, atol=1e-12)
    np.testing.assert_allclose(content.analogs.values, spec.analogs, atol=1e-6)
    assert content.analogs.rate == 200.0
    assert content.residuals[2, 1] < 0 and content.residuals[0, 0] >= 0


def test_analog_scale_offset_and_general_scale(tmp_path: Path) -> None:
    """(raw - |OFFSET|) * SCALE * GEN_SCALE, checked on integer-stored raw values."""
    raw = np.arange(30, dtype=float).reshape(10, 3) * 7 - 50
    scale = np.array([0.5, -2.0, 0.25])
    offset = np.array([3, 0, 10])
    spec = small_spec(
        analogs=raw,
        integer=True,
        groups={
            "ANALOG": {
                "SCALE": Param(4, scale),
                "OFFSET": Param(2, offset),
                "GEN_SCALE": Param(4, 2.0),
            }
        },
    )
    content = read_c3d(write(tmp_path, spec), isolated=False)
    expected = (raw - offset) * scale * 2.0
    # exact small integers times binary fractions: no rounding at all
    np.testing.assert_array_equal(content.analogs.values, expected)


def test_integer_points_use_point_scale(tmp_path: Path) -> None:
    spec = small_spec(integer=True, point_scale=0.1)
    content = read_c3d(write(tmp_path, spec), isolated=False)
    expected = np.round(spec.points / 0.1) * 0.1 * 1e-3
    # int16 words times a float32 scale of 0.1: relative rounding ~1e-7
    np.testing.assert_allclose(content.markers.positions, expected, rtol=1e-6, equal_nan=True)
    assert np.isnan(content.markers.positions[2, 1]).all()


def test_dec_floats(tmp_path: Path) -> None:
    """DEC (processor 85) files: the VAX F-float conversion."""
    values = [1.0, -2.5, 1234.5678, 1e-3, 0.0]
    decoded = decode_floats(_float_bytes(values, "dec"), "dec")
    np.testing.assert_allclose(decoded, values, rtol=1e-7)  # float32 precision
    spec = small_spec(processor="dec")
    content = read_c3d(write(tmp_path, spec), isolated=False)
    np.testing.assert_allclose(content.markers.positions, spec.points * 1e-3, atol=1e-7)
    assert content.markers.rate == 100.0


def test_all_zero_points_are_missing(tmp_path: Path) -> None:
    points = small_spec().points
    points[3, 0] = 0.0  # stored with a positive residual but exactly at the origin
    content = read_c3d(write(tmp_path, small_spec(points=points)), isolated=False)
    assert np.isnan(content.markers.positions[3, 0]).all()
    assert np.isfinite(content.markers.positions[3, 1]).all()


def test_model_outputs_are_not_markers(tmp_path: Path) -> None:
    spec = small_spec(
        groups={"POINT": {"ANGLES": Param(-1, ["M1"]), "ANGLE_UNITS": Param(-1, "deg")}}
    )
    content = read_c3d(write(tmp_path, spec), isolated=False)
    assert content.markers.marker_names == ("M0",)
    output = content.point_output("M1")
    assert output.kind == "angle" and output.units == "deg"
    np.testing.assert_allclose(output.values, spec.points[:, 1], atol=1e-4, equal_nan=True)


def test_events_group(tmp_path: Path) -> None:
    spec = small_spec(
        groups={
            "EVENT": {
                "USED": Param(2, 3),
                "TIMES": Param(4, np.array([[0.0, 0.04], [1.0, 0.5], [0.0, 0.01]]).T),
                "LABELS": Param(-1, ["Foot Strike", "Foot Off", "Event"]),
                "CONTEXTS": Param(-1, ["Left", "Right", "General"]),
            }
        }
    )
    content = read_c3d(write(tmp_path, spec), isolated=False)
    # sorted by time; minutes * 60 + seconds (float32 seconds)
    assert [e.label for e in content.events] == ["Event", "Foot Strike", "Foot Off"]
    assert [e.context for e in content.events] == ["General", "Left", "Right"]
    np.testing.assert_allclose([e.time for e in content.events], [0.01, 0.04, 60.5], rtol=1e-7)


# ---------------------------------------------------------------------------------------
# Loud failures on invalid content
# ---------------------------------------------------------------------------------------


def _expect(tmp_path: Path, raw: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as info:
        read_c3d(write(tmp_path, raw), isolated=False)
    assert words in str(info.value)
    assert isinstance(info.value, GaitsimError)


def test_not_a_c3d_file(tmp_path: Path) -> None:
    raw = bytearray(build_c3d(small_spec()))
    raw[1] = 0x41
    _expect(tmp_path, bytes(raw), FileFormatError, "not a C3D file")
    _expect(tmp_path, b"short", FileFormatError, "fewer than the 512-byte")


def test_big_endian_files_are_refused(tmp_path: Path) -> None:
    raw = bytearray(build_c3d(small_spec()))
    raw[512 + 3] = 86
    _expect(tmp_path, bytes(raw), UnsupportedFeatureError, "MIPS")


def test_truncated_data(tmp_path: Path) -> None:
    raw = build_c3d(small_spec())
    _expect(tmp_path, raw[:-10], FileFormatError, "truncated")


@pytest.mark.parametrize(
    ("group", "name", "param", "words"),
    [
        ("POINT", "UNITS", Param(-1, "furlong"), "not a length unit"),
        ("POINT", "RATE", Param(4, -100.0), "not a sampling rate"),
        ("POINT", "RATE", Param(4, math.nan), "not finite"),
        ("POINT", "USED", Param(2, 3), "POINT:USED is 3"),
        ("ANALOG", "SCALE", Param(4, np.ones(2)), "ANALOG:SCALE has 2 values for 3 channels"),
        ("ANALOG", "RATE", Param(4, 300.0), "analog samples per frame"),
        ("POINT", "FRAMES", Param(2, 9), "POINT:FRAMES = 9"),
    ],
)
def test_inconsistent_parameters(
    tmp_path: Path, group: str, name: str, param: Param, words: str
) -> None:
    spec = small_spec(groups={group: {name: param}})
    _expect(tmp_path, build_c3d(spec), FileFormatError, words)


def test_unsupported_platform_type(tmp_path: Path) -> None:
    plate = {
        "USED": Param(2, 1),
        "TYPE": Param(2, [5]),
        "CORNERS": Param(4, np.zeros((3, 4, 1))),
        "ORIGIN": Param(4, np.zeros((3, 1))),
        "CHANNEL": Param(2, np.array([[1, 2, 3, 1, 2, 3, 1, 2]]).T),
    }
    _expect(
        tmp_path,
        build_c3d(small_spec(groups={"FORCE_PLATFORM": plate})),
        UnsupportedFeatureError,
        "type 5",
    )


def test_platform_channel_outside_the_file(tmp_path: Path) -> None:
    plate = {
        "USED": Param(2, 1),
        "TYPE": Param(2, [2]),
        "CORNERS": Param(4, np.zeros((3, 4, 1))),
        "ORIGIN": Param(4, np.zeros((3, 1))),
        "CHANNEL": Param(2, np.array([[1, 2, 3, 4, 5, 6]]).T),
    }
    _expect(
        tmp_path,
        build_c3d(small_spec(groups={"FORCE_PLATFORM": plate})),
        FileFormatError,
        "uses analog channel(s) [4, 5, 6]",
    )


def test_isolation_survives_an_ezc3d_crash(tmp_path: Path) -> None:
    """A parameter with 249 dimensions makes ezc3d segfault (found by fuzzing); read in
    the child process, the caller gets a FileFormatError instead of dying."""
    raw = bytearray(build_c3d(small_spec()))
    at = raw.index(b"USED", 512) + 4 + 2 + 1  # name, pointer, type -> dimension count
    raw[at] = 249
    with pytest.raises(FileFormatError, match="ezc3d"):
        _read_arrays(tmp_path / "x.c3d", bytes(raw), isolated=True, timeout=60.0)
    # and the structural check refuses it before ezc3d is involved
    _expect(tmp_path, bytes(raw), FileFormatError, "249 dimensions")


def test_isolation_survives_an_ezc3d_hang(tmp_path: Path) -> None:
    """A negative ROTATION:RATIO makes ezc3d loop (found by fuzzing); the child process
    is stopped at the time limit."""
    rotation = {
        "USED": Param(2, 0),
        "DATA_START": Param(2, 3),
        "RATE": Param(4, 100.0),
        "RATIO": Param(2, -9728),
    }
    spec = small_spec(groups={"ROTATION": rotation})
    raw = build_c3d(spec)
    with pytest.raises(FileFormatError, match="did not finish"):
        _read_arrays(tmp_path / "x.c3d", raw, isolated=True, timeout=3.0)
    _expect(tmp_path, raw, FileFormatError, "ROTATION:RATIO")


# Fuzzing: corrupted copies of a small valid file give typed errors only. Each example
# that passes the structural checks costs a child process (~0.5 s), hence 40 examples.
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(data=st.data())
def test_fuzzed_files_give_typed_errors(
    tmp_path_factory: pytest.TempPathFactory,
    corrupt: Callable[[st.DataObject, bytes], bytes],
    data: st.DataObject,
) -> None:
    spec = small_spec(
        groups={
            "EVENT": {
                "USED": Param(2, 1),
                "TIMES": Param(4, np.array([[0.0], [0.02]])),
                "LABELS": Param(-1, ["Foot Strike"]),
                "CONTEXTS": Param(-1, ["Left"]),
            }
        }
    )
    raw = corrupt(data, build_c3d(spec))
    path = tmp_path_factory.mktemp("fuzz") / "f.c3d"
    path.write_bytes(raw)
    try:
        content = read_c3d(path, timeout=30.0)
    except (FileFormatError, UnsupportedFeatureError):
        return
    assert content.markers.positions.shape[2] == 3


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fuzzed_headers_and_parameters_give_typed_errors(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Byte changes in the header and parameter section (where ezc3d crashed) are caught
    by the structural checks or read safely."""
    raw = bytearray(build_c3d(small_spec()))
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, 1023))] = data.draw(st.integers(0, 255))
    path = tmp_path_factory.mktemp("fuzzp") / "f.c3d"
    path.write_bytes(bytes(raw))
    try:
        read_c3d(path, timeout=30.0)
    except (FileFormatError, UnsupportedFeatureError):
        pass


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(
        st.sampled_from([math.nan, math.inf, -math.inf, 1e38, -1e38, 0.0, 5e-324]),
        min_size=1,
        max_size=6,
    ),
    where=st.lists(st.integers(0, 10_000), min_size=1, max_size=6),
)
def test_non_finite_data_values(
    tmp_path_factory: pytest.TempPathFactory, values: list[float], where: list[int]
) -> None:
    """NaN, infinities and huge values in the data section: markers become missing,
    analog values are passed on; nothing crashes."""
    spec = small_spec()
    points = np.array(spec.points)
    analogs = np.array(spec.analogs)
    for value, at in zip(values, where, strict=False):
        if at % 2:
            points.reshape(-1)[at % points.size] = value
        else:
            analogs.reshape(-1)[at % analogs.size] = value
    path = tmp_path_factory.mktemp("nan") / "f.c3d"
    path.write_bytes(build_c3d(small_spec(points=points, analogs=analogs)))
    content = read_c3d(path, isolated=False)
    positions = content.markers.positions
    assert np.all(np.isfinite(positions) | np.isnan(positions))


# ---------------------------------------------------------------------------------------
# The shared lab files
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_contents(shared_data: Path) -> dict[str, object]:
    return {name: read_c3d(shared_data / "c3d" / name) for name in C3D_FILES}


def _decoded(text: str) -> str:
    """ezc3d keeps undecodable bytes as surrogates ('mm/s\\udcb2'); gaitsim decodes such
    strings as Latin-1 ('mm/s\u00b2'). Map ezc3d's string to gaitsim's rule."""
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@pytest.mark.parametrize("name", C3D_FILES)
def test_every_shared_file_loads_like_ezc3d(
    shared_data: Path, shared_contents: Mapping[str, object], name: str
) -> None:
    """Markers, analogs and every parameter agree with ezc3d's reading of the file."""
    import ezc3d

    content = shared_contents[name]
    reference = ezc3d.c3d(str(shared_data / "c3d" / name))
    labels = [s.strip() for s in reference["parameters"]["POINT"]["LABELS"]["value"]]
    points = reference["data"]["points"][:3].transpose(2, 1, 0)
    unit = {"mm": 1e-3, "m": 1.0}[content.length_unit]
    outputs = {o.name for o in content.point_outputs}
    assert set(content.markers.marker_names) | outputs == set(labels)
    for k, marker in enumerate(content.markers.marker_names):
        expected = points[:, labels.index(marker)] * unit
        expected = np.where(np.all(expected == 0, axis=1)[:, None], np.nan, expected)
        # same float32 numbers, converted to metres: exact
        np.testing.assert_array_equal(content.markers.positions[:, k], expected)
    np.testing.assert_array_equal(content.analogs.values, reference["data"]["analogs"][0].T)
    dt = np.diff(content.markers.time)
    np.testing.assert_allclose(dt, 1.0 / content.markers.rate, rtol=1e-9)
    # every parameter of the file, as ezc3d parsed it (ezc3d adds defaults for missing
    # mandatory ones, so the comparison runs over ours)
    compared = 0
    for group, params in content.parameters.items():
        for pname, ours in params.items():
            entry = reference["parameters"][ours.group][ours.name]
            if ours.type == -1:
                assert [t.rstrip() for t in ours.strings()] == [
                    _decoded(t).rstrip() for t in entry["value"]
                ], f"{group}:{pname}"
            else:
                np.testing.assert_array_equal(
                    np.asarray(ours.value).reshape(-1),
                    np.asarray(entry["value"]).reshape(-1),
                    err_msg=f"{group}:{pname}",
                )
            compared += 1
    assert compared >= 20  # the smallest file (BTS) has 28 parameters


def test_walking2_markers_against_opensim_reference(
    shared_contents: Mapping[str, object],
) -> None:
    """Rows of OpenSim's std_walking2_markers.trc (Mokka export, mm, 5 significant
    digits), which OpenSim's C3DFileAdapter test compares with: frames 211 and 241
    (times 0.84 and 0.96 s)."""
    content = shared_contents["walking2.c3d"]
    markers = content.markers
    reference = {
        0.84: {"RTH1": (-2552.2, 300.46, 860.36), "RFHD": (-2414.9, 398.19, 1656.0)},
        0.96: {
            "RTH1": (-2359.9, 303.41, 880.49),
            "RFHD": (-2232.8, 387.02, 1680.7),
            "RTH3": (-2321.0, 332.62, 681.21),
            "LTH2": (-2272.5, 616.51, 749.2),
            "LTH3": (-2364.6, 625.22, 632.71),
        },
    }
    for time, values in reference.items():
        frame = int(np.argmin(np.abs(markers.time - time)))
        assert abs(markers.time[frame] - time) < 1e-9
        for name, xyz in values.items():
            # 5 significant digits in the reference: at most 0.05 mm = 5e-5 m off
            np.testing.assert_allclose(markers.marker(name)[frame], np.array(xyz) * 1e-3, atol=5e-5)
    # and what the reference has as missing (NaN) is missing here
    assert np.isnan(markers.marker("RTH3")[210]).all()
    assert np.isnan(markers.marker("LTH2")[210]).all()


def test_trc_round_trip(tmp_path: Path, shared_contents: Mapping[str, object]) -> None:
    """Markers written with write_trc and read back equal the C3D markers (metres)."""
    for name in ("walking5.c3d", "kineticstoolkit_walk.c3d"):
        markers = shared_contents[name].markers
        path = tmp_path / f"{name}.trc"
        write_trc(markers, path, units="mm", precision=12)
        back = read_trc(path)
        assert back.marker_names == markers.marker_names
        # 12 significant digits of values below 1e4 mm: below 1e-8 mm = 1e-11 m
        np.testing.assert_allclose(back.positions, markers.positions, rtol=0, atol=1e-11)
        np.testing.assert_array_equal(np.isnan(back.positions), np.isnan(markers.positions))
        np.testing.assert_allclose(back.time, markers.time, rtol=1e-11)


def test_events_of_the_shared_files(shared_contents: Mapping[str, object]) -> None:
    kinetics = shared_contents["kineticstoolkit_walk.c3d"]
    # EVENT:TIMES of the file (Vicon Nexus): 8 events, Left/Right Foot Strike/Off
    assert len(kinetics.events) == 8
    first = kinetics.events[0]
    assert (first.label, first.context) == ("Foot Strike", "Right")
    assert first.time == pytest.approx(1.6605, abs=1e-6)  # float32 seconds
    assert [e.time for e in kinetics.events] == sorted(e.time for e in kinetics.events)
    qualisys = shared_contents["ezc3d_Qualisys.c3d"]
    assert [e.label for e in qualisys.events] == ["LHS", "RTO", "RHS", "LTO", "LHS", "RTO", "RHS"]
    assert all(e.context == "" for e in qualisys.events)
