"""Analysis of simulated walking: gait metrics and comparison with normative data.

* :mod:`gaitsim.analysis.normative` reads and writes normative curves (mean and SD over
  the gait cycle), e.g. Winter's normal adult gait.
* :mod:`gaitsim.analysis.gait_metrics` computes what clinicians look at from a
  :class:`~gaitsim.simulate.result.WalkingResult`: contact events, stance duration, peak
  knee flexion in swing, the two peaks of the vertical ground reaction force, and the
  correlation of each curve with normative data.
"""

from __future__ import annotations

from gaitsim.analysis.gait_metrics import (
    ContactEvents,
    VerticalPeaks,
    contact_events,
    correlation_with_normative,
    cycle_normalised,
    peak_swing_knee_flexion,
    stance_fraction,
    summary,
    vertical_grf_peaks,
)
from gaitsim.analysis.normative import NormativeCurves, load_normative, write_normative

__all__ = [
    "ContactEvents",
    "NormativeCurves",
    "VerticalPeaks",
    "contact_events",
    "correlation_with_normative",
    "cycle_normalised",
    "load_normative",
    "peak_swing_knee_flexion",
    "stance_fraction",
    "summary",
    "vertical_grf_peaks",
    "write_normative",
]
