"""Standalone OpenSim oracle: answers kinematic / muscle / dynamics queries with OpenSim.

Usage::

    python opensim_oracle.py request.json result.npz

This script must run in its own process: it imports ``opensim``, whose bundled
libcasadi clashes with the ``casadi`` wheel that gaitsim uses.  It therefore imports
only ``opensim``, ``numpy`` and the standard library -- never gaitsim or casadi.
Tests talk to it through ``tests/validation/oracle.py``.

Request (JSON)::

    {"model": "/abs/path/model.osim",
     "log_level": "warn",                      # optional OpenSim log level
     "queries": [{"id": "kin", "type": "kinematics", "q": [[...], ...]}, ...]}

Result (.npz): model-level arrays (``coordinate_names``, ``coordinate_is_rotational``,
``coordinate_locked``, ``coordinate_mobility_index``, ``muscle_names``,
``muscle_classes``, ``body_names``, ``marker_names``, ``contact_names``,
``opensim_version``) plus, for every query, arrays named ``"<query id>.<name>"``.
Every query also gets ``"<id>.seconds"`` (compute time, excluding model loading).
The full schema is documented in ``oracle.py`` and in the query functions below.

Conventions: all angles in radians, lengths in metres, forces in newtons; every
``(n, n_coords)`` array uses ``model.getCoordinateSet()`` order, every muscle array the
``model.getMuscleList()`` order (which includes muscles that live outside the
ForceSet, as in Moco's 2D_gait.osim), every body array the ``BodySet`` order.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback

import numpy as np
import opensim as osim

CONTACT_CLASS = "SmoothSphereHalfSpaceForce"
RESERVED_IDS = {
    "coordinate_names",
    "coordinate_is_rotational",
    "coordinate_locked",
    "coordinate_mobility_index",
    "muscle_names",
    "muscle_classes",
    "body_names",
    "marker_names",
    "contact_names",
    "opensim_version",
}
# Labels of the 12 entries returned by SmoothSphereHalfSpaceForce::getRecordValues,
# without the "<force name>." prefix (checked against getRecordLabels at run time).
CONTACT_RECORD_SUFFIXES = [
    "Sphere.force.X",
    "Sphere.force.Y",
    "Sphere.force.Z",
    "Sphere.torque.X",
    "Sphere.torque.Y",
    "Sphere.torque.Z",
    "HalfSpace.force.X",
    "HalfSpace.force.Y",
    "HalfSpace.force.Z",
    "HalfSpace.torque.X",
    "HalfSpace.torque.Y",
    "HalfSpace.torque.Z",
]
# Tolerance used to decide that OpenSim's moment arm of a (muscle, coordinate) pair is
# zero at every probe pose, i.e. that the muscle does not span the coordinate.
SPAN_TOL = 1e-9
N_RANDOM_PROBES = 4


class OracleError(RuntimeError):
    """A request the oracle cannot honour."""


# --------------------------------------------------------------------------- helpers


def vec3(v) -> np.ndarray:
    return np.array([v.get(0), v.get(1), v.get(2)], dtype=float)


def mat33(m) -> np.ndarray:
    return np.array([[m.get(i, j) for j in range(3)] for i in range(3)], dtype=float)


def transform_arrays(X) -> tuple[np.ndarray, np.ndarray]:
    """(R, p) of a SimTK Transform.

    Keep every intermediate SWIG object bound to a name: ``X.R()`` returns a reference
    into ``X``, so chaining on a temporary Transform (e.g. ``hs.getTransform().R()``)
    reads freed memory (we got an all-zero rotation that way).
    """
    R = X.R()
    M = R.asMat33()
    p = X.p()
    return mat33(M), vec3(p)


def simtk_vector(v) -> np.ndarray:
    return np.array([v.get(i) for i in range(v.size())], dtype=float)


def array_str(a) -> list[str]:
    return [a.get(i) for i in range(a.getSize())]


def as_2d(query: dict, key: str, ncols: int, *, required: bool = True) -> np.ndarray | None:
    if key not in query or query[key] is None:
        if required:
            raise OracleError(f"query {query['id']!r}: missing {key!r}")
        return None
    a = np.asarray(query[key], dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != ncols:
        raise OracleError(
            f"query {query['id']!r}: {key!r} must have shape (n, {ncols}), got {a.shape}"
        )
    return a


def check_rows(query: dict, arrays: dict[str, np.ndarray | None]) -> int:
    sizes = {k: a.shape[0] for k, a in arrays.items() if a is not None}
    if len(set(sizes.values())) > 1:
        raise OracleError(f"query {query['id']!r}: inconsistent number of rows {sizes}")
    return next(iter(sizes.values()))


def force_paths(model) -> list[str]:
    """Absolute paths of every Force component (ForceSet *and* model <components>)."""
    return [
        c.getAbsolutePathString()
        for c in list(model.getComponentsList())
        if osim.Force.safeDownCast(c) is not None
    ]


# --------------------------------------------------------------------------- model handle


class ModelHandle:
    """One loaded + configured + initialised copy of the model.

    config is one of
      ("as_file",)                    model exactly as in the file
      ("no_forces",)                  every Force component: appliesForce = false
      ("contact_only",)               only SmoothSphereHalfSpaceForce applies force
      ("muscles", rigid, implicit)    only muscles apply force; activation dynamics on
                                      (so activation is a state); tendon compliance
                                      off/on; DeGroote implicit tendon dynamics if asked
    In every configuration except "as_file", coordinate clamping is switched off so
    that poses outside the coordinate ranges are honoured.
    """

    def __init__(self, path: str, config: tuple, replace_muscles: bool = False):
        t0 = time.perf_counter()
        self.config = config
        self.model = osim.Model(path)
        if replace_muscles:
            # OpenSim's own conversion of every muscle to DeGrooteFregly2016Muscle.
            self.model.initSystem()
            osim.DeGrooteFregly2016Muscle.replaceMuscles(self.model)
            self.model.finalizeConnections()
        model = self.model
        kind = config[0]
        self.force_paths = force_paths(model)
        if kind != "as_file":
            cs = model.updCoordinateSet()
            for i in range(cs.getSize()):
                cs.get(i).set_clamped(False)
            for p in self.force_paths:
                f = osim.Force.safeDownCast(model.updComponent(p))
                cls = f.getConcreteClassName()
                is_muscle = osim.Muscle.safeDownCast(f) is not None
                if kind == "no_forces":
                    applies = False
                elif kind == "contact_only":
                    applies = cls == CONTACT_CLASS
                elif kind == "muscles":
                    applies = is_muscle
                else:
                    raise OracleError(f"unknown model configuration {config}")
                f.set_appliesForce(applies)
                if kind == "muscles" and is_muscle:
                    mus = osim.Muscle.safeDownCast(f)
                    mus.set_ignore_activation_dynamics(False)
                    mus.set_ignore_tendon_compliance(bool(config[1]))
                    dg = osim.DeGrooteFregly2016Muscle.safeDownCast(f)
                    if dg is not None:
                        dg.set_tendon_compliance_dynamics_mode(
                            "implicit" if config[2] else "explicit"
                        )
        n_geom_before = model.getContactGeometrySet().getSize()
        self.state = model.initSystem()
        s = self.state
        # Verify the force configuration really took effect and that contact geometry
        # survived (disabling a force must not remove its ContactGeometry).
        if model.getContactGeometrySet().getSize() != n_geom_before:
            raise OracleError("contact geometry changed while configuring forces")
        self.enabled_forces = []
        for p in self.force_paths:
            f = osim.Force.safeDownCast(model.getComponent(p))
            if f.get_appliesForce():
                self.enabled_forces.append(p)
        if kind == "no_forces" and self.enabled_forces:
            raise OracleError(f"forces still enabled: {self.enabled_forces}")

        cs = model.getCoordinateSet()
        self.coords = [cs.get(i) for i in range(cs.getSize())]
        self.nc = len(self.coords)
        self.coord_names = [c.getName() for c in self.coords]
        self.locked = np.array([c.getLocked(s) for c in self.coords], dtype=bool)
        self.is_rotational = np.array(
            [c.getMotionType() != osim.Coordinate.Translational for c in self.coords],
            dtype=bool,
        )
        if s.getNQ() != self.nc or s.getNU() != self.nc:
            raise OracleError(
                f"model has nq={s.getNQ()}, nu={s.getNU()} but {self.nc} coordinates; "
                "joints with quaternions (Ball/Free) are not supported by this oracle"
            )
        # Simbody mobility (u) index of each coordinate.  The mobility order follows
        # the MobilizedBody (tree) order, NOT the CoordinateSet order; InverseDynamics-
        # Solver and calcM work in mobility order.  Found empirically: light up one
        # coordinate speed at a time and see which entry of U moves.
        self.u_index = np.empty(self.nc, dtype=int)
        zero_u = osim.Vector(self.nc, 0.0)
        for i, c in enumerate(self.coords):
            s.setU(zero_u)
            c.setSpeedValue(s, 1.0)
            u = simtk_vector(s.getU())
            nz = np.flatnonzero(u)
            if len(nz) != 1 or u[nz[0]] != 1.0:
                raise OracleError(f"cannot map coordinate {c.getName()} to a mobility")
            self.u_index[i] = nz[0]
        s.setU(zero_u)
        if sorted(self.u_index.tolist()) != list(range(self.nc)):
            raise OracleError("coordinate -> mobility map is not a permutation")

        bs = model.getBodySet()
        self.bodies = [bs.get(i) for i in range(bs.getSize())]
        self.body_names = [b.getName() for b in self.bodies]
        mk = model.getMarkerSet()
        self.markers = [mk.get(i) for i in range(mk.getSize())]
        self.marker_names = [m.getName() for m in self.markers]
        self.muscles = list(model.getMuscleList())
        self.muscle_names = [m.getName() for m in self.muscles]
        self.muscle_classes = [m.getConcreteClassName() for m in self.muscles]
        self.muscle_paths = [m.getAbsolutePathString() for m in self.muscles]
        self.contacts = [
            osim.SmoothSphereHalfSpaceForce.safeDownCast(model.getComponent(p))
            for p in self.force_paths
            if model.getComponent(p).getConcreteClassName() == CONTACT_CLASS
        ]
        self.contact_names = [f.getName() for f in self.contacts]
        self._id_solver = None
        self._span = None
        self.load_seconds = time.perf_counter() - t0

    # -- state setting -------------------------------------------------------------

    def set_q(self, q: np.ndarray) -> None:
        """Set every coordinate value (radians/metres), locked ones included.

        Coordinate::setValue silently ignores (with a warning) a locked coordinate,
        so locked coordinates are unlocked, set and re-locked (re-locking pins the
        lock constraint at the new value).  Constraints are not enforced.
        """
        s = self.state
        for i, c in enumerate(self.coords):
            if self.locked[i]:
                c.setLocked(s, False)
                c.setValue(s, float(q[i]), False)
                c.setLocked(s, True)
            else:
                c.setValue(s, float(q[i]), False)

    def set_qdot(self, qdot: np.ndarray | None) -> None:
        s = self.state
        if qdot is None:
            s.setU(osim.Vector(self.nc, 0.0))
            return
        for i, c in enumerate(self.coords):
            c.setSpeedValue(s, float(qdot[i]))

    def to_mobility(self, x: np.ndarray) -> osim.Vector:
        v = osim.Vector(self.nc, 0.0)
        for i in range(self.nc):
            v.set(int(self.u_index[i]), float(x[i]))
        return v

    def from_mobility(self, v) -> np.ndarray:
        a = simtk_vector(v)
        return a[self.u_index]

    @property
    def id_solver(self):
        if self._id_solver is None:
            self._id_solver = osim.InverseDynamicsSolver(self.model)
        return self._id_solver

    # -- muscle spans ----------------------------------------------------------------

    def probe_poses(self) -> np.ndarray:
        rng = np.random.default_rng(12345)
        lo = np.array([c.getRangeMin() for c in self.coords])
        hi = np.array([c.getRangeMax() for c in self.coords])
        default = np.array([c.getDefaultValue() for c in self.coords])
        poses = [default]
        for _ in range(N_RANDOM_PROBES):
            poses.append(lo + (hi - lo) * rng.uniform(0.1, 0.9, size=self.nc))
        return np.array(poses)

    def muscle_spans(self) -> tuple[np.ndarray, float]:
        """Which (muscle, coordinate) pairs have a non-zero OpenSim moment arm.

        computeMomentArm costs 150-300 us per call, so calling it for all 92 x 23
        pairs of gait2392 at every pose takes > 1 min for 200 poses.  Instead every
        pair is evaluated at a few probe poses (the default pose and N_RANDOM_PROBES
        seeded random poses inside the coordinate ranges); pairs whose |moment arm|
        stays below SPAN_TOL at every probe are "not spanned" and reported as exactly
        0.  Returns the mask (n_muscles, n_coords) and the largest |moment arm| OpenSim
        gave for a pair classified as not spanned (verification that it really is 0:
        ~1e-16..1e-13 in practice).  Cached per model handle.
        """
        if self._span is not None:
            return self._span
        s = self.state
        nm = len(self.muscles)
        span = np.zeros((nm, self.nc), dtype=bool)
        unspanned_abs = np.zeros((nm, self.nc))
        for q in self.probe_poses():
            self.set_q(q)
            self.model.realizePosition(s)
            for j, mus in enumerate(self.muscles):
                for i, c in enumerate(self.coords):
                    if span[j, i]:
                        continue  # already known to be spanned
                    r = abs(mus.computeMomentArm(s, c))
                    if r > SPAN_TOL:
                        span[j, i] = True
                    else:
                        unspanned_abs[j, i] = max(unspanned_abs[j, i], r)
        unspanned_max = float(unspanned_abs[~span].max()) if (~span).any() else 0.0
        self._span = (span, unspanned_max)
        return self._span


# --------------------------------------------------------------------------- queries


def q_model_info(h: ModelHandle, query: dict) -> dict:
    """Model-level facts, read from the model exactly as in the file."""
    model, s = h.model, h.state
    out: dict[str, np.ndarray] = {}
    out["body_mass"] = np.array([b.getMass() for b in h.bodies])
    out["body_mass_center"] = np.array([vec3(b.getMassCenter()) for b in h.bodies])
    inertia = []
    for b in h.bodies:
        i6 = b.get_inertia()  # [Ixx Iyy Izz Ixy Ixz Iyz] about the mass centre
        v = [i6.get(k) for k in range(6)]
        inertia.append(
            [[v[0], v[3], v[4]], [v[3], v[1], v[5]], [v[4], v[5], v[2]]],
        )
    out["body_inertia"] = np.array(inertia)  # (n_bodies, 3, 3) about COM, body frame
    out["total_mass"] = np.array(model.getTotalMass(s))
    out["gravity"] = vec3(model.getGravity())
    out["coordinate_range"] = np.array([[c.getRangeMin(), c.getRangeMax()] for c in h.coords])
    out["coordinate_default_value"] = np.array([c.getDefaultValue() for c in h.coords])
    out["coordinate_default_speed"] = np.array([c.getDefaultSpeedValue() for c in h.coords])
    out["coordinate_locked"] = np.array([c.get_locked() for c in h.coords], dtype=bool)
    out["coordinate_clamped"] = np.array([c.get_clamped() for c in h.coords], dtype=bool)
    mt = {
        osim.Coordinate.Rotational: "rotational",
        osim.Coordinate.Translational: "translational",
        osim.Coordinate.Coupled: "coupled",
    }
    out["coordinate_motion_type"] = np.array([mt[c.getMotionType()] for c in h.coords])
    out["coordinate_joint"] = np.array([c.getJoint().getName() for c in h.coords])
    out["muscle_path"] = np.array(h.muscle_paths)
    out["muscle_class"] = np.array(h.muscle_classes)
    getters = {
        "max_isometric_force": lambda m: m.getMaxIsometricForce(),
        "optimal_fiber_length": lambda m: m.getOptimalFiberLength(),
        "tendon_slack_length": lambda m: m.getTendonSlackLength(),
        "pennation_angle_at_optimal": lambda m: m.getPennationAngleAtOptimalFiberLength(),
        # in optimal fibre lengths per second
        "max_contraction_velocity": lambda m: m.getMaxContractionVelocity(),
    }
    for name, g in getters.items():
        out[name] = np.array([g(m) for m in h.muscles], dtype=float)
    out["ignore_tendon_compliance"] = np.array(
        [m.get_ignore_tendon_compliance() for m in h.muscles], dtype=bool
    )
    out["ignore_activation_dynamics"] = np.array(
        [m.get_ignore_activation_dynamics() for m in h.muscles], dtype=bool
    )
    damping, eps_t, eps_p = [], [], []
    for m in h.muscles:
        dg = osim.DeGrooteFregly2016Muscle.safeDownCast(m)
        mi = osim.Millard2012EquilibriumMuscle.safeDownCast(m)
        if dg is not None:
            damping.append(dg.get_fiber_damping())
            eps_t.append(dg.get_tendon_strain_at_one_norm_force())
            eps_p.append(dg.get_passive_fiber_strain_at_one_norm_force())
        elif mi is not None:
            damping.append(mi.get_fiber_damping())
            eps_t.append(mi.get_TendonForceLengthCurve().get_strain_at_one_norm_force())
            eps_p.append(mi.get_FiberForceLengthCurve().get_strain_at_one_norm_force())
        else:
            damping.append(math.nan)
            eps_t.append(math.nan)
            eps_p.append(math.nan)
    out["fiber_damping"] = np.array(damping)
    out["tendon_strain_at_one_norm_force"] = np.array(eps_t)
    out["passive_fiber_strain_at_one_norm_force"] = np.array(eps_p)
    return out


def q_kinematics(h: ModelHandle, query: dict) -> dict:
    q = as_2d(query, "q", h.nc)
    n = q.shape[0]
    nb, nm = len(h.bodies), len(h.markers)
    pos = np.zeros((n, nb, 3))
    rot = np.zeros((n, nb, 3, 3))
    com = np.zeros((n, 3))
    mk = np.zeros((n, nm, 3))
    s = h.state
    for k in range(n):
        h.set_q(q[k])
        h.set_qdot(None)
        h.model.realizePosition(s)
        for j, b in enumerate(h.bodies):
            X = b.getTransformInGround(s)
            rot[k, j], pos[k, j] = transform_arrays(X)
        com[k] = vec3(h.model.calcMassCenterPosition(s))
        for j, m in enumerate(h.markers):
            mk[k, j] = vec3(m.getLocationInGround(s))
    out = {"body_position": pos, "body_rotation": rot, "com_position": com}
    if nm:
        out["marker_position"] = mk
    return out


def q_muscle_geometry(h: ModelHandle, query: dict) -> dict:
    q = as_2d(query, "q", h.nc)
    qdot = as_2d(query, "qdot", h.nc, required=False)
    n = check_rows(query, {"q": q, "qdot": qdot})
    nm = len(h.muscles)
    s = h.state
    if query.get("all_pairs", False):
        span = np.ones((nm, h.nc), dtype=bool)
        unspanned_max = 0.0
    else:
        span, unspanned_max = h.muscle_spans()
    pairs = [(j, i) for j in range(nm) for i in range(h.nc) if span[j, i]]
    length = np.zeros((n, nm))
    ma = np.zeros((n, nm, h.nc))
    ma_locked_raw = np.zeros((n, nm, h.nc))
    speed = np.zeros((n, nm))
    for k in range(n):
        h.set_q(q[k])
        h.set_qdot(qdot[k] if qdot is not None else None)
        h.model.realizePosition(s)
        for j, mus in enumerate(h.muscles):
            length[k, j] = mus.getLength(s)
        for j, i in pairs:
            r = h.muscles[j].computeMomentArm(s, h.coords[i])
            if h.locked[i]:
                ma_locked_raw[k, j, i] = r
            else:
                ma[k, j, i] = r
        if qdot is not None:
            h.model.realizeVelocity(s)
            for j, mus in enumerate(h.muscles):
                speed[k, j] = mus.getLengtheningSpeed(s)
    out = {
        "length": length,
        "moment_arm": ma,
        "moment_arm_locked_raw": ma_locked_raw,
        "spanned": span,
        "unspanned_probe_max_abs": np.array(unspanned_max),
        "n_moment_arm_calls_per_pose": np.array(len(pairs)),
    }
    if qdot is not None:
        out["lengthening_speed"] = speed
    return out


def _inverse_dynamics(h: ModelHandle, query: dict) -> dict:
    q = as_2d(query, "q", h.nc)
    qdot = as_2d(query, "qdot", h.nc, required=False)
    qddot = as_2d(query, "qddot", h.nc, required=False)
    n = check_rows(query, {"q": q, "qdot": qdot, "qddot": qddot})
    if qdot is None:
        qdot = np.zeros((n, h.nc))
    if qddot is None:
        qddot = np.zeros((n, h.nc))
    s = h.state
    tau = np.zeros((n, h.nc))
    mass = np.zeros((n, h.nc, h.nc))
    M = osim.Matrix()
    ui = h.u_index
    for k in range(n):
        h.set_q(q[k])
        h.set_qdot(qdot[k])
        h.model.realizeVelocity(s)
        # udot and the returned generalized forces are in Simbody mobility order.
        t = h.id_solver.solve(s, h.to_mobility(qddot[k]))
        tau[k] = h.from_mobility(t)
        h.model.getMatterSubsystem().calcM(s, M)
        Mm = np.array([[M.get(a, b) for b in range(h.nc)] for a in range(h.nc)])
        mass[k] = Mm[np.ix_(ui, ui)]
    return {"generalized_forces": tau, "mass_matrix": mass}


def q_inverse_dynamics(h: ModelHandle, query: dict) -> dict:
    return _inverse_dynamics(h, query)


def q_inverse_dynamics_with_contact(h: ModelHandle, query: dict) -> dict:
    if not h.contacts:
        raise OracleError(f"model has no {CONTACT_CLASS}: inverse_dynamics_with_contact")
    out = _inverse_dynamics(h, query)
    out["enabled_forces"] = np.array(h.enabled_forces)
    return out


def q_contact_forces(h: ModelHandle, query: dict) -> dict:
    """Per SmoothSphereHalfSpaceForce, from getRecordValues (labels checked).

    record[0:3]  "<name>.Sphere.force.X/Y/Z":  force on the sphere's body, in ground.
    record[3:6]  "<name>.Sphere.torque.X/Y/Z": torque on the sphere's body about that
                 body's ORIGIN (Simbody body spatial force), in ground.
    record[6:12] the same for the half-space body (equal and opposite force).
    The application point is not recorded; it is recomputed with Simbody's formula
    (sphere centre + R*n - indentation/2*n, n = half-space frame x axis in ground) and
    checked: torque == (point - body origin) x force.
    """
    if not h.contacts:
        raise OracleError(f"model has no {CONTACT_CLASS}")
    q = as_2d(query, "q", h.nc)
    qdot = as_2d(query, "qdot", h.nc, required=False)
    n = check_rows(query, {"q": q, "qdot": qdot})
    nct = len(h.contacts)
    s = h.state
    rec = np.zeros((n, nct, 12))
    point = np.zeros((n, nct, 3))
    centre = np.zeros((n, nct, 3))
    origin = np.zeros((n, nct, 3))
    indent = np.zeros((n, nct))
    spheres, halfspaces = [], []
    for f in h.contacts:
        labels = array_str(f.getRecordLabels())
        expected = [f"{f.getName()}.{x}" for x in CONTACT_RECORD_SUFFIXES]
        if labels != expected:
            raise OracleError(f"unexpected record labels for {f.getName()}: {labels}")
        spheres.append(osim.ContactSphere.safeDownCast(f.getConnectee("sphere")))
        halfspaces.append(osim.ContactHalfSpace.safeDownCast(f.getConnectee("half_space")))
    for k in range(n):
        h.set_q(q[k])
        h.set_qdot(qdot[k] if qdot is not None else None)
        h.model.realizeVelocity(s)
        for j, f in enumerate(h.contacts):
            vals = f.getRecordValues(s)
            rec[k, j] = [vals.get(i) for i in range(vals.getSize())]
            sp, hs = spheres[j], halfspaces[j]
            c = vec3(sp.getFrame().findStationLocationInGround(s, sp.get_location()))
            frame = hs.getFrame()
            X_gf = frame.getTransformInGround(s)
            R_gf, p_gf = transform_arrays(X_gf)
            X_fh = hs.getTransform()
            R_fh, p_fh = transform_arrays(X_fh)
            ph = p_gf + R_gf @ p_fh  # half-space origin in ground
            nrm = R_gf @ R_fh[:, 0]  # Simbody's contact normal (into the half-space)
            radius = sp.getRadius()
            d = radius - float(np.dot(c - ph, -nrm))
            centre[k, j] = c
            indent[k, j] = d
            point[k, j] = c + radius * nrm - 0.5 * d * nrm
            origin[k, j] = vec3(sp.getFrame().findBaseFrame().getPositionInGround(s))
    force = rec[..., 0:3]
    torque = rec[..., 3:6]
    resid = torque - np.cross(point - origin, force)
    return {
        "sphere_force": force,
        "sphere_torque": torque,
        "half_space_force": rec[..., 6:9],
        "half_space_torque": rec[..., 9:12],
        "record_values": rec,
        "record_labels": np.array(CONTACT_RECORD_SUFFIXES),
        "contact_point": point,
        "sphere_center": centre,
        "sphere_body_origin": origin,
        "sphere_body": np.array([s_.getFrame().findBaseFrame().getName() for s_ in spheres]),
        "indentation": indent,
        "torque_check_max_abs": np.array(float(np.abs(resid).max()) if resid.size else 0.0),
    }


MUSCLE_OUTPUTS = {
    "activation": "getActivation",
    "tendon_force": "getTendonForce",
    "active_fiber_force": "getActiveFiberForce",
    "passive_fiber_force": "getPassiveFiberForce",
    "passive_fiber_elastic_force": "getPassiveFiberElasticForce",
    "passive_fiber_damping_force": "getPassiveFiberDampingForce",
    "fiber_force": "getFiberForce",
    "fiber_force_along_tendon": "getFiberForceAlongTendon",
    "active_fiber_force_along_tendon": "getActiveFiberForceAlongTendon",
    "fiber_length": "getFiberLength",
    "normalized_fiber_length": "getNormalizedFiberLength",
    "fiber_velocity": "getFiberVelocity",
    "normalized_fiber_velocity": "getNormalizedFiberVelocity",
    "pennation_angle": "getPennationAngle",
    "active_force_length_multiplier": "getActiveForceLengthMultiplier",
    "force_velocity_multiplier": "getForceVelocityMultiplier",
    "passive_force_multiplier": "getPassiveForceMultiplier",
    "tendon_length": "getTendonLength",
    "tendon_strain": "getTendonStrain",
    "muscle_tendon_length": "getLength",
    "lengthening_speed": "getLengtheningSpeed",
}


def q_muscle_forces(h: ModelHandle, query: dict) -> dict:
    nm = len(h.muscles)
    q = as_2d(query, "q", h.nc)
    qdot = as_2d(query, "qdot", h.nc, required=False)
    act = as_2d(query, "activation", nm)
    ntf = as_2d(query, "normalized_tendon_force", nm, required=False)
    ntf_dot = as_2d(query, "normalized_tendon_force_derivative", nm, required=False)
    lfib = as_2d(query, "fiber_length", nm, required=False)
    n = check_rows(
        query,
        {"q": q, "qdot": qdot, "activation": act, "ntf": ntf, "ntfdot": ntf_dot, "lf": lfib},
    )
    rigid = bool(query.get("rigid_tendon", False))
    s = h.state
    model = h.model
    dg = [osim.DeGrooteFregly2016Muscle.safeDownCast(m) for m in h.muscles]
    # getStateVariableNames() returns absolute paths ("/forceset/soleus_r/fiber_length")
    statevars = {
        p: {v.rsplit("/", 1)[-1] for v in array_str(m.getStateVariableNames())}
        for p, m in zip(h.muscle_paths, h.muscles, strict=True)
    }
    has_ntf = [not rigid and "normalized_tendon_force" in statevars[p] for p in h.muscle_paths]
    has_lf = [not rigid and "fiber_length" in statevars[p] for p in h.muscle_paths]
    need_equilibrium = (any(has_ntf) and ntf is None) or (any(has_lf) and lfib is None)
    out = {k: np.full((n, nm), np.nan) for k in MUSCLE_OUTPUTS}
    out["normalized_tendon_force"] = np.full((n, nm), np.nan)
    out["normalized_tendon_force_derivative"] = np.full((n, nm), np.nan)
    out["implicit_residual"] = np.full((n, nm), np.nan)
    for k in range(n):
        h.set_q(q[k])
        h.set_qdot(qdot[k] if qdot is not None else None)
        for j, mus in enumerate(h.muscles):
            mus.setActivation(s, float(act[k, j]))
            if has_ntf[j] and ntf is not None:
                if not np.isfinite(ntf[k, j]):
                    raise OracleError(f"normalized_tendon_force[{k},{j}] is not finite")
                dg[j].setNormalizedTendonForce(s, float(ntf[k, j]))
            if has_ntf[j] and ntf_dot is not None:
                dg[j].setDiscreteVariableValue(
                    s, dg[j].getImplicitDynamicsDerivativeName(), float(ntf_dot[k, j])
                )
            if has_lf[j] and lfib is not None:
                if not np.isfinite(lfib[k, j]):
                    raise OracleError(f"fiber_length[{k},{j}] is not finite")
                model.setStateVariableValue(s, h.muscle_paths[j] + "/fiber_length", lfib[k, j])
        if need_equilibrium:
            model.equilibrateMuscles(s)
        model.realizeDynamics(s)
        for j, mus in enumerate(h.muscles):
            for key, getter in MUSCLE_OUTPUTS.items():
                out[key][k, j] = getattr(mus, getter)(s)
            if dg[j] is not None and has_ntf[j]:
                out["normalized_tendon_force"][k, j] = dg[j].getNormalizedTendonForce(s)
                out["normalized_tendon_force_derivative"][k, j] = dg[
                    j
                ].getNormalizedTendonForceDerivative(s)
                if ntf_dot is not None:
                    out["implicit_residual"][k, j] = dg[j].getImplicitResidualNormalizedTendonForce(
                        s
                    )
    out["equilibrated"] = np.array(need_equilibrium)
    out["compliant"] = np.array([a or b for a, b in zip(has_ntf, has_lf, strict=True)])
    out["tendon_compliance_dynamics_mode"] = np.array(
        "implicit" if (ntf_dot is not None and not rigid) else "explicit"
    )
    return out


def _read_sto(path: str) -> tuple[list[str], np.ndarray]:
    with open(path) as fh:
        lines = fh.read().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip().lower() == "endheader") + 1
    labels = lines[start].split("\t")
    data = np.array(
        [[float(x) for x in ln.split()] for ln in lines[start + 1 :] if ln.strip()],
        dtype=float,
    )
    return [lab.strip() for lab in labels], data


def q_time_inverse_dynamics_tool(model_path: str, query: dict) -> dict:
    if not query.get("setup_free", True):
        raise OracleError("only setup_free=true (programmatic set-up) is supported")
    t0 = time.perf_counter()
    model = osim.Model(model_path)
    tool = osim.InverseDynamicsTool()
    tool.setModel(model)
    coords = os.path.abspath(query["coordinates_file"])
    tool.setCoordinatesFileName(coords)
    if query.get("external_loads_file"):
        tool.setExternalLoadsFileName(os.path.abspath(query["external_loads_file"]))
    tool.setLowpassCutoffFrequency(float(query.get("lowpass_cutoff_frequency", -1.0)))
    st = osim.Storage(coords)
    tool.setStartTime(float(query.get("start_time", st.getFirstTime())))
    tool.setEndTime(float(query.get("end_time", st.getLastTime())))
    excluded = osim.ArrayStr()
    for name in query.get("excluded_forces", ["Muscles"]):
        excluded.append(name)
    tool.setExcludedForces(excluded)
    out_file = os.path.abspath(query["output_file"])
    os.makedirs(os.path.dirname(out_file), exist_ok=True)
    tool.setResultsDir(os.path.dirname(out_file))
    tool.setOutputGenForceFileName(os.path.basename(out_file))
    t1 = time.perf_counter()
    ok = tool.run()
    t2 = time.perf_counter()
    if not ok or not os.path.exists(out_file):
        raise OracleError("InverseDynamicsTool.run() failed")
    labels, data = _read_sto(out_file)
    cs = model.getCoordinateSet()
    names = [cs.get(i).getName() for i in range(cs.getSize())]
    cols = []
    for nm in names:
        hits = [i for i, lab in enumerate(labels) if lab in (f"{nm}_moment", f"{nm}_force")]
        cols.append(hits[0] if hits else -1)
    by_coord = np.full((data.shape[0], len(names)), np.nan)
    for i, c in enumerate(cols):
        if c >= 0:
            by_coord[:, i] = data[:, c]
    return {
        "seconds": np.array(t2 - t1),
        "total_seconds": np.array(t2 - t0),
        "output_file": np.array(out_file),
        "labels": np.array(labels[1:]),
        "time": data[:, 0],
        "file_generalized_forces": data[:, 1:],
        "generalized_forces": by_coord,
    }


# --------------------------------------------------------------------------- driver

QUERY_TYPES = {
    # type: (function, model configuration builder)
    "model_info": (q_model_info, lambda q: ("as_file",)),
    "kinematics": (q_kinematics, lambda q: ("no_forces",)),
    "muscle_geometry": (q_muscle_geometry, lambda q: ("no_forces",)),
    "inverse_dynamics": (q_inverse_dynamics, lambda q: ("no_forces",)),
    "inverse_dynamics_with_contact": (q_inverse_dynamics_with_contact, lambda q: ("contact_only",)),
    "contact_forces": (q_contact_forces, lambda q: ("contact_only",)),
    "muscle_forces": (
        q_muscle_forces,
        lambda q: (
            "muscles",
            bool(q.get("rigid_tendon", False)),
            q.get("normalized_tendon_force_derivative") is not None
            and not q.get("rigid_tendon", False),
        ),
    ),
}


def run(request: dict) -> dict[str, np.ndarray]:
    model_path = os.path.abspath(request["model"])
    if not os.path.exists(model_path):
        raise OracleError(f"model file not found: {model_path}")
    handles: dict[tuple, ModelHandle] = {}

    def handle(config: tuple) -> ModelHandle:
        if config not in handles:
            handles[config] = ModelHandle(
                model_path, config, bool(request.get("replace_muscles_with_degroote", False))
            )
        return handles[config]

    base = handle(("no_forces",))
    base_file = handle(("as_file",))
    if base_file.muscle_names != base.muscle_names:
        raise OracleError("muscle order differs between configurations")
    result: dict[str, np.ndarray] = {
        "coordinate_names": np.array(base.coord_names),
        "coordinate_is_rotational": base.is_rotational,
        "coordinate_locked": base_file.locked,
        "coordinate_mobility_index": base.u_index,
        "muscle_names": np.array(base.muscle_names, dtype=str),
        "muscle_classes": np.array(base.muscle_classes, dtype=str),
        "body_names": np.array(base.body_names),
        "marker_names": np.array(base.marker_names, dtype=str),
        "contact_names": np.array(base.contact_names, dtype=str),
        "opensim_version": np.array(osim.__version__),
    }
    seen = set()
    for query in request.get("queries", []):
        qid, qtype = query.get("id"), query.get("type")
        if not isinstance(qid, str) or not qid or "." in qid or qid in RESERVED_IDS:
            raise OracleError(f"bad query id {qid!r} (non-empty, no '.', not reserved)")
        if qid in seen:
            raise OracleError(f"duplicate query id {qid!r}")
        seen.add(qid)
        t0 = time.perf_counter()
        if qtype == "time_inverse_dynamics_tool":
            out = q_time_inverse_dynamics_tool(model_path, query)
            load = 0.0
        elif qtype in QUERY_TYPES:
            fn, cfg = QUERY_TYPES[qtype]
            config = cfg(query)
            fresh = config not in handles
            h = handle(config)
            load = h.load_seconds if fresh else 0.0
            t0 = time.perf_counter()
            out = fn(h, query)
        else:
            raise OracleError(f"unknown query type {qtype!r}")
        out.setdefault("seconds", np.array(time.perf_counter() - t0))
        out["load_seconds"] = np.array(load)
        for k, v in out.items():
            result[f"{qid}.{k}"] = np.asarray(v)
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: opensim_oracle.py request.json result.npz", file=sys.stderr)
        return 2
    with open(argv[1]) as fh:
        request = json.load(fh)
    osim.Logger.setLevelString(request.get("log_level", "warn"))
    osim.Logger.removeFileSink()  # do not litter opensim.log in the working directory
    try:
        result = run(request)
    except Exception:
        traceback.print_exc()
        return 1
    tmp = argv[2] + ".tmp.npz"
    np.savez(tmp, **result)
    os.replace(tmp, argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
