"""Performance measures computed from simulator vectors, in plain numpy.

Every measure returns a Python ``float`` (or ``int`` for region codes). A measure
that does not exist for a design (the gain never crosses 0 dB, the phase never
drops by 180 degrees, a zero denominator, an empty sweep) is ``NaN``: failures
are values, so these functions can run inside training loops without raising.
They raise ``ValueError`` only for malformed input that is a caller's bug and
never depends on the design (arrays of different shapes, frequencies not
positive and strictly ascending).

Units are SI (Hz, V, A, W, F, S); names ending in ``_db`` return dB and the
phase and gain margins are in degrees and dB as their docstrings say.

Frequency-domain conventions (``freq`` [n] Hz, ``response`` [n] complex vout/vin):

- "DC" is the lowest frequency of the sweep: start the sweep well below the
  first pole.
- Magnitude crossings are interpolated linearly in dB against log10(f).
- Phase is unwrapped (``np.unwrap``) and taken relative to the DC phase, so an
  inverting amplifier (DC phase 180 degrees) and a non-inverting one give the
  same margins. Unwrapping needs adjacent points less than 180 degrees apart:
  use a dense sweep (tens of points per decade).

Trace conventions (transient ``time`` [n] s, DC ``sweep`` [n], noise ``freq``
[n] Hz, each with data vectors of the same shape):

- Crossings of a level are interpolated linearly between samples; "first"
  means first in the order of the vector (a downward DC sweep is searched from
  its start, so up and down sweeps give their own thresholds).
- Transient measures look only at the window [start, stop] (s), with the end
  values interpolated; the value at ``stop`` is taken as settled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

NAN = float("nan")


# --------------------------------------------------------------------------- AC


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


# ----------------------------------------------------------------------- supply


def supply_current(i_source: float) -> float:
    """Current (A) delivered by a supply, from the ngspice branch current i(vdd).

    ngspice reports a voltage source's current as flowing into its + terminal,
    so a supply feeding a circuit reads negative; this returns -i_source, which
    is positive for a supply delivering current (negative means the source
    absorbs current).
    """
    return -float(i_source)


def supply_power(vdd: float, i_source: float) -> float:
    """Power (W) delivered by a supply: vdd * supply_current(i_source).

    vdd: source voltage (V); i_source: its ngspice branch current (A, positive
    into the + terminal). Also right for a negative rail (vdd < 0, current
    flowing into it), where the power is positive too.
    """
    return float(vdd) * supply_current(i_source)


# ------------------------------------------------------------- operating point


def _ratio(num: float, den: float) -> float:
    """num / den as a float; NaN when den is zero or either is not finite."""
    num, den = float(num), float(den)
    if den == 0.0 or not (math.isfinite(num) and math.isfinite(den)):
        return NAN
    return num / den


def gm_over_id(gm: float, id: float) -> float:
    """gm/Id in 1/V: gm (S) over the drain current magnitude |id| (A)."""
    return _ratio(gm, abs(float(id)))


def transit_frequency(gm: float, cgg: float) -> float:
    """Transit frequency gm / (2*pi*|cgg|) in Hz, from gm (S) and cgg (F)."""
    return _ratio(gm, 2.0 * math.pi * abs(float(cgg)))


class Region(IntEnum):
    """Operating-region codes returned by ``operating_region``."""

    UNKNOWN = -1  # an input is NaN or infinite
    OFF = 0  # cutoff: |vgs| <= |vth| - SUBTHRESHOLD_SPAN
    TRIODE = 1  # linear: |vds| < |vdsat|
    SATURATION = 2
    SUBTHRESHOLD = 3  # weak inversion: |vth| - SUBTHRESHOLD_SPAN < |vgs| < |vth|


SUBTHRESHOLD_SPAN = 0.3
"""Volts below threshold still called weak inversion (~3-4 decades of current)."""


def operating_regions(
    vgs: np.ndarray, vds: np.ndarray, vth: np.ndarray, vdsat: np.ndarray
) -> np.ndarray:
    """Vectorised ``operating_region``: broadcast inputs (V) -> int64 codes.

    Inputs broadcast together to a common shape [...]; the result has that
    shape and holds ``Region`` values.
    """
    vgs, vds, vth, vdsat = np.broadcast_arrays(
        *(np.abs(np.asarray(v, dtype=np.float64)) for v in (vgs, vds, vth, vdsat))
    )
    region = np.where(vds < vdsat, Region.TRIODE, Region.SATURATION)
    region = np.where(vgs < vth, Region.SUBTHRESHOLD, region)
    region = np.where(vgs <= vth - SUBTHRESHOLD_SPAN, Region.OFF, region)
    known = np.isfinite(vgs) & np.isfinite(vds) & np.isfinite(vth) & np.isfinite(vdsat)
    return np.where(known, region, Region.UNKNOWN).astype(np.int64)


def operating_region(vgs: float, vds: float, vth: float, vdsat: float) -> int:
    """Operating region of one MOSFET as a ``Region`` code (an int).

    OFF (0) when |vgs| <= |vth| - 0.3 V, SUBTHRESHOLD (3) when |vgs| < |vth|
    otherwise, else TRIODE (1) when |vds| < |vdsat|, else SATURATION (2);
    UNKNOWN (-1) when an input is not finite. Voltages in V. (GAC²E/Spectre
    use the same codes.)
    Magnitudes make it work for n and p devices under either sign convention
    (ngspice's BSIM4 reports p-device vgs, vds, vth as positive magnitudes;
    node voltages give them negative). It assumes the gate is not driven in the
    reverse direction (e.g. vgs < 0 on an n device would read as on).
    """
    # Scalar twin of ``operating_regions`` (same rule and precedence): the
    # environments call it for every device of every simulated design.
    vgs, vds = abs(float(vgs)), abs(float(vds))
    vth, vdsat = abs(float(vth)), abs(float(vdsat))
    isfinite = math.isfinite
    if not (isfinite(vgs) and isfinite(vds) and isfinite(vth) and isfinite(vdsat)):
        return Region.UNKNOWN
    if vgs <= vth - SUBTHRESHOLD_SPAN:
        return Region.OFF
    if vgs < vth:
        return Region.SUBTHRESHOLD
    return Region.TRIODE if vds < vdsat else Region.SATURATION


def _to_float(value: object) -> float:
    """float(value), or NaN when it cannot be converted."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return NAN


@dataclass(frozen=True)
class DeviceOperatingPoint:
    """Raw operating point of one MOSFET as ngspice reports it (SI units).

    id (A), gm and gds (S), vth, vdsat, vgs, vds (V), cgg (F). A missing value
    is NaN.
    """

    id: float = NAN
    gm: float = NAN
    gds: float = NAN
    vth: float = NAN
    vdsat: float = NAN
    cgg: float = NAN
    vgs: float = NAN
    vds: float = NAN

    @classmethod
    def from_raw(cls, raw: Mapping[str, object]) -> DeviceOperatingPoint:
        """Build from a dict of ngspice op values, e.g. {"gm": 1e-3, ...}.

        Keys are matched case-insensitively; unknown keys are ignored; missing
        or non-numeric values become NaN.
        """
        values = {str(key).lower(): _to_float(v) for key, v in raw.items()}
        return cls(**{name: values.get(name, NAN) for name in _OP_FIELDS})

    def figures(self) -> dict[str, float]:
        """Derived figures, keyed as in ``FIGURE_NAMES``.

        id, gm, gds, vth, vdsat are passed through; gmoverid (1/V), fug (Hz,
        transit frequency gm/(2*pi*|cgg|)), region (a ``Region`` code, an int)
        and self_gain (gm/gds, V/V) are derived; NaN where an input is missing.
        """
        values = device_figure_values(*self.values())
        return dict(zip(FIGURE_NAMES, values, strict=True))

    def values(self) -> tuple[float, ...]:
        """The raw values in field order (``id, gm, gds, vth, vdsat, cgg, vgs,
        vds``, as ``device_figure_values`` takes them)."""
        return (
            self.id,
            self.gm,
            self.gds,
            self.vth,
            self.vdsat,
            self.cgg,
            self.vgs,
            self.vds,
        )


def device_figure_values(
    id: float,
    gm: float,
    gds: float,
    vth: float,
    vdsat: float,
    cgg: float,
    vgs: float,
    vds: float,
) -> tuple[float | int, ...]:
    """``DeviceOperatingPoint.figures()`` as a tuple in ``FIGURE_NAMES`` order.

    The scalar path the simulator takes for every device of every design
    (region is a ``Region`` code, an int).
    """
    # Inlined _ratio (gm_over_id, transit_frequency, self gain): same arithmetic.
    num = float(gm)
    isfinite = math.isfinite
    num_ok = isfinite(num)
    den = abs(float(id))
    gmoverid = num / den if num_ok and den != 0.0 and isfinite(den) else NAN
    den = 2.0 * math.pi * abs(float(cgg))
    fug = num / den if num_ok and den != 0.0 and isfinite(den) else NAN
    den = float(gds)
    self_gain = num / den if num_ok and den != 0.0 and isfinite(den) else NAN
    region = operating_region(vgs, vds, vth, vdsat)
    return (id, gm, gds, vth, vdsat, gmoverid, fug, region, self_gain)


_OP_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DeviceOperatingPoint))

FIGURE_NAMES: tuple[str, ...] = (
    "id",
    "gm",
    "gds",
    "vth",
    "vdsat",
    "gmoverid",
    "fug",
    "region",
    "self_gain",
)
"""Keys of ``DeviceOperatingPoint.figures()``, in a fixed order."""


def device_figures(raw: Mapping[str, object]) -> dict[str, float]:
    """Derived figures of one device from a dict of raw ngspice op values.

    Shorthand for ``DeviceOperatingPoint.from_raw(raw).figures()``; never raises
    on missing keys.
    """
    return DeviceOperatingPoint.from_raw(raw).figures()


def node_voltage(voltage: float) -> float:
    """An operating-point node voltage (V), as read."""
    return float(voltage)


def difference(value: float, reference: float) -> float:
    """``value - reference`` (e.g. systematic offset v(out) - v(inp), V)."""
    return float(value) - float(reference)


# ---------------------------------------------------- traces: tran, dc, noise

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
