"""Contact and muscle forces against OpenSim 4.6 on Moco's 2D_gait model.

2D_gait carries OpenSim's own DeGrooteFregly2016Muscle and SmoothSphereHalfSpaceForce, so
gaitsim's formulation can be compared with OpenSim's on identical parameters. Tolerance:
0.1 % (the issue's), relative to the largest force of each kind in the sample so that
near-zero forces do not demand impossible relative precision.

For the models whose muscles are Millard2012 (gait10dof18musc, gait2392) gaitsim uses the
DeGroote-Fregly curves by design (see ``gaitsim.io.osim``), so their forces are not
expected to equal OpenSim's Millard forces; there the test checks that every parameter
gaitsim keeps is read exactly.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import gaitsim
from gaitsim.io.osim import read_osim
from gaitsim.mechanics.model_functions import BuildOptions

from .oracle import SHARED_DATA, require_opensim, run_oracle

pytestmark = pytest.mark.opensim

SEED = 20261121
N = 200
FORCE_REL = 1e-3  # 0.1 %, the tolerance
MOCO_2D = SHARED_DATA / "opensim" / "moco_2d_walking" / "2D_gait.osim"


@pytest.fixture(scope="module")
def moco2d() -> tuple[gaitsim.Model, gaitsim.ModelFunctions]:
    if not MOCO_2D.exists():
        pytest.skip(f"{MOCO_2D} not found (../shared/data absent)")
    require_opensim()
    model = read_osim(MOCO_2D)
    return model, gaitsim.build(model, BuildOptions(conditional_smoothing=0))


def _random_poses(model: gaitsim.Model, rng: np.random.Generator) -> np.ndarray:
    lo = np.array([c.range[0] for c in model.coordinates])
    hi = np.array([c.range[1] for c in model.coordinates])
    return lo + (hi - lo) * rng.random((N, len(lo)))


def _sphere_heights(model: gaitsim.Model, f: gaitsim.ModelFunctions, q: np.ndarray) -> np.ndarray:
    radii = np.array([s.radius for s in model.contact_spheres])
    return np.asarray(f.sphere_centres(q))[1] - radii


def test_contact_forces(moco2d: tuple[gaitsim.Model, gaitsim.ModelFunctions]) -> None:
    model, f = moco2d
    rng = np.random.default_rng(SEED)
    names = model.coordinate_names
    q = _random_poses(model, rng)
    # Keep the pelvis level-ish and lower it so that the lowest sphere penetrates
    # between -5 mm (just above the floor) and 20 mm: the range walking uses.
    q[:, names.index("pelvis_tilt")] = rng.uniform(-0.3, 0.3, N)
    iy = names.index("pelvis_ty")
    for i in range(N):
        q[i, iy] = 1.0
        lowest = _sphere_heights(model, f, q[i]).min()
        q[i, iy] -= lowest + rng.uniform(-0.005, 0.02)
    qd = rng.uniform(-1.0, 1.0, q.shape)
    res = run_oracle(MOCO_2D, [{"id": "c", "type": "contact_forces", "q": q, "qdot": qd}])
    ref = np.asarray(res["c"]["sphere_force"])  # n x n_c x 3
    os_names = [str(s) for s in res["contact_names"]]
    perm = [os_names.index(c.name) for c in model.contacts]
    ref = ref[:, perm, :]
    ours = np.stack([np.asarray(f.contact_forces(q[i], qd[i])[0]).T for i in range(N)])
    scale = np.abs(ref).max()
    assert scale > 100.0, "the sample must load the spheres (sanity of the test itself)"
    err = np.abs(ours - ref).max()
    assert err <= FORCE_REL * scale, f"contact force error {err:.4g} N (scale {scale:.1f} N)"
    # The points where the forces act must agree too (they set the joint torques).
    points = np.stack([np.asarray(f.contact_forces(q[i], qd[i])[1]).T for i in range(N)])
    loaded = np.abs(ref[..., 1]) > 1.0
    ref_points = np.asarray(res["c"]["contact_point"])[:, perm, :]
    # 1e-6 m: the same closed-form point on both sides; only rounding differs.
    np.testing.assert_allclose(points[loaded], ref_points[loaded], atol=1e-6)


@pytest.mark.parametrize("mode", ["rigid", "implicit", "explicit"])
def test_muscle_forces(moco2d: tuple[gaitsim.Model, gaitsim.ModelFunctions], mode: str) -> None:
    model, f = moco2d
    rng = np.random.default_rng(SEED + 1)
    q = _random_poses(model, rng)
    qd = rng.uniform(-2.0, 2.0, q.shape)
    nm = len(model.muscles)
    act = rng.uniform(0.01, 1.0, (N, nm))
    ft = rng.uniform(0.05, 1.2, (N, nm))
    dft = rng.uniform(-3.0, 3.0, (N, nm))
    query = {"id": "m", "type": "muscle_forces", "q": q, "qdot": qd, "activation": act}
    if mode == "rigid":
        query["rigid_tendon"] = True
    else:
        query["normalized_tendon_force"] = ft
        if mode == "implicit":
            query["normalized_tendon_force_derivative"] = dft
    res = run_oracle(MOCO_2D, [query])["m"]
    os_names = [str(m) for m in run_oracle(MOCO_2D, [])["muscle_names"]]
    perm = [os_names.index(m) for m in model.muscle_names]
    lmt = np.stack([np.asarray(f.muscle_tendon_lengths(q[i])).ravel() for i in range(N)])
    vmt = np.stack([np.asarray(f.lengthening_velocities(q[i], qd[i])).ravel() for i in range(N)])
    tendon, fibre_length = np.zeros((N, nm)), np.zeros((N, nm))
    explicit_rates: list[tuple[np.ndarray, np.ndarray]] = []
    for i in range(N):
        if mode == "rigid":
            out = f.muscle_rigid(lmt[i], vmt[i], act[i])
            tendon[i], fibre_length[i] = np.asarray(out[0]).ravel(), np.asarray(out[1]).ravel()
        elif mode == "implicit":
            out = f.muscle_compliant(lmt[i], vmt[i], act[i], ft[i], dft[i])
            tendon[i], fibre_length[i] = np.asarray(out[0]).ravel(), np.asarray(out[2]).ravel()
            residual = np.asarray(out[1]).ravel()
            ref_res = np.asarray(res["implicit_residual"])[i, perm]
            # The residual is normalised by Fmax: 1e-3 is the 0.1 % tolerance on forces.
            np.testing.assert_allclose(residual, ref_res, atol=FORCE_REL)
        else:
            out = f.muscle_compliant_explicit(lmt[i], vmt[i], act[i], ft[i])
            tendon[i] = np.asarray(out[0]).ravel()
            dft_ours = np.asarray(out[1]).ravel()
            ref_d = np.asarray(res["normalized_tendon_force_derivative"])[i, perm]
            explicit_rates.append((dft_ours, ref_d))
    if explicit_rates:
        ours_d = np.concatenate([a for a, _ in explicit_rates])
        ref_d = np.concatenate([b for _, b in explicit_rates])
        finite = np.isfinite(ref_d)
        # Both sides must be finite at the same samples, and there must be many of them.
        assert finite.mean() > 0.9, f"only {finite.mean():.0%} finite OpenSim rates"
        np.testing.assert_array_equal(np.isfinite(ours_d), finite)
        # d(normalised tendon force)/dt: 0.1 % of the largest rate in the sample.
        scale = np.abs(ref_d[finite]).max()
        np.testing.assert_allclose(ours_d[finite], ref_d[finite], atol=FORCE_REL * scale)
    ref_tendon = np.asarray(res["tendon_force"])[:, perm]
    fmax = np.array([m.max_isometric_force for m in model.muscles])
    err = np.abs(tendon - ref_tendon) / fmax
    assert err.max() <= FORCE_REL, f"{mode}: tendon force error {err.max():.2e} of Fmax"
    if mode != "explicit":
        ref_fl = np.asarray(res["fiber_length"])[:, perm]
        np.testing.assert_allclose(fibre_length, ref_fl, rtol=FORCE_REL)


@pytest.mark.parametrize(
    "relative",
    [
        "opensim/gait10dof18musc/gait10dof18musc.osim",
        "opensim/gait2392/gait2392_millard2012muscle.osim",
    ],
)
def test_millard_parameters_kept(relative: str) -> None:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} not found (../shared/data absent)")
    require_opensim()
    model = read_osim(path)
    info = run_oracle(path, [{"id": "i", "type": "model_info"}])
    os_names = [str(m) for m in info["muscle_names"]]
    for key in (
        "max_isometric_force",
        "optimal_fiber_length",
        "tendon_slack_length",
        "pennation_angle_at_optimal",
        "max_contraction_velocity",
        "tendon_strain_at_one_norm_force",
        "passive_fiber_strain_at_one_norm_force",
    ):
        ref = np.asarray(info["i"][key])
        ours = np.array([getattr(model.muscle(n), key) for n in os_names])
        np.testing.assert_array_equal(ours, ref, err_msg=key)


@pytest.mark.parametrize(
    "relative",
    [
        "opensim/gait10dof18musc/gait10dof18musc.osim",
        "opensim/gait2392/gait2392_millard2012muscle.osim",
    ],
)
@pytest.mark.parametrize("mode", ["rigid", "implicit"])
def test_millard_models_converted_by_opensim(relative: str, mode: str) -> None:
    """Muscle forces of the Millard models, with OpenSim's own conversion to DeGroote.

    OpenSim's ``DeGrooteFregly2016Muscle::replaceMuscles`` keeps Millard's fibre damping
    (0.1) and passive strain; gaitsim's importer drops the damping (documented). Using the
    converted parameters on both sides checks the whole chain (paths, moment arms, force
    model) on these models at 0.1 %.
    """
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} not found (../shared/data absent)")
    require_opensim()
    imported = read_osim(path)
    rng = np.random.default_rng(SEED + 2)
    q = _random_poses(imported, rng)[:50]
    for i, c in enumerate(imported.coordinates):
        if c.locked:
            q[:, i] = c.default
    qd = rng.uniform(-2.0, 2.0, q.shape)
    nm = len(imported.muscles)
    act = rng.uniform(0.01, 1.0, (q.shape[0], nm))
    ft = rng.uniform(0.05, 1.2, (q.shape[0], nm))
    dft = rng.uniform(-3.0, 3.0, (q.shape[0], nm))
    query = {"id": "m", "type": "muscle_forces", "q": q, "qdot": qd, "activation": act}
    if mode == "rigid":
        query["rigid_tendon"] = True
    else:
        query["normalized_tendon_force"] = ft
        query["normalized_tendon_force_derivative"] = dft
    res = run_oracle(
        path, [query, {"id": "i", "type": "model_info"}], replace_muscles_with_degroote=True
    )
    os_names = [str(m) for m in res["muscle_names"]]
    assert {str(c) for c in res["muscle_classes"]} == {"DeGrooteFregly2016Muscle"}
    info = res["i"]
    muscles = []
    for m in imported.muscles:
        k = os_names.index(m.name)
        muscles.append(
            dataclasses.replace(
                m,
                fiber_damping=float(info["fiber_damping"][k]),
                passive_fiber_strain_at_one_norm_force=float(
                    info["passive_fiber_strain_at_one_norm_force"][k]
                ),
                tendon_strain_at_one_norm_force=float(info["tendon_strain_at_one_norm_force"][k]),
            )
        )
    model = dataclasses.replace(imported, muscles=tuple(muscles))
    f = gaitsim.build(model, BuildOptions(conditional_smoothing=0))
    perm = [os_names.index(m) for m in model.muscle_names]
    fmax = np.array([m.max_isometric_force for m in model.muscles])
    worst = 0.0
    for i in range(q.shape[0]):
        lmt = np.asarray(f.muscle_tendon_lengths(q[i])).ravel()
        vmt = np.asarray(f.lengthening_velocities(q[i], qd[i])).ravel()
        if mode == "rigid":
            tendon = np.asarray(f.muscle_rigid(lmt, vmt, act[i])[0]).ravel()
        else:
            tendon = np.asarray(f.muscle_compliant(lmt, vmt, act[i], ft[i], dft[i])[0]).ravel()
        ref = np.asarray(res["m"]["tendon_force"])[i, perm]
        worst = max(worst, float((np.abs(tendon - ref) / fmax).max()))
    assert worst <= FORCE_REL, f"{mode}: tendon force error {worst:.2e} of Fmax"
