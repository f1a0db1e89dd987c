"""Tests of the smoothed Bhargava et al. (2004) muscle metabolic energy model.

The reference below, :func:`piecewise_bhargava`, is written directly from the published,
non-smooth equations (Bhargava et al. 2004, eq. 1-9; OpenSim's
``Bhargava2004MuscleMetabolicsProbe`` clamps) with plain ``if`` branches. The smoothed
model is compared with it at points well away from its switches; each tolerance is the
bound of the tanh blend's error there: ``0.5 (1 - tanh(y)) = 1 / (1 + exp(2 y)) <
exp(-2 y)``.
"""

from __future__ import annotations

import dataclasses
import math

import casadi as ca
import numpy as np
import pytest

from gaitsim.errors import ModelError
from gaitsim.mechanics import metabolics as met
from gaitsim.mechanics.model_functions import build, muscle_parameters
from gaitsim.mechanics.muscle import rigid_tendon_state
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import TendonModel

SETTINGS = met.BhargavaSettings()
B = SETTINGS.smoothing
K = SETTINGS.length_smoothing


def piecewise_length_factor(lm: float) -> float:
    """Bhargava et al. (2004) eq. 8 / OpenSim's piecewise-linear curve."""
    if lm <= 0.5:
        return 0.5
    if lm <= 1.0:
        return lm
    if lm <= 1.5:
        return 3.0 - 2.0 * lm
    return 0.0


def piecewise_bhargava(
    e: float,
    a: float,
    lm: float,
    v: float,
    f_ce: float,
    f_pas: float,
    f_l: float,
    f_max: float,
    mass: float,
    ratio: float,
) -> dict[str, float]:
    """The published model with hard switches (scalar inputs)."""
    u_slow = math.sin(math.pi / 2 * e)
    u_fast = 1.0 - math.cos(math.pi / 2 * e)
    act = mass * (40.0 * ratio * u_slow + 133.0 * (1.0 - ratio) * u_fast)
    main = (
        mass
        * piecewise_length_factor(lm)
        * (74.0 * ratio * u_slow + 111.0 * (1.0 - ratio) * u_fast)
    )
    f_m = f_ce + f_pas
    if v <= 0.0:
        alpha = 0.16 * a * f_l * f_max + 0.18 * f_m
    else:
        alpha = 0.157 * f_m
    short = -alpha * v
    work = -f_ce * v
    power = act + main + short + work
    short_unclamped = short
    if power < 0.0:
        short -= power
    heat = max(act + main + short, 1.0 * mass)
    return {
        "activation_heat_rate": act,
        "maintenance_heat_rate": main,
        "shortening_heat_rate": short,
        "mechanical_work_rate": work,
        "total": heat + work,
        "power_before_clamp": power,
        "shortening_heat_before_clamp": short_unclamped,
    }


# A muscle like gait2d's soleus: F_max = 3549 N, l_opt = 0.05 m -> mass ~0.75 kg.
F_MAX = 3549.0
MASS = met.muscle_mass(F_MAX, 0.05)

# (e, a, l~, v m/s, f_L, f_V): points at least 0.2 from the corners of L(l~) and with
# |v| >= 0.3 m/s, one in each segment of L, shortening and lengthening.
POINTS = [
    (0.6, 0.5, 0.75, -0.30, 0.70, 0.55),
    (0.9, 0.8, 1.25, -0.45, 0.72, 0.40),
    (0.3, 0.4, 0.25, -0.35, 0.05, 0.50),
    (0.7, 0.6, 1.20, 0.30, 0.80, 1.40),
    (0.5, 0.5, 1.75, 0.40, 0.10, 1.50),
]


def _inputs(point: tuple[float, ...], ratio: float = 0.803) -> dict[str, float]:
    e, a, lm, v, f_l, f_v = point
    f_pas = F_MAX * max(0.0, 0.3 * (lm - 1.0))  # any non-negative passive force will do
    return {
        "e": e,
        "a": a,
        "lm": lm,
        "v": v,
        "f_ce": F_MAX * a * f_l * f_v,
        "f_pas": f_pas,
        "f_l": f_l,
        "f_max": F_MAX,
        "mass": float(MASS),
        "ratio": ratio,
    }


def _smooth(x: dict[str, float], settings: met.BhargavaSettings = SETTINGS) -> met.MetabolicRates:
    return met.bhargava2004_rates(
        x["e"],
        x["a"],
        x["lm"],
        x["v"],
        x["f_ce"],
        x["f_pas"],
        x["f_l"],
        x["f_max"],
        x["mass"],
        x["ratio"],
        settings,
    )


@pytest.mark.parametrize("point", POINTS)
def test_each_term_matches_the_piecewise_model_away_from_switches(point: tuple) -> None:
    x = _inputs(point)
    ref = piecewise_bhargava(*x.values())
    got = _smooth(x)
    # Activation heat and work rate contain no switch: equal up to rounding.
    assert float(got.activation_heat_rate) == pytest.approx(ref["activation_heat_rate"], rel=1e-12)
    assert float(got.mechanical_work_rate) == pytest.approx(ref["mechanical_work_rate"], rel=1e-12)
    # Maintenance: every corner of L is >= 0.2 away; a ramp x * step(k x) differs from
    # max(x, 0) by at most |x| exp(-2 k |x|) there, times the ramp weights (1 + 3 + 2).
    u_max = 111.0 * float(MASS)  # maintenance heat at L = 1, full recruitment, bound
    bound_l = 6.0 * 2.0 * math.exp(-2.0 * K * 0.2) * u_max  # |x| <= 2 on the domain
    assert float(got.maintenance_heat_rate) == pytest.approx(
        ref["maintenance_heat_rate"], abs=bound_l + 1e-12
    )
    # Shortening heat: the velocity blend is off by < exp(-2 b |v|) of the jump in alpha.
    f_m = x["f_ce"] + x["f_pas"]
    jump = abs(0.16 * x["a"] * x["f_l"] * F_MAX + 0.18 * f_m - 0.157 * f_m)
    bound_v = math.exp(-2.0 * B * abs(x["v"])) * jump * abs(x["v"])
    assert float(got.shortening_heat_rate) == pytest.approx(
        ref["shortening_heat_rate"], abs=bound_v + 1e-9
    )
    # Total: the same two errors, plus the power and heat-floor blends, which are
    # negligible here because both clamps are inactive or active by > 10 W (exp(-200)).
    heat = ref["total"] - ref["mechanical_work_rate"]
    assert abs(heat - float(MASS)) > 10.0
    assert abs(ref["power_before_clamp"]) > 10.0
    assert float(got.total) == pytest.approx(ref["total"], abs=bound_l + bound_v + 1e-9)


def test_lengthening_under_load_costs_no_negative_power() -> None:
    """Eccentric work larger than the heat: the shortening heat is raised to cancel it."""
    x = _inputs((0.8, 0.8, 1.1, 0.5, 0.95, 1.6))
    got = _smooth(x)
    assert float(got.mechanical_work_rate) < -1000.0  # strongly negative: -F_CE v
    ref = piecewise_bhargava(*x.values())
    # The clamps are active by hundreds of W, so the blends are exact to exp(-1000).
    power = (
        got.activation_heat_rate
        + got.maintenance_heat_rate
        + got.shortening_heat_rate
        + got.mechanical_work_rate
    )
    assert float(power) == pytest.approx(0.0, abs=1e-6)  # rounding of ~1e3 W terms
    # Total heat = -W > 1 W/kg * m, so the total is 0.
    assert float(got.total) == pytest.approx(ref["total"], abs=1e-6)
    assert ref["total"] == pytest.approx(0.0, abs=1e-9)  # the reference itself agrees


def test_isometric_contraction_has_no_shortening_heat_and_no_work() -> None:
    x = _inputs((0.6, 0.5, 0.9, 0.0, 0.9, 1.0))
    got = _smooth(x)
    assert float(got.mechanical_work_rate) == 0.0  # -F_CE * 0
    # -alpha * 0 = 0; the non-negative-power correction P / (1 + exp(2 b P)) with
    # P = A + M of tens of watts is below 1e-100.
    assert abs(float(got.shortening_heat_rate)) < 1e-12
    assert float(got.activation_heat_rate) > 0.0
    assert float(got.maintenance_heat_rate) > 0.0
    assert float(got.total) == pytest.approx(
        float(got.activation_heat_rate + got.maintenance_heat_rate), rel=1e-12
    )


def test_work_rate_sign_follows_shortening_and_lengthening() -> None:
    short = _smooth(_inputs((0.6, 0.6, 1.0, -0.3, 1.0, 0.5)))
    long = _smooth(_inputs((0.6, 0.6, 1.0, 0.3, 1.0, 1.5)))
    assert float(short.mechanical_work_rate) > 0.0
    assert float(short.mechanical_work_rate) == pytest.approx(
        F_MAX * 0.6 * 0.5 * 0.3,
        rel=1e-12,  # -F_CE v written out; rounding only
    )
    assert float(long.mechanical_work_rate) < 0.0
    assert float(short.shortening_heat_rate) > 0.0  # shortening produces heat
    # Lengthening absorbs heat (S = -0.157 F_M v < 0) before the non-negative-power
    # correction; with the correction, S cancels the large negative work instead.
    unclamped = met.BhargavaSettings(forbid_negative_total_power=False)
    x = _inputs((0.6, 0.6, 1.0, 0.3, 1.0, 1.5))
    raw = float(_smooth(x, unclamped).shortening_heat_rate)
    f_m = x["f_ce"] + x["f_pas"]
    assert raw < 0.0
    # Blend error < exp(-2 b v) = exp(-6) of the jump between the two coefficients.
    jump = abs(0.16 * 0.6 * F_MAX + 0.18 * f_m - 0.157 * f_m) * 0.3
    assert raw == pytest.approx(-0.157 * f_m * 0.3, abs=jump * math.exp(-6.0))
    assert float(long.total) == pytest.approx(0.0, abs=1e-9)  # power clamped at zero


def test_negative_work_can_be_excluded() -> None:
    settings = met.BhargavaSettings(include_negative_mechanical_work=False)
    x = _inputs((0.6, 0.6, 1.0, 0.3, 1.0, 1.5))
    got = _smooth(x, settings)
    full = -x["f_ce"] * x["v"]
    # Remaining fraction of the work is 1 / (1 + exp(2 b v)) < exp(-2 b v).
    assert abs(float(got.mechanical_work_rate)) <= abs(full) * math.exp(-2.0 * B * x["v"])
    shortening = _inputs((0.6, 0.6, 1.0, -0.3, 1.0, 0.5))
    kept = float(_smooth(shortening, settings).mechanical_work_rate)
    assert kept == pytest.approx(-shortening["f_ce"] * shortening["v"], rel=math.exp(-6.0))


def test_anderson_shortening_coefficient() -> None:
    settings = met.BhargavaSettings(
        force_dependent_shortening=False, forbid_negative_total_power=False
    )
    short = _inputs((0.6, 0.6, 1.0, -0.4, 1.0, 0.5))
    long = _inputs((0.6, 0.6, 1.0, 0.4, 1.0, 1.5))
    f_m = short["f_ce"] + short["f_pas"]
    got_short = float(_smooth(short, settings).shortening_heat_rate)
    got_long = float(_smooth(long, settings).shortening_heat_rate)
    # Blend error < exp(-2 b |v|) = exp(-8) of the jump 0.25 F_M |v|.
    assert got_short == pytest.approx(0.25 * f_m * 0.4, rel=math.exp(-8.0))
    f_m_long = long["f_ce"] + long["f_pas"]
    assert abs(got_long) <= 0.25 * f_m_long * 0.4 * math.exp(-8.0)


def test_zero_excitation_and_activation() -> None:
    x = _inputs((0.0, 0.0, 1.0, 0.0, 1.0, 1.0))
    got = _smooth(x)
    assert float(got.activation_heat_rate) == 0.0  # sin(0) = 1 - cos(0) = 0
    assert float(got.maintenance_heat_rate) == 0.0
    assert float(got.mechanical_work_rate) == 0.0
    # Only the 1 W/kg floor remains; its blend misses by m exp(-2 b m).
    m = float(MASS)
    assert float(got.total) == pytest.approx(m, abs=m * math.exp(-2.0 * B * m))


def test_full_excitation_recruits_every_fibre() -> None:
    x = _inputs((1.0, 1.0, 1.0, 0.0, 1.0, 1.0), ratio=0.3)
    got = _smooth(x)
    m = float(MASS)
    # sin(pi/2) = 1 - cos(pi/2) = 1: mass-weighted mix of the published constants.
    assert float(got.activation_heat_rate) == pytest.approx(m * (0.3 * 40 + 0.7 * 133), rel=1e-12)
    # L(1) = 1; the other two corners are 0.5 away (error < 0.5 exp(-50)).
    assert float(got.maintenance_heat_rate) == pytest.approx(m * (0.3 * 74 + 0.7 * 111), rel=1e-12)


def test_length_dependence_is_exact_at_corners_and_smooth() -> None:
    corners = np.array([0.5, 1.0, 1.5])
    # At a corner its own ramp is exactly 0; the others are >= 0.5 away (exp(-50)).
    np.testing.assert_allclose(
        met.maintenance_length_dependence(corners), [0.5, 1.0, 0.0], atol=1e-20
    )
    x = ca.SX.sym("x")
    f = met.maintenance_length_dependence(x)
    d2 = ca.Function("d2", [x], [ca.hessian(f, x)[0]])
    curvature = [float(d2(v)) for v in np.linspace(0.2, 1.8, 161)]
    assert np.all(np.isfinite(curvature))


def test_settings_reject_bad_smoothing() -> None:
    with pytest.raises(ValueError, match="smoothing"):
        met.BhargavaSettings(smoothing=0.0)
    with pytest.raises(ValueError, match="length_smoothing"):
        met.BhargavaSettings(length_smoothing=-1.0)


def test_muscle_mass_by_hand() -> None:
    model = load_builtin("gait2d")
    soleus = next(m for m in model.muscles if m.name == "soleus_r")
    pcsa = soleus.max_isometric_force / 250e3  # m^2, specific tension 0.25 MPa
    volume = pcsa * soleus.optimal_fiber_length  # m^3
    expected = volume * 1059.7  # kg
    got = met.muscle_mass(soleus.max_isometric_force, soleus.optimal_fiber_length)
    assert float(got) == pytest.approx(expected, rel=1e-14)  # same arithmetic, reordered
    # 1000 N, 0.1 m: 0.004 m^2 * 0.1 m * 1059.7 kg/m^3 = 0.42388 kg (written out).
    assert float(met.muscle_mass(1000.0, 0.1)) == pytest.approx(0.42388, rel=1e-12)


def test_slow_twitch_ratios_of_gait2d_come_from_the_table() -> None:
    names = load_builtin("gait2d").muscle_names
    for name in names:
        assert name[:-2] in met.SLOW_TWITCH_RATIOS, name
    ratios = met.slow_twitch_ratios(names)
    assert ratios.shape == (len(names),)
    assert met.slow_twitch_ratio("soleus_r") == 0.803
    assert met.slow_twitch_ratio("tib_ant_l") == 0.70
    assert met.slow_twitch_ratio("no_such_muscle_r") == met.DEFAULT_SLOW_TWITCH_RATIO
    assert met.slow_twitch_ratio("soleus_r") == met.slow_twitch_ratio("soleus_l")


def test_lumped_ratios_are_mass_weighted_over_gait3d_constituents() -> None:
    """gait2d's hamstrings, vasti and gastrocnemius from gait3d's muscle sizes."""
    gait3d = {m.name: m for m in load_builtin("gait3d").muscles}
    groups = {
        "hamstrings": ("semimem", "semiten", "bifemlh"),
        "vasti": ("vas_med", "vas_int", "vas_lat"),
        "gastroc": ("med_gas", "lat_gas"),
        "glut_max": ("glut_max1", "glut_max2", "glut_max3"),
        "iliopsoas": ("iliacus", "psoas"),
    }
    for lumped, parts in groups.items():
        masses = [
            met.muscle_mass(
                gait3d[p + "_r"].max_isometric_force, gait3d[p + "_r"].optimal_fiber_length
            )
            for p in parts
        ]
        slow = [met.slow_twitch_ratio(p) for p in parts]
        expected = sum(m * s for m, s in zip(masses, slow, strict=True)) / sum(masses)
        assert met.SLOW_TWITCH_RATIOS[lumped] == pytest.approx(expected, rel=1e-12), lumped
        # A weighted mean lies between its extremes (1e-12: rounding of equal values).
        assert min(slow) - 1e-12 <= met.SLOW_TWITCH_RATIOS[lumped] <= max(slow) + 1e-12


@pytest.fixture(scope="module")
def gait2d_functions():  # type: ignore[no-untyped-def]
    return build(load_builtin("gait2d"))


def _state(n_q: int, n_m: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(20240601)
    q = np.zeros(n_q)
    q[3:9] = rng.uniform(-0.4, 0.4, 6)  # hips, knees, ankles
    qd = rng.uniform(-3.0, 3.0, n_q)
    e = rng.uniform(0.05, 0.95, n_m)
    a = rng.uniform(0.05, 0.95, n_m)
    return q, qd, e, a


def test_casadi_function_matches_numpy_path(gait2d_functions) -> None:  # type: ignore[no-untyped-def]
    f = gait2d_functions
    model = f.model
    q, qd, e, a = _state(f.n_q, len(model.muscles))
    zeros = np.zeros(len(model.muscles))
    out = f.metabolic_rate(q, qd, e, a, zeros, zeros)
    lmt = np.array(f.muscle_tendon_lengths(q)).ravel()
    vmt = np.array(f.lengthening_velocities(q, qd)).ravel()
    params = [muscle_parameters(m) for m in model.muscles]
    states = [rigid_tendon_state(p, lmt[i], vmt[i], a[i]) for i, p in enumerate(params)]

    def col(attr: str) -> np.ndarray:
        return np.array([float(getattr(s, attr)) for s in states])

    f_max = np.array([p.max_isometric_force for p in params])
    l_opt = np.array([p.optimal_fiber_length for p in params])
    ref = met.bhargava2004_rates(
        e,
        a,
        col("norm_fiber_length"),
        col("fiber_velocity"),
        col("active_fiber_force"),
        col("passive_fiber_force"),
        col("active_force_length_multiplier"),
        f_max,
        met.muscle_mass(f_max, l_opt),
        met.slow_twitch_ratios(model.muscle_names),
    )
    names = [
        "activation_heat_rate",
        "maintenance_heat_rate",
        "shortening_heat_rate",
        "mechanical_work_rate",
        "total",
    ]
    for k, name in enumerate(names):
        # Same formulas evaluated by CasADi's SX VM and by NumPy: rounding only.
        np.testing.assert_allclose(
            np.array(out[k]).ravel(), getattr(ref, name), rtol=1e-10, atol=1e-9, err_msg=name
        )
    assert float(out[5]) == pytest.approx(float(np.sum(ref.total)), rel=1e-10)
    # Sign convention through the whole chain: fibres that shorten do positive work,
    # fibres that lengthen negative work.
    v = col("fiber_velocity")
    work = np.array(out[3]).ravel()
    assert np.all(work[v < -0.05] > 0.0)
    assert np.all(work[v > 0.05] < 0.0)


def test_metabolic_rate_is_twice_differentiable(gait2d_functions) -> None:  # type: ignore[no-untyped-def]
    f = gait2d_functions
    n_q, n_m = f.n_q, len(f.model.muscles)
    x = ca.SX.sym("x", 2 * n_q + 2 * n_m)
    q, qd = x[:n_q], x[n_q : 2 * n_q]
    e, a = x[2 * n_q : 2 * n_q + n_m], x[2 * n_q + n_m :]
    total = f.metabolic_rate(q, qd, e, a, np.zeros(n_m), np.zeros(n_m))[5]
    grad_hess = ca.Function("gh", [x], [ca.gradient(total, x), ca.hessian(total, x)[0]])
    x0 = np.concatenate(_state(n_q, n_m))
    grad, hess = (np.array(v) for v in grad_hess(x0))
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))
    assert np.any(grad != 0.0)
    # The gradient is the derivative: central differences along a random direction.
    direction = np.random.default_rng(7).normal(size=x0.size)
    value = ca.Function("v", [x], [total])
    h = 1e-6
    fd = (float(value(x0 + h * direction)) - float(value(x0 - h * direction))) / (2 * h)
    # Central-difference error ~ h^2 |f'''| plus rounding ~ eps |f| / h, with |f| ~ 1e3 W:
    # about 1e-7 relative to a directional derivative of order 1e2-1e3.
    assert fd == pytest.approx(float(grad.ravel() @ direction), rel=1e-5)


def test_compliant_muscle_with_a_stiff_tendon_matches_the_rigid_one() -> None:
    """A compliant tendon a hundred times stiffer than usual behaves as a rigid one.

    With the tendon force of the rigid-tendon state and no force rate, the compliant
    muscle's fibre takes the rest of the path length (the tendon stretches by about
    0.05 % instead of 4.9 % at full force) and all of its velocity, so its metabolic rate
    must approach the rigid-tendon muscle's. A compliant muscle whose tendon force were
    ignored, or read from the wrong input, would not.
    """
    model = load_builtin("gait2d")
    muscles = list(model.muscles)
    i = model.muscle_names.index("soleus_r")
    muscles[i] = dataclasses.replace(
        muscles[i], tendon=TendonModel.COMPLIANT, tendon_strain_at_one_norm_force=0.049e-2
    )
    rigid = build(model)
    compliant = build(dataclasses.replace(model, muscles=tuple(muscles)))
    n_q, n_m = rigid.n_q, len(model.muscles)
    q, qd, e, a = _state(n_q, n_m)
    p = muscle_parameters(model.muscles[i])
    lmt = np.array(rigid.muscle_tendon_lengths(q)).ravel()[i]
    vmt = np.array(rigid.lengthening_velocities(q, qd)).ravel()[i]
    state = rigid_tendon_state(p, lmt, vmt, a[i])
    f_t = np.zeros(n_m)
    f_t[i] = float(state.tendon_force) / p.max_isometric_force
    assert f_t[i] > 0.05  # the muscle is loaded: the check is not vacuous
    expected = np.array(rigid.metabolic_rate(q, qd, e, a, f_t, np.zeros(n_m))[4]).ravel()
    got = np.array(compliant.metabolic_rate(q, qd, e, a, f_t, np.zeros(n_m))[4]).ravel()
    # Rigid muscles are untouched by the inputs they ignore: identical.
    np.testing.assert_array_equal(np.delete(got, i), np.delete(expected, i))
    # The soleus: its fibre is shorter by the tendon stretch (under 0.05 % of a 0.24 m
    # slack length, ~0.1 mm against a 48 mm optimal fibre), changing the rate under 1 %.
    assert got[i] == pytest.approx(expected[i], rel=1e-2)
    # With the usual tendon the same force stretches the tendon by several mm: the rate
    # differs (the check above can fail).
    muscles[i] = dataclasses.replace(muscles[i], tendon_strain_at_one_norm_force=0.049)
    usual = build(dataclasses.replace(model, muscles=tuple(muscles)))
    other = float(np.array(usual.metabolic_rate(q, qd, e, a, f_t, np.zeros(n_m))[4]).ravel()[i])
    assert abs(other - expected[i]) > 0.02 * abs(expected[i])


def test_wrong_slow_twitch_length_is_refused(gait2d_functions) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match="slow_twitch"):
        met.metabolic_rate_function(gait2d_functions, slow_twitch=np.full(3, 0.5))
