"""Static optimisation speed on OpenSim's subject01 walking trial (151 frames).

Measures, on ``subject01_scaled.osim`` (10 coordinates, 18 muscles) with OpenSim's IK
and inverse dynamics at 6 Hz as input:

1. the first call of :func:`gaitsim.analysis.static_optimization.static_optimization`
   (which also builds the model's muscle functions);
2. best of three, per solve mode: the whole trial as one NLP, frame by frame warm-started,
   frame by frame from a cold start (exponent 2 and 3);
3. OpenSim's StaticOptimization (``AnalyzeTool.run()``, its default convergence 1e-4) on
   the same trial, in a subprocess, if the ``opensim`` package is installed.

Run: ``.venv/bin/python benchmarks/bench_static_optimization.py`` (needs ``../shared/data``).
"""

from __future__ import annotations

import importlib.util
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gaitsim.analysis.static_optimization import (
    StaticOptimizationSpec,
    frame_problems,
    static_optimization,
)
from gaitsim.analysis.static_optimization_nlp import solve_per_frame
from gaitsim.inverse_dynamics import inverse_dynamics
from gaitsim.io.external_loads import read_external_loads
from gaitsim.io.storage import read_storage
from gaitsim.mechanics.model_functions import build
from gaitsim.model.builtin import load_model

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT.parent / "shared" / "data" / "opensim" / "gait10dof18musc"
sys.path.insert(0, str(ROOT / "tests" / "validation"))
T = TypeVar("T")


def best_of(fn: Callable[[], T], repeats: int = 3) -> tuple[float, T]:
    """Shortest wall time of ``repeats`` calls, and that call's value."""
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        value = fn()
        runs.append((time.perf_counter() - started, value))
    return min(runs, key=lambda run: run[0])


def main() -> None:
    warnings.simplefilter("ignore")  # the lumbar reserve and pelvis residuals are flagged
    print(f"# Static optimisation, subject01 ({platform.processor() or platform.machine()})")
    model = load_model(FOLDER / "subject01_scaled.osim")
    functions = build(model)
    loads = read_external_loads(FOLDER / "subject01_walk_grf.xml")
    trial = inverse_dynamics(
        model,
        read_storage(FOLDER / "reference_subject01_walk_IK.mot"),
        loads,
        read_storage(loads.resolve_datafile(FOLDER / "subject01_walk_grf.xml")),
        lowpass_cutoff=6.0,
        functions=functions,
    )
    n = trial.time.size
    started = time.perf_counter()
    first = static_optimization(model, trial, functions=functions)
    print(
        f"- first call (builds the muscle functions too): {time.perf_counter() - started:.2f} s "
        f"for {n} frames, all converged: {first.all_converged}"
    )

    print("\n| mode | exponent | total (best of 3) | solve only | frames/s (total) | iterations |")
    print("|---|---|---|---|---|---|")
    for exponent in (2.0, 3.0):
        for mode in ("all_frames", "per_frame"):
            spec = StaticOptimizationSpec(activation_exponent=exponent, solve=mode)
            seconds, result = best_of(
                lambda spec=spec: static_optimization(model, trial, spec, functions=functions)
            )
            assert result.all_converged
            print(
                f"| {mode} | {exponent:g} | {seconds:.3f} s | {result.solve_seconds:.3f} s | "
                f"{n / seconds:.0f} | {result.iterations.mean():.1f} |"
            )
        # Cold start, frame by frame (each frame from the same initial guess).
        problems = frame_problems(model, trial, spec, functions=functions)
        _, cold = best_of(lambda problems=problems: solve_per_frame(problems, warm_start=False))
        print(
            f"| per_frame, cold start | {exponent:g} | – | {cold.seconds:.3f} s | "
            f"{n / cold.seconds:.0f} (solve) | {cold.iterations.mean():.1f} |"
        )

    if importlib.util.find_spec("opensim") is None:
        print("\nopensim not installed: OpenSim's StaticOptimization not timed")
        return
    from test_static_optimization_subject01 import OPENSIM_SCRIPT

    times = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(
                # Real pennation angles, OpenSim's default convergence and iteration limit.
                [sys.executable, "-c", OPENSIM_SCRIPT, str(FOLDER), tmp, "0", "1e-4", "100"],
                capture_output=True,
                text=True,
                check=True,
            )
            times.append(float(done.stdout.split("seconds")[-1]))
    print(
        f"\nOpenSim StaticOptimization (AnalyzeTool.run(), DeGroote muscles, rigid tendons): "
        f"best {min(times):.2f} s = {n / min(times):.0f} frames/s"
    )


if __name__ == "__main__":
    main()
