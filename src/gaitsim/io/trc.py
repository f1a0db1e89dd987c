"""TRC marker trajectory files (``PathFileType 4``).

Layout of a TRC file (tab-separated; the second and third lines are abridged here)::

    PathFileType  4  (X/Y/Z)  subject01_walk.trc
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  ...
    60.00     60.00       151        41          mm     60.00         ...
    Frame#  Time  R.ASIS        L.ASIS  ...        <- each name followed by two empty fields
                  X1  Y1  Z1    X2  Y2  Z2  ...
                                                   <- usually one blank line
    1       0.000 617.2 1055.2 170.7  ...          <- missing markers: empty fields or NaN

Positions are converted to metres on reading (from ``Units``: mm, cm or m).
Every problem with the content of a file is reported as a
:class:`~gaitsim.errors.FileFormatError` naming the file and the (1-based) line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitsim.errors import FileFormatError
from gaitsim.io.storage import (
    _CONTROL,
    StrPath,
    _check_time,
    _close_matches_message,
    _frozen_array,
    _parse_float,
    _parse_uint,
    _read_lines,
    _show,
    _split_fields,
    _validate_labels,
    _validate_time,
)

__all__ = ["MarkerTable", "read_trc", "write_trc", "UNIT_SCALES"]

#: Length of one file unit in metres, by (lower-case) ``Units`` value.
UNIT_SCALES: dict[str, float] = {
    "mm": 1e-3,
    "millimeters": 1e-3,
    "millimetres": 1e-3,
    "cm": 1e-2,
    "centimeters": 1e-2,
    "centimetres": 1e-2,
    "m": 1.0,
    "meters": 1.0,
    "metres": 1.0,
}
_REQUIRED_KEYS = ("DataRate", "NumFrames", "NumMarkers", "Units")
_WRITE_KEYS = (
    "DataRate",
    "CameraRate",
    "NumFrames",
    "NumMarkers",
    "Units",
    "OrigDataRate",
    "OrigDataStartFrame",
    "OrigNumFrames",
)
_AXES = ("X", "Y", "Z")


@dataclass(frozen=True, eq=False)
class MarkerTable:
    """Marker trajectories.

    The arrays are copied on construction and made read-only.

    Parameters
    ----------
    marker_names
        Names of the markers: non-empty, unique, without surrounding blanks or control
        characters (tabs, line breaks...).
    time
        Sample times in seconds, shape ``(n,)``; finite and non-decreasing.
    positions
        Marker positions in metres, shape ``(n, n_markers, 3)``; NaN where a marker is
        missing.
    rate
        Sampling rate in Hz (``DataRate``), positive.
    units_in_file
        The ``Units`` of the file the table was read from (informative only; positions
        are always in metres).

    Raises
    ------
    ValueError
        If the shapes are inconsistent, a name is invalid, the rate is not positive or
        time is not finite and non-decreasing.
    """

    marker_names: tuple[str, ...]
    time: np.ndarray
    positions: np.ndarray
    rate: float
    units_in_file: str = "m"

    def __post_init__(self) -> None:
        names = _validate_labels(self.marker_names, "marker names")
        time = _frozen_array(self.time, 1, "time")
        positions = np.array(self.positions, dtype=np.float64)
        if positions.size == 0 and positions.ndim != 3:
            positions = positions.reshape(time.shape[0], len(names), 3)
        expected = (time.shape[0], len(names), 3)
        if positions.shape != expected:
            raise ValueError(f"positions must have shape {expected}, got {positions.shape}")
        positions.setflags(write=False)
        _validate_time(time)
        rate = float(self.rate)
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be positive and finite, got {self.rate!r}")
        object.__setattr__(self, "marker_names", names)
        object.__setattr__(self, "time", time)
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "units_in_file", str(self.units_in_file))

    @property
    def n_frames(self) -> int:
        """Number of frames (time samples)."""
        return int(self.time.shape[0])

    def marker(self, name: str) -> np.ndarray:
        """Return the trajectory of one marker in metres (read-only view, shape ``(n, 3)``).

        Raises
        ------
        LookupError
            If there is no such marker; the message lists close matches.
        """
        try:
            index = self.marker_names.index(name)
        except ValueError:
            raise LookupError(
                _close_matches_message(name, self.marker_names, "marker", "the marker table")
            ) from None
        return self.positions[:, index, :]


def _nonempty(fields: list[str]) -> list[str]:
    return [f for f in fields if f]


def _header(path: StrPath, lines: list[str]) -> dict[str, str]:
    """Parse lines 1-3 and return the header entries (key -> value)."""
    if len(lines) < 3:
        raise FileFormatError(path, max(len(lines), 1), "file ends inside the TRC header")
    first = lines[0].split()
    if not first or first[0] != "PathFileType":
        raise FileFormatError(path, 1, "first line must start with 'PathFileType'")
    keys = _nonempty(_split_fields(lines[1]))
    values = _nonempty(_split_fields(lines[2]))
    if len(keys) != len(values):
        raise FileFormatError(
            path, 3, f"{len(values)} header values for {len(keys)} header keys on line 2"
        )
    header: dict[str, str] = {}
    for key in keys:
        if key in header:
            raise FileFormatError(path, 2, f"header key {_show(key)} repeated")
        header[key] = values[len(header)]
    missing = [k for k in _REQUIRED_KEYS if k not in header]
    if missing:
        raise FileFormatError(path, 2, f"missing header key(s): {', '.join(missing)}")
    return header


def read_trc(path: StrPath) -> MarkerTable:
    """Read a TRC marker file.

    Parameters
    ----------
    path
        The file to read.

    Returns
    -------
    MarkerTable
        The markers, with positions converted to metres.

    Raises
    ------
    FileFormatError
        If the content is malformed: invalid UTF-8, bad or missing header entries,
        unknown ``Units``, ``NumMarkers`` not matching the marker names or coordinate
        labels, ``NumFrames`` not matching the number of rows, duplicate marker names,
        rows of the wrong length, non-numeric values, no data rows, time not finite or
        decreasing, blank line inside the data. Trailing blank lines are accepted.
    OSError
        If the file cannot be read (e.g. ``FileNotFoundError``).
    """
    lines = _read_lines(path)
    header = _header(path, lines)

    rate = _parse_float(header["DataRate"])
    if rate is None or not math.isfinite(rate) or rate <= 0:
        raise FileFormatError(
            path, 3, f"DataRate={_show(header['DataRate'])} is not a positive number"
        )
    n_frames = _parse_uint(header["NumFrames"])
    if n_frames is None:
        raise FileFormatError(path, 3, f"NumFrames={_show(header['NumFrames'])} is not an integer")
    n_markers = _parse_uint(header["NumMarkers"])
    if n_markers is None:
        raise FileFormatError(
            path, 3, f"NumMarkers={_show(header['NumMarkers'])} is not an integer"
        )
    units = header["Units"]
    scale = UNIT_SCALES.get(units.lower())
    if scale is None:
        raise FileFormatError(path, 3, f"unknown Units {_show(units)}; expected one of mm, cm, m")

    if len(lines) < 4:
        raise FileFormatError(path, len(lines), "missing marker names line (line 4)")
    fields = _split_fields(lines[3])
    if len(fields) < 2 or fields[0].lower() != "frame#" or fields[1].lower() != "time":
        raise FileFormatError(path, 4, "marker names line must start with 'Frame#' and 'Time'")
    names = _nonempty(fields[2:])
    if len(names) != n_markers:
        raise FileFormatError(
            path, 4, f"{len(names)} marker names but NumMarkers={n_markers} on line 3"
        )
    seen: set[str] = set()
    for name in names:
        if _CONTROL.search(name):
            raise FileFormatError(
                path, 4, f"marker name {_show(name)} contains a control character"
            )
        if name in seen:
            raise FileFormatError(path, 4, f"duplicate marker name {_show(name)}")
        seen.add(name)

    if len(lines) < 5:
        raise FileFormatError(path, len(lines), "missing coordinate labels line (line 5)")
    n_coordinate_labels = len(_nonempty(_split_fields(lines[4])))
    if n_coordinate_labels != 3 * n_markers:
        raise FileFormatError(
            path,
            5,
            f"{n_coordinate_labels} coordinate labels (X1 Y1 Z1 ...) but "
            f"NumMarkers={n_markers} needs {3 * n_markers}",
        )

    n_columns = 2 + 3 * n_markers
    times: list[float] = []
    rows: list[list[float]] = []
    line_numbers: list[int] = []
    blank_line: int | None = None
    for index in range(5, len(lines)):
        line_no = index + 1
        line = lines[index]
        if not line.strip():
            if rows and blank_line is None:
                blank_line = line_no
            continue
        if blank_line is not None:
            raise FileFormatError(
                path, blank_line, f"blank line inside the data (data continue on line {line_no})"
            )
        fields = _split_fields(line)
        if len(fields) > n_columns and not any(fields[n_columns:]):
            del fields[n_columns:]
        if len(fields) != n_columns:
            raise FileFormatError(
                path,
                line_no,
                f"row has {len(fields)} fields, expected {n_columns} "
                f"(Frame#, Time and 3 per marker for {n_markers} markers)",
            )
        frame = _parse_float(fields[0])
        if frame is None or not math.isfinite(frame):
            raise FileFormatError(path, line_no, f"frame number {_show(fields[0])} is not a number")
        t = _parse_float(fields[1])
        if t is None:
            raise FileFormatError(path, line_no, f"time {_show(fields[1])} is not a number")
        values: list[float] = []
        for column, token in enumerate(fields[2:]):
            if not token:
                values.append(math.nan)
                continue
            value = _parse_float(token)
            if value is None:
                marker, axis = divmod(column, 3)
                raise FileFormatError(
                    path,
                    line_no,
                    f"value {_show(token)} for {_AXES[axis]} of marker {_show(names[marker])} "
                    "is not a number",
                )
            values.append(value)
        times.append(t)
        rows.append(values)
        line_numbers.append(line_no)

    if not rows:
        raise FileFormatError(path, len(lines), "no data rows")
    if len(rows) != n_frames:
        raise FileFormatError(
            path, 3, f"NumFrames={n_frames} but the file has {len(rows)} data rows"
        )
    time = np.array(times, dtype=np.float64)
    _check_time(path, time, line_numbers)
    positions = np.array(rows, dtype=np.float64).reshape(len(rows), n_markers, 3) * scale
    return MarkerTable(
        marker_names=tuple(names),
        time=time,
        positions=positions,
        rate=rate,
        units_in_file=units,
    )


def write_trc(table: MarkerTable, path: StrPath, units: str = "mm", *, precision: int = 10) -> None:
    """Write a marker table as a TRC file that OpenSim (and :func:`read_trc`) reads.

    Parameters
    ----------
    table
        The markers (positions in metres); it must have at least one frame.
    path
        Destination file (overwritten); its name is written on the first line.
    units
        Length unit of the file: ``"mm"``, ``"cm"`` or ``"m"``.
    precision
        Significant digits of the values (``%.{precision}g``).

    Notes
    -----
    Missing (NaN) coordinates are written as ``NaN``, which OpenSim's ``TRCFileAdapter``
    reads back as missing.

    Raises
    ------
    ValueError
        If ``units`` is not one of the above or the table has no frames.
    """
    if units not in ("mm", "cm", "m"):
        raise ValueError(f"units must be 'mm', 'cm' or 'm', got {_show(units)}")
    if table.n_frames == 0:
        raise ValueError("cannot write a marker table without frames")
    if not 1 <= precision <= 17:
        raise ValueError(f"precision must be between 1 and 17, got {precision}")
    fmt = f"%.{precision}g"
    rate = fmt % table.rate
    n = table.n_frames
    m = len(table.marker_names)
    out = [
        f"PathFileType\t4\t(X/Y/Z)\t{Path(path).name}",
        "\t".join(_WRITE_KEYS),
        "\t".join([rate, rate, str(n), str(m), units, rate, "1", str(n)]),
        "\t".join(["Frame#", "Time", *(f"{name}\t\t" for name in table.marker_names)]),
        "\t".join(["", "", *(f"{a}{i}" for i in range(1, m + 1) for a in _AXES)]),
        "",
    ]
    values = (table.positions / UNIT_SCALES[units]).reshape(n, 3 * m)
    for frame, (t, row) in enumerate(zip(table.time.tolist(), values.tolist(), strict=True)):
        cells = ["NaN" if math.isnan(v) else fmt % v for v in row]
        out.append("\t".join([str(frame + 1), fmt % t, *cells]))
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8", newline="\n")
