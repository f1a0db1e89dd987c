"""What-if scenarios change exactly what they say."""

from __future__ import annotations

import pytest

from gaitsim.errors import ModelError
from gaitsim.model.builtin import load_builtin
from gaitsim.scenarios import Scenario, Tightness, Weakness, apply_scenario, select_muscles


def test_selectors_take_both_sides_and_numbered_parts() -> None:
    gait3d = load_builtin("gait3d")
    assert select_muscles(gait3d, ["glut_max"]) == (
        "glut_max1_r", "glut_max2_r", "glut_max3_r", "glut_max1_l", "glut_max2_l", "glut_max3_l",
    )  # fmt: skip
    assert select_muscles(gait3d, ["psoas_r"]) == ("psoas_r",)
    gait2d = load_builtin("gait2d")
    assert set(select_muscles(gait2d, ["iliopsoas"])) == {"iliopsoas_l", "iliopsoas_r"}


def test_unknown_muscle_is_an_error_naming_it() -> None:
    with pytest.raises(ModelError, match="psoas_major"):
        select_muscles(load_builtin("gait2d"), ["psoas_major"])


def test_weakness_scales_only_the_chosen_muscles() -> None:
    model = load_builtin("gait2d")
    weak = apply_scenario(model, Scenario("weak", (Weakness(("iliopsoas",), 0.25),)))
    for before, after in zip(model.muscles, weak.muscles, strict=True):
        factor = 0.25 if before.name.startswith("iliopsoas") else 1.0
        assert after.max_isometric_force == pytest.approx(before.max_isometric_force * factor)
        assert after.tendon_slack_length == before.tendon_slack_length
    assert (
        model.muscle("iliopsoas_r").max_isometric_force
        > weak.muscle("iliopsoas_r").max_isometric_force
    )


def test_tightness_and_composition() -> None:
    model = load_builtin("gait2d")
    scenario = Scenario("both", (Tightness(("hamstrings",), 0.02), Weakness(("hamstrings",), 0.5)))
    changed = apply_scenario(model, scenario)
    h0, h1 = model.muscle("hamstrings_r"), changed.muscle("hamstrings_r")
    assert h1.tendon_slack_length == pytest.approx(h0.tendon_slack_length - 0.02)
    assert h1.max_isometric_force == pytest.approx(0.5 * h0.max_isometric_force)
    assert "hamstrings" in scenario.describe()
    with pytest.raises(ModelError, match="tendon_slack_length"):
        apply_scenario(model, Scenario("absurd", (Tightness(("hamstrings",), 10.0),)))
    with pytest.raises(ValueError, match="strength"):
        apply_scenario(model, Scenario("zero", (Weakness(("hamstrings",), 0.0),)))
