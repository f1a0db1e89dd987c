"""Write a simulated stride to a run folder that OpenSim, pandas and people can read.

:func:`write_run` writes one folder per run::

    run/
      states.sto      time; coordinate values (<coordinate>, rad or m, inDegrees=no),
                      speeds (<coordinate>_u, rad/s or m/s), activations
                      (<muscle>_activation)
      controls.sto    time; excitation of each muscle (column = muscle name, as OpenSim
                      controls files)
      grf.mot         time; per foot (r, l): ground_force_<s>_vx/vy/vz (N),
                      ground_force_<s>_px/py/pz (centre of pressure in ground, m),
                      ground_torque_<s>_x/y/z (N m, zero)
      grf.xml         OpenSim ExternalLoads: force "right" on calcn_r, "left" on calcn_l,
                      everything expressed in ground, data file grf.mot
      table.parquet   every quantity in tidy long format (below)
      run.json        settings, solver, summary metrics, gaitsim version, file list
      model.toml      the model simulated, in gaitsim's format (when given to write_run)
      figures/        joint_angles, joint_moments, ground_reaction_forces, activations
                      (.png and .svg)

Notes on the OpenSim files:

* The centre of pressure is undefined (NaN in :class:`WalkingResult`) where the vertical
  force is below the contact threshold. ``grf.mot`` has **0 there instead of NaN**,
  because OpenSim's ``Storage`` reader (used by its tools, e.g. ``ExternalLoads``) stops
  reading at the first row that contains NaN. The force written with such a point is the
  force of the result (small, below the threshold), so an inverse dynamics in OpenSim
  applies that small force at the ground origin during swing.
* The torques are zero: the forces act at the centre of pressure. The force is applied
  to ``calcn_r``/``calcn_l``, the foot bodies of the OpenSim gait models.
* ``states.sto`` is a plain Storage file (columns named by coordinate), not an OpenSim 4
  state-path file (``/jointset/...``): it loads with ``opensim.Storage`` and in the GUI
  as a motion.

``table.parquet`` has one row per sample and quantity element, with columns ``time``
(s), ``percent`` (of the stride as simulated, 0-100), ``quantity``, ``name``, ``value``
and ``unit``. ``quantity`` is one of ``coordinate``, ``speed``, ``acceleration``,
``moment`` (names: coordinates), ``excitation``, ``activation``, ``tendon_force``
(names: muscles), ``grf`` (names ``grf_x_r``...), ``cop`` (names ``cop_x_r``..., NaN
where undefined) and ``contact_force`` (force on each contact sphere in ground, names
``<contact>_x``...). Units are SI (``rad``, ``m``, ``rad/s``, ``N m``, ``N``...; empty for
excitations and activations); model sign conventions. A coordinate is a translation
(unit ``m``) if its name ends in ``tx``, ``ty`` or ``tz`` as in OpenSim models.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gaitsim.analysis.gait_metrics import is_translational, summary
from gaitsim.analysis.normative import NormativeCurves
from gaitsim.errors import FileFormatError
from gaitsim.io.external_loads import ExternalForce, ExternalLoads, write_external_loads
from gaitsim.io.storage import TimeSeriesTable, write_storage
from gaitsim.model.description import Model
from gaitsim.model.toml_format import write_model
from gaitsim.report.figures import save_figures

if TYPE_CHECKING:
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "QUANTITIES",
    "RunFiles",
    "controls_table",
    "external_loads",
    "grf_table",
    "json_ready",
    "states_table",
    "tidy_table",
    "read_run",
    "read_run_model",
    "write_run",
]

StrPath = str | os.PathLike[str]

_SIDES = {"r": "right", "l": "left"}
#: The values of the ``quantity`` column of ``table.parquet``.
QUANTITIES = (
    "coordinate",
    "speed",
    "acceleration",
    "moment",
    "excitation",
    "activation",
    "tendon_force",
    "grf",
    "cop",
    "contact_force",
)


@dataclass(frozen=True)
class RunFiles:
    """The files of a run folder written by :func:`write_run`.

    Attributes
    ----------
    folder
        The run folder.
    states, controls, grf_mot, grf_xml, table, run_json
        ``states.sto``, ``controls.sto``, ``grf.mot``, ``grf.xml``, ``table.parquet``,
        ``run.json``.
    figures
        The figure files (in ``figures/``).
    """

    folder: Path
    states: Path
    controls: Path
    grf_mot: Path
    grf_xml: Path
    table: Path
    run_json: Path
    figures: tuple[Path, ...]
    model: Path | None = None

    def all(self) -> list[Path]:
        """Every file written, data files first."""
        return [
            self.states,
            self.controls,
            self.grf_mot,
            self.grf_xml,
            self.table,
            self.run_json,
            *([self.model] if self.model is not None else []),
            *self.figures,
        ]


def _check_result(result: WalkingResult) -> int:
    """Check the shapes of a result's arrays; return the number of samples."""
    time = np.asarray(result.time)
    n = time.shape[0] if time.ndim == 1 else -1
    if n < 2:
        raise ValueError(f"result.time must be 1-D with at least 2 samples, got {time.shape}")
    n_q = len(result.coordinate_names)
    n_m = len(result.muscle_names)
    for name, expected in (
        ("q", (n, n_q)),
        ("qd", (n, n_q)),
        ("qdd", (n, n_q)),
        ("joint_moments", (n, n_q)),
        ("excitations", (n, n_m)),
        ("activations", (n, n_m)),
        ("tendon_forces", (n, n_m)),
    ):
        shape = np.shape(getattr(result, name))
        if shape != expected and not (n_m == 0 and np.size(getattr(result, name)) == 0):
            raise ValueError(f"result.{name} has shape {shape}, expected {expected}")
    for side, force in result.grf.items():
        if side not in _SIDES:
            raise ValueError(f"result.grf side must be 'r' or 'l', got {side!r}")
        if np.shape(force) != (n, 3):
            raise ValueError(f"result.grf[{side!r}] has shape {np.shape(force)}, expected {(n, 3)}")
        cop = result.cop.get(side)
        if cop is not None and np.shape(cop) != (n, 3):
            raise ValueError(f"result.cop[{side!r}] has shape {np.shape(cop)}, expected {(n, 3)}")
    return n


def _block(values: Any, n: int, k: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return array.reshape(n, k) if array.size else np.zeros((n, k))


def states_table(result: WalkingResult) -> TimeSeriesTable:
    """The states of a result as a table: values, ``<coordinate>_u``, ``<muscle>_activation``."""
    n = _check_result(result)
    coordinates = list(result.coordinate_names)
    muscles = list(result.muscle_names)
    labels = coordinates + [f"{c}_u" for c in coordinates] + [f"{m}_activation" for m in muscles]
    data = np.hstack(
        [
            _block(result.q, n, len(coordinates)),
            _block(result.qd, n, len(coordinates)),
            _block(result.activations, n, len(muscles)),
        ]
    )
    description = (
        f"States of a gaitsim {result.kind} simulation of model {result.model_name}.\n"
        "Coordinates in rad or m, speeds (_u) in rad/s or m/s, activations (_activation)."
    )
    return TimeSeriesTable(
        name="states",
        labels=tuple(labels),
        time=result.time,
        data=data,
        in_degrees=False,
        metadata={"description": description},
    )


def controls_table(result: WalkingResult) -> TimeSeriesTable:
    """The muscle excitations of a result as a table (one column per muscle)."""
    n = _check_result(result)
    muscles = tuple(result.muscle_names)
    return TimeSeriesTable(
        name="controls",
        labels=muscles,
        time=result.time,
        data=_block(result.excitations, n, len(muscles)),
        in_degrees=False,
        metadata={"description": f"Muscle excitations of model {result.model_name} (0 to 1)."},
    )


def grf_table(result: WalkingResult) -> TimeSeriesTable:
    """Ground reaction forces of a result in OpenSim's ExternalLoads column layout.

    Columns per side ``s`` in ``"r"``, ``"l"`` (those the result has):
    ``ground_force_<s>_vx/vy/vz`` (N), ``ground_force_<s>_px/py/pz`` (m) and
    ``ground_torque_<s>_x/y/z`` (N m, zeros). An undefined (NaN) centre of pressure is
    written as 0 (see the module documentation).
    """
    n = _check_result(result)
    labels: list[str] = []
    columns: list[np.ndarray] = []
    for side in (s for s in _SIDES if s in result.grf):
        force = np.asarray(result.grf[side], dtype=np.float64)
        cop = result.cop.get(side)
        point = np.zeros((n, 3)) if cop is None else np.asarray(cop, dtype=np.float64)
        point = np.where(np.isfinite(point), point, 0.0)
        labels += [f"ground_force_{side}_v{axis}" for axis in "xyz"]
        labels += [f"ground_force_{side}_p{axis}" for axis in "xyz"]
        labels += [f"ground_torque_{side}_{axis}" for axis in "xyz"]
        columns += [force, point, np.zeros((n, 3))]
    description = (
        f"Ground reaction forces of a gaitsim simulation of model {result.model_name}.\n"
        "Forces in N, points in m and torques in N m, in ground.\n"
        "The centre of pressure is 0 where undefined (vertical force below the contact\n"
        "threshold) because OpenSim's Storage reader stops at rows containing NaN."
    )
    return TimeSeriesTable(
        name="ground_reaction_forces",
        labels=tuple(labels),
        time=result.time,
        data=np.hstack(columns) if columns else np.zeros((n, 0)),
        in_degrees=False,
        metadata={"description": description},
    )


def external_loads(result: WalkingResult, datafile: str = "grf.mot") -> ExternalLoads:
    """The ExternalLoads matching :func:`grf_table`: one force per foot on ``calcn_<s>``."""
    forces = tuple(
        ExternalForce(
            name=_SIDES[side],
            applied_to_body=f"calcn_{side}",
            force_expressed_in_frame="ground",
            point_expressed_in_frame="ground",
            force_identifier=f"ground_force_{side}_v",
            point_identifier=f"ground_force_{side}_p",
            torque_identifier=f"ground_torque_{side}_",
        )
        for side in _SIDES
        if side in result.grf
    )
    return ExternalLoads(forces=forces, datafile=datafile, name="ground_reaction_forces")


def tidy_table(result: WalkingResult) -> pa.Table:
    """Every quantity of a result in tidy long format (see the module documentation).

    Returns
    -------
    pyarrow.Table
        Columns ``time`` (float64), ``percent`` (float64), ``quantity``, ``name``,
        ``value`` (float64), ``unit`` (strings); rows ordered by quantity, then name, then
        time. The schema metadata holds ``gaitsim_version``, ``model`` and ``kind``.
    """
    n = _check_result(result)
    coordinates = list(result.coordinate_names)
    muscles = list(result.muscle_names)
    n_q, n_m = len(coordinates), len(muscles)

    def units(rotation: str, translation: str) -> list[str]:
        return [translation if is_translational(c) else rotation for c in coordinates]

    blocks: list[tuple[str, list[str], np.ndarray, list[str]]] = [
        ("coordinate", coordinates, _block(result.q, n, n_q), units("rad", "m")),
        ("speed", coordinates, _block(result.qd, n, n_q), units("rad/s", "m/s")),
        ("acceleration", coordinates, _block(result.qdd, n, n_q), units("rad/s^2", "m/s^2")),
        ("moment", coordinates, _block(result.joint_moments, n, n_q), units("N m", "N")),
        ("excitation", muscles, _block(result.excitations, n, n_m), [""] * n_m),
        ("activation", muscles, _block(result.activations, n, n_m), [""] * n_m),
        ("tendon_force", muscles, _block(result.tendon_forces, n, n_m), ["N"] * n_m),
    ]
    sides = [s for s in _SIDES if s in result.grf]
    for quantity, source, unit in (("grf", result.grf, "N"), ("cop", result.cop, "m")):
        names: list[str] = []
        parts: list[np.ndarray] = []
        for side in sides:
            values = source.get(side)
            array = np.full((n, 3), np.nan) if values is None else np.asarray(values, dtype=float)
            names += [f"{quantity}_{axis}_{side}" for axis in "xyz"]
            parts.append(array)
        data = np.hstack(parts) if parts else np.zeros((n, 0))
        blocks.append((quantity, names, data, [unit] * len(names)))
    contact_names = [f"{c}_{axis}" for c in result.contact_forces for axis in "xyz"]
    contact_data = (
        np.hstack([_block(v, n, 3) for v in result.contact_forces.values()])
        if result.contact_forces
        else np.zeros((n, 0))
    )
    blocks.append(("contact_force", contact_names, contact_data, ["N"] * len(contact_names)))

    time = np.asarray(result.time, dtype=np.float64)
    percent = np.asarray(result.cycle_percent, dtype=np.float64)
    columns: dict[str, list[Any]] = {"quantity": [], "name": [], "unit": []}
    values: list[np.ndarray] = []
    for quantity, names, data, units in blocks:
        for j, (name, unit) in enumerate(zip(names, units, strict=True)):
            columns["quantity"] += [quantity] * n
            columns["name"] += [name] * n
            columns["unit"] += [unit] * n
            values.append(data[:, j])
    n_series = len(values)
    from gaitsim import __version__

    table = pa.table(
        {
            "time": pa.array(np.tile(time, n_series), type=pa.float64()),
            "percent": pa.array(np.tile(percent, n_series), type=pa.float64()),
            "quantity": pa.array(columns["quantity"], type=pa.string()),
            "name": pa.array(columns["name"], type=pa.string()),
            "value": pa.array(np.concatenate(values) if values else np.zeros(0), type=pa.float64()),
            "unit": pa.array(columns["unit"], type=pa.string()),
        }
    )
    return table.replace_schema_metadata(
        {"gaitsim_version": __version__, "model": result.model_name, "kind": result.kind}
    )


def json_ready(value: Any) -> Any:
    """Convert to JSON types: arrays to lists, non-finite floats to None, keys to str."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def write_run(
    result: WalkingResult,
    folder: StrPath,
    *,
    normative: NormativeCurves | None = None,
    overwrite: bool = False,
    figure_formats: Sequence[str] = ("png", "svg"),
    model: Model | None = None,
) -> RunFiles:
    """Write a simulated stride to a run folder (files listed in the module documentation).

    Parameters
    ----------
    result
        The simulated stride.
    folder
        The run folder; created (with its parents) if it does not exist.
    normative
        Normative curves for the figures' bands and the correlations in the summary.
    overwrite
        Write into a folder that already has files. Files of the same names are
        replaced; other files are left alone.
    figure_formats
        Formats of the figures (``figures/<name>.<format>``).
    model
        The model simulated; written as ``model.toml`` so that analyses of the run
        (:func:`read_run_model`) use exactly this model.

    Returns
    -------
    RunFiles
        The paths of the files written.

    Raises
    ------
    FileExistsError
        If ``folder`` exists and is not empty and ``overwrite`` is false, or it exists
        and is not a folder.
    ValueError
        If the arrays of ``result`` have inconsistent shapes.
    """
    folder = Path(folder)
    if folder.exists():
        if not folder.is_dir():
            raise FileExistsError(f"{folder} exists and is not a folder")
        if not overwrite and any(folder.iterdir()):
            raise FileExistsError(
                f"run folder {folder} already exists and is not empty "
                "(pass overwrite=True to write into it)"
            )
    _check_result(result)
    folder.mkdir(parents=True, exist_ok=True)

    files = RunFiles(
        folder=folder,
        states=folder / "states.sto",
        controls=folder / "controls.sto",
        grf_mot=folder / "grf.mot",
        grf_xml=folder / "grf.xml",
        table=folder / "table.parquet",
        run_json=folder / "run.json",
        figures=(),
    )
    write_storage(states_table(result), files.states, precision=12)
    write_storage(controls_table(result), files.controls, precision=12)
    write_storage(grf_table(result), files.grf_mot, precision=12)
    write_external_loads(external_loads(result, files.grf_mot.name), files.grf_xml)
    pq.write_table(tidy_table(result), files.table)
    figures = tuple(save_figures(result, folder / "figures", normative, figure_formats))
    files = replace(files, figures=figures)
    if model is not None:
        write_model(model, folder / "model.toml", overwrite=overwrite)
        files = replace(files, model=folder / "model.toml")

    from gaitsim import __version__

    metrics = summary(result, normative)
    record = {
        "gaitsim_version": __version__,
        "written_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "model": result.model_name,
        "kind": result.kind,
        "body_mass_kg": result.body_mass,
        "speed_m_per_s": result.speed,
        "n_samples": int(np.asarray(result.time).shape[0]),
        "coordinate_names": list(result.coordinate_names),
        "muscle_names": list(result.muscle_names),
        "settings": result.settings,
        "solver": result.solver,
        "summary": metrics,
        "normative": None
        if normative is None
        else {"name": normative.name, "source": normative.source, "speed_m_per_s": normative.speed},
        "files": [p.relative_to(folder).as_posix() for p in files.all()],
        "conventions": {
            "units": "SI; angles in rad (inDegrees=no), forces in N, moments in N m",
            "signs": "model (OpenSim) signs: knee flexion negative; figures use clinical signs",
            "ground": "+x forward, +y up, +z right",
            "grf.mot": "centre of pressure written as 0 where undefined (NaN in table.parquet)",
        },
    }
    text = json.dumps(json_ready(record), indent=2, allow_nan=False)
    files.run_json.write_text(text + "\n", encoding="utf-8", newline="\n")
    return files


def _run_json(folder: Path) -> dict[str, Any]:
    path = folder / "run.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a gaitsim run folder: {path.name} is missing")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise FileFormatError(path, err.lineno, f"not valid JSON: {err.msg}") from err
    if not isinstance(record, dict):
        raise FileFormatError(path, None, "expected a JSON object")
    return record


def read_run(folder: StrPath) -> WalkingResult:
    """Read back the stride of a run folder written by :func:`write_run`.

    Everything is read from ``table.parquet`` (full precision) and ``run.json``.

    Raises
    ------
    FileNotFoundError
        If ``folder`` has no ``run.json`` or ``table.parquet``.
    FileFormatError
        If a file is not what :func:`write_run` writes (named, with the problem).
    """
    from gaitsim.simulate.result import WalkingResult

    folder = Path(folder)
    record = _run_json(folder)
    path = folder / "table.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a gaitsim run folder: {path.name} is missing")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise FileFormatError(path, None, f"not a Parquet table: {err}") from err
    needed = {"time", "quantity", "name", "value"}
    if not needed <= set(table.column_names):
        missing = sorted(needed - set(table.column_names))
        raise FileFormatError(path, None, f"missing columns {missing}")
    quantity = np.asarray(table.column("quantity").to_pylist(), dtype=object)
    name = np.asarray(table.column("name").to_pylist(), dtype=object)
    value = table.column("value").to_numpy()
    time_all = table.column("time").to_numpy()
    try:
        coordinates = tuple(str(c) for c in record["coordinate_names"])
        muscles = tuple(str(m) for m in record["muscle_names"])
        n = int(record["n_samples"])
    except (KeyError, TypeError, ValueError) as err:
        raise FileFormatError(folder / "run.json", None, f"missing or bad entry {err}") from err

    def block(q: str, names: Sequence[str]) -> np.ndarray:
        out = np.empty((n, len(names)))
        for j, nm in enumerate(names):
            rows = (quantity == q) & (name == nm)
            if rows.sum() != n:
                raise FileFormatError(
                    path, None, f"quantity {q!r} name {nm!r} has {rows.sum()} rows, expected {n}"
                )
            out[:, j] = value[rows]
        return out

    rows = (quantity == "coordinate") & (name == coordinates[0]) if coordinates else quantity == ""
    time = time_all[rows] if coordinates else np.zeros(0)
    grf: dict[str, np.ndarray] = {}
    cop: dict[str, np.ndarray] = {}
    present = set(zip(quantity.tolist(), name.tolist(), strict=True))
    for side in _SIDES:
        if ("grf", f"grf_x_{side}") in present:
            grf[side] = block("grf", [f"grf_{a}_{side}" for a in "xyz"])
            cop[side] = block("cop", [f"cop_{a}_{side}" for a in "xyz"])
    contacts: dict[str, np.ndarray] = {}
    for q, nm in sorted(present):
        if q == "contact_force" and nm.endswith("_x"):
            c = nm[:-2]
            contacts[c] = block("contact_force", [f"{c}_{a}" for a in "xyz"])
    return WalkingResult(
        model_name=str(record.get("model", "")),
        kind=str(record.get("kind", "")),
        time=time,
        coordinate_names=coordinates,
        q=block("coordinate", coordinates),
        qd=block("speed", coordinates),
        qdd=block("acceleration", coordinates),
        joint_moments=block("moment", coordinates),
        muscle_names=muscles,
        excitations=block("excitation", muscles),
        activations=block("activation", muscles),
        tendon_forces=block("tendon_force", muscles),
        grf=grf,
        cop=cop,
        body_mass=float(record.get("body_mass_kg", float("nan"))),
        speed=float(record.get("speed_m_per_s", float("nan"))),
        settings=dict(record.get("settings") or {}),
        solver=dict(record.get("solver") or {}),
        contact_forces=contacts,
    )


def read_run_model(folder: StrPath) -> Model:
    """The model of a run: its ``model.toml`` if written, else the built-in model named in
    ``run.json``.

    Raises
    ------
    FileNotFoundError
        If the run has no ``model.toml`` and names no built-in model.
    """
    from gaitsim.model.builtin import builtin_names, load_builtin
    from gaitsim.model.toml_format import read_model

    folder = Path(folder)
    if (folder / "model.toml").is_file():
        return read_model(folder / "model.toml")
    name = str(_run_json(folder).get("model", ""))
    if name in builtin_names():
        return load_builtin(name)
    raise FileNotFoundError(
        f"run folder {folder} has no model.toml and its model {name!r} is not built in"
    )
