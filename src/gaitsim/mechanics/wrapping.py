"""Smooth wrapping of a path segment over a cylinder, in closed form.

A muscle path segment from point ``P`` to point ``S`` (both in ground) may wrap over a
:class:`~gaitsim.model.description.WrapCylinder`. Its length is that of a taut,
frictionless string that goes round the cylinder: the single-cylinder obstacle set of
Garner & Pandy (2000), with the sidedness (``quadrant``) and "no wrap when an end point is
inside" rules of OpenSim's ``WrapCylinder`` (OpenSim/Simulation/Wrap/WrapCylinder.cpp).
Unlike OpenSim, which finds the tangent points of its spiral iteratively (to within 0.1
degree) and tests each segment of a range of segments, gaitsim solves the geometry exactly,
for the one segment named by the muscle's :class:`~gaitsim.model.description.PathWrap`,
and with an infinitely long cylinder.

Geometry
--------
Express ``P`` and ``S`` in the cylinder frame (origin on the axis, axis = Z):
``p = (p_x, p_y, p_z)``, ``s = (s_x, s_y, s_z)``; ``r`` is the radius.

1. Project on the plane normal to the axis. With ``d_p = |(p_x, p_y)|`` (> r), the tangent
   from ``p`` to the circle has length ``t_p = sqrt(d_p^2 - r^2)`` and touches the circle
   at the angle ``alpha_p = atan2(t_p, r)`` from the direction of ``p``; likewise ``t_s``,
   ``alpha_s``.
2. The angle ``Delta`` swept round the axis from ``p`` to ``s`` on the side the path goes
   round (below), and the *signed wrap angle* ::

       theta = |Delta| - alpha_p - alpha_s

   ``theta > 0`` means the straight segment would cut the circle (or pass on the
   forbidden side) and the path wraps through the arc ``theta``; ``theta <= 0`` means the
   straight segment is clear and the path is straight.
3. In the plane the wrapped path has length ``U = t_p + r theta + t_s``. Unrolling the two
   tangent planes and the cylinder surface onto one plane turns the path into a straight
   line of in-plane length ``U`` and axial rise ``s_z - p_z``: the helix (geodesic) on the
   cylinder and the two tangent segments then lie on one straight line, and ::

       L_wrapped  = sqrt(U^2 + (s_z - p_z)^2),      L_straight = |S - P|.

   The axial rise is shared between the tangent segments and the arc in proportion to
   their in-plane lengths, which is the shortest such path (Garner & Pandy 2000).

Sidedness
---------
``quadrant = "all"``: ``Delta = atan2(p x s, p . s)`` in ``(-pi, pi]``, the angle of the
straight segment seen from the axis; the path wraps round whichever side the straight
segment cuts (OpenSim's unconstrained cylinder). ``quadrant = "+x"`` (``"-x"``, ``"+y"``,
``"-y"``): the path always passes on that side of the cylinder. Bearings ``psi`` are
measured from the quadrant's direction ``a`` (e.g. ``a = -Y`` for ``"-y"``), in
``(-pi, pi]``, and ``Delta = psi_s - psi_p`` is the angle swept *through* ``a``. If the
straight segment would pass on the other side (it crosses the half-plane behind the
cylinder, opposite ``a``) then ``|Delta| > pi`` and the path wraps the long way round, as
OpenSim's constrained cylinder does (think of the cylinder as the edge of a bone that
continues behind it).

Continuity
----------
The switch is ``L = if_else(theta > 0, L_wrapped, L_straight)``. At ``theta = 0`` the two
tangent points coincide on the straight segment, so ``U = |(s - p)_xy|`` and the lengths
agree; their first derivatives agree too, because the wrapped length is the minimum
length of a path held off by the cylinder, whose derivative with respect to the end
points is the unit direction of the path at each end (envelope theorem) -- the same
directions as the straight segment's at ``theta = 0`` -- and ``dU/dr = theta`` vanishes
there. So the length is C1 (its second derivative jumps at lift-off) and moment arms are
continuous. ``tests/unit/test_wrapping.py`` checks this with finite differences on both
sides of lift-off.

The length is not continuous (documented, as in OpenSim) when

* an end point enters the cylinder (``d_p <= r`` or ``d_s <= r``): the path is then
  straight, as OpenSim's ``insideRadius`` case -- place cylinders so that the path's
  points stay outside over the coordinates' ranges;
* for a constrained quadrant, an end point crosses the half-plane behind the cylinder
  (opposite ``a``): the path would have to go all the way round;
* for ``"all"``, the straight segment sweeps through the axis while wrapped: the path
  switches sides with equal length (continuous, with a kink).

References
----------
Garner BA, Pandy MG (2000). The obstacle-set method for representing muscle paths in
musculoskeletal models. Comput Methods Biomech Biomed Engin 3(1):1-30.
OpenSim ``WrapCylinder`` and ``WrapObject`` (quadrant names), opensim-core,
OpenSim/Simulation/Wrap/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import casadi as ca

__all__ = ["QUADRANT_DIRECTIONS", "CylinderWrap", "cylinder_wrap"]

QUADRANT_DIRECTIONS: dict[str, tuple[float, float] | None] = {
    "all": None,
    "+x": (1.0, 0.0),
    "-x": (-1.0, 0.0),
    "+y": (0.0, 1.0),
    "-y": (0.0, -1.0),
}
"""The in-plane direction (cylinder frame) of each quadrant's side; ``None`` for either."""


@dataclass(frozen=True)
class CylinderWrap:
    """Result of :func:`cylinder_wrap` (CasADi expressions, or DM for numeric input).

    Attributes
    ----------
    length
        Length of the path from P to S: wrapped if ``wrapped``, straight otherwise.
    straight_length
        ``|S - P|``.
    wrapped_length
        ``sqrt(U^2 + dz^2)``, meaningful where ``theta > 0``.
    wrap_angle
        The signed wrap angle ``theta`` (rad): the arc in contact when positive.
    wrapped
        1 where the path wraps, 0 where it is straight.
    """

    length: Any
    straight_length: Any
    wrapped_length: Any
    wrap_angle: Any
    wrapped: Any


def _column(v: Any) -> Any:
    if isinstance(v, ca.SX | ca.MX | ca.DM):
        return ca.reshape(v, 3, 1)
    return ca.DM([float(x) for x in v])


def _bearing(direction: tuple[float, float], x: Any, y: Any) -> Any:
    """Angle of (x, y) measured from ``direction``, in (-pi, pi]."""
    ax, ay = direction
    return ca.atan2(ax * y - ay * x, ax * x + ay * y)


def cylinder_wrap(
    start: Any,
    end: Any,
    centre: Any,
    axes: Any,
    radius: float,
    quadrant: str = "all",
) -> CylinderWrap:
    """Length of the path segment from ``start`` to ``end`` wrapping over a cylinder.

    Parameters
    ----------
    start, end
        The segment's end points P and S in ground (3-vectors: CasADi SX/MX/DM or floats).
    centre
        A point on the cylinder's axis (the origin of its frame), in ground.
    axes
        3x3 rotation of the cylinder frame in ground: columns are its X, Y and Z (= axis)
        directions.
    radius
        Cylinder radius (> 0).
    quadrant
        ``"all"``, ``"+x"``, ``"-x"``, ``"+y"`` or ``"-y"`` (see the module docstring).

    Returns
    -------
    CylinderWrap
        The length and the quantities it is made of.
    """
    if quadrant not in QUADRANT_DIRECTIONS:
        raise ValueError(
            f"unknown quadrant {quadrant!r}; expected one of {', '.join(QUADRANT_DIRECTIONS)}"
        )
    if not radius > 0:
        raise ValueError(f"radius must be > 0, got {radius!r}")
    r = float(radius)
    big_p, big_s = _column(start), _column(end)
    c = _column(centre)
    rot = axes if isinstance(axes, ca.SX | ca.MX | ca.DM) else ca.DM(axes)
    p = rot.T @ (big_p - c)
    s = rot.T @ (big_s - c)
    px, py, pz = p[0], p[1], p[2]
    sx, sy, sz = s[0], s[1], s[2]

    dp2 = px * px + py * py
    ds2 = sx * sx + sy * sy
    r2 = r * r
    # Tangent lengths; the floor keeps sqrt and its derivative finite where an end point
    # is inside the cylinder (that branch is never selected there).
    floor = (1e-9 * r) ** 2
    tp = ca.sqrt(ca.fmax(dp2 - r2, floor))
    ts = ca.sqrt(ca.fmax(ds2 - r2, floor))
    alpha_p = ca.atan2(tp, r)
    alpha_s = ca.atan2(ts, r)

    direction = QUADRANT_DIRECTIONS[quadrant]
    if direction is None:
        delta = ca.atan2(px * sy - py * sx, px * sx + py * sy)
    else:
        delta = _bearing(direction, sx, sy) - _bearing(direction, px, py)
    theta = ca.fabs(delta) - alpha_p - alpha_s

    dz = sz - pz
    u = tp + ts + r * theta
    wrapped_length = ca.sqrt(u * u + dz * dz)
    straight_length = ca.norm_2(big_s - big_p)

    outside = ca.logic_and(dp2 > r2, ds2 > r2)
    wraps = ca.logic_and(theta > 0, outside)
    length = ca.if_else(wraps, wrapped_length, straight_length)
    return CylinderWrap(
        length=length,
        straight_length=straight_length,
        wrapped_length=wrapped_length,
        wrap_angle=theta,
        wrapped=wraps,
    )
