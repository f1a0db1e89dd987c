"""Joint contact loads: the force the proximal bone exerts on the distal bone at a joint.

What it computes
----------------
For a joint ``J`` with parent body ``P`` and child body ``C``, let ``S`` be the child's
*subtree*: ``C`` and every body distal to it (for the right knee of ``gait2d``: tibia,
talus, calcaneus, toes). Newton-Euler for ``S`` as one system gives the *net
(intersegmental) load* that everything crossing the joint -- bone-on-bone contact,
ligaments, muscles -- exerts on ``S``::

    F_net = sum_b m_b (a_b - g)                                    - F_ext
    M_net = sum_b [(c_b - O) x m_b (a_b - g) + I_b alpha_b + w_b x I_b w_b] - M_ext

with, for every body ``b`` of ``S``, its mass ``m_b``, centre of mass ``c_b`` and its
acceleration ``a_b``, angular velocity ``w_b`` and acceleration ``alpha_b``, inertia
``I_b`` about ``c_b`` (ground frame); ``g`` is gravity; ``F_ext`` and ``M_ext`` are the
external loads applied to ``S`` (ground reaction forces, contact-sphere forces), their
moments taken about the *joint centre* ``O``, defined here as the origin of the child's
body frame (for OpenSim-style models the child frame origin sits at the joint; for a
custom knee whose tibia translates with the knee angle, the origin moves with it).

The muscles that cross the joint apply ``(F_mus, M_mus)`` to ``S``; the rest of the net
load is what the parent bone applies through the joint -- the *joint contact load*::

    F_contact = F_net - F_mus,        M_contact = M_net - M_mus.

This is what OpenSim's ``JointReaction`` analysis reports for a model that includes its
muscles (the mobilizer reaction, Simbody ``calcMobilizerReactionForces``): the joint
reaction force "plus all muscle forces crossing the joint". A muscle pulls the distal
bone towards the proximal one, so the contact force is larger than the net force by
exactly the muscles' contribution.

Muscle forces on the subtree
----------------------------
A muscle of tension ``F`` and path length ``L`` applies to ``S`` the load that does the
same virtual work as the tension when ``S`` alone is displaced rigidly: displace every
body of ``S`` (and every path point and wrap cylinder on those bodies) by a small
translation ``e`` and a small rotation ``th`` about ``O``,
``p -> O + (I + [th]x)(p - O) + e``; then::

    F_mus = -F dL/de,        M_mus = -F dL/dth           (at e = th = 0).

The derivatives are exact (CasADi), with the model's own path code
(:func:`gaitsim.mechanics.paths.muscle_length`), so every kind of path is handled the
same way:

* a straight segment that leaves ``S`` at point ``p`` pulls ``p`` along the segment,
  towards its neighbour outside ``S``;
* a segment wrapped over a cylinder pulls its end point along the *tangent* to the
  cylinder (the derivative of the wrapped length with respect to an end point is the
  unit tangent -- envelope theorem, see :mod:`gaitsim.mechanics.wrapping`), and when the
  cylinder is on ``S`` while an end point is not, the cylinder carries the rest of the
  load (e.g. ``gait2d``'s rectus femoris at the hip: pelvis origin outside, femoral
  cylinder and tibial insertion inside, so the subtree receives the pull along the
  path's direction at the pelvis);
* a muscle whose whole path (points and cylinders) lies inside ``S``, or wholly outside,
  applies nothing (its length does not change) and is skipped;
* conditional path points are blended (:mod:`gaitsim.mechanics.paths`) from points that
  each move with their own body, so the blend is handled consistently;
* a *moving* path point (e.g. the quadriceps insertion of gait2392, whose place on the
  tibia is a function of the knee angle, a stand-in for the patella) is loaded at its
  current place. The part of the muscle's generalised force that comes from the point
  moving on the bone, ``F dL/dp . dp/dq``, is not a force on the bone: Newton-Euler puts
  it in the joint contact *moment* about the knee axis (the force is unaffected). So for
  such muscles ``M_mus`` about the joint axis differs from moment arm x force.

Frames and signs
----------------
All vectors are first computed in ground. The *components* are those of the contact
force acting on the distal bone, in the distal body's frame (OpenSim's: +X anterior,
+Y along the bone towards the proximal joint, +Z to the right):

* ``compressive = -F . Y`` (positive when the proximal bone pushes the distal bone
  distally, i.e. compresses the joint). This assumes the distal body's +Y points from
  its subtree towards the joint, as for the thigh, shank and foot; where the subtree's
  centre of mass lies on the +Y side of the joint in the default pose (the torso above
  the lumbar joint), the sign is reversed (:attr:`JointLoad.axis_sign`) so that
  compression stays positive;
* ``anterior = F . X`` (force pushing the distal bone anteriorly);
* ``lateral = F . Z`` for the right side and ``-F . Z`` for the left side (force pushing
  the distal bone laterally).

Loads in body weights (BW) are divided by ``m g``, the model's (or result's) total mass
times the magnitude of gravity.

Validation
----------
``tests/unit/test_joint_loads.py``: the net moment about the joint axis equals the
joint's generalised force from gaitsim's recursive Newton-Euler inverse dynamics
(an independent algorithm) over real simulated strides; static standing with a known
vertical ground force gives the weight above the joint plus the muscle force (analytic);
the muscles' moment about the joint axis equals moment arm x force; linearity and
invariance in the muscle forces; peak loads in walking within published ranges
(Bergmann et al. 2001; Kutzner et al. 2010). Figures are in ``docs/joint_loads.md``.

References
----------
* Steele KM, DeMers MS, Schwartz MH, Delp SL (2012). Compressive tibiofemoral force
  during crouch gait. Gait Posture 35(4):556-560 (joint reaction with muscles).
* OpenSim ``JointReaction`` analysis (opensim-core ``OpenSim/Analyses/JointReaction.cpp``)
  and Simbody ``SimbodyMatterSubsystem::calcMobilizerReactionForces``.
* Bergmann G, Deuretzbacher G, Heller M, et al. (2001). Hip contact forces and gait
  patterns from routine activities. J Biomech 34(7):859-871.
* Kutzner I, Heinlein B, Graichen F, et al. (2010). Loading of the knee joint during
  activities of daily living measured in vivo in five subjects. J Biomech
  43(11):2164-2173.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np
from numpy.typing import NDArray

from gaitsim.errors import GaitsimError, ModelError
from gaitsim.inverse_dynamics import body_forces, inverse_dynamics
from gaitsim.io.external_loads import ExternalLoads, applied_loads
from gaitsim.io.storage import TimeSeriesTable
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.mechanics.paths import muscle_length
from gaitsim.mechanics.rotations import skew
from gaitsim.mechanics.skeleton import Pose
from gaitsim.model.description import GROUND, Joint, Model, Muscle
from gaitsim.simulate.result import WalkingResult

__all__ = [
    "BodyLoad",
    "LoadedMotion",
    "JointLoad",
    "DEFAULT_JOINTS",
    "subtree_bodies",
    "crossing_muscles",
    "motion_from_walking",
    "joint_load",
    "joint_loads",
    "walking_joint_loads",
    "STANCE_THRESHOLD",
    "KneeAdductionMoment",
    "knee_adduction_moment",
]

FloatArray = NDArray[np.float64]

#: The joints reported by :func:`walking_joint_loads` by default.
DEFAULT_JOINTS = ("hip_r", "knee_r", "hip_l", "knee_l")


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------
def _frozen(array: Any, shape: tuple[int, ...], what: str) -> FloatArray:
    out = np.array(array, dtype=np.float64)
    if out.shape != shape:
        raise ValueError(f"{what} must have shape {shape}, got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{what} has non-finite values")
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class BodyLoad:
    """An external load on one body over time, in ground.

    Parameters
    ----------
    body
        The body it is applied to.
    force
        Force (N), shape ``(n, 3)``, ground frame.
    point
        Point of application (m), shape ``(n, 3)``, ground frame.
    torque
        Free torque (N m), shape ``(n, 3)``, ground frame; ``None`` for none.
    name
        Label (e.g. the contact's name), for messages.
    """

    body: str
    force: FloatArray
    point: FloatArray
    torque: FloatArray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        force = np.asarray(self.force)
        n = force.shape[0] if force.ndim == 2 else -1
        what = f"load {self.name or self.body!r}"
        object.__setattr__(self, "force", _frozen(self.force, (n, 3), f"{what} force"))
        object.__setattr__(self, "point", _frozen(self.point, (n, 3), f"{what} point"))
        if self.torque is not None:
            object.__setattr__(self, "torque", _frozen(self.torque, (n, 3), f"{what} torque"))


@dataclass(frozen=True, eq=False)
class LoadedMotion:
    """A motion with the forces that act during it: what joint loads are computed from.

    Parameters
    ----------
    time
        Times (s), ``(n,)``.
    q, qd, qdd
        Coordinates, speeds, accelerations, ``(n, n_q)`` in the model's coordinate order.
    muscle_forces
        Tendon force of every muscle (N, tension positive), ``(n, n_m)`` in the model's
        muscle order.
    loads
        External loads (ground reactions, contact forces), in ground.
    body_weight
        Weight (N) used to express loads in body weights.
    """

    time: FloatArray
    q: FloatArray
    qd: FloatArray
    qdd: FloatArray
    muscle_forces: FloatArray
    loads: tuple[BodyLoad, ...]
    body_weight: float

    def __post_init__(self) -> None:
        time = np.asarray(self.time)
        n = time.shape[0] if time.ndim == 1 else -1
        object.__setattr__(self, "time", _frozen(self.time, (n,), "time"))
        q = np.asarray(self.q)
        n_q = q.shape[1] if q.ndim == 2 else -1
        for name in ("q", "qd", "qdd"):
            object.__setattr__(self, name, _frozen(getattr(self, name), (n, n_q), name))
        forces = np.asarray(self.muscle_forces)
        n_m = forces.shape[1] if forces.ndim == 2 else -1
        object.__setattr__(
            self, "muscle_forces", _frozen(self.muscle_forces, (n, n_m), "muscle_forces")
        )
        loads = tuple(self.loads)
        for load in loads:
            if load.force.shape[0] != n:
                raise ValueError(
                    f"load {load.name or load.body!r} has {load.force.shape[0]} samples, "
                    f"the motion {n}"
                )
        object.__setattr__(self, "loads", loads)
        if not (np.isfinite(self.body_weight) and self.body_weight > 0):
            raise ValueError(f"body_weight must be positive, got {self.body_weight!r}")
        object.__setattr__(self, "body_weight", float(self.body_weight))


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class JointLoad:
    """Loads at one joint over time (see the module docstring for definitions and signs).

    Attributes
    ----------
    joint, parent, child
        Joint name, proximal and distal body.
    side
        ``"r"``, ``"l"`` or ``""`` (sets the sign of :attr:`lateral`).
    subtree
        Bodies distal to the joint (the child first).
    time
        ``(n,)`` (s).
    body_weight
        N.
    centre
        Joint centre (the child frame's origin) in ground, ``(n, 3)``.
    rotation
        Child frame in ground (columns are its axes), ``(n, 3, 3)``.
    net_force, net_moment
        Load that everything crossing the joint applies to the subtree (N, N m; moment
        about the joint centre), ground frame, ``(n, 3)``.
    muscle_force, muscle_moment
        Part of it applied by the muscles, ``(n, 3)``.
    contact_force, contact_moment
        ``net - muscle``: the load the proximal bone applies to the distal one, ``(n, 3)``.
    muscle_names
        Muscles that cross the joint.
    muscle_contributions
        Force each of them applies to the subtree, ground, ``(n, len(muscle_names), 3)``.
    axis_sign
        +1 when the child's +Y axis points from its subtree towards the joint (leg
        segments), -1 otherwise; :attr:`compressive` is ``-axis_sign F . Y``.
    """

    joint: str
    parent: str
    child: str
    side: str
    subtree: tuple[str, ...]
    time: FloatArray
    body_weight: float
    centre: FloatArray
    rotation: FloatArray
    net_force: FloatArray
    net_moment: FloatArray
    muscle_force: FloatArray
    muscle_moment: FloatArray
    contact_force: FloatArray
    contact_moment: FloatArray
    muscle_names: tuple[str, ...]
    muscle_contributions: FloatArray
    axis_sign: float = 1.0

    def local(self, vectors: FloatArray) -> FloatArray:
        """Ground vectors ``(n, 3)`` expressed in the child (distal) body frame."""
        return np.einsum("nji,nj->ni", self.rotation, np.asarray(vectors, dtype=float))

    def _components(self, force: FloatArray) -> dict[str, FloatArray]:
        local = self.local(force) / self.body_weight
        lateral_sign = -1.0 if self.side == "l" else 1.0
        return {
            "compressive": -self.axis_sign * local[:, 1],
            "anterior": local[:, 0],
            "lateral": lateral_sign * local[:, 2],
            "magnitude": np.linalg.norm(local, axis=1),
        }

    @property
    def compressive(self) -> FloatArray:
        """Contact force along the distal bone's long axis, compression positive (BW)."""
        return self._components(self.contact_force)["compressive"]

    @property
    def anterior(self) -> FloatArray:
        """Anterior component of the contact force on the distal bone (BW)."""
        return self._components(self.contact_force)["anterior"]

    @property
    def lateral(self) -> FloatArray:
        """Lateral component of the contact force on the distal bone (BW)."""
        return self._components(self.contact_force)["lateral"]

    @property
    def magnitude(self) -> FloatArray:
        """Magnitude of the contact force (BW)."""
        return np.linalg.norm(self.contact_force, axis=1) / self.body_weight

    @property
    def cycle_percent(self) -> FloatArray:
        """Time as percent of the record, 0 to 100."""
        t = self.time
        return 100.0 * (t - t[0]) / (t[-1] - t[0]) if t.size > 1 else np.zeros_like(t)

    def summary(self) -> dict[str, float]:
        """Peaks of the contact force (BW) and when they occur (percent of the record)."""
        magnitude = self.magnitude
        k = int(np.argmax(magnitude))
        return {
            "peak_magnitude_bw": float(magnitude[k]),
            "peak_at_percent": float(self.cycle_percent[k]),
            "peak_compressive_bw": float(np.max(self.compressive)),
            "peak_net_magnitude_bw": float(
                np.max(np.linalg.norm(self.net_force, axis=1)) / self.body_weight
            ),
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """The result as a tidy table: one row per time and quantity (JSON-ready).

        Quantities: the components of the contact, net and muscle forces (``contact_*``,
        ``net_*``, ``muscle_*``: compressive, anterior, lateral, magnitude; BW) in the
        distal frame. Columns: ``joint``, ``time`` (s), ``cycle_percent``, ``quantity``,
        ``value``, ``unit``.
        """
        rows: list[dict[str, Any]] = []
        groups = {
            "contact": self._components(self.contact_force),
            "net": self._components(self.net_force),
            "muscle": self._components(self.muscle_force),
        }
        percent = self.cycle_percent
        for prefix, components in groups.items():
            for name, values in components.items():
                for t, p, v in zip(self.time, percent, values, strict=True):
                    rows.append(
                        {
                            "joint": self.joint,
                            "time": float(t),
                            "cycle_percent": float(p),
                            "quantity": f"{prefix}_{name}",
                            "value": float(v),
                            "unit": "BW",
                        }
                    )
        return rows


# --------------------------------------------------------------------------------------
# Model structure
# --------------------------------------------------------------------------------------
def _joint(model: Model, name: str) -> Joint:
    for joint in model.joints:
        if joint.name == name:
            return joint
    raise ModelError(f"joints.{name}", f"model {model.name!r} has no joint {name!r}")


def subtree_bodies(model: Model, body: str) -> tuple[str, ...]:
    """``body`` and every body distal to it in the joint tree (``body`` first)."""
    if body == GROUND:
        raise ModelError(body, "ground has no subtree to load")
    children: dict[str, list[str]] = {}
    for joint in model.joints:
        children.setdefault(joint.parent.body, []).append(joint.child.body)
    out = [body]
    for name in out:
        out.extend(children.get(name, ()))
    return tuple(out)


def _path_bodies(model: Model, muscle: Muscle) -> set[str]:
    bodies = {p.body for p in muscle.path}
    cylinders = {c.name: c for c in model.wrap_cylinders}
    bodies.update(cylinders[w.cylinder].body for w in muscle.wraps)
    return bodies


def crossing_muscles(model: Model, joint: str) -> tuple[str, ...]:
    """Muscles with path points or wrap cylinders both in and out of the joint's subtree."""
    inside = set(subtree_bodies(model, _joint(model, joint).child.body))
    out = []
    for muscle in model.muscles:
        bodies = _path_bodies(model, muscle)
        if bodies & inside and bodies - inside:
            out.append(muscle.name)
    return tuple(out)


def _side(joint: Joint) -> str:
    for name in (joint.name, joint.child.body):
        if name.endswith("_r"):
            return "r"
        if name.endswith("_l"):
            return "l"
    return ""


# --------------------------------------------------------------------------------------
# How it is computed: CasADi functions of one subtree, built once per model and joint
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _SubtreeFunctions:
    inertial: ca.Function  # (q, qd, qdd) -> (force 3, moment about O 3, O 3, R 3x3)
    muscles: ca.Function  # (q) -> (unit forces 3 x n_c, unit moments about O 3 x n_c)
    muscle_index: tuple[int, ...]  # model indices of the crossing muscles
    axis_sign: float  # +1 if the subtree lies on the child's -Y side of the joint


_CACHE: weakref.WeakKeyDictionary[ModelFunctions, dict[str, _SubtreeFunctions]] = (
    weakref.WeakKeyDictionary()
)


def _inertia_matrix(inertia: tuple[float, ...]) -> ca.DM:
    ixx, iyy, izz, ixy, ixz, iyz = inertia
    return ca.DM([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])


def _build_subtree(functions: ModelFunctions, joint: Joint) -> _SubtreeFunctions:
    model = functions.model
    sk = functions.skeleton
    inside = subtree_bodies(model, joint.child.body)
    origin = sk.poses[joint.child.body].p
    gravity = ca.DM(model.gravity)
    force: Any = ca.SX.zeros(3, 1)
    moment: Any = ca.SX.zeros(3, 1)
    states = ca.vertcat(sk.q, sk.qd)
    rates = ca.vertcat(sk.qd, sk.qdd)
    for name in inside:
        body = model.body(name)
        pose = sk.poses[name]
        com = pose.point(body.com)
        linear = body.mass * (sk.acceleration(com) - gravity)
        w = sk.angular_velocity(name)
        alpha = ca.jtimes(w, states, rates)
        inertia = pose.R @ _inertia_matrix(body.inertia) @ pose.R.T
        force += linear
        moment += ca.cross(com - origin, linear) + inertia @ alpha + ca.cross(w, inertia @ w)
    # Which way the subtree hangs from the joint along the child's Y axis (default pose).
    mass = sum(model.body(name).mass for name in inside)
    centre_of_mass = sum(
        (model.body(name).mass * sk.poses[name].point(model.body(name).com) for name in inside),
        start=ca.SX.zeros(3, 1),
    )
    offset = sk.poses[joint.child.body].R.T @ (centre_of_mass / max(mass, 1e-12) - origin)
    default = [c.default for c in model.coordinates]
    hangs = float(ca.Function("offset", [sk.q], [offset[1]])(default))
    axis_sign = -1.0 if hangs > 0.0 else 1.0
    inertial = ca.Function(
        "subtree_inertial",
        [sk.q, sk.qd, sk.qdd],
        [force, moment, origin, sk.poses[joint.child.body].R],
        ["q", "qd", "qdd"],
        ["force", "moment", "centre", "rotation"],
    )

    # Virtual rigid displacement of the subtree: translation e, small rotation th about O.
    e = ca.SX.sym("e", 3)
    th = ca.SX.sym("th", 3)
    turn = ca.SX.eye(3) + skew(th)
    poses = dict(sk.poses)
    for name in inside:
        pose = sk.poses[name]
        poses[name] = Pose(turn @ pose.R, origin + turn @ (pose.p - origin) + e)
    displaced = dataclasses.replace(sk, poses=poses)
    crossing = set(crossing_muscles(model, joint.name))
    index = tuple(k for k, m in enumerate(model.muscles) if m.name in crossing)
    smoothing = functions.options.conditional_smoothing
    if index:
        lengths = ca.vertcat(
            *[muscle_length(model.muscles[k], displaced, smoothing) for k in index]
        )
        virtual = ca.vertcat(e, th)
        jac = ca.substitute(ca.jacobian(lengths, virtual), virtual, ca.SX.zeros(6, 1))
        unit_forces, unit_moments = -jac[:, 0:3].T, -jac[:, 3:6].T
    else:
        unit_forces = unit_moments = ca.SX(3, 0)
    muscles = ca.Function(
        "subtree_muscles", [sk.q], [unit_forces, unit_moments], ["q"], ["forces", "moments"]
    )
    return _SubtreeFunctions(inertial, muscles, index, axis_sign)


def _subtree_functions(functions: ModelFunctions, joint: Joint) -> _SubtreeFunctions:
    per_model = _CACHE.setdefault(functions, {})
    if joint.name not in per_model:
        per_model[joint.name] = _build_subtree(functions, joint)
    return per_model[joint.name]


def _columns(block: Any, n: int, k: int) -> FloatArray:
    """A mapped output of ``n`` blocks of ``3 x k`` columns as ``(n, k, 3)``."""
    return np.asarray(block).reshape(3, k, n, order="F").transpose(2, 1, 0)


# --------------------------------------------------------------------------------------
# The computation
# --------------------------------------------------------------------------------------
def joint_load(
    model: Model,
    motion: LoadedMotion,
    joint: str,
    *,
    functions: ModelFunctions | None = None,
) -> JointLoad:
    """Net, muscle and contact loads at ``joint`` over the motion.

    Parameters
    ----------
    model
        The model the motion belongs to.
    motion
        Coordinates, muscle forces and external loads (:class:`LoadedMotion`).
    joint
        Name of a joint of ``model`` (e.g. ``"knee_r"``).
    functions
        The model's functions (:func:`gaitsim.mechanics.model_functions.build`), to reuse.

    Returns
    -------
    JointLoad
        Loads on the joint's distal subtree; see the module docstring.

    Raises
    ------
    ModelError
        If the model has no such joint, an external load names an unknown body, or the
        motion's arrays do not fit the model.
    """
    if functions is None:
        functions = build(model)
    elif functions.model is not model and (
        functions.model.coordinate_names != model.coordinate_names
        or functions.model.muscle_names != model.muscle_names
    ):
        raise ModelError(model.name, "functions were built for another model")
    j = _joint(model, joint)
    n_q, n_m = len(model.coordinate_names), len(model.muscles)
    if motion.q.shape[1] != n_q:
        raise ModelError(
            model.name, f"the motion has {motion.q.shape[1]} coordinates, the model {n_q}"
        )
    if motion.muscle_forces.shape[1] != n_m:
        raise ModelError(
            model.name,
            f"the motion has {motion.muscle_forces.shape[1]} muscle forces, the model {n_m}",
        )
    bodies = {b.name for b in model.bodies}
    for load in motion.loads:
        if load.body not in bodies and load.body != GROUND:
            raise ModelError(
                f"load {load.name or load.body!r}",
                f"model {model.name!r} has no body {load.body!r}",
            )

    parts = _subtree_functions(functions, j)
    n = motion.time.size
    q, qd, qdd = motion.q.T, motion.qd.T, motion.qdd.T
    force, moment, centre, rotation = parts.inertial.map(n)(q, qd, qdd)
    inertial_force = np.asarray(force).T
    inertial_moment = np.asarray(moment).T
    centre = np.asarray(centre).T
    rotation = np.asarray(rotation).reshape(3, 3, n, order="F").transpose(2, 0, 1)

    inside = subtree_bodies(model, j.child.body)
    external_force = np.zeros((n, 3))
    external_moment = np.zeros((n, 3))
    for load in motion.loads:
        if load.body not in inside:
            continue
        external_force += load.force
        external_moment += np.cross(load.point - centre, load.force)
        if load.torque is not None:
            external_moment += load.torque
    net_force = inertial_force - external_force
    net_moment = inertial_moment - external_moment

    k = len(parts.muscle_index)
    if k:
        unit_f, unit_m = parts.muscles.map(n)(q)
        unit_forces, unit_moments = _columns(unit_f, n, k), _columns(unit_m, n, k)
        tension = motion.muscle_forces[:, list(parts.muscle_index)]
        contributions = unit_forces * tension[:, :, None]
        muscle_force = contributions.sum(axis=1)
        muscle_moment = (unit_moments * tension[:, :, None]).sum(axis=1)
    else:
        contributions = np.zeros((n, 0, 3))
        muscle_force = np.zeros((n, 3))
        muscle_moment = np.zeros((n, 3))

    return JointLoad(
        joint=j.name,
        parent=j.parent.body,
        child=j.child.body,
        side=_side(j),
        subtree=inside,
        time=motion.time,
        body_weight=motion.body_weight,
        centre=centre,
        rotation=rotation,
        net_force=net_force,
        net_moment=net_moment,
        muscle_force=muscle_force,
        muscle_moment=muscle_moment,
        contact_force=net_force - muscle_force,
        contact_moment=net_moment - muscle_moment,
        muscle_names=tuple(model.muscles[i].name for i in parts.muscle_index),
        muscle_contributions=contributions,
        axis_sign=parts.axis_sign,
    )


def joint_loads(
    model: Model,
    motion: LoadedMotion,
    joints: Iterable[str],
    *,
    functions: ModelFunctions | None = None,
) -> tuple[JointLoad, ...]:
    """:func:`joint_load` for several joints (functions built once)."""
    functions = functions or build(model)
    return tuple(joint_load(model, motion, j, functions=functions) for j in joints)


# --------------------------------------------------------------------------------------
# From a simulated stride
# --------------------------------------------------------------------------------------
def _reorder(names: Sequence[str], wanted: Sequence[str], what: str, model: Model) -> list[int]:
    index = {name: i for i, name in enumerate(names)}
    missing = [name for name in wanted if name not in index]
    if missing or len(names) != len(wanted):
        raise ModelError(
            model.name,
            f"the result's {what} do not match the model's "
            f"(missing: {', '.join(missing) or 'none'}; {len(names)} vs {len(wanted)})",
        )
    return [index[name] for name in wanted]


def motion_from_walking(
    result: WalkingResult, model: Model, functions: ModelFunctions | None = None
) -> LoadedMotion:
    """The :class:`LoadedMotion` of a simulated stride: its kinematics, tendon forces and
    the force of every contact sphere at its contact point.

    The contact forces are the result's (:attr:`WalkingResult.contact_forces`); their
    points of application are recomputed from the model's contact geometry at the
    result's ``q`` and ``qd`` (the result does not store them). If the result stores no
    contact forces they are recomputed too.

    Raises
    ------
    ModelError
        If the result's coordinates, muscles or contacts do not match the model, or its
        stored contact forces differ from the model's at the same state (a result from
        another model).
    """
    functions = functions or build(model)
    cq = _reorder(result.coordinate_names, model.coordinate_names, "coordinates", model)
    cm = _reorder(result.muscle_names, model.muscle_names, "muscles", model)
    q = np.asarray(result.q)[:, cq]
    qd = np.asarray(result.qd)[:, cq]
    qdd = np.asarray(result.qdd)[:, cq]
    n = q.shape[0]
    loads: list[BodyLoad] = []
    n_c = len(model.contacts)
    if n_c:
        forces, points, _ = functions.contact_forces.map(n)(q.T, qd.T)
        forces, points = _columns(forces, n, n_c), _columns(points, n, n_c)
        spheres = {s.name: s for s in model.contact_spheres}
        weight = result.body_mass * float(np.linalg.norm(model.gravity))
        for k, contact in enumerate(model.contacts):
            force = forces[:, k]
            if result.contact_forces:
                if contact.name not in result.contact_forces:
                    raise ModelError(
                        f"contacts.{contact.name}", "the result has no force for this contact"
                    )
                stored = np.asarray(result.contact_forces[contact.name], dtype=float)
                if stored.shape != (n, 3) or not np.allclose(
                    stored, force, rtol=1e-6, atol=1e-6 * weight
                ):
                    raise ModelError(
                        f"contacts.{contact.name}",
                        "the result's contact force differs from the model's at the same "
                        "state: the result was not simulated with this model",
                    )
                force = stored
            loads.append(
                BodyLoad(spheres[contact.sphere].body, force, points[:, k], name=contact.name)
            )
    return LoadedMotion(
        time=np.asarray(result.time, dtype=float),
        q=q,
        qd=qd,
        qdd=qdd,
        muscle_forces=np.asarray(result.tendon_forces)[:, cm],
        loads=tuple(loads),
        body_weight=result.body_mass * float(np.linalg.norm(model.gravity)),
    )


def walking_joint_loads(
    result: WalkingResult,
    model: Model,
    joints: Iterable[str] = DEFAULT_JOINTS,
    *,
    functions: ModelFunctions | None = None,
) -> tuple[JointLoad, ...]:
    """Joint contact loads over a simulated stride (hips and knees by default).

    Raises
    ------
    GaitsimError
        If the result does not belong to the model (see :func:`motion_from_walking`).
    """
    if result.model_name and result.model_name != model.name:
        raise GaitsimError(
            f"the result was simulated with model {result.model_name!r}, not {model.name!r}"
        )
    functions = functions or build(model)
    motion = motion_from_walking(result, model, functions)
    return joint_loads(model, motion, joints, functions=functions)


# --------------------------------------------------------------------------------------
# Knee adduction moment from measured kinematics and ground reactions
# --------------------------------------------------------------------------------------
STANCE_THRESHOLD = 20.0
"""Vertical external force (N) on a leg above which it is in stance (KAM peaks)."""


@dataclass(frozen=True, eq=False)
class KneeAdductionMoment:
    """External knee adduction moment (KAM) over a trial.

    The *external* moment is the moment of the external and inertial loads of the
    shank-and-foot about the knee centre, i.e. minus the net internal moment that the
    thigh side (bone, ligaments, muscles) applies to the tibia (:attr:`JointLoad.net_moment`).
    Its component about the tibia's anterior axis (+X of the tibia frame) is the
    frontal-plane moment; it is reported with the clinical sign: positive for an external
    *adduction* (varus) moment, which tends to rotate the distal tibia medially (about +X
    for the right leg, about -X for the left leg, since +Z points right).

    Attributes
    ----------
    side
        ``"r"`` or ``"l"``.
    joint
        The knee joint's name.
    time
        ``(n,)`` (s).
    moment
        KAM (N m), ``(n,)``.
    external_moment
        The whole external moment about the knee centre in the tibia frame, ``(n, 3)``
        (N m, model axes: X anterior, Y proximal, Z right).
    body_weight, height
        N and m, for :attr:`percent_bw_height`.
    stance
        ``(n,)`` booleans: vertical external force on the leg above
        :data:`STANCE_THRESHOLD`.
    knee_generalized_force
        The knee coordinate's generalised force from inverse dynamics (N m), ``(n,)``,
        for checks.
    load
        The knee's :class:`JointLoad` (net force and moment in 3D; muscle forces zero).
    """

    side: str
    joint: str
    time: FloatArray
    moment: FloatArray
    external_moment: FloatArray
    body_weight: float
    height: float
    stance: NDArray[np.bool_]
    knee_generalized_force: FloatArray
    load: JointLoad

    @property
    def percent_bw_height(self) -> FloatArray:
        """KAM in percent of body weight times height (%BW*ht)."""
        return 100.0 * self.moment / (self.body_weight * self.height)

    def stance_phases(self) -> list[tuple[int, int]]:
        """``(first, last)`` frame indices of each complete stance phase (contact on and
        off inside the record)."""
        on = self.stance.astype(int)
        starts = np.flatnonzero(np.diff(on) == 1) + 1
        ends = np.flatnonzero(np.diff(on) == -1)
        phases = []
        for start in starts:
            later = ends[ends > start]
            if later.size:
                phases.append((int(start), int(later[0])))
        return phases

    def peaks(self) -> list[tuple[float, float]]:
        """First and second peak of KAM (%BW*ht) of each complete stance phase: the
        maxima over the first and the second half of stance."""
        values = self.percent_bw_height
        out = []
        for first, last in self.stance_phases():
            middle = (first + last) // 2
            out.append(
                (
                    float(np.max(values[first : middle + 1])),
                    float(np.max(values[middle : last + 1])),
                )
            )
        return out

    def to_rows(self) -> list[dict[str, Any]]:
        """Tidy table: ``time``, ``side``, ``quantity`` (``kam``, ``kam_percent_bw_height``),
        ``value``, ``unit``."""
        rows: list[dict[str, Any]] = []
        for name, values, unit in (
            ("kam", self.moment, "N m"),
            ("kam_percent_bw_height", self.percent_bw_height, "%BW*ht"),
        ):
            for t, v in zip(self.time, values, strict=True):
                rows.append(
                    {
                        "time": float(t),
                        "side": self.side,
                        "quantity": name,
                        "value": float(v),
                        "unit": unit,
                    }
                )
        return rows


def knee_adduction_moment(
    model: Model,
    coordinates: TimeSeriesTable,
    external_loads: ExternalLoads,
    load_data: TimeSeriesTable,
    *,
    height: float,
    side: str = "r",
    body_weight: float | None = None,
    joint: str | None = None,
    lowpass_cutoff: float | None = 6.0,
    functions: ModelFunctions | None = None,
    time_range: tuple[float, float] | None = None,
) -> KneeAdductionMoment:
    """External knee adduction moment of a measured trial on a 3D model (e.g. ``gait3d``).

    The kinematics and external loads are prepared exactly as for
    :func:`gaitsim.inverse_dynamics.inverse_dynamics` (same arguments, same filtering and
    interpolation); the knee's full 3D net moment is then the Newton-Euler of the
    shank-and-foot subtree (:func:`joint_load`), not only the knee coordinate's
    generalised force (a one-degree-of-freedom knee has no frontal-plane coordinate).

    Parameters
    ----------
    model
        A 3D model whose coordinates the table names.
    coordinates, external_loads, load_data
        As :func:`gaitsim.inverse_dynamics.inverse_dynamics`.
    height
        Subject height (m), for %BW*ht.
    side
        ``"r"`` or ``"l"``.
    body_weight
        Subject weight (N); default the model's mass times gravity.
    joint
        The knee joint's name; default ``"knee_<side>"``.
    lowpass_cutoff, functions, time_range
        As :func:`gaitsim.inverse_dynamics.inverse_dynamics`.

    Returns
    -------
    KneeAdductionMoment

    Raises
    ------
    ModelError
        If the model has no such joint or the loads name unknown bodies.
    ValueError
        For a bad side, height or body weight, or inputs that inverse dynamics refuses.
    """
    if side not in ("r", "l"):
        raise ValueError(f"side must be 'r' or 'l', got {side!r}")
    if not (np.isfinite(height) and height > 0):
        raise ValueError(f"height must be positive (m), got {height!r}")
    functions = functions or build(model)
    weight = (
        model.total_mass * float(np.linalg.norm(model.gravity))
        if body_weight is None
        else float(body_weight)
    )
    knee = joint or f"knee_{side}"
    _joint(model, knee)
    result = inverse_dynamics(
        model,
        coordinates,
        external_loads,
        load_data,
        lowpass_cutoff=lowpass_cutoff,
        functions=functions,
        time_range=time_range,
    )
    n, nb = result.time.size, len(model.bodies)
    q = result.coordinates
    pos, rot = functions.body_poses.map(n)(q.T)
    positions = np.asarray(pos).reshape(3, n, nb).transpose(1, 2, 0)
    rotations = np.asarray(rot).reshape(3, n, nb, 3).transpose(1, 2, 0, 3)
    per_body = body_forces(
        model,
        applied_loads(external_loads, load_data),
        np.asarray(load_data.time, dtype=float),
        result.time,
        positions,
        rotations,
    )
    loads = tuple(
        BodyLoad(b.name, per_body[:, 0:3, k], positions[:, k], per_body[:, 3:6, k], name=b.name)
        for k, b in enumerate(model.bodies)
        if np.any(per_body[:, :, k])
    )
    motion = LoadedMotion(
        time=result.time,
        q=q,
        qd=result.speeds,
        qdd=result.accelerations,
        muscle_forces=np.zeros((n, len(model.muscles))),
        loads=loads,
        body_weight=weight,
    )
    load = joint_load(model, motion, knee, functions=functions)
    external = -load.local(load.net_moment)
    sign = 1.0 if side == "r" else -1.0
    inside = set(load.subtree)
    vertical = sum(
        (body_load.force[:, 1] for body_load in loads if body_load.body in inside),
        start=np.zeros(n),
    )
    knee_coordinates = [c.name for c in _joint(model, knee).coordinates]
    flexion = result.force(knee_coordinates[0]) if knee_coordinates else np.zeros(n)
    return KneeAdductionMoment(
        side=side,
        joint=knee,
        time=result.time,
        moment=sign * external[:, 0],
        external_moment=external,
        body_weight=weight,
        height=float(height),
        stance=vertical > STANCE_THRESHOLD,
        knee_generalized_force=np.asarray(flexion, dtype=float),
        load=load,
    )
