"""CLI commands for measured trials: ``ik`` (and, with the capture pipeline, ``report``).

Registered on the main app by :mod:`gaitsim.cli`.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated

import typer

from gaitsim.cli_common import console, fail
from gaitsim.errors import GaitsimError

__all__ = ["import_command", "inverse_kinematics_command", "static_optimization_command"]


def inverse_kinematics_command(
    markers: Annotated[
        Path, typer.Argument(help="Marker trajectories (.trc), in the model's ground frame.")
    ],
    model: Annotated[
        str, typer.Option("--model", "-m", help="Built-in name, .toml or .osim.")
    ] = "gait3d",
    mapping: Annotated[
        str | None,
        typer.Option(
            help="Marker mapping: a shipped one (e.g. plug_in_gait_lower_body) or a .toml "
            "file. Default: the trial's markers that the model has, under their own names."
        ),
    ] = None,
    setup: Annotated[
        Path | None,
        typer.Option(help="OpenSim IK setup (.xml): marker weights, coordinate tasks, times."),
    ] = None,
    start: Annotated[float | None, typer.Option(help="First time solved (s).")] = None,
    end: Annotated[float | None, typer.Option(help="Last time solved (s).")] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Coordinates (.mot, angles in degrees).")
    ] = Path("ik.mot"),
    force: Annotated[bool, typer.Option(help="Overwrite the output files.")] = False,
) -> None:
    """Joint angles from markers (inverse kinematics), as an OpenSim .mot; the per-frame
    marker errors and each marker's distance go next to it (_marker_errors.sto,
    _marker_distances.sto)."""
    from gaitsim.io.storage import write_storage
    from gaitsim.io.trc import read_trc
    from gaitsim.kinematics import inverse_kinematics as ik
    from gaitsim.kinematics.marker_sets import (
        load_shipped_mapping,
        read_marker_mapping,
        shipped_mapping_names,
    )
    from gaitsim.model.builtin import load_model

    errors_path = output.with_name(output.stem + "_marker_errors.sto")
    distances_path = output.with_name(output.stem + "_marker_distances.sto")
    for path in (output, errors_path, distances_path):
        if path.exists() and not force:
            fail(FileExistsError(f"{path} exists; pass --force to overwrite it"))
    if setup is not None and mapping is not None:
        fail(GaitsimError("give either --setup (its marker tasks) or --mapping, not both"))
    try:
        m = load_model(model)
        table = read_trc(markers)
        chosen = None
        settings = ik.IKSettings()
        if setup is not None:
            opensim_setup = ik.read_opensim_ik_setup(setup)
            chosen, settings = opensim_setup.mapping, opensim_setup.settings()
        elif mapping is not None:
            if mapping in shipped_mapping_names():
                chosen = load_shipped_mapping(mapping)
            elif Path(mapping).is_file():
                chosen = read_marker_mapping(mapping)
            else:
                raise GaitsimError(
                    f"no marker mapping {mapping!r}: not a file, nor a shipped mapping "
                    f"({', '.join(shipped_mapping_names())})"
                )
        if start is not None or end is not None:
            lo, hi = settings.time_range or (float(table.time[0]), float(table.time[-1]))
            settings = dataclasses.replace(
                settings,
                time_range=(lo if start is None else start, hi if end is None else end),
            )
        t0 = time.perf_counter()
        result = ik.inverse_kinematics(m, table, chosen, settings)
        elapsed = time.perf_counter() - t0
        ik.write_motion(result, output)
        ik.write_marker_errors(result, errors_path)
        write_storage(result.marker_errors_table(), distances_path)
    except (GaitsimError, FileNotFoundError, KeyError, ValueError) as exc:
        fail(exc)
    console.print(result.summary())
    console.print(
        f"wrote {output}, {errors_path.name}, {distances_path.name}: "
        f"{result.n_frames} frames in {elapsed:.2f} s"
    )


def static_optimization_command(
    model: Annotated[str, typer.Option("--model", "-m", help="Built-in name, .toml or .osim.")],
    coordinates: Annotated[Path, typer.Option(help="Coordinates (.mot/.sto), e.g. from IK.")],
    external_loads: Annotated[
        Path | None, typer.Option(help="OpenSim ExternalLoads XML naming the GRF data file.")
    ] = None,
    lowpass: Annotated[
        float, typer.Option(help="Low-pass cut-off for coordinates (Hz); <= 0: no filter.")
    ] = 6.0,
    start: Annotated[float | None, typer.Option(help="First time to solve (s).")] = None,
    end: Annotated[float | None, typer.Option(help="Last time to solve (s).")] = None,
    method: Annotated[
        str,
        typer.Option(
            help="'static': static optimisation frame by frame; 'redundancy': one solve "
            "over the whole trial with activation dynamics (De Groote et al. 2016)."
        ),
    ] = "static",
    exponent: Annotated[
        float, typer.Option(help="Exponent p of the effort sum a^p (redundancy: e^p).")
    ] = 2.0,
    passive: Annotated[
        bool, typer.Option(help="Include passive fibre force (OpenSim's tool does not).")
    ] = True,
    reserve: Annotated[
        float, typer.Option(help="Optimal force of the reserve actuators (N m or N).")
    ] = 1.0,
    residual: Annotated[
        float, typer.Option(help="Optimal force of the pelvis residual actuators (N or N m).")
    ] = 100.0,
    compliant: Annotated[
        str,
        typer.Option(
            help="Redundancy only: muscles with compliant tendons, comma-separated, or "
            "'model' for the model's compliant ones; empty: all rigid."
        ),
    ] = "",
    mesh_interval: Annotated[
        float | None,
        typer.Option(help="Redundancy only: uniform mesh interval (s); default every frame."),
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the results.")] = Path(
        "static_optimization"
    ),
    name: Annotated[str, typer.Option(help="Prefix of the result files.")] = "gaitsim",
    force: Annotated[bool, typer.Option(help="Overwrite existing result files.")] = False,
) -> None:
    """Muscle forces of a measured trial by static optimisation or, with --method
    redundancy, by a whole-trial solve with activation dynamics (after inverse dynamics).

    Writes <name>_StaticOptimization_{activation,force,status}.sto, or
    <name>_MuscleRedundancy_{activation,excitation,force,status}.sto (rows that did not
    converge are NaN), and prints every reserve and residual with its RMS and peak.
    """
    import warnings

    from rich.table import Table

    from gaitsim import inverse_dynamics as idm
    from gaitsim.analysis import muscle_redundancy as mr
    from gaitsim.analysis import static_optimization as so
    from gaitsim.io.external_loads import read_external_loads
    from gaitsim.io.storage import read_storage
    from gaitsim.mechanics.model_functions import build
    from gaitsim.model.builtin import load_model

    if method not in ("static", "redundancy"):
        fail(GaitsimError(f"--method must be 'static' or 'redundancy', got {method!r}"))
    redundancy = method == "redundancy"
    if not redundancy and (compliant or mesh_interval is not None):
        fail(GaitsimError("--compliant and --mesh-interval need --method redundancy"))
    paths_of = mr.muscle_redundancy_paths if redundancy else so.static_optimization_paths
    existing = [p for p in paths_of(output, name).values() if p.exists()]
    if existing and not force:
        fail(FileExistsError(f"{existing[0]} exists; pass --force to overwrite the results"))
    try:
        m = load_model(model)
        spec = so.StaticOptimizationSpec(
            activation_exponent=exponent,
            passive_fiber_force=passive,
            reserve_optimal_force=reserve,
            residual_optimal_force=residual,
        )
        table = read_storage(coordinates)
        loads = data = None
        if external_loads is not None:
            loads = read_external_loads(external_loads)
            data = read_storage(loads.resolve_datafile(external_loads))
        time_range = None
        if start is not None or end is not None:
            time_range = (
                float(table.time[0]) if start is None else start,
                float(table.time[-1]) if end is None else end,
            )
        t0 = time.perf_counter()
        functions = build(m)
        trial = idm.inverse_dynamics(
            m,
            table,
            loads,
            data,
            lowpass_cutoff=lowpass if lowpass > 0 else None,
            functions=functions,
            time_range=time_range,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", so.StaticOptimizationWarning)
            if redundancy:
                tendons: tuple[str, ...] | str = (
                    "model"
                    if compliant.strip() == "model"
                    else tuple(n.strip() for n in compliant.split(",") if n.strip())
                )
                mr_spec = mr.MuscleRedundancySpec.from_static_optimization(
                    spec, compliant_tendons=tendons, mesh_interval=mesh_interval
                )
                result: so.StaticOptimizationResult = mr.muscle_redundancy(
                    m, trial, mr_spec, functions=functions, return_failure=True
                )
            else:
                result = so.static_optimization(m, trial, spec, functions=functions)
        elapsed = time.perf_counter() - t0
        if isinstance(result, mr.MuscleRedundancyResult):
            paths = mr.write_muscle_redundancy(result, output, name, overwrite=force)
        else:
            paths = so.write_static_optimization(result, output, name, overwrite=force)
    except (GaitsimError, FileExistsError, FileNotFoundError, KeyError, ValueError) as exc:
        fail(exc)
    for w in caught:
        console.print(f"[yellow]warning:[/] {w.message}")
    summary = Table(title="Reserve and residual actuators (N m or N)")
    for col in ("actuator", "kind", "RMS", "peak", "threshold", ""):
        summary.add_column(col)
    for s in result.actuator_summary():
        summary.add_row(
            s.name,
            s.kind,
            f"{s.rms:.3g}",
            f"{s.peak:.3g}",
            f"{s.threshold:.3g}",
            "[red]exceeds[/]" if s.exceeds else "",
        )
    console.print(summary)
    colour = "green" if result.all_converged else "red"
    console.print(
        f"[{colour}]{int(result.converged.sum())} of {result.n_frames} frames converged[/] "
        f"({result.method}; {elapsed:.2f} s with inverse dynamics; "
        f"{result.frames_per_second:.0f} frames/s solving); "
        f"wrote {', '.join(str(p) for p in paths.values())}"
    )


def import_command(
    source: Annotated[Path, typer.Argument(help="C3D file, or a TRC file with --external-loads.")],
    external_loads: Annotated[
        Path | None, typer.Option(help="OpenSim ExternalLoads XML (with a TRC source).")
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write.")] = Path(
        "trial"
    ),
    up: Annotated[
        str | None, typer.Option(help="Lab axis pointing up (+x..-z); default: detect.")
    ] = None,
    forward: Annotated[
        str | None, typer.Option(help="Lab axis of walking; default: detect.")
    ] = None,
    max_gap: Annotated[float, typer.Option(help="Longest marker gap filled (s).")] = 0.1,
    optional: Annotated[
        list[str] | None, typer.Option(help="Marker that may be missing (repeatable).")
    ] = None,
    crop_to_complete: Annotated[
        bool, typer.Option(help="Crop to where every required marker is visible or fillable.")
    ] = False,
    marker_cutoff: Annotated[float, typer.Option(help="Marker low-pass (Hz); <= 0: none.")] = 6.0,
    force_cutoff: Annotated[float, typer.Option(help="Force low-pass (Hz); <= 0: none.")] = 6.0,
    threshold: Annotated[
        float, typer.Option(help="Normal force (N) below which the COP is undefined.")
    ] = 20.0,
    lenient: Annotated[
        bool, typer.Option(help="Leave unassigned plate contacts out instead of failing.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Write into a non-empty output folder.")] = False,
) -> None:
    """Import a lab trial (C3D, or TRC + OpenSim forces) into the model frame: markers.trc,
    ground_reactions.mot/.xml, events.csv, trial.json."""
    from gaitsim.capture.export import write_trial
    from gaitsim.capture.importing import ImportSettings, import_opensim_trial, import_trial

    if output.exists() and any(output.iterdir()) and not force:
        fail(FileExistsError(f"{output} is not empty; pass --force to write into it"))
    settings = ImportSettings(
        up=up,
        forward=forward,
        max_gap_seconds=max_gap,
        optional_markers=tuple(optional or ()),
        crop_to_complete=crop_to_complete,
        marker_cutoff=marker_cutoff if marker_cutoff > 0 else None,
        force_cutoff=force_cutoff if force_cutoff > 0 else None,
        cop_threshold=threshold,
    )
    try:
        if external_loads is None:
            trial = import_trial(source, settings)
        else:
            trial = import_opensim_trial(source, external_loads, settings)
        files = write_trial(trial, output, strict=not lenient)
    except (GaitsimError, FileNotFoundError, ValueError) as exc:
        fail(exc)
    for step in trial.history:
        console.print(f"- {step}")
    console.print(
        f"[green]wrote[/] {files.markers.parent}: markers.trc, ground_reactions.mot/.xml, "
        "events.csv, trial.json"
    )
