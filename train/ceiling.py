"""A target box's feasibility ceiling: the one reader and writer of its file.

The ceiling is the fraction of box targets that any design meets (measured
by ``python -m sim specs``). It lives in ``box.json`` in the directory of the
circuit's YAML file (``FACTS``; ``benchmarks.boxes.registry`` keeps the
foreign boxes' facts there)::

    {"circuit": "circuit.yaml", ..., "ceiling": {"value": 0.995, ...}}

An older ``ceiling.json`` beside the YAML (``{"ceiling": 0.995}``,
``LEGACY``) is still read when there is no ``box.json`` ceiling. The trainer
takes ``--ceiling`` first (``box_ceiling``).
"""

from __future__ import annotations

import json
from pathlib import Path

FACTS = "box.json"  # a box directory's facts, its ceiling under "ceiling"
LEGACY = "ceiling.json"  # {"ceiling": fraction}, read when box.json has none


def _read_object(path: Path) -> dict | None:
    """The JSON object in ``path``, or None (missing, unreadable, damaged)."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _fraction(value) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok and 0.0 < value <= 1.0 else None


def read_ceiling(directory: str | Path, *, exact: bool = False) -> float | None:
    """The ceiling (fraction in (0, 1]) recorded in ``directory``:
    ``box.json``'s ``ceiling.value``, else ``ceiling.json``'s ``ceiling``,
    else None (unknown, or not a fraction). ``exact``: None also when
    ``box.json`` flags its value ``"lower_bound": true`` (a search that was
    stopped, or that designs found later beat): a run must not stop near a
    value the box is known to exceed."""
    directory = Path(directory)
    facts = _read_object(directory / FACTS) or {}
    measured = facts.get("ceiling")
    if isinstance(measured, dict) and _fraction(measured.get("value")) is not None:
        if exact and measured.get("lower_bound") is True:
            return None
        return _fraction(measured["value"])
    legacy = _read_object(directory / LEGACY) or {}
    return _fraction(legacy.get("ceiling"))


def read_facts(directory: str | Path) -> dict:
    """``box.json`` of ``directory`` as a dict (raises ``OSError`` or
    ``ValueError`` when missing or damaged)."""
    return json.loads((Path(directory) / FACTS).read_text())


def write_ceiling(directory: str | Path, ceiling: dict) -> dict:
    """Record ``ceiling`` (``{"value": fraction, ...}``: how it was measured)
    as the box's ceiling in ``directory``'s ``box.json``; returns it."""
    path = Path(directory) / FACTS
    facts = read_facts(directory)
    facts["ceiling"] = ceiling
    path.write_text(json.dumps(facts, indent=1) + "\n")
    return ceiling


def box_ceiling(config) -> float | None:
    """The ceiling a run stops against: ``config.ceiling`` (``--ceiling``)
    when positive, else the one recorded beside the circuit's YAML file
    unless it is flagged a lower bound (``read_ceiling(..., exact=True)``),
    else None. ``config``: a ``train.config.TrainConfig``."""
    if config.ceiling > 0:
        return float(config.ceiling)
    circuit = str(config.options.circuit)
    if not circuit.endswith((".yaml", ".yml")):
        return None
    return read_ceiling(Path(circuit).parent, exact=True)
