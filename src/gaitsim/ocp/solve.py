"""Solving: ``solve(problem, transcription=..., solver=...) -> Solution``.

The solver is IPOPT through CasADi, with exact sparse first and second derivatives
(or a limited-memory Hessian when asked). Progress (iteration, objective, infeasibility,
elapsed time) goes to a callback, which the command line shows live.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import casadi as ca
import numpy as np

from gaitsim.ocp.nlp_derivatives import structured_derivatives
from gaitsim.ocp.problem import OptimalControlProblem, ProblemError
from gaitsim.ocp.solution import ConvergenceError, Solution
from gaitsim.ocp.trajectory import Trajectory
from gaitsim.ocp.transcription import NLP, HermiteSimpson, Transcription, transcribe

__all__ = ["Ipopt", "Progress", "solve", "initial_guess_vector"]


@dataclass(frozen=True)
class Progress:
    """One solver iteration, as reported to a progress callback."""

    iteration: int
    objective: float
    infeasibility: float
    seconds: float


@dataclass(frozen=True)
class Ipopt:
    """IPOPT settings.

    Parameters
    ----------
    tolerance
        IPOPT's ``tol`` (and ``constr_viol_tol`` scaled alike).
    max_iterations
        IPOPT's ``max_iter``.
    hessian
        ``"exact"`` or ``"limited-memory"``.
    linear_solver
        IPOPT's ``linear_solver`` (``"mumps"`` ships with CasADi).
    options
        Any further IPOPT options, passed through.
    """

    tolerance: float = 1e-4
    max_iterations: int = 1000
    hessian: str = "exact"
    linear_solver: str = "mumps"
    constraint_tolerance: float | None = None
    expand: bool = False
    """Expand the NLP into scalar expressions before solving: slower to build, faster to
    evaluate (pays off for long solves)."""
    derivatives: str = "structured"
    """How the constraint Jacobian and the Lagrangian Hessian are built: ``"structured"``
    differentiates the node function once, symbolically, and assembles the exact
    derivatives node by node (:mod:`gaitsim.ocp.nlp_derivatives`); ``"automatic"`` leaves
    them to CasADi's colouring of the whole NLP. Both are exact. With ``expand`` CasADi
    differentiates the expanded NLP itself."""
    threads: int = 1
    """Threads for evaluating the node functions and their derivatives (structured
    derivatives only)."""
    options: dict[str, Any] = field(default_factory=dict)

    def ipopt_options(self) -> dict[str, Any]:
        """The options as IPOPT names them."""
        if self.hessian not in ("exact", "limited-memory"):
            raise ProblemError(f"hessian must be 'exact' or 'limited-memory', not {self.hessian}")
        if self.derivatives not in ("structured", "automatic"):
            raise ProblemError(
                f"derivatives must be 'structured' or 'automatic', not {self.derivatives}"
            )
        if self.threads < 1:
            raise ProblemError(f"threads must be at least 1, not {self.threads}")
        opts: dict[str, Any] = {
            "tol": self.tolerance,
            "constr_viol_tol": self.constraint_tolerance or self.tolerance,
            "max_iter": self.max_iterations,
            "hessian_approximation": self.hessian,
            "linear_solver": self.linear_solver,
            "print_level": 0,
            "sb": "yes",
            # The monotone barrier update needs one factorisation per iteration; the
            # adaptive one needed several and cost 4x more time on walking problems.
            "mu_strategy": "monotone",
            # METIS fill-reducing ordering for MUMPS instead of its automatic choice:
            # on gait2d walking (50 intervals) the linear solves took 1.2 s instead of
            # 6.9 s for a 38-iteration tracking solve, and a data-free prediction fell
            # from 39.8 s to 21.9 s (benchmarks/RESULTS.md, 2026-11-21, fourth session).
            "mumps_pivot_order": 5,
        }
        opts.update(self.options)
        return opts


class _IterationCallback(ca.Callback):
    """Forwards IPOPT's iterations to a Python function."""

    def __init__(self, nx: int, ng: int, report: Callable[[Progress], None]) -> None:
        ca.Callback.__init__(self)
        self._nx, self._ng = nx, ng
        self._report = report
        self._iteration = 0
        self._start = time.perf_counter()
        self._ubg: np.ndarray | None = None
        self._lbg: np.ndarray | None = None
        self.construct("gaitsim_progress", {})

    def set_bounds(self, lbg: np.ndarray, ubg: np.ndarray) -> None:
        self._lbg, self._ubg = lbg, ubg

    def get_n_in(self) -> int:
        return ca.nlpsol_n_out()

    def get_n_out(self) -> int:
        return 1

    def get_name_in(self, i: int) -> str:
        return ca.nlpsol_out(i)

    def get_name_out(self, i: int) -> str:
        return "ret"

    def get_sparsity_in(self, i: int) -> ca.Sparsity:
        name = ca.nlpsol_out(i)
        if name in ("f",):
            return ca.Sparsity.scalar()
        if name in ("x", "lam_x"):
            return ca.Sparsity.dense(self._nx)
        if name in ("g", "lam_g"):
            return ca.Sparsity.dense(self._ng)
        return ca.Sparsity(0, 0)

    def eval(self, arg: list[Any]) -> list[Any]:
        g = np.asarray(arg[ca.nlpsol_out().index("g")]).ravel()
        infeasibility = 0.0
        if self._lbg is not None and self._ubg is not None and g.size:
            infeasibility = float(
                np.max(np.maximum(self._lbg - g, 0) + np.maximum(g - self._ubg, 0))
            )
        self._report(
            Progress(
                self._iteration,
                float(arg[ca.nlpsol_out().index("f")]),
                infeasibility,
                time.perf_counter() - self._start,
            )
        )
        self._iteration += 1
        return [0]


def initial_guess_vector(
    problem: OptimalControlProblem, nlp: NLP, guess: Trajectory | Solution | None
) -> np.ndarray:
    """The NLP's starting point from a trajectory (resampled on the mesh by fraction of
    the duration) or, without one, the midpoint of each variable's finite bounds (0 where
    unbounded)."""
    n = nlp.transcription.n_intervals
    mid = nlp.transcription.scheme.has_midpoint
    nx, nu = len(problem.states), len(problem.controls)
    t_lo, t_hi = problem.duration

    def centre(v: Any) -> float:
        lo, hi = v.lower, v.upper
        if math.isfinite(lo) and math.isfinite(hi):
            return 0.5 * (lo + hi)
        if math.isfinite(lo):
            return max(lo, 0.0)
        if math.isfinite(hi):
            return min(hi, 0.0)
        return 0.0

    params = np.array([centre(v) for v in problem.parameters])
    if guess is None:
        duration = 0.5 * (t_lo + t_hi)
        xs = np.tile(np.array([centre(v) for v in problem.states])[:, None], (1, n + 1))
        us = np.tile(np.array([centre(v) for v in problem.controls])[:, None], (1, n + 1))
        xm = xs[:, :n] if mid else np.zeros((nx, 0))
        um = us[:, :n] if mid else np.zeros((nu, 0))
    else:
        traj = guess.trajectory if isinstance(guess, Solution) else guess
        duration = float(np.clip(traj.parameters.get("duration", traj.duration), t_lo, t_hi))
        frac = (traj.time - traj.time[0]) / traj.duration

        def sample(
            names: tuple[str, ...],
            values: np.ndarray,
            source: tuple[str, ...],
            variables: tuple[Any, ...],
            at: np.ndarray,
        ) -> np.ndarray:
            out = np.zeros((len(names), at.size))
            for i, (name, v) in enumerate(zip(names, variables, strict=True)):
                if name in source:
                    out[i] = np.interp(at, frac, values[:, source.index(name)])
                else:
                    out[i] = centre(v)
            return out

        nodes = nlp.mesh
        mids = 0.5 * (nodes[:-1] + nodes[1:])
        xs = sample(problem.state_names, traj.states, traj.state_names, problem.states, nodes)
        us = sample(
            problem.control_names, traj.controls, traj.control_names, problem.controls, nodes
        )
        xm = (
            sample(problem.state_names, traj.states, traj.state_names, problem.states, mids)
            if mid
            else np.zeros((nx, 0))
        )
        um = (
            sample(problem.control_names, traj.controls, traj.control_names, problem.controls, mids)
            if mid
            else np.zeros((nu, 0))
        )
        for j, name in enumerate(problem.parameter_names):
            if name in traj.parameters:
                params[j] = traj.parameters[name]
    z0 = np.asarray(nlp.pack(duration, params, xs, us, xm, um)).ravel()
    return np.clip(z0, nlp.lbz, nlp.ubz)


def solve(
    problem: OptimalControlProblem,
    transcription: Transcription | None = None,
    solver: Ipopt | None = None,
    *,
    initial_guess: Trajectory | Solution | None = None,
    progress: Callable[[Progress], None] | None = None,
    return_failure: bool = False,
    warm_start: bool = False,
) -> Solution:
    """Solve ``problem`` by direct collocation and IPOPT.

    ``warm_start`` tells IPOPT that ``initial_guess`` is already (nearly) optimal: the
    barrier parameter starts at the tolerance and variables are not pushed away from
    their bounds, so a converged guess needs a few iterations instead of a full solve.

    Raises
    ------
    ConvergenceError
        If IPOPT does not report success and ``return_failure`` is false; the sealed
        solution (last iterate) is attached as ``error.solution``.
    """
    transcription = transcription or HermiteSimpson(50)
    solver = solver or Ipopt()
    t0 = time.perf_counter()
    nlp = transcribe(problem, transcription)
    ipopt = solver.ipopt_options()
    if warm_start:
        # Start the barrier a hundredth below the tolerance (where a converged solve ends)
        # and leave variables where the guess has them; options the caller set explicitly
        # win. Measured on gait2d walking from its shipped guess (tolerance 1e-4): 4
        # iterations with mu_init 1e-6 against 23 with 1e-4, which let the iterate wander.
        warm = {
            "mu_init": max(1e-2 * solver.tolerance, 1e-9),
            "bound_push": 1e-8,
            "bound_frac": 1e-8,
        }
        ipopt = {**ipopt, **{k: v for k, v in warm.items() if k not in solver.options}}
    options: dict[str, Any] = {
        "ipopt": ipopt,
        "print_time": False,
        "expand": solver.expand,
    }
    if solver.derivatives == "structured" and not solver.expand:
        options.update(
            structured_derivatives(nlp, parallel=solver.threads, hessian=solver.hessian == "exact")
        )
    callback = None
    if progress is not None:
        callback = _IterationCallback(nlp.z.shape[0], nlp.g.shape[0], progress)
        callback.set_bounds(nlp.lbg, nlp.ubg)
        options["iteration_callback"] = callback
    nlpsol = ca.nlpsol("solver", "ipopt", {"x": nlp.z, "f": nlp.f, "g": nlp.g}, options)
    z0 = initial_guess_vector(problem, nlp, initial_guess)
    build_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = nlpsol(x0=z0, lbx=nlp.lbz, ubx=nlp.ubz, lbg=nlp.lbg, ubg=nlp.ubg)
    seconds = time.perf_counter() - t1
    stats = nlpsol.stats()
    z = np.asarray(result["x"]).ravel()
    g = np.asarray(result["g"]).ravel()
    duration, params, xs, us, _, _ = (np.asarray(a) for a in nlp.unpack(z))
    duration = float(duration.ravel()[0])
    terms_fn = ca.Function("terms", [nlp.z], list(nlp.terms.values()))
    term_values = [float(v) for v in terms_fn.call([z])] if nlp.terms else []
    violations = {}
    for name, sl in nlp.blocks:
        over = np.maximum(nlp.lbg[sl] - g[sl], 0) + np.maximum(g[sl] - nlp.ubg[sl], 0)
        violations[name] = float(over.max()) if over.size else 0.0
    params = params.ravel()
    trajectory = Trajectory(
        time=duration * nlp.mesh,
        state_names=problem.state_names,
        states=xs.T,
        control_names=problem.control_names,
        controls=us.T if us.size else np.zeros((nlp.mesh.size, 0)),
        parameters={
            "duration": duration,
            **{n: float(v) for n, v in zip(problem.parameter_names, params, strict=True)},
        },
    )
    solution = Solution(
        _trajectory=trajectory,
        success=bool(stats.get("success", False)),
        status=str(stats.get("return_status", "unknown")),
        iterations=int(stats.get("iter_count", -1)),
        objective=float(result["f"]),
        objective_terms=dict(zip(nlp.terms.keys(), term_values, strict=True)),
        constraint_violations=violations,
        seconds=seconds,
        build_seconds=build_seconds,
        problem_name=problem.name,
        settings={
            "warm_start": warm_start,
            "transcription": {
                "scheme": transcription.scheme.name,
                "n_intervals": transcription.n_intervals,
            },
            "solver": {
                "name": "ipopt",
                **{k: v for k, v in asdict(solver).items() if k != "options"},
                "options": dict(solver.options),
            },
        },
    )
    if not solution.success and not return_failure:
        raise ConvergenceError(solution)
    return solution
