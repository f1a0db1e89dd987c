"""Reports of simulated walking: figures over the gait cycle (:mod:`gaitsim.report.figures`)."""

from __future__ import annotations

from gaitsim.report.figures import (
    activations_figure,
    grf_figure,
    joint_angles_figure,
    joint_moments_figure,
    save_figures,
)

__all__ = [
    "activations_figure",
    "grf_figure",
    "joint_angles_figure",
    "joint_moments_figure",
    "save_figures",
]
