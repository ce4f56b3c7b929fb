"""Parsing a user's target: ``"a_0>=60dB ugbw>=10MHz pm>=60deg"`` or JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

from envs.problem import EnvDefinition
from sim.errors import UserInputError

_TERM = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>>=|<=)(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)"
    r"(?:[eE][-+]?\d+)?)(?P<unit>[A-Za-zµ°%/²√]*)$"
)
_PREFIX = {
    "G": 1e9,
    "M": 1e6,
    "k": 1e3,
    "": 1.0,
    "m": 1e-3,
    "u": 1e-6,
    "µ": 1e-6,
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
}
_PLAIN_UNITS = {"dB", "deg", "°", "%", "V/us", "V/µs"}


def _value(number: float, unit: str, expected: str) -> float:
    if unit in ("", expected) or unit in _PLAIN_UNITS:
        return number * (1e6 if unit in ("V/us", "V/µs") else 1.0)
    for prefix, factor in _PREFIX.items():
        if prefix and unit == prefix + expected:
            return number * factor
    raise UserInputError(
        f"unit {unit!r} does not fit a figure measured in {expected!r}"
    )


def parse_target(text: str, definition: EnvDefinition, units: dict[str, str]) -> dict:
    """A target dict from ``"name>=value[unit] ..."`` or a JSON file/object.

    Every spec of the environment must be given once, with the direction of
    its bound (``>=`` for lower bounds such as gain, ``<=`` for power).
    """
    stripped = text.strip()
    if stripped.startswith("{") or (
        Path(stripped).suffix == ".json" and Path(stripped).is_file()
    ):
        source = stripped if stripped.startswith("{") else Path(stripped).read_text()
        try:
            data = json.loads(source)
        except json.JSONDecodeError as error:
            raise UserInputError(f"target JSON is invalid ({error.msg})") from None
        if not isinstance(data, dict):
            raise UserInputError("a target JSON must be an object {spec: value}")
        target = {}
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UserInputError(f"target {name} must be a number, got {value!r}")
            target[str(name)] = float(value)
    else:
        target = {}
        for term in stripped.split():
            match = _TERM.match(term)
            if match is None:
                raise UserInputError(
                    f"cannot read target term {term!r}: write e.g. a_0>=60dB or "
                    "power<=1mW"
                )
            name = match["name"]
            if name not in definition.specs:
                raise UserInputError(
                    f"{name} is not a spec of this circuit; specs: "
                    f"{', '.join(definition.specs)}"
                )
            lower = bool(definition.lower[definition.specs.index(name)])
            if (match["op"] == ">=") != lower:
                want = ">=" if lower else "<="
                raise UserInputError(
                    f"{name} is bounded with {want}, not {match['op']}"
                )
            if name in target:
                raise UserInputError(f"{name} is given twice")
            target[name] = _value(
                float(match["number"]), match["unit"], units.get(name, "")
            )
    unknown = set(target) - set(definition.specs)
    missing = set(definition.specs) - set(target)
    if unknown:
        raise UserInputError(
            f"unknown specs {sorted(unknown)}; specs: {', '.join(definition.specs)}"
        )
    if missing:
        raise UserInputError(
            f"target misses {sorted(missing)}; give every spec of "
            f"{', '.join(definition.specs)}"
        )
    return target
