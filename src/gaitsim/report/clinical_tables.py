"""Every number of a clinical report as tables, written as CSV and Parquet.

:func:`report_tables` turns a :class:`~gaitsim.pipeline.clinical.ClinicalResult` into
:class:`ReportTable` values: the summary tables the HTML and PDF reports show (session,
notes, spatio-temporal parameters, events, cycles, marker fit, reserves and residuals,
gait profile, scaling, timings) and the data tables behind the figures (cycle-normalised
kinematics, kinetics, muscle forces, normative bands) and the time series of each stage
(coordinates, marker distances, generalised forces, muscle forces, ground reactions).
:func:`write_tables` writes each as ``<name>.csv`` and ``<name>.parquet``.

Conventions: column names carry their unit (``stride_time_s``, ``knee_flexion_deg``,
``hip_power_W_per_kg``); angles in degrees (the user-facing edge), clinical signs
(flexion, dorsiflexion, adduction, internal rotation, anterior pelvic tilt positive),
first column(s) the keys (side, cycle, percent or time). CSV floats are written in their
shortest round-trip form (``repr``), NaN as ``nan``, missing values empty. In Parquet a
column of numbers is ``float64`` (``int64`` when all are integers), of booleans ``bool``,
anything else ``string``.

Each table also says how many decimals the report shows per column
(:attr:`ReportTable.decimals`), so that the HTML and PDF show the CSV's numbers rounded,
never numbers of their own.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gaitsim.analysis.clinical_variables import CLINICAL_VARIABLES, GPS_VARIABLES
from gaitsim.analysis.normative import PERCENT

if TYPE_CHECKING:
    from gaitsim.pipeline.clinical import ClinicalResult, CycleCurves

__all__ = [
    "Cell",
    "ReportTable",
    "display_unit",
    "format_cell",
    "report_tables",
    "table_paths",
    "to_display",
    "write_tables",
]

#: One table cell.
Cell = str | float | int | bool | None

_SIDE_NAMES = {"r": "right", "l": "left"}
_UNIT_SUFFIX = {"deg": "deg", "N m/kg": "N_m_per_kg", "W/kg": "W_per_kg", "N": "N"}


@dataclass(frozen=True)
class ReportTable:
    """A table of the report.

    Attributes
    ----------
    name
        File stem (``spatiotemporal`` -> ``spatiotemporal.csv``).
    title
        What it holds, for the report.
    columns
        Column names (with units).
    rows
        The rows; each as long as :attr:`columns`.
    decimals
        Decimals shown in the report per numeric column (default 3).
    shown
        Whether the HTML and PDF reports show it (data tables are only written).
    """

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    decimals: Mapping[str, int] = field(default_factory=dict)
    shown: bool = True

    def __post_init__(self) -> None:
        for k, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.name!r}: row {k} has {len(row)} cells for "
                    f"{len(self.columns)} columns"
                )

    def column(self, name: str) -> list[Cell]:
        """The cells of one column."""
        try:
            index = self.columns.index(name)
        except ValueError:
            raise LookupError(f"table {self.name!r} has no column {name!r}") from None
        return [row[index] for row in self.rows]


# ------------------------------------------------------------------------------ units
def display_unit(variable: str) -> str:
    """Report unit of a clinical variable: ``deg``, ``N m/kg`` or ``W/kg``."""
    unit = CLINICAL_VARIABLES[variable].unit if variable in CLINICAL_VARIABLES else "rad"
    return "deg" if unit == "rad" else unit


def to_display(variable: str, values: np.ndarray | float) -> np.ndarray:
    """Values of a clinical variable in its report unit (radians to degrees)."""
    array = np.asarray(values, dtype=np.float64)
    return np.degrees(array) if display_unit(variable) == "deg" else array


def _column_name(variable: str) -> str:
    return f"{variable}_{_UNIT_SUFFIX.get(display_unit(variable), 'value')}"


def format_cell(value: Cell, decimals: int = 3) -> str:
    """A cell as the report shows it: numbers rounded to ``decimals``, NaN and missing
    as an en dash, booleans as yes/no."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:.{decimals}f}"
    return str(value)


def _f(value: float | None) -> float | None:
    return None if value is None else float(value)


# ------------------------------------------------------------------------ summaries
def _session(result: ClinicalResult) -> ReportTable:
    request = result.request
    settings = request.settings
    trial = result.trial
    rows: list[tuple[Cell, ...]] = [
        ("walking trial", str(request.trial)),
        ("static trial", str(request.static) if request.static is not None else "none"),
        ("subject", trial_subject(result)),
        ("date of analysis (UTC)", result.date),
        ("software", f"gaitsim {result.software_version}"),
        ("model", result.model_description),
        ("model source", str(request.model)),
        ("subject mass (kg)", f"{result.mass:.2f}"),
        ("height (m)", "unknown" if result.height is None else f"{result.height:.3f}"),
        ("leg length (m)", f"{result.leg_length:.3f}"),
        ("marker mapping", f"{result.mapping.name} ({result.mapping.source})"),
        (
            "frames analysed",
            f"{result.ik.n_frames} ({trial.markers.time[0]:.3f}-"
            f"{trial.markers.time[-1]:.3f} s, {trial.markers.rate:g} Hz)",
        ),  # fmt: skip
        ("marker / force low-pass (Hz)", f"{settings.marker_cutoff} / {settings.force_cutoff}"),
        ("coordinate low-pass in inverse dynamics (Hz)", str(settings.coordinate_cutoff)),
        ("events", settings.event_source),
        ("static optimisation", _so_text(result)),
        ("normative data", result.normative_choice),
        ("walking", "treadmill" if result.treadmill else "overground"),
    ]
    for step in trial.history:
        rows.append(("import step", step))
    return ReportTable("session", "Session", ("item", "value"), tuple(rows))


def trial_subject(result: ClinicalResult) -> str:
    """The subject's name as stored in the trial, or ``"not stored"``."""
    return result.trial.subject.name or "not stored"


def _so_text(result: ClinicalResult) -> str:
    so = result.static_optimization
    if so is None:
        return "not run (no force plates)"
    spec = so.spec
    return (
        f"effort sum a^{spec.activation_exponent:g}, {spec.muscle_model.replace('_', '-')}, "
        f"passive fibre force {'on' if spec.passive_fiber_force else 'off'}, "
        f"{int(so.converged.sum())} of {so.n_frames} frames converged ({so.method})"
    )


def _notes(result: ClinicalResult) -> ReportTable:
    return ReportTable(
        "notes",
        "Notes",
        ("stage", "severity", "note"),
        tuple((n.stage, n.severity, n.text) for n in result.notes),
    )


_ST_FIELDS = (
    ("speed", "speed_m_s", 2),
    ("cadence", "cadence_steps_per_min", 1),
    ("stride_time", "stride_time_s", 3),
    ("stride_length", "stride_length_m", 3),
    ("step_time", "step_time_s", 3),
    ("step_length", "step_length_m", 3),
    ("stance_percent", "stance_pct", 1),
    ("swing_percent", "swing_pct", 1),
    ("double_support_percent", "double_support_pct", 1),
    ("single_support_percent", "single_support_pct", 1),
)


def _spatiotemporal(result: ClinicalResult) -> ReportTable:
    columns = ("side", "cycle", "start_s", *[c for _, c, _ in _ST_FIELDS])
    rows: list[tuple[Cell, ...]] = []
    for side in ("r", "l"):
        values = []
        for curves, st in zip(result.cycles[side], result.spatiotemporal[side], strict=True):
            cells = [_f(getattr(st, name)) if st is not None else None for name, _, _ in _ST_FIELDS]
            rows.append((_SIDE_NAMES[side], curves.index + 1, curves.cycle.start, *cells))
            if st is not None:
                values.append([getattr(st, name) for name, _, _ in _ST_FIELDS])
        if values:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
                mean = np.nanmean(np.array(values, dtype=np.float64), axis=0)
            rows.append((_SIDE_NAMES[side], "mean", None, *[float(m) for m in mean]))
    decimals = {"start_s": 3} | {c: d for _, c, d in _ST_FIELDS}
    return ReportTable(
        "spatiotemporal", "Spatio-temporal parameters", columns, tuple(rows), decimals
    )


def _events(result: ClinicalResult) -> ReportTable:
    kinds = {"initial_contact": "initial contact", "toe_off": "toe-off"}
    return ReportTable(
        "events",
        "Gait events",
        ("side", "event", "time_s", "source"),
        tuple((_SIDE_NAMES[r.side], kinds[r.kind], r.time, r.source) for r in result.event_records),
        {"time_s": 3},
    )


def _cycles(result: ClinicalResult) -> ReportTable:
    rows: list[tuple[Cell, ...]] = []
    for side in ("r", "l"):
        for c in result.cycles[side]:
            rows.append(
                (
                    _SIDE_NAMES[side],
                    c.index + 1,
                    c.cycle.start,
                    c.cycle.end,
                    c.toe_off_percent,
                    c.kinetics_valid,
                    c.kinetics_note,
                )
            )
    return ReportTable(
        "cycles",
        "Gait cycles analysed",
        ("side", "cycle", "start_s", "end_s", "toe_off_pct", "kinetics", "why_no_kinetics"),
        tuple(rows),
        {"start_s": 3, "end_s": 3, "toe_off_pct": 1},
    )


def _marker_fit(result: ClinicalResult) -> ReportTable:
    ik = result.ik
    settings = result.request.settings
    rms, worst = ik.marker_rms_error(), ik.marker_max_error()
    seen = 100.0 * np.mean(np.isfinite(ik.marker_errors), axis=0)
    rows = tuple(
        (
            ik.lab_names[i],
            ik.marker_names[i],
            float(ik.weights[i]),
            1000.0 * float(rms[i]),
            1000.0 * float(worst[i]),
            float(seen[i]),
            bool(rms[i] > settings.marker_rms_limit or worst[i] > settings.marker_max_limit),
        )
        for i in range(len(ik.marker_names))
    )
    return ReportTable(
        "marker_fit",
        "Marker fit (inverse kinematics): distance of each marker from the model's",
        ("lab_marker", "model_marker", "weight", "rms_mm", "max_mm", "visible_pct", "flagged"),
        rows,
        {"weight": 1, "rms_mm": 1, "max_mm": 1, "visible_pct": 0},
    )


def _marker_placement(result: ClinicalResult) -> ReportTable:
    placement = result.placement
    rows: tuple[tuple[Cell, ...], ...] = ()
    if placement is not None:
        rows = tuple(
            (
                m.lab,
                m.name,
                m.status.value,
                m.weight,
                1000.0 * m.displacement,
                1000.0 * m.error_before,
                1000.0 * m.error_after,
            )
            for m in placement.markers
            if m.lab is not None
        )
    return ReportTable(
        "marker_placement",
        "Marker placement on the static pose: how far each model marker moved in its segment, "
        "and its distance from the lab's marker in the static pose before and after (mm)",
        (
            "lab_marker",
            "model_marker",
            "status",
            "weight",
            "moved_mm",
            "static_error_before_mm",
            "static_error_after_mm",
        ),
        rows,
        {"weight": 1, "moved_mm": 1, "static_error_before_mm": 1, "static_error_after_mm": 1},
    )


def _actuators(result: ClinicalResult) -> ReportTable:
    so = result.static_optimization
    rows: tuple[tuple[Cell, ...], ...] = ()
    if so is not None:
        rows = tuple(
            (s.name, s.kind, s.coordinate, s.rms, s.peak, _f(s.threshold), s.exceeds)
            for s in so.actuator_summary()
        )
    return ReportTable(
        "reserves_residuals",
        "Reserve and residual actuators of static optimisation (N m, or N for translations)",
        ("actuator", "kind", "coordinate", "rms", "peak", "threshold", "flagged"),
        rows,
        {"rms": 2, "peak": 2, "threshold": 2},
    )


def _pelvis_residuals(result: ClinicalResult) -> ReportTable:
    rows = tuple(
        (
            r.coordinate,
            r.unit,
            r.rms_all,
            r.peak_all,
            r.rms_covered,
            r.peak_covered,
            r.threshold,
            r.exceeds,
        )
        for r in result.residuals
    )
    return ReportTable(
        "pelvis_residuals",
        "Pelvis residuals of inverse dynamics: whole trial, and frames with every loaded foot "
        "on an assigned plate",
        (
            "coordinate",
            "unit",
            "rms_all",
            "peak_all",
            "rms_measured_feet",
            "peak_measured_feet",
            "threshold",
            "flagged",
        ),
        rows,
        {c: 1 for c in ("rms_all", "peak_all", "rms_measured_feet", "peak_measured_feet")}
        | {"threshold": 0},
    )


def _profile(result: ClinicalResult) -> ReportTable:
    rows: list[tuple[Cell, ...]] = []
    profile = result.profile
    if profile is not None:
        for variable in profile.variables:
            for side in ("r", "l"):
                if side in profile.scores and variable in profile.scores[side]:
                    rows.append(
                        (_SIDE_NAMES[side], variable, math.degrees(profile.scores[side][variable]))
                    )
        for side in ("r", "l"):
            if side in profile.gps:
                rows.append((_SIDE_NAMES[side], "GPS", math.degrees(profile.gps[side])))
        rows.append(("both", "GPS", math.degrees(profile.overall)))
    title = "Movement analysis profile: gait variable scores (GVS) and gait profile score (GPS)"
    if profile is not None:
        title += f" against {profile.normative}"
    return ReportTable(
        "gait_profile", title, ("side", "variable", "score_deg"), tuple(rows), {"score_deg": 1}
    )


def _scaling(result: ClinicalResult) -> ReportTable:
    rows: tuple[tuple[Cell, ...], ...] = ()
    if result.scaling is not None:
        rows = tuple(
            (
                b.body,
                b.factors[0],
                b.factors[1],
                b.factors[2],
                ", ".join(sorted({s for s in b.sources if s})) or "not scaled",
            )
            for b in result.scaling.report.bodies
        )
    return ReportTable(
        "scaling",
        "Scale factors per body",
        ("body", "factor_x", "factor_y", "factor_z", "from"),
        rows,
        {"factor_x": 3, "factor_y": 3, "factor_z": 3},
    )


def _scaling_pairs(result: ClinicalResult) -> ReportTable:
    rows: list[tuple[Cell, ...]] = []
    if result.scaling is not None:
        for m in result.scaling.report.measurements:
            for p in m.pairs:
                rows.append(
                    (
                        m.name,
                        m.factor,
                        f"{p.markers[0]}-{p.markers[1]}",
                        1000.0 * p.experimental_distance,
                        1000.0 * p.error_before,
                        1000.0 * p.error_after,
                    )
                )
    return ReportTable(
        "scaling_measurements",
        "Scaling measurements: marker distances in the static trial and the model's errors",
        ("measurement", "factor", "marker_pair", "static_mm", "error_before_mm", "error_after_mm"),
        tuple(rows),
        {"factor": 3, "static_mm": 1, "error_before_mm": 1, "error_after_mm": 1},
    )


def _timings(result: ClinicalResult) -> ReportTable:
    rows = tuple((t.stage, t.seconds) for t in result.timings)
    rows += (("total", result.total_seconds),)
    return ReportTable("timings", "Time per stage", ("stage", "seconds"), rows, {"seconds": 2})


# ---------------------------------------------------------------------- data tables
def _curve_table(
    result: ClinicalResult, name: str, title: str, which: str, variables: Sequence[str]
) -> ReportTable:
    from gaitsim.pipeline.clinical import mean_curves

    columns = ("side", "cycle", "percent", *[_column_name(v) for v in variables])
    rows: list[tuple[Cell, ...]] = []

    def add(side: str, label: Cell, curves: Mapping[str, np.ndarray]) -> None:
        if not any(v in curves for v in variables):
            return
        data = [
            to_display(v, curves[v]) if v in curves else np.full(PERCENT.size, np.nan)
            for v in variables
        ]
        for k, percent in enumerate(PERCENT):
            rows.append((_SIDE_NAMES[side], label, float(percent), *[float(d[k]) for d in data]))

    for side in ("r", "l"):
        cycles: Sequence[CycleCurves] = result.cycles[side]
        for c in cycles:
            add(side, c.index + 1, getattr(c, which))
        if cycles:
            add(side, "mean", mean_curves(cycles, which))  # type: ignore[arg-type]
    return ReportTable(name, title, columns, tuple(rows), shown=False)


def _variables(result: ClinicalResult, which: str) -> list[str]:
    names: list[str] = []
    for side in ("r", "l"):
        for c in result.cycles[side]:
            names += [v for v in getattr(c, which) if v not in names]
    order = list(GPS_VARIABLES) + list(CLINICAL_VARIABLES)
    return sorted(names, key=lambda v: order.index(v) if v in order else len(order))


def _muscle_table(result: ClinicalResult) -> ReportTable:
    from gaitsim.pipeline.clinical import mean_curves

    muscles = list(result.model.muscle_names)
    columns = ("side", "cycle", "percent", *[f"{m}_N" for m in muscles])
    rows: list[tuple[Cell, ...]] = []
    for side in ("r", "l"):
        cycles = result.cycles[side]
        blocks: list[tuple[Cell, Mapping[str, np.ndarray]]] = [
            (c.index + 1, c.muscle_forces) for c in cycles if c.muscle_forces
        ]
        if blocks:
            blocks.append(("mean", mean_curves(cycles, "muscle_forces")))
        for label, forces in blocks:
            for k, percent in enumerate(PERCENT):
                rows.append(
                    (
                        _SIDE_NAMES[side],
                        label,
                        float(percent),
                        *[float(forces[m][k]) if m in forces else None for m in muscles],
                    )
                )
    return ReportTable(
        "muscle_force_curves",
        "Muscle forces over the gait cycle (N)",
        columns,
        tuple(rows),
        shown=False,
    )


def _normative_table(result: ClinicalResult) -> ReportTable:
    normative = result.normative
    columns: tuple[str, ...] = ("percent",)
    rows: tuple[tuple[Cell, ...], ...] = ()
    if normative is not None:
        variables = list(normative.variables)
        columns = ("percent",)
        for v in variables:
            columns += (f"{_column_name(v)}_mean", f"{_column_name(v)}_sd")
        data = []
        for v in variables:
            data += [to_display(v, normative.mean[v]), np.abs(to_display(v, normative.sd[v]))]
        rows = tuple((float(p), *[float(d[k]) for d in data]) for k, p in enumerate(PERCENT))
    return ReportTable(
        "normative_curves",
        "Normative mean and SD over the gait cycle",
        columns,
        rows,
        shown=False,
    )


def _time_series(
    name: str, title: str, time: np.ndarray, labels: Sequence[str], data: np.ndarray
) -> ReportTable:
    rows = tuple(
        (float(t), *[float(v) for v in row]) for t, row in zip(time, np.asarray(data), strict=True)
    )
    return ReportTable(name, title, ("time_s", *labels), rows, shown=False)


def _series(result: ClinicalResult) -> list[ReportTable]:
    ik = result.ik
    q = np.array(ik.coordinates)
    rotational = np.array(ik.rotational, dtype=bool)
    q[:, rotational] = np.degrees(q[:, rotational])
    labels = [
        f"{n}_{'deg' if r else 'm'}" for n, r in zip(ik.coordinate_names, rotational, strict=True)
    ]
    out = [
        _time_series(
            "ik_coordinates",
            "Model coordinates from inverse kinematics (model signs)",
            ik.time,
            labels,
            q,
        ),  # fmt: skip
        _time_series(
            "marker_distances",
            "Distance of each marker from the model's (mm)",
            ik.time,
            [f"{n}_mm" for n in ik.lab_names],
            1000.0 * ik.marker_errors,
        ),
    ]
    # 1 where every loaded foot is on an assigned force plate (else a ground reaction is
    # missing and the frame's kinetics are not those of the walker)
    covered = np.asarray(result.covered, dtype=np.float64)
    if result.inverse_dynamics is not None:
        d = result.inverse_dynamics
        units = ["N_m" if label.endswith("_moment") else "N" for label in d.labels]
        out.append(
            _time_series(
                "generalized_forces",
                "Net generalised forces from inverse dynamics (model signs)",
                d.time,
                [f"{label}_{u}" for label, u in zip(d.labels, units, strict=True)]
                + ["feet_on_plates"],
                np.column_stack([d.generalized_forces, covered]),
            )
        )
    if result.static_optimization is not None:
        so = result.static_optimization
        out.append(
            _time_series(
                "muscle_forces",
                "Tendon forces and actuator generalised forces from static optimisation",
                so.time,
                [f"{m}_N" for m in so.muscle_names]
                + list(so.actuator_names)
                + ["converged", "feet_on_plates"],
                np.column_stack(
                    [so.forces, so.actuator_forces, so.converged.astype(float), covered]
                ),
            )
        )
    if result.ground_reactions is not None:
        g = result.ground_reactions
        out.append(
            _time_series(
                "ground_reactions",
                "Ground reactions per foot (N, m, N m; model frame)",
                g.time,
                g.labels,
                g.data,
            )  # fmt: skip
        )
    return out


def report_tables(result: ClinicalResult) -> tuple[ReportTable, ...]:
    """All tables of a clinical result: the shown summaries first, then the data tables."""
    kinematic = _variables(result, "kinematics")
    kinetic = _variables(result, "kinetics")
    tables = [
        _session(result),
        _notes(result),
        _spatiotemporal(result),
        _profile(result),
        _actuators(result),
        _pelvis_residuals(result),
        _marker_fit(result),
        _marker_placement(result),
        _events(result),
        _cycles(result),
        _scaling(result),
        _scaling_pairs(result),
        _timings(result),
        _curve_table(
            result, "kinematics_curves", "Kinematics over the gait cycle", "kinematics", kinematic
        ),  # fmt: skip
        _curve_table(
            result, "kinetics_curves", "Kinetics over the gait cycle", "kinetics", kinetic
        ),
        _muscle_table(result),
        _normative_table(result),
        *_series(result),
    ]
    return tuple(tables)


# --------------------------------------------------------------------------- writing
def table_paths(folder: str | Path, tables: Sequence[ReportTable]) -> list[Path]:
    """The CSV and Parquet paths :func:`write_tables` writes."""
    base = Path(folder)
    return [base / f"{t.name}{suffix}" for t in tables for suffix in (".csv", ".parquet")]


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest round-trip form; nan, inf as such
    return str(value)


def _arrow_column(cells: Sequence[Cell]) -> pa.Array:
    present = [c for c in cells if c is not None]
    if present and all(isinstance(c, bool) for c in present):
        return pa.array(cells, type=pa.bool_())
    if present and all(isinstance(c, int) and not isinstance(c, bool) for c in present):
        return pa.array(cells, type=pa.int64())
    if all(isinstance(c, int | float) and not isinstance(c, bool) for c in present):
        return pa.array([None if c is None else float(c) for c in cells], type=pa.float64())
    return pa.array([None if c is None else _csv_cell(c) for c in cells], type=pa.string())


def write_tables(
    tables: Sequence[ReportTable], folder: str | Path, *, overwrite: bool = False
) -> list[Path]:
    """Write every table as ``<name>.csv`` and ``<name>.parquet`` in ``folder``.

    Raises
    ------
    FileExistsError
        If a file exists and ``overwrite`` is false (checked before anything is written).
    """
    paths = table_paths(folder, tables)
    if not overwrite:
        existing = [p for p in paths if p.exists()]
        if existing:
            raise FileExistsError(
                f"{existing[0]} exists; pass overwrite=True (--force) to replace it"
            )
    Path(folder).mkdir(parents=True, exist_ok=True)
    for table in tables:
        base = Path(folder) / table.name
        with open(base.with_suffix(".csv"), "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.columns)
            for row in table.rows:
                writer.writerow([_csv_cell(c) for c in row])
        arrays = [_arrow_column([row[j] for row in table.rows]) for j in range(len(table.columns))]
        pq.write_table(
            pa.table(arrays, names=list(table.columns)),
            base.with_suffix(".parquet"),
        )
    return paths
