"""A circuit's ``parameters:`` entries, checked and turned into ``Parameter``s.

Bounds, defaults and grids are SI numbers in the parameter's ``unit`` (no
prefixes); ``bounds: width``/``length`` take the technology's limits (m).
Also the rule for names the netlists may read (``NAME``, not ``RESERVED`` by
ngspice's expression parser).
"""

from __future__ import annotations

import math
import re
from typing import Any

from sim.errors import UserInputError
from sim.format.circuit_model import Parameter
from sim.format.circuit_values import fail, unit_problem

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
# Names ngspice's expression parser reserves (functions, constants, keywords).
RESERVED = frozenset(
    """
    abs acos acosh asin asinh atan atanh cos cosh exp ln log log10 sin sinh
    sqrt tan tanh min max pow pwr sgn sign int floor ceil nint uramp u u2
    ternary_fcn temper hertz time pi e boltz echarge kelvin planck vdd gauss
    agauss aunif unif limit if else def par
    """.split()
)
SCALES = ("linear", "log")


def as_float(value: Any, where: str, what: str) -> float:
    """``value`` as a finite float; a one-line error naming ``what`` otherwise."""
    if isinstance(value, bool):
        raise fail(where, f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise fail(where, f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise fail(where, f"{what} must be finite")
    return number


def parse_parameter(name: str, spec: Any, where: str, tech: Any) -> Parameter:
    """One ``parameters:`` entry; ``tech`` (a Technology or None) gives the
    width and length limits."""
    if not NAME.match(name) or name.lower() in RESERVED:
        raise fail(where, f"{name!r} cannot be a parameter name (reserved or invalid)")
    if not isinstance(spec, dict):
        raise fail(where, f"parameter {name} must be a mapping")
    where = f"{where}: parameter {name}"
    kind = spec.get("type", "real")
    if kind not in ("real", "integer", "grid"):
        raise fail(where, f"type must be real, integer or grid, got {kind!r}")
    scale = spec.get("scale", "linear")
    if scale not in SCALES:
        raise fail(where, f"scale must be linear or log, got {scale!r}")
    unit = str(spec.get("unit", ""))
    if problem := unit_problem(unit):
        raise fail(where, problem)
    grid: tuple[float, ...] = ()
    if kind == "grid":
        values = spec.get("grid")
        if not isinstance(values, list) or not values:
            raise fail(where, "a grid parameter needs a non-empty 'grid' list")
        grid = tuple(sorted(as_float(v, where, "grid value") for v in values))
        low, high = grid[0], grid[-1]
    else:
        bounds = spec.get("bounds")
        if bounds == "width" and tech is not None:
            bounds = list(tech.width_limits)
        elif bounds == "length" and tech is not None:
            bounds = list(tech.length_limits)
        if bounds in ("width", "length"):
            raise fail(
                where,
                f"'bounds: {bounds}' takes the technology's limits: "
                "load the circuit with a technology",
            )
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise fail(where, "needs 'bounds: [min, max]' (or width/length)")
        low, high = (as_float(b, where, "bound") for b in bounds)
        if not low < high:
            raise fail(where, f"bounds must have min < max, got {bounds}")
        if scale == "log" and low <= 0:
            raise fail(where, "a log-scaled parameter needs positive bounds")
    if "default" in spec:
        default = as_float(spec["default"], where, "default")
    elif scale == "log":
        default = math.sqrt(low * high)
    else:
        default = 0.5 * (low + high)
    if kind == "integer":
        default = float(round(default))
    if kind == "grid":
        default = min(grid, key=lambda g: abs(g - default))
    parameter = Parameter(name, low, high, default, unit, kind, scale, grid)
    try:
        parameter.check(default)
    except UserInputError as error:
        raise fail(where, f"default: {error}") from None
    return parameter
