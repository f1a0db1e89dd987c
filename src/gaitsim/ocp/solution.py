"""What came out of a solve: a trajectory plus the solver's account of how it was found.

A :class:`Solution` always carries the solver's status, the number of iterations, the
value of every objective term, the worst constraint violations (named) and the wall time.
A solve that did not converge never passes for a result: :func:`gaitsim.ocp.solve` raises
:class:`ConvergenceError` (with the sealed solution attached), or, when asked to return
failures, gives a *sealed* solution whose trajectory cannot be read until the caller says
so with :meth:`Solution.unseal`. The last iterate is kept either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gaitsim.errors import GaitsimError
from gaitsim.ocp.trajectory import Trajectory

__all__ = ["ConvergenceError", "SealedSolutionError", "Solution"]


class SealedSolutionError(GaitsimError):
    """The solution did not converge and has not been unsealed."""


@dataclass(eq=False)
class Solution:
    """The outcome of a solve.

    Attributes
    ----------
    success
        Whether the solver reported convergence.
    status
        The solver's return status (e.g. IPOPT's ``Solve_Succeeded``).
    iterations
        Solver iterations.
    objective
        Total objective.
    objective_terms
        Value of every goal's term, by goal name.
    constraint_violations
        Largest violation of each constraint block, by name (0 when satisfied).
    seconds
        Wall time of the solve (s), building the NLP excluded.
    build_seconds
        Time to build the NLP and the solver (s).
    """

    _trajectory: Trajectory
    success: bool
    status: str
    iterations: int
    objective: float
    objective_terms: dict[str, float]
    constraint_violations: dict[str, float]
    seconds: float
    build_seconds: float = 0.0
    problem_name: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    _sealed: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self._sealed = not self.success

    @property
    def sealed(self) -> bool:
        """True for an unconverged solution that has not been unsealed."""
        return self._sealed

    def unseal(self) -> Solution:
        """Accept an unconverged solution (e.g. to inspect the last iterate); returns self."""
        self._sealed = False
        return self

    @property
    def trajectory(self) -> Trajectory:
        """The solution's states and controls at the mesh points."""
        if self._sealed:
            raise SealedSolutionError(
                f"{self.problem_name}: the solve did not converge ({self.status}, "
                f"{self.iterations} iterations; worst violation "
                f"{self.worst_violation():.3g}); call unseal() to use the last iterate"
            )
        return self._trajectory

    # Conveniences that go through the seal.
    @property
    def time(self) -> np.ndarray:
        """Mesh times (s)."""
        return self.trajectory.time

    @property
    def duration(self) -> float:
        """Phase duration (s)."""
        return self.trajectory.duration

    def state(self, name: str) -> np.ndarray:
        """One state over time."""
        return self.trajectory.state(name)

    def control(self, name: str) -> np.ndarray:
        """One control over time."""
        return self.trajectory.control(name)

    def worst_violation(self) -> float:
        """The largest constraint violation of any block."""
        return max(self.constraint_violations.values(), default=0.0)

    def report(self) -> dict[str, Any]:
        """Everything about the solve, JSON-ready."""
        return {
            "problem": self.problem_name,
            "success": self.success,
            "status": self.status,
            "iterations": self.iterations,
            "objective": self.objective,
            "objective_terms": dict(self.objective_terms),
            "constraint_violations": dict(self.constraint_violations),
            "seconds": self.seconds,
            "build_seconds": self.build_seconds,
            "settings": dict(self.settings),
        }


class ConvergenceError(GaitsimError):
    """A solve did not converge; ``solution`` holds the sealed last iterate."""

    def __init__(self, solution: Solution) -> None:
        self.solution = solution
        super().__init__(
            f"{solution.problem_name}: solver did not converge: {solution.status} after "
            f"{solution.iterations} iterations (objective {solution.objective:.6g}, worst "
            f"constraint violation {solution.worst_violation():.3g})"
        )
