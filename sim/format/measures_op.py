"""Operating-point measures: supply current and power, device figures, regions.

Part of the measure functions ``sim.format.measures`` gathers (its docstring
holds the shared conventions: floats out, NaN for a figure a design does not
have). Inputs are the values ngspice reports for an ``op`` analysis, in SI
units: currents A, voltages V, conductances S, capacitances F; derived
figures: gm/Id in 1/V, transit frequency in Hz, self gain in V/V, power in W.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

NAN = float("nan")


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
