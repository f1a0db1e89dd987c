"""DeGroote-Fregly (2016) Hill-type muscle, exactly as OpenSim 4.6 implements it.

Every function here is pure math and accepts Python floats, NumPy arrays (element-wise)
or CasADi ``SX``/``MX``/``DM`` expressions. Numeric inputs give NumPy results, CasADi
inputs give CasADi expressions, so the same code builds the collocation problem and
checks its numbers. There is no Python branching on the *values* of the inputs (only on
the fixed parameters in :class:`MuscleParameters`), so every expression is differentiable
by CasADi wherever OpenSim's is.

Sources
-------
* De Groote F, Kinney AL, Rao AV, Fregly BJ (2016). Evaluation of direct collocation
  optimal control problem formulations for solving the muscle redundancy problem.
  *Annals of Biomedical Engineering* 44(10):2922-2936. doi:10.1007/s10439-016-1591-9
  (curves in the supplement; activation dynamics eq. 1-2).
* OpenSim 4.6, ``OpenSim/Actuators/DeGrooteFregly2016Muscle.h`` and ``.cpp``
  (opensim-org/opensim-core): the constants ``b11..b43``, ``c1..c3``, ``d1..d4``,
  ``kPE``, the corrections to the published supplement (squared denominator of the
  Gaussian-like terms, the ``-d3`` of the inverse force-velocity curve, the passive
  curve offset so it is zero at ``minNormFiberLength = 0.2``, ``c2 = 1`` and ``c3 = 0.2``
  so the tendon force is zero at zero strain), ``calcMuscleLengthInfoHelper``,
  ``calcFiberVelocityInfoHelper``, ``calcMuscleDynamicsInfoHelper``,
  ``calcEquilibriumResidual`` and ``computeStateVariableDerivatives``.

The code below was written from those equations; none of it is copied.

Conventions
-----------
Lengths in metres, velocities in m/s (positive = lengthening), forces in newtons.
"Normalized" fibre length and velocity are divided by the optimal fibre length
``l_opt`` and by ``v_max * l_opt`` respectively; normalized tendon length by the tendon
slack length; normalized forces by the maximum isometric force.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import casadi as ca
import numpy as np

from gaitsim.errors import ModelError

__all__ = [
    "Value",
    "MuscleParameters",
    "MuscleState",
    "MIN_NORM_FIBER_LENGTH",
    "MAX_NORM_FIBER_LENGTH",
    "MIN_NORM_TENDON_FORCE",
    "MAX_NORM_TENDON_FORCE",
    "ACTIVATION_TANH_STEEPNESS",
    "active_force_length_multiplier",
    "active_force_length_multiplier_derivative",
    "passive_force_length_multiplier",
    "passive_force_length_multiplier_derivative",
    "force_velocity_multiplier",
    "force_velocity_inverse",
    "tendon_stiffness_parameter",
    "tendon_force_length_multiplier",
    "tendon_force_length_multiplier_derivative",
    "tendon_force_length_inverse",
    "norm_tendon_velocity_from_force_derivative",
    "fiber_length_from_along_tendon",
    "pennation_from_fiber_length",
    "rigid_tendon_state",
    "compliant_tendon_state_explicit",
    "compliant_tendon_state_implicit",
    "activation_derivative",
]

#: A scalar or array quantity: float, NumPy array, or CasADi SX/MX/DM expression.
Value: TypeAlias = float | np.ndarray | ca.SX | ca.MX | ca.DM

_CASADI_TYPES = (ca.SX, ca.MX, ca.DM)

# --------------------------------------------------------------------------------------
# Constants (OpenSim 4.6 DeGrooteFregly2016Muscle.h, "Curve parameters")
# --------------------------------------------------------------------------------------
# Active force-length: three Gaussian-like terms b1 * exp(-0.5 (x-b2)^2 / (b3 + b4 x)^2).
# Values from simtk.org/projects/optcntrlmuscle, with b11 adjusted by OpenSim so f(1) = 1.
_B1 = (0.8150671134243542, 0.433004984392647, 0.1)
_B2 = (1.055033428970575, 0.716775413397760, 1.0)
_B3 = (0.162384573599574, -0.029947116970696, 0.353553390593274)  # b33 = 0.5*sqrt(0.5)
_B4 = (0.063303448465465, 0.200356847296188, 0.0)

# Passive force-length exponential shape factor.
_KPE = 4.0

# Tendon force-length: c1 exp(kT (lT~ - c2)) - c3 (c2 = 1, c3 = 0.2 in OpenSim, so that
# the force is 0 at zero strain; the paper has 0.995 and 0.25).
_C1 = 0.2
_C2 = 1.0
_C3 = 0.2

# Force-velocity: d1 log(d2 v + d3 + sqrt((d2 v + d3)^2 + 1)) + d4, with d1, d4 re-solved
# by OpenSim so the curve passes through (-1, 0) and (0, 1).
_D1 = -0.3211346127989808
_D2 = -8.149
_D3 = -0.374
_D4 = 0.8825327733249912

#: Lower end of the fibre-length domain (normalized); the passive curve is 0 here.
MIN_NORM_FIBER_LENGTH = 0.2
#: Upper end of the fibre-length domain (normalized).
MAX_NORM_FIBER_LENGTH = 1.8
#: Bounds OpenSim/Moco put on the normalized tendon force state.
MIN_NORM_TENDON_FORCE = 0.0
MAX_NORM_TENDON_FORCE = 5.0
#: ``b`` of the activation-dynamics tanh blend (De Groote et al. 2016; OpenSim hard-codes
#: ``tanhSteepness = 0.1``).
ACTIVATION_TANH_STEEPNESS = 0.1


# --------------------------------------------------------------------------------------
# Backend helpers: NumPy for numbers, CasADi for CasADi expressions
# --------------------------------------------------------------------------------------
def _is_casadi(*values: object) -> bool:
    return any(isinstance(v, _CASADI_TYPES) for v in values)


def _coerce(*values: Value) -> tuple[Value, ...]:
    """Make a mix of NumPy arrays and CasADi expressions safe to combine.

    If any input is a CasADi expression, NumPy arrays are turned into ``DM`` (a NumPy
    array times an ``SX`` would otherwise become an object array). Numbers pass through.
    """
    if not _is_casadi(*values):
        return tuple(
            np.asarray(v, dtype=float) if isinstance(v, list | tuple) else v for v in values
        )
    return tuple(ca.DM(v) if isinstance(v, np.ndarray | list | tuple) else v for v in values)


def _exp(x: Value) -> Value:
    return ca.exp(x) if _is_casadi(x) else np.exp(x)


def _log(x: Value) -> Value:
    return ca.log(x) if _is_casadi(x) else np.log(x)


def _sqrt(x: Value) -> Value:
    return ca.sqrt(x) if _is_casadi(x) else np.sqrt(x)


def _sinh(x: Value) -> Value:
    return ca.sinh(x) if _is_casadi(x) else np.sinh(x)


def _tanh(x: Value) -> Value:
    return ca.tanh(x) if _is_casadi(x) else np.tanh(x)


def _asin(x: Value) -> Value:
    return ca.asin(x) if _is_casadi(x) else np.arcsin(x)


def _zeros_like(x: Value) -> Value:
    """A zero of the same kind (and shape) as ``x``."""
    return 0.0 * x


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MuscleParameters:
    """Parameters of one DeGroote-Fregly muscle (OpenSim property names and defaults).

    Parameters
    ----------
    max_isometric_force
        ``F_max`` (N), > 0.
    optimal_fiber_length
        ``l_opt`` (m), > 0.
    tendon_slack_length
        ``l_ts`` (m), > 0.
    pennation_angle_at_optimal
        ``alpha_opt`` (rad), in ``[0, pi/2)``.
    max_contraction_velocity
        ``v_max`` in optimal fibre lengths per second, > 0.
    activation_time_constant, deactivation_time_constant
        ``tau_a``, ``tau_d`` (s), > 0. Defaults 0.015 and 0.060.
    tendon_strain_at_one_norm_force
        Tendon strain at which the tendon force equals ``F_max`` (default 0.049); sets kT.
    passive_fiber_strain_at_one_norm_force
        ``e0``: fibre strain at which the passive force equals ``F_max`` (default 0.6).
    active_force_width_scale
        Widens the active force-length curve, >= 1 (default 1).
    fiber_damping
        Normalized damping ``beta``: damping force = ``beta * v~ * F_max`` (default 0).
    ignore_passive_fiber_force
        If true the passive force-length multiplier is 0.

    Raises
    ------
    ModelError
        If a value is outside the range OpenSim accepts
        (``DeGrooteFregly2016Muscle::extendFinalizeFromProperties``).
    """

    max_isometric_force: float
    optimal_fiber_length: float
    tendon_slack_length: float
    pennation_angle_at_optimal: float
    max_contraction_velocity: float
    activation_time_constant: float = 0.015
    deactivation_time_constant: float = 0.060
    tendon_strain_at_one_norm_force: float = 0.049
    passive_fiber_strain_at_one_norm_force: float = 0.6
    active_force_width_scale: float = 1.0
    fiber_damping: float = 0.0
    ignore_passive_fiber_force: bool = False

    def __post_init__(self) -> None:
        positive = (
            "max_isometric_force",
            "optimal_fiber_length",
            "tendon_slack_length",
            "max_contraction_velocity",
            "activation_time_constant",
            "deactivation_time_constant",
            "tendon_strain_at_one_norm_force",
            "passive_fiber_strain_at_one_norm_force",
        )
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ModelError(f"MuscleParameters.{name}", f"must be > 0, got {value!r}")
        alpha = self.pennation_angle_at_optimal
        if not (0.0 <= alpha < math.pi / 2.0):
            raise ModelError(
                "MuscleParameters.pennation_angle_at_optimal",
                f"must be in [0, pi/2), got {alpha!r}",
            )
        if not self.active_force_width_scale >= 1.0:
            raise ModelError(
                "MuscleParameters.active_force_width_scale",
                f"must be >= 1, got {self.active_force_width_scale!r}",
            )
        if not self.fiber_damping >= 0.0:
            raise ModelError(
                "MuscleParameters.fiber_damping", f"must be >= 0, got {self.fiber_damping!r}"
            )

    @property
    def fiber_width(self) -> float:
        """Constant fibre width ``w = l_opt * sin(alpha_opt)`` (m), fixed-width pennation."""
        return self.optimal_fiber_length * math.sin(self.pennation_angle_at_optimal)

    @property
    def max_contraction_velocity_si(self) -> float:
        """``v_max * l_opt`` (m/s)."""
        return self.max_contraction_velocity * self.optimal_fiber_length

    @property
    def tendon_stiffness_parameter(self) -> float:
        """De Groote's ``kT``, from :attr:`tendon_strain_at_one_norm_force`."""
        return tendon_stiffness_parameter(self.tendon_strain_at_one_norm_force)


# --------------------------------------------------------------------------------------
# Curves
# --------------------------------------------------------------------------------------
def _gaussian_like(x: Value, b1: float, b2: float, b3: float, b4: float) -> Value:
    # b1 exp(-0.5 (x - b2)^2 / (b3 + b4 x)^2); the supplement omits the square of the
    # denominator (OpenSim calcGaussianLikeCurve).
    den = b3 + b4 * x
    return b1 * _exp(-0.5 * (x - b2) ** 2 / den**2)


def _gaussian_like_derivative(x: Value, b1: float, b2: float, b3: float, b4: float) -> Value:
    den = b3 + b4 * x
    return b1 * _exp(-0.5 * (b2 - x) ** 2 / den**2) * (b2 - x) * (b3 + b2 * b4) / den**3


def active_force_length_multiplier(
    norm_fiber_length: Value, active_force_width_scale: float = 1.0
) -> Value:
    """Active force-length multiplier ``f_L(l~)``; equals 1 at ``l~ = 1``.

    ``f_L = sum_i b1i exp(-0.5 (x - b2i)^2 / (b3i + b4i x)^2)`` with
    ``x = (l~ - 1) / s + 1`` and ``s = active_force_width_scale``
    (OpenSim ``calcActiveForceLengthMultiplier``; De Groote et al. 2016 supplement).

    Parameters
    ----------
    norm_fiber_length
        Fibre length divided by the optimal fibre length.
    active_force_width_scale
        Horizontal stretch of the curve about its peak (>= 1).

    Returns
    -------
    Value
        The multiplier (dimensionless).
    """
    x = (norm_fiber_length - 1.0) / active_force_width_scale + 1.0
    total = _gaussian_like(x, _B1[0], _B2[0], _B3[0], _B4[0])
    for i in (1, 2):
        total = total + _gaussian_like(x, _B1[i], _B2[i], _B3[i], _B4[i])
    return total


def active_force_length_multiplier_derivative(
    norm_fiber_length: Value, active_force_width_scale: float = 1.0
) -> Value:
    """``d f_L / d l~`` (OpenSim ``calcActiveForceLengthMultiplierDerivative``).

    Parameters
    ----------
    norm_fiber_length
        Normalized fibre length.
    active_force_width_scale
        As in :func:`active_force_length_multiplier`.

    Returns
    -------
    Value
        The derivative with respect to the normalized fibre length.
    """
    x = (norm_fiber_length - 1.0) / active_force_width_scale + 1.0
    total = _gaussian_like_derivative(x, _B1[0], _B2[0], _B3[0], _B4[0])
    for i in (1, 2):
        total = total + _gaussian_like_derivative(x, _B1[i], _B2[i], _B3[i], _B4[i])
    return total / active_force_width_scale


def _passive_offset_and_denominator(e0: float) -> tuple[float, float]:
    offset = math.exp(_KPE * (MIN_NORM_FIBER_LENGTH - 1.0) / e0)
    return offset, math.exp(_KPE) - offset


def passive_force_length_multiplier(
    norm_fiber_length: Value, passive_fiber_strain_at_one_norm_force: float = 0.6
) -> Value:
    """Passive force-length multiplier ``f_PE(l~)``.

    ``f_PE = (exp(kPE (l~ - 1) / e0) - offset) / (exp(kPE) - offset)`` with ``kPE = 4``
    and ``offset = exp(kPE (0.2 - 1) / e0)``, so ``f_PE(0.2) = 0`` and
    ``f_PE(1 + e0) = 1``. It is *not* zero at the optimal length (OpenSim documents this
    departure): ``f_PE(1) = (1 - offset) / (exp(4) - offset)``, about 0.018 for
    ``e0 = 0.6``. Negative below ``l~ = 0.2``.
    (OpenSim ``calcPassiveForceMultiplier``; the paper's version passes through (1, 0).)

    Parameters
    ----------
    norm_fiber_length
        Normalized fibre length.
    passive_fiber_strain_at_one_norm_force
        ``e0``.

    Returns
    -------
    Value
        The multiplier (dimensionless).
    """
    e0 = passive_fiber_strain_at_one_norm_force
    offset, denom = _passive_offset_and_denominator(e0)
    return (_exp(_KPE * (norm_fiber_length - 1.0) / e0) - offset) / denom


def passive_force_length_multiplier_derivative(
    norm_fiber_length: Value, passive_fiber_strain_at_one_norm_force: float = 0.6
) -> Value:
    """``d f_PE / d l~`` (OpenSim ``calcPassiveForceMultiplierDerivative``).

    Parameters
    ----------
    norm_fiber_length
        Normalized fibre length.
    passive_fiber_strain_at_one_norm_force
        ``e0``.

    Returns
    -------
    Value
        The derivative with respect to the normalized fibre length.
    """
    e0 = passive_fiber_strain_at_one_norm_force
    _, denom = _passive_offset_and_denominator(e0)
    return _KPE * _exp(_KPE * (norm_fiber_length - 1.0) / e0) / (e0 * denom)


def force_velocity_multiplier(norm_fiber_velocity: Value) -> Value:
    """Force-velocity multiplier ``f_V(v~)``; 0 at ``v~ = -1``, 1 at ``v~ = 0``.

    ``f_V = d1 log(d2 v~ + d3 + sqrt((d2 v~ + d3)^2 + 1)) + d4``
    (OpenSim ``calcForceVelocityMultiplier``; De Groote et al. 2016 supplement with d1, d4
    re-solved by OpenSim). About 1.794 at ``v~ = 1``.

    Parameters
    ----------
    norm_fiber_velocity
        Fibre velocity divided by ``v_max * l_opt`` (positive = lengthening).

    Returns
    -------
    Value
        The multiplier (dimensionless).
    """
    t = _D2 * norm_fiber_velocity + _D3
    return _D1 * _log(t + _sqrt(t**2 + 1.0)) + _D4


def force_velocity_inverse(force_velocity_mult: Value) -> Value:
    """Inverse of :func:`force_velocity_multiplier`: normalized fibre velocity.

    ``v~ = (sinh((f_V - d4) / d1) - d3) / d2`` (OpenSim ``calcForceVelocityInverseCurve``;
    the supplement of De Groote et al. 2016 misses the ``- d3``).

    Parameters
    ----------
    force_velocity_mult
        Value of the force-velocity multiplier.

    Returns
    -------
    Value
        Normalized fibre velocity.
    """
    return (_sinh((force_velocity_mult - _D4) / _D1) - _D3) / _D2


def tendon_stiffness_parameter(tendon_strain_at_one_norm_force: float = 0.049) -> float:
    """De Groote's tendon shape factor ``kT``.

    ``kT = log((1 + c3) / c1) / (1 + strain - c2)`` so that the tendon curve passes
    through ``(1 + strain, 1)`` (OpenSim ``getTendonStiffnessParameter`` / ``m_kT``).
    About 36.57 for the default strain 0.049 (the paper uses kT = 35).

    Parameters
    ----------
    tendon_strain_at_one_norm_force
        Tendon strain at one normalized force.

    Returns
    -------
    float
        ``kT``.
    """
    return math.log((1.0 + _C3) / _C1) / (1.0 + tendon_strain_at_one_norm_force - _C2)


def tendon_force_length_multiplier(
    norm_tendon_length: Value, tendon_strain_at_one_norm_force: float = 0.049
) -> Value:
    """Normalized tendon force ``f_T(l~T) = c1 exp(kT (l~T - c2)) - c3``.

    With OpenSim's ``c1 = 0.2, c2 = 1, c3 = 0.2`` it is 0 at zero strain, 1 at
    ``l~T = 1 + strain`` and tends to ``-0.2`` for a slack tendon
    (OpenSim ``calcTendonForceMultiplier``).

    Parameters
    ----------
    norm_tendon_length
        Tendon length divided by the tendon slack length.
    tendon_strain_at_one_norm_force
        Sets ``kT`` (:func:`tendon_stiffness_parameter`).

    Returns
    -------
    Value
        Normalized tendon force.
    """
    k_t = tendon_stiffness_parameter(tendon_strain_at_one_norm_force)
    return _C1 * _exp(k_t * (norm_tendon_length - _C2)) - _C3


def tendon_force_length_multiplier_derivative(
    norm_tendon_length: Value, tendon_strain_at_one_norm_force: float = 0.049
) -> Value:
    """``d f_T / d l~T = c1 kT exp(kT (l~T - c2))`` (``calcTendonForceMultiplierDerivative``).

    Parameters
    ----------
    norm_tendon_length
        Normalized tendon length.
    tendon_strain_at_one_norm_force
        Sets ``kT``.

    Returns
    -------
    Value
        The derivative with respect to the normalized tendon length.
    """
    k_t = tendon_stiffness_parameter(tendon_strain_at_one_norm_force)
    return _C1 * k_t * _exp(k_t * (norm_tendon_length - _C2))


def tendon_force_length_inverse(
    norm_tendon_force: Value, tendon_strain_at_one_norm_force: float = 0.049
) -> Value:
    """Normalized tendon length from normalized tendon force.

    ``l~T = log((f~T + c3) / c1) / kT + c2`` (OpenSim ``calcTendonForceLengthInverseCurve``);
    defined for ``f~T > -c3 = -0.2``.

    Parameters
    ----------
    norm_tendon_force
        Normalized tendon force.
    tendon_strain_at_one_norm_force
        Sets ``kT``.

    Returns
    -------
    Value
        Normalized tendon length.
    """
    k_t = tendon_stiffness_parameter(tendon_strain_at_one_norm_force)
    return _log((norm_tendon_force + _C3) / _C1) / k_t + _C2


def norm_tendon_velocity_from_force_derivative(
    norm_tendon_force_derivative: Value,
    norm_tendon_length: Value,
    tendon_strain_at_one_norm_force: float = 0.049,
) -> Value:
    """Normalized tendon velocity ``d l~T/dt = (d f~T/dt) / (c1 kT exp(kT (l~T - c2)))``.

    (OpenSim ``calcTendonForceLengthInverseCurveDerivative``; De Groote et al. 2016
    supplement, implicit formulation.)

    Parameters
    ----------
    norm_tendon_force_derivative
        Time derivative of the normalized tendon force (1/s).
    norm_tendon_length
        Normalized tendon length.
    tendon_strain_at_one_norm_force
        Sets ``kT``.

    Returns
    -------
    Value
        Tendon velocity divided by the tendon slack length (1/s).
    """
    return norm_tendon_force_derivative / tendon_force_length_multiplier_derivative(
        norm_tendon_length, tendon_strain_at_one_norm_force
    )


# --------------------------------------------------------------------------------------
# Geometry (fixed-width pennation)
# --------------------------------------------------------------------------------------
def fiber_length_from_along_tendon(fiber_length_along_tendon: Value, fiber_width: float) -> Value:
    """Fibre length ``l_M = sqrt(l_M,AT^2 + w^2)`` for the fixed-width pennation model.

    OpenSim does not clamp the fibre length: ``l_M >= w`` holds by construction and the
    0.2 l_opt lower end of the domain (:data:`MIN_NORM_FIBER_LENGTH`) is left to the
    optimizer's bounds (``getMinNormalizedFiberLength``).

    Parameters
    ----------
    fiber_length_along_tendon
        Projection of the fibre on the tendon line (m).
    fiber_width
        ``w = l_opt sin(alpha_opt)`` (m).

    Returns
    -------
    Value
        Fibre length (m).
    """
    return _sqrt(fiber_length_along_tendon**2 + fiber_width**2)


def pennation_from_fiber_length(
    fiber_length_along_tendon: Value, fiber_length: Value, fiber_width: float
) -> tuple[Value, Value, Value]:
    """Cosine, sine and angle of pennation, as ``calcMuscleLengthInfoHelper`` computes them.

    ``cos(alpha) = l_M,AT / l_M``, ``sin(alpha) = w / l_M``, ``alpha = asin(w / l_M)``.

    Parameters
    ----------
    fiber_length_along_tendon
        Fibre length along the tendon (m).
    fiber_length
        Fibre length (m).
    fiber_width
        Fibre width (m).

    Returns
    -------
    tuple
        ``(cos_alpha, sin_alpha, alpha)``.
    """
    sin_alpha = fiber_width / fiber_length
    return fiber_length_along_tendon / fiber_length, sin_alpha, _asin(sin_alpha)


# --------------------------------------------------------------------------------------
# Muscle state
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MuscleState:
    """Every quantity OpenSim puts in MuscleLengthInfo / FiberVelocityInfo / DynamicsInfo.

    Each field has the kind of the inputs (float, NumPy array or CasADi expression).

    Attributes
    ----------
    muscle_tendon_length, muscle_tendon_velocity, activation
        The inputs (m, m/s, -).
    tendon_length, norm_tendon_length, tendon_strain
        Tendon geometry; rigid tendon: ``l_ts``, 1, 0.
    fiber_length_along_tendon, fiber_length, norm_fiber_length
        Fibre geometry.
    cos_pennation, sin_pennation, pennation_angle
        Pennation (rad).
    active_force_length_multiplier, passive_force_multiplier
        ``f_L(l~)`` and ``f_PE(l~)`` (0 if passive force is ignored).
    tendon_velocity, norm_tendon_velocity
        m/s and 1/s (divided by ``l_ts``).
    fiber_velocity_along_tendon, fiber_velocity, norm_fiber_velocity
        Fibre velocities (m/s, m/s, -).
    force_velocity_multiplier
        ``f_V``.
    pennation_angular_velocity
        ``d alpha / dt`` (rad/s).
    active_fiber_force
        ``F_max a f_L f_V`` (N).
    passive_fiber_elastic_force
        ``F_max f_PE`` (N).
    passive_fiber_damping_force
        ``F_max beta v~`` (N).
    passive_fiber_force
        Elastic + damping (N).
    fiber_force, norm_fiber_force, fiber_force_along_tendon
        Total fibre force (N), over ``F_max``, and times ``cos(alpha)`` (N).
    tendon_force, norm_tendon_force
        Force the muscle applies to the skeleton (N), and over ``F_max``. Rigid tendon:
        the fibre force along the tendon; compliant tendon: ``F_max`` times the state.
    norm_tendon_force_derivative
        ``d f~T / dt`` (1/s): computed (explicit), given (implicit), 0 (rigid).
    equilibrium_residual
        ``f~T - F_M cos(alpha) / F_max`` (dimensionless, OpenSim 4.6
        ``calcEquilibriumResidual``). It is identically 0 for a rigid tendon and, for the
        explicit form, equals ``-beta v~ cos(alpha)`` (OpenSim's explicit inversion of
        ``f_V`` ignores fibre damping).
    """

    muscle_tendon_length: Value
    muscle_tendon_velocity: Value
    activation: Value
    tendon_length: Value
    norm_tendon_length: Value
    tendon_strain: Value
    fiber_length_along_tendon: Value
    fiber_length: Value
    norm_fiber_length: Value
    cos_pennation: Value
    sin_pennation: Value
    pennation_angle: Value
    active_force_length_multiplier: Value
    passive_force_multiplier: Value
    tendon_velocity: Value
    norm_tendon_velocity: Value
    fiber_velocity_along_tendon: Value
    fiber_velocity: Value
    norm_fiber_velocity: Value
    force_velocity_multiplier: Value
    pennation_angular_velocity: Value
    active_fiber_force: Value
    passive_fiber_elastic_force: Value
    passive_fiber_damping_force: Value
    passive_fiber_force: Value
    fiber_force: Value
    norm_fiber_force: Value
    fiber_force_along_tendon: Value
    tendon_force: Value
    norm_tendon_force: Value
    norm_tendon_force_derivative: Value
    equilibrium_residual: Value


def _length_info(
    p: MuscleParameters, muscle_tendon_length: Value, norm_tendon_length: Value
) -> dict[str, Value]:
    """``calcMuscleLengthInfoHelper``: tendon, fibre and pennation from the lengths."""
    tendon_length = p.tendon_slack_length * norm_tendon_length
    along = muscle_tendon_length - tendon_length
    fiber_length = fiber_length_from_along_tendon(along, p.fiber_width)
    norm_fiber_length = fiber_length / p.optimal_fiber_length
    cos_a, sin_a, alpha = pennation_from_fiber_length(along, fiber_length, p.fiber_width)
    if p.ignore_passive_fiber_force:
        f_pe = _zeros_like(norm_fiber_length)
    else:
        f_pe = passive_force_length_multiplier(
            norm_fiber_length, p.passive_fiber_strain_at_one_norm_force
        )
    f_l = active_force_length_multiplier(norm_fiber_length, p.active_force_width_scale)
    return {
        "tendon_length": tendon_length,
        "norm_tendon_length": norm_tendon_length,
        "tendon_strain": norm_tendon_length - 1.0,
        "fiber_length_along_tendon": along,
        "fiber_length": fiber_length,
        "norm_fiber_length": norm_fiber_length,
        "cos_pennation": cos_a,
        "sin_pennation": sin_a,
        "pennation_angle": alpha,
        "active_force_length_multiplier": f_l,
        "passive_force_multiplier": f_pe,
    }


def _velocity_from_tendon_velocity(
    p: MuscleParameters,
    li: dict[str, Value],
    muscle_tendon_velocity: Value,
    norm_tendon_velocity: Value,
) -> dict[str, Value]:
    """Implicit / rigid branch of ``calcFiberVelocityInfoHelper`` (kinematics first)."""
    tendon_velocity = p.tendon_slack_length * norm_tendon_velocity
    along = muscle_tendon_velocity - tendon_velocity
    fiber_velocity = along * li["cos_pennation"]
    norm_fiber_velocity = fiber_velocity / p.max_contraction_velocity_si
    return {
        "tendon_velocity": tendon_velocity,
        "norm_tendon_velocity": norm_tendon_velocity,
        "fiber_velocity_along_tendon": along,
        "fiber_velocity": fiber_velocity,
        "norm_fiber_velocity": norm_fiber_velocity,
        "force_velocity_multiplier": force_velocity_multiplier(norm_fiber_velocity),
    }


def _pennation_rate(p: MuscleParameters, li: dict[str, Value], fiber_velocity: Value) -> Value:
    # d alpha/dt = -v_M / l_M * tan(alpha), tan(alpha) = w / l_M,AT
    tan_a = p.fiber_width / li["fiber_length_along_tendon"]
    return -fiber_velocity / li["fiber_length"] * tan_a


def _dynamics_info(
    p: MuscleParameters,
    li: dict[str, Value],
    vi: dict[str, Value],
    activation: Value,
    norm_tendon_force: Value | None,
) -> dict[str, Value]:
    """``calcFiberForce`` + ``calcMuscleDynamicsInfoHelper`` (force entries)."""
    f_max = p.max_isometric_force
    active = f_max * (activation * li["active_force_length_multiplier"])
    active = active * vi["force_velocity_multiplier"]
    elastic = f_max * li["passive_force_multiplier"]
    damping = f_max * p.fiber_damping * vi["norm_fiber_velocity"]
    fiber_force = active + elastic + damping
    along = fiber_force * li["cos_pennation"]
    if norm_tendon_force is None:  # rigid tendon (a structural choice, not a value test)
        tendon_force = along
        norm_tendon_force = along / f_max
        residual = _zeros_like(along)
    else:
        tendon_force = f_max * norm_tendon_force
        residual = norm_tendon_force - along / f_max
    return {
        "active_fiber_force": active,
        "passive_fiber_elastic_force": elastic,
        "passive_fiber_damping_force": damping,
        "passive_fiber_force": elastic + damping,
        "fiber_force": fiber_force,
        "norm_fiber_force": fiber_force / f_max,
        "fiber_force_along_tendon": along,
        "tendon_force": tendon_force,
        "norm_tendon_force": norm_tendon_force,
        "equilibrium_residual": residual,
    }


def rigid_tendon_state(
    params: MuscleParameters,
    muscle_tendon_length: Value,
    muscle_tendon_velocity: Value,
    activation: Value,
) -> MuscleState:
    """Muscle state with an inextensible tendon (OpenSim ``ignore_tendon_compliance``).

    ``l_T = l_ts``; ``l_M,AT = l_MT - l_ts``; ``l_M = sqrt(l_M,AT^2 + w^2)``;
    ``v_M = v_MT cos(alpha)``; ``F_T = (a f_L f_V + f_PE + beta v~) cos(alpha) F_max``.

    Parameters
    ----------
    params
        Muscle parameters.
    muscle_tendon_length
        Path length ``l_MT`` (m).
    muscle_tendon_velocity
        Path lengthening speed ``v_MT`` (m/s).
    activation
        Activation in [0, 1].

    Returns
    -------
    MuscleState
        All quantities; ``norm_tendon_force_derivative`` and ``equilibrium_residual``
        are 0.
    """
    lmt, vmt, act = _coerce(muscle_tendon_length, muscle_tendon_velocity, activation)
    li = _length_info(params, lmt, 1.0 + _zeros_like(lmt))
    vi = _velocity_from_tendon_velocity(params, li, vmt, _zeros_like(lmt))
    vi["pennation_angular_velocity"] = _pennation_rate(params, li, vi["fiber_velocity"])
    di = _dynamics_info(params, li, vi, act, None)
    return MuscleState(
        muscle_tendon_length=lmt,
        muscle_tendon_velocity=vmt,
        activation=act,
        norm_tendon_force_derivative=_zeros_like(lmt),
        **li,
        **vi,
        **di,
    )


def compliant_tendon_state_explicit(
    params: MuscleParameters,
    muscle_tendon_length: Value,
    muscle_tendon_velocity: Value,
    activation: Value,
    norm_tendon_force: Value,
) -> MuscleState:
    """Compliant tendon, explicit form (De Groote et al. 2016 formulation 1; OpenSim default).

    The state is the normalized tendon force ``f~T``. Lengths:
    ``l~T = f_T^-1(f~T)``, ``l_M,AT = l_MT - l_ts l~T``, ``l_M = sqrt(l_M,AT^2 + w^2)``.
    Velocity from the equilibrium, inverting the force-velocity curve as OpenSim's
    explicit mode does::

        f_V = (f~T / cos(alpha) - f_PE) / (a f_L)
        v~  = f_V^-1(f_V),  v_M = v~ v_max l_opt,  v_T = v_MT - v_M / cos(alpha)

    and ``d f~T/dt = (v_T / l_ts) * d f_T/d l~T`` (``computeStateVariableDerivatives``).
    Fibre damping is *not* part of the inversion (as in OpenSim), so with
    ``fiber_damping > 0`` the returned fibre force includes a damping term the tendon
    force does not balance. Singular when ``a f_L = 0``.

    Parameters
    ----------
    params
        Muscle parameters.
    muscle_tendon_length, muscle_tendon_velocity
        ``l_MT`` (m), ``v_MT`` (m/s).
    activation
        Activation (> 0 for the inversion to exist).
    norm_tendon_force
        The state ``f~T``.

    Returns
    -------
    MuscleState
        With ``norm_tendon_force_derivative`` the explicit ``d f~T/dt``.
    """
    lmt, vmt, act, ftn = _coerce(
        muscle_tendon_length, muscle_tendon_velocity, activation, norm_tendon_force
    )
    p = params
    li = _length_info(p, lmt, tendon_force_length_inverse(ftn, p.tendon_strain_at_one_norm_force))
    norm_fiber_force = ftn / li["cos_pennation"]
    f_v = (norm_fiber_force - li["passive_force_multiplier"]) / (
        act * li["active_force_length_multiplier"]
    )
    norm_fiber_velocity = force_velocity_inverse(f_v)
    fiber_velocity = norm_fiber_velocity * p.max_contraction_velocity_si
    along = fiber_velocity / li["cos_pennation"]
    tendon_velocity = vmt - along
    norm_tendon_velocity = tendon_velocity / p.tendon_slack_length
    vi = {
        "tendon_velocity": tendon_velocity,
        "norm_tendon_velocity": norm_tendon_velocity,
        "fiber_velocity_along_tendon": along,
        "fiber_velocity": fiber_velocity,
        "norm_fiber_velocity": norm_fiber_velocity,
        "force_velocity_multiplier": f_v,
        "pennation_angular_velocity": _pennation_rate(p, li, fiber_velocity),
    }
    di = _dynamics_info(p, li, vi, act, ftn)
    dftn = norm_tendon_velocity * tendon_force_length_multiplier_derivative(
        li["norm_tendon_length"], p.tendon_strain_at_one_norm_force
    )
    return MuscleState(
        muscle_tendon_length=lmt,
        muscle_tendon_velocity=vmt,
        activation=act,
        norm_tendon_force_derivative=dftn,
        **li,
        **vi,
        **di,
    )


def compliant_tendon_state_implicit(
    params: MuscleParameters,
    muscle_tendon_length: Value,
    muscle_tendon_velocity: Value,
    activation: Value,
    norm_tendon_force: Value,
    norm_tendon_force_derivative: Value,
) -> MuscleState:
    """Compliant tendon, implicit form (De Groote et al. 2016 formulation 3; Moco).

    State ``f~T`` and its derivative ``d f~T/dt`` (a control in collocation) are given.
    Lengths as in :func:`compliant_tendon_state_explicit`; velocities from kinematics::

        v~T = (d f~T/dt) / (d f_T/d l~T),  v_T = l_ts v~T,
        v_M,AT = v_MT - v_T,  v_M = v_M,AT cos(alpha),  v~ = v_M / (v_max l_opt)

    and the equilibrium residual (OpenSim 4.6 ``calcEquilibriumResidual``, normalized)::

        r = f~T - (a f_L f_V(v~) + f_PE + beta v~) cos(alpha)

    which the optimizer drives to zero.

    Parameters
    ----------
    params
        Muscle parameters.
    muscle_tendon_length, muscle_tendon_velocity
        ``l_MT`` (m), ``v_MT`` (m/s).
    activation
        Activation.
    norm_tendon_force
        The state ``f~T``.
    norm_tendon_force_derivative
        ``d f~T / dt`` (1/s).

    Returns
    -------
    MuscleState
        With ``equilibrium_residual`` = ``r``.
    """
    lmt, vmt, act, ftn, dftn = _coerce(
        muscle_tendon_length,
        muscle_tendon_velocity,
        activation,
        norm_tendon_force,
        norm_tendon_force_derivative,
    )
    p = params
    li = _length_info(p, lmt, tendon_force_length_inverse(ftn, p.tendon_strain_at_one_norm_force))
    norm_tendon_velocity = norm_tendon_velocity_from_force_derivative(
        dftn, li["norm_tendon_length"], p.tendon_strain_at_one_norm_force
    )
    vi = _velocity_from_tendon_velocity(p, li, vmt, norm_tendon_velocity)
    vi["pennation_angular_velocity"] = _pennation_rate(p, li, vi["fiber_velocity"])
    di = _dynamics_info(p, li, vi, act, ftn)
    return MuscleState(
        muscle_tendon_length=lmt,
        muscle_tendon_velocity=vmt,
        activation=act,
        norm_tendon_force_derivative=dftn,
        **li,
        **vi,
        **di,
    )


# --------------------------------------------------------------------------------------
# Activation dynamics
# --------------------------------------------------------------------------------------
def activation_derivative(
    excitation: Value,
    activation: Value,
    activation_time_constant: float = 0.015,
    deactivation_time_constant: float = 0.060,
    tanh_steepness: float = ACTIVATION_TANH_STEEPNESS,
) -> Value:
    """``da/dt`` of De Groote et al. (2016), eq. 1-2, as OpenSim computes it.

    ::

        f = 0.5 tanh(b (e - a)),  z = 0.5 + 1.5 a
        da/dt = [ (f + 0.5) / (tau_a z) + (0.5 - f) z / tau_d ] (e - a)

    with ``b = 0.1`` (OpenSim ``computeStateVariableDerivatives``). Positive when
    ``e > a``, negative when ``e < a``, zero when ``e = a``. Note: OpenSim 4.6 stores the
    time constants in function-local ``static`` variables, so in one OpenSim process every
    DeGrooteFregly2016Muscle uses the constants of the first muscle evaluated; here each
    call uses its own.

    Parameters
    ----------
    excitation
        Neural excitation ``e`` in [0, 1].
    activation
        Activation ``a`` in [0, 1].
    activation_time_constant, deactivation_time_constant
        ``tau_a``, ``tau_d`` (s).
    tanh_steepness
        ``b``.

    Returns
    -------
    Value
        ``da/dt`` (1/s).
    """
    e, a = _coerce(excitation, activation)
    z = 0.5 + 1.5 * a
    f = 0.5 * _tanh(tanh_steepness * (e - a))
    rate = (f + 0.5) / (activation_time_constant * z) + (0.5 - f) * z / deactivation_time_constant
    return rate * (e - a)
