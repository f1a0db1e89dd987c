"""The per-frame optimisation problems of static optimisation, and how they are solved.

This module knows nothing of models or files: it takes the numbers that define one
small convex problem per frame ``k`` and returns the solutions. With ``x = [a; u]``
(muscle activations ``a``, normalised controls ``u`` of the coordinate actuators)::

    minimise    sum_m w_m a_m^p  +  sum_i v_i u_i^2
    subject to  M_k a + B u = c_k          (one row per actuated coordinate)
                lower <= x <= upper

``M_k`` (coordinates x muscles) holds each muscle's generalised force per unit
activation, ``B`` (coordinates x actuators) each actuator's generalised force per unit
control and ``c_k`` the generalised forces left for activations and controls to supply
(see :mod:`gaitsim.analysis.static_optimization` for how they are made). The constraints
are linear and the objective is convex for ``p >= 1`` on ``a >= 0``, so every local
minimum of a frame is global (and unique for ``p > 1``). IPOPT (through CasADi, exact
first and second derivatives) is told that the constraint Jacobian is constant and, for
``p = 2``, that the Hessian is too.

Two ways of solving, with the same results:

* :func:`solve_per_frame` builds one parametric NLP (``M_k`` and ``c_k`` are parameters,
  only the structural non-zeros of ``M``) and solves it frame after frame, each solve
  starting from the previous frame's solution; every frame gets its own IPOPT status.
* :func:`solve_all_frames` stacks all frames into one sparse, block-diagonal NLP and
  solves it once. Its optimality conditions are those of all frames together, so success
  means every frame converged (to IPOPT's tolerance on the whole problem); a failure
  cannot be pinned to a frame (every frame gets the global status, and the caller
  re-solves frame by frame to find the failing ones).

Measured on subject01 (151 frames, 18 muscles, 10 coordinates), the whole-trial NLP was
2-4 times faster than the per-frame solves (0.19-1.13 s against 0.55-4.5 s on a shared
machine); details in ``docs/static_optimization.md``.

Building the whole-trial solver: CasADi would differentiate the 4,500-variable MX graph
and detect its sparsity itself; :func:`_block_diagonal_nlp` instead hands ``nlpsol``
the frame's own exact derivatives (CasADi's ``jacobian``, ``gradient`` and ``hessian`` of
the small SX expressions), mapped over the frames and laid out block-diagonally, and no
multipliers of the (absent) parameters are computed. The iterates are the same to the
last bit (checked on subject01 and on random problems, ``p = 2`` and ``3``); building
took 0.011-0.024 s instead of 0.06-0.10 s on subject01.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np
from numpy.typing import NDArray

__all__ = ["FrameProblems", "FrameSolutions", "solve_per_frame", "solve_all_frames"]

FloatArray = NDArray[np.float64]

#: IPOPT's status of a converged solve.
SUCCESS = "Solve_Succeeded"


@dataclass(frozen=True, eq=False)
class FrameProblems:
    """The data of the per-frame problems (see the module docstring).

    Parameters
    ----------
    muscle_matrices
        ``M_k`` for every frame, ``(n, n_c, n_m)``.
    pattern
        ``(n_c, n_m)`` booleans: where ``M_k`` may be non-zero (structural pattern);
        entries outside it are ignored.
    actuator_matrix
        ``B``, ``(n_c, n_a)``, the same for all frames.
    targets
        ``c_k``, ``(n, n_c)``.
    muscle_weights
        ``w_m``, ``(n_m,)``, positive.
    actuator_weights
        ``v_i``, ``(n_a,)``, positive.
    exponent
        ``p >= 1``.
    lower, upper
        Bounds on ``x = [a; u]``, ``(n_m + n_a,)`` each (``±inf`` for none).
    """

    muscle_matrices: FloatArray
    pattern: NDArray[np.bool_]
    actuator_matrix: FloatArray
    targets: FloatArray
    muscle_weights: FloatArray
    actuator_weights: FloatArray
    exponent: float
    lower: FloatArray
    upper: FloatArray

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.targets.shape[0])

    @property
    def n_variables(self) -> int:
        """Number of unknowns per frame (muscles + actuators)."""
        return int(self.muscle_weights.size + self.actuator_weights.size)

    def initial_guess(self) -> FloatArray:
        """A start inside the bounds: activations at their lower bound plus 0.05 (capped
        by the upper bound), controls at 0 (or the nearest bound)."""
        n_m = self.muscle_weights.size
        guess = np.zeros(self.n_variables)
        guess[:n_m] = np.minimum(self.lower[:n_m] + 0.05, self.upper[:n_m])
        return np.clip(guess, self.lower, self.upper)


@dataclass(frozen=True, eq=False)
class FrameSolutions:
    """Solutions of :class:`FrameProblems`.

    Attributes
    ----------
    x
        ``(n, n_m + n_a)`` solution (or last iterate) of every frame.
    status
        IPOPT's return status per frame.
    success
        ``(n,)`` whether IPOPT reported success.
    objective
        ``(n,)`` objective value per frame.
    iterations
        ``(n,)`` IPOPT iterations per frame (all-frames solve: the total for every frame).
    seconds
        Wall time of the solve(s), excluding building the NLP.
    build_seconds
        Wall time to build the NLP and solver.
    """

    x: FloatArray
    status: tuple[str, ...]
    success: NDArray[np.bool_]
    objective: FloatArray
    iterations: NDArray[np.int64]
    seconds: float
    build_seconds: float


def _ipopt_options(
    problems: FrameProblems,
    tolerance: float,
    max_iterations: int,
    mu_strategy: str,
    extra: dict[str, Any],
) -> dict[str, Any]:
    ipopt: dict[str, Any] = {
        "tol": tolerance,
        # Equality constraints are linear: once IPOPT takes a full step they hold to
        # rounding; this bound only stops it from declaring success before that.
        "constr_viol_tol": 1e-9,
        "max_iter": max_iterations,
        "print_level": 0,
        "sb": "yes",
        # IPOPT relaxes bounds by 1e-8 by default, which left activations 1e-9 below
        # their bound; projecting them back afterwards ("honor_original_bounds") broke
        # the moment balance by up to 4e-7 N m. Without relaxation the interior-point
        # iterates stay inside the bounds and the balance holds to rounding.
        "bound_relax_factor": 0.0,
        "jac_c_constant": "yes",
        "hessian_constant": "yes" if problems.exponent == 2.0 else "no",
        "mu_strategy": mu_strategy,
    }
    ipopt.update(extra)
    return {
        "ipopt": ipopt,
        "print_time": False,
        "error_on_fail": False,
        # The multipliers of the parameters (``lam_p``) are not used; computing them
        # needs CasADi's ``nlp_grad`` function, whose building took about 40 % of the
        # whole-trial NLP's set-up and whose evaluation follows every solve.
        "calc_lam_p": False,
        "no_nlp_grad": True,
    }


def _frame_expressions(
    problems: FrameProblems,
) -> tuple[ca.SX, ca.SX, ca.SX, ca.SX, ca.Sparsity]:
    """Symbols ``x``, parameters ``p`` and expressions ``f``, ``g`` of one frame."""
    n_c, n_m = problems.pattern.shape
    n_a = problems.actuator_weights.size
    rows, cols = np.nonzero(problems.pattern)
    sparsity = ca.Sparsity.triplet(n_c, n_m, rows.tolist(), cols.tolist())
    matrix = ca.SX.sym("M", sparsity)
    target = ca.SX.sym("c", n_c)
    a = ca.SX.sym("a", n_m)
    u = ca.SX.sym("u", n_a)
    weights = ca.DM(problems.muscle_weights)
    effort = ca.dot(weights, a**2 if problems.exponent == 2.0 else a**problems.exponent)
    f = effort + ca.dot(ca.DM(problems.actuator_weights), u**2)
    g = ca.mtimes(matrix, a) + ca.mtimes(ca.DM(problems.actuator_matrix), u) - target
    x = ca.vertcat(a, u)
    p = ca.vertcat(ca.vertcat(*matrix.nonzeros()) if matrix.nnz() else ca.SX(0, 1), target)
    return x, p, f, g, sparsity


def _parameters(problems: FrameProblems, sparsity: ca.Sparsity) -> FloatArray:
    """``(n, n_p)``: each frame's parameter vector (non-zeros of ``M_k`` in CasADi's
    column-major order, then ``c_k``)."""
    rows, cols = sparsity.get_triplet()
    values = problems.muscle_matrices[:, np.asarray(rows, dtype=int), np.asarray(cols, dtype=int)]
    return np.hstack([values, problems.targets])


def _nonzeros(expression: ca.SX) -> ca.SX:
    """The structural non-zeros of ``expression`` as a column (CasADi's column-major order)."""
    return ca.vertcat(*expression.nonzeros()) if expression.nnz() else ca.SX(0, 1)


def _block_diagonal_nlp(
    x: ca.SX, p: ca.SX, f: ca.SX, g: ca.SX, parameters: FloatArray
) -> tuple[dict[str, ca.MX], dict[str, ca.Function]]:
    """The all-frames NLP and its derivative functions, from one frame's expressions.

    The frames share ``x``, ``f`` and ``g`` and differ in their parameters
    (``parameters``, one row per frame), so the NLP's variables are the frames' ``x``
    stacked, its objective the sum of theirs and its constraints theirs stacked; its
    constraint Jacobian and Lagrangian Hessian are block-diagonal with one frame's blocks.
    Each block comes from CasADi's exact derivatives of the frame (``jacobian``,
    ``gradient``, ``hessian`` on the small SX expressions, the ones CasADi would form),
    evaluated for all frames by ``Function.map``; the blocks' non-zeros, frame after
    frame, are exactly the non-zeros of the block-diagonal matrix in CasADi's
    column-major order (the columns of frame ``k`` hold non-zeros only in its rows).
    They are handed to ``nlpsol`` as its ``grad_f``, ``jac_g`` and ``hess_lag`` options
    (the functions ``nlp_grad_f: (x, p) -> (f, grad_f)``, ``nlp_jac_g: (x, p) -> (g,
    jac_g)`` and ``nlp_hess_l: (x, p, lam_f, lam_g) -> triu(hess)`` of CasADi's IPOPT
    interface, ``casadi/interfaces/ipopt/ipopt_interface.cpp``), which saves CasADi the
    algorithmic differentiation and sparsity detection of the 4,500-variable MX graph
    (about half of building the solver on subject01; not computing the parameters'
    multipliers saves the other half) and gives the same numbers.

    Returns
    -------
    tuple
        The NLP (``x``, ``f``, ``g``) and the ``nlpsol`` options holding the derivative
        functions.
    """
    n = parameters.shape[0]
    n_x, n_g = x.shape[0], g.shape[0]
    lam_f, lam_g = ca.SX.sym("lam_f"), ca.SX.sym("lam_g", n_g)
    jacobian = ca.jacobian(g, x)
    hessian = ca.triu(ca.hessian(lam_f * f + ca.dot(lam_g, g), x)[0])

    xs = ca.MX.sym("x", n_x * n)
    lam_fs, lam_gs = ca.MX.sym("lam_f"), ca.MX.sym("lam_g", n_g * n)
    no_parameters = ca.MX.sym("p", 0)
    per_frame_x, per_frame_p = ca.reshape(xs, n_x, n), ca.DM(parameters.T)

    def mapped(name: str, inputs: list[ca.SX], output: ca.SX, *arguments: ca.MX) -> ca.MX:
        function = ca.Function(name, [x, p, *inputs], [output]).map(n, "serial")
        return function(per_frame_x, per_frame_p, *arguments)

    fs, gs = ca.Function("frame", [x, p], [f, g]).map(n, "serial")(per_frame_x, per_frame_p)
    objective, constraints = ca.sum2(fs), ca.vec(gs)
    gradient = ca.vec(mapped("frame_grad_f", [], ca.gradient(f, x)))
    jacobian_nz = ca.vec(mapped("frame_jac_g", [], _nonzeros(jacobian)))
    hessian_nz = ca.vec(
        mapped(
            "frame_hess_l",
            [lam_f, lam_g],
            _nonzeros(hessian),
            ca.repmat(lam_fs, 1, n),
            ca.reshape(lam_gs, n_g, n),
        )
    )
    jacobian_all = ca.MX(ca.diagcat(*([jacobian.sparsity()] * n)), jacobian_nz)
    hessian_all = ca.MX(ca.diagcat(*([hessian.sparsity()] * n)), hessian_nz)
    nlp = {"x": xs, "f": objective, "g": constraints}
    derivatives = {
        "grad_f": ca.Function("nlp_grad_f", [xs, no_parameters], [objective, gradient]),
        "jac_g": ca.Function("nlp_jac_g", [xs, no_parameters], [constraints, jacobian_all]),
        "hess_lag": ca.Function("nlp_hess_l", [xs, no_parameters, lam_fs, lam_gs], [hessian_all]),
    }
    return nlp, derivatives


def solve_per_frame(
    problems: FrameProblems,
    *,
    tolerance: float = 1e-10,
    max_iterations: int = 500,
    warm_start: bool = True,
    ipopt_options: dict[str, Any] | None = None,
) -> FrameSolutions:
    """Solve the frames one after the other with one parametric IPOPT problem.

    Parameters
    ----------
    problems
        The frames' data.
    tolerance
        IPOPT's ``tol``.
    max_iterations
        IPOPT's ``max_iter`` per frame.
    warm_start
        Start each frame from the previous frame's solution (and its multipliers) when
        that frame succeeded; otherwise every frame starts from
        :meth:`FrameProblems.initial_guess`.
    ipopt_options
        Further IPOPT options.

    Returns
    -------
    FrameSolutions
        One status per frame.
    """
    started = time.perf_counter()
    x, p, f, g, sparsity = _frame_expressions(problems)
    # Measured (docs/static_optimization.md): warm-started frames take fewer iterations
    # with the adaptive barrier update than with the monotone one.
    options = _ipopt_options(
        problems, tolerance, max_iterations, "adaptive", dict(ipopt_options or {})
    )
    solver = ca.nlpsol("static_optimization", "ipopt", {"x": x, "p": p, "f": f, "g": g}, options)
    parameters = _parameters(problems, sparsity)
    built = time.perf_counter()

    n, n_x = problems.n_frames, problems.n_variables
    n_g = problems.targets.shape[1]
    out = np.empty((n, n_x))
    status: list[str] = []
    success = np.zeros(n, dtype=bool)
    objective = np.empty(n)
    iterations = np.zeros(n, dtype=np.int64)
    cold = problems.initial_guess()
    x0, lam_x0, lam_g0 = cold, np.zeros(n_x), np.zeros(n_g)
    for k in range(n):
        solution = solver(
            x0=x0,
            p=parameters[k],
            lbx=problems.lower,
            ubx=problems.upper,
            lbg=0.0,
            ubg=0.0,
            lam_x0=lam_x0,
            lam_g0=lam_g0,
        )
        stats = solver.stats()
        out[k] = np.asarray(solution["x"]).ravel()
        objective[k] = float(solution["f"])
        status.append(str(stats["return_status"]))
        success[k] = status[-1] == SUCCESS
        iterations[k] = int(stats.get("iter_count", -1))
        if warm_start and success[k]:
            x0 = out[k]
            lam_x0 = np.asarray(solution["lam_x"]).ravel()
            lam_g0 = np.asarray(solution["lam_g"]).ravel()
        else:
            x0, lam_x0, lam_g0 = cold, np.zeros(n_x), np.zeros(n_g)
    finished = time.perf_counter()
    return FrameSolutions(
        x=out,
        status=tuple(status),
        success=success,
        objective=objective,
        iterations=iterations,
        seconds=finished - built,
        build_seconds=built - started,
    )


def solve_all_frames(
    problems: FrameProblems,
    *,
    tolerance: float = 1e-10,
    max_iterations: int = 500,
    ipopt_options: dict[str, Any] | None = None,
) -> FrameSolutions:
    """Solve all frames at once as one sparse, block-diagonal NLP.

    Parameters
    ----------
    problems
        The frames' data.
    tolerance
        IPOPT's ``tol`` (for the summed objective).
    max_iterations
        IPOPT's ``max_iter``.
    ipopt_options
        Further IPOPT options.

    Returns
    -------
    FrameSolutions
        Every frame carries IPOPT's status of the whole solve.
    """
    started = time.perf_counter()
    x, p, f, g, sparsity = _frame_expressions(problems)
    frame = ca.Function("frame", [x, p], [f, g])
    n = problems.n_frames
    parameters = _parameters(problems, sparsity)
    nlp, derivatives = _block_diagonal_nlp(x, p, f, g, parameters)
    # Measured: the monotone barrier update needs fewer factorisations here.
    options = _ipopt_options(
        problems, tolerance, max_iterations, "monotone", dict(ipopt_options or {})
    )
    options.update(derivatives)
    solver = ca.nlpsol("static_optimization_all", "ipopt", nlp, options)
    built = time.perf_counter()

    solution = solver(
        x0=np.tile(problems.initial_guess(), n),
        lbx=np.tile(problems.lower, n),
        ubx=np.tile(problems.upper, n),
        lbg=0.0,
        ubg=0.0,
    )
    stats = solver.stats()
    finished = time.perf_counter()
    out = np.asarray(solution["x"]).reshape(n, problems.n_variables)
    per_frame = np.asarray(frame.map(n)(out.T, parameters.T)[0]).ravel()
    status = str(stats["return_status"])
    return FrameSolutions(
        x=out,
        status=(status,) * n,
        success=np.full(n, status == SUCCESS),
        objective=per_frame,
        iterations=np.full(n, int(stats.get("iter_count", -1)), dtype=np.int64),
        seconds=finished - built,
        build_seconds=built - started,
    )
