"""Evaluate the model's scalar functions (:data:`gaitsim.model.description.Function`).

Every evaluator works on floats, NumPy arrays and CasADi symbols alike, so the same code
serves numerical checks and the symbolic functions used inside optimisation.

Splines are piecewise cubics ``y_i + b_i dx + c_i dx**2 + d_i dx**3`` (``dx = x - x_i``)
extrapolated linearly with the end slope outside the knots, as OpenSim does. Their
coefficients are computed once (NumPy) and cached.

* :class:`~gaitsim.model.description.SimmSpline` uses the end conditions of the cubic
  spline routine of Forsythe, Malcolm & Moler (1977, *Computer Methods for Mathematical
  Computations*, ch. 4), which OpenSim's ``SimmSpline`` implements
  (opensim-core ``OpenSim/Common/SimmSpline.cpp``): the third derivative at each end
  equals that of the cubic through the four end points (with three points, of the
  parabola; with two points the spline is the straight line).
* :class:`~gaitsim.model.description.NaturalCubicSpline` has zero curvature at both ends.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import casadi as ca
import numpy as np

from gaitsim.model.description import (
    Constant,
    Function,
    Linear,
    Multiplier,
    NaturalCubicSpline,
    Polynomial,
    SimmSpline,
)

__all__ = ["evaluate", "spline_coefficients", "is_constant"]

# Knot spacing below which OpenSim's SimmSpline treats two knots as coincident.
_TINY = 1e-7


@lru_cache(maxsize=4096)
def spline_coefficients(
    spline: SimmSpline | NaturalCubicSpline,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Knots and polynomial coefficients ``(x, y, b, c, d)`` of a spline.

    On interval ``i`` (``x[i] <= x <= x[i+1]``) the spline is
    ``y[i] + b[i] dx + c[i] dx**2 + d[i] dx**3`` with ``dx = x - x[i]``; ``b[-1]`` is the
    slope at the last knot (used to extrapolate).
    """
    x = np.asarray(spline.x, dtype=float)
    y = np.asarray(spline.y, dtype=float)
    n = x.size
    if n < 2 or y.size != n:
        raise ValueError("a spline needs at least two knots and as many y as x values")
    if n == 2:
        slope = (y[1] - y[0]) / max(_TINY, x[1] - x[0])
        zeros = np.zeros(2)
        return x, y, np.full(2, slope), zeros, zeros.copy()
    h = np.maximum(_TINY, np.diff(x))
    delta = np.diff(y) / h
    # Unknowns: s_i = c_i (half the second derivative) at every knot. Interior rows:
    #   h[i-1] s[i-1] + 2 (h[i-1] + h[i]) s[i] + h[i] s[i+1] = 3 (delta[i] - delta[i-1]).
    a = np.zeros((n, n))
    rhs = np.zeros(n)
    for i in range(1, n - 1):
        a[i, i - 1] = h[i - 1]
        a[i, i] = 2.0 * (h[i - 1] + h[i])
        a[i, i + 1] = h[i]
        rhs[i] = 3.0 * (delta[i] - delta[i - 1])
    if isinstance(spline, NaturalCubicSpline):
        a[0, 0] = 1.0
        a[-1, -1] = 1.0
    else:
        # Third derivative at each end (proportional to s[1]-s[0] over h[0]) equals the
        # one of the interpolating cubic through the end points: third divided difference.
        a[0, 0], a[0, 1] = -h[0], h[0]
        a[-1, -2], a[-1, -1] = h[-1], -h[-1]
        if n > 3:
            dd3_left = (
                (delta[2] - delta[1]) / max(_TINY, x[3] - x[1])
                - (delta[1] - delta[0]) / max(_TINY, x[2] - x[0])
            ) / max(_TINY, x[3] - x[0])
            dd3_right = (
                (delta[-1] - delta[-2]) / max(_TINY, x[-1] - x[-3])
                - (delta[-2] - delta[-3]) / max(_TINY, x[-2] - x[-4])
            ) / max(_TINY, x[-1] - x[-4])
            # s[1]-s[0] = 3 h[0]^2 dd3 / h[0] ... written with the same scaling as rows.
            rhs[0] = 3.0 * h[0] ** 2 * dd3_left
            rhs[-1] = -3.0 * h[-1] ** 2 * dd3_right
    s = np.linalg.solve(a, rhs)
    c = s
    b = np.empty(n)
    d = np.empty(n)
    b[:-1] = delta - h * (c[1:] + 2.0 * c[:-1]) / 3.0
    d[:-1] = (c[1:] - c[:-1]) / (3.0 * h)
    b[-1] = delta[-1] + h[-1] * (2.0 * c[-1] + c[-2]) / 3.0
    d[-1] = d[-2]
    return x, y, b, c, d


def is_constant(function: Function) -> bool:
    """Whether ``function`` does not depend on its argument."""
    if isinstance(function, Constant):
        return True
    if isinstance(function, Multiplier):
        return function.scale == 0.0 or is_constant(function.function)
    if isinstance(function, Linear):
        return function.slope == 0.0
    if isinstance(function, Polynomial):
        return len(function.coefficients) <= 1
    return False


def _piecewise_cubic(spline: SimmSpline | NaturalCubicSpline, x: Any) -> Any:
    xs, ys, b, c, d = spline_coefficients(spline)
    n = xs.size
    symbolic = isinstance(x, ca.SX | ca.MX | ca.DM)
    if not symbolic:
        xa = np.asarray(x, dtype=float)
        i = np.clip(np.searchsorted(xs, xa, side="right") - 1, 0, n - 2)
        dx = xa - xs[i]
        inside = ys[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))
        left = ys[0] + (xa - xs[0]) * b[0]
        right = ys[-1] + (xa - xs[-1]) * b[-1]
        out = np.where(xa < xs[0], left, np.where(xa > xs[-1], right, inside))
        return float(out) if out.ndim == 0 else out
    # Symbolic: nested selection, last interval first, so that each knot belongs to the
    # interval that starts there (as the numeric branch above).
    expr = ys[-1] + (x - xs[-1]) * b[-1]
    for i in range(n - 2, -1, -1):
        dx = x - xs[i]
        piece = ys[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))
        expr = ca.if_else(x < xs[i + 1], piece, expr)
    return ca.if_else(x < xs[0], ys[0] + (x - xs[0]) * b[0], expr)


def evaluate(function: Function, x: Any) -> Any:
    """Value of ``function`` at ``x`` (float, NumPy array or CasADi expression)."""
    if isinstance(function, Constant):
        return function.value + 0.0 * x if not isinstance(x, float | int) else function.value
    if isinstance(function, Linear):
        return function.slope * x + function.intercept
    if isinstance(function, Polynomial):
        result: Any = 0.0
        for coefficient in function.coefficients:
            result = result * x + coefficient
        return result
    if isinstance(function, Multiplier):
        return function.scale * evaluate(function.function, x)
    if isinstance(function, SimmSpline | NaturalCubicSpline):
        return _piecewise_cubic(function, x)
    raise TypeError(f"not a gaitsim function: {function!r}")
