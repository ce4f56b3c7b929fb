"""Declared operating conditions: process corner × temperature × supply scale.

A declaration names the conditions every spec must hold at (a spec is met
when it is met at every one; its worst case decides). It is one of

- ``nominal``: the problem's own corner and temperature at the nominal supply
  (the single condition every command used before PVT existed);
- ``signoff``: every corner of the technology (tt ss ff sf fs on sky130 and
  generic) × {-40, 27, 125} °C × {0.9, 1.0, 1.1} × VDD; a technology with
  one corner gets temperature and supply only (15 conditions);
- explicit lists, each defaulting to the nominal's value when left out:
  ``{corners: [tt, ss], temperatures: [-40, 125], supply: [0.9, 1.1]}`` in
  YAML, ``"corners=tt,ss temperatures=-40,125 supply=0.9,1.1"`` as a flag
  (``corners=all`` takes every corner of the technology).

``parse_declaration`` reads a YAML value or flag text (bad input is a
``UserInputError``, one line); ``resolve`` turns it into the ``ConditionSet``
of one technology, nominal condition first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.errors import UserInputError

NAMES = ("nominal", "signoff")
SIGNOFF_TEMPERATURES = (-40.0, 27.0, 125.0)  # °C
SIGNOFF_SUPPLIES = (0.9, 1.0, 1.1)  # × the technology's VDD
_KEYS = {"corners": "corners", "temperatures": "temperatures", "supply": "supplies"}
_FLAG_FIELD = re.compile(r"^(corners|temperatures|supply)=(.+)$")


@dataclass(frozen=True)
class Condition:
    """One operating condition: process ``corner``, ``temperature`` (°C),
    ``supply`` (scale of the technology's VDD, 1.0 nominal)."""

    corner: str
    temperature: float
    supply: float = 1.0

    @property
    def label(self) -> str:
        """``tt 27°C 1.0VDD``: for tables."""
        return f"{self.corner} {self.temperature:g}°C {self.supply:g}VDD"

    @property
    def slug(self) -> str:
        """``tt_27C_1vdd``: for file and directory names."""
        return f"{self.corner}_{self.temperature:g}C_{self.supply:g}vdd"

    def to_json(self) -> dict:
        return {
            "corner": self.corner,
            "temperature": self.temperature,
            "supply": self.supply,
        }


@dataclass(frozen=True)
class Declaration:
    """An unresolved declaration: a ``name`` (``NAMES``) or explicit lists
    (None: the nominal's value; ``corners == ("all",)``: every corner)."""

    name: str | None = None
    corners: tuple[str, ...] | None = None
    temperatures: tuple[float, ...] | None = None
    supplies: tuple[float, ...] | None = None

    def to_text(self) -> str:
        """Flag text that parses back to this declaration."""
        if self.name is not None:
            return self.name
        parts = []
        if self.corners is not None:
            parts.append("corners=" + ",".join(self.corners))
        if self.temperatures is not None:
            parts.append(
                "temperatures=" + ",".join(f"{t:g}" for t in self.temperatures)
            )
        if self.supplies is not None:
            parts.append("supply=" + ",".join(f"{s:g}" for s in self.supplies))
        return " ".join(parts) or "nominal"


@dataclass(frozen=True)
class ConditionSet:
    """The conditions of one problem, ``nominal`` first when declared."""

    conditions: tuple[Condition, ...]
    nominal: Condition

    def __len__(self) -> int:
        return len(self.conditions)

    def __iter__(self):
        return iter(self.conditions)

    @property
    def single(self) -> bool:
        """Only the nominal condition: the path every command had before PVT."""
        return self.conditions == (self.nominal,)

    def index(self, condition: Condition) -> int:
        return self.conditions.index(condition)

    def to_json(self) -> list[dict]:
        return [c.to_json() for c in self.conditions]


# -- parsing ------------------------------------------------------------------
def _number(value: object, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UserInputError(f"pvt: {what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise UserInputError(f"pvt: {what} must be finite, got {value!r}")
    return number


def _list(value: object, key: str) -> tuple:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise UserInputError(f"pvt: {key} must be a non-empty list, got {value!r}")
    return tuple(value)


def _field(key: str, value: object) -> tuple:
    items = _list(value, key)
    if key == "corners":
        corners = tuple(str(c).strip() for c in items)
        if any(not re.fullmatch(r"[A-Za-z_][\w.\-]*", c) for c in corners):
            raise UserInputError(f"pvt: corners must be corner names, got {value!r}")
        if "all" in corners and len(corners) > 1:
            raise UserInputError("pvt: corners 'all' stands alone")
        return tuple(dict.fromkeys(corners))
    numbers = tuple(dict.fromkeys(_number(v, key) for v in items))
    if key == "temperatures" and min(numbers) <= -273.15:
        raise UserInputError("pvt: temperatures are in °C, above -273.15")
    if key == "supply" and not all(0.1 <= s <= 3.0 for s in numbers):
        raise UserInputError(
            f"pvt: supply is a scale of VDD (1.0 nominal, 0.1 to 3), got {value!r}"
        )
    return numbers


def parse_declaration(value: object) -> Declaration | None:
    """A declaration from a YAML value (a name or a mapping) or flag text
    (a name or ``key=v1,v2`` fields); None for None."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in NAMES:
            return Declaration(name=text.lower())
        fields: dict[str, str] = {}
        for word in text.replace(";", " ").split():
            match = _FLAG_FIELD.match(word)
            if match is None:
                raise UserInputError(
                    f"pvt: {value!r} is not {' or '.join(NAMES)} nor fields like "
                    "'corners=tt,ss temperatures=-40,125 supply=0.9,1.1'"
                )
            if match[1] in fields:
                raise UserInputError(f"pvt: {match[1]} given twice")
            fields[match[1]] = match[2]
        if not fields:
            raise UserInputError(f"pvt: nothing declared in {value!r}")
        value = {k: v.split(",") for k, v in fields.items()}
    if not isinstance(value, dict):
        raise UserInputError(
            f"pvt: expected {' or '.join(NAMES)} or a mapping of "
            f"{', '.join(_KEYS)}, got {value!r}"
        )
    unknown = set(map(str, value)) - set(_KEYS)
    if unknown:
        raise UserInputError(
            f"pvt: unknown keys {sorted(unknown)}; use {', '.join(_KEYS)}"
        )
    parsed = {_KEYS[k]: _field(k, v) for k, v in value.items()}
    return Declaration(**parsed)


# -- resolving ----------------------------------------------------------------
def has_corners(technology) -> bool:
    """Whether ``technology`` declares process corners beyond its one model."""
    return len(tuple(technology.corners)) > 1


def resolve(
    declaration: Declaration | None,
    technology,
    corner: str | None = None,
    temperature: float = 27.0,
) -> ConditionSet:
    """The conditions ``declaration`` names on ``technology`` (a
    ``sim.format.technology.Technology``), around the nominal (``corner`` or the
    technology's default, ``temperature`` °C, supply 1.0). An unknown corner
    is a ``UserInputError``."""
    nominal = Condition(corner or technology.default_corner, float(temperature), 1.0)
    technology.includes(nominal.corner)  # an unknown corner: one clear error
    if declaration is None or declaration.name == "nominal":
        return ConditionSet((nominal,), nominal)
    if declaration.name == "signoff":
        corners = (
            tuple(technology.corners) if has_corners(technology) else (nominal.corner,)
        )
        temperatures, supplies = SIGNOFF_TEMPERATURES, SIGNOFF_SUPPLIES
    else:
        corners = declaration.corners or (nominal.corner,)
        if corners == ("all",):
            corners = tuple(technology.corners)
        temperatures = declaration.temperatures or (nominal.temperature,)
        supplies = declaration.supplies or (1.0,)
    for name in corners:
        if name not in technology.corners:
            raise UserInputError(
                f"pvt: technology {technology.name!r} has no corner {name!r}; "
                f"choose from {', '.join(technology.corners)}"
            )
    conditions = [
        Condition(c, float(t), float(s))
        for c in corners
        for t in temperatures
        for s in supplies
    ]
    if nominal in conditions:  # nominal first, the rest in declared order
        conditions.remove(nominal)
        conditions.insert(0, nominal)
    return ConditionSet(tuple(conditions), nominal)


# -- worst case ---------------------------------------------------------------
def worst_case(
    figures: np.ndarray, lower: Sequence[bool]
) -> tuple[np.ndarray, np.ndarray]:
    """Worst figure per spec over conditions, direction-aware.

    ``figures`` ``[k, m]`` (k conditions, m specs; NaN where missing),
    ``lower`` ``[m]`` True for ">= target" specs. Returns (worst ``[m]``,
    the condition index ``[m]`` it came from): the minimum of a lower-bound
    spec, the maximum of an upper-bound one; a missing figure is worse than
    any (the worst is NaN then, at the first condition missing it).
    """
    figures = np.asarray(figures, np.float64)
    sign = np.where(np.asarray(lower, bool), 1.0, -1.0)
    score = np.where(np.isnan(figures), -np.inf, figures * sign)
    index = np.argmin(score, axis=0)
    worst = figures[index, np.arange(figures.shape[1])]
    return worst, index


def conditions_for(session, text: str | None = None) -> ConditionSet:
    """A session's conditions, or those of ``text`` (``--pvt`` of a command
    that opens a run's session: it overrides the run's own) around the
    session's nominal corner and temperature."""
    if text is None:
        return session.conditions
    simulator = session.simulator
    return resolve(
        parse_declaration(text),
        simulator.technology,
        simulator.corner,
        simulator.temperature,
    )
