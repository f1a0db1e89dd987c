"""Muscle capacity: the largest isometric moment each muscle can produce about a coordinate.

What it computes
----------------
For a coordinate ``q_j`` swept over chosen values, with every other coordinate held at
a chosen value (the model's default unless given), the *capacity* of muscle ``m`` is the
moment of its tendon force at full activation and zero velocity::

    M_m(q) = r_mj(q) F_m(a = 1, v = 0, l_MT(q))

where ``r_mj = -d l_MT / d q_j`` is the moment arm (OpenSim's sign: positive when the
muscle's tension produces a positive generalised force) and ``F_m`` the tendon force of
the DeGroote-Fregly (2016) muscle (:mod:`gaitsim.mechanics.muscle`): active and passive
fibre force, ``F_T = F_max (a f_L(l~M) + f_PE(l~M)) cos(alpha)``.

* Rigid tendon: ``l_M`` follows from ``l_MT`` directly (:func:`rigid_tendon_state`).
* Compliant tendon: the static fibre-tendon equilibrium
  ``f~T - (a f_L(l~M) + f_PE(l~M)) cos(alpha) = 0`` (OpenSim's
  ``calcEquilibriumResidual`` with zero velocities) is solved for the normalised tendon
  force ``f~T`` with Brent's method (:func:`scipy.optimize.brentq`), bracketed between 0
  and the tendon force at which the fibre's projection on the tendon would vanish. If
  the residual is not negative at ``f~T = 0`` the fibre cannot pull (it is slack and
  its passive force is not positive) and the force is 0; if the path is not longer than
  the tendon slack length, nothing is taut and the force is 0 (fibre length reported as
  NaN): gait2392's tensor fasciae latae, for instance, is slack from 100 deg of hip
  flexion up with the knee straight. The residual is evaluated at
  200 points of the bracket first and the *first* sign change is refined, so that the
  root nearest to zero force is taken if there were several (there is one for each of
  gait3d's 92 muscles at a = 0 and 1 over path lengths giving fibre lengths of 0.1 to
  1.9 optimal lengths, checked on 2000-point grids).

The *passive* curve is the same with ``a = 0``; the moment-arm curve is ``r_mj(q)``.

Validity of the built-in models' paths
--------------------------------------
``gait3d``'s muscle paths are those of gait2392 (Delp et al. 1990), defined and checked
for the ranges of walking; Rajagopal et al. (2016) later added wrap cylinders (the psoas
and iliacus wrap the pelvic brim, ``PS_at_brim``) so that the hip flexors stay flexors in
deep flexion, and ``gait3d`` takes its hip range, -30 to 120 deg of flexion, from them.
Paths without wrapping (rectus femoris, sartorius and tensor fasciae latae at the hip)
are straight lines between via points and may pass through bone in deep flexion: above
about 90 deg of hip flexion their moment arms, hence capacities, are less reliable (the
rectus femoris moment arm falls to 1.8 mm at 120 deg: its path runs through the femoral
head). Psoas and iliacus stay flexors to 120 deg, but gait2392's fibre and tendon lengths
leave their fibres very short there (about 0.2 optimal lengths), so their capacity is
small. Measured figures are in ``docs/joint_loads.md``.
:attr:`MuscleCapacity.outside_range` flags values beyond the coordinate's range.

References
----------
* De Groote F, Kinney AL, Rao AV, Fregly BJ (2016). Ann Biomed Eng 44(10):2922-2936.
* Delp SL, Loan JP, Hoy MG, Zajac FE, Topp EL, Rosen JM (1990). IEEE Trans Biomed Eng
  37(8):757-767.
* Rajagopal A, Dembia CL, DeMers MS, Delp DD, Hicks JL, Delp SL (2016). IEEE Trans
  Biomed Eng 63(10):2068-2079.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from gaitsim.errors import ModelError
from gaitsim.mechanics.model_functions import ModelFunctions, build, muscle_parameters
from gaitsim.mechanics.muscle import (
    MAX_NORM_TENDON_FORCE,
    compliant_tendon_state_implicit,
    rigid_tendon_state,
    tendon_force_length_multiplier,
)
from gaitsim.model.description import Model, Muscle, TendonModel

__all__ = [
    "HIP_FLEXORS_GAIT3D",
    "CapacitySpec",
    "MuscleCapacity",
    "static_tendon_force",
    "muscle_capacity",
]

FloatArray = NDArray[np.float64]

#: The separate hip flexors of ``gait3d`` (right side).
HIP_FLEXORS_GAIT3D = ("psoas_r", "iliacus_r", "rect_fem_r", "sar_r", "tfl_r")

# Samples of the equilibrium residual before refining the first sign change.
_SCAN_POINTS = 200
# Values this close beyond a range end (rad or m) are inside: model files round the
# range ends (gait3d's 120 deg is stored as 2.0943951 rad).
_RANGE_SLACK = 1e-6


@dataclass(frozen=True)
class CapacitySpec:
    """What capacity to compute.

    Parameters
    ----------
    coordinate
        The coordinate to sweep (e.g. ``"hip_flexion_r"``).
    values
        Its values (rad or m, model signs).
    muscles
        Muscles to evaluate; empty means every muscle of the model.
    fixed
        ``(name, value)`` pairs for other coordinates (rad or m, model signs: knee
        flexion is a *negative* ``knee_angle``); the rest stay at their defaults.
    activation
        Activation for the "active" curve (1 = full).
    """

    coordinate: str
    values: tuple[float, ...]
    muscles: tuple[str, ...] = ()
    fixed: tuple[tuple[str, float], ...] = ()
    activation: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(float(v) for v in self.values))
        object.__setattr__(self, "muscles", tuple(self.muscles))
        object.__setattr__(self, "fixed", tuple((str(k), float(v)) for k, v in self.fixed))
        if not self.values:
            raise ValueError("CapacitySpec.values is empty")
        if not all(np.isfinite(self.values)):
            raise ValueError("CapacitySpec.values must be finite")
        if not 0.0 <= self.activation <= 1.0:
            raise ValueError(f"activation must be in [0, 1], got {self.activation!r}")


@dataclass(frozen=True, eq=False)
class MuscleCapacity:
    """Isometric capacity curves of muscles about one coordinate.

    Attributes
    ----------
    coordinate
        The swept coordinate.
    values
        Its values, ``(n,)`` (rad or m).
    fixed
        The other coordinates' values used (name, value), all of them.
    muscle_names
        ``(n_m,)``.
    activation
        Activation of the active curve.
    moment_arms
        ``r = -dl_MT/dq`` (m), ``(n, n_m)``.
    tendon_forces
        Tendon force at :attr:`activation`, zero velocity (N), ``(n, n_m)``.
    passive_tendon_forces
        Tendon force at zero activation (N), ``(n, n_m)``.
    norm_fiber_lengths
        Fibre length over optimal at :attr:`activation`, ``(n, n_m)``.
    outside_range
        ``(n,)``: values outside the coordinate's range in the model.
    """

    coordinate: str
    values: FloatArray
    fixed: tuple[tuple[str, float], ...]
    muscle_names: tuple[str, ...]
    activation: float
    moment_arms: FloatArray
    tendon_forces: FloatArray
    passive_tendon_forces: FloatArray
    norm_fiber_lengths: FloatArray
    outside_range: NDArray[np.bool_]

    @property
    def moments(self) -> FloatArray:
        """Capacity ``r F`` (N m), ``(n, n_m)``."""
        return self.moment_arms * self.tendon_forces

    @property
    def passive_moments(self) -> FloatArray:
        """Passive moment ``r F_passive`` (N m), ``(n, n_m)``."""
        return self.moment_arms * self.passive_tendon_forces

    @property
    def total_moment(self) -> FloatArray:
        """Sum of the muscles' capacities (N m), ``(n,)``."""
        return self.moments.sum(axis=1)

    def muscle(self, name: str) -> dict[str, FloatArray]:
        """The curves of one muscle: ``moment_arm``, ``tendon_force``, ``moment``,
        ``passive_moment``."""
        k = self.muscle_names.index(name)
        return {
            "moment_arm": self.moment_arms[:, k],
            "tendon_force": self.tendon_forces[:, k],
            "moment": self.moments[:, k],
            "passive_moment": self.passive_moments[:, k],
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Tidy table: one row per value and muscle (JSON-ready). Columns:
        ``coordinate``, ``value`` (rad or m), ``muscle``, ``moment_arm`` (m),
        ``tendon_force`` (N), ``passive_tendon_force`` (N), ``moment`` (N m),
        ``passive_moment`` (N m), ``norm_fiber_length``, ``outside_range``."""
        rows: list[dict[str, Any]] = []
        for i, value in enumerate(self.values):
            for k, name in enumerate(self.muscle_names):
                rows.append(
                    {
                        "coordinate": self.coordinate,
                        "value": float(value),
                        "muscle": name,
                        "moment_arm": float(self.moment_arms[i, k]),
                        "tendon_force": float(self.tendon_forces[i, k]),
                        "passive_tendon_force": float(self.passive_tendon_forces[i, k]),
                        "moment": float(self.moments[i, k]),
                        "passive_moment": float(self.passive_moments[i, k]),
                        "norm_fiber_length": float(self.norm_fiber_lengths[i, k]),
                        "outside_range": bool(self.outside_range[i]),
                    }
                )
        return rows


def static_tendon_force(
    muscle: Muscle, muscle_tendon_length: float, activation: float
) -> tuple[float, float]:
    """Tendon force (N) and normalised fibre length of ``muscle`` held isometric at
    ``muscle_tendon_length`` with ``activation`` (zero velocities).

    Rigid tendons use the rigid-tendon state; compliant ones solve the static
    fibre-tendon equilibrium (see the module docstring). A compliant muscle whose path is
    not longer than its tendon slack length is slack: force 0, fibre length NaN.

    Raises
    ------
    ModelError
        If no equilibrium exists below :data:`MAX_NORM_TENDON_FORCE` times ``F_max``.
    """
    params = muscle_parameters(muscle)
    lmt = float(muscle_tendon_length)
    if muscle.tendon is TendonModel.RIGID:
        state = rigid_tendon_state(params, lmt, 0.0, activation)
        return float(state.tendon_force), float(state.norm_fiber_length)

    def residual(norm_force: float) -> float:
        state = compliant_tendon_state_implicit(params, lmt, 0.0, activation, norm_force, 0.0)
        return float(state.equilibrium_residual)

    def fiber(norm_force: float) -> float:
        state = compliant_tendon_state_implicit(params, lmt, 0.0, activation, norm_force, 0.0)
        return float(state.norm_fiber_length)

    if lmt <= params.tendon_slack_length:
        # The path is shorter than the slack tendon: nothing is taut.
        return 0.0, float("nan")
    if residual(0.0) >= 0.0:
        return 0.0, fiber(0.0)
    # Largest tendon stretch that keeps a positive fibre projection on the tendon.
    norm_tendon_length = (lmt - 1e-6 * params.optimal_fiber_length) / params.tendon_slack_length
    upper = min(
        MAX_NORM_TENDON_FORCE,
        float(
            tendon_force_length_multiplier(
                norm_tendon_length, params.tendon_strain_at_one_norm_force
            )
        ),
    )
    if upper <= 0.0 or residual(upper) <= 0.0:
        raise ModelError(
            muscle.name,
            f"no isometric equilibrium for l_MT = {lmt:.6g} m (tendon force would exceed "
            f"{MAX_NORM_TENDON_FORCE} F_max)",
        )
    grid = np.linspace(0.0, upper, _SCAN_POINTS)
    values = np.asarray(
        compliant_tendon_state_implicit(
            params, np.full_like(grid, lmt), 0.0 * grid, activation, grid, 0.0 * grid
        ).equilibrium_residual
    )
    k = int(np.flatnonzero(values > 0.0)[0])
    root = float(brentq(residual, grid[k - 1], grid[k], xtol=1e-14, rtol=1e-13))
    return params.max_isometric_force * root, fiber(root)


def _coordinate_vector(model: Model, spec: CapacitySpec) -> tuple[np.ndarray, int]:
    names = model.coordinate_names
    if spec.coordinate not in names:
        raise ModelError(spec.coordinate, f"model {model.name!r} has no such coordinate")
    q = np.array([c.default for c in model.coordinates], dtype=float)
    for name, value in spec.fixed:
        if name not in names:
            raise ModelError(name, f"model {model.name!r} has no such coordinate")
        if name == spec.coordinate:
            raise ModelError(name, "the swept coordinate cannot also be fixed")
        q[names.index(name)] = value
    return q, names.index(spec.coordinate)


def muscle_capacity(
    model: Model, spec: CapacitySpec, *, functions: ModelFunctions | None = None
) -> MuscleCapacity:
    """Isometric moment capacity, passive moment and moment arm curves (module docstring).

    Raises
    ------
    ModelError
        If the spec names a coordinate or muscle the model does not have, or a muscle has
        no isometric equilibrium at some value.
    """
    functions = functions or build(model)
    q0, j = _coordinate_vector(model, spec)
    names: Sequence[str] = spec.muscles or model.muscle_names
    index = []
    for name in names:
        if name not in model.muscle_names:
            raise ModelError(name, f"model {model.name!r} has no such muscle")
        index.append(model.muscle_names.index(name))
    values = np.asarray(spec.values, dtype=float)
    n, n_q = values.size, q0.size
    q = np.tile(q0, (n, 1))
    q[:, j] = values
    lengths = np.asarray(functions.muscle_tendon_lengths.map(n)(q.T)).T[:, index]
    # Mapped moment arms are n_m x (n n_q): one n_m x n_q block per value.
    arms = np.asarray(functions.moment_arms.map(n)(q.T))[:, j::n_q].T[:, index]
    active = np.empty((n, len(index)))
    passive = np.empty((n, len(index)))
    fibres = np.empty((n, len(index)))
    for k, i in enumerate(index):
        muscle = model.muscles[i]
        for t in range(n):
            active[t, k], fibres[t, k] = static_tendon_force(muscle, lengths[t, k], spec.activation)
            passive[t, k], _ = static_tendon_force(muscle, lengths[t, k], 0.0)
    low, high = model.coordinate(spec.coordinate).range
    return MuscleCapacity(
        coordinate=spec.coordinate,
        values=values,
        fixed=tuple(
            (name, float(q0[i])) for i, name in enumerate(model.coordinate_names) if i != j
        ),
        muscle_names=tuple(model.muscle_names[i] for i in index),
        activation=spec.activation,
        moment_arms=arms,
        tendon_forces=active,
        passive_tendon_forces=passive,
        norm_fiber_lengths=fibres,
        outside_range=(values < low - _RANGE_SLACK) | (values > high + _RANGE_SLACK),
    )
