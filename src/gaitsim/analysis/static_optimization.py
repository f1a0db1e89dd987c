"""Muscle forces of a measured motion by static optimisation.

:func:`static_optimization` takes the kinematics and net generalised forces of a trial
(an :class:`~gaitsim.inverse_dynamics.InverseDynamicsResult`, e.g. from inverse
kinematics followed by :func:`gaitsim.inverse_dynamics.inverse_dynamics`) and finds, at
each frame independently, the muscle activations that reproduce the net generalised
forces with the least effort. The request is a :class:`StaticOptimizationSpec`, the
answer a :class:`StaticOptimizationResult`; how each frame is solved lives in
:mod:`gaitsim.analysis.static_optimization_nlp`.

The problem at each frame
-------------------------
With coordinates ``q``, speeds ``qd`` and net generalised forces ``tau_ID`` of the
frame, activations ``a_m`` in ``[a_min, a_max]`` and normalised actuator controls
``u_i``::

    minimise    sum_m w_m a_m^p + w_res sum_i u_i^2
    subject to  sum_m r_mj(q) F_m(a_m, q, qd) + sum_i A_ji o_i u_i + tau_lim,j(q, qd)
                    = tau_ID,j                      for every unlocked coordinate j

* ``r_mj = -d l_MT,m / d q_j`` are the moment arms (``ModelFunctions.moment_arms``);
  ``r^T F`` is the muscles' generalised force.
* ``F_m`` is the tendon force with a **rigid tendon**
  (:func:`gaitsim.mechanics.muscle.rigid_tendon_state`, the equations of
  ``ModelFunctions.muscle_rigid``, evaluated with NumPy at each frame's muscle-tendon
  lengths and lengthening speeds; every muscle treated as rigid whatever its tendon in
  the model): fibre length and
  velocity follow from the muscle-tendon length and lengthening speed, and
  ``F_m = (a F_max f_L(l~) f_V(v~) + F_max f_PE(l~) + F_max beta v~) cos(alpha)``
  (DeGroote-Fregly 2016 curves, :mod:`gaitsim.mechanics.muscle`). It is affine in
  ``a`` at a given state, so ``F_m = a_m F_act,m + F_pass,m`` with
  ``F_pass = F_m(a = 0)`` and ``F_act = F_m(a = 1) - F_m(a = 0)``, both evaluated
  exactly; the constraints are therefore linear in the unknowns and each frame is a
  convex problem (its minimum is unique for ``p > 1``).
  With ``muscle_model="force_only"`` (OpenSim's ``use_muscle_physiology = false``):
  ``F_m = a_m F_max`` and no passive force.
* ``p`` is :attr:`StaticOptimizationSpec.activation_exponent` (2 or 3 usually);
  ``w_m = 1``, or with ``volume_weighted`` the muscle volume ``F_max l_opt`` (physiological
  cross-section times fibre length, the specific tension cancelling) divided by its mean
  over the model's muscles (Holmberg & Klarbring 2012, doi:10.1007/s11044-011-9277-4,
  as proposed for OpenSim in opensim-core issue #3910), so bigger muscles pay more per
  unit activation.
* Coordinate actuators ``i`` act on one coordinate each (``A_ji = 1`` for theirs) with
  generalised force ``o_i u_i`` (``o_i`` the optimal force): **reserve** actuators
  ``<coordinate>_reserve`` on every unlocked coordinate that is not a residual
  coordinate and has no coordinate actuator in the model; **residual** actuators
  ``<coordinate>_residual`` on the coordinates of the floating base (coordinates of a
  joint to ground that has a translational coordinate: the pelvis of gait models; muscles
  do not span them, so their residuals equal the net generalised forces there); and the
  model's own :class:`~gaitsim.model.description.CoordinateActuator`s (kind ``"model"``,
  e.g. gait2d's lumbar torque), with their control bounds. All are penalised by
  ``w_res u^2``; reserves and residuals are unbounded. Every one is reported, never
  hidden: see :meth:`StaticOptimizationResult.actuator_summary`.
* ``tau_lim`` are the model's passive coordinate-limit torques
  (``ModelFunctions.limit_torques``; none in OpenSim-imported models).
* Locked coordinates have no equation (as OpenSim's ``isConstrained``).

Relation to OpenSim's StaticOptimization
----------------------------------------
Read from opensim-core ``OpenSim/Analyses/StaticOptimization.cpp`` and
``StaticOptimizationTarget.cpp`` (4.x): OpenSim overrides every actuator's force with
``x_i * fOpt_i`` and constrains the accelerations (``M qdd = tau``, equivalent to
the moment balance here because the mass matrix is invertible). For a muscle with
``use_muscle_physiology = true``, ``fOpt = calcInextensibleTendonActiveFiberForce(s, 1)``,
which in ``Muscle.cpp`` is ``F_max f_L f_V cos(alpha)`` with a rigid tendon: the same
``F_act`` as here. Because the whole actuation is overridden, OpenSim applies **no
passive fibre force** (also stated in opensim-core issue #3910). Here passive fibre force
(elastic and damping, along the tendon) is included by default, as a fixed force each
frame; set ``passive_fiber_force=False`` to reproduce OpenSim. Other differences: OpenSim
penalises every actuator (reserves too) by ``|x|^p``, here reserves by ``w_res u^2``;
OpenSim's DeGrooteFregly2016Muscle override of ``calcInextensibleTendonActiveFiberForce``
returns the fibre force without ``cos(alpha)``, here the force along the tendon is used
for every muscle; OpenSim reports a failed frame only in its log, here every frame keeps
IPOPT's status (:attr:`StaticOptimizationResult.status`) and frames that did not converge
are written as NaN unless asked otherwise.

Paths: the model's functions decide how conditional path points switch; gaitsim's
default smooths the switch, OpenSim's is sharp. Pass
``functions=build(model, BuildOptions(conditional_smoothing=0.0))`` to use OpenSim's
paths exactly.

Failures are loud: frames that do not converge, reserves or residuals above their
thresholds and muscles that cannot produce active force at some frame raise a
:class:`StaticOptimizationWarning`, and the result records all of it.

Validation (``docs/static_optimization.md``): closed forms about one joint, the weighted
pseudo-inverse with ``p = 2`` and no force-length-velocity, optimality against a
converged gait2d walking simulation; on OpenSim's subject01 trial, OpenSim's own
StaticOptimization on the identical problem (activations within 4.9e-3 at its default
convergence, 5.7e-4 when converged to 1e-6) and OpenSim's CMC forces (r >= 0.83 for seven
of the nine most-loaded muscles; soleus_r and tib_ant_r, which CMC co-contracts at right
heel strike, 0.785 and 0.679).

References: Holmberg LJ, Klarbring A (2012) Muscle decomposition and
recruitment criteria influence muscle force estimates. *Multibody Syst Dyn* 28:283-289;
Hicks JL et al. (2015) Is my model good enough? *J Biomech Eng* 137(2):020905.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gaitsim.analysis.static_optimization_nlp import (
    FrameProblems,
    FrameSolutions,
    solve_all_frames,
    solve_per_frame,
)
from gaitsim.errors import ModelError
from gaitsim.inverse_dynamics import InverseDynamicsResult
from gaitsim.io.storage import StrPath, TimeSeriesTable, write_storage
from gaitsim.mechanics.model_functions import ModelFunctions, build, muscle_parameters
from gaitsim.mechanics.muscle import rigid_tendon_state
from gaitsim.model.description import GROUND, Model, Motion

__all__ = [
    "ActuatorSummary",
    "FrameAssembly",
    "StaticOptimizationResult",
    "StaticOptimizationSpec",
    "StaticOptimizationWarning",
    "actuator_thresholds",
    "assemble_frames",
    "floating_base_coordinates",
    "frame_problems",
    "static_optimization",
    "static_optimization_paths",
    "write_result_tables",
    "write_static_optimization",
]

FloatArray = NDArray[np.float64]

MuscleModel = Literal["force_length_velocity", "force_only"]
SolveMode = Literal["per_frame", "all_frames"]

#: Kinds of coordinate actuators in a result.
RESERVE, RESIDUAL, MODEL_ACTUATOR = "reserve", "residual", "model"

#: Name of the tables, as OpenSim's StaticOptimization names its storages.
TABLE_NAME = "Static Optimization"


class StaticOptimizationWarning(UserWarning):
    """Something in a static optimisation needs the user's attention (non-converged
    frames, large reserves or residuals, muscles unable to produce active force)."""


@dataclass(frozen=True)
class StaticOptimizationSpec:
    """What static optimisation to run.

    Parameters
    ----------
    activation_exponent
        ``p`` of the effort ``sum w_m a_m^p``; at least 1 (2 and 3 are usual; OpenSim's
        default is 2).
    muscle_model
        ``"force_length_velocity"``: rigid-tendon force-length-velocity muscles (OpenSim's
        ``use_muscle_physiology = true``); ``"force_only"``: ``F = a F_max``.
    passive_fiber_force
        Include the passive fibre force (elastic and damping) as a fixed force per frame
        (force-length-velocity model only). OpenSim's StaticOptimization does not: set
        ``False`` to match it.
    volume_weighted
        Weight each muscle's effort by its volume ``F_max l_opt`` over the mean volume.
    min_activation, max_activation
        Bounds on the activations (``0 <= min < max <= 1``). The default lower bound
        0.01 is OpenSim 3's hard-coded one (and Millard2012EquilibriumMuscle's default
        minimum activation).
    reserve_optimal_force
        Optimal force of each reserve actuator (N m, or N for translational
        coordinates). 1, as OpenSim's reserve-actuator files: a reserve of 1 N m costs as
        much as a fully active muscle.
    residual_optimal_force
        Optimal force of the residual actuators (N or N m).
    optimal_forces
        Per-coordinate optimal forces of reserve or residual actuators (by coordinate
        name), overriding the two defaults above.
    reserve_weight
        ``w_res``, weight of the squared normalised controls of all coordinate actuators.
    residual_coordinates
        Coordinates that get residual actuators; ``None``: the floating base
        (:func:`floating_base_coordinates`).
    reserve_threshold
        A reserve is flagged when its peak exceeds this fraction of the peak net
        generalised force of its coordinate over the trial (OpenSim's guideline: peak
        reserves below 10 % of peak joint moments; Hicks et al. 2015,
        doi:10.1115/1.4029304) ...
    reserve_threshold_minimum
        ... or this absolute value (N m or N), whichever is larger (so a coordinate with
        almost no net moment does not flag rounding noise).
    residual_force_threshold, residual_moment_threshold
        Residuals are flagged when their peak exceeds these (N for translational, N m
        for rotational coordinates; OpenSim's guidelines for peak residual forces,
        10-20 N, and moments, 75 N m, after RRA).
    solve
        ``"all_frames"`` (default): one sparse, block-diagonal NLP for the whole trial;
        its optimality conditions are those of every frame together, so when IPOPT
        succeeds every frame has converged, and when it fails the frames are re-solved
        one by one to find which fail. ``"per_frame"``: one IPOPT solve per frame,
        warm-started from the previous frame. Both give the same solution; the
        whole-trial solve was 2-4 times faster on subject01 (measured speeds in
        ``docs/static_optimization.md``).
    tolerance
        IPOPT's ``tol``. At 1e-8, muscles resting near their lower bound with ``p = 3``
        (effort gradient ``3 a_min^2 = 3e-4`` there) differed by up to 2e-5 between the
        two solve modes; at the default 1e-10 by 2e-8, for about 20 % more time.
    max_iterations
        IPOPT's ``max_iter`` (per frame, or for the whole trial).
    balance_tolerance
        A frame counts as converged only if, besides IPOPT's success, the generalised
        forces of muscles, actuators and limit torques match the net generalised forces
        within this (N m or N) at every coordinate.
    """

    activation_exponent: float = 2.0
    muscle_model: MuscleModel = "force_length_velocity"
    passive_fiber_force: bool = True
    volume_weighted: bool = False
    min_activation: float = 0.01
    max_activation: float = 1.0
    reserve_optimal_force: float = 1.0
    residual_optimal_force: float = 100.0
    optimal_forces: Mapping[str, float] = field(default_factory=dict)
    reserve_weight: float = 1.0
    residual_coordinates: tuple[str, ...] | None = None
    reserve_threshold: float = 0.10
    reserve_threshold_minimum: float = 1.0
    residual_force_threshold: float = 20.0
    residual_moment_threshold: float = 75.0
    solve: SolveMode = "all_frames"
    tolerance: float = 1e-10
    max_iterations: int = 500
    balance_tolerance: float = 1e-6

    def __post_init__(self) -> None:
        def positive(name: str) -> None:
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")

        if not (math.isfinite(self.activation_exponent) and self.activation_exponent >= 1.0):
            raise ValueError(
                "activation_exponent must be >= 1 (convex effort), "
                f"got {self.activation_exponent!r}"
            )
        if self.muscle_model not in ("force_length_velocity", "force_only"):
            raise ValueError(
                "muscle_model must be 'force_length_velocity' or 'force_only', "
                f"got {self.muscle_model!r}"
            )
        if self.solve not in ("per_frame", "all_frames"):
            raise ValueError(f"solve must be 'per_frame' or 'all_frames', got {self.solve!r}")
        if not (0.0 <= self.min_activation < self.max_activation <= 1.0):
            raise ValueError(
                "need 0 <= min_activation < max_activation <= 1, got "
                f"{self.min_activation!r}, {self.max_activation!r}"
            )
        for name in (
            "reserve_optimal_force",
            "residual_optimal_force",
            "reserve_weight",
            "reserve_threshold",
            "residual_force_threshold",
            "residual_moment_threshold",
            "tolerance",
            "balance_tolerance",
        ):
            positive(name)
        if not (
            math.isfinite(self.reserve_threshold_minimum) and self.reserve_threshold_minimum >= 0
        ):
            raise ValueError(
                f"reserve_threshold_minimum must be >= 0, got {self.reserve_threshold_minimum!r}"
            )
        if not (isinstance(self.max_iterations, int) and self.max_iterations > 0):
            raise ValueError(
                f"max_iterations must be a positive integer, got {self.max_iterations!r}"
            )
        forces = dict(self.optimal_forces)
        for coordinate, value in forces.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"optimal_forces[{coordinate!r}] must be positive, got {value!r}")
        object.__setattr__(self, "optimal_forces", forces)
        if self.residual_coordinates is not None:
            object.__setattr__(self, "residual_coordinates", tuple(self.residual_coordinates))


@dataclass(frozen=True)
class ActuatorSummary:
    """How much one coordinate actuator was used over the trial.

    Attributes
    ----------
    name, coordinate, kind
        The actuator, its coordinate and kind (``"reserve"``, ``"residual"``, ``"model"``).
    rms, peak
        RMS and maximum absolute generalised force (N m or N) over the converged frames.
    threshold
        The peak above which it is flagged (NaN for the model's own actuators, which are
        part of the model and never flagged).
    exceeds
        Whether ``peak > threshold``.
    """

    name: str
    coordinate: str
    kind: str
    rms: float
    peak: float
    threshold: float
    exceeds: bool


@dataclass(frozen=True, eq=False)
class StaticOptimizationResult:
    """Muscle activations and forces over a trial, with everything that carried load.

    Attributes
    ----------
    time
        Frame times ``(n,)`` (s).
    muscle_names
        Muscles, in model order (``n_m``).
    activations
        ``(n, n_m)`` in ``[min_activation, max_activation]``.
    forces
        ``(n, n_m)`` tendon forces (N), ``activation * active_capacity + passive_forces``.
    active_capacity
        ``(n, n_m)`` tendon force per unit activation at each frame (N).
    passive_forces
        ``(n, n_m)`` the part of the tendon force that does not depend on activation (N).
    actuator_names, actuator_coordinates, actuator_kinds
        The coordinate actuators (``n_a``): reserves, residuals and the model's own.
    actuator_controls
        ``(n, n_a)`` normalised controls.
    actuator_forces
        ``(n, n_a)`` generalised forces (N m or N): control times optimal force.
    actuator_thresholds
        ``(n_a,)`` peak above which each actuator is flagged (NaN: never flagged).
    coordinate_names
        The coordinates with an equation (unlocked), in model order (``n_c``).
    net_generalized_forces
        ``(n, n_c)`` the generalised forces to reproduce (from inverse dynamics).
    limit_generalized_forces
        ``(n, n_c)`` the model's passive limit torques at each frame.
    balance_error
        ``(n,)`` largest absolute difference, over the coordinates, between the sum of
        muscle, actuator and limit generalised forces and the net generalised forces.
    status
        IPOPT's return status per frame.
    converged
        ``(n,)`` IPOPT succeeded and ``balance_error <= balance_tolerance``.
    objective
        ``(n,)`` objective value per frame.
    iterations
        ``(n,)`` IPOPT iterations per frame (whole-trial solve: the total).
    solve_seconds, build_seconds
        Wall time spent solving and building the problem (s).
    method
        How it was solved: ``"per_frame"``, ``"all_frames"``, or ``"all_frames, then
        per_frame"`` when the whole-trial solve failed and the frames were re-solved one
        by one (the statuses are then the per-frame ones).
    spec
        The request.
    """

    time: FloatArray
    muscle_names: tuple[str, ...]
    activations: FloatArray
    forces: FloatArray
    active_capacity: FloatArray
    passive_forces: FloatArray
    actuator_names: tuple[str, ...]
    actuator_coordinates: tuple[str, ...]
    actuator_kinds: tuple[str, ...]
    actuator_controls: FloatArray
    actuator_forces: FloatArray
    actuator_thresholds: FloatArray
    coordinate_names: tuple[str, ...]
    net_generalized_forces: FloatArray
    limit_generalized_forces: FloatArray
    balance_error: FloatArray
    status: tuple[str, ...]
    converged: NDArray[np.bool_]
    objective: FloatArray
    iterations: NDArray[np.int64]
    solve_seconds: float
    build_seconds: float
    method: str
    spec: StaticOptimizationSpec

    def __post_init__(self) -> None:
        n = int(np.asarray(self.time).shape[0])
        n_m, n_a, n_c = (
            len(self.muscle_names),
            len(self.actuator_names),
            len(self.coordinate_names),
        )
        shapes = {
            "time": (n,),
            "activations": (n, n_m),
            "forces": (n, n_m),
            "active_capacity": (n, n_m),
            "passive_forces": (n, n_m),
            "actuator_controls": (n, n_a),
            "actuator_forces": (n, n_a),
            "actuator_thresholds": (n_a,),
            "net_generalized_forces": (n, n_c),
            "limit_generalized_forces": (n, n_c),
            "balance_error": (n,),
            "objective": (n,),
        }
        for name, shape in shapes.items():
            array = np.array(getattr(self, name), dtype=np.float64)
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        for name, dtype in (("converged", np.bool_), ("iterations", np.int64)):
            array = np.array(getattr(self, name), dtype=dtype)
            if array.shape != (n,):
                raise ValueError(f"{name} must have shape {(n,)}, got {array.shape}")
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        for name, size in (
            ("muscle_names", n_m),
            ("actuator_names", n_a),
            ("actuator_coordinates", n_a),
            ("actuator_kinds", n_a),
            ("coordinate_names", n_c),
            ("status", n),
        ):
            values = tuple(getattr(self, name))
            if len(values) != size:
                raise ValueError(f"{name} must have {size} entries, got {len(values)}")
            object.__setattr__(self, name, values)

    # -- look-ups -----------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.time.shape[0])

    @property
    def all_converged(self) -> bool:
        """Whether every frame converged."""
        return bool(np.all(self.converged))

    @property
    def frames_per_second(self) -> float:
        """Frames solved per second of solver time (excluding building the problem)."""
        return self.n_frames / self.solve_seconds if self.solve_seconds > 0 else math.inf

    def _kind(self, kind: str) -> list[int]:
        return [i for i, k in enumerate(self.actuator_kinds) if k == kind]

    @property
    def reserve_names(self) -> tuple[str, ...]:
        """Names of the reserve actuators."""
        return tuple(self.actuator_names[i] for i in self._kind(RESERVE))

    @property
    def reserves(self) -> FloatArray:
        """``(n, n_reserves)`` reserve generalised forces (N m or N)."""
        return self.actuator_forces[:, self._kind(RESERVE)]

    @property
    def residual_names(self) -> tuple[str, ...]:
        """Names of the residual actuators (floating base)."""
        return tuple(self.actuator_names[i] for i in self._kind(RESIDUAL))

    @property
    def residuals(self) -> FloatArray:
        """``(n, n_residuals)`` residual generalised forces (N or N m)."""
        return self.actuator_forces[:, self._kind(RESIDUAL)]

    def force(self, muscle: str) -> FloatArray:
        """One muscle's tendon force over time (N)."""
        return self.forces[:, self._muscle_index(muscle)]

    def activation(self, muscle: str) -> FloatArray:
        """One muscle's activation over time."""
        return self.activations[:, self._muscle_index(muscle)]

    def actuator(self, name: str) -> FloatArray:
        """One coordinate actuator's generalised force over time (N m or N)."""
        try:
            return self.actuator_forces[:, self.actuator_names.index(name)]
        except ValueError:
            raise LookupError(f"no coordinate actuator {name!r} in the result") from None

    def _muscle_index(self, muscle: str) -> int:
        try:
            return self.muscle_names.index(muscle)
        except ValueError:
            raise LookupError(f"no muscle {muscle!r} in the result") from None

    # -- reports ------------------------------------------------------------------------
    def actuator_summary(self) -> tuple[ActuatorSummary, ...]:
        """RMS and peak of every coordinate actuator over the converged frames, and
        whether it exceeds its threshold (see :class:`StaticOptimizationSpec`)."""
        rows = self.converged
        out = []
        for i, name in enumerate(self.actuator_names):
            values = self.actuator_forces[rows, i]
            rms = float(np.sqrt(np.mean(values**2))) if values.size else math.nan
            peak = float(np.max(np.abs(values))) if values.size else math.nan
            threshold = float(self.actuator_thresholds[i])
            out.append(
                ActuatorSummary(
                    name=name,
                    coordinate=self.actuator_coordinates[i],
                    kind=self.actuator_kinds[i],
                    rms=rms,
                    peak=peak,
                    threshold=threshold,
                    exceeds=bool(np.isfinite(threshold) and peak > threshold),
                )
            )
        return tuple(out)

    def flagged(self) -> tuple[ActuatorSummary, ...]:
        """The reserves and residuals whose peak exceeds their threshold."""
        return tuple(s for s in self.actuator_summary() if s.exceeds)

    def to_tables(self, *, include_unconverged: bool = False) -> dict[str, TimeSeriesTable]:
        """The result as OpenSim-like tables.

        Returns
        -------
        dict
            ``"activation"``: muscle activations then actuator controls (as OpenSim's
            ``*_StaticOptimization_activation.sto``); ``"force"``: tendon forces (N) then
            actuator generalised forces (N m or N) (as ``*_StaticOptimization_force.sto``);
            ``"status"``: per frame ``converged`` (1/0), ``objective``, ``iterations`` and
            ``balance_error``. Rows of frames that did not converge are NaN in the first
            two unless ``include_unconverged``.
        """
        labels = self.muscle_names + self.actuator_names
        activation = np.hstack([self.activations, self.actuator_controls])
        force = np.hstack([self.forces, self.actuator_forces])
        if not include_unconverged:
            activation = activation.copy()
            force = force.copy()
            activation[~self.converged] = np.nan
            force[~self.converged] = np.nan
        description = (
            f"Static optimization by gaitsim: activation exponent "
            f"{self.spec.activation_exponent:g}, muscle model {self.spec.muscle_model}, "
            f"passive fibre force {'on' if self.spec.passive_fiber_force else 'off'}.\n"
            f"{int(np.sum(~self.converged))} of {self.n_frames} frames did not converge"
            + ("" if include_unconverged else " (their rows are NaN)")
            + "."
        )
        metadata = {"description": description}
        status = np.column_stack(
            [
                self.converged.astype(float),
                self.objective,
                self.iterations.astype(float),
                self.balance_error,
            ]
        )
        return {
            "activation": TimeSeriesTable(
                TABLE_NAME, labels, self.time, activation, in_degrees=False, metadata=metadata
            ),
            "force": TimeSeriesTable(
                TABLE_NAME, labels, self.time, force, in_degrees=False, metadata=metadata
            ),
            "status": TimeSeriesTable(
                TABLE_NAME,
                ("converged", "objective", "iterations", "balance_error"),
                self.time,
                status,
                in_degrees=False,
                metadata=metadata,
            ),
        }


def static_optimization_paths(folder: StrPath, name: str = "gaitsim") -> dict[str, Path]:
    """The files :func:`write_static_optimization` writes, by table key (``"activation"``,
    ``"force"``, ``"status"``): ``<folder>/<name>_StaticOptimization_<key>.sto``."""
    return {
        key: Path(folder) / f"{name}_StaticOptimization_{key}.sto"
        for key in ("activation", "force", "status")
    }


def write_static_optimization(
    result: StaticOptimizationResult,
    folder: StrPath,
    name: str = "gaitsim",
    *,
    include_unconverged: bool = False,
    overwrite: bool = False,
    precision: int = 10,
) -> dict[str, Path]:
    """Write ``<name>_StaticOptimization_{activation,force,status}.sto`` into ``folder``.

    Parameters
    ----------
    result
        The result of :func:`static_optimization`.
    folder
        Destination folder (created if missing).
    name
        Prefix of the file names (OpenSim uses the model's name).
    include_unconverged
        Write the last iterate of frames that did not converge instead of NaN.
    overwrite
        Replace existing files; otherwise an existing file raises FileExistsError.
    precision
        Significant digits.

    Returns
    -------
    dict
        The path of each table written, by table key.
    """
    tables = result.to_tables(include_unconverged=include_unconverged)
    paths = static_optimization_paths(folder, name)
    write_result_tables(tables, paths, overwrite=overwrite, precision=precision)
    return paths


def write_result_tables(
    tables: Mapping[str, TimeSeriesTable],
    paths: Mapping[str, Path],
    *,
    overwrite: bool = False,
    precision: int = 10,
) -> None:
    """Write each table to its path, refusing to replace any file unless ``overwrite``.

    Every path is checked before anything is written, so a refusal leaves no partial set.

    Raises
    ------
    FileExistsError
        If a path exists and ``overwrite`` is false (all existing paths are named).
    """
    if not overwrite:
        existing = [str(p) for p in paths.values() if p.exists()]
        if existing:
            raise FileExistsError(f"not overwriting existing files: {', '.join(existing)}")
    for key, table in tables.items():
        paths[key].parent.mkdir(parents=True, exist_ok=True)
        write_storage(table, paths[key], precision=precision)


# ---------------------------------------------------------------------------------------
# Building the problem
# ---------------------------------------------------------------------------------------


def floating_base_coordinates(model: Model) -> tuple[str, ...]:
    """Coordinates of the joints to ground that allow translation (the floating base).

    These get residual actuators: in a gait model the pelvis coordinates, which no muscle
    spans. A joint to ground with rotations only (a pendulum's pin) is an ordinary joint.
    """
    out: list[str] = []
    for joint in model.joints:
        if joint.parent.body != GROUND:
            continue
        if any(c.motion is Motion.TRANSLATIONAL for c in joint.coordinates):
            out.extend(c.name for c in joint.coordinates)
    return tuple(out)


@dataclass(frozen=True)
class _Actuators:
    names: tuple[str, ...]
    coordinates: tuple[str, ...]
    kinds: tuple[str, ...]
    optimal_forces: FloatArray
    lower: FloatArray
    upper: FloatArray


def _actuators(
    model: Model, spec: StaticOptimizationSpec, equations: tuple[str, ...]
) -> _Actuators:
    names = set(model.coordinate_names)
    residual = (
        floating_base_coordinates(model)
        if spec.residual_coordinates is None
        else spec.residual_coordinates
    )
    for coordinate in (*residual, *spec.optimal_forces):
        if coordinate not in names:
            raise ModelError(coordinate, f"model {model.name!r} has no coordinate of this name")
    driven = {a.coordinate for a in model.actuators}
    rows: list[tuple[str, str, str, float, float, float]] = []
    for coordinate in equations:
        if coordinate in residual:
            force = spec.optimal_forces.get(coordinate, spec.residual_optimal_force)
            rows.append((f"{coordinate}_residual", coordinate, RESIDUAL, force, -np.inf, np.inf))
        elif coordinate not in driven:
            force = spec.optimal_forces.get(coordinate, spec.reserve_optimal_force)
            rows.append((f"{coordinate}_reserve", coordinate, RESERVE, force, -np.inf, np.inf))
    for a in model.actuators:
        if a.coordinate in equations:
            rows.append(
                (
                    a.name,
                    a.coordinate,
                    MODEL_ACTUATOR,
                    a.optimal_force,
                    a.min_control,
                    a.max_control,
                )
            )
    taken = [r[0] for r in rows]
    clash = sorted(
        {n for n in taken if taken.count(n) > 1} | (set(taken) & set(model.muscle_names))
    )
    if clash:
        raise ModelError(
            clash[0], "a coordinate actuator of this name clashes with another actuator or muscle"
        )
    return _Actuators(
        names=tuple(r[0] for r in rows),
        coordinates=tuple(r[1] for r in rows),
        kinds=tuple(r[2] for r in rows),
        optimal_forces=np.array([r[3] for r in rows], dtype=float),
        lower=np.array([r[4] for r in rows], dtype=float),
        upper=np.array([r[5] for r in rows], dtype=float),
    )


def _muscle_weights(model: Model, spec: StaticOptimizationSpec) -> FloatArray:
    if not spec.volume_weighted or not model.muscles:
        return np.ones(len(model.muscles))
    volume = np.array([m.max_isometric_force * m.optimal_fiber_length for m in model.muscles])
    return volume / volume.mean()


def _frame_muscle_forces(
    model: Model,
    functions: ModelFunctions,
    spec: StaticOptimizationSpec,
    time_: FloatArray,
    q: FloatArray,
    qd: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """``(active capacity, passive force)``, each ``(n, n_m)`` (N)."""
    n, n_m = q.shape[0], len(model.muscles)
    if spec.muscle_model == "force_only":
        f_max = np.array([m.max_isometric_force for m in model.muscles])
        return np.tile(f_max, (n, 1)), np.zeros((n, n_m))
    lengths = np.asarray(functions.muscle_tendon_lengths.map(n)(q.T))
    speeds = np.asarray(functions.lengthening_velocities.map(n)(q.T, qd.T))
    # The rigid-tendon force from gaitsim.mechanics.muscle evaluated with NumPy: the
    # equations of ModelFunctions.muscle_rigid (to about 1e-15 relative) without building
    # its CasADi expressions, which took about nine times longer than this whole
    # evaluation (subject01: 0.045 s against 0.005 s).
    # Non-finite values are reported below, so NumPy's warnings about them are silenced.
    at_zero, at_one = np.empty((n, n_m)), np.empty((n, n_m))
    with np.errstate(all="ignore"):
        for m, muscle in enumerate(model.muscles):
            parameters = muscle_parameters(muscle)
            at_zero[:, m] = rigid_tendon_state(parameters, lengths[m], speeds[m], 0.0).tendon_force
            at_one[:, m] = rigid_tendon_state(parameters, lengths[m], speeds[m], 1.0).tendon_force
    active, passive = at_one - at_zero, at_zero
    for values, what in ((active, "active force capacity"), (passive, "passive force")):
        bad = ~np.isfinite(values)
        if bad.any():
            k, m = np.argwhere(bad)[0]
            raise ModelError(
                model.muscles[m].name,
                f"non-finite {what} at t = {time_[k]:.6g} s (muscle-tendon length "
                f"{lengths[m, k]:.6g} m): check the coordinates and the muscle's parameters",
            )
    weak = active <= 0.0
    if weak.any():
        muscles = sorted({model.muscles[m].name for m in np.nonzero(weak.any(axis=0))[0]})
        warnings.warn(
            f"{int(weak.sum())} muscle-frames cannot produce active force (fibre shortening "
            f"at or beyond its maximum velocity); their activation is set to carry no force "
            f"there: {', '.join(muscles)}",
            StaticOptimizationWarning,
            stacklevel=3,
        )
        active = np.where(weak, 0.0, active)
    if not spec.passive_fiber_force:
        passive = np.zeros_like(passive)
    return active, passive


def _moment_arm_pattern(functions: ModelFunctions) -> NDArray[np.bool_]:
    """``(n_m, n_q)``: where a moment arm can be non-zero (structural pattern)."""
    sparsity = functions.moment_arms.sparsity_out(0)
    pattern = np.zeros(sparsity.shape, dtype=bool)
    rows, cols = sparsity.get_triplet()
    pattern[np.asarray(rows, dtype=int), np.asarray(cols, dtype=int)] = True
    return pattern


def _check_inputs(model: Model, functions: ModelFunctions, trial: InverseDynamicsResult) -> None:
    if functions.model is not model and functions.model != model:
        raise ModelError(
            model.name,
            f"the functions were built for another model ({functions.model.name!r}); build "
            "them for this one (a changed muscle would otherwise be ignored)",
        )
    if tuple(trial.coordinate_names) != model.coordinate_names:
        raise ModelError(
            model.name,
            "the inverse-dynamics result has coordinates "
            f"{list(trial.coordinate_names)}, the model {list(model.coordinate_names)}",
        )
    for name in ("coordinates", "speeds", "generalized_forces"):
        values = np.asarray(getattr(trial, name))
        if not np.all(np.isfinite(values)):
            k = int(np.argwhere(~np.isfinite(values))[0][0])
            raise ValueError(f"the trial's {name} are not finite at t = {trial.time[k]:.6g} s")
    if trial.time.size == 0:
        raise ValueError("the trial has no frames")


@dataclass(frozen=True, eq=False)
class FrameAssembly:
    """The frames' problems and what is needed to turn their solutions into a result.

    Shared with :mod:`gaitsim.analysis.muscle_redundancy`, which solves the same equations
    over the whole trial.
    """

    problems: FrameProblems
    time: FloatArray
    equations: tuple[str, ...]
    actuators: _Actuators
    selection: FloatArray  # (n_c, n_a): which coordinate each actuator drives
    arms: FloatArray  # (n, n_m, n_c)
    active: FloatArray  # (n, n_m)
    passive: FloatArray  # (n, n_m)
    limits: FloatArray  # (n, n_c)
    net: FloatArray  # (n, n_c)
    seconds: float

    def balance_error(self, forces: FloatArray, actuator_forces: FloatArray) -> FloatArray:
        """Largest moment-balance error of each frame (N m or N).

        ``forces`` are the muscles' tendon forces ``(n, n_m)`` and ``actuator_forces``
        the coordinate actuators' generalised forces ``(n, n_a)``; the error is
        ``|r^T F + A f_a + tau_limit - tau_net|`` over the balanced coordinates.
        """
        n = self.time.size
        if not self.equations:
            return np.zeros(n)
        supplied = (
            np.einsum("kmj,km->kj", self.arms, forces)
            + actuator_forces @ self.selection.T
            + self.limits
        )
        return np.max(np.abs(supplied - self.net), axis=1)


def assemble_frames(
    model: Model,
    trial: InverseDynamicsResult,
    spec: StaticOptimizationSpec,
    functions: ModelFunctions,
) -> FrameAssembly:
    """Check the inputs and set up every frame's moment-balance problem (no solving)."""
    _check_inputs(model, functions, trial)
    started = time.perf_counter()
    time_ = np.asarray(trial.time, dtype=float)
    q = np.asarray(trial.coordinates, dtype=float)
    qd = np.asarray(trial.speeds, dtype=float)
    tau = np.asarray(trial.generalized_forces, dtype=float)
    n, n_q, n_m = time_.size, len(model.coordinate_names), len(model.muscles)

    equations = tuple(c.name for c in model.coordinates if not c.locked)
    columns = [model.coordinate_names.index(c) for c in equations]
    actuators = _actuators(model, spec, equations)

    active, passive = _frame_muscle_forces(model, functions, spec, time_, q, qd)
    if n_m:
        arms = np.asarray(functions.moment_arms.map(n)(q.T)).reshape(n_m, n, n_q)
        arms = arms.transpose(1, 0, 2)[:, :, columns]  # (n, n_m, n_c)
        pattern = _moment_arm_pattern(functions)[:, columns].T
    else:
        arms = np.zeros((n, 0, len(columns)))
        pattern = np.zeros((len(columns), 0), dtype=bool)
    limits = np.asarray(functions.limit_torques.map(n)(q.T, qd.T)).T[:, columns]
    net = tau[:, columns]

    selection = np.zeros((len(columns), len(actuators.names)))
    for i, coordinate in enumerate(actuators.coordinates):
        selection[equations.index(coordinate), i] = 1.0
    problems = FrameProblems(
        muscle_matrices=np.einsum("kmj,km->kjm", arms, active),
        pattern=pattern,
        actuator_matrix=selection * actuators.optimal_forces,
        targets=net - limits - np.einsum("kmj,km->kj", arms, passive),
        muscle_weights=_muscle_weights(model, spec),
        actuator_weights=np.full(len(actuators.names), spec.reserve_weight),
        exponent=float(spec.activation_exponent),
        lower=np.concatenate([np.full(n_m, spec.min_activation), actuators.lower]),
        upper=np.concatenate([np.full(n_m, spec.max_activation), actuators.upper]),
    )
    return FrameAssembly(
        problems=problems,
        time=time_,
        equations=equations,
        actuators=actuators,
        selection=selection,
        arms=arms,
        active=active,
        passive=passive,
        limits=limits,
        net=net,
        seconds=time.perf_counter() - started,
    )


def frame_problems(
    model: Model,
    trial: InverseDynamicsResult,
    spec: StaticOptimizationSpec | None = None,
    *,
    functions: ModelFunctions | None = None,
) -> FrameProblems:
    """The per-frame problems :func:`static_optimization` solves, without solving them
    (to inspect them, or to time the solvers of
    :mod:`gaitsim.analysis.static_optimization_nlp`).

    Arguments and errors as :func:`static_optimization`. The unknowns are the muscles'
    activations (model order) then the coordinate actuators' controls in the order the
    result reports them (``actuator_names``: residuals and reserves in coordinate order,
    then the model's own actuators).
    """
    spec = spec or StaticOptimizationSpec()
    return assemble_frames(model, trial, spec, functions or build(model)).problems


def static_optimization(
    model: Model,
    trial: InverseDynamicsResult,
    spec: StaticOptimizationSpec | None = None,
    *,
    functions: ModelFunctions | None = None,
) -> StaticOptimizationResult:
    """Muscle activations and forces that reproduce a trial's net generalised forces.

    See the module docstring for the problem solved at each frame.

    Parameters
    ----------
    model
        The musculoskeletal model (its coordinates in the trial's order).
    trial
        Coordinates, speeds and net generalised forces over time, e.g. the result of
        :func:`gaitsim.inverse_dynamics.inverse_dynamics` (accelerations are not used:
        they are already in the net generalised forces).
    spec
        What to solve (default :class:`StaticOptimizationSpec()`).
    functions
        The model's functions from :func:`gaitsim.build`, to avoid rebuilding them.

    Returns
    -------
    StaticOptimizationResult
        Activations, tendon forces, reserves and residuals, and each frame's status.

    Raises
    ------
    ModelError
        If the trial's coordinates are not the model's, a coordinate named in the spec
        does not exist, or a muscle's force is not finite at some frame.
    ValueError
        If the trial contains non-finite values or no frames.

    Warns
    -----
    StaticOptimizationWarning
        For frames that did not converge, reserves or residuals above their thresholds,
        and muscles that cannot produce active force at some frames.
    """
    spec = spec or StaticOptimizationSpec()
    built = assemble_frames(model, trial, spec, functions or build(model))
    actuators, n_m = built.actuators, len(model.muscles)
    solutions, method = _solve(built.problems, spec)

    activations = solutions.x[:, :n_m]
    controls = solutions.x[:, n_m:]
    forces = activations * built.active + built.passive
    actuator_forces = controls * actuators.optimal_forces
    balance = built.balance_error(forces, actuator_forces)
    finite = np.all(np.isfinite(solutions.x), axis=1)
    converged = solutions.success & finite & (balance <= spec.balance_tolerance)

    result = StaticOptimizationResult(
        time=built.time,
        muscle_names=model.muscle_names,
        activations=activations,
        forces=forces,
        active_capacity=built.active,
        passive_forces=built.passive,
        actuator_names=actuators.names,
        actuator_coordinates=actuators.coordinates,
        actuator_kinds=actuators.kinds,
        actuator_controls=controls,
        actuator_forces=actuator_forces,
        actuator_thresholds=actuator_thresholds(model, spec, actuators, built.net, built.equations),
        coordinate_names=built.equations,
        net_generalized_forces=built.net,
        limit_generalized_forces=built.limits,
        balance_error=balance,
        status=solutions.status,
        converged=converged,
        objective=solutions.objective,
        iterations=solutions.iterations,
        solve_seconds=solutions.seconds,
        build_seconds=solutions.build_seconds + built.seconds,
        method=method,
        spec=spec,
    )
    _warn(result)
    return result


def _solve(problems: FrameProblems, spec: StaticOptimizationSpec) -> tuple[FrameSolutions, str]:
    """Solve as the spec asks; a failed whole-trial solve is redone frame by frame so that
    the frames that fail are known."""
    options = {"tolerance": spec.tolerance, "max_iterations": spec.max_iterations}
    if spec.solve == "per_frame":
        return solve_per_frame(problems, **options), "per_frame"
    whole = solve_all_frames(problems, **options)
    if bool(np.all(whole.success)):
        return whole, "all_frames"
    warnings.warn(
        f"the whole-trial solve ended with {whole.status[0]!r}; solving frame by frame to "
        "find the frames that fail",
        StaticOptimizationWarning,
        stacklevel=3,
    )
    frames = solve_per_frame(problems, **options)
    combined = FrameSolutions(
        x=frames.x,
        status=frames.status,
        success=frames.success,
        objective=frames.objective,
        iterations=frames.iterations,
        seconds=whole.seconds + frames.seconds,
        build_seconds=whole.build_seconds + frames.build_seconds,
    )
    return combined, "all_frames, then per_frame"


def actuator_thresholds(
    model: Model,
    spec: StaticOptimizationSpec,
    actuators: _Actuators,
    net: FloatArray,
    equations: tuple[str, ...],
) -> FloatArray:
    """The magnitude above which each reserve or residual actuator is flagged."""
    out = np.full(len(actuators.names), np.nan)
    for i, (coordinate, kind) in enumerate(
        zip(actuators.coordinates, actuators.kinds, strict=True)
    ):
        if kind == RESERVE:
            peak = float(np.max(np.abs(net[:, equations.index(coordinate)]))) if net.size else 0.0
            out[i] = max(spec.reserve_threshold * peak, spec.reserve_threshold_minimum)
        elif kind == RESIDUAL:
            rotational = model.coordinate(coordinate).motion is Motion.ROTATIONAL
            out[i] = spec.residual_moment_threshold if rotational else spec.residual_force_threshold
    return out


def _warn(result: StaticOptimizationResult) -> None:
    failed = np.nonzero(~result.converged)[0]
    if failed.size:
        shown = ", ".join(
            f"t = {result.time[k]:.4g} s ({result.status[k]}, balance error "
            f"{result.balance_error[k]:.2g})"
            for k in failed[:5]
        )
        more = f" and {failed.size - 5} more" if failed.size > 5 else ""
        warnings.warn(
            f"static optimization did not converge at {failed.size} of {result.n_frames} "
            f"frames: {shown}{more}",
            StaticOptimizationWarning,
            stacklevel=3,
        )
    flagged = result.flagged()
    if flagged:
        shown = ", ".join(
            f"{s.name} peak {s.peak:.3g} > {s.threshold:.3g} (RMS {s.rms:.3g})" for s in flagged
        )
        warnings.warn(
            f"reserve or residual actuators above their thresholds: {shown}",
            StaticOptimizationWarning,
            stacklevel=3,
        )
