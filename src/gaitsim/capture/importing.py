"""Import a lab trial in one call: read, crop, rotate into the model frame, fill gaps,
filter.

:class:`ImportSettings` says what the user asks for; :func:`import_trial` (C3D) and
:func:`import_opensim_trial` (TRC + ``.mot`` + ``ExternalLoads`` XML) do it, in this
order:

1. read the file(s) into a :class:`~gaitsim.capture.trial.Trial` (lab frame);
2. crop to ``settings.crop`` if given, then, with ``settings.crop_to_complete``, to the
   longest stretch in which every non-optional marker is visible or fillable
   (:func:`gaitsim.capture.gaps.complete_span`);
3. rotate into the model frame: the explicit frame of the settings, or the detected
   one (:func:`gaitsim.capture.lab_frame.detect_lab_frame`);
4. fill marker gaps up to the maximum length (:func:`gaitsim.capture.gaps.fill_gaps`);
   unfillable gaps of non-optional markers raise
   :class:`~gaitsim.capture.gaps.MarkerGapError`;
5. low-pass filter markers and force plates (:func:`gaitsim.capture.filtering.filter_trial`).

Each step is recorded in :attr:`Trial.history`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitsim.capture.filtering import DEFAULT_CUTOFF, filter_trial
from gaitsim.capture.force_plates import DEFAULT_THRESHOLD
from gaitsim.capture.gaps import DEFAULT_MAX_GAP_SECONDS, complete_span, fill_gaps
from gaitsim.capture.lab_frame import (
    LabFrame,
    detect_lab_frame,
    lab_frame_from_rotation,
    to_model_frame,
)
from gaitsim.capture.trial import Trial, crop, read_c3d_trial, read_opensim_trial
from gaitsim.errors import GaitsimError
from gaitsim.io.storage import StrPath

__all__ = ["ImportSettings", "import_opensim_trial", "import_trial", "prepare_trial"]


@dataclass(frozen=True)
class ImportSettings:
    """What to do with a trial on import.

    Attributes
    ----------
    up, forward
        Lab axes (``"+z"``, ``"-x"``...) that are vertical and the walking direction;
        ``None`` detects them from the data.
    rotation
        An explicit lab-to-model rotation (3 x 3, ``v_model = R v_lab``); overrides
        ``up`` and ``forward``.
    max_gap_frames
        Longest marker gap filled (frames); ``None`` uses ``max_gap_seconds``.
    max_gap_seconds
        Longest marker gap filled (s) when ``max_gap_frames`` is not given.
    optional_markers
        Markers that may keep gaps or be missing.
    marker_cutoff, force_cutoff
        Low-pass cut-offs (Hz); ``None`` skips filtering that part.
    filter_order
        Butterworth order per pass.
    cop_threshold
        Normal force (N) at or below which centres of pressure are undefined.
    crop
        ``(start, end)`` times (s) to keep, or ``None``.
    crop_to_complete
        Crop to the longest stretch in which every non-optional marker is visible or in
        a fillable gap (overground trials start and end with markers out of view).
    isolated
        Read C3D data in a separate process (see :func:`gaitsim.io.c3d.read_c3d`).
    """

    up: str | None = None
    forward: str | None = None
    rotation: tuple[tuple[float, float, float], ...] | None = None
    max_gap_frames: int | None = None
    max_gap_seconds: float = DEFAULT_MAX_GAP_SECONDS
    optional_markers: tuple[str, ...] = ()
    marker_cutoff: float | None = DEFAULT_CUTOFF
    force_cutoff: float | None = DEFAULT_CUTOFF
    filter_order: int = 3
    cop_threshold: float = DEFAULT_THRESHOLD
    crop: tuple[float, float] | None = None
    crop_to_complete: bool = False
    isolated: bool = True


def _lab_frame(trial: Trial, settings: ImportSettings) -> LabFrame:
    if settings.rotation is not None:
        return lab_frame_from_rotation(np.array(settings.rotation, dtype=np.float64))
    return detect_lab_frame(
        trial.markers, trial.force_plates, up=settings.up, forward=settings.forward
    )


def prepare_trial(trial: Trial, settings: ImportSettings | None = None) -> Trial:
    """Steps 2-5 of the module docstring on a trial read in its lab frame.

    Raises
    ------
    GaitsimError
        If a step fails (lab frame not detectable, bad settings);
        :class:`~gaitsim.capture.gaps.MarkerGapError` for unfillable gaps.
    """
    settings = settings or ImportSettings()
    if trial.frame != "lab":
        raise GaitsimError("prepare_trial expects a trial in its lab frame")
    if settings.crop is not None:
        trial = crop(trial, *settings.crop)
    if settings.crop_to_complete:
        span = complete_span(
            trial.markers,
            max_gap=settings.max_gap_frames,
            max_gap_seconds=settings.max_gap_seconds,
            optional=settings.optional_markers,
        )
        if span is None:
            raise GaitsimError(
                "no frame in which every non-optional marker is visible; name the markers "
                "the analysis does not need as optional"
            )
        time = trial.markers.time
        trial = crop(trial, float(time[span[0]]), float(time[span[1]]))
    trial = to_model_frame(trial, _lab_frame(trial, settings))
    filling = fill_gaps(
        trial.markers,
        max_gap=settings.max_gap_frames,
        max_gap_seconds=settings.max_gap_seconds,
        optional=settings.optional_markers,
    )
    note = f"filled {len(filling.filled)} marker gaps of at most {filling.max_gap} frames"
    if filling.filled:
        note += ": " + "; ".join(gap.describe() for gap in filling.filled)
    if filling.unfilled:
        note += "; left missing (optional): " + "; ".join(g.describe() for g in filling.unfilled)
    trial = trial.with_step(note, markers=filling.markers)
    return filter_trial(
        trial,
        marker_cutoff=settings.marker_cutoff,
        force_cutoff=settings.force_cutoff,
        order=settings.filter_order,
    )


def import_trial(path: StrPath, settings: ImportSettings | None = None) -> Trial:
    """Import a C3D trial into the model frame, gap-filled and filtered.

    Raises
    ------
    FileFormatError, UnsupportedFeatureError
        If the file cannot be read (:func:`gaitsim.io.c3d.read_c3d`).
    GaitsimError
        See :func:`prepare_trial`.
    """
    settings = settings or ImportSettings()
    trial = read_c3d_trial(path, threshold=settings.cop_threshold, isolated=settings.isolated)
    return prepare_trial(trial, settings)


def import_opensim_trial(
    trc_path: StrPath,
    external_loads_path: StrPath,
    settings: ImportSettings | None = None,
    *,
    grf_path: StrPath | None = None,
) -> Trial:
    """Import OpenSim lab data (TRC markers, ground reactions and their ExternalLoads)
    into the model frame, gap-filled and filtered.

    Raises
    ------
    FileFormatError, UnsupportedFeatureError
        If the files cannot be read (:func:`gaitsim.capture.trial.read_opensim_trial`).
    GaitsimError
        See :func:`prepare_trial`.
    """
    settings = settings or ImportSettings()
    trial = read_opensim_trial(
        trc_path, external_loads_path, grf_path=grf_path, threshold=settings.cop_threshold
    )
    return prepare_trial(trial, settings)
