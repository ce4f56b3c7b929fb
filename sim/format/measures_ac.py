"""Frequency-domain (AC) measures: gain, unity-gain bandwidth, margins, rejection.

Part of the measure functions ``sim.format.measures`` gathers (its docstring
holds the conventions shared by all: floats out, NaN for a measure a design
does not have, ``ValueError`` only for a caller's malformed input).

``freq`` [n] Hz ascending, ``response`` [n] complex vout/vin:

- "DC" is the lowest frequency of the sweep: start the sweep well below the
  first pole.
- Magnitude crossings are interpolated linearly in dB against log10(f).
- Phase is unwrapped (``np.unwrap``) and taken relative to the DC phase, so an
  inverting amplifier (DC phase 180 degrees) and a non-inverting one give the
  same margins. Unwrapping needs adjacent points less than 180 degrees apart:
  use a dense sweep (tens of points per decade).

Gains and rejections in dB, phase margin in degrees, frequencies in Hz.
"""

from __future__ import annotations

import math

import numpy as np

NAN = float("nan")


def _sweep(freq: np.ndarray, response: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate an AC sweep and return it as float64 [n] Hz and complex128 [n]."""
    f = np.asarray(freq, dtype=np.float64)
    h = np.asarray(response, dtype=np.complex128)
    if f.ndim != 1 or f.shape != h.shape:
        raise ValueError(f"freq {f.shape} and response {h.shape} must be equal 1-D")
    if f.size and not (f[0] > 0 and np.all(np.diff(f) > 0)):
        raise ValueError("freq must be positive and strictly ascending")
    return f, h


def _magnitude_db(h: np.ndarray) -> np.ndarray:
    """|h| in dB, [n]; an exact zero gives -inf without a warning."""
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(np.abs(h))


def _relative_phase_deg(h: np.ndarray) -> np.ndarray:
    """Unwrapped phase of h in degrees minus its value at h[0], [n]."""
    phase = np.degrees(np.unwrap(np.angle(h)))
    return phase - phase[0]


def _first_fall_through(x: np.ndarray, y: np.ndarray, level: float) -> float:
    """x where y first falls from >= level to < level, linearly interpolated.

    x, y: [n]. NaN when y never falls through level.
    """
    falls = np.flatnonzero((y[:-1] >= level) & (y[1:] < level))
    if falls.size == 0:
        return NAN
    k = falls[0]
    t = (level - y[k]) / (y[k + 1] - y[k])
    return float(x[k] + t * (x[k + 1] - x[k]))


def dc_gain_db(freq: np.ndarray, response: np.ndarray) -> float:
    """Gain at the lowest swept frequency, 20*log10|H(f[0])| in dB.

    freq: [n] Hz ascending; response: [n] complex vout/vin. NaN for an empty
    sweep, -inf for an exact zero.
    """
    _, h = _sweep(freq, response)
    if h.size == 0:
        return NAN
    return float(_magnitude_db(h[:1])[0])


def unity_gain_bandwidth(freq: np.ndarray, response: np.ndarray) -> float:
    """First frequency (Hz) where |H| falls through 1 (0 dB).

    Interpolated linearly in dB against log10(f) between the two bracketing
    points. freq: [n] Hz ascending; response: [n] complex vout/vin. NaN when
    |H| starts below 1 or never falls through 1 within the sweep.
    """
    f, h = _sweep(freq, response)
    if f.size < 2:
        return NAN
    mag = _magnitude_db(h)
    if not mag[0] >= 0.0:
        return NAN
    log_fu = _first_fall_through(np.log10(f), mag, 0.0)
    return float(10.0**log_fu)


def phase_margin(freq: np.ndarray, response: np.ndarray) -> float:
    """Phase margin in degrees: 180 + (phase at ugbw - phase at DC).

    The phase is unwrapped, in degrees, and referenced to the lowest swept
    frequency, so a one-pole amplifier gives about 90 whether it inverts or not.
    The phase at the unity-gain frequency is interpolated linearly in log10(f).
    freq: [n] Hz ascending; response: [n] complex vout/vin. NaN when there is no
    unity-gain frequency (see ``unity_gain_bandwidth``).
    """
    f, h = _sweep(freq, response)
    fu = unity_gain_bandwidth(f, h)
    if math.isnan(fu):
        return NAN
    phase_at_fu = np.interp(np.log10(fu), np.log10(f), _relative_phase_deg(h))
    return float(180.0 + phase_at_fu)


def gain_margin(freq: np.ndarray, response: np.ndarray) -> float:
    """Gain margin in dB: -|H| in dB where the phase has dropped by 180 degrees.

    The crossover frequency is where the unwrapped phase, relative to the phase
    at the lowest swept frequency, first falls through -180 degrees
    (interpolated linearly in log10(f)); |H| in dB is interpolated there in
    log10(f). freq: [n] Hz ascending; response: [n] complex vout/vin. NaN when
    the phase never drops by 180 degrees within the sweep.
    """
    f, h = _sweep(freq, response)
    if f.size < 2:
        return NAN
    log_f = np.log10(f)
    log_f180 = _first_fall_through(log_f, _relative_phase_deg(h), -180.0)
    if math.isnan(log_f180):
        return NAN
    return float(-np.interp(log_f180, log_f, _magnitude_db(h)))


def rejection_db(freq: np.ndarray, response: np.ndarray) -> float:
    """Rejection ratio in dB: -(dc gain in dB) of a response, -20*log10|H(f[0])|.

    For PSRR and CMRR measured in a unity-gain follower: an AC source on the
    supply (PSRR) or in series with both inputs (CMRR, the source also in the
    feedback path) gives v(out)/v(source) ~ 1/PSRR (1/CMRR), so the rejection is
    minus that response's gain. freq: [n] Hz ascending; response: [n] complex
    v(out)/v(source). NaN for an empty sweep, +inf for an exact zero.
    """
    return -dc_gain_db(freq, response)
