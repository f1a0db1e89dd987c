"""CasADi functions of one model, built once and reused.

:func:`build` turns a :class:`~gaitsim.model.description.Model` into a
:class:`ModelFunctions` bundle of :class:`casadi.Function` objects with exact, sparse
derivatives. Inputs and outputs are column vectors or matrices in these orders:

* ``q``, ``qd``, ``qdd``, ``tau``: coordinates in ``model.coordinate_names`` order (n_q);
* muscle quantities in ``model.muscle_names`` order (n_m);
* bodies in ``model.bodies`` order (n_b); ``body_forces`` is 6 x n_b: force at the
  body's origin (rows 0-2) and torque (rows 3-5), both in ground;
* contacts in ``model.contacts`` order (n_c), markers in ``model.markers`` order.

Building the symbolic expressions costs about a second for gait models and is done
once per model and option set; evaluation is then cheap (see ``benchmarks/``). Each
function is built on first use, on its own: the four muscle functions (rigid tendon,
compliant tendon in implicit and explicit form, activation rate) too, so that static
optimisation, which needs only the rigid-tendon forces, does not pay for the others
(building all four took 0.16 s for subject01's 18 muscles, the rigid-tendon one alone
0.045 s).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import casadi as ca
import numpy as np

from gaitsim.mechanics.contact import SmoothContactParameters, sphere_halfspace_force
from gaitsim.mechanics.muscle import (
    MuscleParameters,
    activation_derivative,
    compliant_tendon_state_explicit,
    compliant_tendon_state_implicit,
    rigid_tendon_state,
)
from gaitsim.mechanics.paths import DEFAULT_SMOOTHING, muscle_length
from gaitsim.mechanics.rotations import body_fixed_xyz
from gaitsim.mechanics.skeleton import SkeletonSymbols, build_skeleton
from gaitsim.model.description import Model, Muscle, TendonModel
from gaitsim.model.validation import validate

__all__ = ["BuildOptions", "ModelFunctions", "build"]


@dataclass(frozen=True)
class BuildOptions:
    """How to build a model's functions.

    Parameters
    ----------
    conditional_smoothing
        Width (rad or m) of the smooth switch of conditional path points, see
        :mod:`gaitsim.mechanics.paths`; 0 reproduces OpenSim's hard switch.
    """

    conditional_smoothing: float = DEFAULT_SMOOTHING


class ModelFunctions:
    """The model's mechanics as CasADi functions (see the module docstring for orders).

    Each function is built on first use and kept, so a caller that needs only inverse
    dynamics does not pay for muscles and contact, nor one that needs only rigid-tendon
    muscles for the compliant ones. Do not construct directly: use :func:`build`.
    """

    def __init__(self, model: Model, options: BuildOptions) -> None:
        self.model = model
        self.options = options

    @property
    def n_q(self) -> int:
        """Number of coordinates."""
        return len(self.model.coordinate_names)

    FUNCTION_NAMES = (
        "body_poses",
        "centre_of_mass",
        "marker_positions",
        "mass_matrix",
        "bias_forces",
        "inverse_dynamics",
        "forward_dynamics",
        "muscle_tendon_lengths",
        "moment_arms",
        "lengthening_velocities",
        "limit_torques",
        "contact_forces",
        "muscle_rigid",
        "muscle_compliant",
        "muscle_compliant_explicit",
        "activation_rate",
        "implicit_dynamics",
    )

    def build_all(self) -> ModelFunctions:
        """Build every function now (for timing, or to surface errors early)."""
        for name in self.FUNCTION_NAMES:
            getattr(self, name)
        return self

    # -- symbolic building blocks (shared by the functions below) ------------------------
    @cached_property
    def skeleton(self) -> SkeletonSymbols:
        """Symbolic body poses (see :mod:`gaitsim.mechanics.skeleton`)."""
        return build_skeleton(self.model)

    @cached_property
    def _tau_free(self) -> Any:
        return self.skeleton.inverse_dynamics(None)

    @cached_property
    def _lengths(self) -> Any:
        sk = self.skeleton
        smoothing = self.options.conditional_smoothing
        lengths = [muscle_length(m, sk, smoothing) for m in self.model.muscles]
        return ca.vertcat(*lengths) if lengths else ca.SX(0, 1)

    @cached_property
    def _tau_limit(self) -> Any:
        return _limit_torques(self.model, self.skeleton)

    @cached_property
    def _contact(self) -> tuple[Any, Any, Any]:
        return _contact(self.model, self.skeleton)

    # -- kinematics ----------------------------------------------------------------------
    @cached_property
    def body_poses(self) -> ca.Function:
        """``(q) -> (positions 3 x n_b, rotations 3 x 3 n_b)``: body frames in ground."""
        sk, bodies = self.skeleton, self.model.bodies
        positions = ca.horzcat(*[sk.poses[b.name].p for b in bodies])
        rotations = ca.horzcat(*[sk.poses[b.name].R for b in bodies])
        return ca.Function(
            "body_poses", [sk.q], [positions, rotations], ["q"], ["positions", "rotations"]
        )

    @cached_property
    def centre_of_mass(self) -> ca.Function:
        """``(q) -> com 3x1``."""
        sk = self.skeleton
        return ca.Function("centre_of_mass", [sk.q], [sk.centre_of_mass()], ["q"], ["com"])

    @cached_property
    def sphere_centres(self) -> ca.Function:
        """``(q) -> 3 x n_spheres``: centres of the contact spheres in ground (model order)."""
        sk = self.skeleton
        centres = [sk.point(s.body, s.location) for s in self.model.contact_spheres]
        out = ca.horzcat(*centres) if centres else ca.SX(3, 0)
        return ca.Function("sphere_centres", [sk.q], [out], ["q"], ["centres"])

    @cached_property
    def marker_positions(self) -> ca.Function:
        """``(q) -> 3 x n_markers``."""
        sk = self.skeleton
        markers = [sk.point(m.body, m.location) for m in self.model.markers]
        out = ca.horzcat(*markers) if markers else ca.SX(3, 0)
        return ca.Function("marker_positions", [sk.q], [out], ["q"], ["positions"])

    # -- dynamics ------------------------------------------------------------------------
    @cached_property
    def mass_matrix(self) -> ca.Function:
        """``(q) -> M n_q x n_q``."""
        sk = self.skeleton
        mass = ca.jacobian(self._tau_free, sk.qdd)
        return ca.Function("mass_matrix", [sk.q], [mass], ["q"], ["M"])

    @cached_property
    def bias_forces(self) -> ca.Function:
        """``(q, qd) -> c n_q``: generalised forces needed for zero acceleration (Coriolis,
        centrifugal, gravity), so that ``tau = M qdd + c``."""
        sk = self.skeleton
        bias = ca.substitute(self._tau_free, sk.qdd, ca.SX.zeros(sk.qdd.shape))
        return ca.Function("bias_forces", [sk.q, sk.qd], [bias], ["q", "qd"], ["c"])

    @cached_property
    def inverse_dynamics(self) -> ca.Function:
        """``(q, qd, qdd, body_forces) -> tau``."""
        sk = self.skeleton
        body_forces = ca.SX.sym("body_forces", 6, len(self.model.bodies))
        tau = sk.inverse_dynamics(body_forces)
        return ca.Function(
            "inverse_dynamics",
            [sk.q, sk.qd, sk.qdd, body_forces],
            [tau],
            ["q", "qd", "qdd", "body_forces"],
            ["tau"],
        )

    @cached_property
    def forward_dynamics(self) -> ca.Function:
        """``(q, qd, tau, body_forces) -> qdd`` (solves ``M qdd = tau - c``)."""
        n, nb = self.n_q, len(self.model.bodies)
        # MX around the SX building blocks, with a sparse linear solve.
        qm, qdm = ca.MX.sym("q", n), ca.MX.sym("qd", n)
        taum, bfm = ca.MX.sym("tau", n), ca.MX.sym("body_forces", 6, nb)
        rhs = taum - self.inverse_dynamics(qm, qdm, ca.MX.zeros(n, 1), bfm)
        qdd = ca.solve(self.mass_matrix(qm), rhs, "symbolicqr")
        return ca.Function(
            "forward_dynamics",
            [qm, qdm, taum, bfm],
            [qdd],
            ["q", "qd", "tau", "body_forces"],
            ["qdd"],
        )

    # -- muscle paths --------------------------------------------------------------------
    @cached_property
    def muscle_tendon_lengths(self) -> ca.Function:
        """``(q) -> l_mt n_m``."""
        q = self.skeleton.q
        return ca.Function("muscle_tendon_lengths", [q], [self._lengths], ["q"], ["l_mt"])

    @cached_property
    def moment_arms(self) -> ca.Function:
        """``(q) -> r n_m x n_q`` with ``r = -d l_mt / d q``."""
        q = self.skeleton.q
        return ca.Function("moment_arms", [q], [-ca.jacobian(self._lengths, q)], ["q"], ["r"])

    @cached_property
    def lengthening_velocities(self) -> ca.Function:
        """``(q, qd) -> v_mt n_m``."""
        sk = self.skeleton
        v = ca.jtimes(self._lengths, sk.q, sk.qd)
        return ca.Function("lengthening_velocities", [sk.q, sk.qd], [v], ["q", "qd"], ["v_mt"])

    # -- other forces --------------------------------------------------------------------
    @cached_property
    def limit_torques(self) -> ca.Function:
        """``(q, qd) -> tau_limit n_q``: passive torques at range limits."""
        sk = self.skeleton
        tau = self._tau_limit
        return ca.Function("limit_torques", [sk.q, sk.qd], [tau], ["q", "qd"], ["tau"])

    @cached_property
    def contact_forces(self) -> ca.Function:
        """``(q, qd) -> (forces 3 x n_c on each sphere in ground, points 3 x n_c, tau n_q)``."""
        sk = self.skeleton
        return ca.Function(
            "contact_forces",
            [sk.q, sk.qd],
            list(self._contact),
            ["q", "qd"],
            ["forces", "points", "tau"],
        )

    @cached_property
    def actuator_matrix(self) -> np.ndarray:
        """``n_q x n_actuators``: ``tau = actuator_matrix @ controls`` (coordinate actuators)."""
        matrix = np.zeros((self.n_q, len(self.model.actuators)))
        index = {name: i for i, name in enumerate(self.model.coordinate_names)}
        for k, a in enumerate(self.model.actuators):
            matrix[index[a.coordinate], k] = a.optimal_force
        return matrix

    # -- muscles -------------------------------------------------------------------------
    @cached_property
    def muscle_rigid(self) -> ca.Function:
        """``(l_mt, v_mt, a) -> (tendon_force, fiber_length, fiber_velocity, active_fiber_force,
        passive_fiber_force)``, all n_m: rigid-tendon muscles (every muscle treated as rigid)."""
        return _muscle_rigid(self.model.muscles)

    @cached_property
    def muscle_compliant(self) -> ca.Function:
        """``(l_mt, v_mt, a, f_t, df_t) -> (tendon_force, residual, fiber_length, fiber_velocity)``:
        compliant tendon in implicit form; ``f_t`` is the normalised tendon force state and
        ``df_t`` its time derivative; ``residual = 0`` is the fibre-tendon equilibrium."""
        return _muscle_compliant(self.model.muscles)

    @cached_property
    def muscle_compliant_explicit(self) -> ca.Function:
        """``(l_mt, v_mt, a, f_t) -> (tendon_force, df_t)``: compliant tendon, explicit form."""
        return _muscle_compliant_explicit(self.model.muscles)

    @cached_property
    def activation_rate(self) -> ca.Function:
        """``(e, a) -> da/dt`` (De Groote et al. 2016 activation dynamics), n_m."""
        return _activation_rate(self.model.muscles)

    @cached_property
    def metabolic_rate(self) -> ca.Function:
        """``(q, qd, e, a, f_t, df_t) -> (activation_heat_rate, maintenance_heat_rate,
        shortening_heat_rate, mechanical_work_rate, total, total_sum)``: smoothed
        Bhargava et al. (2004) metabolic rates (W) with default slow-twitch ratios and
        settings (``f_t``, ``df_t``: normalised tendon force and its rate, used by
        compliant-tendon muscles only); see
        :func:`gaitsim.mechanics.metabolics.metabolic_rate_function`."""
        from gaitsim.mechanics.metabolics import metabolic_rate_function

        return metabolic_rate_function(self)

    @cached_property
    def implicit_dynamics(self) -> ca.Function:
        """``(q, qd, qdd, a, f_t, df_t, u) -> (skeleton_residual n_q, muscle_residual n_m)``.

        The implicit musculoskeletal dynamics used in collocation (De Groote et al. 2016;
        Falisse et al. 2019): ``skeleton_residual = ID(q, qd, qdd) - r(q)^T F_T - tau_contact
        - tau_limit - A u`` is zero when the accelerations are consistent with the forces, and
        ``muscle_residual`` is the fibre-tendon equilibrium of every compliant muscle (for a
        rigid-tendon muscle, ``f_t - F_T / Fmax``, so ``f_t`` carries its normalised force).
        ``u`` are the coordinate actuators' controls."""
        sk = self.skeleton
        return _implicit_dynamics(
            self.model,
            sk,
            self._lengths,
            self._tau_free,
            self._tau_limit,
            self._contact[2],
            self.actuator_matrix,
        )


def _limit_torques(model: Model, sk: SkeletonSymbols) -> Any:
    tau = ca.SX.zeros(sk.q.shape[0], 1)
    for t in model.limit_torques:
        i = sk.coordinate_index[t.coordinate]
        q, qd = sk.q[i], sk.qd[i]
        k = t.stiffness / t.sharpness
        tau[i] += k * (ca.exp(-t.sharpness * (q - t.lower)) - ca.exp(t.sharpness * (q - t.upper)))
        tau[i] += -t.damping * qd
    return tau


def _contact(model: Model, sk: SkeletonSymbols) -> tuple[Any, Any, Any]:
    spheres = {s.name: s for s in model.contact_spheres}
    planes = {h.name: h for h in model.half_spaces}
    forces, points = [], []
    tau = ca.SX.zeros(sk.q.shape[0], 1)
    for c in model.contacts:
        sphere = spheres[c.sphere]
        plane = planes[c.half_space]
        centre = sk.point(sphere.body, sphere.location)
        velocity = sk.velocity(centre)
        # OpenSim's half-space occupies x > 0 of its frame: outward normal is -X.
        plane_pose = sk.poses[plane.body]
        r_plane = plane_pose.R @ ca.DM(body_fixed_xyz(plane.orientation))
        normal = -r_plane[:, 0]
        origin = plane_pose.point(plane.location)
        params = SmoothContactParameters(
            stiffness=c.stiffness,
            dissipation=c.dissipation,
            static_friction=c.static_friction,
            dynamic_friction=c.dynamic_friction,
            viscous_friction=c.viscous_friction,
            transition_velocity=c.transition_velocity,
            hertz_smoothing=c.hertz_smoothing,
            hunt_crossley_smoothing=c.hunt_crossley_smoothing,
            derivative_smoothing=c.derivative_smoothing,
            radius=sphere.radius,
        )
        result = sphere_halfspace_force(
            centre,
            velocity,
            origin,
            normal,
            params,
            angular_velocity=sk.angular_velocity(sphere.body),
        )
        force, point = result.force_on_sphere, result.contact_point
        forces.append(force)
        points.append(point)
        # The force acts on the material point of the sphere's body at `point`:
        # its virtual power is F . (v_origin + w x (P - origin)).
        body_pose = sk.poses[sphere.body]
        lever = point - body_pose.p
        tau += sk.generalized_force_of_point_force(body_pose.p, force)
        tau += sk.generalized_force_of_torque(sphere.body, ca.cross(lever, force))
        if plane.body != "ground":
            raise NotImplementedError("contact half-spaces must be fixed to ground")
    f = ca.horzcat(*forces) if forces else ca.SX(3, 0)
    p = ca.horzcat(*points) if points else ca.SX(3, 0)
    return f, p, tau


def build(model: Model, options: BuildOptions | None = None) -> ModelFunctions:
    """The CasADi functions of ``model`` (validated first; each built on first use)."""
    validate(model)
    return ModelFunctions(model, options or BuildOptions())


def _implicit_dynamics(
    model: Model,
    sk: SkeletonSymbols,
    lmt: Any,
    tau_free: Any,
    tau_limit: Any,
    tau_contact: Any,
    actuator_matrix: np.ndarray,
) -> ca.Function:
    n = len(model.muscles)
    act, ft, dft = ca.SX.sym("a", n), ca.SX.sym("f_t", n), ca.SX.sym("df_t", n)
    u = ca.SX.sym("u", len(model.actuators))
    vmt = ca.jtimes(lmt, sk.q, sk.qd)
    tendon_forces, residuals = [], []
    for i, m in enumerate(model.muscles):
        p = muscle_parameters(m)
        if m.tendon is TendonModel.RIGID:
            state = rigid_tendon_state(p, lmt[i], vmt[i], act[i])
            tendon_forces.append(state.tendon_force)
            residuals.append(ft[i] - state.tendon_force / m.max_isometric_force)
        else:
            state = compliant_tendon_state_implicit(p, lmt[i], vmt[i], act[i], ft[i], dft[i])
            tendon_forces.append(state.tendon_force)
            residuals.append(state.equilibrium_residual)
    f_t = ca.vertcat(*tendon_forces) if tendon_forces else ca.SX(0, 1)
    # r^T F with r = -dl/dq, by reverse-mode differentiation (no Jacobian formed).
    tau_muscles = -ca.jtimes(lmt, sk.q, f_t, True) if n else ca.SX.zeros(sk.q.shape[0], 1)
    tau_actuators = ca.mtimes(ca.DM(actuator_matrix), u) if u.shape[0] else 0.0
    skeleton = tau_free - tau_muscles - tau_contact - tau_limit - tau_actuators
    muscle = ca.vertcat(*residuals) if residuals else ca.SX(0, 1)
    return ca.Function(
        "implicit_dynamics",
        [sk.q, sk.qd, sk.qdd, act, ft, dft, u],
        [skeleton, muscle],
        ["q", "qd", "qdd", "a", "f_t", "df_t", "u"],
        ["skeleton_residual", "muscle_residual"],
    )


def muscle_parameters(muscle: Muscle) -> MuscleParameters:
    """The DeGroote-Fregly parameters of a described muscle (the fields of the same name)."""
    return MuscleParameters(
        **{f.name: getattr(muscle, f.name) for f in dataclasses.fields(MuscleParameters)}
    )


def _muscle_symbols(n: int, *names: str) -> list[ca.SX]:
    """One ``n x 1`` symbol per name (muscle order)."""
    return [ca.SX.sym(name, n) for name in names]


def _stacked(rows: list[list[Any]], k: int) -> Any:
    """The ``k``-th quantity of every muscle, stacked into a column."""
    return ca.vertcat(*[row[k] for row in rows]) if rows else ca.SX(0, 1)


# Each muscle function is built on its own: building the symbolic muscle curves costs
# Python time per muscle and quantity, and a caller that needs only the rigid-tendon
# forces (static optimisation) would otherwise pay for the compliant forms as well.
def _muscle_rigid(muscles: tuple[Muscle, ...]) -> ca.Function:
    lmt, vmt, act = _muscle_symbols(len(muscles), "l_mt", "v_mt", "a")
    rows = []
    for i, m in enumerate(muscles):
        r = rigid_tendon_state(muscle_parameters(m), lmt[i], vmt[i], act[i])
        rows.append(
            [
                r.tendon_force,
                r.fiber_length,
                r.fiber_velocity,
                r.active_fiber_force,
                r.passive_fiber_force,
            ]
        )
    return ca.Function(
        "muscle_rigid",
        [lmt, vmt, act],
        [_stacked(rows, k) for k in range(5)],
        ["l_mt", "v_mt", "a"],
        [
            "tendon_force",
            "fiber_length",
            "fiber_velocity",
            "active_fiber_force",
            "passive_fiber_force",
        ],
    )


def _muscle_compliant(muscles: tuple[Muscle, ...]) -> ca.Function:
    lmt, vmt, act, ft, dft = _muscle_symbols(len(muscles), "l_mt", "v_mt", "a", "f_t", "df_t")
    rows = []
    for i, m in enumerate(muscles):
        p = muscle_parameters(m)
        c = compliant_tendon_state_implicit(p, lmt[i], vmt[i], act[i], ft[i], dft[i])
        rows.append([c.tendon_force, c.equilibrium_residual, c.fiber_length, c.fiber_velocity])
    return ca.Function(
        "muscle_compliant",
        [lmt, vmt, act, ft, dft],
        [_stacked(rows, k) for k in range(4)],
        ["l_mt", "v_mt", "a", "f_t", "df_t"],
        ["tendon_force", "residual", "fiber_length", "fiber_velocity"],
    )


def _muscle_compliant_explicit(muscles: tuple[Muscle, ...]) -> ca.Function:
    lmt, vmt, act, ft = _muscle_symbols(len(muscles), "l_mt", "v_mt", "a", "f_t")
    rows = []
    for i, m in enumerate(muscles):
        x = compliant_tendon_state_explicit(muscle_parameters(m), lmt[i], vmt[i], act[i], ft[i])
        rows.append([x.tendon_force, x.norm_tendon_force_derivative])
    return ca.Function(
        "muscle_compliant_explicit",
        [lmt, vmt, act, ft],
        [_stacked(rows, 0), _stacked(rows, 1)],
        ["l_mt", "v_mt", "a", "f_t"],
        ["tendon_force", "df_t"],
    )


def _activation_rate(muscles: tuple[Muscle, ...]) -> ca.Function:
    exc, act = _muscle_symbols(len(muscles), "e", "a")
    rate = [
        [
            activation_derivative(
                exc[i], act[i], m.activation_time_constant, m.deactivation_time_constant
            )
        ]
        for i, m in enumerate(muscles)
    ]
    return ca.Function("activation_rate", [exc, act], [_stacked(rate, 0)], ["e", "a"], ["da"])
