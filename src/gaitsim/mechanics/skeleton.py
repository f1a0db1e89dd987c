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
        """Generalised forces needed for ``qdd`` (see module docstring).

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
    pending = list(model.joints)
    # Joints may be listed in any order: place a child once its parent is placed.
    while pending:
        progressed = False
        for joint in list(pending):
            if joint.parent.body not in poses:
                continue
            poses[joint.child.body] = _child_pose(joint, poses[joint.parent.body], q, index)
            pending.remove(joint)
            progressed = True
        if not progressed:
            bad = pending[0]
            raise ModelError(
                f"joints.{bad.name}",
                f"parent body {bad.parent.body!r} is not connected to ground",
            )
    return SkeletonSymbols(model, q, qd, qdd, poses, index)


def _child_pose(joint: Joint, parent: Pose, q: Any, index: dict[str, int]) -> Pose:
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
    # Frame F in ground, then M = F * X_FM, then the child body = M * X_co^-1.
    r_f = parent.R @ r_po
    p_f = parent.p + parent.R @ p_po
    r_m = r_f @ r_fm
    p_m = p_f + r_f @ p_fm
    r_child = r_m @ r_co.T
    p_child = p_m - r_child @ p_co
    return Pose(r_child, p_child)
