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

and places the point at ``w p + (1 - w) m``, where ``m`` is the midpoint between the
previous point's (smoothed) place and the next point that is in the path. For a run of
consecutive conditional points, "the next point in the path" is itself blended from the
right: ``N_k = w_(k+1) p_(k+1) + (1 - w_(k+1)) N_(k+1)``, ending at the first
unconditional point. With weights of exactly 0 or 1 an absent point lies on the straight
segment between its active neighbours, so the length is exactly OpenSim's (the point is
as good as removed); with ``w = 1`` the point is where the model puts it. ``eps``
(default 0.005 rad, :data:`DEFAULT_SMOOTHING`) sets the width of the transition: within
about ``4 eps`` of a range end the smooth length differs from OpenSim's; elsewhere the
two agree to rounding. Pass ``smoothing=0`` for OpenSim's exact switch (not
differentiable at the range ends; for checks only).

A range end that lies at or beyond the coordinate's own range end (e.g. a point active
over ``[-45 deg, 10 deg]`` of a knee whose range ends at 10 deg) is not smoothed: the
coordinate does not cross it inside its range, where OpenSim keeps the point, and a
smooth step there would half-remove the point at the limit and put a spurious spike in
the moment arm. With smoothing the point then also stays beyond the coordinate's range.

Wrapping over cylinders
-----------------------
A muscle's :attr:`~gaitsim.model.description.Muscle.wraps` name segments (two consecutive
path points) that may wrap over one of the model's wrap cylinders; such a segment's
length is that of :func:`gaitsim.mechanics.wrapping.cylinder_wrap` (closed form, C1 at
lift-off) instead of the straight distance. The end points of a wrapped segment are the
points as placed above (conditional points smoothed). :func:`muscle_length` takes the
muscle (path and wraps); :func:`path_length` takes a path and the wraps explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import casadi as ca

from gaitsim.mechanics.functions import evaluate
from gaitsim.mechanics.rotations import body_fixed_xyz
from gaitsim.mechanics.skeleton import SkeletonSymbols
from gaitsim.mechanics.wrapping import cylinder_wrap
from gaitsim.model.description import (
    ConditionalPathPoint,
    MovingPathPoint,
    Muscle,
    PathElement,
    PathWrap,
)

__all__ = ["DEFAULT_SMOOTHING", "path_points", "path_length", "muscle_length"]

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

    # A range end at or beyond the coordinate's own range end is not a switch inside the
    # range (see the module docstring): smoothing it would half-remove the point at the
    # coordinate's limit.
    c_lo, c_hi = skeleton.model.coordinate(point.coordinate).range
    weight: Any = 1.0
    if lo > c_lo:
        weight = weight * sigma((q - lo) / smoothing)
    if hi < c_hi:
        weight = weight * sigma((hi - q) / smoothing)
    return weight


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
        weights = {}
        for k in range(start, i):
            point = path[k]
            assert isinstance(point, ConditionalPathPoint)
            weights[k] = _weight(point, skeleton, smoothing)
        # Next point in the path, seen from each point of the run (right to left).
        following = {i - 1: raw[i]}
        for k in range(i - 2, start - 1, -1):
            w = weights[k + 1]
            following[k] = w * raw[k + 1] + (1.0 - w) * following[k + 1]
        for k in range(start, i):
            w = weights[k]
            midpoint = 0.5 * (out[k - 1] + following[k])
            out[k] = w * raw[k] + (1.0 - w) * midpoint
    return out


def path_length(
    path: Sequence[PathElement],
    skeleton: SkeletonSymbols,
    smoothing: float = DEFAULT_SMOOTHING,
    wraps: Sequence[PathWrap] = (),
) -> Any:
    """Length of the path (SX scalar): the polyline through its points, with the segments
    named in ``wraps`` wrapped over their cylinders (see :func:`muscle_length`)."""
    pts = path_points(path, skeleton, smoothing)
    index = {p.name: i for i, p in enumerate(path)}
    by_segment = {index[w.start]: w for w in wraps}
    cylinders = {c.name: c for c in skeleton.model.wrap_cylinders}
    length: Any = 0.0
    for i, (a, b) in enumerate(zip(pts[:-1], pts[1:], strict=True)):
        wrap = by_segment.get(i)
        if wrap is None:
            length = length + ca.norm_2(b - a)
            continue
        cyl = cylinders[wrap.cylinder]
        pose = skeleton.poses[cyl.body]
        centre = pose.point(cyl.translation)
        axes = pose.R @ ca.DM(body_fixed_xyz(cyl.orientation))
        length = length + cylinder_wrap(a, b, centre, axes, cyl.radius, cyl.quadrant).length
    return length


def muscle_length(
    muscle: Muscle, skeleton: SkeletonSymbols, smoothing: float = DEFAULT_SMOOTHING
) -> Any:
    """Muscle-tendon length (SX scalar) of ``muscle``, its wraps included."""
    return path_length(muscle.path, skeleton, smoothing, wraps=muscle.wraps)
