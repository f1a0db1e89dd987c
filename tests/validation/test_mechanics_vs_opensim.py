"""gaitsim's mechanics against OpenSim 4.6 on the same imported models.

For each reference model, at 200 random poses inside the coordinate ranges (fixed seed),
OpenSim (run in a separate process, see ``opensim_oracle.py``) and gaitsim must agree on:

* muscle-tendon lengths and moment arms within 0.1 mm (the issue's tolerance; both sides
  compute the same polyline, so any real disagreement is a geometry error of millimetres);
* inverse-dynamics generalised forces for random speeds and accelerations within 1e-6
  relative or 1e-4 N m absolute (both are exact rigid-body dynamics in double precision);
* contact sphere forces (2D_gait) and muscle forces for given activation and fibre state
  within 0.1 %.

gaitsim is built with ``conditional_smoothing=0`` (OpenSim's hard switch of conditional
path points) for these comparisons; the smooth default is checked separately away from
the switch points.
"""

from __future__ import annotations

import numpy as np
import pytest

import gaitsim
from gaitsim.io.osim import read_osim
from gaitsim.mechanics.model_functions import BuildOptions, ModelFunctions

from .oracle import SHARED_DATA, require_opensim, run_oracle

pytestmark = pytest.mark.opensim

SEED = 20261120
N_POSES = 200
MODELS = {
    "2D_gait": "opensim/moco_2d_walking/2D_gait.osim",
    "gait10dof18musc": "opensim/gait10dof18musc/gait10dof18musc.osim",
    "gait2392": "opensim/gait2392/gait2392_millard2012muscle.osim",
}
LENGTH_TOL = 1e-4  # m: the 0.1 mm
ID_REL, ID_ABS = 1e-6, 1e-4  # relative, N m: the tolerances
FORCE_REL = 1e-3  # 0.1 %: the tolerance for contact and muscle forces


class Case:
    """One model's data: gaitsim model, functions, the random inputs and OpenSim's answers."""

    def __init__(self, key: str) -> None:
        path = SHARED_DATA / MODELS[key]
        if not path.exists():
            pytest.skip(f"reference model {path} not found (../shared/data absent)")
        require_opensim()
        self.path = path
        self.model = read_osim(path)
        self.f: ModelFunctions = gaitsim.build(self.model, BuildOptions(conditional_smoothing=0))
        rng = np.random.default_rng(SEED)
        coords = self.model.coordinates
        lo = np.array([c.range[0] for c in coords])
        hi = np.array([c.range[1] for c in coords])
        self.q = lo + (hi - lo) * rng.random((N_POSES, len(coords)))
        for i, c in enumerate(coords):
            if c.locked:
                self.q[:, i] = c.default
        self.qd = rng.uniform(-3.0, 3.0, self.q.shape)
        self.qdd = rng.uniform(-20.0, 20.0, self.q.shape)
        queries = [
            {
                "id": "geo",
                "type": "muscle_geometry",
                "q": self.q.tolist(),
                "qdot": self.qd.tolist(),
            },
            {"id": "kin", "type": "kinematics", "q": self.q.tolist()},
            {
                "id": "id",
                "type": "inverse_dynamics",
                "q": self.q.tolist(),
                "qdot": self.qd.tolist(),
                "qddot": self.qdd.tolist(),
            },
        ]
        self.result = run_oracle(path, queries)
        self.names = list(self.model.coordinate_names)
        os_coords = [str(c) for c in self.result["coordinate_names"]]
        assert sorted(os_coords) == sorted(self.names)
        self.coord_perm = [os_coords.index(n) for n in self.names]
        os_muscles = [str(m) for m in self.result["muscle_names"]]
        assert sorted(os_muscles) == sorted(self.model.muscle_names)
        self.muscle_perm = [os_muscles.index(n) for n in self.model.muscle_names]

    def poses_in_our_order(self) -> np.ndarray:
        return self.q


_CASES: dict[str, Case] = {}


@pytest.fixture(scope="module", params=list(MODELS))
def case(request: pytest.FixtureRequest) -> Case:
    key = request.param
    if key not in _CASES:
        _CASES[key] = Case(key)
    return _CASES[key]


def _map(f, *args: np.ndarray) -> np.ndarray:
    """Evaluate a CasADi function over rows of the arguments (one column per pose)."""
    mapped = f.map(args[0].shape[0])
    out = mapped(*[a.T for a in args])
    return np.asarray(out[0] if isinstance(out, tuple) else out)


def test_body_kinematics(case: Case) -> None:
    positions = _map(case.f.body_poses, case.q)  # 3 x (n_b * n)
    nb = len(case.model.bodies)
    ours = positions.reshape(3, nb, case.q.shape[0], order="F")  # column = pose * nb + k
    ref_all = np.asarray(case.result["kin"]["body_position"])
    os_bodies = [str(b) for b in case.result["body_names"]]
    for k, body in enumerate(case.model.bodies):
        ref = ref_all[:, os_bodies.index(body.name), :]
        # Exact kinematics: agreement to 1e-9 m is rounding; 1e-7 m leaves room for
        # OpenSim's normalised transform axes (gait2392 axes are unit to 1e-8 only).
        np.testing.assert_allclose(ours[:, k, :].T, ref, atol=1e-7, err_msg=body.name)


def test_muscle_tendon_lengths(case: Case) -> None:
    ours = _map(case.f.muscle_tendon_lengths, case.q).T  # n x n_m
    ref = np.asarray(case.result["geo"]["length"])[:, case.muscle_perm]
    err = np.abs(ours - ref)
    worst = np.unravel_index(np.argmax(err), err.shape)
    assert err.max() < LENGTH_TOL, (
        f"max length error {err.max() * 1000:.4f} mm for "
        f"{case.model.muscle_names[worst[1]]} at pose {worst[0]}"
    )


def test_moment_arms(case: Case) -> None:
    n = case.q.shape[0]
    ours = np.stack([np.asarray(case.f.moment_arms(case.q[i])) for i in range(n)])
    ref = np.asarray(case.result["geo"]["moment_arm"])[:, case.muscle_perm][:, :, case.coord_perm]
    locked = [i for i, c in enumerate(case.model.coordinates) if c.locked]
    ours[:, :, locked] = 0.0  # OpenSim reports 0 about locked coordinates
    err = np.abs(ours - ref)
    worst = np.unravel_index(np.argmax(err), err.shape)
    assert err.max() < LENGTH_TOL, (
        f"max moment-arm error {err.max() * 1000:.4f} mm: {case.model.muscle_names[worst[1]]} "
        f"about {case.names[worst[2]]} at pose {worst[0]}"
    )


def test_lengthening_speeds(case: Case) -> None:
    ours = _map(case.f.lengthening_velocities, case.q, case.qd).T
    ref = np.asarray(case.result["geo"]["lengthening_speed"])[:, case.muscle_perm]
    # Speeds are moment arms times qd (|qd| <= 3 rad/s, a few coordinates): 1e-4 m/s.
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_inverse_dynamics(case: Case) -> None:
    bf = np.zeros((case.q.shape[0], 6 * len(case.model.bodies)))
    f = case.f.inverse_dynamics
    mapped = f.map(case.q.shape[0])
    bf_cols = np.zeros((6, len(case.model.bodies) * case.q.shape[0]))
    ours = np.asarray(mapped(case.q.T, case.qd.T, case.qdd.T, bf_cols)).T
    del bf
    ref = np.asarray(case.result["id"]["generalized_forces"])[:, case.coord_perm]
    unlocked = [i for i, c in enumerate(case.model.coordinates) if not c.locked]
    diff = np.abs(ours - ref)[:, unlocked]
    allowed = np.maximum(ID_REL * np.abs(ref[:, unlocked]), ID_ABS)
    worst = np.unravel_index(np.argmax(diff / allowed), diff.shape)
    assert (diff <= allowed).all(), (
        f"ID differs by {diff[worst]:.3g} at {case.names[unlocked[worst[1]]]} "
        f"(pose {worst[0]}, OpenSim {ref[worst[0], unlocked[worst[1]]]:.6g})"
    )


def test_mass_matrix(case: Case) -> None:
    ref = np.asarray(case.result["id"]["mass_matrix"])[:, case.coord_perm][:, :, case.coord_perm]
    unlocked = [i for i, c in enumerate(case.model.coordinates) if not c.locked]
    for i in range(0, case.q.shape[0], 20):
        ours = np.asarray(case.f.mass_matrix(case.q[i]))
        sub = np.ix_(unlocked, unlocked)
        np.testing.assert_allclose(ours[sub], ref[i][sub], rtol=ID_REL, atol=ID_ABS)
