"""Smooth sphere/half-space contact, exactly as Simbody's ``SmoothSphereHalfSpaceForce``.

This is the foot-ground contact model of Serrancoli, Falisse et al. (2019), used by
OpenSim's ``SmoothSphereHalfSpaceForce``: a Hunt-Crossley force whose Hertz and
dissipation terms are smoothed with ``tanh`` and whose friction is a smooth
Stribeck-like law. Functions accept NumPy 3-vectors (results are NumPy ``(3,)`` arrays)
or CasADi ``SX``/``MX``/``DM`` 3-vectors (results are CasADi ``(3, 1)`` columns). The
parameters are plain floats.

Sources
-------
* Serrancoli G, Falisse A, Dembia C, Vantilt J, Tanghe K, Lefeber D, Jonkers I,
  De Schutter J, De Groote F (2019). Subject-exoskeleton contact model calibration leads
  to accurate interaction force predictions. *IEEE Trans Neural Syst Rehabil Eng*
  27(8):1597-1605. doi:10.1109/TNSRE.2019.2924536
* Simbody, ``Simbody/src/SmoothSphereHalfSpaceForce.cpp``
  (``SmoothSphereHalfSpaceForceImpl::calcForce``; simbody/simbody), which OpenSim 4.6's
  ``OpenSim/Simulation/Model/SmoothSphereHalfSpaceForce.cpp`` wraps (the OpenSim property
  ``constant_contact_force`` is Simbody's ``cf``, called ``derivative_smoothing`` here).
* Sherman MA, Seth A, Delp SL (2011). Simbody: multibody dynamics for biomedical
  research. *Procedia IUTAM* 2:241-261 (contact point midway in the overlap).

The code below was written from those equations; none of it is copied.

Geometry and sign conventions
-----------------------------
``plane_normal`` is the *outward* unit normal of the half-space (pointing from the solid
into free space; ``(0, 1, 0)`` for level ground with +Y up). OpenSim's
``ContactHalfSpace`` fills ``x > 0`` of its frame, so Simbody's ``normal`` (the frame's
+X axis, "pointing in the direction of contact") is ``-plane_normal``; with the usual
orientation ``(0, 0, -pi/2)`` on ground, ``plane_normal = (0, 1, 0)``.

With ``n = -plane_normal``, sphere centre ``C``, radius ``R``, plane point ``O``:

* indentation ``d = R - (C - O) . plane_normal`` (positive when penetrating);
* contact point ``P = C + (R - d/2) n``: midway in the overlap, assuming equal material
  stiffness (Sherman et al. 2011). It is *not* the sphere centre;
* slip velocity: ``v = v_C + omega x (P - C)`` is the velocity of the sphere body's
  material point at ``P`` (the half-space is fixed in ground), ``v_n = v . n``
  (positive when approaching), ``v_t = v - v_n n``;
* Hertz: ``k = 0.5 E^(2/3)``,
  ``f_H = 4/3 k sqrt(R k) (d^2 + cf)^(3/4) (1/2 + 1/2 tanh(b_d d))``;
* Hunt-Crossley: ``f_N = f_H (1 + 3/2 c v_n) (1/2 + 1/2 tanh(b_v (v_n + 2/(3c))))``;
* friction: ``v_s = sqrt(|v_t|^2 + cf)``, ``v_r = v_s / v_trans``,
  ``f_f = f_N (min(v_r, 1) (mu_d + 2 (mu_s - mu_d) / (1 + v_r^2)) + mu_v v_s)``;
* Simbody's force ``F = f_N n + f_f v_t / v_s`` is applied with a minus sign to the sphere
  body at its station coinciding with ``P`` and with a plus sign to the half-space body
  at its station coinciding with ``P``.

So the force *on the sphere's body* is ``-F`` applied at point ``P``: it pushes the
sphere out of the half-space and its tangential part opposes the slip. The half-space
(ground) receives ``+F`` at the same point, so the pair has no net moment.

Notes on the smoothing
----------------------
* ``cf`` (default 1e-5, in m^2 and (m/s)^2 alike, as Simbody adds it to both ``d^2`` and
  ``|v_t|^2``) keeps the square roots differentiable. It makes the force at ``d = 0``
  non-zero: ``f_H(0) = 1/2 * 4/3 k sqrt(R k) cf^(3/4)`` (7.5 N for E = 1e6 N/m^2,
  R = 0.032 m), hence OpenSim's name "constant contact force".
* Above the plane (``d = -h < 0``) the force decays like ``exp(-2 b_d h)``: for
  E = 1e6, R = 0.032, b_d = 300 it is about 1.5e-3 N at h = 2 cm and falls below 1e-6 N
  from about h = 3.3 cm.
* ``min(v_r, 1)`` is Simbody's; the friction law is continuous but has a kink (not C1)
  at ``v_s = v_trans``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import casadi as ca
import numpy as np

from gaitsim.errors import ModelError

__all__ = [
    "Vector",
    "SmoothContactParameters",
    "ContactForce",
    "sphere_halfspace_force",
]

#: A 3-vector: NumPy ``(3,)`` array or CasADi ``(3, 1)`` SX/MX/DM (or a sequence).
Vector: TypeAlias = np.ndarray | ca.SX | ca.MX | ca.DM

_CASADI_TYPES = (ca.SX, ca.MX, ca.DM)


@dataclass(frozen=True, kw_only=True)
class SmoothContactParameters:
    """Parameters of one smooth sphere/half-space contact (OpenSim property names).

    Construct with keywords only.

    Parameters
    ----------
    stiffness
        Material stiffness ``E`` (N/m^2), > 0. Both bodies are given this stiffness, so the
        effective Hertz modulus is ``k^(3/2) = E / 2^(3/2)`` with ``k = 0.5 E^(2/3)``.
    dissipation
        Hunt-Crossley dissipation ``c`` (s/m), >= 0.
    static_friction, dynamic_friction, viscous_friction
        ``mu_s``, ``mu_d`` (-), ``mu_v`` (s/m), >= 0.
    transition_velocity
        Slip speed ``v_trans`` (m/s) at which friction reaches its peak, > 0.
    radius
        Sphere radius ``R`` (m), > 0.
    hertz_smoothing
        ``b_d`` (1/m), default 300.
    hunt_crossley_smoothing
        ``b_v`` (s/m), default 50.
    derivative_smoothing
        ``cf`` added under the square roots (OpenSim ``constant_contact_force``),
        default 1e-5. With 0 the friction direction is 0/0 at zero slip.

    Raises
    ------
    ModelError
        If a value is out of range.
    """

    stiffness: float
    dissipation: float
    static_friction: float
    dynamic_friction: float
    viscous_friction: float
    transition_velocity: float
    radius: float
    hertz_smoothing: float = 300.0
    hunt_crossley_smoothing: float = 50.0
    derivative_smoothing: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("stiffness", "transition_velocity", "radius"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ModelError(f"SmoothContactParameters.{name}", f"must be > 0, got {value!r}")
        for name in (
            "dissipation",
            "static_friction",
            "dynamic_friction",
            "viscous_friction",
            "hertz_smoothing",
            "hunt_crossley_smoothing",
            "derivative_smoothing",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ModelError(f"SmoothContactParameters.{name}", f"must be >= 0, got {value!r}")


@dataclass(frozen=True)
class ContactForce:
    """Result of :func:`sphere_halfspace_force`.

    Attributes
    ----------
    force_on_sphere
        Force (N, ground frame) applied on the sphere's body at point ``contact_point``.
        The half-space's body receives the opposite force at the same point.
    contact_point
        ``P = C - (R - d/2) * plane_normal`` (m, ground frame).
    indentation
        ``d`` (m); negative when the sphere is clear of the plane.
    normal_force
        Magnitude ``f_N`` of the normal component (N), pushing the sphere out.
    friction_force
        Tangential component of ``force_on_sphere`` (N), opposite to the slip.
    slip_velocity
        Tangential velocity ``v_t`` of the sphere's material point at ``P`` relative to
        the half-space (m/s).
    """

    force_on_sphere: Vector
    contact_point: Vector
    indentation: float | ca.SX | ca.MX | ca.DM
    normal_force: float | ca.SX | ca.MX | ca.DM
    friction_force: Vector
    slip_velocity: Vector

    def moment_about(self, point: Vector) -> Vector:
        """Moment of :attr:`force_on_sphere` about ``point``: ``(P - point) x F``.

        Parameters
        ----------
        point
            A point in ground (e.g. the origin of the sphere's body).

        Returns
        -------
        Vector
            The moment (N m), same kind as the force.
        """
        if isinstance(self.force_on_sphere, _CASADI_TYPES):
            arm = self.contact_point - ca.reshape(_to_casadi(point), 3, 1)
            return ca.cross(arm, self.force_on_sphere)
        arm = self.contact_point - np.asarray(point, dtype=float).reshape(3)
        return np.cross(arm, self.force_on_sphere)


def _to_casadi(x: object) -> ca.SX | ca.MX | ca.DM:
    if isinstance(x, _CASADI_TYPES):
        return x
    return ca.DM(np.asarray(x, dtype=float).reshape(3))


def sphere_halfspace_force(
    center: Vector,
    center_velocity: Vector,
    plane_point: Vector,
    plane_normal: Vector,
    params: SmoothContactParameters,
    *,
    angular_velocity: Vector | None = None,
) -> ContactForce:
    """Force of a smooth half-space on a sphere (Simbody ``SmoothSphereHalfSpaceForce``).

    Equations, conventions and sources are in the module docstring. The half-space is
    taken as fixed in ground (the gait case: OpenSim's floor is on ground).

    Parameters
    ----------
    center
        Sphere centre ``C`` in ground (m).
    center_velocity
        Velocity of ``C`` in ground (m/s).
    plane_point
        Any point ``O`` of the half-space's boundary plane (m).
    plane_normal
        Outward normal of the half-space (normalized here; ``(0, 1, 0)`` for the floor).
    params
        Contact parameters (including the sphere radius).
    angular_velocity
        Angular velocity of the sphere's body in ground (rad/s). Simbody evaluates the
        slip at the body's material point at ``P``, i.e. ``v_C + omega x (P - C)``;
        ``None`` means zero (a translating sphere). For a sphere on a rotating foot
        segment, pass the segment's angular velocity to match OpenSim.

    Returns
    -------
    ContactForce
        Force on the sphere's body, applied at ``contact_point``, and intermediate values.
    """
    omega = angular_velocity if angular_velocity is not None else np.zeros(3)
    vectors = (center, center_velocity, plane_point, plane_normal, omega)
    if any(isinstance(v, _CASADI_TYPES) for v in vectors):
        c, vc, o, nrm, w = (ca.reshape(_to_casadi(v), 3, 1) for v in vectors)

        def dot(a: Vector, b: Vector) -> Vector:
            return ca.dot(a, b)

        cross, sqrt, tanh, fmin = ca.cross, ca.sqrt, ca.tanh, ca.fmin
    else:
        c, vc, o, nrm, w = (np.asarray(v, dtype=float).reshape(3) for v in vectors)

        def dot(a: Vector, b: Vector) -> Vector:
            return np.dot(a, b)

        cross, sqrt, tanh, fmin = np.cross, np.sqrt, np.tanh, np.fmin

    p = params
    radius = p.radius
    cf = p.derivative_smoothing
    n_out = nrm / sqrt(dot(nrm, nrm))
    n = -n_out  # Simbody's normal: into the half-space

    # Penetration and contact point (midway in the overlap).
    indentation = radius - dot(c - o, n_out)
    contact_point = c + (radius - 0.5 * indentation) * n

    # Velocity of the sphere body's material point at P, relative to the (fixed) plane.
    v = vc + cross(w, contact_point - c)
    v_normal = dot(v, n)
    v_tangent = v - v_normal * n

    # Smoothed Hertz force.
    k = 0.5 * p.stiffness ** (2.0 / 3.0)
    f_hertz = (4.0 / 3.0) * k * math.sqrt(radius * k) * sqrt(indentation**2 + cf) ** 1.5
    f_hertz = f_hertz * (0.5 + 0.5 * tanh(p.hertz_smoothing * indentation))

    # Smoothed Hunt-Crossley dissipation. With c = 0, 2/(3c) is +inf in Simbody and the
    # tanh factor is exactly 1.
    c_diss = p.dissipation
    f_normal = f_hertz * (1.0 + 1.5 * c_diss * v_normal)
    if c_diss > 0.0:
        f_normal = f_normal * (
            0.5 + 0.5 * tanh(p.hunt_crossley_smoothing * (v_normal + 2.0 / (3.0 * c_diss)))
        )

    # Smooth friction.
    v_slip = sqrt(dot(v_tangent, v_tangent) + cf)
    v_rel = v_slip / p.transition_velocity
    mu_s, mu_d = p.static_friction, p.dynamic_friction
    f_friction = f_normal * (
        fmin(v_rel, 1.0) * (mu_d + 2.0 * (mu_s - mu_d) / (1.0 + v_rel**2))
        + p.viscous_friction * v_slip
    )

    # Simbody's F acts on the half-space; the sphere receives -F.
    friction_on_sphere = -f_friction * v_tangent / v_slip
    force_on_sphere = -f_normal * n + friction_on_sphere
    return ContactForce(
        force_on_sphere=force_on_sphere,
        contact_point=contact_point,
        indentation=indentation,
        normal_force=f_normal,
        friction_force=friction_on_sphere,
        slip_velocity=v_tangent,
    )
