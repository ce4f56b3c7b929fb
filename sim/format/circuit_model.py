"""What a circuit file describes, as frozen objects: ``Circuit`` and its parts.

``sim.format.circuit.load_circuit`` builds these from ``circuit.yaml`` (and
re-exports them); the netlist renderer and the load-time checks read them.
Imports only ``sim.errors`` and ``sim.format.targets``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import UserInputError
from sim.format.targets import TargetBox

SNAP_TOLERANCE = 1e-6  # relative; float32 round-off is ~6e-8
# In analysis commands, replaced by the technology's supply voltage (V).
VDD_PLACEHOLDER = "{VDD}"


@dataclass(frozen=True)
class Parameter:
    """One sizing parameter. Values are SI numbers (m, F, Ohm, A, or counts).

    ``kind``: ``"real"`` (continuous in [low, high], sampled on ``scale``),
    ``"integer"`` or ``"grid"`` (one of ``grid``).
    """

    name: str
    low: float
    high: float
    default: float
    unit: str = ""
    kind: str = "real"
    scale: str = "linear"
    grid: tuple[float, ...] = ()

    def check(self, value: object) -> float:
        """``value`` as a float, or a UserInputError naming the problem."""
        # Numbers only (numpy/JAX scalars too): no text, no booleans.
        if isinstance(value, (bool, str, bytes, np.bool_)) or not hasattr(
            value, "__float__"
        ):
            raise UserInputError(
                f"parameter {self.name} must be a number, got {value!r}"
            )
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise UserInputError(
                f"parameter {self.name} must be a number, got {value!r}"
            ) from None
        if not math.isfinite(number):
            raise UserInputError(f"parameter {self.name} must be finite, got {value}")
        # Values computed in float32 (the JAX side) land within ~1e-7 of a
        # bound, grid value or integer: accept them and snap to the exact one.
        if self.kind == "grid":
            nearest = min(self.grid, key=lambda g: abs(g - number))
            if not math.isclose(number, nearest, rel_tol=SNAP_TOLERANCE):
                raise UserInputError(
                    f"parameter {self.name}={number:g} is not on its grid "
                    f"{list(self.grid)}"
                )
            return nearest
        slack = SNAP_TOLERANCE * max(abs(self.low), abs(self.high))
        if not (self.low - slack <= number <= self.high + slack):
            raise UserInputError(
                f"parameter {self.name}={number:g} {self.unit} is out of bounds "
                f"[{self.low:g}, {self.high:g}]"
            )
        number = min(max(number, self.low), self.high)
        if self.kind == "integer":
            if abs(number - round(number)) > SNAP_TOLERANCE * max(1.0, abs(number)):
                raise UserInputError(
                    f"parameter {self.name} must be an integer, got {value}"
                )
            number = float(round(number))
        return number

    def from_unit(self, u: float) -> float:
        """Map ``u`` in [0, 1] onto the parameter's range (grid and integers snap)."""
        u = min(max(u, 0.0), 1.0)
        if self.kind == "grid":
            return self.grid[min(int(u * len(self.grid)), len(self.grid) - 1)]
        if self.scale == "log":
            value = math.exp(math.log(self.low) + u * math.log(self.high / self.low))
        else:
            value = self.low + u * (self.high - self.low)
        if self.kind == "integer":
            value = float(min(max(round(value), self.low), self.high))
        return min(max(value, self.low), self.high)


@dataclass(frozen=True)
class Analysis:
    name: str
    command: str


@dataclass(frozen=True)
class Testbench:
    """A netlist wrapped around the circuit, and the analyses run on it."""

    name: str
    template: str
    analyses: tuple[Analysis, ...]


@dataclass(frozen=True)
class Measure:
    """A performance figure: a function of the measurement library on vectors."""

    name: str
    function: str
    testbench: str
    analysis: str
    args: dict[str, str] = field(default_factory=dict)
    unit: str = ""


@dataclass(frozen=True)
class Circuit:
    """A sizing problem on one technology (per-technology overrides applied)."""

    name: str
    description: str
    directory: Path
    netlist: str
    parameters: tuple[Parameter, ...]
    constants: dict[str, float]
    testbenches: tuple[Testbench, ...]
    measures: tuple[Measure, ...]
    devices: dict[str, str]  # device name -> "nmos" | "pmos"
    op_testbench: str
    op_analysis: str
    box: TargetBox  # the declared target distribution (``sim.format.targets``)
    technology: str
    fingerprint: str = ""
    reward: str = "amplifier"  # or "distance": point targets (GAC²E's nand4, st1)
    electrical_space: str = ""  # name of the v0 sizing procedure, if any
    surrogate_physics: str = ""  # name of the surrogate's physics estimator
    ports: tuple[str, ...] = ()  # the netlist's nodes a testbench may connect to
    pvt: Any = None  # declared conditions (sim.format.pvt_conditions.Declaration)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise UserInputError(
            f"circuit {self.name} has no parameter {name!r}; "
            f"its parameters are {', '.join(self.parameter_names)}"
        )

    def default_design(self) -> dict[str, float]:
        return {p.name: p.default for p in self.parameters}

    def restricted(self, measures: Iterable[str]) -> Circuit:
        """The same circuit measuring only ``measures`` (and the operating
        point): testbenches and analyses nobody reads are dropped, which makes
        each simulation cheaper (e.g. an RL run that needs only the specs)."""
        names = set(measures)
        unknown = names - {m.name for m in self.measures}
        if unknown:
            raise UserInputError(
                f"circuit {self.name} has no measures {sorted(unknown)}"
            )
        kept = tuple(m for m in self.measures if m.name in names)
        used = {(m.testbench, m.analysis) for m in kept if m.testbench}
        if self.devices:
            used.add((self.op_testbench, self.op_analysis))
        testbenches = tuple(
            dataclasses.replace(
                tb, analyses=tuple(a for a in tb.analyses if (tb.name, a.name) in used)
            )
            for tb in self.testbenches
            if any(t == tb.name for t, _ in used)
        )
        digest = hashlib.sha256((self.fingerprint + repr(sorted(names))).encode())
        return dataclasses.replace(
            self,
            measures=kept,
            testbenches=testbenches,
            box=TargetBox(tuple(s for s in self.box.specs if s.name in names)),
            fingerprint=digest.hexdigest()[:16],
        )

    def check_design(self, design: dict[str, Any]) -> dict[str, float]:
        """Complete ``design`` with defaults and validate every value."""
        if not isinstance(design, dict):
            raise UserInputError("a design must map parameter names to numbers")
        for name in design:
            self.parameter(name)
        return {p.name: p.check(design.get(p.name, p.default)) for p in self.parameters}
