"""Gaps in marker trajectories: finding them, filling the short ones, refusing the rest.

A **gap** is a maximal run of frames in which a marker is missing (any coordinate NaN).
It is *interior* when the marker is visible before and after it; a run touching the
first or last frame is an *edge* gap.

:func:`fill_gaps` fills every interior gap of at most ``max_gap`` frames with a cubic
spline through all visible samples of that marker (:class:`scipy.interpolate.CubicSpline`
with not-a-knot ends, per coordinate, on the frame times): the fill is twice
continuously differentiable across the gap, so it does not create velocity or
acceleration steps, and it reproduces cubic trajectories exactly. The default maximum
is 0.1 s (12 frames at 120 Hz): Howarth & Callaghan (*Comput. Methods Biomech. Biomed.
Eng.* 13(6):847-855, 2010) found cubic-spline filling the most accurate of three
techniques for gaps shorter than 200 ms and its error growing with gap length; half
that duration is kept as a conservative default.

Gaps that cannot be filled -- longer than ``max_gap``, at the trial's ends (filling them
would be extrapolation), or a marker missing throughout -- raise a
:class:`MarkerGapError` listing every one (marker, frames, times), unless the caller
names the marker as optional, in which case its gaps stay NaN and are reported in
:attr:`GapFilling.unfilled`. Every filled gap is reported in :attr:`GapFilling.filled`.

Overground trials usually begin and end with markers outside the capture volume:
:func:`complete_span` finds the longest stretch of frames in which every required marker
is visible or in a fillable gap, with all of them visible at both ends, to crop to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.interpolate

from gaitsim.errors import GaitsimError
from gaitsim.io.trc import MarkerTable

__all__ = [
    "DEFAULT_MAX_GAP_SECONDS",
    "GapFilling",
    "MarkerGap",
    "MarkerGapError",
    "complete_span",
    "fill_gaps",
    "find_gaps",
    "max_gap_frames",
]

#: Default longest gap filled (s).
DEFAULT_MAX_GAP_SECONDS = 0.1


@dataclass(frozen=True)
class MarkerGap:
    """A run of frames in which one marker is missing.

    Attributes
    ----------
    marker
        Marker name.
    first, last
        First and last missing frame (0-based indices, inclusive).
    start_time, end_time
        Times of the first and last missing frame (s).
    interior
        Whether the marker is visible before and after the gap.
    """

    marker: str
    first: int
    last: int
    start_time: float
    end_time: float
    interior: bool

    @property
    def n_frames(self) -> int:
        """Number of missing frames."""
        return self.last - self.first + 1

    def describe(self) -> str:
        """The gap in words, e.g. ``"RASI frames 10-25 (16 frames, 0.100-0.250 s)"``."""
        where = "" if self.interior else (", at the start" if self.first == 0 else ", at the end")
        return (
            f"{self.marker} frames {self.first}-{self.last} ({self.n_frames} frames, "
            f"{self.start_time:.3f}-{self.end_time:.3f} s{where})"
        )


class MarkerGapError(GaitsimError, ValueError):
    """Markers have gaps that cannot be filled, or are missing.

    Attributes
    ----------
    gaps
        The gaps that could not be filled.
    missing
        Markers missing in every frame.
    max_gap
        The longest gap (frames) that would have been filled.
    """

    def __init__(self, gaps: tuple[MarkerGap, ...], missing: tuple[str, ...], max_gap: int) -> None:
        self.gaps = gaps
        self.missing = missing
        self.max_gap = max_gap
        parts = []
        if gaps:
            parts.append(
                f"gaps that cannot be filled (longer than {max_gap} frames or at the trial's "
                "ends): " + "; ".join(gap.describe() for gap in gaps)
            )
        if missing:
            parts.append("markers missing in every frame: " + ", ".join(missing))
        parts.append(
            "pass these markers as optional, crop the trial or raise the maximum gap length"
        )
        super().__init__(". ".join(parts))


@dataclass(frozen=True, eq=False)
class GapFilling:
    """The result of :func:`fill_gaps`.

    Attributes
    ----------
    markers
        The markers with the filled gaps.
    filled
        The gaps that were filled.
    unfilled
        Gaps of optional markers left missing (including optional markers missing in
        every frame, as one gap over the whole trial).
    max_gap
        The longest gap (frames) that was to be filled.
    """

    markers: MarkerTable
    filled: tuple[MarkerGap, ...]
    unfilled: tuple[MarkerGap, ...]
    max_gap: int


def max_gap_frames(rate: float, seconds: float) -> int:
    """The number of frames in ``seconds`` at ``rate`` Hz (rounded down, at least 0)."""
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"maximum gap must be a non-negative number of seconds, got {seconds}")
    return max(int(math.floor(seconds * rate + 1e-9)), 0)


def find_gaps(markers: MarkerTable) -> tuple[MarkerGap, ...]:
    """Every gap of every marker, in marker then frame order (a marker missing in every
    frame has one gap over the whole trial, not interior)."""
    gaps = []
    time = markers.time
    n = markers.n_frames
    for k, name in enumerate(markers.marker_names):
        missing = ~np.all(np.isfinite(markers.positions[:, k, :]), axis=1)
        if not np.any(missing):
            continue
        edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1) - 1
        for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
            gaps.append(
                MarkerGap(
                    marker=name,
                    first=first,
                    last=last,
                    start_time=float(time[first]),
                    end_time=float(time[last]),
                    interior=first > 0 and last < n - 1,
                )
            )
    return tuple(gaps)


def fill_gaps(
    markers: MarkerTable,
    *,
    max_gap: int | None = None,
    max_gap_seconds: float = DEFAULT_MAX_GAP_SECONDS,
    optional: Iterable[str] = (),
) -> GapFilling:
    """Fill the short interior gaps of every marker (see the module docstring).

    Parameters
    ----------
    markers
        Marker trajectories (NaN where missing).
    max_gap
        Longest gap filled, in frames; default: ``max_gap_seconds`` at the table's rate.
    max_gap_seconds
        Longest gap filled, in seconds (used when ``max_gap`` is not given).
    optional
        Markers that may keep gaps or be missing altogether (names absent from the
        table are allowed).

    Returns
    -------
    GapFilling

    Raises
    ------
    MarkerGapError
        Listing every gap that cannot be filled and every missing marker that is not
        optional.
    ValueError
        If ``max_gap`` is negative.
    """
    limit = max_gap_frames(markers.rate, max_gap_seconds) if max_gap is None else int(max_gap)
    if limit < 0:
        raise ValueError(f"max_gap must be >= 0 frames, got {max_gap}")
    allowed = set(optional)
    positions = np.array(markers.positions)
    time = markers.time
    filled: list[MarkerGap] = []
    unfilled: list[MarkerGap] = []
    refused: list[MarkerGap] = []
    missing: list[str] = []
    for gap in find_gaps(markers):
        whole = gap.first == 0 and gap.last == markers.n_frames - 1
        if whole:
            (unfilled.append(gap) if gap.marker in allowed else missing.append(gap.marker))
            continue
        if gap.interior and gap.n_frames <= limit:
            filled.append(gap)
        elif gap.marker in allowed:
            unfilled.append(gap)
        else:
            refused.append(gap)
    if refused or missing:
        raise MarkerGapError(tuple(refused), tuple(missing), limit)
    by_marker: dict[str, list[MarkerGap]] = {}
    for gap in filled:
        by_marker.setdefault(gap.marker, []).append(gap)
    for name, gaps in by_marker.items():
        k = markers.marker_names.index(name)
        visible = np.all(np.isfinite(positions[:, k, :]), axis=1)
        spline = scipy.interpolate.CubicSpline(time[visible], positions[visible, k, :], axis=0)
        for gap in gaps:
            frames = slice(gap.first, gap.last + 1)
            positions[frames, k, :] = spline(time[frames])
    table = MarkerTable(
        marker_names=markers.marker_names,
        time=time,
        positions=positions,
        rate=markers.rate,
        units_in_file=markers.units_in_file,
    )
    return GapFilling(markers=table, filled=tuple(filled), unfilled=tuple(unfilled), max_gap=limit)


def complete_span(
    markers: MarkerTable,
    *,
    max_gap: int | None = None,
    max_gap_seconds: float = DEFAULT_MAX_GAP_SECONDS,
    optional: Iterable[str] = (),
) -> tuple[int, int] | None:
    """The longest run of frames over which every non-optional marker can be completed.

    A frame is usable for a marker when the marker is visible or inside an interior gap
    of at most ``max_gap`` frames; the run is then shortened until every marker is
    visible in its first and last frame (so that no gap touches the ends after
    cropping).

    Returns
    -------
    tuple of int or None
        ``(first, last)`` frame indices (inclusive), or ``None`` if no frame qualifies.
    """
    limit = max_gap_frames(markers.rate, max_gap_seconds) if max_gap is None else int(max_gap)
    allowed = set(optional)
    needed = [k for k, name in enumerate(markers.marker_names) if name not in allowed]
    n = markers.n_frames
    if n == 0:
        return None
    visible = np.all(np.isfinite(markers.positions[:, needed, :]), axis=2)  # (n, k)
    usable = visible.copy()
    for gap in find_gaps(markers):
        if gap.marker in allowed or not gap.interior or gap.n_frames > limit:
            continue
        usable[gap.first : gap.last + 1, needed.index(markers.marker_names.index(gap.marker))] = (
            True
        )
    frame_ok = np.all(usable, axis=1)
    ends_ok = np.all(visible, axis=1)
    best: tuple[int, int] | None = None
    edges = np.diff(np.concatenate([[0], frame_ok.astype(np.int8), [0]]))
    for first, stop in zip(
        np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True
    ):
        full = np.flatnonzero(ends_ok[first:stop])
        if full.size == 0:
            continue
        span = (first + int(full[0]), first + int(full[-1]))
        if best is None or span[1] - span[0] > best[1] - best[0]:
            best = span
    return best
