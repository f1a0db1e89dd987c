"""Regenerate the initial guesses shipped with gaitsim (``src/gaitsim/simulate/data``).

Each is a converged predictive half gait cycle that gaitsim computes from its data-free
kinematic guess, so the shipped files depend on no measured data::

    .venv/bin/python tools/make_initial_guesses.py            # forward and backward

Walking problems have several local optima. Two routes are solved for each direction and
the solution with the lower objective of the default problem is shipped:

* **direct**: the default problem from the data-free guess;
* **continuation**: from the data-free guess, first the problem with effort and a
  smoothing-only acceleration term (weight 1e-3) only; then, warm-started from that
  solution with IPOPT's barrier parameter starting at 1e-4, the default acceleration
  weight; then, each seeded with the last trajectory (a cold start), the squared GRF limit
  at 1.5 BW (polished with a warm start) and the default problem (head stability,
  metabolic energy, linear GRF limit at 1.3 BW).

The better of the two is then solved once more, warm-started from itself, so that the
shipped file is converged to the barrier parameter a warm start begins with (IPOPT
otherwise leaves the iterate at the last barrier parameter above its tolerance, from which
a warm start needs about twenty iterations instead of a few).

On 2026-11-21 the continuation reached objective 0.867 for forward walking at 1.3 m/s
(0.859 polished) against 1.001 for the direct route (0.993 polished).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from gaitsim.ocp import ConvergenceError, Ipopt, Solution
from gaitsim.simulate.guesses import save_trajectory
from gaitsim.simulate.predict import predict_walking
from gaitsim.simulate.walking import WalkingSpec

OUT = Path(__file__).resolve().parents[1] / "src" / "gaitsim" / "simulate" / "data"
SPEEDS = {"forward": 1.3, "backward": -0.8}


def _direct(speed: float) -> Solution:
    return predict_walking("gait2d", speed=speed, use_shipped_guess=False).solution


def _continuation(speed: float) -> Solution:
    final = WalkingSpec(speed=speed)
    effort_only = dataclasses.replace(
        final, grf_limit_weight=0.0, head_stability_weight=0.0, metabolic_weight=0.0
    )
    steps = (
        dataclasses.replace(effort_only, acceleration_weight=1e-3),
        effort_only,
        # The squared GRF limit at SCONE's 1.5 BW (the defaults before head stability and
        # metabolic energy were added), then the defaults.
        dataclasses.replace(
            effort_only, grf_limit_weight=10.0, grf_limit=1.5, grf_limit_penalty="squared"
        ),
        final,
    )
    first = predict_walking("gait2d", spec=steps[0], use_shipped_guess=False).solution
    # mu_init 1e-4 (the tolerance): with a warm start's usual 1e-6 this step ends in
    # another local optimum, whose continuation reached objective 1.001 instead of 0.867
    # with the earlier defaults.
    solver = Ipopt(tolerance=1e-4, max_iterations=3000, options={"mu_init": 1e-4})
    second = predict_walking("gait2d", spec=steps[1], initial_guess=first, solver=solver).solution
    third = predict_walking("gait2d", spec=steps[2], initial_guess=second.trajectory).solution
    # Polished with a warm start, as the guesses of the earlier defaults were: from that
    # optimum the defaults converge in about 300 iterations (2026-11-21).
    third = predict_walking("gait2d", spec=steps[2], initial_guess=third).solution
    return predict_walking("gait2d", spec=steps[3], initial_guess=third.trajectory).solution


def main(directions: list[str]) -> int:
    for direction in directions or list(SPEEDS):
        speed = SPEEDS[direction]
        routes: dict[str, Solution] = {}
        for name, route in (("direct", _direct), ("continuation", _continuation)):
            try:
                routes[name] = route(speed)
            except ConvergenceError as error:  # the other route may still converge
                print(f"{direction} {name}: FAILED, {error}")
                continue
            sol = routes[name]
            print(f"{direction} {name}: {sol.iterations} iterations, objective {sol.objective:.5g}")
        if not routes:
            print(f"{direction}: no route converged; nothing written")
            return 1
        best = min(routes, key=lambda name: routes[name].objective)
        sol = predict_walking("gait2d", speed=speed, initial_guess=routes[best]).solution
        print(f"{direction} polished: {sol.iterations} iterations, objective {sol.objective:.5g}")
        path = OUT / f"gait2d_{direction}.sto"
        save_trajectory(sol.trajectory, path, name=f"gait2d {direction} walking guess ({best})")
        print(f"{path.name}: {best}, {sol.status}, objective {sol.objective:.5g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
