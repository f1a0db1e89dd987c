"""Clinical kinematic variables from model coordinates, with clinical signs.

Clinical gait reports (and the gait profile score, Baker et al. 2009) use nine
kinematic variables per side, signed as in Plug-in Gait / pyCGM2 ("conventional gait
model"): flexion, dorsiflexion, adduction, internal rotation, anterior pelvic tilt,
pelvis up and forward positive. The OpenSim models (gait2392 = gaitsim's ``gait3d``,
and ``gait2d``) sign some coordinates the other way; this module converts.

Mapping (``{s}`` is ``r`` or ``l``; sign = clinical / model, by side):

====================  ==================  ======  ======  =================================
clinical variable     model coordinate    right   left    positive means
====================  ==================  ======  ======  =================================
pelvic_tilt           pelvis_tilt         -1      -1      anterior tilt (front down)
pelvic_obliquity      pelvis_list         -1      +1      pelvis on that side up
pelvic_rotation       pelvis_rotation     +1      -1      pelvis on that side forward
hip_flexion           hip_flexion_{s}     +1      +1      flexion
hip_adduction         hip_adduction_{s}   +1      +1      adduction
hip_rotation          hip_rotation_{s}    +1      +1      internal rotation
knee_flexion          knee_angle_{s}      -1      -1      flexion
ankle_dorsiflexion    ankle_angle_{s}     +1      +1      dorsiflexion
foot_progression      (calcn orientation) see below       toes in (internal)
====================  ==================  ======  ======  =================================

Why these signs (checked numerically in the tests against anatomy, with the model's
body poses): a positive ``pelvis_tilt`` is a right-handed rotation about the ground's
+z (to the right), which lifts the front of the pelvis (posterior tilt); a positive
``pelvis_list`` about +x (forward) lowers the right side; a positive ``pelvis_rotation``
about +y (up) brings the right side forward; OpenSim's ``knee_angle`` is negative in
flexion; the left hip's adduction and rotation axes are mirrored in gait2392 so that
adduction and internal rotation are positive on both sides.

Foot progression is the angle, in the horizontal plane, between the foot's long axis
(the ``calcn`` body's x axis, heel to toes) and the walking direction, toes-in
(internal) positive: with ``a`` the foot axis, ``d`` the walking direction and
``right = d x up``, it is ``atan2(-a.right, a.d)`` for the right foot and
``atan2(a.right, a.d)`` for the left. It needs the body poses (a
:class:`~gaitsim.mechanics.model_functions.ModelFunctions`), and is given only for
models with a ``pelvis_rotation`` coordinate: in a planar model the foot cannot turn and
the angle would be zero by construction.

The pelvic angles and the foot progression of Plug-in Gait are measured relative to
the direction of progression; the model's pelvis angles are relative to the ground, so
the subject should walk along the ground's +x axis (as OpenSim's models do). The
model's segment frames are not Plug-in Gait's (the model pelvis is level in upright
standing, Plug-in Gait's pelvis is tilted by the ASIS-PSIS line, typically by about
10 degrees), so expect constant offsets between the two, which enter the gait variable
scores.

Everything in radians inside; :func:`in_degrees` is for the user-facing edges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from gaitsim.mechanics.model_functions import ModelFunctions

__all__ = [
    "CLINICAL_VARIABLES",
    "GPS_VARIABLES",
    "OPENSIM_MAPPING",
    "ClinicalVariable",
    "CoordinateMapping",
    "clinical_kinematics",
    "foot_progression",
    "horizontal_unit",
    "in_degrees",
]


@dataclass(frozen=True)
class ClinicalVariable:
    """A clinical gait variable.

    Attributes
    ----------
    name
        Identifier, e.g. ``"knee_flexion"`` (per side; the side is not part of it).
    label
        For reports, e.g. ``"Knee flexion/extension"``.
    positive
        What a positive value means, e.g. ``"flexion"``.
    unit
        SI unit of its values (``"rad"``, ``"N m/kg"``, ``"W/kg"``).
    """

    name: str
    label: str
    positive: str
    unit: str = "rad"


_VARIABLES = (
    ClinicalVariable("pelvic_tilt", "Pelvic tilt", "anterior tilt"),
    ClinicalVariable("pelvic_obliquity", "Pelvic obliquity", "up (on this side)"),
    ClinicalVariable("pelvic_rotation", "Pelvic rotation", "forward (on this side)"),
    ClinicalVariable("hip_flexion", "Hip flexion/extension", "flexion"),
    ClinicalVariable("hip_adduction", "Hip adduction/abduction", "adduction"),
    ClinicalVariable("hip_rotation", "Hip rotation", "internal rotation"),
    ClinicalVariable("knee_flexion", "Knee flexion/extension", "flexion"),
    ClinicalVariable("knee_adduction", "Knee adduction/abduction (varus/valgus)", "varus"),
    ClinicalVariable("knee_rotation", "Knee rotation", "internal rotation"),
    ClinicalVariable("ankle_dorsiflexion", "Ankle dorsiflexion/plantarflexion", "dorsiflexion"),
    ClinicalVariable("foot_progression", "Foot progression", "internal (toes in)"),
    ClinicalVariable("hip_extension_moment", "Hip moment (sagittal)", "extensor", "N m/kg"),
    ClinicalVariable("hip_abduction_moment", "Hip moment (frontal)", "abductor", "N m/kg"),
    ClinicalVariable("knee_extension_moment", "Knee moment (sagittal)", "extensor", "N m/kg"),
    ClinicalVariable("knee_abduction_moment", "Knee moment (frontal)", "abductor", "N m/kg"),
    ClinicalVariable(
        "ankle_plantarflexion_moment", "Ankle moment (sagittal)", "plantarflexor", "N m/kg"
    ),
    ClinicalVariable("hip_power", "Hip power", "generation", "W/kg"),
    ClinicalVariable("knee_power", "Knee power", "generation", "W/kg"),
    ClinicalVariable("ankle_power", "Ankle power", "generation", "W/kg"),
)
#: The clinical variables gaitsim knows, by name.
CLINICAL_VARIABLES: Mapping[str, ClinicalVariable] = {v.name: v for v in _VARIABLES}

#: The nine kinematic variables of the gait profile score, in the order of Baker et al.'s
#: (2009) movement analysis profile.
GPS_VARIABLES = (
    "pelvic_tilt",
    "hip_flexion",
    "knee_flexion",
    "ankle_dorsiflexion",
    "pelvic_obliquity",
    "hip_adduction",
    "pelvic_rotation",
    "hip_rotation",
    "foot_progression",
)


@dataclass(frozen=True)
class CoordinateMapping:
    """How one clinical variable follows from one model coordinate.

    Attributes
    ----------
    variable
        Clinical variable name.
    coordinate
        Model coordinate name, with ``{side}`` standing for ``r``/``l`` where it is
        per side (``"knee_angle_{side}"``).
    sign_right, sign_left
        Clinical value = sign x coordinate, for the right and left side.
    """

    variable: str
    coordinate: str
    sign_right: float
    sign_left: float

    def sign(self, side: str) -> float:
        """The sign for ``side`` (``"r"`` or ``"l"``)."""
        if side not in ("r", "l"):
            raise ValueError(f"side must be 'r' or 'l', got {side!r}")
        return self.sign_right if side == "r" else self.sign_left

    def coordinate_of(self, side: str) -> str:
        """The model coordinate's name for ``side``."""
        return self.coordinate.format(side=side)


#: Clinical variables from the coordinates of OpenSim's gait models (gait2392 and
#: gait10dof18musc, i.e. gaitsim's ``gait3d`` and ``gait2d``). See the module docstring.
OPENSIM_MAPPING: tuple[CoordinateMapping, ...] = (
    CoordinateMapping("pelvic_tilt", "pelvis_tilt", -1.0, -1.0),
    CoordinateMapping("pelvic_obliquity", "pelvis_list", -1.0, 1.0),
    CoordinateMapping("pelvic_rotation", "pelvis_rotation", 1.0, -1.0),
    CoordinateMapping("hip_flexion", "hip_flexion_{side}", 1.0, 1.0),
    CoordinateMapping("hip_adduction", "hip_adduction_{side}", 1.0, 1.0),
    CoordinateMapping("hip_rotation", "hip_rotation_{side}", 1.0, 1.0),
    CoordinateMapping("knee_flexion", "knee_angle_{side}", -1.0, -1.0),
    CoordinateMapping("ankle_dorsiflexion", "ankle_angle_{side}", 1.0, 1.0),
)


def _check_side(side: str) -> None:
    if side not in ("r", "l"):
        raise ValueError(f"side must be 'r' or 'l', got {side!r}")


def horizontal_unit(direction: ArrayLike) -> np.ndarray:
    """The unit vector of ``direction``'s horizontal part (ground frame, +y up).

    Raises
    ------
    ValueError
        If ``direction`` is not 3 finite numbers or has no horizontal part.
    """
    d = np.asarray(direction, dtype=np.float64).reshape(-1)
    if d.shape != (3,) or not np.all(np.isfinite(d)):
        raise ValueError(f"direction must be 3 finite numbers, got {direction!r}")
    d = np.array([d[0], 0.0, d[2]])
    norm = float(np.linalg.norm(d))
    if norm == 0.0:
        raise ValueError(f"direction {direction!r} has no horizontal component")
    return d / norm


def foot_progression(
    rotations: ArrayLike, side: str, direction: ArrayLike = (1.0, 0.0, 0.0)
) -> np.ndarray:
    """Foot progression angle (rad, toes-in positive) from the foot's orientation.

    Parameters
    ----------
    rotations
        Orientation of the foot (``calcn``) body in ground over time, ``(n, 3, 3)``
        (columns: the body's axes in ground; the x axis runs heel to toes).
    side
        ``"r"`` or ``"l"``.
    direction
        Walking direction in ground (its horizontal part is used).

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``.
    """
    _check_side(side)
    r = np.asarray(rotations, dtype=np.float64)
    if r.ndim != 3 or r.shape[1:] != (3, 3):
        raise ValueError(f"rotations must have shape (n, 3, 3), got {r.shape}")
    d = horizontal_unit(direction)
    right = np.cross(d, np.array([0.0, 1.0, 0.0]))
    axis = r[:, :, 0]
    forward = axis @ d
    lateral = axis @ right
    sign = -1.0 if side == "r" else 1.0
    return np.arctan2(sign * lateral, forward)


def clinical_kinematics(
    coordinate_names: Sequence[str],
    q: ArrayLike,
    side: str,
    *,
    functions: ModelFunctions | None = None,
    direction: ArrayLike = (1.0, 0.0, 0.0),
) -> dict[str, np.ndarray]:
    """The clinical kinematic variables the model's coordinates give, for one side.

    Parameters
    ----------
    coordinate_names
        The model's coordinate names (columns of ``q``).
    q
        Coordinates over time, ``(n, n_q)`` (rad; model signs).
    side
        ``"r"`` or ``"l"``.
    functions
        The model's functions; needed for ``foot_progression`` (computed only for
        models with a ``pelvis_rotation`` coordinate).
    direction
        Walking direction, for foot progression.

    Returns
    -------
    dict
        By clinical variable name (see :data:`OPENSIM_MAPPING`), ``(n,)`` arrays in
        radians with clinical signs; variables whose coordinate the model lacks are
        absent (e.g. ``gait2d`` gives tilt, hip and knee flexion, dorsiflexion).

    Raises
    ------
    ValueError
        If ``q`` does not have one column per coordinate name, or ``functions`` belongs
        to another model.
    """
    _check_side(side)
    names = tuple(coordinate_names)
    values = np.asarray(q, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(names):
        raise ValueError(f"q must have shape (n, {len(names)}), got {values.shape}")
    out: dict[str, np.ndarray] = {}
    for mapping in OPENSIM_MAPPING:
        coordinate = mapping.coordinate_of(side)
        if coordinate in names:
            out[mapping.variable] = mapping.sign(side) * values[:, names.index(coordinate)]
    if functions is not None and "pelvis_rotation" in names:
        model = functions.model
        if tuple(model.coordinate_names) != names:
            raise ValueError(f"functions belong to model {model.name!r} with other coordinates")
        bodies = [b.name for b in model.bodies]
        foot = f"calcn_{side}"
        if foot in bodies:
            n = values.shape[0]
            rotations = np.asarray(functions.body_poses.map(n)(values.T)[1])  # 3 x 3 n_b n
            k = bodies.index(foot)
            blocks = rotations.reshape(3, n, len(bodies), 3)[:, :, k, :]  # (3, n, 3)
            out["foot_progression"] = foot_progression(blocks.transpose(1, 0, 2), side, direction)
    return out


def in_degrees(values: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
    """The same angles in degrees (for reports and figures)."""
    return {name: np.degrees(np.asarray(v, dtype=np.float64)) for name, v in values.items()}
