"""The clinical pipeline against OpenSim's IK + ID + static optimisation tools, end to end.

Trial: OpenSim's gait10dof18musc example (``../shared/data/opensim/gait10dof18musc``):
``subject01_walk.trc`` (151 frames at 60 Hz, 41 markers) with
``subject01_walk_grf.mot/.xml`` on ``subject01_scaled.osim`` (10 coordinates, 18
muscles). Both programs do the same work, each in a fresh Python process (so imports,
model loading and the first builds count, as they do for a user):

* **gaitsim**: :func:`gaitsim.pipeline.clinical.run_clinical_pipeline` -- import the TRC
  and MOT, inverse kinematics with the weights of OpenSim's setup, plates assigned to
  feet, inverse dynamics (coordinates low-pass 6 Hz), static optimisation (rigid-tendon
  DeGroote-Fregly muscles, reserves and residuals), and also the events, cycles,
  spatio-temporal parameters and cycle curves that OpenSim's tools do not compute. The
  report (HTML, PDF, tables) is timed separately and not part of the ratio.
* **OpenSim 4.6** (``opensim`` pip package, never imported with casadi): its
  ``InverseKinematicsTool`` with ``reference_walk_Setup_IK.xml``, its
  ``InverseDynamicsTool`` with ``reference_walk_Setup_ID.xml`` on the IK it just wrote, and
  its ``StaticOptimization`` analysis (``AnalyzeTool``, default convergence 1e-4) on the
  same coordinates and loads, with the model's muscles converted to rigid-tendon
  DeGroote-Fregly muscles (``DeGrooteFregly2016Muscle::replaceMuscles``) and a reserve
  (1 N m) on every joint and a residual (100) on every pelvis coordinate -- the problem
  gaitsim solves (as in ``tests/validation/test_static_optimization_subject01.py``).

Every timed run of either program is a fresh process that reads the files and loads
the model: nothing computed in one run (results, built CasADi functions) is kept for the
next. Python bytecode is treated as a normal installation does: ``pip install`` (and a
first import from a checkout) compiles each module's ``.pyc`` once, so by default both
programs' processes use a bytecode cache in a temporary folder (``PYTHONPYCACHEPREFIX``;
the checkout is not written to), filled by one untimed warm-up run of each program, which
also warms the operating system's file cache for both alike. ``--no-bytecode`` instead
compiles every gaitsim module from source in every process (what
``PYTHONDONTWRITEBYTECODE=1`` without a cache gives; about 0.3 s more for gaitsim, in its
imports).

Printed: the machine, the load average before and after, wall times per run (whole
process; and the tools alone, inside the process) with gaitsim's and OpenSim's time per
stage, their best and median over the runs, the ratio OpenSim / gaitsim, the median time
of each gaitsim stage, and the largest differences between the two programs' coordinates
and generalised forces (to show they did the same work).

``--baseline OTHER/src`` also runs another gaitsim version (its ``src`` folder, e.g. a
``git archive`` of an earlier commit), interleaved with the two programs so that all
three see the same machine load: before/after comparisons on a shared machine.

Run from the repository root: ``nice -n 10 .venv/bin/python benchmarks/bench_clinical_pipeline.py
[--runs 5] [--no-bytecode] [--baseline OTHER/src]`` (needs ``../shared/data`` and the
``opensim`` package).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT.parent / "shared" / "data" / "opensim" / "gait10dof18musc"

GAITSIM_SCRIPT = r"""
import json, sys, time
started = time.perf_counter()
from gaitsim.pipeline.clinical import ClinicalRequest, ClinicalSettings, run_clinical_pipeline
from gaitsim.io.storage import write_storage
imported = time.perf_counter()
folder, out = sys.argv[1], sys.argv[2]
request = ClinicalRequest(
    trial=folder + "/subject01_walk.trc",
    external_loads=folder + "/subject01_walk_grf.xml",
    model=folder + "/subject01_scaled.osim",
    ik_setup=folder + "/reference_walk_Setup_IK.xml",
    settings=ClinicalSettings(marker_cutoff=None, force_cutoff=None, coordinate_cutoff=6.0),
)
result = run_clinical_pipeline(request)
done = time.perf_counter()
report_seconds = None
if len(sys.argv) > 3:
    from gaitsim.report.clinical_html import write_report
    write_report(result, out + "/report")
    report_seconds = time.perf_counter() - done
write_storage(result.ik.coordinates_table(), out + "/ik.mot")
write_storage(result.inverse_dynamics.to_table(), out + "/id.sto")
print(json.dumps({
    "import_seconds": imported - started,
    "pipeline_seconds": done - imported,
    "stages": {t.stage: t.seconds for t in result.timings},
    "report_seconds": report_seconds,
    "frames": int(result.ik.n_frames),
    "so_converged": bool(result.static_optimization.all_converged),
}))
"""

OPENSIM_SCRIPT = r"""
import json, math, sys, time
started = time.perf_counter()
import opensim as osim
imported = time.perf_counter()
folder, out = sys.argv[1], sys.argv[2]
osim.Logger.setLevelString("error")
seconds = {}

t = time.perf_counter()
model = osim.Model(folder + "/subject01_scaled.osim")
ik = osim.InverseKinematicsTool(folder + "/reference_walk_Setup_IK.xml")
ik.setModel(model)
ik.set_marker_file(folder + "/subject01_walk.trc")
ik.setResultsDir(out)
ik.setOutputMotionFileName(out + "/ik.mot")
ik.run()
seconds["inverse_kinematics"] = time.perf_counter() - t

t = time.perf_counter()
model = osim.Model(folder + "/subject01_scaled.osim")
tool = osim.InverseDynamicsTool(folder + "/reference_walk_Setup_ID.xml")
tool.setModel(model)
tool.setCoordinatesFileName(out + "/ik.mot")
tool.setExternalLoadsFileName(folder + "/subject01_walk_grf.xml")
tool.setResultsDir(out)
tool.setOutputGenForceFileName("id.sto")
tool.run()
seconds["inverse_dynamics"] = time.perf_counter() - t

t = time.perf_counter()
model = osim.Model(folder + "/subject01_scaled.osim")
osim.DeGrooteFregly2016Muscle.replaceMuscles(model)
muscles = model.getMuscles()
for i in range(muscles.getSize()):
    osim.DeGrooteFregly2016Muscle.safeDownCast(muscles.get(i)).set_ignore_tendon_compliance(True)
coordinates = model.getCoordinateSet()
for i in range(coordinates.getSize()):
    name = coordinates.get(i).getName()
    residual = name.startswith("pelvis")
    actuator = osim.CoordinateActuator(name)
    actuator.setName(name + ("_residual" if residual else "_reserve"))
    actuator.setOptimalForce(100.0 if residual else 1.0)
    actuator.setMinControl(-math.inf)
    actuator.setMaxControl(math.inf)
    model.addForce(actuator)
model.finalizeConnections()
model.printToXML(out + "/so_model.osim")
analyze = osim.AnalyzeTool()
analyze.setName("opensim")
analyze.setModelFilename(out + "/so_model.osim")
analyze.setCoordinatesFileName(out + "/ik.mot")
analyze.setLowpassCutoffFrequency(6.0)
analyze.setExternalLoadsFileName(folder + "/subject01_walk_grf.xml")
analyze.setInitialTime(0.0)
analyze.setFinalTime(2.5)
analyze.setResultsDir(out)
so = osim.StaticOptimization()
so.setUseModelForceSet(True)
so.setActivationExponent(2.0)
so.setUseMusclePhysiology(True)
analyze.getAnalysisSet().cloneAndAppend(so)
analyze.printToXML(out + "/so_setup.xml")
osim.AnalyzeTool(out + "/so_setup.xml").run()
seconds["static_optimization"] = time.perf_counter() - t
print(json.dumps({
    "import_seconds": imported - started,
    "pipeline_seconds": time.perf_counter() - imported,
    "stages": seconds,
    "version": osim.GetVersion(),
}))
"""


def _environment(bytecode_cache: Path | None) -> dict[str, str]:
    """The environment of the timed processes: with a bytecode cache folder, Python reads
    and writes ``.pyc`` files there (as an installed package has them); without, the
    inherited environment."""
    environment = dict(os.environ)
    if bytecode_cache is not None:
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        environment["PYTHONPYCACHEPREFIX"] = str(bytecode_cache)
    return environment


def _run(
    script: str, *arguments: str, environment: dict[str, str] | None = None
) -> tuple[float, dict[str, Any]]:
    """Wall time of a fresh Python process running ``script``, and its JSON output."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, *arguments],
        capture_output=True,
        text=True,
        timeout=3600,
        cwd=ROOT,
        env=environment,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-4000:])
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def _differences(gaitsim_dir: Path, opensim_dir: Path) -> str:
    """Largest and RMS differences between the two programs' coordinates (deg, m) and
    generalised forces (N m, N), with the column of the largest."""
    import numpy as np

    from gaitsim.io.storage import read_storage

    lines = []
    for name in ("ik.mot", "id.sto"):
        ours, theirs = read_storage(gaitsim_dir / name), read_storage(opensim_dir / name)
        columns = [c for c in theirs.labels if c in ours.labels]
        gaps = {
            c: np.interp(theirs.time, ours.time, ours.column(c)) - theirs.column(c) for c in columns
        }
        worst = max(columns, key=lambda c: float(np.max(np.abs(gaps[c]))))
        rms = max(float(np.sqrt(np.mean(g**2))) for g in gaps.values())
        lines.append(
            f"{name}: largest difference {np.max(np.abs(gaps[worst])):.3g} ({worst}), "
            f"largest RMS {rms:.3g}"
        )
    return "; ".join(lines)


def _stage_medians(runs: list[dict[str, Any]]) -> str:
    """Median time of each stage over a program's runs."""
    stages = runs[0]["stages"]
    return ", ".join(f"{k} {statistics.median(r['stages'][k] for r in runs):.3f} s" for k in stages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each program")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="compile gaitsim from source in every process (no .pyc cache, no warm-up run)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another gaitsim source folder (its src/), run interleaved as 'baseline' to "
        "compare two versions under the same load",
    )
    args = parser.parse_args()
    if not FOLDER.is_dir():
        sys.exit(f"{FOLDER} not found")
    if importlib.util.find_spec("opensim") is None:
        sys.exit("the opensim package is not installed")
    if args.baseline is not None and not (args.baseline / "gaitsim").is_dir():
        sys.exit(f"{args.baseline} holds no gaitsim package")
    print(f"# Clinical pipeline vs OpenSim IK + ID + SO, subject01 ({FOLDER})")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(
        "bytecode: "
        + (
            "none (every gaitsim module compiled in every process)"
            if args.no_bytecode
            else "cached (.pyc in a temporary folder, one untimed warm-up run per program)"
        )
    )
    print(f"load average before: {os.getloadavg()}")
    walls: dict[str, list[float]] = {}
    tools: dict[str, list[float]] = {}
    outputs: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        environment = _environment(None if args.no_bytecode else Path(tmp) / "pycache")
        programs = [("gaitsim", GAITSIM_SCRIPT, environment)]
        programs.append(("opensim", OPENSIM_SCRIPT, environment))
        if args.baseline is not None:
            baseline = dict(environment)
            baseline["PYTHONPATH"] = str(args.baseline.resolve())
            if not args.no_bytecode:  # its own cache: same file names, other sources
                baseline["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache_baseline")
            programs.append(("baseline", GAITSIM_SCRIPT, baseline))
        if not args.no_bytecode:
            for program, script, env in programs:
                out = Path(tmp) / f"{program}_warmup"
                out.mkdir()
                _run(script, str(FOLDER), str(out), environment=env)
        for run in range(args.runs):
            for program, script, env in programs:
                out = Path(tmp) / f"{program}{run}"
                out.mkdir()
                wall, data = _run(script, str(FOLDER), str(out), environment=env)
                walls.setdefault(program, []).append(wall)
                tools.setdefault(program, []).append(data["pipeline_seconds"])
                outputs.setdefault(program, []).append(data)
                listed = ", ".join(f"{k} {v:.2f}" for k, v in data["stages"].items())
                print(
                    f"run {run + 1} {program}: process {wall:.2f} s (imports "
                    f"{data['import_seconds']:.2f} s, work {data['pipeline_seconds']:.2f} s: "
                    f"{listed})"
                )
        print(f"OpenSim {outputs['opensim'][0]['version']}")
        print(_differences(Path(tmp) / "gaitsim0", Path(tmp) / "opensim0"))
        # The report is not part of the comparison (OpenSim's tools write none): one more
        # gaitsim run that also writes it, timed on its own.
        out = Path(tmp) / "report_run"
        out.mkdir()
        _, data = _run(GAITSIM_SCRIPT, str(FOLDER), str(out), "report", environment=environment)
        print(f"gaitsim report (HTML, PDF, tables): {data['report_seconds']:.2f} s")
    print(f"load average after: {os.getloadavg()}")
    for program in outputs:
        print(f"{program} stages, median: {_stage_medians(outputs[program])}")
    compared = [p for p in outputs if p != "opensim"]
    print(
        "\n| | "
        + " | ".join(compared)
        + " | OpenSim | "
        + " | ".join(f"ratio {p}" for p in compared)
        + " |"
    )
    print("|---" * (2 * len(compared) + 2) + "|")
    for label, data in (("whole process", walls), ("tools only", tools)):
        for stat, fn in (("best", min), ("median", statistics.median)):
            o = fn(data["opensim"])
            g = [fn(data[p]) for p in compared]
            print(
                f"| {label}, {stat} of {args.runs} | "
                + " | ".join(f"{v:.2f} s" for v in g)
                + f" | {o:.2f} s | "
                + " | ".join(f"{o / v:.1f}x" for v in g)
                + " |"
            )
    ratio = min(tools["opensim"]) / min(tools["gaitsim"])
    print(
        f"\nratio of the tools, files to results (best of each): {ratio:.1f}x (goal: at least 5x)"
    )
    ratio = min(walls["opensim"]) / min(walls["gaitsim"])
    print(f"ratio of whole processes, Python start and imports included (best): {ratio:.1f}x")


if __name__ == "__main__":
    main()
