"""Patellofemoral joint reaction force from quadriceps force and knee flexion.

Model
-----
Neither built-in model has a patella: the quadriceps insert on the tibia (through a
moving path point standing in for the patellar mechanism). The patellofemoral (PF)
compressive force is estimated as a fraction of the total quadriceps force::

    F_PF = k(theta) F_Q

where ``F_Q`` is the sum of the quadriceps' tendon forces (``gait2d``: ``rect_fem`` and
``vasti``; ``gait3d``: ``rect_fem``, ``vas_med``, ``vas_int``, ``vas_lat``) and
``theta`` the knee flexion angle in degrees (clinical sign, flexion positive: the
negative of the models' ``knee_angle``). ``k`` is the curve that Brechter & Powers
(2002) fitted to the ratio of PF force to quadriceps force computed by the
two-dimensional knee model of van Eijden et al. (1986)::

    k(theta) = (0.462 + 0.00147 theta - 3.84e-5 theta^2)
               / (1 - 0.0162 theta + 1.55e-4 theta^2 - 6.98e-7 theta^3)

as used since in many patellofemoral stress studies (e.g. Ward & Powers 2004). Its
values: 0.462 at 0 deg, 0.743 at 30 deg, 0.947 at 60 deg, 0.981 at 90 deg; it rises
monotonically from 0 to about 81 deg (0.986), dips by 2 % to 0.967 near 110 deg and
rises again to 1.044 at 120 deg. The fit is a rational function with a pole at
128.2 deg (its numerator changes sign at 130.5 deg), so it means nothing beyond the
range over which van Eijden et al. computed the ratio.

Validity and what happens outside it
------------------------------------
:data:`VALID_RANGE_DEG` is ``(0, 120)`` deg. Outside it (hyperextension, or flexion
beyond 120 deg) :func:`patellofemoral_load` by default *clamps* the angle to the range
end (``k(0) = 0.462`` in hyperextension, ``k(120) = 1.044`` beyond 120 deg) and marks the
samples in :attr:`PatellofemoralLoad.outside_validity`; with ``outside="raise"`` it
raises :class:`ValueError` instead, and with ``outside="nan"`` the force is NaN there.
The ratio is a 2D, sagittal-plane result for a generic knee: it ignores patella alta,
subject-specific geometry and the medial-lateral distribution of the load.

References
----------
* van Eijden TMGJ, Kouwenhoven E, Verburg J, Weijs WA (1986). A mathematical model of
  the patellofemoral joint. J Biomech 19(3):219-229.
* Brechter JH, Powers CM (2002). Patellofemoral stress during walking in persons with
  and without patellofemoral pain. Med Sci Sports Exerc 34(10):1582-1593.
* Ward SR, Powers CM (2004). The influence of patella alta on patellofemoral joint
  stress during normal and fast walking. Clin Biomech 19(10):1040-1047.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gaitsim.errors import ModelError
from gaitsim.simulate.result import WalkingResult

__all__ = [
    "NUMERATOR",
    "DENOMINATOR",
    "VALID_RANGE_DEG",
    "QUADRICEPS_NAMES",
    "pf_force_ratio",
    "PatellofemoralLoad",
    "patellofemoral_load",
    "quadriceps_muscles",
    "walking_patellofemoral_load",
]

FloatArray = NDArray[np.float64]

#: Numerator coefficients of k(theta), theta in degrees, from the constant term up.
NUMERATOR = (0.462, 0.00147, -3.84e-5)
#: Denominator coefficients of k(theta), from the constant term up.
DENOMINATOR = (1.0, -0.0162, 1.55e-4, -6.98e-7)
#: Knee flexion range (deg) over which k(theta) is defined.
VALID_RANGE_DEG = (0.0, 120.0)
#: Quadriceps muscle names (without side suffix) recognised in a model.
QUADRICEPS_NAMES = ("rect_fem", "vasti", "vas_med", "vas_int", "vas_lat")

_OUTSIDE = ("clamp", "raise", "nan")


def _polynomial(coefficients: Sequence[float], x: FloatArray) -> FloatArray:
    return np.polynomial.polynomial.polyval(x, coefficients)


def pf_force_ratio(knee_flexion_deg: ArrayLike) -> FloatArray:
    """``k(theta)``: patellofemoral force over quadriceps force (Brechter & Powers 2002).

    Parameters
    ----------
    knee_flexion_deg
        Knee flexion (deg, flexion positive). Evaluated as given, with no range check:
        use :func:`patellofemoral_load` for data.

    Returns
    -------
    numpy.ndarray
        The ratio (dimensionless), same shape as the input.
    """
    theta = np.asarray(knee_flexion_deg, dtype=float)
    return _polynomial(NUMERATOR, theta) / _polynomial(DENOMINATOR, theta)


@dataclass(frozen=True, eq=False)
class PatellofemoralLoad:
    """Patellofemoral compressive force over time.

    Attributes
    ----------
    side
        ``"r"``, ``"l"`` or ``""``.
    time
        ``(n,)`` (s).
    knee_flexion
        Knee flexion (rad, flexion positive), ``(n,)``.
    quadriceps_force
        Sum of the quadriceps' tendon forces (N), ``(n,)``.
    ratio
        ``k`` used at each sample (after clamping), ``(n,)``.
    force
        ``k F_Q`` (N), ``(n,)``.
    body_weight
        N.
    outside_validity
        ``(n,)``: knee flexion outside :data:`VALID_RANGE_DEG`.
    quadriceps
        Names of the muscles summed.
    """

    side: str
    time: FloatArray
    knee_flexion: FloatArray
    quadriceps_force: FloatArray
    ratio: FloatArray
    force: FloatArray
    body_weight: float
    outside_validity: NDArray[np.bool_]
    quadriceps: tuple[str, ...] = ()

    @property
    def force_bw(self) -> FloatArray:
        """The force in body weights."""
        return self.force / self.body_weight

    def summary(self) -> dict[str, float]:
        """Peak force (BW), the knee flexion there (deg) and the fraction of samples
        outside the model's validity range."""
        k = int(np.nanargmax(self.force_bw))
        return {
            "peak_bw": float(self.force_bw[k]),
            "knee_flexion_at_peak_deg": float(np.degrees(self.knee_flexion[k])),
            "fraction_outside_validity": float(np.mean(self.outside_validity)),
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Tidy table: ``time``, ``side``, ``quantity`` (``pf_force``, ``quadriceps_force``,
        ``ratio``, ``knee_flexion``), ``value``, ``unit``, ``outside_validity``."""
        rows: list[dict[str, Any]] = []
        columns = (
            ("pf_force", self.force_bw, "BW"),
            ("quadriceps_force", self.quadriceps_force / self.body_weight, "BW"),
            ("ratio", self.ratio, "1"),
            ("knee_flexion", np.degrees(self.knee_flexion), "deg"),
        )
        for name, values, unit in columns:
            for t, v, out in zip(self.time, values, self.outside_validity, strict=True):
                rows.append(
                    {
                        "time": float(t),
                        "side": self.side,
                        "quantity": name,
                        "value": float(v),
                        "unit": unit,
                        "outside_validity": bool(out),
                    }
                )
        return rows


def patellofemoral_load(
    time: ArrayLike,
    knee_flexion: ArrayLike,
    quadriceps_force: ArrayLike,
    body_weight: float,
    *,
    outside: str = "clamp",
    side: str = "",
    quadriceps: Sequence[str] = (),
) -> PatellofemoralLoad:
    """Patellofemoral force ``k(theta) F_Q`` (see the module docstring).

    Parameters
    ----------
    time
        ``(n,)`` (s).
    knee_flexion
        Knee flexion (rad, *flexion positive*), ``(n,)``.
    quadriceps_force
        Total quadriceps tendon force (N), ``(n,)``.
    body_weight
        N, > 0.
    outside
        What to do with angles outside :data:`VALID_RANGE_DEG`: ``"clamp"`` (use the
        range end, flag the sample), ``"raise"`` or ``"nan"``.
    side, quadriceps
        Recorded in the result.

    Raises
    ------
    ValueError
        For mismatched shapes, non-finite inputs, a bad ``outside``, or (with
        ``outside="raise"``) angles outside the valid range.
    """
    if outside not in _OUTSIDE:
        raise ValueError(f"outside must be one of {_OUTSIDE}, got {outside!r}")
    t = np.asarray(time, dtype=float)
    theta = np.asarray(knee_flexion, dtype=float)
    force = np.asarray(quadriceps_force, dtype=float)
    if t.ndim != 1 or theta.shape != t.shape or force.shape != t.shape:
        raise ValueError(
            f"time, knee_flexion and quadriceps_force must have the same shape (n,); got "
            f"{t.shape}, {theta.shape}, {force.shape}"
        )
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(force))):
        raise ValueError("knee_flexion and quadriceps_force must be finite")
    if not (np.isfinite(body_weight) and body_weight > 0):
        raise ValueError(f"body_weight must be positive, got {body_weight!r}")
    degrees = np.degrees(theta)
    low, high = VALID_RANGE_DEG
    out = (degrees < low) | (degrees > high)
    if outside == "raise" and np.any(out):
        worst = degrees[out][np.argmax(np.abs(degrees[out] - 0.5 * (low + high)))]
        raise ValueError(
            f"knee flexion {worst:.1f} deg is outside the range {low:g}-{high:g} deg of the "
            f"patellofemoral model ({int(out.sum())} of {out.size} samples)"
        )
    ratio = pf_force_ratio(np.clip(degrees, low, high))
    if outside == "nan":
        ratio = np.where(out, np.nan, ratio)
    return PatellofemoralLoad(
        side=side,
        time=t,
        knee_flexion=theta,
        quadriceps_force=force,
        ratio=ratio,
        force=ratio * force,
        body_weight=float(body_weight),
        outside_validity=out,
        quadriceps=tuple(quadriceps),
    )


def quadriceps_muscles(muscle_names: Sequence[str], side: str) -> tuple[str, ...]:
    """The quadriceps of one side among ``muscle_names`` (see :data:`QUADRICEPS_NAMES`).

    Raises
    ------
    ModelError
        If there is none.
    """
    found = tuple(f"{name}_{side}" for name in QUADRICEPS_NAMES if f"{name}_{side}" in muscle_names)
    if not found:
        raise ModelError(
            f"muscles (side {side!r})",
            "no quadriceps muscle found (expected names among "
            + ", ".join(f"{n}_{side}" for n in QUADRICEPS_NAMES)
            + ")",
        )
    return found


def walking_patellofemoral_load(
    result: WalkingResult,
    side: str = "r",
    *,
    gravity: float = 9.80665,
    outside: str = "clamp",
) -> PatellofemoralLoad:
    """Patellofemoral force over a simulated stride, from its quadriceps tendon forces and
    knee angle (``knee_angle_<side>``, negated to flexion-positive).

    Raises
    ------
    ModelError
        If the result has no ``knee_angle_<side>`` or no quadriceps.
    """
    if side not in ("r", "l"):
        raise ValueError(f"side must be 'r' or 'l', got {side!r}")
    knee = f"knee_angle_{side}"
    if knee not in result.coordinate_names:
        raise ModelError(knee, f"the {result.model_name!r} result has no such coordinate")
    names = quadriceps_muscles(result.muscle_names, side)
    index = [result.muscle_names.index(n) for n in names]
    force = np.asarray(result.tendon_forces)[:, index].sum(axis=1)
    return patellofemoral_load(
        result.time,
        -result.coordinate(knee),
        force,
        result.body_mass * gravity,
        outside=outside,
        side=side,
        quadriceps=names,
    )
