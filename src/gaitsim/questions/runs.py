"""Simulations the questions need, solved once and reused.

:class:`RunLibrary` keeps one run folder (:func:`gaitsim.io.run_folder.write_run`) per
request under its root: ``<root>/<request.slug>-<hash>/``. The hash covers everything
that determines the solution (model, scenario, speed, walking settings, mesh, gaitsim
version), so a changed request never reuses a stale run. A run whose solve did not
converge is written too (for diagnosis) but never reused or returned as a result: it
raises :class:`~gaitsim.ocp.ConvergenceError`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gaitsim import __version__
from gaitsim.io.run_folder import read_run, write_run
from gaitsim.model.builtin import load_model
from gaitsim.model.description import Model
from gaitsim.ocp import ConvergenceError, Ipopt, Progress, Trapezoidal
from gaitsim.scenarios import Scenario, apply_scenario
from gaitsim.simulate.guesses import load_trajectory, save_trajectory, shipped_guess
from gaitsim.simulate.predict import predict_walking
from gaitsim.simulate.result import WalkingResult
from gaitsim.simulate.walking import WalkingSpec

__all__ = ["RunLibrary", "WalkingRequest"]

log = logging.getLogger(__name__)

#: The solved (half-cycle) trajectory kept in each run folder, to seed nearby solves.
SOLUTION = "solution.sto"


@dataclass(frozen=True)
class WalkingRequest:
    """A predictive walking simulation that a question asks for."""

    model: str = "gait2d"
    speed: float = 1.3
    scenario: Scenario = field(default_factory=lambda: Scenario("normal"))
    n_intervals: int = 50

    @property
    def slug(self) -> str:
        direction = "backward" if self.speed < 0 else "forward"
        return f"{self.model}-{direction}-{abs(self.speed):.2f}-{self.scenario.name}"

    def key(self) -> str:
        """Hash of everything that determines the solution."""
        record = {
            "request": asdict(self),
            "spec": asdict(WalkingSpec(speed=self.speed)),
            "gaitsim": __version__,
        }
        text = json.dumps(record, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


class RunLibrary:
    """Run folders under ``root``, one per :class:`WalkingRequest` (module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def folder(self, request: WalkingRequest) -> Path:
        return self.root / f"{request.slug}-{request.key()}"

    def has(self, request: WalkingRequest) -> bool:
        """Whether a converged run for ``request`` is already there."""
        run_json = self.folder(request) / "run.json"
        if not run_json.is_file():
            return False
        record = json.loads(run_json.read_text(encoding="utf-8"))
        return bool((record.get("solver") or {}).get("success"))

    def model(self, request: WalkingRequest) -> Model:
        """The model of ``request`` with its scenario applied."""
        return apply_scenario(load_model(request.model), request.scenario)

    def get(
        self,
        request: WalkingRequest,
        progress: Callable[[Progress], None] | None = None,
        *,
        start_from: WalkingRequest | None = None,
    ) -> WalkingResult:
        """The stride of ``request``: read back if solved before, else solved and saved.

        ``start_from`` names a nearby request already solved (e.g. the 50 % strength run
        for the 25 % one): its solution is the initial guess, a continuation that keeps
        large changes within reach of the solver. Without it (or if it has no saved
        solution) the solve starts from the guess shipped with gaitsim.

        Raises
        ------
        ConvergenceError
            If the solve does not converge (the failed run is kept for diagnosis in
            ``<folder>-failed``).
        """
        folder = self.folder(request)
        if self.has(request):
            log.info("reusing %s", folder)
            return read_run(folder)
        model = self.model(request)
        log.info("solving %s (%s)", request.slug, request.scenario.describe())
        # The shipped guess is optimal for the unchanged model only: a changed model (a
        # scenario) starts from it without the warm-start settings, which assume the guess
        # is already (nearly) optimal.
        guess = None
        previous = self.folder(start_from) / SOLUTION if start_from is not None else None
        if previous is not None and previous.is_file():
            guess = load_trajectory(previous)
        elif request.scenario.changes:
            shipped = shipped_guess(model.name, request.speed)
            guess = shipped[0] if shipped is not None else None
        try:
            run = predict_walking(
                model,
                speed=request.speed,
                initial_guess=guess,
                transcription=Trapezoidal(request.n_intervals),
                solver=Ipopt(tolerance=1e-4, max_iterations=3000),
                progress=progress,
            )
        except ConvergenceError as err:
            failed = folder.with_name(folder.name + "-failed")
            failed.mkdir(parents=True, exist_ok=True)
            save_trajectory(err.solution.unseal().trajectory, failed / "last_iterate.sto")
            report = json.dumps(err.solution.report(), indent=2, default=str)
            (failed / "solver.json").write_text(report + "\n", encoding="utf-8")
            log.error("%s did not converge; last iterate kept in %s", request.slug, failed)
            raise
        assert run.result is not None  # predict_walking raised otherwise
        write_run(run.result, folder, model=model, overwrite=True, figure_formats=("svg",))
        save_trajectory(run.solution.trajectory, folder / SOLUTION, name=request.slug)
        return run.result
