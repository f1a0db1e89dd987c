"""Writing models as OpenSim ``.osim`` files (:mod:`gaitsim.io.osim_write`).

Two independent references: the importer :func:`gaitsim.io.osim.read_osim` (written by
others, validated against OpenSim) must read every written file back into the same model,
and OpenSim 4.6 itself (in a subprocess: it cannot share a process with CasADi) must load
the written files and compute the same muscle geometry, inverse dynamics, contact forces,
muscle parameters and limit torques as gaitsim.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitsim.errors import ModelError, UnsupportedFeatureError
from gaitsim.io.osim import OsimImportWarning, read_osim, read_osim_string
from gaitsim.io.osim_write import OSIM_VERSION, osim_string, write_osim
from gaitsim.mechanics.model_functions import BuildOptions, build
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import (
    AxisKind,
    Body,
    ConditionalPathPoint,
    Constant,
    Coordinate,
    CoordinateActuator,
    Frame,
    Joint,
    JointType,
    LimitTorque,
    Linear,
    Marker,
    Model,
    Motion,
    MovingPathPoint,
    Multiplier,
    Muscle,
    NaturalCubicSpline,
    PathPoint,
    Polynomial,
    SimmSpline,
    TendonModel,
    TransformAxis,
)

SEED = 20261203
OSIM_MODELS = (
    "opensim/moco_2d_walking/2D_gait.osim",
    "opensim/gait10dof18musc/gait10dof18musc.osim",
    "opensim/gait10dof18musc/subject01_scaled.osim",
    "opensim/gait2392/gait2392_millard2012muscle.osim",
)
# Round trips rebuild the same expressions from the same floats (numbers are written
# with Python's shortest round-trip repr): results agree to rounding; 1e-9 is the
# issue's tolerance for the round trip.
ROUND_TRIP = 1e-9


def _without_wraps(model: Model) -> Model:
    return dataclasses.replace(
        model,
        wrap_cylinders=(),
        muscles=tuple(dataclasses.replace(m, wraps=()) for m in model.muscles),
    )


def _random_poses(model: Model, n: int) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    lo = np.array([c.range[0] for c in model.coordinates])
    hi = np.array([c.range[1] for c in model.coordinates])
    return lo + (hi - lo) * rng.random((n, lo.size))


def _assert_same_mechanics(a: Model, b: Model, n: int = 20) -> None:
    assert a.coordinate_names == b.coordinate_names
    assert a.muscle_names == b.muscle_names
    fa, fb = build(a), build(b)
    for q in _random_poses(a, n):
        for name in ("muscle_tendon_lengths", "moment_arms", "mass_matrix", "marker_positions"):
            np.testing.assert_allclose(
                np.asarray(getattr(fa, name)(q)),
                np.asarray(getattr(fb, name)(q)),
                rtol=ROUND_TRIP,
                atol=ROUND_TRIP,
                err_msg=name,
            )


# --------------------------------------------------------------------------------------
# A model that uses every feature the writer and the reader share
# --------------------------------------------------------------------------------------
ROT, TRANS = AxisKind.ROTATION, AxisKind.TRANSLATION


def _feature_model() -> Model:
    spline = SimmSpline((-2.0, -1.0, 0.0, 0.5), (0.01, 0.02, 0.025, 0.02))
    natural = NaturalCubicSpline((-2.0, -0.5, 0.5), (-0.40, -0.41, -0.39))
    inertia = (0.1, 0.02, 0.1, 0.001, -0.002, 0.0005)
    return Model(
        name="features",
        bodies=(
            Body("pelvis", 10.0, (-0.07, 0.0, 0.0), (0.1, 0.08, 0.06, 0.0, 0.0, 0.0)),
            Body("thigh", 7.0, (0.0, -0.17, 0.0), inertia),
            Body("shank", 3.0, (0.0, -0.18, 0.0), (0.04, 0.004, 0.04, 0.0, 0.0, 0.0)),
            Body("foot", 1.0, (0.1, 0.03, 0.0), (0.001, 0.003, 0.003, 0.0, 0.0, 0.0)),
        ),
        joints=(
            Joint(
                "ground_pelvis",
                JointType.PLANAR,
                Frame("ground"),
                Frame("pelvis"),
                (
                    Coordinate("tilt", range=(-1.0, 1.0)),
                    Coordinate("tx", Motion.TRANSLATIONAL, (-2.0, 2.0)),
                    Coordinate("ty", Motion.TRANSLATIONAL, (0.5, 1.5), default=0.95),
                ),
            ),
            Joint(
                "hip",
                JointType.PIN,
                Frame("pelvis", (-0.07, -0.06, 0.08), (0.0, 0.1, 0.0)),
                Frame("thigh"),
                (Coordinate("hip_flexion", range=(-0.5, 2.0)),),
            ),
            # Two rotations (one filler needed), two translations (one filler needed).
            Joint(
                "knee",
                JointType.CUSTOM,
                Frame("thigh"),
                Frame("shank", (0.0, 0.01, 0.0)),
                (Coordinate("knee_angle", range=(-2.0, 0.1)), Coordinate("knee_ab", locked=True)),
                (
                    TransformAxis(ROT, (0.0, 0.0, 1.0), Linear(1.0), "knee_angle"),
                    TransformAxis(ROT, (1.0, 0.0, 0.0), Polynomial((0.5, 0.0)), "knee_ab"),
                    TransformAxis(TRANS, (1.0, 0.0, 0.0), spline, "knee_angle"),
                    TransformAxis(TRANS, (0.0, 1.0, 0.0), Multiplier(natural, 1.02), "knee_angle"),
                ),
            ),
            Joint(
                "ankle",
                JointType.CUSTOM,
                Frame("shank", (0.0, -0.43, 0.0)),
                Frame("foot"),
                (Coordinate("ankle_angle", range=(-0.7, 0.5)),),
                (TransformAxis(ROT, (-0.1, -0.17, 0.98), Linear(1.0), "ankle_angle"),),
            ),
        ),  # fmt: skip
        muscles=(
            Muscle(
                "vasti",
                5000.0,
                0.09,
                0.22,
                0.05,
                10.0,
                (
                    PathPoint("P1", "thigh", (0.03, -0.22, 0.03)),
                    ConditionalPathPoint(
                        "P2", "thigh", (0.04, -0.46, 0.006), "knee_angle", (-2.6, -1.4)
                    ),
                    MovingPathPoint(
                        "P3", "shank", spline, Multiplier(spline, -0.5), Constant(0.002),
                        "knee_angle", None, None,
                    ),
                ),
                tendon=TendonModel.RIGID,
                ignore_passive_fiber_force=True,
                fiber_damping=0.01,
            ),  # fmt: skip
            Muscle(
                "soleus",
                3500.0,
                0.05,
                0.25,
                0.4,
                8.0,
                (
                    PathPoint("S1", "shank", (-0.002, -0.15, 0.007)),
                    PathPoint("S2", "foot", (0.0, 0.03, -0.005)),
                ),
                activation_time_constant=0.01,
                active_force_width_scale=1.5,
                default_activation=0.1,
            ),  # fmt: skip
        ),
        actuators=(
            CoordinateActuator("tilt_act", "tilt", 150.0, -math.inf, math.inf),
            CoordinateActuator("hip_act", "hip_flexion", 100.0, -0.5, 2.0),
        ),
        markers=(
            Marker("KNEE", "thigh", (0.0, -0.42, 0.06)),
            Marker("HEEL", "foot", (-0.02, 0.02, 0.0), True),
        ),
        gravity=(0.0, -9.81, 0.0),
        description="a model that uses every feature",
        references=("Someone (2024). A paper.",),
    )  # fmt: skip


def test_feature_model_round_trip() -> None:
    model = _feature_model()
    back = read_osim_string(osim_string(model))
    _assert_same_mechanics(model, back)
    # What changes, and only how the module docstring says: the custom joints gain
    # Constant(0) axes (six in all), and the moving point's y and z axes (no coordinate,
    # evaluated at 0) are Constants attached to knee_angle.
    knee = back.joints[2]
    assert [a.kind for a in knee.transform] == [AxisKind.ROTATION] * 3 + [AxisKind.TRANSLATION] * 3
    assert knee.transform[2].function == Constant(0.0)
    assert knee.transform[5].function == Constant(0.0)
    assert knee.transform[:2] + knee.transform[3:5] == model.joints[2].transform
    moving = back.muscles[0].path[2]
    assert isinstance(moving, MovingPathPoint)
    assert moving.y == Constant(-0.5 * 0.025) and moving.y_coordinate == "knee_angle"
    assert dataclasses.replace(back, joints=model.joints, muscles=model.muscles) == model
    assert back.muscles[1] == model.muscles[1]
    vasti = model.muscles[0]
    expected_point = MovingPathPoint(
        "P3", "shank", vasti.path[2].x, Constant(-0.0125), Constant(0.002),  # type: ignore[union-attr]
        "knee_angle", "knee_angle", "knee_angle",
    )  # fmt: skip
    expected_vasti = dataclasses.replace(vasti, path=(*vasti.path[:2], expected_point))
    assert back.muscles[0] == expected_vasti
    # Written again, the model is a fixed point.
    assert read_osim_string(osim_string(back)) == back


def test_document_layout() -> None:
    root = ET.fromstring(osim_string(_feature_model()))
    assert root.tag == "OpenSimDocument" and root.get("Version") == str(OSIM_VERSION)
    model = root.find("Model")
    assert model is not None
    joints = model.findall("./JointSet/objects/*")
    assert [j.tag for j in joints] == ["PlanarJoint", "PinJoint", "CustomJoint", "CustomJoint"]
    axes = joints[2].findall("./SpatialTransform/TransformAxis")
    assert [a.get("name") for a in axes] == [
        "rotation1", "rotation2", "rotation3", "translation1", "translation2", "translation3",
    ]  # fmt: skip
    # The filler axes complete a basis with the given ones (OpenSim needs independent axes).
    rotation_axes = np.array([[float(v) for v in a.findtext("axis", "").split()] for a in axes[:3]])
    assert abs(np.linalg.det(rotation_axes)) > 0.5
    assert model.findtext("./ForceSet/objects/CoordinateActuator/max_control") == "Inf"
    muscle = model.find("./ForceSet/objects/DeGrooteFregly2016Muscle")
    assert muscle is not None and muscle.findtext("ignore_tendon_compliance") == "true"


@pytest.mark.parametrize("name", ["gait2d", "gait3d"])
def test_builtin_models_round_trip(name: str) -> None:
    """The built-in models (wraps left out: the reader does not import wrap objects)."""
    model = _without_wraps(load_builtin(name))
    back = read_osim_string(osim_string(model))
    # Several references come back as one, joined with "; " (the reader reads one
    # <publications> text); everything else is the same model.
    assert back.references == ("; ".join(model.references),)
    assert dataclasses.replace(back, references=model.references) == model
    if name == "gait2d":
        _assert_same_mechanics(model, back)
        f0, f1 = build(model), build(back)
        for q in _random_poses(model, 5):
            qd = np.linspace(-1.0, 1.0, q.size)
            for a, b in zip(f0.contact_forces(q, qd), f1.contact_forces(q, qd), strict=True):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=ROUND_TRIP)


@pytest.mark.parametrize("relative", OSIM_MODELS)
def test_opensim_models_are_a_fixed_point(shared_data: Path, relative: str) -> None:
    """read(write(read(file))) == read(file): nothing of an imported model is lost."""
    model = read_osim(shared_data / relative)
    assert read_osim_string(osim_string(model)) == model


def test_write_osim_does_not_overwrite(tmp_path: Path) -> None:
    model = _feature_model()
    path = write_osim(model, tmp_path / "m.osim")
    assert read_osim(path).name == model.name
    with pytest.raises(FileExistsError):
        write_osim(model, path)
    write_osim(model, path, overwrite=True)


# --------------------------------------------------------------------------------------
# What the writer refuses
# --------------------------------------------------------------------------------------
def _replace_joint(model: Model, index: int, **changes: object) -> Model:
    joints = list(model.joints)
    joints[index] = dataclasses.replace(joints[index], **changes)
    return dataclasses.replace(model, joints=tuple(joints))


def test_unsupported_coordinate_order() -> None:
    model = _feature_model()
    knee = model.joints[2]
    swapped = _replace_joint(model, 2, coordinates=knee.coordinates[::-1])
    with pytest.raises(UnsupportedFeatureError, match="first use"):
        osim_string(swapped)


def test_unsupported_coordinate_motion() -> None:
    model = _feature_model()
    hip = model.joints[1]
    sliding = _replace_joint(
        model,
        1,
        coordinates=(dataclasses.replace(hip.coordinates[0], motion=Motion.TRANSLATIONAL),),
    )
    with pytest.raises(UnsupportedFeatureError, match="hip_flexion"):
        osim_string(sliding)
    knee = model.joints[2]
    unused = _replace_joint(model, 2, coordinates=(*knee.coordinates, Coordinate("spare")))
    with pytest.raises(UnsupportedFeatureError, match="spare drive no transform axis"):
        osim_string(unused)


def test_wrapping_needs_consent() -> None:
    model = load_builtin("gait2d")
    with pytest.raises(UnsupportedFeatureError, match="approximate_wrapping"):
        osim_string(model)
    root = ET.fromstring(osim_string(model, approximate_wrapping=True))
    cylinders = root.findall(".//WrapObjectSet/objects/WrapCylinder")
    assert sorted(c.get("name") for c in cylinders) == sorted(w.name for w in model.wrap_cylinders)
    wraps = root.findall(".//PathWrapSet/objects/PathWrap")
    assert len(wraps) == sum(len(m.wraps) for m in model.muscles)
    # The reader leaves wrapping out, loudly.
    with pytest.warns(OsimImportWarning):
        read_osim_string(osim_string(model, approximate_wrapping=True), ignore_unsupported=True)


def test_wrap_ending_on_a_conditional_point_is_unsupported() -> None:
    model = load_builtin("gait2d")
    muscles = list(model.muscles)
    k = model.muscle_names.index("vasti_r")
    vasti = muscles[k]
    start = vasti.path[1]
    conditional = ConditionalPathPoint(
        start.name,
        start.body,
        start.location,
        "knee_angle_r",
        (-2.0, 0.2),  # type: ignore[union-attr]
    )
    muscles[k] = dataclasses.replace(vasti, path=(vasti.path[0], conditional, vasti.path[2]))
    model = dataclasses.replace(model, muscles=tuple(muscles))
    with pytest.raises(UnsupportedFeatureError, match="conditional path point"):
        osim_string(model, approximate_wrapping=True)


def test_invalid_model_raises_model_error() -> None:
    model = _feature_model()
    bad = dataclasses.replace(model, markers=(Marker("X", "wing", (0.0, 0.0, 0.0)),))
    with pytest.raises(ModelError, match="wing"):
        osim_string(bad)


def test_limit_torques_are_written_for_opensim_only() -> None:
    torque = LimitTorque("knee_limit", "knee_angle", -2.0, 0.1, stiffness=10.0, sharpness=15.0)
    model = dataclasses.replace(_feature_model(), limit_torques=(torque,))
    text = osim_string(model)
    root = ET.fromstring(text)
    force = root.find(".//ExpressionBasedCoordinateForce")
    assert force is not None and force.findtext("coordinate") == "knee_angle"
    with pytest.raises(UnsupportedFeatureError, match="ExpressionBasedCoordinateForce"):
        read_osim_string(text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(
        st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_subnormal=True),
        min_size=4,
        max_size=4,
    ),
    mass=st.floats(min_value=1e-6, max_value=1e4),
)
def test_numbers_round_trip_exactly(values: list[float], mass: float) -> None:
    model = _feature_model()
    body = dataclasses.replace(model.bodies[1], mass=mass, com=tuple(values[:3]))
    marker = Marker("M", "shank", tuple(values[1:]))
    spline = SimmSpline((-2.0, -1.0, 0.0, 0.5), tuple(values))
    knee = model.joints[2]
    transform = list(knee.transform)
    transform[2] = dataclasses.replace(transform[2], function=spline)
    changed = dataclasses.replace(
        _replace_joint(model, 2, transform=tuple(transform)),
        bodies=(model.bodies[0], body, *model.bodies[2:]),
        markers=(marker,),
    )
    back = read_osim_string(osim_string(changed))
    assert back.bodies[1] == body
    assert back.markers == (marker,)
    assert back.joints[2].transform[3].function == spline


# --------------------------------------------------------------------------------------
# OpenSim on the written files
# --------------------------------------------------------------------------------------
def _oracle() -> ModuleType:
    """``tests/validation/oracle.py`` (the subprocess runner), loaded by path."""
    path = Path(__file__).resolve().parents[1] / "validation" / "oracle.py"
    spec = importlib.util.spec_from_file_location("gaitsim_validation_oracle", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LENGTH_TOL = 1e-4  # m: the validation tolerance of muscle geometry (0.1 mm)
ID_REL, ID_ABS = 1e-6, 1e-4  # the validation tolerances of inverse dynamics
FORCE_REL = 1e-3  # 0.1 %: the validation tolerance of contact forces
WALKING = {"hip_flexion": (-20.0, 40.0), "knee_angle": (-70.0, 0.0), "ankle_angle": (-20.0, 15.0)}


def _opensim_model() -> Model:
    """gait2d with wrapping, contact, an actuator with infinite bounds, a limit torque and
    a moving point with a constant axis."""
    model = load_builtin("gait2d")
    muscles = list(model.muscles)
    k = model.muscle_names.index("rect_fem_r")
    path = list(muscles[k].path)
    path[-1] = dataclasses.replace(path[-1], z=Constant(0.0025), z_coordinate=None)
    muscles[k] = dataclasses.replace(muscles[k], path=tuple(path))
    torque = LimitTorque("knee_limit_r", "knee_angle_r", -2.0, 0.1, 10.0, 15.0, 0.5)
    actuator = CoordinateActuator("hip_act_r", "hip_flexion_r", 100.0, -math.inf, math.inf)
    return dataclasses.replace(
        model,
        muscles=tuple(muscles),
        limit_torques=(torque,),
        actuators=(*model.actuators, actuator),
    )


def _walking_poses(model: Model, n: int) -> np.ndarray:
    q = _random_poses(model, n)
    for i, c in enumerate(model.coordinates):
        base = c.name.rsplit("_", 1)[0]
        if base in WALKING:
            lo, hi = np.radians(WALKING[base])
            q[:, i] = lo + (hi - lo) * (q[:, i] - c.range[0]) / (c.range[1] - c.range[0])
    return q


_LIMIT_TORQUE = textwrap.dedent(
    """
    import json, sys
    import opensim as osim
    request = json.load(sys.stdin)
    model = osim.Model(request["model"])
    s = model.initSystem()
    force = osim.ExpressionBasedCoordinateForce.safeDownCast(
        model.getForceSet().get(request["force"]))
    coordinate = model.getCoordinateSet().get(request["coordinate"])
    out = []
    for q, qd in request["states"]:
        coordinate.setValue(s, q)
        coordinate.setSpeedValue(s, qd)
        model.realizeDynamics(s)
        out.append(force.getForceMagnitude(s))
    json.dump(out, sys.stdout)
    """
)


@pytest.mark.opensim
def test_opensim_reads_the_written_model_as_gaitsim_does(tmp_path: Path) -> None:
    oracle = _oracle()
    oracle.require_opensim()
    model = _opensim_model()
    path = write_osim(model, tmp_path / "gait2d.osim", approximate_wrapping=True)
    exact = BuildOptions(conditional_smoothing=0.0)
    f = build(model, exact)
    q = _random_poses(model, 60)
    walking = _walking_poses(model, 60)
    rng = np.random.default_rng(SEED)
    qd = rng.uniform(-3.0, 3.0, q.shape)
    qdd = rng.uniform(-20.0, 20.0, q.shape)
    result = oracle.run_oracle(
        path,
        [
            {"id": "info", "type": "model_info"},
            {"id": "geo", "type": "muscle_geometry", "q": q},
            {"id": "walk", "type": "muscle_geometry", "q": walking},
            {"id": "id", "type": "inverse_dynamics", "q": q, "qdot": qd, "qddot": qdd},
        ],
    )
    muscles = [str(m) for m in result["muscle_names"]]
    perm = [muscles.index(m) for m in model.muscle_names]
    coords = [str(c) for c in result["coordinate_names"]]
    assert coords == list(model.coordinate_names)

    # Muscle parameters as written.
    info = result["info"]
    for prop in ("max_isometric_force", "optimal_fiber_length", "tendon_slack_length",
                 "pennation_angle_at_optimal", "max_contraction_velocity",
                 "tendon_strain_at_one_norm_force", "passive_fiber_strain_at_one_norm_force",
                 "fiber_damping"):  # fmt: skip
        ours = [getattr(m, prop) for m in model.muscles]
        np.testing.assert_allclose(np.asarray(info[prop])[perm], ours, rtol=1e-15, err_msg=prop)
    np.testing.assert_allclose(info["total_mass"], model.total_mass, rtol=1e-14)

    # Muscle geometry: unwrapped muscles everywhere, wrapped ones over the walking range
    # (OpenSim's constrained cylinders jump to the long way round at some extreme poses,
    # which gaitsim's do not: see the writer's docstring).
    wrapped = [k for k, m in enumerate(model.muscles) if m.wraps]
    plain = [k for k in range(len(model.muscles)) if k not in wrapped]
    lengths = np.asarray(f.muscle_tendon_lengths.map(q.shape[0])(q.T)).T
    ref = np.asarray(result["geo"]["length"])[:, perm]
    assert np.abs(lengths - ref)[:, plain].max() < LENGTH_TOL
    arms = np.stack([np.asarray(f.moment_arms(qi)) for qi in q])
    ref_arms = np.asarray(result["geo"]["moment_arm"])[:, perm]
    assert np.abs(arms - ref_arms)[:, plain].max() < LENGTH_TOL
    walk = np.asarray(f.muscle_tendon_lengths.map(walking.shape[0])(walking.T)).T
    walk_ref = np.asarray(result["walk"]["length"])[:, perm]
    print(f"\nwrapped muscles, walking range: max |gaitsim - OpenSim| "
          f"{np.abs(walk - walk_ref)[:, wrapped].max() * 1e3:.4f} mm")  # fmt: skip
    assert np.abs(walk - walk_ref).max() < LENGTH_TOL

    # Inverse dynamics (gravity and inertia; OpenSim's query disables every force).
    bf = np.zeros((6, len(model.bodies) * q.shape[0]))
    tau = np.asarray(f.inverse_dynamics.map(q.shape[0])(q.T, qd.T, qdd.T, bf)).T
    ref_tau = np.asarray(result["id"]["generalized_forces"])
    assert (np.abs(tau - ref_tau) <= np.maximum(ID_REL * np.abs(ref_tau), ID_ABS)).all()

    # The limit torque, through OpenSim's expression parser.
    states = [[-2.1, 0.3], [0.2, -1.0], [-1.0, 0.0], [0.12, 2.0]]
    proc = subprocess.run(
        [sys.executable, "-c", _LIMIT_TORQUE],
        input=json.dumps(
            {"model": str(path), "force": "knee_limit_r", "coordinate": "knee_angle_r",
             "states": states}
        ),
        capture_output=True, text=True, cwd=tmp_path, check=True,
    )  # fmt: skip
    ref_limit = json.loads(proc.stdout.strip().splitlines()[-1])
    i = model.coordinate_names.index("knee_angle_r")
    for (qi, qdi), expected in zip(states, ref_limit, strict=True):
        qv, qdv = np.zeros(len(coords)), np.zeros(len(coords))
        qv[i], qdv[i] = qi, qdi
        ours_limit = float(np.asarray(f.limit_torques(qv, qdv))[i, 0])
        assert ours_limit == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.opensim
def test_opensim_contact_forces_on_the_written_model(tmp_path: Path) -> None:
    oracle = _oracle()
    oracle.require_opensim()
    model = _without_wraps(load_builtin("gait2d"))
    path = write_osim(model, tmp_path / "gait2d.osim")
    f = build(model)
    rng = np.random.default_rng(SEED)
    names = model.coordinate_names
    q = _walking_poses(model, 40)
    q[:, names.index("pelvis_tilt")] = rng.uniform(-0.3, 0.3, q.shape[0])
    iy = names.index("pelvis_ty")
    centres_of = f.sphere_centres
    for i in range(q.shape[0]):
        q[i, iy] = 1.0
        centres = np.asarray(centres_of(q[i]))
        radii = np.array([s.radius for s in model.contact_spheres])
        q[i, iy] -= (centres[1] - radii).min() + rng.uniform(-0.005, 0.02)
    qd = rng.uniform(-1.0, 1.0, q.shape)
    result = oracle.run_oracle(path, [{"id": "c", "type": "contact_forces", "q": q, "qdot": qd}])
    contacts = [str(c) for c in result["contact_names"]]
    perm = [contacts.index(c.name) for c in model.contacts]
    ref = np.asarray(result["c"]["sphere_force"])[:, perm, :]
    ours = np.stack([np.asarray(f.contact_forces(q[i], qd[i])[0]).T for i in range(q.shape[0])])
    scale = np.abs(ref).max()
    assert scale > 100.0  # the poses load the spheres
    assert np.abs(ours - ref).max() <= FORCE_REL * scale
