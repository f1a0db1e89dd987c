"""The ``gaitsim`` command line: thin commands over the library.

Every command prints a clear message and exits with status 1 on a gaitsim error (bad
file, invalid model), naming the file, line or element.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gaitsim import __version__
from gaitsim.cli_common import console, err_console, fail
from gaitsim.errors import GaitsimError

app = typer.Typer(
    name="gaitsim",
    help="Muscle-driven simulation and analysis of human walking.",
    no_args_is_help=True,
    add_completion=False,
)
model_app = typer.Typer(help="Inspect, check and import models.", no_args_is_help=True)
app.add_typer(model_app, name="model")
simulate_app = typer.Typer(help="Muscle-driven walking simulations.", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")
_fail = fail


def _version(value: bool) -> None:
    if value:
        console.print(f"gaitsim {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """gaitsim: muscle-driven simulation and analysis of human walking."""


@app.command("models")
def list_models() -> None:
    """List the built-in models."""
    from gaitsim.model.builtin import builtin_names, load_builtin

    table = Table(title="Built-in models")
    for col in ("name", "bodies", "coordinates", "muscles", "contacts", "mass (kg)"):
        table.add_column(col)
    for name in builtin_names():
        m = load_builtin(name)
        table.add_row(
            name,
            str(len(m.bodies)),
            str(len(m.coordinates)),
            str(len(m.muscles)),
            str(len(m.contacts)),
            f"{m.total_mass:.2f}",
        )
    console.print(table)


@model_app.command("show")
def model_show(
    model: Annotated[str, typer.Argument(help="Built-in name, .toml or .osim file.")],
) -> None:
    """Describe a model: bodies, coordinates, muscles."""
    from gaitsim.model.builtin import load_model

    try:
        m = load_model(model)
    except (GaitsimError, KeyError) as exc:
        _fail(exc)
        return
    console.print(
        f"[bold]{m.name}[/]: {len(m.bodies)} bodies, {len(m.coordinates)} "
        f"coordinates, {len(m.muscles)} muscles, {len(m.contacts)} contacts, "
        f"mass {m.total_mass:.2f} kg"
    )
    table = Table(title="Coordinates")
    for col in ("name", "joint", "motion", "range", "locked"):
        table.add_column(col)
    for j in m.joints:
        for c in j.coordinates:
            unit = "deg" if c.motion.value == "rotational" else "m"
            lo, hi = c.range
            if unit == "deg":
                lo, hi = lo * 57.29577951308232, hi * 57.29577951308232
            table.add_row(
                c.name,
                j.name,
                c.motion.value,
                f"{lo:.1f} to {hi:.1f} {unit}",
                "yes" if c.locked else "",
            )
    console.print(table)
    if m.muscles:
        mt = Table(title="Muscles")
        for col in ("name", "Fmax (N)", "l_opt (m)", "l_ts (m)", "pennation (deg)", "tendon"):
            mt.add_column(col)
        for mu in m.muscles:
            mt.add_row(
                mu.name,
                f"{mu.max_isometric_force:.0f}",
                f"{mu.optimal_fiber_length:.4f}",
                f"{mu.tendon_slack_length:.4f}",
                f"{mu.pennation_angle_at_optimal * 57.29577951308232:.1f}",
                mu.tendon.value,
            )
        console.print(mt)


@model_app.command("check")
def model_check(
    model: Annotated[str, typer.Argument(help="Built-in name, .toml or .osim file.")],
) -> None:
    """Validate a model file and build its mechanics."""
    from gaitsim.mechanics.model_functions import build
    from gaitsim.model.builtin import load_model

    try:
        m = load_model(model)
        t0 = time.perf_counter()
        build(m).build_all()
    except (GaitsimError, KeyError) as exc:
        _fail(exc)
        return
    console.print(
        f"[green]ok[/]: {m.name} is valid; functions built in {time.perf_counter() - t0:.2f} s"
    )


@model_app.command("import")
def model_import(
    osim: Annotated[Path, typer.Argument(help="OpenSim model file (.osim).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="gaitsim model file to write.")],
    ignore_unsupported: Annotated[
        bool, typer.Option(help="Warn about unsupported elements (e.g. wrapping) and skip them.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Overwrite the output file.")] = False,
) -> None:
    """Import an OpenSim .osim model into gaitsim's format (TOML)."""
    import warnings

    from gaitsim.io.osim import read_osim
    from gaitsim.model.toml_format import write_model

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = read_osim(osim, ignore_unsupported=ignore_unsupported)
        for w in caught:
            err_console.print(f"[yellow]warning:[/] {w.message}")
        write_model(m, output, overwrite=force)
    except (GaitsimError, FileExistsError, FileNotFoundError) as exc:
        _fail(exc)
        return
    console.print(
        f"wrote {output}: {len(m.bodies)} bodies, {len(m.coordinates)} coordinates, "
        f"{len(m.muscles)} muscles"
    )


@app.command("id")
def inverse_dynamics_command(
    model: Annotated[str, typer.Option("--model", "-m", help="Built-in name, .toml or .osim.")],
    coordinates: Annotated[Path, typer.Option(help="Coordinates (.mot/.sto), e.g. from IK.")],
    external_loads: Annotated[
        Path | None, typer.Option(help="OpenSim ExternalLoads XML naming the GRF data file.")
    ] = None,
    lowpass: Annotated[
        float, typer.Option(help="Low-pass cut-off for coordinates (Hz); <= 0: no filter.")
    ] = 6.0,
    output: Annotated[Path, typer.Option("-o", "--output", help="Result (.sto).")] = Path(
        "inverse_dynamics.sto"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite the output file.")] = False,
) -> None:
    """Joint moments of a measured trial (inverse dynamics), written as an OpenSim .sto."""
    from gaitsim import inverse_dynamics as idm
    from gaitsim.io.external_loads import read_external_loads
    from gaitsim.io.storage import read_storage, write_storage
    from gaitsim.model.builtin import load_model

    if output.exists() and not force:
        _fail(FileExistsError(f"{output} exists; pass --force to overwrite it"))
    try:
        m = load_model(model)
        table = read_storage(coordinates)
        loads = data = None
        if external_loads is not None:
            loads = read_external_loads(external_loads)
            data = read_storage(loads.resolve_datafile(external_loads))
        t0 = time.perf_counter()
        result = idm.inverse_dynamics(
            m, table, loads, data, lowpass_cutoff=lowpass if lowpass > 0 else None
        )
        elapsed = time.perf_counter() - t0
        write_storage(result.to_table(), output)
    except (GaitsimError, FileNotFoundError, KeyError) as exc:
        _fail(exc)
        return
    console.print(
        f"wrote {output}: {len(result.time)} frames, "
        f"{len(result.coordinate_names)} coordinates in {elapsed:.2f} s"
    )


@app.command("demo")
def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for outputs.")] = Path(
        "demo_output"
    ),
    simulate: Annotated[bool, typer.Option(help="Predict walking (about a minute).")] = True,
) -> None:
    """The main job: predicted walking with gait2d, and the built-in models' mechanics."""
    from gaitsim.demo import run_demo

    try:
        summary = run_demo(output, console=console, simulate=simulate)
    except GaitsimError as exc:
        _fail(exc)
        return
    (output / "summary.json").write_text(json.dumps(summary, indent=2))
    console.print(f"[green]done[/]: outputs in {output}/")


def _solve_with_progress(title: str, run_solver):  # noqa: ANN001, ANN202
    """Run ``run_solver(progress)`` showing a live table of the solver's iterations."""
    from rich.live import Live

    from gaitsim.ocp import Progress

    def render(p: Progress) -> Table:
        t = Table(title=title)
        for col in ("iteration", "objective", "infeasibility", "elapsed (s)"):
            t.add_column(col, justify="right")
        t.add_row(
            str(p.iteration), f"{p.objective:.5g}", f"{p.infeasibility:.2e}", f"{p.seconds:.1f}"
        )
        return t

    with Live(Table(title=title), console=console, refresh_per_second=4, transient=True) as live:
        return run_solver(lambda p: live.update(render(p)))


def _finish_run(run, output: Path, normative: Path | None, force: bool) -> None:  # noqa: ANN001
    """Write the run folder and print the summary."""
    from gaitsim.analysis.gait_metrics import summary
    from gaitsim.analysis.normative import load_normative
    from gaitsim.io.run_folder import write_run

    norms = load_normative(normative) if normative else None
    files = write_run(run.result, output, normative=norms, overwrite=force, model=run.model)
    sol = run.solution
    facts = summary(run.result, norms)
    done = Table(title="Summary")
    done.add_column("quantity")
    done.add_column("value", justify="right")
    done.add_row("solver", f"{sol.status}, {sol.iterations} iterations, {sol.seconds:.1f} s")
    done.add_row("objective", f"{sol.objective:.5g}")
    for name, value in sol.objective_terms.items():
        done.add_row(f"  {name}", f"{value:.5g}")
    done.add_row("speed (m/s)", f"{run.result.speed:.3f}")
    done.add_row("stride time (s)", f"{facts['stride_time_s']:.3f}")
    for side in ("r", "l"):
        stance = facts["stance_percent"].get(side)
        if stance is not None:
            done.add_row(f"stance {side} (% of cycle)", f"{stance:.1f}")
        knee = facts["peak_swing_knee_flexion_deg"].get(side)
        if knee is not None:
            done.add_row(f"peak swing knee flexion {side} (deg)", f"{knee:.1f}")
    console.print(done)
    console.print(f"[green]wrote[/] {len(files.all())} files to {output}/")


def _transcription(scheme: str, mesh: int):  # noqa: ANN202
    from gaitsim.ocp import HermiteSimpson, Trapezoidal

    schemes = {"trapezoidal": Trapezoidal, "hermite-simpson": HermiteSimpson}
    if scheme not in schemes:
        _fail(ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(schemes)}"))
    return schemes[scheme](mesh)


def _cores() -> int:
    """The cores this process may run on."""
    import os

    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _check_output(output: Path, force: bool) -> None:
    if output.exists() and any(output.iterdir()) and not force:
        _fail(FileExistsError(f"{output} exists and is not empty; pass --force"))


@simulate_app.command("predict")
def simulate_predict(
    speed: Annotated[float, typer.Option(help="Average speed (m/s); negative: backward.")] = 1.3,
    model: Annotated[str, typer.Option("--model", "-m", help="Built-in name, .toml or .osim.")] = (
        "gait2d"
    ),
    mesh: Annotated[int, typer.Option(help="Mesh intervals (half gait cycle).")] = 50,
    scheme: Annotated[
        str, typer.Option(help="Collocation: 'trapezoidal' or 'hermite-simpson'.")
    ] = "trapezoidal",
    tolerance: Annotated[float, typer.Option(help="IPOPT convergence tolerance.")] = 1e-4,
    max_iterations: Annotated[int, typer.Option(help="IPOPT iteration limit.")] = 3000,
    threads: Annotated[
        int | None,
        typer.Option(help="Threads for the collocation points' functions (default: all cores)."),
    ] = None,
    grf_limit: Annotated[
        float | None,
        typer.Option(help="Vertical GRF per foot (body weights) above which it costs [1.3]."),
    ] = None,
    grf_limit_weight: Annotated[
        float | None, typer.Option(help="Weight of the GRF-limit goal; 0 turns it off [10].")
    ] = None,
    grf_limit_penalty: Annotated[
        str | None,
        typer.Option(help="How the excess over the GRF limit costs: 'linear' or 'squared'."),
    ] = None,
    head_stability_weight: Annotated[
        float | None,
        typer.Option(help="Weight of the head-stability goal (head acceleration); 0: off [5]."),
    ] = None,
    metabolic_weight: Annotated[
        float | None,
        typer.Option(help="Weight of the metabolic-energy goal (Bhargava 2004); 0: off [0.5]."),
    ] = None,
    normative: Annotated[
        Path | None, typer.Option(help="Normative curves (Winter CSV or gaitsim CSV).")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Run folder.")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite the run folder.")] = False,
) -> None:
    """Predict walking driven by the model's muscles (half cycle, mirrored)."""
    from gaitsim.ocp import Ipopt
    from gaitsim.simulate.predict import predict_walking
    from gaitsim.simulate.walking import WalkingSpec

    # Options left out keep WalkingSpec's defaults (one place for them).
    options = {
        "grf_limit": grf_limit,
        "grf_limit_weight": grf_limit_weight,
        "grf_limit_penalty": grf_limit_penalty,
        "head_stability_weight": head_stability_weight,
        "metabolic_weight": metabolic_weight,
    }
    goals = {name: value for name, value in options.items() if value is not None}
    label = f"{speed:+.2f}".replace("+", "p").replace("-", "m").replace(".", "_")
    output = output or Path("runs") / f"predict_{label}"
    _check_output(output, force)
    try:
        run = _solve_with_progress(
            f"Predicting walking at {speed:+.2f} m/s ({model}, {mesh} intervals)",
            lambda progress: predict_walking(
                model,
                spec=WalkingSpec(speed=speed, **goals),
                transcription=_transcription(scheme, mesh),
                solver=Ipopt(
                    tolerance=tolerance,
                    max_iterations=max_iterations,
                    threads=threads or _cores(),
                ),
                progress=progress,
            ),
        )
        _finish_run(run, output, normative, force)
    except (GaitsimError, FileExistsError, KeyError) as exc:
        _fail(exc)


@simulate_app.command("track")
def simulate_track(
    coordinates: Annotated[Path, typer.Option(help="Coordinates to track (.sto/.mot).")],
    grf: Annotated[Path | None, typer.Option(help="Ground reaction forces (.sto/.mot).")] = None,
    external_loads: Annotated[
        Path | None, typer.Option(help="ExternalLoads XML describing the GRF columns.")
    ] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="Built-in name, .toml or .osim.")] = (
        "gait2d"
    ),
    mesh: Annotated[int, typer.Option(help="Mesh intervals.")] = 50,
    scheme: Annotated[
        str, typer.Option(help="Collocation: 'trapezoidal' or 'hermite-simpson'.")
    ] = "trapezoidal",
    tolerance: Annotated[float, typer.Option(help="IPOPT convergence tolerance.")] = 1e-4,
    max_iterations: Annotated[int, typer.Option(help="IPOPT iteration limit.")] = 3000,
    threads: Annotated[
        int | None,
        typer.Option(help="Threads for the collocation points' functions (default: all cores)."),
    ] = None,
    normative: Annotated[
        Path | None, typer.Option(help="Normative curves (Winter CSV or gaitsim CSV).")
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Run folder.")] = Path(
        "runs/track"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite the run folder.")] = False,
) -> None:
    """Track measured coordinates (and GRF) with the model's muscles."""
    from gaitsim.ocp import Ipopt
    from gaitsim.simulate.track import track_walking

    _check_output(output, force)
    try:
        run = _solve_with_progress(
            f"Tracking {coordinates.name} ({model}, {mesh} intervals)",
            lambda progress: track_walking(
                model,
                coordinates,
                grf=grf,
                external_loads=external_loads,
                transcription=_transcription(scheme, mesh),
                solver=Ipopt(
                    tolerance=tolerance,
                    max_iterations=max_iterations,
                    threads=threads or _cores(),
                ),
                progress=progress,
            ),
        )
        _finish_run(run, output, normative, force)
    except (GaitsimError, FileExistsError, FileNotFoundError, KeyError, ValueError) as exc:
        _fail(exc)


def _register_analysis_commands() -> None:
    from gaitsim import cli_analysis as c
    from gaitsim import cli_capture as capture
    from gaitsim import cli_report

    app.command("analyze")(c.analyze_command)
    app.command("questions")(c.questions_command)
    app.command("capacity")(c.capacity_command)
    app.command("kam")(c.kam_command)
    model_app.command("scale")(c.model_scale)
    model_app.command("export")(c.model_export)
    app.command("ik")(capture.inverse_kinematics_command)
    app.command("so")(capture.static_optimization_command)
    app.command("import")(capture.import_command)
    app.command("report")(cli_report.report_command)


_register_analysis_commands()
