"""Tests of gaitsim.mechanics.muscle (DeGroote-Fregly 2016 muscle as in OpenSim 4.6)."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
import textwrap

import casadi as ca
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from gaitsim.errors import ModelError
from gaitsim.mechanics import muscle as mu

PARAMS = mu.MuscleParameters(
    max_isometric_force=1000.0,
    optimal_fiber_length=0.1,
    tendon_slack_length=0.2,
    pennation_angle_at_optimal=0.2,
    max_contraction_velocity=10.0,
)
PARAMS_DAMPED = mu.MuscleParameters(
    3000.0,
    0.06,
    0.25,
    0.4,
    8.0,
    tendon_strain_at_one_norm_force=0.06,
    passive_fiber_strain_at_one_norm_force=0.5,
    active_force_width_scale=1.5,
    fiber_damping=0.1,
)


# --------------------------------------------------------------------------------------
# Curves: known values
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1.0, 1.5, 3.0])
def test_active_force_length_is_one_at_optimum(scale: float) -> None:
    assert mu.active_force_length_multiplier(1.0, scale) == pytest.approx(1.0, abs=1e-14)


def test_active_force_length_width_scale_stretches_about_one() -> None:
    lm = np.linspace(0.3, 1.7, 29)
    scale = 1.7
    expected = mu.active_force_length_multiplier((lm - 1.0) / scale + 1.0)
    np.testing.assert_allclose(mu.active_force_length_multiplier(lm, scale), expected, rtol=1e-14)


def test_active_force_length_values_are_bounded_and_small_at_ends() -> None:
    lm = np.linspace(0.2, 1.8, 161)
    f = mu.active_force_length_multiplier(lm)
    assert np.all(f > 0.0)
    assert np.all(f < 1.01)
    assert f[0] < 0.1 and f[-1] < 0.1


@pytest.mark.parametrize("e0", [0.4, 0.6, 0.7])
def test_passive_force_length_opensim_definition(e0: float) -> None:
    # OpenSim's curve is 0 at the minimum normalized fibre length 0.2 (not at 1.0) and 1 at
    # strain e0; at the optimal length it is (1 - offset) / (exp(4) - offset) > 0.
    assert mu.passive_force_length_multiplier(mu.MIN_NORM_FIBER_LENGTH, e0) == pytest.approx(
        0.0, abs=1e-15
    )
    assert mu.passive_force_length_multiplier(1.0 + e0, e0) == pytest.approx(1.0, rel=1e-14)
    offset = math.exp(4.0 * (0.2 - 1.0) / e0)
    expected_at_optimum = (1.0 - offset) / (math.exp(4.0) - offset)
    assert mu.passive_force_length_multiplier(1.0, e0) == pytest.approx(
        expected_at_optimum, rel=1e-14
    )


def test_passive_force_at_optimum_default_value() -> None:
    # The "departure" OpenSim documents: ~1.8 % of Fmax of passive force at l_opt.
    assert mu.passive_force_length_multiplier(1.0) == pytest.approx(0.0182288238, rel=1e-8)


def test_force_velocity_key_points() -> None:
    assert mu.force_velocity_multiplier(0.0) == pytest.approx(1.0, abs=1e-14)
    assert mu.force_velocity_multiplier(-1.0) == pytest.approx(0.0, abs=1e-14)
    assert mu.force_velocity_multiplier(1.0) == pytest.approx(1.794, abs=1e-3)
    v = np.linspace(-1.0, 1.0, 41)
    assert np.all(np.diff(mu.force_velocity_multiplier(v)) > 0.0)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1.5, max_value=1.5))
def test_force_velocity_inverse_round_trip(v: float) -> None:
    f = mu.force_velocity_multiplier(v)
    assert mu.force_velocity_inverse(f) == pytest.approx(v, abs=1e-12)


@pytest.mark.parametrize("strain", [0.02, 0.049, 0.1])
def test_tendon_curve_key_points(strain: float) -> None:
    assert mu.tendon_force_length_multiplier(1.0, strain) == pytest.approx(0.0, abs=1e-15)
    assert mu.tendon_force_length_multiplier(1.0 + strain, strain) == pytest.approx(1.0, rel=1e-14)
    assert mu.tendon_stiffness_parameter(strain) == pytest.approx(math.log(6.0) / strain)
    # Slack tendon: asymptote -c3 = -0.2.
    assert mu.tendon_force_length_multiplier(0.5, strain) == pytest.approx(-0.2, abs=1e-3)


def test_default_tendon_stiffness_parameter() -> None:
    assert PARAMS.tendon_stiffness_parameter == pytest.approx(36.5665197801644, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.0, max_value=5.0), st.floats(min_value=0.01, max_value=0.1))
def test_tendon_inverse_round_trip(norm_force: float, strain: float) -> None:
    length = mu.tendon_force_length_inverse(norm_force, strain)
    assert mu.tendon_force_length_multiplier(length, strain) == pytest.approx(norm_force, abs=1e-12)


def test_norm_tendon_velocity_is_chain_rule_inverse() -> None:
    lt = np.linspace(0.99, 1.08, 10)
    vt = np.linspace(-2.0, 2.0, 10)
    dft = vt * mu.tendon_force_length_multiplier_derivative(lt)
    np.testing.assert_allclose(
        mu.norm_tendon_velocity_from_force_derivative(dft, lt), vt, rtol=1e-13, atol=1e-15
    )


@pytest.mark.parametrize(
    ("curve", "derivative", "grid", "kwargs"),
    [
        (
            mu.active_force_length_multiplier,
            mu.active_force_length_multiplier_derivative,
            np.linspace(0.3, 1.7, 15),
            {"active_force_width_scale": 1.3},
        ),
        (
            mu.passive_force_length_multiplier,
            mu.passive_force_length_multiplier_derivative,
            np.linspace(0.3, 1.7, 15),
            {"passive_fiber_strain_at_one_norm_force": 0.5},
        ),
        (
            mu.tendon_force_length_multiplier,
            mu.tendon_force_length_multiplier_derivative,
            np.linspace(0.98, 1.08, 15),
            {"tendon_strain_at_one_norm_force": 0.04},
        ),
    ],
)
def test_analytic_derivatives_match_casadi_ad(curve, derivative, grid, kwargs) -> None:
    x = ca.SX.sym("x")
    jac = ca.Function("j", [x], [ca.jacobian(curve(x, **kwargs), x)])
    ad = np.array([float(jac(xi)) for xi in grid])
    np.testing.assert_allclose(derivative(grid, **kwargs), ad, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------
# Symbolic and numeric evaluation agree
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("sym", [ca.SX, ca.MX])
def test_curves_symbolic_equals_numeric(sym) -> None:
    x = sym.sym("x")
    curves = [
        lambda z: mu.active_force_length_multiplier(z, 1.2),
        mu.active_force_length_multiplier_derivative,
        mu.passive_force_length_multiplier,
        mu.passive_force_length_multiplier_derivative,
        mu.force_velocity_multiplier,
        mu.force_velocity_inverse,
        mu.tendon_force_length_multiplier,
        mu.tendon_force_length_multiplier_derivative,
        mu.tendon_force_length_inverse,
    ]
    f = ca.Function("f", [x], [ca.vertcat(*[c(x) for c in curves])])
    for xi in (0.3, 0.9, 1.0, 1.04, 1.3):
        numeric = np.array([c(xi) for c in curves], dtype=float)
        np.testing.assert_allclose(np.asarray(f(xi)).ravel(), numeric, rtol=1e-13, atol=1e-14)


def _state_fields(state: mu.MuscleState) -> dict[str, object]:
    return {k: getattr(state, k) for k in mu.MuscleState.__dataclass_fields__}


@pytest.mark.parametrize("params", [PARAMS, PARAMS_DAMPED])
def test_states_symbolic_equals_numeric(params: mu.MuscleParameters) -> None:
    lmt, vmt, a, ftn, dftn = (ca.SX.sym(n) for n in ("lmt", "vmt", "a", "ftn", "dftn"))
    builders = {
        "rigid": (lambda *z: mu.rigid_tendon_state(params, *z[:3]), (0.29, -0.2, 0.6)),
        "explicit": (
            lambda *z: mu.compliant_tendon_state_explicit(params, *z[:4]),
            (0.29, -0.2, 0.6, 0.4),
        ),
        "implicit": (
            lambda *z: mu.compliant_tendon_state_implicit(params, *z),
            (0.29, -0.2, 0.6, 0.4, 1.5),
        ),
    }
    for build, values in builders.values():
        symbols = (lmt, vmt, a, ftn, dftn)[: len(values)]
        sym_state = _state_fields(build(*symbols))
        num_state = _state_fields(build(*values))
        f = ca.Function("f", list(symbols), [ca.vertcat(*sym_state.values())])
        out = np.asarray(f(*values)).ravel()
        np.testing.assert_allclose(
            out, np.array(list(num_state.values()), dtype=float), rtol=1e-12, atol=1e-12
        )


def test_numpy_arrays_broadcast() -> None:
    lmt = np.array([0.28, 0.29, 0.30])
    state = mu.rigid_tendon_state(PARAMS, lmt, np.zeros(3), 0.5)
    assert state.tendon_force.shape == (3,)
    for i in range(3):
        single = mu.rigid_tendon_state(PARAMS, float(lmt[i]), 0.0, 0.5)
        assert state.tendon_force[i] == pytest.approx(single.tendon_force, rel=1e-15)


def test_numpy_and_casadi_inputs_can_be_mixed() -> None:
    a = ca.SX.sym("a")
    state = mu.rigid_tendon_state(PARAMS, np.array([0.29]), np.array([0.0]), a)
    f = ca.Function("f", [a], [state.tendon_force])
    expected = mu.rigid_tendon_state(PARAMS, 0.29, 0.0, 0.7).tendon_force
    assert float(f(0.7)) == pytest.approx(expected, rel=1e-14)


# --------------------------------------------------------------------------------------
# Geometry and force consistency
# --------------------------------------------------------------------------------------
def test_rigid_tendon_geometry_and_force() -> None:
    p = PARAMS
    lmt, vmt, act = 0.31, 0.15, 0.7
    s = mu.rigid_tendon_state(p, lmt, vmt, act)
    w = p.optimal_fiber_length * math.sin(p.pennation_angle_at_optimal)
    assert s.fiber_length == pytest.approx(math.hypot(lmt - p.tendon_slack_length, w))
    assert math.sin(s.pennation_angle) == pytest.approx(w / s.fiber_length)
    assert s.fiber_velocity == pytest.approx(vmt * s.cos_pennation)
    expected = (
        act * s.active_force_length_multiplier * s.force_velocity_multiplier
        + s.passive_force_multiplier
    )
    assert s.tendon_force == pytest.approx(expected * s.cos_pennation * p.max_isometric_force)
    assert s.equilibrium_residual == 0.0
    # At the optimal length the fibre projects to l_opt cos(alpha_opt).
    s_opt = mu.rigid_tendon_state(
        p, p.tendon_slack_length + p.optimal_fiber_length * math.cos(0.2), 0.0, 1.0
    )
    assert s_opt.norm_fiber_length == pytest.approx(1.0, rel=1e-14)
    assert s_opt.pennation_angle == pytest.approx(0.2, rel=1e-14)
    # Pennation angular velocity matches d(alpha)/dt by finite differences.
    h = 1e-7
    s_plus = mu.rigid_tendon_state(p, lmt + h * vmt, vmt, act)
    s_minus = mu.rigid_tendon_state(p, lmt - h * vmt, vmt, act)
    fd = (s_plus.pennation_angle - s_minus.pennation_angle) / (2 * h)
    assert s.pennation_angular_velocity == pytest.approx(fd, rel=1e-6)


def test_rigid_tendon_damping_adds_along_tendon() -> None:
    p = PARAMS_DAMPED
    s = mu.rigid_tendon_state(p, 0.31, 0.2, 0.5)
    assert s.passive_fiber_damping_force == pytest.approx(
        p.max_isometric_force * p.fiber_damping * s.norm_fiber_velocity
    )
    assert s.tendon_force == pytest.approx(s.fiber_force * s.cos_pennation)


def test_ignore_passive_fiber_force() -> None:
    p = mu.MuscleParameters(500.0, 0.1, 0.2, 0.0, 10.0, ignore_passive_fiber_force=True)
    s = mu.rigid_tendon_state(p, 0.36, 0.0, 0.0)  # stretched fibre, no activation
    assert s.passive_force_multiplier == 0.0
    assert s.tendon_force == 0.0


def test_explicit_state_satisfies_equilibrium_and_implicit_agrees() -> None:
    p = PARAMS
    lmt, vmt, act, ftn = 0.305, -0.3, 0.8, 0.6
    ex = mu.compliant_tendon_state_explicit(p, lmt, vmt, act, ftn)
    # Without damping the explicit state is in exact equilibrium.
    assert ex.equilibrium_residual == pytest.approx(0.0, abs=1e-14)
    assert ex.tendon_force == pytest.approx(ex.fiber_force_along_tendon, rel=1e-12)
    # Kinematics: v_MT = v_T + v_M / cos(alpha).
    assert vmt == pytest.approx(ex.tendon_velocity + ex.fiber_velocity / ex.cos_pennation)
    # Implicit form fed with the explicit derivative reproduces the same state.
    im = mu.compliant_tendon_state_implicit(p, lmt, vmt, act, ftn, ex.norm_tendon_force_derivative)
    assert im.equilibrium_residual == pytest.approx(0.0, abs=1e-12)
    assert im.fiber_velocity == pytest.approx(ex.fiber_velocity, rel=1e-10)


def test_explicit_residual_with_damping_is_minus_damping_term() -> None:
    # OpenSim's explicit mode inverts f_V without the damping term.
    p = PARAMS_DAMPED
    ex = mu.compliant_tendon_state_explicit(p, 0.31, 0.1, 0.7, 0.5)
    expected = -p.fiber_damping * ex.norm_fiber_velocity * ex.cos_pennation
    assert ex.equilibrium_residual == pytest.approx(expected, rel=1e-10)


def test_implicit_residual_is_normalized() -> None:
    p = PARAMS
    im = mu.compliant_tendon_state_implicit(p, 0.31, 0.0, 0.5, 0.3, 0.0)
    expected = im.norm_tendon_force - im.fiber_force_along_tendon / p.max_isometric_force
    assert im.equilibrium_residual == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("vmt", [0.0, -0.4, 0.3])
def test_stiff_tendon_compliant_agrees_with_rigid(vmt: float) -> None:
    # With a very stiff tendon (strain 1e-6 at Fmax) the tendon length barely changes, so
    # the equilibrium tendon force (implicit form, d f~T/dt = 0: no tendon velocity)
    # must equal the rigid-tendon force.
    stiff = mu.MuscleParameters(1000.0, 0.1, 0.2, 0.2, 10.0, tendon_strain_at_one_norm_force=1e-6)
    lmt, act = 0.31, 0.6
    rigid = mu.rigid_tendon_state(stiff, lmt, vmt, act)

    def residual(ftn: float) -> float:
        s = mu.compliant_tendon_state_implicit(stiff, lmt, vmt, act, ftn, 0.0)
        return float(s.equilibrium_residual)

    ftn = brentq(residual, 0.0, 5.0, xtol=1e-14)
    assert ftn * stiff.max_isometric_force == pytest.approx(rigid.tendon_force, rel=1e-4)
    compliant = mu.compliant_tendon_state_explicit(stiff, lmt, vmt, act, ftn)
    assert compliant.fiber_length == pytest.approx(rigid.fiber_length, rel=1e-5)
    assert compliant.norm_fiber_velocity == pytest.approx(rigid.norm_fiber_velocity, abs=1e-6)


# --------------------------------------------------------------------------------------
# Activation dynamics
# --------------------------------------------------------------------------------------
def test_activation_derivative_sign_and_fixed_point() -> None:
    a = np.linspace(0.0, 1.0, 11)
    for e in (0.0, 0.3, 1.0):
        da = mu.activation_derivative(e, a)
        assert np.all(np.sign(da) == np.sign(e - a))
    assert mu.activation_derivative(0.4, 0.4) == 0.0


def test_activation_derivative_limits() -> None:
    # Full excitation from rest and full relaxation from full activation, by hand:
    f_on = 0.5 * math.tanh(0.1)
    expected_on = (f_on + 0.5) / (0.015 * 0.5) + (0.5 - f_on) * 0.5 / 0.060
    assert mu.activation_derivative(1.0, 0.0) == pytest.approx(expected_on, rel=1e-14)
    f_off = 0.5 * math.tanh(-0.1)
    expected_off = -((f_off + 0.5) / (0.015 * 2.0) + (0.5 - f_off) * 2.0 / 0.060)
    assert mu.activation_derivative(0.0, 1.0) == pytest.approx(expected_off, rel=1e-14)
    # Activating is faster than deactivating, as tau_a < tau_d.
    assert mu.activation_derivative(1.0, 0.0) > -mu.activation_derivative(0.0, 1.0)


def test_activation_derivative_symbolic() -> None:
    e, a = ca.MX.sym("e"), ca.MX.sym("a")
    f = ca.Function("f", [e, a], [mu.activation_derivative(e, a, 0.02, 0.07)])
    assert float(f(0.8, 0.1)) == pytest.approx(
        mu.activation_derivative(0.8, 0.1, 0.02, 0.07), rel=1e-14
    )


# --------------------------------------------------------------------------------------
# Parameter validation
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        {"max_isometric_force": 0.0},
        {"optimal_fiber_length": -0.1},
        {"pennation_angle_at_optimal": math.pi / 2},
        {"active_force_width_scale": 0.9},
        {"fiber_damping": -0.1},
        {"tendon_strain_at_one_norm_force": 0.0},
        {"activation_time_constant": float("nan")},
    ],
)
def test_invalid_parameters_raise(changes: dict[str, float]) -> None:
    kwargs = {
        "max_isometric_force": 1000.0,
        "optimal_fiber_length": 0.1,
        "tendon_slack_length": 0.2,
        "pennation_angle_at_optimal": 0.1,
        "max_contraction_velocity": 10.0,
    }
    kwargs.update(changes)
    with pytest.raises(ModelError):
        mu.MuscleParameters(**kwargs)


# --------------------------------------------------------------------------------------
# OpenSim oracle (separate process: opensim and casadi cannot share one)
# --------------------------------------------------------------------------------------
_ORACLE = textwrap.dedent(
    """
    import json, sys
    import opensim as osim
    req = json.load(sys.stdin)
    m = osim.DeGrooteFregly2016Muscle()
    m.set_tendon_strain_at_one_norm_force(req["strain"])
    m.set_passive_fiber_strain_at_one_norm_force(req["e0"])
    m.set_active_force_width_scale(req["scale"])
    m.finalizeFromProperties()
    out = {
        "fal": [m.calcActiveForceLengthMultiplier(x) for x in req["lm"]],
        "fpe": [m.calcPassiveForceMultiplier(x) for x in req["lm"]],
        "fv": [m.calcForceVelocityMultiplier(x) for x in req["vm"]],
        "ft": [m.calcTendonForceMultiplier(x) for x in req["lt"]],
    }
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)
    """
)


@pytest.mark.opensim
@pytest.mark.skipif(importlib.util.find_spec("opensim") is None, reason="opensim not installed")
def test_curves_match_opensim(tmp_path) -> None:
    lm = np.linspace(0.2, 1.8, 33)
    vm = np.linspace(-1.0, 1.0, 21)
    lt = np.linspace(0.99, 1.07, 17)
    req = {"strain": 0.06, "e0": 0.5, "scale": 1.4}
    req |= {"lm": lm.tolist(), "vm": vm.tolist(), "lt": lt.tolist()}
    out_file = tmp_path / "oracle.json"
    subprocess.run(
        [sys.executable, "-c", _ORACLE, str(out_file)],
        input=json.dumps(req),
        text=True,
        check=True,
        capture_output=True,
        cwd=tmp_path,  # OpenSim writes opensim.log into its working directory
    )
    ref = json.loads(out_file.read_text())
    np.testing.assert_allclose(
        mu.active_force_length_multiplier(lm, 1.4), ref["fal"], rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        mu.passive_force_length_multiplier(lm, 0.5), ref["fpe"], rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(mu.force_velocity_multiplier(vm), ref["fv"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        mu.tendon_force_length_multiplier(lt, 0.06), ref["ft"], rtol=1e-12, atol=1e-15
    )
