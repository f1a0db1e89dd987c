"""What every question receives: where runs and figures go, and how to report progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gaitsim.questions.evidence import Evidence
from gaitsim.questions.runs import RunLibrary

__all__ = ["QuestionContext"]


@dataclass(frozen=True)
class QuestionContext:
    """Shared by the questions of one report.

    Attributes
    ----------
    runs
        Simulations, solved once and reused (:class:`RunLibrary`).
    folder
        The report folder; figures go to ``folder / "figures"`` and are referred to
        relative to ``folder``.
    evidence
        Where every quoted number is recorded (becomes ``questions.json``).
    say
        Progress messages for the user (one line each).
    trial
        Optional measured 3D trial for question 4: ``(coordinates .mot/.sto, external
        loads .xml)``; None uses walking that gaitsim simulated.
    """

    runs: RunLibrary
    folder: Path
    evidence: Evidence
    say: Callable[[str], None] = print
    trial: tuple[Path, Path] | None = None

    @property
    def figures(self) -> Path:
        path = self.folder / "figures"
        path.mkdir(parents=True, exist_ok=True)
        return path
