"""Tests of gaitsim.inverse_dynamics on small hand-built models with analytic answers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gaitsim.errors import ModelError
from gaitsim.inverse_dynamics import (
    InverseDynamicsResult,
    generalized_force_labels,
    inverse_dynamics,
    write,
)
from gaitsim.io.external_loads import ExternalForce, ExternalLoads
from gaitsim.io.storage import TimeSeriesTable, read_storage
from gaitsim.mechanics.model_functions import build
from gaitsim.model.description import (
    AxisKind,
    Body,
    Coordinate,
    Frame,
    Joint,
    JointType,
    Linear,
    Model,
    Motion,
    TransformAxis,
)

MASS, LENGTH, IZZ, G = 2.0, 0.8, 0.05, 9.81


def _pendulum(gravity: float = G) -> Model:
    """A rigid pendulum pinned at the ground origin; COM at (0, -L, 0) in the body."""
    body = Body("rod", MASS, (0.0, -LENGTH, 0.0), (0.02, 0.03, IZZ, 0.0, 0.0, 0.0))
    joint = Joint(
        "pin", JointType.PIN, Frame("ground"), Frame("rod"), (Coordinate("theta", default=0.2),)
    )
    return Model("pendulum", (body,), (joint,), gravity=(0.0, -gravity, 0.0))


def _pendulum_torque(q: np.ndarray, qdd: np.ndarray, gravity: float = G) -> np.ndarray:
    """``tau = (Izz + m L^2) qdd + m g L sin q`` (COM at (L sin q, -L cos q))."""
    return (IZZ + MASS * LENGTH**2) * qdd + MASS * gravity * LENGTH * np.sin(q)


def _slider() -> Model:
    """A block sliding along ground X (translational coordinate ``x``)."""
    body = Body("block", 3.0, (0.0, 0.0, 0.0), (0.1, 0.1, 0.1, 0.0, 0.0, 0.0))
    axis = TransformAxis(AxisKind.TRANSLATION, (1.0, 0.0, 0.0), Linear(1.0, 0.0), "x")
    coordinate = Coordinate("x", Motion.TRANSLATIONAL, (-5.0, 5.0))
    joint = Joint(
        "slide", JointType.CUSTOM, Frame("ground"), Frame("block"), (coordinate,), (axis,)
    )
    return Model("slider", (body,), (joint,), gravity=(0.0, -G, 0.0))


@pytest.fixture(scope="module")
def pendulum() -> tuple[Model, object]:
    model = _pendulum()
    return model, build(model)


@pytest.fixture(scope="module")
def still_pendulum() -> tuple[Model, object]:
    model = _pendulum(gravity=0.0)
    return model, build(model)


def _table(time: np.ndarray, columns: dict[str, np.ndarray], in_degrees: bool = False):
    return TimeSeriesTable(
        name="Coordinates",
        labels=tuple(columns),
        time=time,
        data=np.column_stack(list(columns.values())),
        in_degrees=in_degrees,
    )


def _loads(force: ExternalForce, time: np.ndarray, columns: dict[str, np.ndarray]):
    return ExternalLoads(forces=(force,), datafile="grf.mot"), _table(time, columns)


# ---------------------------------------------------------------------------------------


def test_pendulum_quadratic_motion_exact(pendulum) -> None:
    model, functions = pendulum
    t = np.linspace(0.0, 1.0, 41)
    q = 0.3 - 0.5 * t + 1.2 * t**2  # reproduced exactly by the natural quintic spline
    result = inverse_dynamics(
        model, _table(t, {"theta": q}), lowpass_cutoff=None, functions=functions
    )
    assert isinstance(result, InverseDynamicsResult)
    assert result.labels == ("theta_moment",)
    np.testing.assert_allclose(result.coordinates[:, 0], q, atol=1e-12)
    np.testing.assert_allclose(result.speeds[:, 0], -0.5 + 2.4 * t, atol=1e-9)
    expected = _pendulum_torque(q, np.full_like(q, 2.4))
    np.testing.assert_allclose(result.force("theta"), expected, rtol=0, atol=1e-8)


def test_pendulum_sine_in_degrees(pendulum) -> None:
    model, functions = pendulum
    t = np.arange(0.0, 2.0 + 1e-9, 0.005)
    w = 2 * np.pi * 1.3
    q = 0.6 * np.sin(w * t)
    qdd = -(w**2) * q
    table = _table(t, {"theta": np.rad2deg(q), "unrelated_column": t}, in_degrees=True)
    result = inverse_dynamics(model, table, lowpass_cutoff=None, functions=functions)
    interior = slice(40, -40)  # natural end conditions disturb the first/last frames
    expected = _pendulum_torque(q, qdd)
    np.testing.assert_allclose(
        result.generalized_forces[interior, 0],
        expected[interior],
        atol=1e-6 * np.abs(expected).max(),
    )


def test_pendulum_sine_filtered_at_six_hertz(pendulum) -> None:
    model, functions = pendulum
    t = np.arange(0.0, 3.0 + 1e-9, 0.01)
    w = 2 * np.pi * 1.0
    q = 0.4 * np.sin(w * t)
    result = inverse_dynamics(model, _table(t, {"theta": q}), functions=functions)
    expected = _pendulum_torque(q, -(w**2) * q)
    # A 1 Hz signal loses < 1e-4 of its amplitude through the 6 Hz zero-lag filter.
    np.testing.assert_allclose(
        result.generalized_forces[:, 0], expected, atol=2e-3 * np.abs(expected).max()
    )


def test_time_range_selects_frames_like_opensim(pendulum) -> None:
    model, functions = pendulum
    t = np.arange(11) / 10.0
    q = 0.1 * t**2
    result = inverse_dynamics(
        model,
        _table(t, {"theta": q}),
        lowpass_cutoff=None,
        functions=functions,
        time_range=(0.25, 0.7),
    )
    # First frame: the last one at or before 0.25; last: the last one at or before 0.7.
    np.testing.assert_allclose(result.time, [0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    with pytest.raises(ValueError, match="does not overlap"):
        inverse_dynamics(model, _table(t, {"theta": q}), functions=functions, time_range=(2.0, 3.0))


def test_missing_coordinate_uses_default_and_warns(pendulum) -> None:
    model, functions = pendulum
    t = np.linspace(0.0, 1.0, 11)
    with pytest.warns(UserWarning, match="theta"):
        result = inverse_dynamics(
            model, _table(t, {"other": t}), lowpass_cutoff=None, functions=functions
        )
    np.testing.assert_allclose(result.coordinates[:, 0], 0.2)
    np.testing.assert_allclose(result.generalized_forces[:, 0], _pendulum_torque(0.2, 0.0))


def test_point_force_in_ground(still_pendulum) -> None:
    model, functions = still_pendulum
    t = np.linspace(0.0, 1.0, 11)
    q = np.full_like(t, 0.4)
    force = np.array([3.0, -7.0, 1.0])
    point = np.array([0.2, -0.5, 0.1])
    loads, data = _loads(
        ExternalForce("push", "rod", force_identifier="f", point_identifier="p"),
        t,
        {
            **{f"f{a}": np.full_like(t, v) for a, v in zip("xyz", force, strict=True)},
            **{f"p{a}": np.full_like(t, v) for a, v in zip("xyz", point, strict=True)},
        },
    )
    result = inverse_dynamics(
        model, _table(t, {"theta": q}), loads, data, lowpass_cutoff=None, functions=functions
    )
    # Static: the actuator balances the moment of the force about the pivot (z axis).
    expected = -np.cross(point, force)[2]
    np.testing.assert_allclose(result.generalized_forces[:, 0], expected, atol=1e-10)


def test_force_and_point_in_body_frame_and_free_torque(still_pendulum) -> None:
    model, functions = still_pendulum
    t = np.linspace(0.0, 1.0, 11)
    angle = 0.7
    q = np.full_like(t, angle)
    force_local = np.array([2.0, 5.0, -1.0])
    point_local = np.array([0.1, -0.6, 0.2])
    torque_local = np.array([0.3, -0.2, 1.5])
    loads, data = _loads(
        ExternalForce(
            "tool",
            "rod",
            force_expressed_in_frame="rod",
            point_expressed_in_frame="rod",
            force_identifier="f",
            point_identifier="p",
            torque_identifier="m",
        ),
        t,
        {
            **{f"f{a}": np.full_like(t, v) for a, v in zip("xyz", force_local, strict=True)},
            **{f"p{a}": np.full_like(t, v) for a, v in zip("xyz", point_local, strict=True)},
            **{f"m{a}": np.full_like(t, v) for a, v in zip("xyz", torque_local, strict=True)},
        },
    )
    result = inverse_dynamics(
        model, _table(t, {"theta": q}), loads, data, lowpass_cutoff=None, functions=functions
    )
    c, s = math.cos(angle), math.sin(angle)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    moment = np.cross(rotation @ point_local, rotation @ force_local) + rotation @ torque_local
    np.testing.assert_allclose(result.generalized_forces[:, 0], -moment[2], atol=1e-10)


def test_force_without_point_acts_at_body_origin(still_pendulum) -> None:
    model, functions = still_pendulum
    t = np.linspace(0.0, 1.0, 11)
    loads, data = _loads(
        ExternalForce("pull", "rod", force_identifier="f"),
        t,
        {"fx": np.full_like(t, 10.0), "fy": np.zeros_like(t), "fz": np.zeros_like(t)},
    )
    result = inverse_dynamics(
        model,
        _table(t, {"theta": np.full_like(t, 0.3)}),
        loads,
        data,
        lowpass_cutoff=None,
        functions=functions,
    )
    np.testing.assert_allclose(result.generalized_forces[:, 0], 0.0, atol=1e-12)


def test_load_data_interpolated_to_coordinate_times(still_pendulum) -> None:
    model, functions = still_pendulum
    t = np.linspace(0.0, 1.0, 11)
    t_grf = np.linspace(0.0, 1.0, 101)  # 10x the coordinate rate, like force plates
    fy = 5.0 + 40.0 * t_grf  # a linear ramp: the natural cubic spline is exact
    loads, data = _loads(
        ExternalForce("ramp", "rod", force_identifier="f", point_identifier="p"),
        t_grf,
        {
            "fx": np.zeros_like(t_grf),
            "fy": fy,
            "fz": np.zeros_like(t_grf),
            "px": np.full_like(t_grf, 0.5),
            "py": np.zeros_like(t_grf),
            "pz": np.zeros_like(t_grf),
        },
    )
    result = inverse_dynamics(
        model,
        _table(t, {"theta": np.zeros_like(t)}),
        loads,
        data,
        lowpass_cutoff=None,
        functions=functions,
    )
    np.testing.assert_allclose(result.generalized_forces[:, 0], -0.5 * (5.0 + 40.0 * t), atol=1e-9)


def test_slider_force_label_and_value() -> None:
    model = _slider()
    t = np.linspace(0.0, 1.0, 21)
    x = 0.2 + 0.3 * t + 0.5 * t**2  # acceleration 1.0
    fx = np.full_like(t, 4.0)
    loads, data = _loads(
        ExternalForce("push", "block", force_identifier="f"),
        t,
        {"fx": fx, "fy": np.zeros_like(t), "fz": np.zeros_like(t)},
    )
    result = inverse_dynamics(model, _table(t, {"x": x}), loads, data, lowpass_cutoff=None)
    assert generalized_force_labels(model) == ("x_force",)
    assert result.labels == ("x_force",)
    np.testing.assert_allclose(result.generalized_forces[:, 0], 3.0 * 1.0 - 4.0, atol=1e-8)


def test_errors(pendulum) -> None:
    model, functions = pendulum
    t = np.linspace(0.0, 1.0, 11)
    table = _table(t, {"theta": t})
    loads, data = _loads(
        ExternalForce("lost", "femur", force_identifier="f"),
        t,
        {"fx": t, "fy": t, "fz": t},
    )
    with pytest.raises(ValueError, match="load_data"):
        inverse_dynamics(model, table, loads, None, functions=functions)
    with pytest.raises(ModelError, match="femur"):
        inverse_dynamics(model, table, loads, data, lowpass_cutoff=None, functions=functions)
    with pytest.raises(ValueError, match="positive"):
        inverse_dynamics(model, table, lowpass_cutoff=0.0, functions=functions)
    with pytest.raises(ValueError, match="built for model"):
        inverse_dynamics(model, table, functions=build(_slider()))


def test_write_round_trip(pendulum, tmp_path: Path) -> None:
    model, functions = pendulum
    t = np.linspace(0.0, 1.0, 11)
    result = inverse_dynamics(
        model, _table(t, {"theta": 0.1 * t}), lowpass_cutoff=None, functions=functions
    )
    path = tmp_path / "id.sto"
    write(result, path)
    table = read_storage(path)
    assert table.name == "Inverse Dynamics Generalized Forces"
    assert table.labels == ("theta_moment",)
    assert not table.in_degrees
    np.testing.assert_allclose(table.time, result.time)
    np.testing.assert_allclose(table.data, result.generalized_forces, rtol=1e-9)
