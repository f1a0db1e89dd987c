"""Gait phases (Perry & Burnfield, *Gait Analysis: Normal and Pathological Function*,
2nd ed., 2010): the eight phases of one limb's gait cycle.

A :class:`Phase` is one phase of one side, as a time interval. Strides are periodic, so
a phase may run past the end of a stride (``end`` greater than the stride's last time):
:meth:`Phase.mask` takes times modulo the stride period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["PERRY_PHASES", "STANCE_PHASES", "SWING_PHASES", "Phase"]

#: The eight phases in order, from initial contact of the limb.
PERRY_PHASES = (
    "initial_contact",
    "loading_response",
    "mid_stance",
    "terminal_stance",
    "pre_swing",
    "initial_swing",
    "mid_swing",
    "terminal_swing",
)
STANCE_PHASES = PERRY_PHASES[:5]
SWING_PHASES = PERRY_PHASES[5:]


@dataclass(frozen=True)
class Phase:
    """One gait phase of one side.

    Attributes
    ----------
    name
        One of :data:`PERRY_PHASES`.
    side
        ``"r"`` or ``"l"``.
    start, end
        Times (s), ``start <= end``; ``end`` may exceed the stride's last time in a
        periodic stride (see :meth:`mask`).
    """

    name: str
    side: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if self.name not in PERRY_PHASES:
            raise ValueError(f"unknown phase {self.name!r}; expected one of {PERRY_PHASES}")
        if self.side not in ("r", "l"):
            raise ValueError(f"side must be 'r' or 'l', got {self.side!r}")
        if not (np.isfinite(self.start) and np.isfinite(self.end) and self.start <= self.end):
            raise ValueError(
                f"phase {self.name}: need finite start <= end, got {self.start}, {self.end}"
            )

    @property
    def duration(self) -> float:
        """Length of the phase (s)."""
        return self.end - self.start

    def mask(self, time: ArrayLike, period: float | None = None) -> np.ndarray:
        """Which of ``time`` fall in ``[start, end)``.

        With ``period`` (the stride duration of a periodic stride), times are compared
        modulo the period, so a phase that wraps past the stride's end is found at its
        beginning too.
        """
        t = np.asarray(time, dtype=float)
        if period is None:
            return (t >= self.start) & (t < self.end)
        if not period > 0:
            raise ValueError(f"period must be positive, got {period}")
        if self.duration >= period:
            return np.ones(t.shape, dtype=bool)
        offset = np.mod(t - self.start, period)
        return offset < self.duration
