"""Muscle function: fibre mechanics, work, actions per phase and moment contributions.

Strides are gaitsim's shipped gait2d solutions (``shipped_stride`` fixture); phases are
built from their contact events with the rules of :func:`stride_phases` (the same as in
``test_joint_mechanics.py``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.interpolate import CubicSpline
from stride_phases import stride_phases

from gaitsim.analysis.joint_mechanics import AnalysisInputError
from gaitsim.analysis.muscle_function import (
    ActivityCriteria,
    MuscleFunction,
    classify_action,
    moment_balance,
    muscle_function,
)
from gaitsim.analysis.phases import Phase
from gaitsim.errors import ModelError
from gaitsim.mechanics.model_functions import build
from gaitsim.model.description import (
    AxisKind,
    Body,
    Coordinate,
    Frame,
    Joint,
    JointType,
    Linear,
    Model,
    Motion,
    Muscle,
    PathPoint,
    TendonModel,
    TransformAxis,
)
from gaitsim.simulate.guesses import shipped_guess
from gaitsim.simulate.result import WalkingResult
from gaitsim.simulate.stride import full_stride

Stride = Callable[[str], Any]

#: IPOPT's constraint tolerance of the walking problem (1e-4, the default of
#: gaitsim.simulate.predict) on the skeleton residual, which is scaled by 100 N m
#: (gaitsim.simulate.walking): the dynamics hold to 1e-2 N m at the nodes.
COLLOCATION_TOLERANCE = 1e-4 * 100.0


@pytest.fixture(scope="module")
def forward(shipped_stride: Stride) -> tuple[Any, Any, WalkingResult, list[Phase], MuscleFunction]:
    model, functions, result = shipped_stride("forward")
    phases = stride_phases(result)
    return model, functions, result, phases, muscle_function(model, functions, result, phases)


# ---------------------------------------------------------------------------------------
# Known answers on a synthetic muscle
# ---------------------------------------------------------------------------------------


def _slider(pennation: float, tendon: TendonModel = TendonModel.RIGID) -> Model:
    """A block sliding along x, pulled by one muscle from a ground point 0.3 m behind it:
    ``l_mt = 0.3 + x`` exactly, moment arm about ``block_tx`` -1."""
    return Model(
        name="slider",
        bodies=(Body("block", 1.0, (0.0, 0.0, 0.0), (0.01, 0.01, 0.01, 0.0, 0.0, 0.0)),),
        joints=(
            Joint(
                "slide",
                JointType.CUSTOM,
                Frame("ground"),
                Frame("block"),
                (Coordinate("block_tx", Motion.TRANSLATIONAL, range=(-0.1, 0.1)),),
                (TransformAxis(AxisKind.TRANSLATION, (1.0, 0.0, 0.0), Linear(1.0), "block_tx"),),
            ),
        ),
        muscles=(
            Muscle(
                "pull",
                500.0,
                0.1,
                0.2,
                pennation,
                10.0,
                (
                    PathPoint("origin", "ground", (-0.3, 0.0, 0.0)),
                    PathPoint("insertion", "block", (0.0, 0.0, 0.0)),
                ),
                tendon=tendon,
            ),
        ),
    )


def _slider_result(velocity: float, force: float, duration: float = 1.0) -> WalkingResult:
    n = 51
    time = np.linspace(0.0, duration, n)
    x = -0.5 * velocity * duration + velocity * time
    column = np.ones((n, 1))
    return WalkingResult(
        model_name="slider",
        kind="synthetic",
        time=time,
        coordinate_names=("block_tx",),
        q=x[:, None],
        qd=velocity * column,
        qdd=0.0 * column,
        joint_moments=-force * column,
        muscle_names=("pull",),
        excitations=0.5 * column,
        activations=0.5 * column,
        tendon_forces=force * column,
        grf={},
        cop={},
        body_mass=1.0,
        speed=0.0,
    )


@pytest.mark.parametrize("pennation", [0.0, 0.3])
@pytest.mark.parametrize("velocity", [0.04, -0.04])
def test_constant_fibre_velocity_gives_f_v_t(pennation: float, velocity: float) -> None:
    model = _slider(pennation)
    functions = build(model)
    force, duration = 300.0, 1.0
    result = _slider_result(velocity, force, duration)
    whole = [Phase("mid_stance", "r", 0.0, duration)]
    analysis = muscle_function(model, functions, result, whole)
    muscle = analysis.muscle("pull")
    # Rigid tendon: v_M = v_mt cos(alpha) and F_M = F_T / cos(alpha), so the fibre and MT
    # works are both -F v T (produced work positive when shortening). The integrals are
    # of constants: rounding only.
    expected = -force * velocity * duration
    phase = analysis.phase("pull", "mid_stance_r")
    fibre = phase.fiber_positive_work + phase.fiber_negative_work
    mt = phase.muscle_tendon_positive_work + phase.muscle_tendon_negative_work
    assert fibre == pytest.approx(expected, rel=1e-12)
    assert mt == pytest.approx(expected, rel=1e-12)
    produced = phase.fiber_positive_work if velocity < 0 else -phase.fiber_negative_work
    assert produced == pytest.approx(abs(expected), rel=1e-12)
    if pennation == 0.0:
        np.testing.assert_allclose(muscle.fiber_velocity, velocity, rtol=1e-12)
    else:  # pennated fibres shorten more slowly than the muscle-tendon unit
        assert np.all(np.abs(muscle.fiber_velocity) < abs(velocity))
    # Moment arm -1: the muscle pulls the block backward with F.
    np.testing.assert_allclose(muscle.moment_contributions[:, 0], -force, rtol=1e-12)
    assert phase.action == ("eccentric" if velocity > 0 else "concentric")
    assert phase.active_fraction == 1.0


def test_classify_action_thresholds() -> None:
    weights = np.ones(4)
    v = np.array([-0.5, -0.005, 0.005, 0.5])
    active = np.array([True, True, True, False])
    action, active_fraction, conc, ecc, iso = classify_action(v, active, weights, 0.01)
    assert (action, active_fraction) == ("isometric", 0.75)
    assert (conc, ecc, iso) == pytest.approx((1 / 3, 0.0, 2 / 3))
    # Time reversal negates velocities: concentric and eccentric swap.
    assert classify_action(-v, active, weights, 0.01)[2:] == (ecc, conc, iso)
    assert classify_action(v, np.zeros(4, bool), weights, 0.01)[0] == "inactive"
    assert classify_action(v[:0], active[:0], weights[:0], 0.01)[0] == "unsampled"


# ---------------------------------------------------------------------------------------
# Identities on the shipped stride
# ---------------------------------------------------------------------------------------


def test_virtual_power_identity(forward: Any) -> None:
    # sum_j r_mj F_m qd_j = -F_m v_mt,m for every muscle: moment arms (Jacobian of the
    # path lengths) and lengthening velocities (a directional derivative) are separate
    # CasADi functions. Relative tolerance 1e-9 of the largest |P_mt|: rounding of the
    # two differentiation modes is ~1e-14.
    model, _, result, _, analysis = forward
    qd = result.qd[:, [result.coordinate_names.index(c) for c in analysis.coordinate_names]]
    total_joint, total_muscle = 0.0, 0.0
    for muscle in analysis.muscles:
        joint_power = np.sum(muscle.moment_contributions * qd, axis=1)
        scale = np.max(np.abs(muscle.muscle_tendon_power))
        np.testing.assert_allclose(joint_power, muscle.muscle_tendon_power, atol=1e-9 * scale)
        total_joint = total_joint + joint_power
        total_muscle = total_muscle + muscle.muscle_tendon_power
    muscle_joint_power = np.sum(analysis.muscle_moments * qd, axis=1)
    scale = np.max(np.abs(total_muscle))
    np.testing.assert_allclose(muscle_joint_power, total_muscle, atol=1e-9 * scale)


def test_rigid_fibre_power_equals_muscle_tendon_power(forward: Any) -> None:
    # A rigid tendon stores nothing. The fibre velocity of muscle_rigid and the pennation
    # from its fibre length must make -F_M v_M equal -F_T v_mt (1e-9 of the peak power;
    # pennated muscles such as soleus (25 deg) make this a real check).
    model, _, _, _, analysis = forward
    pennated = [m for m in model.muscles if m.pennation_angle_at_optimal > 0.1]
    assert pennated
    for muscle in analysis.muscles:
        scale = np.max(np.abs(muscle.muscle_tendon_power))
        np.testing.assert_allclose(
            muscle.fiber_power, muscle.muscle_tendon_power, atol=1e-9 * scale
        )
        # The result's tendon force is the model's rigid-tendon force (same functions).
        assert muscle.force_inconsistency < 1e-12
        assert np.all(muscle.cos_pennation <= 1.0) and np.all(muscle.cos_pennation > 0.5)


def test_moment_balance(forward: Any) -> None:
    model, functions, result, _, analysis = forward
    balance = moment_balance(model, functions, result, analysis)
    residual = {c: balance.max_residual(c) for c in balance.coordinate_names}
    print("moment balance without actuators, max |residual| (N m or N):", residual)
    for name, value in residual.items():
        if name == "lumbar":
            continue
        # Muscles + limit torques (none in gait2d) = net moment, to the solver's tolerance.
        assert value < COLLOCATION_TOLERANCE, name
    # The lumbar is driven by a coordinate actuator that WalkingResult does not carry: its
    # residual is that torque. Rebuild the actuator controls from the shipped trajectory
    # (mirrored as the stride is) and check that they close the balance too.
    assert balance.actuated[balance.coordinate_names.index("lumbar")]
    assert residual["lumbar"] > 1.0
    found = shipped_guess("gait2d", 1.3)
    assert found is not None
    trajectory, _ = found
    _, controls = full_stride(trajectory.time, trajectory.control_names, trajectory.controls, 0.0)
    columns = [trajectory.control_names.index(a.name) for a in model.actuators]
    closed = moment_balance(
        model, functions, result, analysis, actuator_controls=controls[:, columns]
    )
    worst = max(closed.max_residual(c) for c in closed.coordinate_names)
    print("with the actuator torques, max |residual|:", worst)
    assert worst < COLLOCATION_TOLERANCE
    assert {r.value for r in closed.table() if r.quantity == "includes_actuator"} == {
        "yes",
        "not actuated",
    }


def test_zero_force_muscle_changes_nothing(forward: Any) -> None:
    model, functions, result, phases, analysis = forward
    extra = dataclasses.replace(model.muscle("soleus_r"), name="idle_r")
    bigger = dataclasses.replace(model, muscles=(*model.muscles, extra))
    zeros = np.zeros((result.time.size, 1))
    padded = dataclasses.replace(
        result,
        muscle_names=(*result.muscle_names, "idle_r"),
        excitations=np.hstack([result.excitations, zeros]),
        activations=np.hstack([result.activations, zeros]),
        tendon_forces=np.hstack([result.tendon_forces, zeros]),
    )
    more = muscle_function(bigger, build(bigger), padded, phases)
    idle = more.muscle("idle_r")
    assert not np.any(idle.muscle_tendon_power) and not np.any(idle.moment_contributions)
    # Every other output is the same: same muscles' numbers (evaluated by another CasADi
    # function of the bigger model, so equal to rounding, 1e-12 relative) and the same sums.
    for muscle in analysis.muscles:
        other = more.muscle(muscle.name)
        for field in ("fiber_length", "fiber_velocity", "muscle_tendon_velocity", "moment_arms"):
            np.testing.assert_allclose(
                getattr(other, field), getattr(muscle, field), rtol=1e-12, atol=1e-15
            )
    np.testing.assert_allclose(more.muscle_moments, analysis.muscle_moments, rtol=1e-12, atol=1e-9)
    before = list(analysis.table())
    after = [r for r in more.table() if r.item != "idle_r"]
    assert [(r.item, r.phase, r.quantity) for r in after] == [
        (r.item, r.phase, r.quantity) for r in before
    ]
    for a, b in zip(after, before, strict=True):
        if isinstance(b.value, str):
            assert a.value == b.value
        elif math.isnan(b.value):
            assert isinstance(a.value, float) and math.isnan(a.value)
        else:
            assert a.value == pytest.approx(b.value, rel=1e-9, abs=1e-12)


def _reversed(result: WalkingResult) -> WalkingResult:
    """The stride played backwards: t -> T - t, speeds negated; the instant 0 keeps its
    own sample (the last sample of a stride repeats the first)."""
    n = result.time.size
    order = np.concatenate([[0], np.arange(n - 2, 0, -1), [0]])
    period = float(result.time[-1] - result.time[0])
    time = np.concatenate([[0.0], period - result.time[order[1:-1]], [period]])
    return dataclasses.replace(
        result,
        time=time,
        q=result.q[order],
        qd=-result.qd[order],
        qdd=result.qdd[order],
        joint_moments=result.joint_moments[order],
        excitations=result.excitations[order],
        activations=result.activations[order],
        tendon_forces=result.tendon_forces[order],
    )


def test_actions_flip_when_time_is_reversed(forward: Any) -> None:
    model, functions, result, phases, _ = forward
    period = float(result.time[-1] - result.time[0])
    criteria = ActivityCriteria(min_activation=0.05)  # more muscles active
    ahead = muscle_function(model, functions, result, phases, criteria=criteria)
    back_phases = [Phase(p.name, p.side, period - p.end, period - p.start) for p in phases]
    back = muscle_function(model, functions, _reversed(result), back_phases, criteria=criteria)
    swap = {"concentric": "eccentric", "eccentric": "concentric"}
    counted = {"concentric": 0, "eccentric": 0}
    for p in ahead.phases:
        q = back.phase(p.muscle, p.phase)
        tie = p.concentric_fraction == p.eccentric_fraction  # ties keep the documented order
        expected = p.action if tie else swap.get(p.action, p.action)
        assert q.action == expected, (p.muscle, p.phase)
        if p.action in counted:
            counted[p.action] += 1
            # Same samples, negated velocities: shares swap exactly.
            assert (q.concentric_fraction, q.eccentric_fraction, q.isometric_fraction) == (
                pytest.approx(p.eccentric_fraction, abs=1e-12),
                pytest.approx(p.concentric_fraction, abs=1e-12),
                pytest.approx(p.isometric_fraction, abs=1e-12),
            )
    print("phases per action (forward):", counted)
    assert counted["concentric"] > 0 and counted["eccentric"] > 0


def test_phase_work_adds_up_to_the_stride(forward: Any) -> None:
    _, _, _, _, analysis = forward
    stride = {(r.item, r.quantity): r.value for r in analysis.table() if r.phase == "stride"}
    for muscle in analysis.muscle_names:
        own = [p for p in analysis.phases if p.muscle == muscle]
        assert len(own) == 8  # the phases of its side
        for field in ("fiber_positive_work", "muscle_tendon_negative_work"):
            total = sum(getattr(p, field) for p in own)
            # Same integral split at other points: rounding only.
            assert total == pytest.approx(stride[(muscle, field)], rel=1e-10, abs=1e-12)
        # Mean contributions integrate to the stride's moment impulse.
        muscle_curves = analysis.muscle(muscle)
        for j, coordinate in enumerate(analysis.coordinate_names):
            if coordinate not in muscle_curves.crossed_coordinates:
                continue
            impulse = sum(
                c.mean * (p.end - p.start)
                for p in own
                for c in p.moments
                if c.coordinate == coordinate
            )
            expected = float(np.trapezoid(muscle_curves.moment_contributions[:, j], analysis.time))
            assert impulse == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_soleus_pushes_off_concentrically(forward: Any) -> None:
    # Physiology check, not a copied number: the soleus is active and shortening in
    # terminal stance and pre-swing (push-off), producing positive work, and its
    # contribution to the ankle moment is plantarflexing (negative in the model's sign).
    # "Active" is asked for most of each phase: the simulated soleus switches on at the
    # start of terminal stance (measured: active 76 % of it, 100 % of pre-swing), later
    # than in EMG, where it is active from loading response (Perry 1992); see
    # docs/walking_simulation.md.
    _, _, _, _, analysis = forward
    for phase in ("terminal_stance_r", "pre_swing_r"):
        p = analysis.phase("soleus_r", phase)
        print("soleus_r", phase, p.action, p.active_fraction, p.fiber_positive_work)
        assert p.action == "concentric" and p.active_fraction > 0.5
        assert p.fiber_positive_work > 0.0
        (ankle,) = p.moments
        assert ankle.coordinate == "ankle_angle_r" and ankle.mean < 0.0


# ---------------------------------------------------------------------------------------
# Compliant tendons
# ---------------------------------------------------------------------------------------


def _with_compliant_soleus(model: Model) -> tuple[Model, Muscle]:
    soleus = dataclasses.replace(model.muscle("soleus_r"), tendon=TendonModel.COMPLIANT)
    muscles = tuple(soleus if m.name == "soleus_r" else m for m in model.muscles)
    return dataclasses.replace(model, muscles=muscles), soleus


def test_compliant_tendon_velocity(forward: Any) -> None:
    model, _, result, phases, rigid = forward
    compliant, soleus = _with_compliant_soleus(model)
    # A smooth periodic force state: the kinematic relations checked here hold for any
    # force, whether or not the fibre is in equilibrium with it (the equilibrium residual
    # is reported as force_inconsistency).
    period = float(result.time[-1] - result.time[0])
    angle = 2.0 * np.pi * (result.time - result.time[0]) / period
    forces = result.tendon_forces.copy()
    k = result.muscle_names.index("soleus_r")
    forces[:, k] = soleus.max_isometric_force * (0.3 + 0.2 * np.sin(angle))
    smooth = dataclasses.replace(result, tendon_forces=forces)
    analysis = muscle_function(compliant, build(compliant), smooth, phases)
    muscle = analysis.muscle("soleus_r")
    assert muscle.tendon == "compliant" and muscle.force_inconsistency > 0.0
    # The tendon velocity implied by the fibre velocity, v_T = v_mt - v_M / cos(alpha),
    # equals the time derivative of the tendon length l_T = l_mt - l_M cos(alpha)
    # (independent: periodic spline through the tendon-length samples). Both are cubic
    # spline derivatives of smooth periodic signals sampled 100 times, O(h^4) apart:
    # measured 4e-7 of the velocity range, tolerance 1e-5.
    tendon_length = muscle.muscle_tendon_length - muscle.fiber_length * muscle.cos_pennation
    tendon_velocity = muscle.muscle_tendon_velocity - muscle.fiber_velocity / muscle.cos_pennation
    closed = tendon_length.copy()
    closed[-1] = closed[0]
    derivative = CubicSpline(analysis.time, closed, bc_type="periodic")(analysis.time, 1)
    np.testing.assert_allclose(
        tendon_velocity, derivative, atol=1e-5 * float(np.ptp(tendon_velocity))
    )
    # The muscle-tendon side does not depend on the tendon model.
    np.testing.assert_array_equal(
        muscle.muscle_tendon_velocity, rigid.muscle("soleus_r").muscle_tendon_velocity
    )


def test_compliant_tendon_returns_its_energy(forward: Any) -> None:
    # An elastic tendon's energy depends on its length only: over a periodic stride its
    # net work is zero. With the stride's own soleus force as the state (sharp at heel
    # strike and push-off), the spline derivative and trapezoid leave 3e-5 of the energy
    # cycled; tolerance 1e-3.
    model, _, result, phases, _ = forward
    compliant, _ = _with_compliant_soleus(model)
    muscle = muscle_function(compliant, build(compliant), result, phases).muscle("soleus_r")
    net = float(np.trapezoid(muscle.tendon_power, result.time))
    cycled = float(np.trapezoid(np.abs(muscle.tendon_power), result.time))
    print(f"compliant soleus tendon: net work {net:.2e} J of {cycled:.3f} J cycled")
    assert cycled > 0.1 and abs(net) < 1e-3 * cycled


# ---------------------------------------------------------------------------------------
# Export and loud failures
# ---------------------------------------------------------------------------------------


def test_table_is_tidy(forward: Any) -> None:
    analysis = forward[4]
    records = analysis.to_records()
    json.dumps(records, allow_nan=False)
    assert all(set(r) == {"item", "phase", "quantity", "value", "unit"} for r in records)
    actions = {r["value"] for r in records if r["quantity"] == "action"}
    assert actions <= {"concentric", "eccentric", "isometric", "inactive", "unsampled"}
    units = {r["quantity"]: r["unit"] for r in records}
    assert units["fiber_positive_work"] == "J"
    assert units["moment_mean:ankle_angle_r"] == "N m"


def test_force_based_activity(forward: Any) -> None:
    model, functions, result, phases, analysis = forward
    by_force = muscle_function(
        model,
        functions,
        result,
        phases,
        criteria=ActivityCriteria(min_activation=2.0, min_force_fraction=0.05),
    )
    for p in by_force.phases:
        muscle = by_force.muscle(p.muscle)
        active = muscle.active(by_force.criteria)
        assert np.array_equal(active, muscle.tendon_force >= 0.05 * muscle.max_isometric_force)
    with pytest.raises(AnalysisInputError, match="min_activation"):
        ActivityCriteria(min_activation=-0.1)
    with pytest.raises(AnalysisInputError, match="isometric_velocity"):
        ActivityCriteria(isometric_velocity=math.nan)


def test_mismatched_inputs_are_refused(forward: Any) -> None:
    model, functions, result, phases, _ = forward
    renamed = dataclasses.replace(result, muscle_names=("nobody", *result.muscle_names[1:]))
    with pytest.raises(ModelError, match="nobody"):
        muscle_function(model, functions, renamed, phases)
    bad = result.tendon_forces.copy()
    bad[5, 2] = np.inf
    with pytest.raises(AnalysisInputError, match="tendon_forces"):
        muscle_function(model, functions, dataclasses.replace(result, tendon_forces=bad), phases)
    with pytest.raises(AnalysisInputError, match="twice"):
        muscle_function(model, functions, result, [*phases, phases[3]])
    slider = _slider(0.0)
    with pytest.raises(AnalysisInputError, match="functions.*slider"):
        muscle_function(model, build(slider), result, phases)
