"""The clinical pipeline, its tables, report and CLI command on a trial with known answers.

The trial is synthesised from a real simulated walking stride (the ``shipped_stride``
fixture: gait2d at 1.3 m/s, periodic and left-right symmetric), repeated three times
along the walkway: markers are the model's own markers at the simulated coordinates
(written as a TRC file), ground reactions the simulated contact forces per foot at their
centres of pressure (a ``.mot`` with its ``ExternalLoads`` XML, zero where the foot is in
the air, as OpenSim's files are). So the coordinates, the stride time and speed, the
contact timing and the ground reactions are known exactly.

Other checks: the energy law for joint powers, the sign conventions of the clinical
moments, normative renaming, event merging, gait scores against a known offset, scaling
to a known factor, every number of the HTML in the CSV files, the Parquet files equal to
the CSV, loud failures and the CLI command.
"""

from __future__ import annotations

import csv
import html.parser
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from gaitsim.analysis.events import GaitEvent, GaitEvents, cycle_normalised
from gaitsim.analysis.normative import NormativeCurves, write_normative
from gaitsim.errors import GaitsimError
from gaitsim.inverse_dynamics import inverse_dynamics
from gaitsim.io.external_loads import (
    ExternalForce,
    ExternalLoads,
    read_external_loads,
    write_external_loads,
)
from gaitsim.io.storage import TimeSeriesTable, read_storage, write_storage
from gaitsim.io.trc import MarkerTable, write_trc
from gaitsim.kinematics.scaling import apply_scale_factors
from gaitsim.mechanics.model_functions import build
from gaitsim.model.builtin import load_builtin
from gaitsim.pipeline.clinical import (
    KINETIC_VARIABLES,
    ClinicalRequest,
    ClinicalResult,
    ClinicalSettings,
    MissingInputError,
    clinical_kinetics,
    clinical_normative,
    combine_events,
    run_clinical_pipeline,
    shipped_scale_setup,
)
from gaitsim.report.clinical_html import write_report
from gaitsim.report.clinical_tables import report_tables

STRIDES = 3
OFFSET = math.radians(5.0)  # normative mean = true curve + 5 degrees
# Settings that leave the synthetic data as they are (no filtering), so that the
# pipeline's numbers can be compared with the simulation's exactly.
RAW = ClinicalSettings(marker_cutoff=None, force_cutoff=None, coordinate_cutoff=None)


@dataclass(frozen=True, eq=False)
class Synthetic:
    """The synthetic trial's files and its true values."""

    folder: Path
    trc: Path
    mot: Path
    xml: Path
    normative: Path
    time: np.ndarray
    q: np.ndarray
    coordinate_names: tuple[str, ...]
    grf: dict[str, np.ndarray]
    period: float
    speed: float
    mass: float


def _tile(values: np.ndarray, strides: int, step: np.ndarray) -> np.ndarray:
    """A periodic stride (last sample = first of the next) repeated, shifted by ``step``
    per stride."""
    body = [values[:-1] + k * step for k in range(strides)]
    return np.concatenate([*body, values[-1:] + (strides - 1) * step])


def _crossing(time: np.ndarray, force: np.ndarray, threshold: float = 20.0) -> float:
    """First upward crossing of ``threshold`` (linear interpolation)."""
    i = int(np.flatnonzero((force[:-1] <= threshold) & (force[1:] > threshold))[0])
    return float(
        time[i] + (threshold - force[i]) * (time[i + 1] - time[i]) / (force[i + 1] - force[i])
    )


def _write_trial(
    folder: Path, model_name: str, time: np.ndarray, q: np.ndarray, grf, cop, stem: str = "walk"
) -> tuple[Path, Path, Path]:
    model = load_builtin(model_name)
    functions = build(model)
    n = time.size
    positions = np.asarray(functions.marker_positions.map(n)(q.T))
    positions = positions.reshape(3, n, len(model.markers)).transpose(1, 2, 0)
    names = tuple(m.name for m in model.markers)
    trc = folder / f"{stem}.trc"
    write_trc(MarkerTable(names, time, positions, 1.0 / float(time[1] - time[0])), trc)
    labels: list[str] = []
    columns = []
    for side in ("r", "l"):
        point = np.nan_to_num(cop[side])
        force = np.where(np.isnan(cop[side][:, :1]), 0.0, grf[side])  # zero off the plate
        labels += [f"{side}_ground_force_v{a}" for a in "xyz"]
        labels += [f"{side}_ground_force_p{a}" for a in "xyz"]
        labels += [f"{side}_ground_torque_{a}" for a in "xyz"]
        columns += [force, point, np.zeros_like(force)]
    mot = folder / f"{stem}_grf.mot"
    write_storage(TimeSeriesTable("grf", tuple(labels), time, np.concatenate(columns, axis=1)), mot)
    xml = folder / f"{stem}_grf.xml"
    forces = tuple(
        ExternalForce(
            f"foot_{side}",
            f"calcn_{side}",
            "ground",
            "ground",
            f"{side}_ground_force_v",
            f"{side}_ground_force_p",
            f"{side}_ground_torque_",
        )
        for side in ("r", "l")
    )
    write_external_loads(ExternalLoads(forces, datafile=mot.name), xml)
    return trc, mot, xml


@pytest.fixture(scope="module")
def synthetic(shipped_stride, tmp_path_factory: pytest.TempPathFactory) -> Synthetic:  # type: ignore[no-untyped-def]
    _, _, result = shipped_stride("forward")
    folder = tmp_path_factory.mktemp("synthetic")
    period = float(result.time[-1] - result.time[0])
    names = result.coordinate_names
    step_q = np.zeros(len(names))
    step_q[names.index("pelvis_tx")] = result.speed * period
    time = _tile(result.time, STRIDES, np.array(period))
    q = _tile(result.q, STRIDES, step_q)
    cop = {
        s: _tile(result.cop[s], STRIDES, np.array([result.speed * period, 0, 0]))
        for s in ("r", "l")
    }
    # zero where the simulation defines no centre of pressure (below its COP threshold),
    # as written to the file
    grf = {
        s: np.where(np.isnan(cop[s][:, :1]), 0.0, _tile(result.grf[s], STRIDES, np.zeros(3)))
        for s in ("r", "l")
    }
    trc, mot, xml = _write_trial(folder, "gait2d", time, q, grf, cop)
    # Normative curves: the true right-side curves from the right initial contact plus 5 deg.
    start = _crossing(time, grf["r"][:, 1])
    at = np.linspace(start, start + period, 101)
    true = {
        "pelvic_tilt": -q[:, names.index("pelvis_tilt")],
        "hip_flexion": q[:, names.index("hip_flexion_r")],
        "knee_flexion": -q[:, names.index("knee_angle_r")],
        "ankle_dorsiflexion": q[:, names.index("ankle_angle_r")],
    }
    mean = {v: np.interp(at, time, x) + OFFSET for v, x in true.items()}
    normative = folder / "normative.csv"
    write_normative(
        NormativeCurves(
            name="synthetic",
            mean=mean,
            sd={v: np.full(101, 0.05) for v in mean},
            units={v: "rad" for v in mean},
            speed=1.3,
        ),
        normative,
    )
    return Synthetic(
        folder, trc, mot, xml, normative, time, q, names, grf, period, result.speed,
        float(result.body_mass),
    )  # fmt: skip


def _request(synthetic: Synthetic, **changes: object) -> ClinicalRequest:
    request = ClinicalRequest(
        trial=synthetic.trc,
        external_loads=synthetic.xml,
        model="gait2d",
        mass=synthetic.mass,
        normative=synthetic.normative,
        settings=RAW,
    )
    return replace(request, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def result(synthetic: Synthetic) -> ClinicalResult:
    stages: list[str] = []
    out = run_clinical_pipeline(_request(synthetic), lambda stage, _: stages.append(stage))
    # progress is reported for every stage, in order
    assert list(dict.fromkeys(stages)) == [t.stage for t in out.timings]
    return out


@pytest.fixture(scope="module")
def report(result: ClinicalResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    write_report(result, folder)
    return folder


# --------------------------------------------------------------------------------------
# Known answers of the synthetic trial
# --------------------------------------------------------------------------------------
def test_inverse_kinematics_recovers_the_simulated_motion(
    synthetic: Synthetic, result: ClinicalResult
) -> None:
    assert result.ik.success.all()
    assert result.ik.coordinate_names == synthetic.coordinate_names
    # The markers are the model's own at the true coordinates: IK's tolerance is 1e-10
    # (measured error 3e-9 rad), far below 1e-6.
    np.testing.assert_allclose(result.ik.coordinates, synthetic.q, atol=1e-6)
    assert float(np.nanmax(result.ik.marker_errors)) < 1e-6


def test_cycles_and_spatiotemporal_parameters_are_the_simulated_stride(
    synthetic: Synthetic, result: ClinicalResult
) -> None:
    t, period = synthetic.time, synthetic.period
    for side in ("r", "l"):
        # three strides hold two complete cycles per side
        assert len(result.cycles[side]) == 2
        force = synthetic.grf[side][:, 1]
        # true contact fraction of the periodic stride (samples above 20 N, one period)
        one = (t >= t[0]) & (t < t[0] + period)
        stance = float(np.mean(force[one] > 20.0))
        for curves, st in zip(result.cycles[side], result.spatiotemporal[side], strict=True):
            assert curves.kinetics_valid
            assert st is not None
            # events are interpolated crossings of one periodic force: exact up to
            # rounding of the tiled times (1e-9 s)
            assert curves.cycle.duration == pytest.approx(period, abs=1e-6)
            assert st.speed == pytest.approx(synthetic.speed, rel=1e-6)
            assert st.cadence == pytest.approx(120.0 / period, rel=1e-6)
            assert st.stride_length == pytest.approx(synthetic.speed * period, rel=1e-6)
            # the sampled fraction differs from the interpolated one by < 1 sample (1 %)
            assert st.stance_percent == pytest.approx(100.0 * stance, abs=1.0)
    assert all(r.source == "force" for r in result.event_records)
    assert result.walking_speed == pytest.approx(synthetic.speed, rel=1e-6)
    assert not result.treadmill


def test_inverse_dynamics_is_the_foundation_on_the_original_files(
    synthetic: Synthetic, result: ClinicalResult
) -> None:
    """The pipeline's inverse dynamics (its IK, plates assigned to feet, per-foot table)
    equals gaitsim's inverse dynamics (validated against OpenSim) run on the true
    coordinates with the original ExternalLoads and data."""
    model = load_builtin("gait2d")
    table = TimeSeriesTable("q", synthetic.coordinate_names, synthetic.time, synthetic.q)
    reference = inverse_dynamics(
        model,
        table,
        read_external_loads(synthetic.xml),
        read_storage(synthetic.mot),
        lowpass_cutoff=None,
    )
    assert result.inverse_dynamics is not None
    # The coordinates differ by IK's 3e-9 rad, which the spline's second derivative
    # amplifies by ~(1/dt)^2 = 1.2e4 (measured difference 2.4e-3 N m against moments of
    # 100 N m); 0.02 leaves room and still catches any wrong load (a sample of contact
    # force missing gave 100 N m).
    np.testing.assert_allclose(
        result.inverse_dynamics.generalized_forces, reference.generalized_forces, atol=0.02
    )
    assert result.covered.all()  # both feet always on their force records


def test_clinical_kinetics_have_walking_signs(result: ClinicalResult) -> None:
    """Signs of normal walking (Winter, Biomechanics and Motor Control of Human Movement,
    2009, ch. 5): an internal hip extensor moment in early stance, a plantarflexor moment
    through stance (a dorsiflexor one only briefly after contact) and none in swing, ankle
    power generated at push-off. Measured on the shipped stride: hip extensor 1.0-1.2 N
    m/kg, plantarflexor peak 1.07-1.09 N m/kg, ankle power 1.1-1.2 W/kg at 52 % of the
    cycle; a flipped sign would make the plantarflexor peak the negative one."""
    for side in ("r", "l"):
        for c in result.cycles[side]:
            stance = int(c.toe_off_percent)
            k = c.kinetics
            assert k["hip_extension_moment"][:15].max() > 0.5
            plantarflexor = k["ankle_plantarflexion_moment"]
            assert plantarflexor.max() > 0.8 and plantarflexor.min() > -0.3
            assert int(np.argmax(plantarflexor)) < stance
            assert np.abs(plantarflexor[stance + 5 :]).max() < 0.05  # swing: the foot only
            power = k["ankle_power"]
            assert stance // 2 <= int(np.argmax(power)) <= stance + 5 and power.max() > 0.5


def test_gait_scores_against_a_known_offset(result: ClinicalResult) -> None:
    """The normative means are the true curves plus 5 degrees: every gait variable score is
    5 degrees, on both sides (the stride is left-right symmetric), and so is the GPS."""
    profile = result.profile
    assert profile is not None and not profile.complete
    assert set(profile.variables) == {"pelvic_tilt", "hip_flexion", "knee_flexion",
                                      "ankle_dorsiflexion"}  # fmt: skip
    for side in ("r", "l"):
        for variable, score in profile.scores[side].items():
            # curves recovered to 1e-6 rad, symmetric to rounding
            assert math.degrees(score) == pytest.approx(5.0, abs=1e-3), (side, variable)
    assert math.degrees(profile.overall) == pytest.approx(5.0, abs=1e-3)
    assert "synthetic" in result.normative_choice


def test_kinematic_curves_are_the_true_angles_in_clinical_signs(
    synthetic: Synthetic, result: ClinicalResult
) -> None:
    names = synthetic.coordinate_names
    cycle = result.cycles["r"][0].cycle
    knee = cycle_normalised(-synthetic.q[:, names.index("knee_angle_r")], synthetic.time, cycle)
    np.testing.assert_allclose(result.cycles["r"][0].kinematics["knee_flexion"], knee, atol=1e-6)
    assert result.cycles["r"][0].kinematics["knee_flexion"].max() > math.radians(40)  # swing


def test_muscle_forces_are_reported_per_side(result: ClinicalResult) -> None:
    so = result.static_optimization
    assert so is not None and so.all_converged
    for side in ("r", "l"):
        forces = result.cycles[side][0].muscle_forces
        assert set(forces) == {m for m in result.model.muscle_names if m.endswith(f"_{side}")}
        assert all(np.all(np.isfinite(f)) for f in forces.values())
        # tensions, except that the fibre damping of a shortening, inactive muscle can pull
        # the rigid-tendon force slightly below zero (measured -1.4 N, hamstrings)
        assert min(float(f.min()) for f in forces.values()) > -5.0
        assert max(float(f.max()) for f in forces.values()) > 500.0  # stance plantarflexors


# --------------------------------------------------------------------------------------
# Mechanics and conventions
# --------------------------------------------------------------------------------------
def test_joint_powers_add_up_to_the_rate_of_change_of_energy() -> None:
    """Without external forces the generalised forces' power equals dE/dt, E the kinetic
    plus potential energy (a conservation law, independent of any sign convention): the
    clinical hip, knee and ankle powers of both sides plus the pelvis and lumbar terms
    add up to it."""
    model = load_builtin("gait2d")
    functions = build(model)
    names = model.coordinate_names
    rng = np.random.default_rng(5)
    amplitude = rng.uniform(0.1, 0.4, len(names))
    omega = rng.uniform(3.0, 8.0, len(names))
    phase = rng.uniform(0, 2 * np.pi, len(names))
    base = np.array([c.default for c in model.coordinates])

    def q(t: float) -> np.ndarray:
        return base + amplitude * np.sin(omega * t + phase)

    def energy(t: float) -> float:
        h = 1e-6
        qd = (q(t + h) - q(t - h)) / (2 * h)
        kinetic = 0.5 * qd @ np.asarray(functions.mass_matrix(q(t))) @ qd
        height = float(np.asarray(functions.centre_of_mass(q(t))).ravel()[1])
        return kinetic + model.total_mass * -model.gravity[1] * height

    mass = 70.0
    for t in (0.1, 0.37, 0.8):
        qd = amplitude * omega * np.cos(omega * t + phase)
        qdd = -amplitude * omega**2 * np.sin(omega * t + phase)
        tau = np.asarray(
            functions.inverse_dynamics(q(t), qd, qdd, np.zeros((6, len(model.bodies))))
        ).ravel()
        powers = 0.0
        for side in ("r", "l"):
            k = clinical_kinetics(names, tau[None], qd[None], side, mass)
            powers += mass * sum(float(k[f"{j}_power"][0]) for j in ("hip", "knee", "ankle"))
        rest = [i for i, n in enumerate(names) if n.startswith(("pelvis", "lumbar"))]
        powers += float(tau[rest] @ qd[rest])
        h = 1e-4
        rate = (energy(t + h) - energy(t - h)) / (2 * h)
        # central differences of E (error ~h^2 |E'''|, with finite-difference speeds)
        # against powers of hundreds of watts
        assert powers == pytest.approx(rate, rel=1e-5, abs=1e-3)


def test_clinical_kinetics_signs_and_units() -> None:
    names = ("hip_flexion_r", "hip_adduction_r", "hip_rotation_r", "knee_angle_r",
             "ankle_angle_r", "subtalar_angle_r")  # fmt: skip
    tau = np.array([[10.0, -4.0, 1.0, 20.0, -50.0, 3.0]])  # N m, model signs
    qd = np.array([[1.0, 2.0, -1.0, -3.0, 0.5, 2.0]])  # rad/s
    k = clinical_kinetics(names, tau, qd, "r", 50.0)
    # a flexing hip moment is a negative extensor moment; knee_angle is positive in
    # extension; ankle_angle in dorsiflexion (OpenSim's coordinates)
    assert k["hip_extension_moment"][0] == pytest.approx(-10.0 / 50)
    assert k["hip_abduction_moment"][0] == pytest.approx(4.0 / 50)
    assert k["knee_extension_moment"][0] == pytest.approx(20.0 / 50)
    assert k["ankle_plantarflexion_moment"][0] == pytest.approx(50.0 / 50)
    assert k["hip_power"][0] == pytest.approx((10.0 - 8.0 - 1.0) / 50)
    assert k["knee_power"][0] == pytest.approx(-60.0 / 50)
    assert k["ankle_power"][0] == pytest.approx((-25.0 + 6.0) / 50)
    assert {v.variable for v in KINETIC_VARIABLES} == set(k)
    # a planar model lacks the frontal moment
    planar = clinical_kinetics(names[::3], tau[:, ::3], qd[:, ::3], "r", 50.0)
    assert "hip_abduction_moment" not in planar and "hip_power" in planar
    with pytest.raises(ValueError, match="mass"):
        clinical_kinetics(names, tau, qd, "r", 0.0)


def test_clinical_normative_renames_model_variables() -> None:
    ramp = np.linspace(0.0, 1.0, 101)
    winter_like = NormativeCurves(
        name="model-named",
        mean={
            "knee_angle_r": -ramp,
            "hip_flexion_r": ramp,
            "knee_angle_l": ramp,
            "grf_y_r": ramp,
            "ankle_angle_r_moment": -ramp,
        },  # fmt: skip
        sd={
            v: np.full(101, 0.1)
            for v in (
                "knee_angle_r",
                "hip_flexion_r",
                "knee_angle_l",
                "grf_y_r",
                "ankle_angle_r_moment",
            )
        },  # fmt: skip
        units={
            "knee_angle_r": "rad",
            "hip_flexion_r": "rad",
            "knee_angle_l": "rad",
            "grf_y_r": "BW",
            "ankle_angle_r_moment": "N m/kg",
        },  # fmt: skip
    )
    clinical = clinical_normative(winter_like)
    assert set(clinical.variables) == {"knee_flexion", "hip_flexion", "ankle_plantarflexion_moment"}
    np.testing.assert_array_equal(clinical.mean["knee_flexion"], ramp)  # sign flipped
    np.testing.assert_array_equal(clinical.mean["ankle_plantarflexion_moment"], ramp)
    np.testing.assert_array_equal(clinical.sd["knee_flexion"], np.full(101, 0.1))
    only_grf = NormativeCurves("grf", {"grf_y_r": ramp}, {"grf_y_r": ramp}, {"grf_y_r": "BW"})
    with pytest.raises(GaitsimError, match="no clinical gait variable"):
        clinical_normative(only_grf)


def test_marker_events_are_shifted_to_the_force_events() -> None:
    """Marker events 40 ms early: those with a force event are replaced by it, the others
    are moved by the median difference (+40 ms)."""
    force = GaitEvents(
        (GaitEvent("r", "initial_contact", 1.04), GaitEvent("r", "toe_off", 1.70)), 0.0, 4.0
    )
    markers = GaitEvents(
        (
            GaitEvent("r", "initial_contact", 1.0),
            GaitEvent("l", "initial_contact", 1.55),
            GaitEvent("r", "toe_off", 1.66),
            GaitEvent("r", "initial_contact", 2.1),
            GaitEvent("r", "toe_off", 2.8),
        ),
        0.0,
        4.0,
    )
    events, records, shifts = combine_events(force, markers, 0.0, 4.0)
    assert shifts == pytest.approx({"initial_contact": 0.04, "toe_off": 0.04})
    assert [(r.side, r.kind, round(r.time, 9)) for r in records] == [
        ("r", "initial_contact", 1.04),
        ("l", "initial_contact", 1.59),
        ("r", "toe_off", 1.70),
        ("r", "initial_contact", 2.14),
        ("r", "toe_off", 2.84),
    ]
    assert [r.source for r in records][:2] == ["force", "markers (shifted +40 ms)"]
    assert len(events.events) == 5
    # without force events the marker events stay as they are
    _, alone, none = combine_events(None, markers, 0.0, 4.0)
    assert none == {} and [r.time for r in alone] == [e.time for e in markers.events]


def test_marker_events_alone_find_the_same_cycles(synthetic: Synthetic) -> None:
    settings = replace(RAW, event_source="markers")
    out = run_clinical_pipeline(_request(synthetic, settings=settings, normative=None))
    assert all(r.source == "markers" for r in out.event_records)
    for side in ("r", "l"):
        assert len(out.cycles[side]) == 2
        for c in out.cycles[side]:
            # Zeni's events repeat with the stride; each cycle is one period long to
            # within the parabola refinement of the extremes (measured < 1e-4 s)
            assert c.cycle.duration == pytest.approx(synthetic.period, abs=2e-3)


def test_scaling_recovers_a_known_factor(synthetic: Synthetic, tmp_path: Path) -> None:
    """A static trial of gait2d scaled by 1.07 in its default pose: the default scale
    setup (pelvis, thigh, shank, foot) finds 1.07 for every scaled body, and masses
    follow the subject's."""
    model = load_builtin("gait2d")
    factor = 1.07
    bodies = [b.name for b in model.bodies if b.name != "torso"]
    scaled = apply_scale_factors(model, {b: (factor,) * 3 for b in bodies})
    functions = build(scaled)
    q0 = np.array([c.default for c in scaled.coordinates])
    markers = np.asarray(functions.marker_positions(q0)).T  # (n_markers, 3)
    time = np.arange(20) / 100.0
    static = tmp_path / "static.trc"
    names = tuple(m.name for m in scaled.markers)
    write_trc(MarkerTable(names, time, np.repeat(markers[None], time.size, axis=0), 100.0), static)
    out = run_clinical_pipeline(_request(synthetic, static=static, mass=80.0, normative=None))
    assert out.scaling is not None
    for body in bodies:
        # distances are exact multiples: only rounding of the TRC's 10 digits in mm
        np.testing.assert_allclose(out.scaling.report.factors(body), (factor,) * 3, rtol=1e-8)
    assert out.scaling.report.factors("torso") == (1.0, 1.0, 1.0)
    assert out.model.total_mass == pytest.approx(80.0)
    assert out.mass == 80.0
    assert any("torso" in n.text for n in out.notes)  # the unscaled body is said


def test_shipped_scale_setup() -> None:
    setup = shipped_scale_setup()
    assert [m.name for m in setup.measurements] == ["pelvis", "thigh", "shank", "foot"]
    assert setup.subject_mass is None and setup.preserve_mass_distribution
    with pytest.raises(KeyError):
        shipped_scale_setup("no_such_setup")


# --------------------------------------------------------------------------------------
# Report files
# --------------------------------------------------------------------------------------
class _Tables(html.parser.HTMLParser):
    """The cells of every ``<table data-table=...>`` of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self.table: str | None = None
        self.column: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("data-table"):
            self.table = a["data-table"]
            self.tables[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.tables[self.table].append([])
        elif tag == "td" and self.table is not None and a.get("data-column"):
            self.column, self.text = a["data-column"], ""

    def handle_data(self, data: str) -> None:
        if self.column is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.column is not None and self.table is not None:
            self.tables[self.table][-1].append((self.column, self.text))
            self.column = None
        elif tag == "table":
            self.table = None


def _csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _check_html_against_csv(folder: Path) -> int:
    """Every cell of every HTML table equals its CSV cell (numbers to the decimals
    shown); returns the number of numeric cells checked."""
    parser = _Tables()
    parser.feed((folder / "report.html").read_text(encoding="utf-8"))
    assert parser.tables, "no data tables in the HTML"
    checked = 0
    for name, rows in parser.tables.items():
        header, csv_rows = _csv(folder / "tables" / f"{name}.csv")
        rows = [r for r in rows if r]  # the header row has no td
        assert len(rows) == len(csv_rows), name
        for row, csv_row in zip(rows, csv_rows, strict=True):
            assert [c for c, _ in row] == header, name
            for (column, shown), value in zip(row, csv_row, strict=True):
                if re.fullmatch(r"-?\d+(\.\d+)?", shown):
                    decimals = len(shown.split(".")[1]) if "." in shown else 0
                    # rounding to the shown decimals: at most half a unit of the last one
                    assert abs(float(shown) - float(value)) <= 0.5 * 10**-decimals + 1e-12, (
                        name,
                        column,
                        shown,
                        value,
                    )
                    checked += 1
                elif shown == "–":
                    assert value in ("", "nan"), (name, column, value)
                elif shown in ("yes", "no"):
                    assert value == {"yes": "true", "no": "false"}[shown], (name, column)
                else:
                    assert shown == value, (name, column, shown, value)
    return checked


def test_every_number_of_the_html_is_in_the_csv(report: Path) -> None:
    assert _check_html_against_csv(report) > 100


def test_report_files(report: Path, result: ClinicalResult) -> None:
    html_text = (report / "report.html").read_text(encoding="utf-8")
    assert html_text.count('<img src="data:image/svg+xml;base64,') == 4
    sections = ("Spatio-temporal parameters", "Kinematics", "Kinetics", "Muscle forces",
                "Movement analysis profile", "Reserves and residuals", "Marker fit")  # fmt: skip
    for section in sections:
        assert f"<h2>{section}</h2>" in html_text
    assert (report / "report.pdf").read_bytes().startswith(b"%PDF")
    tables = report_tables(result)
    for table in tables:
        header, rows = _csv(report / "tables" / f"{table.name}.csv")
        assert tuple(header) == table.columns
        assert len(rows) == len(table.rows)
        parquet = pq.read_table(report / "tables" / f"{table.name}.parquet")
        assert parquet.column_names == list(table.columns)
        assert parquet.num_rows == len(table.rows)
    # Parquet holds the same numbers as the CSV (full precision in both)
    header, rows = _csv(report / "tables" / "kinematics_curves.csv")
    parquet = pq.read_table(report / "tables" / "kinematics_curves.parquet").to_pydict()
    column = header.index("knee_flexion_deg")
    np.testing.assert_array_equal([float(r[column]) for r in rows], parquet["knee_flexion_deg"])


def test_curve_table_holds_the_figure_curves_in_degrees(
    report: Path, result: ClinicalResult
) -> None:
    header, rows = _csv(report / "tables" / "kinematics_curves.csv")
    first = [r for r in rows if r[0] == "right" and r[1] == "1"]
    assert len(first) == 101
    knee = [float(r[header.index("knee_flexion_deg")]) for r in first]
    np.testing.assert_allclose(
        knee, np.degrees(result.cycles["r"][0].kinematics["knee_flexion"]), rtol=1e-15
    )


def test_nothing_is_overwritten(report: Path, result: ClinicalResult) -> None:
    before = (report / "report.html").stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="report.html"):
        write_report(result, report)
    assert (report / "report.html").stat().st_mtime_ns == before


# --------------------------------------------------------------------------------------
# Loud failures
# --------------------------------------------------------------------------------------
def test_missing_files_are_named(synthetic: Synthetic, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.c3d"
    with pytest.raises(MissingInputError, match="nowhere.c3d: walking trial not found"):
        run_clinical_pipeline(_request(synthetic, trial=missing))
    with pytest.raises(MissingInputError, match="static trial"):
        run_clinical_pipeline(_request(synthetic, static=tmp_path / "static.trc"))
    with pytest.raises(MissingInputError, match="normative"):
        run_clinical_pipeline(_request(synthetic, normative=tmp_path / "norms.json"))


def test_a_marker_the_mapping_requires_is_named(synthetic: Synthetic, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'format = "gaitsim-marker-mapping"\nversion = 1\nname = "test"\n[markers]\n'
        '"R.Heel" = "R.Heel"\nRKNE = "R.Knee.Lat"\n',
        encoding="utf-8",
    )
    with pytest.raises(GaitsimError, match="RKNE"):
        run_clinical_pipeline(_request(synthetic, mapping=mapping))


def test_a_trial_without_a_complete_cycle_fails(synthetic: Synthetic, tmp_path: Path) -> None:
    n = int(0.8 * synthetic.time.size / STRIDES)  # less than a stride
    grf = {s: synthetic.grf[s][:n] for s in ("r", "l")}
    cop = {s: np.zeros((n, 3)) for s in ("r", "l")}
    for s in ("r", "l"):
        cop[s][grf[s][:, 1] <= 0] = np.nan
    trc, _, xml = _write_trial(
        tmp_path, "gait2d", synthetic.time[:n], synthetic.q[:n], grf, cop, stem="short"
    )
    with pytest.raises(GaitsimError, match="no complete gait cycle"):
        run_clinical_pipeline(_request(synthetic, trial=trc, external_loads=xml))


def test_inconsistent_requests_fail(synthetic: Synthetic, tmp_path: Path) -> None:
    with pytest.raises(GaitsimError, match="ExternalLoads"):
        run_clinical_pipeline(_request(synthetic, external_loads=None, grf=synthetic.mot))
    with pytest.raises(GaitsimError, match="event_source"):
        run_clinical_pipeline(
            _request(synthetic, settings=replace(RAW, event_source="guess"))  # type: ignore[arg-type]
        )
    with pytest.raises(GaitsimError, match="marker_cutoff"):
        run_clinical_pipeline(_request(synthetic, settings=replace(RAW, marker_cutoff=-1.0)))
    with pytest.raises(GaitsimError, match="unknown trial format"):
        other = tmp_path / "trial.txt"
        other.write_text("x", encoding="utf-8")
        run_clinical_pipeline(_request(synthetic, trial=other))
    with pytest.raises(GaitsimError, match="subject mass"):
        run_clinical_pipeline(_request(synthetic, static=synthetic.trc, mass=None))
    with pytest.raises(GaitsimError, match="mapping or an OpenSim IK setup"):
        run_clinical_pipeline(
            _request(synthetic, mapping="plug_in_gait_lower_body", ik_setup=synthetic.xml)
        )


def test_a_trial_without_forces_gets_kinematics_only(synthetic: Synthetic) -> None:
    out = run_clinical_pipeline(_request(synthetic, external_loads=None, normative=None))
    assert out.inverse_dynamics is None and out.static_optimization is None
    assert all(not c.kinetics_valid for side in ("r", "l") for c in out.cycles[side])
    assert all(c.kinematics for side in ("r", "l") for c in out.cycles[side])
    assert any("no force plates" in n.text and n.severity == "warning" for n in out.notes)
    assert {r.source for r in out.event_records} == {"markers"}


# --------------------------------------------------------------------------------------
# The CLI command
# --------------------------------------------------------------------------------------
def _app() -> typer.Typer:
    from gaitsim.cli_report import report_command

    app = typer.Typer()
    app.command("report")(report_command)

    @app.command("other")
    def other() -> None:  # a second command keeps "report" a sub-command
        """Nothing."""

    return app


def test_cli_report_command(synthetic: Synthetic, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "report"
    arguments = [
        "report", str(synthetic.trc), "--model", "gait2d", "--external-loads", str(synthetic.xml),
        "--mass", str(synthetic.mass), "--norms", str(synthetic.normative), "--marker-cutoff", "0",
        "--force-cutoff", "0", "--coordinate-cutoff", "0", "-o", str(out), "--no-pdf",
    ]  # fmt: skip
    done = runner.invoke(_app(), arguments)
    assert done.exit_code == 0, done.output
    assert "gait profile score 5.0 deg against synthetic" in done.output
    assert "inverse kinematics" in done.output  # progress
    assert (out / "report.html").is_file() and not (out / "report.pdf").exists()
    assert _check_html_against_csv(out) > 100
    again = runner.invoke(_app(), arguments)
    assert again.exit_code == 1 and "--force" in again.output  # nothing overwritten
    forced = runner.invoke(_app(), [*arguments, "--force"])
    assert forced.exit_code == 0, forced.output
    missing = runner.invoke(_app(), ["report", str(tmp_path / "none.c3d"), "-o", str(out / "x")])
    # rich wraps long lines at the runner's 80 columns
    assert missing.exit_code == 1
    assert "none.c3d: walking trial not found" in " ".join(missing.output.split())


def test_muscle_redundancy_can_replace_static_optimisation(
    synthetic: Synthetic, result: ClinicalResult
) -> None:
    from gaitsim.analysis.muscle_redundancy import MuscleRedundancyResult, MuscleRedundancySpec

    settings = replace(RAW, muscle_redundancy=MuscleRedundancySpec())
    out = run_clinical_pipeline(_request(synthetic, settings=settings, normative=None))
    mr = out.static_optimization
    assert isinstance(mr, MuscleRedundancyResult) and mr.all_converged
    so = result.static_optimization
    assert so is not None
    # The trial is a simulated stride: activation dynamics delays forces by tens of ms but
    # the stance plantarflexor load is the same event (measured r = 0.977).
    r = np.corrcoef(mr.force("soleus_r"), so.force("soleus_r"))[0, 1]
    print(f"soleus_r, muscle redundancy vs static optimisation: r = {r:.4f}")
    assert r > 0.9
    assert set(out.cycles["r"][0].muscle_forces) == set(result.cycles["r"][0].muscle_forces)
