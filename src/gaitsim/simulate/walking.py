"""Muscle-driven walking as an optimal control problem (implicit formulation).

:func:`walking_problem` turns a planar gait model and what the user asks for (a
:class:`WalkingSpec`) into an :class:`~gaitsim.ocp.OptimalControlProblem`:

States ``x``
    coordinates ``q`` (model names), speeds ``<q>_u``, muscle activations
    ``<muscle>_activation``, and for compliant-tendon muscles the normalised tendon
    force ``<muscle>_tendon_force``.
Controls ``u``
    muscle excitations ``<muscle>_excitation``, coordinate accelerations ``<q>_acc``
    (implicit multibody dynamics, De Groote et al. 2016; Falisse et al. 2019),
    coordinate-actuator controls (actuator names), and ``<muscle>_tendon_force_rate``
    for compliant muscles.
Dynamics
    ``q' = qd``, ``qd' = qdd`` (a control), ``a' = activation_rate(e, a)``,
    ``f_t' = df_t`` (a control).
Path constraints
    the skeleton residual ``ID(q, qd, qdd) - r^T F_T - tau_contact - tau_limit - A u = 0``
    (scaled by 100 N m) and, for compliant muscles, the fibre-tendon equilibrium.
Goals
    muscle effort ``sum e^p`` (default ``p = 2``, as Moco's control effort) plus
    coordinate-actuator effort
    ``sum (u / u_max)^2``, a joint-acceleration term ``sum (qdd / 100)^2`` (as Falisse
    et al. 2019) and, for predictions, a penalty on each foot's vertical ground reaction
    force above a limit in body weights, ``max(0, F_y / BW - limit)`` smoothed (SCONE's
    ``ReactionForceMeasure``; Geijtenbeek 2019), head stability, the squared acceleration
    of a point at the head (Veerkamp et al. 2021), and metabolic energy, the smoothed
    Bhargava et al. (2004) model as in PredSim (Falisse et al. 2019), all integrated and
    divided by the distance travelled; for tracking, the squared errors of coordinates
    (and ground reaction forces) divided by the duration, without the GRF limit, head
    stability and metabolic energy.
Constraints
    average speed ``(x_pelvis(T) - x_pelvis(0)) / T = speed`` (negative: backward);
    periodicity with left/right mirroring over half a gait cycle
    (``x(T) = mirror(x(0))``, forward position excluded), or plain periodicity over a
    full cycle.

References
----------
* De Groote F, Kinney AL, Rao AV, Fregly BJ (2016). Evaluation of direct collocation
  optimal control problem formulations for solving the muscle redundancy problem. Ann
  Biomed Eng 44(10):2922-2936.
* Falisse A, Serrancoli G, Dembia CL, Gillis J, Jonkers I, De Groote F (2019). Rapid
  predictive simulations with complex musculoskeletal models suggest that diverse
  healthy and pathological human gaits can emerge from similar control strategies.
  J R Soc Interface 16:20190402 (joint accelerations in the cost).
* Geijtenbeek T (2019). SCONE: open source software for predictive simulation of
  biological motion. J Open Source Softw 4(38):1421; SCONE's ``ReactionForceMeasure``
  ("penalizes ground reaction forces above a certain threshold"), used with
  ``max = 1.5`` and ``weight = 10`` in its gait measures.
* Kuo AD (2002). Energetics of actively powered locomotion using the simplest walking
  model. J Biomech Eng 124(1):113-120.
* Menz HB, Lord SR, Fitzpatrick RC (2003). Acceleration patterns of the head and pelvis
  when walking on level and irregular surfaces. Gait Posture 18(1):35-46.
* Veerkamp K, Waterval NFJ, Geijtenbeek T, Carty CP, Lloyd DG, Harlaar J, van der Krogt
  MM (2021). Evaluating cost function criteria in predicting healthy gait. J Biomech
  123:110530 (head stability, foot-ground impact and cost of transport among the
  criteria).
* Bhargava LJ, Pandy MG, Anderson FC (2004). A phenomenological model for estimating
  metabolic energy consumption in muscle contraction. J Biomech 37(1):81-88.
* Winter DA (2009). Biomechanics and Motor Control of Human Movement, 4th ed. Wiley.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np

from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.description import Model, Motion, TendonModel
from gaitsim.ocp import (
    BoundaryConstraint,
    IntegralGoal,
    OptimalControlProblem,
    PathConstraint,
    ProblemError,
    Variable,
)

__all__ = ["WalkingSpec", "walking_problem", "mirror_name", "WalkingLayout", "foot_contacts"]

FORWARD = "pelvis_tx"
HEIGHT = "pelvis_ty"


def mirror_name(name: str) -> str:
    """The contralateral name (``_r`` <-> ``_l``), or the name itself."""
    for a, b in (("_r", "_l"), ("_l", "_r")):
        if name.endswith(a):
            return name[: -len(a)] + b
        if f"{a}_" in name:
            return name.replace(f"{a}_", f"{b}_", 1)
    return name


@dataclass(frozen=True)
class WalkingSpec:
    """What the user asks for (no work is done here).

    Parameters
    ----------
    speed
        Average forward speed (m/s); negative walks backward.
    half_cycle
        Simulate half a gait cycle with left/right mirroring (True) or a full cycle.
    duration
        ``(lower, upper)`` of the simulated phase (s); defaults suit a half cycle.
    effort_weight, effort_exponent
        Weight and exponent of the muscle effort goal.
    actuator_weight, acceleration_weight
        Weights of coordinate-actuator effort and of the joint-acceleration term. The
        default 0.1 makes that term about a tenth of the objective of normal walking; with
        the earlier 1e-3 (a pure numerical smoothing) the hip angle correlated with
        Winter's mean at r = 0.74 instead of 0.83 (measured 2026-11-21).
    grf_limit, grf_limit_weight
        Vertical ground reaction force of one foot (body weights) above which the force is
        penalised, and the weight of that penalty (0 turns it off). With the model's two
        contact spheres per foot and no penalty, minimum-effort walking lands on a
        straight leg and lets the contact absorb a 2.8 BW heel-strike impact, which
        costs no muscle effort (human walking: 1.0-1.3 BW, Winter 2009). The weight 10 is
        SCONE's (its gait measure penalises forces above 1.5 BW; Geijtenbeek 2019); the
        default limit 1.3 BW is the upper end of normal walking's loading peak (Winter
        2009), so the peak this goal lets through is not a prediction of the model. The
        penalty is soft, so peaks can exceed the limit.
    grf_limit_penalty
        ``"linear"`` (default) or ``"squared"``: the excess over the limit enters the
        integrand as it is (an exact penalty, acting from the first newton above the
        limit) or squared; SCONE's range penalties offer both. On gait2d at 1.3 m/s,
        without head stability and metabolic energy, the squared form at 1.5 BW left a
        1.76 BW heel-strike peak (docs/walking_simulation.md, measured 2026-11-21).
    head_stability_weight, head_body, head_location
        Weight of the head-stability goal (default 5; 0 leaves it out): the squared
        acceleration of a point on ``head_body`` at ``head_location`` (m, in that body's
        frame) in the sagittal plane, in g. People keep the head steady when they walk
        (Menz et al. 2003), and head stability is one of the criteria of Veerkamp et al.
        (2021) for predicting gait. The default point lies 0.6 m above the lumbar joint in
        the torso of the OpenSim gait models, about where the head's centre is for their
        1.8 m subject (an estimate: the models lump head, arms and trunk in one body).
        Without it the predicted gait rocks the pelvis by 20
        degrees between its bounds (people: 2-4 degrees) and the hip angle correlates with
        Winter's at r = 0.78 instead of 0.98 (docs/walking_simulation.md).
    metabolic_weight
        Weight of the metabolic energy goal (default 0.5; 0 leaves it out): the muscles'
        metabolic power of the smoothed Bhargava et al. (2004) model
        (:mod:`gaitsim.mechanics.metabolics`) per body mass, integrated and divided by the
        distance travelled, i.e. the muscles' metabolic cost of transport (J/(kg m)), as
        in PredSim (Falisse et al. 2019). It keeps the push-off peak of the vertical
        force (1.01 BW against 0.97-0.99 with the other goals alone): pushing off before
        the heel strikes saves collision work (Kuo 2002). The default weight makes it
        about as large as the effort term in normal walking.
    tracking
        Reference coordinates to track (a :class:`TrackingReference`), or None for a
        predictive simulation.
    excitation_bounds
        ``(lower, upper)`` of excitations and activations.
    pelvis_height
        ``(lower, upper)`` of the pelvis height (m).
    pelvis_tilt
        ``(lower, upper)`` of the pelvis tilt (rad). The default keeps the pelvis within
        about 10 degrees of its upright walking posture in the OpenSim gait models (about
        -15 degrees, as in Moco's 2D walking reference): a planar model has no head or eye
        stabilisation, and without this bound its minimum-effort gait rocks the pelvis by
        30 degrees per stride (human walking: 2-4 degrees, Winter 2009), which distorts
        every hip angle measured relative to the pelvis.
    """

    speed: float = 1.3
    half_cycle: bool = True
    duration: tuple[float, float] | None = None
    effort_weight: float = 10.0
    effort_exponent: float = 2.0
    actuator_weight: float = 1.0
    tracking: Any = None
    excitation_bounds: tuple[float, float] = (0.01, 1.0)
    pelvis_height: tuple[float, float] = (0.75, 1.15)
    pelvis_tilt: tuple[float, float] = (-0.45, -0.10)
    speed_tolerance: float = 0.0
    acceleration_weight: float = 0.1
    grf_limit: float = 1.3
    grf_limit_weight: float = 10.0
    grf_limit_penalty: str = "linear"
    head_stability_weight: float = 5.0
    head_body: str = "torso"
    head_location: tuple[float, float, float] = (0.0, 0.6, 0.0)
    metabolic_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.grf_limit_penalty not in ("squared", "linear"):
            raise ProblemError(
                f"grf_limit_penalty must be 'squared' or 'linear', not {self.grf_limit_penalty!r}"
            )

    def phase_duration(self) -> tuple[float, float]:
        """Bounds of the phase duration (s)."""
        if self.duration is not None:
            return self.duration
        return (0.35, 0.75) if self.half_cycle else (0.7, 1.5)


@dataclass(frozen=True)
class WalkingLayout:
    """Where everything sits in the problem's state and control vectors."""

    coordinates: tuple[str, ...]
    muscles: tuple[str, ...]
    compliant: tuple[int, ...]
    actuators: tuple[str, ...]

    @property
    def n_q(self) -> int:
        return len(self.coordinates)

    @property
    def state_names(self) -> tuple[str, ...]:
        return (
            self.coordinates
            + tuple(f"{c}_u" for c in self.coordinates)
            + tuple(f"{m}_activation" for m in self.muscles)
            + tuple(f"{self.muscles[i]}_tendon_force" for i in self.compliant)
        )

    @property
    def control_names(self) -> tuple[str, ...]:
        return (
            tuple(f"{m}_excitation" for m in self.muscles)
            + tuple(f"{c}_acc" for c in self.coordinates)
            + self.actuators
            + tuple(f"{self.muscles[i]}_tendon_force_rate" for i in self.compliant)
        )


def _layout(model: Model) -> WalkingLayout:
    compliant = tuple(i for i, m in enumerate(model.muscles) if m.tendon is TendonModel.COMPLIANT)
    return WalkingLayout(
        model.coordinate_names,
        model.muscle_names,
        compliant,
        tuple(a.name for a in model.actuators),
    )


def _state_variables(model: Model, spec: WalkingSpec, layout: WalkingLayout) -> list[Variable]:
    out: list[Variable] = []
    lo_e, hi_e = spec.excitation_bounds
    for c in model.coordinates:
        lo, hi = c.range
        initial = None
        if c.name == FORWARD:
            lo, hi, initial = -5.0, 5.0, (0.0, 0.0)
        elif c.name == HEIGHT:
            lo, hi = spec.pelvis_height
        elif c.name == "pelvis_tilt":
            lo, hi = max(lo, spec.pelvis_tilt[0]), min(hi, spec.pelvis_tilt[1])
        elif c.name == "lumbar":
            lo, hi = max(lo, -0.5), min(hi, 0.5)
        scale = 1.0 if c.motion is Motion.ROTATIONAL else (max(abs(lo), abs(hi)) or 1.0)
        out.append(Variable(c.name, lo, hi, initial=initial, scale=scale))
    for c in model.coordinates:
        bound = 20.0 if c.motion is Motion.ROTATIONAL else 4.0
        out.append(Variable(f"{c.name}_u", -bound, bound, scale=bound / 2))
    for m in layout.muscles:
        out.append(Variable(f"{m}_activation", lo_e, hi_e, scale=1.0))
    for i in layout.compliant:
        out.append(Variable(f"{layout.muscles[i]}_tendon_force", 0.0, 5.0, scale=1.0))
    return out


def _control_variables(model: Model, spec: WalkingSpec, layout: WalkingLayout) -> list[Variable]:
    lo_e, hi_e = spec.excitation_bounds
    out = [Variable(f"{m}_excitation", lo_e, hi_e, scale=1.0) for m in layout.muscles]
    out += [Variable(f"{c}_acc", -1000.0, 1000.0, scale=100.0) for c in layout.coordinates]
    out += [
        Variable(
            a.name,
            a.min_control,
            a.max_control,
            scale=max(abs(a.min_control), abs(a.max_control), 1.0)
            if math.isfinite(a.max_control)
            else 1.0,
        )
        for a in model.actuators
    ]
    out += [
        Variable(f"{layout.muscles[i]}_tendon_force_rate", -50.0, 50.0, scale=10.0)
        for i in layout.compliant
    ]
    return out


def _mirror_matrix(names: tuple[str, ...]) -> np.ndarray:
    n = len(names)
    m = np.zeros((n, n))
    index = {name: i for i, name in enumerate(names)}
    for i, name in enumerate(names):
        m[i, index.get(mirror_name(name), i)] = 1.0
    return m


def foot_contacts(model: Model) -> dict[str, list[int]]:
    """Indices of the contacts of each foot, by the side suffix of their sphere's body."""
    body_of = {sphere.name: sphere.body for sphere in model.contact_spheres}
    sides: dict[str, list[int]] = {"r": [], "l": []}
    for i, contact in enumerate(model.contacts):
        for side in sides:
            if body_of[contact.sphere].endswith(f"_{side}"):
                sides[side].append(i)
    return sides


def _grf_limit_goal(
    model: Model,
    f: ModelFunctions,
    spec: WalkingSpec,
    x: ca.SX,
    u: ca.SX,
    p: ca.SX,
    distance: ca.Function,
) -> IntegralGoal:
    """Excess of each foot's vertical force over ``spec.grf_limit`` body weights, squared
    or linear (``spec.grf_limit_penalty``)."""
    nq = len(model.coordinate_names)
    forces, _, _ = f.contact_forces(x[:nq], x[nq : 2 * nq])
    weight = model.total_mass * float(np.linalg.norm(model.gravity))
    penalty = ca.SX(0)
    for spheres in foot_contacts(model).values():
        if not spheres:
            continue
        vertical = ca.sum1(ca.vertcat(*[forces[1, i] for i in spheres])) / weight
        excess = vertical - spec.grf_limit
        # Smooth max(0, excess): C-infinity, within 5e-3 BW of the kink at 0.
        positive = 0.5 * (excess + ca.sqrt(excess**2 + 1e-4))
        penalty += positive**2 if spec.grf_limit_penalty == "squared" else positive
    return IntegralGoal(
        name="ground reaction force limit",
        weight=spec.grf_limit_weight,
        normalize_by_distance=distance,
        integrand=ca.Function("grf_limit", [x, u, p], [penalty]),
    )


def _head_stability_goal(
    model: Model,
    f: ModelFunctions,
    spec: WalkingSpec,
    x: ca.SX,
    u: ca.SX,
    p: ca.SX,
    distance: ca.Function,
) -> IntegralGoal:
    """Squared acceleration of the head point (``spec.head_body``, ``spec.head_location``)
    in the sagittal plane, in g."""
    if spec.head_body not in {b.name for b in model.bodies}:
        raise ProblemError(
            f"head_body {spec.head_body!r} is not a body of model {model.name!r} "
            f"(bodies: {', '.join(b.name for b in model.bodies)})"
        )
    sk = f.skeleton
    nq, nm = len(model.coordinate_names), len(model.muscles)
    head = sk.acceleration(sk.point(spec.head_body, spec.head_location))
    acceleration = ca.Function("head_acceleration", [sk.q, sk.qd, sk.qdd], [head])
    g = float(np.linalg.norm(model.gravity))
    a = acceleration(x[:nq], x[nq : 2 * nq], u[nm : nm + nq]) / g
    return IntegralGoal(
        name="head stability",
        weight=spec.head_stability_weight,
        normalize_by_distance=distance,
        integrand=ca.Function("head_stability", [x, u, p], [a[0] ** 2 + a[1] ** 2]),
    )


def walking_problem(
    model: Model, spec: WalkingSpec | None = None, functions: ModelFunctions | None = None
) -> tuple[OptimalControlProblem, WalkingLayout]:
    """The optimal control problem of walking (see the module docstring)."""
    spec = spec or WalkingSpec()
    f = functions or build(model)
    layout = _layout(model)
    nq, nm = layout.n_q, len(layout.muscles)
    nc, na = len(layout.compliant), len(layout.actuators)
    states = _state_variables(model, spec, layout)
    controls = _control_variables(model, spec, layout)
    nx, nu = len(states), len(controls)
    x = ca.SX.sym("x", nx)
    u = ca.SX.sym("u", nu)
    p = ca.SX.sym("p", 0)
    q, qd = x[:nq], x[nq : 2 * nq]
    a = x[2 * nq : 2 * nq + nm]
    ft_c = x[2 * nq + nm :]
    e = u[:nm]
    qdd = u[nm : nm + nq]
    u_act = u[nm + nq : nm + nq + na]
    dft_c = u[nm + nq + na :]

    dynamics = ca.Function(
        "walking_dynamics",
        [x, u, p],
        [ca.vertcat(qd, qdd, f.activation_rate(e, a), dft_c)],
        ["x", "u", "p"],
        ["xdot"],
    )
    # Normalised tendon forces of every muscle (rigid ones are not states: zeros).
    ft = ca.SX.zeros(nm, 1)
    dft = ca.SX.zeros(nm, 1)
    for k, i in enumerate(layout.compliant):
        ft[i] = ft_c[k]
        dft[i] = dft_c[k]
    skeleton, muscle = f.implicit_dynamics(q, qd, qdd, a, ft, dft, u_act)
    residual = ca.vertcat(skeleton, muscle[list(layout.compliant)] if nc else ca.SX(0, 1))
    residual_scale = np.concatenate([np.full(nq, 100.0), np.ones(nc)])
    path = [
        PathConstraint(
            "implicit dynamics",
            ca.Function("residual", [x, u, p], [residual]),
            0.0,
            0.0,
            residual_scale,
        )
    ]

    # Goals.
    i_fwd = layout.coordinates.index(FORWARD)
    x0s, xfs = ca.SX.sym("x0", nx), ca.SX.sym("xT", nx)
    distance = ca.Function("distance", [x0s, xfs], [xfs[i_fwd] - x0s[i_fwd]])
    u_max = np.array([max(abs(v.lower), abs(v.upper)) for v in controls[nm + nq : nm + nq + na]])
    effort = ca.sum1(e**spec.effort_exponent) if nm else ca.SX(0)
    goals = [
        IntegralGoal(
            name="muscle effort",
            weight=spec.effort_weight,
            normalize_by_distance=distance,
            integrand=ca.Function("effort", [x, u, p], [effort]),
        )
    ]
    if na:
        goals.append(
            IntegralGoal(
                name="actuator effort",
                weight=spec.actuator_weight,
                normalize_by_distance=distance,
                integrand=ca.Function("actuators", [x, u, p], [ca.sum1((u_act / u_max) ** 2)]),
            )
        )
    goals.append(
        IntegralGoal(
            name="acceleration smoothing",
            weight=spec.acceleration_weight,
            normalize_by_distance=distance,
            integrand=ca.Function("accelerations", [x, u, p], [ca.sumsqr(qdd / 100.0)]),
        )
    )
    if spec.grf_limit_weight > 0.0 and model.contact_spheres:
        goals.append(_grf_limit_goal(model, f, spec, x, u, p, distance))
    if spec.metabolic_weight > 0.0:
        rate = f.metabolic_rate(q, qd, e, a, ft, dft)[-1] / model.total_mass
        goals.append(
            IntegralGoal(
                name="metabolic energy",
                weight=spec.metabolic_weight,
                normalize_by_distance=distance,
                integrand=ca.Function("metabolic", [x, u, p], [rate]),
            )
        )
    if spec.head_stability_weight > 0.0:
        goals.append(_head_stability_goal(model, f, spec, x, u, p, distance))
    if spec.tracking is not None:
        goals.extend(spec.tracking.goals(model, f, layout, x, u, p))

    # Boundary constraints: average speed and periodicity.
    t = ca.SX.sym("T")
    speed = ca.Function("speed", [x0s, xfs, p, t], [(xfs[i_fwd] - x0s[i_fwd]) / t])
    tol = spec.speed_tolerance
    boundary = [BoundaryConstraint("average speed", speed, spec.speed - tol, spec.speed + tol)]
    if spec.half_cycle:
        mirror = _mirror_matrix(layout.state_names)
    else:
        mirror = np.eye(nx)
    keep = [i for i, n in enumerate(layout.state_names) if n != FORWARD]
    periodic = (xfs - ca.DM(mirror) @ x0s)[keep]
    boundary.append(
        BoundaryConstraint("periodicity", ca.Function("periodicity", [x0s, xfs, p, t], [periodic]))
    )
    problem = OptimalControlProblem(
        states=tuple(states),
        controls=tuple(controls),
        dynamics=dynamics,
        duration=spec.phase_duration(),
        goals=tuple(goals),
        path_constraints=tuple(path),
        boundary_constraints=tuple(boundary),
        name=f"{model.name} {'tracking' if spec.tracking is not None else 'predictive'} "
        f"walking at {spec.speed:+.2f} m/s",
        metadata={"speed": spec.speed, "half_cycle": spec.half_cycle},
    )
    return problem, layout
