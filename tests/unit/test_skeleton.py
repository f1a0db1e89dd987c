"""Rigid-body dynamics of small models against analytic answers and conservation laws."""

from __future__ import annotations

import numpy as np
import pytest

import gaitsim
from gaitsim.model.description import (
    AxisKind,
    Body,
    Constant,
    Coordinate,
    Frame,
    Joint,
    JointType,
    Linear,
    Model,
    Motion,
    TransformAxis,
)

G = 9.80665


def triple_pendulum() -> Model:
    """Three links in 3D: custom joints with two rotations each, offsets and a slider."""
    bodies = tuple(
        Body(
            f"link{i}",
            1.0 + i,
            (0.02 * i, -0.25, 0.01),
            (0.03, 0.004 + i * 1e-3, 0.03, 0.001, 0.0, 0.0005),
        )
        for i in range(3)
    )
    joints = []
    parent = "ground"
    for i in range(3):
        coords = (Coordinate(f"a{i}"), Coordinate(f"b{i}"))
        transform = (
            TransformAxis(AxisKind.ROTATION, (0.0, 0.0, 1.0), Linear(1.0, 0.0), f"a{i}"),
            TransformAxis(AxisKind.ROTATION, (1.0, 0.0, 0.0), Linear(1.0, 0.0), f"b{i}"),
            TransformAxis(AxisKind.ROTATION, (0.0, 1.0, 0.0), Constant(0.1)),
            TransformAxis(AxisKind.TRANSLATION, (1.0, 0.0, 0.0), Constant(0.01)),
        )
        offset = (0.0, -0.5, 0.0) if parent != "ground" else (0.0, 0.0, 0.0)
        joints.append(
            Joint(
                f"j{i}",
                JointType.CUSTOM,
                Frame(parent, offset, (0.1, 0.0, 0.2)),
                Frame(f"link{i}", (0.0, 0.02, 0.0)),
                coords,
                transform,
            )
        )
        parent = f"link{i}"
    slider = Joint(
        "slide",
        JointType.CUSTOM,
        Frame("link2", (0.0, -0.5, 0.0)),
        Frame("tip"),
        (Coordinate("s", Motion.TRANSLATIONAL, (-0.1, 0.1)),),
        (TransformAxis(AxisKind.TRANSLATION, (0.0, 1.0, 0.0), Linear(1.0, 0.0), "s"),),
    )
    tip = Body("tip", 0.5, (0.0, 0.0, 0.0), (0.001, 0.001, 0.001, 0.0, 0.0, 0.0))
    return Model("triple", bodies + (tip,), tuple(joints) + (slider,))


def test_pendulum_against_analytic_torque() -> None:
    m, length, inertia = 2.0, 0.5, 0.1
    model = Model(
        "pendulum",
        (Body("rod", m, (0.0, -length, 0.0), (inertia,) * 3 + (0,) * 3),),
        (Joint("pin", JointType.PIN, Frame("ground"), Frame("rod"), (Coordinate("theta"),)),),
    )
    f = gaitsim.build(model)
    theta, omega, alpha = 0.3, 1.2, -0.7
    tau = float(f.inverse_dynamics(theta, omega, alpha, np.zeros((6, 1))))
    expected = (inertia + m * length**2) * alpha + m * G * length * np.sin(theta)
    assert tau == pytest.approx(expected, rel=1e-12)


def test_mass_matrix_and_forward_dynamics() -> None:
    model = triple_pendulum()
    f = gaitsim.build(model)
    rng = np.random.default_rng(3)
    n = f.n_q
    for _ in range(5):
        q, qd, tau = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
        mass = np.asarray(f.mass_matrix(q))
        np.testing.assert_allclose(mass, mass.T, atol=1e-12)
        assert np.linalg.eigvalsh(mass).min() > 0
        zero_forces = np.zeros((6, len(model.bodies)))
        qdd = np.asarray(f.forward_dynamics(q, qd, tau, zero_forces)).ravel()
        back = np.asarray(f.inverse_dynamics(q, qd, qdd, zero_forces)).ravel()
        np.testing.assert_allclose(back, tau, atol=1e-9)


def test_energy_is_conserved_without_forces() -> None:
    """Total energy of a passive 3D chain stays constant over a 1 s simulation."""
    model = triple_pendulum()
    f = gaitsim.build(model)
    n = f.n_q
    zero_forces = np.zeros((6, len(model.bodies)))
    masses = np.array([b.mass for b in model.bodies])

    def energy(q: np.ndarray, qd: np.ndarray) -> float:
        kinetic = 0.5 * qd @ np.asarray(f.mass_matrix(q)) @ qd
        height = float(np.asarray(f.centre_of_mass(q))[1, 0])
        return kinetic + masses.sum() * G * height

    def rhs(x: np.ndarray) -> np.ndarray:
        q, qd = x[:n], x[n:]
        qdd = np.asarray(f.forward_dynamics(q, qd, np.zeros(n), zero_forces)).ravel()
        return np.concatenate([qd, qdd])

    x = np.concatenate([np.full(n, 0.4), np.full(n, -0.5)])
    x[n - 1], x[-1] = 0.0, 0.0
    e0 = energy(x[:n], x[n:])
    h = 1e-3
    for _ in range(1000):  # classical RK4
        k1 = rhs(x)
        k2 = rhs(x + 0.5 * h * k1)
        k3 = rhs(x + 0.5 * h * k2)
        k4 = rhs(x + h * k3)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    # RK4 with h = 1 ms conserves energy to ~1e-8 J here; a wrong Coriolis term or
    # inertia would change it by orders of magnitude more.
    assert abs(energy(x[:n], x[n:]) - e0) < 1e-6 * max(1.0, abs(e0))


def test_external_force_equals_point_force_generalized() -> None:
    """A force at a body origin gives J^T F (checked by finite differences)."""
    model = triple_pendulum()
    f = gaitsim.build(model)
    rng = np.random.default_rng(4)
    q = rng.normal(size=f.n_q)
    zero = np.zeros(f.n_q)
    forces = np.zeros((6, len(model.bodies)))
    forces[:3, 1] = [3.0, -2.0, 1.0]
    forces[3:, 2] = [0.0, 0.5, 0.2]
    with_load = np.asarray(f.inverse_dynamics(q, zero, zero, forces)).ravel()
    without = np.asarray(f.inverse_dynamics(q, zero, zero, np.zeros_like(forces))).ravel()
    # Virtual work: tau_ext . dq = F . d(origin of link1) + T . dtheta(link2).
    eps = 1e-6
    pos0, rot0 = (np.asarray(a) for a in f.body_poses(q))
    for i in range(f.n_q):
        dq = np.zeros(f.n_q)
        dq[i] = eps
        pos1, rot1 = (np.asarray(a) for a in f.body_poses(q + dq))
        dp = (pos1[:, 1] - pos0[:, 1]) / eps
        drot = (rot1[:, 6:9] - rot0[:, 6:9]) / eps @ rot0[:, 6:9].T
        dtheta = 0.5 * np.array(
            [drot[2, 1] - drot[1, 2], drot[0, 2] - drot[2, 0], drot[1, 0] - drot[0, 1]]
        )
        work = forces[:3, 1] @ dp + forces[3:, 2] @ dtheta
        # The external load enters with a minus sign: it reduces the required torque.
        assert without[i] - with_load[i] == pytest.approx(work, abs=1e-5)


def test_recursive_newton_euler_equals_kanes_method() -> None:
    """Two independent formulations of the same dynamics agree to rounding."""
    import casadi as ca

    from gaitsim.mechanics.skeleton import build_skeleton

    for model in (triple_pendulum(), gaitsim.load_builtin("gait3d")):
        sk = build_skeleton(model)
        forces = ca.SX.sym("F", 6, len(model.bodies))
        args = [sk.q, sk.qd, sk.qdd, forces]
        rnea = ca.Function("rnea", args, [sk.inverse_dynamics(forces)])
        kane = ca.Function("kane", args, [sk.inverse_dynamics_kane(forces)])
        rng = np.random.default_rng(7)
        for _ in range(3):
            values = [rng.normal(size=a.shape) for a in args]
            np.testing.assert_allclose(
                np.asarray(rnea(*values)), np.asarray(kane(*values)), rtol=1e-10, atol=1e-9
            )
