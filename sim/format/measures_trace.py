"""Trace measures: transient steps, DC sweeps and noise spectra.

Part of the measure functions ``sim.format.measures`` gathers (its docstring
holds the shared conventions: floats out, NaN for a measure a design does not
have, ``ValueError`` only for a caller's malformed input).

Transient ``time`` [n] s, DC ``sweep`` [n] (V or A, the swept source), noise
``freq`` [n] Hz, each with data vectors of the same shape:

- Crossings of a level are interpolated linearly between samples; "first"
  means first in the order of the vector (a downward DC sweep is searched from
  its start, so up and down sweeps give their own thresholds).
- Transient measures look only at the window [start, stop] (s), with the end
  values interpolated; the value at ``stop`` is taken as settled.

Slew rate in V/s, overshoot in percent of the step, delay in s, noise density
in V/sqrt(Hz).
"""

from __future__ import annotations

import math

import numpy as np

NAN = float("nan")


MIN_SWING = 1e-6
"""Volts: a step smaller than this (ngspice's default vntol) has no slew or
overshoot (NaN)."""

DIRECTIONS = ("rising", "falling", "either")


def _traces(x: object, *ys: object) -> tuple[np.ndarray, ...]:
    """x and the ys as float64 [n] arrays; ValueError unless all are equal 1-D."""
    arrays = tuple(np.asarray(a, dtype=np.float64) for a in (x, *ys))
    if arrays[0].ndim != 1 or any(a.shape != arrays[0].shape for a in arrays):
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"vectors must be equal 1-D arrays, got {shapes}")
    return arrays


def _crossings(
    y: np.ndarray, level: float, direction: str = "either"
) -> tuple[np.ndarray, np.ndarray]:
    """Where y [n] crosses level: segment indices k [m] and fractions f [m].

    A rising crossing has y[k] < level <= y[k+1], a falling one y[k] > level >=
    y[k+1]; the crossing point is k + f with f in (0, 1] (linear interpolation).
    Segments touching a NaN never cross.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    below, above = y < level, y > level
    finite = np.isfinite(y)
    rising = below[:-1] & ~below[1:] & finite[1:]
    falling = above[:-1] & ~above[1:] & finite[1:]
    mask = {"rising": rising, "falling": falling, "either": rising | falling}
    k = np.flatnonzero(mask[direction])
    f = (level - y[k]) / (y[k + 1] - y[k])
    return k, f


def _at(x: np.ndarray, k: np.ndarray, f: np.ndarray) -> np.ndarray:
    """x interpolated at fractional positions k + f, [m]."""
    return x[k] + f * (x[k + 1] - x[k])


def _first_crossing(
    x: np.ndarray, y: np.ndarray, level: float, direction: str = "either"
) -> float:
    """x where y first crosses level (see ``_crossings``); NaN if it never does."""
    k, f = _crossings(y, level, direction)
    return float(_at(x, k[:1], f[:1])[0]) if k.size else NAN


def _window(
    time: object, vectors: tuple[object, ...], start: float, stop: float
) -> tuple[np.ndarray, ...] | None:
    """The samples of a transient in [start, stop], end points interpolated.

    time: [n] s ascending; vectors: each [n]. Returns (time [m], *vectors [m])
    with time[0] = start and time[-1] = stop, or None when the simulation does
    not cover the window (a margin of 1e-6 of its span is allowed at the ends).
    """
    t, *ys = _traces(time, *vectors)
    start, stop = float(start), float(stop)
    if not (math.isfinite(start) and math.isfinite(stop) and start < stop):
        raise ValueError(f"window needs finite start < stop, got [{start}, {stop}]")
    if t.size and np.any(np.diff(t) < 0):
        raise ValueError("time must be ascending")
    if t.size < 2:
        return None
    margin = 1e-6 * (t[-1] - t[0])
    if start < t[0] - margin or stop > t[-1] + margin:
        return None
    start, stop = max(start, t[0]), min(stop, t[-1])
    inner = (t > start) & (t < stop)
    ends = np.array([start, stop])
    out = [np.concatenate(([start], t[inner], [stop]))]
    for y in ys:
        a, b = np.interp(ends, t, y)
        out.append(np.concatenate(([a], y[inner], [b])))
    return tuple(out)


def _step(
    time: object, output: object, start: float, stop: float
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """A step in [start, stop], normalised to go from 0 (start) to 1 (stop).

    Returns (time [m] s, normalised output [m], step size in V), or None when
    the window is not simulated or the step is smaller than ``MIN_SWING``.
    """
    window = _window(time, (output,), start, stop)
    if window is None:
        return None
    t, v = window
    swing = float(v[-1] - v[0])
    if not abs(swing) >= MIN_SWING:  # also catches NaN
        return None
    return t, (v - v[0]) / swing, swing


def slew_rate(time: np.ndarray, output: np.ndarray, start: float, stop: float) -> float:
    """Slew rate (V/s, positive for rising and falling edges) of a step.

    In the window [start, stop] (s) the output moves from its value at
    ``start`` to its settled value at ``stop`` (both interpolated); the slew
    rate is 0.8*|dV| / (t90 - t10), with t10 and t90 the first times it crosses
    10 % and 90 % of the step (linearly interpolated). time: [n] s ascending;
    output: [n] V. NaN when the window is not simulated, the step is smaller
    than ``MIN_SWING`` or a crossing is missing.
    """
    step = _step(time, output, start, stop)
    if step is None:
        return NAN
    t, y, swing = step
    t10 = _first_crossing(t, y, 0.1, "rising")
    k, f = _crossings(y, 0.9, "rising")
    t90s = _at(t, k, f)
    t90s = t90s[t90s > t10]
    if math.isnan(t10) or t90s.size == 0:
        return NAN
    return 0.8 * abs(swing) / float(t90s[0] - t10)


def overshoot(time: np.ndarray, output: np.ndarray, start: float, stop: float) -> float:
    """Overshoot (percent of the step) beyond the final value of a step.

    In the window [start, stop] (s) the step goes from the output's value at
    ``start`` to its value at ``stop`` (taken as settled); the overshoot is
    100 * (peak excursion beyond the final value) / |step|, 0 when the output
    never passes the final value. Works for rising and falling steps; the peak
    is the largest sample (use a small time step). time: [n] s ascending;
    output: [n] V. NaN when the window is not simulated or the step is smaller
    than ``MIN_SWING``.
    """
    step = _step(time, output, start, stop)
    if step is None:
        return NAN
    peak = float(np.max(step[1]))
    return 100.0 * max(peak - 1.0, 0.0) if math.isfinite(peak) else NAN


def propagation_delay(
    time: np.ndarray,
    input: np.ndarray,
    output: np.ndarray,
    start: float,
    stop: float,
    level: float,
) -> float:
    """Delay (s) from the input's to the output's crossing of ``level`` (V).

    Within the window [start, stop] (s): the input's first crossing of level
    (either direction), then the output's first crossing of level (either
    direction) at or after it, both linearly interpolated in time. time: [n] s
    ascending; input, output: [n] V. NaN when the window is not simulated or
    either crossing is missing.
    """
    window = _window(time, (input, output), start, stop)
    if window is None:
        return NAN
    t, v_in, v_out = window
    t_in = _first_crossing(t, v_in, level)
    k, f = _crossings(v_out, level)
    t_out = _at(t, k, f)
    t_out = t_out[t_out >= t_in]
    if math.isnan(t_in) or t_out.size == 0:
        return NAN
    return float(t_out[0] - t_in)


def noise_density(freq: np.ndarray, spectrum: np.ndarray, frequency: float) -> float:
    """Noise spectral density (V/sqrt(Hz)) at ``frequency`` (Hz).

    freq: [n] Hz positive ascending; spectrum: [n] V/sqrt(Hz), e.g. ngspice's
    ``onoise_spectrum`` (plot noise1). Interpolated linearly in log-log (in lin
    where a bracketing value is zero). NaN outside the swept range.
    """
    f, s = _traces(freq, spectrum)
    if f.size and not (f[0] > 0 and np.all(np.diff(f) > 0)):
        raise ValueError("freq must be positive and strictly ascending")
    s = np.abs(s)
    frequency = float(frequency)
    if f.size == 0 or not f[0] <= frequency <= f[-1]:
        return NAN
    k = int(np.searchsorted(f, frequency))
    if f[k] == frequency:
        return float(s[k])
    (f0, f1), (s0, s1) = f[k - 1 : k + 1], s[k - 1 : k + 1]
    u = (math.log(frequency) - math.log(f0)) / (math.log(f1) - math.log(f0))
    if s0 > 0 and s1 > 0:
        return float(math.exp((1 - u) * math.log(s0) + u * math.log(s1)))
    return float(s0 + (frequency - f0) / (f1 - f0) * (s1 - s0))


def minimum(sweep: np.ndarray, output: np.ndarray) -> float:
    """Smallest value of a sweep's output vector, [n] -> float; NaN if empty."""
    _, y = _traces(sweep, output)
    return float(np.min(y)) if y.size else NAN


def maximum(sweep: np.ndarray, output: np.ndarray) -> float:
    """Largest value of a sweep's output vector, [n] -> float; NaN if empty."""
    _, y = _traces(sweep, output)
    return float(np.max(y)) if y.size else NAN


def crossing(
    sweep: np.ndarray, output: np.ndarray, level: float, direction: str = "either"
) -> float:
    """Sweep value where ``output`` first crosses ``level``, linearly interpolated.

    sweep: [n] the DC sweep variable in the order swept (a downward sweep is
    searched from its start); output: [n]; direction: "rising", "falling" or
    "either" (in the order of the sweep). NaN when there is no such crossing.
    """
    x, y = _traces(sweep, output)
    return _first_crossing(x, y, float(level), direction)


def transfer_crossing(
    sweep: np.ndarray, input: np.ndarray, output: np.ndarray, level: float
) -> float:
    """Value of ``input`` where ``output`` first crosses ``level`` (either way).

    For a stage of an inverter chain: input = the stage's input node, output =
    its output node, giving the stage's switching voltage. sweep, input,
    output: [n] in the order swept; the input is interpolated linearly at the
    crossing point. NaN when output never crosses level.
    """
    _, u, y = _traces(sweep, input, output)
    k, f = _crossings(y, float(level))
    return float(_at(u, k[:1], f[:1])[0]) if k.size else NAN


def tracking_range(
    sweep: np.ndarray, output: np.ndarray, tolerance: float = 0.05, end: str = "low"
) -> float:
    """One end of the range where a unity-gain follower tracks its input.

    The small-signal gain is d(output)/d(sweep) per sweep segment; the
    tracking region is the contiguous run of segments with gain >= 1 -
    tolerance around the middle of the sweep (the run holding the tracking
    segment nearest to the middle of the swept range). Returns its lowest
    (end="low") or highest (end="high") sweep value, i.e. the input
    common-mode range, exact to one sweep step. sweep: [n] V (either
    direction); output: [n] V. NaN when no segment reaches the gain.
    """
    if end not in ("low", "high"):
        raise ValueError(f"end must be 'low' or 'high', got {end!r}")
    x, y = _traces(sweep, output)
    if x.size < 2:
        return NAN
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.diff(y) / np.diff(x)
    good = gain >= 1.0 - float(tolerance)
    candidates = np.flatnonzero(good)
    if candidates.size == 0:
        return NAN
    centres = (x[:-1] + x[1:]) / 2
    middle = (x[0] + x[-1]) / 2
    k = int(candidates[np.argmin(np.abs(centres[candidates] - middle))])
    bad = np.flatnonzero(~good)
    first = int(bad[bad < k].max()) + 1 if np.any(bad < k) else 0
    last = int(bad[bad > k].min()) - 1 if np.any(bad > k) else good.size - 1
    run = x[first : last + 2]
    return float(np.min(run) if end == "low" else np.max(run))
