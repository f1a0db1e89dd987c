"""Initial guesses for walking that need no measured data.

:func:`kinematic_guess` draws joint angles from smooth textbook-like shapes of normal
walking (sums of Gaussian bumps placed at the events every gait text describes: loading
response knee flexion ~15 deg at 15 % of the cycle, swing knee flexion ~60 deg at 72 %,
hip from ~25 deg flexion at contact to ~10 deg extension at 50 %, ankle plantarflexion
~15 deg at 62 %). The shapes are written here, not fitted to any data set; they only
need to put the solver in the neighbourhood of walking. Speeds come from the analytic
derivatives; activations start at a low constant.

Backward walking uses the same shapes run in reverse time with the forward position
decreasing, which is what backward walking looks like to a first approximation.
"""

from __future__ import annotations

import numpy as np

from gaitsim.model.description import Model
from gaitsim.ocp import Trajectory
from gaitsim.simulate.walking import FORWARD, HEIGHT, WalkingLayout, mirror_name

__all__ = ["kinematic_guess"]


def _bumps(s: np.ndarray, terms: tuple[tuple[float, float, float], ...], base: float) -> np.ndarray:
    """Periodic sum of Gaussian bumps (amplitude, centre, width) over cycle fraction s."""
    out = np.full_like(s, base)
    for amplitude, centre, width in terms:
        for shift in (-1.0, 0.0, 1.0):
            out = out + amplitude * np.exp(-(((s - centre - shift) / width) ** 2))
    return out


def _right_leg_degrees(s: np.ndarray) -> dict[str, np.ndarray]:
    hip = 7.5 + 18.0 * np.cos(2 * np.pi * (s - 0.04))
    knee_flexion = _bumps(s, ((15.0, 0.15, 0.07), (58.0, 0.72, 0.11)), 3.0)
    ankle = _bumps(s, ((-5.0, 0.06, 0.04), (10.0, 0.42, 0.10), (-17.0, 0.62, 0.05)), 0.0)
    return {"hip_flexion": hip, "knee_angle": -knee_flexion, "ankle_angle": ankle}


def kinematic_guess(
    model: Model,
    layout: WalkingLayout,
    *,
    speed: float = 1.3,
    duration: float = 0.55,
    half_cycle: bool = True,
    n_points: int = 101,
    activation: float = 0.1,
) -> Trajectory:
    """A walking-like trajectory over the phase (half or full cycle, from right contact)."""
    cycle = 2.0 * duration if half_cycle else duration
    t = np.linspace(0.0, duration, n_points)
    backward = speed < 0
    s = (t / cycle) % 1.0
    if backward:
        s = (1.0 - s) % 1.0
    values: dict[str, np.ndarray] = {}
    for side, offset in (("r", 0.0), ("l", 0.5)):
        angles = _right_leg_degrees((s + offset) % 1.0)
        for joint, series in angles.items():
            values[f"{joint}_{side}"] = np.radians(series)
    values[FORWARD] = speed * t
    values[HEIGHT] = np.full_like(t, 0.0)
    values["pelvis_tilt"] = np.zeros_like(t)
    values["lumbar"] = np.zeros_like(t)
    names = layout.coordinates
    q = np.zeros((t.size, len(names)))
    for j, name in enumerate(names):
        if name in values:
            q[:, j] = values[name]
        elif mirror_name(name) in values:
            q[:, j] = values[mirror_name(name)]
        else:
            q[:, j] = model.coordinate(name).default
    # Pelvis height: leg length times the cosine of the stance hip angle, roughly.
    if HEIGHT in names:
        q[:, names.index(HEIGHT)] = model.coordinate(HEIGHT).default - 0.03
    qd = np.gradient(q, t, axis=0)
    n_states = len(layout.state_names)
    states = np.zeros((t.size, n_states))
    nq = len(names)
    states[:, :nq] = q
    states[:, nq : 2 * nq] = qd
    states[:, 2 * nq : 2 * nq + len(layout.muscles)] = activation
    states[:, 2 * nq + len(layout.muscles) :] = 0.2
    controls = np.zeros((t.size, len(layout.control_names)))
    controls[:, : len(layout.muscles)] = activation
    qdd = np.gradient(qd, t, axis=0)
    controls[:, len(layout.muscles) : len(layout.muscles) + nq] = qdd
    return Trajectory(
        t, layout.state_names, states, layout.control_names, controls, {"duration": duration}
    )
