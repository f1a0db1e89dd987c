"""Optimal control: problems, goals, transcriptions, solving, solutions.

>>> from gaitsim.ocp import solve, HermiteSimpson, Ipopt
>>> solution = solve(problem, HermiteSimpson(50), Ipopt(tolerance=1e-4))  # doctest: +SKIP
"""

from gaitsim.ocp.goals import EndpointGoal, Goal, IntegralGoal
from gaitsim.ocp.problem import (
    BoundaryConstraint,
    OptimalControlProblem,
    PathConstraint,
    ProblemError,
    Variable,
)
from gaitsim.ocp.solution import ConvergenceError, SealedSolutionError, Solution
from gaitsim.ocp.solve import Ipopt, Progress, solve
from gaitsim.ocp.trajectory import Trajectory
from gaitsim.ocp.transcription import (
    HERMITE_SIMPSON,
    TRAPEZOIDAL,
    HermiteSimpson,
    Scheme,
    Transcription,
    Trapezoidal,
    transcribe,
)

__all__ = [
    "BoundaryConstraint",
    "ConvergenceError",
    "EndpointGoal",
    "Goal",
    "HERMITE_SIMPSON",
    "HermiteSimpson",
    "IntegralGoal",
    "Ipopt",
    "OptimalControlProblem",
    "PathConstraint",
    "ProblemError",
    "Progress",
    "Scheme",
    "SealedSolutionError",
    "Solution",
    "TRAPEZOIDAL",
    "Trajectory",
    "Transcription",
    "Trapezoidal",
    "Variable",
    "solve",
    "transcribe",
]
