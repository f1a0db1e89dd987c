"""Muscle-redundancy solve with activation dynamics (:mod:`gaitsim.analysis.muscle_redundancy`).

References used here, all independent of the code under test:

* a law: the moment balance (muscles + actuators = inverse dynamics) at every mesh point,
  with moment arms and tendon forces evaluated frame by frame by the model's own CasADi
  functions (``moment_arms``, ``muscle_rigid``, ``muscle_compliant``), not by the solver's
  mapped, NumPy-split evaluation;
* a limit: with (almost) instantaneous activation dynamics the problem decouples into one
  static optimisation per mesh point (:func:`static_optimization`, tested on its own
  against closed forms and OpenSim);
* an integration: SciPy's ``solve_ivp`` of the activation dynamics driven by the solved
  excitations must reproduce the solved activations to the collocation error, which must
  shrink when the mesh is refined;
* a known answer: the ``effort_only_stride`` fixture is a converged predictive walking
  simulation of gait2d (the forward guess gaitsim shipped before metabolic energy and
  head stability joined the walking goals) whose objective was the same integral of
  squared excitations, with
  the same activation dynamics (trapezoidal collocation, same mesh), the same bounds and
  rigid tendons (its other terms depend on the kinematics only). With its kinematics
  fixed, its excitations and activations are a minimiser of the problem solved here (up
  to its own tolerance, 1e-4, its periodic rather than steady start, and the reserves
  allowed here).

"Measured" figures below give the range over two versions of the shipped stride (the
walking problem before and after its acceleration and ground-reaction terms were
re-tuned in November 2026), so that the tolerances do not hang on one solution.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from gaitsim.analysis.muscle_redundancy import (
    MuscleRedundancyResult,
    MuscleRedundancySpec,
    MuscleRedundancyWarning,
    TrialDataError,
    muscle_redundancy,
    muscle_redundancy_paths,
    write_muscle_redundancy,
)
from gaitsim.analysis.static_optimization import (
    StaticOptimizationResult,
    StaticOptimizationSpec,
    StaticOptimizationWarning,
    static_optimization,
)
from gaitsim.errors import GaitsimError, ModelError
from gaitsim.inverse_dynamics import InverseDynamicsResult, generalized_force_labels
from gaitsim.io.storage import read_storage
from gaitsim.mechanics.model_functions import build
from gaitsim.model.description import Model
from gaitsim.ocp import ConvergenceError, SealedSolutionError

# The requirement on the moment balance at every frame (N m or N); the balance is
# linear in the unknowns, so it holds to rounding once IPOPT takes a full step.
BALANCE_TOLERANCE = 1e-6
# The Achilles tendons made compliant in the compliant-tendon tests (as the Moco paper's
# MocoInverse of walking: gastrocnemius and soleus, stanfordnmbl/mocopaper).
ACHILLES = ("gastroc_r", "soleus_r", "gastroc_l", "soleus_l")


def stride_trial(model: Model, stride) -> InverseDynamicsResult:  # type: ignore[no-untyped-def]
    """The stride's kinematics and net generalised forces as an inverse-dynamics result."""
    return InverseDynamicsResult(
        time=stride.time,
        coordinate_names=model.coordinate_names,
        generalized_forces=stride.joint_moments,
        labels=generalized_force_labels(model),
        coordinates=stride.q,
        speeds=stride.qd,
        accelerations=stride.qdd,
    )


@pytest.fixture(scope="module")
def solved(effort_only_stride):  # type: ignore[no-untyped-def]
    """``(model, functions, stride, trial, result)``: the default solve of a forward
    stride predicted by minimising effort (solved once for the module); its excitations
    are the known answer of the muscle-redundancy problem, which the default walking
    goals (metabolic energy too) would not give."""
    model, functions, stride = effort_only_stride
    trial = stride_trial(model, stride)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaticOptimizationWarning)  # nothing to warn about
        result = muscle_redundancy(model, trial, functions=functions)
    return model, functions, stride, trial, result


def balance_error(model: Model, functions, trial, result) -> float:  # type: ignore[no-untyped-def]
    """Largest |muscles + actuators - net| over mesh points and coordinates, with moment
    arms evaluated frame by frame."""
    worst = 0.0
    for k in range(result.n_frames):
        arms = np.asarray(functions.moment_arms(trial.coordinates[k]))
        supplied = arms.T @ result.forces[k]
        for i, coordinate in enumerate(result.actuator_coordinates):
            supplied[model.coordinate_names.index(coordinate)] += result.actuator_forces[k, i]
        worst = max(worst, float(np.max(np.abs(supplied - trial.generalized_forces[k]))))
    return worst


# ---------------------------------------------------------------------------------------
# The moment balance, the bounds and the result's bookkeeping
# ---------------------------------------------------------------------------------------


def test_moment_balance_holds_at_every_mesh_point(solved) -> None:  # type: ignore[no-untyped-def]
    model, functions, stride, trial, result = solved
    assert result.all_converged and result.status[0] == "Solve_Succeeded"
    np.testing.assert_array_equal(result.time, stride.time)  # one mesh point per frame
    # Tendon forces from the model's CasADi rigid-tendon function at the solved
    # activations, frame by frame (the solver used static optimisation's NumPy split
    # F = a F_act + F_pass): identical up to rounding.
    for k in range(result.n_frames):
        lengths = functions.muscle_tendon_lengths(trial.coordinates[k])
        speeds = functions.lengthening_velocities(trial.coordinates[k], trial.speeds[k])
        tendon = np.asarray(functions.muscle_rigid(lengths, speeds, result.activations[k])[0])
        np.testing.assert_allclose(result.forces[k], tendon.ravel(), rtol=1e-10, atol=1e-8)
    assert balance_error(model, functions, trial, result) < BALANCE_TOLERANCE
    assert result.balance_error.max() < BALANCE_TOLERANCE
    lower, upper = result.request.min_activation, result.request.max_activation
    for values in (result.activations, result.excitations):
        assert np.all((values >= lower) & (values <= upper))
    # Initial activation = initial excitation (MocoInverse's initial activation goal).
    np.testing.assert_allclose(result.excitations[0], result.activations[0], atol=1e-9)
    # The objective per mesh point sums to the three terms.
    assert math.isclose(result.total_objective, sum(result.objective_terms.values()), rel_tol=1e-10)


def test_result_is_a_static_optimization_result_and_is_written(solved, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, _, _, _, result = solved
    assert isinstance(result, MuscleRedundancyResult)
    assert isinstance(result, StaticOptimizationResult)  # reports take either
    assert result.residual_names == (
        "pelvis_tilt_residual",
        "pelvis_tx_residual",
        "pelvis_ty_residual",
    )
    np.testing.assert_array_equal(result.excitation("soleus_r"), result.excitations[:, 7])
    paths = write_muscle_redundancy(result, tmp_path, "stride")
    assert paths == muscle_redundancy_paths(tmp_path, "stride")
    excitation = read_storage(paths["excitation"])
    np.testing.assert_allclose(excitation.column("soleus_r"), result.excitation("soleus_r"))
    force = read_storage(paths["force"])
    np.testing.assert_allclose(force.column("vasti_l"), result.force("vasti_l"), rtol=1e-9)
    np.testing.assert_allclose(
        force.column("lumbarAct"), result.actuator("lumbarAct"), rtol=1e-9, atol=1e-9
    )
    with pytest.raises(FileExistsError):
        write_muscle_redundancy(result, tmp_path, "stride")


# ---------------------------------------------------------------------------------------
# The static-optimisation limit
# ---------------------------------------------------------------------------------------


def with_time_constants(model: Model, activation: float, deactivation: float) -> Model:
    return dataclasses.replace(
        model,
        muscles=tuple(
            dataclasses.replace(
                m, activation_time_constant=activation, deactivation_time_constant=deactivation
            )
            for m in model.muscles
        ),
    )


def test_instantaneous_activation_approaches_static_optimization(solved) -> None:  # type: ignore[no-untyped-def]
    model, functions, _, trial, _ = solved
    reference = static_optimization(model, trial, StaticOptimizationSpec(), functions=functions)
    assert reference.all_converged
    differences = []
    for tau in (1e-4, 1e-6):
        # Time constants 150 and 15 000 times shorter than the model's (15 and 60 ms).
        fast = with_time_constants(model, tau, 4.0 * tau)
        result = muscle_redundancy(fast, trial, functions=build(fast))
        assert result.all_converged
        differences.append(np.abs(result.activations - reference.activations))
        if tau == 1e-6:
            # Excitation and activation coincide: their gap is about tau / h times the
            # activation's changes (h = 9 ms), measured 1.6e-5 to 2.2e-5.
            assert np.max(np.abs(result.excitations - result.activations)) < 1e-4
    coarse, fine = differences
    # Measured: max 5.3e-3 to 1.1e-2 at tau = 100 us, 4.2e-4 to 5.7e-4 at 1 us (means
    # 1.7e-4 to 2.3e-4 and 1.6e-5 to 3.3e-5). The approach is slower than tau / h because
    # the trapezoidal rule is not L-stable: a fast activation change leaves an
    # excitation-activation gap that alternates from one mesh point to the next instead
    # of decaying, and near the activation bounds the optimiser shifts neighbouring
    # activations to absorb it. 2e-3 (3.5 times the largest measured) on activations of
    # up to 0.54; and the difference must shrink at least five-fold (measured 13-19).
    assert fine.max() < 2e-3 and fine.mean() < 1e-4
    assert fine.max() < 0.2 * coarse.max()


# ---------------------------------------------------------------------------------------
# The activation dynamics
# ---------------------------------------------------------------------------------------


def integration_error(functions, result) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Largest and RMS |a_ivp - a|, where a_ivp integrates the activation dynamics from the
    solved initial activation with the excitations linear between mesh points."""
    t, excitations = result.time, result.excitations

    def rate(at: float, a: np.ndarray) -> np.ndarray:
        e = np.array([np.interp(at, t, excitations[:, m]) for m in range(excitations.shape[1])])
        return np.asarray(functions.activation_rate(e, a)).ravel()

    step = float(np.min(np.diff(t)))
    ivp = solve_ivp(
        rate,
        (t[0], t[-1]),
        result.activations[0],
        t_eval=t,
        method="LSODA",
        rtol=1e-10,
        atol=1e-12,
        max_step=step / 4,  # to see every kink of the piecewise-linear excitations
    )
    assert ivp.success
    error = np.abs(ivp.y.T - result.activations)
    return float(np.max(error)), float(np.sqrt(np.mean(error**2)))


def test_activations_follow_the_activation_dynamics(solved) -> None:  # type: ignore[no-untyped-def]
    model, functions, stride, trial, result = solved
    # The defects of the collocation hold to IPOPT's constraint tolerance (1e-8).
    assert result.constraint_violations["activation dynamics"] < 1e-8
    coarse, coarse_rms = integration_error(functions, result)
    # Trapezoidal collocation is second order: with h = 9 ms against time constants of
    # 15-60 ms, measured 3.3e-3 to 3.4e-3 (RMS 1.7e-4 to 2.2e-4), at the sharpest
    # excitation changes.
    assert coarse < 0.01
    step = float(stride.time[1] - stride.time[0])
    refined = muscle_redundancy(
        model,
        trial,
        MuscleRedundancySpec(mesh_interval=0.5 * step * (1 + 1e-9)),
        functions=functions,
    )
    assert refined.n_frames == 2 * result.n_frames - 1
    # The mesh's ends are the trial's; in between, the splined net moments still balance.
    assert refined.time[0] == stride.time[0] and refined.time[-1] == stride.time[-1]
    np.testing.assert_allclose(refined.net_generalized_forces[::2], trial.generalized_forces)
    assert refined.balance_error.max() < BALANCE_TOLERANCE
    fine, fine_rms = integration_error(functions, refined)
    # Halving the mesh interval: the RMS error 3.6-3.7 times smaller (second order: 4;
    # first order would give 2), the largest 2.1-2.8 times (at kinks of the excitations,
    # where the order drops).
    assert fine_rms < coarse_rms / 3.0
    assert fine < coarse / 1.5


# ---------------------------------------------------------------------------------------
# A known answer: the walking simulation's own excitations
# ---------------------------------------------------------------------------------------


def test_the_walking_simulation_solves_the_same_problem(solved) -> None:  # type: ignore[no-untyped-def]
    _, _, stride, _, result = solved
    later = stride.time >= 0.15
    gap = np.abs(result.activations - stride.activations)
    # The stride starts from its periodic activations, the solve from a steady state
    # (e = a): the difference at t = 0 (0.15-0.36) decays with the activation dynamics
    # (20-25 ms per e-fold) and is below 0.01 from 0.08 s on; after 0.15 s (six e-folds,
    # enough for any start) measured 6.3e-3 to 7.2e-3 at most (mean 1.5e-3 to 1.6e-3): the
    # stride was converged to IPOPT's 1e-4 only (one version re-solved to 1e-7 gave 1-4e-3
    # over most of the stride) and reserves of up to 0.025 N m are allowed here. 0.01 on
    # activations of up to 0.54.
    assert gap[0].max() > 0.05  # the start does differ
    assert gap[later].max() < 0.01
    assert gap[later].mean() < 3e-3
    # The effort integrals: measured 0.75 % and 0.93 % apart (0.0975 against 0.0983,
    # 0.0831 against 0.0839; the steady start and the reserves differ); 2 %.
    weights = np.zeros(stride.time.size)
    weights[:-1] += np.diff(stride.time) / 2
    weights[1:] += np.diff(stride.time) / 2
    simulated = float(np.sum(weights * np.sum(stride.excitations**2, axis=1)))
    assert result.objective_terms["excitation effort"] == pytest.approx(simulated, rel=0.02)
    # Reserves: marginal effort per N m is about 2 e / (r F) ~ 1e-3 per N m here, so
    # reserves of order 0.01 N m remain (measured 0.019-0.025); far below any joint
    # moment.
    assert np.max(np.abs(result.reserves)) < 0.05


def test_a_free_start_activates_for_free(solved) -> None:  # type: ignore[no-untyped-def]
    """Why the steady start is the default (as in MocoInverse): without it, the optimiser
    starts with a high activation that costs no excitation."""
    model, functions, _, trial, steady = solved
    free = muscle_redundancy(
        model, trial, MuscleRedundancySpec(initial_activation="free"), functions=functions
    )
    assert free.all_converged
    assert free.objective_terms["excitation effort"] < steady.objective_terms["excitation effort"]
    # Measured: activation exceeds excitation by 0.99 at t = 0 (the steady start's
    # largest gap is 1e-9).
    assert np.max(free.activations[0] - free.excitations[0]) > 0.5


# ---------------------------------------------------------------------------------------
# Compliant tendons
# ---------------------------------------------------------------------------------------


def test_compliant_tendons_obey_the_fibre_tendon_equilibrium(solved) -> None:  # type: ignore[no-untyped-def]
    model, functions, _, trial, _ = solved
    spec = MuscleRedundancySpec(compliant_tendons=ACHILLES)
    result = muscle_redundancy(model, trial, spec, functions=functions)
    assert result.all_converged
    assert set(result.compliant_muscles) == set(ACHILLES)
    columns = [model.muscle_names.index(m) for m in ACHILLES]
    # The model's own implicit compliant-tendon function (ModelFunctions.muscle_compliant)
    # at the solved states and rates, frame by frame: the equilibrium residual vanishes
    # (IPOPT's constraint tolerance, 1e-8) and the tendon force is F_max times the state.
    for k in range(result.n_frames):
        q, qd = trial.coordinates[k], trial.speeds[k]
        force, residual, *_ = functions.muscle_compliant(
            functions.muscle_tendon_lengths(q),
            functions.lengthening_velocities(q, qd),
            result.activations[k],
            result.normalized_tendon_forces[k],
            np.nan_to_num(result.tendon_force_rates[k]),
        )
        assert np.max(np.abs(np.asarray(residual).ravel()[columns])) < 1e-7
        np.testing.assert_allclose(
            np.asarray(force).ravel()[columns], result.forces[k, columns], rtol=1e-10
        )
    assert balance_error(model, functions, trial, result) < BALANCE_TOLERANCE
    # The tendon force is the trapezoidal integral of its rate.
    f = result.normalized_tendon_forces[:, columns]
    rates = result.tendon_force_rates[:, columns]
    h = np.diff(result.time)[:, None]
    np.testing.assert_allclose(np.diff(f, axis=0), h / 2 * (rates[:-1] + rates[1:]), atol=1e-8)
    assert np.all(np.isnan(result.active_capacity[:, columns]))
    assert np.all(np.isnan(result.tendon_force_rates[:, [0, 1]]))  # rigid hamstrings, bifemsh


def test_stiff_compliant_tendons_approach_rigid_ones(solved) -> None:  # type: ignore[no-untyped-def]
    """A limit: as the tendon strain at F_max goes to zero the compliant tendon becomes
    rigid, and so must the solution (after the start, see below)."""
    model, _, stride, trial, rigid = solved
    stiff = dataclasses.replace(
        model,
        muscles=tuple(
            dataclasses.replace(m, tendon_strain_at_one_norm_force=0.002)  # model: 0.049
            if m.name in ACHILLES
            else m
            for m in model.muscles
        ),
    )
    # Without the smoothing penalty on df (which alone would keep the forces apart).
    spec = MuscleRedundancySpec(compliant_tendons=ACHILLES, tendon_force_rate_weight=0.0)
    result = muscle_redundancy(stiff, trial, spec, functions=build(stiff))
    assert result.all_converged
    # The initial tendon force and its rate are free (no initial condition, as in
    # MocoInverse), so the first 0.1 s may differ (measured 13-33 N at t = 0). From there
    # on, measured 4.9-5.1 N on forces of up to 1280-1440 N and 5e-3 to 7e-3 on
    # activations; with the model's 4.9 % strain, 52-55 N and 0.065-0.072. 20 N and 0.02
    # separate the two.
    later = stride.time >= 0.1
    assert np.max(np.abs(result.forces[later] - rigid.forces[later])) < 20.0
    assert np.max(np.abs(result.activations[later] - rigid.activations[later])) < 0.02


# ---------------------------------------------------------------------------------------
# Reserves take over
# ---------------------------------------------------------------------------------------


def test_reserve_takes_over_when_the_plantarflexors_are_removed(solved) -> None:  # type: ignore[no-untyped-def]
    model, _, _, trial, _ = solved
    weak = dataclasses.replace(
        model, muscles=tuple(m for m in model.muscles if m.name not in ("soleus_r", "gastroc_r"))
    )
    with pytest.warns(MuscleRedundancyWarning, match="ankle_angle_r_reserve"):
        result = muscle_redundancy(weak, trial)
    assert result.all_converged
    reserve = result.actuator("ankle_angle_r_reserve")
    ankle = trial.generalized_forces[:, model.coordinate_names.index("ankle_angle_r")]
    # Only tibialis anterior (a dorsiflexor) is left at the right ankle, so wherever the
    # net moment plantarflexes the reserve supplies at least all of it.
    plantar = ankle < 0
    assert plantar.sum() > 10
    assert np.all(reserve[plantar] <= ankle[plantar] + BALANCE_TOLERANCE)
    assert {s.name for s in result.flagged()} == {"ankle_angle_r_reserve"}


# ---------------------------------------------------------------------------------------
# Failures are loud
# ---------------------------------------------------------------------------------------


def test_a_failed_solve_raises_with_diagnostics(solved, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, functions, _, trial, _ = solved
    spec = MuscleRedundancySpec(max_iterations=1)
    with pytest.raises(ConvergenceError) as info:
        muscle_redundancy(model, trial, spec, functions=functions)
    solution = info.value.solution
    assert solution.status == "Maximum_Iterations_Exceeded" and solution.iterations == 1
    assert solution.sealed
    with pytest.raises(SealedSolutionError):
        _ = solution.trajectory
    assert {"moment balance", "activation dynamics", "initial activation"} <= set(
        solution.constraint_violations
    )
    assert "Maximum_Iterations_Exceeded" in str(info.value) and "gait2d" in str(info.value)
    # Asked for the failure: the last iterate, flagged everywhere, NaN in the files.
    with pytest.warns(MuscleRedundancyWarning, match="did not converge"):
        failed = muscle_redundancy(model, trial, spec, functions=functions, return_failure=True)
    assert not failed.converged.any() and not failed.all_converged
    tables = failed.to_tables()
    assert np.all(np.isnan(tables["force"].data)) and np.all(np.isnan(tables["excitation"].data))
    kept = failed.to_tables(include_unconverged=True)["excitation"]
    np.testing.assert_array_equal(kept.column("vasti_r"), failed.excitation("vasti_r"))


def test_inputs_that_do_not_fit_raise_typed_errors(solved) -> None:  # type: ignore[no-untyped-def]
    model, functions, _, trial, _ = solved
    renamed = dataclasses.replace(trial, coordinate_names=("tilt", *trial.coordinate_names[1:]))
    with pytest.raises(ModelError, match="coordinates"):
        muscle_redundancy(model, renamed, functions=functions)
    with pytest.raises(ModelError, match="soleus") as info:
        muscle_redundancy(
            model, trial, MuscleRedundancySpec(compliant_tendons=("soleus",)), functions=functions
        )
    assert info.value.element == "soleus"
    with pytest.raises(ModelError, match="knee"):
        muscle_redundancy(
            model, trial, MuscleRedundancySpec(optimal_forces={"knee": 5.0}), functions=functions
        )
    other = with_time_constants(model, 0.01, 0.04)
    with pytest.raises(ModelError, match="another model"):
        muscle_redundancy(other, trial, functions=functions)

    moments = np.array(trial.generalized_forces)
    moments[17, model.coordinate_names.index("knee_angle_l")] = np.nan
    expected = rf"knee_angle_l at t = {trial.time[17]:.6g} s"
    with pytest.raises(TrialDataError, match=expected) as caught:
        muscle_redundancy(
            model, dataclasses.replace(trial, generalized_forces=moments), functions=functions
        )
    assert isinstance(caught.value, GaitsimError)
    speeds = np.array(trial.speeds)
    speeds[3, 0] = np.inf
    with pytest.raises(TrialDataError, match="speeds are not finite: pelvis_tilt"):
        muscle_redundancy(model, dataclasses.replace(trial, speeds=speeds), functions=functions)
    one = InverseDynamicsResult(
        time=trial.time[:1],
        coordinate_names=trial.coordinate_names,
        generalized_forces=trial.generalized_forces[:1],
        labels=trial.labels,
        coordinates=trial.coordinates[:1],
        speeds=trial.speeds[:1],
        accelerations=trial.accelerations[:1],
    )
    with pytest.raises(TrialDataError, match="at least two"):
        muscle_redundancy(model, one, functions=functions)
    times = np.array(trial.time)
    times[5] = times[4]
    with pytest.raises(TrialDataError, match="do not increase at frame 5"):
        muscle_redundancy(model, dataclasses.replace(trial, time=times), functions=functions)


@pytest.mark.parametrize(
    "changes",
    [
        {"excitation_exponent": 0.5},
        {"excitation_exponent": math.nan},
        {"muscle_model": "hill"},
        {"min_activation": 1.0},
        {"max_activation": 1.5},
        {"reserve_weight": 0.0},
        {"optimal_forces": {"hip_flexion_r": -1.0}},
        {"compliant_tendons": "soleus_r"},
        {"compliant_tendons": ("soleus_r",), "muscle_model": "force_only"},
        {"tendon_force_rate_weight": -0.1},
        {"initial_activation": "zero"},
        {"mesh_interval": 0.0},
        {"tolerance": math.inf},
        {"max_iterations": 0},
    ],
)
def test_spec_rejects_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MuscleRedundancySpec(**changes)  # type: ignore[arg-type]


def test_spec_converts_from_static_optimization() -> None:
    so = StaticOptimizationSpec(
        activation_exponent=3.0,
        passive_fiber_force=False,
        min_activation=0.02,
        reserve_optimal_force=5.0,
        optimal_forces={"lumbar": 50.0},
        tolerance=1e-6,
    )
    spec = MuscleRedundancySpec.from_static_optimization(so, compliant_tendons=ACHILLES)
    assert spec.excitation_exponent == 3.0 and not spec.passive_fiber_force
    assert spec.min_activation == 0.02 and spec.reserve_optimal_force == 5.0
    assert spec.optimal_forces == {"lumbar": 50.0} and spec.compliant_tendons == ACHILLES
    assert spec.tolerance == MuscleRedundancySpec().tolerance  # not carried over
    back = spec.static_optimization_spec()
    assert back.activation_exponent == 3.0 and back.min_activation == 0.02
