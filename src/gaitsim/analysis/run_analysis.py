"""Every analysis of a simulated stride in one call (``gaitsim analyze RUN_DIR``).

:func:`analyze_run` reads a run folder (:func:`gaitsim.io.run_folder.read_run`) and its
model, and computes what was asked of:

``events``
    initial contacts and toe-offs, Perry's phases (with the definition of each
    boundary), spatio-temporal parameters per side, and with normative data the gait
    variable scores and gait profile score;
``mechanics``
    joint angles, moments and powers with Winter's power bursts, per phase work;
``muscles``
    per muscle and phase: action (concentric/eccentric/isometric while active), work,
    moment contributions; and the balance of net joint moments against muscle, passive
    and actuator moments;
``loads``
    hip and knee contact forces and patellofemoral force (body weights);
``iaa``
    induced accelerations of the knees and the centre of mass by each muscle, gravity
    and velocity forces (stance feet constrained);
``ablation``
    change of peak swing knee flexion when each muscle's force is removed from toe-off.

:func:`write_analysis` writes ``analysis.json`` (summary and tidy records of everything)
into a folder (default ``RUN_DIR/analysis``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gaitsim.analysis.events import events_from_result, gait_cycles
from gaitsim.analysis.joint_loads import walking_joint_loads
from gaitsim.analysis.joint_mechanics import joint_mechanics
from gaitsim.analysis.muscle_function import ActivityCriteria, moment_balance, muscle_function
from gaitsim.analysis.normative import NormativeCurves, load_normative
from gaitsim.analysis.patellofemoral import walking_patellofemoral_load
from gaitsim.analysis.phases import Phase, gait_phases, phase_boundaries, phase_events_from_result
from gaitsim.analysis.spatiotemporal import spatiotemporal_from_result
from gaitsim.io.run_folder import json_ready, read_run, read_run_model
from gaitsim.mechanics.model_functions import build

__all__ = ["ANALYSES", "analyze_run", "write_analysis"]

ANALYSES = ("events", "mechanics", "muscles", "loads", "iaa", "ablation")


def analyze_run(
    folder: str | Path,
    what: Sequence[str] = ANALYSES,
    *,
    normative: NormativeCurves | str | Path | None = None,
    activity: ActivityCriteria | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Analyses of a run folder (see the module docstring); a JSON-ready dict.

    ``normative`` is normative curves, or a normative file from which the set matched to
    the run's speed is loaded (:func:`gaitsim.analysis.normative.load_normative`).

    Raises
    ------
    ValueError
        If ``what`` names an unknown analysis.
    FileNotFoundError, FileFormatError
        If the folder is not a readable run folder.
    """
    unknown = [w for w in what if w not in ANALYSES]
    if unknown:
        raise ValueError(f"unknown analyses {unknown}; choose from {', '.join(ANALYSES)}")
    folder = Path(folder)
    result = read_run(folder)
    model = read_run_model(folder)
    functions = build(model)
    events = events_from_result(result)
    phases: list[Phase] = []
    boundaries: dict[str, list[dict[str, Any]]] = {}
    for side in ("r", "l"):
        cycles = gait_cycles(events, side)
        if not cycles:
            continue
        cycle = cycles[0]
        measured = phase_events_from_result(result, functions, cycle)
        phases.extend(gait_phases(cycle, measured))
        boundaries[side] = [
            {"phase": b.phase, "ends_percent": cycle.percent(b.time), "by": b.definition}
            for b in phase_boundaries(cycle, measured)
        ]
    out: dict[str, Any] = {"run": str(folder), "model": model.name, "speed": result.speed}
    if "events" in what:
        say("events, phases and spatio-temporal parameters")
        out["events"] = {
            "events": [{"side": e.side, "kind": e.kind, "time": e.time} for e in events.events],
            "phases": boundaries,
            "spatiotemporal": {
                s: spatiotemporal_from_result(result, s, events=events).as_dict()
                for s in boundaries
            },
        }
        if isinstance(normative, str | Path):
            normative = load_normative(normative, speed=result.speed)
        if normative is not None:
            from gaitsim.analysis.gait_profile import profile_from_result

            profile = profile_from_result(result, normative, functions=functions, events=events)
            out["events"]["gait_profile"] = profile.in_degrees()
    muscles = None
    if "mechanics" in what:
        say("joint mechanics and Winter's power bursts")
        out["mechanics"] = joint_mechanics(result, phases).to_records()
    if "muscles" in what:
        say("muscle function per phase")
        muscles = muscle_function(model, functions, result, phases, criteria=activity)
        out["muscles"] = muscles.to_records()
        balance = moment_balance(model, functions, result, muscles)
        out["moment_balance"] = [row.to_record() for row in balance.table()]
    if "loads" in what:
        say("joint contact loads")
        joints = [j for j in ("hip_r", "knee_r", "hip_l", "knee_l") if _has_joint(model, j)]
        loads = walking_joint_loads(result, model, joints, functions=functions)
        out["loads"] = {
            "joints": {load.joint: load.summary() for load in loads},
            "patellofemoral": {
                s: walking_patellofemoral_load(result, s).summary()
                for s in ("r", "l")
                if f"knee_angle_{s}" in result.coordinate_names
            },
        }
    if "iaa" in what:
        say("induced accelerations")
        out["iaa"] = _induced_accelerations(model, functions, result)
    if "ablation" in what:
        say("ablation of each muscle in swing (forward simulations)")
        out["ablation"] = _ablation(model, functions, result)
    return json_ready(out)


def _has_joint(model: Any, name: str) -> bool:
    return any(j.name == name for j in model.joints)


def _induced_accelerations(model: Any, functions: Any, result: Any) -> Any:
    from gaitsim.analysis.induced_acceleration import induced_accelerations

    return induced_accelerations(model, functions, result).summary()


def _ablation(model: Any, functions: Any, result: Any) -> Any:
    from gaitsim.analysis.ablation import ablation_analysis

    return ablation_analysis(model, functions, result).summary()


def write_analysis(
    analysis: dict[str, Any], folder: str | Path, *, overwrite: bool = False
) -> Path:
    """Write ``analysis.json`` into ``folder``; returns its path.

    Raises
    ------
    FileExistsError
        If the file exists and ``overwrite`` is false.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "analysis.json"
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite (--force) to replace it")
    path.write_text(json.dumps(analysis, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return path
