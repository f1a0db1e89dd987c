"""Anatomical signs and smoothness of the built-in models' moment arms.

Each sagittal coordinate is swept over its whole range in 1-degree steps with every other
coordinate at its default, with the models built as users build them (default smoothing
of conditional path points). Sign convention (OpenSim's): hip flexion positive = flexion;
knee angle negative = flexion, so knee flexors have negative moment arms about it; ankle
angle positive = dorsiflexion.

* Signs are asserted strictly (threshold 0, no tolerance): every listed muscle keeps its
  anatomical action over the whole range, so no margin is needed (the smallest
  magnitudes, about 2 mm, are at the range ends).
* No spikes: ``|r| < 0.1 m`` for every muscle about every coordinate at every pose. The
  largest moment arms of the leg are about 60 mm (hamstrings at the hip) to 90 mm
  (tensor fasciae latae and sartorius at full hip flexion in gait3d); 100 mm is
  anatomically impossible and only a smoothed jump of the path length can produce it.
* Continuity: between 1-degree steps no moment arm about a swept coordinate changes by
  5 mm or more. Smooth moment arms change by at most about 2.4 mm per degree (vastus
  lateralis near full extension); a conditional path point whose switch makes the length
  jump by ``dL`` produces, once smoothed over ``eps = 0.005 rad``, a bump of about
  ``dL / (4 eps)`` (0.36 mm -> 18 mm, the gait2392 medial gastrocnemius before its fix),
  so 5 mm separates real variation from such artefacts.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

import gaitsim

SPIKE = 0.1  # m
MAX_STEP = 0.005  # m per 1-degree step

# coordinate -> (muscles with positive moment arms, muscles with negative moment arms)
GAIT2D = {
    "hip_flexion": ({"iliopsoas", "rect_fem"}, {"hamstrings", "glut_max"}),
    "knee_angle": ({"vasti", "rect_fem"}, {"hamstrings", "bifemsh", "gastroc"}),
    "ankle_angle": ({"tib_ant"}, {"gastroc", "soleus"}),
}
GAIT3D = {
    "hip_flexion": (
        {"psoas", "iliacus", "rect_fem", "sar", "tfl"},
        {"glut_max1", "glut_max2", "glut_max3", "semimem", "semiten", "bifemlh"},
    ),
    "knee_angle": (
        {"rect_fem", "vas_med", "vas_int", "vas_lat"},
        {"semimem", "semiten", "bifemlh", "bifemsh", "med_gas", "lat_gas", "sar", "grac"},
    ),
    "ankle_angle": (
        {"tib_ant", "ext_dig", "ext_hal", "per_tert"},
        {
            "med_gas",
            "lat_gas",
            "soleus",
            "tib_post",
            "per_long",
            "per_brev",
            "flex_dig",
            "flex_hal",
        },
    ),
}
EXPECTED = {"gait2d": GAIT2D, "gait3d": GAIT3D}
CASES = [
    (model, f"{coordinate}_{side}")
    for model, table in EXPECTED.items()
    for coordinate in table
    for side in ("r", "l")
]


@cache
def _sweep(model_name: str, coordinate: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Angles (rad) and moment arms (n_angles x n_muscles x n_coords) of a 1-degree sweep."""
    model = gaitsim.load_builtin(model_name)
    functions = _functions(model_name)
    lo, hi = model.coordinate(coordinate).range
    angles = np.linspace(lo, hi, round(math.degrees(hi - lo)) + 1)
    k = model.coordinate_names.index(coordinate)
    q = np.tile([c.default for c in model.coordinates], (len(angles), 1))
    q[:, k] = angles
    r = np.stack([np.asarray(functions.moment_arms(row)) for row in q])
    return angles, r, model.muscle_names


@cache
def _functions(model_name: str) -> gaitsim.ModelFunctions:
    return gaitsim.build(gaitsim.load_builtin(model_name))


@pytest.mark.parametrize(("model_name", "coordinate"), CASES)
def test_moment_arm_signs(model_name, coordinate):
    angles, r, muscles = _sweep(model_name, coordinate)
    k = gaitsim.load_builtin(model_name).coordinate_names.index(coordinate)
    side = coordinate[-1]
    flexors, extensors = EXPECTED[model_name][coordinate[:-2]]
    wrong = []
    for names, sign in ((flexors, 1.0), (extensors, -1.0)):
        for name in sorted(names):
            arm = r[:, muscles.index(f"{name}_{side}"), k]
            bad = angles[sign * arm <= 0.0]
            if bad.size:
                worst = float(np.max(-sign * arm))
                wrong.append(
                    f"{name}_{side}: {1000 * worst:+.2f} mm at "
                    f"{np.degrees(bad.min()):.0f}..{np.degrees(bad.max()):.0f} deg"
                )
    assert not wrong, f"{model_name} {coordinate}: wrong sign: " + "; ".join(wrong)


@pytest.mark.parametrize(("model_name", "coordinate"), CASES)
def test_no_moment_arm_spikes(model_name, coordinate):
    angles, r, muscles = _sweep(model_name, coordinate)
    names = gaitsim.load_builtin(model_name).coordinate_names
    big = np.argwhere(np.abs(r) >= SPIKE)
    assert big.size == 0, [
        f"{muscles[m]} about {names[c]}: {1000 * r[a, m, c]:.0f} mm at "
        f"{np.degrees(angles[a]):.0f} deg of {coordinate}"
        for a, m, c in big[:5]
    ]


@pytest.mark.parametrize(("model_name", "coordinate"), CASES)
def test_moment_arms_vary_continuously(model_name, coordinate):
    angles, r, muscles = _sweep(model_name, coordinate)
    k = gaitsim.load_builtin(model_name).coordinate_names.index(coordinate)
    steps = np.abs(np.diff(r[:, :, k], axis=0))
    worst = steps.max(axis=0)
    jumpy = [f"{muscles[i]}: {1000 * worst[i]:.1f} mm" for i in np.flatnonzero(worst >= MAX_STEP)]
    assert not jumpy, f"{model_name} {coordinate}: moment arm jumps per degree: {jumpy}"


def test_sweeps_cover_the_ranges_the_audit_is_about():
    # The signs above hold over these published or documented ranges (degrees).
    ranges = {
        ("gait2d", "hip_flexion_r"): (-30, 120),
        ("gait2d", "knee_angle_r"): (-120, 10),
        ("gait2d", "ankle_angle_r"): (-40, 30),
        ("gait3d", "hip_flexion_r"): (-30, 120),
        ("gait3d", "knee_angle_r"): (-115, 10),
        ("gait3d", "ankle_angle_r"): (-40, 30),
    }
    for (model_name, coordinate), expected in ranges.items():
        lo, hi = gaitsim.load_builtin(model_name).coordinate(coordinate).range
        assert (round(math.degrees(lo), 6), round(math.degrees(hi), 6)) == expected
