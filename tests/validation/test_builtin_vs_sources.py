"""The built-in models against the published model files they take their figures from.

``gait2d`` takes its figures from Moco's ``2D_gait.osim`` and ``gait3d`` from
``gait2392_millard2012muscle.osim``; both are checked against OpenSim on those files in
the same way as the imported models (``test_mechanics_vs_opensim.py``), at 200 random
poses inside the built-in model's ranges (fixed seed):

* body kinematics and inverse dynamics must agree exactly (the skeletons are the same);
* muscle-tendon lengths and moment arms within 0.1 mm for every muscle whose path the
  built-in model keeps as published;
* the muscles whose paths were changed on purpose (wrap cylinders replacing conditional
  via points so that moment-arm signs stay anatomical; see each model's description and
  ``tools/make_builtin_models.py``) are listed here by name, and must still agree within
  0.1 mm over the walking range where the published paths are right (vasti and rectus
  femoris), or are excluded with the reason.
"""

from __future__ import annotations

import numpy as np
import pytest

import gaitsim
from gaitsim.mechanics.model_functions import BuildOptions

from .oracle import SHARED_DATA, require_opensim, run_oracle

pytestmark = pytest.mark.opensim

SEED = 20261122
N = 200
LENGTH_TOL = 1e-4  # m, the 0.1 mm
ID_REL, ID_ABS = 1e-6, 1e-4  # the inverse-dynamics tolerances

SOURCES = {
    "gait2d": "opensim/moco_2d_walking/2D_gait.osim",
    "gait3d": "opensim/gait2392/gait2392_millard2012muscle.osim",
}
# Paths changed on purpose, with the reason (checked in test_anatomical_moment_arms.py).
CHANGED = {
    "gait2d": {
        "iliopsoas": "pelvic-brim wrap keeps it a hip flexor above 99 deg",
        "gastroc": "Rajagopal origin + condyle wrap keep it a knee flexor in deep flexion",
        "vasti": "distal-femur wrap removes a 3.4 mm length jump at -81 deg",
        "rect_fem": "distal-femur wrap removes a 2.5 mm length jump at -84 deg",
    },
    "gait3d": {
        "psoas": "pelvic-brim wrap keeps it a hip flexor above 99 deg",
        "iliacus": "pelvic-brim wrap keeps it a hip flexor above 99 deg",
        "glut_max1": "Rajagopal wrap keeps it a hip extensor at 120 deg",
        "glut_max2": "Rajagopal wrap keeps it a hip extensor at 120 deg",
        "glut_max3": "Rajagopal wrap keeps it a hip extensor at 120 deg",
        "sar": "condyle wrap keeps it a knee flexor near full extension",
        "med_gas": "conditional point moved 3.2 mm onto its chord (removes a length jump)",
        "lat_gas": "conditional point moved 0.8 mm onto its chord (removes a length jump)",
    },
}
# Muscles whose changed path must equal the published one over the walking range.
WALKING_SAME = {"gait2d": ("vasti", "rect_fem"), "gait3d": ()}
WALKING = {"hip_flexion": (-20.0, 40.0), "knee_angle": (-70.0, 0.0), "ankle_angle": (-20.0, 15.0)}


def _base(name: str) -> str:
    return name.rsplit("_", 1)[0]


@pytest.fixture(scope="module", params=list(SOURCES))
def pair(request: pytest.FixtureRequest) -> dict:
    key = request.param
    source = SHARED_DATA / SOURCES[key]
    if not source.exists():
        pytest.skip(f"{source} not found (../shared/data absent)")
    require_opensim()
    model = gaitsim.load_builtin(key)
    f = gaitsim.build(model, BuildOptions(conditional_smoothing=0))
    rng = np.random.default_rng(SEED)
    coords = model.coordinates
    lo = np.array([c.range[0] for c in coords])
    hi = np.array([c.range[1] for c in coords])
    q = lo + (hi - lo) * rng.random((N, len(coords)))
    walking = q.copy()
    for i, c in enumerate(coords):
        base = _base(c.name)
        if base in WALKING:
            a, b = np.radians(WALKING[base])
            walking[:, i] = a + (b - a) * rng.random(N)
        if c.locked:
            q[:, i] = walking[:, i] = c.default
    qd = rng.uniform(-3.0, 3.0, q.shape)
    qdd = rng.uniform(-20.0, 20.0, q.shape)
    res = run_oracle(
        source,
        [
            {"id": "geo", "type": "muscle_geometry", "q": q},
            {"id": "walk", "type": "muscle_geometry", "q": walking},
            {"id": "kin", "type": "kinematics", "q": q},
            {"id": "id", "type": "inverse_dynamics", "q": q, "qdot": qd, "qddot": qdd},
        ],
    )
    os_coords = [str(c) for c in res["coordinate_names"]]
    assert sorted(os_coords) == sorted(model.coordinate_names)
    os_muscles = [str(m) for m in res["muscle_names"]]
    assert sorted(os_muscles) == sorted(model.muscle_names)
    return {
        "key": key,
        "model": model,
        "f": f,
        "q": q,
        "qd": qd,
        "qdd": qdd,
        "walking": walking,
        "res": res,
        "cperm": [os_coords.index(n) for n in model.coordinate_names],
        "mperm": [os_muscles.index(n) for n in model.muscle_names],
    }


def _geometry(pair: dict, poses: np.ndarray, query: str) -> tuple[np.ndarray, ...]:
    f, n = pair["f"], poses.shape[0]
    lengths = np.stack([np.asarray(f.muscle_tendon_lengths(p)).ravel() for p in poses])
    arms = np.stack([np.asarray(f.moment_arms(p)) for p in poses])
    ref = pair["res"][query]
    ref_len = np.asarray(ref["length"])[:, pair["mperm"]]
    ref_arm = np.asarray(ref["moment_arm"])[:, pair["mperm"]][:, :, pair["cperm"]]
    locked = [i for i, c in enumerate(pair["model"].coordinates) if c.locked]
    arms[:, :, locked] = 0.0
    assert lengths.shape[0] == n
    return lengths, arms, ref_len, ref_arm


def test_unchanged_muscles_match_the_source(pair: dict) -> None:
    model = pair["model"]
    changed = CHANGED[pair["key"]]
    keep = [j for j, m in enumerate(model.muscle_names) if _base(m) not in changed]
    assert len(keep) >= len(model.muscles) // 2, "most muscles keep their published paths"
    lengths, arms, ref_len, ref_arm = _geometry(pair, pair["q"], "geo")
    err_len = np.abs(lengths - ref_len)[:, keep].max()
    err_arm = np.abs(arms - ref_arm)[:, keep].max()
    assert err_len < LENGTH_TOL, f"length error {err_len * 1000:.4f} mm"
    assert err_arm < LENGTH_TOL, f"moment-arm error {err_arm * 1000:.4f} mm"


def test_changed_paths_keep_the_published_walking_range(pair: dict) -> None:
    same = WALKING_SAME[pair["key"]]
    if not same:
        pytest.skip(f"no changed muscle of {pair['key']} is required to equal its source")
    model = pair["model"]
    cols = [j for j, m in enumerate(model.muscle_names) if _base(m) in same]
    lengths, arms, ref_len, ref_arm = _geometry(pair, pair["walking"], "walk")
    assert np.abs(lengths - ref_len)[:, cols].max() < LENGTH_TOL
    assert np.abs(arms - ref_arm)[:, cols].max() < LENGTH_TOL


def test_skeleton_matches_the_source(pair: dict) -> None:
    model, f = pair["model"], pair["f"]
    n = pair["q"].shape[0]
    bf = np.zeros((6, len(model.bodies) * n))
    tau = np.asarray(f.inverse_dynamics.map(n)(pair["q"].T, pair["qd"].T, pair["qdd"].T, bf)).T
    ref = np.asarray(pair["res"]["id"]["generalized_forces"])[:, pair["cperm"]]
    unlocked = [i for i, c in enumerate(model.coordinates) if not c.locked]
    diff = np.abs(tau - ref)[:, unlocked]
    assert (diff <= np.maximum(ID_REL * np.abs(ref[:, unlocked]), ID_ABS)).all()
    com = np.asarray(f.centre_of_mass.map(n)(pair["q"].T)).T
    # 1e-9 m: the same exact kinematics on both sides.
    np.testing.assert_allclose(com, np.asarray(pair["res"]["kin"]["com_position"]), atol=1e-9)
