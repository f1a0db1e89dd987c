"""Induced acceleration analysis (IAA): what each force contributes to the accelerations.

For every time of a stride, the generalised force of each *contributor* (each muscle,
gravity, the velocity-dependent Coriolis and centrifugal forces, passive limit torques,
coordinate actuators and the remaining residual) is applied **alone** to the model, the
foot-ground contact is replaced by kinematic constraints, and the resulting coordinate
accelerations, centre-of-mass acceleration and constraint (ground reaction) forces are
the contributor's share (Zajac & Gordon 1989; Anderson & Pandy 2003; OpenSim's
``InducedAccelerations`` analysis, Hamner, Seth & Delp 2010).

Equations
---------
With the mass matrix ``M(q)``, the contact Jacobian ``J(q)`` of the enforced constraint
rows and ``J̇q̇`` their velocity product, contributor ``k`` with generalised force
``tau_k`` gives ``(q̈_k, λ_k)`` from the constrained forward dynamics::

    [ M  -Jᵀ ] [ q̈_k ]   [ tau_k        ]
    [ J   0  ] [ λ_k  ] = [ -δ_kv J̇ q̇   ]

where ``δ_kv`` is 1 for the velocity contributor only: the velocity contributor carries
the Coriolis and centrifugal generalised forces *and* the velocity part ``-J̇q̇`` of the
constraint; every other contributor has a homogeneous constraint (``J q̈_k = 0``). The
system is solved in range-space form with a Cholesky factor of ``M`` (SciPy):
``S = J M⁻¹ Jᵀ``, ``λ_k = S⁻¹(rhs_k - J M⁻¹ tau_k)``, ``q̈_k = M⁻¹(tau_k + Jᵀλ_k)``.
``λ`` is the force of the ground on the foot at each constrained contact, in ground.
The centre-of-mass acceleration is ``a_k = J_com q̈_k (+ J̇_com q̇ for the velocity
contributor)``. Everything is linear in the contributors, so the contributions **sum**
to the accelerations and forces obtained with all forces applied at once (computed
separately as the *total*, and checked to 1e-6 in the tests).

Generalised forces of the contributors (model order of coordinates)
    * muscle ``m``: ``r_m(q) F_m`` with the moment arms ``r = -dl/dq`` and the tendon
      force ``F_m`` of the stride;
    * gravity: ``-c(q, 0)`` (``c`` = :attr:`ModelFunctions.bias_forces`);
    * velocity: ``-(c(q, q̇) - c(q, 0))``;
    * ``limit_<coordinate>``: the passive limit torque about that coordinate;
    * coordinate actuators (named by actuator): the stride's net generalised force on
      the actuator's coordinate minus the muscle and limit torques there (the stride
      does not record actuator controls; for a solved stride this *is* ``A u`` up to the
      solver's constraint tolerance). Several actuators on one coordinate share one
      contributor named ``a+b``;
    * ``residual``: the same difference on coordinates without an actuator: what the
      stride's net generalised forces (inverse dynamics) hold beyond muscles, limits and
      actuators (the collocation's dynamic inconsistency, about 1e-3 N m for the
      shipped strides). Including it makes the unconstrained sum exact.

Foot-ground contact
-------------------
The stride's compliant (Hunt-Crossley) contact is replaced by bilateral constraints,
decided frame by frame from the stride's own contact forces, as OpenSim's
``InducedAccelerations`` replaces external forces above its ``force_threshold`` by
constraints (default ``RollingOnSurfaceConstraint`` at the centre of pressure):

* a **foot** (the contact spheres on the bodies of one side, ``_r``/``_l``) is in contact
  when its normal (vertical) contact force exceeds ``foot_threshold`` body weights
  (default 0.02 BW, :data:`gaitsim.analysis.gait_metrics.CONTACT_THRESHOLD`);
* in a foot in contact, each contact sphere carrying at least ``sphere_share`` of the
  foot's normal force (default 10 %) is constrained;
* :attr:`ContactConstraint.ROLLING` (default): the sphere **rolls without slipping** on
  the floor: the material point of the sphere at its lowest point ``p = c - r n`` has
  zero velocity change along the normal ``n`` (no penetration) and along the floor
  (no slip): ``a_c + α × (-r n) = 0`` with ``a_c`` the centre's acceleration and ``α``
  the angular acceleration of its body. It is the exact kinematics of a sphere rolling
  on a plane (its contact point moves over the sphere), the per-sphere counterpart of
  OpenSim's ``RollingOnSurfaceConstraint`` (non-penetration and two no-slip conditions;
  its no-twist condition is left out, a sphere being free to spin about the normal);
* :attr:`ContactConstraint.POINT`: the material point of the foot at the sphere's lowest
  point is pinned (zero acceleration; ``a_c + α × d + ω × (ω × d) = 0`` with
  ``d = -r n``), as OpenSim's ``PointConstraint``; the two differ only in the
  centripetal term ``ω × (ω × d)``, a velocity term;
* :attr:`ContactConstraint.NONE`: no constraint (contact forces ignored): every
  contribution is ``M⁻¹ tau_k``.

Constraint rows are expressed in the floor's frame (normal, then the two tangents) and
**enforced only when linearly independent** of the rows already taken, in this order:
the normal rows of the constrained spheres (most loaded first), then their tangential
rows (most loaded first). A flat planar foot with heel and forefoot spheres thus gets
three rows (both normals and the heel's no-slip: a weld in the plane), a foot on its
heel or forefoot alone two (a pivot: the heel and forefoot rockers). Rows dependent on
the ones taken (to relative tolerance ``rank_tolerance`` of their norm, or of the
largest row norm for rows that are nearly zero, such as out-of-plane rows of a planar
model) are dropped: rigid redundant constraints can otherwise be inconsistent (two
rolling points on one rotating foot) and their forces are indeterminate. Constraints
are bilateral: the analysis does not check that normal forces stay positive or within
friction (the result counts frames with a negative total normal force).

References
----------
Zajac FE, Gordon ME (1989). Determining muscle's force and action in multi-articular
movement. Exerc Sport Sci Rev 17:187-230.
Anderson FC, Pandy MG (2003). Individual muscle contributions to support in normal
walking. Gait Posture 17(2):159-169.
Hamner SR, Seth A, Delp SL (2010). Muscle contributions to propulsion and support during
running. J Biomech 43(14):2709-2716.
Lin YC, Kim HJ, Pandy MG (2011). A computationally efficient method for assessing muscle
function during human locomotion. Int J Numer Method Biomed Eng 27(3):436-449.
Dorn TW, Lin YC, Pandy MG (2012). Estimates of muscle function in human gait depend on how
foot-ground contact is modelled. Comput Methods Biomech Biomed Engin 15(6):657-668.
OpenSim ``InducedAccelerations`` analysis and ``RollingOnSurfaceConstraint``
(opensim-core, ``OpenSim/Analyses/InducedAccelerations.cpp``: contributors are the
actuators, ``gravity`` and ``velocity``; ``force_threshold`` default 6 N).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import casadi as ca
import numpy as np
import pyarrow as pa
import scipy.linalg

from gaitsim.analysis.gait_metrics import CONTACT_THRESHOLD, STANDARD_GRAVITY, is_translational
from gaitsim.analysis.joint_mechanics import clinical_sign
from gaitsim.errors import ModelError
from gaitsim.mechanics.model_functions import ModelFunctions
from gaitsim.mechanics.rotations import body_fixed_xyz
from gaitsim.model.description import GROUND, Model

if TYPE_CHECKING:
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "CONTRIBUTOR_KINDS",
    "AppliedForces",
    "ContactConstraint",
    "InducedAccelerationSpec",
    "InducedAccelerations",
    "constrained_contacts",
    "contact_axes",
    "contact_sides",
    "induced_accelerations",
    "solve_induced_accelerations",
    "stride_forces",
]

#: Kinds of contributors, in the order :func:`stride_forces` lists them.
CONTRIBUTOR_KINDS = ("muscle", "gravity", "velocity", "limit", "actuator", "residual", "other")


class ContactConstraint(enum.Enum):
    """How a constrained contact sphere is held (see the module docstring)."""

    ROLLING = "rolling"
    POINT = "point"
    NONE = "none"


@dataclass(frozen=True)
class InducedAccelerationSpec:
    """What the user asks of an induced acceleration analysis (no work done here).

    Parameters
    ----------
    constraint
        Contact constraint of a constrained sphere (default rolling without slipping).
    foot_threshold
        Normal contact force of a foot (body weights) above which it is in contact.
    sphere_share
        Fraction of its foot's normal force a sphere must carry to be constrained.
    rank_tolerance
        Relative tolerance below which a constraint row counts as dependent on the rows
        already enforced (see the module docstring).
    """

    constraint: ContactConstraint = ContactConstraint.ROLLING
    foot_threshold: float = CONTACT_THRESHOLD
    sphere_share: float = 0.1
    rank_tolerance: float = 1e-6

    def __post_init__(self) -> None:
        if not isinstance(self.constraint, ContactConstraint):
            object.__setattr__(self, "constraint", ContactConstraint(self.constraint))
        if not (np.isfinite(self.foot_threshold) and self.foot_threshold >= 0):
            raise ValueError(f"foot_threshold must be >= 0, got {self.foot_threshold!r}")
        if not 0.0 <= self.sphere_share <= 1.0:
            raise ValueError(f"sphere_share must be in [0, 1], got {self.sphere_share!r}")
        if not 0.0 < self.rank_tolerance < 1.0:
            raise ValueError(f"rank_tolerance must be in (0, 1), got {self.rank_tolerance!r}")


@dataclass(frozen=True, eq=False)
class AppliedForces:
    """The generalised forces to attribute, one per contributor.

    Attributes
    ----------
    names
        Contributor names (unique).
    kinds
        Kind of each contributor, one of :data:`CONTRIBUTOR_KINDS`; exactly one may be
        ``"velocity"``: it also carries the velocity term ``-J̇q̇`` of the constraints.
    forces
        Generalised forces, ``(n_times, n_contributors, n_q)`` (N m or N), model order.
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    forces: np.ndarray

    def __post_init__(self) -> None:
        forces = np.asarray(self.forces, dtype=np.float64)
        if forces.ndim != 3 or forces.shape[1] != len(self.names):
            raise ValueError(
                f"forces must be (n_times, {len(self.names)} contributors, n_q), "
                f"got shape {forces.shape}"
            )
        if len(self.kinds) != len(self.names):
            raise ValueError(f"{len(self.kinds)} kinds for {len(self.names)} contributors")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"contributor names must be unique, got {self.names}")
        unknown = sorted(set(self.kinds) - set(CONTRIBUTOR_KINDS))
        if unknown:
            raise ValueError(f"unknown contributor kinds {unknown}; use {CONTRIBUTOR_KINDS}")
        if self.kinds.count("velocity") > 1:
            raise ValueError("at most one contributor may be of kind 'velocity'")
        if not np.all(np.isfinite(forces)):
            raise ValueError("generalised forces must be finite")
        object.__setattr__(self, "forces", forces)

    @property
    def total(self) -> np.ndarray:
        """All generalised forces summed, ``(n_times, n_q)``."""
        return self.forces.sum(axis=1)


@dataclass(frozen=True, eq=False)
class InducedAccelerations:
    """Contributions of each force to the accelerations of one stride (or any motion).

    First dimension is time; model signs (knee flexion negative); SI units (rad/s² for
    rotations, m/s² for translations and the centre of mass, N for forces).

    Attributes
    ----------
    time
        ``(n,)`` s.
    coordinate_names, contributor_names, contributor_kinds
        Orders of the last axes below.
    accelerations
        ``(n, n_contributors, n_q)``: coordinate accelerations induced by each contributor.
    com_accelerations
        ``(n, n_contributors, 3)``: centre-of-mass accelerations in ground.
    contact_names, contact_sides, contact_axes
        Contact elements (model order), the foot (side) each belongs to and the floor's
        frame at each, ``(n_contacts, 3, 3)`` with rows normal, tangent 1, tangent 2
        (in ground).
    contact_forces
        ``(n, n_contributors, n_contacts, 3)``: each contributor's share of the constraint
        force of the ground on each contact, in ground (zero where not constrained).
    total_accelerations, total_com_accelerations, total_contact_forces
        The same with all forces applied at once (one more solve, the reference of the
        sum check).
    constrained
        ``(n, n_contacts)`` which contacts were constrained.
    enforced
        ``(n, n_contacts, 3)`` which constraint rows were enforced, per contact in its
        floor frame (normal, tangent 1, tangent 2); see :attr:`enforced_rows`.
    constraint_residual
        ``(n,)`` largest ``|J q̈_total + J̇q̇|`` over the enforced rows (m/s²).
    reference_accelerations, reference_com_accelerations, reference_grf
        What the stride itself had (compliant contact): ``q̈``, the centre-of-mass
        acceleration ``J_com q̈ + J̇_com q̇`` and the ground reaction force per side;
        NaN when not given.
    body_mass
        Total model mass (kg).
    spec
        The analysis settings.
    """

    time: np.ndarray
    coordinate_names: tuple[str, ...]
    contributor_names: tuple[str, ...]
    contributor_kinds: tuple[str, ...]
    accelerations: np.ndarray
    com_accelerations: np.ndarray
    contact_names: tuple[str, ...]
    contact_sides: tuple[str, ...]
    contact_axes: np.ndarray
    contact_forces: np.ndarray
    total_accelerations: np.ndarray
    total_com_accelerations: np.ndarray
    total_contact_forces: np.ndarray
    constrained: np.ndarray
    enforced: np.ndarray
    constraint_residual: np.ndarray
    reference_accelerations: np.ndarray
    reference_com_accelerations: np.ndarray
    body_mass: float
    spec: InducedAccelerationSpec
    reference_grf: dict[str, np.ndarray] = field(default_factory=dict)

    # -- selection -------------------------------------------------------------------------
    @property
    def enforced_rows(self) -> np.ndarray:
        """``(n,)`` number of independent constraint equations enforced at each time."""
        return self.enforced.reshape(self.enforced.shape[0], -1).sum(axis=1)

    @property
    def contact_normals(self) -> np.ndarray:
        """``(n_contacts, 3)``: the floor's normal at each contact, in ground."""
        return self.contact_axes[:, 0]

    @property
    def sides(self) -> tuple[str, ...]:
        """The feet (sides) with contacts, in order of first appearance."""
        return tuple(dict.fromkeys(self.contact_sides))

    def _contributor(self, name: str) -> int:
        try:
            return self.contributor_names.index(name)
        except ValueError:
            raise KeyError(
                f"no contributor {name!r}; contributors are {self.contributor_names}"
            ) from None

    def _coordinate(self, name: str) -> int:
        try:
            return self.coordinate_names.index(name)
        except ValueError:
            raise KeyError(f"no coordinate {name!r}; have {self.coordinate_names}") from None

    def contribution(
        self, contributor: str, coordinate: str, *, clinical: bool = False
    ) -> np.ndarray:
        """Acceleration of ``coordinate`` induced by ``contributor``, ``(n,)``.

        Model signs and SI units by default; ``clinical=True`` gives rotations in deg/s²
        with clinical signs (knee flexion positive, see
        :func:`gaitsim.analysis.joint_mechanics.clinical_sign`).
        """
        values = self.accelerations[:, self._contributor(contributor), self._coordinate(coordinate)]
        return _clinical(coordinate, values) if clinical else values

    def com(self, contributor: str) -> np.ndarray:
        """Centre-of-mass acceleration induced by ``contributor``, ``(n, 3)``."""
        return self.com_accelerations[:, self._contributor(contributor)]

    def grf(self, contributor: str, side: str) -> np.ndarray:
        """``contributor``'s share of the ground reaction force on foot ``side``, ``(n, 3)``."""
        if side not in self.sides:
            raise KeyError(f"no foot {side!r}; feet are {self.sides}")
        idx = [k for k, s in enumerate(self.contact_sides) if s == side]
        return self.contact_forces[:, self._contributor(contributor), idx].sum(axis=1)

    def total_grf(self, side: str) -> np.ndarray:
        """Ground reaction force on foot ``side`` with all forces applied, ``(n, 3)``."""
        if side not in self.sides:
            raise KeyError(f"no foot {side!r}; feet are {self.sides}")
        idx = [k for k, s in enumerate(self.contact_sides) if s == side]
        return self.total_contact_forces[:, idx].sum(axis=1)

    # -- checks ----------------------------------------------------------------------------
    def sum_errors(self) -> dict[str, float]:
        """Largest absolute difference between the summed contributions and the total,
        for coordinate accelerations, centre-of-mass accelerations and contact forces."""
        return {
            "accelerations": _max_abs(self.accelerations.sum(axis=1) - self.total_accelerations),
            "com_accelerations": _max_abs(
                self.com_accelerations.sum(axis=1) - self.total_com_accelerations
            ),
            "contact_forces": _max_abs(self.contact_forces.sum(axis=1) - self.total_contact_forces),
        }

    def reference_deviation(self, statistic: str = "rms") -> dict[str, float]:
        """How far the constrained total is from the stride's own accelerations.

        By coordinate (rad/s² or m/s²), plus ``com_x/y/z`` (m/s²) and ``grf_<axis>_<side>``
        (N): the RMS over time (``statistic="rms"``) or the median absolute difference
        (``"median"``, insensitive to the few impact frames where the compliant contact
        of the stride and the rigid constraints differ most). The stride's contact is
        compliant and the analysis's rigid, so these differ; the numbers say by how much
        (information, not a pass/fail criterion).
        """
        if statistic == "rms":

            def reduce(d: np.ndarray) -> float:
                return float(np.sqrt(np.mean(d**2)))
        elif statistic == "median":

            def reduce(d: np.ndarray) -> float:
                return float(np.median(np.abs(d)))
        else:
            raise ValueError(f"statistic must be 'rms' or 'median', got {statistic!r}")
        out: dict[str, float] = {}
        diff = self.total_accelerations - self.reference_accelerations
        for j, name in enumerate(self.coordinate_names):
            out[name] = reduce(diff[:, j])
        com = self.total_com_accelerations - self.reference_com_accelerations
        for j, axis in enumerate("xyz"):
            out[f"com_{axis}"] = reduce(com[:, j])
        for side in self.sides:
            ref = self.reference_grf.get(side)
            if ref is None:
                continue
            d = self.total_grf(side) - ref
            for j, axis in enumerate("xyz"):
                out[f"grf_{axis}_{side}"] = reduce(d[:, j])
        return out

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures: sum errors, constraint residual, deviation from the
        stride, counts of constrained frames and of frames with a pulling floor."""
        normal_total = np.einsum("tcj,cj->t", self.total_contact_forces, self.contact_normals)
        constrained_frames = self.constrained.any(axis=1)
        return {
            "constraint": self.spec.constraint.value,
            "foot_threshold_bw": self.spec.foot_threshold,
            "sphere_share": self.spec.sphere_share,
            "n_times": int(self.time.size),
            "n_contributors": len(self.contributor_names),
            "constrained_frames": int(constrained_frames.sum()),
            "frames_with_negative_normal_force": int(
                np.sum(constrained_frames & (normal_total < 0.0))
            ),
            "sum_errors": self.sum_errors(),
            "max_constraint_residual": float(np.max(self.constraint_residual, initial=0.0)),
            "rms_deviation_from_stride": self.reference_deviation("rms"),
            "median_deviation_from_stride": self.reference_deviation("median"),
        }

    # -- export ----------------------------------------------------------------------------
    def tidy_table(self, *, clinical: bool = False) -> pa.Table:
        """Every contribution in tidy long format.

        Columns ``time`` (s), ``percent`` (of the time span, 0-100), ``contributor``,
        ``kind``, ``quantity`` (``acceleration``: names are coordinates; ``com_acceleration``:
        names ``com_x/y/z``; ``grf``: names ``grf_x_r``... per foot), ``name``, ``value``
        (float64) and ``unit`` (``rad/s^2``, ``m/s^2``, ``N``). The totals (all forces at
        once) are included as contributor ``total`` of kind ``total``. With
        ``clinical=True`` rotational accelerations are in ``deg/s^2`` with clinical signs
        (knee flexion positive), for reports.
        """
        n = self.time.size
        span = float(self.time[-1] - self.time[0]) if n > 1 else 1.0
        percent = 100.0 * (self.time - self.time[0]) / (span if span > 0 else 1.0)
        names = self.contributor_names + ("total",)
        kinds = self.contributor_kinds + ("total",)
        acc = np.concatenate([self.accelerations, self.total_accelerations[:, None]], axis=1)
        com = np.concatenate(
            [self.com_accelerations, self.total_com_accelerations[:, None]], axis=1
        )
        grf_parts = []
        grf_names: list[str] = []
        for side in self.sides:
            idx = [k for k, s in enumerate(self.contact_sides) if s == side]
            per = self.contact_forces[:, :, idx].sum(axis=2)
            tot = self.total_contact_forces[:, idx].sum(axis=1)[:, None]
            grf_parts.append(np.concatenate([per, tot], axis=1))
            grf_names += [f"grf_{axis}_{side}" for axis in "xyz"]
        grf = np.concatenate(grf_parts, axis=2) if grf_parts else np.zeros((n, len(names), 0))
        rotation_unit = "rad/s^2"
        if clinical:
            acc = acc.copy()
            for j, c in enumerate(self.coordinate_names):
                acc[:, :, j] = _clinical(c, acc[:, :, j])
            rotation_unit = "deg/s^2"
        blocks = [
            (
                "acceleration",
                list(self.coordinate_names),
                acc,
                ["m/s^2" if is_translational(c) else rotation_unit for c in self.coordinate_names],
            ),
            ("com_acceleration", ["com_x", "com_y", "com_z"], com, ["m/s^2"] * 3),
            ("grf", grf_names, grf, ["N"] * len(grf_names)),
        ]
        columns: dict[str, list[Any]] = {
            "contributor": [],
            "kind": [],
            "quantity": [],
            "name": [],
            "unit": [],
        }
        values: list[np.ndarray] = []
        times: list[np.ndarray] = []
        percents: list[np.ndarray] = []
        for quantity, targets, data, units in blocks:
            for k, (contributor, kind) in enumerate(zip(names, kinds, strict=True)):
                for j, (target, unit) in enumerate(zip(targets, units, strict=True)):
                    columns["contributor"] += [contributor] * n
                    columns["kind"] += [kind] * n
                    columns["quantity"] += [quantity] * n
                    columns["name"] += [target] * n
                    columns["unit"] += [unit] * n
                    values.append(data[:, k, j])
                    times.append(self.time)
                    percents.append(percent)

        def stack(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0)

        return pa.table(
            {
                "time": pa.array(stack(times), type=pa.float64()),
                "percent": pa.array(stack(percents), type=pa.float64()),
                **{key: pa.array(value, type=pa.string()) for key, value in columns.items()},
                "value": pa.array(stack(values), type=pa.float64()),
            }
        )


def _clinical(coordinate: str, values: np.ndarray) -> np.ndarray:
    """Rotational accelerations in deg/s² with clinical signs; translations unchanged."""
    if is_translational(coordinate):
        return values
    return clinical_sign(coordinate).factor * np.rad2deg(values)


def _max_abs(values: np.ndarray) -> float:
    return float(np.max(np.abs(values), initial=0.0))


# ---------------------------------------------------------------------------------------
# Contributors of a stride
# ---------------------------------------------------------------------------------------


def _frames(matrix: Any, rows: int, cols: int, n: int) -> np.ndarray:
    """Mapped CasADi output (rows x cols*n column blocks) as ``(n, rows, cols)``."""
    return np.asarray(matrix, dtype=np.float64).reshape(rows, n, cols).transpose(1, 0, 2)


def _check_states(model: Model, q: np.ndarray, qd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = np.asarray(q, dtype=np.float64)
    qd = np.asarray(qd, dtype=np.float64)
    n_q = len(model.coordinate_names)
    if q.ndim != 2 or q.shape[1] != n_q or qd.shape != q.shape:
        raise ValueError(
            f"q and qd must both be (n_times, {n_q}) for model {model.name!r}, "
            f"got {q.shape} and {qd.shape}"
        )
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(qd))):
        raise ValueError("q and qd must be finite")
    return q, qd


def stride_forces(model: Model, functions: ModelFunctions, result: WalkingResult) -> AppliedForces:
    """The contributors of a simulated stride and their generalised forces.

    See the module docstring for each contributor's generalised force. Muscles come in
    ``result.muscle_names`` order (which must be the model's), then ``gravity``,
    ``velocity``, ``limit_<coordinate>`` for each coordinate with limit torques,
    coordinate actuators and ``residual``.

    Raises
    ------
    ModelError
        If the result's coordinates or muscles are not the model's (same order).
    """
    if tuple(result.coordinate_names) != tuple(model.coordinate_names):
        raise ModelError(
            model.name,
            f"the result's coordinates {tuple(result.coordinate_names)} are not the model's "
            f"{tuple(model.coordinate_names)}",
        )
    if tuple(result.muscle_names) != tuple(model.muscle_names):
        raise ModelError(
            model.name,
            f"the result's muscles {tuple(result.muscle_names)} are not the model's "
            f"{tuple(model.muscle_names)}",
        )
    q, qd = _check_states(model, result.q, result.qd)
    n, n_q = q.shape
    n_m = len(model.muscles)
    tendon = np.asarray(result.tendon_forces, dtype=np.float64).reshape(n, n_m)
    moments = np.asarray(result.joint_moments, dtype=np.float64).reshape(n, n_q)
    names: list[str] = []
    kinds: list[str] = []
    parts: list[np.ndarray] = []
    if n_m:
        arms = _frames(functions.moment_arms.map(n)(q.T), n_m, n_q, n)  # (n, n_m, n_q)
        muscle = arms * tendon[:, :, None]
        names += list(model.muscle_names)
        kinds += ["muscle"] * n_m
        parts.append(muscle)
    else:
        muscle = np.zeros((n, 0, n_q))
    c_full = np.asarray(functions.bias_forces.map(n)(q.T, qd.T)).T
    c_static = np.asarray(functions.bias_forces.map(n)(q.T, np.zeros_like(qd).T)).T
    names += ["gravity", "velocity"]
    kinds += ["gravity", "velocity"]
    parts.append(np.stack([-c_static, -(c_full - c_static)], axis=1))
    limits = np.asarray(functions.limit_torques.map(n)(q.T, qd.T)).T
    limited = list(dict.fromkeys(t.coordinate for t in model.limit_torques))
    index = {c: i for i, c in enumerate(model.coordinate_names)}
    for coordinate in limited:
        tau = np.zeros((n, 1, n_q))
        tau[:, 0, index[coordinate]] = limits[:, index[coordinate]]
        names.append(f"limit_{coordinate}")
        kinds.append("limit")
        parts.append(tau)
    leftover = moments - muscle.sum(axis=1) - limits
    actuated: dict[str, list[str]] = {}
    for a in model.actuators:
        actuated.setdefault(a.coordinate, []).append(a.name)
    for coordinate, actuator_names in actuated.items():
        tau = np.zeros((n, 1, n_q))
        tau[:, 0, index[coordinate]] = leftover[:, index[coordinate]]
        names.append("+".join(actuator_names))
        kinds.append("actuator")
        parts.append(tau)
    residual = leftover.copy()
    for coordinate in actuated:
        residual[:, index[coordinate]] = 0.0
    names.append("residual")
    kinds.append("residual")
    parts.append(residual[:, None, :])
    return AppliedForces(tuple(names), tuple(kinds), np.concatenate(parts, axis=1))


# ---------------------------------------------------------------------------------------
# Contact constraints
# ---------------------------------------------------------------------------------------


def contact_sides(model: Model) -> tuple[str, ...]:
    """The foot each contact element belongs to: ``"r"``/``"l"`` from the suffix of its
    sphere's body (``calcn_r``), else the body name itself."""
    spheres = {s.name: s for s in model.contact_spheres}
    sides = []
    for c in model.contacts:
        body = spheres[c.sphere].body
        sides.append(body[-1] if body.endswith(("_r", "_l")) else body)
    return tuple(sides)


def contact_axes(model: Model) -> list[np.ndarray]:
    """Per contact element: 3x3 matrix whose rows are the floor's outward normal and two
    tangents, in ground (the half-space's -X, +Y and +Z axes; for the built-in models'
    floor: +y, +x, +z).

    Raises
    ------
    ModelError
        If a contact half-space is not fixed to ground.
    """
    planes = {h.name: h for h in model.half_spaces}
    frames = []
    for c in model.contacts:
        plane = planes[c.half_space]
        if plane.body != GROUND:
            raise ModelError(
                f"half_spaces.{plane.name}",
                "induced accelerations need contact half-spaces fixed to ground",
            )
        rotation = np.asarray(body_fixed_xyz(plane.orientation), dtype=np.float64)
        # OpenSim's half-space occupies x > 0 of its frame: the outward normal is -X.
        frames.append(np.vstack([-rotation[:, 0], rotation[:, 1], rotation[:, 2]]))
    return frames


def constrained_contacts(
    model: Model,
    functions: ModelFunctions,
    q: np.ndarray,
    qd: np.ndarray,
    spec: InducedAccelerationSpec | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which contacts to constrain at each time, from the model's own contact forces.

    Returns
    -------
    constrained
        ``(n, n_contacts)`` bool (all False with ``ContactConstraint.NONE``).
    normal_forces
        ``(n, n_contacts)`` normal force of each contact (N), used to order the rows.
    """
    spec = spec or InducedAccelerationSpec()
    q, qd = _check_states(model, q, qd)
    n, n_c = q.shape[0], len(model.contacts)
    if n_c == 0:
        return np.zeros((n, 0), dtype=bool), np.zeros((n, 0))
    forces = _frames(functions.contact_forces.map(n)(q.T, qd.T)[0], 3, n_c, n)  # (n, 3, n_c)
    normals = np.stack([f[0] for f in contact_axes(model)], axis=1)  # (3, n_c)
    normal = np.einsum("tjc,jc->tc", forces, normals)
    constrained = np.zeros((n, n_c), dtype=bool)
    if spec.constraint is ContactConstraint.NONE:
        return constrained, normal
    weight = model.total_mass * STANDARD_GRAVITY
    sides = contact_sides(model)
    for side in dict.fromkeys(sides):
        idx = [k for k, s in enumerate(sides) if s == side]
        foot = normal[:, idx].sum(axis=1)
        on = foot > spec.foot_threshold * weight
        share = normal[:, idx] >= spec.sphere_share * foot[:, None]
        constrained[:, idx] = on[:, None] & share & (normal[:, idx] > 0.0)
    return constrained, normal


def _kinematics_function(model: Model, functions: ModelFunctions) -> ca.Function:
    """``(q, qd) -> (J 3n_c x n_q, Jdqd_rolling 3n_c, centripetal 3n_c, J_com, Jdqd_com)``.

    Rows per contact in the floor frame (normal, tangent 1, tangent 2): ``J`` maps ``q̇`` to
    the velocity of the sphere's material point at its lowest point, ``Jdqd_rolling`` is
    ``∂(J q̇)/∂q q̇`` with the offset ``-r n`` held fixed in ground (rolling), and
    ``centripetal`` is ``ω × (ω × (-r n))`` (the extra term of a pinned material point).
    """
    sk = functions.skeleton
    spheres = {s.name: s for s in model.contact_spheres}
    frames = contact_axes(model)
    rows_j, rows_b, rows_c = [], [], []
    for c, basis in zip(model.contacts, frames, strict=True):
        sphere = spheres[c.sphere]
        centre = sk.point(sphere.body, sphere.location)
        omega = sk.angular_velocity(sphere.body)
        offset = ca.DM(-sphere.radius * basis[0])
        velocity = sk.velocity(centre) + ca.cross(omega, offset)
        b = ca.DM(basis)
        rows_j.append(b @ ca.jacobian(velocity, sk.qd))
        rows_b.append(b @ ca.jtimes(velocity, sk.q, sk.qd))
        rows_c.append(b @ ca.cross(omega, ca.cross(omega, offset)))
    n_q = sk.q.shape[0]
    jac = ca.vertcat(*rows_j) if rows_j else ca.SX(0, n_q)
    bias = ca.vertcat(*rows_b) if rows_b else ca.SX(0, 1)
    centripetal = ca.vertcat(*rows_c) if rows_c else ca.SX(0, 1)
    com = sk.centre_of_mass()
    j_com = ca.jacobian(com, sk.q)
    b_com = ca.jtimes(ca.jtimes(com, sk.q, sk.qd), sk.q, sk.qd)
    return ca.Function(
        "contact_kinematics",
        [sk.q, sk.qd],
        [jac, bias, centripetal, j_com, b_com],
        ["q", "qd"],
        ["J", "Jdqd", "centripetal", "J_com", "Jdqd_com"],
    )


def _independent_rows(rows: np.ndarray, order: list[int], tolerance: float) -> list[int]:
    """Greedy selection of linearly independent rows in the given priority order."""
    if not order:
        return []
    norms = np.linalg.norm(rows[order], axis=1)
    scale = float(norms.max())
    if scale == 0.0:
        return []
    basis: list[np.ndarray] = []
    chosen: list[int] = []
    for i in order:
        r = rows[i].copy()
        for _ in range(2):  # Gram-Schmidt twice for orthogonality to working precision
            for e in basis:
                r -= (e @ r) * e
        size = float(np.linalg.norm(r))
        if size > tolerance * scale:
            basis.append(r / size)
            chosen.append(i)
    return chosen


# ---------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------


def solve_induced_accelerations(
    model: Model,
    functions: ModelFunctions,
    time: np.ndarray,
    q: np.ndarray,
    qd: np.ndarray,
    forces: AppliedForces,
    constrained: np.ndarray,
    normal_forces: np.ndarray | None = None,
    spec: InducedAccelerationSpec | None = None,
    *,
    reference_accelerations: np.ndarray | None = None,
    reference_grf: dict[str, np.ndarray] | None = None,
) -> InducedAccelerations:
    """Induced accelerations of given states, generalised forces and constrained contacts.

    Parameters
    ----------
    model, functions
        The model and its functions.
    time, q, qd
        ``(n,)``, ``(n, n_q)``, ``(n, n_q)``.
    forces
        The contributors (see :class:`AppliedForces`), ``n`` times.
    constrained
        ``(n, n_contacts)`` which contacts to constrain (see :func:`constrained_contacts`).
    normal_forces
        ``(n, n_contacts)`` normal forces ordering the constraint rows (most loaded
        first); None: contacts in model order.
    spec
        Constraint kind and rank tolerance (thresholds are not used here).
    reference_accelerations, reference_grf
        The motion's own accelerations and ground reaction forces, for comparison.
    """
    spec = spec or InducedAccelerationSpec()
    q, qd = _check_states(model, q, qd)
    t = np.asarray(time, dtype=np.float64)
    n, n_q = q.shape
    n_c = len(model.contacts)
    if t.shape != (n,):
        raise ValueError(f"time must have shape ({n},), got {t.shape}")
    if forces.forces.shape[0] != n or forces.forces.shape[2] != n_q:
        raise ValueError(f"forces must be ({n}, n_contributors, {n_q}), got {forces.forces.shape}")
    constrained = np.asarray(constrained, dtype=bool)
    if constrained.shape != (n, n_c):
        raise ValueError(f"constrained must have shape ({n}, {n_c}), got {constrained.shape}")
    if spec.constraint is ContactConstraint.NONE:
        constrained = np.zeros_like(constrained)
    order_forces = (
        np.zeros((n, n_c)) if normal_forces is None else np.asarray(normal_forces, dtype=float)
    )
    n_k = len(forces.names)
    velocity = forces.kinds.index("velocity") if "velocity" in forces.kinds else None

    mass = _frames(functions.mass_matrix.map(n)(q.T), n_q, n_q, n)
    kin = _kinematics_function(model, functions).map(n)(q.T, qd.T)
    jac = _frames(kin[0], 3 * n_c, n_q, n)
    bias = np.asarray(kin[1], dtype=np.float64).T.reshape(n, 3 * n_c)
    if spec.constraint is ContactConstraint.POINT:
        bias = bias + np.asarray(kin[2], dtype=np.float64).T.reshape(n, 3 * n_c)
    j_com = _frames(kin[3], 3, n_q, n)
    b_com = np.asarray(kin[4], dtype=np.float64).T

    acc = np.zeros((n, n_k, n_q))
    com = np.zeros((n, n_k, 3))
    lam = np.zeros((n, n_k, n_c, 3))
    acc_total = np.zeros((n, n_q))
    lam_total = np.zeros((n, n_c, 3))
    enforced = np.zeros((n, n_c, 3), dtype=bool)
    residual = np.zeros(n)
    frames = contact_axes(model)
    for i in range(n):
        active = np.flatnonzero(constrained[i])
        ranked = sorted(active.tolist(), key=lambda k: -order_forces[i, k])
        order = [3 * k for k in ranked] + [3 * k + a for k in ranked for a in (1, 2)]
        rows = _independent_rows(jac[i], order, spec.rank_tolerance)
        # Contributors and the total (last column) solved together.
        tau = np.concatenate([forces.forces[i].T, forces.forces[i].sum(axis=0)[:, None]], axis=1)
        factor = scipy.linalg.cho_factor(mass[i])
        x = scipy.linalg.cho_solve(factor, tau)
        multipliers = np.zeros((len(rows), n_k + 1))
        if rows:
            a = jac[i][rows]
            y = scipy.linalg.cho_solve(factor, a.T)
            rhs = -a @ x
            if velocity is not None:
                rhs[:, velocity] -= bias[i, rows]
                rhs[:, n_k] -= bias[i, rows]
            multipliers = scipy.linalg.solve(a @ y, rhs, assume_a="pos")
            x = x + y @ multipliers
            velocity_part = bias[i, rows] if velocity is not None else 0.0
            residual[i] = float(np.max(np.abs(a @ x[:, n_k] + velocity_part)))
        for row in rows:
            enforced[i, row // 3, row % 3] = True
        acc[i] = x[:, :n_k].T
        acc_total[i] = x[:, n_k]
        com[i] = (j_com[i] @ x[:, :n_k]).T
        if velocity is not None:
            com[i, velocity] += b_com[i]
        for r, row in enumerate(rows):
            contact, axis = divmod(row, 3)
            direction = frames[contact][axis]
            lam[i, :, contact] += multipliers[r, :n_k, None] * direction[None, :]
            lam_total[i, contact] += multipliers[r, n_k] * direction
    com_total = np.einsum("tjq,tq->tj", j_com, acc_total)
    if velocity is not None:
        com_total += b_com
    if reference_accelerations is None:
        ref_acc = np.full((n, n_q), np.nan)
        ref_com = np.full((n, 3), np.nan)
    else:
        ref_acc = np.asarray(reference_accelerations, dtype=np.float64)
        if ref_acc.shape != (n, n_q):
            raise ValueError(f"reference_accelerations must be ({n}, {n_q}), got {ref_acc.shape}")
        ref_com = np.einsum("tjq,tq->tj", j_com, ref_acc) + b_com
    return InducedAccelerations(
        time=t,
        coordinate_names=tuple(model.coordinate_names),
        contributor_names=forces.names,
        contributor_kinds=forces.kinds,
        accelerations=acc,
        com_accelerations=com,
        contact_names=tuple(c.name for c in model.contacts),
        contact_sides=contact_sides(model),
        contact_axes=np.array(frames).reshape(n_c, 3, 3),
        contact_forces=lam,
        total_accelerations=acc_total,
        total_com_accelerations=com_total,
        total_contact_forces=lam_total,
        constrained=constrained,
        enforced=enforced,
        constraint_residual=residual,
        reference_accelerations=ref_acc,
        reference_com_accelerations=ref_com,
        body_mass=float(model.total_mass),
        spec=spec,
        reference_grf={
            k: np.asarray(v, dtype=np.float64) for k, v in (reference_grf or {}).items()
        },
    )


def induced_accelerations(
    model: Model,
    functions: ModelFunctions,
    result: WalkingResult,
    spec: InducedAccelerationSpec | None = None,
) -> InducedAccelerations:
    """Induced acceleration analysis of a simulated stride.

    The contributors are those of :func:`stride_forces`; the contacts to constrain come
    from the model's contact forces at the stride's states (:func:`constrained_contacts`).

    Parameters
    ----------
    model, functions
        The model simulated (e.g. ``read_run_model(folder)``) and its functions.
    result
        The stride.
    spec
        Analysis settings (default rolling constraints, 2 % BW foot threshold).

    Returns
    -------
    InducedAccelerations
        With the stride's ``qdd`` and ground reaction forces as the reference.
    """
    spec = spec or InducedAccelerationSpec()
    forces = stride_forces(model, functions, result)
    constrained, normal = constrained_contacts(model, functions, result.q, result.qd, spec)
    return solve_induced_accelerations(
        model,
        functions,
        result.time,
        result.q,
        result.qd,
        forces,
        constrained,
        normal,
        spec,
        reference_accelerations=result.qdd,
        reference_grf=dict(result.grf),
    )
