"""Tests of gaitsim.signal (OpenSim-equivalent low-pass filter and spline derivatives)."""

from __future__ import annotations

import numpy as np
import pytest

from gaitsim.signal import lowpass, pad, spline_derivatives


def _opensim_lowpass_iir(step: float, cutoff: float, signal: np.ndarray) -> np.ndarray:
    """A line-by-line transcription of the algorithm of OpenSim's ``Signal::LowpassIIR``.

    (opensim-core ``OpenSim/Common/Signal.cpp``): 3rd-order Butterworth coefficients from
    the pre-warped bilinear transform, first samples copied, forward then backward pass.
    """
    wa = np.tan(2.0 * np.pi * cutoff * step / 2.0)
    wa2, wa3 = wa * wa, wa**3
    den = (wa + 1.0) * (wa * wa + wa + 1.0)
    a = [wa3 / den, 3 * wa3 / den, 3 * wa3 / den, wa3 / den]
    b = [
        1.0,
        (3 * wa3 + 2 * wa2 - 2 * wa - 3) / den,
        (3 * wa3 - 2 * wa2 - 2 * wa + 3) / den,
        (wa - 1) * (wa2 - wa + 1) / den,
    ]

    def one_pass(x: np.ndarray) -> np.ndarray:
        y = np.array(x, dtype=float)
        for i in range(3, x.size):
            y[i] = (
                a[0] * x[i] + a[1] * x[i - 1] + a[2] * x[i - 2] + a[3] * x[i - 3]
                - b[1] * y[i - 1] - b[2] * y[i - 2] - b[3] * y[i - 3]
            )  # fmt: skip
        return y

    return one_pass(one_pass(signal)[::-1])[::-1]


def test_pad_is_odd_reflection_about_end_points() -> None:
    t = np.arange(7) * 0.1
    x = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0, 22.0])
    tp, xp = pad(t, x)
    assert xp.shape == (13,)
    np.testing.assert_allclose(tp, np.arange(-3, 10) * 0.1, atol=1e-15)
    np.testing.assert_allclose(xp[:3], 2 * x[0] - x[3:0:-1])
    np.testing.assert_allclose(xp[3:10], x)
    np.testing.assert_allclose(xp[10:], 2 * x[-1] - x[-2:-5:-1])


def test_pad_columns_and_bounds() -> None:
    t = np.linspace(0.0, 1.0, 5)
    x = np.c_[t, t**2]
    tp, xp = pad(t, x, 4)
    assert xp.shape == (13, 2)
    np.testing.assert_allclose(xp[:, 0], tp)  # a straight line stays straight
    with pytest.raises(ValueError, match="n_pad"):
        pad(t, x, 5)


def test_lowpass_matches_opensim_algorithm_exactly() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(151) / 60.0
    x = np.cumsum(rng.normal(size=(151, 3)), axis=0)
    _, padded = pad(t, x)
    expected = np.stack(
        [_opensim_lowpass_iir(1 / 60, 6.0, padded[:, j])[75:226] for j in range(3)], axis=1
    )
    np.testing.assert_allclose(lowpass(t, x, 6.0), expected, rtol=0, atol=1e-12)


def test_one_hertz_sine_passes_six_hertz_filter() -> None:
    t = np.arange(0.0, 4.0, 0.01)
    x = np.sin(2 * np.pi * t)
    y = lowpass(t, x, 6.0)
    interior = slice(50, -50)
    assert np.max(np.abs(y[interior] - x[interior])) < 1e-3
    # The padding keeps the ends close too (value and slope continuous).
    assert np.max(np.abs(y - x)) < 1e-2


def test_sine_at_cutoff_is_halved_and_high_frequency_removed() -> None:
    fs, fc = 200.0, 6.0
    t = np.arange(0.0, 10.0, 1 / fs)
    y = lowpass(t, np.sin(2 * np.pi * fc * t), fc)
    amplitude = np.max(np.abs(y[400:-400]))
    assert amplitude == pytest.approx(0.5, abs=0.01)  # two passes of -3 dB
    y = lowpass(t, np.sin(2 * np.pi * 40.0 * t), fc)
    assert np.max(np.abs(y[400:-400])) < 1e-4


def test_lowpass_keeps_a_straight_line_and_handles_rounded_times() -> None:
    t = np.round(np.arange(100) / 60.0, 8)  # rounded like OpenSim files
    x = 3.0 - 2.0 * np.arange(100) / 60.0
    # (the start-up transient of the passes, decayed over the padding, is ~1e-8)
    np.testing.assert_allclose(lowpass(t, x, 6.0), x, atol=1e-6)


def test_lowpass_non_uniform_times_are_resampled() -> None:
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0.0, 4.0, 400))
    t[0], t[-1] = 0.0, 4.0
    x = np.sin(2 * np.pi * 0.5 * t)
    y = lowpass(t, x, 6.0)
    assert y.shape == x.shape
    assert np.max(np.abs(y[40:-40] - x[40:-40])) < 1e-3


def test_lowpass_cutoff_above_nyquist_warns() -> None:
    t = np.arange(50) / 20.0
    with pytest.warns(UserWarning, match="half the sampling rate"):
        lowpass(t, np.sin(t), 15.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"cutoff_hz": 0.0}, "cutoff"), ({"cutoff_hz": 6.0, "order": 0}, "order")],
)
def test_lowpass_rejects_bad_parameters(kwargs: dict, message: str) -> None:
    t = np.arange(20) / 60.0
    with pytest.raises(ValueError, match=message):
        lowpass(t, t, **kwargs)


def test_lowpass_rejects_nan() -> None:
    t = np.arange(20) / 60.0
    x = np.ones(20)
    x[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        lowpass(t, x, 6.0)


def test_natural_spline_derivatives_of_quadratic_are_exact() -> None:
    t = np.sort(np.random.default_rng(3).uniform(0.0, 2.0, 30))
    x = 1.5 - 0.7 * t + 2.5 * t**2
    v, d1, d2 = spline_derivatives(t, x)
    np.testing.assert_allclose(v, x, atol=1e-12)
    np.testing.assert_allclose(d1, -0.7 + 5.0 * t, atol=1e-10)
    np.testing.assert_allclose(d2, 5.0, atol=1e-8)


def test_not_a_knot_spline_derivatives_of_quintic_are_exact() -> None:
    t = np.linspace(-1.0, 1.0, 21)
    coefficients = np.array([0.3, -1.0, 0.5, 2.0, -3.0, 1.0])  # highest power first
    x = np.polyval(coefficients, t)
    at = np.linspace(-1.0, 1.0, 57)
    v, d1, d2 = spline_derivatives(t, np.c_[x, -x], at=at, end_conditions="not-a-knot")
    np.testing.assert_allclose(v[:, 0], np.polyval(coefficients, at), atol=1e-12)
    np.testing.assert_allclose(d1[:, 0], np.polyval(np.polyder(coefficients), at), atol=1e-10)
    np.testing.assert_allclose(d2[:, 0], np.polyval(np.polyder(coefficients, 2), at), atol=1e-8)
    np.testing.assert_allclose(d2[:, 1], -d2[:, 0], atol=1e-12)


def test_natural_spline_ends_and_interior_of_sine() -> None:
    t = np.linspace(0.0, 2.0, 201)
    w = 2 * np.pi
    v, d1, d2 = spline_derivatives(t, np.sin(w * t))
    # Third and fourth derivatives vanish at the ends; the interior is accurate.
    interior = slice(30, -30)
    np.testing.assert_allclose(d1[interior], w * np.cos(w * t[interior]), atol=1e-8)
    np.testing.assert_allclose(d2[interior], -(w**2) * np.sin(w * t[interior]), atol=1e-6)


def test_spline_derivatives_refuses_extrapolation() -> None:
    t = np.linspace(0.0, 1.0, 10)
    with pytest.raises(ValueError, match="leave the data range"):
        spline_derivatives(t, t, at=[1.5])
