"""Scalar functions (splines, polynomials) against independent answers."""

from __future__ import annotations

import casadi as ca
import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from gaitsim.mechanics.functions import evaluate
from gaitsim.model.description import (
    Constant,
    Linear,
    Multiplier,
    NaturalCubicSpline,
    Polynomial,
    SimmSpline,
)

X = (-2.0, -1.3, -0.5, 0.0, 0.4, 1.1, 2.0)


def test_simm_spline_reproduces_a_cubic_exactly() -> None:
    # Its end conditions match the third derivative of the cubic through the four end
    # points, so cubic data is reproduced exactly (Forsythe, Malcolm & Moler 1977).
    def cubic(x: np.ndarray) -> np.ndarray:
        return 0.3 * x**3 - 0.7 * x**2 + 0.2 * x - 1.0

    spline = SimmSpline(X, tuple(cubic(np.array(X))))
    xs = np.linspace(-2.0, 2.0, 101)
    np.testing.assert_allclose(evaluate(spline, xs), cubic(xs), atol=1e-12)


def test_natural_spline_matches_scipy() -> None:
    y = np.sin(np.array(X))
    xs = np.linspace(-2.0, 2.0, 101)
    ref = CubicSpline(X, y, bc_type="natural")(xs)
    np.testing.assert_allclose(evaluate(NaturalCubicSpline(X, tuple(y)), xs), ref, atol=1e-12)


@pytest.mark.parametrize("cls", [SimmSpline, NaturalCubicSpline])
def test_spline_interpolates_extrapolates_and_is_c2(cls: type) -> None:
    y = tuple(np.cos(np.array(X)) * 0.05)
    spline = cls(X, y)
    np.testing.assert_allclose(evaluate(spline, np.array(X)), y, atol=1e-14)
    x = ca.SX.sym("x")
    f = ca.Function(
        "f",
        [x],
        [
            evaluate(spline, x),
            ca.jacobian(evaluate(spline, x), x),
            ca.hessian(evaluate(spline, x), x)[0],
        ],
    )
    # Symbolic and numeric branches agree everywhere, including outside the knots.
    for value in np.linspace(-3.0, 3.0, 61):
        assert float(f(value)[0]) == pytest.approx(evaluate(spline, value), abs=1e-14)
    # Linear extrapolation with the end slope.
    slope_right = float(f(2.0 + 1e-9)[1])
    assert float(f(3.0)[0]) == pytest.approx(float(f(2.0)[0]) + slope_right, abs=1e-12)
    # Continuity of the second derivative at interior knots (C2).
    for knot in X[1:-1]:
        left, right = float(f(knot - 1e-9)[2]), float(f(knot + 1e-9)[2])
        assert left == pytest.approx(right, abs=1e-6)


def test_two_point_spline_is_a_line() -> None:
    spline = SimmSpline((0.0, 2.0), (1.0, 5.0))
    np.testing.assert_allclose(evaluate(spline, np.array([-1.0, 0.5, 3.0])), [-1.0, 2.0, 7.0])


def test_simple_functions() -> None:
    assert evaluate(Constant(2.5), 7.0) == 2.5
    assert evaluate(Linear(2.0, 1.0), 3.0) == 7.0
    assert evaluate(Polynomial((1.0, 0.0, -2.0)), 3.0) == pytest.approx(np.polyval([1, 0, -2], 3))
    assert evaluate(Multiplier(Linear(1.0, 0.0), 0.5), 4.0) == 2.0
