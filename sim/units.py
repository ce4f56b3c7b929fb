"""Numbers with units as people write them (``12.8 MHz``, ``300 µW``) and as
SPICE writes them (``1.5u``, ``10meg``)."""

from __future__ import annotations

import math
import re

_PREFIXES = [
    (1e9, "G"),
    (1e6, "M"),
    (1e3, "k"),
    (1.0, ""),
    (1e-3, "m"),
    (1e-6, "µ"),
    (1e-9, "n"),
    (1e-12, "p"),
    (1e-15, "f"),
]
_NO_PREFIX = {"dB", "deg", "", "%"}


# Units shown in a fixed, customary scale instead of with an SI prefix.
_FIXED = {"m²": (1e-12, "µm²"), "V/s": (1e6, "V/µs")}


def engineering(value: float, unit: str = "", digits: int = 4) -> str:
    """``12.8 MHz``-style text; units in ``_NO_PREFIX`` are printed plainly."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit in _FIXED:
        factor, shown = _FIXED[unit]
        return f"{value / factor:.{digits}g} {shown}"
    if unit in _NO_PREFIX or value == 0 or math.isinf(value):
        return f"{value:.{digits}g} {unit}".rstrip()
    for factor, prefix in _PREFIXES:
        if abs(value) >= factor * 0.9995:
            return f"{value / factor:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"


# SPICE scale suffixes (case-insensitive; ``m`` is milli, ``meg`` mega).
_SUFFIX = {
    "t": 1e12,
    "g": 1e9,
    "meg": 1e6,
    "k": 1e3,
    "m": 1e-3,
    "mil": 25.4e-6,
    "u": 1e-6,
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
}
_NUMBER = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(meg|mil|[tgkmunpf])?", re.I
)


def spice_number(text: str) -> float:
    """Parse a SPICE number with an optional scale suffix ("1.5u" -> 1.5e-6)."""
    match = _NUMBER.match(text.strip())
    if not match:
        raise ValueError(f"not a SPICE number: {text!r}")
    value = float(match.group(1))
    suffix = (match.group(2) or "").lower()
    return value * _SUFFIX.get(suffix, 1.0)
