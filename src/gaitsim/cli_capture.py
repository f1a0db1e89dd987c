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

__all__ = ["inverse_kinematics_command"]


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
