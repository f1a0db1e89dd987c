"""Symbolic kinematics and dynamics of a model's skeleton (a tree of rigid bodies).

Method
------
Each joint maps the parent's joint frame F to the child's joint frame M with a transform
``X_FM(q)`` built from its :class:`~gaitsim.model.description.JointType`:

* rotations are applied in order, each about its axis expressed in the frame rotated by
  the rotations before it (body-fixed sequence), ``R_FM = R(a1, f1) R(a2, f2) R(a3, f3)``;
* translations are along axes fixed in F, ``p_FM = sum_k f_k(q) a_k``;

as OpenSim's ``CustomJoint`` (Simbody ``MobilizedBody::FunctionBased``). A pin joint is
one rotation about Z; a planar joint is a rotation about Z and translations along X and Y.

Body poses in ground are composed down the tree. Velocities and accelerations follow by
exact forward-mode differentiation of the pose expressions (CasADi ``jtimes``), and the
equations of motion come from the principle of virtual power (Kane's method)::

    tau(q, qd, qdd) = sum_b  Jv_b^T (m_b (a_b - g))  +  Jw_b^T (I_b alpha_b + w_b x I_b w_b)
                      - sum_b (Jo_b^T F_b + Jw_b^T T_b)

where ``Jv_b`` is the Jacobian of the centre of mass of body b, ``Jw_b`` of its angular
velocity, ``Jo_b`` of its origin, and ``(F_b, T_b)`` an external force applied at the
body's origin and an external torque, both in ground. ``tau`` are the generalised forces
that the actuators must supply (inverse dynamics); the mass matrix is
``d tau / d qdd`` and ``tau(q, qd, 0)`` holds Coriolis, centrifugal and gravity terms.
Products ``J^T v`` are evaluated by reverse-mode differentiation, so no Jacobian matrix
is formed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np

from gaitsim.errors import ModelError
from gaitsim.mechanics.functions import evaluate
from gaitsim.mechanics.rotations import axis_angle, body_fixed_xyz, unskew
from gaitsim.model.description import (
    GROUND,
    AxisKind,
    Body,
    Constant,
    Joint,
    JointType,
    Linear,
    Model,
    TransformAxis,
)

__all__ = ["Pose", "joint_transform_axes", "SkeletonSymbols", "build_skeleton"]


@dataclass(frozen=True)
class Pose:
    """Rotation ``R`` (3x3) and origin ``p`` (3x1) of a frame in ground (CasADi SX)."""

    R: Any
    p: Any

    def point(self, local: Any) -> Any:
        """Ground position of a point given in this frame."""
        vec = local if isinstance(local, ca.SX | ca.MX | ca.DM) else ca.DM(list(local))
        return self.p + self.R @ ca.reshape(vec, 3, 1)


def joint_transform_axes(joint: Joint) -> tuple[TransformAxis, ...]:
    """The joint as a sequence of transform axes (rotations first, then translations)."""
    coords = [c.name for c in joint.coordinates]
    z = (0.0, 0.0, 1.0)
    if joint.type is JointType.WELD:
        return ()
    if joint.type is JointType.PIN:
        return (TransformAxis(AxisKind.ROTATION, z, Linear(1.0, 0.0), coords[0]),)
    if joint.type is JointType.PLANAR:
        return (
            TransformAxis(AxisKind.ROTATION, z, Linear(1.0, 0.0), coords[0]),
            TransformAxis(AxisKind.TRANSLATION, (1.0, 0.0, 0.0), Linear(1.0, 0.0), coords[1]),
            TransformAxis(AxisKind.TRANSLATION, (0.0, 1.0, 0.0), Linear(1.0, 0.0), coords[2]),
        )
    return joint.transform


@dataclass(frozen=True)
class JointLink:
    """A joint as the recursive algorithm needs it (all SX, parent-body coordinates).

    ``rotation`` maps child-body coordinates to parent-body coordinates; ``offset`` is
    the child's origin in parent coordinates; both are functions of the joint's own
    coordinates only.
    """

    parent: str
    child: str
    rotation: Any
    offset: Any


@dataclass(frozen=True)
class SkeletonSymbols:
    """Symbolic skeleton quantities for one model, all CasADi SX.

    Attributes
    ----------
    q, qd, qdd
        Coordinate values, speeds and accelerations (column vectors, state order).
    poses
        Ground pose of every body frame, by body name (including ``"ground"``).
    coordinate_index
        Position of each coordinate in ``q``.
    """

    model: Model
    q: Any
    qd: Any
    qdd: Any
    poses: dict[str, Pose]
    coordinate_index: dict[str, int]
    links: tuple[JointLink, ...] = ()
    """Joints in an order where every parent comes before its children."""

    # -- kinematics ----------------------------------------------------------------------
    def point(self, body: str, local: Any) -> Any:
        """Ground position of a point fixed on ``body`` (local coordinates)."""
        return self.poses[body].point(local)

    def velocity(self, expr: Any) -> Any:
        """Time derivative of an expression of ``q``."""
        return ca.jtimes(expr, self.q, self.qd)

    def acceleration(self, expr: Any) -> Any:
        """Second time derivative of an expression of ``q``."""
        vel = self.velocity(expr)
        return ca.jtimes(vel, ca.vertcat(self.q, self.qd), ca.vertcat(self.qd, self.qdd))

    def angular_velocity(self, body: str) -> Any:
        """Angular velocity of ``body`` in ground, from ``skew(w) = dR/dt R^T``."""
        pose = self.poses[body]
        rdot = ca.reshape(self.velocity(ca.vec(pose.R)), 3, 3)
        return unskew(rdot @ pose.R.T)

    def centre_of_mass(self) -> Any:
        """Whole-body centre of mass in ground."""
        total = self.model.total_mass
        if total <= 0:
            raise ModelError(self.model.name, "total mass must be positive")
        acc = ca.SX.zeros(3, 1)
        for body in self.model.bodies:
            acc += body.mass * self.point(body.name, body.com)
        return acc / total

    # -- dynamics ------------------------------------------------------------------------
    def generalized_force_of_point_force(self, position: Any, force: Any) -> Any:
        """Generalised forces of ``force`` (ground) applied at ``position(q)`` (ground)."""
        return ca.jtimes(position, self.q, force, True)

    def generalized_force_of_torque(self, body: str, torque: Any) -> Any:
        """Generalised forces of a pure ``torque`` (ground) applied to ``body``."""
        w = self.angular_velocity(body)
        return ca.jtimes(w, self.qd, torque, True)

    def inverse_dynamics(self, body_forces: Any | None = None) -> Any:
        """Generalised forces needed for ``qdd``: recursive Newton-Euler (Featherstone).

        Spatial vectors ``[angular; linear]`` in body coordinates at the body origin.
        A joint's relative spatial velocity ``v_J = S(q) qd`` comes from exact
        differentiation of its transform (so custom joints with coupled, spline-driven
        translations need no special case); ``S qdd`` and the velocity-product term
        ``dS/dt qd`` follow by forward-mode differentiation of ``v_J``, and ``S^T f`` by
        reverse mode. Forward pass: ``v_i = X_i v_p + v_J``, ``a_i = X_i a_p + S qdd +
        dS/dt qd + v_i x v_J`` with the base accelerating at ``-g``; then
        ``f_i = I_i a_i + v_i x* I_i v_i - f_ext``; backward pass: ``tau += S^T f_i``,
        ``f_p += X_i^T f_i``. ``body_forces`` as for :meth:`inverse_dynamics_kane`.
        """
        model = self.model
        zero3 = ca.SX.zeros(3, 1)
        g = ca.DM(model.gravity)
        velocity: dict[str, tuple[Any, Any]] = {GROUND: (zero3, zero3)}
        acceleration: dict[str, tuple[Any, Any]] = {GROUND: (zero3, -g)}
        bodies = {b.name: (k, b) for k, b in enumerate(model.bodies)}
        forces: dict[str, tuple[Any, Any]] = {}
        joint_velocity: dict[str, Any] = {}
        for link in self.links:
            e = link.rotation.T  # parent coordinates -> child coordinates
            r = link.offset
            w_p, v_p = velocity[link.parent]
            dw_p, dv_p = acceleration[link.parent]
            rdot = ca.reshape(self.velocity(ca.vec(link.rotation)), 3, 3)
            w_rel = unskew(rdot @ link.rotation.T)
            v_j = ca.vertcat(e @ w_rel, e @ self.velocity(r))  # S qd, child coordinates
            joint_velocity[link.child] = v_j
            s_qdd = ca.jtimes(v_j, self.qd, self.qdd)
            c_j = ca.jtimes(v_j, self.q, self.qd)
            w = e @ w_p + v_j[:3]
            v = e @ (v_p + ca.cross(w_p, r)) + v_j[3:]
            dw = e @ dw_p + s_qdd[:3] + c_j[:3] + ca.cross(w, v_j[:3])
            dv = (
                e @ (dv_p + ca.cross(dw_p, r))
                + s_qdd[3:]
                + c_j[3:]
                + ca.cross(w, v_j[3:])
                + ca.cross(v, v_j[:3])
            )
            velocity[link.child] = (w, v)
            acceleration[link.child] = (dw, dv)
            k, body = bodies[link.child]
            n_a, f_a = _spatial_inertia_times(body, dw, dv)
            n_v, f_v = _spatial_inertia_times(body, w, v)
            n = n_a + ca.cross(w, n_v) + ca.cross(v, f_v)
            f = f_a + ca.cross(w, f_v)
            if body_forces is not None:
                r_b = self.poses[link.child].R.T  # ground -> body coordinates
                f = f - r_b @ body_forces[0:3, k]
                n = n - r_b @ body_forces[3:6, k]
            forces[link.child] = (n, f)
        tau = ca.SX.zeros(self.q.shape[0], 1)
        for link in reversed(self.links):
            n, f = forces[link.child]
            tau += ca.jtimes(joint_velocity[link.child], self.qd, ca.vertcat(n, f), True)
            if link.parent != GROUND:
                e_t = link.rotation  # child -> parent coordinates
                f_p = e_t @ f
                n_p = e_t @ n + ca.cross(link.offset, f_p)
                pn, pf = forces[link.parent]
                forces[link.parent] = (pn + n_p, pf + f_p)
        return tau

    def inverse_dynamics_kane(self, body_forces: Any | None = None) -> Any:
        """Generalised forces needed for ``qdd`` by Kane's method (see module docstring);
        an independent formulation kept to cross-check :meth:`inverse_dynamics`.

        ``body_forces`` is an SX of shape (6, n_bodies): for every body (model order) the
        external force at its origin (rows 0-2) and torque (rows 3-5), both in ground.
        """
        g = ca.DM(self.model.gravity)
        tau = ca.SX.zeros(self.q.shape[0], 1)
        for k, body in enumerate(self.model.bodies):
            pose = self.poses[body.name]
            com = pose.point(body.com)
            a = self.acceleration(com)
            w = self.angular_velocity(body.name)
            alpha = ca.jtimes(w, ca.vertcat(self.q, self.qd), ca.vertcat(self.qd, self.qdd))
            ixx, iyy, izz, ixy, ixz, iyz = body.inertia
            inertia_local = ca.DM([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
            inertia = pose.R @ inertia_local @ pose.R.T
            linear = body.mass * (a - g)
            angular = inertia @ alpha + ca.cross(w, inertia @ w)
            if body_forces is not None:
                linear_ext = body_forces[0:3, k]
                angular_ext = body_forces[3:6, k] + ca.cross(pose.p - com, linear_ext)
                linear = linear - linear_ext
                angular = angular - angular_ext
            # Jv^T f through reverse mode on the COM velocity (linear in qd).
            vcom = self.velocity(com)
            tau += ca.jtimes(vcom, self.qd, linear, True)
            tau += ca.jtimes(w, self.qd, angular, True)
        return tau


def _spatial_inertia_times(body: Body, angular: Any, linear: Any) -> tuple[Any, Any]:
    """The body's spatial inertia (about its origin, body coordinates) times a motion
    vector: ``[I_c w + c x m (v - c x w); m (v - c x w)]``."""
    ixx, iyy, izz, ixy, ixz, iyz = body.inertia
    i_c = ca.DM([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
    c = ca.DM(list(body.com))
    force = body.mass * (linear - ca.cross(c, angular))
    return i_c @ angular + ca.cross(c, force), force


def _constant_joint_axis(axis: TransformAxis) -> bool:
    return axis.coordinate is None or isinstance(axis.function, Constant)


def build_skeleton(model: Model) -> SkeletonSymbols:
    """Compose the body poses of ``model`` as functions of fresh symbols ``q``.

    Raises
    ------
    ModelError
        If a joint refers to a body that is not (yet) placed in the tree.
    """
    names = model.coordinate_names
    n = len(names)
    q = ca.SX.sym("q", n)
    qd = ca.SX.sym("qd", n)
    qdd = ca.SX.sym("qdd", n)
    index = {name: i for i, name in enumerate(names)}
    poses: dict[str, Pose] = {GROUND: Pose(ca.SX.eye(3), ca.SX.zeros(3, 1))}
    links: list[JointLink] = []
    pending = list(model.joints)
    # Joints may be listed in any order: place a child once its parent is placed.
    while pending:
        progressed = False
        for joint in list(pending):
            if joint.parent.body not in poses:
                continue
            rotation, offset = _relative_transform(joint, q, index)
            parent = poses[joint.parent.body]
            poses[joint.child.body] = Pose(parent.R @ rotation, parent.p + parent.R @ offset)
            links.append(JointLink(joint.parent.body, joint.child.body, rotation, offset))
            pending.remove(joint)
            progressed = True
        if not progressed:
            bad = pending[0]
            raise ModelError(
                f"joints.{bad.name}",
                f"parent body {bad.parent.body!r} is not connected to ground",
            )
    return SkeletonSymbols(model, q, qd, qdd, poses, index, tuple(links))


def _relative_transform(joint: Joint, q: Any, index: dict[str, int]) -> tuple[Any, Any]:
    """Child body frame in the parent body frame: (rotation, origin), functions of q."""
    r_po = ca.DM(body_fixed_xyz(joint.parent.orientation))
    p_po = ca.DM(joint.parent.translation)
    r_co = ca.DM(body_fixed_xyz(joint.child.orientation))
    p_co = ca.DM(joint.child.translation)
    r_fm: Any = ca.SX.eye(3)
    p_fm: Any = ca.SX.zeros(3, 1)
    for axis in joint_transform_axes(joint):
        arg = q[index[axis.coordinate]] if axis.coordinate is not None else 0.0
        amount = evaluate(axis.function, arg)
        if axis.kind is AxisKind.ROTATION:
            if _constant_joint_axis(axis) and float(evaluate(axis.function, 0.0)) == 0.0:
                continue
            r_fm = r_fm @ axis_angle(axis.axis, amount)
        else:
            direction = np.asarray(axis.axis, dtype=float)
            norm = np.linalg.norm(direction)
            if norm == 0.0:
                raise ModelError(f"joints.{joint.name}", "translation axis has zero length")
            p_fm = p_fm + amount * ca.DM(direction / norm)
    # Parent joint frame F, then M = F * X_FM, then the child body = M * X_co^-1.
    r_m = r_po @ r_fm
    p_m = p_po + r_po @ p_fm
    rotation = r_m @ r_co.T
    return rotation, p_m - rotation @ p_co
