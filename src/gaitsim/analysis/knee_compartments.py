"""Medial and lateral tibiofemoral contact forces from the knee's frontal-plane balance.

Model
-----
The tibial plateau is loaded at two contact points on the tibia's medial-lateral
(+Z) axis through the knee centre: the medial one at distance ``d_m`` medial of the
centre, the lateral one at ``d_l`` lateral of it (:class:`CompartmentGeometry`). The
compressive contact force ``F`` (along the tibia's long axis, compression positive) and
the frontal-plane moment ``M`` that the condyles must carry (about the tibia's
antero-posterior axis, positive in the *adduction* sense, i.e. the sense of an external
knee adduction moment, which presses the medial plateau) are shared by the two contacts
as two equations require:

    F_m + F_l = F                      (force along the long axis)
    d_m F_m - d_l F_l = M              (moment about the antero-posterior axis)

so that::

    F_m = (F d_l + M) / (d_m + d_l),        F_l = (F d_m - M) / (d_m + d_l)

and the medial share is ``F_m / F``. With ``M = 0`` the share is the lever ratio
``d_l / (d_m + d_l)`` (one half for a symmetric knee); each newton-metre of adduction
moment moves ``1 / (d_m + d_l)`` newtons from the lateral to the medial contact. This is
the frontal-plane moment balance of Schipplein & Andriacchi (1991), used with measured
or modelled muscle forces by Winby et al. (2009) and Kumar et al. (2013). The contact
points (default 20 mm either side of the knee centre, an intercondylar distance of
40 mm, at the low end of the 40-45 mm used in such models) are an assumption that scales
the moment term ``M / (d_m + d_l)``: with 45 mm it is 11 % smaller.

Sign derivation (right knee, tibia frame +X anterior, +Y proximal, +Z lateral): the
femur presses the medial plateau down with ``(0, -F_m, 0)`` at ``(0, 0, -d_m)`` and the
lateral with ``(0, -F_l, 0)`` at ``(0, 0, d_l)``; their moment about +X is
``-d_m F_m + d_l F_l``. The contact moment about the knee centre (what the femur applies
to the tibia, :attr:`~gaitsim.analysis.joint_loads.JointLoad.contact_moment`) must equal
it, so ``M = -M_contact . X`` on the right; on the left, +Z is medial and
``M = +M_contact . X``. With no muscle forces the contact moment is the net moment and
``M`` is the external knee adduction moment
(:func:`gaitsim.analysis.joint_loads.knee_adduction_moment`).

A negative ``F_l`` means the frontal moment is too large for the compression: the
lateral contact would lift off and lateral soft tissues (ligaments, iliotibial band)
must hold the balance (Schipplein & Andriacchi's "lateral soft tissue force"). The
values are reported as computed (no clipping) and flagged in
:attr:`CompartmentLoads.lateral_liftoff`; the medial share then exceeds 1.

Muscle forces whose lines run through the knee centre in the frontal plane add to
``F`` and not to ``M`` (``extra_compression`` of :func:`knee_compartment_loads`): the
single-equivalent-muscle assumption of Schipplein & Andriacchi.

Validation (``tests/unit/test_knee_compartments.py``): the formula against hand
calculations (zero moment gives the lever ratio, a pure moment shifts ``M / d``, the two
equations hold to rounding); on ``gait3d`` without gravity a vertical force medial to
the knee gives ``F`` and ``M = F a`` exactly and loads the medial side, on both legs.

References
----------
* Schipplein OD, Andriacchi TP (1991). Interaction between active and passive knee
  stabilizers during level walking. J Orthop Res 9(1):113-119.
* Winby CR, Lloyd DG, Besier TF, Kirk TB (2009). Muscle and external load contribution
  to knee joint contact loads during normal gait. J Biomech 42(14):2294-2300.
* Kumar D, Manal KT, Rudolph KS (2013). Knee joint loading during gait in healthy
  controls and individuals with knee osteoarthritis. Osteoarthritis Cartilage
  21(2):298-305.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gaitsim.analysis.joint_loads import JointLoad

__all__ = [
    "CompartmentGeometry",
    "CompartmentLoads",
    "DEFAULT_CONTACT_DISTANCE",
    "compartment_loads",
    "knee_compartment_loads",
]

FloatArray = NDArray[np.float64]

#: Distance (m) of each contact point from the knee centre by default: an intercondylar
#: distance of 40 mm.
DEFAULT_CONTACT_DISTANCE = 0.020


@dataclass(frozen=True)
class CompartmentGeometry:
    """Where the condyles touch the plateau: distances (m, > 0) of the medial and
    lateral contact points from the knee centre along the tibia's medial-lateral axis."""

    medial: float = DEFAULT_CONTACT_DISTANCE
    lateral: float = DEFAULT_CONTACT_DISTANCE

    def __post_init__(self) -> None:
        for name in ("medial", "lateral"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} contact distance must be positive (m), got {value!r}")

    @property
    def width(self) -> float:
        """Intercondylar distance ``d_m + d_l`` (m)."""
        return self.medial + self.lateral


@dataclass(frozen=True, eq=False)
class CompartmentLoads:
    """Medial and lateral contact forces over time (module docstring).

    Attributes
    ----------
    time
        ``(n,)`` (s).
    compressive
        Total compressive contact force ``F`` (N), ``(n,)``.
    adduction_moment
        Frontal-plane moment carried by the condyles ``M`` (N m, adduction positive).
    medial, lateral
        ``F_m``, ``F_l`` (N).
    geometry
        The contact points used.
    body_weight
        N, for the ``*_bw`` properties.
    """

    time: FloatArray
    compressive: FloatArray
    adduction_moment: FloatArray
    medial: FloatArray
    lateral: FloatArray
    geometry: CompartmentGeometry
    body_weight: float

    @property
    def medial_share(self) -> FloatArray:
        """``F_m / F`` (NaN where ``F <= 0``, i.e. no compression to share)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.compressive > 0, self.medial / self.compressive, np.nan)

    @property
    def lateral_liftoff(self) -> NDArray[np.bool_]:
        """Where the lateral force is negative (the lateral contact would lift off)."""
        return self.lateral < 0

    @property
    def medial_bw(self) -> FloatArray:
        """Medial force in body weights."""
        return self.medial / self.body_weight

    @property
    def lateral_bw(self) -> FloatArray:
        """Lateral force in body weights."""
        return self.lateral / self.body_weight

    def impulse_share(self, where: ArrayLike) -> float:
        """Medial share of the compressive impulse over the samples ``where`` (boolean
        mask or indices): ``sum F_m / sum F`` (equal time steps assumed)."""
        mask = np.zeros(self.time.size, dtype=bool)
        mask[np.asarray(where)] = True
        total = float(np.sum(self.compressive[mask]))
        if total <= 0:
            return math.nan
        return float(np.sum(self.medial[mask])) / total


def compartment_loads(
    time: ArrayLike,
    compressive: ArrayLike,
    adduction_moment: ArrayLike,
    *,
    body_weight: float,
    geometry: CompartmentGeometry | None = None,
) -> CompartmentLoads:
    """Share ``F`` and ``M`` between the medial and lateral contacts (module docstring).

    Parameters
    ----------
    time
        ``(n,)`` (s).
    compressive
        Compressive contact force ``F`` (N, compression positive), ``(n,)``.
    adduction_moment
        Frontal-plane moment the condyles carry ``M`` (N m, adduction positive), ``(n,)``.
    body_weight
        N (> 0).
    geometry
        Contact points; default 20 mm either side.

    Raises
    ------
    ValueError
        For mismatched shapes, non-finite values or a bad body weight.
    """
    geometry = geometry or CompartmentGeometry()
    t = np.asarray(time, dtype=float)
    force = np.asarray(compressive, dtype=float)
    moment = np.asarray(adduction_moment, dtype=float)
    if t.ndim != 1 or force.shape != t.shape or moment.shape != t.shape:
        raise ValueError(
            "time, compressive and adduction_moment must have the same shape (n,); got "
            f"{t.shape}, {force.shape}, {moment.shape}"
        )
    if not (np.all(np.isfinite(force)) and np.all(np.isfinite(moment))):
        raise ValueError("compressive force and adduction moment must be finite")
    if not (math.isfinite(body_weight) and body_weight > 0):
        raise ValueError(f"body_weight must be positive (N), got {body_weight!r}")
    width = geometry.width
    medial = (force * geometry.lateral + moment) / width
    lateral = (force * geometry.medial - moment) / width
    return CompartmentLoads(
        time=t,
        compressive=force,
        adduction_moment=moment,
        medial=medial,
        lateral=lateral,
        geometry=geometry,
        body_weight=float(body_weight),
    )


def knee_compartment_loads(
    load: JointLoad,
    *,
    extra_compression: ArrayLike | None = None,
    geometry: CompartmentGeometry | None = None,
) -> CompartmentLoads:
    """Medial and lateral forces at a knee from its :class:`JointLoad`.

    ``F`` is the contact force's compressive component (:attr:`JointLoad.compressive`,
    in N) plus ``extra_compression`` (N, ``(n,)``: muscle forces not in the load, taken
    to act through the knee centre along the tibia); ``M`` is the frontal component of
    the contact moment with the sign of the module docstring.

    Raises
    ------
    ValueError
        If the joint has no side (``"r"``/``"l"``) or the extra compression has the
        wrong shape.
    """
    if load.side not in ("r", "l"):
        raise ValueError(f"joint {load.joint!r} has no side; cannot tell medial from lateral")
    force = load.compressive * load.body_weight
    if extra_compression is not None:
        extra = np.asarray(extra_compression, dtype=float)
        if extra.shape != force.shape:
            raise ValueError(f"extra_compression must have shape {force.shape}, got {extra.shape}")
        force = force + extra
    sign = 1.0 if load.side == "r" else -1.0
    moment = -sign * load.local(load.contact_moment)[:, 0]
    return compartment_loads(
        load.time, force, moment, body_weight=load.body_weight, geometry=geometry
    )
