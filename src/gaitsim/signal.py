"""Zero-lag low-pass filtering and spline differentiation of sampled signals.

These reproduce what OpenSim's ``InverseDynamicsTool`` does to a coordinates file
(opensim-core ``OpenSim/Tools/InverseDynamicsTool.cpp``, ``run()``)::

    _coordinateValues->pad(_coordinateValues->getSize()/2);
    _coordinateValues->lowpassIIR(_lowpassCutoffFrequency);
    ...
    GCVSplineSet coordSplines(5, _coordinateValues);   // values, speeds, accelerations

Padding (:func:`pad`)
    ``Storage::pad`` / ``Signal::Pad`` (``OpenSim/Common/Storage.cpp``,
    ``OpenSim/Common/Signal.cpp``) prepend and append ``n // 2`` samples reflected about
    the end *points* (odd reflection, ``2 x[0] - x[k]``), which keeps the value and slope
    continuous at the ends. The time column is padded the same way.

Filter (:func:`lowpass`)
    ``Signal::LowpassIIR`` is a 3rd-order Butterworth low-pass filter obtained by the
    bilinear transform with frequency pre-warping (``wa = tan(pi fc T)``); its
    coefficients are exactly those of :func:`scipy.signal.butter` ``(3, fc / (fs / 2))``.
    It runs forward, then backward (zero lag, so the magnitude response is squared:
    -6 dB at ``fc``; OpenSim does not correct the cut-off for the double pass, and
    neither do we). Each pass starts by copying the first ``order`` input samples to the
    output and then runs the recursion (no :func:`scipy.signal.lfilter_zi` steady-state
    start, and no extra padding as :func:`scipy.signal.filtfilt` would add); this is
    reproduced exactly. A cut-off at or above the Nyquist frequency is replaced by
    ``0.49 fs`` with a warning, as OpenSim does. :mod:`scipy.signal` is imported on the
    first call (importing it takes about a second, most of it ``scipy.stats``), so that
    modules that only pad or differentiate do not pay for it.

    ``Storage::lowpassIIR`` first resamples the storage with a quintic spline at the
    smallest time step when the steps are not uniform to machine precision, which for
    times printed with 8 decimals shifts the samples by about 1e-8 s per step (OpenSim's
    ID output times are therefore ``-5e-7, 0.01666616, ...`` instead of ``0, 1/60, ...``).
    Here times that deviate from a uniform grid by less than 0.1 % of the step are
    treated as uniform (their deviation is rounding in the file), so the filtered values
    stay at the given times; larger deviations are handled by resampling onto the
    uniform grid with the same span and number of samples, filtering, and interpolating
    back with the same quintic spline. The difference to OpenSim is a relabelling of
    the time axis by at most a few microseconds.

Derivatives (:func:`spline_derivatives`)
    ``GCVSplineSet(5, storage)`` fits, per column, a ``GCVSpline`` of degree 5 with the
    default error variance 0 (``OpenSim/Common/GCVSplineSet.cpp``, ``GCVSpline.cpp``:
    ``SplineFitter::fitFromErrorVariance(5, x, y, 0.0)``). Woltring's GCVSPL in mode 3
    with zero variance minimises the residual, i.e. drives the smoothing parameter to
    its lower bound (``p * el < 1e-15``, Simbody ``gcvspl.cpp``): the result is the
    *natural* quintic spline interpolating the data (third and fourth derivatives zero
    at both ends). :func:`spline_derivatives` builds that spline with
    :func:`scipy.interpolate.make_interp_spline` and returns its value, first and
    second derivatives.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import scipy.interpolate
from numpy.typing import ArrayLike, NDArray

# scipy.signal is imported by lowpass() only: importing it takes about a second (it
# imports scipy.stats), which callers that only pad or differentiate need not pay.

__all__ = ["pad", "lowpass", "spline_derivatives", "UNIFORM_TOLERANCE"]

FloatArray = NDArray[np.float64]

UNIFORM_TOLERANCE = 1e-3
"""Largest deviation of sample times from a uniform grid, as a fraction of the step,
that is taken as rounding of the printed times (the samples are treated as uniform)."""


def _as_time(time: ArrayLike, n_min: int) -> FloatArray:
    t = np.asarray(time, dtype=np.float64)
    if t.ndim != 1:
        raise ValueError(f"time must be one-dimensional, got shape {t.shape}")
    if t.size < n_min:
        raise ValueError(f"at least {n_min} samples are needed, got {t.size}")
    if not np.all(np.isfinite(t)):
        raise ValueError("time must be finite")
    if np.any(np.diff(t) <= 0):
        raise ValueError("time must be strictly increasing")
    return t


def _as_data(data: ArrayLike, n: int) -> FloatArray:
    y = np.asarray(data, dtype=np.float64)
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError(
            f"data must have the samples along its first axis ({n} samples), got shape {y.shape}"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("data must be finite (no NaN or infinity)")
    return y


def pad(
    time: ArrayLike, data: ArrayLike, n_pad: int | None = None
) -> tuple[FloatArray, FloatArray]:
    """Pad a signal at both ends by odd reflection, as OpenSim's ``Storage::pad``.

    ``n_pad`` samples ``2 x[0] - x[n_pad], ..., 2 x[0] - x[1]`` are prepended and
    ``2 x[-1] - x[-2], ..., 2 x[-1] - x[-1-n_pad]`` appended, to the time column and to
    every data column alike (opensim-core ``OpenSim/Common/Signal.cpp``, ``Signal::Pad``).

    Parameters
    ----------
    time
        Sample times, shape ``(n,)``, strictly increasing.
    data
        Samples along the first axis, shape ``(n,)`` or ``(n, ...)``.
    n_pad
        Number of samples added at each end; default ``n // 2`` (what the inverse
        dynamics tool uses). Must be in ``[0, n - 1]``.

    Returns
    -------
    tuple of ndarray
        Padded time ``(n + 2 n_pad,)`` and data ``(n + 2 n_pad, ...)``.

    Raises
    ------
    ValueError
        If the shapes disagree, ``n_pad`` is out of range or values are not finite.
    """
    t = _as_time(time, 2)
    y = _as_data(data, t.size)
    n = t.size
    k = n // 2 if n_pad is None else int(n_pad)
    if not 0 <= k <= n - 1:
        raise ValueError(f"n_pad must be between 0 and {n - 1}, got {n_pad}")
    if k == 0:
        return t.copy(), y.copy()

    def reflect(x: FloatArray) -> FloatArray:
        head = 2.0 * x[0] - x[k:0:-1]
        tail = 2.0 * x[-1] - x[-2 : -2 - k : -1]
        return np.concatenate([head, x, tail], axis=0)

    return reflect(t), reflect(y)


def _uniform_step(t: FloatArray) -> float | None:
    """The step of ``t`` if it is uniform up to rounding, else ``None``."""
    step = (t[-1] - t[0]) / (t.size - 1)
    grid = t[0] + step * np.arange(t.size)
    if np.max(np.abs(t - grid)) <= UNIFORM_TOLERANCE * step:
        return float(step)
    return None


def _interpolant(t: FloatArray, y: FloatArray, end_conditions: str) -> scipy.interpolate.BSpline:
    if end_conditions == "natural":
        zeros = np.zeros(y.shape[1:])
        bc = ([(3, zeros), (4, zeros)], [(3, zeros), (4, zeros)])
        return scipy.interpolate.make_interp_spline(t, y, k=5, bc_type=bc, axis=0)
    if end_conditions == "not-a-knot":
        return scipy.interpolate.make_interp_spline(t, y, k=5, axis=0)
    raise ValueError(f"end_conditions must be 'natural' or 'not-a-knot', got {end_conditions!r}")


def _butterworth_two_pass(y: FloatArray, b: FloatArray, a: FloatArray) -> FloatArray:
    """Forward-backward IIR filtering along axis 0 with OpenSim's start-up rule."""
    import scipy.signal

    order = a.size - 1

    def one_pass(x: FloatArray) -> FloatArray:
        out = np.empty_like(x)
        out[:order] = x[:order]
        flat_x = x.reshape(x.shape[0], -1)
        flat_out = out.reshape(out.shape[0], -1)
        if flat_x.shape[1] == 0:
            return out
        # Initial state of each column reproducing y[i] = x[i] for i < order, then the
        # recursion, for all columns in one lfilter call (each column filtered alike).
        zi = np.column_stack(
            [
                scipy.signal.lfiltic(
                    b, a, y=flat_out[order - 1 :: -1, j], x=flat_x[order - 1 :: -1, j]
                )
                for j in range(flat_x.shape[1])
            ]
        )
        flat_out[order:] = scipy.signal.lfilter(b, a, flat_x[order:], axis=0, zi=zi)[0]
        return flat_out.reshape(x.shape)

    forward = one_pass(y)
    return one_pass(forward[::-1])[::-1].copy()


def lowpass(
    time: ArrayLike,
    data: ArrayLike,
    cutoff_hz: float,
    order: int = 3,
    *,
    padding: bool = True,
) -> FloatArray:
    """Zero-lag Butterworth low-pass filter, as OpenSim's ``Storage::lowpassIIR``.

    The signal is padded as :func:`pad` does (``n // 2`` samples each end) unless
    ``padding`` is false, filtered forward and backward with a Butterworth filter of the
    given order (see the module docstring for the exact start-up rule), and the padding
    is removed. With the defaults this is what OpenSim's inverse dynamics tool does to
    the coordinates (``lowpass_cutoff_frequency_for_coordinates``).

    Parameters
    ----------
    time
        Sample times ``(n,)``, strictly increasing, uniform up to rounding (otherwise the
        signal is resampled onto a uniform grid and back, see the module docstring).
    data
        Samples along the first axis, shape ``(n,)`` or ``(n, ...)``; finite.
    cutoff_hz
        Cut-off frequency of each pass (Hz), > 0. At or above half the sampling rate it
        is replaced by 0.49 times the sampling rate, with a warning (as OpenSim).
    order
        Order of each pass (OpenSim: 3); the zero-lag result has twice this order.
    padding
        Pad by odd reflection before filtering (OpenSim's inverse dynamics tool does).

    Returns
    -------
    ndarray
        Filtered samples, same shape as ``data``.

    Raises
    ------
    ValueError
        If the cut-off or order is invalid, there are too few samples (at least
        ``order + 1``) or the input is not finite.
    """
    if not np.isfinite(cutoff_hz) or cutoff_hz <= 0:
        raise ValueError(f"cutoff_hz must be a positive number, got {cutoff_hz!r}")
    if int(order) != order or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    order = int(order)
    t = _as_time(time, order + 1)
    y = _as_data(data, t.size)
    n = t.size

    step = _uniform_step(t)
    resampled = step is None
    if resampled:
        step = (t[-1] - t[0]) / (n - 1)
        grid = t[0] + step * np.arange(n)
        grid[-1] = t[-1]
        y_work = _interpolant(t, y, "natural")(grid)
    else:
        y_work = y
    assert step is not None

    if padding:
        _, y_work = pad(np.arange(n, dtype=np.float64), y_work, n // 2)
    fs = 1.0 / step
    fc = float(cutoff_hz)
    if fc >= 0.5 * fs:
        fc = 0.49 * fs
        warnings.warn(
            f"cut-off frequency {cutoff_hz} Hz is not below half the sampling rate "
            f"({fs:g} Hz); using {fc:g} Hz instead (as OpenSim does)",
            stacklevel=2,
        )
    import scipy.signal

    b, a = scipy.signal.butter(order, fc / (0.5 * fs))
    filtered = _butterworth_two_pass(y_work, np.asarray(b), np.asarray(a))
    if padding:
        k = n // 2
        filtered = filtered[k : k + n]
    if resampled:
        filtered = _interpolant(grid, filtered, "natural")(t)
    return np.ascontiguousarray(filtered)


def spline_derivatives(
    time: ArrayLike,
    data: ArrayLike,
    *,
    at: ArrayLike | None = None,
    end_conditions: Literal["natural", "not-a-knot"] = "natural",
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Values, first and second time derivatives from an interpolating quintic spline.

    With ``end_conditions="natural"`` (default) this is OpenSim's ``GCVSplineSet(5, ...)``
    with its default (zero) error variance: the natural quintic interpolant (third and
    fourth derivatives zero at both ends), see the module docstring. Polynomials up to
    degree 2 are reproduced exactly. ``"not-a-knot"`` reproduces polynomials up to
    degree 5 exactly, at the price of differing from OpenSim near the ends.

    Parameters
    ----------
    time
        Knot times ``(n,)``, strictly increasing, ``n >= 6``.
    data
        Samples along the first axis, shape ``(n,)`` or ``(n, ...)``; finite.
    at
        Times at which to evaluate (default: ``time``); within ``[time[0], time[-1]]``.
    end_conditions
        ``"natural"`` (OpenSim) or ``"not-a-knot"``.

    Returns
    -------
    tuple of ndarray
        ``(values, first, second)``, each of shape ``(len(at), ...)``.

    Raises
    ------
    ValueError
        If the input is invalid or ``at`` leaves the range of ``time``.
    """
    t = _as_time(time, 6)
    y = _as_data(data, t.size)
    x = t if at is None else np.asarray(at, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"at must be one-dimensional, got shape {x.shape}")
    margin = 1e-9 * (t[-1] - t[0])
    if x.size and (x.min() < t[0] - margin or x.max() > t[-1] + margin):
        raise ValueError(
            f"evaluation times [{x.min()}, {x.max()}] leave the data range [{t[0]}, {t[-1]}]"
        )
    spline = _interpolant(t, y, end_conditions)
    return spline(x), spline(x, 1), spline(x, 2)
