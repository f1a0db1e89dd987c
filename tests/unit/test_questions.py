"""Questions 1-3 on real simulated strides (the shipped solutions stand in for every run,
so nothing is solved here); the full report with fresh simulations runs in the slow suite.
"""

from __future__ import annotations

import re

import pytest

from gaitsim.questions.context import QuestionContext
from gaitsim.questions.evidence import Evidence
from gaitsim.questions.html import render_report
from gaitsim.questions.runs import RunLibrary, WalkingRequest
from gaitsim.questions.verdict import Verdict
from gaitsim.simulate.result import WalkingResult


class _ShippedRuns(RunLibrary):
    """Every request answered with the shipped stride of its direction."""

    def __init__(self, root, make) -> None:  # type: ignore[no-untyped-def]
        super().__init__(root)
        self._make = make
        self.requests: list[WalkingRequest] = []

    def get(self, request, progress=None, *, start_from=None) -> WalkingResult:  # type: ignore[no-untyped-def]
        self.requests.append(request)
        return self._make("forward" if request.speed > 0 else "backward")[2]


@pytest.fixture
def context(shipped_stride, tmp_path) -> QuestionContext:  # type: ignore[no-untyped-def]
    return QuestionContext(_ShippedRuns(tmp_path / "runs", shipped_stride), tmp_path, Evidence())


def _check_numbers(answer, context) -> None:  # type: ignore[no-untyped-def]
    html = render_report([answer], context.folder)
    spans = re.findall(r'<span class="num" data-key="([^"]+)">([^<]+)</span>', html)
    assert spans
    for key, shown in spans:
        assert key.startswith(f"q{answer.number}.")
        value = context.evidence.values[key]
        assert shown == "n/a" if value is None else float(shown.split()[0]) == value
    for figure in answer.figures:
        assert (context.folder / figure.path).is_file()


def test_question_2_weak_glutes_same_stride_is_no_overwork(context) -> None:  # type: ignore[no-untyped-def]
    from gaitsim.questions import q2_hamstrings

    answer = q2_hamstrings.answer(context)
    strengths = {r.scenario.name for r in context.runs.requests}
    assert strengths == {"normal", "glutmax50", "glutmax25"}
    _check_numbers(answer, context)
    # The stand-in runs are identical, so the 'overwork' claim must come out unsupported:
    # a rule that said otherwise would not be reading the numbers.
    overwork = answer.claims[-1]
    assert overwork.numbers["increase_25"] == 0.0
    assert overwork.verdict is Verdict.NOT_SUPPORTED
    # The terminal-swing numbers are the muscle function analysis's, not constants.
    assert context.evidence.values["q2.tsw.negative_work_j"] > 0


def test_question_3_capacity_and_weak_psoas(context) -> None:  # type: ignore[no-untyped-def]
    from gaitsim.questions import q3_hip_flexors

    answer = q3_hip_flexors.answer(context)
    _check_numbers(answer, context)
    only = answer.claims[0]
    # gait3d's rectus femoris keeps a large flexion capacity above 90 degrees with the knee
    # flexed (its fibres are near optimal there), so psoas is not the only one.
    assert only.numbers["others"] > only.numbers["psoas"]
    assert only.verdict is Verdict.NOT_SUPPORTED
    assert all(c.verdict is Verdict.NOT_SUPPORTED for c in answer.claims[1:])


@pytest.mark.slow
def test_question_1_knee_flexion_in_swing(context) -> None:  # type: ignore[no-untyped-def]
    from gaitsim.questions import q1_knee_swing

    answer = q1_knee_swing.answer(context)
    _check_numbers(answer, context)
    assert len(answer.claims) == 2
    # The two claims compete: they cannot both be fully supported.
    assert not all(c.verdict is Verdict.SUPPORTED for c in answer.claims)
