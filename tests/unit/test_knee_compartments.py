"""The medial/lateral compartment model (gaitsim.analysis.knee_compartments) against hand
calculations and a static load on gait3d."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitsim.analysis.joint_loads import BodyLoad, LoadedMotion, joint_load
from gaitsim.analysis.knee_compartments import (
    CompartmentGeometry,
    compartment_loads,
    knee_compartment_loads,
)
from gaitsim.mechanics.model_functions import build
from gaitsim.model.builtin import load_builtin

T = np.array([0.0, 0.01, 0.02])


def test_zero_frontal_moment_shares_by_the_lever_ratio() -> None:
    # Medial contact 25 mm, lateral 15 mm from the centre: with M = 0 the moment balance
    # d_m F_m = d_l F_l gives F_m / F = d_l / (d_m + d_l) = 15 / 40 = 0.375.
    geometry = CompartmentGeometry(medial=0.025, lateral=0.015)
    loads = compartment_loads(
        T, [1000.0, 2000.0, 500.0], [0.0, 0.0, 0.0], body_weight=700.0, geometry=geometry
    )
    # Products and quotients of short binary fractions: exact up to one rounding.
    np.testing.assert_allclose(loads.medial_share, 0.375, rtol=1e-15)
    np.testing.assert_allclose(loads.medial, [375.0, 750.0, 187.5], rtol=1e-15)
    np.testing.assert_allclose(loads.lateral, [625.0, 1250.0, 312.5], rtol=1e-15)


def test_a_varus_moment_moves_m_over_d_to_the_medial_side() -> None:
    # Symmetric 40 mm knee, F = 1500 N: 30 N m adds 30 / 0.04 = 750 N medially, removes
    # it laterally (hand calculation: 750 + 750 = 1500 and 750 - 750 = 0).
    loads = compartment_loads(T, [1500.0] * 3, [0.0, 30.0, -30.0], body_weight=700.0)
    # 30 / 0.04 is not exact in binary: 1e-12 N of rounding.
    np.testing.assert_allclose(loads.medial, [750.0, 1500.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(loads.lateral, [750.0, 0.0, 1500.0], atol=1e-12)
    np.testing.assert_allclose(loads.medial_share, [0.5, 1.0, 0.0], atol=1e-15)
    assert not np.any(loads.lateral_liftoff)
    # More moment than the compression can balance: the lateral contact would pull.
    over = compartment_loads(T, [1000.0] * 3, [25.0, 0.0, 0.0], body_weight=700.0)
    assert over.lateral[0] == pytest.approx(1000.0 / 2 - 25.0 / 0.04)  # -125 N (rel 1e-6)
    assert list(over.lateral_liftoff) == [True, False, False]
    assert over.medial_share[0] > 1.0


@settings(max_examples=60, deadline=None)
@given(
    force=st.floats(0.0, 5000.0),
    moment=st.floats(-100.0, 100.0),
    medial=st.floats(0.005, 0.05),
    lateral=st.floats(0.005, 0.05),
)
def test_both_balance_equations_hold(
    force: float, moment: float, medial: float, lateral: float
) -> None:
    geometry = CompartmentGeometry(medial, lateral)
    loads = compartment_loads([0.0], [force], [moment], body_weight=700.0, geometry=geometry)
    # Rounding of a few products of numbers up to 5000 N and 100 N m: 1e-9 N / N m.
    assert loads.medial[0] + loads.lateral[0] == pytest.approx(force, abs=1e-9)
    assert medial * loads.medial[0] - lateral * loads.lateral[0] == pytest.approx(moment, abs=1e-9)


def test_impulse_share_is_the_ratio_of_sums() -> None:
    loads = compartment_loads(T, [1000.0, 3000.0, 0.0], [10.0, -20.0, 0.0], body_weight=700.0)
    # medial = F/2 + M/0.04: 750 and 1000 (and 0): (750 + 1000) / (1000 + 3000).
    assert loads.impulse_share([0, 1]) == pytest.approx(1750.0 / 4000.0, rel=1e-15)  # 1 rounding
    assert loads.impulse_share(np.array([True, True, True])) == pytest.approx(1750.0 / 4000.0)
    assert np.isnan(loads.medial_share[2])  # no compression: nothing to share
    assert np.isnan(loads.impulse_share([2]))
    np.testing.assert_allclose(loads.medial_bw, loads.medial / 700.0)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        CompartmentGeometry(medial=-0.01)
    with pytest.raises(ValueError, match="positive"):
        CompartmentGeometry(lateral=float("nan"))
    with pytest.raises(ValueError, match="same shape"):
        compartment_loads(T, [1.0, 2.0], [0.0, 0.0, 0.0], body_weight=700.0)
    with pytest.raises(ValueError, match="finite"):
        compartment_loads(T, [1.0, np.inf, 2.0], [0.0, 0.0, 0.0], body_weight=700.0)
    with pytest.raises(ValueError, match="body_weight"):
        compartment_loads(T, [1.0] * 3, [0.0] * 3, body_weight=0.0)


@pytest.mark.parametrize("side", ["r", "l"])
def test_a_force_medial_to_the_knee_loads_the_medial_compartment(side: str) -> None:
    # gait3d without gravity, standing still in its default pose, one upward force of
    # F = 800 N on the foot, a = 30 mm medial of the knee centre: the knee's compression
    # is F and its adduction moment F a = 24 N m exactly (no inertia, no weight), so
    # F_m = F / 2 + F a / d = 400 + 600 = 1000 N and F_l = -200 N.
    model = dataclasses.replace(load_builtin("gait3d"), gravity=(0.0, 0.0, 0.0))
    functions = build(model)
    q = np.array([c.default for c in model.coordinates])
    p, _ = functions.body_poses(q)
    knee = np.asarray(p)[:, [b.name for b in model.bodies].index(f"tibia_{side}")]
    medial = np.array([0.0, 0.0, -1.0 if side == "r" else 1.0])
    point = knee + np.array([0.05, -0.85, 0.0]) + 0.03 * medial
    n = 3
    load = BodyLoad(f"calcn_{side}", np.tile([0.0, 800.0, 0.0], (n, 1)), np.tile(point, (n, 1)))
    motion = LoadedMotion(
        np.arange(n) * 0.01,
        np.tile(q, (n, 1)),
        np.zeros((n, q.size)),
        np.zeros((n, q.size)),
        np.zeros((n, len(model.muscles))),
        (load,),
        body_weight=700.0,
    )
    knee_load = joint_load(model, motion, f"knee_{side}", functions=functions)
    loads = knee_compartment_loads(knee_load)
    # Exact statics evaluated in floating point: 1e-9 N.
    np.testing.assert_allclose(loads.compressive, 800.0, atol=1e-9)
    np.testing.assert_allclose(loads.adduction_moment, 24.0, atol=1e-9)
    np.testing.assert_allclose(loads.medial, 1000.0, atol=1e-9)
    np.testing.assert_allclose(loads.lateral, -200.0, atol=1e-9)
    # Muscle compression through the centre adds to F, not to M.
    more = knee_compartment_loads(knee_load, extra_compression=np.full(n, 400.0))
    np.testing.assert_allclose(more.medial - loads.medial, 200.0, atol=1e-9)
    np.testing.assert_allclose(more.adduction_moment, loads.adduction_moment, atol=0)  # same
    with pytest.raises(ValueError, match="shape"):
        knee_compartment_loads(knee_load, extra_compression=np.zeros(n + 1))


def test_a_joint_without_side_is_refused() -> None:
    model = load_builtin("gait3d")
    q = np.array([c.default for c in model.coordinates])
    n = 2
    motion = LoadedMotion(
        np.arange(n) * 0.01,
        np.tile(q, (n, 1)),
        np.zeros((n, q.size)),
        np.zeros((n, q.size)),
        np.zeros((n, len(model.muscles))),
        (),
        body_weight=700.0,
    )
    with pytest.raises(ValueError, match="no side"):
        knee_compartment_loads(joint_load(model, motion, "back"))
