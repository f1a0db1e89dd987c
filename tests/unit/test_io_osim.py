"""Tests of the OpenSim ``.osim`` importer (:mod:`gaitsim.io.osim`)."""

from __future__ import annotations

import logging
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from gaitsim.errors import FileFormatError, GaitsimError, ModelError, UnsupportedFeatureError
from gaitsim.io.osim import OsimImportWarning, read_osim, read_osim_string
from gaitsim.model.description import (
    AxisKind,
    ConditionalPathPoint,
    Constant,
    JointType,
    Linear,
    Motion,
    MovingPathPoint,
    Multiplier,
    PathPoint,
    SimmSpline,
    TendonModel,
)

OPENSIM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "opensim"
GAIT2D = OPENSIM / "moco_2d_walking" / "2D_gait.osim"
GAIT10 = OPENSIM / "gait10dof18musc" / "gait10dof18musc.osim"
SUBJECT01 = OPENSIM / "gait10dof18musc" / "subject01_scaled.osim"
GAIT2392 = OPENSIM / "gait2392" / "gait2392_millard2012muscle.osim"
RAJAGOPAL = OPENSIM / "rajagopal" / "Rajagopal2016.osim"


def _data(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared OpenSim data not available ({path})")
    return path


def _sto_columns(path: Path) -> list[str]:
    for line in _data(path).read_text().splitlines():
        if line.startswith("time"):
            return line.split()[1:]
    raise AssertionError(f"no header in {path}")


@pytest.fixture(scope="module")
def gait2d():
    return read_osim(_data(GAIT2D))


@pytest.fixture(scope="module")
def gait10():
    return read_osim(_data(GAIT10))


@pytest.fixture(scope="module")
def subject01():
    return read_osim(_data(SUBJECT01))


@pytest.fixture(scope="module")
def gait2392():
    return read_osim(_data(GAIT2392))


# --------------------------------------------------------------------------------------
# The bundled models
# --------------------------------------------------------------------------------------
def test_2d_gait_counts_and_order(gait2d):
    m = gait2d
    assert m.name == "2D_gait"
    assert len(m.bodies) == 12
    assert [j.name for j in m.joints][:3] == ["groundPelvis", "hip_l", "hip_r"]
    assert len(m.coordinates) == 10
    assert len(m.muscles) == 18
    assert len(m.contact_spheres) == 4 and len(m.half_spaces) == 1 and len(m.contacts) == 4
    # Coordinates come out in OpenSim's order: the column order of OpenSim's own output.
    columns = _sto_columns(OPENSIM / "moco_2d_walking" / "referenceCoordinates.sto")
    assert [c.split("/")[3] for c in columns] == list(m.coordinate_names)
    assert m.gravity == (0.0, -9.80665, 0.0)  # no <gravity>: OpenSim's default


def test_2d_gait_joints(gait2d):
    planar = gait2d.joints[0]
    assert planar.type is JointType.PLANAR
    assert [c.name for c in planar.coordinates] == ["pelvis_tilt", "pelvis_tx", "pelvis_ty"]
    assert [c.motion for c in planar.coordinates] == [
        Motion.ROTATIONAL,
        Motion.TRANSLATIONAL,
        Motion.TRANSLATIONAL,
    ]
    assert planar.parent.body == "ground" and planar.child.body == "pelvis"
    assert planar.coordinates[1].range == (-5.0, 5.0)
    hip_l = gait2d.joints[1]
    assert hip_l.type is JointType.PIN
    assert hip_l.parent.body == "pelvis"
    assert hip_l.parent.translation == pytest.approx(
        (-0.068277800171117897, -0.063835397331130098, -0.082330694005868801)
    )
    assert hip_l.child.body == "femur_l" and hip_l.child.translation == (0.0, 0.0, 0.0)
    welds = [j for j in gait2d.joints if j.type is JointType.WELD]
    assert {j.name for j in welds} == {"subtalar_l", "subtalar_r", "mtp_l", "mtp_r"}
    assert all(j.coordinates == () for j in welds)
    pelvis = gait2d.body("pelvis")
    assert pelvis.mass == pytest.approx(9.7143336091723995)
    assert pelvis.inertia == pytest.approx(
        (0.081492884605030597, 0.081492884605030597, 0.044542759153066699, 0, 0, 0)
    )


def test_2d_gait_muscles(gait2d):
    ham = gait2d.muscle("hamstrings_r")
    assert ham.max_isometric_force == 2700.0
    assert ham.optimal_fiber_length == pytest.approx(0.109059287708541)
    assert ham.tendon_slack_length == pytest.approx(0.326177319201692)
    assert ham.tendon is TendonModel.RIGID  # ignore_tendon_compliance = true
    assert ham.default_activation == 0.01
    assert ham.fiber_damping == 0.01
    assert ham.passive_fiber_strain_at_one_norm_force == 0.6  # DeGroote default
    assert [p.name for p in ham.path] == ["bifemlh_r-P1", "bifemlh_r-P2", "bifemlh_r-P3"]
    assert ham.path[0] == PathPoint("bifemlh_r-P1", "pelvis", (-0.121645, -0.0990559, 0.0684676))

    psoas = gait2d.muscle("iliopsoas_r").path[2]
    assert isinstance(psoas, ConditionalPathPoint)
    assert psoas.coordinate == "hip_flexion_r"
    assert psoas.range == (-1.5708, 0.785398)
    assert psoas.body == "pelvis"

    rf = gait2d.muscle("rect_fem_r").path
    assert isinstance(rf[1], ConditionalPathPoint) and rf[1].coordinate == "knee_angle_r"
    moving = rf[2]
    assert isinstance(moving, MovingPathPoint)
    assert moving.body == "tibia_r"
    assert (moving.x_coordinate, moving.y_coordinate, moving.z_coordinate) == ("knee_angle_r",) * 3
    assert isinstance(moving.x, Multiplier) and moving.x.scale == pytest.approx(0.966732152034662)
    assert isinstance(moving.x.function, SimmSpline)
    assert len(moving.x.function.x) == 17
    assert moving.x.function.y[0] == 0.0155805 and moving.x.function.y[-1] == 0.0573481
    assert moving.z == Multiplier(
        SimmSpline((-2.0944, 0.1745), (0.0014, 0.0014)), 0.966732152034662
    )


def test_2d_gait_contact_and_actuator(gait2d):
    heel = gait2d.contact_spheres[0]
    assert (heel.name, heel.body, heel.radius) == ("heel_r", "calcn_r", 0.035)
    assert heel.location == pytest.approx((0.031307527581931796, 0.010435842527310599, 0))
    floor = gait2d.half_spaces[0]
    assert (floor.name, floor.body, floor.location) == ("floor", "ground", (0.0, 0.0, 0.0))
    assert floor.orientation == pytest.approx((0, 0, -math.pi / 2))
    c = gait2d.contacts[0]
    assert (c.name, c.sphere, c.half_space) == ("contactHeel_r", "heel_r", "floor")
    assert c.stiffness == 3067776.0 and c.dissipation == 2.0
    assert c.static_friction == 0.8 and c.viscous_friction == 0.5
    assert c.transition_velocity == 0.2 and c.derivative_smoothing == 1e-5
    (act,) = gait2d.actuators
    assert (act.name, act.coordinate, act.optimal_force) == ("lumbarAct", "lumbar", 1.0)
    assert (act.min_control, act.max_control) == (-150.0, 150.0)


def test_tendon_override():
    m = read_osim(_data(GAIT2D), tendon=TendonModel.COMPLIANT)
    assert {mu.tendon for mu in m.muscles} == {TendonModel.COMPLIANT}


def test_gait10dof18musc(gait10, caplog):
    m = gait10
    assert len(m.bodies) == 12 and len(m.joints) == 12 and len(m.muscles) == 18
    ik = _sto_columns(OPENSIM / "gait10dof18musc" / "reference_subject01_walk_IK.mot")
    assert list(m.coordinate_names) == ik
    assert m.coordinate("pelvis_ty").default == pytest.approx(0.95)
    assert m.coordinate("pelvis_tx").motion is Motion.TRANSLATIONAL
    assert m.coordinate("knee_angle_r").motion is Motion.ROTATIONAL
    assert m.description.startswith("A planar reduced gait model with 10 degrees")
    assert m.references[0].startswith("Delp, S.L., Loan, J.P.")

    knee = next(j for j in m.joints if j.name == "knee_r")
    assert knee.type is JointType.CUSTOM
    assert [a.kind for a in knee.transform] == [AxisKind.ROTATION] * 3 + [AxisKind.TRANSLATION] * 3
    assert knee.transform[0].function == Linear(1.0, 0.0)
    assert knee.transform[0].coordinate == "knee_angle_r" and knee.transform[0].axis == (0, 0, 1)
    assert knee.transform[1].coordinate is None and knee.transform[1].function == Constant(0.0)
    assert knee.transform[3].function == SimmSpline(
        (-2.0944, -1.74533, -1.39626, -1.0472, -0.698132, -0.349066, -0.174533,
         0.197344, 0.337395, 0.490178, 1.52146, 2.0944),
        (-0.0032, 0.00179, 0.00411, 0.0041, 0.00212, -0.001, -0.0031,
         -0.005227, -0.005435, -0.005574, -0.005435, -0.00525),
    )  # fmt: skip
    assert knee.transform[4].function.y[0] == -0.4226  # type: ignore[union-attr]

    # Millard -> DeGroote-Fregly: Millard's values and OpenSim 4 curve defaults.
    ham = m.muscle("hamstrings_r")
    assert (ham.max_isometric_force, ham.optimal_fiber_length) == (2700.0, 0.109)
    assert ham.activation_time_constant == 0.01 and ham.deactivation_time_constant == 0.04
    assert ham.tendon_strain_at_one_norm_force == 0.049
    assert ham.passive_fiber_strain_at_one_norm_force == 0.7
    assert ham.tendon is TendonModel.COMPLIANT
    assert ham.fiber_damping == 0.0 and ham.default_activation == 0.05

    with caplog.at_level(logging.INFO, logger="gaitsim.io.osim"):
        read_osim(GAIT10)
    messages = [r.getMessage() for r in caplog.records if r.name == "gaitsim.io.osim"]
    assert len(messages) == 1
    assert "18 Millard2012EquilibriumMuscle" in messages[0]
    for dropped in ("minimum_activation", "ForceVelocityCurve.isometric_slope", "fiber_damping"):
        assert dropped in messages[0]


def test_subject01_scaled(subject01):
    m = subject01
    assert len(m.markers) == 39
    sternum = m.markers[0]
    assert (sternum.name, sternum.body, sternum.fixed) == ("Sternum", "torso", False)
    knee = next(j for j in m.joints if j.name == "knee_r")
    tx = knee.transform[3].function
    assert isinstance(tx, Multiplier) and tx.scale == pytest.approx(1.14724)
    assert isinstance(tx.function, SimmSpline) and tx.function.x[0] == -2.0944


def test_gait2392(gait2392):
    m = gait2392
    assert len(m.coordinates) == 23
    assert len(m.muscles) == 92
    assert m.coordinate_names[:6] == (
        "pelvis_tilt", "pelvis_list", "pelvis_rotation", "pelvis_tx", "pelvis_ty", "pelvis_tz",
    )  # fmt: skip
    ankle = next(j for j in m.joints if j.name == "ankle_r")
    assert ankle.transform[0].axis == (-0.10501355, -0.17402245, 0.97912631999999999)
    assert ankle.transform[0].coordinate == "ankle_angle_r"
    hip_l = next(j for j in m.joints if j.name == "hip_l")
    assert hip_l.transform[1].axis == (-1.0, 0.0, 0.0)
    assert [c.motion for c in m.coordinates].count(Motion.TRANSLATIONAL) == 3
    assert all(mu.tendon is TendonModel.COMPLIANT for mu in m.muscles)
    assert sum(isinstance(p, MovingPathPoint) for mu in m.muscles for p in mu.path) == 8
    assert sum(isinstance(p, ConditionalPathPoint) for mu in m.muscles for p in mu.path) == 26


def test_rajagopal_wrapping_is_unsupported():
    path = _data(RAJAGOPAL)
    with pytest.raises(UnsupportedFeatureError, match=r"Wrap\w+ '\w+' on body"):
        read_osim(path)
    with pytest.warns(OsimImportWarning) as record:
        m = read_osim(path, ignore_unsupported=True)
    text = " ".join(str(w.message) for w in record)
    assert "WrapCylinder" in text and "PathWrap" in text and "CoordinateCouplerConstraint" in text
    assert len(m.muscles) == 80 and len(m.actuators) == 17
    wrist = next(j for j in m.joints if j.name == "radius_hand_r")  # a UniversalJoint
    assert wrist.type is JointType.CUSTOM
    assert [a.coordinate for a in wrist.transform] == ["wrist_flex_r", "wrist_dev_r"] + [None] * 4
    assert [a.axis for a in wrist.transform[:2]] == [(1, 0, 0), (0, 1, 0)]
    assert math.isinf(m.actuators[0].max_control)


# --------------------------------------------------------------------------------------
# Hand-written models
# --------------------------------------------------------------------------------------
MINI = """<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000">
<Model name="mini">
  <gravity>0 -9.81 0</gravity>
  <credits>Test model.</credits>
  <Ground name="ground" />
  <BodySet name="bodyset"><objects>
    <Body name="thigh">
      <mass>5</mass><mass_center>0 -0.2 0</mass_center><inertia>0.1 0.02 0.1 0 0 0</inertia>
    </Body>
    <Body name="shank">
      <mass>3</mass><mass_center>0 -0.2 0</mass_center><inertia>0.05 0.01 0.05 0 0 0</inertia>
      <components>
        <PhysicalOffsetFrame name="shank_marker_frame">
          <socket_parent>..</socket_parent>
          <translation>0.01 0.02 0.03</translation><orientation>0 0 0.5</orientation>
        </PhysicalOffsetFrame>
      </components>
    </Body>
  </objects></BodySet>
  <JointSet name="jointset"><objects>
    <PinJoint name="hip">
      <socket_parent_frame>ground_offset</socket_parent_frame>
      <socket_child_frame>{HIP_CHILD}</socket_child_frame>
      <coordinates>
        <Coordinate name="hip_flexion">
          <default_value>0.1</default_value><range>-1 2</range><locked>true</locked>
        </Coordinate>
      </coordinates>
      <frames>
        <PhysicalOffsetFrame name="ground_offset">
          <socket_parent>/ground</socket_parent>
          <translation>0 1 0</translation><orientation>0 0 0</orientation>
        </PhysicalOffsetFrame>
      </frames>
    </PinJoint>
    <CustomJoint name="knee">
      <socket_parent_frame>thigh_offset2</socket_parent_frame>
      <socket_child_frame>shank</socket_child_frame>
      <coordinates><Coordinate name="knee_angle"><range>-2 0.2</range></Coordinate></coordinates>
      <frames>
        <PhysicalOffsetFrame name="thigh_offset">
          <socket_parent>/bodyset/thigh</socket_parent>
          <translation>0.01 -0.4 0.02</translation><orientation>0.3 -0.2 0.1</orientation>
        </PhysicalOffsetFrame>
        <PhysicalOffsetFrame name="thigh_offset2">
          <socket_parent>../thigh_offset</socket_parent>
          <translation>0.05 0.06 -0.07</translation><orientation>-0.4 0.25 0.6</orientation>
        </PhysicalOffsetFrame>
      </frames>
      <SpatialTransform>
        <TransformAxis name="rotation1">
          <coordinates>{KNEE_COORDS}</coordinates><axis>0 0 1</axis>
          <LinearFunction name="function"><coefficients>1 0</coefficients></LinearFunction>
        </TransformAxis>
        <TransformAxis name="rotation2">
          <coordinates></coordinates><axis>0 1 0</axis>
          <Constant name="function"><value>0</value></Constant>
        </TransformAxis>
        <TransformAxis name="rotation3">
          <coordinates></coordinates><axis>1 0 0</axis>
          <Constant name="function"><value>0</value></Constant>
        </TransformAxis>
        <TransformAxis name="translation1">
          <coordinates>knee_angle</coordinates><axis>1 0 0</axis>
          <PolynomialFunction name="function"><coefficients>0.5 0.25 -0.1</coefficients>
          </PolynomialFunction>
        </TransformAxis>
        <TransformAxis name="translation2">
          <coordinates>knee_angle</coordinates><axis>0 1 0</axis>
          <{KNEE_SPLINE} name="function"><x>-2 -1 0 0.2</x><y>-0.42 -0.41 -0.40 -0.39</y>
          </{KNEE_SPLINE}>
        </TransformAxis>
        <TransformAxis name="translation3">
          <coordinates></coordinates><axis>0 0 1</axis>
          <Constant name="function"><value>0</value></Constant>
        </TransformAxis>
      </SpatialTransform>
    </CustomJoint>
  </objects></JointSet>
  <ForceSet name="forceset"><objects>
    <DeGrooteFregly2016Muscle name="vastus">
      <GeometryPath name="path">
        <PathPointSet><objects>
          <PathPoint name="origin">
            <socket_parent_frame>/jointset/knee/thigh_offset2</socket_parent_frame>
            <location>0.1 0.2 0.3</location>
          </PathPoint>
          <ConditionalPathPoint name="via">
            <socket_parent_frame>/bodyset/thigh</socket_parent_frame>
            <location>0.03 -0.38 0</location>
            <socket_coordinate>/jointset/knee/knee_angle</socket_coordinate>
            <range>-2 -1</range>
          </ConditionalPathPoint>
          <MovingPathPoint name="insertion">
            <socket_parent_frame>shank</socket_parent_frame>
            <location>9 9 9</location>
            <x_location><SimmSpline><x>-2 0</x><y>0.04 0.06</y></SimmSpline></x_location>
            <socket_x_coordinate>/jointset/knee/knee_angle</socket_x_coordinate>
            <y_location><Constant><value>0.02</value></Constant></y_location>
          </MovingPathPoint>
        </objects></PathPointSet>
        <PathWrapSet><objects>{PATH_WRAP}</objects></PathWrapSet>
      </GeometryPath>
      <max_isometric_force>{FMAX}</max_isometric_force>
      <optimal_fiber_length>0.09</optimal_fiber_length>
      <tendon_slack_length>0.2</tendon_slack_length>
    </DeGrooteFregly2016Muscle>
    {EXTRA_FORCE}
  </objects></ForceSet>
  <MarkerSet name="markerset"><objects>
    <Marker name="knee_lat">
      <socket_parent_frame>/bodyset/shank/shank_marker_frame</socket_parent_frame>
      <location>0.1 0 0</location><fixed>true</fixed>
    </Marker>
  </objects></MarkerSet>
</Model>
</OpenSimDocument>
"""

FMAX_TAG = "<max_isometric_force>{FMAX}</max_isometric_force>"
DEFAULTS = {
    "HIP_CHILD": "/bodyset/thigh",
    "KNEE_COORDS": "knee_angle",
    "KNEE_SPLINE": "SimmSpline",
    "PATH_WRAP": "",
    "FMAX": "1000",
    "EXTRA_FORCE": "",
}


def mini(**changes: str) -> str:
    text = MINI
    for key, value in {**DEFAULTS, **changes}.items():
        text = text.replace("{" + key + "}", value)
    return text


def _frame_matrix(translation, orientation) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = Rotation.from_euler("XYZ", orientation).as_matrix()  # body-fixed X-Y-Z
    m[:3, 3] = translation
    return m


def test_minimal_model_and_frame_composition():
    m = read_osim_string(mini())
    assert m.name == "mini" and m.gravity == (0.0, -9.81, 0.0) and m.description == "Test model."
    hip, knee = m.joints
    assert hip.parent.body == "ground" and hip.parent.translation == (0.0, 1.0, 0.0)
    assert hip.coordinates[0].locked and hip.coordinates[0].default == 0.1
    # knee parent: offset frame of an offset frame of the thigh.
    expected = _frame_matrix((0.01, -0.4, 0.02), (0.3, -0.2, 0.1)) @ _frame_matrix(
        (0.05, 0.06, -0.07), (-0.4, 0.25, 0.6)
    )
    got = _frame_matrix(knee.parent.translation, knee.parent.orientation)
    assert knee.parent.body == "thigh"
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert knee.child.body == "shank" and knee.child.translation == (0.0, 0.0, 0.0)
    assert knee.transform[3].function.coefficients == (0.5, 0.25, -0.1)  # type: ignore[union-attr]

    origin, via, insertion = m.muscles[0].path
    assert origin.body == "thigh"
    np.testing.assert_allclose((*origin.location, 1.0), expected @ (0.1, 0.2, 0.3, 1.0))
    assert via == ConditionalPathPoint("via", "thigh", (0.03, -0.38, 0.0), "knee_angle", (-2, -1))
    assert isinstance(insertion, MovingPathPoint)
    assert insertion.x == SimmSpline((-2.0, 0.0), (0.04, 0.06))
    assert insertion.y == Constant(0.02) and insertion.z == Constant(0.0)  # default
    assert (insertion.x_coordinate, insertion.y_coordinate) == ("knee_angle", None)

    # DeGroote-Fregly defaults where the file says nothing (OpenSim 4 values).
    mu = m.muscles[0]
    assert mu.pennation_angle_at_optimal == 0.0 and mu.max_contraction_velocity == 10.0
    assert mu.activation_time_constant == 0.015 and mu.deactivation_time_constant == 0.06
    assert mu.default_activation == 0.5 and mu.tendon is TendonModel.COMPLIANT

    (marker,) = m.markers
    frame = _frame_matrix((0.01, 0.02, 0.03), (0, 0, 0.5))
    assert marker.body == "shank" and marker.fixed
    np.testing.assert_allclose((*marker.location, 1.0), frame @ (0.1, 0, 0, 1.0), atol=1e-15)


def test_natural_cubic_spline_and_bare_body_name():
    m = read_osim_string(mini(KNEE_SPLINE="NaturalCubicSpline", HIP_CHILD="thigh"))
    assert type(m.joints[1].transform[4].function).__name__ == "NaturalCubicSpline"
    assert m.joints[0].child.body == "thigh"


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_unknown_parent_body_path():
    text = mini(HIP_CHILD="/bodyset/femur")
    with pytest.raises(FileFormatError) as info:
        read_osim_string(text, source="mini.osim")
    assert info.value.line == _line_of(text, "<socket_child_frame>/bodyset/femur")
    assert "PinJoint name='hip'" in str(info.value)
    assert "'/bodyset/femur' names no body or frame" in str(info.value)


@pytest.mark.parametrize(
    ("fmax", "problem"), [("12x", "'12x' is not a number"), ("1 2", "expected 1 number")]
)
def test_bad_number(fmax, problem):
    text = mini(FMAX=fmax)
    with pytest.raises(FileFormatError, match="vastus") as info:
        read_osim_string(text, source="mini.osim")
    assert problem in str(info.value) and "<max_isometric_force>" in str(info.value)
    assert info.value.line == _line_of(text, "<max_isometric_force>")


def test_unsupported_function():
    with pytest.raises(UnsupportedFeatureError, match="GCVSpline"):
        read_osim_string(mini(KNEE_SPLINE="GCVSpline"), ignore_unsupported=True)


def test_missing_required_property_names_the_element():
    text = mini().replace(FMAX_TAG.format(FMAX="1000"), "")
    with pytest.raises(FileFormatError, match=r"DeGrooteFregly2016Muscle name='vastus'.*"
                       r"missing <max_isometric_force>") as info:  # fmt: skip
        read_osim_string(text)
    assert info.value.line is not None


def test_malformed_xml_reports_line(tmp_path):
    text = mini().replace("<mass>3</mass>", "<mass>3</mas>")
    path = tmp_path / "bad.osim"
    path.write_text(text)
    with pytest.raises(FileFormatError, match="malformed XML") as info:
        read_osim(path)
    assert info.value.line == _line_of(text, "</mas>")
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match="cannot read"):
        read_osim(tmp_path / "nope.osim")


def test_path_wrap_unsupported_or_ignored():
    wrap = "<PathWrap name='pw'><wrap_object>knee_cyl</wrap_object></PathWrap>"
    with pytest.raises(UnsupportedFeatureError, match=r"muscle 'vastus'.*knee_cyl"):
        read_osim_string(mini(PATH_WRAP=wrap))
    with pytest.warns(OsimImportWarning, match="knee_cyl"):
        m = read_osim_string(mini(PATH_WRAP=wrap), ignore_unsupported=True)
    assert len(m.muscles[0].path) == 3


@pytest.mark.parametrize(
    "force",
    [
        "<HuntCrossleyForce name='hc'><stiffness>1</stiffness></HuntCrossleyForce>",
        "<CoordinateLimitForce name='lim'><coordinate>knee_angle</coordinate>"
        "</CoordinateLimitForce>",
        "<Thelen2003Muscle name='off'><appliesForce>false</appliesForce></Thelen2003Muscle>",
    ],
)
def test_unknown_or_unsupported_force(force):
    name = re.search(r"name='(\w+)'", force).group(1)  # type: ignore[union-attr]
    with pytest.raises(UnsupportedFeatureError, match=name):
        read_osim_string(mini(EXTRA_FORCE=force))
    with pytest.warns(OsimImportWarning, match=name):
        m = read_osim_string(mini(EXTRA_FORCE=force), ignore_unsupported=True)
    assert [mu.name for mu in m.muscles] == ["vastus"]


def test_thelen_and_coordinate_actuator_defaults():
    extra = (
        "<Thelen2003Muscle name='th'><GeometryPath><PathPointSet><objects>"
        "<PathPoint name='a'><socket_parent_frame>thigh</socket_parent_frame></PathPoint>"
        "<PathPoint name='b'><socket_parent_frame>shank</socket_parent_frame></PathPoint>"
        "</objects></PathPointSet></GeometryPath><max_isometric_force>500"
        "</max_isometric_force><optimal_fiber_length>0.1</optimal_fiber_length>"
        "<tendon_slack_length>0.3</tendon_slack_length><FmaxMuscleStrain>0.5"
        "</FmaxMuscleStrain><ignore_tendon_compliance>true</ignore_tendon_compliance>"
        "</Thelen2003Muscle>"
        "<CoordinateActuator name='tau'><coordinate>hip_flexion</coordinate>"
        "</CoordinateActuator>"
    )
    m = read_osim_string(mini(EXTRA_FORCE=extra))
    th = m.muscle("th")
    assert th.tendon_strain_at_one_norm_force == 0.04  # FmaxTendonStrain default
    assert th.passive_fiber_strain_at_one_norm_force == 0.5
    assert (th.activation_time_constant, th.deactivation_time_constant) == (0.015, 0.05)
    assert th.tendon is TendonModel.RIGID
    assert th.path[0].location == (0.0, 0.0, 0.0)
    (tau,) = m.actuators
    assert (tau.coordinate, tau.optimal_force) == ("hip_flexion", 1.0)
    assert (tau.min_control, tau.max_control) == (-math.inf, math.inf)


def test_custom_joint_errors():
    with pytest.raises(UnsupportedFeatureError, match=r"TransformAxis 'rotation1'.*knee"):
        read_osim_string(mini(KNEE_COORDS="knee_angle hip_flexion"), ignore_unsupported=True)
    with pytest.raises(FileFormatError, match="'nope' is not among"):
        read_osim_string(mini(KNEE_COORDS="nope"))
    # The first axis no longer uses the coordinate but later ones still do: fine.
    m = read_osim_string(mini(KNEE_COORDS=""))
    assert m.coordinate("knee_angle").motion is Motion.TRANSLATIONAL


def test_coordinate_order_mismatch_is_a_model_error():
    text = mini().replace(
        '<coordinates><Coordinate name="knee_angle"><range>-2 0.2</range></Coordinate>',
        '<coordinates><Coordinate name="knee_extra"/>'
        '<Coordinate name="knee_angle"><range>-2 0.2</range></Coordinate>',
    )
    with pytest.raises(ModelError, match="knee"):
        read_osim_string(text)


def test_opensim3_files_are_rejected():
    text = mini().replace('Version="40000"', 'Version="30000"')
    with pytest.raises(UnsupportedFeatureError, match="OpenSim 3"):
        read_osim_string(text)


# --------------------------------------------------------------------------------------
# Fuzzing: corrupted files produce gaitsim errors only
# --------------------------------------------------------------------------------------
_MINI_BYTES = mini().encode()
_TEXT_SPANS = [m.span(1) for m in re.finditer(rb">([^<>]+)<", _MINI_BYTES)]


def _read_or_gaitsim_error(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            read_osim_string(data, ignore_unsupported=True)
        except GaitsimError:
            pass


def test_minimal_model_is_valid_for_fuzzing():
    read_osim_string(_MINI_BYTES)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, len(_MINI_BYTES) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=6,
    )
)
def test_fuzz_byte_corruption(edits):
    data = bytearray(_MINI_BYTES)
    for position, value in edits:
        data[position] = value
    _read_or_gaitsim_error(bytes(data))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_TEXT_SPANS),
    st.text(alphabet="0123456789.-+eEinfaINF /x_", max_size=12),
)
def test_fuzz_element_text(span, replacement):
    start, end = span
    data = _MINI_BYTES[:start] + replacement.encode() + _MINI_BYTES[end:]
    _read_or_gaitsim_error(data)
