"""What every question receives: where runs and figures go, and how to report progress."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gaitsim.questions.evidence import Evidence
from gaitsim.questions.runs import RunLibrary, WalkingRequest
from gaitsim.questions.stride import StrideAnalysis, analyse_stride
from gaitsim.scenarios import Scenario, Weakness

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
    _strides: dict[WalkingRequest, StrideAnalysis] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def figures(self) -> Path:
        path = self.folder / "figures"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def stride(
        self, request: WalkingRequest, start_from: WalkingRequest | None = None
    ) -> StrideAnalysis:
        """The analysed stride of ``request``, solved or reused by :attr:`runs` (see
        :meth:`RunLibrary.get` for ``start_from``) and analysed once per report: several
        questions use the same normal walking."""
        if request not in self._strides:
            result = self.runs.get(request, start_from=start_from)
            self._strides[request] = analyse_stride(result, self.runs.model(request))
        return self._strides[request]

    def strength_series(
        self, label: str, muscles: str, name: str, strengths: Sequence[float]
    ) -> dict[float, StrideAnalysis]:
        """Walking of the default request with ``muscles`` at each of ``strengths``
        (1.0: the unchanged model, scenario ``"normal"``; else scenario
        ``f"{name}{percent}"``), strongest first: each weaker model starts from the
        stronger one's solution, a continuation that keeps large weakness within reach of
        the solver. ``label`` prefixes the progress messages."""
        out: dict[float, StrideAnalysis] = {}
        previous = None
        for strength in sorted(strengths, reverse=True):
            scenario = (
                Scenario("normal")
                if strength == 1.0
                else Scenario(f"{name}{int(100 * strength)}", (Weakness((muscles,), strength),))
            )
            request = WalkingRequest(scenario=scenario)
            self.say(f"{label}: walking with {scenario.describe()}")
            out[strength] = self.stride(request, start_from=previous)
            previous = request
        return out
