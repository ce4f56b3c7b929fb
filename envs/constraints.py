"""``design_constraints``: fix or narrow parameters, override circuit constants.

GAC²E's ``design_constraints`` overrides the limits an environment sizes
within. Here one dict may hold, by key:

- a parameter of the circuit (``"Wd"``) or of the action space (``"gmid_dp1"``
  in v0): a number fixes it, ``[low, high]`` narrows its range (SI units);
- a constant of the circuit (``"I0"``, ``"CL"``; GAC²E's ``"i0"`` matches
  ``I0``): a number replaces it;
- GAC²E's group limits ``w_min w_max l_min l_max`` (every parameter in metres
  whose name starts with W / L) and ``gmid_min gmid_max fug_min fug_max``
  (every v0 gm/Id / fug parameter).

The action space keeps its shape: a fixed parameter's action entry has no
effect. Anything else is a ``UserInputError`` naming the key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.errors import UserInputError
from sim.format.circuit import Circuit, Parameter

GROUP_LIMITS = {
    "w_min": ("W", "low"),
    "w_max": ("W", "high"),
    "l_min": ("L", "low"),
    "l_max": ("L", "high"),
    "gmid_min": ("gmid_", "low"),
    "gmid_max": ("gmid_", "high"),
    "fug_min": ("fug_", "low"),
    "fug_max": ("fug_", "high"),
}


@dataclass(frozen=True)
class Constrained:
    """Result of applying constraints.

    ``circuit``: constants replaced; ``actions``: the action parameters with
    fixed/narrowed bounds; ``design_low``/``design_high`` ``[n_circuit]``:
    bounds every simulated design is clipped to (circuit parameter order).
    """

    circuit: Circuit
    actions: tuple[Parameter, ...]
    design_low: np.ndarray
    design_high: np.ndarray


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise UserInputError(
            f"design_constraints[{key!r}] must be a number or [low, high], "
            f"got {value!r}"
        )
    number = float(value)
    if not math.isfinite(number):
        raise UserInputError(f"design_constraints[{key!r}] must be finite")
    return number


def _narrow(p: Parameter, low: float, high: float, key: str) -> Parameter:
    """``p`` restricted to ``[low, high]`` (a point fixes it)."""
    if low > high:
        raise UserInputError(
            f"design_constraints[{key!r}]: low {low:g} > high {high:g} for {p.name}"
        )
    if p.kind == "grid":
        grid = tuple(g for g in p.grid if low * (1 - 1e-9) <= g <= high * (1 + 1e-9))
        if not grid:
            raise UserInputError(
                f"design_constraints[{key!r}]: no value of {p.name}'s grid "
                f"{list(p.grid)} lies in [{low:g}, {high:g}]"
            )
        default = min(grid, key=lambda g: abs(g - p.default))
        return dataclasses.replace(
            p, low=grid[0], high=grid[-1], default=default, grid=grid
        )
    if low < p.low * (1 - 1e-9) or high > p.high * (1 + 1e-9):
        raise UserInputError(
            f"design_constraints[{key!r}]: [{low:g}, {high:g}] leaves {p.name}'s "
            f"range [{p.low:g}, {p.high:g}] {p.unit}"
        )
    low, high = max(low, p.low), min(high, p.high)
    if p.kind == "integer":
        low, high = float(math.ceil(low)), float(math.floor(high))
        if low > high:
            raise UserInputError(
                f"design_constraints[{key!r}]: no integer value of {p.name} in range"
            )
    default = min(max(p.default, low), high)
    if p.kind == "integer":
        default = float(round(default))
    return dataclasses.replace(p, low=low, high=high, default=default)


def _bounds(p: Parameter, value: Any, key: str) -> tuple[float, float]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise UserInputError(
                f"design_constraints[{key!r}] must be a number or [low, high]"
            )
        return _number(key, value[0]), _number(key, value[1])
    number = _number(key, value)
    return number, number


def _constant_key(circuit: Circuit, key: str) -> str | None:
    if key in circuit.constants:
        return key
    matches = [c for c in circuit.constants if c.lower() == key.lower()]
    return matches[0] if len(matches) == 1 else None


def apply_constraints(
    circuit: Circuit,
    actions: Sequence[Parameter],
    constraints: Mapping[str, Any] | None,
) -> Constrained:
    """Apply ``constraints`` (see the module docstring) to a circuit and the
    parameters its actions scale to (``actions``, which may be the circuit's
    own parameters or v0's electrical ones)."""
    constraints = dict(constraints or {})
    if not all(isinstance(k, str) for k in constraints):
        raise UserInputError("design_constraints keys must be names (strings)")
    action_by_name = {p.name: p for p in actions}
    design_by_name = {p.name: p for p in circuit.parameters}
    constants = dict(circuit.constants)
    for key, value in constraints.items():
        if key in GROUP_LIMITS:
            continue
        if key in action_by_name or key in design_by_name:
            for table in (action_by_name, design_by_name):
                if key in table:
                    low, high = _bounds(table[key], value, key)
                    table[key] = _narrow(table[key], low, high, key)
            continue
        constant = _constant_key(circuit, key)
        if constant is not None:
            number = _number(key, value)
            if number <= 0:
                raise UserInputError(f"design_constraints[{key!r}] must be positive")
            constants[constant] = number
            continue
        known = sorted({*action_by_name, *design_by_name, *circuit.constants})
        raise UserInputError(
            f"design_constraints: unknown key {key!r}; use a parameter or "
            f"constant ({', '.join(known)}) or one of {', '.join(GROUP_LIMITS)}"
        )
    for key, (prefix, end) in GROUP_LIMITS.items():
        if key not in constraints:
            continue
        number = _number(key, constraints[key])
        for table in (action_by_name, design_by_name):
            for name, p in table.items():
                electrical = prefix in ("gmid_", "fug_")
                if not name.startswith(prefix) or not (electrical or p.unit == "m"):
                    continue
                low = max(p.low, number) if end == "low" else p.low
                high = min(p.high, number) if end == "high" else p.high
                table[name] = _narrow(p, low, high, key)
    if constants != circuit.constants:
        digest = hashlib.sha256(repr(sorted(constants.items())).encode()).hexdigest()
        circuit = dataclasses.replace(
            circuit,
            constants=constants,
            fingerprint=f"{circuit.fingerprint}+c{digest[:8]}",
        )
    design = [design_by_name[p.name] for p in circuit.parameters]
    return Constrained(
        circuit=circuit,
        actions=tuple(action_by_name[p.name] for p in actions),
        design_low=np.asarray([p.low for p in design]),
        design_high=np.asarray([p.high for p in design]),
    )
