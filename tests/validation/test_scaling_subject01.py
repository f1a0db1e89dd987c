"""Scaling with OpenSim's subject01 trial: gaitsim against OpenSim's own ScaleTool.

* OpenSim's published result: ``subject01_scaled.osim`` was made from the generic
  ``gait10dof18musc.osim`` by OpenSim's ScaleTool with the setup of OpenSim's Gait2354
  example for this subject (opensim-models ``Gait2354_Simbody/subject01_Setup_Scale.xml``
  and ``gait2354_Scale_MeasurementSet.xml`` @761d3132: its factors are those of the
  example's ``OutputReference/subject01_scaleSet_applied.xml``). Scaling the generic model
  with that setup (:data:`OPENSIM_SUBJECT01`, the example's generic marker locations in
  :data:`GAIT2354_MARKERS`) must reproduce the published factors, masses, inertias and
  muscle lengths.
* Self-consistency: ``subject01_scaled.osim``'s markers were placed on the static trial,
  so scaling it again with the same trial and measurement set (:data:`SUBJECT01_SETUP`)
  gives factors close to 1 (the issue asks for 3 %).
* OpenSim 4.6's ScaleTool (run in a subprocess: OpenSim cannot share a process with
  CasADi) on the same model and setup: gaitsim's scaled model must be the same model.
* Known factors: the model scaled by known per-segment factors gives the static trial;
  scaling the original with it recovers the factors.
* The scaled model saved in gaitsim's TOML and as ``.osim``; OpenSim computes the written
  ``.osim`` as gaitsim does.

The Gait10dof18musc pipeline itself does not publish its scale setup; the Gait2354
example's is the one its ``subject01_scaled.osim`` was made with (same trial, same
factors).
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from gaitsim.io.osim import read_osim
from gaitsim.io.trc import MarkerTable, read_trc
from gaitsim.kinematics.scaling import (
    BodyAxes,
    ManualScale,
    Measurement,
    ScaleSetup,
    apply_scale_factors,
    scale_model,
)
from gaitsim.mechanics.model_functions import BuildOptions, build
from gaitsim.model.description import Marker, Model

from .oracle import require_opensim

FOLDER = "opensim/gait10dof18musc"
SUBJECT_MASS = 72.6  # kg, subject01 (OpenSim's Gait2354 example setup, <mass>)
SEED = 20261202
_FOOT = ("talus_r", "calcn_r", "toes_r", "talus_l", "calcn_l", "toes_l")


def _both(body: str) -> tuple[BodyAxes, BodyAxes]:
    return BodyAxes(f"{body}_r"), BodyAxes(f"{body}_l")


# OpenSim's measurement set for subject01 (Gait2354 example, gait2354_Scale_MeasurementSet):
# one marker pair per side and segment, every segment scaled uniformly. (Its BodyScales
# of patella_r/l are left out: gait10dof18musc has no patellae.)
_TORSO = Measurement("torso", (("V.Sacral", "Top.Head"),), (BodyAxes("torso"),))
_PELVIS = Measurement("pelvis", (("R.ASIS", "L.ASIS"),), (BodyAxes("pelvis"),))
_THIGH_PAIRS = (("R.ASIS", "R.Knee.Lat"), ("L.ASIS", "L.Knee.Lat"))
_SHANK_PAIRS = (("R.Knee.Lat", "R.Ankle.Lat"), ("L.Knee.Lat", "L.Ankle.Lat"))
_FOOT_MEASUREMENT = Measurement(
    "foot",
    (("R.Heel", "R.Toe.Tip"), ("L.Heel", "L.Toe.Tip")),
    tuple(map(BodyAxes, ("calcn_r", "calcn_l", "toes_r", "toes_l"))),
)

SUBJECT01_SETUP = ScaleSetup(
    measurements=(
        _TORSO,
        _PELVIS,
        Measurement("thigh", _THIGH_PAIRS, _both("femur")),
        Measurement("shank", _SHANK_PAIRS, (*_both("tibia"), *_both("talus"))),
        _FOOT_MEASUREMENT,
    ),
    subject_mass=SUBJECT_MASS,
    preserve_mass_distribution=True,
    time_range=(1.0, 2.0),  # as OpenSim's setup
)

# The whole published setup: its scaling_order is "measurements manualScale", and its
# ScaleSet (subject01_Scale_ScaleSet) then overrides the femur and tibia factors. gaitsim
# refuses a body scaled twice, so the thigh measurement (femur only) is left out and the
# shank measurement keeps the talus: the same factors result.
OPENSIM_SUBJECT01 = ScaleSetup(
    measurements=(
        _TORSO,
        _PELVIS,
        Measurement("shank", _SHANK_PAIRS, _both("talus")),
        _FOOT_MEASUREMENT,
    ),
    manual_scales=(
        ManualScale("femur_r", (1.14724,) * 3),
        ManualScale("femur_l", (1.14724,) * 3),
        ManualScale("tibia_r", (0.988523,) * 3),
        ManualScale("tibia_l", (0.988523,) * 3),
    ),
    subject_mass=SUBJECT_MASS,
    preserve_mass_distribution=True,
    time_range=(1.0, 2.0),
)

# Generic model markers used by those measurements, from OpenSim's gait2354 scale marker
# set (opensim-models Gait2354_Simbody_Patellae/gait2354_Scale_MarkerSet.xml @761d3132),
# body frames, metres. gait10dof18musc.osim itself carries no markers.
GAIT2354_MARKERS = (
    Marker("Top.Head", "torso", (0.00084, 0.657, 0.0)),
    Marker("R.ASIS", "pelvis", (0.02, 0.03, 0.128)),
    Marker("L.ASIS", "pelvis", (0.02, 0.03, -0.128)),
    Marker("V.Sacral", "pelvis", (-0.16, 0.04, 0.0)),
    Marker("R.Knee.Lat", "femur_r", (0.0, -0.404, 0.05)),
    Marker("L.Knee.Lat", "femur_l", (0.0, -0.404, -0.05)),
    Marker("R.Ankle.Lat", "tibia_r", (-0.005, -0.41, 0.053)),
    Marker("L.Ankle.Lat", "tibia_l", (-0.005, -0.41, -0.053)),
    Marker("R.Heel", "calcn_r", (-0.02, 0.02, 0.0)),
    Marker("L.Heel", "calcn_l", (-0.02, 0.02, 0.0)),
    Marker("R.Toe.Tip", "calcn_r", (0.26, 0.005, 0.0)),
    Marker("L.Toe.Tip", "calcn_l", (0.26, 0.005, 0.0)),
)


@pytest.fixture(scope="module")
def subject01(shared_data: Path) -> tuple[Path, Model, MarkerTable]:
    model_path = shared_data / FOLDER / "subject01_scaled.osim"
    return (
        model_path,
        read_osim(model_path),
        read_trc(shared_data / FOLDER / "subject01_static.trc"),
    )


def _published_factors(path: Path) -> dict[str, float]:
    """The factors OpenSim applied to each body of ``subject01_scaled.osim``: the scale
    factors of its display meshes (the generic meshes are unscaled), 6 digits."""
    factors: dict[str, float] = {}
    for body in ET.parse(path).getroot().iter("Body"):
        meshes = [m for m in body.iter("Mesh") if m.findtext("scale_factors")]
        values = {tuple(float(v) for v in m.findtext("scale_factors", "").split()) for m in meshes}
        assert len(values) == 1, body.get("name")
        ((sx, sy, sz),) = values
        assert sx == sy == sz
        factors[body.get("name", "")] = sx
    return factors


def test_generic_model_scaled_with_opensims_setup_gives_opensims_subject01(
    shared_data: Path, subject01
) -> None:
    model_path, published, static = subject01
    generic = read_osim(shared_data / FOLDER / "gait10dof18musc.osim")
    generic = dataclasses.replace(generic, markers=GAIT2354_MARKERS)
    result = scale_model(generic, OPENSIM_SUBJECT01, static)
    print("\n" + result.report.summary())
    expected = _published_factors(model_path)
    for b in result.report.bodies:
        # OpenSim prints its factors to 6 significant digits: agreement within half a
        # unit of the 6th digit (5e-6) means the same factor.
        assert b.factors == pytest.approx((expected[b.body],) * 3, abs=5e-6), b.body
    for ours, theirs in zip(result.model.bodies, published.bodies, strict=True):
        assert ours.mass == pytest.approx(theirs.mass, rel=1e-12), ours.name
        # Inertias go with the square of the factors (6 digits: 1e-5) and are printed
        # to 6-7 digits in the generic file: 2e-5 relative.
        np.testing.assert_allclose(ours.inertia, theirs.inertia, rtol=2e-5, atol=1e-12)
    # Muscles whose generic parameters are still those OpenSim scaled (their optimal fibre
    # and tendon slack lengths changed in the same ratio from generic to subject01);
    # the others were edited in gait10dof18musc.osim after subject01 was made.
    unchanged = 0
    for g, ours, theirs in zip(
        generic.muscles, result.model.muscles, published.muscles, strict=True
    ):
        r_opt = theirs.optimal_fiber_length / g.optimal_fiber_length
        r_slack = theirs.tendon_slack_length / g.tendon_slack_length
        if abs(r_opt - r_slack) > 1e-9:
            continue
        unchanged += 1
        # The factors' 6 digits again: the muscle-tendon length ratio to 1e-5.
        assert ours.optimal_fiber_length == pytest.approx(theirs.optimal_fiber_length, rel=1e-5)
        assert ours.tendon_slack_length == pytest.approx(theirs.tendon_slack_length, rel=1e-5)
    assert unchanged == 12  # 6 of the 9 muscles per leg


def test_scaling_subject01_with_its_own_static_trial(subject01) -> None:
    _, model, static = subject01
    result = scale_model(model, SUBJECT01_SETUP, static)
    print("\n" + result.report.summary())
    for b in result.report.bodies:
        # The 3 %: the markers were placed on this very trial, so what remains is
        # the static pose (joint angles not exactly zero) and marker noise.
        np.testing.assert_allclose(b.factors, 1.0, atol=0.03, err_msg=b.body)
    assert result.model.total_mass == pytest.approx(SUBJECT_MASS, rel=1e-12)
    assert result.report.time_range == pytest.approx((1.0, 2.0), abs=0.02)


# --------------------------------------------------------------------------------------
# OpenSim's ScaleTool on the same setup
# --------------------------------------------------------------------------------------
_SCALE_TOOL = textwrap.dedent(
    """
    import sys
    import opensim
    tool = opensim.ScaleTool(sys.argv[1])
    tool.run()
    """
)


def _scale_tool_setup(setup: ScaleSetup, model_file: str, marker_file: str) -> str:
    measurements = []
    for m in setup.measurements:
        pairs = "".join(
            f"<MarkerPair><markers>{a} {b}</markers></MarkerPair>" for a, b in m.marker_pairs
        )
        scales = "".join(
            f"<BodyScale name='{t.body}'><axes>{' '.join(t.axes.upper())}</axes></BodyScale>"
            for t in m.bodies
        )
        measurements.append(
            f"<Measurement name='{m.name}'><apply>true</apply>"
            f"<MarkerPairSet><objects>{pairs}</objects></MarkerPairSet>"
            f"<BodyScaleSet><objects>{scales}</objects></BodyScaleSet></Measurement>"
        )
    manual = "".join(
        f"<Scale><scales>{' '.join(repr(v) for v in ms.factors)}</scales>"
        f"<segment>{ms.body}</segment><apply>true</apply></Scale>"
        for ms in setup.manual_scales
    )
    order = " ".join(
        name
        for name, used in (("measurements", setup.measurements), ("manualScale", manual))
        if used
    )
    time_range = setup.time_range or (-1e9, 1e9)
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000"><ScaleTool name="subject">
<mass>{setup.subject_mass if setup.subject_mass is not None else -1}</mass>
<GenericModelMaker><model_file>{model_file}</model_file>
<marker_set_file>Unassigned</marker_set_file></GenericModelMaker>
<ModelScaler><apply>true</apply><scaling_order>{order}</scaling_order>
<MeasurementSet><objects>{"".join(measurements)}</objects></MeasurementSet>
<ScaleSet><objects>{manual}</objects></ScaleSet>
<marker_file>{marker_file}</marker_file>
<time_range>{time_range[0]!r} {time_range[1]!r}</time_range>
<preserve_mass_distribution>{str(setup.preserve_mass_distribution).lower()}</preserve_mass_distribution>
<output_model_file>scaled.osim</output_model_file></ModelScaler>
<MarkerPlacer><apply>false</apply></MarkerPlacer>
</ScaleTool></OpenSimDocument>
"""


def _opensim_scale(model_path: Path, static_path: Path, setup: ScaleSetup, tmp: Path) -> Model:
    """Scale with OpenSim's ScaleTool in a subprocess; read its output model."""
    require_opensim()
    # ScaleTool prefixes file names with the setup's folder: work in one folder.
    shutil.copy(model_path, tmp / "generic.osim")
    shutil.copy(static_path, tmp / "static.trc")
    (tmp / "setup.xml").write_text(_scale_tool_setup(setup, "generic.osim", "static.trc"))
    proc = subprocess.run(
        [sys.executable, "-c", _SCALE_TOOL, "setup.xml"],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = tmp / "scaled.osim"
    if not out.exists():
        raise RuntimeError(f"OpenSim's ScaleTool failed:\n{proc.stdout[-3000:]}\n{proc.stderr}")
    return read_osim(out)


def _compare_models(ours: Model, theirs: Model, *, inertia_bodies: set[str]) -> None:
    # Both sides evaluate the same formulas in double precision and OpenSim writes 17
    # significant digits: agreement to 1e-12 relative is rounding.
    tol = 1e-12
    for a, b in zip(ours.bodies, theirs.bodies, strict=True):
        assert a.name == b.name
        assert a.mass == pytest.approx(b.mass, rel=tol), a.name
        np.testing.assert_allclose(a.com, b.com, rtol=tol, atol=tol, err_msg=a.name)
        if a.name in inertia_bodies:
            np.testing.assert_allclose(a.inertia, b.inertia, rtol=tol, atol=tol, err_msg=a.name)
    for a, b in zip(ours.joints, theirs.joints, strict=True):
        np.testing.assert_allclose(a.parent.translation, b.parent.translation, atol=tol)
        np.testing.assert_allclose(a.child.translation, b.child.translation, atol=tol)
    for a, b in zip(ours.markers, theirs.markers, strict=True):
        np.testing.assert_allclose(a.location, b.location, atol=tol, err_msg=a.name)
    for a, b in zip(ours.muscles, theirs.muscles, strict=True):
        assert a.optimal_fiber_length == pytest.approx(b.optimal_fiber_length, rel=tol), a.name
        assert a.tendon_slack_length == pytest.approx(b.tendon_slack_length, rel=tol), a.name
    # Kinematics and paths at random poses (OpenSim's hard switch of conditional points).
    options = BuildOptions(conditional_smoothing=0.0)
    f_ours, f_theirs = build(ours, options), build(theirs, options)
    rng = np.random.default_rng(SEED)
    lo = np.array([c.range[0] for c in ours.coordinates])
    hi = np.array([c.range[1] for c in ours.coordinates])
    q = lo + (hi - lo) * rng.random((50, lo.size))
    for f in ("muscle_tendon_lengths", "marker_positions"):
        mapped_ours = np.asarray(getattr(f_ours, f).map(50)(q.T))
        mapped_theirs = np.asarray(getattr(f_theirs, f).map(50)(q.T))
        np.testing.assert_allclose(mapped_ours, mapped_theirs, atol=1e-12, err_msg=f)


@pytest.mark.opensim
def test_same_model_as_opensim_scaletool_with_measurements(subject01, tmp_path: Path) -> None:
    model_path, model, static = subject01
    theirs = _opensim_scale(
        model_path, model_path.with_name("subject01_static.trc"), SUBJECT01_SETUP, tmp_path
    )
    ours = scale_model(model, SUBJECT01_SETUP, static).model
    _compare_models(ours, theirs, inertia_bodies={b.name for b in model.bodies})


@pytest.mark.opensim
def test_same_model_as_opensim_scaletool_with_unequal_manual_factors(
    subject01, tmp_path: Path
) -> None:
    """Per-axis factors and mass scaled by volume. Inertias are compared only for bodies
    with equal factors: OpenSim refits a cylinder to the inertia of a body scaled by
    unequal factors (``Body::scaleInertialProperties``), gaitsim transforms it exactly."""
    model_path, model, _ = subject01
    manual = (
        ManualScale("femur_r", (1.1, 0.92, 1.05)),
        ManualScale("tibia_r", (0.95, 1.08, 1.0)),
        ManualScale("calcn_r", (1.06, 0.97, 0.93)),
        ManualScale("pelvis", (1.03, 1.03, 1.03)),
        ManualScale("torso", (0.98, 1.04, 1.0)),
    )
    setup = ScaleSetup(manual_scales=manual, subject_mass=80.0, preserve_mass_distribution=False)
    theirs = _opensim_scale(
        model_path, model_path.with_name("subject01_static.trc"), setup, tmp_path
    )
    ours = scale_model(model, setup).model
    unequal = {ms.body for ms in manual if len(set(ms.factors)) > 1}
    _compare_models(ours, theirs, inertia_bodies={b.name for b in model.bodies} - unequal)
    for body in sorted(unequal):
        a, b = ours.body(body).inertia[:3], theirs.body(body).inertia[:3]
        print(f"{body}: principal moments gaitsim {np.round(a, 6)} OpenSim {np.round(b, 6)}")


# --------------------------------------------------------------------------------------
# Known factors
# --------------------------------------------------------------------------------------
def _static_of(model: Model, frames: int, noise: float) -> MarkerTable:
    q0 = np.array([c.default for c in model.coordinates])
    positions = np.asarray(build(model).marker_positions(q0)).T
    rng = np.random.default_rng(SEED)
    data = positions[None] + noise * rng.standard_normal((frames, *positions.shape))
    return MarkerTable(tuple(m.name for m in model.markers), np.arange(frames) / 60.0, data, 60.0)


# Pairs on one segment each (so that the factors are exact without noise), per axis where
# the markers allow: pelvis width (ASIS to ASIS is along z), foot length (heel to toe tip,
# along x) and foot width (lateral to medial toe, along z).
_KNOWN = ScaleSetup(
    measurements=(
        Measurement("pelvis_width", (("R.ASIS", "L.ASIS"),), (BodyAxes("pelvis", "z"),)),
        Measurement(
            "thigh",
            (("R.Thigh.Upper", "R.Knee.Lat"), ("L.Thigh.Upper", "L.Knee.Lat")),
            _both("femur"),
        ),
        Measurement(
            "shank",
            (("R.Shank.Upper", "R.Ankle.Lat"), ("L.Shank.Upper", "L.Ankle.Lat")),
            _both("tibia"),
        ),
        Measurement(
            "foot_length",
            (("R.Heel", "R.Toe.Tip"), ("L.Heel", "L.Toe.Tip")),
            tuple(BodyAxes(b, "x") for b in _FOOT),
        ),
        Measurement(
            "foot_width",
            (("R.Toe.Lat", "R.Toe.Med"), ("L.Toe.Lat", "L.Toe.Med")),
            tuple(BodyAxes(b, "z") for b in _FOOT),
        ),
        Measurement(
            "torso", (("Sternum", "Top.Head"), ("R.Acromium", "L.Acromium")), (BodyAxes("torso"),)
        ),
    ),
    subject_mass=70.0,
)
_TRUTH = {
    "pelvis": (1.0, 1.0, 1.06),
    "femur_r": (0.9,) * 3,
    "femur_l": (0.9,) * 3,
    "tibia_r": (1.1,) * 3,
    "tibia_l": (1.1,) * 3,
    "torso": (1.04,) * 3,
} | {b: (1.07, 1.0, 0.94) for b in _FOOT}


def test_recovers_known_factors_of_subject01(subject01) -> None:
    _, model, _ = subject01
    direct = apply_scale_factors(model, _TRUTH, subject_mass=70.0)
    result = scale_model(model, _KNOWN, _static_of(direct, frames=30, noise=0.0005))
    print("\n" + result.report.summary())
    for b in result.report.bodies:
        # The issue's 1 %. Measured: foot width 0.40 % off (the toe markers' pair is 7
        # degrees off the z axis, so the unscaled height leaks in), the rest within
        # 0.04 % (0.5 mm noise averaged over 30 frames).
        np.testing.assert_allclose(b.factors, _TRUTH.get(b.body, (1.0,) * 3), rtol=0.01)

    # Without noise, uniform factors recovered from pairs on one body are exact, and the
    # scaled model is the directly scaled one: lengths and moment arms to rounding.
    uniform = {b: (s[0],) * 3 for b, s in _TRUTH.items() if len(set(s)) == 1}
    setup = ScaleSetup(
        tuple(m for m in _KNOWN.measurements if m.name in ("thigh", "shank", "torso")),
        subject_mass=70.0,
    )
    direct = apply_scale_factors(model, uniform, subject_mass=70.0)
    scaled = scale_model(model, setup, _static_of(direct, frames=3, noise=0.0)).model
    f_scaled, f_direct = build(scaled), build(direct)
    rng = np.random.default_rng(SEED)
    lo = np.array([c.range[0] for c in model.coordinates])
    hi = np.array([c.range[1] for c in model.coordinates])
    for q in lo + (hi - lo) * rng.random((20, lo.size)):
        # Rounding only (the same exact expressions): 1e-12 m.
        np.testing.assert_allclose(
            np.asarray(f_scaled.muscle_tendon_lengths(q)),
            np.asarray(f_direct.muscle_tendon_lengths(q)),
            atol=1e-12,
        )
        np.testing.assert_allclose(
            np.asarray(f_scaled.moment_arms(q)), np.asarray(f_direct.moment_arms(q)), atol=1e-12
        )


# --------------------------------------------------------------------------------------
# Saving the scaled model: gaitsim's TOML and OpenSim's .osim
# --------------------------------------------------------------------------------------
def _scaled_subject(model: Model, static: MarkerTable) -> Model:
    """subject01 scaled by the measurements plus unequal manual factors on the right leg."""
    setup = ScaleSetup(
        measurements=tuple(
            m for m in SUBJECT01_SETUP.measurements if m.name in ("pelvis", "torso")
        ),
        manual_scales=(
            ManualScale("femur_r", (1.1, 0.92, 1.05)),
            ManualScale("tibia_r", (0.95, 1.08, 1.0)),
        ),
        subject_mass=SUBJECT_MASS,
        time_range=SUBJECT01_SETUP.time_range,
    )
    return scale_model(model, setup, static).model


def test_scaled_model_saves_in_both_formats(subject01, tmp_path: Path) -> None:
    from gaitsim.io.osim_write import write_osim
    from gaitsim.model.toml_format import read_model, write_model

    _, model, static = subject01
    scaled = _scaled_subject(model, static)
    assert read_model(write_model(scaled, tmp_path / "subject.toml")) == scaled
    assert read_osim(write_osim(scaled, tmp_path / "subject.osim")) == scaled


@pytest.mark.opensim
def test_opensim_computes_the_written_scaled_model_as_gaitsim(subject01, tmp_path: Path) -> None:
    from gaitsim.io.osim_write import write_osim

    from .oracle import run_oracle

    require_opensim()
    _, model, static = subject01
    scaled = _scaled_subject(model, static)
    path = write_osim(scaled, tmp_path / "subject.osim")
    rng = np.random.default_rng(SEED)
    lo = np.array([c.range[0] for c in scaled.coordinates])
    hi = np.array([c.range[1] for c in scaled.coordinates])
    q = lo + (hi - lo) * rng.random((100, lo.size))
    qd = rng.uniform(-3.0, 3.0, q.shape)
    qdd = rng.uniform(-20.0, 20.0, q.shape)
    result = run_oracle(
        path,
        [
            {"id": "geo", "type": "muscle_geometry", "q": q},
            {"id": "id", "type": "inverse_dynamics", "q": q, "qdot": qd, "qddot": qdd},
            {"id": "kin", "type": "kinematics", "q": q},
        ],
    )
    assert [str(c) for c in result["coordinate_names"]] == list(scaled.coordinate_names)
    muscles = [str(m) for m in result["muscle_names"]]
    perm = [muscles.index(m) for m in scaled.muscle_names]
    f = build(scaled, BuildOptions(conditional_smoothing=0.0))
    n = q.shape[0]
    lengths = np.asarray(f.muscle_tendon_lengths.map(n)(q.T)).T
    arms = np.stack([np.asarray(f.moment_arms(qi)) for qi in q])
    # The validation tolerances of gaitsim's mechanics against OpenSim: 0.1 mm for
    # lengths and moment arms, 1e-6 relative (or 1e-4 N m) for inverse dynamics.
    assert np.abs(lengths - np.asarray(result["geo"]["length"])[:, perm]).max() < 1e-4
    assert np.abs(arms - np.asarray(result["geo"]["moment_arm"])[:, perm]).max() < 1e-4
    bf = np.zeros((6, len(scaled.bodies) * n))
    tau = np.asarray(f.inverse_dynamics.map(n)(q.T, qd.T, qdd.T, bf)).T
    ref = np.asarray(result["id"]["generalized_forces"])
    assert (np.abs(tau - ref) <= np.maximum(1e-6 * np.abs(ref), 1e-4)).all()
    markers = np.asarray(f.marker_positions.map(n)(q.T)).reshape(3, n, -1)  # frame blocks
    ref_markers = np.asarray(result["kin"]["marker_position"])  # n x n_markers x 3
    marker_names = [str(m) for m in result["marker_names"]]
    mperm = [marker_names.index(m.name) for m in scaled.markers]
    # Exact kinematics on both sides: 1e-9 m is rounding.
    np.testing.assert_allclose(markers.transpose(1, 2, 0), ref_markers[:, mperm], atol=1e-9)
