"""The whole-trial optimal control problem of the muscle-redundancy solve, and its solution.

This module knows nothing of models or files: it takes the numbers that define the
problem at every mesh point (as :mod:`gaitsim.analysis.static_optimization_nlp` does for
one frame) plus two CasADi functions of the muscles, transcribes the problem by
trapezoidal collocation and solves it with IPOPT. How the numbers are made from a model
and a trial is :mod:`gaitsim.analysis.muscle_redundancy`.

The problem
-----------
Mesh points ``t_0 < ... < t_{N-1}`` (the trial's frames, or a uniform mesh), intervals
``h_k = t_{k+1} - t_k``. At every mesh point ``k`` the unknowns are the muscles'
activations ``a`` and excitations ``e`` (``n_m`` each), the normalised controls ``u`` of
the coordinate actuators (``n_a``) and, for the muscles with a compliant tendon (``n_t``
of them), the normalised tendon force ``f`` and its time derivative ``df``::

    minimise    sum_k q_k [ sum_m w_m e_mk^p + sum_i v_i u_ik^2 + w_df sum_t df_tk^2 ]
    subject to  M_k y_k + B u_k = c_k                          (moment balance, every k)
                R(l_k, s_k, a_k, f_k, df_k) = 0                 (fibre-tendon equilibrium
                                                                 of compliant muscles)
                a_{k+1} - a_k = h_k / 2 (g(e_k, a_k) + g(e_{k+1}, a_{k+1}))
                f_{k+1} - f_k = h_k / 2 (df_k + df_{k+1})      (trapezoidal defects)
                e_0 = a_0                                       (optional: no "free"
                                                                 initial activation)
                bounds on a, e, u, f, df

* ``q_k`` are the trapezoid rule's weights (``h_0 / 2``, ``(h_{k-1} + h_k) / 2``, ...,
  ``h_{N-2} / 2``), so the objective is the time integral of its integrand, as in
  De Groote et al. (2016) and OpenSim Moco's ``MocoControlGoal``.
* ``y_k`` holds, muscle by muscle, the activation (rigid tendon: the tendon force is
  affine in the activation, ``F = a F_act + F_pass``, and ``M_k`` holds ``r F_act``) or
  the normalised tendon force (compliant tendon: ``F = F_max f``, ``M_k`` holds
  ``r F_max``); ``c_k`` is what the muscles and actuators must supply (net generalised
  forces minus limit torques and rigid muscles' passive forces). The balance is linear in
  the unknowns, so it holds to rounding once IPOPT takes a full step.
* ``g(e, a)`` is the activation dynamics (``ModelFunctions.activation_rate``: De Groote et
  al. 2016, eq. 1-2, with the muscles' own time constants).
* ``R`` is the implicit fibre-tendon equilibrium of De Groote et al. (2016), formulation 3
  (:func:`gaitsim.mechanics.muscle.compliant_tendon_state_implicit`), at the mesh point's
  muscle-tendon length ``l_k`` and lengthening speed ``s_k``.
* The initial condition ``e_0 = a_0`` is OpenSim Moco's ``MocoInitialActivationGoal``,
  which ``MocoInverse`` adds (as an end-point constraint) "to prevent free activation at
  the beginning of the motion" (opensim-core ``OpenSim/Moco/MocoInverse.cpp``).

Transcription
-------------
The decision vector is mesh point after mesh point, ``[w_0; w_1; ...]`` with
``w_k = [a_k; e_k; u_k; f_k; df_k]``, in physical units (activations and excitations in
[0, 1], normalised controls of order one). The constraints are, in this order: the node
constraints of every mesh point (balance, then equilibrium), the defects of every
interval (activations, then tendon forces), the initial condition. One mesh point's
expressions and one interval's are CasADi SX functions, mapped over the mesh in an MX
graph; CasADi differentiates it exactly (sparse Jacobian and Lagrangian Hessian), so IPOPT
gets exact first and second derivatives. Expanding the graph into SX (``expand=True``)
made the iterations faster but the building slower, and was slower overall (see
:func:`solve_trial`).

Trapezoidal collocation is second-order accurate; it is A-stable but not L-stable, which
matters only for time constants far below the mesh interval (then consecutive
activation-excitation gaps may alternate; the effort term damps them).

References: De Groote F, Kinney AL, Rao AV, Fregly BJ (2016) Evaluation of direct
collocation optimal control problem formulations for solving the muscle redundancy
problem. *Ann Biomed Eng* 44(10):2922-2936, doi:10.1007/s10439-016-1591-9; Dembia CL,
Bianco NA, Falisse A, Hicks JL, Delp SL (2020) OpenSim Moco. *PLoS Comput Biol*
16(12):e1008493.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import casadi as ca
import numpy as np
from numpy.typing import NDArray

__all__ = ["TrialProblem", "TrialGuess", "TrialSolution", "solve_trial", "BLOCKS"]

FloatArray = NDArray[np.float64]

#: IPOPT's status of a converged solve.
SUCCESS = "Solve_Succeeded"

#: Names of the constraint blocks, as reported in :attr:`TrialSolution.violations`.
BLOCKS = (
    "moment balance",
    "fibre-tendon equilibrium",
    "activation dynamics",
    "tendon force dynamics",
    "initial activation",
)


@dataclass(frozen=True, eq=False)
class TrialProblem:
    """The data of the whole-trial problem (see the module docstring).

    Parameters
    ----------
    time
        Mesh times ``(N,)``, strictly increasing (s); at least two.
    muscle_matrices
        ``M_k`` for every mesh point, ``(N, n_c, n_m)``.
    pattern
        ``(n_c, n_m)`` booleans: where ``M_k`` may be non-zero; entries outside are ignored.
    actuator_matrix
        ``B``, ``(n_c, n_a)``.
    targets
        ``c_k``, ``(N, n_c)``.
    compliant
        Indices (muscle order) of the muscles with a compliant tendon (``n_t``).
    lengths, speeds
        Muscle-tendon lengths (m) and lengthening speeds (m/s) of the compliant muscles at
        every mesh point, ``(N, n_t)`` each.
    activation_rate
        ``(e, a) -> da/dt`` for all ``n_m`` muscles (a CasADi function).
    equilibrium
        ``(l, s, a, f, df) -> R`` for the ``n_t`` compliant muscles (a CasADi function;
        ignored when there are none).
    muscle_weights
        ``w_m``, ``(n_m,)``.
    actuator_weights
        ``v_i``, ``(n_a,)``.
    tendon_force_rate_weight
        ``w_df``.
    exponent
        ``p >= 1``.
    activation_bounds
        ``(lower, upper)`` of activations and excitations.
    actuator_lower, actuator_upper
        Bounds of the actuator controls, ``(n_a,)`` each (``±inf``: none).
    tendon_force_bounds, tendon_force_rate_bounds
        Bounds of ``f`` and ``df`` (1/s).
    initial_steady
        Impose ``e_0 = a_0``.
    """

    time: FloatArray
    muscle_matrices: FloatArray
    pattern: NDArray[np.bool_]
    actuator_matrix: FloatArray
    targets: FloatArray
    compliant: tuple[int, ...]
    lengths: FloatArray
    speeds: FloatArray
    activation_rate: ca.Function
    equilibrium: ca.Function | None
    muscle_weights: FloatArray
    actuator_weights: FloatArray
    tendon_force_rate_weight: float
    exponent: float
    activation_bounds: tuple[float, float]
    actuator_lower: FloatArray
    actuator_upper: FloatArray
    tendon_force_bounds: tuple[float, float] = (0.0, 5.0)
    tendon_force_rate_bounds: tuple[float, float] = (-50.0, 50.0)
    initial_steady: bool = True

    @property
    def n_nodes(self) -> int:
        """Number of mesh points ``N``."""
        return int(self.time.size)

    @property
    def n_muscles(self) -> int:
        """Number of muscles ``n_m``."""
        return int(self.muscle_weights.size)

    @property
    def n_actuators(self) -> int:
        """Number of coordinate actuators ``n_a``."""
        return int(self.actuator_weights.size)

    @property
    def n_compliant(self) -> int:
        """Number of compliant-tendon muscles ``n_t``."""
        return len(self.compliant)

    @property
    def n_per_node(self) -> int:
        """Unknowns per mesh point, ``2 n_m + n_a + 2 n_t``."""
        return 2 * self.n_muscles + self.n_actuators + 2 * self.n_compliant

    def quadrature_weights(self) -> FloatArray:
        """``q_k``, the trapezoid rule's weights over the mesh ``(N,)`` (s)."""
        h = np.diff(self.time)
        weights = np.zeros(self.n_nodes)
        weights[:-1] += h / 2.0
        weights[1:] += h / 2.0
        return weights


@dataclass(frozen=True, eq=False)
class TrialGuess:
    """A starting point: ``(N, .)`` arrays of each kind of unknown (see
    :class:`TrialProblem`); clipped to the bounds before use."""

    activations: FloatArray
    excitations: FloatArray
    controls: FloatArray
    tendon_forces: FloatArray
    tendon_force_rates: FloatArray


@dataclass(frozen=True, eq=False)
class TrialSolution:
    """The solution (or last iterate) of a :class:`TrialProblem`.

    Attributes
    ----------
    activations, excitations
        ``(N, n_m)``.
    controls
        ``(N, n_a)`` normalised actuator controls.
    tendon_forces, tendon_force_rates
        ``(N, n_t)`` normalised tendon forces of the compliant muscles and their rates (1/s).
    status
        IPOPT's return status.
    success
        Whether IPOPT reported success.
    iterations
        IPOPT's iterations.
    objective
        ``(N,)`` each mesh point's term ``q_k [...]`` of the objective (their sum is the
        objective).
    objective_terms
        The objective split into ``"excitation effort"``, ``"actuator effort"`` and
        ``"tendon force rate"``.
    violations
        The largest violation of each constraint block (:data:`BLOCKS`), in its units
        (N m or N for the balance, normalised for the rest).
    node_balance_violation
        ``(N,)`` the largest balance violation at each mesh point.
    seconds, build_seconds
        Wall time of the IPOPT solve and of building the NLP and solver (s).
    """

    activations: FloatArray
    excitations: FloatArray
    controls: FloatArray
    tendon_forces: FloatArray
    tendon_force_rates: FloatArray
    status: str
    success: bool
    iterations: int
    objective: FloatArray
    objective_terms: dict[str, float]
    violations: dict[str, float]
    node_balance_violation: FloatArray
    seconds: float
    build_seconds: float
    ipopt_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class _Layout:
    """Where each kind of unknown sits in one mesh point's vector ``w``."""

    n_m: int
    n_a: int
    n_t: int

    @property
    def size(self) -> int:
        return 2 * self.n_m + self.n_a + 2 * self.n_t

    def slices(self) -> dict[str, slice]:
        sizes = (
            ("a", self.n_m),
            ("e", self.n_m),
            ("u", self.n_a),
            ("f", self.n_t),
            ("df", self.n_t),
        )
        out, start = {}, 0
        for name, size in sizes:
            out[name] = slice(start, start + size)
            start += size
        return out


def _node_function(problem: TrialProblem, layout: _Layout) -> tuple[ca.Function, ca.Sparsity]:
    """``(w, p) -> (node constraints, integrand)`` of one mesh point, and ``M``'s sparsity."""
    n_c, n_m = problem.pattern.shape
    n_t = layout.n_t
    rows, cols = np.nonzero(problem.pattern)
    sparsity = ca.Sparsity.triplet(n_c, n_m, rows.tolist(), cols.tolist())
    matrix = ca.SX.sym("M", sparsity)
    target = ca.SX.sym("c", n_c)
    length, speed = ca.SX.sym("l", n_t), ca.SX.sym("s", n_t)
    w = ca.SX.sym("w", layout.size)
    s = layout.slices()
    a, e, u, f, df = (w[s[k]] for k in ("a", "e", "u", "f", "df"))

    balanced = [a[m] for m in range(n_m)]
    for j, m in enumerate(problem.compliant):
        balanced[m] = f[j]
    y = ca.vertcat(*balanced) if n_m else ca.SX(0, 1)
    balance = ca.mtimes(matrix, y) + ca.mtimes(ca.DM(problem.actuator_matrix), u) - target
    parts = [balance]
    if n_t:
        assert problem.equilibrium is not None
        a_t = ca.vertcat(*[a[m] for m in problem.compliant])
        parts.append(problem.equilibrium(length, speed, a_t, f, df))
    constraints = ca.vertcat(*parts)

    power = e**2 if problem.exponent == 2.0 else e**problem.exponent
    effort = ca.dot(ca.DM(problem.muscle_weights), power) if n_m else ca.SX(0)
    actuators = ca.dot(ca.DM(problem.actuator_weights), u**2) if layout.n_a else ca.SX(0)
    rates = problem.tendon_force_rate_weight * ca.sumsqr(df) if n_t else ca.SX(0)
    nonzeros = ca.vertcat(*matrix.nonzeros()) if matrix.nnz() else ca.SX(0, 1)
    p = ca.vertcat(nonzeros, target, length, speed)
    integrand = ca.vertcat(effort, actuators, rates)
    function = ca.Function("mesh_point", [w, p], [constraints, integrand], ["w", "p"], ["g", "L"])
    return function, sparsity


def _interval_function(problem: TrialProblem, layout: _Layout) -> ca.Function:
    """``(w_k, w_{k+1}, h) -> defects`` of one interval (trapezoidal rule)."""
    s = layout.slices()
    w0, w1 = ca.SX.sym("w0", layout.size), ca.SX.sym("w1", layout.size)
    h = ca.SX.sym("h")
    rate = problem.activation_rate
    a0, a1 = w0[s["a"]], w1[s["a"]]
    da0, da1 = rate(w0[s["e"]], a0), rate(w1[s["e"]], a1)
    defects = [a1 - a0 - h / 2 * (da0 + da1)]
    if layout.n_t:
        f0, f1 = w0[s["f"]], w1[s["f"]]
        defects.append(f1 - f0 - h / 2 * (w0[s["df"]] + w1[s["df"]]))
    return ca.Function("interval", [w0, w1, h], [ca.vertcat(*defects)], ["w0", "w1", "h"], ["d"])


def _parameters(problem: TrialProblem, sparsity: ca.Sparsity) -> FloatArray:
    """``(N, n_p)``: each mesh point's parameters (non-zeros of ``M_k`` in CasADi's
    column-major order, ``c_k``, lengths, speeds)."""
    rows, cols = sparsity.get_triplet()
    values = problem.muscle_matrices[:, np.asarray(rows, dtype=int), np.asarray(cols, dtype=int)]
    return np.hstack([values, problem.targets, problem.lengths, problem.speeds])


def _bounds(problem: TrialProblem, layout: _Layout) -> tuple[FloatArray, FloatArray]:
    """Bounds of one mesh point's ``w``."""
    s = layout.slices()
    lower, upper = np.empty(layout.size), np.empty(layout.size)
    for key in ("a", "e"):
        lower[s[key]], upper[s[key]] = problem.activation_bounds
    lower[s["u"]], upper[s["u"]] = problem.actuator_lower, problem.actuator_upper
    lower[s["f"]], upper[s["f"]] = problem.tendon_force_bounds
    lower[s["df"]], upper[s["df"]] = problem.tendon_force_rate_bounds
    return lower, upper


def _pack(guess: TrialGuess) -> FloatArray:
    """``(N, n_w)``: the guess laid out mesh point by mesh point."""
    return np.hstack(
        [
            guess.activations,
            guess.excitations,
            guess.controls,
            guess.tendon_forces,
            guess.tendon_force_rates,
        ]
    )


def _ipopt_options(
    tolerance: float, max_iterations: int, extra: dict[str, Any] | None
) -> dict[str, Any]:
    ipopt: dict[str, Any] = {
        "tol": tolerance,
        # The balance is linear and holds to rounding after a full step; the defects and
        # equilibria are nonlinear: this bounds them far below any effect on the forces.
        "constr_viol_tol": min(tolerance, 1e-8),
        "max_iter": max_iterations,
        "print_level": 0,
        "sb": "yes",
        # As in static optimisation: no relaxation of the bounds, so activations never
        # leave [a_min, a_max] and the balance need not be repaired after the solve.
        "bound_relax_factor": 0.0,
        # Measured on subject01: the same 21 iterations with rigid tendons, 24 instead of
        # 28 with compliant Achilles tendons, than with the adaptive update.
        "mu_strategy": "monotone",
        "linear_solver": "mumps",
        # MUMPS's own permutation and scaling of the KKT matrix (MC64, IPOPT's defaults 7
        # and 77) took most of the solve: without them subject01 took the same iterations
        # (21 rigid, 24 with compliant Achilles tendons, 27 all compliant) in 0.67, 1.1 and
        # 2.2 s instead of 3.4, 2.7 and 5.9 s (best of two, shared machine), with the same
        # solution.
        "mumps_permuting_scaling": 0,
        "mumps_scaling": 0,
    }
    ipopt.update(extra or {})
    return ipopt


def solve_trial(
    problem: TrialProblem,
    guess: TrialGuess,
    *,
    tolerance: float = 1e-8,
    max_iterations: int = 1000,
    ipopt_options: dict[str, Any] | None = None,
    expand: bool = False,
) -> TrialSolution:
    """Transcribe ``problem`` by trapezoidal collocation and solve it with IPOPT.

    Parameters
    ----------
    problem
        The data of the problem.
    guess
        Where IPOPT starts (clipped to the bounds).
    tolerance
        IPOPT's ``tol`` (``constr_viol_tol`` is the smaller of it and 1e-8).
    max_iterations
        IPOPT's ``max_iter``.
    ipopt_options
        Further IPOPT options (override the defaults).
    expand
        Expand the NLP's MX graph into one SX graph before solving (CasADi's ``expand``):
        faster iterations, much slower building. Measured on subject01 (151 mesh points,
        18 muscles): rigid tendons 3.7 s expanded (2.7 s building) against 2.4 s not
        (0.45 s building); all 18 tendons compliant 18.8 s against 8.3 s. Off by default.

    Returns
    -------
    TrialSolution
        The solution, or the last iterate with IPOPT's status when it failed; never
        raises for a failed solve (the caller decides).
    """
    started = time.perf_counter()
    n = problem.n_nodes
    layout = _Layout(problem.n_muscles, problem.n_actuators, problem.n_compliant)
    node, sparsity = _node_function(problem, layout)
    interval = _interval_function(problem, layout)
    parameters = _parameters(problem, sparsity)
    h = np.diff(problem.time)
    weights = problem.quadrature_weights()

    z = ca.MX.sym("z", layout.size * n)
    nodes = ca.reshape(z, layout.size, n)
    g_nodes, integrands = node.map(n, "serial")(nodes, ca.DM(parameters.T))
    defects = interval.map(n - 1, "serial")(nodes[:, :-1], nodes[:, 1:], ca.DM(h).T)
    s = layout.slices()
    pieces = [ca.vec(g_nodes), ca.vec(defects)]
    if problem.initial_steady and layout.n_m:
        pieces.append(nodes[s["e"], 0] - nodes[s["a"], 0])
    constraints = ca.vertcat(*pieces)
    terms = ca.mtimes(integrands, ca.DM(weights))  # (3, 1): the three objective terms
    objective = ca.sum1(terms)

    options = _ipopt_options(tolerance, max_iterations, ipopt_options)
    solver = ca.nlpsol(
        "muscle_redundancy",
        "ipopt",
        {"x": z, "f": objective, "g": constraints},
        {"ipopt": options, "print_time": False, "expand": expand, "error_on_fail": False},
    )
    lower, upper = _bounds(problem, layout)
    x0 = np.clip(_pack(guess), lower, upper).ravel()
    built = time.perf_counter()

    result = solver(x0=x0, lbx=np.tile(lower, n), ubx=np.tile(upper, n), lbg=0.0, ubg=0.0)
    finished = time.perf_counter()
    stats = solver.stats()
    values = np.asarray(result["x"]).reshape(n, layout.size)
    g = np.asarray(result["g"]).ravel()

    # Split the constraint values into the blocks of the module docstring.
    n_c = problem.pattern.shape[0]
    n_node = n_c + layout.n_t
    node_values = g[: n * n_node].reshape(n, n_node)
    offset = n * n_node
    n_defect = layout.n_m + layout.n_t
    defect_values = g[offset : offset + (n - 1) * n_defect].reshape(n - 1, n_defect)
    initial = g[offset + (n - 1) * n_defect :]
    balance = np.abs(node_values[:, :n_c])

    def largest(values_: FloatArray) -> float:
        return float(np.max(np.abs(values_))) if values_.size else 0.0

    violations = {
        "moment balance": largest(balance),
        "fibre-tendon equilibrium": largest(node_values[:, n_c:]),
        "activation dynamics": largest(defect_values[:, : layout.n_m]),
        "tendon force dynamics": largest(defect_values[:, layout.n_m :]),
        "initial activation": largest(initial),
    }
    per_node = np.asarray(node.map(n)(values.T, parameters.T)[1])  # (3, N)
    term_values = per_node @ weights
    status = str(stats["return_status"])
    return TrialSolution(
        activations=values[:, s["a"]],
        excitations=values[:, s["e"]],
        controls=values[:, s["u"]],
        tendon_forces=values[:, s["f"]],
        tendon_force_rates=values[:, s["df"]],
        status=status,
        success=status == SUCCESS,
        iterations=int(stats.get("iter_count", -1)),
        objective=weights * per_node.sum(axis=0),
        objective_terms={
            "excitation effort": float(term_values[0]),
            "actuator effort": float(term_values[1]),
            "tendon force rate": float(term_values[2]),
        },
        violations=violations,
        node_balance_violation=balance.max(axis=1) if n_c else np.zeros(n),
        seconds=finished - built,
        build_seconds=built - started,
        ipopt_options=options,
    )
