"""Marker-name mappings: which marker of a lab's trial is which marker of the model.

Labs name their markers after their protocol (Plug-in Gait calls the right anterior
superior iliac spine ``RASI``); gaitsim's built-in models name theirs after OpenSim's
gait2392 marker set (``R.ASIS``). A *mapping* translates one into the other and gives
each marker its weight in inverse kinematics
(:mod:`gaitsim.kinematics.inverse_kinematics`) and whether it may be missing from a
trial.

Mapping files
-------------
A mapping is a TOML file::

    format = "gaitsim-marker-mapping"
    version = 1
    name = "plug-in-gait-lower-body"
    description = "Vicon Plug-in Gait lower-body markers on gait3d and gait2d."
    references = ["Vicon Motion Systems (2021). Plug-in Gait Reference Guide."]

    [markers]
    # lab marker = model marker, or a table: model marker, IK weight (default 1),
    # optional (default false: the trial must contain the marker)
    RASI = { model = "R.ASIS", weight = 3.0 }
    RPSI = { model = "R.PSIS", weight = 3.0, optional = true }
    RKNE = "R.Knee.Lat"
    "R.Toe.Tip" = "R.Toe.Tip"     # names with dots must be quoted

``format``, ``version``, ``name`` and ``markers`` are required; ``description`` and
``references`` are optional. Each lab marker appears once (TOML forbids repeated keys)
and each model marker at most once. Weights are finite and >= 0 (0 keeps the marker in
the mapping but out of the fit). An *optional* marker may be absent from a trial (for
example posterior iliac spines in a lab that uses a sacral marker instead); a marker
that is not optional must be in the trial. Gaps (NaN samples) are allowed for every
marker: inverse kinematics skips a marker in the frames where it is missing.

Errors in a file raise :class:`~gaitsim.errors.FileFormatError` with the file and line
(the line of the offending key, found by scanning the text; ``None`` when the problem is
not tied to one line). A mapping that names a marker the model does not have raises
:class:`~gaitsim.errors.ModelError` naming it (:meth:`MarkerMapping.check`), and a trial
that lacks a required marker raises :class:`~gaitsim.errors.GaitsimError`
(:func:`match_markers`).

Shipped mappings (``gaitsim/kinematics/data/*.toml``, see :func:`shipped_mapping_names`):

``plug_in_gait_lower_body``
    Vicon Plug-in Gait lower-body markers (ASI, PSI or SACR, THI, KNE, TIB, ANK, HEE,
    TOE per side) onto the marker set of both built-in models.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import tomlkit

from gaitsim.errors import FileFormatError, GaitsimError, ModelError
from gaitsim.model.description import Model

__all__ = [
    "FORMAT",
    "VERSION",
    "MarkerAssignment",
    "MarkerMapping",
    "MarkerMatch",
    "loads_marker_mapping",
    "read_marker_mapping",
    "dumps_marker_mapping",
    "write_marker_mapping",
    "identity_mapping",
    "shipped_mapping_names",
    "load_shipped_mapping",
    "match_markers",
]

FORMAT = "gaitsim-marker-mapping"
VERSION = 1

_TOP_KEYS = ("format", "version", "name", "description", "references", "markers")
_ENTRY_KEYS = ("model", "weight", "optional")
_DATA_PACKAGE = "gaitsim.kinematics"


@dataclass(frozen=True)
class MarkerAssignment:
    """One lab marker, the model marker it is, and how inverse kinematics uses it.

    Parameters
    ----------
    lab
        Name of the marker in the trial (TRC/C3D).
    model
        Name of the model's marker.
    weight
        Weight of the marker's squared distance in inverse kinematics (>= 0).
    optional
        Whether the trial may lack the marker altogether.
    line
        Line of the entry in the mapping file (``None`` when not read from a file).
    """

    lab: str
    model: str
    weight: float = 1.0
    optional: bool = False
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class MarkerMapping:
    """A set of :class:`MarkerAssignment`, as read from a mapping file.

    Parameters
    ----------
    name
        Name of the mapping.
    markers
        The assignments, in file order.
    description, references
        What the mapping is for, and its sources.
    source
        Where the mapping comes from (file path, ``gaitsim:<name>`` for shipped ones),
        for messages.
    """

    name: str
    markers: tuple[MarkerAssignment, ...]
    description: str = ""
    references: tuple[str, ...] = ()
    source: str = "<mapping>"

    @property
    def lab_names(self) -> tuple[str, ...]:
        """Lab marker names, in mapping order."""
        return tuple(m.lab for m in self.markers)

    @property
    def model_names(self) -> tuple[str, ...]:
        """Model marker names, in mapping order."""
        return tuple(m.model for m in self.markers)

    def where(self, assignment: MarkerAssignment) -> str:
        """``source:line`` of an assignment (``source`` alone if the line is unknown)."""
        return self.source if assignment.line is None else f"{self.source}:{assignment.line}"

    def check(self, model: Model) -> MarkerMapping:
        """Return the mapping if every model marker it names exists in ``model``.

        Raises
        ------
        ModelError
            Naming the first unknown model marker, the mapping entry and close matches.
        """
        known = [m.name for m in model.markers]
        for a in self.markers:
            if a.model not in known:
                raise ModelError(
                    f"{self.where(a)}: markers.{a.lab}",
                    _not_found(a.model, known, f"model {model.name!r}"),
                )
        return self


@dataclass(frozen=True, eq=False)
class MarkerMatch:
    """The markers of a mapping found in one trial, ready for inverse kinematics.

    Parameters
    ----------
    lab_names, model_names
        The markers used, in mapping order (those with weight 0 and optional markers
        absent from the trial are left out).
    data_indices
        Column of each marker in the trial's marker list.
    model_indices
        Index of each marker in ``model.markers``.
    weights
        Their weights.
    absent
        Optional lab markers of the mapping that the trial does not contain.
    unweighted
        Lab markers left out because their weight is 0.
    """

    lab_names: tuple[str, ...]
    model_names: tuple[str, ...]
    data_indices: tuple[int, ...]
    model_indices: tuple[int, ...]
    weights: tuple[float, ...]
    absent: tuple[str, ...] = ()
    unweighted: tuple[str, ...] = ()


def _not_found(wanted: str, available: Sequence[str], what: str) -> str:
    """``no marker 'X' in <what>; close matches: ...`` (or the first few available)."""
    close = difflib.get_close_matches(wanted, list(available), n=5, cutoff=0.6)
    if close:
        return f"no marker {wanted!r} in {what}; close matches: {', '.join(map(repr, close))}"
    shown = ", ".join(repr(a) for a in list(available)[:12])
    more = f", ... ({len(available)} in all)" if len(available) > 12 else ""
    return f"no marker {wanted!r} in {what}; it has {shown}{more}"


# ----------------------------------------------------------------------------- reading
_BARE = r"[A-Za-z0-9_-]+"
_BASIC = r'"(?:[^"\\]|\\.)*"'
_LITERAL = r"'[^']*'"
_KEY_PART = rf"\s*(?:{_BARE}|{_BASIC}|{_LITERAL})\s*"
_KEY = re.compile(rf"^\s*({_KEY_PART}(?:\.{_KEY_PART})*)=")
_HEADER = re.compile(rf"^\s*\[\[?({_KEY_PART}(?:\.{_KEY_PART})*)\]\]?\s*(?:#.*)?$")


def _key_parts(text: str) -> tuple[str, ...]:
    parts = re.findall(rf"{_BARE}|{_BASIC}|{_LITERAL}", text)
    out = []
    for p in parts:
        if p.startswith('"'):
            try:
                out.append(json.loads(p))
            except ValueError:  # TOML escapes that JSON lacks (\\U........): keep raw
                out.append(p[1:-1])
        elif p.startswith("'"):
            out.append(p[1:-1])
        else:
            out.append(p)
    return tuple(out)


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line (1-based) of each key path of a TOML text, first occurrence.

    Tables opened by headers and dotted keys are followed; keys inside inline tables and
    arrays spanning several lines are not needed here. Every prefix of a dotted path is
    recorded too, so that ``R.ASIS = ...`` (a dotted key by mistake) is found as ``R``.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.split("\n"), start=1):
        header = _HEADER.match(line)
        if header:
            table = _key_parts(header.group(1))
            for k in range(1, len(table) + 1):
                lines.setdefault(table[:k], number)
            continue
        key = _KEY.match(line)
        if key:
            path = table + _key_parts(key.group(1))
            for k in range(len(table) + 1, len(path) + 1):
                lines.setdefault(path[:k], number)
    return lines


def _toml_error_line(exc: tomllib.TOMLDecodeError, text: str) -> int | None:
    line = getattr(exc, "lineno", None)
    if line is not None:
        return int(line)
    match = re.search(r"line (\d+)", str(exc))
    if match:
        return int(match.group(1))
    if "end of document" in str(exc):
        return text.count("\n") + 1
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def loads_marker_mapping(text: str, *, source: str = "<string>") -> MarkerMapping:
    """Parse the text of a mapping file (see the module docstring for the format).

    Raises
    ------
    FileFormatError
        If the text is not valid TOML or not a valid mapping (with the line).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileFormatError(
            source, _toml_error_line(exc, text), f"not valid TOML: {exc}"
        ) from None
    lines = _key_lines(text)

    def fail(path: tuple[str, ...], problem: str) -> FileFormatError:
        return FileFormatError(source, lines.get(path), problem)

    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise fail((unknown[0],), f"unknown key {unknown[0]!r}; expected some of {list(_TOP_KEYS)}")
    for key in ("format", "version", "name", "markers"):
        if key not in data:
            raise FileFormatError(source, None, f"required key {key!r} is missing")
    if data["format"] != FORMAT:
        raise fail(("format",), f"format must be {FORMAT!r}, got {data['format']!r}")
    if data["version"] != VERSION:
        raise fail(("version",), f"this gaitsim reads version {VERSION}, got {data['version']!r}")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise fail(("name",), f"name must be a non-empty string, got {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail(("description",), f"description must be a string, got {description!r}")
    references = data.get("references", [])
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise fail(("references",), "references must be a list of strings")
    entries = data["markers"]
    if not isinstance(entries, dict):
        raise fail(("markers",), "markers must be a table: lab marker = model marker")
    if not entries:
        raise fail(("markers",), "markers is empty")

    assignments: list[MarkerAssignment] = []
    seen_model: dict[str, str] = {}
    for lab, value in entries.items():
        path = ("markers", lab)
        line = lines.get(path)
        if not lab or lab != lab.strip() or re.search(r"[\x00-\x1f\x7f]", lab):
            raise fail(path, f"lab marker name {lab!r} is empty, padded or has control chars")
        if isinstance(value, str):
            value = {"model": value}
        if not isinstance(value, dict):
            raise fail(path, f"{lab!r} must map to a model marker name or a table")
        if "model" not in value:
            nested = next(iter(value), None)
            hint = (
                f'; a lab name with dots must be quoted: "{lab}.{nested}" = ...'
                if nested is not None and isinstance(value.get(nested), str | dict)
                else ""
            )
            raise fail(path, f"entry {lab!r} has no 'model' marker{hint}")
        extra = [k for k in value if k not in _ENTRY_KEYS]
        if extra:
            raise fail(
                path, f"entry {lab!r}: unknown key {extra[0]!r}; expected {list(_ENTRY_KEYS)}"
            )
        model_name = value["model"]
        if not isinstance(model_name, str) or not model_name.strip():
            raise fail(path, f"entry {lab!r}: model must be a marker name, got {model_name!r}")
        weight = value.get("weight", 1.0)
        if not _is_number(weight) or not math.isfinite(weight) or weight < 0:
            raise fail(path, f"entry {lab!r}: weight must be a finite number >= 0, got {weight!r}")
        optional = value.get("optional", False)
        if not isinstance(optional, bool):
            raise fail(path, f"entry {lab!r}: optional must be true or false, got {optional!r}")
        if model_name in seen_model:
            raise fail(
                path,
                f"model marker {model_name!r} is assigned twice (lab markers "
                f"{seen_model[model_name]!r} and {lab!r})",
            )
        seen_model[model_name] = lab
        assignments.append(MarkerAssignment(lab, model_name, float(weight), optional, line))
    return MarkerMapping(
        name=name,
        markers=tuple(assignments),
        description=description,
        references=tuple(references),
        source=source,
    )


def read_marker_mapping(path: str | Path) -> MarkerMapping:
    """Read a mapping file.

    Raises
    ------
    FileFormatError
        If the file is not UTF-8 TOML or not a valid mapping (with the line).
    OSError
        If the file cannot be read.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FileFormatError(path, line, f"not UTF-8 text: {exc}") from None
    return loads_marker_mapping(text, source=str(path))


# ----------------------------------------------------------------------------- writing
def dumps_marker_mapping(mapping: MarkerMapping) -> str:
    """``mapping`` as the text of a mapping file (read back by :func:`loads_marker_mapping`)."""
    doc = tomlkit.document()
    doc["format"] = FORMAT
    doc["version"] = VERSION
    doc["name"] = mapping.name
    if mapping.description:
        doc["description"] = mapping.description
    if mapping.references:
        doc["references"] = list(mapping.references)
    table = tomlkit.table()
    for a in mapping.markers:
        entry = tomlkit.inline_table()
        entry["model"] = a.model
        entry["weight"] = float(a.weight)
        if a.optional:
            entry["optional"] = True
        table[a.lab] = entry
    doc["markers"] = table
    return tomlkit.dumps(doc)


def write_marker_mapping(
    mapping: MarkerMapping, path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write ``mapping`` to a TOML file.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false (nothing is overwritten silently).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.write_text(dumps_marker_mapping(mapping), encoding="utf-8")
    return path


# ---------------------------------------------------------------------- other mappings
def identity_mapping(
    model: Model, weights: Mapping[str, float] | None = None, *, name: str = "identity"
) -> MarkerMapping:
    """Every marker of ``model`` under its own name, all optional.

    This is what inverse kinematics uses without a mapping: the trial's markers that
    the model has are fitted. ``weights`` by model marker name (others weigh 1).

    Raises
    ------
    ModelError
        If ``weights`` names a marker the model does not have, or a weight is negative
        or not finite.
    """
    weights = dict(weights or {})
    known = [m.name for m in model.markers]
    for marker, w in weights.items():
        if marker not in known:
            raise ModelError(
                f"weights.{marker}",
                _not_found(marker, known, f"model {model.name!r}"),
            )
        if not math.isfinite(w) or w < 0:
            raise ModelError(f"weights.{marker}", f"weight must be finite and >= 0, got {w}")
    return MarkerMapping(
        name=name,
        markers=tuple(
            MarkerAssignment(m, m, float(weights.get(m, 1.0)), optional=True) for m in known
        ),
        description=f"the markers of model {model.name!r} under their own names",
        source=f"<identity mapping of {model.name}>",
    )


def shipped_mapping_names() -> tuple[str, ...]:
    """Names of the mappings shipped with gaitsim."""
    folder = resources.files(_DATA_PACKAGE) / "data"
    # The folder also holds scale setups: a mapping file names its format.
    return tuple(
        sorted(
            p.name[:-5]
            for p in folder.iterdir()
            if p.name.endswith(".toml") and f'format = "{FORMAT}"' in p.read_text("utf-8")
        )
    )


def load_shipped_mapping(name: str) -> MarkerMapping:
    """A mapping shipped with gaitsim, by name (see :func:`shipped_mapping_names`).

    Raises
    ------
    KeyError
        If there is no such mapping (the message lists the shipped ones).
    """
    names = shipped_mapping_names()
    if name not in names:
        raise KeyError(f"no shipped marker mapping {name!r}; shipped: {', '.join(names)}")
    text = (resources.files(_DATA_PACKAGE) / "data" / f"{name}.toml").read_text("utf-8")
    return loads_marker_mapping(text, source=f"gaitsim:{name}")


# ------------------------------------------------------------------------ using a mapping
def match_markers(
    mapping: MarkerMapping, model: Model, marker_names: Sequence[str] | Iterable[str]
) -> MarkerMatch:
    """Find the mapping's markers in a trial whose markers are ``marker_names``.

    Raises
    ------
    ModelError
        If the mapping names a model marker that ``model`` lacks.
    GaitsimError
        If a marker that is not optional is missing from the trial (naming it, the
        mapping entry and close matches among the trial's markers), or if no marker
        with a positive weight is left.
    """
    mapping.check(model)
    names = list(marker_names)
    model_index = {m.name: i for i, m in enumerate(model.markers)}
    used: list[tuple[str, str, int, int, float]] = []
    absent: list[str] = []
    unweighted: list[str] = []
    for a in mapping.markers:
        if a.lab not in names:
            if a.optional:
                absent.append(a.lab)
                continue
            raise GaitsimError(
                f"{mapping.where(a)}: "
                + _not_found(a.lab, names, "the trial")
                + f" (mapped to model marker {a.model!r}; mark it optional if the trial "
                "may lack it)"
            )
        if a.weight == 0:
            unweighted.append(a.lab)
            continue
        used.append((a.lab, a.model, names.index(a.lab), model_index[a.model], a.weight))
    if not used:
        raise GaitsimError(
            f"none of the markers of mapping {mapping.name!r} ({mapping.source}) with a "
            f"positive weight is in the trial"
        )
    lab, mod, data_idx, model_idx, weights = zip(*used, strict=True)
    return MarkerMatch(
        lab_names=tuple(lab),
        model_names=tuple(mod),
        data_indices=tuple(data_idx),
        model_indices=tuple(model_idx),
        weights=tuple(weights),
        absent=tuple(absent),
        unweighted=tuple(unweighted),
    )
