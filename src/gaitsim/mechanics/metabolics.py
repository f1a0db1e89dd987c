"""Muscle metabolic energy rate of Bhargava et al. (2004), smoothed for optimal control.

The model splits each muscle's metabolic power (W) into heat and work::

    E = max(A + M + S, 1 W/kg * m) + W

* activation heat ``A = m * d * (A_s f_s u_s + A_f (1 - f_s) u_f)``,
* maintenance heat ``M = m * L(l~) * (M_s f_s u_s + M_f (1 - f_s) u_f)``,
* shortening/lengthening heat ``S = -alpha * v``,
* mechanical work rate of the contractile element ``W = -F_CE * v``,

with muscle mass ``m``, slow-twitch fraction ``f_s``, slow- and fast-twitch recruitment
``u_s = sin(pi/2 * e)`` and ``u_f = 1 - cos(pi/2 * e)`` from the excitation ``e``, fibre
velocity ``v`` (m/s, positive = lengthening), contractile (active) fibre force ``F_CE``
and the constants in :data:`ACTIVATION_HEAT_SLOW` ... :data:`LENGTHENING_HEAT_COEFFICIENT`.
The shortening-heat coefficient is force dependent (Bhargava et al. 2004, eq. 9)::

    alpha = 0.16 * F_iso + 0.18 * F_M    when shortening (v < 0)
    alpha = 0.157 * F_M                  when lengthening (v > 0)

where ``F_iso = a * f_L(l~) * F_max`` is the force the fibre would develop isometrically
at the current activation and length, and ``F_M = F_CE + F_passive`` the total fibre force.
If ``A + M + S + W < 0`` the shortening heat is raised so that the muscle's power is not
negative, and the total heat rate is not allowed below 1 W/kg (Umberger et al. 2003).

Smoothing
---------
Every switch of the published piecewise model is replaced by the tanh blend Moco uses
(``Bhargava2004SmoothedMuscleMetabolics`` with ``use_smoothing = true`` and
``smoothing_type = "tanh"``)::

    cond(x, left, right, b) = left + (right - left) * (0.5 + 0.5 * tanh(b * x))

with ``b`` = :attr:`BhargavaSettings.smoothing` (default 10, as Moco's
``velocity_smoothing``, ``power_smoothing`` and ``heat_rate_smoothing`` and PredSim's
``b``). The argument ``x`` of the velocity switches is in m/s, of the power switch and
of the minimum-heat switch in W (as in Moco; PredSim expresses the latter in W/kg). So
the result is infinitely differentiable.

Moco keeps the length dependence ``L(l~)`` of the maintenance heat as OpenSim's
piecewise-linear function through (0, 0.5), (0.5, 0.5), (1, 1), (1.5, 0), (10, 0)
(Bhargava et al. 2004, eq. 8), which has kinks; PredSim replaces it by ``l~`` itself.
Here it is written as a sum of ramps, ``L = 0.5 + r(l~ - 0.5) - 3 r(l~ - 1) + 2 r(l~ - 1.5)``,
each ramp ``r(x) = x * (0.5 + 0.5 tanh(k x))`` (Moco's tanh conditional applied to the
ramp) with ``k`` = :attr:`BhargavaSettings.length_smoothing` (default 50 per normalised
length). This equals the piecewise function exactly at the three corners and elsewhere
differs from it by at most ``3 * 0.14 / k`` (about 0.008 for ``k = 50``); beyond
``l~ = 1.5`` it may dip to about ``-2 * 0.14 / k`` (about -0.006) before returning to 0.

Choices (defaults of :class:`BhargavaSettings`)
-----------------------------------------------
* Excitation drives activation and maintenance heat, through the recruitment functions
  above (Bhargava et al. 2004; Moco reads the muscle's control, ``getControl``). Callers
  without an excitation (PredSim passes the activation in its place) may pass the
  activation twice. Activation enters only through ``F_iso`` of the shortening heat.
* Activation-heat decay factor ``d = 1`` (Moco, after Anderson & Pandy 1999; Bhargava's
  time-dependent decay is ignored).
* Force-dependent shortening coefficient (0.16 / 0.18 / 0.157): Bhargava's published
  model and PredSim's choice. Moco's default (``use_force_dependent_shortening_prop_constant
  = false``) is Anderson's (1999) ``alpha = 0.25 F_M`` when shortening and 0 when
  lengthening; set ``force_dependent_shortening=False`` for it.
* Negative mechanical work counts (Moco's default ``include_negative_mechanical_work =
  true``), so ``W`` is negative while the fibre lengthens under active force; PredSim
  drops it (``include_negative_mechanical_work=False``, smoothed with the same tanh).
* The total power of a muscle is not allowed below zero and its total heat rate not below
  1 W/kg (Moco's ``forbid_negative_total_power`` and
  ``enforce_minimum_heat_rate_per_muscle``, both true by default). As in Moco, the returned
  shortening heat includes the power correction, but the reported components do not add
  up to the total where the minimum heat rate is active.
* No basal rate per muscle; the whole-body basal rate is :func:`basal_metabolic_rate`.

Sources
-------
* Bhargava LJ, Pandy MG, Anderson FC (2004). A phenomenological model for estimating
  metabolic energy consumption in muscle contraction. *J Biomech* 37(1):81-88.
  doi:10.1016/S0021-9290(03)00239-2 (constants 40/133, 74/111 W/kg, 0.16, 0.18, 0.157;
  length dependence of the maintenance heat; recruitment functions).
* Umberger BR, Gerritsen KGM, Martin PE (2003). A model of human muscle energy
  expenditure. *Comput Methods Biomech Biomed Engin* 6(2):99-111 (1 W/kg minimum heat
  rate, muscle density 1059.7 kg/m^3).
* Anderson FC, Pandy MG (1999). A dynamic optimization solution for vertical jumping in
  three dimensions. *Comput Methods Biomech Biomed Engin* 2(3):201-231 (decay factor 1).
* Falisse A, Serrancoli G, Dembia CL, Gillis J, Jonkers I, De Groote F (2019). Rapid
  predictive simulations with complex musculoskeletal models suggest that diverse healthy
  and pathological human gaits can emerge from similar control strategies. *J R Soc
  Interface* 16:20190402. doi:10.1098/rsif.2019.0402 (smoothed model,
  ``getMetabolicEnergySmooth2004all.m``; slow-twitch ratios ``getSlowTwitchRatios.m``).
* OpenSim 4.6 / Moco, ``Bhargava2004SmoothedMuscleMetabolics`` and
  ``Bhargava2004MuscleMetabolicsProbe`` (opensim-org/opensim-core): defaults, tanh
  conditional, muscle mass ``m = F_max / sigma * rho * l_opt``.
* Uchida TK, Hicks JL, Dembia CL, Delp SL (2016). Stretching your energetic budget: how
  tendon compliance affects the metabolic cost of running. *PLoS ONE* 11(3):e0150378
  (slow-twitch fractions compiled from Johnson MA, Polgar J, Weightman D, Appleton D
  (1973). Data on the distribution of fibre types in thirty-six human muscles. *J Neurol
  Sci* 18(1):111-129).

The code below was written from those equations; none of it is copied.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import casadi as ca
import numpy as np

from gaitsim.errors import ModelError
from gaitsim.mechanics.muscle import (
    Value,
    _is_casadi,
    compliant_tendon_state_implicit,
    rigid_tendon_state,
)
from gaitsim.model.description import TendonModel

if TYPE_CHECKING:
    from gaitsim.mechanics.model_functions import ModelFunctions

__all__ = [
    "ACTIVATION_HEAT_SLOW",
    "ACTIVATION_HEAT_FAST",
    "MAINTENANCE_HEAT_SLOW",
    "MAINTENANCE_HEAT_FAST",
    "SHORTENING_HEAT_ISOMETRIC_COEFFICIENT",
    "SHORTENING_HEAT_FORCE_COEFFICIENT",
    "LENGTHENING_HEAT_COEFFICIENT",
    "ANDERSON_SHORTENING_HEAT_COEFFICIENT",
    "MINIMUM_HEAT_RATE",
    "SPECIFIC_TENSION",
    "MUSCLE_DENSITY",
    "DEFAULT_SLOW_TWITCH_RATIO",
    "SLOW_TWITCH_RATIOS",
    "BhargavaSettings",
    "MetabolicRates",
    "bhargava2004_rates",
    "maintenance_length_dependence",
    "muscle_mass",
    "basal_metabolic_rate",
    "slow_twitch_ratio",
    "slow_twitch_ratios",
    "metabolic_rate_function",
]

# --------------------------------------------------------------------------------------
# Constants (Bhargava et al. 2004, table 1 and eq. 9; Moco's defaults)
# --------------------------------------------------------------------------------------
#: Activation heat rate of slow / fast-twitch fibres at full recruitment (W/kg).
ACTIVATION_HEAT_SLOW = 40.0
ACTIVATION_HEAT_FAST = 133.0
#: Maintenance heat rate of slow / fast-twitch fibres at full recruitment (W/kg).
MAINTENANCE_HEAT_SLOW = 74.0
MAINTENANCE_HEAT_FAST = 111.0
#: Shortening heat coefficient: ``alpha = 0.16 F_iso + 0.18 F_M`` when shortening.
SHORTENING_HEAT_ISOMETRIC_COEFFICIENT = 0.16
SHORTENING_HEAT_FORCE_COEFFICIENT = 0.18
#: Lengthening heat coefficient: ``alpha = 0.157 F_M`` when lengthening.
LENGTHENING_HEAT_COEFFICIENT = 0.157
#: Anderson (1999): ``alpha = 0.25 F_M`` when shortening, 0 when lengthening.
ANDERSON_SHORTENING_HEAT_COEFFICIENT = 0.25
#: Lower bound of a muscle's total heat rate (W/kg; Umberger et al. 2003, p. 104).
MINIMUM_HEAT_RATE = 1.0
#: Specific tension of mammalian muscle (Pa; Moco's default, used by PredSim).
SPECIFIC_TENSION = 0.25e6
#: Density of mammalian muscle (kg/m^3; Umberger et al. 2003, Moco's default).
MUSCLE_DENSITY = 1059.7
#: Slow-twitch fraction of muscles without published data (Moco, PredSim).
DEFAULT_SLOW_TWITCH_RATIO = 0.5

# Slow-twitch fractions of the gait2392 muscles (side suffix removed), as compiled by
# PredSim's getSlowTwitchRatios.m (Falisse et al. 2019) from Uchida et al. (2016) and
# Johnson et al. (1973); muscles without data there are 0.5.
_GAIT2392_RATIOS: dict[str, float] = {
    "glut_med1": 0.55,
    "glut_med2": 0.55,
    "glut_med3": 0.55,
    "glut_min1": 0.55,
    "glut_min2": 0.55,
    "glut_min3": 0.55,
    "semimem": 0.4925,
    "semiten": 0.425,
    "bifemlh": 0.5425,
    "bifemsh": 0.529,
    "sar": 0.50,
    "add_long": 0.50,
    "add_brev": 0.50,
    "add_mag1": 0.552,
    "add_mag2": 0.552,
    "add_mag3": 0.552,
    "tfl": 0.50,
    "pect": 0.50,
    "grac": 0.50,
    "glut_max1": 0.55,
    "glut_max2": 0.55,
    "glut_max3": 0.55,
    "iliacus": 0.50,
    "psoas": 0.50,
    "quad_fem": 0.50,
    "gem": 0.50,
    "peri": 0.50,
    "rect_fem": 0.3865,
    "vas_med": 0.503,
    "vas_int": 0.543,
    "vas_lat": 0.455,
    "med_gas": 0.566,
    "lat_gas": 0.507,
    "soleus": 0.803,
    "tib_post": 0.60,
    "flex_dig": 0.60,
    "flex_hal": 0.60,
    "tib_ant": 0.70,
    "per_brev": 0.60,
    "per_long": 0.60,
    "per_tert": 0.75,
    "ext_dig": 0.75,
    "ext_hal": 0.75,
    "ercspn": 0.60,
    "intobl": 0.56,
    "extobl": 0.58,
}

# The lumped muscles of gait2d (Delp 1990 / Anderson & Pandy 1999 via Moco's 2D model),
# each with its gait2392 constituents and their (max isometric force N, optimal fibre
# length m) from gait2392 (Delp et al. 1990). The lumped slow-twitch fraction is the
# constituents' fraction weighted by muscle mass, which is proportional to F_max * l_opt
# (see :func:`muscle_mass`), i.e. the slow-twitch share of the lumped muscle's volume.
_LUMPED_MUSCLES: dict[str, tuple[tuple[str, float, float], ...]] = {
    "hamstrings": (
        ("semimem", 1288.0, 0.080),
        ("semiten", 410.0, 0.201),
        ("bifemlh", 896.0, 0.109),
    ),
    "glut_max": (
        ("glut_max1", 573.0, 0.142),
        ("glut_max2", 819.0, 0.147),
        ("glut_max3", 552.0, 0.144),
    ),
    "iliopsoas": (("iliacus", 1073.0, 0.100), ("psoas", 1113.0, 0.100)),
    "vasti": (("vas_med", 1294.0, 0.089), ("vas_int", 1365.0, 0.087), ("vas_lat", 1871.0, 0.084)),
    "gastroc": (("med_gas", 1558.0, 0.060), ("lat_gas", 683.0, 0.064)),
}


def _mass_weighted_ratio(parts: tuple[tuple[str, float, float], ...]) -> float:
    weights = [force * length for _, force, length in parts]
    ratios = [_GAIT2392_RATIOS[name] for name, _, _ in parts]
    return sum(w * r for w, r in zip(weights, ratios, strict=True)) / sum(weights)


#: Slow-twitch fraction by muscle name without side suffix: the gait2392 muscles and the
#: lumped gait2d muscles (``hamstrings``, ``glut_max``, ``iliopsoas``, ``vasti``,
#: ``gastroc``; ``bifemsh``, ``rect_fem``, ``soleus`` and ``tib_ant`` are gait2392's own).
SLOW_TWITCH_RATIOS: Mapping[str, float] = {
    **_GAIT2392_RATIOS,
    **{name: _mass_weighted_ratio(parts) for name, parts in _LUMPED_MUSCLES.items()},
}

_SIDE_SUFFIXES = ("_r", "_l")


# --------------------------------------------------------------------------------------
# Settings and result
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BhargavaSettings:
    """Choices of the smoothed Bhargava et al. (2004) model (see the module docstring).

    Parameters
    ----------
    smoothing
        ``b`` of the tanh switches on fibre velocity (s/m), on the muscle's total power
        and on its total heat rate (1/W). Default 10 (Moco, PredSim). Larger is closer to
        the piecewise model and harder for the optimiser.
    length_smoothing
        ``k`` of the ramps of the maintenance heat's length dependence (per normalised
        fibre length), default 50.
    force_dependent_shortening
        Bhargava's coefficient (0.16 F_iso + 0.18 F_M shortening, 0.157 F_M lengthening)
        if true (default), Anderson's (0.25 F_M shortening, 0 lengthening) if false.
    include_negative_mechanical_work
        Count the (negative) work rate of a lengthening fibre (default true, as Moco).
    forbid_negative_total_power
        Raise the shortening heat where the muscle's total power would be negative.
    enforce_minimum_heat_rate
        Keep the total heat rate at or above 1 W/kg of muscle.
    activation_heat_decay
        Decay factor ``d`` of the activation heat (default 1, Anderson & Pandy 1999).

    Raises
    ------
    ValueError
        If a smoothing constant is not a positive finite number.
    """

    smoothing: float = 10.0
    length_smoothing: float = 50.0
    force_dependent_shortening: bool = True
    include_negative_mechanical_work: bool = True
    forbid_negative_total_power: bool = True
    enforce_minimum_heat_rate: bool = True
    activation_heat_decay: float = 1.0

    def __post_init__(self) -> None:
        for name in ("smoothing", "length_smoothing"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"BhargavaSettings.{name} must be > 0, got {value!r}")


@dataclass(frozen=True)
class MetabolicRates:
    """Metabolic power of each muscle (W), of the kind of the inputs.

    Attributes
    ----------
    activation_heat_rate, maintenance_heat_rate
        ``A`` and ``M``.
    shortening_heat_rate
        ``S`` (shortening and lengthening heat), including the increase that keeps the
        total power non-negative.
    mechanical_work_rate
        ``W = -F_CE v`` (positive when the fibre shortens under active force).
    total
        ``max(A + M + S, 1 W/kg * m) + W`` (smoothed); not the sum of the components
        where the minimum heat rate is active.
    """

    activation_heat_rate: Value
    maintenance_heat_rate: Value
    shortening_heat_rate: Value
    mechanical_work_rate: Value
    total: Value


# --------------------------------------------------------------------------------------
# Backend helpers
# --------------------------------------------------------------------------------------
def _coerce(*values: Any) -> tuple[Any, ...]:
    """NumPy arrays for numbers; ``DM`` for arrays mixed with CasADi expressions."""
    if not _is_casadi(*values):
        return tuple(np.asarray(v, dtype=float) for v in values)
    return tuple(ca.DM(v) if isinstance(v, np.ndarray | list | tuple) else v for v in values)


def _apply(function: str, x: Value) -> Value:
    """``casadi.<function>(x)`` for CasADi expressions, ``numpy.<function>(x)`` otherwise."""
    return getattr(ca if _is_casadi(x) else np, function)(x)


def _step(x: Value, steepness: float) -> Value:
    """Smooth Heaviside step ``0.5 + 0.5 tanh(b x)`` (Moco's tanh conditional)."""
    return 0.5 + 0.5 * _apply("tanh", steepness * x)


def _ramp(x: Value, steepness: float) -> Value:
    """Smooth ``max(x, 0)``: ``x * (0.5 + 0.5 tanh(k x))``, exact at ``x = 0``."""
    return x * _step(x, steepness)


# --------------------------------------------------------------------------------------
# Model equations
# --------------------------------------------------------------------------------------
def maintenance_length_dependence(
    norm_fiber_length: Value, length_smoothing: float = 50.0
) -> Value:
    """Smoothed length dependence ``L(l~)`` of the maintenance heat (Bhargava 2004, eq. 8).

    The piecewise-linear ``L`` is 0.5 for ``l~ <= 0.5``, ``l~`` up to 1, ``3 - 2 l~`` up
    to 1.5 and 0 beyond (OpenSim's curve through (0, 0.5), (0.5, 0.5), (1, 1), (1.5, 0));
    here ``L = 0.5 + r(l~ - 0.5) - 3 r(l~ - 1) + 2 r(l~ - 1.5)`` with smooth ramps ``r``.

    Parameters
    ----------
    norm_fiber_length
        Fibre length over optimal fibre length.
    length_smoothing
        Steepness ``k`` of the ramps (per normalised length).

    Returns
    -------
    Value
        ``L`` (dimensionless).
    """
    (x,) = _coerce(norm_fiber_length)
    k = length_smoothing
    return 0.5 + _ramp(x - 0.5, k) - 3.0 * _ramp(x - 1.0, k) + 2.0 * _ramp(x - 1.5, k)


def bhargava2004_rates(
    excitation: Value,
    activation: Value,
    norm_fiber_length: Value,
    fiber_velocity: Value,
    active_fiber_force: Value,
    passive_fiber_force: Value,
    active_force_length_multiplier: Value,
    max_isometric_force: Value,
    muscle_mass: Value,
    slow_twitch_ratio: Value,
    settings: BhargavaSettings | None = None,
) -> MetabolicRates:
    """Metabolic rates of muscles, smoothed Bhargava et al. (2004) model (module docstring).

    Works element-wise on floats, NumPy arrays (one entry per muscle) and CasADi
    ``SX``/``MX``/``DM`` expressions; there is no branching on input values.

    Parameters
    ----------
    excitation
        Neural excitation ``e`` in [0, 1] (drives activation and maintenance heat).
    activation
        Activation ``a`` in [0, 1] (enters ``F_iso = a f_L F_max``).
    norm_fiber_length
        Fibre length over optimal fibre length ``l~``.
    fiber_velocity
        Fibre velocity ``v`` (m/s, positive = lengthening).
    active_fiber_force
        Contractile-element force ``F_CE = a f_L f_V F_max`` (N), without passive force.
    passive_fiber_force
        Passive fibre force (N; elastic plus damping).
    active_force_length_multiplier
        ``f_L(l~)`` (dimensionless).
    max_isometric_force
        ``F_max`` (N).
    muscle_mass
        Muscle mass ``m`` (kg), e.g. from :func:`muscle_mass`.
    slow_twitch_ratio
        Fraction of slow-twitch fibres ``f_s`` in [0, 1].
    settings
        Model choices and smoothing constants (default :class:`BhargavaSettings`).

    Returns
    -------
    MetabolicRates
        Heat rates, mechanical work rate and total (W).
    """
    s = settings or BhargavaSettings()
    e, a, lm, v, f_ce, f_pas, f_l, f_max, mass, ratio = _coerce(
        excitation,
        activation,
        norm_fiber_length,
        fiber_velocity,
        active_fiber_force,
        passive_fiber_force,
        active_force_length_multiplier,
        max_isometric_force,
        muscle_mass,
        slow_twitch_ratio,
    )
    b = s.smoothing
    slow = ratio * _apply("sin", 0.5 * math.pi * e)
    fast = (1.0 - ratio) * (1.0 - _apply("cos", 0.5 * math.pi * e))

    activation_heat = (
        mass * s.activation_heat_decay * (ACTIVATION_HEAT_SLOW * slow + ACTIVATION_HEAT_FAST * fast)
    )
    length_factor = maintenance_length_dependence(lm, s.length_smoothing)
    maintenance_heat = (
        mass * length_factor * (MAINTENANCE_HEAT_SLOW * slow + MAINTENANCE_HEAT_FAST * fast)
    )

    lengthening = _step(v, b)  # 1 when lengthening, 0 when shortening
    fiber_force = f_ce + f_pas
    if s.force_dependent_shortening:
        isometric_force = a * f_l * f_max
        alpha_short = (
            SHORTENING_HEAT_ISOMETRIC_COEFFICIENT * isometric_force
            + SHORTENING_HEAT_FORCE_COEFFICIENT * fiber_force
        )
        alpha_long = LENGTHENING_HEAT_COEFFICIENT * fiber_force
    else:
        alpha_short = ANDERSON_SHORTENING_HEAT_COEFFICIENT * fiber_force
        alpha_long = 0.0 * fiber_force
    alpha = alpha_short + (alpha_long - alpha_short) * lengthening
    shortening_heat = -alpha * v

    work = -f_ce * v
    if not s.include_negative_mechanical_work:
        work = work * (1.0 - lengthening)

    if s.forbid_negative_total_power:
        power = activation_heat + maintenance_heat + shortening_heat + work
        shortening_heat = shortening_heat - power * _step(-power, b)

    heat = activation_heat + maintenance_heat + shortening_heat
    if s.enforce_minimum_heat_rate:
        floor = MINIMUM_HEAT_RATE * mass
        heat = heat + (floor - heat) * _step(floor - heat, b)

    return MetabolicRates(
        activation_heat_rate=activation_heat,
        maintenance_heat_rate=maintenance_heat,
        shortening_heat_rate=shortening_heat,
        mechanical_work_rate=work,
        total=heat + work,
    )


def muscle_mass(
    max_isometric_force: Value,
    optimal_fiber_length: Value,
    specific_tension: float = SPECIFIC_TENSION,
    density: float = MUSCLE_DENSITY,
) -> Value:
    """Muscle mass from its size: ``m = F_max / sigma * rho * l_opt`` (kg).

    The physiological cross-sectional area is ``F_max / sigma``; times the optimal fibre
    length it is the fibre volume (Umberger et al. 2003; Moco's
    ``Bhargava2004SmoothedMuscleMetabolics_MuscleParameters::setMuscleMass``).

    Parameters
    ----------
    max_isometric_force
        ``F_max`` (N).
    optimal_fiber_length
        ``l_opt`` (m).
    specific_tension
        ``sigma`` (Pa), default 0.25 MPa.
    density
        ``rho`` (kg/m^3), default 1059.7.

    Returns
    -------
    Value
        Mass (kg).
    """
    f_max, l_opt = _coerce(max_isometric_force, optimal_fiber_length)
    return f_max / specific_tension * density * l_opt


def basal_metabolic_rate(
    body_mass: float, coefficient: float = 1.2, exponent: float = 1.0
) -> float:
    """Whole-body basal metabolic rate ``coefficient * body_mass ** exponent`` (W).

    Defaults are Moco's ``basal_coefficient`` (1.2 W/kg) and ``basal_exponent`` (1).

    Parameters
    ----------
    body_mass
        Mass of the whole body (kg).
    coefficient, exponent
        Of the power law.

    Returns
    -------
    float
        Basal rate (W).
    """
    return coefficient * body_mass**exponent


def _strip_side(name: str) -> str:
    for suffix in _SIDE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def slow_twitch_ratio(muscle_name: str) -> float:
    """Slow-twitch fraction of a muscle by name (side suffix ``_r``/``_l`` ignored).

    Parameters
    ----------
    muscle_name
        E.g. ``"soleus_r"`` or ``"hamstrings_l"``.

    Returns
    -------
    float
        From :data:`SLOW_TWITCH_RATIOS`, or :data:`DEFAULT_SLOW_TWITCH_RATIO` (0.5) if the
        muscle is not listed.
    """
    return SLOW_TWITCH_RATIOS.get(_strip_side(muscle_name), DEFAULT_SLOW_TWITCH_RATIO)


def slow_twitch_ratios(muscle_names: Iterable[str]) -> np.ndarray:
    """:func:`slow_twitch_ratio` of each name, as an array in the given order."""
    return np.array([slow_twitch_ratio(name) for name in muscle_names], dtype=float)


# --------------------------------------------------------------------------------------
# Model-level CasADi function
# --------------------------------------------------------------------------------------
_OUTPUT_NAMES = (
    "activation_heat_rate",
    "maintenance_heat_rate",
    "shortening_heat_rate",
    "mechanical_work_rate",
    "total",
)


def metabolic_rate_function(
    functions: ModelFunctions,
    slow_twitch: np.ndarray | None = None,
    settings: BhargavaSettings | None = None,
) -> ca.Function:
    """``(q, qd, e, a, f_t, df_t) -> (activation_heat_rate, ..., total, total_sum)``.

    Per-muscle rates (n_m each, ``model.muscle_names`` order, W) of
    :func:`bhargava2004_rates`, and ``total_sum`` (1 x 1), the sum of the muscles' totals
    (no basal rate). Muscle masses from :func:`muscle_mass`. The fibre state of a
    rigid-tendon muscle comes from :func:`~gaitsim.mechanics.muscle.rigid_tendon_state`
    of the paths' ``muscle_tendon_lengths`` and ``lengthening_velocities``; that of a
    compliant-tendon muscle from
    :func:`~gaitsim.mechanics.muscle.compliant_tendon_state_implicit` with its normalised
    tendon force ``f_t`` and force derivative ``df_t`` (De Groote et al. 2016's states and
    controls; entries of rigid-tendon muscles are ignored). For a compliant muscle the
    result is that of the fibre state consistent with ``f_t`` only where the
    fibre-tendon equilibrium holds, as it does along a solved trajectory.

    Parameters
    ----------
    functions
        The model's functions (:func:`gaitsim.mechanics.model_functions.build`).
    slow_twitch
        Slow-twitch fraction per muscle; default :func:`slow_twitch_ratios` of the names.
    settings
        Model choices (default :class:`BhargavaSettings`).

    Returns
    -------
    casadi.Function
        Inputs ``q``, ``qd`` (n_q), ``e``, ``a``, ``f_t``, ``df_t`` (n_m).

    Raises
    ------
    ModelError
        If ``slow_twitch`` has the wrong length or values outside [0, 1].
    """
    from gaitsim.mechanics.model_functions import muscle_parameters

    model = functions.model
    muscles = model.muscles
    n = len(muscles)
    ratios = slow_twitch_ratios(model.muscle_names) if slow_twitch is None else slow_twitch
    ratios = np.asarray(ratios, dtype=float).reshape(-1)
    if ratios.shape != (n,) or np.any((ratios < 0.0) | (ratios > 1.0)):
        raise ModelError("slow_twitch", f"needs {n} values in [0, 1], got {ratios!r}")

    n_q = functions.n_q
    q, qd = ca.SX.sym("q", n_q), ca.SX.sym("qd", n_q)
    exc, act = ca.SX.sym("e", n), ca.SX.sym("a", n)
    ft, dft = ca.SX.sym("f_t", n), ca.SX.sym("df_t", n)
    lmt = functions.muscle_tendon_lengths(q)
    vmt = functions.lengthening_velocities(q, qd)
    columns: list[list[Any]] = [[] for _ in _OUTPUT_NAMES]
    for i, m in enumerate(muscles):
        p = muscle_parameters(m)
        if m.tendon is TendonModel.RIGID:
            state = rigid_tendon_state(p, lmt[i], vmt[i], act[i])
        else:
            state = compliant_tendon_state_implicit(p, lmt[i], vmt[i], act[i], ft[i], dft[i])
        rates = bhargava2004_rates(
            exc[i],
            act[i],
            state.norm_fiber_length,
            state.fiber_velocity,
            state.active_fiber_force,
            state.passive_fiber_force,
            state.active_force_length_multiplier,
            p.max_isometric_force,
            muscle_mass(p.max_isometric_force, p.optimal_fiber_length),
            float(ratios[i]),
            settings,
        )
        for column, name in zip(columns, _OUTPUT_NAMES, strict=True):
            column.append(getattr(rates, name))
    outputs = [ca.vertcat(*c) if c else ca.SX(0, 1) for c in columns]
    total_sum = ca.sum1(outputs[-1]) if n else ca.SX(1, 1)
    return ca.Function(
        "metabolic_rate",
        [q, qd, exc, act, ft, dft],
        [*outputs, total_sum],
        ["q", "qd", "e", "a", "f_t", "df_t"],
        [*_OUTPUT_NAMES, "total_sum"],
    )
