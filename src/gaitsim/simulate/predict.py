"""Predictive walking: one call from what the user asks for to a stride.

>>> from gaitsim.simulate.predict import predict_walking
>>> run = predict_walking("gait2d", speed=1.3)            # doctest: +SKIP
>>> run.result.speed, run.solution.iterations              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.builtin import load_model
from gaitsim.model.description import Model
from gaitsim.ocp import Ipopt, Progress, Solution, Trajectory, Trapezoidal, solve
from gaitsim.ocp.transcription import Transcription
from gaitsim.simulate.guesses import shipped_guess
from gaitsim.simulate.initial_guess import kinematic_guess
from gaitsim.simulate.result import WalkingResult
from gaitsim.simulate.stride import walking_result
from gaitsim.simulate.walking import WalkingLayout, WalkingSpec, walking_problem

__all__ = ["WalkingRun", "predict_walking"]


@dataclass(frozen=True)
class WalkingRun:
    """A solved walking problem: what was asked, the raw solution and the stride.

    ``result`` is None when the solve failed and the caller asked for the failure back
    (the solution is then sealed).
    """

    model: Model
    spec: WalkingSpec
    layout: WalkingLayout
    solution: Solution
    result: WalkingResult | None

    @classmethod
    def from_solution(
        cls,
        model: Model,
        functions: ModelFunctions,
        layout: WalkingLayout,
        spec: WalkingSpec,
        solution: Solution,
        kind: str,
    ) -> WalkingRun:
        """Wrap a solution, computing the stride unless the solve failed."""
        result = None
        if not solution.sealed:
            result = walking_result(model, functions, layout, spec, solution, kind=kind)
        return cls(model, spec, layout, solution, result)


def predict_walking(
    model: Model | str | Path = "gait2d",
    *,
    speed: float = 1.3,
    spec: WalkingSpec | None = None,
    transcription: Transcription | None = None,
    solver: Ipopt | None = None,
    initial_guess: Trajectory | Solution | None = None,
    progress: Callable[[Progress], None] | None = None,
    functions: ModelFunctions | None = None,
    return_failure: bool = False,
    use_shipped_guess: bool = True,
) -> WalkingRun:
    """Predict walking at ``speed`` (m/s; negative: backward) with a muscle-driven model.

    Without ``initial_guess`` the solve starts from the guess shipped with gaitsim for
    this model and direction (:mod:`gaitsim.simulate.guesses`), if there is one and
    ``use_shipped_guess``, else from a data-free kinematic guess
    (:func:`gaitsim.simulate.initial_guess.kinematic_guess`).

    Raises
    ------
    ConvergenceError
        If the solver does not converge (unless ``return_failure``).
    """
    if not isinstance(model, Model):
        model = load_model(model)
    spec = spec or WalkingSpec(speed=speed)
    functions = functions or build(model)
    problem, layout = walking_problem(model, spec, functions)
    # A converged solution of a nearby problem lets IPOPT start close to the optimum.
    warm = isinstance(initial_guess, Solution)
    if initial_guess is None and use_shipped_guess:
        shipped = shipped_guess(model.name, spec.speed)
        if shipped is not None:
            initial_guess, solved_speed = shipped
            warm = abs(solved_speed - spec.speed) <= 0.1 * abs(spec.speed)
    if initial_guess is None:
        lo, hi = spec.phase_duration()
        initial_guess = kinematic_guess(
            model, layout, speed=spec.speed, duration=0.5 * (lo + hi), half_cycle=spec.half_cycle
        )
    solution = solve(
        problem,
        transcription or Trapezoidal(50),
        solver or Ipopt(tolerance=1e-4, max_iterations=3000),
        initial_guess=initial_guess,
        progress=progress,
        return_failure=return_failure,
        warm_start=warm,
    )
    return WalkingRun.from_solution(model, functions, layout, spec, solution, "predictive")
