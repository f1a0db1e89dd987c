"""The main job behind ``make demo``: predicted walking, and the built-in models' mechanics.

It predicts muscle-driven walking of ``gait2d`` at 1.3 m/s from the guess gaitsim ships
(a run folder in ``<output>/walk_forward``: states, controls, GRF, table, figures; with
Winter's normative curves when ``../shared/data`` is beside the project). Then, for each
built-in model, it builds the CasADi functions and evaluates, at the default pose:
total mass, centre of mass, the generalised forces that hold the pose against gravity
(inverse dynamics), muscle-tendon lengths and the moment arms of every muscle over the
knee's range (written as CSV), and for ``gait2d`` the foot contact forces with the feet
pressed 1 cm into the floor.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.builtin import builtin_names, load_builtin
from gaitsim.model.description import Model

__all__ = ["run_demo", "default_pose"]


def default_pose(model: Model) -> np.ndarray:
    """The model's default coordinate values (state order)."""
    return np.array([c.default for c in model.coordinates], dtype=float)


def _knee_sweep(model: Model, f: ModelFunctions, side: str, folder: Path) -> dict[str, Any]:
    name = f"knee_angle_{side}"
    if name not in model.coordinate_names:
        return {}
    k = model.coordinate_names.index(name)
    lo, hi = model.coordinate(name).range
    angles = np.linspace(lo, hi, 61)
    q0 = default_pose(model)
    rows = []
    arms = np.zeros((angles.size, len(model.muscles)))
    for i, angle in enumerate(angles):
        q = q0.copy()
        q[k] = angle
        arms[i] = np.asarray(f.moment_arms(q))[:, k]
        rows.append([np.degrees(angle), *arms[i]])
    path = folder / f"{model.name}_knee_{side}_moment_arms.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["knee_angle_deg", *[f"{m}_m" for m in model.muscle_names]])
        writer.writerows([[f"{v:.6g}" for v in row] for row in rows])
    crossing = [m for j, m in enumerate(model.muscle_names) if np.abs(arms[:, j]).max() > 1e-4]
    return {
        "file": path.name,
        "muscles_crossing_knee": crossing,
        "peak_moment_arm_mm": {
            m: float(1000 * arms[:, j][np.argmax(np.abs(arms[:, j]))])
            for j, m in enumerate(model.muscle_names)
            if m in crossing
        },
    }


def _contact(model: Model, f: ModelFunctions) -> dict[str, Any]:
    if not model.contacts:
        return {}
    q = default_pose(model)
    names = model.coordinate_names
    if "pelvis_ty" not in names:
        return {}
    # Lower the pelvis until the lowest contact sphere is 1 cm into the floor.
    iy = names.index("pelvis_ty")
    radii = np.array([s.radius for s in model.contact_spheres])
    lowest = float((np.asarray(f.sphere_centres(q))[1] - radii).min())
    q[iy] -= lowest + 0.01
    forces, _, tau = f.contact_forces(q, np.zeros_like(q))
    forces = np.asarray(forces)
    return {
        "pose": "default pose lowered so the lowest sphere is 1 cm in the floor",
        "vertical_force_N": {c.name: float(forces[1, i]) for i, c in enumerate(model.contacts)},
        "total_vertical_force_body_weights": float(forces[1].sum() / (model.total_mass * 9.80665)),
    }


WINTER = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "normative"
    / ("Winter_normal.csv")
)


def _walk(output: Path, console: Console) -> dict[str, Any]:
    from gaitsim.analysis.gait_metrics import summary as gait_summary
    from gaitsim.analysis.normative import load_normative
    from gaitsim.io.run_folder import write_run
    from gaitsim.simulate.predict import predict_walking

    console.rule("[bold]predicting walking: gait2d at 1.3 m/s[/]")
    t0 = time.perf_counter()

    def progress(p: Any) -> None:
        if p.iteration % 5 == 0:
            console.print(
                f"  iteration {p.iteration:4d}  objective {p.objective:.5g}  "
                f"infeasibility {p.infeasibility:.2e}  {p.seconds:5.1f} s"
            )

    run = predict_walking("gait2d", speed=1.3, progress=progress)
    norms = load_normative(WINTER) if WINTER.exists() else None
    folder = output / "walk_forward"
    files = write_run(run.result, folder, normative=norms, overwrite=True, model=run.model)
    facts = gait_summary(run.result, norms)
    sol = run.solution
    console.print(
        f"{sol.status}: {sol.iterations} iterations, {time.perf_counter() - t0:.1f} s; "
        f"stance {facts['stance_percent']['r']:.1f} % of the cycle, peak swing knee "
        f"flexion {facts['peak_swing_knee_flexion_deg']['r']:.1f} deg; "
        f"{len(files.all())} files in {folder}"
    )
    return {"solver": sol.report(), "gait": facts, "folder": str(folder)}


def run_demo(
    output: Path, console: Console | None = None, *, simulate: bool = True
) -> dict[str, Any]:
    """Predict walking and evaluate every built-in model's mechanics into ``output``."""
    console = console or Console()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    if simulate:
        summary["walking"] = _walk(output, console)
    for name in builtin_names():
        model = load_builtin(name)
        console.rule(f"[bold]{name}[/]")
        console.print(
            f"{len(model.bodies)} bodies, {len(model.coordinates)} coordinates, "
            f"{len(model.muscles)} muscles, {len(model.contacts)} contacts"
        )
        t0 = time.perf_counter()
        f = build(model).build_all()
        build_seconds = time.perf_counter() - t0
        q = default_pose(model)
        zeros = np.zeros_like(q)
        body_forces = np.zeros((6, len(model.bodies)))
        tau = np.asarray(f.inverse_dynamics(q, zeros, zeros, body_forces)).ravel()
        com = np.asarray(f.centre_of_mass(q)).ravel()
        lmt = np.asarray(f.muscle_tendon_lengths(q)).ravel()
        console.print(
            f"built in {build_seconds:.2f} s; mass {model.total_mass:.2f} kg; "
            f"centre of mass at height {com[1]:.3f} m"
        )
        entry: dict[str, Any] = {
            "bodies": len(model.bodies),
            "coordinates": list(model.coordinate_names),
            "muscles": list(model.muscle_names),
            "build_seconds": build_seconds,
            "total_mass_kg": model.total_mass,
            "centre_of_mass_m": com.tolist(),
            "holding_torques_default_pose": dict(
                zip(model.coordinate_names, tau.tolist(), strict=True)
            ),
            "muscle_tendon_lengths_default_pose_m": dict(
                zip(model.muscle_names, lmt.tolist(), strict=True)
            ),
        }
        for side in ("r", "l"):
            sweep = _knee_sweep(model, f, side, output)
            if sweep:
                entry[f"knee_{side}"] = sweep
        contact = _contact(model, f)
        if contact:
            entry["contact"] = contact
            console.print(
                "foot contact 1 cm deep: total vertical force "
                f"{contact['total_vertical_force_body_weights']:.2f} body weights"
            )
        summary[name] = entry
    return summary
