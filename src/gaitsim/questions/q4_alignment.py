"""Question 4: do femoral anteversion or retroversion, knock knees and flat feet shift load
in the knee?

Claims (tested side by side)
----------------------------
* increased femoral anteversion shifts load in the knee; femoral retroversion shifts
  load in the knee (the two directions of femoral torsion);
* knock knees (valgus) shift load to the lateral compartment; bow legs (varus) shift it
  to the medial compartment;
* flat feet shift load in the knee.

Method
------
The alignment changes are made on ``gait3d`` (OpenSim gait2392 geometry) with
:mod:`gaitsim.alignment`: femoral anteversion 20 degrees more (about 12 -> 32 degrees,
"increased" anteversion is 25-40 degrees) and 20 degrees less (retroversion, about -8
degrees); knee varus and valgus of 5 degrees (healthy mechanical alignment is 1-2
degrees of varus; 5 degrees is a clear bow-leg or knock-knee deformity). Both legs are
changed. Each change is measured on the changed model (anteversion, frontal
tibiofemoral angle) and reported.

Walking. With a measured 3D trial (``context.trial``: coordinates and an ExternalLoads
file) its kinematics (low-pass 6 Hz, as inverse dynamics) and ground reactions are
used. Without one, the 1.3 m/s stride that gaitsim simulates with the planar ``gait2d``
is mapped onto gait3d: its sagittal coordinates (pelvis tilt and position, hips, knees,
ankles, lumbar extension) with every frontal and transverse coordinate at zero, and its
contact-sphere forces (scaled by the ratio of the two models' masses) applied at their
simulated contact points, i.e. the simulated ground reaction at its centre of pressure.
That walking has no frontal-plane motion, so its absolute frontal loads are not those
of real walking; only the *changes* made by the alignment are interpreted.

Each changed model walks in two presentations (:class:`gaitsim.alignment.Presentation`):
*same joint angles* (femoral torsion uncompensated: knee and foot turn in with more
anteversion, out with retroversion; varus/valgus: shank and foot angled) and *same foot
placement* (the leg's coordinates solved so that each foot keeps its pose: torsion
compensated at the hip). The ground reactions stay attached to the foot.

Outcomes per knee stance (complete stances of either leg in the record, averaged):

* external knee adduction moment (KAM), %BW*ht (:mod:`gaitsim.analysis.joint_loads`,
  Newton-Euler of shank and foot): its first and second peak (maxima over the first and
  second half of stance) and its values at the first and second peak of the leg's
  vertical ground force (the maxima of that force over each half of stance). In measured
  walking the two pairs nearly coincide (the KAM peaks come from the ground force
  peaks); the second pair is used for the decisions because it stays defined when the
  KAM is not an adduction moment through stance (the planar simulated walking, whose
  "peaks" would be picked at unloaded instants);
* medial share of the tibiofemoral load (:mod:`gaitsim.analysis.knee_compartments`:
  frontal-plane balance with contacts 20 mm either side of the knee centre): over stance
  as the medial share of the compressive impulse, and at the first vertical-force peak. The
  compressive force is the net (intersegmental) axial force plus the muscles' share:
  with a simulated stride, the compressive force of the simulated knee-crossing muscles
  (computed on gait2d, as body weights); with a measured trial, Schipplein & Andriacchi's
  single equivalent muscle: the net knee flexion-extension moment divided by the moment
  arm (from the model, weighted by maximum isometric force) of the quadriceps (extensor
  moment) or of hamstrings and gastrocnemius (flexor moment), acting through the knee
  centre along the tibia (no co-contraction: a lower bound);
* patellofemoral (PF) force: ``k(theta) F_Q`` (:mod:`gaitsim.analysis.patellofemoral`)
  with the simulated quadriceps force, or for a trial the net knee extensor moment
  divided by the quadriceps moment arm; its *direction*: the resultant of the unit pulls
  of the quadriceps (from the patella, here the quadriceps' moving insertion point, to
  each muscle's previous path point, weighted by force) and of the patellar tendon
  (assumed along the tibia's long axis), expressed as the angle towards lateral in the
  distal femur's (knee joint) frame, at the PF peak of stance.

Decision rule (written in :func:`_shift_rule`): a change counts when the KAM at either
vertical-force peak moves by at least ``T_KAM`` and when the medial share of the stance
impulse moves by at least ``T_share``. ``T_KAM`` is 10 % of a typical healthy first peak
of 3 %BW*ht (the size of the KAM reductions load-modifying shoes and gait retraining aim
for, e.g. Erhart et al. 2010: -13 % KAM with -22 % medial force); the between-stance
standard deviation of the baseline is reported beside it for comparison (with a few
stances it is too uncertain to serve as the threshold); ``T_share`` is the change of
medial share that a frontal moment of ``T_KAM`` makes at the baseline's mean stance
compression. Supported if both criteria hold (in the claimed direction, where the claim
names one), partly supported if one holds, not supported if neither. Femoral-torsion
claims are judged on the same-angles presentation (the torsion reaches the knee only if
the hip does not compensate); varus/valgus claims on the same-foot presentation (the foot
flat on the floor where it was). The flat-foot claim is undecided: the model has no arch.

References
----------
* Schipplein OD, Andriacchi TP (1991). J Orthop Res 9(1):113-119.
* Erhart JC, Dyrby CO, D'Lima DD, Colwell CW, Andriacchi TP (2010). Changes in in vivo
  knee loading with a variable-stiffness intervention shoe correlate with changes in the
  knee adduction moment. J Orthop Res 28(12):1548-1553.
* Modenese L, Barzan M, Carty CP (2021). Gait & Posture 88:318-321.
* Foroughi N, Smith R, Vanwanseele B (2009). Knee 16(5):303-309 (healthy KAM).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import casadi as ca
import numpy as np
from matplotlib.figure import Figure as MplFigure
from numpy.typing import NDArray

from gaitsim.alignment import (
    Alignment,
    FemoralTorsion,
    KneeVarus,
    Presentation,
    align_motion,
    apply_alignment,
    femoral_anteversion,
    knee_varus_angle,
)
from gaitsim.analysis.joint_loads import (
    STANCE_THRESHOLD,
    BodyLoad,
    LoadedMotion,
    joint_load,
    motion_from_walking,
    subtree_bodies,
)
from gaitsim.analysis.knee_compartments import (
    CompartmentGeometry,
    CompartmentLoads,
    knee_compartment_loads,
)
from gaitsim.analysis.patellofemoral import patellofemoral_load
from gaitsim.errors import FileFormatError, GaitsimError, ModelError
from gaitsim.inverse_dynamics import inverse_dynamics, load_interpolant
from gaitsim.io.external_loads import applied_loads, read_external_loads
from gaitsim.io.storage import TimeSeriesTable, read_storage
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.mechanics.paths import muscle_length, path_points
from gaitsim.mechanics.rotations import body_fixed_xyz
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import GROUND, Model
from gaitsim.questions.answer import Answer, Figure, Table, Text
from gaitsim.questions.context import QuestionContext
from gaitsim.questions.evidence import Evidence, Quoted
from gaitsim.questions.runs import WalkingRequest
from gaitsim.questions.verdict import Claim, Rule, Verdict
from gaitsim.simulate.result import WalkingResult

__all__ = [
    "ASSUMED_HEIGHT",
    "AlignmentCase",
    "CASES",
    "KneeWalking",
    "SimulatedMuscles",
    "StanceOutcome",
    "VariantOutcome",
    "answer",
    "knee_outcome",
    "walking_from_simulation",
    "walking_from_trial",
]

FloatArray = NDArray[np.float64]

TITLE = "Alignment and knee load"
QUESTION = (
    "Do femoral anteversion or retroversion, knock knees (valgus), bow legs (varus) and "
    "flat feet shift load in the knee?"
)

#: Change of femoral anteversion tested (rad), both directions.
TORSION_CHANGE = math.radians(20.0)
#: Varus and valgus tested (rad).
VARUS_CHANGE = math.radians(5.0)
#: Height (m) used for %BW*ht: gait2392's generic subject (the trial gives none).
ASSUMED_HEIGHT = 1.8
#: Typical healthy first-peak KAM (%BW*ht), for the threshold (Foroughi et al. 2009).
TYPICAL_FIRST_PEAK = 3.0
#: Fraction of it that counts as a meaningful change (Erhart et al. 2010).
MEANINGFUL_FRACTION = 0.10
#: Contact points of the compartment model.
GEOMETRY = CompartmentGeometry()
#: Samples of curves over stance (0 to 100 %).
STANCE_SAMPLES = 101
#: Vertical range (%) of the medial-share figure: beyond it the share is dominated by
#: near-zero compression at the ends of stance.
SHARE_PLOT_LIMITS = (-50.0, 150.0)
#: Simulated walking used without a trial.
SIMULATED = WalkingRequest(model="gait2d", speed=1.3)

_QUADRICEPS = ("rect_fem", "vas_med", "vas_int", "vas_lat")
_FLEXORS = ("semimem", "semiten", "bifemlh", "bifemsh", "med_gas", "lat_gas")
_GAIT2D_TO_GAIT3D = {"lumbar": "lumbar_extension"}


@dataclass(frozen=True)
class AlignmentCase:
    """One alignment tested: a key for evidence, a label for the report, the change."""

    key: str
    label: str
    alignment: Alignment


CASES = (
    AlignmentCase("unchanged", "unchanged (gait3d)", Alignment("unchanged")),
    AlignmentCase(
        "anteversion",
        "more femoral anteversion",
        Alignment("anteversion", (FemoralTorsion(TORSION_CHANGE),)),
    ),
    AlignmentCase(
        "retroversion",
        "less anteversion (retroversion)",
        Alignment("retroversion", (FemoralTorsion(-TORSION_CHANGE),)),
    ),
    AlignmentCase("varus", "knee varus (bow legs)", Alignment("varus", (KneeVarus(VARUS_CHANGE),))),
    AlignmentCase(
        "valgus", "knee valgus (knock knees)", Alignment("valgus", (KneeVarus(-VARUS_CHANGE),))
    ),
)

_PRESENTATION_KEY = {Presentation.SAME_ANGLES: "same_angles", Presentation.SAME_FOOT: "same_foot"}


# --------------------------------------------------------------------------------------
# The walking analysed
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SimulatedMuscles:
    """Muscle quantities of a simulated stride, by side, in N on gait3d's body weight:
    the knee-crossing muscles' compression of the knee, the quadriceps force and the
    rectus femoris' share of it (``(n,)`` each)."""

    extra_compression: Mapping[str, FloatArray]
    quadriceps_force: Mapping[str, FloatArray]
    rectus_share: Mapping[str, FloatArray]


@dataclass(frozen=True, eq=False)
class KneeWalking:
    """A motion on gait3d with its ground reactions, and how muscle forces are had.

    Attributes
    ----------
    source
        ``"trial"`` or ``"simulated"``.
    description
        Plain words, for the report.
    motion
        Kinematics and external loads on gait3d (muscle forces zero).
    sides
        Legs with at least one complete stance in the record.
    height
        m, for %BW*ht.
    muscles
        Simulated muscle quantities, or None: the single equivalent muscle is used.
    notes
        Messages about the input (e.g. coordinates absent from the trial).
    force_scale
        Factor applied to the source's ground reactions (mass ratio for a simulated
        planar stride, 1 for a trial).
    """

    source: str
    description: str
    motion: LoadedMotion
    sides: tuple[str, ...]
    height: float
    muscles: SimulatedMuscles | None
    notes: tuple[str, ...] = ()
    force_scale: float = 1.0


def _stances(on: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``(first, last)`` of each stance that starts and ends inside the record."""
    flags = on.astype(int)
    starts = np.flatnonzero(np.diff(flags) == 1) + 1
    ends = np.flatnonzero(np.diff(flags) == -1)
    out = []
    for start in starts:
        later = ends[ends > start]
        if later.size:
            out.append((int(start), int(later[0])))
    return out


def _vertical_on_leg(model: Model, motion: LoadedMotion, side: str) -> FloatArray:
    inside = set(subtree_bodies(model, f"tibia_{side}"))
    total = np.zeros(motion.time.size)
    for load in motion.loads:
        if load.body in inside:
            total += load.force[:, 1]
    return total


def _sides_with_stance(model: Model, motion: LoadedMotion) -> tuple[str, ...]:
    sides = tuple(
        s for s in ("r", "l") if _stances(_vertical_on_leg(model, motion, s) > STANCE_THRESHOLD)
    )
    if not sides:
        raise GaitsimError(
            "the walking has no complete stance phase (vertical ground force above "
            f"{STANCE_THRESHOLD} N starting and ending inside the record) on either leg"
        )
    return sides


def _check_knee_convention(table: TimeSeriesTable, model: Model, path: Path) -> None:
    for side in ("r", "l"):
        name = f"knee_angle_{side}"
        if name not in table.labels:
            continue
        values = table.column(name)
        values = np.radians(values) if table.in_degrees else np.asarray(values)
        upper = model.coordinate(name).range[1]
        if np.max(values) > upper + math.radians(10.0):
            raise FileFormatError(
                path,
                None,
                f"{name} reaches {math.degrees(float(np.max(values))):.1f} deg, far beyond "
                f"gait3d's upper limit {math.degrees(upper):.0f} deg: gait3d (OpenSim "
                "gait2392) flexes the knee with negative knee_angle; this file seems to use "
                "flexion-positive knee angles (e.g. the Rajagopal model): negate the "
                "knee_angle columns first",
            )


def walking_from_trial(
    model: Model,
    functions: ModelFunctions,
    coordinates_path: str | Path,
    loads_path: str | Path,
    *,
    height: float = ASSUMED_HEIGHT,
) -> KneeWalking:
    """A measured trial on gait3d: its kinematics (prepared as
    :func:`gaitsim.inverse_dynamics.inverse_dynamics` does: 6 Hz low-pass, spline
    derivatives) and its external loads at their points, in ground.

    The body weight is the mean total vertical ground force over the load record (over
    the kinematic frames if a force is expressed in a body frame); it assumes the record
    covers whole strides of steady walking.

    Raises
    ------
    FileFormatError
        If a file is malformed, or the knee angles use the flexion-positive convention.
    ModelError
        If the loads name bodies gait3d does not have.
    GaitsimError
        If the trial has no complete stance phase.
    """
    coordinates_path, loads_path = Path(coordinates_path), Path(loads_path)
    table = read_storage(coordinates_path)
    _check_knee_convention(table, model, coordinates_path)
    external = read_external_loads(loads_path)
    data_path = external.resolve_datafile(loads_path)
    data = read_storage(data_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = inverse_dynamics(model, table, external, data, functions=functions)
    notes = tuple(str(w.message) for w in caught)
    n, nb = result.time.size, len(model.bodies)
    pos, rot = functions.body_poses.map(n)(result.coordinates.T)
    positions = np.asarray(pos).reshape(3, n, nb).transpose(1, 2, 0)
    rotations = np.asarray(rot).reshape(3, n, nb, 3).transpose(1, 2, 0, 3)
    index = {b.name: k for k, b in enumerate(model.bodies)}
    load_time = np.asarray(data.time, dtype=float)
    loads = []
    record_vertical = np.zeros(data.n_rows)  # ground-frame forces over the load record
    frame_vertical = np.zeros(n)  # all forces at the kinematic frames
    all_in_ground = True
    for applied in applied_loads(external, data, source=data_path):
        if applied.body == GROUND:
            continue

        def body(frame: str, name: str = applied.name) -> int:
            if frame not in index:
                raise ModelError(f"external force {name!r}", f"gait3d has no body {frame!r}")
            return index[frame]

        def ground(frame: str, vectors: FloatArray) -> FloatArray:
            if frame == GROUND:
                return vectors
            return np.einsum("nij,nj->ni", rotations[:, body(frame)], vectors)

        body(applied.body)
        force = ground(applied.force_frame, load_interpolant(load_time, applied.force, result.time))
        torque = ground(
            applied.force_frame, load_interpolant(load_time, applied.torque, result.time)
        )
        point = load_interpolant(load_time, applied.point, result.time)
        if applied.point_frame != GROUND:
            k = body(applied.point_frame)
            point = positions[:, k] + np.einsum("nij,nj->ni", rotations[:, k], point)
        if applied.force_frame == GROUND:
            record_vertical += applied.force[:, 1]
        else:
            all_in_ground = False
        frame_vertical += force[:, 1]
        loads.append(BodyLoad(applied.body, force, point, torque, name=applied.name))
    weight = float(np.mean(record_vertical if all_in_ground else frame_vertical))
    if not weight > 0:
        raise FileFormatError(data_path, None, "the ground forces have no upward mean")
    motion = LoadedMotion(
        time=result.time,
        q=result.coordinates,
        qd=result.speeds,
        qdd=result.accelerations,
        muscle_forces=np.zeros((n, len(model.muscles))),
        loads=tuple(loads),
        body_weight=weight,
    )
    return KneeWalking(
        source="trial",
        description=f"measured trial {coordinates_path.name} with {loads_path.name}",
        motion=motion,
        sides=_sides_with_stance(model, motion),
        height=height,
        muscles=None,
        notes=notes,
    )


def walking_from_simulation(
    result: WalkingResult,
    planar: Model,
    model: Model,
    *,
    height: float = ASSUMED_HEIGHT,
    planar_functions: ModelFunctions | None = None,
) -> KneeWalking:
    """A simulated planar stride mapped onto gait3d (module docstring): sagittal
    coordinates copied by name (``lumbar`` -> ``lumbar_extension``), the others zero;
    contact-sphere forces times ``m_3d / m_2d`` at their contact points; the muscles'
    knee compression and quadriceps force from the planar model, in body weights.

    Raises
    ------
    ModelError
        If the result does not belong to ``planar`` or names a coordinate gait3d lacks.
    """
    planar_functions = planar_functions or build(planar)
    planar_motion = motion_from_walking(result, planar, planar_functions)
    n = planar_motion.time.size
    q = np.zeros((n, len(model.coordinates)))
    qd = np.zeros_like(q)
    qdd = np.zeros_like(q)
    for k, name in enumerate(planar.coordinate_names):
        target = _GAIT2D_TO_GAIT3D.get(name, name)
        if target not in model.coordinate_names:
            raise ModelError(name, f"{model.name!r} has no coordinate {target!r} to map it to")
        j = model.coordinate_names.index(target)
        q[:, j] = planar_motion.q[:, k]
        qd[:, j] = planar_motion.qd[:, k]
        qdd[:, j] = planar_motion.qdd[:, k]
    ratio = model.total_mass / result.body_mass
    gravity = float(np.linalg.norm(model.gravity))
    loads = tuple(
        BodyLoad(load.body, load.force * ratio, load.point, None, name=load.name)
        for load in planar_motion.loads
    )
    motion = LoadedMotion(
        time=planar_motion.time,
        q=q,
        qd=qd,
        qdd=qdd,
        muscle_forces=np.zeros((n, len(model.muscles))),
        loads=loads,
        body_weight=model.total_mass * gravity,
    )
    sides = _sides_with_stance(model, motion)
    to_3d = motion.body_weight / planar_motion.body_weight
    extra, quads, share = {}, {}, {}
    for side in sides:
        load = joint_load(planar, planar_motion, f"knee_{side}", functions=planar_functions)
        muscle_compression = -load.axis_sign * load.local(load.muscle_force)[:, 1]
        extra[side] = -muscle_compression * to_3d
        rf = result.tendon_forces[:, result.muscle_names.index(f"rect_fem_{side}")]
        vasti = result.tendon_forces[:, result.muscle_names.index(f"vasti_{side}")]
        quads[side] = (rf + vasti) * to_3d
        with np.errstate(invalid="ignore", divide="ignore"):
            share[side] = np.where(rf + vasti > 0, rf / (rf + vasti), np.nan)
    return KneeWalking(
        source="simulated",
        description=(
            f"the {abs(result.speed):.2f} m/s stride simulated with {planar.name}, mapped "
            f"onto {model.name}"
        ),
        motion=motion,
        sides=sides,
        height=height,
        muscles=SimulatedMuscles(extra, quads, share),
        force_scale=ratio,
    )


# --------------------------------------------------------------------------------------
# Knee outcomes of one model and presentation
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class StanceOutcome:
    """Outcomes of one stance of one knee (see the module docstring).

    ``kam_peaks`` (%BW*ht: maxima over the first and second half of stance),
    ``kam_at_load`` (%BW*ht: at the first and second peak of the leg's vertical ground
    force, the maxima of that force over each half of stance), ``medial_share`` (of the
    stance compressive impulse, 0-1), ``share_at_load`` (at the first vertical-force
    peak), ``compression_peak`` (BW),
    ``pf_peak`` (BW), ``pf_lateral`` (rad, PF force direction towards lateral at its
    peak), ``liftoff`` (fraction of stance with the lateral contact unloaded),
    ``mean_compression`` (N, over stance), curves over stance (``STANCE_SAMPLES`` points):
    KAM (%BW*ht) and medial share.
    """

    side: str
    first: int
    last: int
    kam_peaks: tuple[float, float]
    kam_at_load: tuple[float, float]
    medial_share: float
    share_at_load: float
    compression_peak: float
    pf_peak: float
    pf_lateral: float
    liftoff: float
    mean_compression: float
    kam_curve: FloatArray
    share_curve: FloatArray


@dataclass(frozen=True, eq=False)
class VariantOutcome:
    """The stances of one alignment in one presentation, with its measured geometry
    (right leg: anteversion and frontal tibiofemoral angle, rad) and the mean change of
    the leg coordinates made to keep the feet in place (rad, by coordinate name)."""

    case: AlignmentCase
    presentation: Presentation
    stances: tuple[StanceOutcome, ...]
    anteversion: float
    varus: float
    coordinate_change: Mapping[str, float]

    def mean(self, name: str) -> float:
        """Mean over stances of an outcome: ``kam1``, ``kam2`` (KAM peaks), ``load1``,
        ``load2`` (KAM at the vertical-force peaks) or a field name."""
        if name in ("kam1", "kam2"):
            return float(np.mean([s.kam_peaks[int(name[-1]) - 1] for s in self.stances]))
        if name in ("load1", "load2"):
            return float(np.mean([s.kam_at_load[int(name[-1]) - 1] for s in self.stances]))
        return float(np.mean([getattr(s, name) for s in self.stances]))

    def curve(self, name: str) -> FloatArray:
        """Mean over stances of ``kam_curve`` or ``share_curve``."""
        return np.mean([getattr(s, name) for s in self.stances], axis=0)


@dataclass(frozen=True)
class _Geometry:
    """CasADi functions of one model and side: muscle moment arms about the knee and
    the patellofemoral geometry."""

    moment_arms: ca.Function  # q -> (quadriceps r (4), flexor r (6))
    patella: ca.Function  # q -> (unit pulls 3x4, tibia axis 3, lateral 3)
    quadriceps_fmax: FloatArray
    flexor_fmax: FloatArray


def _geometry(model: Model, functions: ModelFunctions, side: str) -> _Geometry:
    sk = functions.skeleton
    knee = sk.coordinate_index[f"knee_angle_{side}"]
    smoothing = functions.options.conditional_smoothing
    try:
        quads = [model.muscle(f"{m}_{side}") for m in _QUADRICEPS]
        flexors = [model.muscle(f"{m}_{side}") for m in _FLEXORS]
    except KeyError as err:
        raise ModelError(model.name, f"a knee muscle is missing: {err}") from None
    lengths = ca.vertcat(*[muscle_length(m, sk, smoothing) for m in quads + flexors])
    arms = -ca.jacobian(lengths, sk.q)[:, knee]
    moment_arms = ca.Function("knee_moment_arms", [sk.q], [arms[: len(quads)], arms[len(quads) :]])
    pulls = []
    for m in quads:
        points = path_points(m.path, sk, smoothing)
        d = points[-2] - points[-1]
        pulls.append(d / ca.norm_2(d))
    tibia = sk.poses[f"tibia_{side}"].R[:, 1]
    knee_joint = next(j for j in model.joints if j.name == f"knee_{side}")
    frame = sk.poses[knee_joint.parent.body].R @ ca.DM(
        body_fixed_xyz(knee_joint.parent.orientation)
    )
    lateral = (1.0 if side == "r" else -1.0) * frame[:, 2]
    patella = ca.Function("patella", [sk.q], [ca.horzcat(*pulls), tibia, lateral])
    return _Geometry(
        moment_arms,
        patella,
        np.array([m.max_isometric_force for m in quads]),
        np.array([m.max_isometric_force for m in flexors]),
    )


def _stance_outcome(
    side: str,
    first: int,
    last: int,
    kam: FloatArray,
    vertical: FloatArray,
    compartments: CompartmentLoads,
    pf_bw: FloatArray,
    pf_lateral: FloatArray,
) -> StanceOutcome:
    share = compartments.medial_share
    compression_bw = compartments.compressive / compartments.body_weight
    index = np.arange(first, last + 1)
    middle = (first + last) // 2
    peaks = (float(np.max(kam[first : middle + 1])), float(np.max(kam[middle : last + 1])))
    load1 = first + int(np.argmax(vertical[first : middle + 1]))
    load2 = middle + int(np.argmax(vertical[middle : last + 1]))
    k = first + int(np.argmax(pf_bw[index]))
    grid = np.linspace(0.0, 1.0, STANCE_SAMPLES)
    local = np.linspace(0.0, 1.0, index.size)
    return StanceOutcome(
        side=side,
        first=first,
        last=last,
        kam_peaks=peaks,
        kam_at_load=(float(kam[load1]), float(kam[load2])),
        medial_share=compartments.impulse_share(index),
        share_at_load=float(share[load1]),
        compression_peak=float(np.max(compression_bw[index])),
        pf_peak=float(pf_bw[k]),
        pf_lateral=float(pf_lateral[k]),
        liftoff=float(np.mean(compartments.lateral_liftoff[index])),
        mean_compression=float(np.mean(compartments.compressive[index])),
        kam_curve=np.interp(grid, local, kam[index]),
        share_curve=np.interp(grid, local, share[index]),
    )


def knee_outcome(
    walking: KneeWalking,
    original: Model,
    original_functions: ModelFunctions,
    case: AlignmentCase,
    presentation: Presentation,
    *,
    changed: Model | None = None,
    changed_functions: ModelFunctions | None = None,
) -> VariantOutcome:
    """Knee outcomes of ``walking`` on ``original`` changed by ``case`` in one
    presentation (module docstring)."""
    changed = changed or apply_alignment(original, case.alignment)
    functions = changed_functions or build(changed)
    aligned = align_motion(
        original,
        changed,
        walking.motion,
        presentation,
        sides=walking.sides,
        original_functions=original_functions,
        changed_functions=functions,
    )
    motion = aligned.motion
    weight = motion.body_weight
    n = motion.time.size
    stances: list[StanceOutcome] = []
    for side in walking.sides:
        sign = 1.0 if side == "r" else -1.0
        load = joint_load(changed, motion, f"knee_{side}", functions=functions)
        net = load.local(load.net_moment)
        kam = 100.0 * (-sign * net[:, 0]) / (weight * walking.height)
        extension = net[:, 2]  # internal moment on the tibia about the flexion axis
        geometry = _geometry(changed, functions, side)
        pulls, tibia, lateral = geometry.patella.map(n)(motion.q.T)
        pulls = np.asarray(pulls).reshape(3, n, 4).transpose(1, 2, 0)  # (n, muscle, xyz)
        tibia = np.asarray(tibia).T
        lateral = np.asarray(lateral).T
        if walking.muscles is None:
            r_q, r_f = geometry.moment_arms.map(n)(motion.q.T)
            fq, ff = geometry.quadriceps_fmax, geometry.flexor_fmax
            arm_q = (fq @ np.asarray(r_q)) / fq.sum()
            arm_f = -(ff @ np.asarray(r_f)) / ff.sum()
            if np.min(arm_q) <= 1e-3 or np.min(arm_f) <= 1e-3:
                raise GaitsimError(
                    f"knee_{side}: the quadriceps or flexor moment arm falls below 1 mm; "
                    "the equivalent-muscle estimate is not defined there"
                )
            extra = np.where(extension > 0, extension / arm_q, -extension / arm_f)
            quadriceps = np.maximum(extension, 0.0) / arm_q
            weights = np.tile(fq / fq.sum(), (n, 1))
        else:
            extra = np.asarray(walking.muscles.extra_compression[side])
            quadriceps = np.asarray(walking.muscles.quadriceps_force[side])
            rf = np.asarray(walking.muscles.rectus_share[side])
            fq = np.array([changed.muscle(f"{m}_{side}").max_isometric_force for m in _QUADRICEPS])
            vasti = fq[1:] / fq[1:].sum()
            rf = np.where(np.isfinite(rf), rf, fq[0] / fq.sum())
            weights = np.column_stack([rf, (1.0 - rf)[:, None] * vasti[None, :]])
        compartments = knee_compartment_loads(load, extra_compression=extra, geometry=GEOMETRY)
        knee_angle = motion.q[:, changed.coordinate_names.index(f"knee_angle_{side}")]
        pf = patellofemoral_load(motion.time, -knee_angle, quadriceps, weight, side=side)
        resultant = np.einsum("nm,nmk->nk", weights, pulls) - tibia
        norm = np.linalg.norm(resultant, axis=1)
        pf_lateral = np.arcsin(np.clip(np.einsum("nk,nk->n", resultant, lateral) / norm, -1, 1))
        vertical = _vertical_on_leg(changed, motion, side)
        for first, last in _stances(vertical > STANCE_THRESHOLD):
            stances.append(
                _stance_outcome(
                    side,
                    first,
                    last,
                    kam,
                    vertical,
                    compartments,
                    pf.force_bw,
                    pf_lateral,
                )
            )
    change = {
        name: float(np.mean(aligned.coordinate_change[:, k]))
        for k, name in enumerate(changed.coordinate_names)
    }
    return VariantOutcome(
        case=case,
        presentation=presentation,
        stances=tuple(stances),
        anteversion=femoral_anteversion(changed, "r", functions=functions),
        varus=knee_varus_angle(changed, "r", functions=functions),
        coordinate_change=change,
    )


# --------------------------------------------------------------------------------------
# Claims and the answer
# --------------------------------------------------------------------------------------
def _shift_rule(direction: int) -> Callable[[Mapping[str, float]], Verdict]:
    """The decision of a claim that the load shifts: ``direction`` +1 medially, -1
    laterally, 0 either way (module docstring)."""

    def decide(n: Mapping[str, float]) -> Verdict:
        t, s = n["kam_threshold"], n["share_threshold"]
        peaks = (n["delta_kam_load1"], n["delta_kam_load2"])
        share = n["delta_share"]
        if direction == 0:
            kam_ok = max(abs(p) for p in peaks) >= t
            share_ok = abs(share) >= s
        else:
            signed = [direction * p for p in peaks]
            kam_ok = max(signed) >= t and min(signed) > -t
            share_ok = direction * share >= s
        if kam_ok and share_ok:
            return Verdict.SUPPORTED
        if kam_ok or share_ok:
            return Verdict.PARTLY_SUPPORTED
        return Verdict.NOT_SUPPORTED

    return decide


_INPUTS = ("delta_kam_load1", "delta_kam_load2", "delta_share", "kam_threshold", "share_threshold")


def _figure(
    path: Path,
    outcomes: Mapping[tuple[str, Presentation], VariantOutcome],
    curve: str,
    ylabel: str,
    scale: float,
    limits: tuple[float, float] | None = None,
) -> None:
    fig = MplFigure(figsize=(10, 4))
    axes = fig.subplots(1, 2, sharey=True)
    x = np.linspace(0.0, 100.0, STANCE_SAMPLES)
    for ax, presentation in zip(axes, Presentation, strict=True):
        for case in CASES:
            o = outcomes[(case.key, presentation)]
            style = "-" if case.key in ("unchanged", "varus", "valgus") else "--"
            width = 2.2 if case.key == "unchanged" else 1.4
            ax.plot(x, scale * o.curve(curve), style, lw=width, label=case.label)
        ax.set_title(presentation.value)
        ax.set_xlabel("stance (%)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    if limits is not None:
        axes[0].set_ylim(*limits)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format=path.suffix.lstrip(".") or "svg")


def _walking(context: QuestionContext, model: Model, functions: ModelFunctions) -> KneeWalking:
    if context.trial is not None:
        coordinates, loads = context.trial
        context.say(f"question 4: measured trial {Path(coordinates).name}")
        walking = walking_from_trial(model, functions, coordinates, loads)
    else:
        context.say("question 4: simulated gait2d walking at 1.3 m/s mapped onto gait3d")
        result = context.runs.get(SIMULATED)
        walking = walking_from_simulation(result, context.runs.model(SIMULATED), model)
    for note in walking.notes:
        context.say(f"question 4: {note}")
    return walking


def answer(context: QuestionContext) -> Answer:
    """Answer question 4 (module docstring)."""
    ev: Evidence = context.evidence
    q = ev.quote
    model = load_builtin("gait3d")
    functions = build(model)
    walking = _walking(context, model, functions)

    outcomes: dict[tuple[str, Presentation], VariantOutcome] = {}
    for case in CASES:
        context.say(f"question 4: {case.alignment.describe()}")
        changed = apply_alignment(model, case.alignment)
        changed_functions = build(changed)
        for presentation in Presentation:
            outcomes[(case.key, presentation)] = knee_outcome(
                walking,
                model,
                functions,
                case,
                presentation,
                changed=changed,
                changed_functions=changed_functions,
            )
    base = outcomes[("unchanged", Presentation.SAME_ANGLES)]
    n_stances = len(base.stances)

    # Thresholds.
    first_peaks = [s.kam_at_load[0] for s in base.stances]
    spread = float(np.std(first_peaks, ddof=1)) if n_stances >= 2 else math.nan
    kam_threshold = MEANINGFUL_FRACTION * TYPICAL_FIRST_PEAK
    weight = walking.motion.body_weight
    moment = kam_threshold / 100.0 * weight * walking.height
    stance_compression = base.mean("mean_compression")
    share_threshold = moment / (GEOMETRY.width * stance_compression)

    t_kam = q("q4.threshold.kam_percent_bw_ht", kam_threshold, "%BW·ht", 2)
    t_share = q("q4.threshold.medial_share_pp", 100.0 * share_threshold, "percentage points", 1)
    t_spread = q("q4.unchanged.between_stance_sd_kam_at_load_peak1", spread, "%BW·ht", 2)
    t_typical = q("q4.setting.typical_first_peak", TYPICAL_FIRST_PEAK, "%BW·ht", 1)
    t_fraction = q("q4.setting.meaningful_fraction_percent", 100 * MEANINGFUL_FRACTION, "%", 0)

    # Quoted numbers per alignment and presentation.
    rows = []
    numbers: dict[tuple[str, Presentation], dict[str, Quoted]] = {}
    for case in CASES:
        for presentation in Presentation:
            o = outcomes[(case.key, presentation)]
            key = (
                f"q4.{case.key}"
                if case.key == "unchanged"
                else f"q4.{case.key}.{_PRESENTATION_KEY[presentation]}"
            )
            if case.key == "unchanged" and presentation is Presentation.SAME_FOOT:
                numbers[(case.key, presentation)] = numbers[(case.key, Presentation.SAME_ANGLES)]
                continue
            values = {
                "kam1": q(f"{key}.kam_peak1", o.mean("kam1"), "%BW·ht", 2),
                "kam2": q(f"{key}.kam_peak2", o.mean("kam2"), "%BW·ht", 2),
                "load1": q(f"{key}.kam_at_load_peak1", o.mean("load1"), "%BW·ht", 2),
                "load2": q(f"{key}.kam_at_load_peak2", o.mean("load2"), "%BW·ht", 2),
                "share": q(f"{key}.medial_share_percent", 100 * o.mean("medial_share"), "%", 1),
                "share_peak": q(
                    f"{key}.medial_share_at_load_peak1_percent",
                    100 * o.mean("share_at_load"),
                    "%",
                    1,
                ),
                "compression": q(f"{key}.compression_peak_bw", o.mean("compression_peak"), "BW", 2),
                "pf": q(f"{key}.pf_peak_bw", o.mean("pf_peak"), "BW", 2),
                "pf_lateral": q(
                    f"{key}.pf_lateral_deg", math.degrees(o.mean("pf_lateral")), "deg", 1
                ),
                "liftoff": q(f"{key}.lateral_liftoff_percent", 100 * o.mean("liftoff"), "%", 0),
                "anteversion": q(f"{key}.anteversion_deg", math.degrees(o.anteversion), "deg", 1),
                "varus": q(f"{key}.tibiofemoral_varus_deg", math.degrees(o.varus), "deg", 1),
            }
            if case.key != "unchanged":
                values["d_load1"] = q(
                    f"{key}.delta_kam_at_load_peak1",
                    o.mean("load1") - base.mean("load1"),
                    "%BW·ht",
                    2,
                )
                values["d_load2"] = q(
                    f"{key}.delta_kam_at_load_peak2",
                    o.mean("load2") - base.mean("load2"),
                    "%BW·ht",
                    2,
                )
                values["d_share"] = q(
                    f"{key}.delta_medial_share_pp",
                    100 * (o.mean("medial_share") - base.mean("medial_share")),
                    "percentage points",
                    1,
                )
            numbers[(case.key, presentation)] = values
    for case in CASES:
        for presentation in Presentation:
            if case.key == "unchanged" and presentation is Presentation.SAME_FOOT:
                continue
            v = numbers[(case.key, presentation)]
            rows.append(
                (
                    case.label,
                    "both" if case.key == "unchanged" else presentation.value,
                    v["anteversion"],
                    v["varus"],
                    v["kam1"],
                    v["kam2"],
                    v["load1"],
                    v["load2"],
                    v.get("d_load1", "-"),
                    v.get("d_load2", "-"),
                    v["share"],
                    v.get("d_share", "-"),
                    v["share_peak"],
                    v["compression"],
                    v["pf"],
                    v["pf_lateral"],
                    v["liftoff"],
                )
            )
    table = Table(
        title=(
            "Knee loading per alignment (mean over the analysed stances; KAM in %BW·ht; "
            "shares of the tibiofemoral load; PF = patellofemoral; lateral lift-off = share "
            "of stance in which the lateral contact would unload)"
        ),
        columns=(
            "alignment",
            "presentation",
            "anteversion (deg)",
            "tibiofemoral varus (deg)",
            "KAM peak 1",
            "KAM peak 2",
            "KAM at force peak 1",
            "KAM at force peak 2",
            "change at force peak 1",
            "change at force peak 2",
            "medial share of stance load",
            "change of medial share",
            "medial share at force peak 1",
            "peak compression",
            "peak PF force",
            "PF force direction at its peak (deg towards lateral)",
            "lateral lift-off",
        ),
        rows=tuple(rows),
    )

    # Claims.
    claim_specs = (
        (
            "anteversion",
            Presentation.SAME_ANGLES,
            0,
            "Increased femoral anteversion shifts load in the knee.",
            "Judged on the same-joint-angles presentation (knee and foot turned in: the torsion "
            "reaches the knee only when the hip does not compensate).",
        ),
        (
            "retroversion",
            Presentation.SAME_ANGLES,
            0,
            "Femoral retroversion shifts load in the knee.",
            "Judged on the same-joint-angles presentation (knee and foot turned out).",
        ),
        (
            "valgus",
            Presentation.SAME_FOOT,
            -1,
            "Knock knees (valgus) shift load to the lateral compartment of the knee.",
            "Judged on the same-foot-placement presentation (the foot flat where it was), "
            "direction lateral: both changes must be decreases.",
        ),
        (
            "varus",
            Presentation.SAME_FOOT,
            1,
            "Bow legs (varus) shift load to the medial compartment of the knee.",
            "Judged on the same-foot-placement presentation (the foot flat where it was), "
            "direction medial: both changes must be increases.",
        ),
    )
    claims = []
    for key, presentation, direction, text, judged in claim_specs:
        v = numbers[(key, presentation)]
        rule = Rule(
            f"{judged} A shift of the knee load needs a change of the KAM at the first or "
            f"second peak of the vertical ground force of at least {t_kam.text} "
            f"({t_fraction.text} of a typical healthy first KAM peak of {t_typical.text})"
            + (
                " in the claimed direction, with neither moving the other way by as much"
                if direction
                else ""
            )
            + f", and a change of the medial share of the stance load of at least "
            f"{t_share.text} (what a frontal moment of that size moves at the baseline "
            "compression)"
            + (" in the claimed direction" if direction else "")
            + ". Supported if both hold, partly supported if one holds, not supported if "
            "neither.",
            _INPUTS,
            _shift_rule(direction),
        )
        claim_numbers = {
            "delta_kam_load1": v["d_load1"].value,
            "delta_kam_load2": v["d_load2"].value,
            "delta_share": v["d_share"].value,
            "kam_threshold": t_kam.value,
            "share_threshold": t_share.value,
        }
        claims.append(Claim(text, rule, rule.apply(claim_numbers), claim_numbers))
    flat_rule = Rule(
        "A flat foot (pes planus) is a collapsed medial longitudinal arch; the model's foot "
        "has no arch that could collapse, so no number of this model can decide the claim: "
        "undecided by construction.",
        ("arch_height_change",),
        lambda _n: Verdict.UNDECIDED,
    )
    flat_numbers: dict[str, float | None] = {"arch_height_change": None}
    claims.append(
        Claim(
            "Flat feet shift load in the knee.",
            flat_rule,
            flat_rule.apply(flat_numbers),
            flat_numbers,
        )
    )

    # Figures.
    folder = context.figures
    kam_path = folder / "q4_kam.svg"
    share_path = folder / "q4_medial_share.svg"
    _figure(kam_path, outcomes, "kam_curve", "external knee adduction moment (%BW·ht)", 1.0)
    _figure(
        share_path,
        outcomes,
        "share_curve",
        "medial share of tibiofemoral load (%)",
        100.0,
        SHARE_PLOT_LIMITS,
    )
    figures = (
        Figure(
            kam_path.relative_to(context.folder),
            "External knee adduction moment over stance for each alignment (mean of the "
            "analysed stances): same joint angles (left) and same foot placement (right).",
        ),
        Figure(
            share_path.relative_to(context.folder),
            "Medial share of the tibiofemoral compressive load over stance for each "
            "alignment: same joint angles (left) and same foot placement (right). Above "
            "100 % the lateral contact would lift off (below 0 % the medial one); the axis "
            "is cut at the limits given in the method, where the compression is small at "
            "the ends of stance.",
        ),
    )

    method, findings, limitations = _texts(
        walking, outcomes, numbers, n_stances, q, t_kam, t_share, t_spread
    )
    return Answer(
        number=4,
        title=TITLE,
        question=QUESTION,
        claims=tuple(claims),
        method=method,
        findings=findings,
        figures=figures,
        tables=(table,),
        limitations=limitations,
    )


def _texts(
    walking: KneeWalking,
    outcomes: Mapping[tuple[str, Presentation], VariantOutcome],
    numbers: Mapping[tuple[str, Presentation], Mapping[str, Quoted]],
    n_stances: int,
    q: Callable[..., Quoted],
    t_kam: Quoted,
    t_share: Quoted,
    t_spread: Quoted,
) -> tuple[tuple[Text, ...], tuple[Text, ...], tuple[str, ...]]:
    """Method, findings and limitations (every number quoted)."""
    same_angles, same_foot = Presentation.SAME_ANGLES, Presentation.SAME_FOOT
    base = numbers[("unchanged", same_angles)]

    def v(case: str, presentation: Presentation, name: str) -> Quoted:
        return numbers[(case, presentation)][name]

    torsion = q("q4.setting.torsion_change_deg", math.degrees(TORSION_CHANGE), "deg", 0)
    varus = q("q4.setting.varus_change_deg", math.degrees(VARUS_CHANGE), "deg", 0)
    width = q("q4.setting.intercondylar_distance_mm", 1000 * GEOMETRY.width, "mm", 0)
    height = q("q4.setting.height_m", walking.height, "m", 2)
    weight = q("q4.setting.body_weight_n", walking.motion.body_weight, "N", 1)
    stances = q("q4.setting.stances_analysed", n_stances, "", 0)

    method: list[Text] = [
        (
            "Model: gait3d, the geometry of OpenSim's gait2392. "
            "Alignment changes on both legs (gaitsim.alignment), measured on each changed "
            "model in its default pose: femoral anteversion changed by plus and minus ",
            torsion,
            " about the femoral long axis, the torsion growing linearly from the hip centre "
            "(none) to the knee centre (all of it), as the bone-deformation tool of Modenese "
            "et al. (2021) twists a femur: measured anteversion ",
            base["anteversion"],
            " unchanged (gait3d has no femoral neck: its direction is assumed), ",
            v("anteversion", same_angles, "anteversion"),
            " and ",
            v("retroversion", same_angles, "anteversion"),
            " changed; knee varus and valgus of ",
            varus,
            " by angling the tibia about its antero-posterior axis through the knee centre: "
            "measured frontal tibiofemoral angle ",
            v("varus", same_angles, "varus"),
            " and ",
            v("valgus", same_angles, "varus"),
            " (unchanged ",
            base["varus"],
            ", varus positive).",
        ),
    ]
    if walking.source == "trial":
        method.append(
            (
                "Walking: the ",
                walking.description,
                ", kinematics low-pass filtered at ",
                q("q4.setting.lowpass_hz", 6.0, "Hz", 0),
                " and differentiated as in inverse dynamics, ground reactions at their "
                "measured points; body weight ",
                weight,
                " (the mean vertical ground force over the record); height assumed ",
                height,
                " (none is given with the trial). Muscle forces are not measured: the "
                "compression that muscles add to the knee is Schipplein & Andriacchi's "
                "single equivalent muscle (the net flexion-extension moment over the "
                "quadriceps or the hamstrings-and-gastrocnemius moment arm), and the "
                "quadriceps force for the patellofemoral load is the net extensor moment "
                "over the quadriceps moment arm. Stances analysed: ",
                stances,
                ".",
            )
        )
    else:
        ratio = q("q4.setting.force_scale", walking.force_scale, "", 3)
        method.append(
            (
                "Walking: no measured trial was given, so gaitsim's own walking is used with "
                "a simplification: ",
                walking.description,
                ". Its sagittal coordinates are copied, every frontal and transverse "
                "coordinate is zero, and the simulated contact forces (times ",
                ratio,
                ", the ratio of the two models' masses) act at their simulated contact points "
                "on the feet, i.e. the simulated ground reaction at its centre of pressure. "
                "The planar stride has no frontal-plane motion, so the absolute frontal "
                "loads (KAM, medial share) are not those of real walking: only the changes "
                "made by the alignment are interpreted. Muscle compression of the knee and "
                "quadriceps force come from the simulated muscles, in body weights. Body "
                "weight ",
                weight,
                " (gait3d), height ",
                height,
                ". Stances analysed: ",
                stances,
                ".",
            )
        )
    method += [
        (
            "Outcomes per stance, averaged: the external knee adduction moment (KAM, the "
            "frontal component of the shank-and-foot Newton-Euler moment about the knee, "
            "%BW·ht): its first and second peak (maxima over each half of stance) and its "
            "values at the first and second peak of the leg's vertical ground force (used "
            "for the decisions, since they stay defined when the KAM is not an adduction "
            "moment through stance); the medial "
            "share of the tibiofemoral compression from the frontal-plane balance "
            "F_medial = (F d_lateral + M) / d with an intercondylar distance d of ",
            width,
            " (gaitsim.analysis.knee_compartments), over stance as the medial share of the "
            "compressive impulse and at the first vertical-force peak; the patellofemoral "
            "force "
            "k(knee angle) times the quadriceps force (Brechter & Powers 2002) and its "
            "direction in the distal femur's frame (resultant of the quadriceps pulls from "
            "the model's patella point and of a patellar tendon along the tibia).",
        ),
        (
            "Two presentations of each changed model: same joint angles (the torsion "
            "reaches the knee: knee and foot turn in with more anteversion, out with "
            "retroversion; varus and valgus angle the shank and foot), and same foot "
            "placement (hip, knee, ankle and subtalar angles solved by damped least squares so "
            "that each foot keeps its pose; for torsion this is the hip compensating). The "
            "ground reactions stay attached to the feet.",
        ),
        (
            "Thresholds of the decision rules: a change of the KAM at a force peak of ",
            t_kam,
            " and a medial-share change of ",
            t_share,
            " (for comparison, the between-stance standard deviation of the unchanged "
            "model's KAM at the first force peak is ",
            t_spread,
            "). The medial-share figure is cut at ",
            q("q4.setting.share_plot_min_percent", SHARE_PLOT_LIMITS[0], "%", 0),
            " and ",
            q("q4.setting.share_plot_max_percent", SHARE_PLOT_LIMITS[1], "%", 0),
            ".",
        ),
    ]

    def changes(case: str, presentation: Presentation) -> Text:
        return (
            v(case, presentation, "d_load1"),
            " and ",
            v(case, presentation, "d_load2"),
            " (KAM at the two vertical-force peaks), ",
            v(case, presentation, "d_share"),
            " (medial share)",
        )

    hip = {
        case: q(
            f"q4.{case}.same_foot.hip_rotation_change_deg",
            math.degrees(outcomes[(case, same_foot)].coordinate_change["hip_rotation_r"]),
            "deg",
            1,
        )
        for case in ("anteversion", "retroversion", "varus", "valgus")
    }
    adduction = {
        case: q(
            f"q4.{case}.same_foot.hip_adduction_change_deg",
            math.degrees(outcomes[(case, same_foot)].coordinate_change["hip_adduction_r"]),
            "deg",
            1,
        )
        for case in ("varus", "valgus")
    }
    findings: list[Text] = [
        (
            "Unchanged alignment: KAM peaks ",
            base["kam1"],
            " and ",
            base["kam2"],
            ", medial share of the stance load ",
            base["share"],
            " (",
            base["share_peak"],
            " at the first vertical-force peak), KAM at the two force peaks ",
            base["load1"],
            " and ",
            base["load2"],
            ", peak tibiofemoral compression ",
            base["compression"],
            ", peak patellofemoral force ",
            base["pf"],
            " directed ",
            base["pf_lateral"],
            " towards lateral.",
        ),
        (
            "More anteversion with the same joint angles (in-toeing) changes ",
            *changes("anteversion", same_angles),
            "; with the foot kept in place (the right hip rotation coordinate, which here "
            "measures the femoral neck, changes by ",
            hip["anteversion"],
            " on average: the neck turns out and the knee faces forward as before) ",
            *changes("anteversion", same_foot),
            ".",
        ),
        (
            "Retroversion with the same joint angles (out-toeing) changes ",
            *changes("retroversion", same_angles),
            "; with the foot kept in place (hip rotation ",
            hip["retroversion"],
            ") ",
            *changes("retroversion", same_foot),
            ".",
        ),
        (
            "Varus with the foot kept in place (hip adduction changes by ",
            adduction["varus"],
            ") changes ",
            *changes("varus", same_foot),
            "; with the same joint angles ",
            *changes("varus", same_angles),
            ". Valgus with the foot in place (hip adduction ",
            adduction["valgus"],
            ") changes ",
            *changes("valgus", same_foot),
            "; with the same joint angles ",
            *changes("valgus", same_angles),
            ".",
        ),
        (
            "Patellofemoral force direction at its peak (degrees towards lateral): valgus ",
            v("valgus", same_foot, "pf_lateral"),
            " and varus ",
            v("varus", same_foot, "pf_lateral"),
            " with the foot in place, more anteversion ",
            v("anteversion", same_angles, "pf_lateral"),
            " with the same angles, against ",
            base["pf_lateral"],
            " unchanged; peak force valgus ",
            v("valgus", same_foot, "pf"),
            ", anteversion ",
            v("anteversion", same_angles, "pf"),
            ". The model tells the direction of the quadriceps and tendon pulls only: it has "
            "no patella, trochlea or retinacula, so not the patella's tracking or contact "
            "pressure.",
        ),
    ]
    limitations = [
        "Flat feet cannot be represented: gait3d's foot is a rigid talus, calcaneus-midfoot "
        "and toes segment chain (ankle, subtalar and toe joints) with no longitudinal arch, "
        "no midfoot joints and no plantar fascia. A pronated foot could be imitated by "
        "subtalar eversion, but that would be only that, so it was not done and the claim "
        "is left undecided.",
        "Muscle forces are not re-solved for the changed alignments: the same simulated "
        "forces (or the same single-equivalent-muscle estimate from the net moment) are used, "
        "so changes in muscle moment arms with femoral torsion (e.g. of the hip abductors "
        "and rotators) and any change in muscle coordination do not enter the knee load.",
        "The alignment changes are geometric only: no bone shape, no tibial torsion, no "
        "ligaments or cartilage, no patella (gait2392's quadriceps insert on the tibia "
        "through a moving point); the femoral neck direction is assumed, since the model "
        "has no neck.",
        "The two presentations are extremes: patients with femoral torsion usually "
        "compensate partly (at the hip, or with tibial torsion), and varus or valgus knees "
        "come with their own adapted gait; the model shows the mechanical consequence of "
        "the geometry with the gait held fixed.",
        "The compartment model places the condylar contacts at fixed, assumed distances "
        "on the tibia and treats the muscle compression as acting through the knee centre; "
        "where the lateral force would be negative the balance would need ligament "
        "tension, which is not modelled (reported as lateral lift-off).",
        "The patellofemoral direction assumes the patellar tendon runs along the tibia "
        "and uses gait2392's moving quadriceps insertion as the patella.",
    ]
    if walking.source == "trial":
        limitations.append(
            "The measured trial is analysed on the generic, unscaled gait3d with an assumed "
            "height; segment lengths and joint centres differ from the subject's, which "
            "moves the absolute KAM (a few tenths of a %BW·ht per centimetre of knee position)."
        )
    else:
        limitations.append(
            "Without a measured trial the walking is a planar simulation mapped onto the 3D "
            "model with no frontal or transverse motion and a ground reaction that has no "
            "medio-lateral component: the absolute KAM and medial share are not realistic "
            "(real walking has a KAM first peak of a few %BW·ht); only the changes caused by "
            "the alignment are meaningful. The planar model's body size differs from "
            "gait3d's (forces scaled by the mass ratio). Give a measured trial with --trial "
            "for realistic absolute values."
        )
    return tuple(method), tuple(findings), tuple(limitations)
