"""Walking simulations side by side with OpenSim Moco's example2DWalking.

gaitsim solves the same two problems as ``benchmarks/moco_example2d.py`` on the same
imported model (``2D_gait.osim``, 50 mesh intervals, tolerance 1e-4): tracking of the
reference coordinates and GRF, then a prediction at 1.2 m/s (effort cubed over distance,
half-cycle symmetry, duration in [0.4, 0.6] s) seeded with the tracking solution. It
also times the prediction of ``gait2d`` at 1.3 m/s from gaitsim's shipped guess.

Moco's times come from ``benchmarks/_work/moco_example2d.json`` written by
``benchmarks/moco_example2d.py`` in the same session (run it first; it takes ~20 min),
or from ``--moco-json PATH``. Ratios are printed when both are available.

Differences that remain: gaitsim uses trapezoidal collocation with implicit multibody
dynamics and an exact Hessian (structured, node by node: ``gaitsim.ocp.nlp_derivatives``);
Moco's example uses Hermite-Simpson, explicit dynamics and a limited-memory Hessian.
gaitsim adds a small acceleration-smoothing term. Both use the machine's two cores
(Moco's default; ``--threads`` here).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

from gaitsim.ocp import Ipopt, Trapezoidal
from gaitsim.simulate.predict import predict_walking
from gaitsim.simulate.track import track_walking
from gaitsim.simulate.walking import WalkingSpec

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "opensim" / "moco_2d_walking"
MOCO_JSON = ROOT / "benchmarks" / "_work" / "moco_example2d.json"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moco-json", type=Path, default=MOCO_JSON)
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads for gaitsim's node functions (Moco's example uses all hardware threads)",
    )
    args = parser.parse_args()
    print(
        f"# gaitsim walking benchmark — {time.strftime('%Y-%m-%d')}, {platform.node()}, "
        f"{platform.machine()}, Python {platform.python_version()}"
    )
    solver = Ipopt(tolerance=1e-4, max_iterations=1000, threads=args.threads)
    print(f"- gaitsim: {args.threads} thread(s), derivatives {solver.derivatives}")
    results: dict[str, dict[str, float]] = {}

    if DATA.exists():
        t0 = time.perf_counter()
        tracking = track_walking(
            DATA / "2D_gait.osim",
            DATA / "referenceCoordinates.sto",
            grf=DATA / "referenceGRF.sto",
            external_loads=DATA / "referenceGRF.xml",
            transcription=Trapezoidal(50),
            solver=solver,
        )
        total = time.perf_counter() - t0
        s = tracking.solution
        results["tracking"] = {"solve_s": s.seconds, "total_s": total, "iterations": s.iterations}
        print(
            f"- tracking 2D_gait.osim: {s.status}, {s.iterations} iterations, solve "
            f"{s.seconds:.1f} s, total {total:.1f} s"
        )
        t0 = time.perf_counter()
        # Moco's problem: its goals only (no GRF limit, a smoothing-only acceleration term).
        spec = WalkingSpec(
            speed=1.2,
            duration=(0.4, 0.6),
            effort_exponent=3.0,
            effort_weight=10.0,
            acceleration_weight=1e-3,
            grf_limit_weight=0.0,
            head_stability_weight=0.0,
            metabolic_weight=0.0,
        )
        prediction = predict_walking(
            tracking.model,
            spec=spec,
            transcription=Trapezoidal(50),
            solver=solver,
            initial_guess=tracking.solution.trajectory,
        )
        total = time.perf_counter() - t0
        s = prediction.solution
        results["prediction"] = {"solve_s": s.seconds, "total_s": total, "iterations": s.iterations}
        print(
            f"- prediction 2D_gait.osim at 1.2 m/s from the tracking solution: {s.status}, "
            f"{s.iterations} iterations, solve {s.seconds:.1f} s, total {total:.1f} s"
        )
    else:
        print("- tracking/prediction of Moco's example skipped: ../shared/data absent")

    t0 = time.perf_counter()
    shipped = predict_walking("gait2d", speed=1.3, transcription=Trapezoidal(50), solver=solver)
    total = time.perf_counter() - t0
    s = shipped.solution
    results["gait2d_shipped_guess"] = {
        "solve_s": s.seconds,
        "total_s": total,
        "iterations": s.iterations,
    }
    print(
        f"- prediction gait2d at 1.3 m/s from the shipped guess: {s.status}, "
        f"{s.iterations} iterations, solve {s.seconds:.1f} s, total {total:.1f} s "
        f"(goal: <= 15 s)"
    )
    print(f"- peak memory of this process: {_peak_mib():.0f} MiB")

    if args.moco_json.exists():
        moco = json.loads(args.moco_json.read_text())
        for key, goal in (("tracking", 20.0), ("prediction", 50.0)):
            timing = moco.get(key, {}).get("timing", {})
            if key in results and "solve_wall_s" in timing:
                ratio = timing["solve_wall_s"] / results[key]["solve_s"]
                print(
                    f"- {key}: Moco {timing['solve_wall_s']:.1f} s / gaitsim "
                    f"{results[key]['solve_s']:.1f} s = {ratio:.1f}x (goal {goal:.0f}x); "
                    f"load average around Moco's solve {timing.get('loadavg_before')}"
                )
    else:
        print(f"- no Moco timings at {args.moco_json}: run benchmarks/moco_example2d.py")


if __name__ == "__main__":
    main()
