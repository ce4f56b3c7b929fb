"""The declared target distribution of a circuit: its spec box.

A circuit declares, per spec, where its users' targets come from (``specs:``
in ``circuit.yaml``, see ``docs/circuit_format.md``): a direction (``lower``:
the figure must reach at least the target, ``upper``: at most), a range
``[min, max]`` in the figure's unit drawn on a ``linear`` or ``log`` scale,
or one fixed ``value`` (phase margin >= 60 degrees). Targets are uniform over
that box, independently per spec: this is the distribution the trainer trains
on, stops on and reports on.

A target is a vector ``[m]`` in spec order (SI units). NaN means "no
requirement on this spec" (a partial target): it is met by any figure.

The arithmetic (``TargetBox.from_uniform``) takes an array module ``xp``
(``numpy`` or ``jax.numpy``), so the SPICE environments, the pure-JAX
environment and the trainer draw targets with one implementation; the
randomness (uniforms) comes from the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.errors import UserInputError

BOUNDS = ("lower", "upper")
SCALES = ("linear", "log")
FIXED_WIDTH = 0.1  # a fixed spec's margin unit: 10 % of its value
NO_REQUIREMENT = 10.0  # the margin of a spec without a target (and minus a miss)


@dataclass(frozen=True)
class SpecRange:
    """One spec of the box: ``name`` bounded ``bound`` within [low, high].

    ``low == high`` is a fixed bound. ``unit`` is the figure's unit.
    """

    name: str
    bound: str
    low: float
    high: float
    scale: str = "linear"
    unit: str = ""

    def __post_init__(self) -> None:
        if self.bound not in BOUNDS:
            raise UserInputError(f"spec {self.name}: bound must be lower or upper")
        if self.scale not in SCALES:
            raise UserInputError(f"spec {self.name}: scale must be linear or log")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise UserInputError(f"spec {self.name}: range must be finite")
        if self.low > self.high:
            raise UserInputError(
                f"spec {self.name}: range [{self.low:g}, {self.high:g}] is inverted"
            )
        if self.scale == "log" and self.low <= 0:
            raise UserInputError(f"spec {self.name}: a log range must be positive")

    @property
    def easy(self) -> float:
        """The end of the range every design meets first."""
        return self.low if self.bound == "lower" else self.high

    @property
    def hard(self) -> float:
        return self.high if self.bound == "lower" else self.low

    @property
    def fixed(self) -> bool:
        return self.low == self.high

    def to_json(self) -> dict:
        if self.fixed:
            return {"bound": self.bound, "value": self.low}
        return {
            "bound": self.bound,
            "range": [self.low, self.high],
            "scale": self.scale,
        }


@dataclass(frozen=True)
class TargetBox:
    """The box targets are drawn from, uniformly (arrays are ``[m]``)."""

    specs: tuple[SpecRange, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(s.unit for s in self.specs)

    @property
    def lower(self) -> np.ndarray:
        return np.asarray([s.bound == "lower" for s in self.specs])

    @property
    def low(self) -> np.ndarray:
        return np.asarray([s.low for s in self.specs], np.float64)

    @property
    def high(self) -> np.ndarray:
        return np.asarray([s.high for s in self.specs], np.float64)

    @property
    def log(self) -> np.ndarray:
        return np.asarray([s.scale == "log" for s in self.specs])

    @property
    def easy(self) -> np.ndarray:
        """The easy end of every spec ``[m]``."""
        return np.asarray([s.easy for s in self.specs], np.float64)

    @property
    def hard(self) -> np.ndarray:
        return np.asarray([s.hard for s in self.specs], np.float64)

    def spec(self, name: str) -> SpecRange:
        for s in self.specs:
            if s.name == name:
                return s
        raise UserInputError(
            f"{name} is not a spec of this circuit; specs: {', '.join(self.names)}"
        )

    # -- the distribution -------------------------------------------------------
    def from_uniform(self, u, xp=np):
        """Targets ``[..., m]`` from uniforms ``u`` ``[..., m]`` in [0, 1].

        ``u`` is the position from the easy end (0) to the hard end (1) of
        each spec, on the spec's scale; uniform ``u`` gives targets uniform
        over the box.
        """
        low, high = xp.asarray(self.low), xp.asarray(self.high)
        log = xp.asarray(self.log)
        lower = xp.asarray(self.lower)
        position = xp.where(lower, u, 1.0 - u)
        safe_low = xp.where(log, low, 1.0)
        safe_high = xp.where(log, high, 1.0)
        exponent = xp.log(safe_low) + position * (xp.log(safe_high) - xp.log(safe_low))
        return xp.where(log, xp.exp(exponent), low + position * (high - low))

    def difficulty(self, targets, xp=np):
        """The inverse of ``from_uniform``: position ``[..., m]`` of targets
        between the easy end (0) and the hard end (1); outside [0, 1] when a
        target lies outside the box, 0 for a fixed spec, NaN where missing."""
        low, high = xp.asarray(self.low), xp.asarray(self.high)
        log = xp.asarray(self.log)
        value = xp.where(log, xp.log(xp.maximum(targets, 1e-300)), targets)
        lo = xp.where(log, xp.log(xp.where(log, low, 1.0)), low)
        hi = xp.where(log, xp.log(xp.where(log, high, 1.0)), high)
        width = hi - lo
        position = (value - lo) / xp.where(width > 0, width, 1.0)
        position = xp.where(width > 0, position, 0.0)
        return xp.where(xp.asarray(self.lower), position, 1.0 - position)

    def sample(self, n: int, seed: int) -> np.ndarray:
        """``n`` targets ``[n, m]`` uniform over the box (NumPy generator)."""
        u = np.random.default_rng(seed).random((n, len(self.specs)))
        return self.from_uniform(u)

    def fill_missing(self, targets, xp=np):
        """Targets with every missing (NaN) spec set to its easy end."""
        return xp.where(xp.isnan(targets), xp.asarray(self.easy), targets)

    # -- meeting targets ----------------------------------------------------------
    @property
    def unit_width(self) -> np.ndarray:
        """Per spec ``[m]``, the width a margin of 1 stands for: the box's
        width on its scale (natural log of high/low on log specs), or for a
        fixed spec ``FIXED_WIDTH`` of its value."""
        log_width = np.log(np.maximum(self.high, 1e-300) / np.maximum(self.low, 1e-300))
        linear_width = self.high - self.low
        fixed_log = np.log1p(FIXED_WIDTH)
        fixed_linear = FIXED_WIDTH * np.maximum(np.abs(self.low), 1e-30)
        width = np.where(self.log, log_width, linear_width)
        fixed = np.where(self.log, fixed_log, fixed_linear)
        return np.where(width > 0, width, fixed)

    def margin(self, performance, targets, xp=np):
        """Signed normalised margin ``[..., m]`` of figures over targets.

        Positive where a spec is met, in units of ``unit_width`` (log specs
        compare logarithms); ``NO_REQUIREMENT`` where the target is NaN and
        ``-NO_REQUIREMENT`` where the figure is missing (NaN) or of the wrong
        sign on a log spec.
        """
        log = xp.asarray(self.log)
        sign = xp.where(xp.asarray(self.lower), 1.0, -1.0)
        ratio = xp.where(log, performance / xp.where(log, targets, 1.0), 1.0)
        usable = xp.isfinite(performance) & ((~log) | (ratio > 0))
        log_gap = xp.log(xp.where(usable & log, ratio, 1.0))
        gap = xp.where(log, log_gap, performance - targets)
        value = sign * gap / xp.asarray(self.unit_width)
        value = xp.where(usable, value, -NO_REQUIREMENT)
        return xp.where(xp.isnan(targets), NO_REQUIREMENT, value)

    def met(self, performance, targets, xp=np):
        """Whether every spec is met ``[...]`` (NaN targets always are)."""
        lower = xp.asarray(self.lower)
        finite = xp.isfinite(performance)
        ok = xp.where(lower, performance >= targets, performance <= targets) & finite
        return xp.all(ok | xp.isnan(targets), axis=-1)

    # -- files ------------------------------------------------------------------
    def to_json(self) -> dict:
        return {s.name: s.to_json() for s in self.specs}

    @classmethod
    def from_json(cls, data: dict, units: dict[str, str]) -> TargetBox:
        """A box from ``{spec: {bound, range, scale} | {bound, value}}``."""
        if not isinstance(data, dict) or not data:
            raise UserInputError("a spec box maps spec names to their ranges")
        return cls(
            tuple(
                spec_range(name, entry, units.get(name, ""))
                for name, entry in data.items()
            )
        )


def spec_range(name: str, entry: object, unit: str = "") -> SpecRange:
    """One spec of a box from its YAML/JSON form, or a ``UserInputError``."""
    if not isinstance(entry, dict):
        raise UserInputError(f"spec {name}: expected a mapping with 'bound'")
    unknown = set(entry) - {"bound", "range", "value", "scale"}
    if unknown:
        raise UserInputError(f"spec {name}: unknown keys {sorted(unknown)}")
    bound = entry.get("bound")
    if bound not in BOUNDS:
        raise UserInputError(f"spec {name}: 'bound' must be lower or upper")
    if ("range" in entry) == ("value" in entry):
        raise UserInputError(f"spec {name}: give either 'range: [min, max]' or 'value'")
    if "value" in entry:
        low = high = _number(entry["value"], f"spec {name} value")
    else:
        values = entry["range"]
        if not isinstance(values, list) or len(values) != 2:
            raise UserInputError(f"spec {name}: 'range' must be [min, max]")
        low, high = (_number(v, f"spec {name} range") for v in values)
    scale = entry.get("scale", "linear")
    if scale not in SCALES:
        raise UserInputError(f"spec {name}: scale must be linear or log, got {scale!r}")
    return SpecRange(str(name), bound, low, high, scale, unit)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserInputError(f"{what} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise UserInputError(f"{what} must be finite")
    return number
