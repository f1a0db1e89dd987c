"""The analyses of one simulated stride that several questions use, computed once.

Phases come from the stride's own events (:func:`gaitsim.analysis.events.events_from_result`)
with kinematic heel rise, feet adjacent and tibia vertical where the model shows them
(:func:`gaitsim.analysis.phases.phase_events_from_result`). A muscle counts as *active*
when its activation is at least :data:`ACTIVE_ACTIVATION`: the excitation floor of the
simulations is 0.01, and 0.05 separates deliberate activity from that floor while still
counting the low activations of slow walking (0.1, the usual EMG-on threshold, would call
every muscle of slow backward walking inactive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gaitsim.analysis.events import events_from_result, gait_cycles  # noqa: E402
from gaitsim.analysis.joint_loads import JointLoad, walking_joint_loads  # noqa: E402
from gaitsim.analysis.muscle_function import (  # noqa: E402
    ActivityCriteria,
    MuscleFunction,
    muscle_function,
)
from gaitsim.analysis.patellofemoral import (  # noqa: E402
    PatellofemoralLoad,
    walking_patellofemoral_load,
)
from gaitsim.analysis.phases import Phase, gait_phases, phase_events_from_result  # noqa: E402
from gaitsim.mechanics.model_functions import ModelFunctions, build  # noqa: E402
from gaitsim.model.description import Model  # noqa: E402
from gaitsim.simulate.result import WalkingResult  # noqa: E402

__all__ = ["ACTIVE_ACTIVATION", "StrideAnalysis", "analyse_stride", "plot_over_cycle"]

ACTIVE_ACTIVATION = 0.05


@dataclass(frozen=True)
class StrideAnalysis:
    """A stride with its phases, muscle function, and right knee and hip loads."""

    result: WalkingResult
    model: Model
    functions: ModelFunctions
    phases: tuple[Phase, ...]
    muscles: MuscleFunction
    loads: dict[str, JointLoad]
    patellofemoral: PatellofemoralLoad

    def phase(self, name: str, side: str = "r") -> Phase:
        for p in self.phases:
            if p.name == name and p.side == side:
                return p
        raise KeyError(f"no phase {name!r} on side {side!r}")

    @property
    def period(self) -> float:
        t = self.result.time
        return float(t[-1] - t[0])

    def in_phases(self, names: Sequence[str], side: str = "r") -> np.ndarray:
        """Mask of the samples inside any of the named phases."""
        mask = np.zeros(self.result.time.shape, dtype=bool)
        for n in names:
            mask |= self.phase(n, side).mask(self.result.time, self.period)
        return mask

    def muscle_work(
        self, muscles: Sequence[str], phases: Sequence[str] | None = None, side: str = "r"
    ) -> tuple[float, float]:
        """Positive and negative (<= 0) muscle-tendon work (J) of ``muscles`` summed over
        the named phases of ``side`` (default: all of them, the whole cycle)."""
        labels = None if phases is None else {f"{name}_{side}" for name in phases}
        positive = negative = 0.0
        for p in self.muscles.phases:
            if p.muscle in muscles and p.phase.endswith(f"_{side}"):
                if labels is None or p.phase in labels:
                    positive += p.muscle_tendon_positive_work
                    negative += p.muscle_tendon_negative_work
        return positive, negative

    def cycle_percent(self, side: str = "r") -> np.ndarray:
        """Percent of the side's gait cycle (0 at its initial contact) of each sample."""
        start = self.phase("initial_contact", side).start
        return 100.0 * np.mod(self.result.time - start, self.period) / self.period


def analyse_stride(result: WalkingResult, model: Model) -> StrideAnalysis:
    """Phases, muscle function and joint loads of a stride (see the module docstring)."""
    functions = build(model)
    events = events_from_result(result)
    phases: list[Phase] = []
    for side in ("r", "l"):
        cycle = gait_cycles(events, side)[0]
        phases.extend(gait_phases(cycle, phase_events_from_result(result, functions, cycle)))
    criteria = ActivityCriteria(min_activation=ACTIVE_ACTIVATION)
    muscles = muscle_function(model, functions, result, phases, criteria=criteria)
    loads = {
        load.joint: load
        for load in walking_joint_loads(result, model, ("hip_r", "knee_r"), functions=functions)
    }
    return StrideAnalysis(
        result,
        model,
        functions,
        tuple(phases),
        muscles,
        loads,
        walking_patellofemoral_load(result, "r"),
    )


def plot_over_cycle(
    path: Path,
    title: str,
    ylabel: str,
    curves: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    marks: Sequence[tuple[str, float]] = (),
) -> Path:
    """Line plot of ``(label, percent, values)`` curves over the gait cycle, as SVG.

    Each curve is drawn in cycle order (sorted by percent); ``marks`` are vertical lines
    (e.g. toe-off) with labels.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, percent, values in curves:
        order = np.argsort(percent)
        ax.plot(np.asarray(percent)[order], np.asarray(values)[order], label=label)
    for label, x in marks:
        ax.axvline(x, color="0.6", linestyle="--", linewidth=0.8)
        ax.text(x, ax.get_ylim()[1], f" {label}", va="top", fontsize=8, color="0.4")
    ax.set_xlabel("gait cycle (%)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0, 100)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
