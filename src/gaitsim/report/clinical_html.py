"""The clinical report of a measured trial: figures, one self-contained HTML file and a PDF.

:func:`write_report` writes, into one folder, ``report.html`` (figures embedded as SVG
data URIs, so the file can be mailed), ``report.pdf`` (the same figures and tables,
through matplotlib's :class:`~matplotlib.backends.backend_pdf.PdfPages`) and every table
as CSV and Parquet in ``tables/`` (:mod:`gaitsim.report.clinical_tables`). Nothing is
overwritten unless asked.

Content, from a :class:`~gaitsim.pipeline.clinical.ClinicalResult`:

* the session header (files, date, model, mass, software version, settings) and the
  notes, warnings first, in plain words;
* spatio-temporal parameters per side and cycle;
* kinematics and kinetics per side (right red, left blue; each cycle thin, the side's
  mean thick; dotted line at the mean toe-off) over the normative mean +/- 1 SD (grey),
  in clinical signs: angles in degrees (flexion, dorsiflexion, adduction, internal
  rotation, anterior pelvic tilt, pelvis up and forward on the side positive), moments
  in N m/kg (extensor, abductor, plantarflexor positive, internal moments), powers in
  W/kg (generation positive);
* the largest muscle forces over the cycle per side (by the peak of the side's mean);
* the movement analysis profile (gait variable scores) and gait profile score;
* reserve and residual actuators and the pelvis residuals, flagged where they exceed
  their thresholds; the marker fit per marker; events, cycles, scaling and timings.

Every number shown in a table is a cell of a CSV file, rounded to the decimals the
table states (:attr:`~gaitsim.report.clinical_tables.ReportTable.decimals`).
Figures are drawn on matplotlib's Agg canvas without pyplot (no window, the caller's
backend untouched).
"""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, MultipleLocator

from gaitsim.analysis.clinical_variables import CLINICAL_VARIABLES
from gaitsim.analysis.normative import PERCENT
from gaitsim.pipeline.clinical import ClinicalResult, CycleCurves, mean_curves
from gaitsim.report.clinical_tables import (
    ReportTable,
    display_unit,
    format_cell,
    report_tables,
    table_paths,
    to_display,
    write_tables,
)

__all__ = [
    "KINEMATIC_PANELS",
    "KINETIC_PANELS",
    "ReportFiles",
    "ReportFigure",
    "kinematics_figure",
    "kinetics_figure",
    "muscle_forces_figure",
    "profile_figure",
    "render_html",
    "report_figures",
    "write_pdf",
    "write_report",
]

#: Kinematic variables drawn, in panel order (three per row: sagittal, frontal,
#: transverse; pelvis, hip, knee, ankle and foot).
KINEMATIC_PANELS = (
    "pelvic_tilt",
    "pelvic_obliquity",
    "pelvic_rotation",
    "hip_flexion",
    "hip_adduction",
    "hip_rotation",
    "knee_flexion",
    "knee_adduction",
    "knee_rotation",
    "ankle_dorsiflexion",
    "foot_progression",
)
#: Kinetic variables drawn, in panel order.
KINETIC_PANELS = (
    "hip_extension_moment",
    "hip_abduction_moment",
    "knee_extension_moment",
    "ankle_plantarflexion_moment",
    "hip_power",
    "knee_power",
    "ankle_power",
)
#: Muscles drawn per side.
LARGEST_MUSCLES = 8

_COLORS = {"r": "#c62828", "l": "#1565c0"}
_SIDE_NAMES = {"r": "right", "l": "left"}
_BAND = "0.82"
_RC = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "svg.hashsalt": "gaitsim",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}
_HTML_FILE = "report.html"
_PDF_FILE = "report.pdf"
_TABLE_FOLDER = "tables"


@dataclass(frozen=True, eq=False)
class ReportFigure:
    """A figure of the report.

    Attributes
    ----------
    name
        Identifier (``"kinematics"``...).
    title, caption
        For the report.
    figure
        The matplotlib figure (Agg canvas).
    """

    name: str
    title: str
    caption: str
    figure: Figure


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote."""

    html: Path
    pdf: Path | None
    tables: tuple[Path, ...]


# ======================================================================================
# Figures
# ======================================================================================
def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(figure)
    return figure


def _style(axes: Axes, variable: str) -> None:
    info = CLINICAL_VARIABLES[variable]
    axes.set_xlim(0, 100)
    axes.xaxis.set_major_locator(MultipleLocator(20))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    axes.axhline(0.0, color="0.6", linewidth=0.5, zorder=0)
    axes.set_title(info.label, pad=3)
    axes.set_ylabel(f"{display_unit(variable)}  ({info.positive} +)")
    axes.set_xlabel("gait cycle (%)")


def _band(axes: Axes, result: ClinicalResult, variable: str) -> bool:
    normative = result.normative
    if normative is None or variable not in normative:
        return False
    expected = CLINICAL_VARIABLES[variable].unit
    if normative.units[variable] != expected:
        return False  # a unit the report cannot convert: no band rather than a wrong one
    mean = to_display(variable, normative.mean[variable])
    sd = np.abs(to_display(variable, normative.sd[variable]))
    axes.fill_between(PERCENT, mean - sd, mean + sd, color=_BAND, linewidth=0, zorder=0)
    axes.plot(PERCENT, mean, color="0.55", linewidth=0.7, zorder=1)
    return True


def _curves_panel(
    axes: Axes,
    result: ClinicalResult,
    variable: str,
    which: str,
) -> bool:
    drawn = False
    for side in ("r", "l"):
        cycles: Sequence[CycleCurves] = [
            c for c in result.cycles[side] if variable in getattr(c, which)
        ]
        if not cycles:
            continue
        color = _COLORS[side]
        if len(cycles) > 1:
            for c in cycles:
                axes.plot(
                    PERCENT,
                    to_display(variable, getattr(c, which)[variable]),
                    color=color,
                    linewidth=0.6,
                    alpha=0.45,
                )
        mean = mean_curves(cycles, which)[variable]  # type: ignore[arg-type]
        axes.plot(PERCENT, to_display(variable, mean), color=color, linewidth=1.6)
        toe_off = float(np.mean([c.toe_off_percent for c in cycles]))
        axes.axvline(toe_off, color=color, linestyle=":", linewidth=1.0)
        drawn = True
    return drawn


def _legend(figure: Figure, result: ClinicalResult, banded: bool) -> None:
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=_COLORS[s], linewidth=1.6, label=f"{_SIDE_NAMES[s]} (mean)")
        for s in ("r", "l")
    ]
    handles.append(Line2D([], [], color="0.3", linestyle=":", linewidth=1.0, label="toe-off"))
    if banded and result.normative is not None:
        handles.append(Patch(color=_BAND, label=f"{result.normative.name}: mean ± 1 SD"))
    figure.legend(
        handles=handles, loc="lower center", ncols=len(handles), frameon=False, fontsize=8
    )


def _grid_figure(
    result: ClinicalResult, variables: Sequence[str], which: str, title: str
) -> Figure | None:
    present = [
        v
        for v in variables
        if any(v in getattr(c, which) for side in ("r", "l") for c in result.cycles[side])
    ]
    if not present:
        return None
    with matplotlib.rc_context(_RC):
        columns = 3 if which == "kinematics" else 4
        rows = math.ceil(len(present) / columns)
        figure = _new_figure(3.2 * columns, 2.45 * rows + 0.8)
        figure.subplots_adjust(
            left=0.07, right=0.98, top=1 - 0.45 / figure.get_figheight(),
            bottom=0.55 / figure.get_figheight() + 0.02, wspace=0.38, hspace=0.6,
        )  # fmt: skip
        banded = False
        for k, variable in enumerate(present):
            axes = figure.add_subplot(rows, columns, k + 1)
            banded |= _band(axes, result, variable)
            _curves_panel(axes, result, variable, which)
            _style(axes, variable)
        figure.suptitle(title, fontsize=11, y=0.995, va="top")
        _legend(figure, result, banded)
    return figure


def kinematics_figure(result: ClinicalResult) -> Figure | None:
    """Joint and segment angles over the gait cycle (degrees, clinical signs), or ``None``
    if no side has a complete cycle."""
    return _grid_figure(result, KINEMATIC_PANELS, "kinematics", "Kinematics")


def kinetics_figure(result: ClinicalResult) -> Figure | None:
    """Joint moments (N m/kg) and powers (W/kg), or ``None`` without kinetics."""
    return _grid_figure(result, KINETIC_PANELS, "kinetics", "Kinetics (internal moments)")


def largest_muscles(result: ClinicalResult, side: str, count: int = LARGEST_MUSCLES) -> list[str]:
    """The side's muscles with the largest peak of the mean force over its cycles."""
    cycles = [c for c in result.cycles[side] if c.muscle_forces]
    if not cycles:
        return []
    mean = mean_curves(cycles, "muscle_forces")
    peaks = {m: float(np.nanmax(f)) if np.any(np.isfinite(f)) else -1.0 for m, f in mean.items()}
    return sorted(peaks, key=lambda m: -peaks[m])[:count]


def muscle_forces_figure(result: ClinicalResult, count: int = LARGEST_MUSCLES) -> Figure | None:
    """The largest muscle forces over the cycle (N), one panel per side, or ``None``."""
    sides = [s for s in ("r", "l") if largest_muscles(result, s, count)]
    if not sides:
        return None
    with matplotlib.rc_context(_RC):
        figure = _new_figure(6.0 * len(sides), 3.8)
        figure.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.14, wspace=0.3)
        cmap = matplotlib.colormaps["tab10"]
        for k, side in enumerate(sides):
            axes = figure.add_subplot(1, len(sides), k + 1)
            cycles = [c for c in result.cycles[side] if c.muscle_forces]
            mean = mean_curves(cycles, "muscle_forces")
            for j, muscle in enumerate(largest_muscles(result, side, count)):
                axes.plot(PERCENT, mean[muscle], color=cmap(j % 10), linewidth=1.3, label=muscle)
            toe_off = float(np.mean([c.toe_off_percent for c in cycles]))
            axes.axvline(toe_off, color="0.3", linestyle=":", linewidth=1.0)
            axes.set_xlim(0, 100)
            axes.xaxis.set_major_locator(MultipleLocator(20))
            axes.set_xlabel("gait cycle (%)")
            axes.set_ylabel("tendon force (N)")
            axes.set_title(f"{_SIDE_NAMES[side]} side: mean of {len(cycles)} cycle(s)", pad=3)
            axes.legend(loc="upper right", frameon=False, ncols=2, fontsize=6.5)
        figure.suptitle("Largest muscle forces (static optimisation)", fontsize=11)
    return figure


def profile_figure(result: ClinicalResult) -> Figure | None:
    """The movement analysis profile: gait variable scores per side and the GPS (degrees),
    or ``None`` without a profile."""
    profile = result.profile
    if profile is None:
        return None
    labels = [*profile.variables, "GPS"]
    with matplotlib.rc_context(_RC):
        figure = _new_figure(max(5.0, 0.75 * len(labels) + 1.5), 3.4)
        figure.subplots_adjust(left=0.1, right=0.98, top=0.86, bottom=0.32)
        axes = figure.add_subplot(1, 1, 1)
        x = np.arange(len(labels))
        for offset, side in ((-0.2, "l"), (0.2, "r")):
            if side not in profile.scores:
                continue
            values = [
                math.degrees(profile.scores[side].get(v, math.nan)) for v in profile.variables
            ]
            values.append(math.degrees(profile.gps[side]))
            axes.bar(x + offset, values, width=0.38, color=_COLORS[side], label=_SIDE_NAMES[side])
        axes.axhline(math.degrees(profile.overall), color="0.3", linestyle="--", linewidth=0.9,
                     label=f"overall GPS {math.degrees(profile.overall):.1f}°")  # fmt: skip
        axes.set_xticks(x, [v.replace("_", " ") for v in labels], rotation=40, ha="right")
        axes.set_ylabel("score (deg)")
        axes.legend(frameon=False, loc="upper left")
        figure.suptitle(f"Movement analysis profile against {profile.normative}", fontsize=11)
    return figure


def report_figures(result: ClinicalResult) -> tuple[ReportFigure, ...]:
    """The report's figures (those that have something to show)."""
    made = [
        (
            "kinematics",
            "Kinematics",
            kinematics_figure(result),
            "Angles over the gait cycle from initial contact (0 %) to the next of the same "
            "foot, clinical signs. Right red, left blue; thin lines single cycles, thick lines "
            "the side's mean, dotted lines toe-off; grey the normative mean ± 1 SD.",
        ),
        (
            "kinetics",
            "Kinetics",
            kinetics_figure(result),
            "Net internal joint moments (N m/kg) and joint powers (W/kg, generation +) of the "
            "cycles whose stance is on an assigned force plate.",
        ),
        (
            "muscle_forces",
            "Muscle forces",
            muscle_forces_figure(result),
            "Tendon forces from static optimisation (minimum summed squared activation at each "
            "frame), the largest per side by peak mean force.",
        ),
        (
            "profile",
            "Movement analysis profile",
            profile_figure(result),
            "Gait variable scores (RMS difference from the normative mean over the cycle) and "
            "the gait profile score (Baker et al. 2009).",
        ),
    ]
    return tuple(
        ReportFigure(name, title, caption, figure)
        for name, title, figure, caption in made
        if figure is not None
    )


# ======================================================================================
# HTML
# ======================================================================================
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72em; margin: 2em auto; line-height: 1.4;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.8em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .88em; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
td, th { border: 1px solid #ccc; padding: .2em .5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td, td.flag { background: #fdecea; }
.warning { color: #a11; } .info { color: #444; }
ul.notes li { margin: .25em 0; }
figure { margin: 1em 0; } figure img { max-width: 100%; }
figcaption { font-size: .9em; color: #444; }
.files { font-size: .85em; color: #444; }
"""

_SECTIONS = (
    ("Spatio-temporal parameters", ("spatiotemporal",)),
    ("Kinematics", ()),
    ("Kinetics", ()),
    ("Muscle forces", ()),
    ("Movement analysis profile", ("gait_profile",)),
    ("Reserves and residuals", ("reserves_residuals", "pelvis_residuals")),
    ("Marker fit", ("marker_fit", "marker_placement")),
    ("Events and cycles", ("events", "cycles")),
    ("Scaling", ("scaling", "scaling_measurements")),
    ("Time per stage", ("timings",)),
)
_FIGURE_OF_SECTION = {
    "Kinematics": "kinematics",
    "Kinetics": "kinetics",
    "Muscle forces": "muscle_forces",
    "Movement analysis profile": "profile",
}


def _svg_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC):
        figure.savefig(buffer, format="svg")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _table_html(table: ReportTable) -> str:
    flagged = table.columns.index("flagged") if "flagged" in table.columns else None
    severity = table.columns.index("severity") if "severity" in table.columns else None
    out = [
        f'<table data-table="{html.escape(table.name)}"><caption>{html.escape(table.title)}'
        "</caption><tr>"
    ]
    out += [f"<th>{html.escape(c)}</th>" for c in table.columns]
    out.append("</tr>")
    for row in table.rows:
        flag = (flagged is not None and row[flagged] is True) or (
            severity is not None and row[severity] == "warning"
        )
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            text = format_cell(value, table.decimals.get(column, 3))
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            css = ' class="num"' if numeric else ""
            cells.append(f'<td data-column="{html.escape(column)}"{css}>{html.escape(text)}</td>')
        opening = '<tr class="flag">' if flag else "<tr>"
        out.append(opening + "".join(cells) + "</tr>")
    if not table.rows:
        out.append(f'<tr><td colspan="{len(table.columns)}">none</td></tr>')
    out.append("</table>")
    return "".join(out)


def render_html(
    result: ClinicalResult,
    tables: Sequence[ReportTable],
    figures: Sequence[ReportFigure],
    files: Sequence[str] = (),
) -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    result
        The pipeline's result.
    tables, figures
        From :func:`~gaitsim.report.clinical_tables.report_tables` and
        :func:`report_figures`.
    files
        Names of the table files written beside the report, listed at its end.
    """
    by_name = {t.name: t for t in tables}
    figure_by_name = {f.name: f for f in figures}
    subject = result.trial.subject.name or Path(str(result.request.trial)).stem
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Gait analysis: {html.escape(subject)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Gait analysis report: {html.escape(subject)}</h1>",
        "<p>Joint angles, moments and powers from the lab's markers and force plates with a "
        "musculoskeletal model, in clinical signs (flexion, dorsiflexion, adduction, internal "
        "rotation positive; internal moments, extensor positive), against normal values; the "
        "muscle forces behind them; and how far the model had to be helped (reserves and "
        "residuals). Every number of the tables is also in the CSV and Parquet files named at "
        "the end.</p>",
        _table_html(by_name["session"]),
        "<h2>Notes</h2>",
    ]
    notes = sorted(result.notes, key=lambda n: n.severity != "warning")
    out.append('<ul class="notes">')
    for n in notes:
        out.append(
            f'<li class="{n.severity}"><strong>{html.escape(n.severity)}</strong> '
            f"({html.escape(n.stage)}): {html.escape(n.text)}</li>"
        )
    out.append("</ul>")
    for title, names in _SECTIONS:
        out.append(f"<h2>{html.escape(title)}</h2>")
        figure_name = _FIGURE_OF_SECTION.get(title)
        if figure_name is not None:
            figure = figure_by_name.get(figure_name)
            if figure is None:
                out.append(f"<p>No {html.escape(title.lower())} to show (see the notes).</p>")
            else:
                out.append(
                    f'<figure><img src="{_svg_uri(figure.figure)}" '
                    f'alt="{html.escape(figure.title)}"><figcaption>'
                    f"{html.escape(figure.caption)}</figcaption></figure>"
                )
        for name in names:
            if name in by_name:
                out.append(_table_html(by_name[name]))
    if files:
        out.append('<h2>Files</h2><p class="files">')
        out.append(", ".join(html.escape(f) for f in files))
        out.append("</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# ======================================================================================
# PDF
# ======================================================================================
_PAGE = (8.27, 11.69)  # A4 portrait, inches
_ROWS_PER_PAGE = 38


def _text_page(pdf: PdfPages, title: str, lines: Sequence[str]) -> None:
    with matplotlib.rc_context(_RC):
        figure = _new_figure(*_PAGE)
        figure.text(0.06, 0.96, title, fontsize=14, weight="bold", va="top")
        y = 0.92
        for line in lines:
            for piece in textwrap.wrap(line, 110) or [""]:
                if y < 0.04:
                    pdf.savefig(figure)
                    figure = _new_figure(*_PAGE)
                    y = 0.96
                figure.text(0.06, y, piece, fontsize=7.5, va="top", family="monospace")
                y -= 0.0135
        pdf.savefig(figure)


def _table_pages(pdf: PdfPages, table: ReportTable) -> None:
    """A table on as many pages as it needs (landscape when wide); column widths in
    proportion to their longest text, headers wrapped at underscores."""
    rows = [
        [
            textwrap.shorten(format_cell(v, table.decimals.get(c, 3)), 70, placeholder="...")
            for c, v in zip(table.columns, row, strict=True)
        ]
        for row in table.rows
    ] or [["none"] + [""] * (len(table.columns) - 1)]
    headers = [textwrap.fill(c.replace("_", " "), 14) for c in table.columns]
    lengths = [
        max([len(line) for line in h.splitlines()] + [len(r[j]) for r in rows] + [3])
        for j, h in enumerate(headers)
    ]
    widths = [n / sum(lengths) for n in lengths]
    page = _PAGE if len(table.columns) <= 6 else (_PAGE[1], _PAGE[0])
    per_page = _ROWS_PER_PAGE if page == _PAGE else _ROWS_PER_PAGE * 2 // 3
    for start in range(0, len(rows), per_page):
        chunk = rows[start : start + per_page]
        with matplotlib.rc_context(_RC):
            figure = _new_figure(*page)
            figure.text(0.04, 0.97, table.title, fontsize=10, weight="bold", va="top", wrap=True)
            axes = figure.add_axes((0.03, 0.03, 0.94, 0.88))
            axes.axis("off")
            drawn = axes.table(
                cellText=chunk,
                colLabels=headers,
                colWidths=widths,
                loc="upper center",
                cellLoc="left",
            )
            drawn.auto_set_font_size(False)
            drawn.set_fontsize(6)
            for (row, _), cell in drawn.get_celld().items():
                if row == 0:
                    cell.set_height(cell.get_height() * max(h.count("\n") + 1 for h in headers))
            pdf.savefig(figure)


def write_pdf(
    result: ClinicalResult,
    tables: Sequence[ReportTable],
    figures: Sequence[ReportFigure],
    path: str | Path,
) -> Path:
    """The report as a PDF: header and notes, the figures, then the shown tables."""
    path = Path(path)
    by_name = {t.name: t for t in tables}
    session = by_name["session"]
    header = [f"{row[0]}: {row[1]}" for row in session.rows]
    header += ["", "NOTES"]
    header += [
        f"[{n.severity}] ({n.stage}) {n.text}"
        for n in sorted(result.notes, key=lambda n: n.severity != "warning")
    ]
    with PdfPages(path, metadata={"Title": "gaitsim gait analysis report"}) as pdf:
        _text_page(pdf, "Gait analysis report", header)
        for figure in figures:
            with matplotlib.rc_context(_RC):
                pdf.savefig(figure.figure)
        for table in tables:
            if table.shown and table.name not in ("session", "notes"):
                _table_pages(pdf, table)
    return path


# ======================================================================================
# Everything
# ======================================================================================
def write_report(
    result: ClinicalResult, folder: str | Path, *, overwrite: bool = False, pdf: bool = True
) -> ReportFiles:
    """Write ``report.html``, ``report.pdf`` and ``tables/*.csv|parquet`` into ``folder``.

    Raises
    ------
    FileExistsError
        If a file to be written exists and ``overwrite`` is false (checked first: then
        nothing is written).
    """
    base = Path(folder)
    tables = report_tables(result)
    html_path = base / _HTML_FILE
    pdf_path = base / _PDF_FILE if pdf else None
    table_folder = base / _TABLE_FOLDER
    targets = [html_path, *([pdf_path] if pdf_path else []), *table_paths(table_folder, tables)]
    if not overwrite:
        existing = [p for p in targets if p is not None and p.exists()]
        if existing:
            raise FileExistsError(
                f"{existing[0]} exists; pass --force (overwrite=True) to replace it"
            )
    base.mkdir(parents=True, exist_ok=True)
    written = write_tables(tables, table_folder, overwrite=True)
    figures = report_figures(result)
    names = [str(p.relative_to(base)) for p in written]
    html_path.write_text(render_html(result, tables, figures, names), encoding="utf-8")
    if pdf_path is not None:
        write_pdf(result, tables, figures, pdf_path)
    return ReportFiles(html=html_path, pdf=pdf_path, tables=tuple(written))
