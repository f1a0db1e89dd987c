"""Question 4 (alignment and knee load): the answer on gaitsim's simulated walking, the
decision rule, and the knee loads of a measured trial with changed alignment."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from gaitsim.alignment import Presentation
from gaitsim.analysis.joint_loads import knee_adduction_moment
from gaitsim.errors import FileFormatError, GaitsimError
from gaitsim.io.external_loads import (
    ExternalForce,
    ExternalLoads,
    read_external_loads,
    write_external_loads,
)
from gaitsim.io.storage import read_storage, write_storage
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import Model
from gaitsim.questions import q4_alignment as q4
from gaitsim.questions.answer import Answer
from gaitsim.questions.context import QuestionContext
from gaitsim.questions.evidence import Evidence, Quoted
from gaitsim.questions.runs import RunLibrary, WalkingRequest
from gaitsim.questions.verdict import Verdict
from gaitsim.simulate.result import WalkingResult


class _ShippedRuns:
    """Stands in for RunLibrary: the shipped gait2d stride instead of a solve."""

    def __init__(self, model: Model, result: WalkingResult) -> None:
        self._model, self._result = model, result
        self.requests: list[WalkingRequest] = []

    def get(
        self, request: WalkingRequest, progress: object = None, *, start_from: object = None
    ) -> WalkingResult:
        self.requests.append(request)
        return self._result

    def model(self, request: WalkingRequest) -> Model:
        return self._model


StrideFactory = Callable[[str], tuple[Model, ModelFunctions, WalkingResult]]
SimulatedAnswer = tuple[Answer, QuestionContext, _ShippedRuns, float]


def _quoted(answer: Answer) -> list[Quoted]:
    parts = [p for text in answer.method + answer.findings for p in text]
    parts += [cell for table in answer.tables for row in table.rows for cell in row]
    return [p for p in parts if isinstance(p, Quoted)]


@pytest.fixture(scope="module")
def simulated_answer(
    shipped_stride: StrideFactory, tmp_path_factory: pytest.TempPathFactory
) -> SimulatedAnswer:
    model, _, result = shipped_stride("forward")
    runs = _ShippedRuns(model, result)
    folder = tmp_path_factory.mktemp("q4")
    library = cast(RunLibrary, runs)  # duck-typed stand-in: get() and model() only
    context = QuestionContext(library, folder, Evidence(), say=lambda _m: None)
    start = time.perf_counter()
    answer = q4.answer(context)
    return answer, context, runs, time.perf_counter() - start


def test_answer_without_trial_quotes_every_number(simulated_answer: SimulatedAnswer) -> None:
    answer, context, runs, seconds = simulated_answer
    assert answer.number == 4
    assert runs.requests == [q4.SIMULATED]  # gaitsim's own 1.3 m/s gait2d walking
    # "Well under a minute" (about 7 s here with a warm cache, 12 s cold).
    assert seconds < 45.0
    quoted = _quoted(answer)
    assert len(quoted) > 100
    for number in quoted:
        assert number.key.startswith("q4.")
        assert context.evidence.values[number.key] == number.value
    for key in context.evidence.values:
        assert key.startswith("q4.")
    # The claims' numbers are the quoted ones.
    for claim in answer.claims:
        for name, value in claim.numbers.items():
            if value is not None:
                assert value in context.evidence.values.values(), (claim.text, name)
    for figure in answer.figures:
        path = context.folder / figure.path
        assert path.suffix == ".svg" and path.read_text().lstrip().startswith("<?xml")
    assert any("planar" in limitation for limitation in answer.limitations)
    assert any("arch" in limitation for limitation in answer.limitations)


def test_claims_side_by_side_and_flat_feet_undecided(simulated_answer: SimulatedAnswer) -> None:
    answer, context, _, _ = simulated_answer
    texts = [c.text for c in answer.claims]
    assert len(texts) == 5
    flat = answer.claims[-1]
    assert "Flat feet" in flat.text and flat.verdict is Verdict.UNDECIDED
    values = context.evidence.values
    # Physics the question rests on, on the simulated stride with the foot in place:
    # varus moves the knee laterally over the foot, so the KAM rises at both force peaks
    # and the medial share with it; valgus does the opposite.
    assert values["q4.varus.same_foot.delta_kam_at_load_peak1"] > 0
    assert values["q4.varus.same_foot.delta_kam_at_load_peak2"] > 0
    assert values["q4.varus.same_foot.delta_medial_share_pp"] > 0
    assert values["q4.valgus.same_foot.delta_kam_at_load_peak1"] < 0
    assert values["q4.valgus.same_foot.delta_medial_share_pp"] < 0
    # Fully compensated torsion puts shank and foot back: no change at the knee. The hip
    # rotates about the femur's Y axis, 0.75 deg off the torsion (mechanical) axis, so the
    # shank returns only nearly: 0.02 %BW·ht (2 quoted decimals) and 0.5 deg of rotation.
    for case in ("anteversion", "retroversion"):
        assert abs(values[f"q4.{case}.same_foot.delta_kam_at_load_peak1"]) < 0.02
        assert abs(values[f"q4.{case}.same_foot.hip_rotation_change_deg"]) == pytest.approx(
            20.0, abs=0.5
        )
    # The verdicts follow the rule from the quoted numbers.
    for claim in answer.claims:
        assert claim.rule.apply(claim.numbers) is claim.verdict
    # The measured geometry of the changed models is the requested one (quoted with one
    # decimal: tolerances are the rounding of the quoted values).
    assert values["q4.anteversion.same_angles.anteversion_deg"] - values[
        "q4.unchanged.anteversion_deg"
    ] == pytest.approx(20.0, abs=0.1)
    assert values["q4.varus.same_foot.tibiofemoral_varus_deg"] == pytest.approx(5.0, abs=0.05)


def test_shift_rule_decides_from_the_numbers() -> None:
    any_way, medial, lateral = q4._shift_rule(0), q4._shift_rule(1), q4._shift_rule(-1)
    base = {"kam_threshold": 0.3, "share_threshold": 5.0}

    def n(k1: float, k2: float, share: float) -> dict[str, float]:
        return {**base, "delta_kam_load1": k1, "delta_kam_load2": k2, "delta_share": share}

    assert any_way(n(-0.4, 0.0, 6.0)) is Verdict.SUPPORTED
    assert any_way(n(0.1, 0.29, -6.0)) is Verdict.PARTLY_SUPPORTED
    assert any_way(n(0.1, 0.1, 1.0)) is Verdict.NOT_SUPPORTED
    assert medial(n(0.5, 0.3, 5.0)) is Verdict.SUPPORTED
    assert medial(n(-0.5, -0.3, -5.0)) is Verdict.NOT_SUPPORTED
    assert lateral(n(-0.5, -0.3, -5.0)) is Verdict.SUPPORTED
    # One peak up and the other down by as much is no medial shift of the KAM.
    assert medial(n(0.5, -0.4, 6.0)) is Verdict.PARTLY_SUPPORTED
    assert medial(n(0.5, -0.4, 1.0)) is Verdict.NOT_SUPPORTED


def test_walking_without_a_complete_stance_is_refused(shipped_stride: StrideFactory) -> None:
    model, _, result = shipped_stride("forward")
    swing = slice(80, 101)  # the right leg swings from about 77 % of the stride
    parts = {
        name: getattr(result, name)[swing]
        for name in (
            "time",
            "q",
            "qd",
            "qdd",
            "joint_moments",
            "excitations",
            "activations",
            "tendon_forces",
        )
    }
    short = dataclasses.replace(
        result,
        **parts,
        grf={k: v[swing] for k, v in result.grf.items()},
        cop={k: v[swing] for k, v in result.cop.items()},
        contact_forces={k: v[swing] for k, v in result.contact_forces.items()},
    )
    with pytest.raises(GaitsimError, match="no complete stance"):
        q4.walking_from_simulation(short, model, load_builtin("gait3d"))


# --------------------------------------------------------------------------------------
# A measured trial (opensim-core's Moco EMG-tracking walking, for the Rajagopal model)
# --------------------------------------------------------------------------------------
def _rajagopal_trial(
    shared_data: Path, folder: Path, negate_knee: bool = True
) -> tuple[Path, Path]:
    source = shared_data / "opensim" / "rajagopal_walk"
    table = read_storage(source / "mocoEMGTracking_coordinates.mot")
    if negate_knee:
        # Rajagopal's knee_angle is positive in flexion, gait2392's (gait3d's) negative.
        data = np.array(table.data)
        for side in ("r", "l"):
            data[:, table.labels.index(f"knee_angle_{side}")] *= -1.0
        table = dataclasses.replace(table, data=data)
    write_storage(table, folder / "coordinates.mot")
    loads = ExternalLoads(
        tuple(
            ExternalForce(
                name,
                f"calcn_{side}",
                force_identifier=f"ground_force_{side}_v",
                point_identifier=f"ground_force_{side}_p",
                torque_identifier=f"ground_torque_{side}_",
            )
            for name, side in (("right", "r"), ("left", "l"))
        ),
        datafile=str(source / "mocoEMGTracking_grf.mot"),
    )
    write_external_loads(loads, folder / "grf.xml")
    return folder / "coordinates.mot", folder / "grf.xml"


def test_measured_trial_kam_rises_with_varus(shared_data: Path, tmp_path: Path) -> None:
    coordinates, loads = _rajagopal_trial(shared_data, tmp_path)
    model = load_builtin("gait3d")
    functions = build(model)
    walking = q4.walking_from_trial(model, functions, coordinates, loads)
    assert walking.sides == ("r", "l")
    grf = read_storage(shared_data / "opensim" / "rajagopal_walk" / "mocoEMGTracking_grf.mot")
    vertical = grf.column("ground_force_r_vy") + grf.column("ground_force_l_vy")
    assert walking.motion.body_weight == pytest.approx(float(np.mean(vertical)), rel=1e-12)
    cases = {c.key: c for c in q4.CASES}
    base = q4.knee_outcome(walking, model, functions, cases["unchanged"], Presentation.SAME_ANGLES)
    assert len(base.stances) == 3  # two right stances and one left in the record
    # The unchanged knee is the validated KAM of gaitsim.analysis.joint_loads: same
    # first peaks (different bookkeeping of the same loads: rounding only).
    table = read_storage(coordinates)

    reference = []
    for side in ("r", "l"):
        kam = knee_adduction_moment(
            model,
            table,
            read_external_loads(loads),
            grf,
            height=q4.ASSUMED_HEIGHT,
            side=side,
            body_weight=walking.motion.body_weight,
            functions=functions,
        )
        reference += [p[0] for p in kam.peaks()]
    ours = [s.kam_peaks[0] for s in base.stances]
    # Loads as points plus free torques here, as body-origin wrenches there: 1e-9 %BW·ht
    # is rounding.
    np.testing.assert_allclose(sorted(ours), sorted(reference), atol=1e-9)
    # Healthy first peak 2-3.5 %BW*ht (Foroughi et al. 2009; joint_loads measured 3.35,
    # 2.39, 3.28): the mean of the three here.
    assert 2.0 < base.mean("kam1") < 3.5

    varus = q4.knee_outcome(walking, model, functions, cases["varus"], Presentation.SAME_FOOT)
    valgus = q4.knee_outcome(walking, model, functions, cases["valgus"], Presentation.SAME_FOOT)
    for name in ("kam1", "kam2", "load1", "load2", "medial_share"):
        assert varus.mean(name) > base.mean(name) > valgus.mean(name), name
    # 5 degrees of varus with the foot in place moves the knee about 1.4 cm laterally
    # over the foot (hip abduction of 2 deg over a 0.4 m thigh): roughly 1 BW x 1.4 cm,
    # i.e. 0.5-2 %BW*ht more KAM at the first force peak.
    assert 0.5 < varus.mean("load1") - base.mean("load1") < 2.0
    assert math.degrees(varus.varus) == pytest.approx(5.0, abs=1e-6)  # measured: rounding


def test_flexion_positive_knee_angles_are_refused(shared_data: Path, tmp_path: Path) -> None:
    coordinates, loads = _rajagopal_trial(shared_data, tmp_path, negate_knee=False)
    model = load_builtin("gait3d")
    with pytest.raises(FileFormatError, match="knee_angle_r reaches") as err:
        q4.walking_from_trial(model, build(model), coordinates, loads)
    assert "coordinates.mot" in str(err.value)
