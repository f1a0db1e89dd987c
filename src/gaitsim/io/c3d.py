"""C3D motion-capture files: markers, analog channels, force-platform definitions, events.

A C3D file (C3D.org, *The C3D File Format: A Technical User Guide*, 2021; "C3D user
guide" below) is a sequence of 512-byte blocks:

* the **header** (block 1): pointer to the parameter section, point and analog counts,
  first and last frame, the point scale (negative: data stored as floats), the first
  data block, analog samples per frame and the point rate;
* the **parameter section**: groups (``POINT``, ``ANALOG``, ``FORCE_PLATFORM``,
  ``EVENT``, ``SUBJECTS``...) holding typed, dimensioned parameters;
* the **data section**: per frame, ``x, y, z, residual word`` for every point and the
  analog samples of every channel.

How it is read
--------------
The header and the parameter section are parsed here, in Python, with every offset,
pointer, count and dimension checked against the file size and against each other
(:func:`read_c3d` lists the checks). Only a file whose structure is consistent is handed
to **ezc3d** (pyomeca/ezc3d), which reads the data section. ezc3d is not robust against
malformed input: corrupted headers and parameter sections make it crash with a
segmentation fault or loop forever (measured on corrupted copies of a small C3D:
4 segfaults and 3 hangs in 200). So the data section is read by ezc3d **in a separate
Python process** (``isolated=True``, the default) from a private copy of the validated
bytes, with a time limit: if ezc3d crashes or hangs, the caller gets a
:class:`~gaitsim.errors.FileFormatError`, never a dead process. ``isolated=False`` reads
in-process (about 0.4 s faster) for trusted files.

Conventions
-----------
* Marker positions are converted from ``POINT:UNITS`` (mm, cm, m) to metres; a marker is
  missing (NaN) in a frame when its residual is negative (C3D user guide, "3D point
  residuals": -1 marks an invalid point) or when its three coordinates are exactly zero
  (the convention of writers that do not set residuals; OpenSim's ``C3DFileAdapter``
  applies the same two rules). Non-finite coordinates are also treated as missing
  (with a warning).
* Points listed in ``POINT:ANGLES``, ``FORCES``, ``MOMENTS``, ``POWERS``, ``SCALARS`` or
  ``REACTIONS`` (model outputs such as Plug-in Gait's) are not markers; they are kept
  separately as :class:`PointOutput` in their own units.
* Analog values are scaled as ``(raw - |OFFSET|) * SCALE * GEN_SCALE`` (C3D user guide,
  "Analog data"; ezc3d takes the absolute value of ``OFFSET`` so that unsigned offsets
  above 32767 stored in the signed 16-bit parameter are read correctly).
* Times are absolute: frame ``i`` (0-based) of a file whose first frame is ``f``
  (1-based, header word 4) is at ``(f - 1 + i) / POINT:RATE`` seconds, as the times in
  the ``EVENT`` group are.
* Force-platform definitions are returned as stored (corners converted to metres); the
  ground reaction forces are computed from them by :mod:`gaitsim.capture.force_plates`.

Every problem with a file is a :class:`~gaitsim.errors.FileFormatError` (``line`` is
``None``; the message names the byte offset, group or parameter) or, for valid features
gaitsim does not read, an :class:`~gaitsim.errors.UnsupportedFeatureError`.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from gaitsim.errors import FileFormatError, UnsupportedFeatureError
from gaitsim.io.storage import StrPath
from gaitsim.io.trc import UNIT_SCALES, MarkerTable

__all__ = [
    "AnalogData",
    "C3DContent",
    "C3DEvent",
    "C3DHeader",
    "C3DParameter",
    "ForcePlatformDefinition",
    "PointOutput",
    "read_c3d",
]

_log = logging.getLogger(__name__)

BLOCK = 512
_PROCESSORS = {84: "intel", 85: "dec", 86: "mips"}
_TYPE_SIZES = {-1: 1, 1: 1, 2: 2, 4: 4}
_MAX_RATE = 1.0e6  # Hz; anything above is taken as corruption
_MAX_SUBFRAMES = 10_000  # analog or rotation samples per point frame
#: Groups of ``POINT`` whose labels are model outputs, not markers (Vicon's convention).
_OUTPUT_KINDS = {
    "ANGLES": ("angle", "ANGLE_UNITS"),
    "FORCES": ("force", "FORCE_UNITS"),
    "MOMENTS": ("moment", "MOMENT_UNITS"),
    "POWERS": ("power", "POWER_UNITS"),
    "SCALARS": ("scalar", "SCALAR_UNITS"),
    "REACTIONS": ("reaction", "REACTION_UNITS"),
}
#: Analog channels a force platform of each type uses (C3D user guide, "FORCE_PLATFORM").
PLATFORM_CHANNELS = {1: 6, 2: 6, 3: 8, 4: 6}


# ---------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class C3DParameter:
    """One parameter of the parameter section.

    Attributes
    ----------
    group, name
        Group and parameter names as stored (case kept; look-ups ignore case).
    type
        Storage type: -1 characters, 1 byte, 2 16-bit integer, 4 float.
    dimensions
        Array dimensions as stored (``()`` for a scalar).
    value
        Numbers as a read-only float64 array of shape ``dimensions`` (Fortran order, as
        the C3D user guide prescribes), or, for characters, the strings (the first
        dimension is the string length) with trailing blanks and NULs removed.
    description
        The parameter's description.
    locked
        Whether the parameter is marked locked.
    """

    group: str
    name: str
    type: int
    dimensions: tuple[int, ...]
    value: np.ndarray | tuple[str, ...]
    description: str = ""
    locked: bool = False

    @property
    def size(self) -> int:
        """Number of values (strings for a character parameter)."""
        if isinstance(self.value, tuple):
            return len(self.value)
        return int(self.value.size)

    def numbers(self) -> np.ndarray:
        """The values as a flat float64 array (Fortran order).

        Raises
        ------
        TypeError
            If the parameter holds characters.
        """
        if isinstance(self.value, tuple):
            raise TypeError(f"{self.group}:{self.name} holds characters, not numbers")
        return self.value.reshape(-1, order="F")

    def strings(self) -> tuple[str, ...]:
        """The values of a character parameter.

        Raises
        ------
        TypeError
            If the parameter holds numbers.
        """
        if not isinstance(self.value, tuple):
            raise TypeError(f"{self.group}:{self.name} holds numbers, not characters")
        return self.value


@dataclass(frozen=True)
class C3DHeader:
    """The 512-byte header block (words numbered from 1 as in the C3D user guide).

    Attributes
    ----------
    parameter_block
        First block of the parameter section (byte 1).
    processor
        Number format of the file: ``"intel"`` or ``"dec"`` (parameter section byte 4).
    n_points
        Number of 3D points (word 2).
    n_analog_words
        Analog samples per 3D frame, all channels together (word 3).
    first_frame, last_frame
        First and last frame numbers as stored (words 4 and 5, 1-based).
    scale
        Point scale factor (words 7-8); negative means floating-point data.
    data_block
        First block of the data section (word 9).
    analog_per_frame
        Analog samples per channel per 3D frame (word 10).
    frame_rate
        3D frame rate in Hz (words 11-12).
    n_events
        Number of header events (word 151).
    """

    parameter_block: int
    processor: str
    n_points: int
    n_analog_words: int
    first_frame: int
    last_frame: int
    scale: float
    data_block: int
    analog_per_frame: int
    frame_rate: float
    n_events: int


@dataclass(frozen=True)
class C3DEvent:
    """One event of the ``EVENT`` group (or of the header when the group is absent).

    Attributes
    ----------
    label
        The event label, e.g. ``"Foot Strike"`` or ``"LHS"``.
    context
        ``"Left"``, ``"Right"``, ``"General"``... (``""`` if not stored).
    time
        Absolute time in seconds (``EVENT:TIMES`` minutes * 60 + seconds).
    description, subject
        As stored (``""`` if absent).
    """

    label: str
    context: str
    time: float
    description: str = ""
    subject: str = ""


@dataclass(frozen=True, eq=False)
class AnalogData:
    """Scaled analog channels.

    Attributes
    ----------
    names, units, descriptions
        Per channel, from ``ANALOG:LABELS``, ``UNITS`` and ``DESCRIPTIONS``.
    rate
        Sampling rate in Hz.
    time
        Sample times in seconds, shape ``(n,)``.
    values
        Scaled values, shape ``(n, n_channels)``.
    """

    names: tuple[str, ...]
    units: tuple[str, ...]
    descriptions: tuple[str, ...]
    rate: float
    time: np.ndarray
    values: np.ndarray

    def channel(self, name: str) -> np.ndarray:
        """The values of the channel called ``name``.

        Raises
        ------
        LookupError
            If there is no such channel.
        """
        try:
            return self.values[:, self.names.index(name)]
        except ValueError:
            raise LookupError(f"no analog channel {name!r}") from None


@dataclass(frozen=True, eq=False)
class PointOutput:
    """A point of the file that is a model output (angle, force, moment...), not a marker.

    Attributes
    ----------
    name
        Point label.
    kind
        ``"angle"``, ``"force"``, ``"moment"``, ``"power"``, ``"scalar"`` or
        ``"reaction"``.
    units
        Units as stored (e.g. ``POINT:FORCE_UNITS``), ``""`` if absent.
    values
        Values as stored (no unit conversion), shape ``(n_frames, 3)``; NaN where the
        residual is negative.
    """

    name: str
    kind: str
    units: str
    values: np.ndarray


@dataclass(frozen=True, eq=False)
class ForcePlatformDefinition:
    """One force platform of the ``FORCE_PLATFORM`` group, as stored.

    Attributes
    ----------
    number
        1-based platform number.
    type
        Platform type (1 to 4 are read).
    corners
        The four corners in the lab frame, metres, shape ``(4, 3)``, in the stored order
        (corner 1 in the platform's +x+y quadrant, 2 in -x+y, 3 in -x-y, 4 in +x-y).
    origin
        ``FORCE_PLATFORM:ORIGIN`` converted to metres, in platform coordinates, as stored
        (no sign correction here).
    channels
        1-based analog channel numbers (6 or 8 of them).
    calibration
        The ``CAL_MATRIX`` of a type-4 platform (6 x 6, row i column j as in the C3D
        user guide), else ``None``.
    zero
        ``FORCE_PLATFORM:ZERO``: first and last frame (1-based) of the baseline, or
        ``(0, 0)`` for none.
    label
        ``FORCE_PLATFORM:LABELS`` entry, or ``""``.
    """

    number: int
    type: int
    corners: np.ndarray
    origin: np.ndarray
    channels: tuple[int, ...]
    calibration: np.ndarray | None
    zero: tuple[int, int]
    label: str = ""


@dataclass(frozen=True, eq=False)
class C3DContent:
    """Everything read from a C3D file.

    Attributes
    ----------
    path
        The file.
    header
        The header block.
    parameters
        Read-only mapping ``group -> name -> C3DParameter`` (keys upper case).
    length_unit
        ``POINT:UNITS`` (``"mm"`` when absent).
    markers
        Marker trajectories in metres in the lab frame (NaN where missing).
    residuals
        Marker residuals in metres, shape ``(n_frames, n_markers)`` (negative: missing).
    point_outputs
        Points that are model outputs (see the module docstring).
    analogs
        The analog channels.
    force_platforms
        The force platforms, in ``FORCE_PLATFORM`` order.
    events
        The events, sorted by time.
    """

    path: str
    header: C3DHeader
    parameters: Mapping[str, Mapping[str, C3DParameter]]
    length_unit: str
    markers: MarkerTable
    residuals: np.ndarray
    point_outputs: tuple[PointOutput, ...]
    analogs: AnalogData
    force_platforms: tuple[ForcePlatformDefinition, ...]
    events: tuple[C3DEvent, ...]

    def parameter(self, group: str, name: str) -> C3DParameter | None:
        """The parameter ``group:name`` (case-insensitive), or ``None`` if absent."""
        return self.parameters.get(group.upper(), {}).get(name.upper())

    def point_output(self, name: str) -> PointOutput:
        """The model output called ``name``.

        Raises
        ------
        LookupError
            If the file has no such output.
        """
        for output in self.point_outputs:
            if output.name == name:
                return output
        raise LookupError(f"no point output {name!r} in {self.path}")


# ---------------------------------------------------------------------------------------
# Header and parameter section
# ---------------------------------------------------------------------------------------


class _Bytes:
    """Bounds-checked little-endian access to the file's bytes."""

    def __init__(self, path: StrPath, raw: bytes, processor: str = "intel") -> None:
        self.path = path
        self.raw = raw
        self.processor = processor

    def error(self, problem: str) -> FileFormatError:
        return FileFormatError(self.path, None, problem)

    def need(self, offset: int, size: int, what: str) -> None:
        if offset < 0 or offset + size > len(self.raw):
            raise self.error(
                f"file ends inside {what} (needs bytes {offset}-{offset + size - 1}, "
                f"file has {len(self.raw)} bytes)"
            )

    def uint8(self, offset: int, what: str) -> int:
        self.need(offset, 1, what)
        return self.raw[offset]

    def int8(self, offset: int, what: str) -> int:
        value = self.uint8(offset, what)
        return value - 256 if value > 127 else value

    def uint16(self, offset: int, what: str) -> int:
        self.need(offset, 2, what)
        return int.from_bytes(self.raw[offset : offset + 2], "little", signed=False)

    def int16(self, offset: int, what: str) -> int:
        self.need(offset, 2, what)
        return int.from_bytes(self.raw[offset : offset + 2], "little", signed=True)

    def floats(self, offset: int, count: int, what: str) -> np.ndarray:
        self.need(offset, 4 * count, what)
        return decode_floats(self.raw[offset : offset + 4 * count], self.processor)

    def text(self, offset: int, size: int, what: str) -> str:
        self.need(offset, size, what)
        return _decode_text(self.raw[offset : offset + size])


def decode_floats(buffer: bytes, processor: str) -> np.ndarray:
    """Decode 32-bit floats of an Intel (IEEE little-endian) or DEC (VAX F) C3D file.

    A DEC F-float stores its two 16-bit words in the opposite order to an IEEE
    little-endian float and its exponent is biased by 128 with the mantissa in
    ``[0.5, 1)`` instead of 127 and ``[1, 2)``: swapping the words and dividing by 4
    converts it (C3D user guide, "DEC floating-point format"; ezc3d's ``readFloat``).
    """
    words = np.frombuffer(buffer, dtype="<u2").reshape(-1, 2)
    if processor == "dec":
        swapped = np.ascontiguousarray(words[:, ::-1]).view("<f4").reshape(-1)
        values = swapped.astype(np.float64)
        exponent_bits = np.frombuffer(buffer, dtype=np.uint8)[1::4]
        return np.where(exponent_bits != 0, values / 4.0, values)
    return np.frombuffer(buffer, dtype="<f4").astype(np.float64)


def _decode_text(data: bytes) -> str:
    """Characters of a C3D string: UTF-8 if valid, else Latin-1; NULs and trailing blanks
    removed (C3D strings are blank-padded to their dimension)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\x00", "").rstrip()


def _read_header(data: _Bytes) -> C3DHeader:
    raw = data.raw
    if len(raw) < BLOCK:
        raise data.error(f"file has {len(raw)} bytes, fewer than the 512-byte C3D header")
    if raw[1] != 0x50:
        raise data.error(f"not a C3D file: byte 2 is 0x{raw[1]:02x}, the C3D key 0x50 was expected")
    parameter_block = raw[0]
    if parameter_block < 2:
        raise data.error(
            f"header byte 1 points the parameter section to block {parameter_block}; "
            "it must be 2 or more (block 1 is the header)"
        )
    section = (parameter_block - 1) * BLOCK
    processor_code = data.uint8(section + 3, "the parameter section header")
    processor = _PROCESSORS.get(processor_code, "")
    if processor_code not in _PROCESSORS:
        raise data.error(
            f"unknown processor type {processor_code} at byte {section + 4} "
            "(84 Intel, 85 DEC or 86 MIPS expected)"
        )
    if processor == "mips":
        raise UnsupportedFeatureError(
            data.path,
            "processor type 86",
            "big-endian (MIPS/SGI) C3D files are not supported (ezc3d cannot read their data)",
        )
    data.processor = processor
    rate = float(data.floats(20, 1, "the header")[0])
    scale = float(data.floats(12, 1, "the header")[0])
    return C3DHeader(
        parameter_block=parameter_block,
        processor=processor,
        n_points=data.uint16(2, "the header"),
        n_analog_words=data.uint16(4, "the header"),
        first_frame=data.uint16(6, "the header"),
        last_frame=data.uint16(8, "the header"),
        scale=scale,
        data_block=data.uint16(16, "the header"),
        analog_per_frame=data.uint16(18, "the header"),
        frame_rate=rate,
        n_events=data.uint16(300, "the header"),
    )


def _parameter_value(
    data: _Bytes, offset: int, kind: int, dims: tuple[int, ...], what: str
) -> np.ndarray | tuple[str, ...]:
    count = math.prod(dims) if dims else 1
    size = count * _TYPE_SIZES[kind]
    data.need(offset, size, what)
    buffer = data.raw[offset : offset + size]
    if kind == -1:
        if not dims:
            return (_decode_text(buffer),)
        length = dims[0]
        n_strings = math.prod(dims[1:]) if len(dims) > 1 else 1
        if length == 0:
            return ("",) * n_strings if len(dims) > 1 else ()
        return tuple(_decode_text(buffer[i * length : (i + 1) * length]) for i in range(n_strings))
    if kind == 4:
        values = decode_floats(buffer, data.processor)
    elif kind == 2:
        values = np.frombuffer(buffer, dtype="<i2").astype(np.float64)
    else:
        values = np.frombuffer(buffer, dtype=np.int8).astype(np.float64)
    array = values.reshape(dims if dims else (), order="F").copy()
    array.setflags(write=False)
    return array


def _read_parameters(
    data: _Bytes, header: C3DHeader
) -> tuple[dict[str, dict[str, C3DParameter]], int]:
    """Parse the parameter section; return the groups and the section's end offset."""
    section = (header.parameter_block - 1) * BLOCK
    n_blocks = data.uint8(section + 2, "the parameter section header")
    if n_blocks < 1:
        raise data.error("the parameter section declares 0 blocks")
    end = section + n_blocks * BLOCK
    if end > len(data.raw):
        raise data.error(
            f"the parameter section declares {n_blocks} blocks (to byte {end}) but the "
            f"file has only {len(data.raw)} bytes"
        )
    group_names: dict[int, str] = {}
    group_records: dict[str, tuple[str, bool]] = {}
    pending: list[tuple[int, C3DParameter, int]] = []
    position = section + 4  # after the 4-byte section header
    while True:
        if position + 2 > end:
            raise data.error(
                f"parameter record at byte {position} runs past the end of the parameter "
                f"section (byte {end}); the section has no terminating record"
            )
        n_chars = data.int8(position, "a parameter record")
        if n_chars == 0:
            break
        group_id = data.int8(position + 1, "a parameter record")
        if group_id == 0:
            raise data.error(f"parameter record at byte {position} has group id 0")
        name_length = abs(n_chars)
        name_bytes = data.raw[position + 2 : position + 2 + name_length]
        if len(name_bytes) < name_length or position + 2 + name_length + 2 > end:
            raise data.error(f"parameter record at byte {position} runs past the section end")
        if any(b < 0x20 or b > 0x7E for b in name_bytes) or not name_bytes.strip():
            raise data.error(
                f"parameter record at byte {position} has an invalid name {name_bytes!r} "
                "(printable ASCII expected)"
            )
        name = name_bytes.decode("ascii").strip()
        pointer_at = position + 2 + name_length
        step = data.int16(pointer_at, "a parameter record")
        if step < 0:
            raise data.error(
                f"record {name!r} at byte {position}: the offset to the next record is "
                f"negative ({step})"
            )
        next_record = pointer_at + step if step else None
        cursor = pointer_at + 2
        if group_id < 0:
            desc_length = data.uint8(cursor, f"group {name!r}")
            description = data.text(cursor + 1, desc_length, f"the description of {name!r}")
            record_end = cursor + 1 + desc_length
            key = name.upper()
            if -group_id in group_names or key in group_records:
                raise data.error(f"group {name!r} (id {-group_id}) is defined twice")
            group_names[-group_id] = key
            group_records[key] = (description, n_chars < 0)
        else:
            kind = data.int8(cursor, f"parameter {name!r}")
            if kind not in _TYPE_SIZES:
                raise data.error(
                    f"parameter {name!r} at byte {position} has type {kind}; -1, 1, 2 or 4 expected"
                )
            n_dims = data.uint8(cursor + 1, f"parameter {name!r}")
            if n_dims > 7:
                raise data.error(f"parameter {name!r} has {n_dims} dimensions (at most 7)")
            data.need(cursor + 2, n_dims, f"the dimensions of {name!r}")
            dims = tuple(data.raw[cursor + 2 : cursor + 2 + n_dims])
            value_at = cursor + 2 + n_dims
            count = math.prod(dims) if dims else 1
            value_end = value_at + count * _TYPE_SIZES[kind]
            if value_end + 1 > end:
                raise data.error(
                    f"the values of parameter {name!r} (dimensions {dims}) run past the end "
                    f"of the parameter section"
                )
            value = _parameter_value(data, value_at, kind, dims, f"parameter {name!r}")
            desc_length = data.uint8(value_end, f"parameter {name!r}")
            description = data.text(value_end + 1, desc_length, f"the description of {name!r}")
            record_end = value_end + 1 + desc_length
            parameter = C3DParameter(
                group="",
                name=name,
                type=kind,
                dimensions=dims,
                value=value,
                description=description,
                locked=n_chars < 0,
            )
            pending.append((group_id, parameter, position))
        if record_end > end:
            raise data.error(f"record {name!r} at byte {position} runs past the section end")
        if next_record is None:
            break
        if next_record < record_end or next_record > end:
            raise data.error(
                f"record {name!r} at byte {position}: the next record would start at byte "
                f"{next_record}, outside [{record_end}, {end}]"
            )
        if next_record != record_end:
            raise data.error(
                f"record {name!r} at byte {position} ends at byte {record_end} but points to "
                f"the next record at byte {next_record}"
            )
        position = next_record

    groups: dict[str, dict[str, C3DParameter]] = {name: {} for name in group_records}
    for group_id, parameter, position in pending:
        if group_id not in group_names:
            raise data.error(
                f"parameter {parameter.name!r} at byte {position} belongs to group id "
                f"{group_id}, which is not defined"
            )
        group = group_names[group_id]
        key = parameter.name.upper()
        if key in groups[group]:
            raise data.error(f"parameter {group}:{parameter.name} is defined twice")
        groups[group][key] = C3DParameter(
            group=group,
            name=parameter.name,
            type=parameter.type,
            dimensions=parameter.dimensions,
            value=parameter.value,
            description=parameter.description,
            locked=parameter.locked,
        )
    return groups, end


# ---------------------------------------------------------------------------------------
# Consistency of header and parameters
# ---------------------------------------------------------------------------------------


class _Parameters:
    """Typed look-ups into the parsed groups, raising FileFormatError with the name."""

    def __init__(self, path: StrPath, groups: dict[str, dict[str, C3DParameter]]) -> None:
        self.path = path
        self.groups = groups

    def error(self, problem: str) -> FileFormatError:
        return FileFormatError(self.path, None, problem)

    def get(self, group: str, name: str) -> C3DParameter | None:
        return self.groups.get(group, {}).get(name)

    def numbers(self, group: str, name: str, *, required: bool = True) -> np.ndarray | None:
        parameter = self.get(group, name)
        if parameter is None:
            if required:
                raise self.error(f"parameter {group}:{name} is missing")
            return None
        if parameter.type == -1:
            raise self.error(f"parameter {group}:{name} holds characters; numbers expected")
        return parameter.numbers()

    def scalar(self, group: str, name: str, *, required: bool = True) -> float | None:
        values = self.numbers(group, name, required=required)
        if values is None:
            return None
        if values.size == 0:
            raise self.error(f"parameter {group}:{name} is empty")
        value = float(values[0])
        if not math.isfinite(value):
            raise self.error(f"parameter {group}:{name} is not finite ({value!r})")
        return value

    def count(
        self, group: str, name: str, *, required: bool = True, unsigned: bool = False
    ) -> int | None:
        """A non-negative integer. With ``unsigned``, a negative 16-bit integer is read as
        unsigned (C3D user guide: ``POINT:FRAMES`` above 32767 is stored in the signed
        word); other negative counts are errors (ezc3d would cast them to huge sizes)."""
        parameter = self.get(group, name)
        value = self.scalar(group, name, required=required)
        if value is None:
            return None
        if unsigned and parameter is not None and parameter.type == 2 and value < 0:
            value += 65536
        if value < 0 or value != int(value):
            raise self.error(f"parameter {group}:{name} = {value!r} is not a count")
        return int(value)

    def strings(self, group: str, name: str) -> list[str] | None:
        """A character parameter with its continuations (``LABELS``, ``LABELS2``...)."""
        parameter = self.get(group, name)
        if parameter is None:
            return None
        if parameter.type != -1:
            raise self.error(f"parameter {group}:{name} holds numbers; characters expected")
        values = list(parameter.strings())
        suffix = 2
        while (more := self.get(group, f"{name}{suffix}")) is not None:
            if more.type != -1:
                raise self.error(f"parameter {group}:{name}{suffix} holds numbers")
            values.extend(more.strings())
            suffix += 1
        return values

    def numbers_continued(self, group: str, name: str) -> np.ndarray | None:
        """A numeric parameter with its continuations (``SCALE``, ``SCALE2``...)."""
        first = self.numbers(group, name, required=False)
        if first is None:
            return None
        parts = [first]
        suffix = 2
        while self.get(group, f"{name}{suffix}") is not None:
            more = self.numbers(group, f"{name}{suffix}")
            assert more is not None
            parts.append(more)
            suffix += 1
        return np.concatenate(parts)


@dataclass(frozen=True)
class _Layout:
    """Sizes of the data section, as ezc3d will read it."""

    n_frames: int
    first_index: int  # 0-based index of the first frame
    n_points: int
    n_analogs: int
    analog_per_frame: int
    point_rate: float
    is_float: bool
    data_offset: int
    frame_bytes: int


def _layout(
    path: StrPath, raw: bytes, header: C3DHeader, params: _Parameters, section_end: int
) -> _Layout:
    error = params.error
    if "POINT" not in params.groups:
        raise error("the file has no POINT group")
    if "ANALOG" not in params.groups:
        raise error("the file has no ANALOG group")
    if "ROTATION" in params.groups:
        # ezc3d reads the ROTATION group's sizes even when no rotation is used.
        if params.count("ROTATION", "USED", required=False):
            raise UnsupportedFeatureError(
                path, "ROTATION:USED", "C3D rotation data are not supported"
            )
        ratio = params.count("ROTATION", "RATIO", required=False)
        if ratio is not None and ratio > _MAX_SUBFRAMES:
            raise error(f"ROTATION:RATIO = {ratio} is not a plausible samples-per-frame ratio")
    n_points = params.count("POINT", "USED")
    assert n_points is not None
    if n_points != header.n_points:
        raise error(f"the header has {header.n_points} points but POINT:USED is {n_points}")
    n_analogs = params.count("ANALOG", "USED")
    assert n_analogs is not None

    rate = params.scalar("POINT", "RATE")
    assert rate is not None
    if not 0 < rate <= _MAX_RATE:
        raise error(f"POINT:RATE = {rate!r} Hz is not a sampling rate")
    if not math.isclose(rate, header.frame_rate, rel_tol=1e-4):
        raise error(
            f"the header frame rate {header.frame_rate!r} Hz disagrees with "
            f"POINT:RATE = {rate!r} Hz"
        )

    per_frame = header.analog_per_frame
    if per_frame > _MAX_SUBFRAMES:
        raise error(f"the header stores {per_frame} analog samples per frame (implausible)")
    declared = params.scalar("ANALOG", "RATE", required=False)
    if declared is not None and not (0 <= declared <= _MAX_RATE):
        raise error(f"ANALOG:RATE = {declared!r} Hz is not a sampling rate")
    if n_analogs:
        analog_rate = params.scalar("ANALOG", "RATE")
        assert analog_rate is not None
        if not 0 < analog_rate <= _MAX_RATE:
            raise error(f"ANALOG:RATE = {analog_rate!r} Hz is not a sampling rate")
        ratio = analog_rate / rate
        if per_frame == 0 or not math.isclose(ratio, per_frame, rel_tol=1e-6):
            raise error(
                f"ANALOG:RATE / POINT:RATE = {ratio:g} but the header stores {per_frame} "
                "analog samples per frame"
            )
        if header.n_analog_words != n_analogs * per_frame:
            raise error(
                f"the header has {header.n_analog_words} analog words per frame but "
                f"ANALOG:USED * samples per frame = {n_analogs} * {per_frame}"
            )
    elif header.n_analog_words:
        raise error(
            f"ANALOG:USED is 0 but the header has {header.n_analog_words} analog words per frame"
        )

    scale = params.scalar("POINT", "SCALE") if n_points else None
    is_float = header.scale < 0
    if not math.isfinite(header.scale) or header.scale == 0:
        raise error(f"the header point scale {header.scale!r} is not a valid scale")
    if scale is not None and (scale == 0 or (scale < 0) != is_float):
        raise error(
            f"POINT:SCALE = {scale!r} disagrees with the header scale {header.scale!r} "
            "(the sign selects float or integer data)"
        )

    # Frames: the header's first/last frame words (1-based; 0 taken as a 0-based start as
    # ezc3d does), POINT:FRAMES when present and non-zero (needed above 65535 frames).
    first, last = header.first_frame, header.last_frame
    first_index = first - 1 if first else 0
    last_index = last - 1 if (last and first) else last
    n_header = last_index - first_index + 1
    frames = params.count("POINT", "FRAMES", required=False, unsigned=True)
    start = params.numbers("TRIAL", "ACTUAL_START_FIELD", required=False)
    if start is not None and start.size >= 2 and np.all(np.isfinite(start[:2])):
        low, high = (int(v) % 65536 for v in start[:2])
        long_first = low + 65536 * high
        if first == 65535 and long_first >= 1:  # the header word overflowed
            first_index = long_first - 1
        elif long_first >= 1 and long_first != first:
            _log.warning(
                "%s: TRIAL:ACTUAL_START_FIELD = %d disagrees with the header's first frame "
                "%d; times follow the header",
                path,
                long_first,
                first,
            )
    if frames:
        if n_header != frames and last < 65535:
            raise error(
                f"the header frames {first}-{last} ({n_header} frames) disagree with "
                f"POINT:FRAMES = {frames}"
            )
        n_frames = frames
    else:
        if n_header < 0:
            raise error(f"the header's last frame {last} precedes its first frame {first}")
        n_frames = n_header
    if n_points == 0 and n_analogs == 0:
        n_frames = 0

    data_start = params.count("POINT", "DATA_START", required=False)
    if data_start is not None and data_start != header.data_block:
        raise error(
            f"POINT:DATA_START = {data_start} disagrees with the header data block "
            f"{header.data_block}"
        )
    data_offset = (header.data_block - 1) * BLOCK
    if header.data_block < 1 or data_offset < section_end:
        raise error(
            f"the data section (block {header.data_block}) starts inside the header or "
            f"the parameter section (which ends at byte {section_end})"
        )
    word = 4 if is_float else 2
    frame_bytes = n_points * 4 * word + n_analogs * per_frame * word
    needed = data_offset + n_frames * frame_bytes
    if needed > len(raw):
        raise error(
            f"file is truncated: {n_frames} frames of {frame_bytes} bytes from byte "
            f"{data_offset} need {needed} bytes, the file has {len(raw)}"
        )
    return _Layout(
        n_frames=n_frames,
        first_index=first_index,
        n_points=n_points,
        n_analogs=n_analogs,
        analog_per_frame=per_frame,
        point_rate=rate,
        is_float=is_float,
        data_offset=data_offset,
        frame_bytes=frame_bytes,
    )


def _check_analog_scaling(params: _Parameters, layout: _Layout) -> None:
    """Parameters ezc3d indexes per channel without bounds checks must be long enough."""
    n = layout.n_analogs
    if n == 0:
        return
    labels = params.strings("ANALOG", "LABELS")
    if labels is None or len(labels) < n:
        raise params.error(
            f"ANALOG:LABELS has {0 if labels is None else len(labels)} labels for {n} channels"
        )
    for name in ("SCALE", "OFFSET"):
        values = params.numbers_continued("ANALOG", name)
        if values is None or values.size < n:
            size = 0 if values is None else values.size
            raise params.error(f"ANALOG:{name} has {size} values for {n} channels")
        if not np.all(np.isfinite(values[:n])):
            raise params.error(f"ANALOG:{name} has non-finite values")
    gen_scale = params.scalar("ANALOG", "GEN_SCALE")
    assert gen_scale is not None
    if not layout.is_float:
        fmt = params.strings("ANALOG", "FORMAT")
        if fmt and fmt[0].strip().upper() == "UNSIGNED":
            raise UnsupportedFeatureError(
                params.path,
                "ANALOG:FORMAT",
                "integer C3D files with UNSIGNED analog data are not supported "
                "(ezc3d reads analog words as signed)",
            )


# ---------------------------------------------------------------------------------------
# Data section through ezc3d
# ---------------------------------------------------------------------------------------

# The data-reading process: ezc3d reads the validated copy and writes plain arrays to an
# .npz file (loaded with allow_pickle=False: nothing executable crosses back).
_WORKER = r"""
import sys
import numpy as np
try:
    import ezc3d
    c = ezc3d.c3d(sys.argv[1])
    np.savez(
        sys.argv[2],
        points=np.asarray(c["data"]["points"], dtype=np.float64),
        residuals=np.asarray(c["data"]["meta_points"]["residuals"], dtype=np.float64),
        analogs=np.asarray(c["data"]["analogs"], dtype=np.float64),
    )
except Exception as exc:
    sys.stderr.write(f"{type(exc).__name__}: {exc}"[:2000])
    sys.exit(3)
"""


def _ezc3d_arrays(copy: Path) -> dict[str, np.ndarray]:
    import ezc3d  # imported lazily: only needed for in-process reads

    try:
        c = ezc3d.c3d(str(copy))
        return {
            "points": np.asarray(c["data"]["points"], dtype=np.float64),
            "residuals": np.asarray(c["data"]["meta_points"]["residuals"], dtype=np.float64),
            "analogs": np.asarray(c["data"]["analogs"], dtype=np.float64),
        }
    except Exception as exc:  # ezc3d raises RuntimeError, OSError, ValueError...
        raise FileFormatError(
            copy, None, f"ezc3d could not read the data: {type(exc).__name__}: {exc}"
        ) from None


def _read_arrays(
    path: StrPath, raw: bytes, *, isolated: bool, timeout: float
) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory(prefix="gaitsim-c3d-") as folder:
        copy = Path(folder) / "input.c3d"
        copy.write_bytes(raw)
        if not isolated:
            try:
                return _ezc3d_arrays(copy)
            except FileFormatError as exc:
                raise FileFormatError(path, None, exc.problem) from None
        out = Path(folder) / "arrays.npz"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.setdefault("OMP_NUM_THREADS", "1")
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-c", _WORKER, str(copy), str(out)],
                capture_output=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FileFormatError(
                path, None, f"ezc3d did not finish reading the data within {timeout:g} s"
            ) from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()[-500:]
            if done.returncode < 0:
                problem = f"ezc3d crashed reading the data (signal {-done.returncode})"
            else:
                problem = f"ezc3d could not read the data: {message or 'no message'}"
            raise FileFormatError(path, None, problem)
        with np.load(out, allow_pickle=False) as arrays:
            return {key: np.array(arrays[key]) for key in ("points", "residuals", "analogs")}


# ---------------------------------------------------------------------------------------
# Building the content
# ---------------------------------------------------------------------------------------


def _length_scale(params: _Parameters) -> tuple[str, float]:
    units = params.strings("POINT", "UNITS")
    if not units or not units[0].strip():
        _log.warning("%s: POINT:UNITS absent; millimetres assumed (the C3D default)", params.path)
        return "mm", 1e-3
    unit = units[0].strip()
    scale = UNIT_SCALES.get(unit.lower())
    if scale is None:
        raise params.error(f"POINT:UNITS = {unit!r} is not a length unit (mm, cm or m)")
    return unit, scale


def _point_names(params: _Parameters, n_points: int) -> list[str]:
    labels = params.strings("POINT", "LABELS") or []
    if len(labels) < n_points:
        raise params.error(f"POINT:LABELS has {len(labels)} labels for {n_points} points")
    if len(labels) > n_points:
        _log.warning(
            "%s: POINT:LABELS has %d labels for %d points; the extra labels are ignored",
            params.path,
            len(labels),
            n_points,
        )
    names = []
    for i, label in enumerate(labels[:n_points]):
        name = label.strip()
        if not name or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
            replacement = f"point_{i + 1}"
            _log.warning(
                "%s: point %d has the label %r; called %r", params.path, i + 1, label, replacement
            )
            name = replacement
        names.append(name)
    return names


def _output_kinds(params: _Parameters) -> dict[str, tuple[str, str]]:
    """Point label -> (kind, units) for the model outputs listed in the POINT group."""
    kinds: dict[str, tuple[str, str]] = {}
    for group_name, (kind, units_name) in _OUTPUT_KINDS.items():
        names = params.strings("POINT", group_name) or []
        units = params.strings("POINT", units_name) or [""]
        for name in names:
            if name.strip():
                kinds[name.strip()] = (kind, units[0].strip() if units else "")
    return kinds


def _events(params: _Parameters, header: C3DHeader, data: _Bytes) -> list[C3DEvent]:
    if "EVENT" not in params.groups:
        return _header_events(header, data)
    used = params.count("EVENT", "USED", required=False) or 0
    if used == 0:
        return []
    times = params.numbers("EVENT", "TIMES")
    assert times is not None
    if times.size < 2 * used:
        raise params.error(f"EVENT:TIMES has {times.size} values for {used} events")
    times = times[: 2 * used].reshape(used, 2)
    if not np.all(np.isfinite(times)):
        raise params.error("EVENT:TIMES has non-finite values")

    def texts(name: str, required: bool) -> list[str]:
        values = params.strings("EVENT", name)
        if values is None:
            if required:
                raise params.error(f"parameter EVENT:{name} is missing")
            return [""] * used
        if len(values) < used:
            if required:
                raise params.error(f"EVENT:{name} has {len(values)} entries for {used} events")
            # Optional texts: writers store a 0-length string array for all-blank entries.
            return values + [""] * (used - len(values))
        return values

    labels = texts("LABELS", True)
    contexts = texts("CONTEXTS", False)
    descriptions = texts("DESCRIPTIONS", False)
    subjects = texts("SUBJECTS", False)
    return [
        C3DEvent(
            label=labels[i].strip(),
            context=contexts[i].strip(),
            time=float(60.0 * times[i, 0] + times[i, 1]),
            description=descriptions[i].strip(),
            subject=subjects[i].strip(),
        )
        for i in range(used)
    ]


def _header_events(header: C3DHeader, data: _Bytes) -> list[C3DEvent]:
    count = header.n_events
    if count == 0:
        return []
    if count > 18:
        raise data.error(f"the header declares {count} events; at most 18 fit in it")
    times = data.floats(304, count, "the header events")
    events = []
    for i in range(count):
        label = data.text(396 + 4 * i, 4, "the header events")
        if not math.isfinite(times[i]):
            raise data.error(f"header event {i + 1} has a non-finite time")
        events.append(C3DEvent(label=label, context="", time=float(times[i])))
    return events


def _force_platforms(
    params: _Parameters, layout: _Layout, length_scale: float
) -> list[ForcePlatformDefinition]:
    if "FORCE_PLATFORM" not in params.groups:
        return []
    used = params.count("FORCE_PLATFORM", "USED", required=False) or 0
    if used == 0:
        return []
    error = params.error
    types = params.numbers("FORCE_PLATFORM", "TYPE")
    corners = params.numbers("FORCE_PLATFORM", "CORNERS")
    origins = params.numbers("FORCE_PLATFORM", "ORIGIN")
    channel_param = params.get("FORCE_PLATFORM", "CHANNEL")
    assert types is not None and corners is not None and origins is not None
    if channel_param is None or channel_param.type == -1:
        raise error("parameter FORCE_PLATFORM:CHANNEL is missing or not numeric")
    if types.size < used:
        raise error(f"FORCE_PLATFORM:TYPE has {types.size} entries for {used} platforms")
    if corners.size < 12 * used:
        raise error(f"FORCE_PLATFORM:CORNERS has {corners.size} values for {used} platforms")
    if origins.size < 3 * used:
        raise error(f"FORCE_PLATFORM:ORIGIN has {origins.size} values for {used} platforms")
    dims = channel_param.dimensions
    rows = dims[0] if len(dims) == 2 else (1 if not dims else 0)
    columns = dims[1] if len(dims) == 2 else 0
    channels = channel_param.numbers()
    zero = params.numbers("FORCE_PLATFORM", "ZERO", required=False)
    zero_range = (0, 0)
    if zero is not None and zero.size >= 2 and np.all(np.isfinite(zero[:2])):
        zero_range = (int(zero[0]) % 65536, int(zero[1]) % 65536)
    labels = params.strings("FORCE_PLATFORM", "LABELS") or []
    cal_param = params.get("FORCE_PLATFORM", "CAL_MATRIX")
    plates = []
    for p in range(used):
        number = p + 1
        kind = int(types[p]) if math.isfinite(types[p]) else -1
        if kind not in PLATFORM_CHANNELS:
            raise UnsupportedFeatureError(
                params.path,
                f"FORCE_PLATFORM {number}",
                f"force platform type {types[p]:g} is not supported (types 1 to 4 are)",
            )
        n_channels = PLATFORM_CHANNELS[kind]
        if rows < n_channels or columns < used:
            raise error(
                f"FORCE_PLATFORM:CHANNEL has dimensions {dims}; platform {number} of type "
                f"{kind} needs {n_channels} channels"
            )
        numbers = channels[p * rows : p * rows + n_channels]
        if not np.all(np.isfinite(numbers)) or np.any(numbers != np.round(numbers)):
            raise error(f"FORCE_PLATFORM:CHANNEL of platform {number} is not integer")
        plate_channels = tuple(int(c) for c in numbers)
        bad = [c for c in plate_channels if not 1 <= c <= layout.n_analogs]
        if bad:
            raise error(
                f"force platform {number} uses analog channel(s) {bad}; the file has "
                f"{layout.n_analogs} channels"
            )
        plate_corners = corners[12 * p : 12 * (p + 1)].reshape(4, 3) * length_scale
        origin = origins[3 * p : 3 * (p + 1)] * length_scale
        if not (np.all(np.isfinite(plate_corners)) and np.all(np.isfinite(origin))):
            raise error(f"force platform {number} has non-finite CORNERS or ORIGIN")
        calibration = None
        if kind == 4:
            if cal_param is None or cal_param.type == -1:
                raise error(f"force platform {number} is of type 4 but CAL_MATRIX is missing")
            cd = cal_param.dimensions
            if len(cd) < 2 or cd[0] < 6 or cd[1] < 6 or (len(cd) == 3 and cd[2] < used):
                raise error(
                    f"FORCE_PLATFORM:CAL_MATRIX has dimensions {cd}; 6 x 6 per platform needed"
                )
            block = cd[0] * cd[1]
            flat = cal_param.numbers()[block * p : block * (p + 1)]
            if flat.size < block:
                raise error(f"FORCE_PLATFORM:CAL_MATRIX has no matrix for platform {number}")
            calibration = flat.reshape(cd[0], cd[1], order="F")[:6, :6].copy()
            if not np.all(np.isfinite(calibration)):
                raise error(f"the CAL_MATRIX of force platform {number} is not finite")
        plate_corners.setflags(write=False)
        origin.setflags(write=False)
        if calibration is not None:
            calibration.setflags(write=False)
        plates.append(
            ForcePlatformDefinition(
                number=number,
                type=kind,
                corners=plate_corners,
                origin=origin,
                channels=plate_channels,
                calibration=calibration,
                zero=zero_range,
                label=labels[p].strip() if p < len(labels) else "",
            )
        )
    return plates


def _frozen(array: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(array, dtype=np.float64)
    out.setflags(write=False)
    return out


def read_c3d(path: StrPath, *, isolated: bool = True, timeout: float = 120.0) -> C3DContent:
    """Read a C3D file.

    Checks made before ezc3d sees the file (each failure is a ``FileFormatError`` saying
    what is wrong and where): the C3D key byte; the parameter-section pointer, processor
    type and block count; every parameter record (name, group id, type, dimensions,
    values and description inside the section; each record's pointer leading exactly to
    the next record; no duplicate groups or parameters; every parameter in a defined
    group); ``POINT`` and ``ANALOG`` groups present; header and parameters agreeing on
    points, analog channels, rates, frames and the data block; sampling rates positive
    and at most 1 MHz; the data section long enough for all frames; ``ANALOG`` labels,
    scales and offsets long enough for all channels; known ``POINT:UNITS``; force
    platforms of type 1-4 with enough ``TYPE``, ``CORNERS``, ``ORIGIN``, ``CHANNEL`` and
    (type 4) ``CAL_MATRIX`` values, channels inside the file; ``EVENT`` entries for every
    event.

    Parameters
    ----------
    path
        The file.
    isolated
        Read the data section with ezc3d in a child process (default), so that a crash
        or hang of ezc3d on a malformed file cannot take the caller down.
    timeout
        Seconds allowed to the child process.

    Returns
    -------
    C3DContent

    Raises
    ------
    FileFormatError
        If the file is malformed (see above) or ezc3d fails on its data.
    UnsupportedFeatureError
        For big-endian (MIPS) files, rotation data, force platforms of types other than
        1-4 and integer files with unsigned analog data.
    OSError
        If the file cannot be read.
    """
    raw = Path(path).read_bytes()
    data = _Bytes(path, raw)
    header = _read_header(data)
    groups, section_end = _read_parameters(data, header)
    params = _Parameters(path, groups)
    layout = _layout(path, raw, header, params, section_end)
    _check_analog_scaling(params, layout)
    unit, length_scale = _length_scale(params)
    names = _point_names(params, layout.n_points)
    output_kinds = _output_kinds(params)
    plates = _force_platforms(params, layout, length_scale)
    events = sorted(_events(params, header, data), key=lambda e: e.time)

    n, m, c = layout.n_frames, layout.n_points, layout.n_analogs
    n_samples = n * layout.analog_per_frame
    if n == 0:
        points = np.zeros((4, m, 0))
        residuals = np.zeros((1, m, 0))
        analog_values = np.zeros((1, c, 0))
    else:
        arrays = _read_arrays(path, raw, isolated=isolated, timeout=timeout)
        points, residuals, analog_values = arrays["points"], arrays["residuals"], arrays["analogs"]
        if m == 0:
            points = np.zeros((4, 0, n))
            residuals = np.zeros((1, 0, n))
        if c == 0:
            analog_values = np.zeros((1, 0, n_samples))
        expected = {
            "points": ((4, m, n), points.shape),
            "residuals": ((1, m, n), residuals.shape),
            "analogs": ((1, c, n_samples), analog_values.shape),
        }
        for what, (want, got) in expected.items():
            if want != got:
                raise FileFormatError(
                    path, None, f"ezc3d returned {what} of shape {got}; {want} expected"
                )

    rate = layout.point_rate
    time = (layout.first_index + np.arange(n)) / rate
    xyz = points[:3].transpose(2, 1, 0)  # (n, m, 3)
    res = residuals[0].T  # (n, m)
    finite = np.all(np.isfinite(xyz), axis=2)
    # ezc3d sets points with a negative residual to NaN; other non-finite coordinates
    # come from the file's data and are reported.
    corrupt = ~finite & (res >= 0)
    if np.any(corrupt):
        _log.warning(
            "%s: %d point samples have non-finite coordinates; treated as missing",
            path,
            int(np.sum(corrupt)),
        )
    missing = (res < 0) | ~finite | np.all(xyz == 0.0, axis=2)
    values = np.where(missing[..., None], np.nan, xyz)

    marker_columns = [i for i, name in enumerate(names) if name not in output_kinds]
    marker_names = [names[i] for i in marker_columns]
    duplicates = sorted({name for name in marker_names if marker_names.count(name) > 1})
    if duplicates:
        raise FileFormatError(path, None, f"duplicate marker labels in POINT:LABELS: {duplicates}")
    markers = MarkerTable(
        marker_names=tuple(marker_names),
        time=time,
        positions=values[:, marker_columns, :] * length_scale,
        rate=rate,
        units_in_file=unit,
    )
    outputs = tuple(
        PointOutput(
            name=name,
            kind=output_kinds[name][0],
            units=output_kinds[name][1],
            values=_frozen(values[:, i, :]),
        )
        for i, name in enumerate(names)
        if name in output_kinds
    )
    kept = res[:, marker_columns]
    marker_residuals = np.where(kept < 0, -1.0, kept * length_scale)

    analog_names = (params.strings("ANALOG", "LABELS") or [])[:c]
    analog_units = params.strings("ANALOG", "UNITS") or []
    analog_descriptions = params.strings("ANALOG", "DESCRIPTIONS") or []
    analog_rate = rate * layout.analog_per_frame if c else rate
    analogs = AnalogData(
        names=tuple(name.strip() for name in analog_names),
        units=tuple((analog_units[i].strip() if i < len(analog_units) else "") for i in range(c)),
        descriptions=tuple(
            (analog_descriptions[i].strip() if i < len(analog_descriptions) else "")
            for i in range(c)
        ),
        rate=analog_rate,
        time=_frozen(layout.first_index / rate + np.arange(n_samples) / analog_rate),
        values=_frozen(analog_values[0].T),
    )
    frozen_groups = MappingProxyType(
        {group: MappingProxyType(dict(items)) for group, items in groups.items()}
    )
    return C3DContent(
        path=str(path),
        header=header,
        parameters=frozen_groups,
        length_unit=unit,
        markers=markers,
        residuals=_frozen(marker_residuals),
        point_outputs=outputs,
        analogs=analogs,
        force_platforms=tuple(plates),
        events=tuple(events),
    )
