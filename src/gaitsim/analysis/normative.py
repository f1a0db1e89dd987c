"""Normative gait curves: mean and standard deviation over the gait cycle.

A :class:`NormativeCurves` holds, for each variable, the mean and the standard deviation
(SD) at 101 points, 0 to 100 % of the gait cycle, where **0 % is the right foot's initial
contact** (heel strike). Curves read from files are interpolated to these points linearly
and periodically (the value at 100 % is the value at 0 % unless the file gives both).

Variable names and units
------------------------
Variables are named like the model quantities they are compared with, in the model's
sign convention (OpenSim's: knee flexion is a *negative* ``knee_angle``):

* joint angles: the coordinate names, ``hip_flexion_r``, ``knee_angle_r``,
  ``ankle_angle_r``, ... ``_l`` (rad);
* ground reaction forces: ``grf_x_r``, ``grf_y_r``, ``grf_x_l``, ``grf_y_l`` (forward and
  upward, in body weights ``BW``);
* joint moments, if a source has them: ``<coordinate>_moment`` (N m/kg);
* muscle activations, if a source has them: ``<muscle>_activation`` (no unit).

File formats read by :func:`load_normative`
-------------------------------------------
**Winter_normal.csv**, the CSV conversion of ``Winter_normal.mat`` from the BioMAC-Sim
Toolbox (D. A. Winter's normal adult gait at 1.325 m/s). It is recognised by its columns:
a ``node`` column, then ``<group>:<variable>:mean[<unit>]`` and
``<group>:<variable>:var[<unit>^2]`` for each variable (e.g.
``angle:knee_angle_r:mean[rad]``, ``GRF:GRF_y_r:var[BW^2]``), one row per node of the
stride. Comment lines (``#``) before the columns may give the events as 1-based node
indices (``events (1-based node index): R_HS@1.0; L_HS@26.0; R_HS@51.0``), the speed
(``speed:speed = [1.325] m/s``) and the stride duration (``duration:dur = [1.1396] s``).
The stride runs from the first to the second right heel strike (``R_HS``); without
events, from the first node over as many nodes as there are rows. The SD is the square
root of the variance; ``GRF_x_r`` becomes ``grf_x_r``.

**gaitsim's own format, version 1** (written by :func:`write_normative`), a CSV file::

    # gaitsim-normative v1
    # name: Winter normal adult gait
    # source: D. A. Winter, Biomechanics and Motor Control of Human Movement ...
    # speed: 1.325
    # stride_time: 1.1396
    # units: knee_angle_r=rad, grf_y_r=BW
    percent,knee_angle_r:mean,knee_angle_r:sd,grf_y_r:mean,grf_y_r:sd
    0,-0.0692896,0.0731293,0.0652396,0.0581040
    1,...

* Line 1 is exactly ``# gaitsim-normative v1``.
* Then comment lines ``# key: value``; the keys read are ``name``, ``source``, ``speed``
  (m/s, or ``unknown``), ``stride_time`` (s, or ``unknown``) and ``units`` (required:
  ``variable=unit`` pairs separated by commas, one per variable, an empty unit meaning
  dimensionless). Other comment lines are free text and are ignored. A key may appear
  only once.
* Then one line of comma-separated column labels: ``percent`` first, then
  ``<variable>:mean`` and ``<variable>:sd`` for each variable (any order, each once).
* Then one row per sample: percent of the gait cycle (0 % = right initial contact),
  strictly increasing within 0..100, and finite values (SD >= 0). Blank lines are
  ignored.

Any problem with a file raises :class:`~gaitsim.errors.FileFormatError` with the line.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitsim.errors import FileFormatError
from gaitsim.io.storage import _parse_float, _read_lines, _show

__all__ = ["PERCENT", "NormativeCurves", "load_normative", "write_normative"]

StrPath = str | os.PathLike[str]

#: The 101 points of the gait cycle (percent) at which normative curves are given.
PERCENT: np.ndarray = np.linspace(0.0, 100.0, 101)
PERCENT.setflags(write=False)

GAITSIM_HEADER = "# gaitsim-normative v1"

WINTER_SOURCE = (
    "D. A. Winter, Biomechanics and Motor Control of Human Movement (Wiley); normal adult "
    "gait as converted in the BioMAC-Sim-Toolbox (mad-lab-fau/BioMAC-Sim-Toolbox, "
    "data/Walking/Winter_normal.mat)"
)

_WINTER_COLUMN = re.compile(r"([^:\[\]]+):([^:\[\]]+):(mean|var)\[([^\]]*)\]")
_WINTER_NUMBER = re.compile(r"=\s*\[\s*([^\]\s]*)\s*\]")
_EVENT = re.compile(r"([A-Za-z_]+)@([0-9.eE+\-]+)")
_GAITSIM_COLUMN = re.compile(r"([^:,\s]+):(mean|sd)")
_COMMENT_KEY = re.compile(r"#\s*([A-Za-z_]+)\s*:(.*)")
_KEYS = ("name", "source", "speed", "stride_time", "units")
_VARIABLE = re.compile(r"[^\s:,=#]+")


@dataclass(frozen=True, eq=False)
class NormativeCurves:
    """Mean and SD of gait variables over the gait cycle (0 % = right initial contact).

    The arrays are copied on construction and made read-only.

    Parameters
    ----------
    name
        Short name of the data set, e.g. ``"Winter normal adult gait"``.
    mean, sd
        By variable name, the mean and standard deviation at the 101 points of
        :data:`PERCENT`; both mappings have the same keys. Model sign conventions (see
        the module documentation for the variable names).
    units
        Unit of each variable (``"rad"``, ``"BW"``, ``"N m/kg"``, ``""``).
    source
        Citation of the data.
    speed
        Walking speed of the data (m/s), or ``None`` if unknown.
    stride_time
        Duration of the stride (s), or ``None`` if unknown.

    Raises
    ------
    ValueError
        If the keys of ``mean``, ``sd`` and ``units`` differ, an array does not have 101
        finite values, an SD is negative or a variable name is not valid (empty, or with
        blanks, ``:``, ``,``, ``=`` or ``#``).
    """

    name: str
    mean: Mapping[str, np.ndarray]
    sd: Mapping[str, np.ndarray]
    units: Mapping[str, str]
    source: str = ""
    speed: float | None = None
    stride_time: float | None = None
    _order: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        variables = tuple(self.mean)
        if set(self.sd) != set(variables) or set(self.units) != set(variables):
            raise ValueError(
                "mean, sd and units must have the same variables: "
                f"{sorted(self.mean)} / {sorted(self.sd)} / {sorted(self.units)}"
            )
        means: dict[str, np.ndarray] = {}
        sds: dict[str, np.ndarray] = {}
        for variable in variables:
            if not isinstance(variable, str) or not _VARIABLE.fullmatch(variable):
                raise ValueError(f"invalid variable name {variable!r}")
            for what, source, target in (("mean", self.mean, means), ("sd", self.sd, sds)):
                array = np.array(source[variable], dtype=np.float64)
                if array.shape != PERCENT.shape:
                    raise ValueError(
                        f"{what} of {variable!r} must have shape {PERCENT.shape}, got {array.shape}"
                    )
                if not np.all(np.isfinite(array)):
                    raise ValueError(f"{what} of {variable!r} has non-finite values")
                array.setflags(write=False)
                target[variable] = array
            if np.any(sds[variable] < 0):
                raise ValueError(f"sd of {variable!r} has negative values")
        units = {v: str(self.units[v]) for v in variables}
        for label, value in (("speed", self.speed), ("stride_time", self.stride_time)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{label} must be a finite non-negative number, got {value!r}")
        object.__setattr__(self, "mean", means)
        object.__setattr__(self, "sd", sds)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "speed", None if self.speed is None else float(self.speed))
        object.__setattr__(
            self, "stride_time", None if self.stride_time is None else float(self.stride_time)
        )
        object.__setattr__(self, "_order", variables)

    @property
    def variables(self) -> tuple[str, ...]:
        """The variable names, in the order of the source."""
        return self._order

    @property
    def percent(self) -> np.ndarray:
        """The 101 points of the gait cycle, 0 to 100 % (read-only)."""
        return PERCENT

    def __contains__(self, variable: object) -> bool:
        return variable in self.mean

    def curve(self, variable: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the mean and SD of one variable (read-only arrays of 101 values).

        Raises
        ------
        LookupError
            If there is no such variable; the message lists close matches.
        """
        if variable not in self.mean:
            close = difflib.get_close_matches(variable, self._order, n=5, cutoff=0.6)
            hint = f"; close matches: {close}" if close else f"; available: {list(self._order)}"
            raise LookupError(f"no variable {variable!r} in normative data {self.name!r}{hint}")
        return self.mean[variable], self.sd[variable]


# ---------------------------------------------------------------------------------------
# Interpolation
# ---------------------------------------------------------------------------------------


def _periodic_to_percent(percent: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Interpolate samples at ``percent`` (increasing, in [0, 100]) to :data:`PERCENT`.

    Linear and periodic: if 100 % is absent the curve wraps around to its value at the
    first sample; if 100 % is present and 0 % is not, 0 % takes the value at 100 %.
    """
    if percent[-1] >= 100.0:
        if percent[0] > 0.0:
            percent = np.concatenate(([0.0], percent))
            values = np.concatenate((values[-1:], values))
        return np.interp(PERCENT, percent, values)
    return np.interp(PERCENT, percent, values, period=100.0)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def load_normative(path: StrPath) -> NormativeCurves:
    """Read normative curves from a file (format detected from its content).

    Parameters
    ----------
    path
        A ``Winter_normal.csv`` conversion or a file in gaitsim's normative format
        (both described in the module documentation).

    Returns
    -------
    NormativeCurves
        The curves at 101 points of the gait cycle, 0 % at right initial contact.

    Raises
    ------
    FileFormatError
        If the file is in neither format or its content is malformed (with the line).
    OSError
        If the file cannot be read.
    """
    lines = _read_lines(path)
    if not lines:
        raise FileFormatError(path, 1, "the file is empty")
    first = lines[0].strip()
    if first == GAITSIM_HEADER:
        return _read_gaitsim(path, lines)
    if first.startswith("# gaitsim-normative"):
        raise FileFormatError(
            path, 1, f"unsupported gaitsim normative version {_show(first)} (expected v1)"
        )
    index = next((i for i, line in enumerate(lines) if not line.lstrip().startswith("#")), None)
    if index is not None:
        labels = [f.strip() for f in lines[index].split(",")]
        if labels[0] == "node" and any(_WINTER_COLUMN.fullmatch(f) for f in labels[1:]):
            return _read_winter(path, lines, index)
    raise FileFormatError(
        path,
        1,
        f"not a normative data file: expected {GAITSIM_HEADER!r} on line 1, or a "
        "Winter_normal.csv conversion (a 'node' column and '<group>:<variable>:mean[unit]' "
        "columns)",
    )


def _numbers(path: StrPath, line: str, line_no: int, n: int) -> list[float]:
    """Parse a comma-separated row of ``n`` finite numbers."""
    tokens = [t.strip() for t in line.split(",")]
    if len(tokens) != n:
        raise FileFormatError(path, line_no, f"row has {len(tokens)} values, expected {n}")
    values = []
    for position, token in enumerate(tokens, start=1):
        value = _parse_float(token)
        if value is None or not math.isfinite(value):
            raise FileFormatError(
                path, line_no, f"value {_show(token)} in column {position} is not a finite number"
            )
        values.append(value)
    return values


def _data_rows(
    path: StrPath, lines: list[str], start: int, n_columns: int
) -> tuple[np.ndarray, list[int]]:
    """Parse the rows after the column labels (blank lines skipped)."""
    rows: list[list[float]] = []
    line_numbers: list[int] = []
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            raise FileFormatError(path, index + 1, "comment line among the data rows")
        rows.append(_numbers(path, line, index + 1, n_columns))
        line_numbers.append(index + 1)
    if len(rows) < 2:
        raise FileFormatError(path, max(start, 1), f"need at least 2 data rows, found {len(rows)}")
    return np.array(rows, dtype=np.float64), line_numbers


def _read_winter(path: StrPath, lines: list[str], label_index: int) -> NormativeCurves:
    """Read the CSV conversion of BioMAC-Sim-Toolbox's ``Winter_normal.mat``."""
    speed: float | None = None
    duration: float | None = None
    right_strikes: list[tuple[float, int]] = []
    for index in range(label_index):
        text = lines[index].lstrip("#").strip()
        line_no = index + 1
        lowered = text.lower()
        if lowered.startswith(("speed", "duration")):
            match = _WINTER_NUMBER.search(text)
            value = _parse_float(match.group(1)) if match else None
            if value is None or not math.isfinite(value) or value < 0:
                raise FileFormatError(path, line_no, f"cannot read the value in {_show(text, 60)}")
            if lowered.startswith("speed"):
                speed = value
            else:
                duration = value
        if "events" in lowered:
            for name, node in _EVENT.findall(text):
                value = _parse_float(node)
                if value is None or not math.isfinite(value):
                    raise FileFormatError(path, line_no, f"bad event node {_show(node)}")
                if name.upper() == "R_HS":
                    right_strikes.append((value, line_no))

    label_line = label_index + 1
    labels = [f.strip() for f in lines[label_index].split(",")]
    columns: dict[str, dict[str, int]] = {}
    units: dict[str, str] = {}
    for position, label in enumerate(labels[1:], start=1):
        match = _WINTER_COLUMN.fullmatch(label)
        if match is None:
            raise FileFormatError(
                path,
                label_line,
                f"column {position + 1} {_show(label)} is not '<group>:<variable>:mean[unit]' "
                "or '<group>:<variable>:var[unit^2]'",
            )
        group, variable, statistic, unit = match.groups()
        if group.strip().lower() == "grf":
            variable = variable.lower()
        if statistic in columns.setdefault(variable, {}):
            raise FileFormatError(path, label_line, f"duplicate column {_show(label)}")
        columns[variable][statistic] = position
        if statistic == "mean":
            units[variable] = unit.strip()
    for variable, found in columns.items():
        if set(found) != {"mean", "var"}:
            missing = "var" if "mean" in found else "mean"
            raise FileFormatError(path, label_line, f"no {missing} column for {_show(variable)}")

    data, line_numbers = _data_rows(path, lines, label_index + 1, len(labels))
    nodes = data[:, 0]
    expected = np.arange(len(nodes), dtype=np.float64)
    wrong = np.flatnonzero(nodes != expected)
    if wrong.size:
        i = int(wrong[0])
        raise FileFormatError(
            path, line_numbers[i], f"node {nodes[i]:g} where {i} was expected (0, 1, 2, ...)"
        )
    n_nodes = len(nodes)
    start = 0.0
    period = float(n_nodes)
    if right_strikes:
        start = right_strikes[0][0] - 1.0
        if len(right_strikes) >= 2:
            period = right_strikes[1][0] - right_strikes[0][0]
        if not 0.0 < period <= n_nodes or not 0.0 <= start < n_nodes:
            raise FileFormatError(
                path,
                right_strikes[0][1],
                f"right heel strikes at nodes {[n for n, _ in right_strikes]} do not define a "
                f"stride within the {n_nodes} nodes",
            )
    percent = np.mod(100.0 * (nodes - start) / period, 100.0)
    order = np.argsort(percent, kind="stable")
    percent = percent[order]
    if np.any(np.diff(percent) <= 0):
        raise FileFormatError(path, label_line, "nodes fall on the same point of the stride")

    mean: dict[str, np.ndarray] = {}
    sd: dict[str, np.ndarray] = {}
    for variable, found in columns.items():
        variance = data[:, found["var"]]
        negative = np.flatnonzero(variance < 0)
        if negative.size:
            i = int(negative[0])
            raise FileFormatError(
                path, line_numbers[i], f"negative variance {variance[i]!r} of {_show(variable)}"
            )
        mean[variable] = _periodic_to_percent(percent, data[order, found["mean"]])
        sd[variable] = _periodic_to_percent(percent, np.sqrt(variance[order]))
    return NormativeCurves(
        name="Winter normal adult gait",
        mean=mean,
        sd=sd,
        units=units,
        source=WINTER_SOURCE,
        speed=speed,
        stride_time=duration,
    )


def _optional_number(path: StrPath, line_no: int, key: str, text: str) -> float | None:
    if text.lower() in ("", "unknown", "none"):
        return None
    value = _parse_float(text)
    if value is None or not math.isfinite(value) or value < 0:
        raise FileFormatError(
            path, line_no, f"{key} {_show(text)} is not a non-negative number or 'unknown'"
        )
    return value


def _read_gaitsim(path: StrPath, lines: list[str]) -> NormativeCurves:
    """Read gaitsim's normative CSV format, version 1."""
    entries: dict[str, tuple[str, int]] = {}
    index = 1
    while index < len(lines) and (not lines[index].strip() or lines[index].lstrip()[0] == "#"):
        match = _COMMENT_KEY.fullmatch(lines[index].strip())
        if match and match.group(1).lower() in _KEYS:
            key = match.group(1).lower()
            if key in entries:
                raise FileFormatError(
                    path, index + 1, f"'{key}' repeated (first on line {entries[key][1]})"
                )
            entries[key] = (match.group(2).strip(), index + 1)
        index += 1
    if index >= len(lines):
        raise FileFormatError(path, len(lines), "no column labels after the header comments")
    if "units" not in entries:
        raise FileFormatError(path, index + 1, "no '# units:' line before the column labels")

    label_line = index + 1
    labels = [f.strip() for f in lines[index].split(",")]
    if labels[0] != "percent":
        raise FileFormatError(
            path, label_line, f"first column must be 'percent', got {_show(labels[0])}"
        )
    columns: dict[str, dict[str, int]] = {}
    for position, label in enumerate(labels[1:], start=1):
        match = _GAITSIM_COLUMN.fullmatch(label)
        if match is None or not _VARIABLE.fullmatch(match.group(1)):
            raise FileFormatError(
                path,
                label_line,
                f"column {position + 1} {_show(label)} is not '<variable>:mean' or '<variable>:sd'",
            )
        variable, statistic = match.groups()
        if statistic in columns.setdefault(variable, {}):
            raise FileFormatError(path, label_line, f"duplicate column {_show(label)}")
        columns[variable][statistic] = position
    if not columns:
        raise FileFormatError(path, label_line, "no variables after 'percent'")
    for variable, found in columns.items():
        if set(found) != {"mean", "sd"}:
            missing = "sd" if "mean" in found else "mean"
            raise FileFormatError(path, label_line, f"no {missing} column for {_show(variable)}")

    units_text, units_line = entries["units"]
    units: dict[str, str] = {}
    for item in units_text.split(","):
        if not item.strip():
            continue
        variable, equals, unit = item.partition("=")
        variable = variable.strip()
        if not equals or not _VARIABLE.fullmatch(variable):
            raise FileFormatError(
                path, units_line, f"units entry {_show(item.strip())} is not 'variable=unit'"
            )
        if variable in units:
            raise FileFormatError(path, units_line, f"unit of {_show(variable)} given twice")
        if variable not in columns:
            raise FileFormatError(
                path, units_line, f"unit given for {_show(variable)}, which has no columns"
            )
        units[variable] = unit.strip()
    missing_units = [v for v in columns if v not in units]
    if missing_units:
        raise FileFormatError(path, units_line, f"no unit for {', '.join(missing_units)}")

    data, line_numbers = _data_rows(path, lines, index + 1, len(labels))
    percent = data[:, 0]
    outside = np.flatnonzero((percent < 0) | (percent > 100))
    if outside.size:
        i = int(outside[0])
        raise FileFormatError(path, line_numbers[i], f"percent {percent[i]!r} is not in 0..100")
    back = np.flatnonzero(np.diff(percent) <= 0)
    if back.size:
        i = int(back[0]) + 1
        raise FileFormatError(
            path, line_numbers[i], f"percent {percent[i]!r} does not increase (strictly)"
        )
    mean: dict[str, np.ndarray] = {}
    sd: dict[str, np.ndarray] = {}
    for variable, found in columns.items():
        deviation = data[:, found["sd"]]
        negative = np.flatnonzero(deviation < 0)
        if negative.size:
            i = int(negative[0])
            raise FileFormatError(
                path, line_numbers[i], f"negative sd {deviation[i]!r} of {_show(variable)}"
            )
        mean[variable] = _periodic_to_percent(percent, data[:, found["mean"]])
        sd[variable] = _periodic_to_percent(percent, deviation)

    name = entries.get("name", (Path(path).stem, 0))[0] or Path(path).stem
    numbers: dict[str, float | None] = {"speed": None, "stride_time": None}
    for key in numbers:
        if key in entries:
            text, line_no = entries[key]
            numbers[key] = _optional_number(path, line_no, key, text)
    return NormativeCurves(
        name=name,
        mean=mean,
        sd=sd,
        units=units,
        source=entries.get("source", ("", 0))[0],
        speed=numbers["speed"],
        stride_time=numbers["stride_time"],
    )


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


def _one_line(text: str, what: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must not contain line breaks: {text!r}")
    return text.strip()


def write_normative(curves: NormativeCurves, path: StrPath) -> None:
    """Write normative curves in gaitsim's format (version 1), readable by :func:`load_normative`.

    The 101 points are written with full precision, so reading the file back gives the
    same numbers.

    Parameters
    ----------
    curves
        The curves to write.
    path
        Destination file (overwritten).

    Raises
    ------
    ValueError
        If the name, source or a unit contains a line break, or a unit contains a comma.
    """
    out = [GAITSIM_HEADER]
    out.append(f"# name: {_one_line(curves.name, 'name')}")
    if curves.source:
        out.append(f"# source: {_one_line(curves.source, 'source')}")
    out.append(f"# speed: {'unknown' if curves.speed is None else repr(curves.speed)}")
    stride = "unknown" if curves.stride_time is None else repr(curves.stride_time)
    out.append(f"# stride_time: {stride}")
    units = []
    for variable in curves.variables:
        unit = _one_line(curves.units[variable], f"unit of {variable!r}")
        if "," in unit:
            raise ValueError(f"unit of {variable!r} must not contain a comma: {unit!r}")
        units.append(f"{variable}={unit}")
    out.append(f"# units: {', '.join(units)}")
    out.append("# percent: of the gait cycle, 0 = right initial contact; sd: 1 standard deviation")
    labels = ["percent"]
    for variable in curves.variables:
        labels += [f"{variable}:mean", f"{variable}:sd"]
    out.append(",".join(labels))
    for i, percent in enumerate(PERCENT.tolist()):
        row = [f"{percent:g}"]
        for variable in curves.variables:
            row += [repr(float(curves.mean[variable][i])), repr(float(curves.sd[variable][i]))]
        out.append(",".join(row))
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8", newline="\n")
