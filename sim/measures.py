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
    return Region(int(operating_regions(vgs, vds, vth, vdsat)))


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
        return cls(**{f.name: values.get(f.name, NAN) for f in fields(cls)})

    def figures(self) -> dict[str, float]:
        """Derived figures, keyed as in ``FIGURE_NAMES``.

        id, gm, gds, vth, vdsat are passed through; gmoverid (1/V), fug (Hz,
        transit frequency gm/(2*pi*|cgg|)), region (a ``Region`` code, an int)
        and self_gain (gm/gds, V/V) are derived; NaN where an input is missing.
        """
        return {
            "id": self.id,
            "gm": self.gm,
            "gds": self.gds,
            "vth": self.vth,
            "vdsat": self.vdsat,
            "gmoverid": gm_over_id(self.gm, self.id),
            "fug": transit_frequency(self.gm, self.cgg),
            "region": operating_region(self.vgs, self.vds, self.vth, self.vdsat),
            "self_gain": _ratio(self.gm, self.gds),
        }


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
