"""OpenSim ``ExternalLoads`` XML files (ground reaction forces applied to bodies).

An ``ExternalLoads`` file names a Storage data file and lists ``ExternalForce`` objects::

    <OpenSimDocument Version="40000">
      <ExternalLoads name="GRF">
        <objects>
          <ExternalForce name="right">
            <applied_to_body>calcn_r</applied_to_body>
            <force_expressed_in_body>ground</force_expressed_in_body>
            <point_expressed_in_body>ground</point_expressed_in_body>
            <force_identifier>ground_force_v</force_identifier>
            <point_identifier>ground_force_p</point_identifier>
            <torque_identifier>ground_torque_</torque_identifier>
          </ExternalForce>
        </objects>
        <datafile>grf.mot</datafile>
      </ExternalLoads>
    </OpenSimDocument>

The identifiers are column-label prefixes in the data file: the force of ``right`` is
read from the columns ``ground_force_vx``, ``ground_force_vy`` and ``ground_force_vz``.

The XML is parsed with expat into an :mod:`xml.etree.ElementTree` tree so that every
element keeps its line number for error messages; DOCTYPE declarations are refused.
Every problem with the content of a file is reported as a
:class:`~gaitsim.errors.FileFormatError` naming the file and, where possible, the line.
"""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

import numpy as np

from gaitsim.errors import FileFormatError
from gaitsim.io.storage import StrPath, TimeSeriesTable, _parse_float, _show

__all__ = [
    "AppliedLoad",
    "ExternalForce",
    "ExternalLoads",
    "applied_loads",
    "read_external_loads",
    "write_external_loads",
]

_OPENSIM_VERSION = "40000"
# Characters allowed in XML 1.0 documents (tab, LF, CR and the printable ranges).
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_UNASSIGNED = "Unassigned"


def _frame_name(value: str) -> str:
    """Strip a component path (``/bodyset/calcn_r``, ``/ground``) to the bare frame name."""
    return value.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ExternalForce:
    """One ``ExternalForce`` of an ``ExternalLoads`` file.

    Parameters
    ----------
    name
        Name of the force (unique within its ``ExternalLoads``).
    applied_to_body
        Body the force and torque are applied to.
    force_expressed_in_frame
        Frame the force and torque vectors are expressed in (``"ground"`` by default).
    point_expressed_in_frame
        Frame the point of application is expressed in (``"ground"`` by default).
    force_identifier, point_identifier, torque_identifier
        Column-label prefixes of the force, point and torque in the data file, or
        ``None`` if the force does not use them (OpenSim's empty or ``Unassigned``).
        Without a point the force acts at the origin of ``applied_to_body``.
    data_source_name
        Name of the Storage supplying the data (informative), or ``None``.
    enabled
        OpenSim's ``appliesForce`` (false for ``isDisabled=true`` in old files).

    Notes
    -----
    Frame names are bare body names: ``/bodyset/calcn_r`` is stored as ``calcn_r`` and
    ``/ground`` as ``ground``.
    """

    name: str
    applied_to_body: str
    force_expressed_in_frame: str = "ground"
    point_expressed_in_frame: str = "ground"
    force_identifier: str | None = None
    point_identifier: str | None = None
    torque_identifier: str | None = None
    data_source_name: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class ExternalLoads:
    """The content of an OpenSim ``ExternalLoads`` file.

    Parameters
    ----------
    forces
        The external forces, in file order.
    datafile
        The Storage file with the force data as written in the XML (usually relative to
        the XML file's folder; see :meth:`resolve_datafile`), or ``None``.
    lowpass_cutoff_frequency_for_load_kinematics
        OpenSim's cut-off frequency (Hz) for filtering load kinematics (negative means
        no filtering), or ``None`` if the file does not set it.
    name
        Name of the ``ExternalLoads`` object.
    """

    forces: tuple[ExternalForce, ...]
    datafile: str | None = None
    lowpass_cutoff_frequency_for_load_kinematics: float | None = None
    name: str = "externalloads"

    def __post_init__(self) -> None:
        object.__setattr__(self, "forces", tuple(self.forces))

    def force(self, name: str) -> ExternalForce:
        """Return the force called ``name``.

        Raises
        ------
        LookupError
            If there is no such force.
        """
        for candidate in self.forces:
            if candidate.name == name:
                return candidate
        names = ", ".join(repr(f.name) for f in self.forces) or "none"
        raise LookupError(f"no external force {name!r} (forces: {names})")

    def resolve_datafile(self, xml_path: StrPath) -> Path:
        """Return the path of the data file, relative paths taken from the XML's folder.

        Windows separators (``\\``) in a relative path are accepted on every platform.

        Parameters
        ----------
        xml_path
            The ExternalLoads XML file these loads were read from.

        Raises
        ------
        FileFormatError
            If the loads name no data file.
        """
        if not self.datafile:
            raise FileFormatError(xml_path, None, "the ExternalLoads file names no <datafile>")
        datafile = self.datafile
        if os.sep == "/" and "\\" in datafile and not re.match(r"[A-Za-z]:", datafile):
            datafile = datafile.replace("\\", "/")
        path = Path(datafile)
        if path.is_absolute():
            return path
        return Path(xml_path).parent / path


@dataclass(frozen=True, eq=False)
class AppliedLoad:
    """The data of one external force sampled at the times of its data table.

    Parameters
    ----------
    name
        Name of the external force.
    body
        Body the load is applied to.
    force_frame
        Frame in which :attr:`force` and :attr:`torque` are expressed.
    point_frame
        Frame in which :attr:`point` is expressed (``body`` when the force has no
        point identifier: the point is then the body origin, zeros).
    force, point, torque
        Arrays of shape ``(n, 3)`` (zeros for a component the force does not use).
    """

    name: str
    body: str
    force_frame: str
    point_frame: str
    force: np.ndarray
    point: np.ndarray
    torque: np.ndarray


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


class _RefusedXML(Exception):
    """Raised from expat handlers for constructs we do not accept (e.g. DOCTYPE)."""


class _Document:
    """An ElementTree tree with the line number of each element."""

    def __init__(self, path: StrPath, raw: bytes) -> None:
        self.path = path
        self._lines: dict[int, int] = {}
        builder = ET.TreeBuilder()
        parser = expat.ParserCreate()
        parser.buffer_text = True

        def start(tag: str, attributes: dict[str, str]) -> None:
            element = builder.start(tag, attributes)
            self._lines[id(element)] = parser.CurrentLineNumber

        def refuse_doctype(*_: object) -> None:
            raise _RefusedXML("DOCTYPE declarations are not allowed")

        parser.StartElementHandler = start
        parser.EndElementHandler = builder.end
        parser.CharacterDataHandler = builder.data
        parser.StartDoctypeDeclHandler = refuse_doctype
        try:
            parser.Parse(raw, True)
        except expat.ExpatError as exc:
            raise FileFormatError(
                path, exc.lineno, f"malformed XML: {expat.ErrorString(exc.code)}"
            ) from None
        except _RefusedXML as exc:
            raise FileFormatError(path, parser.CurrentLineNumber, str(exc)) from None
        except (ValueError, LookupError) as exc:  # unknown or multi-byte encodings
            raise FileFormatError(path, 1, f"unsupported XML encoding: {exc}") from None
        self.root: ET.Element = builder.close()

    def line(self, element: ET.Element) -> int | None:
        return self._lines.get(id(element))

    def error(self, element: ET.Element, problem: str) -> FileFormatError:
        return FileFormatError(self.path, self.line(element), problem)

    def single(self, parent: ET.Element, tag: str) -> ET.Element | None:
        """The only child ``tag`` of ``parent``, or ``None``; error if repeated."""
        found = parent.findall(tag)
        if len(found) > 1:
            raise self.error(found[1], f"<{tag}> repeated in <{parent.tag}>")
        return found[0] if found else None

    def text(self, parent: ET.Element, tag: str) -> tuple[str, ET.Element] | None:
        """Stripped text of the only child ``tag`` of ``parent``, or ``None`` if absent."""
        element = self.single(parent, tag)
        if element is None:
            return None
        if len(element):
            raise self.error(element, f"<{tag}> must contain text, not elements")
        return (element.text or "").strip(), element


def _identifier(doc: _Document, element: ET.Element, tag: str) -> str | None:
    found = doc.text(element, tag)
    if found is None or not found[0] or found[0] == _UNASSIGNED:
        return None
    return found[0]


def _boolean(doc: _Document, element: ET.Element, tag: str) -> bool | None:
    found = doc.text(element, tag)
    if found is None:
        return None
    value = found[0].lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise doc.error(found[1], f"<{tag}> must be true or false, got {_show(found[0])}")


def _frame(doc: _Document, element: ET.Element, tag: str, default: str | None) -> str:
    found = doc.text(element, tag)
    value = _frame_name(found[0]) if found is not None else ""
    if value:
        return value
    if default is None:
        where = found[1] if found is not None else element
        raise doc.error(
            where, f"<{tag}> of ExternalForce {_show(element.get('name') or '')} is missing"
        )
    return default


def _external_force(doc: _Document, element: ET.Element) -> ExternalForce:
    name = (element.get("name") or "").strip()
    if not name:
        raise doc.error(element, "<ExternalForce> without a name attribute")
    disabled = _boolean(doc, element, "isDisabled")
    applies = _boolean(doc, element, "appliesForce")
    if applies is not None:  # OpenSim 4
        enabled = applies
    else:  # OpenSim 3 and older: isDisabled
        enabled = not disabled if disabled is not None else True
    source = doc.text(element, "data_source_name")
    force = ExternalForce(
        name=name,
        applied_to_body=_frame(doc, element, "applied_to_body", None),
        force_expressed_in_frame=_frame(doc, element, "force_expressed_in_body", "ground"),
        point_expressed_in_frame=_frame(doc, element, "point_expressed_in_body", "ground"),
        force_identifier=_identifier(doc, element, "force_identifier"),
        point_identifier=_identifier(doc, element, "point_identifier"),
        torque_identifier=_identifier(doc, element, "torque_identifier"),
        data_source_name=source[0] if source and source[0] != _UNASSIGNED and source[0] else None,
        enabled=enabled,
    )
    if force.force_identifier is None and force.torque_identifier is None:
        raise doc.error(
            element, f"ExternalForce {_show(name)} has neither a force nor a torque identifier"
        )
    if force.force_identifier is None and force.point_identifier is not None:
        raise doc.error(element, f"ExternalForce {_show(name)} has a point identifier but no force")
    return force


def read_external_loads(path: StrPath) -> ExternalLoads:
    """Read an OpenSim ``ExternalLoads`` XML file.

    Both OpenSim 3 (``isDisabled``) and OpenSim 4 (``appliesForce``) files are read; the
    root may be ``<OpenSimDocument>`` or ``<ExternalLoads>`` itself.

    Parameters
    ----------
    path
        The XML file.

    Returns
    -------
    ExternalLoads
        The loads; ``datafile`` is as written in the file (see
        :meth:`ExternalLoads.resolve_datafile`).

    Raises
    ------
    FileFormatError
        If the XML is malformed (with the line reported by the parser), uses a DOCTYPE
        or an unsupported encoding, or its content is invalid: no ``ExternalLoads``
        element, an object in ``<objects>`` that is not an ``ExternalForce``, a force
        without name or body, with neither force nor torque identifier, duplicate force
        names, a non-numeric cut-off frequency or non-boolean flag.
    OSError
        If the file cannot be read (e.g. ``FileNotFoundError``).

    Notes
    -----
    Elements gaitsim does not use are ignored, notably the deprecated
    ``external_loads_model_kinematics_file`` and ``<groups>``.
    """
    doc = _Document(path, Path(path).read_bytes())
    root = doc.root
    if root.tag == "OpenSimDocument":
        candidates = root.findall("ExternalLoads")
        if len(candidates) != 1:
            problem = "no <ExternalLoads>" if not candidates else "several <ExternalLoads>"
            raise doc.error(root, f"{problem} in <OpenSimDocument>")
        loads_element = candidates[0]
    elif root.tag == "ExternalLoads":
        loads_element = root
    else:
        raise doc.error(root, f"root element is <{root.tag}>; expected <OpenSimDocument>")

    forces: list[ExternalForce] = []
    objects = doc.single(loads_element, "objects")
    for child in objects if objects is not None else ():
        if child.tag != "ExternalForce":
            raise doc.error(
                child, f"<{child.tag}> in ExternalLoads <objects>; only ExternalForce is allowed"
            )
        force = _external_force(doc, child)
        if any(f.name == force.name for f in forces):
            raise doc.error(child, f"duplicate ExternalForce name {_show(force.name)}")
        forces.append(force)

    datafile = doc.text(loads_element, "datafile")
    cutoff: float | None = None
    found = doc.text(loads_element, "lowpass_cutoff_frequency_for_load_kinematics")
    if found is not None and found[0]:
        cutoff = _parse_float(found[0])
        if cutoff is None or math.isnan(cutoff):
            raise doc.error(
                found[1],
                f"lowpass_cutoff_frequency_for_load_kinematics {_show(found[0])} is not a number",
            )
    return ExternalLoads(
        forces=tuple(forces),
        datafile=datafile[0] if datafile and datafile[0] else None,
        lowpass_cutoff_frequency_for_load_kinematics=cutoff,
        name=(loads_element.get("name") or "").strip() or "externalloads",
    )


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


def _checked(value: str, what: str) -> str:
    if value != value.strip() or _XML_INVALID.search(value) or "\n" in value or "\r" in value:
        raise ValueError(f"{what} {value!r} cannot be written (blanks or control characters)")
    return value


def write_external_loads(loads: ExternalLoads, path: StrPath) -> None:
    """Write an ``ExternalLoads`` XML file in the OpenSim 4 format.

    Parameters
    ----------
    loads
        The loads to write.
    path
        Destination file (overwritten).

    Raises
    ------
    ValueError
        If a force has neither force nor torque identifier, names repeat, or a text
        has surrounding blanks or characters XML cannot hold.
    """
    names = [f.name for f in loads.forces]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate external force names: {names}")
    root = ET.Element("OpenSimDocument", Version=_OPENSIM_VERSION)
    element = ET.SubElement(
        root, "ExternalLoads", name=_checked(loads.name or "externalloads", "name")
    )
    objects = ET.SubElement(element, "objects")
    for force in loads.forces:
        if force.force_identifier is None and force.torque_identifier is None:
            raise ValueError(f"external force {force.name!r} has no force or torque identifier")
        if not force.name or not force.applied_to_body:
            raise ValueError(f"external force {force!r} needs a name and a body")
        item = ET.SubElement(objects, "ExternalForce", name=_checked(force.name, "force name"))
        entries: list[tuple[str, str | None]] = [
            ("appliesForce", "true" if force.enabled else "false"),
            ("applied_to_body", force.applied_to_body),
            ("force_expressed_in_body", force.force_expressed_in_frame),
            ("point_expressed_in_body", force.point_expressed_in_frame),
            ("force_identifier", force.force_identifier),
            ("point_identifier", force.point_identifier),
            ("torque_identifier", force.torque_identifier),
            ("data_source_name", force.data_source_name),
        ]
        for tag, value in entries:
            if value is not None:
                ET.SubElement(item, tag).text = _checked(value, tag)
    ET.SubElement(element, "groups")
    if loads.datafile is not None:
        ET.SubElement(element, "datafile").text = _checked(loads.datafile, "datafile")
    cutoff = loads.lowpass_cutoff_frequency_for_load_kinematics
    if cutoff is not None:
        ET.SubElement(element, "lowpass_cutoff_frequency_for_load_kinematics").text = repr(
            float(cutoff)
        )
    ET.indent(root, space="\t")
    text = ET.tostring(root, encoding="unicode")
    Path(path).write_text(
        '<?xml version="1.0" encoding="UTF-8" ?>\n' + text + "\n", encoding="utf-8", newline="\n"
    )


# ---------------------------------------------------------------------------------------
# Applying the data
# ---------------------------------------------------------------------------------------


def _columns(table: TimeSeriesTable, identifier: str) -> np.ndarray | list[str]:
    """The ``(n, 3)`` data of ``identifier``, or the labels of the missing columns."""
    wanted = [f"{identifier}{axis}" for axis in "xyz"]
    index = {label: i for i, label in enumerate(table.labels)}
    if all(label in index for label in wanted):
        return np.array(table.data[:, [index[label] for label in wanted]])
    # OpenSim's own rule: exactly three columns whose labels start with the identifier.
    prefixed = [i for i, label in enumerate(table.labels) if label.startswith(identifier)]
    if len(prefixed) == 3:
        return np.array(table.data[:, prefixed])
    return [label for label in wanted if label not in index]


def applied_loads(
    loads: ExternalLoads, table: TimeSeriesTable, *, source: StrPath | None = None
) -> list[AppliedLoad]:
    """Extract the force, point and torque of each enabled external force from a table.

    The data of identifier ``id`` are the columns ``idx``, ``idy`` and ``idz`` (OpenSim
    appends the axis letter: ``ground_force_v`` -> ``ground_force_vx``). Failing that,
    OpenSim's own rule is used: exactly three columns whose labels start with ``id``.
    Disabled forces are skipped.

    Parameters
    ----------
    loads
        The external loads.
    table
        Their data (typically ``read_storage(loads.resolve_datafile(xml_path))``).
    source
        Name of the data file for error messages (default: the table name).

    Returns
    -------
    list of AppliedLoad
        One per enabled force, in file order.

    Raises
    ------
    FileFormatError
        If columns needed by the forces are missing from the table (all are named).
    """
    where = source if source is not None else (table.name or "<external loads data>")
    n = table.n_rows
    result: list[AppliedLoad] = []
    problems: list[str] = []
    for force in loads.forces:
        if not force.enabled:
            continue
        parts: dict[str, np.ndarray] = {}
        for what, identifier in (
            ("force", force.force_identifier),
            ("point", force.point_identifier),
            ("torque", force.torque_identifier),
        ):
            if identifier is None:
                parts[what] = np.zeros((n, 3))
                continue
            found = _columns(table, identifier)
            if isinstance(found, list):
                problems.append(
                    f"{force.name!r} {what} (identifier {identifier!r}): {', '.join(found)}"
                )
                continue
            parts[what] = found
        if len(parts) < 3:
            continue
        for array in parts.values():
            array.setflags(write=False)
        result.append(
            AppliedLoad(
                name=force.name,
                body=force.applied_to_body,
                force_frame=force.force_expressed_in_frame,
                point_frame=(
                    force.point_expressed_in_frame
                    if force.point_identifier is not None
                    else force.applied_to_body
                ),
                force=parts["force"],
                point=parts["point"],
                torque=parts["torque"],
            )
        )
    if problems:
        raise FileFormatError(
            where, None, "columns missing for external forces: " + "; ".join(problems)
        )
    return result
