"""Smoke tests of the OpenSim oracle: every query type once, on the real models.

Besides checking that each query runs, these tests check the oracle against itself
and against physics, so later validation tests can trust it:
mass matrix columns == ID(e_i) - ID(0) (the Simbody mobility-order pitfall), moment
arm == -dL/dq, lengthening speed == -r . qdot, COM == mass-weighted body COMs,
contact-enabled ID - ID == -(sum of contact forces) on the root translations, muscle
force equilibrium, and InverseDynamicsTool output == OpenSim's reference output.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from .oracle import opensim_available, run_oracle

pytestmark = [
    pytest.mark.opensim,
    pytest.mark.skipif(not opensim_available(), reason="opensim package not installed"),
]

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
OSIM = DATA / "opensim"
GAIT2D = OSIM / "moco_2d_walking" / "2D_gait.osim"
GAIT10 = OSIM / "gait10dof18musc" / "subject01_scaled.osim"
GAIT10_GENERIC = OSIM / "gait10dof18musc" / "gait10dof18musc.osim"
GAIT2392 = OSIM / "gait2392" / "gait2392_millard2012muscle.osim"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def random_poses(info: dict, n: int, seed: int, lo_frac=0.3, hi_frac=0.7) -> np.ndarray:
    lo, hi = np.asarray(info["coordinate_range"]).T
    rng = np.random.default_rng(seed)
    return lo + (hi - lo) * rng.uniform(lo_frac, hi_frac, size=(n, lo.size))


def index(names, name: str) -> int:
    return list(names).index(name)


# --------------------------------------------------------------------------- 2D_gait


@pytest.fixture(scope="module")
def gait2d():
    model = need(GAIT2D)
    info = run_oracle(model, [{"id": "info", "type": "model_info"}])
    nc = len(info["coordinate_names"])
    nm = len(info["muscle_names"])
    names = list(info["coordinate_names"])
    q0 = np.zeros(nc)
    q0[names.index("pelvis_ty")] = 0.93  # feet slightly in the floor: contact active
    q0[names.index("hip_flexion_r")] = 0.3
    q0[names.index("knee_angle_r")] = -0.4
    q0[names.index("ankle_angle_l")] = 0.1
    q0[names.index("lumbar")] = -0.1
    rng = np.random.default_rng(1)
    qdot0 = rng.normal(scale=0.5, size=nc)
    # pose 0: qddot = 0; pose 1 + i: qddot = e_i  (for the mass-matrix check)
    q = np.tile(q0, (nc + 1, 1))
    qdot = np.tile(qdot0, (nc + 1, 1))
    qddot = np.vstack([np.zeros(nc), np.eye(nc)])
    act = np.full((2, nm), 0.3)
    act[1] = np.linspace(0.05, 0.95, nm)
    ntf = np.full((2, nm), 0.2)
    ntf[1] = np.linspace(0.05, 0.6, nm)
    qm = np.vstack([q0, q0 * 0.5])
    qdm = np.vstack([qdot0, -qdot0])
    queries = [
        {"id": "info", "type": "model_info"},
        {"id": "kin", "type": "kinematics", "q": q[:2]},
        {"id": "geo", "type": "muscle_geometry", "q": qm, "qdot": qdm},
        {"id": "id", "type": "inverse_dynamics", "q": q, "qdot": qdot, "qddot": qddot},
        {"id": "idrest", "type": "inverse_dynamics", "q": q[:1]},
        {"id": "idc", "type": "inverse_dynamics_with_contact", "q": q[:1], "qdot": qdot[:1]},
        {"id": "cf", "type": "contact_forces", "q": q[:1], "qdot": qdot[:1]},
        {
            "id": "mf",
            "type": "muscle_forces",
            "q": qm,
            "qdot": qdm,
            "activation": act,
            "normalized_tendon_force": ntf,
        },
        {
            "id": "mfi",
            "type": "muscle_forces",
            "q": qm,
            "qdot": qdm,
            "activation": act,
            "normalized_tendon_force": ntf,
            "normalized_tendon_force_derivative": np.full((2, nm), 0.7),
        },
        {"id": "mfr", "type": "muscle_forces", "q": qm, "qdot": qdm, "activation": act,
         "rigid_tendon": True},
    ]  # fmt: skip
    return run_oracle(model, queries)


def test_2d_names_and_mobility_order(gait2d):
    res = gait2d
    assert list(res["coordinate_names"])[:3] == ["pelvis_tilt", "pelvis_tx", "pelvis_ty"]
    assert len(res["muscle_names"]) == 18  # muscles live in <components>, not ForceSet
    assert set(res["muscle_classes"]) == {"DeGrooteFregly2016Muscle"}
    assert len(res["contact_names"]) == 4
    assert res["coordinate_is_rotational"].tolist() == [
        n not in ("pelvis_tx", "pelvis_ty") for n in res["coordinate_names"]
    ]
    mob = res["coordinate_mobility_index"]
    assert sorted(mob) == list(range(len(mob)))
    # In 2D_gait the Simbody mobility order is NOT the coordinate-set order (lumbar's
    # body comes before the tibiae in the tree), which is what makes the check below
    # meaningful.
    assert not np.array_equal(mob, np.arange(len(mob)))


def test_2d_mass_matrix_matches_inverse_dynamics_columns(gait2d):
    tau = gait2d["id"]["generalized_forces"]
    M = gait2d["id"]["mass_matrix"]
    nc = M.shape[1]
    cols = tau[1:] - tau[0]  # row i = ID(qddot = e_i) - ID(0) = M[:, i]
    np.testing.assert_allclose(cols.T, M[0], atol=1e-9)
    np.testing.assert_allclose(M[0], M[0].T, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(M[0]) > 0)
    assert M.shape == (nc + 1, nc, nc)


def test_2d_inverse_dynamics_gravity_only(gait2d):
    """Every force disabled: at rest the root carries exactly the weight."""
    info = gait2d["info"]
    names = list(gait2d["coordinate_names"])
    tau = gait2d["idrest"]["generalized_forces"][0]
    assert info["total_mass"] == pytest.approx(62.0, rel=1e-12)
    # pelvis_tx / pelvis_ty translate along the ground axes: with qdot = qddot = 0 the
    # generalized forces on them are minus the total gravity force.
    assert tau[names.index("pelvis_ty")] == pytest.approx(62.0 * 9.80665, rel=1e-12)
    assert tau[names.index("pelvis_tx")] == pytest.approx(0.0, abs=1e-9)


def test_2d_kinematics_consistent_with_model_info(gait2d):
    kin, info = gait2d["kin"], gait2d["info"]
    R = kin["body_rotation"]
    eye = np.broadcast_to(np.eye(3), R.shape)
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), eye, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)
    m = info["body_mass"]
    com_b = kin["body_position"] + np.einsum("nbij,bj->nbi", R, info["body_mass_center"])
    com = np.einsum("b,nbi->ni", m, com_b) / m.sum()
    np.testing.assert_allclose(kin["com_position"], com, atol=1e-12)
    assert "marker_position" not in kin  # 2D_gait has no markers


def test_2d_contact_forces_and_contact_inverse_dynamics(gait2d):
    cf, idc, id_ = gait2d["cf"], gait2d["idc"], gait2d["id"]
    names = list(gait2d["coordinate_names"])
    assert cf["sphere_force"].shape == (1, 4, 3)
    assert list(cf["record_labels"][:3]) == ["Sphere.force.X", "Sphere.force.Y", "Sphere.force.Z"]
    assert (cf["indentation"] > 0).any()
    assert cf["sphere_force"][..., 1].sum() > 100.0  # the floor pushes up
    np.testing.assert_allclose(cf["half_space_force"], -cf["sphere_force"], atol=1e-9)
    assert cf["torque_check_max_abs"] < 1e-9
    assert set(idc["enabled_forces"]) == {"/" + n for n in gait2d["contact_names"]}
    # ID = M qdd + c - g - J^T F_contact; the root translations see -sum(F).
    diff = idc["generalized_forces"][0] - id_["generalized_forces"][0]
    total = cf["sphere_force"][0].sum(axis=0)
    assert diff[names.index("pelvis_tx")] == pytest.approx(-total[0], rel=1e-9)
    assert diff[names.index("pelvis_ty")] == pytest.approx(-total[1], rel=1e-9)
    np.testing.assert_allclose(idc["mass_matrix"], id_["mass_matrix"][:1], atol=1e-12)


def test_2d_muscle_geometry(gait2d):
    geo = gait2d["geo"]
    names, muscles = list(gait2d["coordinate_names"]), list(gait2d["muscle_names"])
    assert geo["moment_arm"].shape == (2, 18, 10)
    assert geo["unspanned_probe_max_abs"] < 1e-12
    # OpenSim knee_angle is negative in flexion: a knee flexor has r < 0 about it.
    r = geo["moment_arm"][0]
    assert r[muscles.index("bifemsh_r"), names.index("knee_angle_r")] < 0
    assert r[muscles.index("vasti_r"), names.index("knee_angle_r")] > 0
    assert r[muscles.index("vasti_r"), names.index("knee_angle_l")] == 0.0
    qdot = np.vstack([np.random.default_rng(1).normal(scale=0.5, size=10)] * 2)
    qdot[1] *= -1
    v = -np.einsum("nmc,nc->nm", geo["moment_arm"], qdot)
    np.testing.assert_allclose(geo["lengthening_speed"], v, atol=1e-10)


def test_2d_muscle_forces_degroote(gait2d):
    info, mf, mfi, mfr = gait2d["info"], gait2d["mf"], gait2d["mfi"], gait2d["mfr"]
    fmax = info["max_isometric_force"]
    ntf = np.vstack([np.full(18, 0.2), np.linspace(0.05, 0.6, 18)])
    assert mf["compliant"].all() and not mf["equilibrated"]
    assert mf["tendon_compliance_dynamics_mode"] == "explicit"
    np.testing.assert_allclose(mf["normalized_tendon_force"], ntf, rtol=1e-12)
    np.testing.assert_allclose(mf["tendon_force"], ntf * fmax, rtol=1e-12)
    np.testing.assert_allclose(mf["activation"][1], np.linspace(0.05, 0.95, 18), rtol=1e-12)
    # explicit mode: the fibre velocity comes from inverting the force-velocity curve
    # WITHOUT the fibre damping term, so the balance holds only once the damping force
    # (which getFiberForce includes) is taken out.
    cos_a = np.cos(mf["pennation_angle"])
    np.testing.assert_allclose(
        mf["fiber_force_along_tendon"] - mf["passive_fiber_damping_force"] * cos_a,
        mf["tendon_force"],
        rtol=1e-9,
    )
    assert np.abs(mf["passive_fiber_damping_force"]).max() > 0.1
    assert np.isfinite(mf["fiber_velocity"]).all()
    # path length = tendon length + fibre length along tendon
    np.testing.assert_allclose(
        mf["muscle_tendon_length"],
        mf["tendon_length"] + mf["fiber_length"] * np.cos(mf["pennation_angle"]),
        rtol=1e-10,
    )
    # implicit mode: the derivative is an input; fibre velocity follows from it and
    # the force balance is a residual instead of being enforced
    assert mfi["tendon_compliance_dynamics_mode"] == "implicit"
    np.testing.assert_allclose(mfi["normalized_tendon_force_derivative"], 0.7, rtol=1e-12)
    np.testing.assert_allclose(
        mfi["implicit_residual"],
        (mfi["tendon_force"] - mfi["fiber_force_along_tendon"]) / fmax,
        atol=1e-9,
    )
    np.testing.assert_allclose(mfi["tendon_force"], mf["tendon_force"], rtol=1e-12)
    # rigid tendon
    assert not mfr["compliant"].any()
    np.testing.assert_allclose(mfr["tendon_length"], np.tile(info["tendon_slack_length"], (2, 1)))
    np.testing.assert_allclose(mfr["fiber_force_along_tendon"], mfr["tendon_force"], rtol=1e-9)
    assert np.isnan(mfr["normalized_tendon_force"]).all()


# --------------------------------------------------------------------------- gait10dof18musc


@pytest.fixture(scope="module")
def gait10(tmp_path_factory):
    model = need(GAIT10)
    info = run_oracle(model, [{"id": "info", "type": "model_info"}])["info"]
    q = random_poses(info, 3, seed=2)
    qdot = np.random.default_rng(3).normal(size=q.shape)
    nm = len(info["max_isometric_force"])
    act = np.full((3, nm), 0.4)
    h = 1e-6
    nc = q.shape[1]
    qfd = np.vstack([q[0] + h * np.eye(nc), q[0] - h * np.eye(nc)])
    data = OSIM / "gait10dof18musc"
    out = tmp_path_factory.mktemp("idtool") / "subject01_walk_ID.sto"
    queries = [
        {"id": "info", "type": "model_info"},
        {"id": "kin", "type": "kinematics", "q": q},
        {"id": "geo", "type": "muscle_geometry", "q": q, "qdot": qdot},
        {"id": "geoall", "type": "muscle_geometry", "q": q[:1], "all_pairs": True},
        {"id": "geofd", "type": "muscle_geometry", "q": qfd},
        {"id": "id", "type": "inverse_dynamics", "q": q, "qdot": qdot, "qddot": qdot},
        {"id": "mf", "type": "muscle_forces", "q": q, "qdot": qdot, "activation": act},
        {"id": "mfr", "type": "muscle_forces", "q": q, "qdot": qdot, "activation": act,
         "rigid_tendon": True},
        {
            "id": "idt",
            "type": "time_inverse_dynamics_tool",
            "setup_free": True,
            "coordinates_file": data / "reference_subject01_walk_IK.mot",
            "external_loads_file": data / "subject01_walk_grf.xml",
            "lowpass_cutoff_frequency": 6.0,
            "output_file": out,
        },
    ]  # fmt: skip
    res = run_oracle(model, queries)
    res["_inputs"] = {"q": q, "qdot": qdot, "act": act, "h": h}
    return res


def test_10dof_kinematics_with_markers(gait10):
    kin = gait10["kin"]
    assert len(gait10["marker_names"]) == 39
    assert kin["marker_position"].shape == (3, 39, 3)
    assert kin["body_position"].shape == (3, 12, 3)


def test_10dof_moment_arms(gait10):
    geo, geoall, geofd = gait10["geo"], gait10["geoall"], gait10["geofd"]
    # skipping unspanned pairs changes nothing
    np.testing.assert_allclose(geo["moment_arm"][:1], geoall["moment_arm"], atol=1e-12)
    assert geoall["spanned"].all()
    # moment arm = -dL/dq (central differences, h = 1e-6)
    nc = geo["moment_arm"].shape[2]
    h = gait10["_inputs"]["h"]
    L = geofd["length"]
    dLdq = (L[:nc] - L[nc:]) / (2 * h)  # (nc, nm)
    np.testing.assert_allclose(geo["moment_arm"][0], -dLdq.T, atol=1e-7)
    v = -np.einsum("nmc,nc->nm", geo["moment_arm"], gait10["_inputs"]["qdot"])
    np.testing.assert_allclose(geo["lengthening_speed"], v, atol=1e-10)


def test_10dof_muscle_forces_millard(gait10):
    mf, mfr = gait10["mf"], gait10["mfr"]
    assert set(gait10["muscle_classes"]) == {"Millard2012EquilibriumMuscle"}
    assert mf["compliant"].all() and mf["equilibrated"]  # no fiber_length given
    np.testing.assert_allclose(mf["fiber_force_along_tendon"], mf["tendon_force"], rtol=1e-6)
    assert not mfr["compliant"].any()
    np.testing.assert_allclose(mfr["fiber_force_along_tendon"], mfr["tendon_force"], rtol=1e-9)
    # feeding the equilibrium fibre lengths back reproduces the same state
    i = gait10["_inputs"]
    res = run_oracle(
        GAIT10,
        [{"id": "mf", "type": "muscle_forces", "q": i["q"], "qdot": i["qdot"],
          "activation": i["act"], "fiber_length": mf["fiber_length"]}],
    )["mf"]  # fmt: skip
    assert not res["equilibrated"]
    np.testing.assert_allclose(res["fiber_length"], mf["fiber_length"], rtol=1e-12)
    np.testing.assert_allclose(res["tendon_force"], mf["tendon_force"], rtol=1e-9, atol=1e-9)


def test_10dof_inverse_dynamics_tool_matches_reference(gait10):
    idt = gait10["idt"]
    assert idt["seconds"] > 0 and idt["total_seconds"] >= idt["seconds"]
    assert Path(idt["output_file"]).exists()
    ref = (OSIM / "gait10dof18musc" / "reference_subject01_walk_ID.sto").read_text()
    head, body = re.split(r"endheader\s*\n", ref, maxsplit=1)
    lines = body.strip().splitlines()
    labels = lines[0].split("\t")
    data = np.array([[float(x) for x in ln.split()] for ln in lines[1:]])
    np.testing.assert_allclose(idt["time"], data[:, 0], atol=1e-9)
    for i, c in enumerate(gait10["coordinate_names"]):
        col = next(j for j, lab in enumerate(labels) if lab in (f"{c}_moment", f"{c}_force"))
        np.testing.assert_allclose(idt["generalized_forces"][:, i], data[:, col], atol=2e-3)


def test_locked_coordinate_is_still_set(tmp_path):
    """A locked knee: the pose is honoured, its moment arms are reported as 0."""
    text = need(GAIT10).read_text()
    block = re.compile(r'(<Coordinate name="knee_angle_r">.*?<locked>)false(</locked>)', re.S)
    text, n = block.subn(r"\1true\2", text)
    assert n == 1
    model = tmp_path / "locked_knee.osim"
    model.write_text(text)
    res = run_oracle(model, [{"id": "info", "type": "model_info"}])
    names = list(res["coordinate_names"])
    k = names.index("knee_angle_r")
    assert res["coordinate_locked"][k] and res["info"]["coordinate_locked"][k]
    q = np.tile(res["info"]["coordinate_default_value"], (2, 1))
    q[1, k] = -1.0
    res = run_oracle(
        model,
        [
            {"id": "kin", "type": "kinematics", "q": q},
            {"id": "geo", "type": "muscle_geometry", "q": q},
        ],
    )
    R = res["kin"]["body_rotation"][:, index(res["body_names"], "tibia_r")]
    # knee flexion of 1 rad rotates the tibia about the ground z axis by -1 rad
    angle = np.arctan2(R[:, 1, 0], R[:, 0, 0])
    assert angle[1] - angle[0] == pytest.approx(-1.0, abs=1e-9)
    geo = res["geo"]
    assert np.all(geo["moment_arm"][:, :, k] == 0.0)
    # OpenSim's MomentArmSolver unlocks the coordinate, so its raw value is not 0
    ham = index(res["muscle_names"], "hamstrings_r")
    assert geo["moment_arm_locked_raw"][1, ham, k] < -0.01


# --------------------------------------------------------------------------- gait2392


def test_2392_all_queries():
    model = need(GAIT2392)
    info = run_oracle(model, [{"id": "info", "type": "model_info"}])["info"]
    q = random_poses(info, 2, seed=4)
    res = run_oracle(
        model,
        [
            {"id": "kin", "type": "kinematics", "q": q},
            {"id": "geo", "type": "muscle_geometry", "q": q, "qdot": q},
            {"id": "id", "type": "inverse_dynamics", "q": q, "qdot": q, "qddot": q},
        ],
    )
    nc, nm = len(res["coordinate_names"]), len(res["muscle_names"])
    assert (nc, nm, len(res["body_names"])) == (23, 92, 12)
    assert res["geo"]["moment_arm"].shape == (2, nm, nc)
    assert res["geo"]["unspanned_probe_max_abs"] < 1e-12
    names, muscles = list(res["coordinate_names"]), list(res["muscle_names"])
    r = res["geo"]["moment_arm"]
    assert np.all(r[:, muscles.index("semimem_r"), names.index("knee_angle_r")] < 0)
    assert np.all(r[:, muscles.index("vas_lat_r"), names.index("knee_angle_r")] > 0)
    assert np.all(r[:, muscles.index("soleus_r"), names.index("ankle_angle_r")] < 0)
    M = res["id"]["mass_matrix"]
    np.testing.assert_allclose(M, np.swapaxes(M, 1, 2), atol=1e-10)
    assert res["kin"]["com_position"].shape == (2, 3)


# --------------------------------------------------------------------------- helper


def test_model_info_generic_10dof():
    res = run_oracle(need(GAIT10_GENERIC), [{"id": "info", "type": "model_info"}])
    info = res["info"]
    assert info["total_mass"] > 50
    assert np.all(info["optimal_fiber_length"] > 0)
    assert np.all(info["max_contraction_velocity"] == 10.0)
    assert not info["ignore_tendon_compliance"].any()


def test_oracle_failure_reports_stderr():
    with pytest.raises(RuntimeError, match="unknown query type"):
        run_oracle(need(GAIT2D), [{"id": "x", "type": "no_such_query"}])


def test_helper_does_not_import_opensim():
    assert "opensim" not in sys.modules
