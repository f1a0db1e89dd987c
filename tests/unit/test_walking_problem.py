"""The walking problem's structure (fast checks; the solve itself is in a slow test)."""

from __future__ import annotations

import numpy as np
import pytest

import gaitsim
from gaitsim.simulate.initial_guess import kinematic_guess
from gaitsim.simulate.stride import full_stride
from gaitsim.simulate.walking import WalkingSpec, mirror_name, walking_problem


def test_mirror_names() -> None:
    assert mirror_name("knee_angle_r") == "knee_angle_l"
    assert mirror_name("soleus_l_activation") == "soleus_r_activation"
    assert mirror_name("pelvis_tilt") == "pelvis_tilt"
    assert mirror_name("lumbar") == "lumbar"


@pytest.fixture(scope="module")
def gait2d_problem():
    model = gaitsim.load_builtin("gait2d")
    functions = gaitsim.build(model)
    problem, layout = walking_problem(model, WalkingSpec(speed=1.3), functions)
    return model, functions, problem, layout


def test_layout_and_sizes(gait2d_problem) -> None:
    model, _, problem, layout = gait2d_problem
    nq, nm = len(model.coordinates), len(model.muscles)
    assert problem.state_names == layout.state_names
    assert len(problem.states) == 2 * nq + nm  # gait2d tendons are rigid
    assert len(problem.controls) == nm + nq + len(model.actuators)
    problem.check()


def test_implicit_residual_vanishes_for_consistent_accelerations(gait2d_problem) -> None:
    """With qdd from forward dynamics of the same forces, the path constraint is zero."""
    model, f, problem, layout = gait2d_problem
    rng = np.random.default_rng(11)
    nq, nm = len(model.coordinates), len(model.muscles)
    guess = kinematic_guess(model, layout, speed=1.3)
    x = guess.states[10].copy()
    x[2 * nq : 2 * nq + nm] = rng.uniform(0.05, 0.8, nm)
    q, qd, a = x[:nq], x[nq : 2 * nq], x[2 * nq : 2 * nq + nm]
    u_act = np.array([3.0])
    lmt = np.asarray(f.muscle_tendon_lengths(q)).ravel()
    vmt = np.asarray(f.lengthening_velocities(q, qd)).ravel()
    tendon = np.asarray(f.muscle_rigid(lmt, vmt, a)[0]).ravel()
    tau = (
        np.asarray(f.moment_arms(q)).T @ tendon
        + np.asarray(f.contact_forces(q, qd)[2]).ravel()
        + np.asarray(f.limit_torques(q, qd)).ravel()
        + f.actuator_matrix @ u_act
    )
    qdd = np.asarray(f.forward_dynamics(q, qd, tau, np.zeros((6, len(model.bodies))))).ravel()
    u = np.concatenate([rng.uniform(0.01, 1, nm), qdd, u_act])
    residual = problem.path_constraints[0].function(x, u, np.zeros(0))
    # Residual in N m; forces of up to ~1e4 N: rounding-level agreement.
    assert np.abs(np.asarray(residual)).max() < 1e-6


def test_periodicity_accepts_a_mirrored_pair(gait2d_problem) -> None:
    _, _, problem, layout = gait2d_problem
    rng = np.random.default_rng(12)
    x0 = rng.normal(size=len(layout.state_names))
    names = layout.state_names
    xf = np.array([x0[names.index(mirror_name(n))] for n in names])
    xf[names.index("pelvis_tx")] = 0.6  # the forward position is not periodic
    constraint = next(c for c in problem.boundary_constraints if c.name == "periodicity")
    assert np.abs(np.asarray(constraint.function(x0, xf, np.zeros(0), 0.5))).max() == 0.0
    xf[names.index("knee_angle_r")] += 0.1
    assert np.abs(np.asarray(constraint.function(x0, xf, np.zeros(0), 0.5))).max() > 0.05


def test_full_stride_mirrors_the_second_half() -> None:
    time = np.linspace(0.0, 0.5, 6)
    names = ("pelvis_tx", "knee_angle_r", "knee_angle_l")
    values = np.column_stack([1.3 * time, np.sin(time), np.cos(time)])
    t, v = full_stride(time, names, values, distance=0.65)
    assert t.size == 11 and t[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(v[6:, 1], np.cos(time[1:]))  # right = left shifted
    np.testing.assert_allclose(v[6:, 2], np.sin(time[1:]))
    np.testing.assert_allclose(v[6:, 0], 1.3 * time[1:] + 0.65)


def test_kinematic_guess_moves_at_the_asked_speed(gait2d_problem) -> None:
    model, _, _, layout = gait2d_problem
    for speed in (1.3, -0.8):
        guess = kinematic_guess(model, layout, speed=speed, duration=0.5)
        x = guess.state("pelvis_tx")
        assert (x[-1] - x[0]) / guess.duration == pytest.approx(speed)


def test_trajectory_file_round_trip(tmp_path, gait2d_problem) -> None:
    from gaitsim.simulate.guesses import load_trajectory, save_trajectory

    model, _, _, layout = gait2d_problem
    guess = kinematic_guess(model, layout, speed=1.3)
    save_trajectory(guess, tmp_path / "g.sto")
    back = load_trajectory(tmp_path / "g.sto")
    assert back.state_names == guess.state_names and back.control_names == guess.control_names
    # Written with 12 significant digits.
    np.testing.assert_allclose(back.states, guess.states, rtol=1e-10, atol=1e-12)
    assert back.parameters["duration"] == pytest.approx(guess.parameters["duration"])


def test_shipped_guess_matches_the_problem(gait2d_problem) -> None:
    from gaitsim.simulate.guesses import shipped_guess

    _, _, problem, _ = gait2d_problem
    shipped = shipped_guess("gait2d", 1.3)
    assert shipped is not None, "gaitsim ships a forward walking guess for gait2d"
    guess, speed = shipped
    assert speed == pytest.approx(1.3, rel=1e-6)
    assert guess.state_names == problem.state_names
    assert guess.control_names == problem.control_names


def test_grf_limit_goal_penalises_each_foot_above_the_limit(shipped_stride) -> None:
    """The goal's integrand against a hand computation from the stride's per-foot GRF."""
    model, functions, stride = shipped_stride("forward")
    spec = WalkingSpec(speed=1.3, grf_limit=0.8, grf_limit_weight=1.0, grf_limit_penalty="squared")
    problem, layout = walking_problem(model, spec, functions)
    goal = next(g for g in problem.goals if g.name == "ground reaction force limit")
    x = np.hstack([stride.q, stride.qd, stride.activations])
    u = np.zeros(len(layout.control_names))
    integrand = np.array([float(goal.integrand(xk, u, np.zeros(0))) for xk in x])
    weight = model.total_mass * 9.80665
    expected = np.zeros(len(x))
    for side in ("r", "l"):
        excess = stride.grf[side][:, 1] / weight - 0.8
        expected += (0.5 * (excess + np.sqrt(excess**2 + 1e-4))) ** 2
    assert expected.max() > 0.01  # the stride does exceed 0.8 BW: the check is not vacuous
    # Same contact model evaluated by two code paths: rounding-level agreement.
    np.testing.assert_allclose(integrand, expected, rtol=1e-9, atol=1e-12)
    # Far below the limit the smooth penalty vanishes (max(0, x)^2 with a 1e-2 BW blend).
    far = WalkingSpec(grf_limit=10.0, grf_limit_weight=1.0, grf_limit_penalty="squared")
    high = walking_problem(model, far, functions)[0]
    goal = next(g for g in high.goals if g.name == "ground reaction force limit")
    assert max(float(goal.integrand(xk, u, np.zeros(0))) for xk in x) < 1e-9
    # The linear form: the same smooth max, not squared.
    linear = WalkingSpec(speed=1.3, grf_limit=0.8, grf_limit_weight=1.0, grf_limit_penalty="linear")
    goal = next(
        g
        for g in walking_problem(model, linear, functions)[0].goals
        if g.name == "ground reaction force limit"
    )
    expected = np.zeros(len(x))
    for side in ("r", "l"):
        excess = stride.grf[side][:, 1] / weight - 0.8
        expected += 0.5 * (excess + np.sqrt(excess**2 + 1e-4))
    values = np.array([float(goal.integrand(xk, u, np.zeros(0))) for xk in x])
    np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="grf_limit_penalty"):
        WalkingSpec(grf_limit_penalty="cubic")
    # Off unless weighted.
    assert all(
        g.name != "ground reaction force limit"
        for g in walking_problem(model, WalkingSpec(grf_limit_weight=0.0), functions)[0].goals
    )


def test_head_stability_goal_is_the_squared_head_acceleration_in_g(gait2d_problem) -> None:
    """The integrand against central differences of the head point's ground position.

    The position comes from the body poses (no differentiation by CasADi); the goal's
    acceleration from symbolic derivatives of the same kinematics, evaluated with the
    coordinates' speeds and accelerations. Along a smooth motion q(t) = q0 + A sin(w t)
    both must agree to the differencing error.
    """
    model, functions, _, _ = gait2d_problem
    location = np.array([0.01, 0.6, 0.0])
    spec = WalkingSpec(head_stability_weight=1.0, head_location=tuple(location))
    problem, layout = walking_problem(model, spec, functions)
    goal = next(g for g in problem.goals if g.name == "head stability")
    nq, nm = layout.n_q, len(layout.muscles)
    rng = np.random.default_rng(3)
    q0 = np.array([c.default for c in model.coordinates]) + 0.1 * rng.standard_normal(nq)
    amplitude, omega = 0.2 * rng.standard_normal(nq), 2 * np.pi * 1.1
    torso = [b.name for b in model.bodies].index("torso")

    def head(t: float) -> np.ndarray:
        positions, rotations = functions.body_poses(q0 + amplitude * np.sin(omega * t))
        r = np.asarray(rotations)[:, 3 * torso : 3 * torso + 3]
        return np.asarray(positions)[:, torso] + r @ location

    h = 1e-3
    for t in (0.05, 0.3, 0.71):
        q = q0 + amplitude * np.sin(omega * t)
        qd = amplitude * omega * np.cos(omega * t)
        qdd = -amplitude * omega**2 * np.sin(omega * t)
        x = np.concatenate([q, qd, np.full(nm, 0.1)])
        u = np.zeros(len(layout.control_names))
        u[nm : nm + nq] = qdd
        expected = (head(t + h) - 2 * head(t) + head(t - h)) / h**2 / 9.80665
        value = float(goal.integrand(x, u, np.zeros(0)))
        assert expected[:2] @ expected[:2] > 0.01  # the head does accelerate: not vacuous
        # Central differences err by h^2/12 * x'''' ~ 1e-7 * (w^4 * 1 m) ~ 3e-4 g here;
        # relative 1e-4 of a value of order 0.1-1 g^2 covers it with margin.
        assert value == pytest.approx(expected[:2] @ expected[:2], rel=1e-4)
    with pytest.raises(ValueError, match="head_body 'skull'"):
        walking_problem(model, WalkingSpec(head_stability_weight=1.0, head_body="skull"), functions)
    off = WalkingSpec(head_stability_weight=0.0)
    assert all(g.name != "head stability" for g in walking_problem(model, off, functions)[0].goals)


def test_metabolic_goal_is_the_muscles_metabolic_power_per_body_mass(shipped_stride) -> None:
    """The goal's integrand against the numpy path of the Bhargava model on the stride.

    Excitations and activations differ along the stride, so a goal that read one for the
    other (or the wrong slice of the state) would not match.
    """
    from gaitsim.mechanics.metabolics import bhargava2004_rates, muscle_mass, slow_twitch_ratios
    from gaitsim.mechanics.model_functions import muscle_parameters
    from gaitsim.mechanics.muscle import rigid_tendon_state

    model, functions, stride = shipped_stride("forward")
    problem, layout = walking_problem(model, WalkingSpec(metabolic_weight=1.0), functions)
    goal = next(g for g in problem.goals if g.name == "metabolic energy")
    nm = len(layout.muscles)
    ratios = slow_twitch_ratios(model.muscle_names)
    assert np.abs(stride.excitations - stride.activations).max() > 0.05  # not vacuous
    for k in range(0, len(stride.time), 7):
        x = np.concatenate([stride.q[k], stride.qd[k], stride.activations[k]])
        u = np.zeros(len(layout.control_names))
        u[:nm] = stride.excitations[k]
        lmt = np.asarray(functions.muscle_tendon_lengths(stride.q[k])).ravel()
        vmt = np.asarray(functions.lengthening_velocities(stride.q[k], stride.qd[k])).ravel()
        total = 0.0
        for i, muscle in enumerate(model.muscles):
            p = muscle_parameters(muscle)
            s = rigid_tendon_state(p, lmt[i], vmt[i], stride.activations[k, i])
            total += float(
                bhargava2004_rates(
                    stride.excitations[k, i],
                    stride.activations[k, i],
                    s.norm_fiber_length,
                    s.fiber_velocity,
                    s.active_fiber_force,
                    s.passive_fiber_force,
                    s.active_force_length_multiplier,
                    p.max_isometric_force,
                    muscle_mass(p.max_isometric_force, p.optimal_fiber_length),
                    ratios[i],
                ).total
            )
        # The same equations by CasADi and by numpy: rounding-level agreement.
        assert float(goal.integrand(x, u, np.zeros(0))) == pytest.approx(
            total / model.total_mass, rel=1e-9
        )
