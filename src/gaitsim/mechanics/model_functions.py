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
once per model and option set; evaluation is then cheap (see ``benchmarks/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from gaitsim.mechanics.paths import DEFAULT_SMOOTHING, path_length
from gaitsim.mechanics.rotations import body_fixed_xyz
from gaitsim.mechanics.skeleton import SkeletonSymbols, build_skeleton
from gaitsim.model.description import Model, Muscle
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


@dataclass(frozen=True)
class ModelFunctions:
    """The model's mechanics as CasADi functions (see the module docstring for orders)."""

    model: Model
    options: BuildOptions
    body_poses: ca.Function
    """``(q) -> (positions 3 x n_b, rotations 3 x 3 n_b)``: body frames in ground."""
    centre_of_mass: ca.Function
    """``(q) -> com 3x1``."""
    marker_positions: ca.Function
    """``(q) -> 3 x n_markers``."""
    mass_matrix: ca.Function
    """``(q) -> M n_q x n_q``."""
    bias_forces: ca.Function
    """``(q, qd) -> c n_q``: generalised forces needed for zero acceleration (Coriolis,
    centrifugal, gravity), so that ``tau = M qdd + c``."""
    inverse_dynamics: ca.Function
    """``(q, qd, qdd, body_forces) -> tau``."""
    forward_dynamics: ca.Function
    """``(q, qd, tau, body_forces) -> qdd`` (solves ``M qdd = tau - c``)."""
    muscle_tendon_lengths: ca.Function
    """``(q) -> l_mt n_m``."""
    moment_arms: ca.Function
    """``(q) -> r n_m x n_q`` with ``r = -d l_mt / d q``."""
    lengthening_velocities: ca.Function
    """``(q, qd) -> v_mt n_m``."""
    limit_torques: ca.Function
    """``(q, qd) -> tau_limit n_q``: passive torques at range limits."""
    contact_forces: ca.Function
    """``(q, qd) -> (forces 3 x n_c on each sphere in ground, points 3 x n_c, tau n_q)``."""
    muscle_rigid: ca.Function
    """``(l_mt, v_mt, a) -> (tendon_force, fiber_length, fiber_velocity, active_fiber_force,
    passive_fiber_force)``, all n_m: rigid-tendon muscles (every muscle treated as rigid)."""
    muscle_compliant: ca.Function
    """``(l_mt, v_mt, a, f_t, df_t) -> (tendon_force, residual, fiber_length, fiber_velocity)``:
    compliant tendon in implicit form; ``f_t`` is the normalised tendon force state and
    ``df_t`` its time derivative; ``residual = 0`` is the fibre-tendon equilibrium."""
    muscle_compliant_explicit: ca.Function
    """``(l_mt, v_mt, a, f_t) -> (tendon_force, df_t)``: compliant tendon, explicit form."""
    activation_rate: ca.Function
    """``(e, a) -> da/dt`` (De Groote et al. 2016 activation dynamics), n_m."""
    actuator_matrix: np.ndarray = field(repr=False)
    """``n_q x n_actuators``: ``tau = actuator_matrix @ controls`` for coordinate actuators."""

    @property
    def n_q(self) -> int:
        """Number of coordinates."""
        return len(self.model.coordinate_names)


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
    """Build the CasADi functions of ``model`` (validated first)."""
    options = options or BuildOptions()
    validate(model)
    sk = build_skeleton(model)
    q, qd, qdd = sk.q, sk.qd, sk.qdd
    nb = len(model.bodies)
    body_forces = ca.SX.sym("body_forces", 6, nb)
    tau_sym = ca.SX.sym("tau", q.shape[0])

    positions = ca.horzcat(*[sk.poses[b.name].p for b in model.bodies])
    rotations = ca.horzcat(*[sk.poses[b.name].R for b in model.bodies])
    body_poses = ca.Function(
        "body_poses", [q], [positions, rotations], ["q"], ["positions", "rotations"]
    )
    com = ca.Function("centre_of_mass", [q], [sk.centre_of_mass()], ["q"], ["com"])
    markers = [sk.point(m.body, m.location) for m in model.markers]
    marker_positions = ca.Function(
        "marker_positions",
        [q],
        [ca.horzcat(*markers) if markers else ca.SX(3, 0)],
        ["q"],
        ["positions"],
    )

    tau = sk.inverse_dynamics(body_forces)
    inverse_dynamics = ca.Function(
        "inverse_dynamics",
        [q, qd, qdd, body_forces],
        [tau],
        ["q", "qd", "qdd", "body_forces"],
        ["tau"],
    )
    tau_free = sk.inverse_dynamics(None)
    mass = ca.jacobian(tau_free, qdd)
    bias = ca.substitute(tau_free, qdd, ca.SX.zeros(qdd.shape))
    mass_matrix = ca.Function("mass_matrix", [q], [mass], ["q"], ["M"])
    bias_forces = ca.Function("bias_forces", [q, qd], [bias], ["q", "qd"], ["c"])

    # Forward dynamics in MX around the SX building blocks, with a sparse linear solve.
    qm, qdm = ca.MX.sym("q", q.shape[0]), ca.MX.sym("qd", q.shape[0])
    taum, bfm = ca.MX.sym("tau", q.shape[0]), ca.MX.sym("body_forces", 6, nb)
    zero = ca.MX.zeros(q.shape[0], 1)
    rhs = taum - inverse_dynamics(qm, qdm, zero, bfm)
    qdd_fd = ca.solve(mass_matrix(qm), rhs, "symbolicqr")
    forward_dynamics = ca.Function(
        "forward_dynamics",
        [qm, qdm, taum, bfm],
        [qdd_fd],
        ["q", "qd", "tau", "body_forces"],
        ["qdd"],
    )
    del tau_sym
    muscle_fns = _muscle_functions(model.muscles)

    lengths = [path_length(m.path, sk, options.conditional_smoothing) for m in model.muscles]
    lmt = ca.vertcat(*lengths) if lengths else ca.SX(0, 1)
    muscle_tendon_lengths = ca.Function("muscle_tendon_lengths", [q], [lmt], ["q"], ["l_mt"])
    moment_arms = ca.Function("moment_arms", [q], [-ca.jacobian(lmt, q)], ["q"], ["r"])
    lengthening_velocities = ca.Function(
        "lengthening_velocities", [q, qd], [ca.jtimes(lmt, q, qd)], ["q", "qd"], ["v_mt"]
    )
    limit_torques = ca.Function(
        "limit_torques", [q, qd], [_limit_torques(model, sk)], ["q", "qd"], ["tau"]
    )
    forces, points, tau_contact = _contact(model, sk)
    contact_forces = ca.Function(
        "contact_forces",
        [q, qd],
        [forces, points, tau_contact],
        ["q", "qd"],
        ["forces", "points", "tau"],
    )
    actuator_matrix = np.zeros((q.shape[0], len(model.actuators)))
    for k, a in enumerate(model.actuators):
        actuator_matrix[sk.coordinate_index[a.coordinate], k] = a.optimal_force

    return ModelFunctions(
        model=model,
        options=options,
        body_poses=body_poses,
        centre_of_mass=com,
        marker_positions=marker_positions,
        mass_matrix=mass_matrix,
        bias_forces=bias_forces,
        inverse_dynamics=inverse_dynamics,
        forward_dynamics=forward_dynamics,
        muscle_tendon_lengths=muscle_tendon_lengths,
        moment_arms=moment_arms,
        lengthening_velocities=lengthening_velocities,
        limit_torques=limit_torques,
        contact_forces=contact_forces,
        actuator_matrix=actuator_matrix,
        **muscle_fns,
    )


def muscle_parameters(muscle: Muscle) -> MuscleParameters:
    """The DeGroote-Fregly parameters of a described muscle."""
    return MuscleParameters(
        max_isometric_force=muscle.max_isometric_force,
        optimal_fiber_length=muscle.optimal_fiber_length,
        tendon_slack_length=muscle.tendon_slack_length,
        pennation_angle_at_optimal=muscle.pennation_angle_at_optimal,
        max_contraction_velocity=muscle.max_contraction_velocity,
        activation_time_constant=muscle.activation_time_constant,
        deactivation_time_constant=muscle.deactivation_time_constant,
        tendon_strain_at_one_norm_force=muscle.tendon_strain_at_one_norm_force,
        passive_fiber_strain_at_one_norm_force=muscle.passive_fiber_strain_at_one_norm_force,
        active_force_width_scale=muscle.active_force_width_scale,
        fiber_damping=muscle.fiber_damping,
        ignore_passive_fiber_force=muscle.ignore_passive_fiber_force,
    )


def _muscle_functions(muscles: tuple[Muscle, ...]) -> dict[str, ca.Function]:
    n = len(muscles)
    lmt, vmt, act = ca.SX.sym("l_mt", n), ca.SX.sym("v_mt", n), ca.SX.sym("a", n)
    ft, dft, exc = ca.SX.sym("f_t", n), ca.SX.sym("df_t", n), ca.SX.sym("e", n)
    rigid, compliant, explicit, rate = [], [], [], []
    for i, m in enumerate(muscles):
        p = muscle_parameters(m)
        r = rigid_tendon_state(p, lmt[i], vmt[i], act[i])
        rigid.append(
            [
                r.tendon_force,
                r.fiber_length,
                r.fiber_velocity,
                r.active_fiber_force,
                r.passive_fiber_force,
            ]
        )
        c = compliant_tendon_state_implicit(p, lmt[i], vmt[i], act[i], ft[i], dft[i])
        compliant.append([c.tendon_force, c.equilibrium_residual, c.fiber_length, c.fiber_velocity])
        x = compliant_tendon_state_explicit(p, lmt[i], vmt[i], act[i], ft[i])
        explicit.append([x.tendon_force, x.norm_tendon_force_derivative])
        rate.append(
            activation_derivative(
                exc[i], act[i], m.activation_time_constant, m.deactivation_time_constant
            )
        )

    def column(rows: list[list[Any]], k: int) -> Any:
        return ca.vertcat(*[row[k] for row in rows]) if rows else ca.SX(0, 1)

    return {
        "muscle_rigid": ca.Function(
            "muscle_rigid",
            [lmt, vmt, act],
            [column(rigid, k) for k in range(5)],
            ["l_mt", "v_mt", "a"],
            [
                "tendon_force",
                "fiber_length",
                "fiber_velocity",
                "active_fiber_force",
                "passive_fiber_force",
            ],
        ),
        "muscle_compliant": ca.Function(
            "muscle_compliant",
            [lmt, vmt, act, ft, dft],
            [column(compliant, k) for k in range(4)],
            ["l_mt", "v_mt", "a", "f_t", "df_t"],
            ["tendon_force", "residual", "fiber_length", "fiber_velocity"],
        ),
        "muscle_compliant_explicit": ca.Function(
            "muscle_compliant_explicit",
            [lmt, vmt, act, ft],
            [column(explicit, 0), column(explicit, 1)],
            ["l_mt", "v_mt", "a", "f_t"],
            ["tendon_force", "df_t"],
        ),
        "activation_rate": ca.Function(
            "activation_rate",
            [exc, act],
            [ca.vertcat(*rate) if rate else ca.SX(0, 1)],
            ["e", "a"],
            ["da"],
        ),
    }
