"""The model description, its TOML format and its validation."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

import gaitsim
from gaitsim.errors import FileFormatError, ModelError
from gaitsim.model.description import (
    Body,
    ConditionalPathPoint,
    Coordinate,
    Frame,
    Joint,
    JointType,
    Model,
    Muscle,
    PathPoint,
)
from gaitsim.model.toml_format import dumps_model, loads_model, read_model, write_model
from gaitsim.model.validation import validate


def _two_link() -> Model:
    return Model(
        name="two_link",
        bodies=(
            Body("thigh", 7.0, (0.0, -0.2, 0.0), (0.1, 0.02, 0.1, 0.0, 0.0, 0.0)),
            Body("shank", 3.0, (0.0, -0.2, 0.0), (0.04, 0.005, 0.04, 0.0, 0.0, 0.0)),
        ),
        joints=(
            Joint(
                "hip",
                JointType.PIN,
                Frame("ground"),
                Frame("thigh"),
                (Coordinate("hip_flexion", range=(-0.5, 2.0)),),
            ),
            Joint(
                "knee",
                JointType.PIN,
                Frame("thigh", (0.0, -0.4, 0.0)),
                Frame("shank"),
                (Coordinate("knee_angle", range=(-2.0, 0.1)),),
            ),
        ),
        muscles=(
            Muscle(
                "flexor",
                1000.0,
                0.1,
                0.3,
                0.1,
                10.0,
                (
                    PathPoint("origin", "thigh", (-0.03, -0.1, 0.0)),
                    ConditionalPathPoint(
                        "via", "thigh", (-0.03, -0.38, 0.0), "knee_angle", (-1.0, 0.1)
                    ),
                    PathPoint("insertion", "shank", (-0.02, -0.05, 0.0)),
                ),
            ),
        ),
    )


@pytest.mark.parametrize("name", gaitsim.builtin_names())
def test_builtin_models_round_trip(name: str) -> None:
    model = gaitsim.load_builtin(name)
    assert loads_model(dumps_model(model)) == model


def test_builtin_model_counts() -> None:
    gait2d = gaitsim.load_builtin("gait2d")
    assert len(gait2d.coordinates) == 10 and len(gait2d.muscles) == 18
    assert len(gait2d.contacts) == 4
    gait3d = gaitsim.load_builtin("gait3d")
    assert len(gait3d.coordinates) == 23 and len(gait3d.muscles) == 92
    for muscle in (
        "psoas_r",
        "iliacus_r",
        "rect_fem_r",
        "sar_r",
        "tfl_r",
        "semimem_r",
        "semiten_r",
        "bifemlh_r",
        "bifemsh_r",
    ):
        gait3d.muscle(muscle)  # raises KeyError if absent
    for model in (gait2d, gait3d):
        assert model.references, "a built-in model cites its sources"


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    write_model(_two_link(), path)
    assert read_model(path) == _two_link()
    with pytest.raises(FileExistsError):
        write_model(_two_link(), path)
    write_model(_two_link(), path, overwrite=True)


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('format = "gaitsim-model"\nversion = 1\nname = "x"\nbodies = [\n', "utf-8")
    with pytest.raises(FileFormatError) as info:
        read_model(path)
    assert info.value.line is not None and str(path) in str(info.value)


def _error(model: Model) -> ModelError:
    with pytest.raises(ModelError) as info:
        validate(model)
    return info.value


def test_unknown_parent_body() -> None:
    m = _two_link()
    knee = dataclasses.replace(m.joints[1], parent=Frame("femr"))
    err = _error(dataclasses.replace(m, joints=(m.joints[0], knee)))
    assert err.element == "joints.knee.parent" and "femr" in err.problem


def test_negative_mass_and_nan() -> None:
    m = _two_link()
    err = _error(
        dataclasses.replace(m, bodies=(dataclasses.replace(m.bodies[0], mass=-1.0), m.bodies[1]))
    )
    assert err.element == "bodies.thigh.mass"
    muscle = dataclasses.replace(m.muscles[0], optimal_fiber_length=math.nan)
    err = _error(dataclasses.replace(m, muscles=(muscle,)))
    assert err.element == "muscles.flexor.optimal_fiber_length" and "finite" in err.problem


def test_cycle_in_the_tree() -> None:
    m = _two_link()
    loop = (dataclasses.replace(m.joints[0], parent=Frame("shank")), m.joints[1])
    err = _error(dataclasses.replace(m, joints=loop))
    assert "cycle" in err.problem


def test_unknown_coordinate_of_a_conditional_point() -> None:
    m = _two_link()
    path = list(m.muscles[0].path)
    path[1] = dataclasses.replace(path[1], coordinate="ankle_angle")
    muscle = dataclasses.replace(m.muscles[0], path=tuple(path))
    err = _error(dataclasses.replace(m, muscles=(muscle,)))
    assert err.element == "muscles.flexor.path.via.coordinate"


def test_duplicate_names() -> None:
    m = _two_link()
    err = _error(dataclasses.replace(m, bodies=(m.bodies[0], m.bodies[0])))
    assert "twice" in err.problem


def test_missing_and_unknown_keys_in_toml() -> None:
    text = dumps_model(_two_link())
    missing = text.replace("max_isometric_force = 1000.0\n", "")
    with pytest.raises(ModelError) as info:
        loads_model(missing)
    assert info.value.element == "muscles[0].max_isometric_force"
    typo = text.replace("max_isometric_force", "max_isometric_forse")
    with pytest.raises(ModelError) as info:
        loads_model(typo)
    assert "max_isometric_forse" in str(info.value)
    wrong_type = text.replace('type = "pin"', 'type = "hinge"', 1)
    with pytest.raises(ModelError) as info:
        loads_model(wrong_type)
    assert "hinge" in str(info.value)


def test_invalid_toml_in_the_middle(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('format = "gaitsim-model"\nversion = = 1\nname = "x"\n', "utf-8")
    with pytest.raises(FileFormatError) as info:
        read_model(path)
    assert info.value.line == 2
