"""Initial guesses shipped with gaitsim, and trajectories as OpenSim storage files.

``src/gaitsim/simulate/data/<model>_<direction>.sto`` holds a converged half gait cycle
(states and controls, one column each, ``inDegrees=no``; the phase duration in the
header) that gaitsim itself computed with ``tools/make_initial_guesses.py`` from its
data-free kinematic guess. Starting from it, a predictive solve needs far fewer
iterations than from the kinematic guess.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from gaitsim.io.storage import TimeSeriesTable, read_storage, write_storage
from gaitsim.ocp import Trajectory

__all__ = ["save_trajectory", "load_trajectory", "shipped_guess"]


def save_trajectory(trajectory: Trajectory, path: str | Path, name: str = "trajectory") -> None:
    """Write states and controls as one OpenSim storage file."""
    labels = trajectory.state_names + trajectory.control_names
    data = np.hstack([trajectory.states, trajectory.controls])
    metadata = {f"parameter_{k}": repr(float(v)) for k, v in trajectory.parameters.items()}
    metadata["n_states"] = str(len(trajectory.state_names))
    table = TimeSeriesTable(name, labels, trajectory.time, data, False, metadata)
    write_storage(table, path, precision=12)


def load_trajectory(path: str | Path) -> Trajectory:
    """Read a trajectory written by :func:`save_trajectory`."""
    table = read_storage(path)
    n_states = int(table.metadata.get("n_states", len(table.labels)))
    params = {
        k[len("parameter_") :]: float(v)
        for k, v in table.metadata.items()
        if k.startswith("parameter_")
    }
    return Trajectory(
        table.time,
        table.labels[:n_states],
        table.data[:, :n_states],
        table.labels[n_states:],
        table.data[:, n_states:],
        params,
    )


def shipped_guess(model_name: str, speed: float) -> tuple[Trajectory, float] | None:
    """The shipped guess for ``model_name`` walking in ``speed``'s direction, or None.

    Returns the guess, with its forward position rescaled to the asked speed (it keeps
    its duration), and the speed it was solved for.
    """
    direction = "backward" if speed < 0 else "forward"
    resource = resources.files("gaitsim.simulate") / "data" / f"{model_name}_{direction}.sto"
    if not resource.is_file():
        return None
    with resources.as_file(resource) as path:
        guess = load_trajectory(path)
    solved_speed = speed
    if "pelvis_tx" in guess.state_names:
        j = guess.state_names.index("pelvis_tx")
        states = np.array(guess.states)
        x = states[:, j]
        travelled = x[-1] - x[0]
        solved_speed = travelled / guess.duration
        if travelled != 0:
            states[:, j] = x[0] + (x - x[0]) * (speed * guess.duration) / travelled
        guess = Trajectory(
            guess.time,
            guess.state_names,
            states,
            guess.control_names,
            guess.controls,
            guess.parameters,
        )
    return guess, float(solved_speed)
