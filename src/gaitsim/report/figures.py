"""Figures of a simulated stride over the gait cycle, with normative bands.

Every figure is drawn with matplotlib's Agg canvas (:class:`matplotlib.figure.Figure`
with :class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`), without pyplot: no
window opens and the global backend of the caller (e.g. a notebook) is left alone.

Each curve is shown over 0-100 % of the gait cycle starting at that foot's initial
contact (right: red, left: blue; see :func:`gaitsim.analysis.gait_metrics.aligned_curve`);
if a foot never touches the floor its curve starts at the first sample instead. A dotted
vertical line marks each foot's toe-off. When normative curves are given, the mean ± 1 SD
of the matching variable (the right side's, aligned at its right initial contact) is a
grey band; variables the normative data do not have get no band.

Display conventions (clinical): angles in degrees, moments in N m/kg, forces in body
weights; hip flexion, **knee flexion** and ankle dorsiflexion positive. The knee's model
coordinate is negative in flexion, so its angle and moment are shown with the sign
flipped; the axis labels say which direction is positive.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, MaxNLocator, MultipleLocator

from gaitsim.analysis.gait_metrics import (
    CONTACT_THRESHOLD,
    STANDARD_GRAVITY,
    aligned_normative,
    contact_events,
    cycle_normalised,
    result_variable,
)
from gaitsim.analysis.normative import PERCENT, NormativeCurves

if TYPE_CHECKING:
    from gaitsim.simulate.result import WalkingResult

__all__ = [
    "FIGURE_NAMES",
    "activations_figure",
    "grf_figure",
    "joint_angles_figure",
    "joint_moments_figure",
    "save_figures",
]

StrPath = str | os.PathLike[str]
_P = ParamSpec("_P")

#: File stems of the figures written by :func:`save_figures`, in order.
FIGURE_NAMES = ("joint_angles", "joint_moments", "ground_reaction_forces", "activations")

_COLORS = {"r": "#c62828", "l": "#1565c0"}
_STYLES = {"r": "-", "l": "--"}
_SIDE_NAMES = {"r": "right", "l": "left"}
_BAND = "0.82"
# Text sizes set when ticks are created (cheaper than restyling them afterwards); a fixed
# SVG hash salt makes SVG files reproducible; SVG text stays text (editable, and much
# faster to write than glyph outlines).
_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "svg.hashsalt": "gaitsim",
    "svg.fonttype": "none",
}
_DPI = 120


@dataclass(frozen=True)
class _Joint:
    base: str  # coordinate name without the side suffix
    title: str
    sign: float  # model -> clinical
    positive: str  # what a positive value means (clinical)


_JOINTS = (
    _Joint("hip_flexion", "Hip", 1.0, "flexion"),
    _Joint("knee_angle", "Knee", -1.0, "flexion"),
    _Joint("ankle_angle", "Ankle", 1.0, "dorsiflexion"),
)

# (from unit, to unit) -> factor
_CONVERSIONS = {
    ("rad", "deg"): 180.0 / math.pi,
    ("deg", "deg"): 1.0,
    ("N m/kg", "N m/kg"): 1.0,
    ("BW", "BW"): 1.0,
    ("", ""): 1.0,
}


class _Stride:
    """The cycle alignment of each foot of a result (initial contact and toe-off)."""

    def __init__(self, result: WalkingResult, threshold: float) -> None:
        self.result = result
        self.start: dict[str, float] = {}
        self.toe_off: dict[str, float | None] = {}
        weight = float(result.body_mass) * STANDARD_GRAVITY
        t = np.asarray(result.time, dtype=np.float64)
        for side in ("r", "l"):
            self.start[side] = float(t[0])
            self.toe_off[side] = None
            if side not in result.grf or not weight > 0:
                continue
            force = np.asarray(result.grf[side], dtype=np.float64)[:, 1] / weight
            try:
                events = contact_events(force, t, threshold=threshold)
                begin, end = events.main_stance
            except ValueError:
                continue
            self.start[side] = begin
            if end - begin < events.period:
                self.toe_off[side] = 100.0 * (end - begin) / events.period

    def curve(self, variable: str, side: str) -> tuple[np.ndarray, str] | None:
        """The variable at 101 points from the foot's initial contact, or None if absent."""
        try:
            values, unit = result_variable(self.result, variable)
        except LookupError:
            return None
        return cycle_normalised(values, self.result.time, self.start[side]), unit


def _styled(function: Callable[_P, Figure]) -> Callable[_P, Figure]:
    """Run a figure function with gaitsim's matplotlib settings (:data:`_RC`)."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Figure:
        with matplotlib.rc_context(_RC):
            return function(*args, **kwargs)

    return wrapper


def _new_figure(
    width: float,
    height: float,
    *,
    top: float = 0.55,
    bottom: float = 0.85,
    left: float = 0.9,
    right: float = 0.15,
    wspace: float = 0.55,
    hspace: float = 0.5,
) -> Figure:
    """A figure on an Agg canvas with fixed margins (in inches; faster than a layout engine).

    The bottom margin holds the x label and the legend, the top one the title.
    """
    figure = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=left / width,
        right=1.0 - right / width,
        top=1.0 - top / height,
        bottom=bottom / height,
        wspace=wspace,
        hspace=hspace,
    )
    return figure


def _title(figure: Figure, result: WalkingResult, what: str) -> None:
    speed = f", {result.speed:.2f} m/s" if math.isfinite(result.speed) else ""
    figure.suptitle(
        f"{what} - {result.model_name} ({result.kind}{speed})", fontsize=11, y=0.985, va="top"
    )


def _band(
    axes: Axes,
    normative: NormativeCurves | None,
    variable: str,
    unit: str,
    scale: float,
    threshold: float,
    side: str = "r",
) -> bool:
    """Draw the normative mean ± 1 SD of ``variable`` (converted to ``unit``, times scale)."""
    if normative is None or variable not in normative:
        return False
    factor = _CONVERSIONS.get((normative.units[variable], unit))
    if factor is None:
        return False
    try:
        mean, sd = aligned_normative(normative, variable, side, threshold=threshold)
    except (ValueError, LookupError):
        return False
    mean = scale * factor * mean
    sd = abs(factor) * sd
    axes.fill_between(PERCENT, mean - sd, mean + sd, color=_BAND, linewidth=0, zorder=0)
    axes.plot(PERCENT, mean, color="0.55", linewidth=0.8, zorder=1)
    return True


def _style(axes: Axes, ylabel: str, xlabel: bool = True) -> None:
    axes.set_xlim(0, 100)
    axes.xaxis.set_major_locator(MultipleLocator(20))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    axes.axhline(0.0, color="0.6", linewidth=0.5, zorder=0)
    axes.set_ylabel(ylabel)
    if xlabel:
        axes.set_xlabel("Gait cycle (%)")


def _toe_offs(axes: Axes, stride: _Stride, sides: Iterable[str]) -> None:
    for side in sides:
        toe_off = stride.toe_off[side]
        if toe_off is not None:
            axes.axvline(toe_off, color=_COLORS[side], linestyle=":", linewidth=1.0)


def _legend(
    figure: Figure, sides: Sequence[str], normative: NormativeCurves | None, banded: bool
) -> None:
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=_COLORS[s], linestyle=_STYLES[s], linewidth=1.6, label=_SIDE_NAMES[s])
        for s in sides
    ]
    handles.append(Line2D([], [], color="0.3", linestyle=":", linewidth=1.0, label="toe-off"))
    if normative is not None and banded:
        handles.append(Patch(color=_BAND, label=f"{normative.name}: mean ± 1 SD"))
    figure.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=len(handles),
        fontsize=8,
        frameon=False,
    )


def _sides(result: WalkingResult) -> list[str]:
    return [side for side in ("r", "l") if side in result.grf]


@_styled
def _joint_figure(
    result: WalkingResult,
    normative: NormativeCurves | None,
    threshold: float,
    *,
    suffix: str,
    quantity: str,
    unit: str,
    title: str,
) -> Figure:
    stride = _Stride(result, threshold)
    sides = _sides(result)
    joints = [j for j in _JOINTS if any(f"{j.base}_{s}" in result.coordinate_names for s in sides)]
    figure = _new_figure(3.3 * max(len(joints), 1), 3.4)
    axes_row = figure.subplots(1, max(len(joints), 1), squeeze=False)[0]
    banded = False
    for axes, joint in zip(axes_row, joints, strict=False):
        drawn = False
        for side in sides:
            found = stride.curve(f"{joint.base}_{side}{suffix}", side)
            if found is None:
                continue
            values, model_unit = found
            factor = _CONVERSIONS.get((model_unit, unit), 1.0)
            axes.plot(
                PERCENT,
                joint.sign * factor * values,
                color=_COLORS[side],
                linestyle=_STYLES[side],
                linewidth=1.6,
            )
            drawn = True
        has_right = normative is not None and f"{joint.base}_r{suffix}" in normative
        band_side = "r" if has_right else "l"
        band = f"{joint.base}_{band_side}{suffix}"
        banded |= _band(axes, normative, band, unit, joint.sign, threshold, band_side)
        _toe_offs(axes, stride, sides)
        _style(axes, f"{joint.title} {quantity} ({unit})\n{joint.positive} +")
        axes.set_title(joint.title, y=1.0, pad=3)
        if not drawn:
            axes.text(0.5, 0.5, "not in model", transform=axes.transAxes, ha="center")
    _title(figure, result, title)
    _legend(figure, sides, normative, banded)
    return figure


def joint_angles_figure(
    result: WalkingResult,
    normative: NormativeCurves | None = None,
    *,
    threshold: float = CONTACT_THRESHOLD,
) -> Figure:
    """Hip, knee and ankle angles of both sides (degrees; flexion and dorsiflexion +).

    Parameters
    ----------
    result
        The simulated stride.
    normative
        Normative curves; the variables ``hip_flexion_r``, ``knee_angle_r``,
        ``ankle_angle_r`` (or ``_l``) give the grey bands.
    threshold
        Contact threshold (body weights) for the initial contacts and toe-offs.

    Returns
    -------
    matplotlib.figure.Figure
        A figure on an Agg canvas (save it with ``savefig``).
    """
    return _joint_figure(
        result, normative, threshold, suffix="", quantity="angle", unit="deg", title="Joint angles"
    )


def joint_moments_figure(
    result: WalkingResult,
    normative: NormativeCurves | None = None,
    *,
    threshold: float = CONTACT_THRESHOLD,
) -> Figure:
    """Net hip, knee and ankle moments per body mass (N m/kg; flexion, dorsiflexion +).

    These are the moments muscles, passive structures and reserve actuators supply
    (internal moments). Bands come from the normative variables
    ``<coordinate>_moment`` in N m/kg, if any. See :func:`joint_angles_figure`.
    """
    return _joint_figure(
        result,
        normative,
        threshold,
        suffix="_moment",
        quantity="moment",
        unit="N m/kg",
        title="Joint moments",
    )


@_styled
def grf_figure(
    result: WalkingResult,
    normative: NormativeCurves | None = None,
    *,
    threshold: float = CONTACT_THRESHOLD,
) -> Figure:
    """Ground reaction forces of both feet in body weights (forward, vertical, lateral).

    The medio-lateral panel is drawn only when the result has a non-zero lateral force.
    Bands come from the normative ``grf_x_r`` and ``grf_y_r``. See
    :func:`joint_angles_figure`.
    """
    stride = _Stride(result, threshold)
    sides = _sides(result)
    panels = [("x", "Anterior-posterior", "forward +"), ("y", "Vertical", "upward +")]
    if any(np.any(np.asarray(result.grf[s])[:, 2] != 0) for s in sides):
        panels.append(("z", "Medio-lateral", "to the right +"))
    figure = _new_figure(3.3 * len(panels), 3.4)
    axes_row = figure.subplots(1, len(panels), squeeze=False)[0]
    banded = False
    for axes, (axis, title, positive) in zip(axes_row, panels, strict=True):
        for side in sides:
            found = stride.curve(f"grf_{axis}_{side}", side)
            if found is not None:
                axes.plot(
                    PERCENT, found[0], color=_COLORS[side], linestyle=_STYLES[side], linewidth=1.6
                )
        banded |= _band(axes, normative, f"grf_{axis}_r", "BW", 1.0, threshold)
        _toe_offs(axes, stride, sides)
        _style(axes, f"{title} force (BW)\n{positive}")
        axes.set_title(title, y=1.0, pad=3)
    _title(figure, result, "Ground reaction forces")
    _legend(figure, sides, normative, banded)
    return figure


@_styled
def activations_figure(
    result: WalkingResult,
    normative: NormativeCurves | None = None,
    *,
    threshold: float = CONTACT_THRESHOLD,
    n_columns: int = 3,
) -> Figure:
    """Activation (and excitation, dashed) of each right-leg muscle, one panel each.

    The muscles are those whose names end in ``_r`` (all muscles if none does), over
    the cycle from the right initial contact. Bands come from the normative variables
    ``<muscle>_activation``, if any.
    """
    stride = _Stride(result, threshold)
    muscles = [m for m in result.muscle_names if m.endswith("_r")] or list(result.muscle_names)
    side = "r" if any(m.endswith("_r") for m in muscles) or "l" not in result.grf else "l"
    n_columns = max(1, min(n_columns, len(muscles) or 1))
    n_rows = max(1, math.ceil(len(muscles) / n_columns))
    figure = _new_figure(2.9 * n_columns, 1.75 * n_rows + 0.9, wspace=0.15, hspace=0.55)
    grid = figure.subplots(n_rows, n_columns, squeeze=False, sharex=True, sharey=True)
    excitations = np.asarray(result.excitations, dtype=np.float64)
    for index, axes in enumerate(grid.ravel()):
        if index >= len(muscles):
            axes.set_axis_off()
            continue
        muscle = muscles[index]
        found = stride.curve(f"{muscle}_activation", side)
        if found is not None:
            axes.plot(PERCENT, found[0], color=_COLORS[side], linewidth=1.5)
        column = result.muscle_names.index(muscle)
        excitation = cycle_normalised(excitations[:, column], result.time, stride.start[side])
        axes.plot(PERCENT, excitation, color="0.25", linestyle="--", linewidth=0.8)
        _band(axes, normative, f"{muscle}_activation", "", 1.0, threshold)
        _toe_offs(axes, stride, [side])
        last_row = index + n_columns >= len(muscles)
        _style(axes, "activation" if index % n_columns == 0 else "", xlabel=last_row)
        axes.set_ylim(0.0, 1.0)
        axes.yaxis.set_major_locator(FixedLocator([0.0, 0.5, 1.0]))
        axes.set_title(muscle, fontsize=9, y=1.0, pad=3)
        if last_row:
            axes.tick_params(labelbottom=True)
    if not muscles:
        grid[0, 0].text(0.5, 0.5, "no muscles", transform=grid[0, 0].transAxes, ha="center")
    _title(figure, result, f"Muscle activations ({_SIDE_NAMES[side]} leg)")
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=_COLORS[side], linewidth=1.5, label="activation"),
        Line2D([], [], color="0.25", linestyle="--", linewidth=0.8, label="excitation"),
        Line2D([], [], color=_COLORS[side], linestyle=":", linewidth=1.0, label="toe-off"),
    ]
    if normative is not None and any(f"{m}_activation" in normative for m in muscles):
        handles.append(Patch(color=_BAND, label=f"{normative.name}: mean ± 1 SD"))
    figure.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=len(handles),
        fontsize=8,
        frameon=False,
    )
    return figure


def save_figures(
    result: WalkingResult,
    folder: StrPath,
    normative: NormativeCurves | None = None,
    formats: Sequence[str] = ("png", "svg"),
    *,
    threshold: float = CONTACT_THRESHOLD,
) -> list[Path]:
    """Draw all figures of a stride and save them in ``folder`` in each format.

    The files are ``joint_angles``, ``joint_moments``, ``ground_reaction_forces`` and
    ``activations`` (skipped without muscles) with each extension of ``formats``.

    Parameters
    ----------
    result
        The simulated stride.
    folder
        Destination folder (created if needed; existing files of the same names are
        replaced).
    normative
        Normative curves for the grey bands, or ``None``.
    formats
        File formats understood by matplotlib (``"png"``, ``"svg"``, ``"pdf"``...).
    threshold
        Contact threshold (body weights) for aligning the cycles.

    Returns
    -------
    list of pathlib.Path
        The files written, figure by figure.
    """
    formats = tuple(f.lower().lstrip(".") for f in formats)
    if not formats:
        raise ValueError("formats must name at least one file format")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    makers = {
        "joint_angles": joint_angles_figure,
        "joint_moments": joint_moments_figure,
        "ground_reaction_forces": grf_figure,
        "activations": activations_figure,
    }
    written: list[Path] = []
    for name in FIGURE_NAMES:
        if name == "activations" and not result.muscle_names:
            continue
        figure = makers[name](result, normative, threshold=threshold)
        with matplotlib.rc_context(_RC):
            for extension in formats:
                path = folder / f"{name}.{extension}"
                figure.savefig(path, format=extension, dpi=_DPI, metadata=_metadata(extension))
                written.append(path)
        figure.clear()
    return written


def _metadata(extension: str) -> dict[str, str | None] | None:
    """Reproducible files: no creation date in SVG/PDF."""
    if extension == "svg":
        return {"Date": None}
    if extension == "pdf":
        return {"CreationDate": None}
    return None
