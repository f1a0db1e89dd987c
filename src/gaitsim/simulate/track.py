"""Tracking simulation: muscle-driven walking that follows measured coordinates and GRF.

>>> from gaitsim.simulate.track import track_walking
>>> run = track_walking("2D_gait.osim", "referenceCoordinates.sto",
...                     grf="referenceGRF.sto", external_loads="referenceGRF.xml")  # doctest: +SKIP

The phase is the reference's time span (a half gait cycle with mirrored periodicity by
default, as in Moco's 2D walking example); the average speed is the reference's. The
initial guess is the reference itself (speeds and accelerations from its splines).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gaitsim.io.external_loads import read_external_loads
from gaitsim.io.storage import TimeSeriesTable, read_storage
from gaitsim.mechanics.model_functions import build
from gaitsim.model.builtin import load_model
from gaitsim.model.description import Model
from gaitsim.ocp import Ipopt, Progress, Trajectory, Trapezoidal, solve
from gaitsim.ocp.transcription import Transcription
from gaitsim.signal import spline_derivatives
from gaitsim.simulate.predict import WalkingRun
from gaitsim.simulate.tracking import TrackingReference, coordinate_columns
from gaitsim.simulate.walking import FORWARD, WalkingLayout, WalkingSpec, walking_problem

__all__ = ["track_walking", "reference_guess"]


def reference_guess(
    model: Model, layout: WalkingLayout, table: TimeSeriesTable, activation: float = 0.1
) -> Trajectory:
    """An initial guess from the reference coordinates (speeds from quintic splines)."""
    time = np.asarray(table.time) - table.time[0]
    columns = coordinate_columns(table, model)
    n = time.size
    states = np.zeros((n, len(layout.state_names)))
    controls = np.zeros((n, len(layout.control_names)))
    nq, nm = layout.n_q, len(layout.muscles)
    for j, name in enumerate(layout.coordinates):
        values = columns.get(name, np.full(n, model.coordinate(name).default))
        v, d1, d2 = spline_derivatives(time, values)
        states[:, j], states[:, nq + j] = v, d1
        controls[:, nm + j] = d2
    states[:, 2 * nq : 2 * nq + nm] = activation
    controls[:, :nm] = activation
    return Trajectory(
        time,
        layout.state_names,
        states,
        layout.control_names,
        controls,
        {"duration": float(time[-1])},
    )


def track_walking(
    model: Model | str | Path,
    coordinates: TimeSeriesTable | str | Path,
    *,
    grf: TimeSeriesTable | str | Path | None = None,
    external_loads: str | Path | None = None,
    spec: WalkingSpec | None = None,
    coordinate_weight: float = 100.0,
    grf_weight: float = 1.0,
    transcription: Transcription | None = None,
    solver: Ipopt | None = None,
    progress: Callable[[Progress], None] | None = None,
    return_failure: bool = False,
) -> WalkingRun:
    """Track measured coordinates (and GRF) with the model's muscles.

    Raises
    ------
    ConvergenceError
        If the solver does not converge (unless ``return_failure``).
    """
    if not isinstance(model, Model):
        model = load_model(model)
    table = coordinates if isinstance(coordinates, TimeSeriesTable) else read_storage(coordinates)
    grf_table = loads = None
    if grf is not None:
        grf_table = grf if isinstance(grf, TimeSeriesTable) else read_storage(grf)
        if external_loads is None:
            raise ValueError("tracking GRF needs the ExternalLoads XML that describes it")
        loads = read_external_loads(external_loads)
    reference = TrackingReference(table, grf_table, loads, coordinate_weight, grf_weight)
    columns = coordinate_columns(table, model)
    duration = reference.duration
    speed = 0.0
    if FORWARD in columns:
        speed = float(columns[FORWARD][-1] - columns[FORWARD][0]) / duration
    # Measured motion decides the pelvis tilt (only the model's own +-0.5 rad bound
    # applies) and the ground reaction forces (no limit on them); the acceleration term is
    # only a numerical smoothing here, as the tracked motion shapes the accelerations, and
    # the prediction's head-stability and metabolic goals are left out (Moco's tracking
    # example minimises tracking errors and effort only).
    base = spec or WalkingSpec(
        effort_exponent=2.0,
        pelvis_tilt=(-0.5, 0.5),
        acceleration_weight=1e-3,
        grf_limit_weight=0.0,
        head_stability_weight=0.0,
        metabolic_weight=0.0,
    )
    spec = dataclasses.replace(base, speed=speed, duration=(duration, duration), tracking=reference)
    functions = build(model)
    problem, layout = walking_problem(model, spec, functions)
    guess = reference_guess(model, layout, table)
    solution = solve(
        problem,
        transcription or Trapezoidal(50),
        solver or Ipopt(tolerance=1e-4, max_iterations=3000),
        initial_guess=guess,
        progress=progress,
        return_failure=return_failure,
    )
    return WalkingRun.from_solution(model, functions, layout, spec, solution, "tracking")
