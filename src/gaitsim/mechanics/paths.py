"""Muscle-tendon paths: length, lengthening velocity and moment arms.

The path is a polyline through its points in ground; its length is the sum of the
segment lengths. Moving path points are placed by their functions of coordinates.
The moment arm about coordinate ``q_i`` is ``r_i = -dL/dq_i`` (OpenSim's definition:
a positive moment arm means the muscle's tension produces a positive generalised force).

Conditional path points, made smooth
------------------------------------
OpenSim includes a conditional point only while its coordinate lies inside its range,
which makes the length jump in slope (and sometimes in value) at the range ends. gaitsim
replaces the switch by a smooth weight ::

    w(q) = sigma((q - lo) / eps) * sigma((hi - q) / eps),   sigma(x) = 1 / (1 + exp(-x))

and places the point at ``w p + (1 - w) p_chord``, where ``p_chord`` is the point on the
straight segment between the nearest always-active neighbours (at the point's place
along a run of consecutive conditional points). With ``w = 1`` the point is where the
model puts it; with ``w = 0`` it lies on the chord and the length is the chord's, exactly
as if the point were absent. ``eps`` (default 0.005 rad, :data:`DEFAULT_SMOOTHING`) sets
the width of the transition: within about ``4 eps`` of a range end the smooth length
differs from OpenSim's; elsewhere the two agree to rounding. Pass ``smoothing=0`` for
OpenSim's exact switch (not differentiable at the range ends; for checks only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import casadi as ca

from gaitsim.mechanics.functions import evaluate
from gaitsim.mechanics.skeleton import SkeletonSymbols
from gaitsim.model.description import (
    ConditionalPathPoint,
    MovingPathPoint,
    PathElement,
)

__all__ = ["DEFAULT_SMOOTHING", "path_points", "path_length"]

DEFAULT_SMOOTHING = 0.005


def _local(point: PathElement, skeleton: SkeletonSymbols) -> Any:
    if isinstance(point, MovingPathPoint):
        parts = []
        for axis in "xyz":
            name = getattr(point, f"{axis}_coordinate")
            arg = skeleton.q[skeleton.coordinate_index[name]] if name is not None else 0.0
            parts.append(evaluate(getattr(point, axis), arg))
        return ca.vertcat(*parts)
    return ca.DM(list(point.location))


def _weight(point: ConditionalPathPoint, skeleton: SkeletonSymbols, smoothing: float) -> Any:
    q = skeleton.q[skeleton.coordinate_index[point.coordinate]]
    lo, hi = point.range
    if smoothing <= 0:
        return ca.if_else(ca.logic_and(q >= lo, q <= hi), 1.0, 0.0)

    def sigma(x: Any) -> Any:
        return 0.5 * (1.0 + ca.tanh(0.5 * x))

    return sigma((q - lo) / smoothing) * sigma((hi - q) / smoothing)


def path_points(
    path: Sequence[PathElement], skeleton: SkeletonSymbols, smoothing: float = DEFAULT_SMOOTHING
) -> list[Any]:
    """Ground positions (3x1 SX) of the path's points, conditional points smoothed."""
    raw = [skeleton.point(p.body, _local(p, skeleton)) for p in path]
    fixed = [not isinstance(p, ConditionalPathPoint) for p in path]
    out = list(raw)
    i = 0
    while i < len(path):
        if fixed[i]:
            i += 1
            continue
        start = i
        while i < len(path) and not fixed[i]:
            i += 1
        before, after = raw[start - 1], raw[i]
        run = i - start
        for k in range(start, i):
            frac = (k - start + 1) / (run + 1)
            chord = before + frac * (after - before)
            point = path[k]
            assert isinstance(point, ConditionalPathPoint)
            w = _weight(point, skeleton, smoothing)
            out[k] = w * raw[k] + (1.0 - w) * chord
    return out


def path_length(
    path: Sequence[PathElement], skeleton: SkeletonSymbols, smoothing: float = DEFAULT_SMOOTHING
) -> Any:
    """Length of the polyline through the path's points (SX scalar)."""
    pts = path_points(path, skeleton, smoothing)
    length: Any = 0.0
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        length = length + ca.norm_2(b - a)
    return length
