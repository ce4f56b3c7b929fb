"""Reading and writing a user's targets: ``"a_0>=40dB ugbw>=10MHz"``, JSON, files.

One parser for every command. A target names some or all of a circuit's
specs (the others carry no requirement); each value is a number in the
figure's unit, with an SI prefix (``10MHz``, ``300uW``) or one of the
figure's customary units (``dB`` or ``V/V`` on gains, ``deg`` or ``°`` on
angles, ``%`` on percentages, ``V/us`` on slew rates). A unit that does not
belong to the figure, NaN, infinities, zero and physically impossible values
(a negative power) are refused with one line before anything is simulated,
and so are values beyond all physical sense for the circuit: more than
``SCALE_FACTOR`` (six orders of magnitude) beyond the larger end of the spec's
declared range, or, for a figure positive by nature, that factor below its
smaller end. A JSON target naming a spec twice is refused too.

Target files (``--targets F.json``) hold a JSON list of such objects, or an
object whose ``train``, ``held_out``, ``test`` or ``targets`` entries are such
lists (``load_targets`` reads the one a use needs); values are SI numbers or
strings with units (``"10MHz"``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sim.errors import UserInputError
from sim.format.targets import TargetBox

_TERM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>>=|<=)(?P<value>.+)$")
_VALUE = re.compile(
    r"^(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>\S*)$"
)
PREFIXES = {
    "T": 1e12,
    "G": 1e9,
    "M": 1e6,
    "k": 1e3,
    "m": 1e-3,
    "u": 1e-6,
    "µ": 1e-6,
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
}
# Units whose figures are positive by nature: a target must be > 0.
POSITIVE_UNITS = frozenset({"Hz", "W", "F", "s", "ohm", "m²", "m", "V/√Hz", "V/s"})
# Customary units accepted on a figure beside its own: unit -> {text: factor}.
_ALIASES = {
    "dB": {"dB": 1.0},
    "deg": {"deg": 1.0, "°": 1.0},
    "%": {"%": 1.0},
    "V/s": {"V/s": 1.0, "V/us": 1e6, "V/µs": 1e6, "V/ns": 1e9, "V/ms": 1e3},
}
_NO_PREFIX = frozenset({"dB", "deg", "%"})
# How far beyond a spec's declared range a target may be (a factor).
SCALE_FACTOR = 1e6


def value_in_unit(name: str, text: str, unit: str) -> float:
    """The SI value of ``text`` (``"10MHz"``, ``"40dB"``, ``"1e-3"``) for a
    figure ``name`` measured in ``unit``; a ``UserInputError`` if the unit
    does not belong to the figure."""
    match = _VALUE.match(text.strip())
    if match is None:
        raise UserInputError(f"{name}: cannot read {text!r} as a number with a unit")
    number, given = float(match["number"]), match["unit"]
    if given == "":
        return number
    if unit == "dB" and given == "V/V":
        if number <= 0:
            raise UserInputError(f"{name}: a gain in V/V must be > 0, got {number:g}")
        return 20.0 * math.log10(number)
    if given in _ALIASES.get(unit, {}):
        return number * _ALIASES[unit][given]
    if unit and unit not in _NO_PREFIX:
        if given == unit:
            return number
        if given[:1] in PREFIXES and given[1:] == unit:
            return number * PREFIXES[given[:1]]
    shown = unit or "plain numbers"
    raise UserInputError(
        f"{name} is measured in {shown}: {given!r} is not a unit of it"
    )


def check_value(name: str, value: float, unit: str) -> float:
    """``value`` if it is a possible target for a figure in ``unit``."""
    if not math.isfinite(value):
        raise UserInputError(f"target {name} must be a finite number, got {value}")
    if value == 0.0:
        raise UserInputError(f"target {name} must be non-zero")
    if unit in POSITIVE_UNITS and value < 0:
        raise UserInputError(
            f"target {name} must be positive (in {unit}), got {value:g}"
        )
    if unit == "%" and value < 0:
        raise UserInputError(f"target {name} must be >= 0 %, got {value:g}")
    if unit == "deg" and not -360.0 <= value <= 360.0:
        raise UserInputError(f"target {name} must be within ±360 deg, got {value:g}")
    return value


def check_scale(spec, value: float) -> float:
    """``value`` if it is within ``SCALE_FACTOR`` of the spec's declared
    range (``ugbw>=1e300Hz`` on a box of MHz is refused, not simulated)."""
    largest = max(abs(spec.low), abs(spec.high))
    if largest > 0 and abs(value) > SCALE_FACTOR * largest:
        raise UserInputError(
            f"target {spec.name}={value:g} is more than {SCALE_FACTOR:g} times "
            f"the largest value of its declared range [{spec.low:g}, "
            f"{spec.high:g}] {spec.unit}: not a target this circuit can meet"
        )
    smallest = min(abs(spec.low), abs(spec.high))
    positive = spec.unit in POSITIVE_UNITS and smallest > 0 and value > 0
    if positive and value < smallest / SCALE_FACTOR:
        raise UserInputError(
            f"target {spec.name}={value:g} is less than 1/{SCALE_FACTOR:g} "
            f"of the smallest value of its declared range [{spec.low:g}, "
            f"{spec.high:g}] {spec.unit}: not a physical target"
        )
    return value


def check_sign(spec, value: float) -> float:
    """``value`` if its sign is that of the spec's declared range (a supply
    current or a power whose range is positive cannot be asked negative) and
    its size within physical sense for the range (``check_scale``)."""
    if spec.low > 0 and value < 0:
        raise UserInputError(
            f"target {spec.name} must be positive like its declared range, "
            f"got {value:g}"
        )
    if spec.high < 0 and value > 0:
        raise UserInputError(
            f"target {spec.name} must be negative like its declared range, "
            f"got {value:g}"
        )
    return check_scale(spec, value)


def parse_terms(text: str, box: TargetBox) -> dict[str, float]:
    """``{spec: SI value}`` from ``"a_0>=40dB ugbw>=10MHz ..."`` (any subset of
    the specs, each with the direction of its bound)."""
    target: dict[str, float] = {}
    terms = text.split()
    if not terms:
        raise UserInputError("the target is empty: write e.g. a_0>=60dB power<=1mW")
    for term in terms:
        match = _TERM.match(term)
        if match is None:
            raise UserInputError(
                f"cannot read target term {term!r}: write e.g. a_0>=60dB or power<=1mW"
            )
        spec = box.spec(match["name"])
        want = ">=" if spec.bound == "lower" else "<="
        if match["op"] != want:
            raise UserInputError(
                f"{spec.name} is bounded with {want}, not {match['op']}"
            )
        if spec.name in target:
            raise UserInputError(f"{spec.name} is given twice")
        value = value_in_unit(spec.name, match["value"], spec.unit)
        target[spec.name] = check_sign(spec, check_value(spec.name, value, spec.unit))
    return target


def parse_mapping(data: object, box: TargetBox, where: str = "target") -> dict:
    """``{spec: SI value}`` from a JSON object (numbers in SI, or strings with
    units)."""
    if not isinstance(data, Mapping):
        raise UserInputError(f"{where} must be an object {{spec: value}}")
    if not data:
        raise UserInputError(f"{where} is empty: name at least one spec")
    target = {}
    for name, value in data.items():
        spec = box.spec(str(name))
        if isinstance(value, str):
            number = value_in_unit(spec.name, value, spec.unit)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UserInputError(f"{where}: {name} must be a number, got {value!r}")
        else:
            number = float(value)
        target[spec.name] = check_sign(spec, check_value(spec.name, number, spec.unit))
    return target


def parse_target(text: str, box: TargetBox) -> dict[str, float]:
    """A target from a spec string, a JSON object or the path of a JSON file."""
    stripped = text.strip()
    if stripped.startswith("{") or stripped.endswith(".json"):
        return parse_mapping(_json(stripped), box)
    return parse_terms(stripped, box)


def _json(text: str) -> object:
    source = text
    if not text.startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise UserInputError(f"target file {text} does not exist")
        source = path.read_text()
    try:
        # NaN and Infinity are not JSON: refuse them instead of Python's reading
        return json.loads(
            source, parse_constant=_refuse_constant, object_pairs_hook=unique_keys
        )
    except json.JSONDecodeError as error:
        raise UserInputError(f"target JSON is invalid ({error.msg})") from None


def unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """``json.loads`` object hook: an object naming a key twice is refused
    (plain JSON keeps the last one silently)."""
    data: dict = {}
    for key, value in pairs:
        if key in data:
            raise UserInputError(f"target JSON names {key!r} twice")
        data[key] = value
    return data


def _refuse_constant(name: str) -> float:
    raise UserInputError(f"{name} is not a number a target can ask for")


def target_vector(target: Mapping[str, float], box: TargetBox) -> np.ndarray:
    """``[m]`` float64 in spec order, NaN where the target sets no requirement."""
    return np.asarray([target.get(name, math.nan) for name in box.names], np.float64)


# keys of a target file's lists, in the order each use reads them
TARGET_KEYS = {
    "evaluate": ("targets", "held_out", "test"),  # train.eval, benchmarks
    "train": ("train", "targets"),  # never a held-out list
    "held_out": ("held_out", "test"),
}


def load_targets(
    path: str | Path, box: TargetBox, part: str = "evaluate"
) -> np.ndarray:
    """Targets ``[N, m]`` (NaN = no requirement) from a target file.

    A file is a JSON list of targets, or an object holding lists under
    ``train``, ``held_out``, ``test`` or ``targets`` (``python -m envs.specs``
    writes ``train`` and ``held_out``). ``part`` says which list a use reads
    (``TARGET_KEYS``): ``"evaluate"`` the first of ``targets``, ``held_out``,
    ``test``; ``"train"`` ``train`` or ``targets``, never a held-out list (a
    file holding only held-out lists is refused); ``"held_out"`` the file's
    ``held_out`` (or ``test``) list, an empty ``[0, m]`` array when it has
    none (a plain list is all training targets then).
    """
    path = Path(path)
    try:
        data = json.loads(
            path.read_text(),
            parse_constant=_refuse_constant,
            object_pairs_hook=unique_keys,
        )
    except OSError as error:
        raise UserInputError(f"cannot read targets {path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserInputError(f"{path} is not a JSON target file ({error})") from None
    keys = TARGET_KEYS[part]
    if isinstance(data, dict):
        found = [key for key in keys if key in data]
        if found:
            data = data[found[0]]
        elif part == "held_out":
            return np.zeros((0, len(box.names)), np.float64)
        elif part == "train":
            raise UserInputError(
                f"{path}: no training targets (a 'train' or 'targets' list); "
                "its held-out lists are never trained on"
            )
    elif part == "held_out":
        return np.zeros((0, len(box.names)), np.float64)
    if not isinstance(data, list) or not data:
        raise UserInputError(f"{path}: expected a non-empty list of targets")
    rows = [
        target_vector(parse_mapping(entry, box, f"{path.name} target {i}"), box)
        for i, entry in enumerate(data)
    ]
    return np.asarray(rows, np.float64)


def targets_json(targets: np.ndarray, box: TargetBox) -> list[dict[str, float]]:
    """Targets ``[N, m]`` as JSON objects (missing specs left out)."""
    return [
        {n: float(v) for n, v in zip(box.names, row, strict=True) if math.isfinite(v)}
        for row in np.asarray(targets, np.float64)
    ]


def format_target(target: np.ndarray, box: TargetBox) -> str:
    """``"a_0>=40 dB ugbw>=10 MHz"``: a target ``[m]`` as text (SI prefixes)."""
    from sim.units import engineering

    terms = []
    for spec, value in zip(box.specs, np.asarray(target, np.float64), strict=True):
        if math.isfinite(value):
            op = ">=" if spec.bound == "lower" else "<="
            terms.append(f"{spec.name}{op}{engineering(value, spec.unit)}")
    return " ".join(terms)
