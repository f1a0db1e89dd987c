"""Regenerate the initial guesses shipped with gaitsim (``src/gaitsim/simulate/data``).

Each is a converged predictive half gait cycle that gaitsim computes from its data-free
kinematic guess, so the shipped files depend on no measured data::

    .venv/bin/python tools/make_initial_guesses.py            # forward and backward
"""

from __future__ import annotations

import sys
from pathlib import Path

from gaitsim.simulate.guesses import save_trajectory
from gaitsim.simulate.predict import predict_walking

OUT = Path(__file__).resolve().parents[1] / "src" / "gaitsim" / "simulate" / "data"
SPEEDS = {"forward": 1.3, "backward": -0.8}


def main(directions: list[str]) -> int:
    for direction in directions or list(SPEEDS):
        speed = SPEEDS[direction]
        run = predict_walking("gait2d", speed=speed, use_shipped_guess=False)
        sol = run.solution
        path = OUT / f"gait2d_{direction}.sto"
        save_trajectory(sol.trajectory, path, name=f"gait2d {direction} walking guess")
        print(
            f"{path.name}: {sol.status}, {sol.iterations} iterations, "
            f"objective {sol.objective:.5g}, {sol.seconds:.0f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
