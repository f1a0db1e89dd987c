"""Trajectories: named time series of states, controls and other quantities.

A :class:`Trajectory` is what comes out of a solve (see
:class:`gaitsim.ocp.solution.Solution`, which *is* a trajectory plus the solver's
account of how it was found) and what can seed the next solve as its initial guess.

Convention: the first dimension is always time. ``states`` has shape ``(n_times,
n_states)`` with column names ``state_names``; likewise ``controls``. ``parameters``
holds the values of any static parameters (e.g. the phase duration ``"duration"``).
Angles are in radians, as everywhere inside gaitsim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Trajectory"]


def _frozen(array: Any, shape_name: str, ncols: int, nrows: int) -> np.ndarray:
    a = np.array(array, dtype=float, copy=True)
    if a.ndim == 1 and ncols == 0:
        a = a.reshape(nrows, 0)
    if a.shape != (nrows, ncols):
        raise ValueError(f"{shape_name} must have shape ({nrows}, {ncols}), got {a.shape}")
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Named time series of states and controls (first dimension: time).

    Parameters
    ----------
    time
        Strictly increasing times (s), shape ``(n,)``.
    state_names, states
        Names and values ``(n, n_states)``.
    control_names, controls
        Names and values ``(n, n_controls)``.
    parameters
        Static parameters by name (e.g. ``{"duration": 0.5}``).
    """

    time: np.ndarray
    state_names: tuple[str, ...]
    states: np.ndarray
    control_names: tuple[str, ...] = ()
    controls: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    parameters: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = np.array(self.time, dtype=float, copy=True).ravel()
        if t.size < 2 or not np.all(np.diff(t) > 0):
            raise ValueError("time must have at least two strictly increasing values")
        t.setflags(write=False)
        object.__setattr__(self, "time", t)
        n = t.size
        object.__setattr__(self, "state_names", tuple(self.state_names))
        object.__setattr__(self, "control_names", tuple(self.control_names))
        object.__setattr__(self, "states", _frozen(self.states, "states", len(self.state_names), n))
        controls = self.controls
        if np.size(controls) == 0 and not self.control_names:
            controls = np.zeros((n, 0))
        object.__setattr__(
            self, "controls", _frozen(controls, "controls", len(self.control_names), n)
        )
        object.__setattr__(self, "parameters", dict(self.parameters))
        for names, kind in ((self.state_names, "state"), (self.control_names, "control")):
            if len(set(names)) != len(names):
                raise ValueError(f"duplicate {kind} names")

    @property
    def n_times(self) -> int:
        """Number of time points."""
        return int(self.time.size)

    @property
    def duration(self) -> float:
        """Final minus initial time (s)."""
        return float(self.time[-1] - self.time[0])

    def state(self, name: str) -> np.ndarray:
        """One state over time."""
        return self.states[:, self._index(self.state_names, name, "state")]

    def control(self, name: str) -> np.ndarray:
        """One control over time."""
        return self.controls[:, self._index(self.control_names, name, "control")]

    def value(self, name: str) -> np.ndarray:
        """A state or a control over time, by name."""
        if name in self.state_names:
            return self.state(name)
        return self.control(name)

    @staticmethod
    def _index(names: tuple[str, ...], name: str, kind: str) -> int:
        try:
            return names.index(name)
        except ValueError:
            raise KeyError(f"no {kind} named {name!r}; {kind}s: {', '.join(names)}") from None

    def resample(self, time: np.ndarray) -> Trajectory:
        """Linear interpolation of every state and control at ``time``."""
        time = np.asarray(time, dtype=float)
        states = (
            np.column_stack(
                [
                    np.interp(time, self.time, self.states[:, j])
                    for j in range(len(self.state_names))
                ]
            )
            if self.state_names
            else np.zeros((time.size, 0))
        )
        controls = (
            np.column_stack(
                [
                    np.interp(time, self.time, self.controls[:, j])
                    for j in range(len(self.control_names))
                ]
            )
            if self.control_names
            else np.zeros((time.size, 0))
        )
        return Trajectory(
            time, self.state_names, states, self.control_names, controls, self.parameters
        )
