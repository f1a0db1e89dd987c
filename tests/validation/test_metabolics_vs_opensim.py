"""The smoothed Bhargava (2004) metabolic model against Moco's implementation.

OpenSim 4.6's ``Bhargava2004SmoothedMuscleMetabolics`` (``use_smoothing = true``, tanh
smoothing 10, force-dependent shortening coefficient) evaluates a one-muscle model with
gait2d's soleus parameters (``metabolics_oracle.py``, in a subprocess because opensim and
casadi cannot share a process). The same muscle quantities OpenSim used are fed to
:func:`gaitsim.mechanics.metabolics.bhargava2004_rates`, so that the comparison isolates
the metabolic model; gaitsim's rigid-tendon muscle state is compared with OpenSim's
separately.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from gaitsim.mechanics import metabolics as met
from gaitsim.mechanics.model_functions import muscle_parameters
from gaitsim.mechanics.muscle import rigid_tendon_state
from gaitsim.model.builtin import load_builtin

from .oracle import require_opensim

pytestmark = pytest.mark.opensim

ORACLE = Path(__file__).resolve().with_name("metabolics_oracle.py")
SMOOTHING = 10.0
# Normalised fibre lengths at least 0.15 from the corners (0.5, 1, 1.5) of OpenSim's
# piecewise-linear maintenance length dependence, which gaitsim smooths.
NORM_LENGTHS = (0.7, 0.8, 1.2, 1.3, 1.7)  # > sin(alpha_opt) = 0.42, the shortest
# Path velocities (m/s) on both sides of and close to zero, where the tanh switches act.
VELOCITIES = (-0.3, -0.05, -0.01, 0.0, 0.01, 0.05, 0.25)


def _run_oracle(request: dict) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory(prefix="gaitsim_metabolics_") as tmp:
        req, res = Path(tmp) / "request.json", Path(tmp) / "result.npz"
        req.write_text(json.dumps(request))
        proc = subprocess.run(
            [sys.executable, str(ORACLE), str(req), str(res)],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0 or not res.exists():
            raise RuntimeError(f"metabolics oracle failed:\n{proc.stderr}\n{proc.stdout[-2000:]}")
        with np.load(res) as npz:
            return {k: npz[k] for k in npz.files}


@pytest.fixture(scope="module")
def case() -> dict:
    require_opensim()
    muscle = next(m for m in load_builtin("gait2d").muscles if m.name == "soleus_r")
    p = muscle_parameters(muscle)
    rng = np.random.default_rng(20250117)
    states = []
    for lm in NORM_LENGTHS:
        along = np.sqrt((lm * p.optimal_fiber_length) ** 2 - p.fiber_width**2)
        for v in VELOCITIES:
            e, a = rng.uniform(0.05, 0.95, 2)
            states.append([p.tendon_slack_length + along, v, e, a])
    request = {
        "muscle": {
            "max_isometric_force": p.max_isometric_force,
            "optimal_fiber_length": p.optimal_fiber_length,
            "tendon_slack_length": p.tendon_slack_length,
            "pennation_angle_at_optimal": p.pennation_angle_at_optimal,
            "max_contraction_velocity": p.max_contraction_velocity,
            "fiber_damping": p.fiber_damping,
        },
        "slow_twitch_ratio": met.slow_twitch_ratio(muscle.name),
        "specific_tension": met.SPECIFIC_TENSION,
        "smoothing": SMOOTHING,
        "use_force_dependent_shortening_prop_constant": True,
        "include_negative_mechanical_work": True,
        "states": states,
    }
    return {
        "params": p,
        "states": np.array(states),
        "request": request,
        "osim": _run_oracle(request),
    }


def test_oracle_answers_are_meaningful(case: dict) -> None:
    o = case["osim"]
    for name, values in o.items():
        if name != "opensim_version":
            assert np.all(np.isfinite(values)), name
    assert np.any(o["fiber_velocity"] < -0.01) and np.any(o["fiber_velocity"] > 0.01)
    assert np.all(o["activation_rate"] > 0.0)
    below = o["norm_fiber_length"] < 1.5  # no maintenance heat beyond 1.5 l_opt
    assert np.all(o["maintenance_rate"][below] > 0.0)
    assert np.all(o["maintenance_rate"][~below] == 0.0) and np.any(~below)


def test_muscle_state_matches_opensim(case: dict) -> None:
    p, s, o = case["params"], case["states"], case["osim"]
    ours = rigid_tendon_state(p, s[:, 0], s[:, 1], s[:, 3])
    # Same DeGroote-Fregly equations in double precision; 1e-9 allows for rounding in
    # OpenSim's pennation and curve evaluations.
    for name, theirs in (
        ("norm_fiber_length", o["norm_fiber_length"]),
        ("fiber_velocity", o["fiber_velocity"]),
        ("active_fiber_force", o["active_fiber_force"]),
        ("passive_fiber_force", o["passive_fiber_force"]),
        ("active_force_length_multiplier", o["active_force_length_multiplier"]),
    ):
        np.testing.assert_allclose(getattr(ours, name), theirs, rtol=1e-9, atol=1e-9, err_msg=name)


def test_rates_match_moco_smoothed_bhargava(case: dict) -> None:
    p, s, o = case["params"], case["states"], case["osim"]
    settings = met.BhargavaSettings(smoothing=SMOOTHING)
    mass = met.muscle_mass(p.max_isometric_force, p.optimal_fiber_length)
    ours = met.bhargava2004_rates(
        s[:, 2],
        s[:, 3],
        o["norm_fiber_length"],
        o["fiber_velocity"],
        o["active_fiber_force"],
        o["passive_fiber_force"],
        o["active_force_length_multiplier"],
        p.max_isometric_force,
        mass,
        case["request"]["slow_twitch_ratio"],
        settings,
    )
    # The maintenance heat differs only through the length dependence: each of the
    # three smooth ramps is off by at most |x| exp(-2 k |x|) <= 2 exp(-2 * 50 * 0.15) at
    # >= 0.15 from its corner, weighted 1 + 3 + 2, times the largest maintenance heat.
    bound = 6 * 2 * np.exp(-2 * settings.length_smoothing * 0.15) * 111.0 * mass
    np.testing.assert_allclose(ours.activation_heat_rate, o["activation_rate"], rtol=1e-12)
    np.testing.assert_allclose(ours.maintenance_heat_rate, o["maintenance_rate"], atol=bound)
    np.testing.assert_allclose(ours.mechanical_work_rate, o["mechanical_work_rate"], rtol=1e-12)
    # The shortening heat and the total carry the maintenance difference through the
    # power and heat-floor blends (slopes <= 1 + b |P| sech^2 ~ 1); 1e-9 W for rounding.
    np.testing.assert_allclose(ours.shortening_heat_rate, o["shortening_rate"], atol=bound + 1e-9)
    np.testing.assert_allclose(ours.total, o["metabolic_rate"], atol=2 * bound + 1e-9)
