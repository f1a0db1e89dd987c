"""Low-pass filtering of a trial's markers and forces.

Markers and force plates are filtered with the same zero-lag Butterworth filter,
:func:`gaitsim.signal.lowpass` (3rd order per pass, forward and backward, ends padded by
odd reflection -- what OpenSim's tools do; see that module). The default cut-off is 6 Hz
for both, the cut-off of OpenSim's gait pipeline for coordinates and the one Winter
uses for gait marker data (*Biomechanics and Motor Control of Human Movement*, 4th ed.,
2009, chapter 2). Using the same cut-off for kinematics and ground reactions avoids the artefacts
that mismatched cut-offs create in joint moments at heel strike (Kristianslund,
Krosshaug & van den Bogert, *J. Biomech.* 45:666-671, 2012); both cut-offs are
settable.

* **Markers**: each coordinate of each marker is filtered over each run of consecutive
  visible frames (gaps stay gaps; fill them first, :mod:`gaitsim.capture.gaps`). Runs
  shorter than the filter needs (``order + 1`` samples) are removed, with a warning and
  a note in the result, since an unfiltered fragment would be noisier than the rest.
* **Force plates**: the force and the moment about the plate centre are filtered, then
  the centre of pressure and free moment are recomputed from them
  (:func:`gaitsim.capture.force_plates.with_wrench`), so they stay undefined where the
  filtered normal force is at or below the plate's threshold. Filtering the centre of
  pressure itself would smear its undefined stretches into the loaded ones.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from gaitsim.capture.force_plates import ForcePlate, with_wrench
from gaitsim.capture.trial import Trial
from gaitsim.errors import GaitsimError
from gaitsim.io.trc import MarkerTable
from gaitsim.signal import lowpass

__all__ = [
    "DEFAULT_CUTOFF",
    "MarkerFiltering",
    "filter_markers",
    "filter_plate",
    "filter_trial",
]

_log = logging.getLogger(__name__)

#: Default cut-off frequency (Hz) for markers and forces.
DEFAULT_CUTOFF = 6.0


@dataclass(frozen=True, eq=False)
class MarkerFiltering:
    """The result of :func:`filter_markers`.

    Attributes
    ----------
    markers
        The filtered markers.
    removed
        ``(marker, first frame, last frame)`` of visible runs too short to filter, which
        were set to NaN.
    """

    markers: MarkerTable
    removed: tuple[tuple[str, int, int], ...]


def _check_cutoff(cutoff_hz: float, order: int) -> None:
    if not (math.isfinite(cutoff_hz) and cutoff_hz > 0):
        raise GaitsimError(f"cut-off frequency must be a positive number of Hz, got {cutoff_hz!r}")
    if int(order) != order or order < 1:
        raise GaitsimError(f"filter order must be a positive integer, got {order!r}")


def filter_markers(markers: MarkerTable, cutoff_hz: float, *, order: int = 3) -> MarkerFiltering:
    """Low-pass filter every visible run of every marker (see the module docstring).

    Raises
    ------
    GaitsimError
        If the cut-off or order is invalid.
    """
    _check_cutoff(cutoff_hz, order)
    positions = np.array(markers.positions)
    time = markers.time
    removed: list[tuple[str, int, int]] = []
    minimum = order + 1
    for k, name in enumerate(markers.marker_names):
        visible = np.all(np.isfinite(positions[:, k, :]), axis=1)
        edges = np.diff(np.concatenate([[0], visible.astype(np.int8), [0]]))
        for first, stop in zip(
            np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True
        ):
            if stop - first < minimum:
                positions[first:stop, k, :] = np.nan
                removed.append((name, first, stop - 1))
                continue
            positions[first:stop, k, :] = lowpass(
                time[first:stop], positions[first:stop, k, :], cutoff_hz, order
            )
    for name, first, last in removed:
        _log.warning(
            "marker %s: frames %d-%d (%d visible frames) are too short to filter and were removed",
            name,
            first,
            last,
            last - first + 1,
        )
    table = MarkerTable(
        marker_names=markers.marker_names,
        time=time,
        positions=positions,
        rate=markers.rate,
        units_in_file=markers.units_in_file,
    )
    return MarkerFiltering(markers=table, removed=tuple(removed))


def filter_plate(plate: ForcePlate, cutoff_hz: float, *, order: int = 3) -> ForcePlate:
    """Low-pass filter a plate's force and moment and recompute its centre of pressure.

    Raises
    ------
    GaitsimError
        If the cut-off or order is invalid or the plate has too few samples.
    """
    _check_cutoff(cutoff_hz, order)
    if plate.time.size < order + 1:
        raise GaitsimError(
            f"force plate {plate.name}: {plate.time.size} samples, too few to filter"
        )
    wrench = np.concatenate([plate.force, plate.moment], axis=1)
    filtered = lowpass(plate.time, wrench, cutoff_hz, order)
    return with_wrench(plate, filtered[:, :3], filtered[:, 3:])


def filter_trial(
    trial: Trial,
    *,
    marker_cutoff: float | None = DEFAULT_CUTOFF,
    force_cutoff: float | None = DEFAULT_CUTOFF,
    order: int = 3,
) -> Trial:
    """Filter a trial's markers and force plates (``None`` leaves that part unfiltered).

    Raises
    ------
    GaitsimError
        If a cut-off or the order is invalid.
    """
    markers = trial.markers
    plates = trial.force_plates
    steps = []
    if marker_cutoff is not None:
        result = filter_markers(markers, marker_cutoff, order=order)
        markers = result.markers
        note = f"markers low-pass filtered at {marker_cutoff:g} Hz (order {order}, zero lag)"
        if result.removed:
            note += "; removed runs too short to filter: " + ", ".join(
                f"{name} frames {first}-{last}" for name, first, last in result.removed
            )
        steps.append(note)
    if force_cutoff is not None:
        plates = tuple(filter_plate(p, force_cutoff, order=order) for p in plates)
        steps.append(
            f"force plates low-pass filtered at {force_cutoff:g} Hz (order {order}, zero lag); "
            "centres of pressure recomputed"
        )
    if not steps:
        return trial
    return trial.with_step("; ".join(steps), markers=markers, force_plates=plates)
