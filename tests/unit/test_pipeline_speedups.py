"""The speed-ups of the clinical pipeline compute what the slower code computed.

Each faster path is checked against the path it replaced, kept here as the reference:
CasADi's own derivatives for the whole-trial static optimisation NLP, SciPy's
``least_squares(method="lm")`` for inverse kinematics, the symbolic marker centroid for
the first IK frame, ``ModelFunctions.muscle_rigid`` for the static-optimisation muscle
forces, and building the muscle functions one at a time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import casadi as ca
import numpy as np
import pytest
import scipy.optimize

from gaitsim.analysis.static_optimization import (
    StaticOptimizationSpec,
    _frame_muscle_forces,
)
from gaitsim.analysis.static_optimization_nlp import (
    FrameProblems,
    _frame_expressions,
    _ipopt_options,
    _parameters,
    solve_all_frames,
)
from gaitsim.kinematics.inverse_kinematics import (
    _build_fit,
    _levenberg_marquardt,
    _moved_default_pose,
)
from gaitsim.kinematics.marker_sets import identity_mapping, match_markers
from gaitsim.mechanics.model_functions import build
from gaitsim.model.builtin import load_builtin
from gaitsim.model.description import GROUND, Motion


def _random_problems(seed: int, exponent: float) -> FrameProblems:
    """Six frames of a random, feasible static-optimisation problem (4 coordinates, 7
    muscles with a random structural pattern, one actuator per coordinate)."""
    rng = np.random.default_rng(seed)
    n, n_c, n_m = 6, 4, 7
    pattern = rng.random((n_c, n_m)) < 0.6
    matrices = rng.normal(scale=50.0, size=(n, n_c, n_m)) * pattern
    return FrameProblems(
        muscle_matrices=matrices,
        pattern=pattern,
        actuator_matrix=np.eye(n_c) * 10.0,
        targets=rng.normal(scale=30.0, size=(n, n_c)),
        muscle_weights=rng.uniform(0.5, 2.0, n_m),
        actuator_weights=np.ones(n_c),
        exponent=exponent,
        lower=np.concatenate([np.full(n_m, 0.01), np.full(n_c, -np.inf)]),
        upper=np.concatenate([np.ones(n_m), np.full(n_c, np.inf)]),
    )


@pytest.mark.parametrize("exponent", [2.0, 3.0])
def test_whole_trial_nlp_with_given_derivatives_matches_casadis_own(exponent: float) -> None:
    problems = _random_problems(4, exponent)
    ours = solve_all_frames(problems)
    assert ours.success.all()

    # Reference: the same MX graph, derivatives formed by CasADi (the code replaced).
    x, p, f, g, sparsity = _frame_expressions(problems)
    frame = ca.Function("frame", [x, p], [f, g])
    n, n_x = problems.n_frames, problems.n_variables
    xs = ca.MX.sym("x", n_x, n)
    fs, gs = frame.map(n, "serial")(xs, ca.DM(_parameters(problems, sparsity).T))
    options = _ipopt_options(problems, 1e-10, 500, "monotone", {})
    solver = ca.nlpsol(
        "reference", "ipopt", {"x": ca.vec(xs), "f": ca.sum2(fs), "g": ca.vec(gs)}, options
    )
    reference = solver(
        x0=np.tile(problems.initial_guess(), n),
        lbx=np.tile(problems.lower, n),
        ubx=np.tile(problems.upper, n),
        lbg=0.0,
        ubg=0.0,
    )
    expected = np.asarray(reference["x"]).reshape(n, n_x)
    # Same derivatives, same IPOPT: the iterates agree to rounding (measured: exactly);
    # 1e-12 leaves room for a different summation order in another CasADi version.
    np.testing.assert_allclose(ours.x, expected, rtol=0, atol=1e-12)
    assert int(ours.iterations[0]) == int(solver.stats()["iter_count"])


def _curve_fit(x: np.ndarray, t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residual and Jacobian of fitting ``a exp(-b t) + c sin(d t)`` to ``y``."""
    a, b, c, d = x
    e, s = np.exp(-b * t), np.sin(d * t)
    r = a * e + c * s - y
    jac = np.column_stack([e, -a * t * e, s, c * t * np.cos(d * t)])
    return r, jac


@pytest.mark.parametrize(
    ("seed", "tol", "max_evaluations"), [(0, 1e-10, 200), (1, 1e-6, 200), (2, 1e-10, 3)]
)
def test_levenberg_marquardt_reports_what_least_squares_reports(
    seed: int, tol: float, max_evaluations: int
) -> None:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 3.0, 40)
    y = 2.0 * np.exp(-0.7 * t) + 0.5 * np.sin(2.2 * t) + rng.normal(scale=0.01, size=t.size)
    x0 = np.array([1.0, 0.3, 0.1, 2.0]) + rng.normal(scale=0.1, size=4)

    def evaluate(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _curve_fit(x, t, y)

    ours = _levenberg_marquardt(evaluate, x0.copy(), tol, max_evaluations)
    theirs = scipy.optimize.least_squares(
        lambda x: evaluate(x)[0],
        x0.copy(),
        jac=lambda x: evaluate(x)[1],
        method="lm",
        ftol=tol,
        xtol=tol,
        gtol=tol,
        max_nfev=max_evaluations,
    )
    # The same MINPACK lmder with the same arguments: identical iterates.
    np.testing.assert_array_equal(ours.x, theirs.x)
    assert ours.cost == theirs.cost
    assert (ours.nfev, ours.status, ours.message, ours.success) == (
        theirs.nfev,
        theirs.status,
        theirs.message,
        theirs.success,
    )
    if max_evaluations == 3:  # the evaluation limit is reported as a failure
        assert not ours.success and ours.status == 0


def test_moved_default_pose_matches_the_symbolic_centroid() -> None:
    model = load_builtin("gait3d")
    functions = build(model)
    match = match_markers(identity_mapping(model), model, tuple(m.name for m in model.markers))
    fit, _ = _build_fit(model, functions, match, (), True)
    rng = np.random.default_rng(3)
    k = len(match.model_names)
    measured = rng.normal(scale=0.3, size=(3, k)) + np.array([[0.5], [0.9], [0.2]])
    sqrt_w = np.sqrt(rng.uniform(0.5, 2.0, k)) * (rng.random(k) > 0.3)
    targets = np.zeros(0)
    fit.residual.set_frame(measured, sqrt_w, targets)
    ours = _moved_default_pose(model, fit, measured, sqrt_w, targets)

    # Reference: the centroid of the visible model markers as one CasADi expression (the
    # code replaced), one Gauss-Newton step along the pelvis translations.
    q = np.clip([c.default for c in model.coordinates], fit.lower, fit.upper)
    names = model.coordinate_names
    shift = [
        names.index(c.name)
        for j in model.joints
        if j.parent.body == GROUND
        for c in j.coordinates
        if c.motion is Motion.TRANSLATIONAL
    ]
    sk = functions.skeleton
    seen = [m for m, v in zip(fit.markers, sqrt_w > 0, strict=True) if v]
    centroid = sum((sk.point(m.body, m.location) for m in seen), ca.SX.zeros(3, 1)) / len(seen)
    c0, jac = (
        np.asarray(v, dtype=float)
        for v in ca.Function("c", [sk.q], [centroid, ca.jacobian(centroid, sk.q[shift])])(q)
    )
    expected = q.copy()
    target = measured[:, sqrt_w > 0].mean(axis=1)
    expected[shift] += np.linalg.lstsq(jac, target - c0.ravel(), rcond=None)[0]
    expected = np.clip(expected, fit.lower, fit.upper)
    # Same points summed in the same order (measured: identical); 1e-12 m for rounding.
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)
    # The frame's data are set back afterwards.
    np.testing.assert_array_equal(fit.residual.sqrt_w, sqrt_w)


def test_static_optimization_muscle_forces_match_the_casadi_function() -> None:
    model = load_builtin("gait2d")
    functions = build(model)
    rng = np.random.default_rng(5)
    n = 40
    lo = np.array([c.range[0] for c in model.coordinates])
    hi = np.array([c.range[1] for c in model.coordinates])
    q = lo + (hi - lo) * rng.random((n, lo.size))
    qd = rng.normal(scale=2.0, size=q.shape)
    active, passive = _frame_muscle_forces(
        model, functions, StaticOptimizationSpec(), np.arange(n) * 0.01, q, qd
    )
    lengths = np.asarray(functions.muscle_tendon_lengths.map(n)(q.T))
    speeds = np.asarray(functions.lengthening_velocities.map(n)(q.T, qd.T))
    rigid = functions.muscle_rigid.map(n)
    at_zero = np.asarray(rigid(lengths, speeds, np.zeros_like(lengths))[0]).T
    at_one = np.asarray(rigid(lengths, speeds, np.ones_like(lengths))[0]).T
    expected_active = np.where(at_one - at_zero <= 0.0, 0.0, at_one - at_zero)
    # Same equations, NumPy instead of CasADi's virtual machine: exp and log may differ
    # in the last bit (measured 5e-16 relative); 1e-12 relative of the largest force.
    scale = 1e-12 * float(np.max(np.abs(at_one)))
    np.testing.assert_allclose(active, expected_active, rtol=0, atol=scale)
    np.testing.assert_allclose(passive, at_zero, rtol=0, atol=scale)


def test_muscle_functions_are_built_one_at_a_time() -> None:
    functions = build(load_builtin("gait2d"))
    assert functions.muscle_rigid.n_out() == 5
    built = set(vars(functions))
    assert "muscle_rigid" in built
    assert not built & {"muscle_compliant", "muscle_compliant_explicit", "activation_rate"}
    n = len(functions.model.muscles)
    assert functions.activation_rate.size_out(0) == (n, 1)
    assert functions.muscle_compliant.n_out() == 4


def test_importing_signal_does_not_import_scipy_signal() -> None:
    code = "import sys, gaitsim.signal; print('scipy.signal' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_unfiltered_import_reuses_the_trial(shared_data: Path) -> None:
    from gaitsim.pipeline.clinical import (
        ClinicalRequest,
        ClinicalSettings,
        _import_stage,
        _Run,
    )

    folder = shared_data / "opensim" / "gait10dof18musc"
    request = ClinicalRequest(
        trial=folder / "subject01_walk.trc",
        external_loads=folder / "subject01_walk_grf.xml",
        model=folder / "subject01_scaled.osim",
        settings=ClinicalSettings(marker_cutoff=None, force_cutoff=None),
    )
    inputs = _import_stage(request, _Run(None))
    assert inputs.unfiltered is inputs.trial
    filtered = _import_stage(
        ClinicalRequest(
            trial=request.trial,
            external_loads=request.external_loads,
            model=request.model,
            settings=ClinicalSettings(),
        ),
        _Run(None),
    )
    assert filtered.unfiltered is not filtered.trial
