"""Static optimisation (:mod:`gaitsim.analysis.static_optimization`).

References used here, all independent of the code under test:

* closed forms: one muscle (and a reserve) about one joint, with the force-length-velocity
  tendon force composed by hand from the published curves and a moment arm from the
  geometry of a straight path; two identical muscles; the weighted pseudo-inverse for
  ``p = 2`` without force-length-velocity; the volume-weighted split;
* optimality: on a converged walking simulation of gait2d (the ``shipped_stride``
  fixture), the simulated activations are a feasible point, so the static-optimisation
  objective can only be lower, and reserves and residuals stay near zero;
* a law: with the plantarflexors removed, the ankle reserve must supply at least the
  whole plantarflexion moment.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from gaitsim.analysis.static_optimization import (
    StaticOptimizationResult,
    StaticOptimizationSpec,
    StaticOptimizationWarning,
    floating_base_coordinates,
    frame_problems,
    static_optimization,
    static_optimization_paths,
    write_static_optimization,
)
from gaitsim.errors import ModelError
from gaitsim.inverse_dynamics import InverseDynamicsResult, generalized_force_labels
from gaitsim.io.storage import read_storage
from gaitsim.mechanics import muscle as curves
from gaitsim.mechanics.model_functions import build
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import (
    Body,
    Coordinate,
    CoordinateActuator,
    Frame,
    Joint,
    JointType,
    Model,
    Muscle,
    PathPoint,
    TendonModel,
)

# The activations IPOPT returns are optimal to its tolerance (1e-10 on the scaled KKT
# conditions, 1e-9 on the constraints). The flattest case, p = 3 near the lower bound
# (effort gradient 3e-4), is then pinned to about 1e-10 / 3e-4 ~ 3e-7: 1e-6 covers it.
ACTIVATION_TOLERANCE = 1e-6
# The moment balance is linear in the unknowns, so it holds to rounding once IPOPT takes
# a full step: 1e-6 N m is the requirement, far above double rounding of 100 N m.
BALANCE_TOLERANCE = 1e-6

ORIGIN = (0.05, 0.10, 0.0)  # on ground, above the joint
INSERTION = (0.20, 0.0, 0.0)  # on the arm, which points along +x at theta = 0


def _muscle(name: str, **changes: object) -> Muscle:
    base = Muscle(
        name=name,
        max_isometric_force=1000.0,
        optimal_fiber_length=0.10,
        tendon_slack_length=0.08,
        pennation_angle_at_optimal=0.0,
        max_contraction_velocity=10.0,
        path=(PathPoint("origin", "ground", ORIGIN), PathPoint("insertion", "arm", INSERTION)),
        tendon=TendonModel.RIGID,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def pendulum(*muscles: Muscle) -> Model:
    """A rigid arm on a pin joint to ground (coordinate ``theta`` about +z), with muscles
    from a point on ground to a point on the arm."""
    return Model(
        name="pendulum",
        bodies=(Body("arm", 1.0, (0.3, 0.0, 0.0), (0.01, 0.01, 0.01, 0.0, 0.0, 0.0)),),
        joints=(
            Joint(
                "shoulder",
                JointType.PIN,
                Frame("ground"),
                Frame("arm"),
                (Coordinate("theta", range=(-1.5, 1.5)),),
            ),
        ),
        muscles=muscles,
    )


def trial(model: Model, q: np.ndarray, qd: np.ndarray, tau: np.ndarray) -> InverseDynamicsResult:
    """A trial with given kinematics and net generalised forces (``(n, n_q)`` each)."""
    n = q.shape[0]
    return InverseDynamicsResult(
        time=np.arange(n) * 0.01,
        coordinate_names=model.coordinate_names,
        generalized_forces=tau,
        labels=generalized_force_labels(model),
        coordinates=q,
        speeds=qd,
        accelerations=np.zeros_like(q),
    )


def straight_path(theta: np.ndarray, omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Length, lengthening speed and moment arm of the straight path ORIGIN-INSERTION,
    from the geometry alone: returns ``(length, speed, moment_arm)`` stacked."""
    bx, by = INSERTION[0], INSERTION[1]
    px = bx * np.cos(theta) - by * np.sin(theta)
    py = bx * np.sin(theta) + by * np.cos(theta)
    dx, dy = px - ORIGIN[0], py - ORIGIN[1]
    length = np.hypot(dx, dy)
    dpx, dpy = -py, px  # d p / d theta for a rotation about +z
    dl = (dx * dpx + dy * dpy) / length
    return length, np.stack([dl * omega, -dl])


def rigid_tendon_capacity(m: Muscle, length: np.ndarray, speed: np.ndarray) -> tuple:
    """``(F_act, F_pass)`` along the tendon, composed from the published curves."""
    width = m.optimal_fiber_length * math.sin(m.pennation_angle_at_optimal)
    along = length - m.tendon_slack_length
    fiber = np.hypot(along, width)
    cos_a = along / fiber
    norm_length = fiber / m.optimal_fiber_length
    norm_speed = speed * cos_a / (m.max_contraction_velocity * m.optimal_fiber_length)
    f_l = curves.active_force_length_multiplier(norm_length)
    f_v = curves.force_velocity_multiplier(norm_speed)
    f_pe = curves.passive_force_length_multiplier(norm_length)
    f_max = m.max_isometric_force
    return f_max * f_l * f_v * cos_a, f_max * f_pe * cos_a


# ---------------------------------------------------------------------------------------
# Closed forms about one joint
# ---------------------------------------------------------------------------------------

STATES = (np.array([[-0.15], [0.0], [0.15], [0.25]]), np.array([[0.5], [-1.0], [0.0], [1.0]]))
TAU = np.array([[25.0], [12.0], [40.0], [20.0]])  # N m: activations well inside (0, 1)


@pytest.mark.parametrize("pennation", [0.0, 0.3])
def test_one_muscle_matches_the_closed_form(pennation: float) -> None:
    m = _muscle("flexor", pennation_angle_at_optimal=pennation)
    model = pendulum(m)
    q, qd = STATES
    tau = TAU
    spec = StaticOptimizationSpec(min_activation=0.0)
    result = static_optimization(model, trial(model, q, qd, tau), spec)

    length, (speed, arm) = straight_path(q[:, 0], qd[:, 0])
    active, passive = rigid_tendon_capacity(m, length, speed)
    # minimise a^2 + w u^2 subject to k a + o u = c, k = r F_act, c = tau - r F_pass:
    # a = k c / (k^2 + o^2 / w) and u = (o / w) c / (k^2 + o^2 / w).
    k, c, o, w = arm * active, tau[:, 0] - arm * passive, 1.0, 1.0
    expected_a = k * c / (k**2 + o**2 / w)
    assert np.all((expected_a > 0) & (expected_a < 1)), "the bounds must not be active"
    np.testing.assert_allclose(result.activations[:, 0], expected_a, atol=ACTIVATION_TOLERANCE)
    np.testing.assert_allclose(
        result.reserves[:, 0], o / w * c / (k**2 + o**2 / w), atol=1e3 * ACTIVATION_TOLERANCE
    )  # u is about k = 100 times a's scale (N m per unit activation)
    # The tendon force is the composed one at the solved activation (same curves).
    np.testing.assert_allclose(
        result.forces[:, 0], result.activations[:, 0] * active + passive, rtol=1e-10
    )
    assert result.all_converged
    assert result.reserve_names == ("theta_reserve",) and result.residual_names == ()


def test_cubic_effort_matches_its_closed_form() -> None:
    m = _muscle("flexor")
    model = pendulum(m)
    q, qd = STATES
    tau = TAU
    result = static_optimization(
        model,
        trial(model, q, qd, tau),
        StaticOptimizationSpec(activation_exponent=3.0, min_activation=0.0, reserve_weight=2.0),
    )
    length, (speed, arm) = straight_path(q[:, 0], qd[:, 0])
    active, passive = rigid_tendon_capacity(m, length, speed)
    k, c, o, w = arm * active, tau[:, 0] - arm * passive, 1.0, 2.0
    # Stationarity: 3 a^2 = lambda k, 2 w u = lambda o, so u = 3 a^2 o / (2 w k) and
    # (3 o^2 / (2 w k)) a^2 + k a - c = 0.
    quad = 3.0 * o**2 / (2.0 * w * k)
    expected = (-k + np.sqrt(k**2 + 4.0 * quad * c)) / (2.0 * quad)
    np.testing.assert_allclose(result.activations[:, 0], expected, atol=ACTIVATION_TOLERANCE)


def test_two_identical_muscles_share_equally() -> None:
    model = pendulum(_muscle("one"), _muscle("two"))
    q, qd = STATES
    tau = TAU
    result = static_optimization(
        model, trial(model, q, qd, tau), StaticOptimizationSpec(min_activation=0.0)
    )
    np.testing.assert_allclose(result.activations[:, 0], result.activations[:, 1], atol=1e-9)
    length, (speed, arm) = straight_path(q[:, 0], qd[:, 0])
    active, passive = rigid_tendon_capacity(model.muscles[0], length, speed)
    k, c = arm * active, tau[:, 0] - 2 * arm * passive
    # a^2 + a^2 + u^2 subject to k a + k a + u = c: a = k c / (2 k^2 + 1).
    np.testing.assert_allclose(
        result.activations[:, 0], k * c / (2 * k**2 + 1.0), atol=ACTIVATION_TOLERANCE
    )


def test_volume_weighting_splits_by_volume() -> None:
    # Same path and strength, fibres twice as long: twice the volume, so (weights 2/3 and
    # 4/3 of the mean) the longer muscle gets half the activation of the shorter.
    model = pendulum(_muscle("short"), _muscle("long", optimal_fiber_length=0.2))
    q, qd = STATES
    tau = TAU
    spec = StaticOptimizationSpec(muscle_model="force_only", volume_weighted=True)
    result = static_optimization(model, trial(model, q, qd, tau), spec)
    _, (_, arm) = straight_path(q[:, 0], qd[:, 0])
    k = arm * 1000.0
    w1, w2 = 2.0 / 3.0, 4.0 / 3.0
    # a_i = k lambda / (2 w_i), u = lambda / 2, so c = lambda / 2 (k^2 (1/w1 + 1/w2) + 1).
    half_lambda = tau[:, 0] / (k**2 * (1 / w1 + 1 / w2) + 1.0)
    np.testing.assert_allclose(result.activations[:, 0], k * half_lambda / w1, atol=1e-6)
    np.testing.assert_allclose(result.activations[:, 1], k * half_lambda / w2, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Pseudo-inverse: p = 2 without force-length-velocity, two joints
# ---------------------------------------------------------------------------------------


def two_link_arm() -> Model:
    """Upper arm on a pin to ground, forearm on a pin to the upper arm; five flexors:
    two across the shoulder, two across the elbow, one across both."""
    bodies = (
        Body("upper", 2.0, (0.15, 0.0, 0.0), (0.02, 0.02, 0.02, 0.0, 0.0, 0.0)),
        Body("fore", 1.5, (0.12, 0.0, 0.0), (0.015, 0.015, 0.015, 0.0, 0.0, 0.0)),
    )
    joints = (
        Joint("shoulder", JointType.PIN, Frame("ground"), Frame("upper"), (Coordinate("q1"),)),
        Joint(
            "elbow",
            JointType.PIN,
            Frame("upper", (0.3, 0.0, 0.0)),
            Frame("fore"),
            (Coordinate("q2"),),
        ),
    )

    def m(name: str, f_max: float, origin: tuple, insertion: tuple) -> Muscle:
        """A flexor from a point of the first body to a point of the second."""
        points = (PathPoint("o", *origin), PathPoint("i", *insertion))
        return _muscle(name, max_isometric_force=f_max, path=points)

    muscles = (
        m("sh1", 800.0, ("ground", (0.0, 0.08, 0.0)), ("upper", (0.1, 0.0, 0.0))),
        m("sh2", 1200.0, ("ground", (-0.03, 0.05, 0.0)), ("upper", (0.15, 0.01, 0.0))),
        m("el1", 600.0, ("upper", (0.1, 0.03, 0.0)), ("fore", (0.05, 0.0, 0.0))),
        m("el2", 900.0, ("upper", (0.2, 0.02, 0.0)), ("fore", (0.04, 0.01, 0.0))),
        m("bi", 700.0, ("ground", (0.02, 0.06, 0.0)), ("fore", (0.06, 0.01, 0.0))),
    )
    return Model("arm", bodies, joints, muscles)


def test_force_only_quadratic_matches_the_weighted_pseudo_inverse() -> None:
    model = two_link_arm()
    functions = build(model)
    rng = np.random.default_rng(7)
    q = np.column_stack([rng.uniform(-0.3, 0.5, 6), rng.uniform(0.2, 1.2, 6)])
    arms = np.stack([np.asarray(functions.moment_arms(qk)) for qk in q])  # (n, n_m, 2)
    assert np.all(arms >= 0), "all muscles are flexors in this arm"
    f_max = np.array([mu.max_isometric_force for mu in model.muscles])
    weight = 0.5
    spec = StaticOptimizationSpec(
        muscle_model="force_only", min_activation=0.0, reserve_weight=weight
    )
    # Net moments that muscles and reserves can share without touching the bounds: with
    # non-negative Q and positive multipliers y, x = D^-1 Q^T y is positive.
    y = rng.uniform(1e-4, 4e-4, (6, 2))
    d = np.concatenate([np.ones(len(f_max)), np.full(2, weight)])
    tau = np.empty((6, 2))
    expected = np.empty((6, len(f_max) + 2))
    for k in range(6):
        big_q = np.hstack([(arms[k] * f_max[:, None]).T, np.eye(2)])
        tau[k] = big_q @ (big_q.T @ y[k] / d)
        scaled = big_q / np.sqrt(d)
        expected[k] = np.linalg.pinv(scaled) @ tau[k] / np.sqrt(d)
    assert np.all((expected[:, :5] > 0) & (expected[:, :5] < 1))
    result = static_optimization(model, trial(model, q, np.zeros_like(q), tau), spec)
    np.testing.assert_allclose(result.activations, expected[:, :5], atol=ACTIVATION_TOLERANCE)
    np.testing.assert_allclose(result.actuator_controls, expected[:, 5:], atol=1e-5)
    np.testing.assert_allclose(result.forces, result.activations * f_max, rtol=1e-12)
    assert result.balance_error.max() < BALANCE_TOLERANCE


# ---------------------------------------------------------------------------------------
# A converged walking simulation (gait2d)
# ---------------------------------------------------------------------------------------


def stride_trial(model: Model, stride) -> InverseDynamicsResult:  # type: ignore[no-untyped-def]
    return trial(model, stride.q, stride.qd, stride.joint_moments)


def test_walking_simulation_is_reproduced_with_negligible_reserves(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    model, functions, stride = shipped_stride("forward")
    assert not model.limit_torques  # so the simulation's muscles and lumbar torque did it all
    spec = StaticOptimizationSpec(min_activation=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaticOptimizationWarning)  # nothing to warn about
        result = static_optimization(model, stride_trial(model, stride), spec, functions=functions)
    assert result.all_converged
    assert result.residual_names == (
        "pelvis_tilt_residual",
        "pelvis_tx_residual",
        "pelvis_ty_residual",
    )
    assert "lumbarAct" in result.actuator_names and "lumbar_reserve" not in result.actuator_names

    # Sum check, with moment arms evaluated frame by frame (not the mapped evaluation the
    # solver used): muscles + coordinate actuators = net generalised forces.
    supplied = np.zeros_like(stride.joint_moments)
    for k in range(stride.time.size):
        arms = np.asarray(functions.moment_arms(stride.q[k]))
        supplied[k] = arms.T @ result.forces[k]
    for i, coordinate in enumerate(result.actuator_coordinates):
        supplied[:, model.coordinate_names.index(coordinate)] += result.actuator_forces[:, i]
    assert np.max(np.abs(supplied - stride.joint_moments)) < BALANCE_TOLERANCE

    # The simulation's own tendon forces at its activations (rigid tendons in gait2d).
    np.testing.assert_allclose(
        result.active_capacity * stride.activations + result.passive_forces,
        stride.tendon_forces,
        rtol=1e-9,
        atol=1e-9,
    )
    # Reserves: at the optimum a reserve u satisfies 2 w u = lambda o, with lambda the
    # marginal effort per N m (about 2 a / (r F) ~ 1e-3 per N m here), so reserves of
    # order 1e-3 N m remain; 0.01 N m is far below any joint moment (> 2 N m peak).
    assert np.max(np.abs(result.reserves)) < 0.01
    # The stride satisfies the dynamics with contact, so the pelvis residuals are the
    # simulation's dynamic inconsistency (its constraint tolerance), below 0.01 N.
    assert np.max(np.abs(result.residuals)) < 0.01


def test_objective_is_no_worse_than_the_simulated_activations(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    model, functions, stride = shipped_stride("forward")
    spec = StaticOptimizationSpec(min_activation=0.0)
    result = static_optimization(model, stride_trial(model, stride), spec, functions=functions)
    # The simulated activations with the reserves that close the balance, the residuals
    # (fixed by the pelvis equations) and the lumbar torque (fixed by the lumbar equation)
    # form a feasible point; its objective bounds the optimum from above.
    muscle_moments = np.einsum(
        "kmj,km->kj",
        np.stack([np.asarray(functions.moment_arms(qk)) for qk in stride.q]),
        stride.tendon_forces,
    )
    gap = stride.joint_moments - muscle_moments
    feasible = np.sum(stride.activations**2, axis=1)
    for i, coordinate in enumerate(result.actuator_coordinates):
        optimal = result.actuator_forces[0, i] / result.actuator_controls[0, i]
        control = gap[:, model.coordinate_names.index(coordinate)] / optimal
        feasible = feasible + spec.reserve_weight * control**2
    # IPOPT's tolerance on the objective (1e-8 relative to its scale of about 1e3).
    assert np.all(result.objective <= feasible + 1e-5)
    assert np.mean(feasible - result.objective) > 0  # effort minimisation does differ


def test_reserve_takes_over_when_the_plantarflexors_are_removed(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    model, _, stride = shipped_stride("forward")
    weak = dataclasses.replace(
        model, muscles=tuple(m for m in model.muscles if m.name not in ("soleus_r", "gastroc_r"))
    )
    with pytest.warns(StaticOptimizationWarning, match="ankle_angle_r_reserve"):
        result = static_optimization(weak, stride_trial(weak, stride))
    assert result.all_converged
    reserve = result.actuator("ankle_angle_r_reserve")
    ankle = stride.joint_moments[:, model.coordinate_names.index("ankle_angle_r")]
    # Only tibialis anterior (a dorsiflexor: positive moments only) and the reserve are
    # left at the ankle, so wherever the net moment plantarflexes (negative), the reserve
    # supplies at least all of it.
    plantar = ankle < 0
    assert plantar.sum() > 10
    assert np.all(reserve[plantar] <= ankle[plantar] + BALANCE_TOLERANCE)
    flagged = {s.name for s in result.flagged()}
    assert flagged == {"ankle_angle_r_reserve"}
    summary = {s.name: s for s in result.actuator_summary()}["ankle_angle_r_reserve"]
    assert summary.peak == pytest.approx(np.max(np.abs(reserve)))
    assert summary.rms == pytest.approx(np.sqrt(np.mean(reserve**2)))


def test_per_frame_and_whole_trial_solves_agree(shipped_stride) -> None:  # type: ignore[no-untyped-def]
    model, functions, stride = shipped_stride("backward")
    frames = stride_trial(model, stride)
    spec = StaticOptimizationSpec(activation_exponent=3.0)
    whole = static_optimization(model, frames, spec, functions=functions)
    each = static_optimization(
        model, frames, dataclasses.replace(spec, solve="per_frame"), functions=functions
    )
    assert whole.method == "all_frames" and each.method == "per_frame"
    assert whole.all_converged and each.all_converged
    np.testing.assert_allclose(whole.activations, each.activations, atol=ACTIVATION_TOLERANCE)
    assert np.all(whole.activations >= spec.min_activation - 1e-12)


# ---------------------------------------------------------------------------------------
# Failures are loud
# ---------------------------------------------------------------------------------------


def test_frames_that_do_not_converge_are_flagged_and_written_as_nan(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = pendulum(_muscle("flexor"))
    q, qd = STATES
    tau = TAU
    spec = StaticOptimizationSpec(max_iterations=1)
    with pytest.warns(StaticOptimizationWarning) as caught:
        result = static_optimization(model, trial(model, q, qd, tau), spec)
    messages = [str(w.message) for w in caught]
    assert any("solving frame by frame" in m for m in messages)
    assert any("did not converge at 4 of 4 frames" in m for m in messages)
    assert result.method == "all_frames, then per_frame"
    assert not result.converged.any()
    assert all(s == "Maximum_Iterations_Exceeded" for s in result.status)
    tables = result.to_tables()
    assert np.all(np.isnan(tables["force"].data)) and np.all(np.isnan(tables["activation"].data))
    np.testing.assert_array_equal(tables["status"].column("converged"), 0.0)
    kept = result.to_tables(include_unconverged=True)["activation"]
    np.testing.assert_array_equal(kept.column("flexor"), result.activations[:, 0])


def test_inputs_that_do_not_fit_raise_typed_errors() -> None:
    model = pendulum(_muscle("flexor"))
    q, qd = STATES
    good = trial(model, q, qd, np.ones_like(q))
    other = pendulum(_muscle("flexor"))
    other = dataclasses.replace(
        other,
        joints=(dataclasses.replace(other.joints[0], coordinates=(Coordinate("phi"),)),),
    )
    with pytest.raises(ModelError, match="coordinates"):
        static_optimization(other, good)
    with pytest.raises(ModelError, match="elbow"):
        static_optimization(model, good, StaticOptimizationSpec(optimal_forces={"elbow": 2.0}))
    with pytest.raises(ModelError, match="knee"):
        static_optimization(model, good, StaticOptimizationSpec(residual_coordinates=("knee",)))
    stronger = pendulum(_muscle("flexor", max_isometric_force=2000.0))
    with pytest.raises(ModelError, match="another model"):
        static_optimization(stronger, good, functions=build(model))
    bad = trial(model, q, qd, np.full_like(q, np.nan))
    with pytest.raises(ValueError, match="not finite"):
        static_optimization(model, bad)


@pytest.mark.parametrize(
    "changes",
    [
        {"activation_exponent": 0.5},
        {"activation_exponent": math.nan},
        {"muscle_model": "hill"},
        {"solve": "sometimes"},
        {"min_activation": 1.0},
        {"min_activation": -0.1},
        {"max_activation": 1.5},
        {"reserve_optimal_force": 0.0},
        {"reserve_weight": -1.0},
        {"optimal_forces": {"theta": -2.0}},
        {"max_iterations": 0},
        {"tolerance": math.inf},
    ],
)
def test_spec_rejects_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        StaticOptimizationSpec(**changes)  # type: ignore[arg-type]


def test_a_muscle_shortening_beyond_its_maximum_speed_carries_no_active_force() -> None:
    model = pendulum(_muscle("flexor"))
    # theta_dot = 15 rad/s shortens the flexor at r * 15 = 1.66 m/s, beyond v_max l_opt
    # = 1 m/s, where the force-velocity curve is negative.
    q, qd = np.array([[0.0], [0.0]]), np.array([[0.0], [15.0]])
    tau = np.array([[10.0], [10.0]])
    with pytest.warns(StaticOptimizationWarning) as caught:
        result = static_optimization(model, trial(model, q, qd, tau))
    messages = " ".join(str(w.message) for w in caught)
    assert "1 muscle-frames cannot produce active force" in messages and "flexor" in messages
    assert "theta_reserve peak" in messages  # and the reserve that takes over is flagged
    assert result.active_capacity[1, 0] == 0.0 and result.active_capacity[0, 0] > 0
    # The reserve supplies what the passive force does not.
    _, (_, arm) = straight_path(q[:, 0], qd[:, 0])
    expected = tau[1, 0] - arm[1] * result.passive_forces[1, 0]
    assert result.reserves[1, 0] == pytest.approx(expected, abs=BALANCE_TOLERANCE)


def test_locked_coordinates_have_no_equation() -> None:
    model = two_link_arm()
    elbow = dataclasses.replace(
        model.joints[1], coordinates=(Coordinate("q2", locked=True, default=0.5),)
    )
    model = dataclasses.replace(model, joints=(model.joints[0], elbow))
    q = np.array([[0.1, 0.5], [0.2, 0.5]])
    tau = np.array([[20.0, 123.0], [25.0, -50.0]])  # the elbow's value must be ignored
    spec = StaticOptimizationSpec(muscle_model="force_only")
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaticOptimizationWarning)
        result = static_optimization(model, trial(model, q, np.zeros_like(q), tau), spec)
    assert result.coordinate_names == ("q1",)
    assert result.actuator_names == ("q1_reserve",)
    assert result.all_converged
    problems = frame_problems(model, trial(model, q, np.zeros_like(q), tau), spec)
    assert problems.targets.shape == (2, 1)


def test_model_actuators_keep_their_bounds_and_infeasibility_is_flagged() -> None:
    motor = CoordinateActuator(
        "motor", "theta", optimal_force=10.0, min_control=-1.0, max_control=0.5
    )
    model = dataclasses.replace(pendulum(), actuators=(motor,))
    q, qd = np.zeros((3, 1)), np.zeros((3, 1))
    # The motor gives at most 5 N m: 3 N m is feasible, 40 N m is not.
    tau = np.array([[3.0], [40.0], [-2.0]])
    with pytest.warns(StaticOptimizationWarning, match="did not converge at 1 of 3"):
        result = static_optimization(
            model, trial(model, q, qd, tau), StaticOptimizationSpec(solve="per_frame")
        )
    assert result.actuator_names == ("motor",) and result.actuator_kinds == ("model",)
    assert result.reserve_names == ()  # a coordinate with a model actuator gets no reserve
    np.testing.assert_array_equal(result.converged, [True, False, True])
    assert result.status[1] != "Solve_Succeeded"
    np.testing.assert_allclose(result.actuator("motor")[[0, 2]], [3.0, -2.0], atol=1e-8)
    assert np.all(result.actuator_controls <= 0.5 + 1e-12)
    assert math.isnan(result.actuator_summary()[0].threshold)  # part of the model


# ---------------------------------------------------------------------------------------
# Tables and files
# ---------------------------------------------------------------------------------------


def test_tables_round_trip_through_storage_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = pendulum(_muscle("flexor"), _muscle("helper", max_isometric_force=500.0))
    q, qd = STATES
    tau = TAU
    result = static_optimization(model, trial(model, q, qd, tau))
    paths = write_static_optimization(result, tmp_path, "pendulum")
    assert paths == static_optimization_paths(tmp_path, "pendulum")
    assert sorted(p.name for p in paths.values()) == [
        "pendulum_StaticOptimization_activation.sto",
        "pendulum_StaticOptimization_force.sto",
        "pendulum_StaticOptimization_status.sto",
    ]
    force = read_storage(paths["force"])
    assert force.labels == ("flexor", "helper", "theta_reserve")
    np.testing.assert_allclose(force.column("helper"), result.force("helper"), rtol=1e-9)
    np.testing.assert_allclose(force.column("theta_reserve"), result.reserves[:, 0], rtol=1e-9)
    activation = read_storage(paths["activation"])
    np.testing.assert_allclose(activation.column("flexor"), result.activation("flexor"), rtol=1e-9)
    with pytest.raises(FileExistsError):
        write_static_optimization(result, tmp_path, "pendulum")
    write_static_optimization(result, tmp_path, "pendulum", overwrite=True)


def test_floating_base_is_the_pelvis() -> None:
    assert floating_base_coordinates(load_builtin("gait2d")) == (
        "pelvis_tilt",
        "pelvis_tx",
        "pelvis_ty",
    )
    assert floating_base_coordinates(load_builtin("gait3d"))[3:] == (
        "pelvis_tx",
        "pelvis_ty",
        "pelvis_tz",
    )
    assert floating_base_coordinates(pendulum()) == ()  # a pin to ground is a joint


def test_result_checks_its_shapes() -> None:
    model = pendulum(_muscle("flexor"))
    q, qd = STATES
    result = static_optimization(model, trial(model, q, qd, TAU))
    with pytest.raises(ValueError, match="activations"):
        dataclasses.replace(result, activations=result.activations[:2])
    assert isinstance(result, StaticOptimizationResult)
    with pytest.raises(ValueError):
        result.forces[0, 0] = 1.0  # read-only
    with pytest.raises(LookupError):
        result.force("biceps")
