"""Structured NLP derivatives against CasADi's own, on problems that use every part.

The structured constraint Jacobian and Lagrangian Hessian (gaitsim.ocp.nlp_derivatives)
are exact, so they must equal CasADi's automatic ones to rounding on any problem: a
free duration, a static parameter, path and boundary constraints, integral goals with
and without time, normalised by duration and by distance, and an end-point goal.
"""

from __future__ import annotations

import casadi as ca
import numpy as np
import pytest

from gaitsim.ocp import (
    BoundaryConstraint,
    EndpointGoal,
    HermiteSimpson,
    IntegralGoal,
    OptimalControlProblem,
    PathConstraint,
    Trapezoidal,
    Variable,
    transcribe,
)
from gaitsim.ocp.nlp_derivatives import structured_derivatives

X = ca.SX.sym("x", 3)
U = ca.SX.sym("u", 2)
P = ca.SX.sym("p", 1)
T = ca.SX.sym("t")


def _rich_problem(path_function: ca.Function | None = None) -> OptimalControlProblem:
    """Nonlinear in every input, so that every Hessian block is populated."""
    x0, xf = ca.SX.sym("x0", 3), ca.SX.sym("xf", 3)
    d = ca.SX.sym("T")
    dynamics = ca.Function(
        "f",
        [X, U, P],
        [
            ca.vertcat(
                X[1], U[0] * ca.cos(X[0]) - P[0] * X[1] ** 2, ca.sin(U[1]) * X[2] + X[0] * U[0]
            )
        ],
    )
    path = path_function or ca.Function(
        "c", [X, U, P], [ca.vertcat(X[0] * U[1], ca.exp(X[2]) + P**2)]
    )
    return OptimalControlProblem(
        states=(Variable("a", -3, 3), Variable("b", -3, 3), Variable("c", -3, 3, scale=2.0)),
        controls=(Variable("u", -5, 5), Variable("v", -5, 5, scale=0.5)),
        parameters=(Variable("k", 0.1, 2.0),),
        dynamics=dynamics,
        duration=(0.5, 2.0),
        goals=(
            IntegralGoal(
                name="effort per distance",
                integrand=ca.Function("L1", [X, U, P], [ca.sumsqr(U) * (1 + X[2] ** 2)]),
                normalize_by_distance=ca.Function(
                    "dist", [x0, xf], [xf[0] - x0[0] + x0[2] * xf[1]]
                ),
                weight=2.0,
            ),
            IntegralGoal(
                name="tracking per duration",
                integrand=ca.Function("L2", [X, U, P, T], [(X[0] - ca.sin(T)) ** 2 * P[0]]),
                normalize_by_duration=True,
                mass=3.0,
            ),
            EndpointGoal(
                name="end",
                function=ca.Function("phi", [x0, xf, P, d], [xf[1] ** 2 * d + x0[2] * P[0]]),
            ),
        ),
        path_constraints=(PathConstraint("c", path, lower=-1, upper=4, scale=(1.0, 2.0)),),
        boundary_constraints=(
            BoundaryConstraint(
                "periodic-ish",
                ca.Function("b", [x0, xf, P, d], [ca.vertcat(xf[0] - x0[0] ** 2, d * P)]),
            ),
        ),
        name="rich",
    )


def _compare(problem: OptimalControlProblem, transcription) -> None:
    nlp = transcribe(problem, transcription)
    mine = structured_derivatives(nlp)
    auto = ca.nlpsol("auto", "ipopt", {"x": nlp.z, "f": nlp.f, "g": nlp.g}, {"print_time": False})
    rng = np.random.default_rng(3)
    for _ in range(3):
        z = rng.uniform(-1, 1, nlp.z.shape[0])
        lam_f, lam_g = rng.uniform(0.1, 2.0), rng.normal(size=nlp.g.shape[0])
        g_ref, j_ref = auto.get_function("nlp_jac_g")(z, [])
        g_new, j_new = mine["jac_g"](z, [])
        h_ref = ca.triu(auto.get_function("nlp_hess_l")(z, [], lam_f, lam_g))
        h_new = mine["hess_lag"](z, [], lam_f, lam_g)
        # Both are exact: they may differ only by rounding (operations in another order),
        # a few ulps of the largest entry.
        np.testing.assert_allclose(np.array(g_new), np.array(g_ref), rtol=0, atol=1e-12)
        for new, ref in ((j_new, j_ref), (h_new, h_ref)):
            new, ref = np.array(ca.densify(new)), np.array(ca.densify(ref))
            scale = max(np.abs(ref).max(), 1.0)
            np.testing.assert_allclose(new, ref, rtol=0, atol=1e-12 * scale)
            assert np.abs(ref).max() > 0  # the comparison is not between two zeros


@pytest.mark.parametrize("transcription", [Trapezoidal(6), HermiteSimpson(5)])
def test_structured_derivatives_equal_casadis(transcription) -> None:
    _compare(_rich_problem(), transcription)


def test_a_part_with_no_scalar_form_is_differentiated_exactly() -> None:
    """A rootfinder (no scalar form): y with y^3 + y = x0 + u0, an implicit function."""
    ys, rhs = ca.SX.sym("y"), ca.SX.sym("r")
    root = ca.rootfinder("root", "newton", ca.Function("r", [ys, rhs], [ys**3 + ys - rhs]))
    xm, um, pm = ca.MX.sym("x", 3), ca.MX.sym("u", 2), ca.MX.sym("p", 1)
    y = root(ca.MX(0.0), xm[0] + um[0])
    path = ca.Function("c", [xm, um, pm], [ca.vertcat(y * xm[1], y**2 + pm)])
    problem = _rich_problem(path)
    _compare(problem, Trapezoidal(4))


def test_threads_give_the_same_derivatives() -> None:
    nlp = transcribe(_rich_problem(), Trapezoidal(7))
    serial = structured_derivatives(nlp)
    threaded = structured_derivatives(nlp, parallel=2)
    z = np.linspace(-0.5, 0.5, nlp.z.shape[0])
    lam_g = np.cos(np.arange(nlp.g.shape[0]))
    np.testing.assert_array_equal(
        np.array(ca.densify(serial["hess_lag"](z, [], 0.5, lam_g))),
        np.array(ca.densify(threaded["hess_lag"](z, [], 0.5, lam_g))),
    )


def test_the_hessian_is_built_only_when_asked() -> None:
    """A limited-memory solve needs the Jacobian only; it is the same function."""
    nlp = transcribe(_rich_problem(), Trapezoidal(5))
    full = structured_derivatives(nlp)
    jacobian_only = structured_derivatives(nlp, hessian=False)
    assert set(jacobian_only) == {"jac_g"}
    z = np.linspace(-0.5, 0.5, nlp.z.shape[0])
    np.testing.assert_array_equal(
        np.array(ca.densify(full["jac_g"](z, [])[1])),
        np.array(ca.densify(jacobian_only["jac_g"](z, [])[1])),
    )
