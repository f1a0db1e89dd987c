"""OpenSim Storage files (``.sto`` and ``.mot``).

A Storage file is a text file made of a header, a line of column labels and rows of
numbers::

    Coordinates                  <- optional name line (old style)
    version=1
    nRows=151
    nColumns=11                  <- counts the time column
    inDegrees=yes
    Units are S.I. units ...     <- optional free text
    endheader
    time	pelvis_tilt	...      <- first label is always time
    0.0	10.33	...

Newer files (written by OpenSim 4 ``STOFileAdapter``) omit ``nRows``/``nColumns``, may
start with an empty name line and carry extra keys such as ``DataType=double`` and
``OpenSimVersion=4.3``; files written by Moco omit the name line altogether. All of these
are read by :func:`read_storage`.

Every problem with the content of a file is reported as a
:class:`~gaitsim.errors.FileFormatError` naming the file and the (1-based) line.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitsim.errors import FileFormatError

__all__ = ["TimeSeriesTable", "read_storage", "write_storage"]

StrPath = str | os.PathLike[str]

# A header line ``key=value``; keys are identifiers, so that free text containing an
# equals sign (``Units are ... a = b``) stays free text.
_KEY_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]*)\s*=(.*)", re.ASCII)
_UINT = re.compile(r"[0-9]{1,15}", re.ASCII)
# NaN spellings written by C/C++ runtimes that Python's float() does not accept.
_EXOTIC_NAN = re.compile(r"[+-]?(?:nan\([A-Za-z0-9_]*\)|1\.#(?:QNAN|SNAN|IND)0*)", re.ASCII | re.I)
# Keys that TimeSeriesTable stores in dedicated fields (compared case-insensitively).
_RESERVED_KEYS = frozenset({"version", "nrows", "ncolumns", "indegrees"})
_DESCRIPTION_KEY = "description"
# Labels and marker names may not contain ASCII control characters (tab, CR, LF, NUL...).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------------------------------
# Helpers shared with the other readers of gaitsim.io (private API).
# ---------------------------------------------------------------------------------------


def _read_lines(path: StrPath) -> list[str]:
    """Read a text file as UTF-8 and split it into lines (without line terminators).

    Accepts ``\\n``, ``\\r\\n`` and (old Mac) ``\\r`` line endings and a UTF-8 byte order
    mark. A final line terminator does not produce an extra empty line.

    Raises
    ------
    FileFormatError
        If the file is not valid UTF-8 (with the line of the first bad byte).
    OSError
        If the file cannot be read.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FileFormatError(
            path, line, f"invalid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n")
    if "\n" not in text:
        text = text.replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _show(token: str, limit: int = 40) -> str:
    """``repr`` of a token from a file, shortened for error messages."""
    return repr(token) if len(token) <= limit else repr(token[:limit]) + "..."


def _parse_float(token: str) -> float | None:
    """Parse one numeric token strictly; return ``None`` if it is not a number.

    Unlike :class:`float` this rejects underscores (``1_000``) and non-ASCII digits, and
    it accepts the NaN spellings of C runtimes (``-nan(ind)``, ``1.#QNAN``).
    """
    if token.isascii() and "_" not in token:
        try:
            return float(token)
        except ValueError:
            pass
    if _EXOTIC_NAN.fullmatch(token):
        return math.nan
    return None


def _parse_uint(token: str) -> int | None:
    """Parse a non-negative decimal integer of at most 15 digits, else ``None``."""
    return int(token) if _UINT.fullmatch(token) else None


def _split_fields(line: str) -> list[str]:
    """Split a line on tabs if it has any, otherwise on runs of whitespace."""
    if "\t" in line:
        return [f.strip() for f in line.split("\t")]
    return line.split()


def _check_time(path: StrPath, time: np.ndarray, line_numbers: list[int]) -> None:
    """Check that ``time`` is finite and non-decreasing; raise on the offending line."""
    bad = np.flatnonzero(~np.isfinite(time))
    if bad.size:
        i = int(bad[0])
        raise FileFormatError(path, line_numbers[i], f"time value {float(time[i])!r} is not finite")
    back = np.flatnonzero(np.diff(time) < 0)
    if back.size:
        i = int(back[0]) + 1
        raise FileFormatError(
            path,
            line_numbers[i],
            f"time decreases from {float(time[i - 1])!r} (line {line_numbers[i - 1]}) "
            f"to {float(time[i])!r}",
        )


def _close_matches_message(wanted: str, available: Iterable[str], what: str, where: str) -> str:
    """Build the message of a :class:`LookupError` for an unknown name."""
    available = list(available)
    close = difflib.get_close_matches(wanted, available, n=5, cutoff=0.6)
    message = f"no {what} {wanted!r} in {where}"
    if close:
        return f"{message}; close matches: {', '.join(repr(c) for c in close)}"
    shown = ", ".join(repr(a) for a in available[:10])
    more = f", ... ({len(available)} in all)" if len(available) > 10 else ""
    return f"{message}; available: {shown}{more}" if available else f"{message} (it is empty)"


def _validate_labels(labels: Iterable[object], what: str) -> tuple[str, ...]:
    """Check column/marker names for use in a table (raises ``ValueError``/``TypeError``)."""
    result: list[str] = []
    seen: set[str] = set()
    for label in labels:
        if not isinstance(label, str):
            raise TypeError(f"{what} must be strings, got {label!r}")
        result.append(label)
        if not label or label != label.strip():
            raise ValueError(f"{what} must be non-empty without surrounding blanks: {label!r}")
        if _CONTROL.search(label):
            raise ValueError(f"{what} must not contain control characters: {label!r}")
        if label in seen:
            raise ValueError(f"duplicate {what[:-1]} {label!r}")
        seen.add(label)
    return tuple(result)


def _frozen_array(values: object, ndim: int, what: str) -> np.ndarray:
    """Copy ``values`` into a read-only float64 array with ``ndim`` dimensions."""
    array = np.array(values, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimension(s), got shape {array.shape}")
    array.setflags(write=False)
    return array


def _validate_time(time: np.ndarray) -> None:
    if not np.all(np.isfinite(time)):
        raise ValueError("time must be finite")
    if np.any(np.diff(time) < 0):
        raise ValueError("time must be non-decreasing")


# ---------------------------------------------------------------------------------------
# TimeSeriesTable
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TimeSeriesTable:
    """Columns of numbers sampled at common times, as stored in a ``.sto``/``.mot`` file.

    The arrays are copied on construction and made read-only.

    Parameters
    ----------
    name
        Name of the table (the first header line of old-style files; ``""`` if none).
    labels
        Column labels, excluding ``time``: non-empty, unique, without surrounding blanks
        or control characters (tabs, line breaks...), and none equal to ``time`` (in any
        case).
    time
        Sample times, shape ``(n,)``; finite and non-decreasing.
    data
        Values, shape ``(n, len(labels))``. NaN is allowed (OpenSim writes ``nan``).
    in_degrees
        Whether rotational columns are in degrees (header ``inDegrees``).
    metadata
        Other header entries, e.g. ``{"DataType": "double"}``; free text lines of the
        header are kept under the key ``"description"`` (lines joined with ``"\\n"``).

    Raises
    ------
    ValueError
        If the shapes are inconsistent, a label is invalid or time is not finite and
        non-decreasing.
    """

    name: str
    labels: tuple[str, ...]
    time: np.ndarray
    data: np.ndarray
    in_degrees: bool = False
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        labels = _validate_labels(self.labels, "labels")
        if any(label.lower() == "time" for label in labels):
            raise ValueError("'time' is not allowed among the labels (it is the time column)")
        time = _frozen_array(self.time, 1, "time")
        data = np.array(self.data, dtype=np.float64)
        if data.size == 0 and data.ndim != 2:
            data = data.reshape(time.shape[0], len(labels))
        if data.shape != (time.shape[0], len(labels)):
            raise ValueError(
                f"data must have shape (n_times, n_labels) = {(time.shape[0], len(labels))}, "
                f"got {data.shape}"
            )
        data.setflags(write=False)
        _validate_time(time)
        metadata = {str(k): str(v) for k, v in dict(self.metadata).items()}
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "time", time)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "in_degrees", bool(self.in_degrees))
        object.__setattr__(self, "metadata", metadata)

    @property
    def n_rows(self) -> int:
        """Number of time samples."""
        return int(self.time.shape[0])

    def _index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            where = f"table {self.name!r}" if self.name else "the table"
            raise LookupError(_close_matches_message(label, self.labels, "column", where)) from None

    def column(self, label: str) -> np.ndarray:
        """Return the values of one column (a read-only view, shape ``(n,)``).

        ``"time"`` returns :attr:`time`.

        Raises
        ------
        LookupError
            If there is no such column; the message lists close matches.
        """
        if label == "time":
            return self.time
        return self.data[:, self._index(label)]

    def select(self, labels: Iterable[str]) -> TimeSeriesTable:
        """Return a table with only the given columns, in the given order.

        Raises
        ------
        LookupError
            If a label is not a column of this table.
        ValueError
            If a label is repeated.
        """
        wanted = (labels,) if isinstance(labels, str) else tuple(labels)
        indices = [self._index(label) for label in wanted]
        if len(set(wanted)) != len(wanted):
            raise ValueError(f"labels repeated in selection: {wanted}")
        return TimeSeriesTable(
            name=self.name,
            labels=wanted,
            time=self.time,
            data=self.data[:, indices],
            in_degrees=self.in_degrees,
            metadata=self.metadata,
        )

    def with_radians(self, rotational_labels: Iterable[str]) -> TimeSeriesTable:
        """Return a copy with the named columns converted from degrees to radians.

        The copy has ``in_degrees=False``. If this table is already in radians
        (``in_degrees`` is false) it is returned unchanged, so the call is idempotent.

        Parameters
        ----------
        rotational_labels
            Labels of the rotational columns (the others are left as they are).

        Raises
        ------
        LookupError
            If a label is not a column of this table.
        """
        wanted = (rotational_labels,) if isinstance(rotational_labels, str) else rotational_labels
        indices = sorted({self._index(label) for label in wanted})
        if not self.in_degrees:
            return self
        data = np.array(self.data)
        data[:, indices] = np.deg2rad(data[:, indices])
        return TimeSeriesTable(
            name=self.name,
            labels=self.labels,
            time=self.time,
            data=data,
            in_degrees=False,
            metadata=self.metadata,
        )


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def _parse_header(
    path: StrPath, header: list[str]
) -> tuple[str, dict[str, tuple[str, int]], dict[str, str]]:
    """Split header lines into the name, reserved keys (value, line) and metadata."""
    name = ""
    reserved: dict[str, tuple[str, int]] = {}
    metadata: dict[str, str] = {}
    description: list[str] = []
    for index, raw in enumerate(header):
        line_no = index + 1
        text = raw.strip()
        match = _KEY_VALUE.fullmatch(text)
        if match is None:
            if index == 0:
                name = text
            else:
                description.append(raw.rstrip())
            continue
        key, value = match.group(1), match.group(2).strip()
        folded = key.lower()
        if folded in _RESERVED_KEYS:
            if folded in reserved:
                raise FileFormatError(
                    path,
                    line_no,
                    f"header key {_show(key)} repeated (first on line {reserved[folded][1]})",
                )
            reserved[folded] = (value, line_no)
        else:
            if key.lower() == "datatype" and value.lower() != "double":
                raise FileFormatError(
                    path,
                    line_no,
                    f"unsupported DataType {_show(value)} (only 'double' is supported)",
                )
            metadata[key] = value
    while description and not description[0].strip():
        description.pop(0)
    while description and not description[-1].strip():
        description.pop()
    if description:
        metadata.setdefault(_DESCRIPTION_KEY, "\n".join(description))
    return name, reserved, metadata


def _reserved_count(
    path: StrPath, reserved: dict[str, tuple[str, int]], key: str, shown: str
) -> tuple[int, int] | None:
    """Return (value, line) of an integer header entry, or None if absent."""
    if key not in reserved:
        return None
    value, line_no = reserved[key]
    number = _parse_uint(value)
    if number is None:
        raise FileFormatError(
            path, line_no, f"{shown}={_show(value)} is not a non-negative integer"
        )
    return number, line_no


def _parse_labels(path: StrPath, line: str, line_no: int) -> tuple[str, ...]:
    fields = _split_fields(line)
    while fields and fields[-1] == "":
        fields.pop()
    if not fields:
        raise FileFormatError(path, line_no, "missing column labels after 'endheader'")
    for position, label in enumerate(fields, start=1):
        if not label:
            raise FileFormatError(path, line_no, f"column label {position} is empty")
        if _CONTROL.search(label):
            raise FileFormatError(
                path, line_no, f"column label {_show(label)} contains a control character"
            )
    if fields[0].lower() != "time":
        raise FileFormatError(
            path, line_no, f"first column label must be 'time', got {_show(fields[0])}"
        )
    seen: dict[str, int] = {}
    for position, label in enumerate(fields, start=1):
        key = label.lower() if position == 1 else label
        if key in seen or (position > 1 and label.lower() == "time"):
            raise FileFormatError(
                path,
                line_no,
                f"duplicate column label {_show(label)} "
                f"(columns {seen.get(key, 1)} and {position})",
            )
        seen[key] = position
    return tuple(fields[1:])


def _parse_rows(
    path: StrPath, lines: list[str], start: int, columns: tuple[str, ...]
) -> tuple[list[list[float]], list[int]]:
    """Parse the numeric rows from ``lines[start:]``; ``columns`` include ``time``."""
    n_columns = len(columns)
    rows: list[list[float]] = []
    line_numbers: list[int] = []
    blank_line: int | None = None
    for index in range(start, len(lines)):
        line = lines[index]
        tokens = line.split()
        if not tokens:
            if blank_line is None:
                blank_line = index + 1
            continue
        line_no = index + 1
        if blank_line is not None:
            raise FileFormatError(
                path, blank_line, f"blank line inside the data (data continue on line {line_no})"
            )
        if len(tokens) != n_columns:
            raise FileFormatError(
                path,
                line_no,
                f"row has {len(tokens)} values, expected {n_columns} (one per column label)",
            )
        values: list[float] | None = None
        if line.isascii() and "_" not in line:
            try:
                values = [float(t) for t in tokens]
            except ValueError:
                values = None
        if values is None:
            values = []
            for token, label in zip(tokens, columns, strict=True):
                value = _parse_float(token)
                if value is None:
                    raise FileFormatError(
                        path,
                        line_no,
                        f"value {_show(token)} in column {_show(label)} is not a number",
                    )
                values.append(value)
        rows.append(values)
        line_numbers.append(line_no)
    return rows, line_numbers


def read_storage(path: StrPath) -> TimeSeriesTable:
    """Read an OpenSim Storage file (``.sto`` or ``.mot``).

    Both header styles are accepted: the old one (name line, ``version=1``, ``nRows``,
    ``nColumns``, ``inDegrees``, free text, ``endheader``) and the OpenSim 4 one (no or
    empty name line, ``DataType``, ``OpenSimVersion``, no row/column counts). Columns may
    be separated by tabs or blanks.

    Parameters
    ----------
    path
        The file to read.

    Returns
    -------
    TimeSeriesTable
        The table; ``in_degrees`` is false when the header has no ``inDegrees``.

    Raises
    ------
    FileFormatError
        If the content is malformed: invalid UTF-8, no ``endheader``, bad header value,
        missing/duplicate/empty labels or first label not ``time``, row of the wrong
        length, non-numeric value, no data rows, ``nRows``/``nColumns`` disagreeing
        with the data, time not finite or decreasing, blank line inside the data.
    OSError
        If the file cannot be read (e.g. ``FileNotFoundError``).
    """
    lines = _read_lines(path)
    end = next((i for i, line in enumerate(lines) if line.strip() == "endheader"), None)
    if end is None:
        raise FileFormatError(
            path, max(len(lines), 1), "no 'endheader' line (end of file reached in the header)"
        )
    name, reserved, metadata = _parse_header(path, lines[:end])

    in_degrees = False
    if "indegrees" in reserved:
        value, line_no = reserved["indegrees"]
        if value.lower() in ("yes", "true"):
            in_degrees = True
        elif value.lower() not in ("no", "false"):
            raise FileFormatError(path, line_no, f"inDegrees={_show(value)}; expected yes or no")
    if "version" in reserved:
        _reserved_count(path, reserved, "version", "version")
    n_rows = _reserved_count(path, reserved, "nrows", "nRows")
    n_columns = _reserved_count(path, reserved, "ncolumns", "nColumns")

    label_index = end + 1
    while label_index < len(lines) and not lines[label_index].strip():
        label_index += 1
    if label_index >= len(lines):
        # Name the 'endheader' line itself: the file may end right after it.
        raise FileFormatError(path, end + 1, "no column labels follow 'endheader'")
    labels = _parse_labels(path, lines[label_index], label_index + 1)
    if n_columns is not None and n_columns[0] != len(labels) + 1:
        raise FileFormatError(
            path,
            n_columns[1],
            f"nColumns={n_columns[0]} but line {label_index + 1} has {len(labels) + 1} "
            "column labels (including time)",
        )

    rows, line_numbers = _parse_rows(path, lines, label_index + 1, ("time", *labels))
    if not rows:
        raise FileFormatError(path, label_index + 1, "no data rows after the column labels")
    if n_rows is not None and n_rows[0] != len(rows):
        raise FileFormatError(
            path, n_rows[1], f"nRows={n_rows[0]} but the file has {len(rows)} data rows"
        )
    array = np.array(rows, dtype=np.float64).reshape(len(rows), len(labels) + 1)
    time = array[:, 0]
    _check_time(path, time, line_numbers)
    return TimeSeriesTable(
        name=name,
        labels=labels,
        time=time,
        data=array[:, 1:],
        in_degrees=in_degrees,
        metadata=metadata,
    )


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


def _check_header_text(text: str, what: str) -> None:
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must not contain line breaks: {text!r}")
    if text.strip() == "endheader" or _KEY_VALUE.fullmatch(text.strip()):
        raise ValueError(f"{what} would be misread as a header entry: {text!r}")


def write_storage(table: TimeSeriesTable, path: StrPath, *, precision: int = 10) -> None:
    """Write a table as an OpenSim Storage file that OpenSim 4 (and :func:`read_storage`) reads.

    The header holds the name line (omitted if the name is empty), ``version=1``,
    ``nRows``, ``nColumns`` (including time), ``inDegrees``, the metadata entries (the
    ``"description"`` entry as free text lines) and ``endheader``; then the tab-separated
    labels and rows.

    Parameters
    ----------
    table
        The table to write; it must have at least one row.
    path
        Destination file (overwritten).
    precision
        Significant digits of the values (``%.{precision}g``).

    Raises
    ------
    ValueError
        If the table is empty, or its name or metadata cannot be written unambiguously
        (line breaks, a name that looks like ``key=value``, invalid metadata keys).
    """
    if table.n_rows == 0:
        raise ValueError("cannot write a table without rows (OpenSim needs data)")
    if not 1 <= precision <= 17:
        raise ValueError(f"precision must be between 1 and 17, got {precision}")
    out: list[str] = []
    name = table.name.strip()
    if name:
        _check_header_text(name, "table name")
        out.append(name)
    out += [
        "version=1",
        f"nRows={table.n_rows}",
        f"nColumns={len(table.labels) + 1}",
        f"inDegrees={'yes' if table.in_degrees else 'no'}",
    ]
    description = ""
    for key, value in table.metadata.items():
        if key == _DESCRIPTION_KEY:
            description = value
            continue
        if key.lower() in _RESERVED_KEYS:
            continue
        if not _KEY_VALUE.fullmatch(f"{key}=") or "\n" in value or "\r" in value:
            raise ValueError(f"metadata entry {key!r}={value!r} cannot be written in a header")
        if key.lower() == "datatype" and value.strip().lower() != "double":
            raise ValueError(f"DataType={value!r}: only 'double' tables can be written")
        out.append(f"{key}={value.strip()}")
    for line in description.split("\n") if description else ():
        if line.strip():
            _check_header_text(line, "description line")
        out.append(line.rstrip())
    out.append("endheader")
    out.append("\t".join(("time", *table.labels)))
    fmt = f"%.{precision}g"
    for t, row in zip(table.time.tolist(), table.data.tolist(), strict=True):
        out.append("\t".join([fmt % t, *(fmt % v for v in row)]))
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8", newline="\n")
