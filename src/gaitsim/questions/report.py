"""Run the questions and write the report: ``questions.html`` and ``questions.json``.

``questions.json`` holds every number quoted in the report (``evidence``), each claim's
verdict, rule and the numbers the rule used, and the runs the answers rest on. Runs are
kept in ``<folder>/runs`` (or a folder given) and reused on the next call.
"""

from __future__ import annotations

import importlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gaitsim import __version__
from gaitsim.questions.answer import Answer
from gaitsim.questions.context import QuestionContext
from gaitsim.questions.evidence import Evidence
from gaitsim.questions.html import render_report
from gaitsim.questions.runs import RunLibrary

__all__ = ["QUESTIONS", "QuestionsReport", "run_questions"]

#: Question number -> module (each exposes ``answer(context) -> Answer``).
QUESTIONS = {
    1: "gaitsim.questions.q1_knee_swing",
    2: "gaitsim.questions.q2_hamstrings",
    3: "gaitsim.questions.q3_hip_flexors",
    4: "gaitsim.questions.q4_alignment",
    5: "gaitsim.questions.q5_backward",
}


@dataclass(frozen=True)
class QuestionsReport:
    """What :func:`run_questions` wrote and found."""

    html: Path
    json: Path
    answers: tuple[Answer, ...]
    seconds: float


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run_questions(
    folder: str | Path,
    *,
    only: Sequence[int] | None = None,
    runs: str | Path | None = None,
    trial: tuple[Path, Path] | None = None,
    say: Callable[[str], None] = print,
) -> QuestionsReport:
    """Answer the questions (all, or ``only`` those numbers) and write the report.

    Raises
    ------
    ValueError
        If ``only`` names a question that does not exist.
    """
    numbers = sorted(QUESTIONS) if not only else sorted(set(only))
    unknown = [n for n in numbers if n not in QUESTIONS]
    if unknown:
        raise ValueError(f"no question {unknown}; the questions are {sorted(QUESTIONS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    library = RunLibrary(Path(runs) if runs is not None else folder / "runs")
    evidence = Evidence()
    context = QuestionContext(library, folder, evidence, say, trial)
    t0 = time.perf_counter()
    answers = []
    for n in numbers:
        say(f"question {n} ...")
        module = importlib.import_module(QUESTIONS[n])
        answers.append(module.answer(context))
    seconds = time.perf_counter() - t0
    html_path = folder / "questions.html"
    html_path.write_text(render_report(answers, folder), encoding="utf-8")
    record = {
        "gaitsim_version": __version__,
        "questions": [
            {
                "number": a.number,
                "title": a.title,
                "claims": [
                    {
                        "claim": c.text,
                        "verdict": c.verdict.value,
                        "rule": c.rule.text,
                        "numbers": {k: _finite(v) for k, v in c.numbers.items()},
                    }
                    for c in a.claims
                ],
                "limitations": list(a.limitations),
            }
            for a in answers
        ],
        "evidence": evidence.values,
        "runs": sorted(p.name for p in library.root.glob("*") if p.is_dir()),
        "seconds": seconds,
    }
    json_path = folder / "questions.json"
    json_path.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return QuestionsReport(html_path, json_path, tuple(answers), seconds)
