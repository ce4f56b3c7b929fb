"""Reading a circuit's files: its YAML over a ``base:``, overrides, templates.

A circuit's YAML may build on a ``base:`` file (shared testbenches and
measures) and override keys per technology (``technologies:``); netlist
templates are read as ngspice will read them (``sim.engine.deck_check``),
their relative includes made absolute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.engine.deck_check import absolute_includes, expand_deck
from sim.errors import UserInputError
from sim.format.circuit_values import fail
from sim.format.strict_yaml import load_yaml, yaml_problem


def merge(base: dict, override: dict) -> dict:
    """``override`` over ``base``, mapping by mapping; a null value removes a key."""
    merged = dict(base)
    for key, value in override.items():
        if value is None and key in merged and isinstance(merged[key], dict):
            del merged[key]
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def one_target_kind(base: Any, merged: Any, override: dict) -> None:
    """A technology's spec entry that gives ``value`` drops the circuit's
    ``range`` and ``scale`` from ``merged`` (one giving ``range`` drops its
    ``value``): a technology may fix a spec the circuit draws, or the reverse.
    """
    specs = override.get("specs")
    if not all(isinstance(d, dict) for d in (base, merged, specs)):
        return
    for name, entry in specs.items():
        spec = merged.get(name)
        if not all(isinstance(d, dict) for d in (entry, spec, base.get(name))):
            continue  # a new entry (or a removal): nothing merged into it
        if "value" in entry and "range" not in entry:
            spec.pop("range", None)
            if "scale" not in entry:
                spec.pop("scale", None)
        elif "range" in entry and "value" not in entry:
            spec.pop("value", None)


def read_template(directory: Path, name: Any, where: str) -> str:
    """A netlist template, checked as ngspice will read it (its includes
    too, see ``sim.engine.deck_check``), relative includes made absolute."""
    if not isinstance(name, str):
        raise fail(where, f"netlist must be a file name, got {name!r}")
    path = directory / name
    if not path.is_file():
        raise fail(where, f"netlist file not found: {path}")
    text = read_text(path, where)
    try:
        expand_deck(text, str(path), path.parent)
    except UserInputError as error:
        raise fail(where, str(error)) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().lower() == ".end" or line.strip().lower().startswith(".end "):
            raise fail(where, f"{path}:{number}: a template must not contain .end")
    return absolute_includes(text, path.parent)


def read_text(path: Path, where: str) -> str:
    """The text of ``path``; a one-line error when it cannot be read."""
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise fail(where, f"cannot read {path} ({error})") from None


def with_base(data: dict, directory: Path, where: str) -> dict:
    """Merge a circuit over its ``base:`` YAML (shared testbenches and measures).

    The base's testbench netlists are resolved relative to the base's file;
    keys of the circuit override the base's, mapping by mapping.
    """
    base_path = (directory / str(data["base"])).resolve()
    if not base_path.is_file():
        raise fail(where, f"base file not found: {base_path}")
    try:
        base = load_yaml(read_text(base_path, where))
    except yaml.YAMLError as error:
        problem = yaml_problem(error)
        raise fail(where, f"base {base_path} is not valid YAML ({problem})") from None
    if not isinstance(base, dict) or "base" in base:
        raise fail(where, f"base {base_path} must be a mapping without its own base")
    if not isinstance(base.get("testbenches") or {}, dict):
        raise fail(where, f"base {base_path}: 'testbenches' must be a mapping")
    for tb in (base.get("testbenches") or {}).values():
        if isinstance(tb, dict) and isinstance(tb.get("netlist"), str):
            tb["netlist"] = str(base_path.parent / tb["netlist"])
    return merge(base, {k: v for k, v in data.items() if k != "base"})
