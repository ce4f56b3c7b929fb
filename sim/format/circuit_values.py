"""Checks of single values of a circuit's YAML: units and analysis commands.

Also ``fail``, the one-line ``UserInputError`` every load-time check of a
circuit raises (``<where>: <message>``), and how messages name a file.
Units are SI: a prefixed unit (``MHz``) is refused, values are SI numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

from sim.errors import UserInputError
from sim.format.circuit_model import VDD_PLACEHOLDER
from sim.units import spice_number


def fail(where: str, message: str) -> UserInputError:
    """The one-line error of a check: ``<where>: <message>``."""
    return UserInputError(f"{where}: {message}")


# ------------------------------------------------------------ units

# SI units figures and parameters come in; a prefix on one (MHz, uW) is a
# mistake: values are SI numbers, only targets may carry prefixes.
SI_UNITS = frozenset("A V W F H S s m m² Hz ohm Ω V/s V/√Hz A/√Hz".split())
_PREFIX_LETTERS = "TGMkmuµnpf"


def unit_problem(unit: str) -> str | None:
    """What is wrong with a measure's or parameter's ``unit``, or None."""
    if not unit.isprintable() or any(c.isspace() for c in unit) or len(unit) > 16:
        return f"unit {unit!r} must be one short word (e.g. Hz, V/√Hz, dB)"
    if unit not in SI_UNITS and unit[:1] in _PREFIX_LETTERS and unit[1:] in SI_UNITS:
        return (
            f"unit {unit!r} carries a prefix, but values are SI numbers: "
            f"write {unit[1:]!r} (targets may still be given as 10{unit})"
        )
    return None


def display_name(path: str | Path) -> str:
    """A template's file name as messages show it."""
    return Path(path).name


# -- analysis commands ---------------------------------------------------------
_SWEEPS = ("dec", "oct", "lin")


def _numbers(words: list[str]) -> list[float] | None:
    try:
        return [spice_number(w) for w in words]
    except ValueError:
        return None


def _sweep_problem(words: list[str]) -> str | None:
    """Problem of ``dec|oct|lin points fstart fstop`` (None when right)."""
    if len(words) != 4 or words[0].lower() not in _SWEEPS:
        return "needs dec|oct|lin <points> <fstart> <fstop>"
    values = _numbers(words[1:])
    if values is None:
        return "points and frequencies must be numbers"
    points, start, stop = values
    if points < 1 or points != int(points):
        return "the number of points must be a positive integer"
    if start <= 0 or stop < start:
        return "needs 0 < fstart <= fstop"
    return None


def analysis_problem(command: str) -> str | None:
    """What is wrong with an analysis command's arguments, or None.

    ngspice reports some mistakes only when the analysis runs (``tran 2p``:
    "TSTOP is invalid") and loops forever on others (``dc vin 0 1`` without
    a step): they are caught here, at load time, instead.
    """
    text = re.sub(r"\(([^)]*)\)", lambda m: "(" + "".join(m[1].split()) + ")", command)
    words = text.replace(VDD_PLACEHOLDER, "1").split()
    kind, args = words[0].lower(), words[1:]
    if kind == "op":
        return None if not args else "op takes no arguments"
    if kind == "ac":
        return _sweep_problem(args)
    if kind == "noise":
        if len(args) not in (6, 7):
            return "needs v(out[,ref]) <source> dec|oct|lin <points> <fstart> <fstop>"
        return _sweep_problem(args[2:6])
    if kind == "dc":
        if len(args) not in (4, 8):
            return "needs <source> <start> <stop> <step> (one or two sweeps)"
        for i in range(0, len(args), 4):
            values = _numbers(args[i + 1 : i + 4])
            if values is None:
                return "start, stop and step must be numbers"
            if values[2] == 0 or (values[1] - values[0]) * values[2] < 0:
                return "the step must be non-zero and go from start towards stop"
        return None
    if kind == "tran":
        if args and args[-1].lower() == "uic":
            args = args[:-1]
        values = _numbers(args)
        if values is None or not 2 <= len(values) <= 4:
            return "needs <tstep> <tstop> [<tstart> [<tmax>]] [uic] as numbers"
        if values[0] <= 0 or values[1] <= 0:
            return "tstep and tstop must be positive"
        return None
    if kind == "tf":
        return None if len(args) == 2 else "needs <output> <input source>"
    if len(args) != 6:  # pz
        return "needs <4 nodes> cur|vol pol|zer|pz"
    return None
