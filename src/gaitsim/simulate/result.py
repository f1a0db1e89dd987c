"""The result of a walking simulation, in the quantities people look at.

A :class:`WalkingResult` holds one full stride (a gait cycle from right initial contact
to the next, or as simulated), sampled at the solution's time points. First dimension is
always time; angles in radians; forces in newtons; model sign conventions (OpenSim's:
knee flexion negative). Conversions to clinical signs and degrees happen in reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["WalkingResult"]


@dataclass(frozen=True, eq=False)
class WalkingResult:
    """One simulated stride.

    Attributes
    ----------
    model_name
        Name of the model simulated.
    kind
        ``"predictive"`` or ``"tracking"``.
    time
        Times (s), shape ``(n,)``, starting at 0.
    coordinate_names, q, qd, qdd
        Coordinates (rad or m), speeds and accelerations, ``(n, n_q)``.
    joint_moments
        Net generalised forces from inverse dynamics with the contact forces applied
        (what muscles, passive and reserve torques supply), ``(n, n_q)``.
    muscle_names, excitations, activations, tendon_forces
        ``(n, n_m)`` each (tendon force in N).
    grf
        Ground reaction force on each foot in ground, by side ``"r"``/``"l"``, ``(n, 3)``.
    cop
        Centre of pressure of each foot on the floor, by side, ``(n, 3)``; NaN where the
        vertical force is below the threshold used.
    body_mass
        Total model mass (kg).
    speed
        Average forward speed over the stride (m/s; negative walking backward).
    settings
        Problem and solver settings with gaitsim's version (JSON-ready).
    solver
        Solver status, iterations, objective terms, constraint violations (JSON-ready).
    """

    model_name: str
    kind: str
    time: np.ndarray
    coordinate_names: tuple[str, ...]
    q: np.ndarray
    qd: np.ndarray
    qdd: np.ndarray
    joint_moments: np.ndarray
    muscle_names: tuple[str, ...]
    excitations: np.ndarray
    activations: np.ndarray
    tendon_forces: np.ndarray
    grf: dict[str, np.ndarray]
    cop: dict[str, np.ndarray]
    body_mass: float
    speed: float
    settings: dict[str, Any] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)
    contact_forces: dict[str, np.ndarray] = field(default_factory=dict)
    """Force on each contact sphere in ground, by contact name, ``(n, 3)``."""

    @property
    def cycle_percent(self) -> np.ndarray:
        """Time as percent of the stride, 0 to 100."""
        t = np.asarray(self.time)
        return 100.0 * (t - t[0]) / (t[-1] - t[0])

    def coordinate(self, name: str) -> np.ndarray:
        """One coordinate over time (rad or m)."""
        return self.q[:, self.coordinate_names.index(name)]

    def moment(self, name: str) -> np.ndarray:
        """The net generalised force about one coordinate over time (N m or N)."""
        return self.joint_moments[:, self.coordinate_names.index(name)]

    def activation(self, name: str) -> np.ndarray:
        """One muscle's activation over time."""
        return self.activations[:, self.muscle_names.index(name)]
