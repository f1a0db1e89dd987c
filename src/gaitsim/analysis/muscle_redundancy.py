"""Muscle forces of a measured motion by a muscle-redundancy solve over the whole trial.

Static optimisation (:mod:`gaitsim.analysis.static_optimization`) shares the net
generalised forces among the muscles frame by frame, as if activation could change
instantly and tendons were rigid. :func:`muscle_redundancy` solves the same redundancy
problem over the whole trial at once, as De Groote, Kinney, Rao & Fregly (2016) and
OpenSim Moco's ``MocoInverse`` do: the unknowns are the muscles' **excitations**, the
activations follow them through first-order **activation dynamics**, and (optionally)
chosen muscles have **compliant tendons** whose force is a state. The kinematics and the
net generalised forces come from inverse dynamics (an
:class:`~gaitsim.inverse_dynamics.InverseDynamicsResult`) and are fixed. The request is a
:class:`MuscleRedundancySpec`, the answer a :class:`MuscleRedundancyResult`, which *is* a
:class:`~gaitsim.analysis.static_optimization.StaticOptimizationResult` (with excitations
added), so reports, files and the clinical pipeline take either. How the optimal control
problem is transcribed and solved lives in :mod:`gaitsim.analysis.muscle_redundancy_nlp`.

The problem
-----------
Over the mesh (the trial's frames, or a uniform mesh of ``mesh_interval``), with
excitations ``e_m(t)``, activations ``a_m(t)`` and normalised actuator controls ``u_i(t)``::

    minimise    integral of [ sum_m w_m e_m^p + w_res sum_i u_i^2 + w_df sum_t df_t^2 ] dt
    subject to  sum_m r_mj(q) F_m + sum_i A_ji o_i u_i + tau_lim,j(q, qd) = tau_ID,j
                                              (every unlocked coordinate, every mesh point)
                da_m/dt = g(e_m, a_m)         (De Groote et al. 2016 eq. 1-2, the model's
                                               activation and deactivation time constants)
                e_m(t_0) = a_m(t_0)           (no "free" initial activation, as MocoInverse)
                a_min <= a, e <= a_max

* Muscles with a **rigid tendon**: ``F_m = a_m F_act,m + F_pass,m`` with ``F_act`` and
  ``F_pass`` exactly as in static optimisation (the DeGroote-Fregly 2016 curves at the
  mesh point's muscle-tendon length and lengthening speed; passive fibre force included
  unless ``passive_fiber_force=False``).
* Muscles with a **compliant tendon** (``compliant_tendons``): the normalised tendon force
  ``f_t`` is a state and its rate ``df_t`` a control, ``F_m = F_max f_t``, and the
  implicit fibre-tendon equilibrium of De Groote et al. (2016), formulation 3 (the
  equations of ``ModelFunctions.muscle_compliant``:
  :func:`gaitsim.mechanics.muscle.compliant_tendon_state_implicit`) holds at every mesh
  point; ``w_df sum df_t^2`` (``tendon_force_rate_weight``, default 1e-3) keeps ``df_t``
  from oscillating. MocoInverse uses the same term with weight 0.01
  (``implicit_auxiliary_derivatives_weight``); measured on subject01 with every tendon
  compliant, 0.01 made the term half as large as the excitation effort and moved forces
  by up to 600 N, 1e-3 made it 7.5 % and kept ``df_t`` smooth, and without it ``df_t``
  jumped between its bounds from one mesh point to the next.
  ``f_t`` is bounded to [0, 5] (Moco's bounds) and ``df_t`` to [-50, 50] 1/s (gaitsim's
  walking problem). The initial tendon force and its rate are free (MocoInverse adds no
  initial condition on them either), so the first 0.1 s or so of a compliant solve
  depend on that freedom.
* Reserves, residuals and the model's coordinate actuators: exactly as in static
  optimisation (same names, kinds, optimal forces, weight ``w_res`` on ``u^2``, same
  thresholds and flags); see :class:`MuscleRedundancySpec`.
* ``p`` is ``excitation_exponent`` (2 by default, as Moco's ``MocoControlGoal``).

It is discretised by trapezoidal collocation (:mod:`gaitsim.analysis.muscle_redundancy_nlp`)
and solved by IPOPT with exact sparse derivatives, from a neutral start (activations and
excitations 0.05 above their lower bound, see :func:`_initial_guess`).

Relation to static optimisation and to MocoInverse
---------------------------------------------------
With instantaneous activation dynamics and rigid tendons the problem decouples into one
static optimisation per mesh point (weighted by the trapezoid rule), so the solution tends
to static optimisation's as the time constants shrink (tested). MocoInverse (opensim-core
``OpenSim/Moco/MocoInverse.cpp``) solves the same problem with the kinematics prescribed
(implicit multibody dynamics), control effort ``sum e^2`` plus reserves, the initial
activation equal to the initial excitation and, for compliant tendons, a 0.01 penalty on
the tendon force derivatives; it uses Hermite-Simpson collocation with finite-difference
derivatives and tolerances 1e-3, here trapezoidal collocation with exact derivatives and
tolerance 1e-8.

Failures are loud: a solve that IPOPT does not finish, or whose moment balance misses
``balance_tolerance`` at some mesh point, raises :class:`~gaitsim.ocp.ConvergenceError`
(its ``solution`` holds the sealed last iterate and the worst violation of every
constraint block) unless ``return_failure=True``, when the result comes back with every
mesh point marked not converged and a :class:`MuscleRedundancyWarning`. Reserves and
residuals above their thresholds are warned about, as in static optimisation.

Validation (``docs/muscle_redundancy.md``): the moment balance checked with independently
evaluated moment arms and muscle forces; the static-optimisation limit; the activations
integrated with SciPy from the solved excitations; a converged gait2d walking simulation
whose own excitations solve the same equations; OpenSim's CMC forces on subject01.

References: De Groote F, Kinney AL, Rao AV, Fregly BJ (2016) *Ann Biomed Eng*
44(10):2922-2936, doi:10.1007/s10439-016-1591-9; Dembia CL et al. (2020) OpenSim Moco,
*PLoS Comput Biol* 16(12):e1008493.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import casadi as ca
import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import CubicSpline

from gaitsim.analysis.muscle_redundancy_nlp import (
    TrialGuess,
    TrialProblem,
    TrialSolution,
    solve_trial,
)
from gaitsim.analysis.static_optimization import (
    FrameAssembly,
    StaticOptimizationResult,
    StaticOptimizationSpec,
    StaticOptimizationWarning,
    actuator_thresholds,
    assemble_frames,
    write_result_tables,
)
from gaitsim.errors import GaitsimError, ModelError
from gaitsim.inverse_dynamics import InverseDynamicsResult
from gaitsim.io.storage import StrPath, TimeSeriesTable
from gaitsim.mechanics.model_functions import ModelFunctions, build, muscle_parameters
from gaitsim.mechanics.muscle import (
    MAX_NORM_TENDON_FORCE,
    MIN_NORM_TENDON_FORCE,
    compliant_tendon_state_implicit,
)
from gaitsim.model.description import Model, Muscle, TendonModel
from gaitsim.ocp import ConvergenceError, Solution, Trajectory

__all__ = [
    "MuscleRedundancyResult",
    "MuscleRedundancySpec",
    "MuscleRedundancyWarning",
    "TrialDataError",
    "muscle_redundancy",
    "muscle_redundancy_paths",
    "write_muscle_redundancy",
]

FloatArray = NDArray[np.float64]

MuscleModel = Literal["force_length_velocity", "force_only"]
InitialActivation = Literal["steady", "free"]

#: Bounds of the normalised tendon-force rate of compliant muscles (1/s).
TENDON_FORCE_RATE_BOUNDS = (-50.0, 50.0)

#: Name of the tables.
TABLE_NAME = "Muscle Redundancy"


class MuscleRedundancyWarning(StaticOptimizationWarning):
    """Something in a muscle-redundancy solve needs the user's attention (a failed solve
    returned on request, large reserves or residuals, muscles unable to produce active
    force). A :class:`StaticOptimizationWarning`, so one filter serves both methods."""


class TrialDataError(GaitsimError, ValueError):
    """The trial's numbers cannot be used (non-finite values, too few frames, times not
    increasing); the message names the quantity, the coordinate and the time."""


@dataclass(frozen=True)
class MuscleRedundancySpec:
    """What muscle-redundancy solve to run.

    The fields shared with :class:`StaticOptimizationSpec` mean the same and have the
    same defaults (see there); :meth:`from_static_optimization` converts one into the
    other.

    Parameters
    ----------
    excitation_exponent
        ``p`` of the effort ``integral of sum w_m e_m^p``; at least 1 (2 as Moco).
    muscle_model, passive_fiber_force, volume_weighted
        As in static optimisation (``passive_fiber_force=False`` also removes the passive
        fibre force of compliant muscles; ``"force_only"`` admits no compliant tendon).
    min_activation, max_activation
        Bounds on activations **and** excitations (default 0.01 to 1).
    reserve_optimal_force, residual_optimal_force, optimal_forces, reserve_weight,
    residual_coordinates, reserve_threshold, reserve_threshold_minimum,
    residual_force_threshold, residual_moment_threshold
        Reserve and residual actuators, their weight and their thresholds, as in static
        optimisation (their squared normalised controls are integrated over time).
    compliant_tendons
        Muscles whose tendons are compliant in this solve (names), or ``"model"`` for the
        muscles the model gives a compliant tendon; every other muscle has a rigid tendon.
        Default: none (rigid tendons, as static optimisation).
    tendon_force_rate_weight
        ``w_df``, weight of the squared normalised tendon-force rates (1/s)^2 of compliant
        muscles: 1e-3, the smallest tried that kept the rates smooth (MocoInverse uses
        0.01, which biases the forces more; see the module docstring).
    initial_activation
        ``"steady"``: the initial activation equals the initial excitation (MocoInverse's
        ``MocoInitialActivationGoal``); ``"free"``: no initial condition (the optimiser
        may then start from any activation without paying for it).
    mesh_interval
        ``None``: one mesh point per frame of the trial. Otherwise the largest interval
        (s) of a uniform mesh over the trial (MocoInverse's default is 0.02 s); the
        kinematics and net generalised forces are interpolated at its points by cubic
        splines (not-a-knot).
    tolerance
        IPOPT's ``tol`` (the constraint tolerance is the smaller of it and 1e-8).
    max_iterations
        IPOPT's ``max_iter``.
    balance_tolerance
        The solve counts as converged only if, besides IPOPT's success, the generalised
        forces of muscles, actuators and limit torques match the net generalised forces
        within this (N m or N) at every mesh point and coordinate.
    """

    excitation_exponent: float = 2.0
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
    compliant_tendons: tuple[str, ...] | Literal["model"] = ()
    tendon_force_rate_weight: float = 1e-3
    initial_activation: InitialActivation = "steady"
    mesh_interval: float | None = None
    tolerance: float = 1e-8
    max_iterations: int = 1000
    balance_tolerance: float = 1e-6

    def __post_init__(self) -> None:
        # The shared fields are checked by the static-optimisation spec they make.
        self.static_optimization_spec()
        if not (math.isfinite(self.excitation_exponent) and self.excitation_exponent >= 1.0):
            raise ValueError(
                "excitation_exponent must be >= 1 (convex effort), "
                f"got {self.excitation_exponent!r}"
            )
        if self.compliant_tendons != "model":
            if isinstance(self.compliant_tendons, str):
                raise ValueError(
                    "compliant_tendons must be muscle names or 'model', "
                    f"got {self.compliant_tendons!r}"
                )
            object.__setattr__(self, "compliant_tendons", tuple(self.compliant_tendons))
            if self.compliant_tendons and self.muscle_model == "force_only":
                raise ValueError("compliant tendons need muscle_model='force_length_velocity'")
        if self.initial_activation not in ("steady", "free"):
            raise ValueError(
                f"initial_activation must be 'steady' or 'free', got {self.initial_activation!r}"
            )
        object.__setattr__(self, "optimal_forces", dict(self.optimal_forces))
        if self.residual_coordinates is not None:
            object.__setattr__(self, "residual_coordinates", tuple(self.residual_coordinates))
        if not (
            math.isfinite(self.tendon_force_rate_weight) and self.tendon_force_rate_weight >= 0
        ):
            raise ValueError(
                f"tendon_force_rate_weight must be >= 0, got {self.tendon_force_rate_weight!r}"
            )
        if self.mesh_interval is not None and not (
            math.isfinite(self.mesh_interval) and self.mesh_interval > 0
        ):
            raise ValueError(f"mesh_interval must be positive or None, got {self.mesh_interval!r}")

    def static_optimization_spec(self) -> StaticOptimizationSpec:
        """The static-optimisation settings this solve shares (the exponent applied to
        activations); used for its reserves, residuals and starting point."""
        return StaticOptimizationSpec(
            activation_exponent=self.excitation_exponent,
            muscle_model=self.muscle_model,
            passive_fiber_force=self.passive_fiber_force,
            volume_weighted=self.volume_weighted,
            min_activation=self.min_activation,
            max_activation=self.max_activation,
            reserve_optimal_force=self.reserve_optimal_force,
            residual_optimal_force=self.residual_optimal_force,
            optimal_forces=dict(self.optimal_forces),
            reserve_weight=self.reserve_weight,
            residual_coordinates=self.residual_coordinates,
            reserve_threshold=self.reserve_threshold,
            reserve_threshold_minimum=self.reserve_threshold_minimum,
            residual_force_threshold=self.residual_force_threshold,
            residual_moment_threshold=self.residual_moment_threshold,
            solve="all_frames",
            tolerance=self.tolerance,
            max_iterations=self.max_iterations,
            balance_tolerance=self.balance_tolerance,
        )

    @classmethod
    def from_static_optimization(
        cls, spec: StaticOptimizationSpec, **changes: object
    ) -> MuscleRedundancySpec:
        """The muscle-redundancy spec with a static-optimisation spec's shared settings
        (its ``activation_exponent`` becomes ``excitation_exponent``; ``solve`` and
        ``tolerance`` are not carried over), then ``changes``."""
        shared = {
            f.name: getattr(spec, f.name)
            for f in dataclasses.fields(cls)
            if f.name in {g.name for g in dataclasses.fields(spec)}
            and f.name not in ("tolerance", "max_iterations")
        }
        shared["excitation_exponent"] = spec.activation_exponent
        shared.update(changes)
        return cls(**shared)  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class MuscleRedundancyResult(StaticOptimizationResult):
    """Muscle excitations, activations and forces over a trial from one whole-trial solve.

    Every attribute of :class:`StaticOptimizationResult` means the same here, except:

    * ``time`` are the mesh points (the trial's frames unless ``mesh_interval`` was set),
      and ``net_generalized_forces`` are the trial's at those points.
    * ``forces`` are tendon forces (N): ``activation * active_capacity + passive_forces``
      for rigid tendons, ``F_max`` times the normalised tendon-force state for compliant
      ones, whose ``active_capacity`` and ``passive_forces`` are NaN (their force is not
      affine in the activation).
    * ``status`` repeats IPOPT's status of the one solve at every mesh point,
      ``iterations`` its iteration count; ``converged`` is the same for every mesh point
      (IPOPT succeeded and the balance held everywhere); ``objective`` is each mesh
      point's share of the integral (they sum to the objective).
    * ``spec`` is the static-optimisation spec of the shared settings
      (:meth:`MuscleRedundancySpec.static_optimization_spec`); the request itself is
      ``request``.

    Attributes
    ----------
    excitations
        ``(n, n_m)`` in ``[min_activation, max_activation]``.
    compliant_muscles
        Muscles solved with a compliant tendon.
    normalized_tendon_forces
        ``(n, n_m)`` tendon forces over ``F_max``.
    tendon_force_rates
        ``(n, n_m)`` time derivative of the normalised tendon force of compliant muscles
        (1/s; NaN for rigid ones).
    constraint_violations
        The worst violation of each constraint block of the transcribed problem (moment
        balance in N m or N; activation dynamics, tendon-force dynamics, fibre-tendon
        equilibrium and initial activation dimensionless).
    objective_terms
        The objective split into excitation effort, actuator effort and tendon-force rate.
    request
        The :class:`MuscleRedundancySpec` solved.
    """

    excitations: FloatArray
    compliant_muscles: tuple[str, ...]
    normalized_tendon_forces: FloatArray
    tendon_force_rates: FloatArray
    constraint_violations: Mapping[str, float]
    objective_terms: Mapping[str, float]
    request: MuscleRedundancySpec

    def __post_init__(self) -> None:
        super().__post_init__()
        shape = (self.n_frames, len(self.muscle_names))
        for name in ("excitations", "normalized_tendon_forces", "tendon_force_rates"):
            array = np.array(getattr(self, name), dtype=np.float64)
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        unknown = set(self.compliant_muscles) - set(self.muscle_names)
        if unknown:
            raise ValueError(f"compliant muscles not in the result: {sorted(unknown)}")
        object.__setattr__(self, "compliant_muscles", tuple(self.compliant_muscles))
        object.__setattr__(self, "constraint_violations", dict(self.constraint_violations))
        object.__setattr__(self, "objective_terms", dict(self.objective_terms))

    def excitation(self, muscle: str) -> FloatArray:
        """One muscle's excitation over time."""
        return self.excitations[:, self._muscle_index(muscle)]

    @property
    def total_objective(self) -> float:
        """The objective of the solve (the integral)."""
        return float(np.sum(self.objective))

    def to_tables(self, *, include_unconverged: bool = False) -> dict[str, TimeSeriesTable]:
        """The result as OpenSim-like tables.

        Returns
        -------
        dict
            ``"activation"`` (muscle activations, then actuator controls), ``"excitation"``
            (muscle excitations, then actuator controls: the controls of the solve, as
            OpenSim's ``*_controls.sto``), ``"force"`` (tendon forces in N, then actuator
            generalised forces) and ``"status"`` (per mesh point ``converged``,
            ``objective``, ``iterations``, ``balance_error``). Every row is NaN in the
            first three when the solve did not converge, unless ``include_unconverged``.
        """
        tables = super().to_tables(include_unconverged=include_unconverged)
        labels = self.muscle_names + self.actuator_names
        excitation = np.hstack([self.excitations, self.actuator_controls])
        if not include_unconverged:
            excitation = excitation.copy()
            excitation[~self.converged] = np.nan
        request = self.request
        compliant = ", ".join(self.compliant_muscles) or "none"
        description = (
            f"Muscle redundancy solve by gaitsim (trapezoidal collocation, activation "
            f"dynamics): excitation exponent {request.excitation_exponent:g}, muscle model "
            f"{request.muscle_model}, passive fibre force "
            f"{'on' if request.passive_fiber_force else 'off'}, compliant tendons: "
            f"{compliant}.\nIPOPT: {self.status[0] if self.status else 'not run'}, "
            f"{'converged' if self.all_converged else 'NOT converged'}"
            + ("" if include_unconverged or self.all_converged else " (rows are NaN)")
            + "."
        )
        metadata = {"description": description}
        out: dict[str, TimeSeriesTable] = {}
        for key, table in tables.items():
            out[key] = dataclasses.replace(table, name=TABLE_NAME, metadata=metadata)
        out["excitation"] = TimeSeriesTable(
            TABLE_NAME, labels, self.time, excitation, in_degrees=False, metadata=metadata
        )
        return out


def muscle_redundancy_paths(folder: StrPath, name: str = "gaitsim") -> dict[str, Path]:
    """The files :func:`write_muscle_redundancy` writes, by table key (``"activation"``,
    ``"excitation"``, ``"force"``, ``"status"``):
    ``<folder>/<name>_MuscleRedundancy_<key>.sto``."""
    return {
        key: Path(folder) / f"{name}_MuscleRedundancy_{key}.sto"
        for key in ("activation", "excitation", "force", "status")
    }


def write_muscle_redundancy(
    result: MuscleRedundancyResult,
    folder: StrPath,
    name: str = "gaitsim",
    *,
    include_unconverged: bool = False,
    overwrite: bool = False,
    precision: int = 10,
) -> dict[str, Path]:
    """Write ``<name>_MuscleRedundancy_{activation,excitation,force,status}.sto``.

    Parameters
    ----------
    result
        The result of :func:`muscle_redundancy`.
    folder
        Destination folder (created if missing).
    name
        Prefix of the file names.
    include_unconverged
        Write the last iterate of a solve that did not converge instead of NaN.
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
    paths = muscle_redundancy_paths(folder, name)
    write_result_tables(tables, paths, overwrite=overwrite, precision=precision)
    return paths


# ---------------------------------------------------------------------------------------
# The solve
# ---------------------------------------------------------------------------------------


def muscle_redundancy(
    model: Model,
    trial: InverseDynamicsResult,
    spec: MuscleRedundancySpec | None = None,
    *,
    functions: ModelFunctions | None = None,
    return_failure: bool = False,
) -> MuscleRedundancyResult:
    """Muscle excitations, activations and forces that reproduce a trial's net generalised
    forces over the whole trial, with activation dynamics (and compliant tendons if asked).

    See the module docstring for the problem solved.

    Parameters
    ----------
    model
        The musculoskeletal model (its coordinates in the trial's order).
    trial
        Coordinates, speeds and net generalised forces over time, e.g. the result of
        :func:`gaitsim.inverse_dynamics.inverse_dynamics`; at least two frames.
    spec
        What to solve (default :class:`MuscleRedundancySpec()`).
    functions
        The model's functions from :func:`gaitsim.build`, to avoid rebuilding them.
    return_failure
        Return the last iterate of a failed solve (every mesh point marked not converged,
        with a warning) instead of raising.

    Returns
    -------
    MuscleRedundancyResult
        Excitations, activations, tendon forces, reserves and residuals.

    Raises
    ------
    ModelError
        If the trial's coordinates are not the model's, a muscle or coordinate named in
        the spec does not exist, the functions belong to another model, or a muscle's
        force is not finite.
    TrialDataError
        If the trial has fewer than two frames, times that do not increase, or non-finite
        values (named by quantity, coordinate and time).
    ConvergenceError
        If IPOPT does not converge or the moment balance misses ``balance_tolerance``
        (unless ``return_failure``); ``error.solution`` holds the sealed last iterate,
        IPOPT's status, iterations and the worst violation of every constraint block.

    Warns
    -----
    MuscleRedundancyWarning
        For a failed solve returned on request, reserves or residuals above their
        thresholds, and rigid-tendon muscles that cannot produce active force at some
        mesh points.
    """
    spec = spec or MuscleRedundancySpec()
    functions = functions or build(model)
    _check_trial(model, trial)
    compliant = _compliant_indices(model, spec)
    mesh = _on_mesh(trial, spec.mesh_interval)
    started = time.perf_counter()
    built = _assemble_quietly(model, mesh, spec, functions, compliant)
    problem = _trial_problem(model, functions, spec, built, mesh, compliant)
    guess = _initial_guess(model, built, compliant)
    assembled = time.perf_counter() - started

    solved = solve_trial(
        problem, guess, tolerance=spec.tolerance, max_iterations=spec.max_iterations
    )
    result = _result(model, spec, built, compliant, solved, assembled)
    if not result.all_converged:
        solution = _solution(model, result, solved)
        if not return_failure:
            raise ConvergenceError(solution)
        warnings.warn(
            f"the muscle redundancy solve did not converge: {solved.status} after "
            f"{solved.iterations} iterations, largest balance error "
            f"{result.balance_error.max():.3g}; the result holds the last iterate",
            MuscleRedundancyWarning,
            stacklevel=2,
        )
    flagged = result.flagged()
    if flagged:
        shown = ", ".join(
            f"{s.name} peak {s.peak:.3g} > {s.threshold:.3g} (RMS {s.rms:.3g})" for s in flagged
        )
        warnings.warn(
            f"reserve or residual actuators above their thresholds: {shown}",
            MuscleRedundancyWarning,
            stacklevel=2,
        )
    return result


# ---------------------------------------------------------------------------------------
# Building the problem
# ---------------------------------------------------------------------------------------


def _check_trial(model: Model, trial: InverseDynamicsResult) -> None:
    """Typed errors for a trial that does not fit the model or holds unusable numbers."""
    if tuple(trial.coordinate_names) != model.coordinate_names:
        raise ModelError(
            model.name,
            "the inverse-dynamics result has coordinates "
            f"{list(trial.coordinate_names)}, the model {list(model.coordinate_names)}",
        )
    time_ = np.asarray(trial.time, dtype=float)
    if time_.size < 2:
        raise TrialDataError(
            f"the trial has {time_.size} frame(s); a solve over time needs at least two"
        )
    if not np.all(np.isfinite(time_)):
        raise TrialDataError("the trial's times are not finite")
    steps = np.diff(time_)
    if np.any(steps <= 0):
        k = int(np.argmax(steps <= 0))
        raise TrialDataError(
            f"the trial's times do not increase at frame {k + 1} "
            f"(t = {time_[k]:.6g} s, then {time_[k + 1]:.6g} s)"
        )
    for quantity in ("coordinates", "speeds", "generalized_forces"):
        values = np.asarray(getattr(trial, quantity), dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            k, j = (int(i) for i in np.argwhere(bad)[0])
            raise TrialDataError(
                f"the trial's {quantity.replace('_', ' ')} are not finite: "
                f"{model.coordinate_names[j]} at t = {time_[k]:.6g} s "
                f"({int(bad.sum())} values in all)"
            )


def _compliant_indices(model: Model, spec: MuscleRedundancySpec) -> tuple[int, ...]:
    """Muscle indices (model order) with a compliant tendon in this solve."""
    names = model.muscle_names
    if spec.compliant_tendons == "model":
        chosen = [m.name for m in model.muscles if m.tendon is TendonModel.COMPLIANT]
    else:
        chosen = list(spec.compliant_tendons)
        for name in chosen:
            if name not in names:
                raise ModelError(name, f"model {model.name!r} has no muscle of this name")
    if chosen and spec.muscle_model == "force_only":
        raise ModelError(chosen[0], "a compliant tendon needs muscle_model='force_length_velocity'")
    return tuple(sorted({names.index(n) for n in chosen}))


def _on_mesh(trial: InverseDynamicsResult, interval: float | None) -> InverseDynamicsResult:
    """The trial at the mesh points: itself, or cubic-spline interpolated on a uniform
    mesh whose intervals do not exceed ``interval``."""
    if interval is None:
        return trial
    t = np.asarray(trial.time, dtype=float)
    n_intervals = max(1, math.ceil((t[-1] - t[0]) / interval - 1e-9))
    mesh = np.linspace(t[0], t[-1], n_intervals + 1)

    def at_mesh(values: FloatArray) -> FloatArray:
        if t.size < 3:
            return np.column_stack([np.interp(mesh, t, v) for v in np.asarray(values).T])
        return np.asarray(CubicSpline(t, values, axis=0, bc_type="not-a-knot")(mesh))

    return InverseDynamicsResult(
        time=mesh,
        coordinate_names=trial.coordinate_names,
        generalized_forces=at_mesh(trial.generalized_forces),
        labels=trial.labels,
        coordinates=at_mesh(trial.coordinates),
        speeds=at_mesh(trial.speeds),
        accelerations=at_mesh(trial.accelerations),
    )


def _assemble_quietly(
    model: Model,
    mesh: InverseDynamicsResult,
    spec: MuscleRedundancySpec,
    functions: ModelFunctions,
    compliant: tuple[int, ...],
) -> FrameAssembly:
    """Static optimisation's per-frame data at the mesh points; its warning about muscles
    that cannot produce active force is re-issued for the rigid-tendon muscles only
    (compliant muscles' fibre speeds are not the rigid-tendon ones)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaticOptimizationWarning)
        built = assemble_frames(model, mesh, spec.static_optimization_spec(), functions)
    weak = built.active <= 0.0
    weak[:, list(compliant)] = False
    if weak.any():
        muscles = sorted({model.muscles[m].name for m in np.nonzero(weak.any(axis=0))[0]})
        warnings.warn(
            f"{int(weak.sum())} muscle-mesh points cannot produce active force (rigid-tendon "
            f"fibre shortening at or beyond its maximum velocity); their activation carries "
            f"no force there: {', '.join(muscles)}",
            MuscleRedundancyWarning,
            stacklevel=3,
        )
    return built


def _equilibrium_function(muscles: tuple[Muscle, ...], passive: bool) -> ca.Function:
    """``(l, s, a, f, df) -> R``: the implicit fibre-tendon equilibrium residuals of the
    given muscles (De Groote et al. 2016 formulation 3, as ``ModelFunctions.muscle_compliant``
    builds them), with passive fibre force removed if not ``passive``."""
    n = len(muscles)
    length, speed, act, force, rate = (ca.SX.sym(s, n) for s in ("l", "s", "a", "f", "df"))
    residuals = []
    for i, muscle in enumerate(muscles):
        if not passive:
            muscle = dataclasses.replace(muscle, ignore_passive_fiber_force=True)
        state = compliant_tendon_state_implicit(
            muscle_parameters(muscle), length[i], speed[i], act[i], force[i], rate[i]
        )
        residuals.append(state.equilibrium_residual)
    return ca.Function(
        "equilibrium",
        [length, speed, act, force, rate],
        [ca.vertcat(*residuals) if residuals else ca.SX(0, 1)],
        ["l", "s", "a", "f", "df"],
        ["residual"],
    )


def _trial_problem(
    model: Model,
    functions: ModelFunctions,
    spec: MuscleRedundancySpec,
    built: FrameAssembly,
    mesh: InverseDynamicsResult,
    compliant: tuple[int, ...],
) -> TrialProblem:
    """The whole-trial problem's data from static optimisation's per-frame data."""
    n = built.time.size
    f_max = np.array([m.max_isometric_force for m in model.muscles])
    # Per unit of each muscle's balance unknown: activation (rigid) or normalised tendon
    # force (compliant).
    per_unit = built.active.copy()
    passive = built.passive.copy()
    columns = list(compliant)
    per_unit[:, columns] = f_max[columns]
    passive[:, columns] = 0.0
    matrices = np.einsum("kmj,km->kjm", built.arms, per_unit)
    targets = built.net - built.limits - np.einsum("kmj,km->kj", built.arms, passive)
    if compliant:
        q = np.asarray(mesh.coordinates).T
        qd = np.asarray(mesh.speeds).T
        lengths = np.asarray(functions.muscle_tendon_lengths.map(n)(q))[columns].T
        speeds = np.asarray(functions.lengthening_velocities.map(n)(q, qd))[columns].T
    else:
        lengths = speeds = np.zeros((n, 0))
    actuators = built.actuators
    return TrialProblem(
        time=built.time,
        muscle_matrices=matrices,
        pattern=built.problems.pattern,
        actuator_matrix=built.problems.actuator_matrix,
        targets=targets,
        compliant=compliant,
        lengths=lengths,
        speeds=speeds,
        activation_rate=functions.activation_rate,
        equilibrium=_equilibrium_function(
            tuple(model.muscles[i] for i in compliant), spec.passive_fiber_force
        )
        if compliant
        else None,
        muscle_weights=built.problems.muscle_weights,  # 1, or volume over mean volume
        actuator_weights=np.full(len(actuators.names), spec.reserve_weight),
        tendon_force_rate_weight=spec.tendon_force_rate_weight,
        exponent=float(spec.excitation_exponent),
        activation_bounds=(spec.min_activation, spec.max_activation),
        actuator_lower=actuators.lower,
        actuator_upper=actuators.upper,
        tendon_force_bounds=(MIN_NORM_TENDON_FORCE, MAX_NORM_TENDON_FORCE),
        tendon_force_rate_bounds=TENDON_FORCE_RATE_BOUNDS,
        initial_steady=spec.initial_activation == "steady",
    )


def _initial_guess(model: Model, built: FrameAssembly, compliant: tuple[int, ...]) -> TrialGuess:
    """A neutral start: activations and excitations 0.05 above their lower bound, actuator
    controls 0 (or their nearest bound), compliant tendon forces the rigid-tendon forces at
    that activation over ``F_max``, and their finite-difference rates.

    Starting from static optimisation's solution instead saved one IPOPT iteration of
    21-28 on subject01 (same solution to 1e-10) and cost the static optimisation: 0.1 s
    there, 4-7 s for gait3d's 92 muscles over 221 frames.
    """
    n, n_m = built.time.size, len(model.muscles)
    start = np.tile(built.problems.initial_guess(), (n, 1))
    activations, controls = start[:, :n_m], start[:, n_m:]
    columns = list(compliant)
    f_max = np.array([model.muscles[i].max_isometric_force for i in compliant])
    forces = (activations * built.active + built.passive)[:, columns] / f_max
    forces = np.clip(forces, MIN_NORM_TENDON_FORCE, MAX_NORM_TENDON_FORCE)
    rates = np.gradient(forces, built.time, axis=0) if columns else np.zeros((n, 0))
    return TrialGuess(
        activations=activations,
        excitations=activations.copy(),
        controls=controls,
        tendon_forces=forces,
        tendon_force_rates=np.clip(rates, *TENDON_FORCE_RATE_BOUNDS),
    )


# ---------------------------------------------------------------------------------------
# From the solution to the result
# ---------------------------------------------------------------------------------------


def _result(
    model: Model,
    spec: MuscleRedundancySpec,
    built: FrameAssembly,
    compliant: tuple[int, ...],
    solved: TrialSolution,
    assembled_seconds: float,
) -> MuscleRedundancyResult:
    n, n_m = built.time.size, len(model.muscles)
    columns = list(compliant)
    f_max = np.array([m.max_isometric_force for m in model.muscles])
    activations = solved.activations
    forces = activations * built.active + built.passive
    forces[:, columns] = solved.tendon_forces * f_max[columns]
    active = built.active.copy()
    passive = built.passive.copy()
    active[:, columns] = np.nan
    passive[:, columns] = np.nan
    rates = np.full((n, n_m), np.nan)
    rates[:, columns] = solved.tendon_force_rates

    actuators = built.actuators
    actuator_forces = solved.controls * actuators.optimal_forces
    balance = built.balance_error(forces, actuator_forces)
    finite = bool(np.all(np.isfinite(forces)) and np.all(np.isfinite(solved.controls)))
    converged = solved.success and finite and bool(np.all(balance <= spec.balance_tolerance))
    so_spec = spec.static_optimization_spec()
    mesh_text = (
        "every frame"
        if spec.mesh_interval is None
        else f"uniform mesh, interval <= {spec.mesh_interval:g} s"
    )
    return MuscleRedundancyResult(
        time=built.time,
        muscle_names=model.muscle_names,
        activations=activations,
        forces=forces,
        active_capacity=active,
        passive_forces=passive,
        actuator_names=actuators.names,
        actuator_coordinates=actuators.coordinates,
        actuator_kinds=actuators.kinds,
        actuator_controls=solved.controls,
        actuator_forces=actuator_forces,
        actuator_thresholds=actuator_thresholds(
            model, so_spec, actuators, built.net, built.equations
        ),
        coordinate_names=built.equations,
        net_generalized_forces=built.net,
        limit_generalized_forces=built.limits,
        balance_error=balance,
        status=(solved.status,) * n,
        converged=np.full(n, converged),
        objective=solved.objective,
        iterations=np.full(n, solved.iterations, dtype=np.int64),
        solve_seconds=solved.seconds,
        build_seconds=solved.build_seconds + assembled_seconds,
        method=f"muscle redundancy: trapezoidal collocation over {n} mesh points ({mesh_text})",
        spec=so_spec,
        excitations=solved.excitations,
        compliant_muscles=tuple(model.muscle_names[i] for i in compliant),
        normalized_tendon_forces=forces / f_max,
        tendon_force_rates=rates,
        constraint_violations={
            **solved.violations,
            "moment balance (recomputed)": float(balance.max()) if n else 0.0,
        },
        objective_terms=solved.objective_terms,
        request=spec,
    )


def _solution(model: Model, result: MuscleRedundancyResult, solved: TrialSolution) -> Solution:
    """The solve as a :class:`gaitsim.ocp.Solution` (states: activations and compliant
    tendon forces; controls: excitations, actuator controls, tendon-force rates), for
    :class:`ConvergenceError`. It is sealed when the solve did not converge."""
    compliant = result.compliant_muscles
    states = np.hstack([result.activations, solved.tendon_forces])
    controls = np.hstack([result.excitations, result.actuator_controls, solved.tendon_force_rates])
    trajectory = Trajectory(
        time=result.time,
        state_names=tuple(f"{m}_activation" for m in result.muscle_names)
        + tuple(f"{m}_tendon_force" for m in compliant),
        states=states,
        control_names=tuple(f"{m}_excitation" for m in result.muscle_names)
        + result.actuator_names
        + tuple(f"{m}_tendon_force_rate" for m in compliant),
        controls=controls,
    )
    return Solution(
        _trajectory=trajectory,
        success=result.all_converged,
        status=solved.status,
        iterations=solved.iterations,
        objective=result.total_objective,
        objective_terms=dict(solved.objective_terms),
        constraint_violations=dict(result.constraint_violations),
        seconds=solved.seconds,
        build_seconds=result.build_seconds,
        problem_name=f"muscle redundancy of {model.name} ({result.n_frames} mesh points)",
        settings={
            "spec": {
                k: (dict(v) if isinstance(v, Mapping) else v)
                for k, v in dataclasses.asdict(result.request).items()
            },
            "ipopt": dict(solved.ipopt_options),
            "balance_tolerance": result.request.balance_tolerance,
        },
    )
