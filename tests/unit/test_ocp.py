"""The optimal-control core on problems with known answers, and its contracts."""

from __future__ import annotations

import casadi as ca
import numpy as np
import pytest

from gaitsim.ocp import (
    BoundaryConstraint,
    ConvergenceError,
    EndpointGoal,
    HermiteSimpson,
    IntegralGoal,
    Ipopt,
    OptimalControlProblem,
    PathConstraint,
    ProblemError,
    SealedSolutionError,
    Trapezoidal,
    Variable,
    solve,
    transcribe,
)
from gaitsim.ocp.solve import initial_guess_vector

x_ = ca.SX.sym("x", 2)
u_ = ca.SX.sym("u", 1)
p_ = ca.SX.sym("p", 0)
DOUBLE_INTEGRATOR = ca.Function("f", [x_, u_, p_], [ca.vertcat(x_[1], u_)])
EFFORT = ca.Function("L", [x_, u_, p_], [u_**2])


def min_effort(final_position: float = 1.0) -> OptimalControlProblem:
    """min int u^2, x'' = u, x(0)=v(0)=0, x(1)=1, v(1)=0: u = 6 - 12 t, J = 12."""
    return OptimalControlProblem(
        states=(
            Variable("x", -10, 10, initial=(0, 0), final=(final_position,) * 2),
            Variable("v", -10, 10, initial=(0, 0), final=(0, 0)),
        ),
        controls=(Variable("u", -50, 50),),
        dynamics=DOUBLE_INTEGRATOR,
        duration=(1.0, 1.0),
        goals=(IntegralGoal(name="effort", integrand=EFFORT),),
        name="min_effort",
    )


@pytest.mark.parametrize("transcription", [Trapezoidal(20), HermiteSimpson(20)])
def test_minimum_effort_double_integrator(transcription) -> None:
    sol = solve(min_effort(), transcription, Ipopt(tolerance=1e-10))
    assert sol.success and sol.status == "Solve_Succeeded"
    assert sol.objective_terms == {"effort": pytest.approx(sol.objective)}
    if transcription.scheme.has_midpoint:
        # Hermite-Simpson represents the cubic position and linear control exactly, and
        # Simpson's rule integrates u^2 exactly: the discrete optimum is the analytic one.
        assert sol.objective == pytest.approx(12.0, rel=1e-8)
        np.testing.assert_allclose(sol.control("u"), 6 - 12 * sol.time, atol=1e-6)
        np.testing.assert_allclose(sol.state("x"), 3 * sol.time**2 - 2 * sol.time**3, atol=1e-8)
    else:
        # Trapezoidal collocation is second order: J(h) = 12 + O(h^2). With h = 0.05 the
        # error is 0.117; halving h must divide it by ~4.
        finer = solve(min_effort(), Trapezoidal(40), Ipopt(tolerance=1e-10))
        ratio = (sol.objective - 12.0) / (finer.objective - 12.0)
        assert 3.5 < ratio < 4.5
        # Interior controls are within O(h) of the analytic ones (the end points carry the
        # scheme's known boundary error, 0.24 here).
        np.testing.assert_allclose(sol.control("u")[1:-1], (6 - 12 * sol.time)[1:-1], atol=0.06)


def _sine_tracking(transcription) -> float:
    """x' = u, min int (x - sin(2 pi t))^2 + 1e-6 u^2 ... error of tracking a known optimum.

    With dynamics x' = cos-driven: we use x' = u and the goal int (u - 2 pi cos 2 pi t)^2
    with x(0) = 0: the optimum is x = sin(2 pi t), and the discretisation error of x(0.25)
    shows the scheme's order.
    """
    xs, us, ts = ca.SX.sym("x", 2), ca.SX.sym("u"), ca.SX.sym("p", 0)
    # State 2 is time itself (t' = 1), so the integrand can use t.
    dyn = ca.Function("f", [xs, us, ts], [ca.vertcat(us, 1.0)])
    integrand = ca.Function("L", [xs, us, ts], [(us - 2 * np.pi * ca.cos(2 * np.pi * xs[1])) ** 2])
    problem = OptimalControlProblem(
        states=(Variable("x", -5, 5, initial=(0, 0)), Variable("t", -1, 2, initial=(0, 0))),
        controls=(Variable("u", -20, 20),),
        dynamics=dyn,
        duration=(1.0, 1.0),
        goals=(IntegralGoal(name="track", integrand=integrand),),
    )
    sol = solve(problem, transcription, Ipopt(tolerance=1e-12))
    return float(np.abs(sol.state("x") - np.sin(2 * np.pi * sol.time)).max())


def test_convergence_orders() -> None:
    """Error falls ~4x per halving for trapezoidal (order 2), ~16x for Hermite-Simpson."""
    trap = [_sine_tracking(Trapezoidal(n)) for n in (10, 20)]
    hs = [_sine_tracking(HermiteSimpson(n)) for n in (5, 10)]
    assert 3.0 < trap[0] / trap[1] < 5.5
    assert hs[0] / hs[1] > 10.0


def test_free_final_time_minimum_time() -> None:
    """Minimum time to move 1 m from rest to rest with |u| <= 1: T = 2 (bang-bang)."""
    problem = OptimalControlProblem(
        states=(
            Variable("x", -5, 5, initial=(0, 0), final=(1, 1)),
            Variable("v", -5, 5, initial=(0, 0), final=(0, 0)),
        ),
        controls=(Variable("u", -1, 1),),
        dynamics=DOUBLE_INTEGRATOR,
        duration=(0.5, 5.0),
        goals=(EndpointGoal(name="time", function=_duration_goal()),),
    )
    sol = solve(problem, HermiteSimpson(40), Ipopt(tolerance=1e-8))
    # The bang-bang switch falls inside an interval: O(h) error in T at most.
    assert sol.duration == pytest.approx(2.0, abs=0.02)


def _duration_goal() -> ca.Function:
    a, b, p, t = ca.SX.sym("a", 2), ca.SX.sym("b", 2), ca.SX.sym("p", 0), ca.SX.sym("T")
    return ca.Function("T", [a, b, p, t], [t])


def test_trapezoidal_defects_match_hand_formulas() -> None:
    """Defects and constraint layout on a two-interval mesh, against hand-written formulas."""
    xs, us, ps = ca.SX.sym("x"), ca.SX.sym("u"), ca.SX.sym("p", 0)
    dyn = ca.Function("f", [xs, us, ps], [xs**2 + us])
    path = ca.Function("g", [xs, us, ps], [xs * us])
    problem = OptimalControlProblem(
        states=(Variable("x", -10, 10, scale=2.0),),
        controls=(Variable("u", -10, 10),),
        dynamics=dyn,
        duration=(0.5, 1.5),
        path_constraints=(PathConstraint("xu", path, -1, 1),),
    )
    nlp = transcribe(problem, Trapezoidal(2))
    T, x, u = 0.8, np.array([0.3, -0.2, 0.5]), np.array([1.0, 2.0, -1.0])
    z = np.asarray(
        nlp.pack(T, [], x.reshape(1, 3), u.reshape(1, 3), np.zeros((1, 0)), np.zeros((1, 0)))
    ).ravel()
    # z layout: [T/T_scale, x0..x2 / 2, u0..u2 / 10].
    np.testing.assert_allclose(z, np.concatenate([[T / 1.5], x / 2.0, u / 10.0]))
    g = np.asarray(ca.Function("g", [nlp.z], [nlp.g])(z)).ravel()
    h = T / 2
    f = x**2 + u
    expected_defects = [(x[k + 1] - x[k] - h / 2 * (f[k] + f[k + 1])) / 2.0 for k in range(2)]
    np.testing.assert_allclose(g[:2], expected_defects, rtol=1e-14)
    np.testing.assert_allclose(g[2:5], x * u, rtol=1e-14)
    assert [name for name, _ in nlp.blocks] == ["defects", "xu (mesh points)"]


def test_hermite_simpson_defects_match_hand_formulas() -> None:
    xs, us, ps = ca.SX.sym("x"), ca.SX.sym("u"), ca.SX.sym("p", 0)
    dyn = ca.Function("f", [xs, us, ps], [ca.sin(xs) + us])
    problem = OptimalControlProblem(
        states=(Variable("x", -5, 5),),
        controls=(Variable("u", -5, 5),),
        dynamics=dyn,
        duration=(1.0, 1.0),
    )
    nlp = transcribe(problem, HermiteSimpson(2))
    x, u = np.array([0.1, 0.4, -0.3]), np.array([0.2, -0.5, 1.0])
    xm, um = np.array([0.2, 0.0]), np.array([0.7, -0.1])
    z = np.asarray(nlp.pack(1.0, [], x[None], u[None], xm[None], um[None])).ravel()
    g = np.asarray(ca.Function("g", [nlp.z], [nlp.g])(z)).ravel()
    h = 0.5
    f, fm = np.sin(x) + u, np.sin(xm) + um
    expected = []
    for k in range(2):
        expected.append((xm[k] - (x[k] + x[k + 1]) / 2 - h / 8 * (f[k] - f[k + 1])) / 5)
        expected.append((x[k + 1] - x[k] - h / 6 * (f[k] + 4 * fm[k] + f[k + 1])) / 5)
    np.testing.assert_allclose(g, expected, rtol=1e-14)


def test_failed_solve_raises_with_sealed_last_iterate() -> None:
    # Infeasible: reach x = 100 in 1 s with |u| <= 1 (at most 0.5 m possible).
    problem = _impossible()
    with pytest.raises(ConvergenceError) as info:
        solve(problem, Trapezoidal(10), Ipopt(max_iterations=50))
    sol = info.value.solution
    assert not sol.success and sol.sealed
    # Far beyond the 1e-4 tolerance: the defects cannot close (scaled units).
    assert sol.worst_violation() > 1e-2
    with pytest.raises(SealedSolutionError):
        sol.trajectory  # noqa: B018
    assert sol.unseal().trajectory.n_times == 11
    returned = solve(problem, Trapezoidal(10), Ipopt(max_iterations=50), return_failure=True)
    assert returned.sealed


def _impossible() -> OptimalControlProblem:
    return OptimalControlProblem(
        states=(
            Variable("x", -10, 200, initial=(0, 0), final=(100, 100)),
            Variable("v", -10, 10, initial=(0, 0), final=(0, 0)),
        ),
        controls=(Variable("u", -1, 1),),
        dynamics=DOUBLE_INTEGRATOR,
        duration=(1.0, 1.0),
        goals=(IntegralGoal(name="effort", integrand=EFFORT),),
        name="impossible",
    )


def test_solution_seeds_the_next_solve_and_boundary_constraints() -> None:
    first = solve(min_effort(), HermiteSimpson(10), Ipopt(tolerance=1e-8))
    # A solution seeds the next solve: on a finer mesh its trajectory is resampled.
    nlp = transcribe(min_effort(), Trapezoidal(20))
    z0 = initial_guess_vector(min_effort(), nlp, first)
    _, _, x0, u0, _, _ = (np.asarray(a) for a in nlp.unpack(z0))
    np.testing.assert_allclose(x0[0], np.interp(nlp.mesh, first.time, first.state("x")))
    np.testing.assert_allclose(u0[0], np.interp(nlp.mesh, first.time, first.control("u")))
    again = solve(min_effort(), Trapezoidal(20), Ipopt(tolerance=1e-8), initial_guess=first)
    assert again.success
    # The same final condition as a boundary constraint instead of bounds.
    a, b, p, t = ca.SX.sym("a", 2), ca.SX.sym("b", 2), ca.SX.sym("p", 0), ca.SX.sym("T")
    end = BoundaryConstraint("reach", ca.Function("b", [a, b, p, t], [b - ca.DM([1, 0])]))
    base = min_effort()
    problem = OptimalControlProblem(
        states=(Variable("x", -10, 10, initial=(0, 0)), Variable("v", -10, 10, initial=(0, 0))),
        controls=base.controls,
        dynamics=base.dynamics,
        duration=base.duration,
        goals=base.goals,
        boundary_constraints=(end,),
    )
    sol = solve(problem, HermiteSimpson(10), Ipopt(tolerance=1e-8))
    assert sol.objective == pytest.approx(12.0, rel=1e-6)
    assert sol.constraint_violations["reach"] < 1e-8


def test_progress_is_reported() -> None:
    seen = []
    solve(min_effort(), Trapezoidal(10), Ipopt(tolerance=1e-8), progress=seen.append)
    assert seen and seen[0].iteration == 0
    assert seen[-1].infeasibility < 1e-6


def test_malformed_problems_are_named() -> None:
    with pytest.raises(ProblemError, match="used twice"):
        transcribe(
            OptimalControlProblem(
                states=(Variable("x"), Variable("x")),
                controls=(Variable("u"),),
                dynamics=DOUBLE_INTEGRATOR,
                duration=(1, 1),
            ),
            Trapezoidal(2),
        )
    with pytest.raises(ProblemError, match="duration"):
        transcribe(
            OptimalControlProblem(
                states=(Variable("x"), Variable("v")),
                controls=(Variable("u"),),
                dynamics=DOUBLE_INTEGRATOR,
                duration=(2, 1),
            ),
            Trapezoidal(2),
        )


def test_time_dependent_integrand_tracks_a_known_curve() -> None:
    """min int (x - sin t)^2 + 1e-6 u^2 with x' = u: the optimum follows sin(t)."""
    xs, us, ps, ts = ca.SX.sym("x"), ca.SX.sym("u"), ca.SX.sym("p", 0), ca.SX.sym("t")
    problem = OptimalControlProblem(
        states=(Variable("x", -5, 5, initial=(0, 0)),),
        controls=(Variable("u", -5, 5),),
        dynamics=ca.Function("f", [xs, us, ps], [us]),
        duration=(2.0, 2.0),
        goals=(
            IntegralGoal(
                name="track",
                integrand=ca.Function(
                    "L", [xs, us, ps, ts], [(xs - ca.sin(ts)) ** 2 + 1e-6 * us**2]
                ),
            ),
        ),
    )
    sol = solve(problem, HermiteSimpson(20), Ipopt(tolerance=1e-10))
    # The control penalty of 1e-6 lets the state follow sin(t) to ~1e-3.
    np.testing.assert_allclose(sol.state("x"), np.sin(sol.time), atol=2e-3)


def test_warm_start_from_the_optimum_takes_few_iterations() -> None:
    cold = solve(min_effort(), HermiteSimpson(20), Ipopt(tolerance=1e-8))
    warm = solve(
        min_effort(), HermiteSimpson(20), Ipopt(tolerance=1e-8), initial_guess=cold, warm_start=True
    )
    assert warm.success and warm.settings["warm_start"]
    assert warm.iterations < cold.iterations
    assert warm.objective == pytest.approx(cold.objective, rel=1e-8)


def test_solves_agree_with_either_derivatives() -> None:
    """The same iterates: same iteration count and the same optimum."""
    xs, us, ps = ca.SX.sym("x", 2), ca.SX.sym("u"), ca.SX.sym("p", 0)
    problem = OptimalControlProblem(
        states=(
            Variable("x", -10, 10, initial=(0, 0), final=(1, 1)),
            Variable("v", -10, 10, initial=(0, 0), final=(0, 0)),
        ),
        controls=(Variable("u", -50, 50),),
        dynamics=ca.Function("f", [xs, us, ps], [ca.vertcat(xs[1], us - 0.3 * xs[1] ** 3)]),
        duration=(0.5, 2.0),
        goals=(
            IntegralGoal(name="effort", integrand=ca.Function("L", [xs, us, ps], [us**4])),
            EndpointGoal(name="time", function=_duration_goal()),
        ),
    )
    structured = solve(problem, HermiteSimpson(15), Ipopt(tolerance=1e-9))
    automatic = solve(problem, HermiteSimpson(15), Ipopt(tolerance=1e-9, derivatives="automatic"))
    assert structured.iterations == automatic.iterations
    # Rounding differences only, amplified by at most the solve's tolerance.
    assert structured.objective == pytest.approx(automatic.objective, rel=1e-8)
    np.testing.assert_allclose(structured.state("x"), automatic.state("x"), atol=1e-7)


def test_bad_derivative_settings_are_named() -> None:
    with pytest.raises(ProblemError, match="derivatives"):
        Ipopt(derivatives="numeric").ipopt_options()
    with pytest.raises(ProblemError, match="threads"):
        Ipopt(threads=0).ipopt_options()


def test_limited_memory_hessian_solves_with_structured_jacobian() -> None:
    sol = solve(min_effort(), HermiteSimpson(20), Ipopt(tolerance=1e-8, hessian="limited-memory"))
    # The same discrete optimum as with the exact Hessian (J = 12 exactly, see above),
    # to the looser accuracy a quasi-Newton solve stops at.
    assert sol.success and sol.objective == pytest.approx(12.0, rel=1e-6)
