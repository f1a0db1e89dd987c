"""Reproduce and time OpenSim Moco's ``example2DWalking`` on this machine.

Two problems, solved one after the other in one process, as in the example
(opensim-core ``OpenSim/Examples/Moco/example2DWalking``):

1. Tracking (``MocoTrack``): model ``2D_gait.osim`` (10 dof, 18 DeGrooteFregly2016
   muscles, lumbar torque actuator, 4 smooth sphere contacts); reference
   ``referenceCoordinates.sto`` low-pass filtered at 6 Hz; coordinate values and
   their derivatives (speeds) tracked with global weight 1; the default
   ``control_effort`` goal re-weighted to 10; ground reaction forces tracked with
   ``MocoContactTrackingGoal`` (weight 1, ``referenceGRF.xml``, heel+front spheres
   per foot, error projected on the plane normal to +Z); left-right symmetry by a
   ``MocoPeriodicityGoal`` (endpoint constraints); fixed duration 0 to ~0.47 s;
   the example's state bounds.  Solver settings as in the C++ example:
   50 mesh intervals, convergence and constraint tolerance 1e-4, at most 1000
   IPOPT iterations, verbosity 2; the rest are MocoTrack's solver defaults
   (explicit dynamics, Hermite-Simpson, forward finite differences, no sparsity
   detection, limited-memory Hessian).  The Python and Matlab versions of the
   example do not change MocoTrack's solver, so their tracking runs with 24 mesh
   intervals and tolerances 1e-2 (``--track-solver-defaults`` does that here).
2. Prediction (``MocoStudy``): same model, symmetry goal and bounds; average speed
   1.2 m/s (``MocoAverageSpeedGoal``, endpoint constraint); effort over distance
   (``MocoControlGoal`` weight 10, exponent 3, divided by displacement); final
   time free in [0.4, 0.6] s; a fresh ``MocoCasADiSolver`` with 50 mesh intervals,
   tolerances 1e-4, at most 1000 iterations; the tracking solution is the guess.

Only ``study.solve()`` is inside each timed region; set-up and writing are timed
separately.  Every solver setting actually used is read back from the solver and
stored in the JSON, with the machine, OpenSim's version and the date.

One deviation from the example, needed on OpenSim 4.6: the example's final time
0.47008941 s is the last time in ``referenceCoordinates.sto``, but 4.6's low-pass
filter resamples the (very slightly non-uniform) table and ends it at 0.47008934 s,
so ``MocoTrack.initialize()`` refuses the example's value (opensim-core issue
#4315; upstream shortened the final time in PR #4273).  The default here is
0.470089 s (``--final-time`` to change it).

Run (from the repository root; 1.5 h on the project's shared 2-core VM)::

    .venv/bin/python benchmarks/moco_example2d.py [out.json] [--quick]

Default output: ``benchmarks/_work/moco_example2d.json`` (``..._quick.json`` with
``--quick``: 10 mesh intervals, tolerances 1e-2, to check the script quickly).
Solutions are written next to the JSON as ``<stem>_tracking.sto`` and
``<stem>_prediction.sto`` (the single step solved, Moco's MocoTrajectory format),
plus ``*_fullstride.sto`` (createPeriodicTrajectory) and ``*_grf_fullstride.sto``
(createExternalLoadsTableForGait).  The solver runs in a temporary working
directory holding copies of the four data files; nothing is written into the data
folder.

This script imports only opensim, numpy and the standard library (opensim bundles
its own libcasadi, which clashes with the casadi wheel in one process).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import opensim as osim

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "opensim" / "moco_2d_walking"
DATA_FILES = ("2D_gait.osim", "referenceCoordinates.sto", "referenceGRF.sto", "referenceGRF.xml")

DEG = math.pi / 180.0
# The example's bounds on coordinate values (both problems).
STATE_BOUNDS = {
    "/jointset/groundPelvis/pelvis_tilt/value": (-20 * DEG, -10 * DEG),
    "/jointset/groundPelvis/pelvis_tx/value": (0.0, 1.0),
    "/jointset/groundPelvis/pelvis_ty/value": (0.75, 1.25),
    "/jointset/hip_l/hip_flexion_l/value": (-10 * DEG, 60 * DEG),
    "/jointset/hip_r/hip_flexion_r/value": (-10 * DEG, 60 * DEG),
    "/jointset/knee_l/knee_angle_l/value": (-50 * DEG, 0.0),
    "/jointset/knee_r/knee_angle_r/value": (-50 * DEG, 0.0),
    "/jointset/ankle_l/ankle_angle_l/value": (-15 * DEG, 25 * DEG),
    "/jointset/ankle_r/ankle_angle_r/value": (-15 * DEG, 25 * DEG),
    "/jointset/lumbar/lumbar/value": (0.0, 20 * DEG),
}
CONTACTS = {
    "Right_GRF": ("contactHeel_r", "contactFront_r"),
    "Left_GRF": ("contactHeel_l", "contactFront_l"),
}

# Solver properties read back into the JSON (all have simple values).
SOLVER_PROPERTIES = (
    "num_mesh_intervals",
    "transcription_scheme",
    "multibody_dynamics_mode",
    "optim_solver",
    "optim_convergence_tolerance",
    "optim_constraint_tolerance",
    "optim_max_iterations",
    "optim_hessian_approximation",
    "optim_sparsity_detection",
    "optim_finite_difference_scheme",
    "optim_ipopt_print_level",
    "verbosity",
    "interpolate_control_mesh_interior_points",
    "enforce_constraint_derivatives",
    "kinematic_constraint_method",
    "scale_variables_using_bounds",
    "minimize_implicit_multibody_accelerations",
    "minimize_implicit_auxiliary_derivatives",
)


def mirror(name: str) -> str | None:
    """The name of the opposite side's variable, or None for a midline variable."""
    if "_r" in name:
        return name.replace("_r", "_l")
    if "_l" in name:
        return name.replace("_l", "_r")
    return None


def add_symmetry(problem: osim.MocoProblem, model: osim.Model) -> list[list[str]]:
    """The example's symmetry goal; returns the pairs (initial, final) it added.

    Final value of each right-side state equals the initial value of its left
    counterpart and vice versa (coordinate values, speeds, muscle activations);
    midline coordinate values and speeds are periodic, except pelvis_tx's value;
    the lumbar actuator's control is periodic.
    """
    goal = osim.MocoPeriodicityGoal("symmetryGoal")
    problem.addGoal(goal)
    pairs = []
    names = model.getStateVariableNames()
    for i in range(names.getSize()):
        name = names.get(i)
        is_coordinate = name.startswith("/jointset/")
        is_activation = name.endswith("/activation")
        if not (is_coordinate or is_activation):
            continue
        other = mirror(name)
        if other is not None:
            goal.addStatePair(osim.MocoPeriodicityGoalPair(name, other))
            pairs.append([name, other])
        elif is_coordinate and not name.endswith("pelvis_tx/value"):
            goal.addStatePair(osim.MocoPeriodicityGoalPair(name))
            pairs.append([name, name])
    goal.addControlPair(osim.MocoPeriodicityGoalPair("/lumbarAct"))
    pairs.append(["control:/lumbarAct", "control:/lumbarAct"])
    return pairs


def set_bounds(problem: osim.MocoProblem) -> None:
    for name, (lo, hi) in STATE_BOUNDS.items():
        problem.setStateInfo(name, [lo, hi])


def configure_solver(solver: osim.MocoCasADiSolver, mesh: int, tol: float) -> None:
    solver.set_num_mesh_intervals(mesh)
    solver.set_verbosity(2)
    solver.set_optim_solver("ipopt")
    solver.set_optim_convergence_tolerance(tol)
    solver.set_optim_constraint_tolerance(tol)
    solver.set_optim_max_iterations(1000)


def solver_settings(solver: osim.MocoCasADiSolver) -> dict:
    out = {}
    for prop in SOLVER_PROPERTIES:
        try:
            out[prop] = getattr(solver, "get_" + prop)()
        except Exception as exc:  # property absent or unset in this version
            out[prop] = f"unavailable ({type(exc).__name__})"
    try:  # an optional property: empty means Moco's default (all hardware threads)
        out["parallel"] = solver.getPropertyByName("parallel").toString()
    except Exception as exc:
        out["parallel"] = f"unavailable ({type(exc).__name__})"
    out["OPENSIM_MOCO_PARALLEL"] = os.environ.get("OPENSIM_MOCO_PARALLEL")
    return out


def goal_summary(problem: osim.MocoProblem, names: list[str]) -> list[dict]:
    """Class, weight and default mode of each named goal."""
    out = []
    for name in names:
        goal = problem.updGoal(name)
        out.append(
            {
                "name": name,
                "class": goal.getConcreteClassName(),
                "weight": goal.getWeight(),
                "default_mode": "endpoint_constraint"
                if goal.getDefaultMode() == osim.MocoGoal.Mode_EndpointConstraint
                else "cost",
            }
        )
    return out


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def timed_solve(study: osim.MocoStudy) -> tuple[osim.MocoSolution, dict]:
    load_before = loadavg()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    solution = study.solve()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return solution, {
        "solve_wall_s": wall,
        "solve_process_cpu_s": cpu,
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }


def describe_solution(solution: osim.MocoSolution) -> dict:
    """Status and summary; unseals the solution so it can be used even if it failed."""
    info = {
        "success": bool(solution.success()),
        "status": solution.getStatus(),
        "iterations": int(solution.getNumIterations()),
        "moco_solver_duration_s": solution.getSolverDuration(),
    }
    solution.unseal()
    info["objective"] = solution.getObjective()
    terms = {}
    names = solution.getObjectiveTermNames()
    for i in range(names.size() if hasattr(names, "size") else len(names)):
        terms[names[i]] = solution.getObjectiveTerm(names[i])
    info["objective_terms"] = terms
    time_ = np.asarray(solution.getTimeMat()).ravel()
    tx = np.asarray(solution.getStateMat("/jointset/groundPelvis/pelvis_tx/value")).ravel()
    info["num_times"] = int(time_.size)
    info["initial_time"] = float(time_[0])
    info["final_time"] = float(time_[-1])
    info["pelvis_tx_displacement_m"] = float(tx[-1] - tx[0])
    info["average_speed_m_s"] = float((tx[-1] - tx[0]) / (time_[-1] - time_[0]))
    return info


def write_solution(solution: osim.MocoSolution, model: osim.Model, base: Path) -> dict:
    """Single step (as solved), full stride, and the full stride's foot forces."""
    files = {"step": str(base.with_suffix(".sto"))}
    solution.write(files["step"])
    full = osim.createPeriodicTrajectory(solution)
    files["full_stride"] = str(base.parent / (base.name + "_fullstride.sto"))
    full.write(files["full_stride"])
    right, left = osim.StdVectorString(), osim.StdVectorString()
    for name in CONTACTS["Right_GRF"]:
        right.append(name)
    for name in CONTACTS["Left_GRF"]:
        left.append(name)
    grf = osim.createExternalLoadsTableForGait(model, full, right, left)
    files["grf_full_stride"] = str(base.parent / (base.name + "_grf_fullstride.sto"))
    osim.STOFileAdapter.write(grf, files["grf_full_stride"])
    return files


def tracking(mesh: int | None, tol: float, final_time: float, base: Path) -> tuple:
    """The tracking problem; ``mesh=None`` keeps MocoTrack's own solver settings."""
    t0 = time.perf_counter()
    track = osim.MocoTrack()
    track.setName("gaitTracking")
    reference = osim.TableProcessor("referenceCoordinates.sto")
    reference.append(osim.TabOpLowPassFilter(6))
    model_processor = osim.ModelProcessor("2D_gait.osim")
    track.setModel(model_processor)
    track.setStatesReference(reference)
    track.set_states_global_tracking_weight(1.0)
    track.set_allow_unused_references(True)
    track.set_track_reference_position_derivatives(True)
    track.set_apply_tracked_states_to_guess(True)
    track.set_initial_time(0.0)
    track.set_final_time(final_time)
    study = track.initialize()
    problem = study.updProblem()

    model = model_processor.process()
    model.initSystem()
    pairs = add_symmetry(problem, model)
    effort = osim.MocoControlGoal.safeDownCast(problem.updGoal("control_effort"))
    effort.setWeight(10.0)
    contact = osim.MocoContactTrackingGoal("contact", 1.0)
    contact.setExternalLoadsFile("referenceGRF.xml")
    for external_force, spheres in CONTACTS.items():
        group = osim.StdVectorString()
        for sphere in spheres:
            group.append(sphere)
        contact.addContactGroup(group, external_force)
    contact.setProjection("plane")
    contact.setProjectionVector(osim.Vec3(0, 0, 1))
    problem.addGoal(contact)
    set_bounds(problem)

    solver = osim.MocoCasADiSolver.safeDownCast(study.updSolver())
    defaults = solver_settings(solver)  # what MocoTrack chose, before the example's changes
    if mesh is not None:  # the C++ example; the Python/Matlab ones leave MocoTrack's
        configure_solver(solver, mesh, tol)
    setup_s = time.perf_counter() - t0

    solution, timing = timed_solve(study)
    t1 = time.perf_counter()
    info = describe_solution(solution)
    info["files"] = write_solution(solution, model, base)
    timing["setup_wall_s"] = setup_s
    timing["post_wall_s"] = time.perf_counter() - t1
    settings = {
        "study": "MocoTrack 'gaitTracking'",
        "model": "2D_gait.osim",
        "states_reference": "referenceCoordinates.sto | TabOpLowPassFilter(6)",
        "states_global_tracking_weight": 1.0,
        "track_reference_position_derivatives": True,
        "allow_unused_references": True,
        "apply_tracked_states_to_guess": True,
        "initial_time": 0.0,
        "final_time": final_time,
        "control_effort_weight": 10.0,
        "contact_tracking": {
            "weight": 1.0,
            "external_loads": "referenceGRF.xml",
            "groups": CONTACTS,
            "projection": "plane",
            "projection_vector": [0, 0, 1],
        },
        "goals": goal_summary(
            problem, ["state_tracking", "control_effort", "symmetryGoal", "contact"]
        ),
        "symmetry_pairs": pairs,
        "state_bounds": STATE_BOUNDS,
        "solver_moco_track_defaults": defaults,
        "solver": solver_settings(solver),
    }
    return solution, settings, timing, info


def prediction(mesh: int, tol: float, guess: osim.MocoSolution, base: Path) -> tuple:
    t0 = time.perf_counter()
    study = osim.MocoStudy()
    study.setName("gaitPrediction")
    problem = study.updProblem()
    model_processor = osim.ModelProcessor("2D_gait.osim")
    problem.setModelProcessor(model_processor)
    model = model_processor.process()
    model.initSystem()
    pairs = add_symmetry(problem, model)
    speed = osim.MocoAverageSpeedGoal("speed")
    speed.set_desired_average_speed(1.2)
    problem.addGoal(speed)
    effort = osim.MocoControlGoal("effort", 10.0)
    effort.setExponent(3)
    effort.setDivideByDisplacement(True)
    problem.addGoal(effort)
    problem.setTimeBounds(0, [0.4, 0.6])
    set_bounds(problem)

    solver = study.initCasADiSolver()
    configure_solver(solver, mesh, tol)
    solver.setGuess(guess)
    setup_s = time.perf_counter() - t0

    solution, timing = timed_solve(study)
    t1 = time.perf_counter()
    info = describe_solution(solution)
    info["files"] = write_solution(solution, model, base)
    timing["setup_wall_s"] = setup_s
    timing["post_wall_s"] = time.perf_counter() - t1
    settings = {
        "study": "MocoStudy 'gaitPrediction'",
        "model": "2D_gait.osim",
        "time_bounds": {"initial": 0.0, "final": [0.4, 0.6]},
        "average_speed_m_s": 1.2,
        "effort": {"weight": 10.0, "exponent": 3, "divide_by_displacement": True},
        "guess": "the tracking solution (solver.setGuess)",
        "goals": goal_summary(problem, ["symmetryGoal", "speed", "effort"]),
        "symmetry_pairs": pairs,
        "state_bounds": STATE_BOUNDS,
        "solver": solver_settings(solver),
    }
    return solution, settings, timing, info


def machine() -> dict:
    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
    }
    try:
        info["cpus_available"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        text = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        if found:
            info["cpu_model"] = found.group(1).strip()
        mem = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.M)
        if mem:
            info["mem_total_gib"] = round(int(mem.group(1)) / 2**20, 1)
    except OSError:
        pass
    return info


def write_json(path: Path, result: dict) -> None:
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="?", type=Path, help="output JSON path")
    parser.add_argument(
        "--quick", action="store_true", help="10 mesh intervals, tolerance 1e-2 (a smoke test)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"folder with the example's files (default {DEFAULT_DATA})",
    )
    parser.add_argument(
        "--final-time",
        type=float,
        default=0.470089,
        help="tracking final time (example: 0.47008941; see the docstring)",
    )
    parser.add_argument(
        "--track-solver-defaults",
        action="store_true",
        help="keep MocoTrack's solver settings for tracking (24 intervals, "
        "tolerance 1e-2), as the Python/Matlab examples do",
    )
    parser.add_argument(
        "--skip-prediction", action="store_true", help="solve the tracking problem only"
    )
    args = parser.parse_args(argv)

    mesh, tol = (10, 1e-2) if args.quick else (50, 1e-4)
    stem = "moco_example2d_quick" if args.quick else "moco_example2d"
    out = (args.json or ROOT / "benchmarks" / "_work" / f"{stem}.json").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent
    data = args.data.resolve()

    result = {
        "benchmark": "OpenSim Moco example2DWalking (tracking, then prediction)",
        "mode": "quick" if args.quick else "full",
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "opensim_version": osim.__version__,
        "opensim_version_and_date": osim.GetVersionAndDate(),
        "moco_version_and_date": osim.GetMocoVersionAndDate(),
        "numpy_version": np.__version__,
        "machine": machine(),
        "note": "other jobs may share this machine's cores; see loadavg_* per solve",
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "data_dir": str(data),
        "num_mesh_intervals": mesh,
        "tracking_uses_moco_track_solver_defaults": args.track_solver_defaults,
        "convergence_tolerance": tol,
        "constraint_tolerance": tol,
        "max_iterations": 1000,
        "json": str(out),
    }

    osim.Logger.removeFileSink()  # write OpenSim's log next to the JSON, not into cwd
    log_path = work / f"{out.stem}_opensim.log"
    osim.Logger.addFileSink(str(log_path))
    result["opensim_log"] = str(log_path)

    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="moco_example2d_") as tmp:
        for name in DATA_FILES:  # relative paths inside (referenceGRF.xml -> .sto) work
            shutil.copy2(data / name, tmp)
        os.chdir(tmp)
        result["working_dir"] = tmp + " (temporary, removed afterwards)"
        try:
            print(
                "== tracking: "
                + (
                    "MocoTrack's solver settings"
                    if args.track_solver_defaults
                    else f"{mesh} mesh intervals, tolerance {tol:g}"
                ),
                flush=True,
            )
            sol, settings, timing, info = tracking(
                None if args.track_solver_defaults else mesh,
                tol,
                args.final_time,
                work / f"{out.stem}_tracking",
            )
            result["tracking"] = {"settings": settings, "timing": timing, "result": info}
            write_json(out, result)
            print(
                f"== tracking: solve {timing['solve_wall_s']:.1f} s, "
                f"{info['iterations']} iterations, success {info['success']} "
                f"({info['status']}), objective {info['objective']:.6g}",
                flush=True,
            )
            if not args.skip_prediction:
                print(f"== prediction: {mesh} mesh intervals, tolerance {tol:g}", flush=True)
                _, settings, timing, info = prediction(
                    mesh, tol, sol, work / f"{out.stem}_prediction"
                )
                result["prediction"] = {"settings": settings, "timing": timing, "result": info}
                print(
                    f"== prediction: solve {timing['solve_wall_s']:.1f} s, "
                    f"{info['iterations']} iterations, success {info['success']} "
                    f"({info['status']}), objective {info['objective']:.6g}",
                    flush=True,
                )
        finally:
            os.chdir(cwd)

    solves = [
        result[k]["timing"]["solve_wall_s"] for k in ("tracking", "prediction") if k in result
    ]
    result["total_solve_wall_s"] = sum(solves)
    result["total_script_wall_s"] = time.perf_counter() - start
    write_json(out, result)

    print("\nproblem     mesh  tol     solve [s]  iters  success  objective")
    for key in ("tracking", "prediction"):
        if key in result:
            t, r = result[key]["timing"], result[key]["result"]
            sv = result[key]["settings"]["solver"]
            print(
                f"{key:<11} {sv['num_mesh_intervals']:>4}  "
                f"{sv['optim_convergence_tolerance']:<6g} {t['solve_wall_s']:>10.1f}  "
                f"{r['iterations']:>5}  {r['success']!s:<7}  {r['objective']:.6g}"
            )
    print(
        f"total solve {result['total_solve_wall_s']:.1f} s; "
        f"script {result['total_script_wall_s']:.1f} s"
    )
    print(f"JSON: {out}")
    for key in ("tracking", "prediction"):
        if key in result:
            for path in result[key]["result"]["files"].values():
                print(f"      {path}")
    ok = all(result[k]["result"]["success"] for k in ("tracking", "prediction") if k in result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
